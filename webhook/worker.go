package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/seal"
)

// DefaultSchedule is the Standard Webhooks/Svix retry schedule: the delays
// before the second to the eighth attempt.
var DefaultSchedule = []time.Duration{
	5 * time.Second,
	5 * time.Minute,
	30 * time.Minute,
	2 * time.Hour,
	5 * time.Hour,
	10 * time.Hour,
	10 * time.Hour,
}

// MaxAttempts is how many times a delivery is attempted on DefaultSchedule.
const MaxAttempts = 8

// Backoff returns the delay before attempt number attempt+1 after attempt
// failed attempts on DefaultSchedule (no delay before the first attempt), or
// false when attempt reached MaxAttempts and the delivery gives up.
func Backoff(attempt int) (time.Duration, bool) { return backoff(DefaultSchedule, attempt) }

func backoff(schedule []time.Duration, attempt int) (time.Duration, bool) {
	switch {
	case attempt <= 0:
		return 0, true
	case attempt > len(schedule):
		return 0, false
	default:
		return schedule[attempt-1], true
	}
}

// Worker defaults.
const (
	// DefaultUserAgent is the User-Agent of deliveries.
	DefaultUserAgent = "leadcycle-webhooks/1"
	// DefaultInterval is how long an idle Worker sleeps.
	DefaultInterval = 500 * time.Millisecond
	// DefaultLease is how long a Worker holds the deliveries it claims.
	DefaultLease = 2 * time.Minute
	// DefaultBatch is how many events and deliveries a Worker takes at a time.
	DefaultBatch = 16
	// Concurrency is how many deliveries a Worker sends at once.
	Concurrency = 4
	// MaxResponseBytes is how much of an answer a Worker reads.
	MaxResponseBytes = 64 << 10
	// maxErrorBytes is how much of an answer's body is kept as its error.
	maxErrorBytes = 200
)

// Worker sends webhook deliveries: it fans new events out into deliveries,
// claims due ones, sends them and records the outcome. Zero fields take
// their defaults; Store is required. Several nodes may each run a Worker on
// one store.
type Worker struct {
	// Store holds the outbox and the deliveries.
	Store leadcycle.WebhookStore
	// Client sends the requests; nil is Guard{}.Client(DefaultTimeout),
	// which refuses private addresses. A client with no Timeout gets
	// DefaultTimeout per request.
	Client *http.Client
	// Open returns a webhook's secret from its stored (sealed) form; nil
	// opens only secrets stored plain (see package seal).
	Open func(sealed string) (string, error)
	// Clock gives the time of attempts and signatures; nil is the system
	// clock.
	Clock leadcycle.Clock
	// Log receives a line per failed attempt; nil discards.
	Log *slog.Logger
	// Interval is how long Run sleeps when there is nothing to send
	// (DefaultInterval).
	Interval time.Duration
	// Lease is how long a claimed delivery is kept from other nodes
	// (DefaultLease). It should exceed the time to send a batch.
	Lease time.Duration
	// Batch is how many events are fanned out and deliveries claimed at a
	// time (DefaultBatch).
	Batch int
	// Schedule lists the delays before the second, third... attempt
	// (DefaultSchedule); a delivery is attempted len(Schedule)+1 times.
	Schedule []time.Duration
	// UserAgent is the User-Agent header (DefaultUserAgent).
	UserAgent string
}

// Run sends deliveries until ctx is done, sleeping Interval whenever there
// is nothing to do. Errors of the store are logged and retried. Attempts in
// progress when ctx ends are not recorded: their lease runs out and they are
// sent again.
func (w *Worker) Run(ctx context.Context) {
	for {
		fanned, sent, err := w.runOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		var pause time.Duration
		switch {
		case err != nil:
			w.log().Error("webhook deliveries", slog.Any("err", err))
			pause = max(w.interval(), 5*time.Second)
		case fanned == 0 && sent == 0:
			pause = w.interval()
		}
		if pause > 0 {
			t := time.NewTimer(pause)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
	}
}

// RunOnce fans out new events, then claims up to Batch due deliveries, sends
// them and records their outcomes; it returns how many deliveries it
// attempted.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	_, sent, err := w.runOnce(ctx)
	return sent, err
}

func (w *Worker) runOnce(ctx context.Context) (fanned, sent int, err error) {
	batch := w.Batch
	if batch <= 0 {
		batch = DefaultBatch
	}
	lease := w.Lease
	if lease <= 0 {
		lease = DefaultLease
	}
	if fanned, err = w.Store.FanOut(ctx, batch); err != nil {
		return 0, 0, fmt.Errorf("fanning out events: %w", err)
	}
	jobs, err := w.Store.ClaimDeliveries(ctx, batch, lease)
	if err != nil {
		return fanned, 0, fmt.Errorf("claiming deliveries: %w", err)
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		sem  = make(chan struct{}, Concurrency)
	)
	for _, job := range jobs {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := w.deliver(ctx, job); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return fanned, len(jobs), errors.Join(errs...)
}

// deliver sends one delivery and records the attempt.
func (w *Worker) deliver(ctx context.Context, job leadcycle.DeliveryJob) error {
	clock := w.clock()
	at := clock.Now()
	status, failure := w.send(ctx, job, at)
	if failure != "" && ctx.Err() != nil {
		// Shutting down: leave the delivery to its lease rather than count an
		// attempt the receiver may never have seen.
		return nil
	}
	a := leadcycle.DeliveryAttempt{At: at, StatusCode: status, Error: failure, Delivered: failure == ""}
	log := w.log().With(
		slog.String("delivery", job.Delivery.ID.String()),
		slog.String("webhook", job.Delivery.WebhookID.String()),
		slog.String("event", job.Event.Type))
	if !a.Delivered {
		attempts := job.Delivery.Attempts + 1
		if d, ok := backoff(w.schedule(), attempts); ok {
			next := clock.Now().Add(d)
			a.NextAttemptAt = &next
			log.Warn("webhook delivery failed; will retry", slog.Int("attempt", attempts), slog.Int("status", status), slog.String("err", failure), slog.Time("next_attempt_at", next))
		} else {
			log.Warn("webhook delivery failed; giving up", slog.Int("attempt", attempts), slog.Int("status", status), slog.String("err", failure))
		}
	}
	// Record even when ctx ended meanwhile: the request was answered.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := w.Store.RecordAttempt(rctx, job.Delivery.ID, a); err != nil {
		return fmt.Errorf("recording delivery %s: %w", job.Delivery.ID, err)
	}
	return nil
}

// MessageID returns the webhook-id of an event's messages: "msg_" and the
// event's id, the same on every attempt and for every webhook.
func MessageID(eventID leadcycle.ID) string { return "msg_" + eventID.String() }

// message is the body of a delivery.
type message struct {
	ID        string         `json:"id"`
	Type      string         `json:"type"`
	Timestamp string         `json:"timestamp"`
	Data      map[string]any `json:"data"`
}

// send makes one attempt and returns the status code received (0 for none)
// and "" or why the attempt failed.
func (w *Worker) send(ctx context.Context, job leadcycle.DeliveryJob, at time.Time) (int, string) {
	open := w.Open
	if open == nil {
		open = (*seal.Sealer)(nil).Open
	}
	secret, err := open(job.SealedSecret)
	if err != nil {
		return 0, "cannot open the webhook's secret: " + err.Error()
	}
	msgID := MessageID(job.Event.ID)
	data := job.Event.Payload
	if data == nil {
		data = map[string]any{}
	}
	body, err := json.Marshal(message{ID: msgID, Type: job.Event.Type, Timestamp: job.Event.At.UTC().Format(time.RFC3339Nano), Data: data})
	if err != nil {
		return 0, "cannot encode the event: " + err.Error()
	}
	sig, err := Sign(secret, msgID, at, body)
	if err != nil {
		return 0, "cannot sign: " + err.Error()
	}

	client := w.Client
	if client == nil {
		client = defaultClient()
	}
	timeout := client.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, job.URL, bytes.NewReader(body))
	if err != nil {
		return 0, "bad url: " + err.Error()
	}
	req.Header.Set(HeaderID, msgID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(at.Unix(), 10))
	req.Header.Set(HeaderSignature, sig)
	req.Header.Set("Content-Type", "application/json")
	ua := w.UserAgent
	if ua == "" {
		ua = DefaultUserAgent
	}
	req.Header.Set("User-Agent", ua)

	resp, err := client.Do(req)
	if err != nil {
		return 0, describe(err, timeout)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes))
	switch code := resp.StatusCode; {
	case code >= 200 && code <= 299:
		return code, ""
	case code >= 300 && code <= 399:
		msg := fmt.Sprintf("redirect (%d) not followed", code)
		if loc := resp.Header.Get("Location"); loc != "" {
			msg += ": Location " + truncate(loc, maxErrorBytes)
		}
		return code, msg
	default:
		if s := strings.TrimSpace(truncate(string(answer), maxErrorBytes)); s != "" {
			return code, s
		}
		return code, fmt.Sprintf("HTTP %d %s", code, http.StatusText(code))
	}
}

// describe words an error of the client without the method and URL.
func describe(err error, timeout time.Duration) string {
	var refused *RefusedError
	if errors.As(err, &refused) {
		return refused.Error()
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Sprintf("timed out: no answer within %s", timeout)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return truncate(err.Error(), 500)
}

// truncate cuts s to at most n bytes without splitting a character, and
// replaces invalid UTF-8.
func truncate(s string, n int) string {
	if len(s) > n {
		s = s[:n]
		// Drop the start of a character cut in two.
		for i := 1; i < utf8.UTFMax && len(s) > 0; i++ {
			if r, size := utf8.DecodeLastRuneInString(s); r != utf8.RuneError || size != 1 {
				break
			}
			s = s[:len(s)-1]
		}
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

var (
	defaultClientOnce sync.Once
	defaultHTTP       *http.Client
)

func defaultClient() *http.Client {
	defaultClientOnce.Do(func() { defaultHTTP = Guard{}.Client(DefaultTimeout) })
	return defaultHTTP
}

func (w *Worker) clock() leadcycle.Clock {
	if w.Clock == nil {
		return leadcycle.SystemClock{}
	}
	return w.Clock
}

func (w *Worker) log() *slog.Logger {
	if w.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return w.Log
}

func (w *Worker) interval() time.Duration {
	if w.Interval <= 0 {
		return DefaultInterval
	}
	return w.Interval
}

func (w *Worker) schedule() []time.Duration {
	if w.Schedule == nil {
		return DefaultSchedule
	}
	return w.Schedule
}
