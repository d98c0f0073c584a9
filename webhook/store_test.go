package webhook_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/leadcycle/leadcycle"
)

// fakeStore is an in-memory leadcycle.WebhookStore for one node.
type fakeStore struct {
	clock leadcycle.Clock

	mu         sync.Mutex
	hooks      []fakeHook
	outbox     []leadcycle.DeliveryJob // only Event is set; not yet fanned out
	deliveries []*fakeDelivery
	attempts   []leadcycle.DeliveryAttempt
}

type fakeHook struct {
	id     leadcycle.ID
	url    string
	sealed string
	events []string
	active bool
}

type fakeDelivery struct {
	job         leadcycle.DeliveryJob
	leasedUntil time.Time
}

func newFakeStore(clock leadcycle.Clock) *fakeStore { return &fakeStore{clock: clock} }

// addHook subscribes url to events and returns the webhook's id.
func (s *fakeStore) addHook(url, sealed string, events ...string) leadcycle.ID {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := leadcycle.ID(len(s.hooks) + 1)
	s.hooks = append(s.hooks, fakeHook{id: id, url: url, sealed: sealed, events: events, active: true})
	return id
}

// addEvent writes an event to the outbox. (The event is built through
// DeliveryJob so that the test does not name the outbox event type.)
func (s *fakeStore) addEvent(id leadcycle.ID, typ string, at time.Time, data map[string]any) {
	var j leadcycle.DeliveryJob
	j.Event.ID, j.Event.Type, j.Event.At, j.Event.Payload, j.Event.Actor = id, typ, at, data, "test"
	s.mu.Lock()
	s.outbox = append(s.outbox, j)
	s.mu.Unlock()
}

func (s *fakeStore) FanOut(ctx context.Context, limit int) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := min(limit, len(s.outbox))
	for _, ev := range s.outbox[:n] {
		for _, h := range s.hooks {
			if !h.active || !(slices.Contains(h.events, "*") || slices.Contains(h.events, ev.Event.Type)) {
				continue
			}
			now := s.clock.Now()
			s.deliveries = append(s.deliveries, &fakeDelivery{job: leadcycle.DeliveryJob{
				Delivery: leadcycle.WebhookDelivery{
					ID: leadcycle.ID(len(s.deliveries) + 1), WebhookID: h.id, EventID: ev.Event.ID, EventType: ev.Event.Type,
					Status: leadcycle.DeliveryPending, NextAttemptAt: &now, CreatedAt: now,
				},
				URL: h.url, SealedSecret: h.sealed, Event: ev.Event,
			}})
		}
	}
	s.outbox = s.outbox[n:]
	return n, nil
}

func (s *fakeStore) ClaimDeliveries(ctx context.Context, limit int, lease time.Duration) ([]leadcycle.DeliveryJob, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	var out []leadcycle.DeliveryJob
	for _, d := range s.deliveries {
		if len(out) == limit {
			break
		}
		due := d.job.Delivery.NextAttemptAt != nil && !d.job.Delivery.NextAttemptAt.After(now)
		if d.job.Delivery.Status == leadcycle.DeliveryPending && due && !d.leasedUntil.After(now) {
			d.leasedUntil = now.Add(lease)
			out = append(out, d.job)
		}
	}
	return out, nil
}

func (s *fakeStore) RecordAttempt(ctx context.Context, id leadcycle.ID, a leadcycle.DeliveryAttempt) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.find(id)
	if d == nil {
		return errors.New("no such delivery")
	}
	del := &d.job.Delivery
	del.Attempts++
	at := a.At
	del.LastAttemptAt, del.LastStatusCode, del.LastError = &at, a.StatusCode, a.Error
	switch {
	case a.Delivered:
		del.Status, del.DeliveredAt, del.NextAttemptAt = leadcycle.DeliveryDelivered, &at, nil
	case a.NextAttemptAt == nil:
		del.Status, del.NextAttemptAt = leadcycle.DeliveryFailed, nil
	default:
		next := *a.NextAttemptAt
		del.Status, del.NextAttemptAt = leadcycle.DeliveryPending, &next
	}
	d.leasedUntil = time.Time{}
	s.attempts = append(s.attempts, a)
	return nil
}

func (s *fakeStore) Deliveries(ctx context.Context, webhookID leadcycle.ID, q leadcycle.ListQuery) (leadcycle.Page[leadcycle.WebhookDelivery], error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var p leadcycle.Page[leadcycle.WebhookDelivery]
	for i := len(s.deliveries) - 1; i >= 0; i-- {
		if d := s.deliveries[i].job.Delivery; d.WebhookID == webhookID {
			p.Items = append(p.Items, d)
		}
	}
	return p, nil
}

func (s *fakeStore) RetryDelivery(ctx context.Context, webhookID, id leadcycle.ID) (*leadcycle.WebhookDelivery, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.find(id)
	if d == nil || d.job.Delivery.WebhookID != webhookID {
		return nil, errors.New("no such delivery")
	}
	now := s.clock.Now()
	d.job.Delivery.Status, d.job.Delivery.NextAttemptAt = leadcycle.DeliveryPending, &now
	out := d.job.Delivery
	return &out, nil
}

func (s *fakeStore) find(id leadcycle.ID) *fakeDelivery {
	for _, d := range s.deliveries {
		if d.job.Delivery.ID == id {
			return d
		}
	}
	return nil
}

// all returns a copy of every delivery, oldest first.
func (s *fakeStore) all() []leadcycle.WebhookDelivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]leadcycle.WebhookDelivery, len(s.deliveries))
	for i, d := range s.deliveries {
		out[i] = d.job.Delivery
	}
	return out
}
