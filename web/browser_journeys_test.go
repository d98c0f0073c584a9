package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/leadcycle/leadcycle"
)

// TestBrowserJourneyLifecycle: a marketer opens a draft journey, publishes
// it with its button, sees its contacts enter and its runs listed, then
// pauses it.
func TestBrowserJourneyLifecycle(t *testing.T) {
	ts := browserServer(t)
	mustUser(t, ts.store, "ana@example.gal", "Ana Marketer", leadcycle.RoleMarketer)
	c := ts.mustCreate(t, "contacts", map[string]any{"email": "uxia@example.gal", "first_name": "Uxía"})
	seg := ts.mustCreate(t, "segments", map[string]any{"name": "Fair visitors", "kind": "static"})
	ts.do(t, "POST", "/api/v1/segments/"+seg+"/members", leadcycle.RoleMarketer, map[string]any{"contact_ids": []string{c}})
	j := ts.mustCreate(t, "journeys", map[string]any{"name": "Fair follow-up", "entry": map[string]any{"kind": "segment", "segment_id": seg},
		"steps": []map[string]any{{"id": "pause", "type": "wait", "duration": "3d"}, {"id": "lead", "type": "create_lead"}}})

	b := startChromium(t)
	browserLogin(t, b, ts.URL, "ana@example.gal")
	run(t, b,
		chromedp.Navigate(ts.URL+"/journeys/"+j),
		chromedp.WaitVisible(chromedp.CSS(`#journey-publish`)),
		chromedp.Click(chromedp.CSS(`#journey-publish`)),
		chromedp.WaitVisible(chromedp.CSS(`#journey-pause`)),
	)
	if body := textOf(t, b, "main"); !strings.Contains(body, "Uxía") && !strings.Contains(body, "#"+c) {
		t.Errorf("the published journey does not list its contact: %s", body)
	}
	got, err := ts.store.Journeys().Get(t.Context(), mustID(t, j))
	if err != nil || got.Status != leadcycle.JourneyLive || got.Stats.Entered != 1 {
		t.Fatalf("after publishing: %+v %v", got, err)
	}
	run(t, b,
		chromedp.Click(chromedp.CSS(`#journey-pause`)),
		chromedp.WaitVisible(chromedp.CSS(`#journey-resume`)),
	)
	if got, _ := ts.store.Journeys().Get(t.Context(), mustID(t, j)); got.Status != leadcycle.JourneyPaused {
		t.Errorf("after pausing: %s", got.Status)
	}
}

func mustID(t *testing.T, s string) leadcycle.ID {
	t.Helper()
	id, ok := leadcycle.ParseID(s)
	if !ok {
		t.Fatalf("not an id: %q", s)
	}
	return id
}
