package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/i18n"
	"github.com/leadcycle/leadcycle/web"
)

// scoringDraft stores a draft model through the API and returns its id.
func scoringDraft(t *testing.T, ts *testServer, name string, threshold int) leadcycle.ID {
	t.Helper()
	id := ts.mustCreate(t, "scoring-models", map[string]any{
		"name": name,
		"rules": []map[string]any{
			{"name": "CTO", "points": 20, "conditions": []string{`contact.job_title == "CTO"`}},
			{"name": "Opened an email", "points": 10, "behaviors": []map[string]any{{"type": "email_opened", "frequency": "at_least_once", "window_days": 30}}},
		},
		"grades":                []map[string]any{{"name": "A", "min": 15}, {"name": "B", "max": 14}},
		"sales_ready_threshold": threshold,
	})
	n, _ := leadcycle.ParseID(id)
	return n
}

// hxGet fetches a page as htmx polls it, for its fragment.
func (c *browserClient) hxGet(path string) pageResponse {
	c.t.Helper()
	req, _ := http.NewRequest("GET", c.base+path, nil)
	req.Header.Set("HX-Request", "true")
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return pageResponse{status: resp.StatusCode, body: string(b)}
}

// hxPost submits a form as htmx boosts it: the CSRF token in the header,
// not in the form.
func (c *browserClient) hxPost(path string, form url.Values) pageResponse {
	c.t.Helper()
	req, _ := http.NewRequest("POST", c.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	req.Header.Set("HX-Boosted", "true")
	req.Header.Set(web.CSRFHeader, c.csrf)
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.read(resp)
}

// ruleForm is the editor's form with the given rules (name, conditions,
// points) and the model's other fields.
func ruleForm(name string, threshold string, rules ...[3]string) url.Values {
	f := url.Values{"mode": {"rows"}, "name": {name}, "target": {"contact"}, "sales_ready_threshold": {threshold},
		"rule_rows": {fmt.Sprint(len(rules) + 1)}, "grade_rows": {"1"}}
	for i, r := range rules {
		f.Set(fmt.Sprintf("rule.%d.name", i), r[0])
		f.Set(fmt.Sprintf("rule.%d.conditions", i), r[1])
		f.Set(fmt.Sprintf("rule.%d.points", i), r[2])
	}
	return f
}

func TestScoringPages(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	mustUser(t, ts.store, "ana@example.gal", "Ana", leadcycle.RoleMarketer)
	mustUser(t, ts.store, "tele@example.gal", "Tareixa", leadcycle.RoleTelesales)
	lead := seedLead(t, ts, "Canning line", "Uxía", nil)
	if _, err := ts.store.Contacts().Update(ctx, *lead.ContactID, func(c *leadcycle.Contact) error { c.JobTitle = "CTO"; return nil }); err != nil {
		t.Fatal(err)
	}
	id := scoringDraft(t, ts, `Fit <script>alert("model")</script>`, 15)
	path := "/scoring-models/" + id.String()

	m := ts.login(t, "ana@example.gal")
	for _, p := range []string{"/scoring-models", path, "/scoring-models/new", "/scoring-models?status=draft"} {
		r := m.get(p)
		if r.status != http.StatusOK {
			t.Fatalf("%s: %d %s", p, r.status, r.body)
		}
		if strings.Contains(r.body, `<script>alert`) {
			t.Fatalf("%s shows the model's name unescaped", p)
		}
		checkAccessible(t, p, r.body)
	}
	page := m.get(path)
	for _, want := range []string{"&lt;script&gt;alert(", `contact.job_title == &#34;CTO&#34;`, `id="publish"`, `name="rule.2.name"`, `class="code"`, "Opened an email", "email_opened"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("the model page lacks %q", want)
		}
	}
	if list := m.get("/scoring-models"); !strings.Contains(list.body, `href="`+path+`"`) || !strings.Contains(list.body, `data-status="draft"`) {
		t.Error("the list does not link the draft with its status")
	}

	// Telesales may read models through the API, but not open these pages.
	tele := ts.login(t, "tele@example.gal")
	for _, p := range []string{"/scoring-models", path, "/scoring-models/new"} {
		if r := tele.get(p); r.status != http.StatusForbidden {
			t.Errorf("telesales on %s: %d", p, r.status)
		}
	}
	tele.get("/")
	if r := tele.post(path+"/publish", nil); r.status != http.StatusForbidden {
		t.Errorf("telesales publishing: %d", r.status)
	}

	// An expression naming an unknown field is refused by the API: the
	// page shows its message naming the rule, on the rule's row, with 422
	// and the typed rules kept.
	bad := ruleForm("Fit v1", "15", [3]string{"CTO", `contact.job_title == "CTO"`, "20"}, [3]string{"Big feet", "contact.custom.shoe_size > 40", "3"})
	r := m.post(path, bad)
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("unknown field: %d %s", r.status, r.body)
	}
	for _, want := range []string{`rule &#34;Big feet&#34;`, "rules[1].conditions[0]", `>contact.custom.shoe_size &gt; 40</textarea>`, `value="Big feet"`, `value="Fit v1"`, `class="rule-row invalid" data-rule="1"`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("the refused form lacks %q", want)
		}
	}
	if strings.Contains(r.body, `class="rule-row invalid" data-rule="0"`) {
		t.Error("the valid rule is marked invalid")
	}
	if got, _ := ts.store.ScoringModels().Get(ctx, id); len(got.Rules) != 2 || got.Rules[1].Name != "Opened an email" {
		t.Fatalf("a refused form changed the model: %+v", got.Rules)
	}
	// The same, sent as htmx sends a boosted form.
	if r := m.hxPost(path, bad); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, `value="Big feet"`) {
		t.Fatalf("unknown field, boosted: %d", r.status)
	}
	// Points that are not a number are the form's own error.
	if r := m.post(path, ruleForm("Fit", "", [3]string{"CTO", `contact.job_title == "CTO"`, "lots"})); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "points must be a whole number") || !strings.Contains(r.body, `value="lots"`) {
		t.Fatalf("points that are not a number: %d", r.status)
	}
	// Invalid JSON in the advanced editor keeps the typed text.
	if r := m.post(path, url.Values{"mode": {"json"}, "model_json": {`{"name": `}}); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, `>{&#34;name&#34;: </textarea>`) {
		t.Fatalf("broken JSON: %d %s", r.status, r.body)
	}

	// A valid edit of the draft changes it in place; a removed row goes.
	good := ruleForm("Fit <b>v1</b>", "15", [3]string{"CTO", `contact.job_title == "CTO"`, "20"}, [3]string{"Form leads", `lead.source == "form"`, "5"}, [3]string{"Gone", `lead.topic != ""`, "1"})
	good.Set("rule.2.remove", "1")
	good.Set("grade_rows", "2")
	good.Set("grade.0.name", "Hot")
	good.Set("grade.0.min", "15")
	r = m.post(path, good)
	if r.status != http.StatusSeeOther || r.location != path {
		t.Fatalf("save draft: %d %q %s", r.status, r.location, r.body)
	}
	got, _ := ts.store.ScoringModels().Get(ctx, id)
	if got.Name != "Fit <b>v1</b>" || len(got.Rules) != 2 || got.Rules[1].Name != "Form leads" || got.Rules[1].Conditions[0] != `lead.source == "form"` || len(got.Grades) != 1 || got.Version != 1 {
		t.Fatalf("saved draft: %+v", got)
	}
	if r := m.get(path); !strings.Contains(r.body, "Draft saved") || !strings.Contains(r.body, "Fit &lt;b&gt;v1&lt;/b&gt;") {
		t.Error("no message after saving, or the name is not escaped")
	}

	// The preview scores the seeded lead with the draft and explains it.
	r = m.get(path + "?lead_id=" + lead.ID.String())
	if r.status != 200 || !strings.Contains(r.body, `id="preview-result"`) || !strings.Contains(r.body, `<span class="value">20</span>`) || !strings.Contains(r.body, "<td>CTO</td>") {
		t.Fatalf("preview: %d %s", r.status, r.body)
	}
	if r := m.get(path + "?lead_id=987654"); r.status != 200 || !strings.Contains(r.body, "There is no lead 987654") {
		t.Fatalf("preview of a missing lead: %d", r.status)
	}

	// Publishing puts the model live; the page polls the rescore until it
	// is done.
	m.get(path)
	r = m.post(path+"/publish", nil)
	if r.status != http.StatusSeeOther {
		t.Fatalf("publish: %d %s", r.status, r.body)
	}
	if got, _ := ts.store.ScoringModels().Get(ctx, id); got.Status != leadcycle.ModelLive {
		t.Fatalf("status after publishing: %s", got.Status)
	}
	r = m.get(path)
	if !strings.Contains(r.body, "<progress") || !strings.Contains(r.body, `hx-trigger="every 1s"`) || !strings.Contains(r.body, `hx-get="`+path+`"`) || !strings.Contains(r.body, ">Refresh</a>") {
		t.Fatalf("a running rescore is not polled: %s", r.body)
	}
	if strings.Contains(r.body, `id="publish"`) {
		t.Error("a live model offers publish")
	}
	ts.processScores(t)
	frag := m.hxGet(path)
	if frag.status != 200 || strings.Contains(frag.body, "<html") || strings.Contains(frag.body, "hx-trigger") || !strings.Contains(frag.body, `id="rescore-done"`) || !strings.Contains(frag.body, `value="100"`) {
		t.Fatalf("the finished rescore's fragment: %d %s", frag.status, frag.body)
	}
	if l, _ := ts.store.Leads().Get(ctx, lead.ID); !l.SalesReady {
		t.Fatal("the rescore did not make the lead sales ready")
	}

	// Editing the live model makes a new draft version and goes to it.
	r = m.post(path, ruleForm("Fit v2", "25", [3]string{"CTO", `contact.job_title == "CTO"`, "30"}))
	if r.status != http.StatusSeeOther || r.location == path {
		t.Fatalf("edit live: %d %q %s", r.status, r.location, r.body)
	}
	next := m.get(r.location)
	if !strings.Contains(next.body, "Version 2 was made as a draft") || !strings.Contains(next.body, `data-status="draft"`) {
		t.Fatalf("the new version's page: %s", next.body)
	}
	if got, _ := ts.store.ScoringModels().Get(ctx, id); got.Status != leadcycle.ModelLive || got.Name != "Fit <b>v1</b>" {
		t.Fatalf("the live version changed: %+v", got)
	}
	// The live version now points to its draft instead of an editor.
	if r := m.get(path); !strings.Contains(r.body, "Open version 2") {
		t.Error("the live version does not point to its draft")
	}

	// Stopping, clearing the scores.
	r = m.post(path+"/stop", url.Values{"scores": {"clear"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("stop: %d %s", r.status, r.body)
	}
	if got, _ := ts.store.ScoringModels().Get(ctx, id); got.Status != leadcycle.ModelStopped {
		t.Fatalf("status after stopping: %s", got.Status)
	}
	// Stopping again is the API's conflict, shown on the page.
	if r := m.post(path+"/stop", nil); r.status != http.StatusConflict || !strings.Contains(r.body, `class="problem"`) {
		t.Fatalf("stop a stopped model: %d", r.status)
	}

	// A new model from the form.
	r = m.post("/scoring-models/new", ruleForm("Engagement", "", [3]string{"Form leads", `lead.source == "form"`, "5"}))
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/scoring-models/") {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	models, _ := ts.store.ScoringModels().List(ctx, leadcycle.ListQuery{Filters: []leadcycle.Filter{{Columns: []string{"key"}, Op: leadcycle.OpEq, Value: "engagement"}}, Limit: 5})
	if len(models.Items) != 1 || models.Items[0].Status != leadcycle.ModelDraft || len(models.Items[0].Rules) != 1 {
		t.Fatalf("created models: %+v", models.Items)
	}
	// A new model without a name keeps the typed rule.
	r = m.post("/scoring-models/new", ruleForm("", "", [3]string{"Form leads", `lead.source == "form"`, "5"}))
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, `value="Form leads"`) || !strings.Contains(r.body, `class="field-error" id="m-name-err"`) {
		t.Fatalf("create without a name: %d %s", r.status, r.body)
	}
	// The advanced editor creates from JSON.
	r = m.post("/scoring-models/new", url.Values{"mode": {"json"}, "model_json": {`{"name": "From JSON", "rules": [{"name": "r", "points": 2, "conditions": ["lead.source == \"api\""]}]}`}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("create from JSON: %d %s", r.status, r.body)
	}
}

// TestScoringCatalogKeys: the keys the scoring pages build from values
// exist in every language.
func TestScoringCatalogKeys(t *testing.T) {
	b := i18n.MustLoad()
	var keys []string
	for _, s := range []string{leadcycle.ModelDraft, leadcycle.ModelLive, leadcycle.ModelStopped} {
		keys = append(keys, "scoring.status."+s)
	}
	for _, s := range leadcycle.ScoringTargets {
		keys = append(keys, "scoring.target."+s)
	}
	for _, s := range leadcycle.Frequencies {
		keys = append(keys, "scoring.frequency."+s)
	}
	keys = append(keys, "scoring.stopped_keep", "scoring.stopped_clear")
	mustHaveKeys(t, b, keys)
}
