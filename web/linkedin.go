package web

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"reflect"
	"slices"
	"strconv"
	"time"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/linkedin"
)

// The LinkedIn Lead Gen Forms connections: saved configurations, synced on
// demand here and on a schedule by linkedin.Scheduler. Tokens are write-only:
// accepted on create and update, never returned (has_token says whether one
// is set).

const (
	linkedinCollection = "linkedin-connections"
	linkedinBase       = "/api/v1/" + linkedinCollection
	// linkedinSyncTimeout bounds an on-demand sync so that its answer
	// arrives before the server's write timeout; a sync cut short is
	// recorded as interrupted and the next one resumes.
	linkedinSyncTimeout = 100 * time.Second
)

type linkedinAPI struct {
	svc *linkedin.Service
	err error // why there is no service
}

// registerLinkedIn registers the LinkedIn connection routes. The store must
// keep connections (linkedin.Provider); syncing needs it to capture leads
// (leadcycle.Capturer). Tokens are sealed with LEADCYCLE_SECRET_KEY.
func (s *Server) registerLinkedIn() {
	api := &linkedinAPI{err: leadcycle.Errorf(leadcycle.EUnavailable, "this server's storage does not keep LinkedIn connections")}
	if p, ok := s.store.(linkedin.Provider); ok {
		capturer, _ := s.store.(leadcycle.Capturer)
		sealer, err := linkedin.SealerFromEnv(os.Getenv)
		if err != nil {
			s.log.Error("LinkedIn connections unavailable", "error", err.Error())
			api.err = leadcycle.Errorf(leadcycle.EUnavailable, "LinkedIn connections are unavailable: %v", err)
		} else {
			api.svc, api.err = linkedin.NewService(p.LinkedIn(), capturer, linkedin.Options{Sealer: sealer, Records: s.store, Clock: s.clock, Logger: s.log}), nil
		}
	}
	read := leadcycle.Perm(linkedinCollection, leadcycle.ActionRead)
	write := leadcycle.Perm(linkedinCollection, leadcycle.ActionWrite)
	s.handle("GET", linkedinBase, read, api.with(api.list))
	s.handle("POST", linkedinBase, write, api.with(func(w http.ResponseWriter, r *http.Request) { api.create(s, w, r) }))
	s.handle("GET", linkedinBase+"/{id}", read, api.with(api.get))
	s.handle("PATCH", linkedinBase+"/{id}", write, api.with(func(w http.ResponseWriter, r *http.Request) { api.update(s, w, r) }))
	s.handle("DELETE", linkedinBase+"/{id}", leadcycle.Perm(linkedinCollection, leadcycle.ActionDelete), api.with(api.delete))
	s.handle("POST", linkedinBase+"/{id}/sync", write, api.with(api.sync))
	s.handle("GET", linkedinBase+"/{id}/sync-runs", read, api.with(api.runs))
}

func (api *linkedinAPI) with(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if api.svc == nil {
			writeError(w, r, api.err)
			return
		}
		h(w, r)
	}
}

// splitLinkedInBody takes the write-only secrets out of a request body and
// refuses read-only fields.
func splitLinkedInBody(fields map[string]json.RawMessage) (linkedin.SecretsPatch, error) {
	var patch linkedin.SecretsPatch
	var errs []leadcycle.FieldError
	for _, k := range sortedKeys(fields) {
		if slices.Contains(linkedin.ReadOnlyFields, k) {
			errs = append(errs, leadcycle.FieldError{Field: k, Message: "is read-only"})
		}
	}
	for i, k := range linkedin.WriteOnlyFields {
		raw, ok := fields[k]
		if !ok {
			continue
		}
		delete(fields, k)
		v := new(string)
		if !bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
			if err := json.Unmarshal(raw, v); err != nil {
				errs = append(errs, leadcycle.FieldError{Field: k, Message: "must be a string, or null to remove it"})
				continue
			}
		}
		switch i {
		case 0:
			patch.AccessToken = v
		case 1:
			patch.RefreshToken = v
		case 2:
			patch.ClientSecret = v
		}
	}
	if len(errs) > 0 {
		return patch, &leadcycle.Error{Code: leadcycle.EMalformed, Message: errs[0].Field + ": " + errs[0].Message, Fields: errs}
	}
	return patch, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func (api *linkedinAPI) create(s *Server, w http.ResponseWriter, r *http.Request) {
	fields, err := s.readObject(w, r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	patch, err := splitLinkedInBody(fields)
	if err != nil {
		writeError(w, r, err)
		return
	}
	c := &linkedin.Connection{Enabled: true}
	if err := decodeFields(fields, c, "a LinkedIn connection"); err != nil {
		writeError(w, r, err)
		return
	}
	secrets := linkedin.Secrets{AccessToken: deref(patch.AccessToken), RefreshToken: deref(patch.RefreshToken), ClientSecret: deref(patch.ClientSecret)}
	if err := api.svc.Create(r.Context(), c, secrets); err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Location", linkedinBase+"/"+c.ID.String())
	writeJSON(w, http.StatusCreated, c)
}

func (api *linkedinAPI) update(s *Server, w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	fields, err := s.readObject(w, r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	patch, err := splitLinkedInBody(fields)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if _, ok := fields["token_expires_at"]; patch.AccessToken != nil && !ok {
		fields["token_expires_at"] = json.RawMessage("null") // a new token's expiry is unknown unless given
	}
	c, err := api.svc.Update(r.Context(), id, patch, func(cur *linkedin.Connection) error {
		doc, err := toObject(cur)
		if err != nil {
			return err
		}
		for k, p := range fields {
			merged, keep := mergePatch(doc[k], p)
			if keep {
				doc[k] = merged
			} else {
				delete(doc, k)
			}
		}
		next := linkedin.Connection{Secrets: cur.Secrets}
		if err := decodeFields(doc, &next, "a LinkedIn connection"); err != nil {
			return err
		}
		*cur = next
		return nil
	})
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (api *linkedinAPI) list(w http.ResponseWriter, r *http.Request) {
	limit, after := leadcycle.DefaultLimit, leadcycle.ID(0)
	var errs []leadcycle.FieldError
	for _, name := range sortedKeys(r.URL.Query()) {
		v := r.URL.Query().Get(name)
		switch name {
		case "limit":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > leadcycle.MaxLimit {
				errs = append(errs, leadcycle.FieldError{Field: name, Message: "must be a whole number from 1 to " + strconv.Itoa(leadcycle.MaxLimit)})
			}
			limit = n
		case "cursor":
			id, ok := leadcycle.ParseID(v)
			if !ok && v != "" {
				errs = append(errs, leadcycle.FieldError{Field: name, Message: "is not a cursor of this list"})
			}
			after = id
		default:
			errs = append(errs, leadcycle.FieldError{Field: name, Message: "is not a parameter of this list; use limit or cursor"})
		}
	}
	if len(errs) > 0 {
		writeError(w, r, &leadcycle.Error{Code: leadcycle.EInvalid, Message: errs[0].Field + ": " + errs[0].Message, Fields: errs})
		return
	}
	all, err := api.svc.List(r.Context())
	if err != nil {
		writeError(w, r, err)
		return
	}
	page := leadcycle.Page[linkedin.Connection]{Items: []linkedin.Connection{}}
	for _, c := range all {
		if c.ID <= after {
			continue
		}
		if len(page.Items) == limit {
			page.NextCursor = page.Items[limit-1].ID.String()
			break
		}
		page.Items = append(page.Items, c)
	}
	writeJSON(w, http.StatusOK, page)
}

func (api *linkedinAPI) get(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	c, err := api.svc.Get(r.Context(), id)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (api *linkedinAPI) delete(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if err := api.svc.Delete(r.Context(), id); err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (api *linkedinAPI) sync(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	// The sync goes on if the client goes away; it is bounded instead.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), linkedinSyncTimeout)
	defer cancel()
	run, err := api.svc.Sync(ctx, id, linkedin.TriggerAPI)
	if err != nil && run == nil {
		writeError(w, r, err)
		return
	}
	if err != nil {
		logger(r.Context()).Error("record LinkedIn sync", "error", err.Error())
	}
	writeJSON(w, http.StatusOK, run)
}

func (api *linkedinAPI) runs(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	limit := 20
	for _, name := range sortedKeys(r.URL.Query()) {
		v := r.URL.Query().Get(name)
		n, err := strconv.Atoi(v)
		if name != "limit" || err != nil || n < 1 || n > 200 {
			writeError(w, r, leadcycle.FieldErrorf(leadcycle.EInvalid, name, "the only parameter is limit, a whole number from 1 to 200"))
			return
		}
		limit = n
	}
	runs, err := api.svc.Runs(r.Context(), id, limit)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, leadcycle.Page[linkedin.SyncRun]{Items: runs})
}

// OpenAPI: the routes above, documented through operationDescribers.

func init() {
	operations = append(operations,
		operation{"GET", linkedinBase, "List LinkedIn Lead Gen Forms connections", "linkedin-list", linkedinCollection},
		operation{"POST", linkedinBase, "Create a LinkedIn connection (tokens are write-only)", "linkedin-create", linkedinCollection},
		operation{"GET", linkedinBase + "/{id}", "Get a LinkedIn connection", "linkedin-get", linkedinCollection},
		operation{"PATCH", linkedinBase + "/{id}", "Update a LinkedIn connection (JSON merge patch; send new tokens to reconnect)", "linkedin-update", linkedinCollection},
		operation{"DELETE", linkedinBase + "/{id}", "Delete a LinkedIn connection with its sync log", "linkedin-delete", linkedinCollection},
		operation{"POST", linkedinBase + "/{id}/sync", "Sync a LinkedIn connection now", "linkedin-sync", linkedinCollection},
		operation{"GET", linkedinBase + "/{id}/sync-runs", "The latest syncs of a LinkedIn connection, newest first", "linkedin-runs", linkedinCollection},
	)
	schemaTypes["LinkedInConnection"] = reflect.TypeFor[linkedin.Connection]()
	schemaTypes["LinkedInSyncRun"] = reflect.TypeFor[linkedin.SyncRun]()
	for _, kind := range []string{"linkedin-list", "linkedin-create", "linkedin-get", "linkedin-update", "linkedin-delete", "linkedin-sync", "linkedin-runs"} {
		operationDescribers[kind] = describeLinkedIn
	}
}

// linkedinWriteSchema is what create and update accept: the connection's
// writable fields and the write-only secrets.
func linkedinWriteSchema() obj {
	s := reflectSchema("LinkedInConnection", reflect.TypeFor[linkedin.Connection](), obj{})
	props := s["properties"].(obj)
	for _, f := range linkedin.ReadOnlyFields {
		delete(props, f)
	}
	for _, f := range linkedin.WriteOnlyFields {
		props[f] = obj{"type": []any{"string", "null"}, "writeOnly": true, "description": "Write-only: stored sealed, never returned; null removes it."}
	}
	props["sponsored_account"] = obj{"type": "string", "description": "urn:li:sponsoredAccount:<id>, or the id alone"}
	props["mapping"] = obj{"type": "object", "additionalProperties": obj{"type": "string"},
		"description": "LinkedIn question → leadcycle field. Keys: a predefined field (EMAIL, FIRST_NAME…), question:<id>, hidden:<name> or a question's name. " +
			"Values: contact.first_name, contact.last_name, contact.email, contact.phone, contact.job_title, lead.topic, lead.description, lead.campaign, " +
			"account.name, contact.custom.<name>, lead.custom.<name>, or \"\" to drop. Predefined fields map by default; unmapped questions are dropped."}
	return s
}

func describeLinkedIn(op operation, out obj) obj {
	out["tags"] = []string{"LinkedIn"}
	out["operationId"] = map[string]string{
		"linkedin-list": "listLinkedInConnections", "linkedin-create": "createLinkedInConnection", "linkedin-get": "getLinkedInConnection",
		"linkedin-update": "updateLinkedInConnection", "linkedin-delete": "deleteLinkedInConnection", "linkedin-sync": "syncLinkedInConnection",
		"linkedin-runs": "listLinkedInSyncRuns",
	}[op.Kind]
	responses := out["responses"].(obj)
	responses["401"] = problemResponse("No valid API key")
	responses["403"] = problemResponse("The key's role may not do this")
	responses["503"] = problemResponse("LinkedIn connections are not available on this server")
	idParam := obj{"name": "id", "in": "path", "required": true, "schema": obj{"type": "string", "pattern": "^[0-9]+$"}}
	page := func(schema string) obj {
		return jsonResponse("One page", obj{"type": "object", "required": []string{"items", "next_cursor"},
			"properties": obj{"items": obj{"type": "array", "items": ref(schema)}, "next_cursor": obj{"type": "string"}}})
	}
	switch op.Kind {
	case "linkedin-list":
		out["parameters"] = []obj{
			{"name": "limit", "in": "query", "schema": obj{"type": "integer", "minimum": 1, "maximum": leadcycle.MaxLimit, "default": leadcycle.DefaultLimit}},
			{"name": "cursor", "in": "query", "schema": obj{"type": "string"}, "description": "next_cursor of the previous page"},
		}
		responses["200"] = page("LinkedInConnection")
		responses["422"] = problemResponse("A parameter is not valid")
	case "linkedin-create", "linkedin-update":
		body := obj{"application/json": obj{"schema": linkedinWriteSchema()}}
		if op.Kind == "linkedin-update" {
			out["parameters"] = []obj{idParam}
			body["application/merge-patch+json"] = obj{"schema": linkedinWriteSchema()}
			responses["200"] = jsonResponse("The updated connection", ref("LinkedInConnection"))
			responses["404"] = problemResponse("No such connection")
		} else {
			responses["201"] = jsonResponse("Created", ref("LinkedInConnection"))
		}
		out["requestBody"] = obj{"required": true, "content": body}
		responses["400"] = problemResponse("Malformed JSON, an unknown or read-only field, or a value of the wrong type")
		responses["413"] = problemResponse("The body is too large")
		responses["422"] = problemResponse("A value breaks a rule (each field named)")
	case "linkedin-get":
		out["parameters"] = []obj{idParam}
		responses["200"] = jsonResponse("The connection", ref("LinkedInConnection"))
		responses["404"] = problemResponse("No such connection")
	case "linkedin-delete":
		out["parameters"] = []obj{idParam}
		responses["204"] = obj{"description": "Deleted"}
		responses["404"] = problemResponse("No such connection")
	case "linkedin-sync":
		out["parameters"] = []obj{idParam}
		responses["200"] = jsonResponse("The sync run, recorded; its status (succeeded or failed) and error say how it went", ref("LinkedInSyncRun"))
		responses["404"] = problemResponse("No such connection")
		responses["409"] = problemResponse("A sync of this connection is already running (here or on another node)")
	case "linkedin-runs":
		out["parameters"] = []obj{idParam, {"name": "limit", "in": "query", "schema": obj{"type": "integer", "minimum": 1, "maximum": 200, "default": 20}}}
		responses["200"] = page("LinkedInSyncRun")
		responses["404"] = problemResponse("No such connection")
	}
	return out
}
