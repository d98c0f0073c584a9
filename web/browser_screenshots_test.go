package web_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/leadcycle/leadcycle"
)

// TestBrowserScreenshots renders the lead page in each language and the
// marketer's dashboard into LEADCYCLE_SCREENSHOTS, for the README:
//
//	LEADCYCLE_SCREENSHOTS=docs/screenshots go test ./web -run TestBrowserScreenshots
//
// (the path is relative to the web package: ../docs/screenshots).
func TestBrowserScreenshots(t *testing.T) {
	dir := os.Getenv("LEADCYCLE_SCREENSHOTS")
	if dir == "" {
		t.Skip("set LEADCYCLE_SCREENSHOTS to a directory to take the README's screenshots")
	}
	ts := browserServer(t)
	ctx := context.Background()
	mustUser(t, ts.store, "uxia@conservas.gal", "Uxía Marketing", leadcycle.RoleAdmin)
	r := ts.do(t, "POST", "/api/v1/scoring-models", leadcycle.RoleMarketer, map[string]any{
		"name": "Engagement",
		"rules": []map[string]any{
			{"name": "Decision maker", "points": 20, "conditions": []string{`contact.job_title == "CTO"`}},
			{"name": "Opened an email (30 days)", "points": 10, "behaviors": []map[string]any{{"type": "email_opened", "frequency": "each_time", "window_days": 30}}},
			{"name": "Visited the pricing page", "points": 15, "behaviors": []map[string]any{{"type": "page_view", "frequency": "at_least_once", "window_days": 30}}},
		},
		"grades":                []map[string]any{{"name": "A", "min": 80}, {"name": "B", "min": 40, "max": 79}, {"name": "C", "max": 39}},
		"sales_ready_threshold": 100,
	})
	id := r.json(t)["id"].(string)
	ts.do(t, "POST", "/api/v1/scoring-models/"+id+"/publish", leadcycle.RoleMarketer, nil)
	l := seedLead(t, ts, "Demo da liña de enlatado", "Uxía", func(l *leadcycle.Lead) { l.Campaign = "Feira de outono"; l.Source = leadcycle.SourceForm })
	if _, err := ts.store.Contacts().Update(ctx, *l.ContactID, func(c *leadcycle.Contact) error { c.JobTitle = "CTO"; return nil }); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	var items []leadcycle.Interaction
	for i, typ := range []string{"email_opened", "email_opened", "page_view", "email_opened"} {
		items = append(items, leadcycle.Interaction{Type: typ, ContactID: *l.ContactID, OccurredAt: now.Add(-time.Duration(i+1) * 26 * time.Hour),
			Properties: map[string]any{"url": "https://conservas.gal/prezos"}})
	}
	if err := ts.store.AddInteractions(ctx, items); err != nil {
		t.Fatal(err)
	}
	for i := range 12 {
		seedLead(t, ts, "Lead", "Breixo", func(l *leadcycle.Lead) { l.Source = leadcycle.Sources[i%4] })
	}
	eventually(t, "the lead is scored", func() bool { return len(mustLead(t, ts, l.ID).Scores) > 0 })
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	b := startChromium(t)
	browserLogin(t, b, ts.URL, "uxia@conservas.gal")
	shoot := func(name, path string) {
		run(t, b, chromedp.Navigate(ts.URL+path), chromedp.WaitVisible(chromedp.CSS(`main h1`)))
		png, err := chromedp.Run(b, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, lang := range []string{"en", "gl", "zh-Hant"} {
		run(t, b, chromedp.Navigate(ts.URL+"/"), chromedp.WaitVisible(chromedp.CSS(`#lang-select`)),
			chromedp.SetValue(chromedp.CSS(`#lang-select`), lang), chromedp.WaitVisible(chromedp.CSS(`html[lang="`+lang+`"]`)))
		shoot("lead-"+lang+".png", "/leads/"+l.ID.String()+"?stage=automated_marketing_qualification")
	}
	run(t, b, chromedp.Navigate(ts.URL+"/"), chromedp.SetValue(chromedp.CSS(`#lang-select`), "en"), chromedp.WaitVisible(chromedp.CSS(`html[lang="en"]`)))
	shoot("dashboard-en.png", "/")
	run(t, b, chromedp.EmulateViewport(390, 844))
	shoot("lead-phone-en.png", "/leads/"+l.ID.String())
}
