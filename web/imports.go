package web

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/importer"
	"github.com/leadcycle/leadcycle/tabular"
)

// Imports: a file is uploaded with its options, read once to map its
// columns (so that a mistake is answered at once), stored with the job, and
// imported in the background by the import worker of any node; the job's
// progress, counts and error report can be polled. Exports stream the
// records of a collection, filtered like its list, as CSV or XLSX.

const importsBase = "/api/v1/imports"

func (s *Server) registerImports() {
	read, write := leadcycle.Perm("imports", leadcycle.ActionRead), leadcycle.Perm("imports", leadcycle.ActionWrite)
	s.handle("GET", importsBase, read, s.listImports)
	s.handle("POST", importsBase, write, s.createImport)
	s.handle("GET", importsBase+"/{id}", read, jobAction(s.store.Imports().GetImport))
	s.handle("POST", importsBase+"/{id}/cancel", write, jobAction(s.store.Imports().CancelImport))
	s.handle("GET", importsBase+"/{id}/errors", read, s.importErrors)
	s.handle("GET", importsBase+"/{id}/errors.csv", read, s.importErrorsCSV)
	register(s, resource[leadcycle.ImportMapping]{name: "import-mappings", schema: "ImportMapping", repo: s.store.ImportMappings})
	for _, entity := range leadcycle.ImportEntities {
		s.handle("GET", "/api/v1/"+entity+"/export", leadcycle.Perm(entity, "export"), s.export(entity))
	}
}

// ImportRunner returns the runner of import jobs for this node.
func (s *Server) ImportRunner() *importer.Runner {
	host, _ := os.Hostname()
	return &importer.Runner{Store: s.store, Owner: fmt.Sprintf("%s/%d/%s", host, os.Getpid(), rand.Text()[:10]), TempDir: s.importDir, Log: s.log}
}

func (s *Server) listImports(w http.ResponseWriter, r *http.Request) {
	q, err := parseListQuery(r, leadcycle.ListSpecs["imports"])
	if err != nil {
		writeError(w, r, err)
		return
	}
	if r.URL.Query().Get("sort") == "" {
		q.Desc = true // newest first
	}
	page, err := s.store.Imports().ListImports(r.Context(), q)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

// jobAction answers with the job that do returns for the import in the path.
func jobAction(do func(ctx context.Context, id leadcycle.ID) (*leadcycle.ImportJob, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r)
		if err != nil {
			writeError(w, r, err)
			return
		}
		job, err := do(r.Context(), id)
		if err != nil {
			writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, job)
	}
}

// createImport takes the file as multipart/form-data (a "file" part and an
// "options" part holding the JSON options, or the options as form fields) or
// as the raw body (text/csv, an XLSX type or application/octet-stream) with
// the options in the query string.
func (s *Server) createImport(w http.ResponseWriter, r *http.Request) {
	spool, name, opts, err := s.readUpload(w, r)
	if spool != nil {
		defer func() { spool.Close(); os.Remove(spool.Name()) }()
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	sum, err := importer.FileSHA256(spool.Name())
	if err != nil {
		writeError(w, r, err)
		return
	}
	job := &leadcycle.ImportJob{Source: leadcycle.ImportSourceUpload, FileName: name, SHA256: sum, Options: opts}
	job.Options.Normalize()
	if err := job.Options.Validate(); err != nil {
		writeError(w, r, err)
		return
	}
	if err := importer.Prepare(r.Context(), s.store, job, spool.Name()); err != nil {
		writeError(w, r, err)
		return
	}
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		writeError(w, r, err)
		return
	}
	if err := s.store.Imports().CreateImport(r.Context(), job, spool); err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Location", importsBase+"/"+job.ID.String())
	writeJSON(w, http.StatusCreated, job)
}

// readUpload copies the uploaded file to a temporary file, within the
// import size limit, and reads the options.
func (s *Server) readUpload(w http.ResponseWriter, r *http.Request) (*os.File, string, leadcycle.ImportOptions, error) {
	var opts leadcycle.ImportOptions
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	body := http.MaxBytesReader(w, r.Body, s.maxImport)
	if mt == "multipart/form-data" {
		return s.readMultipart(body, params["boundary"])
	}
	switch mt {
	case "text/csv", "text/plain", "text/tab-separated-values", "application/octet-stream", "application/vnd.ms-excel",
		"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":
	default:
		return nil, "", opts, leadcycle.Errorf(leadcycle.EUnsupported, "send the file as multipart/form-data (a \"file\" part) or as the body with Content-Type text/csv or %s, not %q",
			"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", r.Header.Get("Content-Type"))
	}
	if err := optionsFromQuery(r, &opts); err != nil {
		return nil, "", opts, err
	}
	name := r.URL.Query().Get("file_name")
	if name == "" {
		name = "upload.csv"
		if mt == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" {
			name = "upload.xlsx"
		}
	}
	f, err := s.spool(body)
	return f, name, opts, err
}

func (s *Server) readMultipart(body io.Reader, boundary string) (*os.File, string, leadcycle.ImportOptions, error) {
	var opts leadcycle.ImportOptions
	mr, err := multipartReader(body, boundary)
	if err != nil {
		return nil, "", opts, err
	}
	var f *os.File
	var name string
	fields := map[string]string{}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return f, "", opts, uploadError(err, s.maxImport)
		}
		switch part.FormName() {
		case "file":
			if f != nil {
				return f, "", opts, leadcycle.FieldErrorf(leadcycle.EInvalid, "file", "send one file per import")
			}
			name = part.FileName()
			if f, err = s.spool(part); err != nil {
				return f, "", opts, err
			}
		default:
			b, err := io.ReadAll(io.LimitReader(part, 1<<20))
			if err != nil {
				return f, "", opts, uploadError(err, s.maxImport)
			}
			fields[part.FormName()] = string(b)
		}
	}
	if f == nil {
		return nil, "", opts, leadcycle.FieldErrorf(leadcycle.EInvalid, "file", "is required: a multipart part named \"file\"")
	}
	return f, name, opts, optionsFromFields(fields, &opts)
}

// spool copies an upload to a temporary file.
func (s *Server) spool(r io.Reader) (*os.File, error) {
	f, err := os.CreateTemp(s.importDir, "leadcycle-upload-*")
	if err != nil {
		return nil, fmt.Errorf("spool upload: %w", err)
	}
	n, err := io.Copy(f, r)
	if err != nil {
		return f, uploadError(err, s.maxImport)
	}
	if n == 0 {
		return f, leadcycle.FieldErrorf(leadcycle.EInvalid, "file", "the file is empty")
	}
	return f, nil
}

func uploadError(err error, limit int64) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return leadcycle.Errorf(leadcycle.ETooLarge, "the upload is larger than the import limit of %d bytes (--import-max-bytes)", limit)
	}
	return leadcycle.Errorf(leadcycle.EMalformed, "could not read the upload: %v", err)
}

// optionsFromFields reads import options from form fields: "options" as a
// JSON object, or one field per option.
func optionsFromFields(fields map[string]string, o *leadcycle.ImportOptions) error {
	if raw, ok := fields["options"]; ok {
		dec := json.NewDecoder(strings.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(o); err != nil {
			return leadcycle.FieldErrorf(leadcycle.EMalformed, "options", "is not a JSON object of import options: %v", err)
		}
		delete(fields, "options")
	}
	return setOptions(o, func(k string) (string, bool) { v, ok := fields[k]; return v, ok }, fields)
}

func optionsFromQuery(r *http.Request, o *leadcycle.ImportOptions) error {
	q := r.URL.Query()
	rest := map[string]string{}
	for k := range q {
		if k != "file_name" {
			rest[k] = q.Get(k)
		}
	}
	return setOptions(o, func(k string) (string, bool) { return q.Get(k), q.Has(k) }, rest)
}

// setOptions reads the options given one per field or query parameter;
// columns and values are JSON objects. Unknown names are errors.
func setOptions(o *leadcycle.ImportOptions, get func(string) (string, bool), all map[string]string) error {
	texts := map[string]*string{"entity": &o.Entity, "on_match": &o.OnMatch, "format": &o.Format, "encoding": &o.Encoding, "delimiter": &o.Delimiter, "sheet": &o.Sheet}
	for name := range all {
		v, _ := get(name)
		switch {
		case texts[name] != nil:
			*texts[name] = v
		case name == "strategy_id" || name == "mapping_id":
			id, ok := leadcycle.ParseID(v)
			if !ok {
				return leadcycle.FieldErrorf(leadcycle.EInvalid, name, "must be a record id")
			}
			if name == "strategy_id" {
				o.StrategyID = &id
			} else {
				o.MappingID = &id
			}
		case name == "day_first" || name == "clear_empty":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return leadcycle.FieldErrorf(leadcycle.EInvalid, name, "must be true or false")
			}
			if name == "day_first" {
				o.DayFirst = b
			} else {
				o.ClearEmpty = b
			}
		case name == "columns":
			if err := json.Unmarshal([]byte(v), &o.Columns); err != nil {
				return leadcycle.FieldErrorf(leadcycle.EInvalid, name, "must be a JSON object of header → field")
			}
		case name == "values":
			if err := json.Unmarshal([]byte(v), &o.Values); err != nil {
				return leadcycle.FieldErrorf(leadcycle.EInvalid, name, "must be a JSON object of field → {file value → stored value}")
			}
		default:
			return leadcycle.FieldErrorf(leadcycle.EInvalid, name, "is not an import option")
		}
	}
	return nil
}

// importID reads the id of an existing import from the path.
func (s *Server) importID(r *http.Request) (leadcycle.ID, error) {
	id, err := pathID(r)
	if err != nil {
		return 0, err
	}
	_, err = s.store.Imports().GetImport(r.Context(), id)
	return id, err
}

func (s *Server) importErrors(w http.ResponseWriter, r *http.Request) {
	id, err := s.importID(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	limit, after, err := errorPage(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	items, err := s.store.Imports().ImportErrors(r.Context(), id, after, limit)
	if err != nil {
		writeError(w, r, err)
		return
	}
	page := leadcycle.Page[leadcycle.ImportError]{Items: items}
	if len(items) == limit {
		page.NextCursor = strconv.FormatInt(items[len(items)-1].Seq, 10)
	}
	writeJSON(w, http.StatusOK, page)
}

// errorPage reads limit and cursor of the error report.
func errorPage(r *http.Request) (limit int, after int64, err error) {
	limit = leadcycle.DefaultLimit
	if v := r.URL.Query().Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > leadcycle.MaxLimit {
			return 0, 0, leadcycle.FieldErrorf(leadcycle.EInvalid, "limit", "must be a whole number from 1 to %d", leadcycle.MaxLimit)
		}
	}
	if v := r.URL.Query().Get("cursor"); v != "" {
		if after, err = strconv.ParseInt(v, 10, 64); err != nil || after < 0 {
			return 0, 0, leadcycle.FieldErrorf(leadcycle.EInvalid, "cursor", "is not a cursor returned by this list")
		}
	}
	return limit, after, nil
}

// importErrorsCSV downloads the whole error report as CSV.
func (s *Server) importErrorsCSV(w http.ResponseWriter, r *http.Request) {
	id, err := s.importID(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="import-%s-errors.csv"`, id))
	if err := importer.WriteReport(r.Context(), s.store, id, w); err != nil {
		logger(r.Context()).Error("import report", "err", err)
	}
}

// export streams a collection, filtered by its list's parameters.
func (s *Server) export(entity string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		format := r.URL.Query().Get("format")
		vals := r.URL.Query()
		vals.Del("format")
		r2 := r.Clone(r.Context())
		r2.URL.RawQuery = vals.Encode()
		q, err := parseListQuery(r2, leadcycle.ListSpecs[entity])
		if err != nil {
			writeError(w, r, err)
			return
		}
		if entity == "leads" {
			scopeLeadList(r, &q)
		}
		if format == "" {
			format = tabular.FormatCSV
		}
		ct := map[string]string{tabular.FormatCSV: "text/csv; charset=utf-8", tabular.FormatXLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}[format]
		if ct == "" {
			writeError(w, r, leadcycle.FieldErrorf(leadcycle.EInvalid, "format", "must be csv or xlsx"))
			return
		}
		w.Header().Set("Content-Type", ct)
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s.%s"`, entity, format))
		e := importer.Exporter{Store: s.store, Entity: entity, Format: format, Query: q}
		if _, err := e.Export(r.Context(), w); err != nil {
			// The status line is sent; a broken export ends the stream early.
			logger(r.Context()).Error("export", "entity", entity, "err", err)
		}
	}
}

// multipartReader reads a multipart body with a boundary.
func multipartReader(body io.Reader, boundary string) (*multipart.Reader, error) {
	if boundary == "" {
		return nil, leadcycle.Errorf(leadcycle.EMalformed, "the multipart Content-Type has no boundary")
	}
	return multipart.NewReader(body, boundary), nil
}
