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
