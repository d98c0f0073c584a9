package webhook_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/seal"
	"github.com/leadcycle/leadcycle/webhook"
)

var start = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

// receiver is a webhook endpoint on loopback that verifies what it gets.
type receiver struct {
	t      *testing.T
	secret string
	clock  leadcycle.Clock

	mu       sync.Mutex
	received []received
	// answer, when set, writes the response; nil answers 204.
	answer func(n int, w http.ResponseWriter, r *http.Request)
}

type received struct {
	path     string
	id       string
	body     map[string]any
	header   http.Header
	verified error
}

func newReceiver(t *testing.T, secret string, clock leadcycle.Clock) (*receiver, string) {
	rc := &receiver{t: t, secret: secret, clock: clock}
	srv, _ := loopbackServer(t, rc.serve)
	return rc, srv.URL
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	got := received{path: r.URL.Path, id: r.Header.Get(webhook.HeaderID), header: r.Header.Clone()}
	got.verified = webhook.Verify(rc.secret, r.Header, raw, rc.clock.Now(), 0)
	if err := json.Unmarshal(raw, &got.body); err != nil {
		rc.t.Errorf("body %q: %v", raw, err)
	}
	rc.mu.Lock()
	rc.received = append(rc.received, got)
	n := len(rc.received)
	answer := rc.answer
	rc.mu.Unlock()
	if answer != nil {
		answer(n, w, r)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (rc *receiver) all() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.received...)
}

// setup returns a store, a worker sending to loopback under a guard that
// allows it, and the webhook secret sealed as the web layer stores it.
func setup(t *testing.T) (*leadcycle.FixedClock, *fakeStore, *webhook.Worker, string, string) {
	t.Helper()
	clock := leadcycle.NewFixedClock(start)
	sealer, err := seal.NewSealer([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	sealer = sealer.For("webhook-secret")
	secret := webhook.NewSecret()
	sealed, err := sealer.Seal(secret)
	if err != nil {
		t.Fatal(err)
	}
	store := newFakeStore(clock)
	w := &webhook.Worker{
		Store:  store,
		Client: webhook.Guard{AllowPrivate: true}.Client(5 * time.Second),
		Open:   sealer.Open,
		Clock:  clock,
	}
	return clock, store, w, secret, sealed
}

// drain runs the worker until it has nothing left to send now.
func drain(t *testing.T, w *webhook.Worker) int {
	t.Helper()
	total := 0
	for range 20 {
		n, err := w.RunOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return total
		}
		total += n
	}
	t.Fatal("the worker never ran out of deliveries")
	return 0
}

func TestWorkerDeliversEachEventOnceSigned(t *testing.T) {
	clock, store, w, secret, sealed := setup(t)
	rc, url := newReceiver(t, secret, clock)
	all := store.addHook(url+"/all", sealed, "*")
	qualified := store.addHook(url+"/qualified", sealed, leadcycle.EventLeadQualified)
	at := start.Add(-time.Minute).Add(123456 * time.Microsecond)
	store.addEvent(1, leadcycle.EventLeadCreated, at, map[string]any{"lead_id": "7", "email": "uxia@riasbaixas.gal"})
	store.addEvent(2, leadcycle.EventLeadQualified, at, map[string]any{"lead_id": "7"})
	store.addEvent(3, leadcycle.EventContactCreated, at, nil)

	if n := drain(t, w); n != 4 {
		t.Errorf("sent %d deliveries, want 4", n)
	}
	if n := drain(t, w); n != 0 {
		t.Errorf("sent %d more", n)
	}
	got := map[string]int{}
	for _, r := range rc.all() {
		got[r.path+" "+r.id]++
		if r.verified != nil {
			t.Errorf("%s %s: signature does not verify: %v", r.path, r.id, r.verified)
		}
		if ct, ua := r.header.Get("Content-Type"), r.header.Get("User-Agent"); ct != "application/json" || ua != "leadcycle-webhooks/1" {
			t.Errorf("content type %q, user agent %q", ct, ua)
		}
		if ts := r.header.Get(webhook.HeaderTimestamp); ts != "1772443800" {
			t.Errorf("timestamp %q, want the clock's", ts)
		}
		if r.body["id"] != r.id || r.body["timestamp"] != "2026-03-02T09:29:00.123456Z" {
			t.Errorf("body %v", r.body)
		}
		if r.id == "msg_1" {
			data, _ := r.body["data"].(map[string]any)
			if r.body["type"] != leadcycle.EventLeadCreated || data["email"] != "uxia@riasbaixas.gal" {
				t.Errorf("msg_1 body %v", r.body)
			}
		}
		if r.id == "msg_3" {
			if data, ok := r.body["data"].(map[string]any); !ok || len(data) != 0 {
				t.Errorf("msg_3 without payload: data %v", r.body["data"])
			}
		}
	}
	want := map[string]int{"/all msg_1": 1, "/all msg_2": 1, "/all msg_3": 1, "/qualified msg_2": 1}
	if len(got) != len(want) {
		t.Errorf("received %v, want %v", got, want)
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("received %v, want %v", got, want)
			break
		}
	}
	for _, d := range store.all() {
		if d.Status != leadcycle.DeliveryDelivered || d.Attempts != 1 || d.LastStatusCode != 204 || d.LastError != "" || d.DeliveredAt == nil {
			t.Errorf("delivery %+v", d)
		}
		if d.WebhookID != all && d.WebhookID != qualified {
			t.Errorf("delivery for webhook %s", d.WebhookID)
		}
	}
}

func TestWorkerRetriesAFailedDelivery(t *testing.T) {
	clock, store, w, secret, sealed := setup(t)
	rc, url := newReceiver(t, secret, clock)
	rc.answer = func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			http.Error(w, "temporarily down for maintenance "+strings.Repeat("x", 500), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	}
	store.addHook(url, sealed, "*")
	store.addEvent(41, leadcycle.EventLeadScored, start, map[string]any{"grade": "A"})

	if n, err := w.RunOnce(context.Background()); n != 1 || err != nil {
		t.Fatalf("first run: %d %v", n, err)
	}
	d := store.all()[0]
	if d.Status != leadcycle.DeliveryPending || d.Attempts != 1 || d.LastStatusCode != 500 || !strings.HasPrefix(d.LastError, "temporarily down for maintenance") {
		t.Fatalf("after the 500: %+v", d)
	}
	if len(d.LastError) > 200 {
		t.Errorf("error of %d bytes kept", len(d.LastError))
	}
	if d.NextAttemptAt == nil || !d.NextAttemptAt.Equal(start.Add(5*time.Second)) {
		t.Fatalf("next attempt at %v, want 5s after %v", d.NextAttemptAt, start)
	}
	// Not due yet.
	if n := drain(t, w); n != 0 {
		t.Fatalf("retried %d before it was due", n)
	}
	clock.Advance(5 * time.Second)
	if n := drain(t, w); n != 1 {
		t.Fatalf("retried %d, want 1", n)
	}
	d = store.all()[0]
	if d.Status != leadcycle.DeliveryDelivered || d.Attempts != 2 || d.LastStatusCode != 200 || d.LastError != "" || d.NextAttemptAt != nil {
		t.Errorf("after the retry: %+v", d)
	}
	got := rc.all()
	if len(got) != 2 || got[0].id != "msg_41" || got[1].id != "msg_41" {
		t.Fatalf("received %+v", got)
	}
	// Each attempt is signed afresh, with its own timestamp.
	for i, r := range got {
		if r.verified != nil {
			t.Errorf("attempt %d: %v", i+1, r.verified)
		}
	}
	if got[0].header.Get(webhook.HeaderTimestamp) == got[1].header.Get(webhook.HeaderTimestamp) {
		t.Error("the retry reused the first timestamp")
	}
}

func TestWorkerGivesUpAfterTheSchedule(t *testing.T) {
	clock, store, w, secret, sealed := setup(t)
	w.Schedule = []time.Duration{time.Minute, time.Hour}
	rc, url := newReceiver(t, secret, clock)
	rc.answer = func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }
	store.addHook(url, sealed, "*")
	store.addEvent(1, leadcycle.EventTaskCreated, start, nil)

	for i, delay := range []time.Duration{time.Minute, time.Hour} {
		drain(t, w)
		d := store.all()[0]
		if d.Attempts != i+1 || d.Status != leadcycle.DeliveryPending || d.NextAttemptAt == nil || !d.NextAttemptAt.Equal(clock.Now().Add(delay)) {
			t.Fatalf("after attempt %d: %+v", i+1, d)
		}
		if d.LastStatusCode != 503 || d.LastError != "HTTP 503 Service Unavailable" {
			t.Errorf("after attempt %d: %d %q", i+1, d.LastStatusCode, d.LastError)
		}
		clock.Advance(delay)
	}
	drain(t, w)
	d := store.all()[0]
	if d.Attempts != 3 || d.Status != leadcycle.DeliveryFailed || d.NextAttemptAt != nil {
		t.Fatalf("after the last attempt: %+v", d)
	}
	clock.Advance(24 * time.Hour)
	if n := drain(t, w); n != 0 || len(rc.all()) != 3 {
		t.Errorf("a failed delivery was sent again: %d, %d received", n, len(rc.all()))
	}
}

func TestWorkerDoesNotFollowRedirects(t *testing.T) {
	clock, store, w, secret, sealed := setup(t)
	target, targetHits := loopbackServer(t, nil)
	rc, url := newReceiver(t, secret, clock)
	rc.answer = func(_ int, w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+"/moved", http.StatusMovedPermanently)
	}
	store.addHook(url, sealed, "*")
	store.addEvent(1, leadcycle.EventLeadCreated, start, nil)
	drain(t, w)
	d := store.all()[0]
	if delivered(d) || d.LastStatusCode != 301 || !strings.Contains(d.LastError, "redirect (301) not followed") || !strings.Contains(d.LastError, "/moved") || d.NextAttemptAt == nil {
		t.Errorf("after a redirect: %+v", d)
	}
	if targetHits.Load() != 0 {
		t.Error("the redirect was followed")
	}
}

func TestWorkerTimeoutIsAFailure(t *testing.T) {
	clock, store, w, secret, sealed := setup(t)
	w.Client = webhook.Guard{AllowPrivate: true}.Client(50 * time.Millisecond)
	release := make(chan struct{})
	rc, url := newReceiver(t, secret, clock)
	t.Cleanup(func() { close(release) }) // runs before the server closes
	rc.answer = func(_ int, w http.ResponseWriter, r *http.Request) {
		select { // never answers in time
		case <-r.Context().Done():
		case <-release:
		}
	}
	store.addHook(url, sealed, "*")
	store.addEvent(1, leadcycle.EventLeadCreated, start, nil)
	if n, err := w.RunOnce(context.Background()); n != 1 || err != nil {
		t.Fatalf("run: %d %v", n, err)
	}
	d := store.all()[0]
	if d.Status != leadcycle.DeliveryPending || d.Attempts != 1 || d.LastStatusCode != 0 || !strings.Contains(d.LastError, "timed out") || d.NextAttemptAt == nil {
		t.Errorf("after a timeout: %+v", d)
	}
}

func TestWorkerRefusesPrivateAddressesByDefault(t *testing.T) {
	clock, store, w, secret, sealed := setup(t)
	rc, url := newReceiver(t, secret, clock)
	store.addHook(url, sealed, "*")
	store.addEvent(1, leadcycle.EventLeadCreated, start, nil)

	for _, client := range []*http.Client{nil, webhook.Guard{}.Client(time.Second)} {
		w.Client = client // nil: the worker's default guarded client
		drain(t, w)
		d := store.all()[0]
		if delivered(d) || d.LastStatusCode != 0 || !strings.Contains(d.LastError, "127.0.0.1 is a loopback address") || !strings.Contains(d.LastError, "--webhook-allow-private") {
			t.Fatalf("refused delivery: %+v", d)
		}
		clock.Advance(24 * time.Hour)
	}
	if len(rc.all()) != 0 {
		t.Fatal("a refused delivery arrived")
	}
	host := strings.TrimPrefix(url, "http://")
	w.Client = webhook.Guard{AllowHosts: []string{host}}.Client(5 * time.Second)
	drain(t, w)
	if d := store.all()[0]; !delivered(d) || d.Attempts != 3 {
		t.Errorf("allowed host: %+v", d)
	}
}

func TestWorkerCannotOpenTheSecret(t *testing.T) {
	clock, store, w, secret, sealed := setup(t)
	rc, url := newReceiver(t, secret, clock)
	store.addHook(url, sealed, "*")
	store.addEvent(1, leadcycle.EventLeadCreated, start, nil)
	w.Open = func(string) (string, error) { return "", errors.New("LEADCYCLE_SECRET_KEY is not the key") }
	drain(t, w)
	d := store.all()[0]
	if delivered(d) || !strings.Contains(d.LastError, "cannot open the webhook's secret") || d.NextAttemptAt == nil {
		t.Errorf("%+v", d)
	}
	if len(rc.all()) != 0 {
		t.Error("sent without a secret")
	}
	// With no Open, secrets stored plain still open.
	plain, _ := (*seal.Sealer)(nil).Seal(secret)
	store.addHook(url, plain, "*")
	store.addEvent(2, leadcycle.EventLeadCreated, start, nil)
	w.Open = nil
	clock.Advance(time.Hour)
	drain(t, w)
	var ok int
	for _, r := range rc.all() {
		if r.verified == nil && r.id == "msg_2" {
			ok++
		}
	}
	if ok != 1 {
		t.Errorf("plain secret: received %+v", rc.all())
	}
}

func TestWorkerRun(t *testing.T) {
	clock, store, w, secret, sealed := setup(t)
	w.Interval = 5 * time.Millisecond
	got := make(chan string, 10)
	rc, url := newReceiver(t, secret, clock)
	rc.answer = func(_ int, w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Get(webhook.HeaderID)
		w.WriteHeader(http.StatusAccepted)
	}
	store.addHook(url, sealed, "*")

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	// Events written while the worker runs are delivered.
	store.addEvent(9, leadcycle.EventFormSubmitted, start, map[string]any{"form": "demo"})
	select {
	case id := <-got:
		if id != "msg_9" {
			t.Errorf("received %q", id)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the running worker delivered nothing")
	}
	// Wait for the attempt to be recorded, then stop.
	deadline := time.Now().Add(30 * time.Second)
	for !delivered(store.all()[0]) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	if d := store.all()[0]; !delivered(d) || d.LastStatusCode != http.StatusAccepted {
		t.Errorf("%+v", d)
	}
}

func delivered(d leadcycle.WebhookDelivery) bool { return d.Status == leadcycle.DeliveryDelivered }
