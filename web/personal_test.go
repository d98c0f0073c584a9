package web_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/store/sqlite"
	"github.com/leadcycle/leadcycle/web"
)

// TestPersonalDataThroughTheAPI exports a contact, erases it and reads the
// audit log, and compares every answer with its OpenAPI schema.
func TestPersonalDataThroughTheAPI(t *testing.T) {
	ts := newTestServer(t)
	schemas := ts.do(t, "GET", "/api/openapi.json", "", nil).json(t)["components"].(map[string]any)["schemas"].(map[string]any)
	acc := ts.mustCreate(t, "accounts", map[string]any{"name": "Conservas Rías"})
	contact := ts.mustCreate(t, "contacts", map[string]any{"first_name": "Uxía", "last_name": "Castro", "email": "uxia@riasbaixas.gal", "account_id": acc})
	lead := ts.mustCreate(t, "leads", map[string]any{"topic": "Canning line", "contact_id": contact})
	ts.mustCreate(t, "interactions", map[string]any{"type": "page_view", "contact_id": contact, "lead_id": lead, "properties": map[string]any{"url": "https://riasbaixas.gal/"}})
	ts.mustCreate(t, "opportunities", map[string]any{"name": "Line", "lead_id": lead, "contact_id": contact})
	base := "/api/v1/contacts/" + contact

	r := ts.do(t, "GET", base+"/personal-data", leadcycle.RoleMarketer, nil)
	if r.status != 200 || r.header.Get("Content-Type") != "application/json" || !strings.Contains(r.header.Get("Content-Disposition"), "contact-"+contact+"-personal-data.json") {
		t.Fatalf("export: %d %v %s", r.status, r.header, r.body)
	}
	doc := r.json(t)
	conforms(t, schemas, "PersonalDataExport", doc, "GET "+base+"/personal-data")
	if doc["contact"].(map[string]any)["email"] != "uxia@riasbaixas.gal" || len(doc["leads"].([]any)) != 1 || len(doc["interactions"].([]any)) != 1 {
		t.Errorf("export: %s", r.body)
	}
	problem(t, ts.do(t, "GET", "/api/v1/contacts/999999/personal-data", leadcycle.RoleAdmin, nil), 404, "")

	problem(t, ts.do(t, "POST", base+"/erase", leadcycle.RoleAdmin, nil), 422, "reason")
	problem(t, ts.do(t, "POST", base+"/erase", leadcycle.RoleAdmin, map[string]any{"reason": " "}), 422, "reason")
	problem(t, ts.do(t, "POST", base+"/erase", leadcycle.RoleAdmin, map[string]any{"reason": strings.Repeat("x", 1001)}), 422, "reason")
	problem(t, ts.do(t, "POST", base+"/erase", leadcycle.RoleAdmin, map[string]any{"reason": "asked by uxia@riasbaixas.gal"}), 422, "reason")
	problem(t, ts.do(t, "POST", base+"/erase", leadcycle.RoleAdmin, map[string]any{"reason": 12}), 400, "reason")
	problem(t, ts.do(t, "POST", base+"/erase", leadcycle.RoleAdmin, map[string]any{"reason": "x", "force": true}), 400, "force")
	problem(t, ts.do(t, "POST", "/api/v1/contacts/999999/erase", leadcycle.RoleAdmin, map[string]any{"reason": "request 12"}), 404, "")
	if got := ts.do(t, "GET", base, leadcycle.RoleAdmin, nil); got.status != 200 {
		t.Fatalf("the contact went after refused erasures: %d", got.status)
	}

	r = ts.do(t, "POST", base+"/erase", leadcycle.RoleAdmin, map[string]any{"reason": "Art. 17 request, ticket 12"})
	if r.status != 200 {
		t.Fatalf("erase: %d %s", r.status, r.body)
	}
	rep := r.json(t)
	conforms(t, schemas, "ErasureReport", rep, "POST "+base+"/erase")
	if d := rep["deleted"].(map[string]any); d["contacts"] != 1.0 || d["leads"] != 1.0 || d["interactions"] != 1.0 || rep["unlinked"].(map[string]any)["opportunities"] != 1.0 {
		t.Errorf("erasure report: %s", r.body)
	}
	problem(t, ts.do(t, "GET", base, leadcycle.RoleAdmin, nil), 404, "")
	problem(t, ts.do(t, "POST", base+"/erase", leadcycle.RoleAdmin, map[string]any{"reason": "again"}), 404, "")
	problem(t, ts.do(t, "GET", base+"/personal-data", leadcycle.RoleAdmin, nil), 404, "")

	checkAuditLog(t, ts, schemas, contact)
}

// checkAuditLog reads the audit log of one export and one erasure of the
// contact, a page at a time and filtered.
func checkAuditLog(t *testing.T, ts *testServer, schemas map[string]any, contact string) {
	t.Helper()
	r := ts.do(t, "GET", "/api/v1/audit-log?limit=1", leadcycle.RoleAdmin, nil)
	page := r.json(t)
	items := page["items"].([]any)
	if r.status != 200 || len(items) != 1 || page["next_cursor"] == "" {
		t.Fatalf("audit log: %d %s", r.status, r.body)
	}
	conforms(t, schemas, "AuditEntry", items[0], "GET /api/v1/audit-log")
	first := items[0].(map[string]any)
	if first["action"] != leadcycle.AuditContactErased || first["subject_id"] != contact || !strings.Contains(first["actor"].(string), "admin") {
		t.Errorf("newest audit entry: %v", first)
	}
	if reason := first["detail"].(map[string]any)["reason"]; reason != "Art. 17 request, ticket 12" {
		t.Errorf("audit reason: %v", reason)
	}
	r = ts.do(t, "GET", "/api/v1/audit-log?limit=1&cursor="+page["next_cursor"].(string), leadcycle.RoleAdmin, nil)
	if items := r.json(t)["items"].([]any); len(items) != 1 || items[0].(map[string]any)["action"] != leadcycle.AuditPersonalDataExported {
		t.Errorf("second page: %s", r.body)
	}
	r = ts.do(t, "GET", "/api/v1/audit-log?action=personal_data.exported&subject_id="+contact, leadcycle.RoleAdmin, nil)
	var filtered leadcycle.Page[leadcycle.AuditEntry]
	if err := json.Unmarshal(r.body, &filtered); err != nil || len(filtered.Items) != 1 || !strings.Contains(filtered.Items[0].Actor, "marketer") {
		t.Errorf("filtered audit log: %s (%v)", r.body, err)
	}
	problem(t, ts.do(t, "GET", "/api/v1/audit-log?action=deleted", leadcycle.RoleAdmin, nil), 422, "action")
	problem(t, ts.do(t, "GET", "/api/v1/audit-log?subject_id=x", leadcycle.RoleAdmin, nil), 422, "subject_id")
	problem(t, ts.do(t, "GET", "/api/v1/audit-log?actor=me", leadcycle.RoleAdmin, nil), 422, "actor")
	problem(t, ts.do(t, "GET", "/api/v1/audit-log?cursor=nonsense", leadcycle.RoleAdmin, nil), 422, "cursor")
}

// TestPersonalDataRoles checks who may export, erase and read the audit
// log: a wrong role gets 403 and changes nothing.
func TestPersonalDataRoles(t *testing.T) {
	ts := newTestServer(t)
	contact := ts.mustCreate(t, "contacts", map[string]any{"email": "brais@example.gal"})
	base := "/api/v1/contacts/" + contact
	for _, role := range leadcycle.Roles[1:] {
		export := ts.do(t, "GET", base+"/personal-data", role, nil)
		if role == leadcycle.RoleMarketer && export.status != http.StatusOK {
			t.Errorf("marketer export: %d %s", export.status, export.body)
		} else if role != leadcycle.RoleMarketer {
			problem(t, export, 403, "")
		}
		problem(t, ts.do(t, "POST", base+"/erase", role, map[string]any{"reason": "request"}), 403, "")
		problem(t, ts.do(t, "GET", "/api/v1/audit-log", role, nil), 403, "")
	}
	if r := ts.do(t, "GET", base, leadcycle.RoleAdmin, nil); r.status != 200 {
		t.Errorf("a refused erasure deleted the contact: %d", r.status)
	}
	if r := ts.do(t, "POST", base+"/erase", leadcycle.RoleAdmin, map[string]any{"reason": "request"}); r.status != 200 {
		t.Errorf("admin erasure: %d %s", r.status, r.body)
	}
}

// brokenExports is a store whose exports fail after their first section.
type brokenExports struct{ leadcycle.Store }

func (b brokenExports) PersonalData() leadcycle.PersonalDataStore {
	return brokenExport{b.Store.PersonalData()}
}

type brokenExport struct{ leadcycle.PersonalDataStore }

func (b brokenExport) ExportPersonalData(ctx context.Context, id leadcycle.ID, w leadcycle.PersonalDataWriter) error {
	if err := w.Begin(leadcycle.PersonalDataHeader{Format: leadcycle.PersonalDataFormat, ContactID: id}); err != nil {
		return err
	}
	if err := w.List("interactions"); err != nil {
		return err
	}
	return errors.New("disk on fire")
}

// TestPersonalDataExportCutShort checks that an export failing half-way
// cuts the connection: the client sees an error, never a complete document.
func TestPersonalDataExportCutShort(t *testing.T) {
	opened, err := sqlite.Open(context.Background(), t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { opened.Close() })
	ws := web.NewServer(brokenExports{opened}, web.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	srv := httptest.NewServer(ws)
	t.Cleanup(srv.Close)
	key := mustKey(t, opened, leadcycle.RoleAdmin)
	req, _ := http.NewRequest("GET", srv.URL+"/api/v1/contacts/1/personal-data", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	res, err := srv.Client().Do(req)
	if err != nil {
		return // cut before the headers: also not taken for an export
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err == nil {
		t.Errorf("a failed export was answered in full: %d %s", res.StatusCode, body)
	}
}
