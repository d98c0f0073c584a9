package scoring

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/leadcycle/leadcycle"
)

// Worker keeps scores current: it calls ProcessDue in a loop, right away
// while there is work and every Idle otherwise.
type Worker struct {
	Store  leadcycle.ScoringStore
	Logger *slog.Logger
	// Batch is the most leads scored per round (default 500).
	Batch int
	// Idle is the pause when nothing was due (default 50 ms).
	Idle time.Duration
	// Concurrency is the number of loops (default 2): while one writes its
	// batch, another reads the next.
	Concurrency int
}

// Run works until ctx ends. Errors are logged and retried after a pause that
// grows up to 10 seconds.
func (w *Worker) Run(ctx context.Context) {
	n := w.Concurrency
	if n <= 0 {
		n = 2
	}
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() { w.loop(ctx) })
	}
	wg.Wait()
}

func (w *Worker) loop(ctx context.Context) {
	batch, idle := w.Batch, w.Idle
	if batch <= 0 {
		batch = 500
	}
	if idle <= 0 {
		idle = 50 * time.Millisecond
	}
	backoff := time.Duration(0)
	for {
		n, err := w.Store.ProcessDue(ctx, batch)
		pause := time.Duration(0)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			backoff = min(max(2*backoff, 100*time.Millisecond), 10*time.Second)
			pause = backoff
			if w.Logger != nil {
				w.Logger.Error("scoring failed; retrying", "err", err, "retry_in", backoff)
			}
		case n == 0:
			backoff, pause = 0, idle
		default:
			backoff = 0
		}
		if pause > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(pause):
			}
		}
	}
}
