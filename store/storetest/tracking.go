package storetest

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leadcycle/leadcycle"
)

// trkVisitor returns a visitor id made from n, as the script would make one.
func trkVisitor(n int) string { return fmt.Sprintf("%032x", 0xabc000+n) }

// trkInteractions lists the interactions of a contact of one type, oldest
// first.
func trkInteractions(t *testing.T, e *env, contactID leadcycle.ID, typ string) []leadcycle.Interaction {
	t.Helper()
	return MustList(t, e.ctx, e.s.Interactions(), leadcycle.ListQuery{Limit: leadcycle.MaxLimit, Filters: []leadcycle.Filter{
		{Columns: []string{"contact_id"}, Op: leadcycle.OpEq, Value: contactID},
		{Columns: []string{"type"}, Op: leadcycle.OpEq, Value: typ},
	}})
}

func trkPageVisits(t *testing.T, e *env, visitorID string) []leadcycle.PageVisit {
	t.Helper()
	v, err := e.s.PageVisits(e.ctx, visitorID)
	if err != nil {
		t.Fatalf("page visits of %s: %v", visitorID, err)
	}
	return v
}

func trkView(t *testing.T, e *env, v leadcycle.PageView) leadcycle.PageViewResult {
	t.Helper()
	if v.URL == "" {
		v.URL = "https://www.example.com/"
	}
	res, err := e.s.RecordPageView(e.ctx, v)
	if err != nil {
		t.Fatalf("record page view %+v: %v", v, err)
	}
	return res
}

func trkStitch(t *testing.T, e *env, visitorID string, contactID leadcycle.ID) int {
	t.Helper()
	n, err := e.s.StitchVisitor(e.ctx, visitorID, contactID)
	if err != nil {
		t.Fatalf("stitch %s to %s: %v", visitorID, contactID, err)
	}
	return n
}

func trkSite(t *testing.T, e *env, s leadcycle.TrackingSite) *leadcycle.TrackingSite {
	t.Helper()
	return MustCreate(t, e.ctx, e.s.TrackingSites(), &s)
}

var trackingTests = []test{
	{"sites", func(t *testing.T, e *env) {
		s := trkSite(t, e, leadcycle.TrackingSite{Name: " Web ", AllowedOrigins: []string{" HTTPS://www.Example.com/ ", "https://*.example.org"}})
		if !strings.HasPrefix(s.Key, "site_") || len(s.Key) != 29 {
			t.Errorf("generated key = %q", s.Key)
		}
		want := &leadcycle.TrackingSite{ID: s.ID, Key: s.Key, Name: "Web", AllowedOrigins: []string{"https://www.example.com", "https://*.example.org"},
			CreatedAt: Epoch, UpdatedAt: Epoch}
		diff(t, "created site", want, s)
		diff(t, "stored site", want, MustGet(t, e.ctx, e.s.TrackingSites(), s.ID))
		got, err := e.s.TrackingSiteByKey(e.ctx, s.Key)
		if err != nil {
			t.Fatal(err)
		}
		diff(t, "site by key", want, got)
		_, err = e.s.TrackingSiteByKey(e.ctx, "nope")
		wantErr(t, err, leadcycle.ENotFound)

		mine := trkSite(t, e, leadcycle.TrackingSite{Key: "blog-2026", Name: "Blog", ConsentImplied: true})
		err = e.s.TrackingSites().Create(e.ctx, &leadcycle.TrackingSite{Key: "blog-2026", Name: "Copy"})
		wantErr(t, err, leadcycle.EConflict, "key")
		for _, bad := range []leadcycle.TrackingSite{
			{Name: "x", AllowedOrigins: []string{"www.example.com"}},
			{Name: "x", AllowedOrigins: []string{"https://example.com/path"}},
			{Name: "x", AllowedOrigins: []string{"ftp://example.com"}},
			{Name: "x", Key: "no spaces please"},
			{Name: ""},
		} {
			err := e.s.TrackingSites().Create(e.ctx, &bad)
			wantErr(t, err, leadcycle.EInvalid)
		}
		err = e.s.TrackingSites().Create(e.ctx, &leadcycle.TrackingSite{Name: "x", AllowedOrigins: []string{"example.com"}})
		wantErr(t, err, leadcycle.EInvalid, "allowed_origins")
		_, err = e.s.TrackingSites().Update(e.ctx, mine.ID, func(s *leadcycle.TrackingSite) error { s.Key = s.Key + "!"; return nil })
		wantErr(t, err, leadcycle.EInvalid, "key")
		_, err = e.s.TrackingSites().Update(e.ctx, mine.ID, func(s *leadcycle.TrackingSite) error { s.Key = want.Key; return nil })
		wantErr(t, err, leadcycle.EConflict)

		e.clock.Advance(time.Second)
		upd := MustUpdate(t, e.ctx, e.s.TrackingSites(), mine.ID, func(s *leadcycle.TrackingSite) error { s.ConsentImplied = false; return nil })
		if upd.ConsentImplied || !upd.UpdatedAt.Equal(Epoch.Add(time.Second)) || upd.Key != "blog-2026" {
			t.Errorf("updated site: %+v", upd)
		}
		listed := MustList(t, e.ctx, e.s.TrackingSites(), leadcycle.ListQuery{Filters: []leadcycle.Filter{{Columns: []string{"key"}, Op: leadcycle.OpEq, Value: "blog-2026"}}})
		diff(t, "list by key", []leadcycle.ID{mine.ID}, ids(listed))
		MustDelete(t, e.ctx, e.s.TrackingSites(), mine.ID)
		checkNotFound(t, e.ctx, e.s.TrackingSites())

		if !s.AllowsOrigin("https://www.example.com") || !s.AllowsOrigin("https://blog.example.org") ||
			s.AllowsOrigin("https://example.org") || s.AllowsOrigin("http://www.example.com") || s.AllowsOrigin("https://evil.com") ||
			s.AllowsOrigin("https://www.example.com.evil.com") || s.AllowsOrigin("") {
			t.Error("AllowsOrigin lets the wrong origins through or stops the right ones")
		}
	}},
	{"anonymous_page_views", func(t *testing.T, e *env) {
		site := trkSite(t, e, leadcycle.TrackingSite{Name: "Web"})
		vid := trkVisitor(1)
		res := trkView(t, e, leadcycle.PageView{VisitorID: vid, SiteID: &site.ID, URL: "https://www.example.com/pricing",
			Referrer: "https://search.example/?q=x", Title: "Pricing", Device: "desktop"})
		if !res.Recorded || res.ContactID != nil || res.InteractionID != nil {
			t.Errorf("anonymous result = %+v", res)
		}
		e.clock.Advance(time.Hour)
		trkView(t, e, leadcycle.PageView{VisitorID: vid, SiteID: &site.ID, URL: "https://www.example.com/demo"})
		// A view that arrives late moves first_seen back, not last_seen.
		trkView(t, e, leadcycle.PageView{VisitorID: vid, URL: "https://www.example.com/old", OccurredAt: Epoch.Add(-time.Hour)})

		v, err := e.s.Visitor(e.ctx, vid)
		if err != nil {
			t.Fatal(err)
		}
		diff(t, "visitor", &leadcycle.Visitor{ID: vid, SiteID: &site.ID, FirstSeenAt: Epoch.Add(-time.Hour), LastSeenAt: Epoch.Add(time.Hour)}, v)
		visits := trkPageVisits(t, e, vid)
		if len(visits) != 3 {
			t.Fatalf("%d page visits, want 3", len(visits))
		}
		diff(t, "first visit", leadcycle.PageVisit{ID: visits[1].ID, VisitorID: vid, SiteID: &site.ID, URL: "https://www.example.com/pricing",
			Referrer: "https://search.example/?q=x", Title: "Pricing", Device: "desktop", OccurredAt: Epoch}, visits[1])
		if visits[0].URL != "https://www.example.com/old" || visits[2].URL != "https://www.example.com/demo" {
			t.Errorf("visits not in time order: %+v", visits)
		}
		if n := count(t, e.ctx, e.s.Interactions()); n != 0 {
			t.Errorf("anonymous page views made %d interactions", n)
		}
		if got := trkPageVisits(t, e, trkVisitor(2)); len(got) != 0 {
			t.Errorf("another visitor has visits: %+v", got)
		}
		_, err = e.s.Visitor(e.ctx, trkVisitor(2))
		wantErr(t, err, leadcycle.ENotFound)

		for _, bad := range []leadcycle.PageView{
			{VisitorID: "", URL: "https://www.example.com/"},
			{VisitorID: strings.ToUpper(trkVisitor(3)), URL: "https://www.example.com/"},
			{VisitorID: trkVisitor(3) + "0", URL: "https://www.example.com/"},
			{VisitorID: trkVisitor(3), URL: "javascript:alert(1)"},
			{VisitorID: trkVisitor(3), URL: "/relative"},
			{VisitorID: trkVisitor(3), URL: "https://www.example.com/" + strings.Repeat("a", 2100)},
			{VisitorID: trkVisitor(3), URL: "https://www.example.com/", Title: strings.Repeat("t", 301)},
		} {
			_, err := e.s.RecordPageView(e.ctx, bad)
			wantErr(t, err, leadcycle.EInvalid)
		}
		if _, err := e.s.Visitor(e.ctx, trkVisitor(3)); leadcycle.ErrorCode(err) != leadcycle.ENotFound {
			t.Errorf("a refused page view created its visitor: %v", err)
		}
	}},
	{"stitch_converts_once", func(t *testing.T, e *env) {
		acc := MustCreateAccount(t, e.ctx, e.s, &leadcycle.Account{Name: "Acme"})
		c := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "ana@acme.test", AccountID: &acc.ID})
		vid, other := trkVisitor(1), trkVisitor(2)
		urls := []string{"https://www.example.com/", "https://www.example.com/pricing", "https://www.example.com/demo"}
		for i, u := range urls {
			trkView(t, e, leadcycle.PageView{VisitorID: vid, URL: u, Referrer: "https://ref.example/" + fmt.Sprint(i), Title: "T" + fmt.Sprint(i), Device: "mobile"})
			e.clock.Advance(time.Minute)
		}
		trkView(t, e, leadcycle.PageView{VisitorID: other, URL: "https://www.example.com/other"})

		if n := trkStitch(t, e, vid, c.ID); n != 3 {
			t.Fatalf("stitch converted %d visits, want 3", n)
		}
		got := trkInteractions(t, e, c.ID, leadcycle.InteractionPageView)
		if len(got) != 3 {
			t.Fatalf("%d page_view interactions, want 3", len(got))
		}
		for i, it := range got {
			want := leadcycle.Interaction{ID: it.ID, Type: leadcycle.InteractionPageView, OccurredAt: Epoch.Add(time.Duration(i) * time.Minute),
				ContactID: c.ID, AccountID: &acc.ID, CreatedAt: Epoch.Add(3 * time.Minute),
				Properties: map[string]any{"url": urls[i], "referrer": "https://ref.example/" + fmt.Sprint(i), "title": "T" + fmt.Sprint(i), "visitor_id": vid, "device": "mobile"}}
			diff(t, fmt.Sprintf("interaction %d", i), want, it)
		}
		if v := trkPageVisits(t, e, vid); len(v) != 0 {
			t.Errorf("%d anonymous visits left after stitching", len(v))
		}
		if v := trkPageVisits(t, e, other); len(v) != 1 {
			t.Errorf("stitching touched another visitor's visits: %d left", len(v))
		}
		v, err := e.s.Visitor(e.ctx, vid)
		if err != nil {
			t.Fatal(err)
		}
		if v.ContactID == nil || *v.ContactID != c.ID || v.IdentifiedAt == nil || !v.IdentifiedAt.Equal(Epoch.Add(3*time.Minute)) {
			t.Errorf("visitor after stitching: %+v", v)
		}

		// Again: nothing is converted twice.
		e.clock.Advance(time.Minute)
		if n := trkStitch(t, e, vid, c.ID); n != 0 {
			t.Errorf("second stitch converted %d visits", n)
		}
		if n := len(trkInteractions(t, e, c.ID, leadcycle.InteractionPageView)); n != 3 {
			t.Errorf("%d page_view interactions after the second stitch, want 3", n)
		}
		if v2, _ := e.s.Visitor(e.ctx, vid); !v2.IdentifiedAt.Equal(*v.IdentifiedAt) {
			t.Errorf("identified_at moved on a repeated stitch: %v → %v", v.IdentifiedAt, v2.IdentifiedAt)
		}

		// From now on page views go straight to the contact.
		res := trkView(t, e, leadcycle.PageView{VisitorID: vid, URL: "https://www.example.com/after", Title: "After"})
		if !res.Recorded || res.ContactID == nil || *res.ContactID != c.ID || res.InteractionID == nil {
			t.Fatalf("identified page view result = %+v", res)
		}
		it := MustGet(t, e.ctx, e.s.Interactions(), *res.InteractionID)
		if it.Type != leadcycle.InteractionPageView || it.Properties["url"] != "https://www.example.com/after" || it.Properties["visitor_id"] != vid {
			t.Errorf("identified page view interaction: %+v", it)
		}
		if v := trkPageVisits(t, e, vid); len(v) != 0 {
			t.Errorf("an identified visitor's page view was stored anonymously")
		}
	}},
	{"capture_stitches_visitor", func(t *testing.T, e *env) {
		// A form submission that carries the visitor id attributes the
		// visitor's earlier page views to the matched or created contact.
		vid := trkVisitor(1)
		trkView(t, e, leadcycle.PageView{VisitorID: vid, URL: "https://www.example.com/pricing"})
		trkView(t, e, leadcycle.PageView{VisitorID: vid, URL: "https://www.example.com/contact"})
		res, err := e.s.Capture(e.ctx, leadcycle.CaptureInput{Source: leadcycle.SourceForm, Contact: leadcycle.Contact{Email: "form@example.test"},
			VisitorID: vid, Interaction: &leadcycle.Interaction{Type: leadcycle.InteractionFormSubmitted}})
		if err != nil {
			t.Fatal(err)
		}
		if res.ContactID == nil {
			t.Fatalf("capture made no contact: %+v", res)
		}
		if n := len(trkInteractions(t, e, *res.ContactID, leadcycle.InteractionPageView)); n != 2 {
			t.Errorf("%d page views attributed to the submitter, want 2", n)
		}
		if v := trkPageVisits(t, e, vid); len(v) != 0 {
			t.Errorf("%d anonymous visits left after the submission", len(v))
		}
	}},
	{"stitch_edge_cases", func(t *testing.T, e *env) {
		a := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "a@example.test"})
		b := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "b@example.test"})
		vid := trkVisitor(1)
		trkView(t, e, leadcycle.PageView{VisitorID: vid})

		_, err := e.s.StitchVisitor(e.ctx, vid, 987654)
		wantErr(t, err, leadcycle.ENotFound)
		_, err = e.s.StitchVisitor(e.ctx, "not-a-visitor", a.ID)
		wantErr(t, err, leadcycle.EInvalid, "visitor_id")
		if v := trkPageVisits(t, e, vid); len(v) != 1 {
			t.Fatalf("a refused stitch changed the visits: %d", len(v))
		}

		// A visitor never seen before (the form sent an id whose page views
		// were not collected) is created, linked.
		fresh := trkVisitor(2)
		if n := trkStitch(t, e, fresh, a.ID); n != 0 {
			t.Errorf("stitching an unknown visitor converted %d", n)
		}
		if v, err := e.s.Visitor(e.ctx, fresh); err != nil || v.ContactID == nil || *v.ContactID != a.ID {
			t.Errorf("unknown visitor after stitching: %+v, %v", v, err)
		}

		// The latest identification wins.
		trkStitch(t, e, vid, a.ID)
		trkStitch(t, e, vid, b.ID)
		res := trkView(t, e, leadcycle.PageView{VisitorID: vid})
		if res.ContactID == nil || *res.ContactID != b.ID {
			t.Errorf("page view after relinking went to %v, want contact %s", res.ContactID, b.ID)
		}
		if n := len(trkInteractions(t, e, a.ID, leadcycle.InteractionPageView)); n != 1 {
			t.Errorf("contact a has %d page views, want the 1 converted", n)
		}

		// Deleting the contact forgets the visitor.
		MustDelete(t, e.ctx, e.s.Contacts(), b.ID)
		if _, err := e.s.Visitor(e.ctx, vid); leadcycle.ErrorCode(err) != leadcycle.ENotFound {
			t.Errorf("visitor of a deleted contact: %v", err)
		}
		if res := trkView(t, e, leadcycle.PageView{VisitorID: vid}); res.ContactID != nil {
			t.Errorf("page view of a forgotten visitor went to contact %s", *res.ContactID)
		}
	}},
	{"stitch_denied_consent", func(t *testing.T, e *env) {
		c := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "no@example.test", Consent: leadcycle.Consent{Tracking: leadcycle.ConsentDenied}})
		vid := trkVisitor(1)
		trkView(t, e, leadcycle.PageView{VisitorID: vid})
		trkView(t, e, leadcycle.PageView{VisitorID: vid})
		if n := trkStitch(t, e, vid, c.ID); n != 0 {
			t.Errorf("stitching a contact who denied tracking converted %d visits", n)
		}
		if v := trkPageVisits(t, e, vid); len(v) != 0 {
			t.Errorf("%d anonymous visits kept for a contact who denied tracking", len(v))
		}
		res := trkView(t, e, leadcycle.PageView{VisitorID: vid})
		if res.Recorded || res.InteractionID != nil {
			t.Errorf("page view of a contact who denied tracking: %+v", res)
		}
		if n := count(t, e.ctx, e.s.Interactions()); n != 0 {
			t.Errorf("%d interactions recorded for a contact who denied tracking", n)
		}
		// Consent granted later: tracking resumes.
		MustUpdate(t, e.ctx, e.s.Contacts(), c.ID, func(c *leadcycle.Contact) error { c.Consent.Tracking = leadcycle.ConsentGranted; return nil })
		if res := trkView(t, e, leadcycle.PageView{VisitorID: vid}); !res.Recorded || res.InteractionID == nil {
			t.Errorf("page view after consent: %+v", res)
		}
	}},
	{"stitch_concurrent_with_page_views", func(t *testing.T, e *env) {
		c := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "race@example.test"})
		vid := trkVisitor(1)
		const views, stitches = 24, 4
		for range 6 {
			trkView(t, e, leadcycle.PageView{VisitorID: vid})
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make(chan error, views+stitches)
		converted := make(chan int, stitches)
		for i := range views {
			wg.Go(func() {
				<-start
				_, err := e.s.RecordPageView(e.ctx, leadcycle.PageView{VisitorID: vid, URL: fmt.Sprintf("https://www.example.com/%d", i)})
				errs <- err
			})
		}
		for range stitches {
			wg.Go(func() {
				<-start
				n, err := e.s.StitchVisitor(e.ctx, vid, c.ID)
				errs <- err
				converted <- n
			})
		}
		close(start)
		wg.Wait()
		close(errs)
		close(converted)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		total := 0
		for n := range converted {
			total += n
		}
		// Every page view is exactly one interaction, whether it was
		// converted or recorded after the link; none is left anonymous.
		left := len(trkPageVisits(t, e, vid))
		got := len(trkInteractions(t, e, c.ID, leadcycle.InteractionPageView))
		if left != 0 || got != 6+views {
			t.Errorf("after the race: %d anonymous visits, %d interactions; want 0 and %d", left, got, 6+views)
		}
		if total < 6 || total > 6+views {
			t.Errorf("stitches converted %d in all", total)
		}
	}},
	{"purge_anonymous_visits", func(t *testing.T, e *env) {
		day := 24 * time.Hour
		c := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "kept@example.test"})
		recent, old, known := trkVisitor(1), trkVisitor(2), trkVisitor(3)
		trkView(t, e, leadcycle.PageView{VisitorID: recent, OccurredAt: Epoch.Add(-40 * day)})
		trkView(t, e, leadcycle.PageView{VisitorID: recent, OccurredAt: Epoch.Add(-10 * day)})
		trkView(t, e, leadcycle.PageView{VisitorID: old, OccurredAt: Epoch.Add(-40 * day)})
		trkView(t, e, leadcycle.PageView{VisitorID: old, OccurredAt: Epoch.Add(-35 * day)})
		trkView(t, e, leadcycle.PageView{VisitorID: known, OccurredAt: Epoch.Add(-40 * day)})
		trkStitch(t, e, known, c.ID)

		visits, visitors, err := e.s.PurgeAnonymousVisits(e.ctx, Epoch.Add(-30*day))
		if err != nil {
			t.Fatal(err)
		}
		if visits != 3 || visitors != 1 {
			t.Errorf("purge deleted %d visits and %d visitors, want 3 and 1", visits, visitors)
		}
		if v := trkPageVisits(t, e, recent); len(v) != 1 || !v[0].OccurredAt.Equal(Epoch.Add(-10*day)) {
			t.Errorf("recent visitor's visits after purge: %+v", v)
		}
		if _, err := e.s.Visitor(e.ctx, old); leadcycle.ErrorCode(err) != leadcycle.ENotFound {
			t.Errorf("stale anonymous visitor kept: %v", err)
		}
		if _, err := e.s.Visitor(e.ctx, recent); err != nil {
			t.Errorf("recent visitor purged: %v", err)
		}
		if v, err := e.s.Visitor(e.ctx, known); err != nil || v.ContactID == nil {
			t.Errorf("identified visitor purged: %+v %v", v, err)
		}
		if n := len(trkInteractions(t, e, c.ID, leadcycle.InteractionPageView)); n != 1 {
			t.Errorf("purge touched interactions: %d", n)
		}
		if visits, visitors, err := e.s.PurgeAnonymousVisits(e.ctx, Epoch.Add(-30*day)); err != nil || visits != 0 || visitors != 0 {
			t.Errorf("second purge: %d, %d, %v", visits, visitors, err)
		}
	}},
	{"email_events", func(t *testing.T, e *env) {
		c := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "open@example.test"})
		l := MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: "Newsletter", ContactID: &c.ID})
		open := leadcycle.EmailEvent{Type: leadcycle.InteractionEmailOpened, ContactID: c.ID, LeadID: &l.ID, EmailID: "news-1"}
		i, err := e.s.RecordEmailEvent(e.ctx, open)
		if err != nil || i == nil {
			t.Fatalf("first open: %v, %v", i, err)
		}
		diff(t, "open", &leadcycle.Interaction{ID: i.ID, Type: leadcycle.InteractionEmailOpened, OccurredAt: Epoch, ContactID: c.ID, LeadID: &l.ID,
			Properties: map[string]any{"email_id": "news-1", "lead_id": l.ID.String()}, CreatedAt: Epoch}, MustGet(t, e.ctx, e.s.Interactions(), i.ID))

		// Mail clients fetch the pixel again and again: one open a minute.
		e.clock.Advance(30 * time.Second)
		if i, err := e.s.RecordEmailEvent(e.ctx, open); err != nil || i != nil {
			t.Errorf("open again within the window: %v, %v", i, err)
		}
		other := open
		other.EmailID = "news-2"
		if i, err := e.s.RecordEmailEvent(e.ctx, other); err != nil || i == nil {
			t.Errorf("open of another email: %v, %v", i, err)
		}
		e.clock.Advance(leadcycle.EmailOpenDedupWindow)
		if i, err := e.s.RecordEmailEvent(e.ctx, open); err != nil || i == nil {
			t.Errorf("open after the window: %v, %v", i, err)
		}
		if n := len(trkInteractions(t, e, c.ID, leadcycle.InteractionEmailOpened)); n != 3 {
			t.Errorf("%d opens recorded, want 3", n)
		}

		click := leadcycle.EmailEvent{Type: leadcycle.InteractionEmailClicked, ContactID: c.ID, EmailID: "news-1", URL: "https://www.example.com/offer?a=1"}
		for range 2 {
			if i, err := e.s.RecordEmailEvent(e.ctx, click); err != nil || i == nil {
				t.Fatalf("click: %v, %v", i, err)
			}
		}
		clicks := trkInteractions(t, e, c.ID, leadcycle.InteractionEmailClicked)
		if len(clicks) != 2 || clicks[0].LeadID != nil {
			t.Fatalf("clicks: %+v", clicks)
		}
		diff(t, "click properties", map[string]any{"email_id": "news-1", "url": "https://www.example.com/offer?a=1"}, clicks[0].Properties)

		// A lead deleted since the email was sent is left out.
		MustDelete(t, e.ctx, e.s.Leads(), l.ID)
		e.clock.Advance(time.Hour)
		i, err = e.s.RecordEmailEvent(e.ctx, open)
		if err != nil || i == nil || i.LeadID != nil || i.Properties["lead_id"] != nil {
			t.Errorf("open for a deleted lead: %+v, %v", i, err)
		}
		// A contact deleted since: nothing recorded, no error.
		if i, err := e.s.RecordEmailEvent(e.ctx, leadcycle.EmailEvent{Type: leadcycle.InteractionEmailOpened, ContactID: 987654, EmailID: "x"}); err != nil || i != nil {
			t.Errorf("open of a missing contact: %v, %v", i, err)
		}

		for _, bad := range []leadcycle.EmailEvent{
			{Type: leadcycle.InteractionPageView, ContactID: c.ID, EmailID: "x"},
			{Type: leadcycle.InteractionEmailOpened, ContactID: c.ID},
			{Type: leadcycle.InteractionEmailOpened, EmailID: "x"},
			{Type: leadcycle.InteractionEmailClicked, ContactID: c.ID, EmailID: "x"},
			{Type: leadcycle.InteractionEmailClicked, ContactID: c.ID, EmailID: "x", URL: "javascript:alert(1)"},
		} {
			_, err := e.s.RecordEmailEvent(e.ctx, bad)
			wantErr(t, err, leadcycle.EInvalid)
		}
	}},
	{"email_events_denied_consent", func(t *testing.T, e *env) {
		c := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "deny@example.test", Consent: leadcycle.Consent{Tracking: leadcycle.ConsentDenied}})
		for _, typ := range []string{leadcycle.InteractionEmailOpened, leadcycle.InteractionEmailClicked} {
			i, err := e.s.RecordEmailEvent(e.ctx, leadcycle.EmailEvent{Type: typ, ContactID: c.ID, EmailID: "e", URL: "https://www.example.com/"})
			if err != nil || i != nil {
				t.Errorf("%s for a contact who denied tracking: %v, %v", typ, i, err)
			}
		}
		if n := count(t, e.ctx, e.s.Interactions()); n != 0 {
			t.Errorf("%d interactions recorded despite denied consent", n)
		}
	}},
	{"email_opens_concurrent", func(t *testing.T, e *env) {
		c := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "burst@example.test"})
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make([]error, 10)
		for i := range errs {
			wg.Go(func() {
				<-start
				_, errs[i] = e.s.RecordEmailEvent(e.ctx, leadcycle.EmailEvent{Type: leadcycle.InteractionEmailOpened, ContactID: c.ID, EmailID: "prefetched"})
			})
		}
		close(start)
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if n := len(trkInteractions(t, e, c.ID, leadcycle.InteractionEmailOpened)); n != 1 {
			t.Errorf("%d opens recorded from one burst, want 1", n)
		}
	}},
	{"secrets", func(t *testing.T, e *env) {
		var wg sync.WaitGroup
		got := make([][]byte, 6)
		errs := make([]error, len(got))
		for i := range got {
			wg.Go(func() { got[i], errs[i] = e.s.Secret(e.ctx, "email-token-key", 32) })
		}
		wg.Wait()
		for i := range got {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			if !bytes.Equal(got[i], got[0]) {
				t.Fatalf("concurrent first calls got different secrets")
			}
		}
		if len(got[0]) != 32 || bytes.Equal(got[0], make([]byte, 32)) {
			t.Fatalf("secret = %x", got[0])
		}
		again, err := e.s.Secret(e.ctx, "email-token-key", 32)
		if err != nil || !bytes.Equal(again, got[0]) {
			t.Errorf("the secret changed: %v", err)
		}
		other, err := e.s.Secret(e.ctx, "another", 32)
		if err != nil || bytes.Equal(other, got[0]) {
			t.Errorf("two secrets are equal: %v", err)
		}
		if _, err := e.s.Secret(e.ctx, "email-token-key", 64); err == nil {
			t.Error("a secret asked with another size was returned")
		} else if strings.Contains(err.Error(), fmt.Sprintf("%x", got[0][:4])) || bytes.Contains([]byte(err.Error()), got[0][:4]) {
			t.Error("an error shows the secret")
		}
		if _, err := e.s.Secret(e.ctx, "", 32); err == nil {
			t.Error("a secret without a name")
		}
	}},
}
