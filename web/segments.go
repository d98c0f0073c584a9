package web

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"

	"github.com/leadcycle/leadcycle"
)

// Segments: the segments collection, its members (pages of contacts), a
// preview of a query while editing it, and the lists of static segments,
// changed with contact ids and emails in JSON or with a CSV file.

const (
	segments     = "segments"
	segmentsBase = "/api/v1/" + segments
	// maxSegmentCSV is the largest CSV of contacts a request may send.
	maxSegmentCSV = 16 << 20
	// previewSample is the default number of contacts a preview shows.
	previewSample = 20
)

func (s *Server) registerSegments() {
	register(s, resource[leadcycle.Segment]{name: segments, schema: "Segment", repo: s.store.Segments, readOnly: []string{"member_count"}})
	read := leadcycle.Perm(segments, leadcycle.ActionRead)
	write := leadcycle.Perm(segments, leadcycle.ActionWrite)
	s.handle("GET", segmentsBase+"/{id}/members", read, pageOf(s.store.SegmentMembers().Members))
	s.handle("POST", segmentsBase+"/{id}/members", write, s.changeSegmentMembers(true))
	s.handle("DELETE", segmentsBase+"/{id}/members", write, s.changeSegmentMembers(false))
	s.handle("POST", segmentsBase+"/preview", write, s.previewSegment)
}

// previewSegment evaluates {"query": …, "sample": n} now without saving it.
func (s *Server) previewSegment(w http.ResponseWriter, r *http.Request) {
	body, err := s.readObject(w, r)
	if err == nil {
		err = onlyFields(body, "a preview", "query", "sample")
	}
	var req struct {
		Query  string `json:"query"`
		Sample *int   `json:"sample"`
	}
	if err == nil {
		err = decodeFields(body, &req, "preview")
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	sample := previewSample
	if req.Sample != nil {
		if *req.Sample < 0 || *req.Sample > leadcycle.MaxLimit {
			writeError(w, r, leadcycle.FieldErrorf(leadcycle.EInvalid, "sample", "must be a whole number from 0 to %d", leadcycle.MaxLimit))
			return
		}
		sample = *req.Sample
	}
	p, err := s.store.SegmentMembers().Preview(r.Context(), req.Query, sample)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

// changeSegmentMembers adds contacts to a static segment or removes them:
// a JSON body {"contact_ids": [...], "emails": [...]}, or a CSV file (text/csv)
// with a column email, id or contact_id — or, without a header, one value a
// line, an email when it holds an @.
func (s *Server) changeSegmentMembers(add bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r)
		if err != nil {
			writeError(w, r, err)
			return
		}
		var ids []leadcycle.ID
		var emails []string
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if mt == "text/csv" {
			ids, emails, err = readContactsCSV(w, r)
		} else {
			ids, emails, err = s.readContactsJSON(w, r)
		}
		if err != nil {
			writeError(w, r, err)
			return
		}
		if len(ids)+len(emails) == 0 {
			writeError(w, r, leadcycle.FieldErrorf(leadcycle.EInvalid, "contact_ids", "give at least one contact id or email"))
			return
		}
		change := s.store.SegmentMembers().AddMembers
		if !add {
			change = s.store.SegmentMembers().RemoveMembers
		}
		out, err := change(r.Context(), id, ids, emails)
		if err != nil {
			writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, out)
	}
}

func (s *Server) readContactsJSON(w http.ResponseWriter, r *http.Request) ([]leadcycle.ID, []string, error) {
	body, err := s.readObject(w, r)
	if err == nil {
		err = onlyFields(body, "a list of contacts", "contact_ids", "emails")
	}
	var req struct {
		ContactIDs []leadcycle.ID `json:"contact_ids"`
		Emails     []string       `json:"emails"`
	}
	if err == nil {
		err = decodeFields(body, &req, "members")
	}
	if err != nil {
		return nil, nil, err
	}
	for i, e := range req.Emails {
		if !leadcycle.ValidEmail(leadcycle.NormalizeEmail(e)) {
			return nil, nil, leadcycle.FieldErrorf(leadcycle.EInvalid, fmt.Sprintf("emails[%d]", i), "is not a valid email address")
		}
	}
	return req.ContactIDs, req.Emails, nil
}

// readContactsCSV reads the contacts of a CSV body. Errors name the line:
// line 3 (the first line is 1).
func readContactsCSV(w http.ResponseWriter, r *http.Request) ([]leadcycle.ID, []string, error) {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxSegmentCSV))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, nil, leadcycle.Errorf(leadcycle.ETooLarge, "the CSV is larger than %d bytes", maxSegmentCSV)
	}
	if err != nil {
		return nil, nil, leadcycle.Errorf(leadcycle.EMalformed, "could not read the request body")
	}
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	rows, err := cr.ReadAll()
	if err != nil {
		return nil, nil, leadcycle.FieldErrorf(leadcycle.EInvalid, "file", "is not a valid CSV file: %v", err)
	}
	col, kind, first := 0, "", 0
	if len(rows) > 0 {
		for i, h := range rows[0] {
			switch strings.ToLower(strings.TrimSpace(h)) {
			case "email", "e-mail", "email_address":
				col, kind, first = i, "email", 1
			case "id", "contact_id":
				if kind == "" {
					col, kind, first = i, "id", 1
				}
			}
		}
		if kind == "" && len(rows[0]) > 1 {
			return nil, nil, leadcycle.FieldErrorf(leadcycle.EInvalid, "file", "has several columns and none is named email, id or contact_id")
		}
	}
	var ids []leadcycle.ID
	var emails []string
	for n, row := range rows[first:] {
		line := n + first + 1
		if col >= len(row) || strings.TrimSpace(row[col]) == "" {
			continue
		}
		v := strings.TrimSpace(row[col])
		k := kind
		if k == "" {
			k = "id"
			if strings.Contains(v, "@") {
				k = "email"
			}
		}
		if k == "email" {
			if !leadcycle.ValidEmail(leadcycle.NormalizeEmail(v)) {
				return nil, nil, leadcycle.FieldErrorf(leadcycle.EInvalid, fmt.Sprintf("file.line[%d]", line), "%q is not a valid email address", v)
			}
			emails = append(emails, v)
			continue
		}
		id, ok := leadcycle.ParseID(v)
		if !ok {
			return nil, nil, leadcycle.FieldErrorf(leadcycle.EInvalid, fmt.Sprintf("file.line[%d]", line), "%q is not a contact id", v)
		}
		ids = append(ids, id)
	}
	return ids, emails, nil
}

// OpenAPI: the routes above, documented through operationDescribers.

func init() {
	documentedCollections = append(documentedCollections, struct {
		Name, Schema, Tag string
		Update            bool
	}{segments, "Segment", "Segments", true})
	schemaTypes["Segment"] = reflect.TypeFor[leadcycle.Segment]()
	schemaTypes["SegmentMember"] = reflect.TypeFor[leadcycle.SegmentMember]()
	schemaTypes["SegmentPreview"] = reflect.TypeFor[leadcycle.SegmentPreview]()
	schemaTypes["MembersChange"] = reflect.TypeFor[leadcycle.MembersChange]()
	readOnlyFields["Segment.member_count"] = true
	enums["Segment.kind"] = leadcycle.SegmentKinds
	fieldDescriptions["Segment.key"] = "Names the segment in queries (in_segment(\"key\")); lower-case letters, digits, underscores and hyphens. Defaults to one made from the name; cannot change while another segment's query names it."
	fieldDescriptions["Segment.kind"] = "dynamic: the contacts the query holds for, kept up to date as data change; static: the contacts added to it. Cannot change."
	fieldDescriptions["Segment.query"] = segmentQueryDoc
	fieldDescriptions["SegmentMember.since"] = "When the contact entered the segment"
	operations = append(operations,
		operation{"GET", segmentsBase, "List segments, with their member counts", "list", segments},
		operation{"POST", segmentsBase, "Create a segment; a dynamic segment's query is checked and its members are built at once", "create", segments},
		operation{"GET", segmentsBase + "/{id}", "Get a segment", "get", segments},
		operation{"PATCH", segmentsBase + "/{id}", "Update a segment (JSON merge patch); a new query rebuilds the members, writing an event per contact that enters or leaves", "update", segments},
		operation{"DELETE", segmentsBase + "/{id}", "Delete a segment that no other segment's query names", "delete", segments},
		operation{"GET", segmentsBase + "/{id}/members", "The contacts of a segment, by contact id", "segment-members", segments},
		operation{"POST", segmentsBase + "/{id}/members", "Add contacts to a static segment, by id or email, in JSON or as a CSV file", "segment-add", segments},
		operation{"DELETE", segmentsBase + "/{id}/members", "Remove contacts from a static segment, by id or email, in JSON or as a CSV file", "segment-remove", segments},
		operation{"POST", segmentsBase + "/preview", "Evaluate a segment query now: how many contacts it holds and the first of them; nothing is saved", "segment-preview", segments},
	)
	for _, kind := range []string{"segment-members", "segment-add", "segment-remove", "segment-preview"} {
		operationDescribers[kind] = describeSegments
	}
}

const segmentQueryDoc = "For a dynamic segment: an expression of the scoring language over one contact, checked when saved. " +
	"The contact's fields bare or as contact.<field> (custom ones as custom.<name>); account.<field>; " +
	"any/all/none/count(leads, <predicate>) with the lead's fields (.status, .custom.<name>) and .score(\"model_key\"); " +
	"any/none/count(interactions, <predicate>[, 14d]) with .type, .occurred_at, .email_id, .form_id, .event_id, .url, .referrer, .lead_id and an optional window; " +
	"any/all/none/count(opportunities, <predicate>) with .status, .name, .estimated_value (0 when missing), .currency, .expected_close_date, .closed_at, .created_at, .lead_id, .owner_id and .custom.<name> " +
	"over the contact's opportunities: those whose contact_id is the contact and those whose lead's contact_id is the contact, each once; " +
	"in_segment(\"key\"); days_ago(n); date(\"2026-01-31\"). Operators: == != < <= > >= and or not in contains startsWith endsWith. " +
	"Example: account.industry == \"Retail\" and count(interactions, .type == \"email_opened\" and .email_id == \"x\", 14d) >= 2"

func describeSegments(op operation, out obj) obj {
	out["operationId"] = map[string]string{
		"segment-members": "listSegmentMembers", "segment-add": "addSegmentMembers",
		"segment-remove": "removeSegmentMembers", "segment-preview": "previewSegment",
	}[op.Kind]
	responses := out["responses"].(obj)
	responses["401"] = problemResponse("No valid API key")
	responses["403"] = problemResponse("The key's role may not do this")
	idParam := obj{"name": "id", "in": "path", "required": true, "schema": obj{"type": "string", "pattern": "^[0-9]+$"}}
	out["parameters"] = []obj{idParam}
	contacts := obj{"type": "object", "additionalProperties": false, "properties": obj{
		"contact_ids": obj{"type": "array", "items": obj{"type": "string", "pattern": "^[0-9]+$"}},
		"emails":      obj{"type": "array", "items": obj{"type": "string", "format": "email"}},
	}}
	switch op.Kind {
	case "segment-members":
		out["parameters"] = []obj{
			idParam,
			{"name": "limit", "in": "query", "schema": obj{"type": "integer", "minimum": 1, "maximum": leadcycle.MaxLimit, "default": leadcycle.DefaultLimit}},
			{"name": "cursor", "in": "query", "schema": obj{"type": "string"}, "description": "next_cursor of the previous page"},
		}
		responses["200"] = jsonResponse("One page", obj{"type": "object", "required": []string{"items", "next_cursor"},
			"properties": obj{"items": obj{"type": "array", "items": ref("SegmentMember")}, "next_cursor": obj{"type": "string", "description": "Pass as cursor for the next page; empty on the last page."}}})
		responses["404"] = problemResponse("No such segment")
		responses["422"] = problemResponse("A limit or cursor is not valid")
	case "segment-add", "segment-remove":
		out["description"] = "JSON: contact_ids and/or emails. CSV (Content-Type: text/csv, up to 16 MiB): a column named email, id or contact_id, " +
			"or one value a line without a header (an email when it holds an @). Every change writes a segment.entered or segment.exited event; " +
			"emails and ids that match no contact are listed in not_found."
		out["requestBody"] = obj{"required": true, "content": obj{"application/json": obj{"schema": contacts}, "text/csv": obj{"schema": obj{"type": "string"}}}}
		responses["200"] = jsonResponse("What changed", ref("MembersChange"))
		responses["400"] = problemResponse("Malformed JSON or an unknown field")
		responses["404"] = problemResponse("No such segment")
		responses["409"] = problemResponse("The segment is dynamic: its query decides its members")
		responses["413"] = problemResponse("The body is too large")
		responses["422"] = problemResponse("No contacts, or a value that is not an email or id (emails[2], file.line[3])")
	case "segment-preview":
		delete(out, "parameters")
		out["requestBody"] = obj{"required": true, "content": obj{"application/json": obj{"schema": obj{
			"type": "object", "additionalProperties": false, "required": []string{"query"},
			"properties": obj{"query": obj{"type": "string", "description": segmentQueryDoc},
				"sample": obj{"type": "integer", "minimum": 0, "maximum": leadcycle.MaxLimit, "default": previewSample, "description": "How many contacts to show"}},
		}}}}
		responses["200"] = jsonResponse("The count and the first contacts (by id)", ref("SegmentPreview"))
		responses["400"] = problemResponse("Malformed JSON or an unknown field")
		responses["422"] = problemResponse("The query is not valid (named query, with the problem and its line:column)")
	}
	return out
}
