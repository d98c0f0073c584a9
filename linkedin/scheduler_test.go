package linkedin_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/linkedin"
	"github.com/leadcycle/leadcycle/linkedin/linkedintest"
)

// waitFor polls cond until it holds; the bound is generous because the
// package's tests may share the machine with a compiler.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestSchedulerSyncsDueConnections(t *testing.T) {
	h := newHarness(t)
	h.addLeads(3)
	every := h.connection(func(c *linkedin.Connection, _ *linkedin.Secrets) { c.IntervalSeconds = 60 })
	hourly := h.connection(func(c *linkedin.Connection, _ *linkedin.Secrets) { c.Name, c.IntervalSeconds = "hourly", 3600 })
	disabled := h.connection(func(c *linkedin.Connection, _ *linkedin.Secrets) { c.Name, c.Enabled = "off", false })
	noToken := h.connection(func(c *linkedin.Connection, s *linkedin.Secrets) { c.Name, s.AccessToken = "no token", "" })

	sc := linkedin.NewScheduler(h.svc)
	sc.Tick = 5 * time.Millisecond
	ctx, cancel := context.WithCancel(h.ctx)
	done := make(chan struct{})
	go func() { sc.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	runs := func(id leadcycle.ID) int {
		rs, err := h.svc.Runs(h.ctx, id, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			if r.Trigger != linkedin.TriggerSchedule {
				t.Errorf("run %+v", r)
			}
		}
		return len(rs)
	}
	settled := func(id leadcycle.ID, n int) func() bool {
		return func() bool {
			rs, _ := h.svc.Runs(h.ctx, id, 100)
			return len(rs) == n && rs[0].Status != linkedin.RunRunning
		}
	}
	waitFor(t, "the first syncs", func() bool { return settled(every.ID, 1)() && settled(hourly.ID, 1)() })
	time.Sleep(50 * time.Millisecond) // ten more ticks: nothing is due yet
	if runs(every.ID) != 1 || runs(hourly.ID) != 1 || runs(disabled.ID) != 0 || runs(noToken.ID) != 0 {
		t.Fatalf("runs before the interval: %d %d %d %d", runs(every.ID), runs(hourly.ID), runs(disabled.ID), runs(noToken.ID))
	}
	// A minute later only the one-minute connection is due.
	h.clock.Advance(time.Minute)
	waitFor(t, "the second sync", settled(every.ID, 2))
	time.Sleep(50 * time.Millisecond)
	if runs(every.ID) != 2 || runs(hourly.ID) != 1 {
		t.Fatalf("runs after a minute: %d %d", runs(every.ID), runs(hourly.ID))
	}
	// Both connections read the same account: each asks once per response,
	// and the capturer records each response once.
	if h.cap.Calls() != 6 || h.cap.InteractionCount() != 3 {
		t.Errorf("%d captures and %d interactions, want 6 and 3", h.cap.Calls(), h.cap.InteractionCount())
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the scheduler did not stop when its context was cancelled")
	}
}

// TestSchedulersOnTwoNodesNeverOverlap runs two schedulers (two nodes) on
// one database, with a LinkedIn slow enough that syncs overlap in time: no
// connection is ever synced by both at once.
func TestSchedulersOnTwoNodesNeverOverlap(t *testing.T) {
	h := newHarness(t)
	h.addLeads(30)
	var ids []leadcycle.ID
	for i := range 3 {
		c := h.connection(func(c *linkedin.Connection, _ *linkedin.Secrets) { c.Name, c.IntervalSeconds = fmt.Sprint("c", i), 60 })
		ids = append(ids, c.ID)
	}
	var mu sync.Mutex
	inFlight := map[string]int{} // connection id → captures in progress
	overlaps := 0
	slow := &countingCapturer{Capturer: h.cap, before: func(in leadcycle.CaptureInput) {
		conn := in.Interaction.Properties["connection_id"].(string)
		mu.Lock()
		inFlight[conn]++
		if inFlight[conn] > 1 {
			overlaps++
		}
		mu.Unlock()
		time.Sleep(time.Millisecond)
	}, after: func(in leadcycle.CaptureInput) {
		mu.Lock()
		inFlight[in.Interaction.Properties["connection_id"].(string)]--
		mu.Unlock()
	}}
	ctx, cancel := context.WithCancel(h.ctx)
	var stopped atomic.Int64
	for range 2 {
		svc := linkedin.NewService(h.ls, slow, linkedin.Options{Clock: h.clock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), PageSize: 5})
		sc := linkedin.NewScheduler(svc)
		sc.Tick = time.Millisecond
		go func() { sc.Run(ctx); stopped.Add(1) }()
	}
	synced := func(want int) func() bool {
		return func() bool {
			for _, id := range ids {
				rs, _ := h.svc.Runs(h.ctx, id, 200)
				if len(rs) < want || rs[0].Status == linkedin.RunRunning {
					return false
				}
			}
			return true
		}
	}
	for i := range 5 {
		waitFor(t, "all connections synced", synced(i+1))
		h.clock.Advance(time.Minute)
	}
	// The last minute's syncs finish before the schedulers stop, so no run
	// is cut short by the cancellation.
	waitFor(t, "the last syncs", synced(6))
	cancel()
	waitFor(t, "both schedulers to stop", func() bool { return stopped.Load() == 2 })
	// Per connection, runs never overlap: each run starts after the previous ended.
	for _, id := range ids {
		rs, _ := h.svc.Runs(h.ctx, id, 200)
		for _, r := range rs {
			if r.Status != linkedin.RunSucceeded {
				t.Errorf("connection %s run %s: %s %s", id, r.ID, r.Status, r.Error)
			}
		}
	}
	if overlaps != 0 {
		t.Errorf("%d captures ran while another sync of the same connection was capturing", overlaps)
	}
	counts := map[string]int{}
	for _, in := range h.cap.Inputs {
		counts[in.Interaction.Properties["connection_id"].(string)+"/"+in.ExternalID]++
	}
	for key, n := range counts {
		if n != 1 {
			t.Errorf("response %s captured %d times", key, n)
		}
	}
	if len(counts) != 90 {
		t.Errorf("%d (connection, response) captures, want 3 × 30", len(counts))
	}
}

type countingCapturer struct {
	*linkedintest.Capturer
	before, after func(leadcycle.CaptureInput)
}

func (c *countingCapturer) Capture(ctx context.Context, in leadcycle.CaptureInput) (leadcycle.CaptureResult, error) {
	c.before(in)
	defer c.after(in)
	return c.Capturer.Capture(ctx, in)
}
