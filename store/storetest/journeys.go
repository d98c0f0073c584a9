package storetest

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leadcycle/leadcycle"
)

var journeyTests = []test{
	{"invalid journeys name the problem", testJourneyInvalid},
	{"segment journey: consent, email queue and stats", testJourneySegmentEmail},
	{"waits follow the clock", testJourneyWait},
	{"branch on an interaction within a time limit", testJourneyInteractionBranch},
	{"create lead, update, task and webhook steps", testJourneyEffects},
	{"triggers enter contacts once", testJourneyTriggers},
	{"ongoing segment entry and goal", testJourneyOngoingGoal},
	{"pause, resume and stop", testJourneyPauseStop},
	{"each step runs once under concurrent workers", testJourneyConcurrent},
	{"email queue: sent, bounced, suppressed, unsubscribed", testEmailQueue},
	{"deleting a segment: exits, and journeys that use it", testSegmentDeleteWithJourneys},
	{"a step that cannot run fails only its run", testJourneyStepFails},
}

// MustDrainJourneys runs due journey steps until nothing is due.
func MustDrainJourneys(tb testing.TB, ctx context.Context, s leadcycle.Store) {
	tb.Helper()
	for range 1000 {
		n, err := s.JourneyRuns().ProcessDue(ctx, 200)
		if err != nil {
			tb.Fatalf("process journeys: %v", err)
		}
		if n == 0 {
			return
		}
	}
	tb.Fatal("journeys still had work after 1000 rounds")
}

// MustCreateTemplate stores a simple commercial email template.
func MustCreateTemplate(tb testing.TB, ctx context.Context, s leadcycle.Store, name string) *leadcycle.EmailTemplate {
	tb.Helper()
	return MustCreate(tb, ctx, s.EmailTemplates(), &leadcycle.EmailTemplate{Name: name, Subject: "Hello {{contact.first_name | \"there\"}}",
		HTML: `<p>Hi {{contact.first_name}}, see <a href="https://example.com/offer">the offer</a>.</p>`, FromEmail: "news@example.com"})
}

func consenting(email, first string) *leadcycle.Contact {
	return &leadcycle.Contact{Email: email, FirstName: first, Consent: leadcycle.Consent{CommercialEmail: leadcycle.ConsentGranted, Tracking: leadcycle.ConsentGranted}}
}

func staticSegment(tb testing.TB, e *env, key string, contacts ...*leadcycle.Contact) *leadcycle.Segment {
	tb.Helper()
	seg := MustCreate(tb, e.ctx, e.s.Segments(), &leadcycle.Segment{Name: key, Key: key, Kind: leadcycle.SegmentStatic})
	var ids []leadcycle.ID
	for _, c := range contacts {
		ids = append(ids, c.ID)
	}
	if _, err := e.s.SegmentMembers().AddMembers(e.ctx, seg.ID, ids, nil); err != nil {
		tb.Fatal(err)
	}
	return seg
}

func mustPublishJourney(tb testing.TB, e *env, j *leadcycle.Journey) *leadcycle.Journey {
	tb.Helper()
	MustCreate(tb, e.ctx, e.s.Journeys(), j)
	out, err := e.s.JourneyRuns().Publish(e.ctx, j.ID)
	if err != nil {
		tb.Fatalf("publish: %v", err)
	}
	return out
}

func runOf(tb testing.TB, e *env, j, c leadcycle.ID) *leadcycle.JourneyRun {
	tb.Helper()
	r, err := e.s.JourneyRuns().Run(e.ctx, j, c)
	if err != nil {
		tb.Fatalf("run of contact %s: %v", c, err)
	}
	return r
}

func segmentEntry(seg *leadcycle.Segment) leadcycle.JourneyEntry {
	return leadcycle.JourneyEntry{Kind: leadcycle.EntrySegment, SegmentID: &seg.ID}
}

func testJourneyInvalid(t *testing.T, e *env) {
	tmpl := MustCreateTemplate(t, e.ctx, e.s, "t")
	seg := MustCreate(t, e.ctx, e.s.Segments(), &leadcycle.Segment{Name: "s", Kind: leadcycle.SegmentStatic})
	missing := leadcycle.ID(999999)
	cases := []struct {
		name  string
		j     leadcycle.Journey
		field string
		msg   string
	}{
		{"no steps", leadcycle.Journey{Name: "j", Entry: segmentEntry(seg)}, "steps", "at least one step"},
		{"unknown next", leadcycle.Journey{Name: "j", Entry: segmentEntry(seg), Steps: []leadcycle.JourneyStep{{ID: "a", Type: "wait", Duration: "1d", Next: "zz"}}}, "steps[0].next", `no step has the id "zz"`},
		{"bad duration", leadcycle.Journey{Name: "j", Entry: segmentEntry(seg), Steps: []leadcycle.JourneyStep{{Type: "wait", Duration: "soon"}}}, "steps[0].duration", "not a duration"},
		{"negative duration", leadcycle.Journey{Name: "j", Entry: segmentEntry(seg), Steps: []leadcycle.JourneyStep{{Type: "wait", Duration: "-2h"}}}, "steps[0].duration", "longer than zero"},
		{"loop", leadcycle.Journey{Name: "j", Entry: segmentEntry(seg), Steps: []leadcycle.JourneyStep{{ID: "a", Type: "wait", Duration: "1d"}, {ID: "b", Type: "wait", Duration: "1d", Next: "a"}}}, "steps[1]", "loop"},
		{"unreachable", leadcycle.Journey{Name: "j", Entry: segmentEntry(seg), Steps: []leadcycle.JourneyStep{{ID: "a", Type: "exit"}, {ID: "b", Type: "wait", Duration: "1d"}}}, "steps[1]", "never reached"},
		{"unknown field in condition", leadcycle.Journey{Name: "j", Entry: segmentEntry(seg), Steps: []leadcycle.JourneyStep{{ID: "a", Type: "branch", Condition: `contact.nope == "x"`, Then: "b"}, {ID: "b", Type: "exit"}}}, "steps[0].condition", "nope"},
		{"type error in goal", leadcycle.Journey{Name: "j", Entry: segmentEntry(seg), Goal: `contact.email > 3`, Steps: []leadcycle.JourneyStep{{Type: "exit"}}}, "goal", ""},
		{"missing template", leadcycle.Journey{Name: "j", Entry: segmentEntry(seg), Steps: []leadcycle.JourneyStep{{Type: "send_email", EmailID: &missing}}}, "steps[0].email_id", "no email template"},
		{"no segment", leadcycle.Journey{Name: "j", Entry: leadcycle.JourneyEntry{Kind: "segment"}, Steps: []leadcycle.JourneyStep{{Type: "exit"}}}, "entry.segment_id", "required"},
		{"unknown trigger", leadcycle.Journey{Name: "j", Entry: leadcycle.JourneyEntry{Kind: "trigger", Trigger: "moon_phase"}, Steps: []leadcycle.JourneyStep{{Type: "exit"}}}, "entry.trigger", "must be one of"},
		{"update a field not allowed", leadcycle.Journey{Name: "j", Entry: segmentEntry(seg), Steps: []leadcycle.JourneyStep{{Type: "update_record", Target: "contact", Set: map[string]any{"email": "x@y.z"}}}}, "steps[0].set.email", "cannot set"},
		{"update with a wrong type", leadcycle.Journey{Name: "j", Entry: segmentEntry(seg), Steps: []leadcycle.JourneyStep{{Type: "update_record", Target: "lead", Set: map[string]any{"budget_amount": "lots"}}}}, "steps[0].set", "budget_amount"},
		{"task queue", leadcycle.Journey{Name: "j", Entry: segmentEntry(seg), Steps: []leadcycle.JourneyStep{{Type: "create_task", Title: "call", Queue: "janitors"}}}, "steps[0].queue", "telesales or sales"},
		{"interaction branch without a limit", leadcycle.Journey{Name: "j", Entry: segmentEntry(seg), Steps: []leadcycle.JourneyStep{{ID: "m", Type: "send_email", EmailID: &tmpl.ID}, {Type: "branch", Interaction: &leadcycle.StepInteraction{Type: "email_opened", EmailStep: "m"}, Then: "m"}}}, "steps[1].interaction.within", "required"},
		{"created live", leadcycle.Journey{Name: "j", Status: "live", Entry: segmentEntry(seg), Steps: []leadcycle.JourneyStep{{Type: "exit"}}}, "status", "draft"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			j := c.j
			err := e.s.Journeys().Create(e.ctx, &j)
			if leadcycle.ErrorCode(err) != leadcycle.EInvalid {
				t.Fatalf("err = %v, want invalid", err)
			}
			for _, f := range leadcycle.ErrorFields(err) {
				if f.Field == c.field && strings.Contains(f.Message, c.msg) {
					return
				}
			}
			t.Errorf("errors %+v lack %s: …%s…", leadcycle.ErrorFields(err), c.field, c.msg)
		})
	}
}

func testJourneySegmentEmail(t *testing.T, e *env) {
	tmpl := MustCreateTemplate(t, e.ctx, e.s, "welcome")
	yes := MustCreateContact(t, e.ctx, e.s, consenting("ana@example.gal", "Ana"))
	no := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "brais@example.gal", FirstName: "Brais"})
	bounced := MustCreateContact(t, e.ctx, e.s, consenting("bounced@example.gal", "Uxía"))
	if err := e.s.Emails().Suppress(e.ctx, leadcycle.Suppression{Email: "Bounced@example.gal", Reason: leadcycle.SuppressBounce}); err != nil {
		t.Fatal(err)
	}
	seg := staticSegment(t, e, "newsletter", yes, no, bounced)
	j := mustPublishJourney(t, e, &leadcycle.Journey{Name: "Welcome", Entry: segmentEntry(seg), Steps: []leadcycle.JourneyStep{{ID: "mail", Type: "send_email", EmailID: &tmpl.ID}}})
	if j.Status != leadcycle.JourneyLive || j.PublishedAt == nil || j.Stats.Entered != 3 || j.Stats.Active != 3 {
		t.Fatalf("published: %+v", j)
	}
	MustDrainJourneys(t, e.ctx, e.s)
	j = MustGet(t, e.ctx, e.s.Journeys(), j.ID)
	want := leadcycle.JourneyStats{Entered: 3, Completed: 3, EmailsQueued: 1, SkippedConsent: 1}
	if j.Stats != want {
		t.Errorf("stats = %+v, want %+v", j.Stats, want)
	}
	sends, err := e.s.Emails().Sends(e.ctx, leadcycle.ListQuery{})
	if err != nil || len(sends.Items) != 1 || sends.Items[0].ContactID != yes.ID || sends.Items[0].Status != leadcycle.SendQueued || *sends.Items[0].JourneyID != j.ID {
		t.Fatalf("sends = %+v, %v", sends.Items, err)
	}
	r := runOf(t, e, j.ID, no.ID)
	if len(r.History) != 1 || !strings.Contains(r.History[0].Outcome, "consent") {
		t.Errorf("history of the contact without consent: %+v", r.History)
	}
	if r := runOf(t, e, j.ID, bounced.ID); !strings.Contains(r.History[0].Outcome, "bounced") {
		t.Errorf("history of the bounced contact: %+v", r.History)
	}
	// A published journey keeps its steps.
	_, err = e.s.Journeys().Update(e.ctx, j.ID, func(j *leadcycle.Journey) error { j.Steps[0].Type = "exit"; j.Steps[0].EmailID = nil; return nil })
	if leadcycle.ErrorCode(err) != leadcycle.EConflict {
		t.Errorf("editing live steps: %v", err)
	}
	if _, err := e.s.Journeys().Update(e.ctx, j.ID, func(j *leadcycle.Journey) error { j.Description = "renamed"; return nil }); err != nil {
		t.Errorf("editing the description: %v", err)
	}
	if err := e.s.Journeys().Delete(e.ctx, j.ID); leadcycle.ErrorCode(err) != leadcycle.EConflict {
		t.Errorf("deleting a live journey: %v", err)
	}
	if err := e.s.EmailTemplates().Delete(e.ctx, tmpl.ID); leadcycle.ErrorCode(err) != leadcycle.EConflict {
		t.Errorf("deleting a sent template: %v", err)
	}
}

func testJourneyWait(t *testing.T, e *env) {
	c := MustCreateContact(t, e.ctx, e.s, consenting("ana@example.gal", "Ana"))
	seg := staticSegment(t, e, "s", c)
	until := e.clock.Now().Add(72 * time.Hour)
	j := mustPublishJourney(t, e, &leadcycle.Journey{Name: "Waits", Entry: segmentEntry(seg), Steps: []leadcycle.JourneyStep{
		{ID: "w1", Type: "wait", Duration: "2d"}, {ID: "w2", Type: "wait", Until: &until},
		{ID: "up", Type: "update_record", Target: "contact", Set: map[string]any{"job_title": "Nurtured"}}}})
	MustDrainJourneys(t, e.ctx, e.s)
	if r := runOf(t, e, j.ID, c.ID); r.State != leadcycle.RunWaiting || r.Step != "w1" || !r.DueAt.Equal(e.clock.Now().Add(48*time.Hour)) {
		t.Fatalf("after entering: %+v", r)
	}
	e.clock.Advance(48*time.Hour - time.Second)
	MustDrainJourneys(t, e.ctx, e.s)
	if r := runOf(t, e, j.ID, c.ID); r.Step != "w1" {
		t.Fatalf("a second early: %+v", r)
	}
	e.clock.Advance(time.Second)
	MustDrainJourneys(t, e.ctx, e.s)
	if r := runOf(t, e, j.ID, c.ID); r.Step != "w2" || !r.DueAt.Equal(until) {
		t.Fatalf("after the first wait: %+v", r)
	}
	e.clock.Set(until)
	MustDrainJourneys(t, e.ctx, e.s)
	r := runOf(t, e, j.ID, c.ID)
	if r.State != leadcycle.RunCompleted || len(r.History) != 3 {
		t.Fatalf("at the end: %+v", r)
	}
	if got := MustGet(t, e.ctx, e.s.Contacts(), c.ID); got.JobTitle != "Nurtured" {
		t.Errorf("job title = %q", got.JobTitle)
	}
}

func testJourneyInteractionBranch(t *testing.T, e *env) {
	tmpl := MustCreateTemplate(t, e.ctx, e.s, "offer")
	opener := MustCreateContact(t, e.ctx, e.s, consenting("ana@example.gal", "Ana"))
	silent := MustCreateContact(t, e.ctx, e.s, consenting("brais@example.gal", "Brais"))
	seg := staticSegment(t, e, "s", opener, silent)
	j := mustPublishJourney(t, e, &leadcycle.Journey{Name: "Offer", Entry: segmentEntry(seg), Steps: []leadcycle.JourneyStep{
		{ID: "mail", Type: "send_email", EmailID: &tmpl.ID},
		{ID: "opened", Type: "branch", Interaction: &leadcycle.StepInteraction{Type: "email_opened", EmailStep: "mail", Within: "3d"}, Then: "lead", Else: "bye"},
		{ID: "lead", Type: "create_lead", Topic: "Offer follow-up"},
		{ID: "bye", Type: "exit"}}})
	MustDrainJourneys(t, e.ctx, e.s)
	for _, c := range []leadcycle.ID{opener.ID, silent.ID} {
		if r := runOf(t, e, j.ID, c); r.State != leadcycle.RunWaiting || r.Step != "opened" {
			t.Fatalf("waiting for the open: %+v", r)
		}
	}
	// An open of another email does not count; an open of this one wakes
	// the branch at once.
	e.clock.Advance(time.Hour)
	MustCreateInteraction(t, e.ctx, e.s, &leadcycle.Interaction{Type: "email_opened", ContactID: opener.ID, Properties: map[string]any{"email_id": "424242"}})
	MustDrainJourneys(t, e.ctx, e.s)
	if r := runOf(t, e, j.ID, opener.ID); r.State != leadcycle.RunWaiting {
		t.Fatalf("another email's open moved the branch: %+v", r)
	}
	if _, err := e.s.RecordEmailEvent(e.ctx, leadcycle.EmailEvent{Type: "email_opened", ContactID: opener.ID, EmailID: tmpl.ID.String()}); err != nil {
		t.Fatal(err)
	}
	MustDrainJourneys(t, e.ctx, e.s)
	r := runOf(t, e, j.ID, opener.ID)
	if r.State != leadcycle.RunExited || r.LeadID == nil {
		t.Fatalf("after the open: %+v", r)
	}
	l := MustGet(t, e.ctx, e.s.Leads(), *r.LeadID)
	if l.Source != leadcycle.SourceJourney || l.JourneyID == nil || *l.JourneyID != j.ID || l.ContactID == nil || *l.ContactID != opener.ID || l.Topic != "Offer follow-up" {
		t.Errorf("lead = %+v", l)
	}
	if r := runOf(t, e, j.ID, silent.ID); r.State != leadcycle.RunWaiting {
		t.Fatalf("silent contact before the limit: %+v", r)
	}
	e.clock.Advance(71 * time.Hour)
	MustDrainJourneys(t, e.ctx, e.s)
	r = runOf(t, e, j.ID, silent.ID)
	if r.State != leadcycle.RunExited || r.LeadID != nil || r.History[1].Outcome != "else" {
		t.Fatalf("silent contact after the limit: %+v", r)
	}
}

func testJourneyEffects(t *testing.T, e *env) {
	acme := MustCreateAccount(t, e.ctx, e.s, &leadcycle.Account{Name: "Acme"})
	c := consenting("ana@acme.example", "Ana")
	c.AccountID = &acme.ID
	MustCreateContact(t, e.ctx, e.s, c)
	lone := MustCreateContact(t, e.ctx, e.s, consenting("lone@example.gal", "Lone"))
	hook := MustCreate(t, e.ctx, e.s.Webhooks(), &leadcycle.Webhook{Name: "crm", URL: "https://hooks.example.com/in", Events: []string{"lead.created"}, Active: true, Secret: "sealed"})
	seg := staticSegment(t, e, "s", c, lone)
	j := mustPublishJourney(t, e, &leadcycle.Journey{Name: "Effects", Entry: segmentEntry(seg), Steps: []leadcycle.JourneyStep{
		{ID: "acct", Type: "create_lead", Per: "account", Topic: "Account plan"},
		{ID: "mark", Type: "update_record", Target: "lead", Set: map[string]any{"campaign": "spring", "budget_amount": 1200.5}},
		{ID: "acc", Type: "update_record", Target: "account", Set: map[string]any{"industry": "Retail"}},
		{ID: "call", Type: "create_task", Title: "Call about the plan", Queue: "telesales", DueHours: 24},
		{ID: "hook", Type: "webhook", WebhookID: &hook.ID}}})
	MustDrainJourneys(t, e.ctx, e.s)
	r := runOf(t, e, j.ID, c.ID)
	if r.State != leadcycle.RunCompleted || r.LeadID == nil {
		t.Fatalf("run = %+v", r)
	}
	l := MustGet(t, e.ctx, e.s.Leads(), *r.LeadID)
	if l.ContactID != nil || l.AccountID == nil || *l.AccountID != acme.ID || l.Campaign != "spring" || l.BudgetAmount == nil || *l.BudgetAmount != 1200.5 {
		t.Errorf("account lead = %+v", l)
	}
	if a := MustGet(t, e.ctx, e.s.Accounts(), acme.ID); a.Industry != "Retail" {
		t.Errorf("industry = %q", a.Industry)
	}
	tasks := MustList(t, e.ctx, e.s.Tasks(), leadcycle.ListQuery{})
	var found bool
	for _, task := range tasks {
		if task.Title == "Call about the plan" && *task.ContactID == c.ID {
			found = true
			if task.Queue != "telesales" || task.LeadID == nil || *task.LeadID != l.ID || task.DueAt == nil || !task.DueAt.Equal(e.clock.Now().Add(24*time.Hour)) {
				t.Errorf("task = %+v", task)
			}
		}
	}
	if !found {
		t.Errorf("no journey task in %+v", tasks)
	}
	deliveries, err := e.s.WebhookDeliveries().Deliveries(e.ctx, hook.ID, leadcycle.ListQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var journeyCalls int
	for _, d := range deliveries.Items {
		if d.EventType == leadcycle.EventJourneyStep {
			journeyCalls++
		}
	}
	if journeyCalls != 2 {
		t.Errorf("journey webhook deliveries = %d, want 2 (one per contact): %+v", journeyCalls, deliveries.Items)
	}
	// The contact without an account skips the account steps.
	lr := runOf(t, e, j.ID, lone.ID)
	if lr.State != leadcycle.RunCompleted || lr.LeadID != nil || !strings.Contains(lr.History[0].Outcome, "no account") {
		t.Errorf("run without account = %+v", lr)
	}
}

func testJourneyTriggers(t *testing.T, e *env) {
	formJ := mustPublishJourney(t, e, &leadcycle.Journey{Name: "On lead", Entry: leadcycle.JourneyEntry{Kind: "trigger", Trigger: "lead_created"},
		Steps: []leadcycle.JourneyStep{{Type: "wait", Duration: "1d"}}})
	custom := mustPublishJourney(t, e, &leadcycle.Journey{Name: "On webinar", Entry: leadcycle.JourneyEntry{Kind: "trigger", Trigger: "custom_event", EventType: "webinar_watched"},
		Steps: []leadcycle.JourneyStep{{Type: "wait", Duration: "1d"}}})
	ready := mustPublishJourney(t, e, &leadcycle.Journey{Name: "On ready", Entry: leadcycle.JourneyEntry{Kind: "trigger", Trigger: "lead_sales_ready"},
		Steps: []leadcycle.JourneyStep{{Type: "wait", Duration: "1d"}}})
	c := MustCreateContact(t, e.ctx, e.s, consenting("ana@example.gal", "Ana"))
	l := MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: "Demo", ContactID: &c.ID})
	MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: "Second", ContactID: &c.ID})
	if r := runOf(t, e, formJ.ID, c.ID); *r.LeadID != l.ID {
		t.Errorf("lead journey run = %+v", r)
	}
	if got := MustGet(t, e.ctx, e.s.Journeys(), formJ.ID); got.Stats.Entered != 1 {
		t.Errorf("entered %d times", got.Stats.Entered)
	}
	if _, err := e.s.JourneyRuns().Run(e.ctx, custom.ID, c.ID); leadcycle.ErrorCode(err) != leadcycle.ENotFound {
		t.Errorf("custom journey before its event: %v", err)
	}
	MustCreateInteraction(t, e.ctx, e.s, &leadcycle.Interaction{Type: "custom:webinar_watched", ContactID: c.ID})
	runOf(t, e, custom.ID, c.ID)
	// A batch of interactions (POST /interactions/batch) triggers too.
	batched := MustCreateContact(t, e.ctx, e.s, consenting("batch@example.gal", "B"))
	if err := e.s.AddInteractions(e.ctx, []leadcycle.Interaction{{Type: "page_view", ContactID: batched.ID, Properties: map[string]any{"url": "https://example.com/"}},
		{Type: "custom:webinar_watched", ContactID: batched.ID}}); err != nil {
		t.Fatal(err)
	}
	runOf(t, e, custom.ID, batched.ID)
	MustUpdate(t, e.ctx, e.s.Leads(), l.ID, func(l *leadcycle.Lead) error { l.SalesReady = true; return nil })
	if r := runOf(t, e, ready.ID, c.ID); r.LeadID == nil || *r.LeadID != l.ID {
		t.Errorf("sales-ready run = %+v", r)
	}
	// Form and event triggers, narrowed to one form or event.
	webinar := MustCreate(t, e.ctx, e.s.Events(), &leadcycle.Event{Name: "Webinar"})
	other := MustCreate(t, e.ctx, e.s.Events(), &leadcycle.Event{Name: "Fair"})
	form := MustCreate(t, e.ctx, e.s.Forms(), &leadcycle.Form{Name: "Demo", Fields: []leadcycle.FormField{{Name: "email", Type: "email", Target: "contact.email"}}})
	onEvent := mustPublishJourney(t, e, &leadcycle.Journey{Name: "On webinar registration", Entry: leadcycle.JourneyEntry{Kind: "trigger", Trigger: "event_registered", EventID: &webinar.ID},
		Steps: []leadcycle.JourneyStep{{Type: "wait", Duration: "1d"}}})
	onForm := mustPublishJourney(t, e, &leadcycle.Journey{Name: "On any form", Entry: leadcycle.JourneyEntry{Kind: "trigger", Trigger: "form_submitted"},
		Steps: []leadcycle.JourneyStep{{Type: "wait", Duration: "1d"}}})
	d := MustCreateContact(t, e.ctx, e.s, consenting("d@example.gal", "D"))
	MustCreateInteraction(t, e.ctx, e.s, &leadcycle.Interaction{Type: "event_registered", ContactID: d.ID, Properties: map[string]any{"event_id": other.ID.String()}})
	if _, err := e.s.JourneyRuns().Run(e.ctx, onEvent.ID, d.ID); leadcycle.ErrorCode(err) != leadcycle.ENotFound {
		t.Errorf("another event's registration entered the journey: %v", err)
	}
	MustCreateInteraction(t, e.ctx, e.s, &leadcycle.Interaction{Type: "event_registered", ContactID: d.ID, Properties: map[string]any{"event_id": webinar.ID.String()}})
	runOf(t, e, onEvent.ID, d.ID)
	MustCreateInteraction(t, e.ctx, e.s, &leadcycle.Interaction{Type: "form_submitted", ContactID: d.ID, Properties: map[string]any{"form_id": form.ID.String()}})
	runOf(t, e, onForm.ID, d.ID)
}

func testJourneyOngoingGoal(t *testing.T, e *env) {
	seg := MustCreate(t, e.ctx, e.s.Segments(), &leadcycle.Segment{Name: "Retail", Query: `contact.job_title == "Buyer"`})
	j := mustPublishJourney(t, e, &leadcycle.Journey{Name: "Nurture", Entry: leadcycle.JourneyEntry{Kind: "segment", SegmentID: &seg.ID, Mode: "ongoing"},
		Goal:  `any(leads, .sales_ready)`,
		Steps: []leadcycle.JourneyStep{{ID: "w", Type: "wait", Duration: "7d"}, {ID: "l", Type: "create_lead"}}})
	a := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "a@example.gal", JobTitle: "Buyer"})
	b := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "b@example.gal", JobTitle: "Buyer"})
	MustDrainSegments(t, e.ctx, e.s)
	MustDrainJourneys(t, e.ctx, e.s)
	for _, c := range []leadcycle.ID{a.ID, b.ID} {
		if r := runOf(t, e, j.ID, c); r.State != leadcycle.RunWaiting {
			t.Fatalf("ongoing entry: %+v", r)
		}
	}
	MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: "Hot", ContactID: &a.ID, SalesReady: true})
	e.clock.Advance(7 * 24 * time.Hour)
	MustDrainJourneys(t, e.ctx, e.s)
	if r := runOf(t, e, j.ID, a.ID); r.State != leadcycle.RunGoal || r.LeadID != nil {
		t.Errorf("goal met: %+v", r)
	}
	if r := runOf(t, e, j.ID, b.ID); r.State != leadcycle.RunCompleted || r.LeadID == nil {
		t.Errorf("goal not met: %+v", r)
	}
	// Leaving and entering the segment again does not enter the journey again.
	MustUpdate(t, e.ctx, e.s.Contacts(), b.ID, func(c *leadcycle.Contact) error { c.JobTitle = "x"; return nil })
	MustDrainSegments(t, e.ctx, e.s)
	MustUpdate(t, e.ctx, e.s.Contacts(), b.ID, func(c *leadcycle.Contact) error { c.JobTitle = "Buyer"; return nil })
	MustDrainSegments(t, e.ctx, e.s)
	if got := MustGet(t, e.ctx, e.s.Journeys(), j.ID); got.Stats.Entered != 2 || got.Stats.GoalReached != 1 || got.Stats.Completed != 1 {
		t.Errorf("stats = %+v", got.Stats)
	}
}

func testJourneyPauseStop(t *testing.T, e *env) {
	c := MustCreateContact(t, e.ctx, e.s, consenting("ana@example.gal", "Ana"))
	d := MustCreateContact(t, e.ctx, e.s, consenting("brais@example.gal", "Brais"))
	seg := staticSegment(t, e, "s", c, d)
	j := mustPublishJourney(t, e, &leadcycle.Journey{Name: "Pausable", Entry: segmentEntry(seg), Steps: []leadcycle.JourneyStep{
		{ID: "w", Type: "wait", Duration: "1h"}, {ID: "t", Type: "update_record", Target: "contact", Set: map[string]any{"job_title": "Done"}}}})
	if _, err := e.s.JourneyRuns().Pause(e.ctx, j.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.JourneyRuns().Pause(e.ctx, j.ID); leadcycle.ErrorCode(err) != leadcycle.EConflict {
		t.Errorf("pausing twice: %v", err)
	}
	e.clock.Advance(30 * time.Minute)
	MustDrainJourneys(t, e.ctx, e.s)
	if r := runOf(t, e, j.ID, c.ID); r.State != leadcycle.RunActive || len(r.History) != 0 {
		t.Fatalf("paused journey moved: %+v", r)
	}
	if _, err := e.s.JourneyRuns().Resume(e.ctx, j.ID); err != nil {
		t.Fatal(err)
	}
	MustDrainJourneys(t, e.ctx, e.s)
	if r := runOf(t, e, j.ID, c.ID); r.State != leadcycle.RunWaiting {
		t.Fatalf("resumed: %+v", r)
	}
	got, err := e.s.JourneyRuns().Stop(e.ctx, j.ID)
	if err != nil || got.Status != leadcycle.JourneyStopped || got.Stats.Exited != 2 {
		t.Fatalf("stopped: %+v, %v", got, err)
	}
	if _, err := e.s.JourneyRuns().Publish(e.ctx, j.ID); leadcycle.ErrorCode(err) != leadcycle.EConflict {
		t.Errorf("publishing a stopped journey: %v", err)
	}
	e.clock.Advance(2 * time.Hour)
	MustDrainJourneys(t, e.ctx, e.s)
	if got := MustGet(t, e.ctx, e.s.Contacts(), c.ID); got.JobTitle == "Done" {
		t.Error("a stopped journey ran a step")
	}
	MustDelete(t, e.ctx, e.s.Journeys(), j.ID)
}

func testJourneyConcurrent(t *testing.T, e *env) {
	var contacts []*leadcycle.Contact
	for i := range 40 {
		contacts = append(contacts, MustCreateContact(t, e.ctx, e.s, consenting("c"+leadcycle.ID(i+1).String()+"@example.gal", "C")))
	}
	seg := staticSegment(t, e, "crowd", contacts...)
	j := mustPublishJourney(t, e, &leadcycle.Journey{Name: "Crowd", Entry: segmentEntry(seg), Steps: []leadcycle.JourneyStep{
		{ID: "lead", Type: "create_lead"}, {ID: "task", Type: "create_task", Title: "Follow up", Queue: "sales"}}})
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			for range 50 {
				n, err := e.s.JourneyRuns().ProcessDue(e.ctx, 7)
				if err != nil {
					errs <- err
					return
				}
				if n == 0 {
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	MustDrainJourneys(t, e.ctx, e.s)
	leads := MustList(t, e.ctx, e.s.Leads(), leadcycle.ListQuery{Limit: 500})
	tasks := MustList(t, e.ctx, e.s.Tasks(), leadcycle.ListQuery{Limit: 500})
	perContact := map[leadcycle.ID]int{}
	for _, l := range leads {
		perContact[*l.ContactID]++
	}
	journeyTasks := 0
	for _, task := range tasks {
		if task.Title == "Follow up" {
			journeyTasks++
		}
	}
	if len(perContact) != 40 || journeyTasks != 40 {
		t.Fatalf("%d contacts with leads, %d tasks; want 40 and 40", len(perContact), journeyTasks)
	}
	for c, n := range perContact {
		if n != 1 {
			t.Errorf("contact %s has %d journey leads", c, n)
		}
	}
	if got := MustGet(t, e.ctx, e.s.Journeys(), j.ID); got.Stats.Completed != 40 {
		t.Errorf("stats = %+v", got.Stats)
	}
	// The runs, seven a page, each once.
	var seen []leadcycle.ID
	q := leadcycle.ListQuery{Limit: 7, Filters: []leadcycle.Filter{{Columns: []string{"state"}, Op: leadcycle.OpEq, Value: leadcycle.RunCompleted}}}
	for range 10 {
		page, err := e.s.JourneyRuns().Runs(e.ctx, j.ID, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Items {
			if r.Email == "" || r.FirstName != "C" {
				t.Errorf("run without its contact: %+v", r)
			}
			seen = append(seen, r.ContactID)
		}
		if q.Cursor = page.NextCursor; q.Cursor == "" {
			break
		}
	}
	slices.Sort(seen)
	if len(slices.Compact(seen)) != 40 {
		t.Errorf("paged runs = %v, want the 40 contacts once each", seen)
	}
}

func testEmailQueue(t *testing.T, e *env) {
	tmpl := MustCreateTemplate(t, e.ctx, e.s, "news")
	a := MustCreateContact(t, e.ctx, e.s, consenting("ana@example.gal", "Ana"))
	b := MustCreateContact(t, e.ctx, e.s, consenting("brais@example.gal", "Brais"))
	c := MustCreateContact(t, e.ctx, e.s, consenting("carme@example.gal", "Carme"))
	seg := staticSegment(t, e, "s", a, b, c)
	mustPublishJourney(t, e, &leadcycle.Journey{Name: "News", Entry: segmentEntry(seg), Steps: []leadcycle.JourneyStep{{Type: "send_email", EmailID: &tmpl.ID}}})
	MustDrainJourneys(t, e.ctx, e.s)
	// Carme unsubscribes before the mailer gets to her message.
	if changed, err := e.s.Emails().Unsubscribe(e.ctx, c.ID, tmpl.ID.String()); err != nil || !changed {
		t.Fatalf("unsubscribe: %v, %v", changed, err)
	}
	if changed, _ := e.s.Emails().Unsubscribe(e.ctx, c.ID, tmpl.ID.String()); changed {
		t.Error("a second unsubscribe changed the consent again")
	}
	claimed, err := e.s.Emails().ClaimSends(e.ctx, 10, time.Minute)
	if err != nil || len(claimed) != 2 {
		t.Fatalf("claimed %d: %v", len(claimed), err)
	}
	if again, _ := e.s.Emails().ClaimSends(e.ctx, 10, time.Minute); len(again) != 0 {
		t.Errorf("claimed twice: %+v", again)
	}
	for _, ec := range claimed {
		if ec.Template.ID != tmpl.ID || ec.Contact.Email == "" {
			t.Errorf("context = %+v", ec)
		}
		switch ec.Contact.ID {
		case a.ID:
			if err := e.s.Emails().MarkSent(e.ctx, ec.Send.ID, "<1@example.com>"); err != nil {
				t.Fatal(err)
			}
		case b.ID:
			if err := e.s.Emails().MarkFailed(e.ctx, ec.Send.ID, true, "550 no such user", 0); err != nil {
				t.Fatal(err)
			}
		}
	}
	status := map[leadcycle.ID]string{}
	page, _ := e.s.Emails().Sends(e.ctx, leadcycle.ListQuery{})
	for _, s := range page.Items {
		status[s.ContactID] = s.Status
	}
	if status[a.ID] != "sent" || status[b.ID] != "bounced" || status[c.ID] != "skipped" {
		t.Errorf("statuses = %v", status)
	}
	sent := MustList(t, e.ctx, e.s.Interactions(), leadcycle.ListQuery{Filters: []leadcycle.Filter{{Columns: []string{"contact_id"}, Op: leadcycle.OpEq, Value: a.ID}}})
	if len(sent) != 1 || sent[0].Type != leadcycle.InteractionEmailSent || sent[0].Properties["email_id"] != tmpl.ID.String() {
		t.Errorf("interactions = %+v", sent)
	}
	sup, _ := e.s.Emails().Suppressions(e.ctx, leadcycle.ListQuery{})
	if len(sup.Items) != 1 || sup.Items[0].Email != "brais@example.gal" || sup.Items[0].Reason != "bounce" {
		t.Errorf("suppressions = %+v", sup.Items)
	}
	if got := MustGet(t, e.ctx, e.s.Contacts(), c.ID); got.Consent.CommercialEmail != leadcycle.ConsentDenied {
		t.Errorf("consent after unsubscribe = %+v", got.Consent)
	}
	if err := e.s.Emails().Suppress(e.ctx, leadcycle.Suppression{Email: "nope", Reason: "mood"}); len(leadcycle.ErrorFields(err)) != 2 {
		t.Errorf("bad suppression: %v", err)
	}
	if err := e.s.Emails().Unsuppress(e.ctx, "BRAIS@example.gal"); err != nil {
		t.Error(err)
	}
	if err := e.s.Emails().Unsuppress(e.ctx, "brais@example.gal"); leadcycle.ErrorCode(err) != leadcycle.ENotFound {
		t.Errorf("second unsuppress: %v", err)
	}
	// Double opt-in: pending becomes granted once, nothing else does.
	p := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "p@example.gal", Consent: leadcycle.Consent{CommercialEmail: leadcycle.ConsentPending}})
	if ok, err := e.s.Emails().ConfirmConsent(e.ctx, p.ID, leadcycle.ConsentCommercialEmail); err != nil || !ok {
		t.Errorf("confirm: %v %v", ok, err)
	}
	if ok, _ := e.s.Emails().ConfirmConsent(e.ctx, c.ID, leadcycle.ConsentCommercialEmail); ok {
		t.Error("confirming turned a denial into a grant")
	}
	// Template placeholders are checked against the fields there are.
	bad := &leadcycle.EmailTemplate{Name: "bad", Subject: "Hi", HTML: "<p>{{contact.frist_name}}</p>"}
	err = e.s.EmailTemplates().Create(e.ctx, bad)
	if f := leadcycle.ErrorFields(err); len(f) != 1 || f[0].Field != "html" || !strings.Contains(f[0].Message, "frist_name") || !strings.Contains(f[0].Message, "1:") {
		t.Errorf("bad placeholder: %v", err)
	}
}

// testSegmentDeleteWithJourneys: deleting a segment writes an exit event per
// member, and is refused while a journey enters from it or names it.
func testSegmentDeleteWithJourneys(t *testing.T, e *env) {
	a := MustCreateContact(t, e.ctx, e.s, consenting("a@example.gal", "A"))
	b := MustCreateContact(t, e.ctx, e.s, consenting("b@example.gal", "B"))
	seg := staticSegment(t, e, "leaving", a, b)
	named := staticSegment(t, e, "named", a)
	_, start := segmentEvents(t, e, 0)
	j := mustPublishJourney(t, e, &leadcycle.Journey{Name: "From it", Entry: segmentEntry(seg), Steps: []leadcycle.JourneyStep{{Type: "wait", Duration: "1d"}}})
	cond := MustCreate(t, e.ctx, e.s.Journeys(), &leadcycle.Journey{Name: "Names it", Entry: leadcycle.JourneyEntry{Kind: "trigger", Trigger: "lead_created"},
		ExitCondition: `in_segment("named")`, Steps: []leadcycle.JourneyStep{{Type: "wait", Duration: "1d"}}})
	if err := e.s.Segments().Delete(e.ctx, seg.ID); leadcycle.ErrorCode(err) != leadcycle.EConflict || !strings.Contains(err.Error(), "From it") {
		t.Fatalf("deleting the entry segment of a live journey: %v", err)
	}
	if err := e.s.Segments().Delete(e.ctx, named.ID); leadcycle.ErrorCode(err) != leadcycle.EConflict || !strings.Contains(err.Error(), "Names it") {
		t.Fatalf("deleting a segment a journey condition names: %v", err)
	}
	if _, err := e.s.JourneyRuns().Stop(e.ctx, j.ID); err != nil {
		t.Fatal(err)
	}
	MustDelete(t, e.ctx, e.s.Segments(), seg.ID)
	evs, _ := segmentEvents(t, e, start)
	want := []string{"segment.exited leaving " + a.ID.String(), "segment.exited leaving " + b.ID.String()}
	if strings.Join(evs, ",") != strings.Join(want, ",") {
		t.Errorf("events = %v, want %v", evs, want)
	}
	MustDelete(t, e.ctx, e.s.Journeys(), cond.ID)
	MustDelete(t, e.ctx, e.s.Segments(), named.ID)
}

// testJourneyStepFails: a step that cannot run fails its contact's run with
// the reason, and takes nothing of the other runs processed with it.
func testJourneyStepFails(t *testing.T, e *env) {
	var contacts []*leadcycle.Contact
	for i := range 3 {
		contacts = append(contacts, MustCreateContact(t, e.ctx, e.s, consenting("f"+leadcycle.ID(i+1).String()+"@example.gal", "F")))
	}
	seg := staticSegment(t, e, "both", contacts...)
	// The phone is checked when the contact is written, after the lead.
	broken := mustPublishJourney(t, e, &leadcycle.Journey{Name: "Broken", Entry: segmentEntry(seg), Steps: []leadcycle.JourneyStep{
		{ID: "lead", Type: "create_lead", Topic: "Before the hook"}, {ID: "phone", Type: "update_record", Target: "contact", Set: map[string]any{"phone": "not a phone"}}}})
	fine := mustPublishJourney(t, e, &leadcycle.Journey{Name: "Fine", Entry: segmentEntry(seg), Steps: []leadcycle.JourneyStep{{Type: "create_lead", Topic: "Fine"}}})
	MustDrainJourneys(t, e.ctx, e.s)
	for _, c := range contacts {
		if r := runOf(t, e, broken.ID, c.ID); r.State != leadcycle.RunFailed || !strings.Contains(r.Reason, "phone") || len(r.History) != 0 {
			t.Errorf("broken run = %+v", r)
		}
		if r := runOf(t, e, fine.ID, c.ID); r.State != leadcycle.RunCompleted || r.LeadID == nil {
			t.Errorf("fine run = %+v", r)
		}
	}
	// The failed runs' first step was undone with them: no "Before the hook" lead.
	for _, l := range MustList(t, e.ctx, e.s.Leads(), leadcycle.ListQuery{Limit: 100}) {
		if l.Topic == "Before the hook" {
			t.Errorf("a failed run kept the lead of its first step: %+v", l)
		}
	}
	if got := MustGet(t, e.ctx, e.s.Journeys(), broken.ID); got.Stats.Failed != 3 {
		t.Errorf("stats = %+v", got.Stats)
	}
}
