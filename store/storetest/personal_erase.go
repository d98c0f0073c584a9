package storetest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leadcycle/leadcycle"
)

// textFinder is implemented by stores that can search every column of every
// table for a string (sqldb.Store.FindText).
type textFinder interface {
	FindText(ctx context.Context, needles ...string) ([]string, error)
}

// personStrings are what must not be left anywhere after the person is
// erased: the email, the names and the phone as given and as digits.
var personStrings = []string{personEmail, personFirst, personLast, personPhone, strings.NewReplacer(" ", "", "+", "").Replace(personPhone)}

// findText searches the whole database for the strings.
func findText(t *testing.T, e *env, needles ...string) []string {
	t.Helper()
	f, ok := e.s.(textFinder)
	if !ok {
		t.Fatalf("%T cannot search its tables (no FindText method)", e.s)
	}
	hits, err := f.FindText(e.ctx, needles...)
	if err != nil {
		t.Fatal(err)
	}
	return hits
}

func mustErase(t *testing.T, e *env, id leadcycle.ID) *leadcycle.ErasureReport {
	t.Helper()
	rep, err := e.s.PersonalData().EraseContact(e.ctx, id, "Art. 17 request received by the DPO, ticket 4711")
	if err != nil {
		t.Fatalf("erase contact %s: %v", id, err)
	}
	return rep
}

func testEraseEverything(t *testing.T, e *env) {
	p := newPerson(t, e)
	// A journey queued an email to the person, whose address then bounced.
	MustUpdate(t, e.ctx, e.s.Contacts(), p.contact.ID, func(c *leadcycle.Contact) error { c.Consent.CommercialEmail = leadcycle.ConsentGranted; return nil })
	tmpl := MustCreateTemplate(t, e.ctx, e.s, "erasure news")
	mustPublishJourney(t, e, &leadcycle.Journey{Name: "News", Entry: segmentEntry(staticSegment(t, e, "erasure", p.contact)),
		Steps: []leadcycle.JourneyStep{{Type: leadcycle.StepSendEmail, EmailID: &tmpl.ID}}})
	MustDrainJourneys(t, e.ctx, e.s)
	if err := e.s.Emails().Suppress(e.ctx, leadcycle.Suppression{Email: personEmail, Reason: leadcycle.SuppressBounce, Detail: "550 " + personEmail + " unknown"}); err != nil {
		t.Fatal(err)
	}
	// An import refused a row of the same person: the report keeps the cell.
	job := mustImportJob(t, e, leadcycle.ImportOptions{}, "email")
	b := &leadcycle.ImportBatch{Position: 1, Failed: 1, Errors: []leadcycle.ImportError{{Line: 2, Column: "EMAIL", Value: personEmail, Reason: "a duplicate"}}}
	if err := e.s.Imports().ApplyImportBatch(e.ctx, job, importOwner, b); err != nil {
		t.Fatal(err)
	}
	if hits := findText(t, e, personEmail); len(hits) < 4 {
		t.Fatalf("before the erasure the email is found only in %v; the search does not work", hits)
	}
	wantScore(t, e.ctx, e.s, p.accountLead.ID, p.accountModel.ID, 6, "") // 2 points × (2 views of the person + 1 of the other)
	export := exportJSON(t, e.ctx, e.s, p.contact.ID)
	events, deliveries := len(section(t, export, "events")), len(section(t, export, "webhook_deliveries"))
	for _, name := range []string{"segment_memberships", "journey_runs", "email_sends", "email_suppressions"} {
		if n := len(section(t, export, name)); n != 1 {
			t.Errorf("the export has %d %s, want 1", n, name)
		}
	}
	rep := mustErase(t, e, p.contact.ID)
	checkReport(t, p, rep, events, deliveries)
	if hits := findText(t, e, personStrings...); len(hits) > 0 {
		t.Errorf("the erased person is still in the database: %v", hits)
	}
	checkKept(t, e, p)
	// The account's lead lost the person's page views.
	MustDrainScoring(t, e.ctx, e.s)
	wantScore(t, e.ctx, e.s, p.accountLead.ID, p.accountModel.ID, 2, "")
	page, err := e.s.PersonalData().AuditLog(e.ctx, leadcycle.ListQuery{Filters: []leadcycle.Filter{eqFilter("action", leadcycle.AuditContactErased)}})
	if err != nil || len(page.Items) != 1 {
		t.Fatalf("audit log: %+v, %v", page.Items, err)
	}
	a := page.Items[0]
	if a.ID != rep.AuditEntryID || a.SubjectType != "contact" || a.SubjectID != p.contact.ID || a.Actor != "system" || a.Detail["reason"] == "" {
		t.Errorf("audit entry: %+v", a)
	}
	if d, _ := a.Detail["deleted"].(map[string]any); d["interactions"] != float64(p.interactions) {
		t.Errorf("audit entry counts: %v", a.Detail)
	}
}

// checkReport checks the counts of the person's erasure.
func checkReport(t *testing.T, p *person, rep *leadcycle.ErasureReport, events, deliveries int) {
	t.Helper()
	want := map[string]int64{"contacts": 1, "leads": 2, "interactions": int64(p.interactions), "form_submissions": 2, "event_registrations": 1,
		"capture_log": 2, "visitors": 2, "page_visits": 2, "tasks": 1, "events": int64(events), "webhook_deliveries": int64(deliveries), "lead_scores": 2,
		"journey_runs": 1, "email_sends": 1, "email_suppressions": 1}
	for k, n := range want {
		if rep.Deleted[k] != n {
			t.Errorf("deleted %s = %d, want %d (report %+v)", k, rep.Deleted[k], n, rep.Deleted)
		}
	}
	for _, k := range []string{"score_history", "lead_timeline"} {
		if rep.Deleted[k] < 2 {
			t.Errorf("deleted %s = %d, want those of the contact and both leads", k, rep.Deleted[k])
		}
	}
	// A store may find the contact's email through its own index instead of
	// a key (sqldb does); the lead with a form has a key.
	if rep.Deleted["match_keys"] < 1 {
		t.Errorf("deleted match_keys = %d, want at least the lead's", rep.Deleted["match_keys"])
	}
	diff(t, "unlinked", map[string]int64{"opportunities": 1, "linkedin_submissions": 1, "import_errors": 1}, rep.Unlinked)
	diff(t, "opportunities kept", []leadcycle.ID{p.opportunity.ID}, rep.OpportunityIDs)
	if rep.Rescored != 1 || rep.ContactID != p.contact.ID || rep.AuditEntryID == 0 {
		t.Errorf("report: %+v", rep)
	}
}

// checkKept checks what an erasure keeps: the opportunity without its
// links, the account and its lead, the other contact and its data, and the
// LinkedIn response as a bare id that later syncs skip.
func checkKept(t *testing.T, e *env, p *person) {
	t.Helper()
	_, err := e.s.Contacts().Get(e.ctx, p.contact.ID)
	wantErr(t, err, leadcycle.ENotFound)
	for _, id := range p.leadIDs() {
		_, err := e.s.Leads().Get(e.ctx, id)
		wantErr(t, err, leadcycle.ENotFound)
	}
	o := MustGet(t, e.ctx, e.s.Opportunities(), p.opportunity.ID)
	if o.ContactID != nil || o.LeadID != nil || o.AccountID == nil || *o.AccountID != p.account.ID {
		t.Errorf("opportunity after the erasure: %+v", o)
	}
	MustGet(t, e.ctx, e.s.Accounts(), p.account.ID)
	MustGet(t, e.ctx, e.s.Leads(), p.accountLead.ID)
	MustGet(t, e.ctx, e.s.Leads(), p.otherLead.ID)
	if c := MustGet(t, e.ctx, e.s.Contacts(), p.other.ID); c.Email != "brais@conservas-rias.example" {
		t.Errorf("other contact: %+v", c)
	}
	if n := countIn(t, e, e.s.Interactions(), eqFilter("contact_id", p.other.ID)); n != p.otherInteracts {
		t.Errorf("the other contact has %d interactions, want %d", n, p.otherInteracts)
	}
	if hits := findText(t, e, "brais@conservas-rias.example"); len(hits) < 2 {
		t.Errorf("the other contact's email is found only in %v", hits)
	}
	subs, err := e.s.Submissions().ListSubmissions(e.ctx, p.form.ID, 10)
	if err != nil || len(subs) != 1 || subs[0].ID != p.otherPending {
		t.Errorf("submissions left: %+v, %v; want the other contact's", subs, err)
	}
	captured, err := LinkedInStore(t, e.s).CapturedSubmissions(e.ctx, p.connection, []string{linkedinURN})
	if err != nil || !captured[linkedinURN] {
		t.Errorf("the LinkedIn response is no longer known as captured (%v): a sync would capture the person again", err)
	}
}

func testEraseTwice(t *testing.T, e *env) {
	c := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "twice@example.org"})
	mustErase(t, e, c.ID)
	_, err := e.s.PersonalData().EraseContact(e.ctx, c.ID, "again")
	wantErr(t, err, leadcycle.ENotFound)
	if err != nil && !strings.Contains(err.Error(), "erased") {
		t.Errorf("the second erasure does not say the contact was erased: %v", err)
	}
	_, err = e.s.PersonalData().EraseContact(e.ctx, 987654, "never existed")
	wantErr(t, err, leadcycle.ENotFound)
	var r recorder
	wantErr(t, e.s.PersonalData().ExportPersonalData(e.ctx, c.ID, &r), leadcycle.ENotFound)
}

func testEraseReason(t *testing.T, e *env) {
	c := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{FirstName: "Ana", LastName: "Souto", Email: "ana.souto@example.org", Phone: "+34 600 000 001"})
	pd := e.s.PersonalData()
	for _, reason := range []string{"", "   ", strings.Repeat("x", leadcycle.MaxErasureReason+1), "asked by ana.souto@example.org", "Ana Souto called", "call +34 600 000 001"} {
		_, err := pd.EraseContact(e.ctx, c.ID, reason)
		wantErr(t, err, leadcycle.EInvalid, "reason")
	}
	MustGet(t, e.ctx, e.s.Contacts(), c.ID)
	if _, err := pd.EraseContact(e.ctx, c.ID, strings.Repeat("y", leadcycle.MaxErasureReason)); err != nil {
		t.Errorf("a reason of the longest length: %v", err)
	}
}

func testEraseCancelled(t *testing.T, e *env) {
	p := newPerson(t, e)
	before := findText(t, e, personStrings...)
	ctx, cancel := context.WithCancel(e.ctx)
	cancel()
	if _, err := e.s.PersonalData().EraseContact(ctx, p.contact.ID, "cancelled"); err == nil {
		t.Fatal("an erasure with a cancelled context succeeded")
	}
	diff(t, "where the person is found", before, findText(t, e, personStrings...))
	MustGet(t, e.ctx, e.s.Contacts(), p.contact.ID)
}

// SabotageMessage is the error sabotage makes deleting a contact fail with.
const SabotageMessage = "contacts cannot be deleted now"

// CheckErasureIsAtomic builds a person, lets sabotage make deleting
// contacts fail behind the store's back with SabotageMessage (the contact
// goes last, after everything that refers to it), and checks that the
// failed erasure left every row of the person where it was.
func CheckErasureIsAtomic(t *testing.T, s leadcycle.Store, clock *leadcycle.FixedClock, sabotage func(t *testing.T)) {
	e := &env{ctx: t.Context(), s: s, clock: clock}
	p := newPerson(t, e)
	before := findText(t, e, personStrings...)
	exported := exportJSON(t, e.ctx, e.s, p.contact.ID)
	sabotage(t)
	if _, err := e.s.PersonalData().EraseContact(e.ctx, p.contact.ID, "sabotaged"); err == nil || !strings.Contains(err.Error(), SabotageMessage) {
		t.Fatalf("erasure: %v; want the sabotage's error", err)
	}
	diff(t, "where the person is found", before, findText(t, e, personStrings...))
	after := exportJSON(t, e.ctx, e.s, p.contact.ID)
	delete(exported, "exported_at")
	delete(after, "exported_at")
	diff(t, "export after the failed erasure", exported, after)
	if page, err := e.s.PersonalData().AuditLog(e.ctx, leadcycle.ListQuery{Filters: []leadcycle.Filter{eqFilter("action", leadcycle.AuditContactErased)}}); err != nil || len(page.Items) != 0 {
		t.Errorf("a failed erasure is in the audit log: %+v, %v", page.Items, err)
	}
}

// testEraseSkippedByWorkers erases a contact whose lead has a pending
// workflow event, a claimed webhook delivery and a scoring queue entry: the
// workers then find nothing of it and fail on nothing.
func testEraseSkippedByWorkers(t *testing.T, e *env) {
	MustPublishModel(t, e.ctx, e.s, opensModel())
	MustCreate(t, e.ctx, e.s.Webhooks(), &leadcycle.Webhook{Name: "CRM", URL: "https://crm.example.com/hook", Events: []string{"*"}, Active: true, Secret: "sealed"})
	c := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "busy@example.org"})
	l := MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: "Busy", ContactID: &c.ID})
	wh := e.s.WebhookDeliveries()
	if _, err := wh.FanOut(e.ctx, 500); err != nil {
		t.Fatal(err)
	}
	jobs, err := wh.ClaimDeliveries(e.ctx, 100, time.Minute)
	if err != nil || len(jobs) == 0 {
		t.Fatalf("claimed %d deliveries: %v", len(jobs), err)
	}
	MustUpdate(t, e.ctx, e.s.Leads(), l.ID, func(l *leadcycle.Lead) error { l.SalesReady = true; return nil })            // a pending workflow event
	MustCreateInteraction(t, e.ctx, e.s, &leadcycle.Interaction{Type: leadcycle.InteractionEmailOpened, ContactID: c.ID}) // a queued rescore
	mustErase(t, e, c.ID)
	for _, j := range jobs {
		if err := wh.RecordAttempt(e.ctx, j.Delivery.ID, leadcycle.DeliveryAttempt{At: e.clock.Now(), StatusCode: 204, Delivered: true}); err != nil {
			t.Errorf("record the attempt of an erased delivery: %v", err)
		}
	}
	if n, err := e.s.Workflow().HandleEvents(e.ctx, 100); err != nil || n != 0 {
		t.Errorf("workflow after the erasure: %d events, %v", n, err)
	}
	MustDrainScoring(t, e.ctx, e.s)
	if n, err := wh.FanOut(e.ctx, 500); err != nil || n != 0 {
		t.Errorf("fan-out after the erasure: %d events, %v", n, err)
	}
	if jobs, err := wh.ClaimDeliveries(e.ctx, 100, time.Minute); err != nil || len(jobs) != 0 {
		t.Errorf("deliveries after the erasure: %d, %v", len(jobs), err)
	}
	if evs, err := e.s.Workflow().Events(e.ctx, 0, leadcycle.MaxLimit); err != nil || len(evs) != 0 {
		t.Errorf("events left after the erasure: %+v, %v", evs, err)
	}
}

// testEraseWhileWorkersRun erases contacts while the scorer, the workflow
// and the webhook fan-out run beside it: no worker may fail on a vanished
// lead, and nothing of the erased contacts may come back.
func testEraseWhileWorkersRun(t *testing.T, e *env) {
	MustPublishModel(t, e.ctx, e.s, opensModel())
	MustCreate(t, e.ctx, e.s.Webhooks(), &leadcycle.Webhook{Name: "CRM", URL: "https://crm.example.com/hook", Events: []string{"*"}, Active: true, Secret: "sealed"})
	const n = 12
	var emails []string
	done := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []string
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			if err := runWorkersOnce(e); err != nil {
				mu.Lock()
				failures = append(failures, err.Error())
				mu.Unlock()
			}
		}
	})
	for i := range n {
		email := fmt.Sprintf("racer%d@example.org", i)
		emails = append(emails, email)
		c := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: email, JobTitle: "Director"})
		MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: "Race", ContactID: &c.ID})
		for range 3 {
			MustCreateInteraction(t, e.ctx, e.s, &leadcycle.Interaction{Type: leadcycle.InteractionEmailOpened, ContactID: c.ID})
		}
		time.Sleep(time.Duration(i%4) * time.Millisecond) // let the workers take some of it first
		mustErase(t, e, c.ID)
	}
	close(done)
	wg.Wait()
	if err := runWorkersOnce(e); err != nil {
		failures = append(failures, err.Error())
	}
	if len(failures) > 0 {
		t.Errorf("workers failed beside erasures: %q", failures)
	}
	if hits := findText(t, e, emails...); len(hits) > 0 {
		t.Errorf("erased contacts came back: %v", hits)
	}
	if evs, err := e.s.Workflow().Events(e.ctx, 0, leadcycle.MaxLimit); err != nil || len(evs) != 0 {
		t.Errorf("events of erased contacts: %+v, %v", evs, err)
	}
}

// opensModel gives 5 points per email opened in 30 days.
func opensModel() *leadcycle.ScoringModel {
	return &leadcycle.ScoringModel{Name: "Opens", Key: "opens", Rules: []leadcycle.ScoringRule{
		{Name: "Opens", Points: 5, Behaviors: []leadcycle.Behavior{{Type: leadcycle.InteractionEmailOpened, Frequency: leadcycle.FrequencyEachTime, WindowDays: ptr(30)}}}}}
}

// runWorkersOnce runs one round of the scorer, the workflow and the webhook
// fan-out.
func runWorkersOnce(e *env) error {
	if _, err := e.s.Scoring().ProcessDue(e.ctx, 100); err != nil {
		return fmt.Errorf("scorer: %w", err)
	}
	if _, err := e.s.Workflow().HandleEvents(e.ctx, 100); err != nil {
		return fmt.Errorf("workflow: %w", err)
	}
	if _, err := e.s.WebhookDeliveries().FanOut(e.ctx, 100); err != nil {
		return fmt.Errorf("fan-out: %w", err)
	}
	return nil
}

func testAuditLog(t *testing.T, e *env) {
	pd := e.s.PersonalData()
	var contacts []leadcycle.ID
	for i := range 3 {
		c := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: fmt.Sprintf("audit%d@example.org", i)})
		contacts = append(contacts, c.ID)
		exportJSON(t, e.ctx, e.s, c.ID)
		e.clock.Advance(time.Second)
	}
	mustErase(t, e, contacts[1])
	var actions []string
	q := leadcycle.ListQuery{Limit: 2}
	for pages := 0; ; pages++ {
		page, err := pd.AuditLog(e.ctx, q)
		if err != nil || pages > 3 {
			t.Fatalf("audit log page %d: %v", pages, err)
		}
		for _, a := range page.Items {
			actions = append(actions, a.Action+" "+a.SubjectID.String())
		}
		if page.NextCursor == "" {
			break
		}
		q.Cursor = page.NextCursor
	}
	s := func(id leadcycle.ID) string { return id.String() }
	diff(t, "audit log, newest first", []string{"contact.erased " + s(contacts[1]), "personal_data.exported " + s(contacts[2]),
		"personal_data.exported " + s(contacts[1]), "personal_data.exported " + s(contacts[0])}, actions)
	page, err := pd.AuditLog(e.ctx, leadcycle.ListQuery{Filters: []leadcycle.Filter{eqFilter("subject_id", contacts[1]), eqFilter("action", leadcycle.AuditPersonalDataExported)}})
	if err != nil || len(page.Items) != 1 || page.Items[0].SubjectID != contacts[1] || !page.Items[0].At.Equal(Epoch.Add(time.Second)) {
		t.Errorf("filtered audit log: %+v, %v", page.Items, err)
	}
	_, err = pd.AuditLog(e.ctx, leadcycle.ListQuery{Filters: []leadcycle.Filter{eqFilter("actor", "x")}})
	wantErr(t, err, leadcycle.EInvalid, "actor")
	_, err = pd.AuditLog(e.ctx, leadcycle.ListQuery{Cursor: "nonsense"})
	wantErr(t, err, leadcycle.EInvalid, "cursor")
}
