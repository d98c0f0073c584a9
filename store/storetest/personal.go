package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/forms"
	"github.com/leadcycle/leadcycle/linkedin"
)

// The person of the personal data tests. The strings are distinctive so
// that finding one anywhere in the database means it was left behind.
const (
	personFirst = "Xurxo"
	personLast  = "Valdeorras-Pintos"
	personEmail = "xurxo.valdeorras@conservas-rias.example"
	personPhone = "+34 986 555 012"
	personIP    = "203.0.113.77"
	linkedinURN = "urn:li:leadFormResponse:7701"
)

// personalDataTests check the export and the erasure of a contact's
// personal data and the audit log.
var personalDataTests = []test{
	{"export_everything", testExportEverything},
	{"export_streams_items", testExportStreams},
	{"export_unknown_contact", testExportUnknown},
	{"erase_everything", testEraseEverything},
	{"erase_twice_is_not_found", testEraseTwice},
	{"erase_reason", testEraseReason},
	{"erase_cancelled_leaves_everything", testEraseCancelled},
	{"erase_skipped_by_workers", testEraseSkippedByWorkers},
	{"erase_while_workers_run", testEraseWhileWorkersRun},
	{"audit_log_pages_and_filters", testAuditLog},
}

// person is a contact with something in every table that can hold its
// data, beside another contact of the same account that must be left alone.
type person struct {
	contact, other               *leadcycle.Contact
	account                      *leadcycle.Account
	formLead, manualLead         *leadcycle.Lead
	accountLead, otherLead       *leadcycle.Lead
	opportunity                  *leadcycle.Opportunity
	form                         *leadcycle.Form
	contactModel, accountModel   *leadcycle.ScoringModel
	connection                   leadcycle.ID
	otherPending                 leadcycle.ID
	identified, anonymous        string // visitor ids
	interactions, otherInteracts int
}

// newPerson builds the person: a form submission (stored, captured, with a
// visitor that browsed before), an unprocessed submission holding the email
// (with another, anonymous visitor), leads with scores and timelines, an
// opportunity, a task, interactions, an event registration, a LinkedIn
// response and its capture, and the outbox events of all that, delivered
// to a webhook.
func newPerson(t *testing.T, e *env) *person {
	t.Helper()
	p := &person{identified: trkVisitor(901), anonymous: trkVisitor(902)}
	p.contactModel = MustPublishModel(t, e.ctx, e.s, &leadcycle.ScoringModel{Name: "Engagement", Key: "engagement", Rules: []leadcycle.ScoringRule{
		{Name: "Views", Points: 5, Behaviors: []leadcycle.Behavior{{Type: "page_view", Frequency: leadcycle.FrequencyEachTime, WindowDays: ptr(30)}}}}})
	p.accountModel = MustPublishModel(t, e.ctx, e.s, &leadcycle.ScoringModel{Name: "Account views", Key: "account_views", Target: leadcycle.TargetAccount,
		Rules: []leadcycle.ScoringRule{{Name: "Views", Points: 2, Behaviors: []leadcycle.Behavior{{Type: "page_view", Frequency: leadcycle.FrequencyEachTime, WindowDays: ptr(30)}}}}})
	MustCreate(t, e.ctx, e.s.Webhooks(), &leadcycle.Webhook{Name: "CRM", URL: "https://crm.example.com/hook", Events: []string{"*"}, Active: true, Secret: "sealed"})
	p.account = MustCreateAccount(t, e.ctx, e.s, &leadcycle.Account{Name: "Conservas Rías", Industry: "Retail"})
	p.form = mustForm(t, e, "Ebook", nil)
	p.captureForm(t, e)
	p.contact = MustUpdate(t, e.ctx, e.s.Contacts(), p.contact.ID, func(c *leadcycle.Contact) error {
		c.LastName, c.AccountID, c.JobTitle = personLast, &p.account.ID, "Director of operations"
		return nil
	})
	p.savePending(t, e)
	p.addRecords(t, e)
	p.addLinkedIn(t, e)
	p.addOther(t, e)
	p.settle(t, e)
	return p
}

// captureForm stores and captures the person's form submission, after
// anonymous page views of the visitor that sent it.
func (p *person) captureForm(t *testing.T, e *env) {
	t.Helper()
	for _, path := range []string{"/", "/pricing"} {
		trkView(t, e, leadcycle.PageView{VisitorID: p.identified, URL: "https://www.conservas-rias.example" + path})
	}
	sub := &leadcycle.FormSubmission{FormID: p.form.ID, Key: forms.NewKey(), VisitorID: p.identified, IP: personIP, UserAgent: "Firefox/140",
		Values: map[string]string{"email": personEmail, "first_name": personFirst, "phone": personPhone}}
	if _, err := e.s.Submissions().SaveSubmission(e.ctx, sub); err != nil {
		t.Fatal(err)
	}
	res, err := e.s.Capture(e.ctx, forms.Capture(p.form, sub))
	if err != nil || res.ContactID == nil || res.LeadID == nil {
		t.Fatalf("capture the person's submission: %+v, %v", res, err)
	}
	p.contact = MustGet(t, e.ctx, e.s.Contacts(), *res.ContactID)
	p.formLead = MustGet(t, e.ctx, e.s.Leads(), *res.LeadID)
}

// savePending stores a submission that was never processed: it names no
// contact but holds the email (spelt differently), and its anonymous
// visitor browsed.
func (p *person) savePending(t *testing.T, e *env) {
	t.Helper()
	trkView(t, e, leadcycle.PageView{VisitorID: p.anonymous, URL: "https://www.conservas-rias.example/contact"})
	trkView(t, e, leadcycle.PageView{VisitorID: p.anonymous, URL: "https://www.conservas-rias.example/about"})
	sub := &leadcycle.FormSubmission{FormID: p.form.ID, Key: forms.NewKey(), VisitorID: p.anonymous, IP: personIP,
		Values: map[string]string{"email": " Xurxo.Valdeorras@Conservas-Rias.example ", "first_name": personFirst}}
	if _, err := e.s.Submissions().SaveSubmission(e.ctx, sub); err != nil {
		t.Fatal(err)
	}
}

func (p *person) addRecords(t *testing.T, e *env) {
	t.Helper()
	c := p.contact
	p.manualLead = MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: "Canning line demo", ContactID: &c.ID})
	p.accountLead = MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: "Account plan", AccountID: &p.account.ID})
	p.opportunity = MustCreateOpportunity(t, e.ctx, e.s, &leadcycle.Opportunity{Name: "Canning line", LeadID: &p.formLead.ID, ContactID: &c.ID, AccountID: &p.account.ID})
	MustCreateTask(t, e.ctx, e.s, &leadcycle.Task{Title: "Call " + personFirst + " " + personLast, Queue: "telesales", ContactID: &c.ID})
	for range 2 {
		MustCreateInteraction(t, e.ctx, e.s, &leadcycle.Interaction{Type: leadcycle.InteractionEmailOpened, ContactID: c.ID, LeadID: &p.manualLead.ID,
			Properties: map[string]any{"email_id": "autumn"}})
	}
	ev := MustCreate(t, e.ctx, e.s.Events(), &leadcycle.Event{Name: "Feira do Mar", RegistrationOpen: true})
	if _, _, err := e.s.Registrations().Register(e.ctx, ev.ID, c.ID, &p.manualLead.ID); err != nil {
		t.Fatal(err)
	}
}

// addLinkedIn records a LinkedIn response captured as the person.
func (p *person) addLinkedIn(t *testing.T, e *env) {
	t.Helper()
	ls := LinkedInStore(t, e.s)
	p.connection = mustConnection(t, e.ctx, ls, "Ads").ID
	res, err := e.s.Capture(e.ctx, leadcycle.CaptureInput{Source: leadcycle.SourceLinkedIn, ExternalID: linkedinURN, Contact: leadcycle.Contact{Email: personEmail},
		Interaction: &leadcycle.Interaction{Type: leadcycle.InteractionLinkedInFormSubmitted, Properties: map[string]any{"submission_id": linkedinURN}}})
	if err != nil || res.ContactID == nil || *res.ContactID != p.contact.ID {
		t.Fatalf("capture the LinkedIn response: %+v, %v", res, err)
	}
	err = ls.SaveSubmission(e.ctx, &linkedin.Submission{ConnectionID: p.connection, SubmissionID: linkedinURN, Status: linkedin.SubmissionCaptured,
		SubmittedAt: e.clock.Now(), ContactID: res.ContactID, LeadID: &p.manualLead.ID, InteractionID: res.InteractionID, ProcessedAt: e.clock.Now()})
	if err != nil {
		t.Fatal(err)
	}
}

// addOther makes the contact that must be left alone: same account, a lead,
// a page view and a pending submission of its own.
func (p *person) addOther(t *testing.T, e *env) {
	t.Helper()
	p.other = MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{FirstName: "Brais", Email: "brais@conservas-rias.example", AccountID: &p.account.ID})
	p.otherLead = MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: "Labels", ContactID: &p.other.ID})
	MustCreateInteraction(t, e.ctx, e.s, &leadcycle.Interaction{Type: leadcycle.InteractionPageView, ContactID: p.other.ID, Properties: map[string]any{"url": "https://www.conservas-rias.example/"}})
	sub := &leadcycle.FormSubmission{FormID: p.form.ID, Key: forms.NewKey(), Values: map[string]string{"email": "brais@conservas-rias.example"}}
	if _, err := e.s.Submissions().SaveSubmission(e.ctx, sub); err != nil {
		t.Fatal(err)
	}
	p.otherPending = sub.ID
}

// settle runs the workers: scores, stage moves, webhook deliveries.
func (p *person) settle(t *testing.T, e *env) {
	t.Helper()
	MustDrainScoring(t, e.ctx, e.s)
	drainWorkflow(t, e)
	if _, err := e.s.WebhookDeliveries().FanOut(e.ctx, 500); err != nil {
		t.Fatal(err)
	}
	p.interactions = countIn(t, e, e.s.Interactions(), eqFilter("contact_id", p.contact.ID))
	p.otherInteracts = countIn(t, e, e.s.Interactions(), eqFilter("contact_id", p.other.ID))
}

func drainWorkflow(t *testing.T, e *env) {
	t.Helper()
	for range 100 {
		n, err := e.s.Workflow().HandleEvents(e.ctx, 100)
		if err != nil {
			t.Fatalf("handle events: %v", err)
		}
		if n == 0 {
			return
		}
	}
	t.Fatal("the workflow still had events after 100 rounds")
}

// leadIDs are the ids of the person's own leads.
func (p *person) leadIDs() []leadcycle.ID { return []leadcycle.ID{p.formLead.ID, p.manualLead.ID} }

// about reports whether an event is about the person or its leads.
func (p *person) about(ev leadcycle.Occurrence) bool {
	return (ev.ContactID != nil && *ev.ContactID == p.contact.ID) || (ev.LeadID != nil && slices.Contains(p.leadIDs(), *ev.LeadID))
}

// exportJSON exports a contact's data as JSON and decodes it.
func exportJSON(t *testing.T, ctx context.Context, s leadcycle.Store, id leadcycle.ID) map[string]any {
	t.Helper()
	var buf bytes.Buffer
	if err := s.PersonalData().ExportPersonalData(ctx, id, leadcycle.NewJSONPersonalData(&buf)); err != nil {
		t.Fatalf("export contact %s: %v", id, err)
	}
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("the export is not one JSON object: %v\n%s", err, buf.Bytes())
	}
	return doc
}

// section returns the items of a list section.
func section(t *testing.T, doc map[string]any, name string) []map[string]any {
	t.Helper()
	raw, ok := doc[name].([]any)
	if !ok {
		t.Fatalf("the export has no list %q: %v", name, doc[name])
	}
	out := make([]map[string]any, len(raw))
	for i, r := range raw {
		out[i] = r.(map[string]any)
	}
	return out
}

func testExportEverything(t *testing.T, e *env) {
	p := newPerson(t, e)
	doc := exportJSON(t, e.ctx, e.s, p.contact.ID)
	if doc["format"] != leadcycle.PersonalDataFormat || doc["format_version"] != float64(leadcycle.PersonalDataVersion) || doc["contact_id"] != p.contact.ID.String() {
		t.Errorf("header: format %v, version %v, contact %v", doc["format"], doc["format_version"], doc["contact_id"])
	}
	if at, err := time.Parse(time.RFC3339Nano, doc["exported_at"].(string)); err != nil || !at.Equal(e.clock.Now()) {
		t.Errorf("exported_at = %v, want %v", doc["exported_at"], e.clock.Now())
	}
	c := doc["contact"].(map[string]any)
	if c["email"] != personEmail || c["first_name"] != personFirst || c["last_name"] != personLast || c["phone"] == "" || c["consent"] == nil {
		t.Errorf("contact: %v", c)
	}
	diff(t, "account", map[string]any{"id": p.account.ID.String(), "name": p.account.Name}, doc["account"])
	wantIDs(t, "leads", section(t, doc, "leads"), p.formLead.ID, p.manualLead.ID)
	for _, l := range section(t, doc, "leads") {
		if scores, _ := l["scores"].([]any); len(scores) != 1 {
			t.Errorf("lead %v: scores %v, want one under the contact model", l["id"], l["scores"])
		}
	}
	wantIDs(t, "opportunities", section(t, doc, "opportunities"), p.opportunity.ID)
	counts := map[string]int{"interactions": p.interactions, "form_submissions": 2, "event_registrations": 1, "capture_log": 2,
		"visitors": 2, "page_visits": 2, "linkedin_submissions": 1, "tasks": 1}
	for name, n := range counts {
		if got := len(section(t, doc, name)); got != n {
			t.Errorf("%s: %d items, want %d", name, got, n)
		}
	}
	for _, name := range []string{"score_history", "lead_timeline"} {
		for _, it := range section(t, doc, name) {
			if id, _ := leadcycle.ParseID(it["lead_id"].(string)); !slices.Contains(p.leadIDs(), id) {
				t.Errorf("%s holds an entry of lead %v", name, it["lead_id"])
			}
		}
		if len(section(t, doc, name)) < 2 {
			t.Errorf("%s: %d entries, want those of both leads", name, len(section(t, doc, name)))
		}
	}
	checkExportedSubmissions(t, p, section(t, doc, "form_submissions"))
	checkExportedEvents(t, e, p, doc)
	var visitors []string
	for _, v := range section(t, doc, "visitors") {
		visitors = append(visitors, v["id"].(string))
	}
	slices.Sort(visitors)
	diff(t, "visitors", []string{p.identified, p.anonymous}, visitors)
	page, err := e.s.PersonalData().AuditLog(e.ctx, leadcycle.ListQuery{})
	if err != nil || len(page.Items) != 1 || page.Items[0].Action != leadcycle.AuditPersonalDataExported || page.Items[0].SubjectID != p.contact.ID {
		t.Errorf("audit log after an export: %+v, %v", page.Items, err)
	}
}

// wantIDs checks the ids of exported records, in order.
func wantIDs(t *testing.T, what string, items []map[string]any, want ...leadcycle.ID) {
	t.Helper()
	got := make([]string, len(items))
	for i, it := range items {
		got[i], _ = it["id"].(string)
	}
	ws := make([]string, len(want))
	for i, id := range want {
		ws[i] = id.String()
	}
	diff(t, what, ws, got)
}

func checkExportedSubmissions(t *testing.T, p *person, subs []map[string]any) {
	t.Helper()
	for _, s := range subs {
		values, _ := s["values"].(map[string]any)
		if s["ip"] != personIP || !strings.EqualFold(strings.TrimSpace(values["email"].(string)), personEmail) {
			t.Errorf("submission %v: ip %v, values %v", s["id"], s["ip"], values)
		}
		if id, _ := leadcycle.ParseID(s["id"].(string)); id == p.otherPending {
			t.Errorf("the other contact's submission was exported")
		}
	}
}

// checkExportedEvents checks that the events are exactly those about the
// person, each with its webhook delivery.
func checkExportedEvents(t *testing.T, e *env, p *person, doc map[string]any) {
	t.Helper()
	all, err := e.s.Workflow().Events(e.ctx, 0, leadcycle.MaxLimit)
	if err != nil {
		t.Fatal(err)
	}
	var want []leadcycle.ID
	for _, ev := range all {
		if p.about(ev) {
			want = append(want, ev.ID)
		}
	}
	if len(want) < 5 {
		t.Fatalf("only %d events are about the person; the fixture is too thin", len(want))
	}
	wantIDs(t, "events", section(t, doc, "events"), want...)
	if got := len(section(t, doc, "webhook_deliveries")); got != len(want) {
		t.Errorf("webhook_deliveries: %d, want one per event (%d)", got, len(want))
	}
}

// recorder is a PersonalDataWriter that keeps the calls it gets.
type recorder struct {
	calls []string
	items map[string]int
	open  string
}

func (r *recorder) Begin(h leadcycle.PersonalDataHeader) error {
	r.calls, r.items = append(r.calls, "begin"), map[string]int{}
	return nil
}
func (r *recorder) Value(s string, _ any) error { r.calls = append(r.calls, s); return nil }
func (r *recorder) List(s string) error         { r.calls, r.open = append(r.calls, s+"[]"), s; return nil }
func (r *recorder) Item(any) error              { r.items[r.open]++; return nil }
func (r *recorder) End() error                  { r.calls = append(r.calls, "end"); return nil }

func testExportStreams(t *testing.T, e *env) {
	c := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "busy@example.org"})
	items := make([]leadcycle.Interaction, 1200)
	for i := range items {
		items[i] = leadcycle.Interaction{Type: leadcycle.InteractionPageView, ContactID: c.ID, OccurredAt: e.clock.Now().Add(-time.Duration(i) * time.Minute)}
	}
	if err := e.s.AddInteractions(e.ctx, items); err != nil {
		t.Fatal(err)
	}
	var r recorder
	if err := e.s.PersonalData().ExportPersonalData(e.ctx, c.ID, &r); err != nil {
		t.Fatal(err)
	}
	want := []string{"begin", "contact", "account", "leads[]", "score_history[]", "lead_timeline[]", "opportunities[]", "tasks[]", "interactions[]",
		"form_submissions[]", "event_registrations[]", "capture_log[]", "visitors[]", "page_visits[]", "linkedin_submissions[]", "events[]", "webhook_deliveries[]",
		"segment_memberships[]", "journey_runs[]", "email_sends[]", "email_suppressions[]", "end"}
	diff(t, "sections", want, r.calls)
	if r.items["interactions"] != len(items) {
		t.Errorf("interactions given one by one: %d, want %d", r.items["interactions"], len(items))
	}
}

func testExportUnknown(t *testing.T, e *env) {
	var r recorder
	wantErr(t, e.s.PersonalData().ExportPersonalData(e.ctx, 424242, &r), leadcycle.ENotFound)
	if len(r.calls) != 0 {
		t.Errorf("an unknown contact's export wrote %v", r.calls)
	}
	if page, err := e.s.PersonalData().AuditLog(e.ctx, leadcycle.ListQuery{}); err != nil || len(page.Items) != 0 {
		t.Errorf("audit log after a refused export: %+v, %v", page.Items, err)
	}
}
