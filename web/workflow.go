package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/leadcycle/leadcycle"
)

// The lead business process over HTTP: process definitions, a lead's stage
// (complete, move by hand, switch process), qualification, the timeline,
// users, task queues and assignment. Sales and telesales keys see only the
// leads their queue works on: salespeople sales-ready leads, telesales
// operators telesales-ready ones.

func (s *Server) registerWorkflow() {
	register(s, resource[leadcycle.Process]{name: "processes", schema: "Process", repo: s.store.Processes})
	register(s, resource[leadcycle.User]{name: "users", schema: "User", repo: s.store.Users, defaults: func(u *leadcycle.User) { u.Active = true }})
	wf := s.store.Workflow()
	lead := "/api/v1/leads/{id}"
	s.handle("GET", lead+"/timeline", leadcycle.Perm("leads", leadcycle.ActionRead), pageOf(wf.Timeline))
	s.handle("POST", lead+"/complete-stage", leadcycle.Perm("leads", "stage"), action(s, "a complete-stage request", http.StatusOK, s.completeStage))
	s.handle("POST", lead+"/move-stage", leadcycle.Perm("leads", "move"), action(s, "a move-stage request", http.StatusOK, s.moveStage))
	s.handle("POST", lead+"/switch-process", leadcycle.Perm("leads", "stage"), action(s, "a switch-process request", http.StatusOK, s.switchProcess))
	s.handle("POST", lead+"/qualify", leadcycle.Perm("leads", "qualify"), s.qualifyLead)
	s.handle("POST", lead+"/disqualify", leadcycle.Perm("leads", "disqualify"), action(s, "a disqualify request", http.StatusOK, s.disqualifyLead))
	s.handle("POST", lead+"/reactivate", leadcycle.Perm("leads", "reactivate"), action(s, "a reactivate request", http.StatusOK, s.reactivateLead))
	s.handle("GET", "/api/v1/queues", leadcycle.Perm("queues", leadcycle.ActionRead), s.listQueues)
	s.handle("PATCH", "/api/v1/queues/{key}", leadcycle.Perm("queues", leadcycle.ActionWrite), s.updateQueue)
	s.handle("POST", "/api/v1/tasks/{id}/assign", leadcycle.Perm("tasks", "assign"), action(s, "an assign request", http.StatusOK, s.assignTask))
	s.handle("GET", "/api/v1/event-log", leadcycle.Perm("event-log", leadcycle.ActionRead), s.listEvents)
}

// leadScopes are the leads a role is limited to: salespeople see only
// sales-ready leads and telesales operators telesales-ready ones (SPEC §5);
// the other roles see every lead.
var leadScopes = map[string]struct {
	flag  string // the lead column
	holds func(*leadcycle.Lead) bool
}{
	leadcycle.RoleSales:     {"sales_ready", func(l *leadcycle.Lead) bool { return l.SalesReady }},
	leadcycle.RoleTelesales: {"telesales_ready", func(l *leadcycle.Lead) bool { return l.TelesalesReady }},
}

// scopeLeadList limits a list of leads to the caller's scope.
func scopeLeadList(r *http.Request, q *leadcycle.ListQuery) {
	if scope, ok := leadScopes[roleOf(r)]; ok {
		q.Filters = append(q.Filters, leadcycle.Filter{Columns: []string{scope.flag}, Op: leadcycle.OpEq, Value: true})
	}
}

func roleOf(r *http.Request) string {
	if k := apiKeyOf(r.Context()); k != nil {
		return k.Role
	}
	return ""
}

// scopeLead wraps the routes of one lead (/api/v1/leads/{id}...): a role
// limited to some leads gets 403 for the others.
func (s *Server) scopeLead(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		scope, ok := leadScopes[roleOf(r)]
		if !ok {
			next(w, r)
			return
		}
		id, err := pathID(r)
		if err != nil {
			writeError(w, r, err)
			return
		}
		l, err := s.store.Leads().Get(r.Context(), id)
		if err != nil {
			writeError(w, r, err)
			return
		}
		if !scope.holds(l) {
			writeError(w, r, leadcycle.Errorf(leadcycle.EForbidden, "the role %s may only work on %s leads; lead %s is not %s", roleOf(r), strings.ReplaceAll(scope.flag, "_", "-"), id, strings.ReplaceAll(scope.flag, "_", " ")))
			return
		}
		next(w, r)
	}
}

// leadFlagPerms are the permissions needed to change each lead flag.
var leadFlagPerms = map[string]leadcycle.Permission{
	"telesales_ready":    leadcycle.Perm("leads", "mark_ready"),
	"sales_ready":        leadcycle.Perm("leads", "mark_ready"),
	"telesales_accepted": leadcycle.Perm("leads", "accept_telesales"),
	"sales_accepted":     leadcycle.Perm("leads", "accept_sales"),
}

// checkLeadPatch refuses the parts of a lead change the role may not make
// and the changes that have their own route.
func checkLeadPatch(r *http.Request, patch map[string]json.RawMessage) error {
	role := roleOf(r)
	for _, f := range sortedKeys(patch) {
		if perm, ok := leadFlagPerms[f]; ok && !leadcycle.Can(role, perm) {
			return leadcycle.Errorf(leadcycle.EForbidden, "the role %s may not change %s", role, f)
		}
	}
	var status string
	if raw, ok := patch["status"]; ok {
		_ = json.Unmarshal(raw, &status)
	}
	var reason string
	if raw, ok := patch["status_reason"]; ok {
		_ = json.Unmarshal(raw, &reason)
	}
	if status == leadcycle.LeadQualified || reason == "qualified" {
		return leadcycle.FieldErrorf(leadcycle.EInvalid, "status", "a lead is qualified with POST /api/v1/leads/{id}/qualify, which creates its opportunity")
	}
	return nil
}

// checkLeadUpdate is checkLeadPatch for PATCH, where the stage and the
// process change only through their own routes, which keep the timeline.
func checkLeadUpdate(r *http.Request, patch map[string]json.RawMessage) error {
	if err := checkLeadPatch(r, patch); err != nil {
		return err
	}
	for _, f := range []string{"process_id", "stage"} {
		if _, ok := patch[f]; ok {
			return leadcycle.FieldErrorf(leadcycle.EInvalid, f, "changes through POST /api/v1/leads/{id}/complete-stage, move-stage or switch-process, which keep the timeline")
		}
	}
	return nil
}

// actorOf names who makes the request, for timelines and events.
func actorOf(r *http.Request) string {
	if u := userOf(r.Context()); u != nil {
		return fmt.Sprintf("user %s %q (%s)", u.ID, u.Email, u.Role)
	}
	k := apiKeyOf(r.Context())
	if k == nil {
		return "anonymous"
	}
	return fmt.Sprintf("api key %s %q (%s)", k.ID, k.Name, k.Role)
}

// withActor names the request's caller on the writes it makes.
func withActor(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(leadcycle.WithActor(r.Context(), actorOf(r))))
	})
}

// action serves a POST on one record whose optional JSON body is decoded
// into Req (only its JSON fields are accepted) and handed to do; the result
// is written with status.
func action[Req any](s *Server, what string, status int, do func(ctx context.Context, id leadcycle.ID, req Req) (any, error)) http.HandlerFunc {
	fields := jsonFieldNames(reflect.TypeFor[Req]())
	return func(w http.ResponseWriter, r *http.Request) {
		id, body, err := s.readAction(w, r, what, fields...)
		var req Req
		if err == nil {
			err = decodeFields(body, &req, "")
		}
		var out any
		if err == nil {
			out, err = do(r.Context(), id, req)
		}
		if err != nil {
			writeError(w, r, err)
			return
		}
		writeJSON(w, status, out)
	}
}

// jsonFieldNames lists the JSON names of a struct type's fields.
func jsonFieldNames(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); name != "" && name != "-" {
			out = append(out, name)
		}
	}
	return out
}

// Action requests.
type (
	moveRequest struct {
		Stage  string `json:"stage"`
		Reason string `json:"reason"`
	}
	switchRequest struct {
		ProcessID leadcycle.ID `json:"process_id"`
		Stage     string       `json:"stage"`
	}
	disqualifyRequest struct {
		Reason string `json:"reason"`
		Note   string `json:"note"`
	}
	noteRequest struct {
		Note string `json:"note"`
	}
	assignRequest struct {
		AssigneeID *leadcycle.ID `json:"assignee_id"`
	}
	emptyRequest struct{}
)

func (s *Server) completeStage(ctx context.Context, id leadcycle.ID, _ emptyRequest) (any, error) {
	return s.store.Workflow().CompleteStage(ctx, id)
}

func (s *Server) moveStage(ctx context.Context, id leadcycle.ID, req moveRequest) (any, error) {
	if req.Stage == "" {
		return nil, leadcycle.FieldErrorf(leadcycle.EInvalid, "stage", "is required: the key of a stage of the lead's process")
	}
	return s.store.Workflow().MoveStage(ctx, id, req.Stage, req.Reason)
}

func (s *Server) switchProcess(ctx context.Context, id leadcycle.ID, req switchRequest) (any, error) {
	if req.ProcessID == 0 {
		return nil, leadcycle.FieldErrorf(leadcycle.EInvalid, "process_id", "is required")
	}
	return s.store.Workflow().SwitchProcess(ctx, id, req.ProcessID, req.Stage)
}

func (s *Server) disqualifyLead(ctx context.Context, id leadcycle.ID, req disqualifyRequest) (any, error) {
	return s.store.Workflow().Disqualify(ctx, id, req.Reason, req.Note)
}

func (s *Server) reactivateLead(ctx context.Context, id leadcycle.ID, req noteRequest) (any, error) {
	return s.store.Workflow().Reactivate(ctx, id, req.Note)
}

func (s *Server) assignTask(ctx context.Context, id leadcycle.ID, req assignRequest) (any, error) {
	return s.store.Workflow().AssignTask(ctx, id, req.AssigneeID)
}

// qualifyLead answers 201 with the opportunity's address.
func (s *Server) qualifyLead(w http.ResponseWriter, r *http.Request) {
	var res *leadcycle.QualifyResult
	action(s, "a qualify request", http.StatusCreated, func(ctx context.Context, id leadcycle.ID, req leadcycle.QualifyRequest) (any, error) {
		var err error
		if res, err = s.store.Workflow().Qualify(ctx, id, req); err != nil {
			return nil, err
		}
		w.Header().Set("Location", "/api/v1/opportunities/"+res.Opportunity.ID.String())
		return res, nil
	})(w, r)
}

func (s *Server) listQueues(w http.ResponseWriter, r *http.Request) {
	qs, err := s.store.Workflow().Queues(r.Context())
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, leadcycle.Page[leadcycle.Queue]{Items: qs})
}

func (s *Server) updateQueue(w http.ResponseWriter, r *http.Request) {
	patch, err := s.readObject(w, r)
	if err == nil {
		err = onlyFields(patch, "a queue", "name", "assignment", "due_hours")
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	q, err := s.store.Workflow().UpdateQueue(r.Context(), r.PathValue("key"), applyPatch[leadcycle.Queue](patch, "queue"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, q)
}

func (s *Server) listEvents(w http.ResponseWriter, r *http.Request) {
	var after int64
	limit := leadcycle.DefaultLimit
	var errs []leadcycle.FieldError
	for k, vals := range r.URL.Query() {
		v := vals[len(vals)-1]
		var err error
		switch k {
		case "after":
			after, err = strconv.ParseInt(v, 10, 64)
		case "limit":
			limit, err = strconv.Atoi(v)
			if err == nil && (limit < 1 || limit > leadcycle.MaxLimit) {
				err = fmt.Errorf("out of range")
			}
		default:
			errs = append(errs, leadcycle.FieldError{Field: k, Message: "is not a parameter of this list: after, limit"})
			continue
		}
		if err != nil {
			errs = append(errs, leadcycle.FieldError{Field: k, Message: "must be a whole number (limit: 1 to " + strconv.Itoa(leadcycle.MaxLimit) + ")"})
		}
	}
	if len(errs) > 0 {
		writeError(w, r, &leadcycle.Error{Code: leadcycle.EInvalid, Message: errs[0].Field + ": " + errs[0].Message, Fields: errs})
		return
	}
	evs, err := s.store.Workflow().Events(r.Context(), leadcycle.ID(max(after, 0)), limit)
	if err != nil {
		writeError(w, r, err)
		return
	}
	page := leadcycle.Page[leadcycle.Occurrence]{Items: evs}
	if page.Items == nil {
		page.Items = []leadcycle.Occurrence{}
	}
	if len(evs) == limit {
		page.NextCursor = evs[len(evs)-1].ID.String()
	}
	writeJSON(w, http.StatusOK, page)
}

// handleEventsOnce reacts to one batch of pending events (process
// transitions, queue tasks) and returns how many it handled.
func (s *Server) handleEventsOnce(ctx context.Context) int {
	n, err := s.store.Workflow().HandleEvents(ctx, 100)
	if err != nil && ctx.Err() == nil {
		s.log.Error("workflow events", "error", err.Error())
	}
	return n
}

// runWorkflow reacts to pending events until ctx ends: at once while there
// are more, else every interval.
func (s *Server) runWorkflow(ctx context.Context, interval time.Duration) {
	var purged time.Time
	for ctx.Err() == nil {
		if time.Since(purged) > time.Hour {
			purged = time.Now()
			if s.retention > 0 {
				s.purgeEvents(ctx)
			}
			s.purgeSessions(ctx)
		}
		if s.handleEventsOnce(ctx) > 0 {
			continue
		}
		select {
		case <-ctx.Done():
		case <-time.After(interval):
		}
	}
}

// HandleEvents makes one pass of the workflow over pending events (tests
// and the CLI use it).
func (s *Server) HandleEvents(ctx context.Context) int { return s.handleEventsOnce(ctx) }

// purgeSessions deletes the browser sessions that have ended.
func (s *Server) purgeSessions(ctx context.Context) {
	if n, err := s.store.Logins().PurgeSessions(ctx); err != nil && ctx.Err() == nil {
		s.log.Error("purge sessions", "error", err.Error())
	} else if n > 0 {
		s.log.Info("purged sessions", "sessions", n)
	}
}

// purgeEvents deletes the outbox events and webhook deliveries older than
// the retention period.
func (s *Server) purgeEvents(ctx context.Context) {
	n, err := s.store.Workflow().PurgeEvents(ctx, s.clock.Now().Add(-s.retention))
	switch {
	case err != nil && ctx.Err() == nil:
		s.log.Error("purge events", "error", err.Error())
	case n > 0:
		s.log.Info("purged events", "events", n, "older_than", s.retention.String())
	}
}
