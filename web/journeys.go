package web

import (
	"context"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/mailer"
)

// Journeys: the journeys collection with its lifecycle (publish, pause,
// resume, stop) and its contacts' runs; email templates, the sends and the
// suppression list.

const (
	journeys       = "journeys"
	journeysBase   = "/api/v1/" + journeys
	emailTemplates = "email-templates"
	templatesBase  = "/api/v1/" + emailTemplates
	sendsBase      = "/api/v1/email-sends"
	suppressBase   = "/api/v1/suppressions"
)

func (s *Server) registerJourneys() {
	register(s, resource[leadcycle.Journey]{name: journeys, schema: "Journey", repo: s.store.Journeys, readOnly: []string{"status", "stats", "published_at"}})
	write := leadcycle.Perm(journeys, leadcycle.ActionWrite)
	runs := s.store.JourneyRuns()
	for action, fn := range map[string]func(r *http.Request, id leadcycle.ID) (*leadcycle.Journey, error){
		"publish": func(r *http.Request, id leadcycle.ID) (*leadcycle.Journey, error) {
			return runs.Publish(r.Context(), id)
		},
		"pause": func(r *http.Request, id leadcycle.ID) (*leadcycle.Journey, error) { return runs.Pause(r.Context(), id) },
		"resume": func(r *http.Request, id leadcycle.ID) (*leadcycle.Journey, error) {
			return runs.Resume(r.Context(), id)
		},
		"stop": func(r *http.Request, id leadcycle.ID) (*leadcycle.Journey, error) { return runs.Stop(r.Context(), id) },
	} {
		s.handle("POST", journeysBase+"/{id}/"+action, write, func(w http.ResponseWriter, r *http.Request) {
			id, _, err := s.readAction(w, r, "a "+action+" request")
			if err != nil {
				writeError(w, r, err)
				return
			}
			j, err := fn(r, id)
			if err != nil {
				writeError(w, r, err)
				return
			}
			writeJSON(w, http.StatusOK, j)
		})
	}
	read := leadcycle.Perm(journeys, leadcycle.ActionRead)
	s.handle("GET", journeysBase+"/{id}/runs", read, s.listJourneyRuns)
	s.handle("GET", journeysBase+"/{id}/runs/{contact_id}", read, s.journeyRun)

	register(s, resource[leadcycle.EmailTemplate]{name: emailTemplates, schema: "EmailTemplate", repo: s.store.EmailTemplates})
	s.handle("POST", templatesBase+"/{id}/preview", leadcycle.Perm(emailTemplates, leadcycle.ActionWrite), s.previewTemplate)
	s.handle("GET", sendsBase, leadcycle.Perm("email-sends", leadcycle.ActionRead), s.listSends)
	s.handle("GET", suppressBase, leadcycle.Perm("suppressions", leadcycle.ActionRead), s.listSuppressions)
	s.handle("POST", suppressBase, leadcycle.Perm("suppressions", leadcycle.ActionWrite), s.addSuppression)
	s.handle("DELETE", suppressBase+"/{email}", leadcycle.Perm("suppressions", leadcycle.ActionDelete), s.removeSuppression)
}

// previewTemplate renders a template for a contact: {"contact_id": …}.
func (s *Server) previewTemplate(w http.ResponseWriter, r *http.Request) {
	id, body, err := s.readAction(w, r, "a preview", "contact_id", "lead_id")
	var req struct {
		ContactID *leadcycle.ID `json:"contact_id"`
		LeadID    *leadcycle.ID `json:"lead_id"`
	}
	if err == nil {
		err = decodeFields(body, &req, "preview")
	}
	if err == nil && req.ContactID == nil {
		err = leadcycle.FieldErrorf(leadcycle.EInvalid, "contact_id", "is required: the contact the email is rendered for")
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	ctx := r.Context()
	ec := &leadcycle.EmailContext{}
	t, err := s.store.EmailTemplates().Get(ctx, id)
	if err != nil {
		writeError(w, r, err)
		return
	}
	ec.Template = *t
	c, err := s.store.Contacts().Get(ctx, *req.ContactID)
	if err != nil {
		writeError(w, r, leadcycle.FieldErrorf(leadcycle.EInvalid, "contact_id", "no contact has the id %s", req.ContactID))
		return
	}
	ec.Contact = *c
	if c.AccountID != nil {
		ec.Account, _ = s.store.Accounts().Get(ctx, *c.AccountID)
	}
	if req.LeadID != nil {
		if ec.Lead, err = s.store.Leads().Get(ctx, *req.LeadID); err != nil {
			writeError(w, r, leadcycle.FieldErrorf(leadcycle.EInvalid, "lead_id", "no lead has the id %s", req.LeadID))
			return
		}
	}
	m := &mailer.Mailer{Store: s.store, PublicURL: s.publicBase(r)}
	if s.mail != nil {
		m.From, m.PublicURL = s.mail.From, s.mail.PublicURL
	}
	out, err := m.Preview(ctx, ec)
	if err != nil {
		writeError(w, r, leadcycle.Errorf(leadcycle.EInvalid, "the template does not render: %v", err))
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"subject": out.Subject, "html": out.HTML, "text": out.Text})
}

func (s *Server) listJourneyRuns(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	q, err := parseListQuery(r, leadcycle.ListSpecs["journey-runs"])
	if err != nil {
		writeError(w, r, err)
		return
	}
	page, err := s.store.JourneyRuns().Runs(r.Context(), id, q)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

func (s *Server) journeyRun(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	contact, ok := leadcycle.ParseID(r.PathValue("contact_id"))
	if !ok {
		writeError(w, r, leadcycle.Errorf(leadcycle.ENotFound, "no contact with id %q", r.PathValue("contact_id")))
		return
	}
	run, err := s.store.JourneyRuns().Run(r.Context(), id, contact)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, run)
}

func (s *Server) listSends(w http.ResponseWriter, r *http.Request) {
	q, err := parseListQuery(r, leadcycle.ListSpecs["email-sends"])
	if err != nil {
		writeError(w, r, err)
		return
	}
	page, err := s.store.Emails().Sends(r.Context(), q)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

func (s *Server) listSuppressions(w http.ResponseWriter, r *http.Request) {
	q, err := parseListQuery(r, leadcycle.ListSpecs["suppressions"])
	if err != nil {
		writeError(w, r, err)
		return
	}
	page, err := s.store.Emails().Suppressions(r.Context(), q)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

// addSuppression records a bounce or a complaint reported by the mail
// provider (or by hand): {"email": …, "reason": "bounce"|"complaint",
// "detail": …}.
func (s *Server) addSuppression(w http.ResponseWriter, r *http.Request) {
	body, err := s.readObject(w, r)
	if err == nil {
		err = onlyFields(body, "a suppression", "email", "reason", "detail")
	}
	var sp leadcycle.Suppression
	if err == nil {
		err = decodeFields(body, &sp, "suppression")
	}
	if err == nil {
		err = s.store.Emails().Suppress(r.Context(), sp)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"email": strings.ToLower(strings.TrimSpace(sp.Email)), "reason": sp.Reason})
}

func (s *Server) removeSuppression(w http.ResponseWriter, r *http.Request) {
	if err := s.store.Emails().Unsuppress(r.Context(), r.PathValue("email")); err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// OpenAPI.

func init() {
	documentedCollections = append(documentedCollections, struct {
		Name, Schema, Tag string
		Update            bool
	}{journeys, "Journey", "Journeys", true}, struct {
		Name, Schema, Tag string
		Update            bool
	}{emailTemplates, "EmailTemplate", "Email", true})
	schemaTypes["Journey"] = reflect.TypeFor[leadcycle.Journey]()
	schemaTypes["JourneyRun"] = reflect.TypeFor[leadcycle.JourneyRun]()
	schemaTypes["EmailTemplate"] = reflect.TypeFor[leadcycle.EmailTemplate]()
	schemaTypes["EmailSend"] = reflect.TypeFor[leadcycle.EmailSend]()
	schemaTypes["Suppression"] = reflect.TypeFor[leadcycle.Suppression]()
	for _, f := range []string{"status", "stats", "published_at"} {
		readOnlyFields["Journey."+f] = true
	}
	enums["Journey.status"] = leadcycle.JourneyStatuses
	enums["JourneyRun.state"] = []string{leadcycle.RunActive, leadcycle.RunWaiting, leadcycle.RunCompleted, leadcycle.RunGoal, leadcycle.RunExited, leadcycle.RunFailed}
	enums["EmailTemplate.purpose"] = []string{leadcycle.PurposeCommercial, leadcycle.PurposeTransactional}
	enums["EmailSend.status"] = []string{leadcycle.SendQueued, leadcycle.SendSent, leadcycle.SendSkipped, leadcycle.SendBounced, leadcycle.SendFailed}
	enums["Suppression.reason"] = []string{leadcycle.SuppressBounce, leadcycle.SuppressComplaint}
	fieldDescriptions["Journey.entry"] = "Who enters: kind segment (segment_id; mode one_time takes the members at publishing, ongoing also every later member) or kind trigger " +
		"(trigger form_submitted [form_id], lead_created, lead_sales_ready, event_registered [event_id], custom_event [event_type: custom:KEY]). A contact goes through a journey once."
	fieldDescriptions["Journey.steps"] = "Run from the first. Types: send_email (email_id), wait (duration 30m/2h/3d/1w or until), branch (condition, or interaction {type, email_step, url_contains, within}; then/else; an empty one ends the journey on that path), " +
		"create_lead (per contact|account, topic; never matches), update_record (target contact|account|lead, set {field: value}), create_task (title, queue telesales|sales or assignee_id, due_hours), webhook (webhook_id), exit. " +
		"A step goes on to next, or the step after it; no loops."
	fieldDescriptions["Journey.goal"] = "A condition on the contact (the segment query language) checked before every step and when a wait ends: a contact that meets it leaves as goal reached."
	fieldDescriptions["Journey.exit_condition"] = "A condition on the contact that takes it out of the journey, checked like the goal."
	fieldDescriptions["EmailTemplate.html"] = "HTML body with placeholders {{contact.first_name | \"fallback\"}}, {{account.name}}, {{lead.topic}}, {{contact.custom.NAME}}, {{sender.name}}, {{unsubscribe_url}} (a footer link is added when absent) and, for confirmation messages, {{consent.confirm_url}}. Links are tracked and an open pixel added for contacts who consented to tracking."
	fieldDescriptions["EmailTemplate.purpose"] = "commercial (the default): sent only to contacts who granted commercial email; transactional: a confirmation message."
	operations = append(operations,
		operation{"GET", journeysBase, "List journeys with their counts", "list", journeys},
		operation{"POST", journeysBase, "Create a journey (a draft); its steps and conditions are checked", "create", journeys},
		operation{"GET", journeysBase + "/{id}", "Get a journey with its counts", "get", journeys},
		operation{"PATCH", journeysBase + "/{id}", "Update a journey (JSON merge patch); once published only its name and description change", "update", journeys},
		operation{"DELETE", journeysBase + "/{id}", "Delete a draft or stopped journey", "delete", journeys},
		operation{"POST", journeysBase + "/{id}/publish", "Make a draft live; a segment journey takes the segment's members at once", "journey-action", journeys},
		operation{"POST", journeysBase + "/{id}/pause", "Pause a live journey: every contact stays where it is", "journey-action", journeys},
		operation{"POST", journeysBase + "/{id}/resume", "Resume a paused journey", "journey-action", journeys},
		operation{"POST", journeysBase + "/{id}/stop", "Stop a journey for good: its contacts exit", "journey-action", journeys},
		operation{"GET", journeysBase + "/{id}/runs", "The journey's contacts and where they are", "journey-runs", journeys},
		operation{"GET", journeysBase + "/{id}/runs/{contact_id}", "One contact's run with the steps done and their outcomes", "journey-run", journeys},
		operation{"GET", templatesBase, "List email templates", "list", emailTemplates},
		operation{"POST", templatesBase, "Create an email template; its placeholders are checked", "create", emailTemplates},
		operation{"GET", templatesBase + "/{id}", "Get an email template", "get", emailTemplates},
		operation{"PATCH", templatesBase + "/{id}", "Update an email template (JSON merge patch)", "update", emailTemplates},
		operation{"DELETE", templatesBase + "/{id}", "Delete an email template no journey uses and nothing was sent with", "delete", emailTemplates},
		operation{"POST", templatesBase + "/{id}/preview", "Render a template for a contact (and a lead) as the message would read; its links do nothing", "template-preview", emailTemplates},
		operation{"GET", sendsBase, "The emails queued, sent, skipped, bounced or failed, newest first", "email-sends", emailTemplates},
		operation{"GET", suppressBase, "The addresses no email goes to (bounces, complaints)", "suppressions-list", emailTemplates},
		operation{"POST", suppressBase, "Report a bounce or a complaint: the address gets no more email", "suppressions-add", emailTemplates},
		operation{"DELETE", suppressBase + "/{email}", "Take an address off the suppression list", "suppressions-remove", emailTemplates},
	)
	for _, kind := range []string{"journey-action", "journey-runs", "journey-run", "email-sends", "suppressions-list", "suppressions-add", "suppressions-remove", "template-preview"} {
		operationDescribers[kind] = describeJourneys
	}
}

func describeJourneys(op operation, out obj) obj {
	last := op.Path[strings.LastIndexByte(op.Path, '/')+1:]
	out["operationId"] = map[string]string{
		"journey-runs": "listJourneyRuns", "journey-run": "getJourneyRun", "email-sends": "listEmailSends",
		"suppressions-list": "listSuppressions", "suppressions-add": "addSuppression", "suppressions-remove": "removeSuppression",
		"template-preview": "previewEmailTemplate",
	}[op.Kind]
	if op.Kind == "journey-action" {
		out["operationId"] = last + "Journey"
	}
	responses := out["responses"].(obj)
	responses["401"] = problemResponse("No valid API key")
	responses["403"] = problemResponse("The key's role may not do this")
	idParam := obj{"name": "id", "in": "path", "required": true, "schema": obj{"type": "string", "pattern": "^[0-9]+$"}}
	paging := []obj{
		{"name": "limit", "in": "query", "schema": obj{"type": "integer", "minimum": 1, "maximum": leadcycle.MaxLimit, "default": leadcycle.DefaultLimit}},
		{"name": "cursor", "in": "query", "schema": obj{"type": "string"}, "description": "next_cursor of the previous page"},
	}
	pageOfSchema := func(name string) obj {
		return obj{"type": "object", "required": []string{"items", "next_cursor"},
			"properties": obj{"items": obj{"type": "array", "items": ref(name)}, "next_cursor": obj{"type": "string"}}}
	}
	filters := func(spec string) []obj {
		var ps []obj
		for _, f := range leadcycle.ListSpecs[spec].Filters {
			p := obj{"name": f.Param, "in": "query", "schema": obj{"type": "string"}}
			if len(f.Allowed) > 0 {
				p["schema"] = obj{"type": "string", "enum": f.Allowed}
			}
			ps = append(ps, p)
		}
		return ps
	}
	switch op.Kind {
	case "journey-action":
		out["parameters"] = []obj{idParam}
		responses["200"] = jsonResponse("The journey", ref("Journey"))
		responses["404"] = problemResponse("No such journey")
		responses["409"] = problemResponse("The journey is not in a status this action applies to")
		responses["422"] = problemResponse("Publishing: the journey names a record that no longer exists")
	case "journey-runs":
		out["parameters"] = append(append([]obj{idParam}, filters("journey-runs")...), paging...)
		responses["200"] = jsonResponse("One page of runs, by entry", pageOfSchema("JourneyRun"))
		responses["404"] = problemResponse("No such journey")
		responses["422"] = problemResponse("A filter, limit or cursor is not valid")
	case "journey-run":
		out["parameters"] = []obj{idParam, {"name": "contact_id", "in": "path", "required": true, "schema": obj{"type": "string", "pattern": "^[0-9]+$"}}}
		responses["200"] = jsonResponse("The run with its history", ref("JourneyRun"))
		responses["404"] = problemResponse("No such journey, or the contact is not in it")
	case "email-sends":
		out["parameters"] = append(filters("email-sends"), paging...)
		responses["200"] = jsonResponse("One page of sends, newest first", pageOfSchema("EmailSend"))
		responses["422"] = problemResponse("A filter, limit or cursor is not valid")
	case "suppressions-list":
		out["parameters"] = append(filters("suppressions"), paging...)
		responses["200"] = jsonResponse("One page of the suppression list, by address", pageOfSchema("Suppression"))
		responses["422"] = problemResponse("A filter, limit or cursor is not valid")
	case "suppressions-add":
		out["requestBody"] = obj{"required": true, "content": obj{"application/json": obj{"schema": obj{
			"type": "object", "additionalProperties": false, "required": []string{"email", "reason"},
			"properties": obj{"email": obj{"type": "string", "format": "email"}, "reason": obj{"type": "string", "enum": []string{leadcycle.SuppressBounce, leadcycle.SuppressComplaint}},
				"detail": obj{"type": "string", "description": "What the provider said"}},
		}}}}
		responses["201"] = jsonResponse("Suppressed; queued emails to it are skipped", obj{"type": "object", "properties": obj{"email": obj{"type": "string"}, "reason": obj{"type": "string"}}})
		responses["400"] = problemResponse("Malformed JSON or an unknown field")
		responses["422"] = problemResponse("Not an email address, or an unknown reason")
	case "template-preview":
		out["parameters"] = []obj{idParam}
		out["requestBody"] = obj{"required": true, "content": obj{"application/json": obj{"schema": obj{
			"type": "object", "additionalProperties": false, "required": []string{"contact_id"},
			"properties": obj{"contact_id": obj{"type": "string", "pattern": "^[0-9]+$"}, "lead_id": obj{"type": "string", "pattern": "^[0-9]+$"}},
		}}}}
		responses["200"] = jsonResponse("The rendered parts", obj{"type": "object", "properties": obj{
			"subject": obj{"type": "string"}, "html": obj{"type": "string"}, "text": obj{"type": "string"}}})
		responses["400"] = problemResponse("Malformed JSON or an unknown field")
		responses["404"] = problemResponse("No such template")
		responses["422"] = problemResponse("No contact_id, an unknown contact or lead, or a template that does not render")
	case "suppressions-remove":
		out["parameters"] = []obj{{"name": "email", "in": "path", "required": true, "schema": obj{"type": "string"}}}
		responses["204"] = obj{"description": "Removed"}
		responses["404"] = problemResponse("The address is not on the list")
	}
	return out
}

// runJourneys moves contacts through live journeys until ctx ends.
func (s *Server) runJourneys(ctx context.Context, interval time.Duration) {
	for ctx.Err() == nil {
		n, err := s.store.JourneyRuns().ProcessDue(ctx, 200)
		if err != nil && ctx.Err() == nil {
			s.log.Warn("journeys", slog.String("error", err.Error()))
		}
		if n > 0 && err == nil {
			continue
		}
		select {
		case <-ctx.Done():
		case <-time.After(interval):
		}
	}
}

// Mailer returns the mailer configured by Options.Mail, or nil when no
// email is sent.
func (s *Server) Mailer(ctx context.Context) *mailer.Mailer {
	if s.mail == nil {
		return nil
	}
	signer, err := s.tracker.signerOf(ctx)
	if err != nil {
		s.log.Error("email is not sent: no token key: " + err.Error())
		return nil
	}
	return &mailer.Mailer{Store: s.store, Sender: s.mail.Sender, Signer: signer, PublicURL: s.mail.PublicURL,
		From: s.mail.From, ReturnPath: s.mail.ReturnPath, Logger: s.log}
}
