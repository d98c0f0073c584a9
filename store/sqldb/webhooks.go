package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/leadcycle/leadcycle"
)

var userTable = &table[leadcycle.User]{
	name: "users", collection: "users",
	cols: []string{"name", "email", "role", "queues", "active", "locale", "created_at", "updated_at"},
	values: func(u *leadcycle.User) []any {
		return []any{u.Name, u.Email, u.Role, jsonText(u.Queues), u.Active, u.Locale, micros(u.CreatedAt), micros(u.UpdatedAt)}
	},
	dests: func(u *leadcycle.User) []any {
		return []any{idCol{&u.ID}, &u.Name, &u.Email, &u.Role, jsonCol{&u.Queues}, &u.Active, &u.Locale, timeCol{&u.CreatedAt}, timeCol{&u.UpdatedAt}}
	},
	id: func(u *leadcycle.User) *leadcycle.ID { return &u.ID },
	prepare: func(u *leadcycle.User, now time.Time, create bool) error {
		u.Normalize()
		stamp(&u.CreatedAt, &u.UpdatedAt, now, create)
		return u.Validate()
	},
}

// userSelectCols are the columns scanRecord(userTable) reads.
var userSelectCols = "id, " + strings.Join(userTable.cols, ", ")

// Users implements leadcycle.Store.
func (s *Store) Users() leadcycle.Repo[leadcycle.User] { return s.users }

var webhookTable = &table[leadcycle.Webhook]{
	name: "webhooks", collection: "webhooks",
	cols: []string{"name", "url", "description", "events", "active", "secret", "created_at", "updated_at"},
	values: func(w *leadcycle.Webhook) []any {
		return []any{w.Name, w.URL, w.Description, jsonText(w.Events), w.Active, w.Secret, micros(w.CreatedAt), micros(w.UpdatedAt)}
	},
	dests: func(w *leadcycle.Webhook) []any {
		return []any{idCol{&w.ID}, &w.Name, &w.URL, &w.Description, jsonCol{&w.Events}, &w.Active, &w.Secret, timeCol{&w.CreatedAt}, timeCol{&w.UpdatedAt}}
	},
	id: func(w *leadcycle.Webhook) *leadcycle.ID { return &w.ID },
	prepare: func(w *leadcycle.Webhook, now time.Time, create bool) error {
		w.Normalize()
		stamp(&w.CreatedAt, &w.UpdatedAt, now, create)
		if err := w.Validate(); err != nil {
			return err
		}
		if w.Secret == "" {
			return leadcycle.FieldErrorf(leadcycle.EInvalid, "secret", "is required (the web layer generates and seals it)")
		}
		return nil
	},
}

// Webhooks implements leadcycle.Store. The Secret of the webhooks it
// returns is the sealed secret as stored; the web layer never shows it.
func (s *Store) Webhooks() leadcycle.Repo[leadcycle.Webhook] { return s.webhooks }

// WebhookDeliveries implements leadcycle.Store.
func (s *Store) WebhookDeliveries() leadcycle.WebhookStore { return webhookStore{s} }

// webhookStore implements leadcycle.WebhookStore.
type webhookStore struct{ s *Store }

// FanOut implements leadcycle.WebhookStore: in one transaction it claims
// undispatched events (skipping those another node holds), writes one
// delivery per matching active webhook and marks the events dispatched.
func (x webhookStore) FanOut(ctx context.Context, limit int) (int, error) {
	if limit <= 0 {
		limit = 500
	}
	n := 0
	err := x.s.InTxRetry(ctx, func(tx *sql.Tx) error {
		rows, err := x.s.QueryQ(ctx, tx, "SELECT id, type FROM outbox WHERE webhooks_pending = ? ORDER BY id LIMIT ?"+x.s.Dialect.SkipLocked, true, limit)
		if err != nil {
			return fmt.Errorf("undispatched events: %w", err)
		}
		type pending struct {
			id  int64
			typ string
		}
		evs, err := scanAll(rows, func(r scanner) (pending, error) { var p pending; return p, r.Scan(&p.id, &p.typ) })
		if err != nil || len(evs) == 0 {
			n = 0
			return err
		}
		hooks, err := x.activeWebhooks(ctx, tx)
		if err != nil {
			return err
		}
		now := micros(x.s.Clock.Now())
		var deliveries [][]any
		ids := make([]int64, len(evs))
		for i, ev := range evs {
			ids[i] = ev.id
			for _, h := range hooks {
				if slices.Contains(h.Events, "*") || slices.Contains(h.Events, ev.typ) {
					deliveries = append(deliveries, []any{int64(h.ID), ev.id, ev.typ, leadcycle.DeliveryPending, now, now})
				}
			}
		}
		if err := execRows(ctx, x.s.DB, tx, "INSERT INTO webhook_deliveries (webhook_id, event_id, event_type, status, next_attempt_at, created_at) VALUES ",
			" ON CONFLICT (webhook_id, event_id) DO NOTHING", deliveries); err != nil {
			return fmt.Errorf("write deliveries: %w", err)
		}
		if _, err := x.s.ExecQ(ctx, tx, "UPDATE outbox SET webhooks_pending = ? WHERE "+x.s.Dialect.InIDs("id"), false, x.s.Dialect.IDsArg(ids)); err != nil {
			return fmt.Errorf("mark events dispatched: %w", err)
		}
		n = len(evs)
		return nil
	})
	return n, err
}

func (x webhookStore) activeWebhooks(ctx context.Context, q querier) ([]leadcycle.Webhook, error) {
	rows, err := x.s.QueryQ(ctx, q, x.s.webhooks.selectSQL+" WHERE active = ? ORDER BY id", true)
	if err != nil {
		return nil, fmt.Errorf("active webhooks: %w", err)
	}
	return scanAll(rows, scanRecord(webhookTable))
}

const deliveryCols = "id, webhook_id, event_id, event_type, status, attempts, next_attempt_at, last_attempt_at, last_status_code, last_error, delivered_at, created_at"

func scanDelivery(r scanner) (leadcycle.WebhookDelivery, error) {
	var d leadcycle.WebhookDelivery
	err := r.Scan(idCol{&d.ID}, idCol{&d.WebhookID}, idCol{&d.EventID}, &d.EventType, &d.Status, &d.Attempts, nullTimeCol{&d.NextAttemptAt},
		nullTimeCol{&d.LastAttemptAt}, &d.LastStatusCode, &d.LastError, nullTimeCol{&d.DeliveredAt}, timeCol{&d.CreatedAt})
	return d, err
}

// ClaimDeliveries implements leadcycle.WebhookStore.
func (x webhookStore) ClaimDeliveries(ctx context.Context, limit int, lease time.Duration) ([]leadcycle.DeliveryJob, error) {
	if limit <= 0 {
		limit = 50
	}
	var jobs []leadcycle.DeliveryJob
	err := x.s.InTxRetry(ctx, func(tx *sql.Tx) error {
		jobs = jobs[:0]
		now := x.s.Clock.Now()
		// The deliveries of a webhook switched off wait until it is on again.
		rows, err := x.s.QueryQ(ctx, tx, "SELECT "+deliveryCols+" FROM webhook_deliveries WHERE status = ? AND next_attempt_at <= ? AND claimed_until < ?"+
			" AND webhook_id IN (SELECT id FROM webhooks WHERE active = ?) ORDER BY next_attempt_at, id LIMIT ?"+
			x.s.Dialect.SkipLocked, leadcycle.DeliveryPending, micros(now), micros(now), true, limit)
		if err != nil {
			return fmt.Errorf("due deliveries: %w", err)
		}
		ds, err := scanAll(rows, scanDelivery)
		if err != nil || len(ds) == 0 {
			return err
		}
		ids := make([]int64, len(ds))
		for i, d := range ds {
			ids[i] = int64(d.ID)
		}
		if _, err := x.s.ExecQ(ctx, tx, "UPDATE webhook_deliveries SET claimed_until = ? WHERE "+x.s.Dialect.InIDs("id"), micros(now.Add(lease)), x.s.Dialect.IDsArg(ids)); err != nil {
			return fmt.Errorf("claim deliveries: %w", err)
		}
		jobs, err = x.jobsOf(ctx, tx, ds)
		return err
	})
	return jobs, err
}

// jobsOf reads what sending the deliveries needs — their webhooks, their
// events and, for lead events that do not carry it, the lead as it is now —
// in one query each.
func (x webhookStore) jobsOf(ctx context.Context, tx *sql.Tx, ds []leadcycle.WebhookDelivery) ([]leadcycle.DeliveryJob, error) {
	var hookIDs, eventIDs []int64
	for _, d := range ds {
		hookIDs, eventIDs = append(hookIDs, int64(d.WebhookID)), append(eventIDs, int64(d.EventID))
	}
	hookList, err := selectByIDs(ctx, x.s, tx, x.s.webhooks, "id", hookIDs)
	if err != nil {
		return nil, err
	}
	hooks := map[leadcycle.ID]*leadcycle.Webhook{}
	for i := range hookList {
		hooks[hookList[i].ID] = &hookList[i]
	}
	rows, err := x.s.QueryQ(ctx, tx, "SELECT "+eventCols+" FROM outbox WHERE "+x.s.Dialect.InIDs("id"), x.s.Dialect.IDsArg(uniqueIDs(eventIDs)))
	if err != nil {
		return nil, fmt.Errorf("events of deliveries: %w", err)
	}
	evList, err := scanAll(rows, scanEvent)
	if err != nil {
		return nil, err
	}
	events := map[leadcycle.ID]*leadcycle.Occurrence{}
	var leadIDs []int64
	for i := range evList {
		ev := &evList[i]
		events[ev.ID] = ev
		if ev.LeadID != nil && ev.Payload["lead"] == nil {
			leadIDs = append(leadIDs, int64(*ev.LeadID))
		}
	}
	leads, err := selectByIDs(ctx, x.s, tx, x.s.leads, "id", leadIDs)
	if err != nil {
		return nil, err
	}
	byID := map[leadcycle.ID]*leadcycle.Lead{}
	for i := range leads {
		byID[leads[i].ID] = &leads[i]
	}
	jobs := make([]leadcycle.DeliveryJob, 0, len(ds))
	for _, d := range ds {
		h, ev := hooks[d.WebhookID], events[d.EventID]
		if h == nil || ev == nil {
			return nil, fmt.Errorf("delivery %s: its webhook or event is gone", d.ID)
		}
		if ev.LeadID != nil && ev.Payload["lead"] == nil {
			if l := byID[*ev.LeadID]; l != nil { // a deleted lead is not attached
				if ev.Payload == nil {
					ev.Payload = map[string]any{}
				}
				ev.Payload["lead"] = l
			}
		}
		jobs = append(jobs, leadcycle.DeliveryJob{Delivery: d, URL: h.URL, SealedSecret: h.Secret, Event: *ev})
	}
	return jobs, nil
}

// RecordAttempt implements leadcycle.WebhookStore.
func (x webhookStore) RecordAttempt(ctx context.Context, id leadcycle.ID, a leadcycle.DeliveryAttempt) error {
	status := leadcycle.DeliveryPending
	var delivered, next any
	switch {
	case a.Delivered:
		status, delivered = leadcycle.DeliveryDelivered, micros(a.At)
	case a.NextAttemptAt == nil:
		status = leadcycle.DeliveryFailed
	default:
		next = micros(*a.NextAttemptAt)
	}
	if len(a.Error) > 500 {
		a.Error = a.Error[:500]
	}
	_, err := x.s.W.ExecContext(ctx, x.s.Q(`UPDATE webhook_deliveries SET status = ?, attempts = attempts + 1, next_attempt_at = ?, last_attempt_at = ?,
		last_status_code = ?, last_error = ?, delivered_at = ?, claimed_until = 0 WHERE id = ?`),
		status, next, micros(a.At), a.StatusCode, a.Error, delivered, int64(id))
	if err != nil {
		return fmt.Errorf("record delivery attempt: %w", err)
	}
	return nil
}

// Deliveries implements leadcycle.WebhookStore.
func (x webhookStore) Deliveries(ctx context.Context, webhookID leadcycle.ID, q leadcycle.ListQuery) (leadcycle.Page[leadcycle.WebhookDelivery], error) {
	if _, err := x.s.webhooks.get(ctx, x.s.R, webhookID, false); err != nil {
		return leadcycle.Page[leadcycle.WebhookDelivery]{Items: []leadcycle.WebhookDelivery{}}, err
	}
	return newestFirst(ctx, x.s.DB, q, "SELECT "+deliveryCols+" FROM webhook_deliveries WHERE webhook_id = ?", []any{int64(webhookID)},
		scanDelivery, func(d leadcycle.WebhookDelivery) leadcycle.ID { return d.ID })
}

// RetryDelivery implements leadcycle.WebhookStore.
func (x webhookStore) RetryDelivery(ctx context.Context, webhookID, id leadcycle.ID) (*leadcycle.WebhookDelivery, error) {
	var out leadcycle.WebhookDelivery
	err := x.s.InTx(ctx, func(tx *sql.Tx) error {
		res, err := x.s.ExecQ(ctx, tx, "UPDATE webhook_deliveries SET status = ?, next_attempt_at = ?, claimed_until = 0 WHERE id = ? AND webhook_id = ? AND status <> ?",
			leadcycle.DeliveryPending, micros(x.s.Clock.Now()), int64(id), int64(webhookID), leadcycle.DeliveryDelivered)
		if err != nil {
			return fmt.Errorf("retry delivery: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			d, err := scanDelivery(x.s.QueryRowQ(ctx, tx, "SELECT "+deliveryCols+" FROM webhook_deliveries WHERE id = ? AND webhook_id = ?", int64(id), int64(webhookID)))
			if err == sql.ErrNoRows {
				return leadcycle.Errorf(leadcycle.ENotFound, "delivery %s not found", id)
			}
			if err != nil {
				return err
			}
			return leadcycle.Errorf(leadcycle.EConflict, "delivery %s was delivered at %s; it is not sent again", id, d.DeliveredAt.Format(time.RFC3339))
		}
		out, err = scanDelivery(x.s.QueryRowQ(ctx, tx, "SELECT "+deliveryCols+" FROM webhook_deliveries WHERE id = ?", int64(id)))
		return err
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}
