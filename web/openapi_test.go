package web_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/web"
)

// TestOpenAPIDescribesEveryRoute fails when a route is registered without
// documentation or documented without a route, and when a record's JSON has
// fields its schema does not describe (or the reverse).
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	ts := newTestServer(t)
	r := ts.do(t, "GET", "/api/openapi.json", "", nil)
	if r.status != 200 {
		t.Fatalf("openapi.json: %d", r.status)
	}
	doc := r.json(t)
	if doc["openapi"] != "3.1.0" {
		t.Fatalf("openapi = %v", doc["openapi"])
	}
	paths := doc["paths"].(map[string]any)
	documented := map[string]bool{}
	for p, item := range paths {
		for m, op := range item.(map[string]any) {
			documented[strings.ToUpper(m)+" "+p] = true
			o := op.(map[string]any)
			if o["summary"] == "" || o["responses"] == nil || o["operationId"] == "" {
				t.Errorf("%s %s: incomplete operation", m, p)
			}
		}
	}
	registered := map[string]bool{}
	for _, rt := range ts.web.Routes() {
		key := rt.Method + " " + rt.Path
		registered[key] = true
		if !documented[key] {
			t.Errorf("route %s is not in /api/openapi.json", key)
		}
	}
	for key := range documented {
		if !registered[key] {
			t.Errorf("/api/openapi.json documents %s, which is not a route", key)
		}
	}

	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	acc := ts.mustCreate(t, "accounts", map[string]any{"name": "Acme"})
	contact := ts.mustCreate(t, "contacts", map[string]any{"email": "a@acme.com", "account_id": acc})
	lead := ts.mustCreate(t, "leads", map[string]any{"topic": "t", "contact_id": contact})
	records := map[string]string{
		"Account":     "/api/v1/accounts/" + acc,
		"Contact":     "/api/v1/contacts/" + contact,
		"Lead":        "/api/v1/leads/" + lead,
		"Opportunity": "/api/v1/opportunities/" + ts.mustCreate(t, "opportunities", map[string]any{"name": "o", "lead_id": lead}),
		"Interaction": "/api/v1/interactions/" + ts.mustCreate(t, "interactions", map[string]any{"type": "page_view", "contact_id": contact}),
		"Task":        "/api/v1/tasks/" + ts.mustCreate(t, "tasks", map[string]any{"title": "Call", "queue": "telesales"}),
		"Field":       "/api/v1/fields/" + ts.mustCreate(t, "fields", map[string]any{"entity": "lead", "name": "budget", "type": "number"}),
	}
	records["Process"] = "/api/v1/processes/" + firstID(t, ts, "/api/v1/processes")
	records["User"] = "/api/v1/users/" + ts.mustCreate(t, "users", map[string]any{"name": "Ana", "email": "ana@example.gal", "role": "sales"})

	// A webhook: the server refuses hosts that do not resolve to public
	// addresses, and names need not resolve where the tests run, so it is
	// created through a server over the same store that allows the host.
	allowing := web.NewServer(ts.store, web.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), WebhookAllowHosts: []string{"hooks.example.com"}})
	viaAllowing := &testServer{Server: httptest.NewServer(allowing), store: ts.store, web: allowing, keys: ts.keys}
	t.Cleanup(viaAllowing.Close)
	created := viaAllowing.do(t, "POST", "/api/v1/webhooks", leadcycle.RoleAdmin, map[string]any{"name": "CRM", "url": "https://hooks.example.com/lc", "events": []string{"lead.created"}})
	if created.status != 201 {
		t.Fatalf("create webhook: %d %s", created.status, created.body)
	}
	hook := created.json(t)
	if s, _ := hook["secret"].(string); !strings.HasPrefix(s, "whsec_") {
		t.Errorf("the created webhook has no secret: %s", created.body)
	}
	conforms(t, schemas, "Webhook", hook, "POST /api/v1/webhooks")
	hookID := hook["id"].(string)
	records["Webhook"] = "/api/v1/webhooks/" + hookID
	rotated := ts.do(t, "POST", "/api/v1/webhooks/"+hookID+"/rotate-secret", leadcycle.RoleAdmin, nil)
	if rotated.status != 200 {
		t.Fatalf("rotate-secret: %d %s", rotated.status, rotated.body)
	}
	conforms(t, schemas, "Webhook", rotated.json(t), "POST /api/v1/webhooks/{id}/rotate-secret")

	// A lead created now is delivered to the webhook once the outbox is
	// fanned out.
	ts.mustCreate(t, "leads", map[string]any{"topic": "delivered", "contact_id": contact})
	if _, err := ts.store.WebhookDeliveries().FanOut(context.Background(), 100); err != nil {
		t.Fatal(err)
	}
	lists := map[string]string{
		"WebhookDelivery": "/api/v1/webhooks/" + hookID + "/deliveries",
		"TimelineEntry":   "/api/v1/leads/" + lead + "/timeline",
		"Occurrence":      "/api/v1/event-log",
		"Queue":           "/api/v1/queues",
		"Webhook":         "/api/v1/webhooks",
	}
	for name, path := range lists {
		r := ts.do(t, "GET", path, leadcycle.RoleAdmin, nil)
		if r.status != 200 {
			t.Fatalf("GET %s: %d %s", path, r.status, r.body)
		}
		items, _ := r.json(t)["items"].([]any)
		if len(items) == 0 {
			t.Fatalf("GET %s: no items to compare with schema %s", path, name)
		}
		conforms(t, schemas, name, items[0], "GET "+path, writeOnce[name]...)
	}

	qualified := ts.do(t, "POST", "/api/v1/leads/"+ts.mustCreate(t, "leads", map[string]any{"topic": "q", "contact_id": contact})+"/qualify", leadcycle.RoleAdmin, map[string]any{})
	if qualified.status != 201 {
		t.Fatalf("qualify: %d %s", qualified.status, qualified.body)
	}
	conforms(t, schemas, "QualifyResult", qualified.json(t), "POST /api/v1/leads/{id}/qualify")

	for name, path := range records {
		conforms(t, schemas, name, ts.do(t, "GET", path, leadcycle.RoleAdmin, nil).json(t), "GET "+path, writeOnce[name]...)
	}
}

// writeOnce are the properties a schema describes that are returned only
// when they are made (a webhook's secret: on create and rotate-secret).
var writeOnce = map[string][]string{"Webhook": {"secret"}}

// firstID returns the id of the first record of a list.
func firstID(t *testing.T, ts *testServer, path string) string {
	t.Helper()
	r := ts.do(t, "GET", path, leadcycle.RoleAdmin, nil)
	items, _ := r.json(t)["items"].([]any)
	if r.status != 200 || len(items) == 0 {
		t.Fatalf("GET %s: %d %s", path, r.status, r.body)
	}
	return items[0].(map[string]any)["id"].(string)
}

// conforms checks that v, an answer of what, has exactly the properties of
// the named schema but the omitted ones, and the same of every object in it
// that a schema with properties describes (stages of a process, the lead of
// a qualify result…).
func conforms(t *testing.T, schemas map[string]any, name string, v any, what string, omitted ...string) {
	t.Helper()
	schema, ok := schemas[name].(map[string]any)
	if !ok {
		t.Errorf("%s: no schema %s", what, name)
		return
	}
	conformsTo(t, schemas, schema, v, what, name, omitted)
}

func conformsTo(t *testing.T, schemas, schema map[string]any, v any, what, at string, omitted []string) {
	t.Helper()
	if r, ok := schema["$ref"].(string); ok {
		name := strings.TrimPrefix(r, "#/components/schemas/")
		if schema, ok = schemas[name].(map[string]any); !ok {
			t.Errorf("%s: %s refers to %s, which is not a schema", what, at, r)
			return
		}
	}
	switch v := v.(type) {
	case map[string]any:
		props, ok := schema["properties"].(map[string]any)
		if !ok {
			return // a free-form object (custom fields, a payload)
		}
		want := []string{}
		for _, k := range keys(props) {
			if !slices.Contains(omitted, k) {
				want = append(want, k)
			}
		}
		if got := keys(v); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s: schema of %s has properties %v; the API returns %v", what, at, want, got)
		}
		for k, pv := range v {
			if ps, ok := props[k].(map[string]any); ok {
				conformsTo(t, schemas, ps, pv, what, at+"."+k, nil)
			}
		}
	case []any:
		if items, ok := schema["items"].(map[string]any); ok {
			for i, e := range v {
				conformsTo(t, schemas, items, e, what, fmt.Sprintf("%s[%d]", at, i), nil)
			}
		}
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
