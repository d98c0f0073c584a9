package web

import (
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/leadcycle/leadcycle"
)

// operation documents one route. The table below is written by hand on
// purpose: a test compares it with the registered routes, so a route added
// without documentation (or documentation without a route) fails the build.
type operation struct {
	Method, Path, Summary string
	Kind                  string // list, create, get, update, delete, or a fixed kind
	Collection            string
}

// operationDescribers describe kinds of operations defined outside this file
// (registered from an init of the file that serves them).
var operationDescribers = map[string]func(op operation, out obj) obj{}

var operations = []operation{
	{"GET", "/healthz", "Health check: the process and its database answer", "health", ""},
	{"GET", "/metrics", "Prometheus metrics", "metrics", ""},
	{"GET", "/api/openapi.json", "This OpenAPI document", "openapi", ""},
	{"GET", "/api/v1/forms/{id}/submissions", "The latest raw submissions of a form", "custom", "forms"},
	{"GET", "/api/v1/forms/{id}/embed", "The HTML snippet that embeds a form in any website", "custom", "forms"},
	{"GET", "/api/v1/events/{id}/registrations", "Registrations of an event", "custom", "events"},
	{"POST", "/api/v1/events/{id}/registrations", "Register an existing contact for an event", "custom", "events"},
	{"DELETE", "/api/v1/events/{id}/registrations/{contact_id}", "Cancel a registration; the first waitlisted contact takes the place", "custom", "events"},
	{"POST", "/api/v1/events/{id}/check-ins", "Check a registered contact in (records event_attended)", "custom", "events"},
	{"GET", "/f/{id}", "Hosted page of a form (public)", "public", "forms"},
	{"POST", "/f/{id}", "Submit a form (public; urlencoded or JSON; Idempotency-Key honoured; rate limited)", "public", "forms"},
	{"GET", "/f/{id}/embed.js", "Embed script of a form (public)", "public", "forms"},
	{"POST", "/e/{id}/register", "Register for an event (public; rate limited)", "public", "events"},
}

// collections documented with their schema names and whether records can be
// updated.
var documentedCollections = []struct {
	Name, Schema, Tag string
	Update            bool
}{
	{"contacts", "Contact", "Contacts", true},
	{"accounts", "Account", "Accounts", true},
	{"leads", "Lead", "Leads", true},
	{"opportunities", "Opportunity", "Opportunities", true},
	{"interactions", "Interaction", "Interactions", false},
	{"tasks", "Task", "Tasks", true},
	{"fields", "Field", "Custom fields", true},
	{"matching-strategies", "MatchingStrategy", "Matching strategies", true},
	{"forms", "Form", "Forms", true},
	{"events", "Event", "Events", true},
}

func init() {
	for _, c := range documentedCollections {
		base := "/api/v1/" + c.Name
		operations = append(operations,
			operation{"GET", base, "List " + c.Name, "list", c.Name},
			operation{"POST", base, "Create a " + strings.TrimSuffix(c.Name, "s"), "create", c.Name},
			operation{"GET", base + "/{id}", "Get a " + strings.TrimSuffix(c.Name, "s"), "get", c.Name},
		)
		if c.Update {
			operations = append(operations, operation{"PATCH", base + "/{id}", "Update a " + strings.TrimSuffix(c.Name, "s") + " (JSON merge patch)", "update", c.Name})
		}
		operations = append(operations, operation{"DELETE", base + "/{id}", "Delete a " + strings.TrimSuffix(c.Name, "s"), "delete", c.Name})
	}
}

// schemaTypes are the record types described under components/schemas.
var schemaTypes = map[string]reflect.Type{
	"Contact":     reflect.TypeFor[leadcycle.Contact](),
	"Account":     reflect.TypeFor[leadcycle.Account](),
	"Lead":        reflect.TypeFor[leadcycle.Lead](),
	"Opportunity": reflect.TypeFor[leadcycle.Opportunity](),
	"Interaction": reflect.TypeFor[leadcycle.Interaction](),
	"Task":        reflect.TypeFor[leadcycle.Task](),
	"Field":       reflect.TypeFor[leadcycle.FieldDef](),

	"MatchingStrategy": reflect.TypeFor[leadcycle.MatchingStrategy](),
	"Form":             reflect.TypeFor[leadcycle.Form](),
	"Event":            reflect.TypeFor[leadcycle.Event](),
}

// enums lists the allowed values of fields, by schema and JSON name.
var enums = map[string][]string{
	"Contact.origin":           leadcycle.Sources,
	"Consent.commercial_email": leadcycle.ConsentStates,
	"Consent.tracking":         leadcycle.ConsentStates,
	"Lead.status":              leadcycle.LeadStatuses,
	"Lead.source":              leadcycle.Sources,
	"Lead.purchase_timeframe":  leadcycle.PurchaseTimeframes,
	"Lead.purchase_process":    leadcycle.PurchaseProcesses,
	"Lead.need":                leadcycle.Needs,
	"Opportunity.status":       leadcycle.OpportunityStatuses,
	"Task.status":              leadcycle.TaskStatuses,
	"Task.kind":                leadcycle.TaskKinds,
	"Task.queue":               leadcycle.TaskQueues,
	"Field.type":               leadcycle.FieldTypes,
	"Field.entity":             leadcycle.CustomEntities,
}

// fieldDescriptions describe fields, by schema and JSON name.
var fieldDescriptions = map[string]string{}

// readOnlyFields are the fields clients may not set, by JSON name in every
// schema or by schema and JSON name ("ScoringModel.status").
var readOnlyFields = map[string]bool{"id": true, "created_at": true, "updated_at": true, "scores": true, "closed_at": true, "completed_at": true}

type obj = map[string]any

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.openAPIDoc())
}

func buildOpenAPI() obj {
	paths := obj{}
	for _, op := range operations {
		item, _ := paths[op.Path].(obj)
		if item == nil {
			item = obj{}
			paths[op.Path] = item
		}
		item[strings.ToLower(op.Method)] = describeOperation(op)
	}
	schemas := obj{
		"Problem": obj{
			"type": "object", "required": []string{"status", "title", "detail"},
			"properties": obj{
				"type": obj{"type": "string"}, "title": obj{"type": "string"}, "status": obj{"type": "integer"},
				"detail": obj{"type": "string"}, "request_id": obj{"type": "string"},
				"errors": obj{"type": "array", "items": obj{
					"type": "object", "required": []string{"field", "message"},
					"properties": obj{"field": obj{"type": "string"}, "message": obj{"type": "string"}},
				}},
			},
		},
	}
	for name, t := range schemaTypes {
		schemas[name] = reflectSchema(name, t, schemas)
	}
	return obj{
		"openapi": "3.1.0",
		"info": obj{
			"title":       "leadcycle API",
			"version":     "1",
			"description": "Contacts, accounts, leads, opportunities, interactions and tasks of the leadcycle lead lifecycle engine. Ids are strings, times RFC 3339, errors application/problem+json.",
		},
		"servers":    []obj{{"url": "/"}},
		"security":   []obj{{"bearer": []string{}}},
		"paths":      paths,
		"components": obj{"schemas": schemas, "securitySchemes": obj{"bearer": obj{"type": "http", "scheme": "bearer", "description": "An API key from `leadcycle apikey create` or POST /api/v1/api-keys."}}},
	}
}

// idParameter is the {id} path parameter of a record.
func idParameter() obj {
	return obj{"name": "id", "in": "path", "required": true, "schema": obj{"type": "string", "pattern": "^[0-9]+$"}}
}

// pageParameters are the limit and cursor of a paged list.
func pageParameters() []obj {
	return []obj{
		{"name": "limit", "in": "query", "schema": obj{"type": "integer", "minimum": 1, "maximum": leadcycle.MaxLimit, "default": leadcycle.DefaultLimit}},
		{"name": "cursor", "in": "query", "schema": obj{"type": "string"}, "description": "next_cursor of the previous page"},
	}
}

// pageResponse is the answer of a paged list of schema.
func pageResponse(schema string) obj {
	return jsonResponse("One page", obj{"type": "object", "required": []string{"items", "next_cursor"},
		"properties": obj{"items": obj{"type": "array", "items": ref(schema)}, "next_cursor": obj{"type": "string", "description": "Pass as cursor for the next page; empty on the last page."}}})
}

func ref(name string) obj { return obj{"$ref": "#/components/schemas/" + name} }

func problemResponse(desc string) obj {
	return obj{"description": desc, "content": obj{"application/problem+json": obj{"schema": ref("Problem")}}}
}

func jsonResponse(desc string, schema obj) obj {
	return obj{"description": desc, "content": obj{"application/json": obj{"schema": schema}}}
}

func schemaOf(collection string) string {
	for _, c := range documentedCollections {
		if c.Name == collection {
			return c.Schema
		}
	}
	return ""
}

func tagOf(collection string) string {
	for _, c := range documentedCollections {
		if c.Name == collection {
			return c.Tag
		}
	}
	return "System"
}

func describeOperation(op operation) obj {
	out := obj{"summary": op.Summary, "operationId": operationID(op), "tags": []string{tagOf(op.Collection)}}
	responses := obj{}
	out["responses"] = responses
	if describe := operationDescribers[op.Kind]; describe != nil {
		return describe(op, out)
	}
	switch op.Kind {
	case "health":
		out["security"] = []obj{}
		responses["200"] = jsonResponse("Healthy", obj{"type": "object"})
		responses["503"] = jsonResponse("The database does not answer", obj{"type": "object"})
		return out
	case "metrics":
		out["security"] = []obj{}
		responses["200"] = obj{"description": "Metrics in the Prometheus text format", "content": obj{"text/plain": obj{"schema": obj{"type": "string"}}}}
		return out
	case "openapi":
		out["security"] = []obj{}
		responses["200"] = jsonResponse("The OpenAPI 3.1 document", obj{"type": "object"})
		return out
	case "public":
		out["security"] = []obj{}
		out["parameters"] = pathParameters(op.Path)
		responses["200"] = obj{"description": "Accepted and processed (HTML for browsers, JSON when asked)"}
		responses["202"] = obj{"description": "Accepted; it will be processed shortly"}
		responses["404"] = problemResponse("No such form or event, or it is closed")
		responses["422"] = problemResponse("Per-field errors")
		responses["429"] = problemResponse("Too many requests from this address")
		return out
	case "custom":
		out["parameters"] = pathParameters(op.Path)
		responses["200"] = jsonResponse("OK", obj{"type": "object"})
		responses["401"] = problemResponse("No valid API key")
		responses["403"] = problemResponse("The key's role may not do this")
		responses["404"] = problemResponse("No such record")
		return out
	}
	schema := schemaOf(op.Collection)
	idParam := idParameter()
	responses["401"] = problemResponse("No valid API key")
	responses["403"] = problemResponse("The key's role may not do this")
	switch op.Kind {
	case "list":
		out["parameters"] = listParameters(op.Collection)
		responses["200"] = jsonResponse("One page", obj{
			"type": "object", "required": []string{"items", "next_cursor"},
			"properties": obj{"items": obj{"type": "array", "items": ref(schema)}, "next_cursor": obj{"type": "string", "description": "Pass as cursor for the next page; empty on the last page."}},
		})
		responses["422"] = problemResponse("A filter, sort, limit or cursor is not valid")
	case "create":
		out["requestBody"] = obj{"required": true, "content": obj{"application/json": obj{"schema": ref(schema)}}}
		responses["201"] = jsonResponse("Created", ref(schema))
		responses["400"] = problemResponse("Malformed JSON, an unknown or read-only field, or a value of the wrong type")
		responses["413"] = problemResponse("The body is too large")
		responses["422"] = problemResponse("A value breaks a rule, or a reference points at a missing record")
	case "get":
		out["parameters"] = []obj{idParam}
		responses["200"] = jsonResponse("The record", ref(schema))
		responses["404"] = problemResponse("No such record")
	case "update":
		out["parameters"] = []obj{idParam}
		out["requestBody"] = obj{"required": true, "content": obj{"application/merge-patch+json": obj{"schema": ref(schema)}, "application/json": obj{"schema": ref(schema)}}}
		responses["200"] = jsonResponse("The updated record", ref(schema))
		responses["400"] = problemResponse("Malformed JSON, an unknown or read-only field, or a value of the wrong type")
		responses["404"] = problemResponse("No such record")
		responses["422"] = problemResponse("A value breaks a rule, or a reference points at a missing record")
	case "delete":
		out["parameters"] = []obj{idParam}
		responses["204"] = obj{"description": "Deleted"}
		responses["404"] = problemResponse("No such record")
	}
	return out
}

func operationID(op operation) string {
	if op.Kind == "custom" || op.Kind == "public" {
		id := strings.ToLower(op.Method)
		for _, part := range strings.FieldsFunc(op.Path, func(r rune) bool { return r == '/' || r == '-' || r == '.' || r == '{' || r == '}' || r == '_' }) {
			id += strings.ToUpper(part[:1]) + part[1:]
		}
		return id
	}
	if op.Collection == "" {
		return op.Kind
	}
	id := op.Kind
	for _, part := range strings.Split(op.Collection, "-") {
		id += strings.ToUpper(part[:1]) + part[1:]
	}
	return id
}

// pathParameters describes the {name} segments of a path.
func pathParameters(path string) []obj {
	var out []obj
	for _, seg := range strings.Split(path, "/") {
		if name, ok := strings.CutPrefix(seg, "{"); ok {
			out = append(out, obj{"name": strings.TrimSuffix(name, "}"), "in": "path", "required": true, "schema": obj{"type": "string"}})
		}
	}
	return out
}

func listParameters(collection string) []obj {
	spec := leadcycle.ListSpecs[collection]
	sorts := []string{}
	for _, s := range spec.Sorts {
		sorts = append(sorts, s, "-"+s)
	}
	params := []obj{
		{"name": "limit", "in": "query", "schema": obj{"type": "integer", "minimum": 1, "maximum": leadcycle.MaxLimit, "default": leadcycle.DefaultLimit}},
		{"name": "cursor", "in": "query", "schema": obj{"type": "string"}, "description": "next_cursor of the previous page"},
		{"name": "sort", "in": "query", "schema": obj{"type": "string", "enum": sorts, "default": spec.Sorts[0]}},
	}
	for _, f := range spec.Filters {
		s := obj{"type": "string"}
		switch f.Kind {
		case leadcycle.KindBool:
			s = obj{"type": "boolean"}
		case leadcycle.KindTime:
			s = obj{"type": "string", "format": "date-time"}
		case leadcycle.KindID:
			s = obj{"type": "string", "pattern": "^[0-9]+$"}
		}
		if len(f.Allowed) > 0 {
			s["enum"] = f.Allowed
		}
		params = append(params, obj{"name": f.Param, "in": "query", "schema": s, "description": f.Doc})
	}
	return params
}

var (
	idType   = reflect.TypeFor[leadcycle.ID]()
	timeType = reflect.TypeFor[time.Time]()
)

// reflectSchema describes a struct from its JSON tags; nested structs become
// their own component schemas.
func reflectSchema(name string, t reflect.Type, schemas obj) obj {
	props := obj{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := strings.Split(f.Tag.Get("json"), ",")[0]
		if f.Anonymous && tag == "" && f.Type.Kind() == reflect.Struct {
			// An embedded struct's fields are the record's own in JSON.
			for k, v := range reflectSchema(name, f.Type, schemas)["properties"].(obj) {
				props[k] = v
			}
			continue
		}
		if tag == "" || tag == "-" {
			continue
		}
		p := typeSchema(f.Type, schemas)
		if e, ok := enums[name+"."+tag]; ok {
			if items, ok := p["items"].(obj); ok && p["type"] == "array" {
				items["enum"] = e // the allowed values of each item
			} else {
				p["enum"] = e
			}
		}
		if d, ok := fieldDescriptions[name+"."+tag]; ok {
			p["description"] = d
		}
		if readOnlyFields[tag] || readOnlyFields[name+"."+tag] {
			p["readOnly"] = true
		}
		props[tag] = p
	}
	return obj{"type": "object", "properties": props, "additionalProperties": false}
}

func typeSchema(t reflect.Type, schemas obj) obj {
	nullable := false
	if t.Kind() == reflect.Pointer {
		nullable = true
		t = t.Elem()
	}
	var s obj
	switch {
	case t == idType:
		s = obj{"type": "string", "pattern": "^[0-9]+$"}
	case t == timeType:
		s = obj{"type": "string", "format": "date-time"}
	case t.Kind() == reflect.String:
		s = obj{"type": "string"}
	case t.Kind() == reflect.Bool:
		s = obj{"type": "boolean"}
	case t.Kind() == reflect.Int64 || t.Kind() == reflect.Int:
		s = obj{"type": "integer"}
	case t.Kind() == reflect.Float64:
		s = obj{"type": "number"}
	case t.Kind() == reflect.Map:
		s = obj{"type": "object"}
	case t.Kind() == reflect.Slice:
		s = obj{"type": "array", "items": typeSchema(t.Elem(), schemas)}
	case t.Kind() == reflect.Struct:
		if _, ok := schemas[t.Name()]; !ok {
			schemas[t.Name()] = reflectSchema(t.Name(), t, schemas)
		}
		return ref(t.Name())
	default:
		s = obj{}
	}
	if nullable {
		s["type"] = []any{s["type"], "null"}
	}
	return s
}
