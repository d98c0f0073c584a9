package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/leadcycle/leadcycle"
)

// TestBrowserScoringPublish: a marketer publishes a scoring model and
// watches a lead become sales ready.
func TestBrowserScoringPublish(t *testing.T) {
	ts := browserServer(t)
	ctx := context.Background()
	mustUser(t, ts.store, "ana@example.gal", "Ana Marketer", leadcycle.RoleMarketer)
	l := seedLead(t, ts, "Smoker for the cannery", "Iria", nil)
	if _, err := ts.store.Contacts().Update(ctx, *l.ContactID, func(c *leadcycle.Contact) error { c.JobTitle = "CTO"; return nil }); err != nil {
		t.Fatal(err)
	}
	threshold := int64(15)
	m := &leadcycle.ScoringModel{Name: "Fit", SalesReadyThreshold: &threshold,
		Rules: []leadcycle.ScoringRule{{Name: "Decision maker", Points: 20, Conditions: []string{`contact.job_title == "CTO"`}}}}
	if err := ts.store.ScoringModels().Create(ctx, m); err != nil {
		t.Fatal(err)
	}

	b := startChromium(t)
	browserLogin(t, b, ts.URL, "ana@example.gal")
	run(t, b,
		chromedp.Navigate(fmt.Sprintf("%s/scoring-models/%s", ts.URL, m.ID)),
		chromedp.WaitVisible(chromedp.CSS(`#publish`)),
	)
	if rules := textOf(t, b, "#rules-table"); !strings.Contains(rules, "Decision maker") || !strings.Contains(rules, `contact.job_title == "CTO"`) {
		t.Fatalf("the rules table shows %q", rules)
	}
	run(t, b,
		chromedp.Click(chromedp.CSS(`#publish`)),
		chromedp.WaitVisible(chromedp.CSS(`.flash`)),
		chromedp.WaitVisible(chromedp.CSS(`#rescore progress`)),
		// The rescore section polls until the background rescore is done.
		chromedp.WaitVisible(chromedp.CSS(`#rescore-done`)),
	)
	if msg := textOf(t, b, "#rescore-done"); !strings.Contains(msg, "1 lead scored") {
		t.Fatalf("the finished rescore says %q", msg)
	}
	if v := evaluate[string](t, b, `document.querySelector("#rescore progress").value + "/" + document.querySelector("#rescore progress").max`); v != "100/100" {
		t.Fatalf("the progress bar stands at %s", v)
	}
	if got, _ := ts.store.ScoringModels().Get(ctx, m.ID); got.Status != leadcycle.ModelLive {
		t.Fatalf("the model is %s", got.Status)
	}
	waitFor(t, b, fmt.Sprintf("%s/leads/%s", ts.URL, l.ID), `.lead-head .badge.ok`)
	if flag := textOf(t, b, `.lead-head .badge.ok`); flag != "Sales ready" {
		t.Fatalf("the lead is flagged %q", flag)
	}
	if score := textOf(t, b, `.score-card .score .value`); score != "20" {
		t.Fatalf("the lead's score card shows %q", score)
	}
}
