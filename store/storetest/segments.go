package storetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/leadcycle/leadcycle"
)

var segmentTests = []test{
	{"create validates and rebuilds", testSegmentCreate},
	{"bad queries name the field", testSegmentBadQuery},
	{"members pages and preview", testSegmentMembersPaging},
	{"static lists", testSegmentStatic},
	{"live membership", testSegmentLive},
	{"windows move with time", testSegmentWindow},
	{"segments that name segments", testSegmentRefs},
	{"query changes write events", testSegmentQueryChange},
	{"scores", testSegmentScores},
	{"opportunities", testSegmentOpportunities},
	{"SQL and memory agree", testSegmentProperty},
}

// MustDrainSegments evaluates queued contacts until nothing is due.
func MustDrainSegments(tb testing.TB, ctx context.Context, s leadcycle.Store) {
	tb.Helper()
	for range 1000 {
		n, err := s.SegmentMembers().ProcessDue(ctx, 500)
		if err != nil {
			tb.Fatalf("process segments: %v", err)
		}
		if n == 0 {
			return
		}
	}
	tb.Fatal("segments still had work after 1000 rounds")
}

// memberIDs lists a segment's member contact ids through its pages.
func memberIDs(tb testing.TB, e *env, id leadcycle.ID) []leadcycle.ID {
	tb.Helper()
	return memberPages(tb, e, id, 2)
}

func memberPages(tb testing.TB, e *env, id leadcycle.ID, limit int) []leadcycle.ID {
	tb.Helper()
	var out []leadcycle.ID
	q := leadcycle.ListQuery{Limit: limit}
	for {
		page, err := e.s.SegmentMembers().Members(e.ctx, id, q)
		if err != nil {
			tb.Fatalf("members: %v", err)
		}
		for _, m := range page.Items {
			out = append(out, m.ContactID)
		}
		if page.NextCursor == "" {
			return out
		}
		q.Cursor = page.NextCursor
	}
}

// segmentEvents returns the segment events after id as "type key contact".
func segmentEvents(tb testing.TB, e *env, after leadcycle.ID) ([]string, leadcycle.ID) {
	tb.Helper()
	var out []string
	for {
		evs, err := e.s.Workflow().Events(e.ctx, after, 500)
		if err != nil {
			tb.Fatalf("events: %v", err)
		}
		if len(evs) == 0 {
			return out, after
		}
		for _, ev := range evs {
			after = ev.ID
			if strings.HasPrefix(ev.Type, "segment.") {
				out = append(out, ev.Type+" "+ev.Payload["segment_key"].(string)+" "+ev.ContactID.String())
			}
		}
	}
}

func lastEvent(tb testing.TB, e *env) leadcycle.ID {
	_, last := segmentEvents(tb, e, 0)
	return last
}

func testSegmentCreate(t *testing.T, e *env) {
	retail := MustCreateAccount(t, e.ctx, e.s, &leadcycle.Account{Name: "Shop", Industry: "Retail"})
	bank := MustCreateAccount(t, e.ctx, e.s, &leadcycle.Account{Name: "Bank", Industry: "Finance"})
	ana := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "ana@shop.example", AccountID: &retail.ID})
	MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "bo@bank.example", AccountID: &bank.ID})
	MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "cy@free.example"})
	seg := MustCreate(t, e.ctx, e.s.Segments(), &leadcycle.Segment{Name: "Retail contacts", Query: `account.industry == "Retail"`})
	if seg.Key != "retail_contacts" || seg.Kind != leadcycle.SegmentDynamic || seg.MemberCount != 1 {
		t.Errorf("key %q kind %q member count %d", seg.Key, seg.Kind, seg.MemberCount)
	}
	got := MustGet(t, e.ctx, e.s.Segments(), seg.ID)
	if got.MemberCount != 1 {
		t.Errorf("member count %d, want 1", got.MemberCount)
	}
	diff(t, "members", []leadcycle.ID{ana.ID}, memberIDs(t, e, seg.ID))
	// The first build writes no events: nobody entered, the segment began.
	if evs, _ := segmentEvents(t, e, 0); len(evs) != 0 {
		t.Errorf("events on create: %v", evs)
	}
	list := MustList(t, e.ctx, e.s.Segments(), leadcycle.ListQuery{Filters: []leadcycle.Filter{{Columns: []string{"kind"}, Op: leadcycle.OpEq, Value: "dynamic"}}})
	if len(list) != 1 || list[0].MemberCount != 1 {
		t.Errorf("list %+v", list)
	}
	_, err := e.s.Segments().Update(e.ctx, seg.ID, func(s *leadcycle.Segment) error { s.Kind = leadcycle.SegmentStatic; s.Query = ""; return nil })
	wantErr(t, err, leadcycle.EInvalid, "kind")
	err = e.s.Segments().Create(e.ctx, &leadcycle.Segment{Name: "Again", Key: "retail_contacts", Kind: "static"})
	wantErr(t, err, leadcycle.EConflict)
	MustDelete(t, e.ctx, e.s.Segments(), seg.ID)
	if _, err := e.s.SegmentMembers().Members(e.ctx, seg.ID, leadcycle.ListQuery{}); leadcycle.ErrorCode(err) != leadcycle.ENotFound {
		t.Errorf("members of a deleted segment: %v", err)
	}
}

func testSegmentBadQuery(t *testing.T, e *env) {
	for _, tc := range []struct {
		seg    leadcycle.Segment
		fields []string
		msg    string
	}{
		{leadcycle.Segment{Name: "x", Kind: "dynamic"}, []string{"query"}, "required"},
		{leadcycle.Segment{Name: "", Key: "Bad Key", Kind: "sometimes"}, []string{"name", "key", "kind"}, ""},
		{leadcycle.Segment{Name: "x", Kind: "static", Query: `email == "a"`}, []string{"query"}, "static"},
		{leadcycle.Segment{Name: "x", Query: `account.industri == "Retail"`}, []string{"query"}, `unknown field "industri" on account (1:9)`},
		{leadcycle.Segment{Name: "x", Query: `custom.tier == "gold"`}, []string{"query"}, `unknown field "tier"`},
		{leadcycle.Segment{Name: "x", Query: `in_segment("nope")`}, []string{"query"}, `no segment with key "nope"`},
		{leadcycle.Segment{Name: "x", Query: `count(interactions, .type == "email_opened", 14d)`}, []string{"query"}, `true or false`},
		{leadcycle.Segment{Name: "x", Query: `any(opportunities, .stage == "won")`}, []string{"query"}, `unknown field "stage" on opportunity (1:21)`},
		{leadcycle.Segment{Name: "x", Query: `any(opportunities, .custom.region == "EMEA")`}, []string{"query"}, `unknown field "region" on opportunity.custom (1:28)`},
		{leadcycle.Segment{Name: "x", Query: `count(opportunities, .estimated_value > "big") > 0`}, []string{"query"}, `type mismatch: > between a number and text (1:39)`},
	} {
		err := e.s.Segments().Create(e.ctx, &tc.seg)
		wantErr(t, err, leadcycle.EInvalid, tc.fields...)
		if tc.msg != "" && (err == nil || !strings.Contains(err.Error(), tc.msg)) {
			t.Errorf("%q: error %v, want %q", tc.seg.Query, err, tc.msg)
		}
	}
	_, err := e.s.SegmentMembers().Preview(e.ctx, `job_title = "x"`, 5)
	wantErr(t, err, leadcycle.EInvalid, "query")
}

func testSegmentMembersPaging(t *testing.T, e *env) {
	var want []leadcycle.ID
	for i := range 5 {
		c := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "p" + string(rune('a'+i)) + "@x.example", JobTitle: "CTO"})
		want = append(want, c.ID)
	}
	MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "other@x.example", JobTitle: "Intern"})
	seg := MustCreate(t, e.ctx, e.s.Segments(), &leadcycle.Segment{Name: "CTOs", Query: `job_title == "CTO"`})
	diff(t, "members", want, memberIDs(t, e, seg.ID))
	p, err := e.s.SegmentMembers().Preview(e.ctx, `job_title == "CTO" and email < "pc"`, 1)
	if err != nil {
		t.Fatal(err)
	}
	if p.Count != 2 || len(p.Sample) != 1 || p.Sample[0].ID != want[0] {
		t.Errorf("preview %d %+v", p.Count, p.Sample)
	}
	_, err = e.s.SegmentMembers().Members(e.ctx, seg.ID, leadcycle.ListQuery{Cursor: "nonsense"})
	wantErr(t, err, leadcycle.EInvalid, "cursor")
}

func testSegmentStatic(t *testing.T, e *env) {
	a := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "a@x.example"})
	b := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "b@x.example"})
	seg := MustCreate(t, e.ctx, e.s.Segments(), &leadcycle.Segment{Name: "Webinar 2026", Key: "webinar-2026", Kind: "static"})
	ch, err := e.s.SegmentMembers().AddMembers(e.ctx, seg.ID, []leadcycle.ID{a.ID, 999999}, []string{" B@X.example ", "nobody@x.example"})
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "change", &leadcycle.MembersChange{Changed: 2, NotFound: []string{"999999", "nobody@x.example"}}, ch)
	ch, err = e.s.SegmentMembers().AddMembers(e.ctx, seg.ID, []leadcycle.ID{a.ID}, nil)
	if err != nil || ch.Changed != 0 || ch.Unchanged != 1 {
		t.Errorf("add again: %+v %v", ch, err)
	}
	diff(t, "members", []leadcycle.ID{a.ID, b.ID}, memberIDs(t, e, seg.ID))
	ch, err = e.s.SegmentMembers().RemoveMembers(e.ctx, seg.ID, []leadcycle.ID{a.ID}, nil)
	if err != nil || ch.Changed != 1 {
		t.Errorf("remove: %+v %v", ch, err)
	}
	diff(t, "members", []leadcycle.ID{b.ID}, memberIDs(t, e, seg.ID))
	evs, _ := segmentEvents(t, e, 0)
	diff(t, "events", []string{
		"segment.entered webinar-2026 " + a.ID.String(), "segment.entered webinar-2026 " + b.ID.String(),
		"segment.exited webinar-2026 " + a.ID.String(),
	}, evs)
	dyn := MustCreate(t, e.ctx, e.s.Segments(), &leadcycle.Segment{Name: "Dyn", Query: `email != ""`})
	_, err = e.s.SegmentMembers().AddMembers(e.ctx, dyn.ID, []leadcycle.ID{a.ID}, nil)
	wantErr(t, err, leadcycle.EConflict)
	// A deleted contact leaves every segment.
	MustDelete(t, e.ctx, e.s.Contacts(), b.ID)
	diff(t, "members after delete", []leadcycle.ID(nil), memberIDs(t, e, seg.ID))
}

func testSegmentLive(t *testing.T, e *env) {
	retail := MustCreateAccount(t, e.ctx, e.s, &leadcycle.Account{Name: "Shop", Industry: "Retail"})
	seg := MustCreate(t, e.ctx, e.s.Segments(), &leadcycle.Segment{Name: "Hot retail",
		Query: `account.industry == "Retail" and any(leads, .status == "open" and .topic contains "demo")`})
	start := lastEvent(t, e)
	ana := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "ana@shop.example", AccountID: &retail.ID})
	lead := MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: "Wants a demo", ContactID: &ana.ID})
	MustDrainSegments(t, e.ctx, e.s)
	diff(t, "members", []leadcycle.ID{ana.ID}, memberIDs(t, e, seg.ID))
	evs, last := segmentEvents(t, e, start)
	diff(t, "entered", []string{"segment.entered hot_retail " + ana.ID.String()}, evs)
	// The account changes industry: every contact of it is evaluated again.
	MustUpdate(t, e.ctx, e.s.Accounts(), retail.ID, func(a *leadcycle.Account) error { a.Industry = "Finance"; return nil })
	MustDrainSegments(t, e.ctx, e.s)
	diff(t, "members", []leadcycle.ID(nil), memberIDs(t, e, seg.ID))
	evs, last = segmentEvents(t, e, last)
	diff(t, "exited", []string{"segment.exited hot_retail " + ana.ID.String()}, evs)
	MustUpdate(t, e.ctx, e.s.Accounts(), retail.ID, func(a *leadcycle.Account) error { a.Industry = "Retail"; return nil })
	MustDrainSegments(t, e.ctx, e.s)
	diff(t, "members", []leadcycle.ID{ana.ID}, memberIDs(t, e, seg.ID))
	// The lead is deleted; then the contact moves to no account.
	MustDelete(t, e.ctx, e.s.Leads(), lead.ID)
	MustDrainSegments(t, e.ctx, e.s)
	diff(t, "members", []leadcycle.ID(nil), memberIDs(t, e, seg.ID))
	evs, _ = segmentEvents(t, e, last)
	diff(t, "events", []string{"segment.entered hot_retail " + ana.ID.String(), "segment.exited hot_retail " + ana.ID.String()}, evs)
	// Nothing is queued any more.
	if n, err := e.s.SegmentMembers().ProcessDue(e.ctx, 10); n != 0 || err != nil {
		t.Errorf("process due: %d %v", n, err)
	}
}

func testSegmentWindow(t *testing.T, e *env) {
	day := 24 * time.Hour
	ana := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "ana@x.example"})
	seg := MustCreate(t, e.ctx, e.s.Segments(), &leadcycle.Segment{Name: "Openers",
		Query: `count(interactions, .type == "email_opened" and .email_id == "x", 14d) >= 2`})
	start := lastEvent(t, e)
	now := e.clock.Now()
	MustCreateInteraction(t, e.ctx, e.s, &leadcycle.Interaction{Type: "email_opened", ContactID: ana.ID, OccurredAt: now.Add(-10 * day), Properties: map[string]any{"email_id": "x"}})
	MustCreateInteraction(t, e.ctx, e.s, &leadcycle.Interaction{Type: "email_opened", ContactID: ana.ID, OccurredAt: now.Add(-1 * day), Properties: map[string]any{"email_id": "y"}})
	MustDrainSegments(t, e.ctx, e.s)
	diff(t, "members", []leadcycle.ID(nil), memberIDs(t, e, seg.ID))
	if err := e.s.AddInteractions(e.ctx, []leadcycle.Interaction{{Type: "email_opened", ContactID: ana.ID, OccurredAt: now.Add(-2 * day), Properties: map[string]any{"email_id": "x"}}}); err != nil {
		t.Fatal(err)
	}
	MustDrainSegments(t, e.ctx, e.s)
	diff(t, "members", []leadcycle.ID{ana.ID}, memberIDs(t, e, seg.ID))
	// Four days later the first open leaves the 14-day window.
	e.clock.Advance(4*day - time.Minute)
	MustDrainSegments(t, e.ctx, e.s)
	diff(t, "members before the window moves", []leadcycle.ID{ana.ID}, memberIDs(t, e, seg.ID))
	e.clock.Advance(2 * time.Minute)
	MustDrainSegments(t, e.ctx, e.s)
	diff(t, "members after", []leadcycle.ID(nil), memberIDs(t, e, seg.ID))
	evs, _ := segmentEvents(t, e, start)
	diff(t, "events", []string{"segment.entered openers " + ana.ID.String(), "segment.exited openers " + ana.ID.String()}, evs)
}

func testSegmentRefs(t *testing.T, e *env) {
	a := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "a@x.example", JobTitle: "CTO"})
	b := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "b@x.example", JobTitle: "CTO"})
	list := MustCreate(t, e.ctx, e.s.Segments(), &leadcycle.Segment{Name: "Customers", Kind: "static"})
	ctos := MustCreate(t, e.ctx, e.s.Segments(), &leadcycle.Segment{Name: "CTO prospects", Query: `job_title == "CTO" and not in_segment("customers")`})
	top := MustCreate(t, e.ctx, e.s.Segments(), &leadcycle.Segment{Name: "Top", Query: `in_segment("cto_prospects")`})
	diff(t, "prospects", []leadcycle.ID{a.ID, b.ID}, memberIDs(t, e, ctos.ID))
	diff(t, "top", []leadcycle.ID{a.ID, b.ID}, memberIDs(t, e, top.ID))
	if _, err := e.s.SegmentMembers().AddMembers(e.ctx, list.ID, []leadcycle.ID{a.ID}, nil); err != nil {
		t.Fatal(err)
	}
	MustDrainSegments(t, e.ctx, e.s)
	diff(t, "prospects", []leadcycle.ID{b.ID}, memberIDs(t, e, ctos.ID))
	diff(t, "top through two segments", []leadcycle.ID{b.ID}, memberIDs(t, e, top.ID))
	// No cycles, no deleting or renaming what a query names.
	_, err := e.s.Segments().Update(e.ctx, ctos.ID, func(s *leadcycle.Segment) error { s.Query = `in_segment("top")`; return nil })
	wantErr(t, err, leadcycle.EInvalid, "query")
	err = e.s.Segments().Delete(e.ctx, list.ID)
	wantErr(t, err, leadcycle.EConflict)
	_, err = e.s.Segments().Update(e.ctx, list.ID, func(s *leadcycle.Segment) error { s.Key = "clients"; return nil })
	wantErr(t, err, leadcycle.EConflict, "key")
	MustDelete(t, e.ctx, e.s.Segments(), top.ID)
	MustDelete(t, e.ctx, e.s.Segments(), ctos.ID)
	MustDelete(t, e.ctx, e.s.Segments(), list.ID)
}

func testSegmentQueryChange(t *testing.T, e *env) {
	a := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "a@x.example", JobTitle: "CTO"})
	b := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "b@x.example", JobTitle: "CEO"})
	seg := MustCreate(t, e.ctx, e.s.Segments(), &leadcycle.Segment{Name: "Chiefs", Query: `job_title == "CTO"`})
	start := lastEvent(t, e)
	if got := MustUpdate(t, e.ctx, e.s.Segments(), seg.ID, func(s *leadcycle.Segment) error { s.Query = `job_title == "CEO"`; return nil }); got.MemberCount != 1 {
		t.Errorf("member count after the update %d", got.MemberCount)
	}
	diff(t, "members", []leadcycle.ID{b.ID}, memberIDs(t, e, seg.ID))
	evs, _ := segmentEvents(t, e, start)
	diff(t, "events", []string{"segment.entered chiefs " + b.ID.String(), "segment.exited chiefs " + a.ID.String()}, evs)
	// A new name alone rebuilds nothing.
	MustUpdate(t, e.ctx, e.s.Segments(), seg.ID, func(s *leadcycle.Segment) error { s.Name = "Chief executives"; return nil })
	diff(t, "members", []leadcycle.ID{b.ID}, memberIDs(t, e, seg.ID))
}

func testSegmentScores(t *testing.T, e *env) {
	ana := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "ana@x.example"})
	lead := MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: "Demo", ContactID: &ana.ID})
	MustPublishModel(t, e.ctx, e.s, &leadcycle.ScoringModel{Name: "Fit", Rules: []leadcycle.ScoringRule{
		{Name: "opens", Points: 30, Behaviors: []leadcycle.Behavior{{Type: "email_opened", Frequency: leadcycle.FrequencyEachTime}}},
	}})
	seg := MustCreate(t, e.ctx, e.s.Segments(), &leadcycle.Segment{Name: "Engaged", Query: `any(leads, .score("fit") > 50)`})
	diff(t, "members", []leadcycle.ID(nil), memberIDs(t, e, seg.ID))
	for range 2 {
		MustCreateInteraction(t, e.ctx, e.s, &leadcycle.Interaction{Type: "email_opened", ContactID: ana.ID, LeadID: &lead.ID, OccurredAt: e.clock.Now()})
	}
	MustDrainScoring(t, e.ctx, e.s)
	MustDrainSegments(t, e.ctx, e.s)
	diff(t, "members once scored 60", []leadcycle.ID{ana.ID}, memberIDs(t, e, seg.ID))
	ids, err := segmentIDs(t, e, `any(leads, .score("fit") > 50)`)
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "SQL", []leadcycle.ID{ana.ID}, ids)
}

func testSegmentOpportunities(t *testing.T, e *env) {
	region := MustCreateField(t, e.ctx, e.s, &leadcycle.FieldDef{Entity: "opportunity", Name: "region", Type: leadcycle.FieldText})
	ana := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "ana@x.example"})
	bo := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "bo@x.example"})
	lead := MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: "Demo", ContactID: &ana.ID})
	seg := MustCreate(t, e.ctx, e.s.Segments(), &leadcycle.Segment{Name: "Won", Query: `any(opportunities, .status == "won")`})
	start := lastEvent(t, e)
	check := func(what string, want ...leadcycle.ID) {
		t.Helper()
		MustDrainSegments(t, e.ctx, e.s)
		diff(t, what+": members", want, memberIDs(t, e, seg.ID))
		ids, err := segmentIDs(t, e, seg.Query)
		if err != nil {
			t.Fatal(err)
		}
		diff(t, what+": SQL", want, ids)
	}
	// An opportunity of ana's lead, without a contact of its own, is ana's.
	opp := MustCreateOpportunity(t, e.ctx, e.s, &leadcycle.Opportunity{Name: "Deal", LeadID: &lead.ID, Status: "won", EstimatedValue: ptr(20000.0)})
	check("won through the lead", ana.ID)
	evs, last := segmentEvents(t, e, start)
	diff(t, "entered", []string{"segment.entered won " + ana.ID.String()}, evs)
	MustUpdate(t, e.ctx, e.s.Opportunities(), opp.ID, func(o *leadcycle.Opportunity) error { o.Status = "open"; return nil })
	check("reopened")
	evs, last = segmentEvents(t, e, last)
	diff(t, "exited", []string{"segment.exited won " + ana.ID.String()}, evs)
	MustUpdate(t, e.ctx, e.s.Opportunities(), opp.ID, func(o *leadcycle.Opportunity) error { o.Status = "won"; return nil })
	check("won again", ana.ID)
	// The lead moves to bo, and its opportunity with it.
	MustUpdate(t, e.ctx, e.s.Leads(), lead.ID, func(l *leadcycle.Lead) error { l.ContactID = &bo.ID; return nil })
	check("the lead moved", bo.ID)
	// Given ana as its own contact, it is both's, and once each.
	MustUpdate(t, e.ctx, e.s.Opportunities(), opp.ID, func(o *leadcycle.Opportunity) error { o.ContactID = &ana.ID; return nil })
	check("its own contact", ana.ID, bo.ID)
	count, err := segmentIDs(t, e, `count(opportunities, .status == "won") == 1`)
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "counted once", []leadcycle.ID{ana.ID, bo.ID}, count)
	// The lead goes: the opportunity keeps only ana.
	MustDelete(t, e.ctx, e.s.Leads(), lead.ID)
	check("the lead deleted", ana.ID)
	// Custom fields, values and lost opportunities.
	big := MustCreate(t, e.ctx, e.s.Segments(), &leadcycle.Segment{Name: "Big EMEA",
		Query: `any(opportunities, .custom.region == "EMEA" and .estimated_value > 10000) and none(opportunities, .status == "lost")`})
	diff(t, "big", []leadcycle.ID(nil), memberIDs(t, e, big.ID))
	wantErr(t, e.s.Fields().Delete(e.ctx, region.ID), leadcycle.EConflict) // the segment uses it
	MustUpdate(t, e.ctx, e.s.Opportunities(), opp.ID, func(o *leadcycle.Opportunity) error { o.Custom["region"] = "EMEA"; return nil })
	MustDrainSegments(t, e.ctx, e.s)
	diff(t, "big", []leadcycle.ID{ana.ID}, memberIDs(t, e, big.ID))
	lost := MustCreateOpportunity(t, e.ctx, e.s, &leadcycle.Opportunity{Name: "Lost", ContactID: &ana.ID, Status: "lost"})
	MustDrainSegments(t, e.ctx, e.s)
	diff(t, "big with a lost one", []leadcycle.ID(nil), memberIDs(t, e, big.ID))
	MustDelete(t, e.ctx, e.s.Opportunities(), lost.ID)
	MustDrainSegments(t, e.ctx, e.s)
	diff(t, "big without it", []leadcycle.ID{ana.ID}, memberIDs(t, e, big.ID))
	MustDelete(t, e.ctx, e.s.Opportunities(), opp.ID)
	check("the opportunity deleted")
	if n, err := e.s.SegmentMembers().ProcessDue(e.ctx, 10); n != 0 || err != nil {
		t.Errorf("process due: %d %v", n, err)
	}
}

// segmentEvaluator is what the property test needs of a store beyond
// leadcycle.Store: the SQL evaluation of a query.
type segmentEvaluator interface {
	SegmentIDs(ctx context.Context, query string) ([]leadcycle.ID, error)
}

func segmentIDs(t *testing.T, e *env, query string) ([]leadcycle.ID, error) {
	ev, ok := e.s.(segmentEvaluator)
	if !ok {
		t.Skipf("%T cannot evaluate segment queries in SQL", e.s)
	}
	ids, err := ev.SegmentIDs(e.ctx, query)
	if len(ids) == 0 {
		ids = nil
	}
	return ids, err
}
