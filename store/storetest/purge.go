package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/leadcycle/leadcycle"
)

// purgeTests check the retention of outbox events and webhook deliveries.
var purgeTests = []test{
	{"events_and_deliveries", func(t *testing.T, e *env) {
		hook := MustCreate(t, e.ctx, e.s.Webhooks(), &leadcycle.Webhook{Name: "CRM", URL: "https://crm.example.com/h", Events: []string{leadcycle.EventLeadCreated}, Active: true, Secret: "sealed"})
		c := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "purge@example.gal"})
		a := MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: "A", ContactID: &c.ID})
		MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: "B", ContactID: &c.ID})
		MustUpdate(t, e.ctx, e.s.Leads(), a.ID, func(l *leadcycle.Lead) error { l.SalesReady = true; return nil })
		wf, wh := e.s.Workflow(), e.s.WebhookDeliveries()
		for {
			n, err := wf.HandleEvents(e.ctx, 100)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				break
			}
		}
		if _, err := wh.FanOut(e.ctx, 100); err != nil {
			t.Fatal(err)
		}
		jobs, err := wh.ClaimDeliveries(e.ctx, 10, time.Minute)
		if err != nil || len(jobs) != 2 {
			t.Fatalf("claimed %d deliveries (%v), want 2", len(jobs), err)
		}
		now := e.clock.Now()
		later := now.Add(time.Hour)
		for _, j := range jobs {
			att := leadcycle.DeliveryAttempt{At: now, StatusCode: 204, Delivered: true}
			if *j.Event.LeadID != a.ID { // B's stays pending, retried later
				att = leadcycle.DeliveryAttempt{At: now, StatusCode: 500, Error: "busy", NextAttemptAt: &later}
			}
			if err := wh.RecordAttempt(e.ctx, j.Delivery.ID, att); err != nil {
				t.Fatal(err)
			}
		}
		before, err := wf.Events(e.ctx, 0, 500)
		if err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(40 * 24 * time.Hour)
		MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: "C", ContactID: &c.ID})
		n, err := wf.PurgeEvents(e.ctx, e.clock.Now().Add(-30*24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		after, err := wf.Events(e.ctx, 0, 500)
		if err != nil {
			t.Fatal(err)
		}
		var kept []string
		for _, ev := range after {
			topic := ""
			if l, ok := ev.Payload["lead"].(map[string]any); ok {
				topic, _ = l["topic"].(string)
			}
			kept = append(kept, ev.Type+" "+topic)
		}
		slices.Sort(kept)
		// B's lead.created waits for its pending delivery, A's sales ready
		// stays (once per lead), C's lead.created is recent; the rest (the
		// contact, A's creation, update and stage change, the sales task) go.
		if int(n) != len(before)-2 {
			t.Errorf("purged %d of the %d old events, want all but two", n, len(before))
		}
		diff(t, "events kept", []string{"lead.created B", "lead.created C", "lead.sales_ready A"}, kept)
		ds, err := wh.Deliveries(e.ctx, hook.ID, leadcycle.ListQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if len(ds.Items) != 1 || ds.Items[0].Status != leadcycle.DeliveryPending {
			t.Errorf("deliveries after the purge: %+v, want B's pending one", ds.Items)
		}
	}},
}
