package web_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/leadcycle/leadcycle"
)

// TestBrowserImportWithMapping: a CSV import with mapping and progress. The
// file's "Alcume" column is not recognised; the marketer maps it to the
// first name, starts the import and watches it finish.
func TestBrowserImportWithMapping(t *testing.T) {
	ts := browserServer(t)
	mustUser(t, ts.store, "ana@example.gal", "Ana Marketer", leadcycle.RoleMarketer)
	file := filepath.Join(t.TempDir(), "feira.csv")
	if err := os.WriteFile(file, []byte(importCSV), 0o644); err != nil {
		t.Fatal(err)
	}

	b := startChromium(t)
	browserLogin(t, b, ts.URL, "ana@example.gal")
	run(t, b,
		chromedp.Navigate(ts.URL+"/imports/new"),
		chromedp.WaitVisible(chromedp.CSS(`#i-file`)),
		chromedp.SetUploadFiles(chromedp.CSS(`#i-file`), []string{file}),
		chromedp.Click(chromedp.CSS(`#upload`)),
		chromedp.WaitVisible(chromedp.CSS(`#mapping-form`)),
	)
	if v := evaluate[string](t, b, `document.querySelector("#map-0").value`); v != "email" {
		t.Fatalf("the email column is mapped to %q", v)
	}
	if v := evaluate[string](t, b, `document.querySelector("#map-1").value`); v != "" {
		t.Fatalf("Alcume is mapped to %q before the user chooses", v)
	}
	run(t, b,
		chromedp.SetValue(chromedp.CSS(`#map-1`), "first_name"),
		chromedp.Click(chromedp.CSS(`#start-import`)),
		chromedp.WaitVisible(chromedp.CSS(`#import-status progress`)),
		// The status section polls until the background import is done.
		chromedp.WaitVisible(chromedp.CSS(`#import-status[data-status="done"]`)),
	)
	for count, want := range map[string]string{"created": "2", "updated": "0", "failed": "1"} {
		if got := textOf(t, b, `[data-count="`+count+`"]`); got != want {
			t.Errorf("%s: %q, want %s", count, got, want)
		}
	}
	if report := textOf(t, b, "#import-errors"); !strings.Contains(report, "Correo electrónico") {
		t.Errorf("the report shows %q", report)
	}
	page, _ := ts.store.Contacts().List(context.Background(), leadcycle.ListQuery{Limit: 10})
	names := map[string]string{}
	for _, c := range page.Items {
		names[c.Email] = c.FirstName
	}
	if names["uxia@example.gal"] != "Uxía" || names["iria@example.gal"] != "Iria" || len(names) != 2 {
		t.Fatalf("imported contacts: %v", names)
	}
}
