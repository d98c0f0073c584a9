package scoring

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// DueProcessor is a queue of work processed in rounds: the scorer, and the
// evaluation of segments.
type DueProcessor interface {
	ProcessDue(ctx context.Context, max int) (int, error)
}

// RoundSizer is a DueProcessor that knows the round size that suits it; a
// Worker without a Batch of its own asks it.
type RoundSizer interface {
	RoundSize() int
}

// Worker keeps scores (or, with Name "segments" and the segment store,
// segment members) current: it calls ProcessDue in a loop, right away while
// there is work and every Idle otherwise.
type Worker struct {
	Store DueProcessor
	// Name names the work in log messages (default "scoring").
	Name   string
	Logger *slog.Logger
	// Batch is the most leads (or, on SQLite, new interactions) scored per
	// round; by default the store's RoundSize when it has one, else 500.
	Batch int
	// Idle is the pause when nothing was due (default 50 ms).
	Idle time.Duration
	// Concurrency is the number of loops (default 3): while one writes its
	// batch, another reads the next, and a third can read while the second
	// waits for its turn to write (SQLite's rounds commit in the order they
	// took their work). With SQLite's C library the reads run beside the
	// writer on their own threads: at 10,000 interactions/s offered, three
	// loops kept every score current within about a second where two fell
	// seconds behind (bench/README.md, "Eighth round").
	Concurrency int
}

// Run works until ctx ends. Errors are logged and retried after a pause that
// grows up to 10 seconds.
func (w *Worker) Run(ctx context.Context) {
	n := w.Concurrency
	if n <= 0 {
		n = 3
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
		if rs, ok := w.Store.(RoundSizer); ok {
			batch = rs.RoundSize()
		}
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
				name := w.Name
				if name == "" {
					name = "scoring"
				}
				w.Logger.Error(name+" failed; retrying", "err", err, "retry_in", backoff)
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
