package web_test

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/i18n"
)

// hxFragment posts a form as htmx does for an element's own request (not
// a boosted form): the CSRF token in the header, and the answer is the
// page's fragment.
func (c *browserClient) hxFragment(path string, form url.Values) pageResponse {
	c.t.Helper()
	req, _ := http.NewRequest("POST", c.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	req.Header.Set("X-CSRF-Token", c.csrf)
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return pageResponse{status: resp.StatusCode, body: string(b)}
}

// postFile submits a multipart form with one file, with the session's
// CSRF token as a form field.
func (c *browserClient) postFile(path string, fields url.Values, field, name, content string) pageResponse {
	c.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if fields.Get("csrf_token") == "" {
		fields.Set("csrf_token", c.csrf)
	}
	for k, vs := range fields {
		for _, v := range vs {
			_ = mw.WriteField(k, v)
		}
	}
	part, _ := mw.CreateFormFile(field, name)
	_, _ = part.Write([]byte(content))
	_ = mw.Close()
	req, _ := http.NewRequest("POST", c.base+path, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.read(resp)
}

// segmentMemberEmails lists a segment's members by email, from the store.
func segmentMemberEmails(t *testing.T, ts *testServer, id leadcycle.ID) []string {
	t.Helper()
	page, err := ts.store.SegmentMembers().Members(context.Background(), id, leadcycle.ListQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range page.Items {
		out = append(out, m.Email)
	}
	return out
}

// segmentByKey finds a segment in the store.
func segmentByKey(t *testing.T, ts *testServer, key string) *leadcycle.Segment {
	t.Helper()
	page, err := ts.store.Segments().List(context.Background(), leadcycle.ListQuery{Filters: []leadcycle.Filter{{Columns: []string{"key"}, Op: leadcycle.OpEq, Value: key}}, Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 {
		return nil
	}
	return &page.Items[0]
}

var exampleCode = regexp.MustCompile(`<code class="example">([^<]*)</code>`)

func wantAll(t *testing.T, what, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("%s lacks %q", what, w)
		}
	}
}

func TestSegmentPages(t *testing.T) {
	ts := newTestServer(t)
	mustUser(t, ts.store, "ana@example.gal", "Ana", leadcycle.RoleMarketer)
	mustUser(t, ts.store, "rita@example.gal", "Rita", leadcycle.RoleReadonly)
	mustUser(t, ts.store, "tele@example.gal", "Tareixa", leadcycle.RoleTelesales)
	acc := ts.mustCreate(t, "accounts", map[string]any{"name": "Shop", "industry": "Retail", "country": "ES"})
	ana := ts.mustCreate(t, "contacts", map[string]any{"email": "ana@shop.example", "first_name": "Ana", "last_name": "Tenda", "account_id": acc, "job_title": "CTO"})
	ts.mustCreate(t, "contacts", map[string]any{"email": "bo@bank.example", "first_name": "Bo", "job_title": "CTO"})

	m := ts.login(t, "ana@example.gal")
	r := m.get("/segments")
	if r.status != 200 {
		t.Fatalf("/segments: %d %s", r.status, r.body)
	}
	wantAll(t, "the empty list", r.body, `href="/segments/new"`, "No segment yet.", `href="/segments" aria-current="page"`)
	checkAccessible(t, "/segments", r.body)

	r = m.get("/segments/new")
	if r.status != 200 {
		t.Fatalf("/segments/new: %d %s", r.status, r.body)
	}
	wantAll(t, "the new form", r.body, `hx-post="/segments/preview"`, `hx-trigger="keyup changed delay:500ms"`, `hx-target="#segment-preview"`,
		`aria-describedby="segment-preview seg-query-hint"`, `id="segment-preview"`, `aria-live="polite"`, `name="kind" value="static"`, `id="syntax-help"`)
	checkAccessible(t, "/segments/new", r.body)

	// Every example of the syntax help is a query the preview API takes
	// (with the segments and the model they name).
	for _, key := range []string{"webinar-2026", "customers"} {
		ts.mustCreate(t, "segments", map[string]any{"name": key, "key": key, "kind": "static"})
	}
	ts.mustCreate(t, "scoring-models", map[string]any{"name": "Fit", "key": "fit", "rules": []map[string]any{{"name": "CTO", "points": 60, "conditions": []string{`contact.job_title == "CTO"`}}}})
	examples := exampleCode.FindAllStringSubmatch(r.body, -1)
	if len(examples) < 4 {
		t.Fatalf("the syntax help shows %d examples", len(examples))
	}
	for _, ex := range examples {
		q := html.UnescapeString(ex[1])
		if res := ts.do(t, "POST", "/api/v1/segments/preview", leadcycle.RoleMarketer, map[string]any{"query": q}); res.status != 200 {
			t.Errorf("the example %s is refused: %d %s", q, res.status, res.body)
		}
	}

	// The live preview: the count and the first contacts, as a fragment.
	r = m.hxFragment("/segments/preview", url.Values{"query": {`account.industry == "Retail"`}, "name": {"x"}})
	if r.status != 200 || strings.Contains(r.body, "<html") {
		t.Fatalf("preview fragment: %d %s", r.status, r.body)
	}
	wantAll(t, "the preview", r.body, `id="preview-count" data-count="1"`, "1 contact matches now", `href="/contacts/`+ana+`"`, "Ana Tenda", `data-invalid="false"`)
	r = m.hxFragment("/segments/preview", url.Values{"query": {`job_title == "CTO"`}})
	wantAll(t, "the preview of two", r.body, `data-count="2"`, "2 contacts match now")
	// A faulty query: its problem (with its position) in the preview.
	r = m.hxFragment("/segments/preview", url.Values{"query": {`account.industri == "x"`}})
	if r.status != 200 {
		t.Fatalf("faulty preview: %d %s", r.status, r.body)
	}
	wantAll(t, "the faulty preview", r.body, `class="field-error" id="seg-preview-err"`, "The query is not valid", "industri", `data-invalid="true"`, `data-invalid-for="seg-query"`)
	if !regexp.MustCompile(`\d+:\d+`).MatchString(r.body) {
		t.Errorf("the faulty preview does not say where: %s", r.body)
	}
	if r := m.hxFragment("/segments/preview", url.Values{"query": {"  "}}); !strings.Contains(r.body, "Type a query") {
		t.Errorf("empty preview: %s", r.body)
	}
	// Without scripts, the preview button shows the whole form with it.
	r = m.post("/segments/preview", url.Values{"name": {"Typed"}, "kind": {"dynamic"}, "query": {`job_title == "CTO"`}})
	if r.status != 200 {
		t.Fatalf("preview without scripts: %d", r.status)
	}
	wantAll(t, "the preview page", r.body, "<html", `value="Typed"`, `data-count="2"`, `>job_title == &#34;CTO&#34;</textarea>`)

	// A faulty query is refused on save: the message beside the field,
	// the field marked, the typed values kept, nothing stored.
	r = m.post("/segments/new", url.Values{"name": {"Bad one"}, "kind": {"dynamic"}, "query": {`account.industri == "x"`}, "description": {"typed"}})
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("faulty query: %d %s", r.status, r.body)
	}
	wantAll(t, "the refused form", r.body, `class="field-error" id="seg-query-err"`, `aria-describedby="seg-query-err segment-preview seg-query-hint" aria-invalid="true"`,
		`>account.industri == &#34;x&#34;</textarea>`, `value="Bad one"`, `>typed</textarea>`, `class="problem"`)
	checkAccessible(t, "/segments/new (refused)", r.body)
	if segmentByKey(t, ts, "bad_one") != nil {
		t.Fatal("a refused form stored a segment")
	}
	// A missing name.
	if r := m.post("/segments/new", url.Values{"name": {""}, "kind": {"static"}}); r.status != 422 || !strings.Contains(r.body, `id="seg-name-err"`) {
		t.Fatalf("no name: %d", r.status)
	}

	// A dynamic segment made through the form, its members built at once.
	r = m.post("/segments/new", url.Values{"name": {"Retail <b>CTOs</b>"}, "kind": {"dynamic"}, "query": {`account.industry == "Retail" and job_title == "CTO"`}})
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/segments/") {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	dyn := segmentByKey(t, ts, "retail_b_ctos_b")
	if dyn == nil {
		list, _ := ts.store.Segments().List(context.Background(), leadcycle.ListQuery{Limit: 10})
		t.Fatalf("the new segment is not stored: %+v", list.Items)
	}
	dynPath := "/segments/" + dyn.ID.String()
	if r.location != dynPath {
		t.Errorf("created: to %s", r.location)
	}
	r = m.get(dynPath)
	wantAll(t, "the dynamic segment", r.body, "Segment “Retail &lt;b&gt;CTOs&lt;/b&gt;” created.", `id="member-count" data-count="1"`, `href="/contacts/`+ana+`"`,
		"ana@shop.example", `id="members-table"`, `id="delete-segment"`, `data-kind="dynamic"`, `id="seg-query"`)
	if strings.Contains(r.body, "<b>CTOs") {
		t.Error("the name is not escaped")
	}
	if strings.Contains(r.body, `id="members-form"`) {
		t.Error("a dynamic segment offers to change its list")
	}
	checkAccessible(t, dynPath, r.body)
	if r := m.get("/segments"); !strings.Contains(r.body, `href="`+dynPath+`"`) || !strings.Contains(r.body, `data-members="1"`) {
		t.Error("the list does not link the segment with its member count")
	}
	// Editing the query rebuilds the members; the kind stays.
	r = m.post(dynPath, url.Values{"name": {"CTOs"}, "key": {dyn.Key}, "kind": {"static"}, "query": {`job_title == "CTO"`}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("save: %d %s", r.status, r.body)
	}
	if got, _ := ts.store.Segments().Get(context.Background(), dyn.ID); got.Name != "CTOs" || got.Kind != leadcycle.SegmentDynamic || len(segmentMemberEmails(t, ts, dyn.ID)) != 2 {
		t.Fatalf("after saving: %+v %v", got, segmentMemberEmails(t, ts, dyn.ID))
	}
	// A faulty edit keeps the typed query and opens the editor.
	r = m.post(dynPath, url.Values{"name": {"CTOs"}, "key": {dyn.Key}, "query": {`in_segment("nope")`}})
	if r.status != 422 {
		t.Fatalf("faulty edit: %d", r.status)
	}
	wantAll(t, "the refused edit", r.body, `<details id="edit-segment" open>`, `>in_segment(&#34;nope&#34;)</textarea>`, `id="seg-query-err"`)

	// The preview button without scripts, on an existing segment: its
	// page with the editor open, the typed query and its preview.
	r = m.post("/segments/preview", url.Values{"segment_id": {dyn.ID.String()}, "name": {"CTOs"}, "query": {`account.industry == "Retail"`}})
	if r.status != 200 {
		t.Fatalf("preview of an existing segment: %d", r.status)
	}
	wantAll(t, "the existing segment's preview", r.body, `<details id="edit-segment" open>`, `data-count="1"`, `id="members-table"`, `>account.industry == &#34;Retail&#34;</textarea>`)

	// A static list, changed by email and with a CSV file.
	r = m.post("/segments/new", url.Values{"name": {"Fair 2026"}, "key": {"fair-2026"}, "kind": {"static"}, "query": {"ignored"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("create static: %d %s", r.status, r.body)
	}
	st := segmentByKey(t, ts, "fair-2026")
	if st == nil || st.Kind != leadcycle.SegmentStatic {
		t.Fatalf("static segment: %+v", st)
	}
	stPath := "/segments/" + st.ID.String()
	r = m.get(stPath)
	wantAll(t, "the static segment", r.body, `id="members-form"`, `enctype="multipart/form-data"`, `id="no-members"`, `data-kind="static"`)
	if strings.Contains(r.body, `id="seg-query"`) {
		t.Error("a static segment has a query field")
	}
	checkAccessible(t, stPath, r.body)
	r = m.post(stPath+"/members", url.Values{"action": {"add"}, "emails": {"ana@shop.example\n\nnobody@x.example\n"}})
	if r.status != 200 {
		t.Fatalf("add by email: %d %s", r.status, r.body)
	}
	wantAll(t, "the added list", r.body, `id="members-change"`, "1 contact added.", "0 were already members.", "1 email or id matches no contact", "<li><code>nobody@x.example</code></li>", `href="/contacts/`+ana+`"`)
	checkAccessible(t, stPath+" (added)", r.body)
	// Not an email: the message beside the field, the text kept.
	r = m.post(stPath+"/members", url.Values{"action": {"add"}, "emails": {"bo@bank.example\nnot-an-email"}})
	if r.status != 422 {
		t.Fatalf("bad email: %d", r.status)
	}
	wantAll(t, "the refused list", r.body, `id="m-emails-err"`, "“not-an-email” is not a valid email address.", `aria-invalid="true"`, ">bo@bank.example\nnot-an-email</textarea>")
	if r := m.post(stPath+"/members", url.Values{"action": {"add"}, "emails": {"  "}}); r.status != 422 || !strings.Contains(r.body, "Type at least one email") {
		t.Errorf("no emails: %d", r.status)
	}
	// A CSV file with a header.
	m.get(stPath)
	r = m.postFile(stPath+"/members", url.Values{"action": {"add"}}, "file", "fair.csv", "name,Email\nBo,BO@bank.example\nCy,cy@nowhere.example\nAna,ana@shop.example\n")
	if r.status != 200 {
		t.Fatalf("CSV: %d %s", r.status, r.body)
	}
	wantAll(t, "the CSV result", r.body, "1 contact added.", "1 was already a member.", "<li><code>cy@nowhere.example</code></li>")
	if got := segmentMemberEmails(t, ts, st.ID); len(got) != 2 {
		t.Fatalf("members after the CSV: %v", got)
	}
	// A faulty CSV names its line.
	r = m.postFile(stPath+"/members", url.Values{"action": {"add"}}, "file", "bad.csv", "email\nfine@x.example\nnope\n")
	if r.status != 422 || !strings.Contains(r.body, "Line 3 of the file") || !strings.Contains(r.body, `id="m-file-err"`) {
		t.Fatalf("faulty CSV: %d %s", r.status, r.body)
	}
	// Removing.
	r = m.post(stPath+"/members", url.Values{"action": {"remove"}, "emails": {"ana@shop.example, cy@nowhere.example"}})
	if r.status != 200 {
		t.Fatalf("remove: %d %s", r.status, r.body)
	}
	wantAll(t, "the removal", r.body, "1 contact removed.", "<li><code>cy@nowhere.example</code></li>")
	if got := segmentMemberEmails(t, ts, st.ID); len(got) != 1 || got[0] != "bo@bank.example" {
		t.Fatalf("members after removing: %v", got)
	}
	// A dynamic segment's list cannot be changed by hand: the API's conflict.
	if r := m.post(dynPath+"/members", url.Values{"action": {"add"}, "emails": {"bo@bank.example"}}); r.status != http.StatusConflict || !strings.Contains(r.body, "dynamic") {
		t.Errorf("changing a dynamic list: %d", r.status)
	}

	// Deleting asks first; a segment another one names is refused.
	ts.mustCreate(t, "segments", map[string]any{"name": "Fair CTOs", "query": `in_segment("fair-2026") and job_title == "CTO"`})
	r = m.get(stPath + "/delete")
	if r.status != 200 {
		t.Fatalf("delete page: %d", r.status)
	}
	wantAll(t, "the confirmation", r.body, `id="confirm-delete"`, `action="`+stPath+`/delete"`, "1 member will be deleted")
	checkAccessible(t, stPath+"/delete", r.body)
	r = m.post(stPath+"/delete", nil)
	if r.status != http.StatusConflict {
		t.Fatalf("delete a named segment: %d %s", r.status, r.body)
	}
	wantAll(t, "the refusal", r.body, "The segment was not deleted", "fair_ctos", `class="problem"`)
	if segmentByKey(t, ts, "fair-2026") == nil {
		t.Fatal("the named segment was deleted")
	}
	r = m.post(dynPath+"/delete", nil)
	if r.status != http.StatusSeeOther || r.location != "/segments" {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	if _, err := ts.store.Segments().Get(context.Background(), dyn.ID); leadcycle.ErrorCode(err) != leadcycle.ENotFound {
		t.Fatalf("the deleted segment: %v", err)
	}
	if r := m.get("/segments"); !strings.Contains(r.body, "Segment “CTOs” deleted.") || strings.Contains(r.body, `href="`+dynPath+`"`) {
		t.Error("the list after deleting")
	}

	// CSRF: a form without the session's token changes nothing.
	if r := m.post("/segments/new", url.Values{"name": {"Forged"}, "kind": {"static"}, "csrf_token": {"forged"}}); r.status != http.StatusForbidden {
		t.Errorf("create without CSRF: %d", r.status)
	}
	if r := m.post(stPath+"/delete", url.Values{"csrf_token": {"forged"}}); r.status != http.StatusForbidden {
		t.Errorf("delete without CSRF: %d", r.status)
	}
	if r := m.post(stPath+"/members", url.Values{"emails": {"ana@shop.example"}, "csrf_token": {"forged"}}); r.status != http.StatusForbidden {
		t.Errorf("members without CSRF: %d", r.status)
	}
	saved := m.csrf
	m.csrf = "forged"
	if r := m.hxFragment("/segments/preview", url.Values{"query": {`email != ""`}}); r.status != http.StatusForbidden {
		t.Errorf("preview without CSRF: %d", r.status)
	}
	m.csrf = saved
	if segmentByKey(t, ts, "forged") != nil || len(segmentMemberEmails(t, ts, st.ID)) != 1 {
		t.Fatal("a forged request changed something")
	}

	// Everyone may read segments (segments:read); only marketers and
	// admins see the edit controls and may change them.
	for _, who := range []string{"rita@example.gal", "tele@example.gal"} {
		c := ts.login(t, who)
		r := c.get("/segments")
		if r.status != 200 || !strings.Contains(r.body, `href="/segments"`) || !strings.Contains(r.body, `href="`+stPath+`"`) {
			t.Fatalf("%s on /segments: %d", who, r.status)
		}
		if strings.Contains(r.body, `href="/segments/new"`) {
			t.Errorf("%s is offered a new segment", who)
		}
		r = c.get(stPath)
		if r.status != 200 || !strings.Contains(r.body, "bo@bank.example") {
			t.Fatalf("%s on a segment: %d", who, r.status)
		}
		for _, ctl := range []string{`id="members-form"`, `id="segment-form"`, `id="delete-segment"`} {
			if strings.Contains(r.body, ctl) {
				t.Errorf("%s sees %s", who, ctl)
			}
		}
		for _, p := range []string{"/segments/new", stPath + "/delete"} {
			if r := c.get(p); r.status != http.StatusForbidden {
				t.Errorf("%s on %s: %d", who, p, r.status)
			}
		}
		c.get(stPath)
		if r := c.post(stPath+"/members", url.Values{"emails": {"ana@shop.example"}}); r.status != http.StatusForbidden {
			t.Errorf("%s changing a list: %d", who, r.status)
		}
		if r := c.post(stPath+"/delete", nil); r.status != http.StatusForbidden {
			t.Errorf("%s deleting: %d", who, r.status)
		}
		if r := c.hxFragment("/segments/preview", url.Values{"query": {`email != ""`}}); r.status != http.StatusForbidden {
			t.Errorf("%s previewing: %d", who, r.status)
		}
	}

	// In Galician.
	m.get("/segments")
	if r := m.post("/language", url.Values{"lang": {"gl"}, "next": {"/segments"}}); r.status != http.StatusSeeOther {
		t.Fatalf("language: %d", r.status)
	}
	r = m.get(stPath)
	wantAll(t, "the Galician page", r.body, `lang="gl"`, "Segmentos", "Engadir ou quitar contactos", "Membro desde")
}

// TestSegmentCatalogKeys: the keys the segment pages build from values
// exist in every language.
func TestSegmentCatalogKeys(t *testing.T) {
	b := i18n.MustLoad()
	keys := []string{"segments.example.industry", "segments.example.job_title", "segments.example.open_lead", "segments.example.opened_twice", "segments.example.won_deal",
		"segments.example.in_segment", "segments.example.recent", "nav.segments"}
	for _, k := range leadcycle.SegmentKinds {
		keys = append(keys, "segments.kind."+k, "segments.kind_hint."+k)
	}
	mustHaveKeys(t, b, keys)
}

// TestSegmentMembersPaged: a long list is shown a page at a time.
func TestSegmentMembersPaged(t *testing.T) {
	ts := newTestServer(t)
	mustUser(t, ts.store, "rita@example.gal", "Rita", leadcycle.RoleReadonly)
	id := ts.mustCreate(t, "segments", map[string]any{"name": "Everyone", "query": `email != ""`})
	for i := range 52 {
		ts.mustCreate(t, "contacts", map[string]any{"email": fmt.Sprintf("c%02d@example.gal", i)})
	}
	ts.processSegments(t)
	c := ts.login(t, "rita@example.gal")
	first := c.get("/segments/" + id)
	if first.status != 200 || strings.Count(first.body, `<tr data-contact=`) != 50 {
		t.Fatalf("first page: %d, %d rows", first.status, strings.Count(first.body, `<tr data-contact=`))
	}
	next := regexp.MustCompile(`href="(/segments/` + id + `\?cursor=[^"#]+)#members"`).FindStringSubmatch(first.body)
	if next == nil {
		t.Fatal("no link to the next page")
	}
	second := c.get(html.UnescapeString(next[1]))
	if second.status != 200 || strings.Count(second.body, `<tr data-contact=`) != 2 || !strings.Contains(second.body, "← First page") {
		t.Fatalf("second page: %d %d", second.status, strings.Count(second.body, `<tr data-contact=`))
	}
}
