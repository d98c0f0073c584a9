package web_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/leadcycle/leadcycle"
)

// TestBrowserSegmentPreview: a marketer types a segment query and watches
// the live preview count the contacts it holds, then sees a faulty query's
// problem beside the field, which is marked invalid.
func TestBrowserSegmentPreview(t *testing.T) {
	ts := browserServer(t)
	mustUser(t, ts.store, "ana@example.gal", "Ana Marketer", leadcycle.RoleMarketer)
	acc := ts.mustCreate(t, "accounts", map[string]any{"name": "Shop", "industry": "Retail"})
	ts.mustCreate(t, "contacts", map[string]any{"email": "ana@shop.example", "account_id": acc, "job_title": "CTO"})
	ts.mustCreate(t, "contacts", map[string]any{"email": "bo@bank.example", "job_title": "CTO"})

	b := startChromium(t)
	browserLogin(t, b, ts.URL, "ana@example.gal")
	run(t, b,
		chromedp.Navigate(ts.URL+"/segments/new"),
		chromedp.WaitVisible(chromedp.CSS(`#seg-query`)),
		chromedp.SendKeys(chromedp.CSS(`#seg-query`), `job_title == "CTO"`),
	)
	waitPreview(t, b, `document.querySelector("#preview-count") && document.querySelector("#preview-count").dataset.count === "2"`)
	// Narrowing the query updates the count.
	run(t, b, chromedp.SendKeys(chromedp.CSS(`#seg-query`), ` and account.industry == "Retail"`))
	waitPreview(t, b, `document.querySelector("#preview-count") && document.querySelector("#preview-count").dataset.count === "1"`)
	if got := textOf(t, b, "#preview-sample"); got == "" {
		t.Fatal("the preview lists no contact")
	}
	// A misspelt field: the problem in the preview, the field invalid.
	run(t, b, chromedp.SendKeys(chromedp.CSS(`#seg-query`), ` and account.industri == "x"`))
	waitPreview(t, b, `!!document.querySelector("#seg-preview-err") && document.querySelector("#seg-query").getAttribute("aria-invalid") === "true"`)
	// Typing never lost the text.
	if v := evaluate[string](t, b, `document.querySelector("#seg-query").value`); v != `job_title == "CTO" and account.industry == "Retail" and account.industri == "x"` {
		t.Fatalf("the query reads %q", v)
	}
}

// waitPreview waits for a condition on the page, as the preview arrives
// after the typing pauses.
func waitPreview(t *testing.T, b context.Context, cond string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !evaluate[bool](t, b, fmt.Sprintf("!!(%s)", cond)) {
		if time.Now().After(deadline) {
			t.Fatalf("the preview never showed %s; it shows %q", cond, evaluate[string](t, b, `document.querySelector("#segment-preview").outerHTML`))
		}
		time.Sleep(100 * time.Millisecond)
	}
}
