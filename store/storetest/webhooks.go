package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/leadcycle/leadcycle"
)

// The webhook store: subscriptions, fan-out of the outbox into deliveries
// exactly once with two nodes, leases, attempts and retries.

// deliveriesOf lists every delivery of a webhook, following cursors of
// pages of limit, and checks that they come newest first.
func deliveriesOf(tb testing.TB, e *env, webhookID leadcycle.ID, limit int) []leadcycle.WebhookDelivery {
	tb.Helper()
	var all []leadcycle.WebhookDelivery
	q := leadcycle.ListQuery{Limit: limit}
	for range 10_000 {
		p, err := e.s.WebhookDeliveries().Deliveries(e.ctx, webhookID, q)
		if err != nil {
			tb.Fatalf("deliveries of webhook %s: %v", webhookID, err)
		}
		if p.Items == nil {
			tb.Errorf("deliveries: Items is nil, want an empty slice")
		}
		all = append(all, p.Items...)
		if p.NextCursor == "" {
			break
		}
		if len(p.Items) != limit {
			tb.Fatalf("deliveries page with a cursor has %d items, want %d", len(p.Items), limit)
		}
		q.Cursor = p.NextCursor
	}
	for i := 1; i < len(all); i++ {
		if all[i].ID >= all[i-1].ID {
			tb.Fatalf("deliveries not newest first: %s after %s", all[i].ID, all[i-1].ID)
		}
	}
	return all
}

// deliveryByID returns the delivery with the id among a webhook's.
func deliveryByID(tb testing.TB, e *env, webhookID, id leadcycle.ID) leadcycle.WebhookDelivery {
	tb.Helper()
	for _, d := range deliveriesOf(tb, e, webhookID, leadcycle.MaxLimit) {
		if d.ID == id {
			return d
		}
	}
	tb.Fatalf("webhook %s has no delivery %s", webhookID, id)
	return leadcycle.WebhookDelivery{}
}

// claimIDs claims due deliveries on one node and returns their ids.
func claimIDs(tb testing.TB, e *env, node leadcycle.Store, lease time.Duration) []leadcycle.ID {
	tb.Helper()
	jobs, err := node.WebhookDeliveries().ClaimDeliveries(e.ctx, 100, lease)
	if err != nil {
		tb.Fatalf("claim deliveries: %v", err)
	}
	out := make([]leadcycle.ID, len(jobs))
	for i, j := range jobs {
		out[i] = j.Delivery.ID
	}
	slices.Sort(out)
	return out
}

func deliveryIDs(ds []leadcycle.WebhookDelivery) []leadcycle.ID {
	out := make([]leadcycle.ID, len(ds))
	for i, d := range ds {
		out[i] = d.ID
	}
	slices.Sort(out)
	return out
}

var webhookStoreTests = []test{
	{"webhook_validation", func(t *testing.T, e *env) {
		ok := leadcycle.Webhook{Name: "CRM", URL: "https://hooks.example/crm", Events: []string{leadcycle.EventLeadCreated}, Active: true, Secret: "sealed:1"}
		for _, c := range []struct {
			change func(*leadcycle.Webhook)
			field  string
		}{
			{func(w *leadcycle.Webhook) { w.Secret = "" }, "secret"},
			{func(w *leadcycle.Webhook) { w.URL = "ftp://hooks.example" }, "url"},
			{func(w *leadcycle.Webhook) { w.Events = nil }, "events"},
			{func(w *leadcycle.Webhook) { w.Events = []string{"lead.exploded"} }, "events[0]"},
			{func(w *leadcycle.Webhook) { w.Name = " " }, "name"},
		} {
			w := ok
			c.change(&w)
			wantErr(t, e.s.Webhooks().Create(e.ctx, &w), leadcycle.EInvalid, c.field)
		}
		w := ok
		MustCreate(t, e.ctx, e.s.Webhooks(), &w)
		got := MustGet(t, e.ctx, e.s.Webhooks(), w.ID)
		if got.Secret != "sealed:1" || !got.Active || !slices.Equal(got.Events, []string{leadcycle.EventLeadCreated}) {
			t.Errorf("stored webhook: %+v", got)
		}
		_, err := e.s.WebhookDeliveries().Deliveries(e.ctx, 999999, leadcycle.ListQuery{})
		wantErr(t, err, leadcycle.ENotFound)
	}},
	{"fan_out_exactly_once_two_nodes", func(t *testing.T, e *env) {
		created := MustCreate(t, e.ctx, e.s.Webhooks(), &leadcycle.Webhook{Name: "Created", URL: "https://hooks.example/created", Events: []string{leadcycle.EventLeadCreated}, Active: true, Secret: "sealed:created"})
		all := MustCreate(t, e.ctx, e.s.Webhooks(), &leadcycle.Webhook{Name: "All", URL: "https://hooks.example/all", Events: []string{"*"}, Active: true, Secret: "sealed:all"})
		off := MustCreate(t, e.ctx, e.s.Webhooks(), &leadcycle.Webhook{Name: "Off", URL: "https://hooks.example/off", Events: []string{"*"}, Active: false, Secret: "sealed:off"})
		c := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "hooked@example.org"})
		var leads []*leadcycle.Lead
		for i := range 12 {
			leads = append(leads, MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: fmt.Sprint("Hooked ", i), ContactID: &c.ID}))
		}
		MustUpdate(t, e.ctx, e.s.Leads(), leads[0].ID, func(l *leadcycle.Lead) error { l.Description = "changed"; return nil })
		events := allEvents(t, e)
		var createdEvents, allEventIDs []leadcycle.ID
		for _, ev := range events {
			allEventIDs = append(allEventIDs, ev.ID)
			if ev.Type == leadcycle.EventLeadCreated {
				createdEvents = append(createdEvents, ev.ID)
			}
		}
		if len(createdEvents) != 12 || len(events) < 14 {
			t.Fatalf("outbox: %d events, %d lead.created; want at least 14 and 12", len(events), len(createdEvents))
		}

		dispatched := onTwoNodes(t, e, func(node leadcycle.Store) (int, error) { return node.WebhookDeliveries().FanOut(e.ctx, 2) })
		if dispatched != len(events) {
			t.Errorf("the two nodes dispatched %d events, want each of the %d once", dispatched, len(events))
		}
		if n, err := e.s.WebhookDeliveries().FanOut(e.ctx, 100); err != nil || n != 0 {
			t.Errorf("FanOut after both nodes stopped: %d, %v", n, err)
		}
		eventsOfDeliveries := func(ds []leadcycle.WebhookDelivery) []leadcycle.ID {
			var out []leadcycle.ID
			for _, d := range ds {
				out = append(out, d.EventID)
			}
			slices.Sort(out)
			return out
		}
		createdDs := deliveriesOf(t, e, created.ID, 5)
		allDs := deliveriesOf(t, e, all.ID, 5)
		diff(t, "events delivered to the lead.created webhook", createdEvents, eventsOfDeliveries(createdDs))
		diff(t, "events delivered to the * webhook", allEventIDs, eventsOfDeliveries(allDs))
		if ds := deliveriesOf(t, e, off.ID, 5); len(ds) != 0 {
			t.Errorf("the inactive webhook got %d deliveries", len(ds))
		}
		byID := map[leadcycle.ID]leadcycle.Occurrence{}
		for _, ev := range events {
			byID[ev.ID] = ev
		}
		for _, d := range append(slices.Clone(createdDs), allDs...) {
			if d.Status != leadcycle.DeliveryPending || d.Attempts != 0 || d.EventType != byID[d.EventID].Type ||
				d.NextAttemptAt == nil || !d.NextAttemptAt.Equal(Epoch) || !d.CreatedAt.Equal(Epoch) || d.DeliveredAt != nil || d.LastAttemptAt != nil {
				t.Errorf("new delivery: %+v; want pending, due now, of a %s event", d, byID[d.EventID].Type)
			}
		}

		// Webhooks switched off get nothing more.
		MustUpdate(t, e.ctx, e.s.Webhooks(), all.ID, func(w *leadcycle.Webhook) error { w.Active = false; return nil })
		late := MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: "Late"})
		if n := onTwoNodes(t, e, func(node leadcycle.Store) (int, error) { return node.WebhookDeliveries().FanOut(e.ctx, 2) }); n != 1 {
			t.Errorf("dispatched %d events for the late lead, want 1", n)
		}
		if n := len(deliveriesOf(t, e, all.ID, 50)); n != len(allDs) {
			t.Errorf("the deactivated webhook got %d new deliveries", n-len(allDs))
		}
		lateDs := deliveriesOf(t, e, created.ID, 50)
		if len(lateDs) != len(createdDs)+1 || lateDs[0].EventType != leadcycle.EventLeadCreated {
			t.Errorf("the lead.created webhook has %d deliveries after the late lead, want %d", len(lateDs), len(createdDs)+1)
		}
		if n := len(eventsOf(t, e, late.ID, leadcycle.EventLeadCreated)); n != 1 {
			t.Errorf("%d lead.created events of the late lead", n)
		}
		// The pending deliveries of the switched-off webhook are not sent
		// until it is on again.
		diff(t, "deliveries claimed while the * webhook is off", deliveryIDs(lateDs), claimIDs(t, e, e.s, time.Minute))
		MustUpdate(t, e.ctx, e.s.Webhooks(), all.ID, func(w *leadcycle.Webhook) error { w.Active = true; return nil })
		diff(t, "deliveries claimed when it is on again", deliveryIDs(allDs), claimIDs(t, e, nodePair(e)[1], time.Minute))
	}},
	{"claims_attempts_and_retries", func(t *testing.T, e *env) {
		hook := MustCreate(t, e.ctx, e.s.Webhooks(), &leadcycle.Webhook{Name: "All", URL: "https://hooks.example/all", Events: []string{"*"}, Active: true, Secret: "sealed:all"})
		other := MustCreate(t, e.ctx, e.s.Webhooks(), &leadcycle.Webhook{Name: "Other", URL: "https://hooks.example/other", Events: []string{leadcycle.EventLeadCreated}, Active: true, Secret: "sealed:other"})
		for i := range 8 {
			MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: fmt.Sprint("Lead ", i)})
		}
		if n, err := e.s.WebhookDeliveries().FanOut(e.ctx, 100); err != nil || n != 8 {
			t.Fatalf("fan out: %d, %v; want 8 events", n, err)
		}
		pending := append(deliveriesOf(t, e, hook.ID, 50), deliveriesOf(t, e, other.ID, 50)...)
		if len(pending) != 16 {
			t.Fatalf("%d deliveries, want 16", len(pending))
		}

		// Two nodes claim concurrently: each delivery goes to one of them.
		const lease = 5 * time.Minute
		var (
			mu      sync.Mutex
			claimed = map[leadcycle.ID]int{}
			jobs    []leadcycle.DeliveryJob
		)
		onTwoNodes(t, e, func(node leadcycle.Store) (int, error) {
			js, err := node.WebhookDeliveries().ClaimDeliveries(e.ctx, 3, lease)
			mu.Lock()
			defer mu.Unlock()
			for _, j := range js {
				claimed[j.Delivery.ID]++
			}
			jobs = append(jobs, js...)
			return len(js), err
		})
		for _, d := range pending {
			if claimed[d.ID] != 1 {
				t.Errorf("delivery %s claimed %d times, want once", d.ID, claimed[d.ID])
			}
		}
		if len(claimed) != len(pending) {
			t.Errorf("%d deliveries claimed, want %d", len(claimed), len(pending))
		}
		for _, j := range jobs {
			wantURL, wantSecret := hook.URL, hook.Secret
			if j.Delivery.WebhookID == other.ID {
				wantURL, wantSecret = other.URL, other.Secret
			}
			if j.URL != wantURL || j.SealedSecret != wantSecret || j.Event.ID != j.Delivery.EventID || j.Event.Type != j.Delivery.EventType ||
				j.Event.LeadID == nil || j.Event.Payload["lead"] == nil {
				t.Errorf("job of delivery %s: url %q secret %q event %s %s payload %v", j.Delivery.ID, j.URL, j.SealedSecret, j.Event.ID, j.Event.Type, j.Event.Payload)
			}
		}
		// Leased: nobody claims them until the lease ends.
		if ids := claimIDs(t, e, e.s, lease); len(ids) != 0 {
			t.Errorf("claimed %v again during the lease", ids)
		}
		e.clock.Advance(lease - time.Microsecond)
		if ids := claimIDs(t, e, nodePair(e)[1], lease); len(ids) != 0 {
			t.Errorf("claimed %v again 1µs before the lease ends", ids)
		}
		e.clock.Advance(2 * time.Microsecond)
		// A node that died holding them: after the lease they are due again.
		diff(t, "deliveries claimed after the lease", deliveryIDs(pending), claimIDs(t, e, nodePair(e)[1], time.Hour))

		retried, delivered, failed := pending[0], pending[1], pending[2]
		now := e.clock.Now()
		next := now.Add(10 * time.Minute)
		for _, a := range []struct {
			id leadcycle.ID
			a  leadcycle.DeliveryAttempt
		}{
			{retried.ID, leadcycle.DeliveryAttempt{At: now, StatusCode: 503, Error: "HTTP 503", NextAttemptAt: &next}},
			{delivered.ID, leadcycle.DeliveryAttempt{At: now, StatusCode: 204, Delivered: true}},
			{failed.ID, leadcycle.DeliveryAttempt{At: now, Error: "connection refused"}},
		} {
			if err := e.s.WebhookDeliveries().RecordAttempt(e.ctx, a.id, a.a); err != nil {
				t.Fatal(err)
			}
		}
		d := deliveryByID(t, e, hook.ID, retried.ID)
		if d.Status != leadcycle.DeliveryPending || d.Attempts != 1 || d.NextAttemptAt == nil || !d.NextAttemptAt.Equal(next) ||
			d.LastAttemptAt == nil || !d.LastAttemptAt.Equal(now) || d.LastStatusCode != 503 || d.LastError != "HTTP 503" || d.DeliveredAt != nil {
			t.Errorf("delivery after a failed attempt with a next one: %+v", d)
		}
		d = deliveryByID(t, e, hook.ID, delivered.ID)
		if d.Status != leadcycle.DeliveryDelivered || d.Attempts != 1 || d.DeliveredAt == nil || !d.DeliveredAt.Equal(now) || d.LastStatusCode != 204 || d.LastError != "" {
			t.Errorf("delivered delivery: %+v", d)
		}
		d = deliveryByID(t, e, hook.ID, failed.ID)
		if d.Status != leadcycle.DeliveryFailed || d.Attempts != 1 || d.LastError != "connection refused" || d.DeliveredAt != nil {
			t.Errorf("failed delivery: %+v", d)
		}
		// The pending one waits for its next attempt, the others are done; the
		// rest are still leased for an hour.
		if ids := claimIDs(t, e, e.s, time.Minute); len(ids) != 0 {
			t.Errorf("claimed %v right after the attempts", ids)
		}
		e.clock.Advance(10*time.Minute - time.Microsecond)
		if ids := claimIDs(t, e, e.s, time.Minute); len(ids) != 0 {
			t.Errorf("claimed %v before the next attempt is due", ids)
		}
		e.clock.Advance(time.Microsecond)
		diff(t, "deliveries claimed when the next attempt is due", []leadcycle.ID{retried.ID}, claimIDs(t, e, e.s, time.Minute))

		// Retrying by hand: a failed delivery is pending again, due now; a
		// delivered one is not sent again.
		got, err := e.s.WebhookDeliveries().RetryDelivery(e.ctx, hook.ID, failed.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != leadcycle.DeliveryPending || got.NextAttemptAt == nil || !got.NextAttemptAt.Equal(e.clock.Now()) || got.Attempts != 1 {
			t.Errorf("retried delivery: %+v; want pending, due now", got)
		}
		diff(t, "deliveries claimed after the retry", []leadcycle.ID{failed.ID}, claimIDs(t, e, nodePair(e)[1], time.Minute))
		_, err = e.s.WebhookDeliveries().RetryDelivery(e.ctx, hook.ID, delivered.ID)
		wantErr(t, err, leadcycle.EConflict)
		if d := deliveryByID(t, e, hook.ID, delivered.ID); d.Status != leadcycle.DeliveryDelivered {
			t.Errorf("a refused retry changed the delivery: %+v", d)
		}
		_, err = e.s.WebhookDeliveries().RetryDelivery(e.ctx, other.ID, failed.ID)
		wantErr(t, err, leadcycle.ENotFound)
		_, err = e.s.WebhookDeliveries().RetryDelivery(e.ctx, hook.ID, 999999)
		wantErr(t, err, leadcycle.ENotFound)

		// Listing: newest first, pages of 3 with cursors, all of them once.
		listed := deliveriesOf(t, e, hook.ID, 3)
		if len(listed) != 8 {
			t.Errorf("listed %d deliveries of the webhook, want 8", len(listed))
		}
		first, err := e.s.WebhookDeliveries().Deliveries(e.ctx, hook.ID, leadcycle.ListQuery{Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		if len(first.Items) != 3 || first.NextCursor == "" || first.Items[0].ID != listed[0].ID {
			t.Errorf("first page: %d items, cursor %q", len(first.Items), first.NextCursor)
		}
		_, err = e.s.WebhookDeliveries().Deliveries(e.ctx, hook.ID, leadcycle.ListQuery{Cursor: "garbage"})
		wantErr(t, err, leadcycle.EInvalid)
	}},
}
