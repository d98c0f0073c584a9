package web_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/tabular"
)

// upload sends a multipart import with a file and form fields.
func (ts *testServer) upload(t *testing.T, role, name string, file []byte, fields map[string]string) response {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	if file != nil {
		fw, _ := mw.CreateFormFile("file", name)
		fw.Write(file)
	}
	mw.Close()
	return ts.send(t, "POST", "/api/v1/imports", role, mw.FormDataContentType(), b.Bytes())
}

// send sends a body with a content type.
func (ts *testServer) send(t *testing.T, method, path, role, contentType string, body []byte) response {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+ts.keys[role])
	res, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// runImports runs the queued imports as the server's worker would.
func (ts *testServer) runImports(t *testing.T) {
	t.Helper()
	r := ts.web.ImportRunner()
	for {
		ran, err := r.RunNext(context.Background(), 0)
		if err != nil {
			t.Fatal(err)
		}
		if !ran {
			return
		}
	}
}

func TestImportThroughTheAPI(t *testing.T) {
	ts := newTestServer(t)
	ts.mustCreate(t, "fields", map[string]any{"entity": "contact", "name": "tier", "type": "choice", "choices": []string{"gold", "silver"}})
	file := []byte("E-mail Address;First Name;Tier;Notes\r\nana@example.gal;Ana;Oro;x\r\nbad-email;Bea;gold;\r\nANA@example.gal;Ana María;Prata;\r\n")
	opts := `{"entity": "contacts", "values": {"custom.tier": {"Oro": "gold", "Prata": "silver"}}, "columns": {"Notes": ""}}`
	r := ts.upload(t, leadcycle.RoleMarketer, "hubspot.csv", file, map[string]string{"options": opts})
	if r.status != http.StatusCreated {
		t.Fatalf("upload: %d %s", r.status, r.body)
	}
	job := r.json(t)
	id := job["id"].(string)
	if job["status"] != "queued" || job["delimiter"] != ";" || job["file_name"] != "hubspot.csv" || r.header.Get("Location") != "/api/v1/imports/"+id {
		t.Errorf("queued job = %s", r.body)
	}
	cols := job["columns"].([]any)
	if f := cols[0].(map[string]any); f["field"] != "email" || f["how"] != "auto" {
		t.Errorf("first column = %v", f)
	}
	if f := cols[3].(map[string]any); f["field"] != "" || f["how"] != "explicit" {
		t.Errorf("skipped column = %v", f)
	}
	ts.runImports(t)
	done := ts.do(t, "GET", "/api/v1/imports/"+id, leadcycle.RoleSalesManager, nil).json(t)
	if done["status"] != "done" || done["rows"] != 3.0 || done["created"] != 1.0 || done["updated"] != 1.0 || done["failed"] != 1.0 {
		t.Fatalf("done job = %v", done)
	}
	contacts := ts.do(t, "GET", "/api/v1/contacts?email=ana@example.gal", leadcycle.RoleAdmin, nil).json(t)["items"].([]any)
	if c := contacts[0].(map[string]any); c["first_name"] != "Ana María" || c["custom"].(map[string]any)["tier"] != "silver" || c["origin"] != "import" {
		t.Errorf("imported contact = %v", c)
	}
	errs := ts.do(t, "GET", "/api/v1/imports/"+id+"/errors?limit=1", leadcycle.RoleMarketer, nil).json(t)
	items := errs["items"].([]any)
	if e := items[0].(map[string]any); e["line"] != 3.0 || e["column"] != "E-mail Address" || !strings.Contains(e["reason"].(string), "email") {
		t.Errorf("report = %v", errs)
	}
	if next := ts.do(t, "GET", "/api/v1/imports/"+id+"/errors?cursor="+errs["next_cursor"].(string), leadcycle.RoleMarketer, nil).json(t); len(next["items"].([]any)) != 0 {
		t.Errorf("second page = %v", next)
	}
	report := ts.do(t, "GET", "/api/v1/imports/"+id+"/errors.csv", leadcycle.RoleMarketer, nil)
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(report.body, []byte("\ufeff")))).ReadAll()
	if err != nil || len(recs) != 2 || recs[0][0] != "line" || recs[1][0] != "3" || recs[1][2] != "bad-email" && recs[1][2] != "" {
		t.Errorf("errors.csv = %q (%v)", report.body, err)
	}
	problem(t, ts.do(t, "POST", "/api/v1/imports/"+id+"/cancel", leadcycle.RoleMarketer, nil), 409, "")

	// The answers are what the OpenAPI document says.
	schemas := ts.do(t, "GET", "/api/openapi.json", "", nil).json(t)["components"].(map[string]any)["schemas"].(map[string]any)
	conforms(t, schemas, "ImportJob", job, "POST /api/v1/imports")
	conforms(t, schemas, "ImportJob", done, "GET /api/v1/imports/{id}")
	conforms(t, schemas, "ImportError", items[0], "GET /api/v1/imports/{id}/errors")

	// The same file as a raw body, options in the query; a sales key may
	// neither import nor read imports.
	raw := ts.send(t, "POST", "/api/v1/imports?entity=contacts&on_match=skip&file_name=again.csv", leadcycle.RoleMarketer, "text/csv", file)
	if raw.status != http.StatusCreated || raw.json(t)["options"].(map[string]any)["on_match"] != "skip" {
		t.Fatalf("raw upload: %d %s", raw.status, raw.body)
	}
	problem(t, ts.send(t, "POST", "/api/v1/imports?entity=contacts", leadcycle.RoleSales, "text/csv", file), 403, "")
	problem(t, ts.do(t, "GET", "/api/v1/imports", leadcycle.RoleSales, nil), 403, "")
	list := ts.do(t, "GET", "/api/v1/imports?status=queued", leadcycle.RoleMarketer, nil).json(t)["items"].([]any)
	if len(list) != 1 {
		t.Errorf("queued imports = %v", list)
	}
	canceled := ts.do(t, "POST", "/api/v1/imports/"+raw.json(t)["id"].(string)+"/cancel", leadcycle.RoleMarketer, nil)
	if canceled.status != 200 || canceled.json(t)["status"] != "canceled" {
		t.Errorf("cancel queued: %d %s", canceled.status, canceled.body)
	}

	// Saved mappings apply by id.
	m := ts.mustCreate(t, "import-mappings", map[string]any{"name": "Galician list", "entity": "contacts", "columns": map[string]string{"Correo": "email", "Alcume": "first_name"}})
	saved := ts.upload(t, leadcycle.RoleMarketer, "gl.csv", []byte("Correo,Alcume\nxoan@example.gal,Xoán\n"), map[string]string{"entity": "contacts", "mapping_id": m})
	if saved.status != 201 {
		t.Fatalf("with mapping: %d %s", saved.status, saved.body)
	}
	if c := saved.json(t)["columns"].([]any)[1].(map[string]any); c["field"] != "first_name" || c["how"] != "saved" {
		t.Errorf("saved column = %v", c)
	}
	conforms(t, schemas, "ImportMapping", ts.do(t, "GET", "/api/v1/import-mappings/"+m, leadcycle.RoleMarketer, nil).json(t), "GET /api/v1/import-mappings/{id}")
}

func TestImportBadUploads(t *testing.T) {
	ts := newTestServer(t)
	good := []byte("email\na@example.gal\n")
	for _, tc := range []struct {
		name   string
		r      response
		status int
		field  string
	}{
		{"no file", ts.upload(t, leadcycle.RoleMarketer, "", nil, map[string]string{"entity": "contacts"}), 422, "file"},
		{"empty file", ts.upload(t, leadcycle.RoleMarketer, "e.csv", []byte{}, map[string]string{"entity": "contacts"}), 422, "file"},
		{"no entity", ts.upload(t, leadcycle.RoleMarketer, "a.csv", good, nil), 422, "entity"},
		{"unknown option", ts.upload(t, leadcycle.RoleMarketer, "a.csv", good, map[string]string{"entity": "contacts", "mode": "fast"}), 422, "mode"},
		{"bad options JSON", ts.upload(t, leadcycle.RoleMarketer, "a.csv", good, map[string]string{"options": `{"entity": 5}`}), 400, "options"},
		{"bad on_match", ts.upload(t, leadcycle.RoleMarketer, "a.csv", good, map[string]string{"entity": "contacts", "on_match": "merge"}), 422, "on_match"},
		{"unknown field", ts.upload(t, leadcycle.RoleMarketer, "a.csv", good, map[string]string{"entity": "contacts", "columns": `{"email": "emial"}`}), 422, "columns"},
		{"no identifying column", ts.upload(t, leadcycle.RoleMarketer, "a.csv", []byte("colour\nred\n"), map[string]string{"entity": "contacts"}), 422, "columns"},
		{"binary file", ts.upload(t, leadcycle.RoleMarketer, "a.csv", []byte("\x00\x01\x02\x03\x00\x00binary\x00"), map[string]string{"entity": "contacts"}), 422, "file"},
		{"json body", ts.do(t, "POST", "/api/v1/imports", leadcycle.RoleMarketer, map[string]any{"entity": "contacts"}), 415, ""},
		{"missing strategy", ts.upload(t, leadcycle.RoleMarketer, "a.csv", good, map[string]string{"entity": "contacts", "strategy_id": "999"}), 422, "strategy_id"},
	} {
		t.Run(tc.name, func(t *testing.T) { problem(t, tc.r, tc.status, tc.field) })
	}
	if n := len(ts.do(t, "GET", "/api/v1/imports", leadcycle.RoleAdmin, nil).json(t)["items"].([]any)); n != 0 {
		t.Errorf("%d jobs stored from refused uploads", n)
	}
}

func TestExportThroughTheAPI(t *testing.T) {
	ts := newTestServer(t)
	acc := ts.mustCreate(t, "accounts", map[string]any{"name": "Sargadelos", "domain": "sargadelos.com"})
	ts.mustCreate(t, "contacts", map[string]any{"email": "xose@sargadelos.com", "first_name": "Xosé", "account_id": acc})
	ts.mustCreate(t, "contacts", map[string]any{"email": "chan@example.tw", "first_name": "大文", "origin": "import"})
	r := ts.do(t, "GET", "/api/v1/contacts/export?origin=import", leadcycle.RoleSalesManager, nil)
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") || !strings.Contains(r.header.Get("Content-Disposition"), "contacts.csv") {
		t.Fatalf("export: %d %v %s", r.status, r.header, r.body)
	}
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(r.body, []byte("\ufeff")))).ReadAll()
	if err != nil || len(recs) != 2 || recs[1][3] != "chan@example.tw" || recs[1][2] != "" && recs[1][1] != "大文" {
		t.Errorf("filtered export = %q (%v)", recs, err)
	}
	x := ts.do(t, "GET", "/api/v1/contacts/export?format=xlsx", leadcycle.RoleMarketer, nil)
	if x.status != 200 || !bytes.HasPrefix(x.body, []byte("PK\x03\x04")) {
		t.Fatalf("xlsx export: %d %.40q", x.status, x.body)
	}
	rd, err := tabular.Open(bytes.NewReader(x.body), int64(len(x.body)), "contacts.xlsx", tabular.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rows := 0
	for {
		row, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		rows++
		if row.Cells[3] == "xose@sargadelos.com" && row.Cells[6] != "Sargadelos" {
			t.Errorf("xlsx row = %q", row.Cells)
		}
	}
	if rows != 2 || rd.Header()[0] != "id" {
		t.Errorf("xlsx: %d rows, header %q", rows, rd.Header())
	}
	problem(t, ts.do(t, "GET", "/api/v1/contacts/export?format=pdf", leadcycle.RoleMarketer, nil), 422, "format")
	problem(t, ts.do(t, "GET", "/api/v1/leads/export?colour=red", leadcycle.RoleMarketer, nil), 422, "colour")
	problem(t, ts.do(t, "GET", "/api/v1/contacts/export", leadcycle.RoleSales, nil), 403, "")
}
