package scoring

import (
	"context"
	"sync"
	"testing"
	"time"
)

// overlapCounter is a DueProcessor whose rounds wait until want of them run
// at once (or a deadline passes), recording the most seen together.
type overlapCounter struct {
	mu         sync.Mutex
	now, most  int
	want       int
	allRunning chan struct{}
}

func (o *overlapCounter) ProcessDue(ctx context.Context, _ int) (int, error) {
	o.mu.Lock()
	o.now++
	o.most = max(o.most, o.now)
	if o.now == o.want {
		close(o.allRunning)
	}
	o.mu.Unlock()
	select {
	case <-o.allRunning:
	case <-ctx.Done():
	case <-time.After(2 * time.Second):
	}
	o.mu.Lock()
	o.now--
	o.mu.Unlock()
	return 0, nil
}

func TestWorkerRunsThreeLoopsByDefault(t *testing.T) {
	o := &overlapCounter{want: 3, allRunning: make(chan struct{})}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		(&Worker{Store: o, Idle: time.Millisecond}).Run(ctx)
		close(done)
	}()
	select {
	case <-o.allRunning:
	case <-time.After(10 * time.Second):
	}
	cancel()
	<-done
	if o.most != 3 {
		t.Errorf("at most %d rounds ran at once, want 3", o.most)
	}
}

// batchRecorder is a DueProcessor that records the batch size it is asked
// for and ends the run.
type batchRecorder struct {
	mu     sync.Mutex
	asked  []int
	cancel context.CancelFunc
}

func (b *batchRecorder) ProcessDue(_ context.Context, max int) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.asked = append(b.asked, max)
	b.cancel()
	return 0, nil
}

// sizedRecorder is a batchRecorder whose store suggests a round size.
type sizedRecorder struct {
	*batchRecorder
	size int
}

func (s sizedRecorder) RoundSize() int { return s.size }

func TestWorkerTakesItsRoundSizeFromTheStore(t *testing.T) {
	for _, c := range []struct {
		name        string
		batch, size int
		want        int
	}{
		{"no size anywhere", 0, 0, 500},
		{"the store's", 0, 1000, 1000},
		{"the worker's over the store's", 250, 1000, 250},
	} {
		ctx, cancel := context.WithCancel(t.Context())
		b := &batchRecorder{cancel: cancel}
		var store DueProcessor = b
		if c.size > 0 {
			store = sizedRecorder{b, c.size}
		}
		(&Worker{Store: store, Batch: c.batch, Concurrency: 1}).Run(ctx)
		if len(b.asked) == 0 || b.asked[0] != c.want {
			t.Errorf("%s: rounds asked for %v, want %d", c.name, b.asked, c.want)
		}
	}
}
