package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strconv"

	"github.com/leadcycle/leadcycle"
)

// Scoring: the scoring-models collection and its lifecycle (a draft is edited
// in place; editing a live or stopped model makes a new draft version),
// publishing and stopping, previews, and the scores, explanations and score
// history of leads. Interactions, which feed scoring, can be sent in batches.

const (
	scoringModels     = "scoring-models"
	scoringModelsBase = "/api/v1/" + scoringModels
	// maxInteractionBatch is the largest batch of interactions one request
	// may send.
	maxInteractionBatch = 1000
)

// scoringModelReadOnly are the fields of a scoring model that only the
// lifecycle sets (besides id and times).
var scoringModelReadOnly = []string{"version", "status", "previous_version_id", "rescore", "published_at", "stopped_at"}

func (s *Server) registerScoring() {
	register(s, resource[leadcycle.ScoringModel]{name: scoringModels, schema: "ScoringModel", repo: s.store.ScoringModels,
		readOnly: scoringModelReadOnly, patch: patchScoringModel})
	read := leadcycle.Perm(scoringModels, leadcycle.ActionRead)
	publish := leadcycle.Perm(scoringModels, "publish")
	s.handle("POST", scoringModelsBase+"/{id}/publish", publish, s.publishScoringModel)
	s.handle("POST", scoringModelsBase+"/{id}/stop", publish, s.stopScoringModel)
	// Unscorable leads are never sales or telesales ready, so the roles that
	// see only those leads may not list them.
	s.handle("GET", scoringModelsBase+"/{id}/unscorable-leads", leadcycle.Perm("leads", "read_all"), pageOf(s.store.Scoring().UnscorableLeads))
	s.handle("GET", scoringModelsBase+"/{id}/preview", read, s.previewScore)
	s.handle("GET", "/api/v1/leads/{id}/scores", leadcycle.Perm("leads", leadcycle.ActionRead), s.leadScores)
	s.handle("GET", "/api/v1/leads/{id}/score-history", leadcycle.Perm("leads", leadcycle.ActionRead), pageOf(s.store.Scoring().ScoreHistory))
	s.handle("POST", "/api/v1/interactions/batch", leadcycle.Perm("interactions", leadcycle.ActionWrite), s.addInteractions)
}

// errNotDraft stops an in-place update of a model that is not a draft (the
// PATCH then makes a new version instead).
var errNotDraft = leadcycle.Errorf(leadcycle.EConflict, "the scoring model is not a draft")

// patchScoringModel applies a merge patch to a scoring model. A draft is
// changed in place (200); a live or stopped model is never changed: the patch
// makes its next version, a draft (201 with a Location).
func patchScoringModel(res resource[leadcycle.ScoringModel], s *Server, w http.ResponseWriter, r *http.Request) {
	id, patch, err := res.readPatch(s, w, r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	apply := applyPatch[leadcycle.ScoringModel](patch, res.singular())
	m, err := s.store.ScoringModels().Update(r.Context(), id, func(cur *leadcycle.ScoringModel) error {
		if cur.Status != leadcycle.ModelDraft {
			return errNotDraft
		}
		return apply(cur)
	})
	if !errors.Is(err, errNotDraft) {
		if err != nil {
			writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, m)
		return
	}
	m, err = s.store.Scoring().NewVersion(r.Context(), id, apply)
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Location", scoringModelsBase+"/"+m.ID.String())
	writeJSON(w, http.StatusCreated, m)
}

// readAction reads the id in the path and the optional body of an action on
// a record, which may hold only the given fields.
func (s *Server) readAction(w http.ResponseWriter, r *http.Request, what string, fields ...string) (leadcycle.ID, map[string]json.RawMessage, error) {
	id, err := pathID(r)
	if err != nil {
		return 0, nil, err
	}
	body, err := s.readOptionalObject(w, r)
	if err != nil {
		return 0, nil, err
	}
	return id, body, onlyFields(body, what, fields...)
}

func (s *Server) publishScoringModel(w http.ResponseWriter, r *http.Request) {
	id, _, err := s.readAction(w, r, "a publish request")
	if err != nil {
		writeError(w, r, err)
		return
	}
	m, err := s.store.Scoring().Publish(r.Context(), id)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, m)
}

// Stop choices: what happens to the scores a stopped model gave.
const (
	stopKeepScores  = "keep"
	stopClearScores = "clear"
)

func (s *Server) stopScoringModel(w http.ResponseWriter, r *http.Request) {
	id, body, err := s.readAction(w, r, "a stop request", "scores")
	if err != nil {
		writeError(w, r, err)
		return
	}
	choice := stopKeepScores
	if raw, ok := body["scores"]; ok && !bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		if json.Unmarshal(raw, &choice) != nil || (choice != stopKeepScores && choice != stopClearScores) {
			writeError(w, r, leadcycle.FieldErrorf(leadcycle.EInvalid, "scores", "must be %q (the default: leads keep the model's last scores) or %q (remove them)", stopKeepScores, stopClearScores))
			return
		}
	}
	m, err := s.store.Scoring().Stop(r.Context(), id, choice == stopKeepScores)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, m)
}

// onlyFields refuses the fields of a request body other than allowed.
func onlyFields(body map[string]json.RawMessage, what string, allowed ...string) error {
	var errs []leadcycle.FieldError
	for _, k := range sortedKeys(body) {
		if !slices.Contains(allowed, k) {
			errs = append(errs, leadcycle.FieldError{Field: k, Message: "is not a field of " + what})
		}
	}
	if len(errs) > 0 {
		return &leadcycle.Error{Code: leadcycle.EMalformed, Message: errs[0].Field + ": " + errs[0].Message, Fields: errs}
	}
	return nil
}

// parsePageQuery reads the limit and cursor of a list that has neither
// filters nor sorts; any other parameter is an error naming it.
func parsePageQuery(r *http.Request) (leadcycle.ListQuery, error) {
	var q leadcycle.ListQuery
	var errs []leadcycle.FieldError
	values := r.URL.Query()
	for _, name := range sortedKeys(values) {
		val := values[name][len(values[name])-1]
		switch name {
		case "limit":
			n, err := strconv.Atoi(val)
			if err != nil || n < 1 || n > leadcycle.MaxLimit {
				errs = append(errs, leadcycle.FieldError{Field: name, Message: fmt.Sprintf("must be a whole number from 1 to %d", leadcycle.MaxLimit)})
			}
			q.Limit = n
		case "cursor":
			q.Cursor = val
		default:
			errs = append(errs, leadcycle.FieldError{Field: name, Message: "is not a parameter of this list; use limit or cursor"})
		}
	}
	if len(errs) > 0 {
		return q, &leadcycle.Error{Code: leadcycle.EInvalid, Message: errs[0].Field + ": " + errs[0].Message, Fields: errs}
	}
	return q, nil
}

// pageOf serves one page of what belongs to the record named in the path
// (the unscorable leads of a model, the score history of a lead).
func pageOf[T any](list func(ctx context.Context, id leadcycle.ID, q leadcycle.ListQuery) (leadcycle.Page[T], error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r)
		if err != nil {
			writeError(w, r, err)
			return
		}
		q, err := parsePageQuery(r)
		if err != nil {
			writeError(w, r, err)
			return
		}
		page, err := list(r.Context(), id, q)
		if err != nil {
			writeError(w, r, err)
			return
		}
		if page.Items == nil {
			page.Items = []T{}
		}
		writeJSON(w, http.StatusOK, page)
	}
}

func (s *Server) previewScore(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	var leadID leadcycle.ID
	var errs []leadcycle.FieldError
	values := r.URL.Query()
	for _, name := range sortedKeys(values) {
		if name != "lead_id" {
			errs = append(errs, leadcycle.FieldError{Field: name, Message: "is not a parameter of a preview; the only one is lead_id"})
			continue
		}
		var ok bool
		if leadID, ok = leadcycle.ParseID(values.Get(name)); !ok {
			errs = append(errs, leadcycle.FieldError{Field: name, Message: "must be the id of a lead"})
		}
	}
	if _, ok := values["lead_id"]; !ok {
		errs = append(errs, leadcycle.FieldError{Field: "lead_id", Message: "is required: the lead to score"})
	}
	if len(errs) > 0 {
		writeError(w, r, &leadcycle.Error{Code: leadcycle.EInvalid, Message: errs[0].Field + ": " + errs[0].Message, Fields: errs})
		return
	}
	d, err := s.store.Scoring().PreviewScore(r.Context(), id, leadID)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

func (s *Server) leadScores(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	scores, err := s.store.Scoring().LeadScores(r.Context(), id)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if scores == nil {
		scores = []leadcycle.LeadScoreDetail{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": scores})
}

// addInteractions stores a batch of interactions, all or none. Each item is
// read like the body of a single create, and every error names its item:
// items[3].type.
func (s *Server) addInteractions(w http.ResponseWriter, r *http.Request) {
	body, err := s.readObject(w, r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if err := onlyFields(body, "a batch (send {\"items\": [...]})", "items"); err != nil {
		writeError(w, r, err)
		return
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(body["items"], &raw); err != nil || raw == nil {
		if _, ok := body["items"]; !ok || bytes.Equal(bytes.TrimSpace(body["items"]), []byte("null")) {
			writeError(w, r, leadcycle.FieldErrorf(leadcycle.EInvalid, "items", "is required: an array of 1 to %d interactions", maxInteractionBatch))
			return
		}
		writeError(w, r, leadcycle.FieldErrorf(leadcycle.EMalformed, "items", "must be an array of interactions"))
		return
	}
	switch {
	case len(raw) == 0:
		writeError(w, r, leadcycle.FieldErrorf(leadcycle.EInvalid, "items", "is empty: send 1 to %d interactions", maxInteractionBatch))
		return
	case len(raw) > maxInteractionBatch:
		writeError(w, r, leadcycle.FieldErrorf(leadcycle.EInvalid, "items", "has %d interactions; a batch holds at most %d", len(raw), maxInteractionBatch))
		return
	}
	items := make([]leadcycle.Interaction, len(raw))
	var errs []leadcycle.FieldError
	for i, one := range raw {
		at := fmt.Sprintf("items[%d]", i)
		var fields map[string]json.RawMessage
		if json.Unmarshal(one, &fields) != nil || fields == nil {
			errs = append(errs, leadcycle.FieldError{Field: at, Message: "must be an interaction object"})
			continue
		}
		for _, k := range sortedKeys(fields) {
			if slices.Contains(alwaysReadOnly, k) {
				errs = append(errs, leadcycle.FieldError{Field: at + "." + k, Message: "is read-only"})
				delete(fields, k)
			}
		}
		errs = append(errs, decodeFieldsAt(fields, &items[i], "interaction", at+".")...)
	}
	if len(errs) > 0 {
		writeError(w, r, &leadcycle.Error{Code: leadcycle.EMalformed, Message: errs[0].Field + ": " + errs[0].Message, Fields: errs})
		return
	}
	if err := s.store.AddInteractions(r.Context(), items); err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"items": items})
}

// OpenAPI: the routes above, documented through operationDescribers.

func init() {
	documentedCollections = append(documentedCollections, struct {
		Name, Schema, Tag string
		Update            bool
	}{scoringModels, "ScoringModel", "Scoring models", true})
	schemaTypes["ScoringModel"] = reflect.TypeFor[leadcycle.ScoringModel]()
	schemaTypes["LeadScoreDetail"] = reflect.TypeFor[leadcycle.LeadScoreDetail]()
	schemaTypes["ScoreChange"] = reflect.TypeFor[leadcycle.ScoreChange]()
	for _, f := range scoringModelReadOnly {
		readOnlyFields["ScoringModel."+f] = true
	}
	statuses := []string{leadcycle.ModelDraft, leadcycle.ModelLive, leadcycle.ModelStopped}
	enums["ScoringModel.status"] = statuses
	enums["ScoringModel.target"] = leadcycle.ScoringTargets
	enums["Behavior.frequency"] = leadcycle.Frequencies
	enums["RescoreProgress.state"] = []string{leadcycle.RescoreIdle, leadcycle.RescoreRunning, leadcycle.RescoreDone}
	enums["LeadScoreDetail.model_status"] = statuses

	operations = append(operations,
		operation{"GET", scoringModelsBase, "List scoring models (every version is a record; filter by key for one model's versions)", "list", scoringModels},
		operation{"POST", scoringModelsBase, "Create a scoring model (a draft); rules and expressions are checked against the field schema", "create", scoringModels},
		operation{"GET", scoringModelsBase + "/{id}", "Get a scoring model version, with its rescore progress", "get", scoringModels},
		operation{"PATCH", scoringModelsBase + "/{id}", "Update a scoring model (JSON merge patch): a draft changes in place; a live or stopped model makes a new draft version", "scoring-update", scoringModels},
		operation{"DELETE", scoringModelsBase + "/{id}", "Delete a scoring model version (a live model must be stopped first)", "scoring-delete", scoringModels},
		operation{"POST", scoringModelsBase + "/{id}/publish", "Publish a draft: it goes live, the previous live version of the model stops, and every lead is rescored in the background", "scoring-publish", scoringModels},
		operation{"POST", scoringModelsBase + "/{id}/stop", "Stop a live model, keeping or clearing its scores", "scoring-stop", scoringModels},
		operation{"GET", scoringModelsBase + "/{id}/unscorable-leads", "Leads the model applies to but cannot score: they have no parent contact (or account)", "scoring-unscorable", scoringModels},
		operation{"GET", scoringModelsBase + "/{id}/preview", "Score one lead with this model now, with the explanation, storing nothing", "scoring-preview", scoringModels},
		operation{"GET", "/api/v1/leads/{id}/scores", "Every model's score of a lead, with which rule added which points from which interactions", "scoring-lead-scores", "leads"},
		operation{"GET", "/api/v1/leads/{id}/score-history", "The score ledger of a lead, newest first: every change and its cause", "scoring-history", "leads"},
		operation{"POST", "/api/v1/interactions/batch", "Record up to 1000 interactions at once: all of them or, when one is not valid, none", "interactions-batch", "interactions"},
	)
	for _, kind := range []string{"scoring-update", "scoring-delete", "scoring-publish", "scoring-stop", "scoring-unscorable", "scoring-preview", "scoring-lead-scores", "scoring-history", "interactions-batch"} {
		operationDescribers[kind] = describeScoring
	}
}

func describeScoring(op operation, out obj) obj {
	out["operationId"] = map[string]string{
		"scoring-update": "updateScoringModel", "scoring-delete": "deleteScoringModel", "scoring-publish": "publishScoringModel",
		"scoring-stop": "stopScoringModel", "scoring-unscorable": "listUnscorableLeads", "scoring-preview": "previewLeadScore",
		"scoring-lead-scores": "listLeadScores", "scoring-history": "listLeadScoreHistory", "interactions-batch": "createInteractionsBatch",
	}[op.Kind]
	responses := out["responses"].(obj)
	responses["401"] = problemResponse("No valid API key")
	responses["403"] = problemResponse("The key's role may not do this")
	idParam := obj{"name": "id", "in": "path", "required": true, "schema": obj{"type": "string", "pattern": "^[0-9]+$"}}
	pageParams := []obj{
		idParam,
		{"name": "limit", "in": "query", "schema": obj{"type": "integer", "minimum": 1, "maximum": leadcycle.MaxLimit, "default": leadcycle.DefaultLimit}},
		{"name": "cursor", "in": "query", "schema": obj{"type": "string"}, "description": "next_cursor of the previous page"},
	}
	page := func(schema string) obj {
		return jsonResponse("One page", obj{"type": "object", "required": []string{"items", "next_cursor"},
			"properties": obj{"items": obj{"type": "array", "items": ref(schema)}, "next_cursor": obj{"type": "string", "description": "Pass as cursor for the next page; empty on the last page."}}})
	}
	out["parameters"] = []obj{idParam}
	switch op.Kind {
	case "scoring-update":
		out["description"] = "A draft is changed in place and returned with 200. A live or stopped model is never changed: the patch is applied to a copy, " +
			"which is stored as the model's next version (a draft, with previous_version_id pointing here) and returned with 201 and a Location header. " +
			"Publish that draft to put it live."
		out["requestBody"] = obj{"required": true, "content": obj{"application/merge-patch+json": obj{"schema": ref("ScoringModel")}, "application/json": obj{"schema": ref("ScoringModel")}}}
		responses["200"] = jsonResponse("The updated draft", ref("ScoringModel"))
		responses["201"] = obj{"description": "The model was live or stopped: the new draft version",
			"headers": obj{"Location": obj{"description": "The new version", "schema": obj{"type": "string"}}},
			"content": obj{"application/json": obj{"schema": ref("ScoringModel")}}}
		responses["400"] = problemResponse("Malformed JSON, an unknown or read-only field, or a value of the wrong type")
		responses["404"] = problemResponse("No such scoring model")
		responses["409"] = problemResponse("The model is live or stopped and already has a draft version: edit that one")
		responses["413"] = problemResponse("The body is too large")
		responses["422"] = problemResponse("A value breaks a rule (e.g. rules[2].behaviors[0].window_days, grades[1])")
	case "scoring-delete":
		responses["204"] = obj{"description": "Deleted"}
		responses["404"] = problemResponse("No such scoring model")
		responses["409"] = problemResponse("The model is live; stop it first")
	case "scoring-publish":
		responses["202"] = jsonResponse("The model, now live; rescore.state is running until every lead is rescored", ref("ScoringModel"))
		responses["400"] = problemResponse("The body has fields (publish takes none)")
		responses["404"] = problemResponse("No such scoring model")
		responses["409"] = problemResponse("The model is not a draft")
		responses["422"] = problemResponse("The model is not valid and cannot be published")
	case "scoring-stop":
		out["requestBody"] = obj{"required": false, "content": obj{"application/json": obj{"schema": obj{
			"type": "object", "additionalProperties": false,
			"properties": obj{"scores": obj{"type": "string", "enum": []string{stopKeepScores, stopClearScores}, "default": stopKeepScores,
				"description": "keep: leads keep the model's last scores; clear: they are removed"}},
		}}}}
		responses["200"] = jsonResponse("The stopped model", ref("ScoringModel"))
		responses["400"] = problemResponse("Malformed JSON or an unknown field")
		responses["404"] = problemResponse("No such scoring model")
		responses["409"] = problemResponse("The model is not live")
		responses["422"] = problemResponse("scores is neither keep nor clear")
	case "scoring-unscorable":
		out["parameters"] = pageParams
		responses["200"] = page("Lead")
		responses["404"] = problemResponse("No such scoring model")
		responses["422"] = problemResponse("A limit or cursor is not valid")
	case "scoring-preview":
		out["parameters"] = []obj{idParam, {"name": "lead_id", "in": "query", "required": true, "schema": obj{"type": "string", "pattern": "^[0-9]+$"}, "description": "The lead to score"}}
		responses["200"] = jsonResponse("The lead's score under this model now, explained; nothing is stored", ref("LeadScoreDetail"))
		responses["404"] = problemResponse("No such scoring model or lead")
		responses["422"] = problemResponse("lead_id is missing or not an id, or the lead cannot be scored")
	case "scoring-lead-scores":
		responses["200"] = jsonResponse("One score per model that scores the lead", obj{"type": "object", "required": []string{"items"},
			"properties": obj{"items": obj{"type": "array", "items": ref("LeadScoreDetail")}}})
		responses["404"] = problemResponse("No such lead")
	case "scoring-history":
		out["parameters"] = pageParams
		responses["200"] = page("ScoreChange")
		responses["404"] = problemResponse("No such lead")
		responses["422"] = problemResponse("A limit or cursor is not valid")
	case "interactions-batch":
		delete(out, "parameters")
		batch := obj{"type": "object", "required": []string{"items"}, "additionalProperties": false,
			"properties": obj{"items": obj{"type": "array", "minItems": 1, "maxItems": maxInteractionBatch, "items": ref("Interaction")}}}
		out["requestBody"] = obj{"required": true, "content": obj{"application/json": obj{"schema": batch}}}
		responses["201"] = jsonResponse("Every interaction, stored, with its id", obj{"type": "object", "required": []string{"items"},
			"properties": obj{"items": obj{"type": "array", "items": ref("Interaction")}}})
		responses["400"] = problemResponse("Malformed JSON, or an item with an unknown or read-only field or a value of the wrong type (named items[i].field)")
		responses["413"] = problemResponse("The body is too large")
		responses["415"] = problemResponse("The body is not JSON")
		responses["422"] = problemResponse("No items, more than 1000, or an item breaks a rule (named items[i].field); nothing is stored")
	}
	return out
}
