package web_test

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/i18n"
	"github.com/leadcycle/leadcycle/mapping"
)

// uploadForm submits a multipart page form with a file and the session's
// CSRF token.
func (c *browserClient) uploadForm(path string, fields url.Values, fileName string, file []byte) pageResponse {
	c.t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	if fields.Get("csrf_token") == "" {
		mw.WriteField("csrf_token", c.csrf)
	}
	for k, vs := range fields {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	if file != nil {
		fw, _ := mw.CreateFormFile("file", fileName)
		fw.Write(file)
	}
	mw.Close()
	req, _ := http.NewRequest("POST", c.base+path, &b)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.read(resp)
}

// previewUpload sends a file to the API's dry run.
func (ts *testServer) previewUpload(t *testing.T, role, name string, file []byte, fields map[string]string) response {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write(file)
	mw.Close()
	return ts.send(t, "POST", "/api/v1/imports/preview", role, mw.FormDataContentType(), b.Bytes())
}

var stageTokenPattern = regexp.MustCompile(`name="token" value="([A-Z2-7]+)"`)

// importCSV has a header the automatic mapping does not know (Alcume, a
// nickname), a cell with markup and a row with a broken email.
const importCSV = "Correo electrónico;Alcume;Apelidos;Notas\r\n" +
	"uxia@example.gal;Uxía;Castro;primeira\r\n" +
	"<script>alert(1)</script>;Breixo;Vilar;\r\n" +
	"iria@example.gal;Iria;Pazos;\r\n"

func TestImportPages(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	mustUser(t, ts.store, "ana@example.gal", "Ana", leadcycle.RoleMarketer)
	mustUser(t, ts.store, "man@example.gal", "Manuel", leadcycle.RoleSalesManager)
	mustUser(t, ts.store, "tele@example.gal", "Tareixa", leadcycle.RoleTelesales)
	m := ts.login(t, "ana@example.gal")

	for _, p := range []string{"/imports", "/imports/new"} {
		r := m.get(p)
		if r.status != 200 {
			t.Fatalf("%s: %d %s", p, r.status, r.body)
		}
		checkAccessible(t, p, r.body)
	}
	// The upload form asks for the file.
	form := url.Values{"entity": {"contacts"}, "on_match": {"update"}}
	if r := m.uploadForm("/imports/new", form, "", nil); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "Choose the file to import") {
		t.Fatalf("upload without a file: %d %s", r.status, r.body)
	}

	// The mapping step shows the headers with the automatic mapping.
	r := m.uploadForm("/imports/new", form, "lista <b>.csv", []byte(importCSV))
	if r.status != 200 {
		t.Fatalf("upload: %d %s", r.status, r.body)
	}
	checkAccessible(t, "mapping step", r.body)
	if strings.Contains(r.body, "<script>alert") || !strings.Contains(r.body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Fatal("a cell of the file is not escaped on the mapping step")
	}
	for _, want := range []string{`<option value="email" selected>`, `name="map.1"`, `lista &lt;b&gt;.csv`, "recognised from the header"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("the mapping step lacks %q", want)
		}
	}
	if strings.Contains(between(r.body, `name="map.1"`, `</select>`), "selected") {
		t.Error("Alcume is mapped automatically; the test needs a header that is not")
	}
	token := stageTokenPattern.FindStringSubmatch(r.body)
	if token == nil {
		t.Fatal("no token on the mapping step")
	}
	start := url.Values{"token": {token[1]}, "file_name": {"lista <b>.csv"}, "entity": {"contacts"}, "on_match": {"update"},
		"map.0": {"email"}, "map.1": {"email"}, "map.2": {"last_name"}, "map.3": {""}}

	// Two columns into one field: the API's message on the mapping step,
	// with the choices kept.
	r = m.post("/imports/start", start)
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, `class="problem"`) || !strings.Contains(r.body, "already imported") {
		t.Fatalf("a field chosen twice: %d %s", r.status, r.body)
	}
	if !strings.Contains(between(r.body, `name="map.1"`, `</select>`), `<option value="email" selected>`) {
		t.Error("the refused choice is not kept")
	}
	if n := ts.count(t, "imports"); n != 0 {
		t.Fatalf("%d imports after a refused start", n)
	}

	// Mapping Alcume to the first name starts the import (sent as htmx
	// sends a boosted form).
	start.Set("map.1", "first_name")
	r = m.hxPost("/imports/start", start)
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/imports/") {
		t.Fatalf("start: %d %s", r.status, r.body)
	}
	jobPath := r.location
	page := m.get(jobPath)
	if page.status != 200 || !strings.Contains(page.body, "<progress") || !strings.Contains(page.body, `hx-trigger="every 1s"`) || !strings.Contains(page.body, "has started") {
		t.Fatalf("the queued job's page: %d %s", page.status, page.body)
	}
	checkAccessible(t, jobPath, page.body)
	// Only the changed column is chosen by hand; the others keep how they
	// were recognised.
	job0, _ := leadcycle.ParseID(strings.TrimPrefix(jobPath, "/imports/"))
	if job, _ := ts.store.Imports().GetImport(ctx, job0); job.Columns[0].How != "auto" || job.Columns[1].How != "explicit" || job.Columns[1].Field != "first_name" || len(job.Options.Columns) != 1 {
		t.Fatalf("the job's columns: %+v (options %v)", job.Columns, job.Options.Columns)
	}
	// The token is used up.
	if r := m.post("/imports/start", start); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "choose it again") {
		t.Fatalf("a used token: %d", r.status)
	}

	ts.runImports(t)
	frag := m.hxGet(jobPath)
	if frag.status != 200 || strings.Contains(frag.body, "<html") || strings.Contains(frag.body, "hx-trigger") {
		t.Fatalf("the finished job's fragment: %d %s", frag.status, frag.body)
	}
	for _, want := range []string{`data-status="done"`, `data-count="created">2<`, `data-count="failed">1<`, `<td class="num">3</td>`, `href="` + jobPath + `/errors.csv"`, `value="100"`} {
		if !strings.Contains(frag.body, want) {
			t.Errorf("the finished job lacks %q", want)
		}
	}
	if strings.Contains(frag.body, "<script>alert") {
		t.Error("the report shows a cell unescaped")
	}
	contacts, _ := ts.store.Contacts().List(ctx, leadcycle.ListQuery{Filters: []leadcycle.Filter{{Columns: []string{"email"}, Op: leadcycle.OpEq, Value: "uxia@example.gal"}}, Limit: 2})
	if len(contacts.Items) != 1 || contacts.Items[0].FirstName != "Uxía" || contacts.Items[0].LastName != "Castro" {
		t.Fatalf("imported contacts: %+v", contacts.Items)
	}
	if n := ts.count(t, "contacts"); n != 2 {
		t.Fatalf("%d contacts after the import", n)
	}
	// The report downloads through the page's session.
	resp, err := m.http.Get(ts.URL + jobPath + "/errors.csv")
	if err != nil {
		t.Fatal(err)
	}
	csvBody, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") || !strings.Contains(string(csvBody), "\n3,") {
		t.Fatalf("errors.csv: %d %s %q", resp.StatusCode, resp.Header.Get("Content-Type"), csvBody)
	}
	if list := m.get("/imports"); !strings.Contains(list.body, `href="`+jobPath+`"`) || !strings.Contains(list.body, "lista &lt;b&gt;.csv") {
		t.Error("the list does not show the job")
	}

	// A queued import can be canceled from its page.
	r = m.uploadForm("/imports/new", form, "again.csv", []byte(importCSV))
	token = stageTokenPattern.FindStringSubmatch(r.body)
	start.Set("token", token[1])
	r = m.post("/imports/start", start)
	if r.status != http.StatusSeeOther {
		t.Fatalf("second start: %d", r.status)
	}
	m.get(r.location)
	if c := m.post(r.location+"/cancel", nil); c.status != http.StatusSeeOther {
		t.Fatalf("cancel: %d %s", c.status, c.body)
	}
	id, _ := leadcycle.ParseID(strings.TrimPrefix(r.location, "/imports/"))
	if job, _ := ts.store.Imports().GetImport(ctx, id); job.Status != leadcycle.ImportCanceled {
		t.Fatalf("status after cancel: %s", job.Status)
	}

	// A sales manager reads imports but may not import; telesales neither.
	man := ts.login(t, "man@example.gal")
	if r := man.get(jobPath); r.status != 200 || strings.Contains(r.body, "/imports/new") {
		t.Fatalf("sales manager on the job: %d", r.status)
	}
	if r := man.get("/imports/new"); r.status != http.StatusForbidden {
		t.Fatalf("sales manager on the upload form: %d", r.status)
	}
	tele := ts.login(t, "tele@example.gal")
	for _, p := range []string{"/imports", jobPath, "/imports/new", jobPath + "/errors.csv"} {
		if r := tele.get(p); r.status != http.StatusForbidden {
			t.Errorf("telesales on %s: %d", p, r.status)
		}
	}
}

func TestImportPreviewAPI(t *testing.T) {
	ts := newTestServer(t)
	r := ts.previewUpload(t, leadcycle.RoleMarketer, "list.csv", []byte(importCSV), map[string]string{"entity": "contacts", "columns": `{"Alcume": "first_name"}`})
	if r.status != 200 {
		t.Fatalf("preview: %d %s", r.status, r.body)
	}
	prev := r.json(t)
	cols := prev["columns"].([]any)
	if c := cols[0].(map[string]any); c["field"] != "email" || c["how"] != "auto" {
		t.Errorf("first column: %v", c)
	}
	if c := cols[1].(map[string]any); c["field"] != "first_name" || c["how"] != "explicit" {
		t.Errorf("explicit column: %v", c)
	}
	if s := prev["samples"].([]any); len(s) != 3 || s[0].([]any)[1] != "Uxía" {
		t.Errorf("samples: %v", s)
	}
	if prev["delimiter"] != ";" || prev["error"] != "" || len(prev["fields"].([]any)) < 10 {
		t.Errorf("preview: %s", r.body)
	}
	schemas := ts.do(t, "GET", "/api/openapi.json", "", nil).json(t)["components"].(map[string]any)["schemas"].(map[string]any)
	conforms(t, schemas, "ImportPreview", prev, "POST /api/v1/imports/preview")
	if n := ts.count(t, "imports"); n != 0 {
		t.Fatalf("the preview stored %d imports", n)
	}

	// A file no column of which identifies a contact is previewed with
	// the reason an import would be refused.
	r = ts.previewUpload(t, leadcycle.RoleMarketer, "odd.csv", []byte("Alcume,Notas\nUxía,x\n"), map[string]string{"entity": "contacts"})
	if r.status != 200 || !strings.Contains(r.json(t)["error"].(string), "no column") {
		t.Fatalf("unmappable file: %d %s", r.status, r.body)
	}
	problem(t, ts.previewUpload(t, leadcycle.RoleMarketer, "x.png", []byte("\x89PNG\r\n\x1a\nxxxxxxxx"), map[string]string{"entity": "contacts"}), 422, "file")
	problem(t, ts.previewUpload(t, leadcycle.RoleMarketer, "list.csv", []byte(importCSV), map[string]string{"entity": "opportunities"}), 422, "entity")
	problem(t, ts.previewUpload(t, leadcycle.RoleSales, "list.csv", []byte(importCSV), map[string]string{"entity": "contacts"}), 403, "")
}

// TestImportCatalogKeys: the keys the import pages build from values exist
// in every language, a label for every built-in field among them.
func TestImportCatalogKeys(t *testing.T) {
	b := i18n.MustLoad()
	var keys []string
	for _, s := range leadcycle.ImportStatuses {
		keys = append(keys, "imports.status."+s)
	}
	for _, e := range leadcycle.ImportEntities {
		keys = append(keys, "imports.entity."+e)
		fields, err := mapping.Fields(e, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fields {
			keys = append(keys, "imports.field."+f.Name)
		}
	}
	for _, s := range leadcycle.OnMatchActions {
		keys = append(keys, "imports.on_match."+s)
	}
	for _, s := range []string{"auto", "saved", "explicit"} {
		keys = append(keys, "imports.how."+s)
	}
	keys = append(keys, "imports.strategy_kind."+leadcycle.StrategyContact, "imports.strategy_kind."+leadcycle.StrategyLead)
	mustHaveKeys(t, b, keys)
}

// mustHaveKeys fails t for every key missing from a language of b: keys
// built from enum values, which a scan of the templates cannot find.
func mustHaveKeys(t *testing.T, b *i18n.Bundle, keys []string) {
	t.Helper()
	for _, lang := range i18n.Languages {
		ids := map[string]bool{}
		for _, id := range b.IDs(lang) {
			ids[id] = true
		}
		for _, k := range keys {
			if !ids[k] {
				t.Errorf("%s lacks %q", lang, k)
			}
		}
	}
}

// between is the text of s from the first start to the next end.
func between(s, start, end string) string {
	i := strings.Index(s, start)
	if i < 0 {
		return ""
	}
	s = s[i:]
	if j := strings.Index(s, end); j >= 0 {
		return s[:j]
	}
	return s
}
