package web_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/leadcycle/leadcycle"
)

// The browser tests drive Debian's Chromium headless through the main
// journeys of the interface. They skip when Chromium is missing, unless
// LEADCYCLE_REQUIRE_BROWSER is set (CI sets it, after installing Chromium).
// A failing test leaves a screenshot in LEADCYCLE_ARTIFACTS (or the system's
// temporary directory) and says where.

// chromiumPath is where Debian installs Chromium.
const chromiumPath = "/usr/bin/chromium"

// browserServer is a test server whose background workers run, as under
// `leadcycle serve`: the process and queues react to events by themselves.
func browserServer(t *testing.T) *testServer {
	t.Helper()
	ts := newTestServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { ts.web.RunWorkers(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return ts
}

// startChromium starts a headless Chromium for one test; the returned context
// drives its tab.
func startChromium(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("LEADCYCLE_REQUIRE_BROWSER") != "" {
			t.Fatalf("Chromium is required but missing at %s (apt-get install -y chromium)", chromiumPath)
		}
		t.Skipf("Chromium is not installed at %s (apt-get install -y chromium)", chromiumPath)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 1000),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	tabCtx, cancelTab := chromedp.NewContext(allocCtx)
	ctx, cancelTimeout := context.WithTimeout(tabCtx, 90*time.Second)
	if err := chromedp.Do(ctx); err != nil {
		cancelTimeout()
		cancelTab()
		cancelAlloc()
		t.Fatalf("start Chromium: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			saveScreenshot(t, tabCtx)
		}
		cancelTimeout()
		cancelTab()
		cancelAlloc()
	})
	return ctx
}

// saveScreenshot keeps what the browser showed when a test failed.
func saveScreenshot(t *testing.T, ctx context.Context) {
	dir := os.Getenv("LEADCYCLE_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "leadcycle-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Logf("screenshot: %v", err)
		return
	}
	shotCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	url, _ := chromedp.Run(shotCtx, chromedp.Location())
	png, err := chromedp.Run(shotCtx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("screenshot: %v", err)
		return
	}
	name := filepath.Join(dir, strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())+".png")
	if err := os.WriteFile(name, png, 0o644); err != nil {
		t.Logf("screenshot: %v", err)
		return
	}
	t.Logf("screenshot of %s saved to %s", url, name)
}

// browserLogin signs a user in through the login page.
func browserLogin(t *testing.T, ctx context.Context, base, email string) {
	t.Helper()
	run(t, ctx,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(chromedp.CSS(`#email`)),
		chromedp.SendKeys(chromedp.CSS(`#email`), email),
		chromedp.SendKeys(chromedp.CSS(`#password`), testPassword),
		chromedp.Click(chromedp.CSS(`.login button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`header nav`)),
	)
}

// run runs browser actions or fails the test.
func run(t *testing.T, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatal(err)
	}
}

// waitFor reloads a page until a selector appears on it (the background
// workers take a moment), or fails after a while.
func waitFor(t *testing.T, ctx context.Context, url, selector string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		run(t, ctx, chromedp.Navigate(url), chromedp.WaitReady(chromedp.CSS(`main`)))
		n := evaluate[int](t, ctx, fmt.Sprintf(`document.querySelectorAll(%q).length`, selector))
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never showed %s", url, selector)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// textOf returns the text of the first element matching a selector.
func textOf(t *testing.T, ctx context.Context, selector string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(selector)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// evaluate runs a JavaScript expression in the page.
func evaluate[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// eventually polls a condition on the store.
func eventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func mustLead(t *testing.T, ts *testServer, id leadcycle.ID) *leadcycle.Lead {
	t.Helper()
	l, err := ts.store.Leads().Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestBrowserLogin(t *testing.T) {
	ts := browserServer(t)
	mustUser(t, ts.store, "ana@example.gal", "Ana Marketer", leadcycle.RoleMarketer)
	ctx := startChromium(t)
	run(t, ctx,
		chromedp.Navigate(ts.URL+"/leads"),
		chromedp.WaitVisible(chromedp.CSS(`#email`)),
		chromedp.SendKeys(chromedp.CSS(`#email`), "ana@example.gal"),
		chromedp.SendKeys(chromedp.CSS(`#password`), "not-the-password"),
		chromedp.Click(chromedp.CSS(`.login button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`.problem`)),
	)
	if msg := textOf(t, ctx, ".problem"); !strings.Contains(msg, "wrong") {
		t.Fatalf("wrong password shows %q", msg)
	}
	run(t, ctx,
		chromedp.SendKeys(chromedp.CSS(`#password`), testPassword),
		chromedp.Click(chromedp.CSS(`.login button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`ul.tabs`)), // back on the page asked for: the lead list
	)
	if who := textOf(t, ctx, ".who"); !strings.Contains(who, "Ana Marketer") {
		t.Fatalf("header shows %q", who)
	}
	// The first Tab reaches the skip link, which jumps to the content.
	run(t, ctx, chromedp.KeyEvent("\t"))
	if cls := evaluate[string](t, ctx, `document.activeElement.className`); cls != "skip" {
		t.Fatalf("the first Tab focuses %q, want the skip link", cls)
	}
	run(t, ctx, chromedp.KeyEvent("\r"))
	if id := evaluate[string](t, ctx, `document.activeElement.id || location.hash`); id != "main" && id != "#main" {
		t.Fatalf("the skip link leads to %q", id)
	}
	// The language switch works from the keyboard-reachable select.
	run(t, ctx, chromedp.SetValue(chromedp.CSS(`#lang-select`), "gl"), chromedp.WaitVisible(chromedp.CSS(`html[lang="gl"]`)))
	if h := textOf(t, ctx, "main h1"); h != "Clientes potenciais" {
		t.Fatalf("Galician heading: %q", h)
	}
	run(t, ctx, chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)), chromedp.WaitVisible(chromedp.CSS(`#email`)))
}

// TestBrowserTelesalesAcceptsAndQualifies: an operator takes a
// telesales-ready lead from the queue, accepts it and fills the
// qualification stage, which sends it on to sales acceptance.
func TestBrowserTelesalesAcceptsAndQualifies(t *testing.T) {
	ts := browserServer(t)
	mustUser(t, ts.store, "tele@example.gal", "Tareixa Telesales", leadcycle.RoleTelesales)
	l := seedLead(t, ts, "Canning line for Vigo", "Uxía", func(l *leadcycle.Lead) { l.TelesalesReady = true })
	eventually(t, "the lead reaches telesales acceptance", func() bool { return mustLead(t, ts, l.ID).Stage == "telesales_acceptance" })

	ctx := startChromium(t)
	browserLogin(t, ctx, ts.URL, "tele@example.gal")
	link := fmt.Sprintf(`#telesales-queue a[href="/leads/%s"]`, l.ID)
	waitFor(t, ctx, ts.URL+"/", link)
	run(t, ctx,
		chromedp.Click(chromedp.CSS(link)),
		chromedp.WaitVisible(chromedp.CSS(`.process-bar`)),
	)
	if active := textOf(t, ctx, `.process-bar [aria-current="step"]`); !strings.Contains(active, "Telesales acceptance") {
		t.Fatalf("active stage %q", active)
	}
	run(t, ctx,
		chromedp.Click(chromedp.CSS(`[id="f-lead.telesales_accepted"]`)),
		chromedp.Click(chromedp.CSS(`#stage-form button[value=complete]`)),
		chromedp.WaitVisible(chromedp.CSS(`.flash`)),
	)
	if active := textOf(t, ctx, `.process-bar [aria-current="step"]`); !strings.Contains(active, "Telesales qualification") {
		t.Fatalf("after accepting, active stage %q", active)
	}
	run(t, ctx,
		chromedp.SetValue(chromedp.CSS(`[id="f-lead.purchase_timeframe"]`), "this_quarter"),
		chromedp.SetValue(chromedp.CSS(`[id="f-lead.need"]`), "must_have"),
		chromedp.SendKeys(chromedp.CSS(`[id="f-lead.budget_amount"]`), "25000"),
		chromedp.SendKeys(chromedp.CSS(`[id="f-lead.description"]`), "Two lines; decision by March."),
		// Completing without "sales ready" is refused, naming the field.
		chromedp.Click(chromedp.CSS(`#stage-form button[value=complete]`)),
		chromedp.WaitVisible(chromedp.CSS(`.problem`)),
	)
	if msg := textOf(t, ctx, ".problem"); !strings.Contains(msg, "sales_ready") && !strings.Contains(msg, "Sales ready") {
		t.Fatalf("missing required field shows %q", msg)
	}
	if got := mustLead(t, ts, l.ID); got.PurchaseTimeframe != "this_quarter" || got.BudgetAmount == nil || *got.BudgetAmount != 25000 {
		t.Fatalf("the fields typed before the refusal were not saved: %+v", got)
	}
	run(t, ctx,
		chromedp.Click(chromedp.CSS(`[id="f-lead.sales_ready"]`)),
		chromedp.Click(chromedp.CSS(`#stage-form button[value=complete]`)),
		chromedp.WaitVisible(chromedp.CSS(`.flash`)),
	)
	got := mustLead(t, ts, l.ID)
	if !got.TelesalesAccepted || !got.SalesReady || got.Need != "must_have" || got.Description != "Two lines; decision by March." {
		t.Fatalf("after qualification: %+v", got)
	}
	eventually(t, "the lead reaches sales acceptance", func() bool { return mustLead(t, ts, l.ID).Stage == "sales_acceptance" })
}

// TestBrowserManagerAssignsAndSalespersonQualifies: a sales manager gives a
// sales-ready lead to a salesperson, who qualifies it into an opportunity
// and cannot open leads that are not sales ready.
func TestBrowserManagerAssignsAndSalespersonQualifies(t *testing.T) {
	ts := browserServer(t)
	mustUser(t, ts.store, "man@example.gal", "Manuel Manager", leadcycle.RoleSalesManager)
	sal := mustUser(t, ts.store, "sal@example.gal", "Sabela Sales", leadcycle.RoleSales)
	other := seedLead(t, ts, "Not ready yet", "Breixo", nil)
	l := seedLead(t, ts, "Smoker for the cannery", "Iria", func(l *leadcycle.Lead) { l.SalesReady = true })
	var taskID leadcycle.ID
	eventually(t, "a sales acceptance task exists", func() bool {
		page, _ := ts.store.Tasks().List(context.Background(), leadcycle.ListQuery{Filters: []leadcycle.Filter{{Columns: []string{"lead_id"}, Op: leadcycle.OpEq, Value: l.ID}}, Limit: 5})
		for _, task := range page.Items {
			if task.Queue == "sales" {
				taskID = task.ID
				return true
			}
		}
		return false
	})

	ctx := startChromium(t)
	browserLogin(t, ctx, ts.URL, "man@example.gal")
	row := fmt.Sprintf(`#sales-queue tr[data-task="%s"]`, taskID)
	waitFor(t, ctx, ts.URL+"/", row)
	run(t, ctx,
		chromedp.SetValue(chromedp.CSS(row+` select`), sal.ID.String()),
		chromedp.Click(chromedp.CSS(row+` button`)),
		chromedp.WaitVisible(chromedp.CSS(`.flash`)),
	)
	if msg := textOf(t, ctx, ".flash"); !strings.Contains(msg, "Sabela Sales") {
		t.Fatalf("assign message %q", msg)
	}
	if got := mustLead(t, ts, l.ID); got.OwnerID == nil || *got.OwnerID != sal.ID {
		t.Fatalf("the lead's owner is %v, want %s", got.OwnerID, sal.ID)
	}

	ctx2 := startChromium(t)
	browserLogin(t, ctx2, ts.URL, "sal@example.gal")
	run(t, ctx2, chromedp.Navigate(fmt.Sprintf("%s/leads/%s", ts.URL, other.ID)), chromedp.WaitVisible(chromedp.CSS(`main h1`)))
	if h := textOf(t, ctx2, "main h1"); h != "Not allowed" {
		t.Fatalf("a salesperson opening a lead that is not sales ready sees %q", h)
	}
	run(t, ctx2,
		chromedp.Navigate(ts.URL+"/leads?view=my"),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`a[href="/leads/%s"]`, l.ID))),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`a[href="/leads/%s"]`, l.ID))),
		chromedp.WaitVisible(chromedp.CSS(`#qualify summary`)),
		chromedp.Click(chromedp.CSS(`#qualify summary`)),
		chromedp.SendKeys(chromedp.CSS(`#q-amount`), "48000"),
		chromedp.SendKeys(chromedp.CSS(`#q-currency`), "EUR"),
		chromedp.Click(chromedp.CSS(`#qualify button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`.flash`)),
	)
	got := mustLead(t, ts, l.ID)
	if got.Status != leadcycle.LeadQualified {
		t.Fatalf("lead status %q after qualifying", got.Status)
	}
	opps, _ := ts.store.Opportunities().List(context.Background(), leadcycle.ListQuery{Filters: []leadcycle.Filter{{Columns: []string{"lead_id"}, Op: leadcycle.OpEq, Value: l.ID}}})
	if len(opps.Items) != 1 || opps.Items[0].EstimatedValue == nil || *opps.Items[0].EstimatedValue != 48000 || opps.Items[0].Currency != "EUR" {
		t.Fatalf("opportunities: %+v", opps.Items)
	}
	if txt := textOf(t, ctx2, `[data-opportunity]`); !strings.Contains(txt, "Smoker for the cannery") {
		t.Fatalf("the lead page lists the opportunity as %q", txt)
	}
}

// TestBrowserEscapesUserText loads pages whose records carry script and
// markup; nothing of it may run.
func TestBrowserEscapesUserText(t *testing.T) {
	ts := browserServer(t)
	mustUser(t, ts.store, "ana@example.gal", "Ana", leadcycle.RoleMarketer)
	l := seedLead(t, ts, `<img src=x onerror="window.pwned=1">`, `<script>window.pwned=1</script>`, func(l *leadcycle.Lead) { l.Campaign = `"><script>window.pwned=1</script>` })
	ctx := startChromium(t)
	browserLogin(t, ctx, ts.URL, "ana@example.gal")
	for _, path := range []string{"/leads", "/leads/" + l.ID.String()} {
		run(t, ctx, chromedp.Navigate(ts.URL+path), chromedp.WaitVisible(chromedp.CSS(`main h1`)))
		pwned := evaluate[bool](t, ctx, `window.pwned === 1`)
		title := evaluate[string](t, ctx, `document.title`)
		if pwned {
			t.Fatalf("%s ran user-provided script", path)
		}
		if path != "/leads" && !strings.Contains(title, `<img src=x`) {
			t.Fatalf("the title should show the topic as text, got %q", title)
		}
	}
}
