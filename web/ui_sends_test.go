package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/leadcycle/leadcycle"
)

// seedSends makes a template, a consenting and a refusing contact in a
// static segment, and a published journey that emails them, and runs it
// once; then brais is suppressed: one send stays queued, one is skipped.
func seedSends(t *testing.T, ts *testServer) (tmpl, jid, ana, brais string) {
	t.Helper()
	tmpl = ts.mustCreate(t, "email-templates", map[string]any{"name": "Autumn offer", "subject": "Our tins", "html": "<p>Hola {{contact.first_name | \"amiga\"}}</p>"})
	ana = ts.mustCreate(t, "contacts", map[string]any{"first_name": "Ánxela", "email": "anxela@example.gal", "consent": map[string]any{"commercial_email": "granted"}})
	brais = ts.mustCreate(t, "contacts", map[string]any{"first_name": "Brais", "email": "brais@example.gal", "consent": map[string]any{"commercial_email": "granted"}})
	seg := ts.mustCreate(t, "segments", map[string]any{"name": "Autumn fair", "kind": "static"})
	if r := ts.do(t, "POST", "/api/v1/segments/"+seg+"/members", leadcycle.RoleMarketer, map[string]any{"contact_ids": []string{ana, brais}}); r.status != 200 {
		t.Fatalf("members: %d %s", r.status, r.body)
	}
	jid = ts.mustCreate(t, "journeys", map[string]any{"name": "Autumn nurture", "entry": map[string]any{"kind": "segment", "segment_id": seg},
		"steps": []map[string]any{{"id": "mail", "type": "send_email", "email_id": tmpl}, {"id": "pause", "type": "wait", "duration": "3d"}}})
	if r := ts.do(t, "POST", "/api/v1/journeys/"+jid+"/publish", leadcycle.RoleMarketer, nil); r.status != 200 {
		t.Fatalf("publish: %d %s", r.status, r.body)
	}
	if _, err := ts.store.JourneyRuns().ProcessDue(context.Background(), 10); err != nil {
		t.Fatal(err)
	}
	if r := ts.do(t, "POST", "/api/v1/suppressions", leadcycle.RoleMarketer, map[string]any{"email": "brais@example.gal", "reason": "complaint"}); r.status != 201 {
		t.Fatalf("suppress: %d %s", r.status, r.body)
	}
	return
}

func TestEmailSendsPage(t *testing.T) {
	ts := newTestServer(t)
	mustUser(t, ts.store, "ana@example.gal", "Ana", leadcycle.RoleMarketer)
	mustUser(t, ts.store, "rita@example.gal", "Rita", leadcycle.RoleReadonly)
	tmpl, jid, ana, brais := seedSends(t, ts)
	m := ts.login(t, "ana@example.gal")
	r := m.get("/email-sends")
	if r.status != 200 {
		t.Fatalf("/email-sends: %d %s", r.status, r.body)
	}
	wantAll(t, "the sends", r.body, `id="sends-table"`, `href="/contacts/`+ana+`">anxela@example.gal</a>`, `href="/contacts/`+brais+`">brais@example.gal</a>`,
		`href="/email-templates/`+tmpl+`">Autumn offer</a>`, `href="/journeys/`+jid+`">Autumn nurture</a>`, `data-status="queued"`, `data-status="skipped"`,
		`class="badge warn">Queued</span>`, `id="send-status"`, `href="/email-sends" aria-current="page"`, `href="/suppressions"`, `href="/email-templates"`,
		`href="/email-templates" aria-current="page"`)
	checkAccessible(t, "/email-sends", r.body)

	// The status filter.
	r = m.get("/email-sends?status=skipped")
	if r.status != 200 || !strings.Contains(r.body, "brais@example.gal") || strings.Contains(r.body, "anxela@example.gal") || !strings.Contains(r.body, `value="skipped" selected`) {
		t.Errorf("status filter: %d %.4000s", r.status, r.body)
	}
	if r := m.get("/email-sends?status=bounced"); !strings.Contains(r.body, `id="no-sends"`) {
		t.Error("no bounced send: the empty state is not shown")
	}
	// The journey page links to its sends, and the journey filter holds.
	if r := m.get("/journeys/" + jid); !strings.Contains(r.body, `href="/email-sends?journey_id=`+jid+`"`) {
		t.Error("the journey page does not link to its sends")
	}
	r = m.get("/email-sends?journey_id=" + jid + "&status=queued")
	if r.status != 200 || !strings.Contains(r.body, "anxela@example.gal") || strings.Contains(r.body, "brais@example.gal") || !strings.Contains(r.body, `name="journey_id" value="`+jid+`"`) {
		t.Errorf("journey filter: %d", r.status)
	}
	if r := m.get("/email-sends?journey_id=999999"); !strings.Contains(r.body, `id="no-sends"`) {
		t.Error("another journey's filter lists sends")
	}
	// A status the API refuses.
	if r := m.get("/email-sends?status=nonsense"); r.status != http.StatusUnprocessableEntity && r.status != http.StatusBadRequest {
		t.Errorf("bad status: %d", r.status)
	}

	// The templates page links to the sends.
	if r := m.get("/email-templates"); !strings.Contains(r.body, `href="/email-sends"`) || !strings.Contains(r.body, `id="email-tabs"`) {
		t.Error("the templates page has no email tabs")
	}
	// Readonly reads the sends.
	ro := ts.login(t, "rita@example.gal")
	if r := ro.get("/email-sends"); r.status != 200 || !strings.Contains(r.body, "anxela@example.gal") {
		t.Errorf("readonly sends: %d", r.status)
	}
}

// TestEmailSendsPaging follows the Older link through the API cursor.
func TestEmailSendsPaging(t *testing.T) {
	ts := newTestServer(t)
	mustUser(t, ts.store, "ana@example.gal", "Ana", leadcycle.RoleMarketer)
	tmpl := ts.mustCreate(t, "email-templates", map[string]any{"name": "Offer", "subject": "Tins", "html": "<p>Hi</p>"})
	seg := ts.mustCreate(t, "segments", map[string]any{"name": "Many", "kind": "static"})
	var ids []string
	for i := 0; i < 55; i++ {
		ids = append(ids, ts.mustCreate(t, "contacts", map[string]any{"first_name": "C", "consent": map[string]any{"commercial_email": "granted"}, "email": "c" + strings.Repeat("x", i%3) + string(rune('a'+i%26)) + "@example.gal"}))
	}
	if r := ts.do(t, "POST", "/api/v1/segments/"+seg+"/members", leadcycle.RoleMarketer, map[string]any{"contact_ids": ids}); r.status != 200 {
		t.Fatalf("members: %d %s", r.status, r.body)
	}
	jid := ts.mustCreate(t, "journeys", map[string]any{"name": "Many", "entry": map[string]any{"kind": "segment", "segment_id": seg},
		"steps": []map[string]any{{"id": "mail", "type": "send_email", "email_id": tmpl}}})
	ts.do(t, "POST", "/api/v1/journeys/"+jid+"/publish", leadcycle.RoleMarketer, nil)
	for i := 0; i < 10; i++ {
		if n, err := ts.store.JourneyRuns().ProcessDue(context.Background(), 100); err != nil {
			t.Fatal(err)
		} else if n == 0 {
			break
		}
	}
	m := ts.login(t, "ana@example.gal")
	r := m.get("/email-sends")
	if strings.Count(r.body, "<tr data-send=") != 50 || !strings.Contains(r.body, `id="sends-older"`) {
		t.Fatalf("first page: %d rows", strings.Count(r.body, "<tr data-send="))
	}
	i := strings.Index(r.body, `id="sends-older"`)
	start := strings.LastIndex(r.body[:i], `href="`) + len(`href="`)
	href := strings.ReplaceAll(r.body[start:start+strings.Index(r.body[start:], `"`)], "&amp;", "&")
	r = m.get(href)
	if r.status != 200 || strings.Count(r.body, "<tr data-send=") != 5 || strings.Contains(r.body, `id="sends-older"`) {
		t.Errorf("older page %s: %d, %d rows", href, r.status, strings.Count(r.body, "<tr data-send="))
	}
}

func TestSuppressionsPage(t *testing.T) {
	ts := newTestServer(t)
	mustUser(t, ts.store, "ana@example.gal", "Ana", leadcycle.RoleMarketer)
	mustUser(t, ts.store, "rita@example.gal", "Rita", leadcycle.RoleReadonly)
	m := ts.login(t, "ana@example.gal")
	r := m.get("/suppressions")
	if r.status != 200 {
		t.Fatalf("/suppressions: %d %s", r.status, r.body)
	}
	wantAll(t, "the empty list", r.body, `id="no-suppressions"`, `id="suppression-form"`, `href="/suppressions" aria-current="page"`, `value="bounce" selected`)
	checkAccessible(t, "/suppressions", r.body)

	// A bad address: the field error beside it, the input kept, nothing stored.
	r = m.post("/suppressions", url.Values{"email": {"not-an-address"}, "reason": {"complaint"}, "detail": {"typed by hand"}})
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("bad email: %d %s", r.status, r.body)
	}
	wantAll(t, "the refused form", r.body, `id="s-email-err"`, "must be an email address", `value="not-an-address"`, `value="typed by hand"`,
		`value="complaint" selected`, `aria-invalid="true"`)
	checkAccessible(t, "/suppressions (refused)", r.body)

	r = m.post("/suppressions", url.Values{"email": {"Xoan@Example.gal"}, "reason": {"bounce"}, "detail": {"550 mailbox unknown"}})
	if r.status != http.StatusSeeOther || r.location != "/suppressions" {
		t.Fatalf("add: %d %s", r.status, r.body)
	}
	r = m.get("/suppressions")
	wantAll(t, "the list", r.body, `data-email="xoan@example.gal"`, "550 mailbox unknown", ">Bounce<", "is on the suppression list.", `class="remove-suppression"`)
	checkAccessible(t, "/suppressions (one)", r.body)

	// CSRF is required.
	if r := m.post("/suppressions/remove", url.Values{"email": {"xoan@example.gal"}, "csrf_token": {"wrong"}}); r.status != http.StatusForbidden {
		t.Errorf("remove without CSRF: %d", r.status)
	}
	if r := m.post("/suppressions", url.Values{"email": {"a@example.gal"}, "reason": {"bounce"}, "csrf_token": {"wrong"}}); r.status != http.StatusForbidden {
		t.Errorf("add without CSRF: %d", r.status)
	}

	// Readonly: the list without forms, 403 on POST.
	ro := ts.login(t, "rita@example.gal")
	r = ro.get("/suppressions")
	if r.status != 200 || !strings.Contains(r.body, "xoan@example.gal") || strings.Contains(r.body, `id="suppression-form"`) || strings.Contains(r.body, `class="remove-suppression"`) {
		t.Errorf("readonly: %d", r.status)
	}
	if r := ro.post("/suppressions", url.Values{"email": {"b@example.gal"}, "reason": {"bounce"}}); r.status != http.StatusForbidden {
		t.Errorf("readonly add: %d", r.status)
	}
	if r := ro.post("/suppressions/remove", url.Values{"email": {"xoan@example.gal"}}); r.status != http.StatusForbidden {
		t.Errorf("readonly remove: %d", r.status)
	}

	// Remove.
	r = m.post("/suppressions/remove", url.Values{"email": {"xoan@example.gal"}})
	if r.status != http.StatusSeeOther || r.location != "/suppressions" {
		t.Fatalf("remove: %d %s", r.status, r.body)
	}
	r = m.get("/suppressions")
	wantAll(t, "after remove", r.body, `id="no-suppressions"`, "was taken off the suppression list.")
	// Removing it again: not found.
	if r := m.post("/suppressions/remove", url.Values{"email": {"xoan@example.gal"}}); r.status != http.StatusNotFound {
		t.Errorf("remove twice: %d", r.status)
	}
}

func TestEmailSendsLanguage(t *testing.T) {
	ts := newTestServer(t)
	mustUser(t, ts.store, "ana@example.gal", "Ana", leadcycle.RoleMarketer)
	seedSends(t, ts)
	m := ts.login(t, "ana@example.gal")
	if r := m.post("/language", url.Values{"lang": {"gl"}, "next": {"/email-sends"}}); r.status != http.StatusSeeOther {
		t.Fatalf("language: %d", r.status)
	}
	r := m.get("/email-sends")
	wantAll(t, "the Galician sends", r.body, `lang="gl"`, "Correos enviados", "Lista de exclusión", "Na cola", "Omitido", "Destinatario")
	r = m.get("/suppressions")
	wantAll(t, "the Galician suppressions", r.body, `lang="gl"`, "Excluír un enderezo", "Queixa", "Quitar")
}
