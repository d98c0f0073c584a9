package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/leadcycle/leadcycle"
)

// journeyStatus reads a journey's status from the store.
func journeyStatus(t *testing.T, ts *testServer, id string) string {
	t.Helper()
	jid, _ := leadcycle.ParseID(id)
	j, err := ts.store.Journeys().Get(context.Background(), jid)
	if err != nil {
		t.Fatal(err)
	}
	return j.Status
}

func TestJourneyPages(t *testing.T) {
	ts := newTestServer(t)
	mustUser(t, ts.store, "ana@example.gal", "Ana", leadcycle.RoleMarketer)
	mustUser(t, ts.store, "rita@example.gal", "Rita", leadcycle.RoleReadonly)
	seg := ts.mustCreate(t, "segments", map[string]any{"name": "Autumn fair", "kind": "static"})
	tmpl := ts.mustCreate(t, "email-templates", map[string]any{"name": "Autumn offer", "subject": "Our tins", "html": "<p>Hola {{contact.first_name | \"amiga\"}}</p>"})
	jid := ts.mustCreate(t, "journeys", map[string]any{
		"name": "Autumn nurture", "entry": map[string]any{"kind": "segment", "segment_id": seg}, "goal": `job_title == "CTO"`,
		"steps": []map[string]any{
			{"id": "mail", "type": "send_email", "email_id": tmpl},
			{"id": "pause", "type": "wait", "duration": "3d"},
			{"id": "opened", "type": "branch", "interaction": map[string]any{"type": "email_opened", "email_step": "mail", "within": "3d"}, "then": "lead", "else": "bye"},
			{"id": "bye", "type": "exit"},
			{"id": "lead", "type": "create_lead", "topic": "Autumn tins"},
		},
	})

	m := ts.login(t, "ana@example.gal")
	r := m.get("/journeys")
	if r.status != 200 {
		t.Fatalf("/journeys: %d %s", r.status, r.body)
	}
	wantAll(t, "the list", r.body, `href="/journeys/`+jid+`"`, "Autumn nurture", `data-status="draft"`, `data-entered="0"`, "Skipped for consent",
		`href="/journeys" aria-current="page"`, `href="/email-templates"`, `id="new-journey"`)
	checkAccessible(t, "/journeys", r.body)

	path := "/journeys/" + jid
	r = m.get(path)
	if r.status != 200 {
		t.Fatalf("%s: %d %s", path, r.status, r.body)
	}
	wantAll(t, "the journey", r.body, "Send email «Autumn offer»", "Wait 3d", "If email_opened within 3d → then lead / else bye",
		"The members of «Autumn fair» when published", `id="journey-goal"`, `data-stat="skipped_consent"`, "Skipped for consent",
		`id="journey-publish"`, `id="edit-journey"`, `id="no-runs"`, `id="run-state"`)
	checkAccessible(t, path, r.body)

	// The lifecycle through the buttons.
	for _, step := range []struct{ action, status, next string }{
		{"publish", "live", "journey-pause"}, {"pause", "paused", "journey-resume"}, {"resume", "live", "journey-stop"}, {"stop", "stopped", ""},
	} {
		r = m.post(path+"/"+step.action, nil)
		if r.status != http.StatusSeeOther || r.location != path {
			t.Fatalf("%s: %d %s", step.action, r.status, r.body)
		}
		if got := journeyStatus(t, ts, jid); got != step.status {
			t.Fatalf("after %s: %s", step.action, got)
		}
		r = m.get(path)
		if step.next != "" && !strings.Contains(r.body, `id="`+step.next+`"`) {
			t.Errorf("after %s no %s button", step.action, step.next)
		}
	}
	if strings.Contains(r.body, `action="/journeys/`+jid+`/`) {
		t.Error("a stopped journey offers actions")
	}
	// A refused action is shown on the page.
	r = m.post(path+"/resume", nil)
	if r.status != http.StatusConflict || !strings.Contains(r.body, `class="problem"`) {
		t.Errorf("refused resume: %d", r.status)
	}
	// CSRF is required.
	if r := m.post(path+"/publish", url.Values{"csrf_token": {"wrong"}}); r.status != http.StatusForbidden {
		t.Errorf("without CSRF: %d", r.status)
	}

	// Readonly: no buttons, 403 on POST.
	ro := ts.login(t, "rita@example.gal")
	r = ro.get(path)
	if r.status != 200 || strings.Contains(r.body, `id="journey-actions"`) || strings.Contains(ro.get("/journeys").body, `id="new-journey"`) {
		t.Errorf("readonly sees buttons: %d", r.status)
	}
	if r := ro.post(path+"/pause", nil); r.status != http.StatusForbidden {
		t.Errorf("readonly POST: %d", r.status)
	}

	// Create through the form.
	r = m.get("/journeys/new")
	wantAll(t, "the new form", r.body, `name="steps"`, `&#34;duration&#34;: &#34;3d&#34;`, `value="`+seg+`"`, `value="lead_created"`)
	checkAccessible(t, "/journeys/new", r.body)
	r = m.post("/journeys/new", url.Values{"name": {"Welcome"}, "entry_kind": {"trigger"}, "trigger": {"lead_created"},
		"steps": {`[{"id":"w","type":"wait","duration":"1d"},{"type":"exit"}]`}})
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/journeys/") {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	r = m.get(r.location)
	wantAll(t, "the new journey", r.body, "Journey “Welcome” created.", "A lead is created", "Wait 1d", "Exit the journey")
	// An invalid step: its field error under the steps, the input kept.
	bad := `[{"type":"wait","duration":"1d"},{"type":"exit"},{"type":"wait","duration":"soon"}]`
	r = m.post("/journeys/new", url.Values{"name": {"Bad"}, "description": {"typed"}, "entry_kind": {"trigger"}, "trigger": {"lead_created"}, "steps": {bad}})
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("bad step: %d %s", r.status, r.body)
	}
	wantAll(t, "the refused form", r.body, `id="j-steps-err"`, "steps[2].duration", `value="Bad"`, `>typed</textarea>`, "soon", `aria-invalid="true"`)
	checkAccessible(t, "/journeys/new (refused)", r.body)
	// Not JSON.
	if r := m.post("/journeys/new", url.Values{"name": {"X"}, "entry_kind": {"trigger"}, "trigger": {"lead_created"}, "steps": {"[{"}}); r.status != 422 || !strings.Contains(r.body, "not valid JSON") {
		t.Errorf("not JSON: %d", r.status)
	}
}

func TestJourneyDraftEdit(t *testing.T) {
	ts := newTestServer(t)
	mustUser(t, ts.store, "ana@example.gal", "Ana", leadcycle.RoleMarketer)
	jid := ts.mustCreate(t, "journeys", map[string]any{"name": "Draft", "entry": map[string]any{"kind": "trigger", "trigger": "lead_created"},
		"steps": []map[string]any{{"id": "w", "type": "wait", "duration": "2h"}}})
	m := ts.login(t, "ana@example.gal")
	r := m.get("/journeys/" + jid + "/edit")
	wantAll(t, "the edit form", r.body, `value="Draft"`, `&#34;duration&#34;: &#34;2h&#34;`)
	checkAccessible(t, "/journeys/edit", r.body)
	r = m.post("/journeys/"+jid+"/edit", url.Values{"name": {"Renamed"}, "entry_kind": {"trigger"}, "trigger": {"lead_created"}, "steps": {`[{"id":"w","type":"wait","duration":"1w"}]`}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("edit: %d %s", r.status, r.body)
	}
	if r := m.get("/journeys/" + jid); !strings.Contains(r.body, "Renamed") || !strings.Contains(r.body, "Wait 1w") {
		t.Error("the edit is not shown")
	}
}

func TestJourneyLanguage(t *testing.T) {
	ts := newTestServer(t)
	mustUser(t, ts.store, "ana@example.gal", "Ana", leadcycle.RoleMarketer)
	jid := ts.mustCreate(t, "journeys", map[string]any{"name": "Benvida", "entry": map[string]any{"kind": "trigger", "trigger": "lead_created"},
		"steps": []map[string]any{{"id": "w", "type": "wait", "duration": "2h"}}})
	m := ts.login(t, "ana@example.gal")
	if r := m.post("/language", url.Values{"lang": {"gl"}, "next": {"/journeys"}}); r.status != http.StatusSeeOther {
		t.Fatalf("language: %d", r.status)
	}
	r := m.get("/journeys/" + jid)
	wantAll(t, "the Galician journey", r.body, `lang="gl"`, "Percorridos", "Agardar 2h", "Omitidos por consentimento", "Publicar")
	r = m.get("/email-templates/new")
	wantAll(t, "the Galician template form", r.body, `lang="gl"`, "Marcadores", "Asunto")
}

func TestEmailTemplatePages(t *testing.T) {
	ts := newTestServer(t)
	mustUser(t, ts.store, "ana@example.gal", "Ana", leadcycle.RoleMarketer)
	mustUser(t, ts.store, "rita@example.gal", "Rita", leadcycle.RoleReadonly)
	m := ts.login(t, "ana@example.gal")
	r := m.get("/email-templates")
	if r.status != 200 {
		t.Fatalf("/email-templates: %d %s", r.status, r.body)
	}
	wantAll(t, "the empty list", r.body, "No email template yet.", `id="new-template"`, `href="/email-templates" aria-current="page"`)
	checkAccessible(t, "/email-templates", r.body)
	r = m.get("/email-templates/new")
	wantAll(t, "the new form", r.body, `{{contact.first_name | &#34;fallback&#34;}}`, `{{account.name}}`, `{{unsubscribe_url}}`, `name="html"`, `name="from_email"`)
	checkAccessible(t, "/email-templates/new", r.body)

	// A bad placeholder: the positioned problem beside the field, input kept.
	html := "<p>Hello</p>\n<p>\n<p>Hi {{contact.frist_name}}</p>"
	r = m.post("/email-templates/new", url.Values{"name": {"Offer"}, "subject": {"Tins"}, "html": {html}, "purpose": {"commercial"}})
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("bad placeholder: %d %s", r.status, r.body)
	}
	wantAll(t, "the refused template", r.body, `id="t-html-err"`, "3:", "frist_name", `value="Offer"`, "Hi {{contact.frist_name}}&lt;/p&gt;</textarea>")
	checkAccessible(t, "/email-templates/new (refused)", r.body)
	if ts.count(t, "email-templates") != 0 {
		t.Fatal("a refused template was stored")
	}
	r = m.post("/email-templates/new", url.Values{"name": {"Offer"}, "subject": {"Tins"}, "html": {"<p>Hi {{contact.first_name | \"there\"}}</p>"}, "purpose": {"commercial"}})
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/email-templates/") {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	loc := r.location
	r = m.get(loc)
	wantAll(t, "the template", r.body, "Email template “Offer” created.", `value="Tins"`, `id="save-template"`)
	checkAccessible(t, loc, r.body)
	if r := m.post(loc, url.Values{"name": {"Offer 2"}, "subject": {"Tins"}, "html": {"<p>x</p>"}}); r.status != http.StatusSeeOther {
		t.Fatalf("save: %d %s", r.status, r.body)
	}
	if r := m.get("/email-templates"); !strings.Contains(r.body, "Offer 2") {
		t.Error("the list lacks the template")
	}
	ro := ts.login(t, "rita@example.gal")
	if r := ro.get(loc); r.status != 200 || strings.Contains(r.body, `id="save-template"`) {
		t.Errorf("readonly: %d", r.status)
	}
	if r := ro.post(loc, url.Values{"name": {"x"}}); r.status != http.StatusForbidden {
		t.Errorf("readonly POST: %d", r.status)
	}
}

// TestJourneyRunsTable: the journey page lists its contacts by name with
// their state and step, and filters them by state.
func TestJourneyRunsTable(t *testing.T) {
	ts := newTestServer(t)
	mustUser(t, ts.store, "ana@example.gal", "Ana", leadcycle.RoleMarketer)
	uxia := ts.mustCreate(t, "contacts", map[string]any{"first_name": "Uxía", "last_name": "Pena", "email": "uxia@example.gal"})
	anon := ts.mustCreate(t, "contacts", map[string]any{"phone": "+34 600 000 001"})
	seg := ts.mustCreate(t, "segments", map[string]any{"name": "Fair", "kind": "static"})
	ts.do(t, "POST", "/api/v1/segments/"+seg+"/members", leadcycle.RoleMarketer, map[string]any{"contact_ids": []string{uxia, anon}})
	j := ts.mustCreate(t, "journeys", map[string]any{"name": "Fair", "entry": map[string]any{"kind": "segment", "segment_id": seg},
		"steps": []map[string]any{{"id": "pause", "type": "wait", "duration": "3d"}}})
	ts.do(t, "POST", "/api/v1/journeys/"+j+"/publish", leadcycle.RoleMarketer, nil)
	if _, err := ts.store.JourneyRuns().ProcessDue(context.Background(), 10); err != nil {
		t.Fatal(err)
	}
	c := ts.login(t, "ana@example.gal")
	page := c.get("/journeys/" + j)
	if page.status != http.StatusOK || !strings.Contains(page.body, ">Uxía Pena</a>") || !strings.Contains(page.body, "uxia@example.gal") ||
		!strings.Contains(page.body, ">#"+anon+"</a>") || strings.Count(page.body, `data-state="waiting"`) != 2 {
		t.Fatalf("runs table: %d %.6000s", page.status, page.body)
	}
	if page := c.get("/journeys/" + j + "?state=completed"); strings.Contains(page.body, "Uxía Pena") {
		t.Error("the state filter lists a waiting contact under completed")
	}
}

// TestEmailTemplatePreviewPage: a marketer previews a template for a
// contact; an unknown address says so; a readonly user has no preview.
func TestEmailTemplatePreviewPage(t *testing.T) {
	ts := newTestServer(t)
	mustUser(t, ts.store, "ana@example.gal", "Ana", leadcycle.RoleMarketer)
	mustUser(t, ts.store, "rita@example.gal", "Rita", leadcycle.RoleReadonly)
	ts.mustCreate(t, "contacts", map[string]any{"first_name": "Xiana", "email": "xiana@example.gal"})
	tmpl := ts.mustCreate(t, "email-templates", map[string]any{"name": "Offer", "subject": "Hola {{contact.first_name}}", "html": "<p>Hi {{contact.first_name}}</p>"})
	c := ts.login(t, "ana@example.gal")
	page := c.get("/email-templates/" + tmpl + "?preview=Xiana@example.gal")
	if page.status != http.StatusOK || !strings.Contains(page.body, `<span id="preview-subject">Hola Xiana</span>`) || !strings.Contains(page.body, `id="preview-html"`) ||
		!strings.Contains(page.body, "Hi Xiana") {
		t.Fatalf("preview: %d %.5000s", page.status, page.body)
	}
	if page := c.get("/email-templates/" + tmpl + "?preview=nobody@example.gal"); !strings.Contains(page.body, `id="t-preview-err"`) || !strings.Contains(page.body, "nobody@example.gal") {
		t.Errorf("unknown contact: %.3000s", page.body)
	}
	ro := ts.login(t, "rita@example.gal")
	if page := ro.get("/email-templates/" + tmpl + "?preview=xiana@example.gal"); strings.Contains(page.body, `id="t-preview"`) || strings.Contains(page.body, "Hola Xiana") {
		t.Error("a readonly user sees the preview")
	}
}
