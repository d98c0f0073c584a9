package web

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/leadcycle/leadcycle"
)

// Personal data over HTTP (GDPR): the export of everything stored about a
// contact (admins and marketers), its erasure and the audit log of both
// (admins).

func (s *Server) registerPersonalData() {
	contact := "/api/v1/contacts/{id}"
	s.handle("GET", contact+"/personal-data", leadcycle.Perm("contacts", "export_personal_data"), s.exportPersonalData)
	s.handle("POST", contact+"/erase", leadcycle.Perm("contacts", "erase"), action(s, "an erase request", http.StatusOK, s.eraseContact))
	s.handle("GET", "/api/v1/audit-log", leadcycle.Perm("audit-log", leadcycle.ActionRead), s.listAuditLog)
}

// exportPersonalData streams the export as a JSON download. An error found
// before the first byte (an unknown contact) is answered with a problem
// document; one found later cuts the connection, so that a client never
// takes a truncated export for a whole one.
func (s *Server) exportPersonalData(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	out := &download{w: w, name: fmt.Sprintf("contact-%s-personal-data.json", id)}
	err = s.store.PersonalData().ExportPersonalData(r.Context(), id, leadcycle.NewJSONPersonalData(out))
	switch {
	case err == nil:
	case !out.started:
		writeError(w, r, err)
	default:
		logger(r.Context()).Error("personal data export cut short", slog.String("contact_id", id.String()), slog.String("error", err.Error()))
		panic(http.ErrAbortHandler)
	}
}

// download sets the headers of a JSON attachment on its first write.
type download struct {
	w       http.ResponseWriter
	name    string
	started bool
}

// Write implements io.Writer.
func (d *download) Write(p []byte) (int, error) {
	if !d.started {
		d.started = true
		h := d.w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Content-Disposition", `attachment; filename="`+d.name+`"`)
		h.Set("Cache-Control", "no-store")
		d.w.WriteHeader(http.StatusOK)
	}
	return d.w.Write(p)
}

// eraseRequest is the body of POST /api/v1/contacts/{id}/erase.
type eraseRequest struct {
	Reason string `json:"reason"`
}

func (s *Server) eraseContact(ctx context.Context, id leadcycle.ID, req eraseRequest) (any, error) {
	return s.store.PersonalData().EraseContact(ctx, id, req.Reason)
}

func (s *Server) listAuditLog(w http.ResponseWriter, r *http.Request) {
	q, err := parseAuditQuery(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	page, err := s.store.PersonalData().AuditLog(r.Context(), q)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

// parseAuditQuery reads the audit log's parameters: limit, cursor and the
// filters of leadcycle.AuditLogFilters.
func parseAuditQuery(r *http.Request) (leadcycle.ListQuery, error) {
	var q leadcycle.ListQuery
	var errs []leadcycle.FieldError
	bad := func(field, msg string) { errs = append(errs, leadcycle.FieldError{Field: field, Message: msg}) }
	values := r.URL.Query()
	for _, name := range sortedKeys(values) {
		val := values[name][len(values[name])-1]
		i := slices.IndexFunc(leadcycle.AuditLogFilters, func(f leadcycle.FilterSpec) bool { return f.Param == name })
		switch {
		case name == "limit":
			n, err := strconv.Atoi(val)
			if err != nil || n < 1 || n > leadcycle.MaxLimit {
				bad(name, fmt.Sprintf("must be a whole number from 1 to %d", leadcycle.MaxLimit))
			}
			q.Limit = n
		case name == "cursor":
			q.Cursor = val
		case i >= 0:
			f, msg := parseFilter(leadcycle.AuditLogFilters[i], val)
			if msg != "" {
				bad(name, msg)
			}
			q.Filters = append(q.Filters, f)
		default:
			bad(name, "is not a parameter of this list; use limit, cursor, "+strings.Join(auditParams(), ", "))
		}
	}
	if len(errs) > 0 {
		return q, &leadcycle.Error{Code: leadcycle.EInvalid, Message: errs[0].Field + ": " + errs[0].Message, Fields: errs}
	}
	return q, nil
}

func auditParams() []string {
	names := make([]string, len(leadcycle.AuditLogFilters))
	for i, f := range leadcycle.AuditLogFilters {
		names[i] = f.Param
	}
	return names
}
