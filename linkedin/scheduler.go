package linkedin

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/leadcycle/leadcycle"
)

// Scheduler syncs every enabled connection on its interval. Each node of a
// cluster may run one: the database lease makes sure a connection is synced
// by one node at a time, and the interval is measured from the last sync
// wherever it ran.
type Scheduler struct {
	svc *Service
	// Tick is how often due connections are looked for (30 s).
	Tick time.Duration
	// MaxConcurrent bounds the syncs this node runs at once (4).
	MaxConcurrent int
	Logger        *slog.Logger
}

// NewScheduler returns a scheduler for the service's connections.
func NewScheduler(svc *Service) *Scheduler {
	return &Scheduler{svc: svc, Tick: 30 * time.Second, MaxConcurrent: 4, Logger: svc.opts.Logger}
}

// Run syncs due connections until ctx is done, then waits for the syncs in
// progress to stop (they see the cancelled context and record themselves as
// interrupted).
func (sc *Scheduler) Run(ctx context.Context) {
	if !sc.svc.CanSync() {
		sc.Logger.Warn("LinkedIn scheduler not started: this server has no lead capture")
		return
	}
	tick := sc.Tick
	if tick <= 0 {
		tick = 30 * time.Second
	}
	slots := make(chan struct{}, max(sc.MaxConcurrent, 1))
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		running = map[leadcycle.ID]bool{}
	)
	check := func() {
		conns, err := sc.svc.store.Connections(ctx)
		if err != nil {
			if ctx.Err() == nil {
				sc.Logger.Warn("LinkedIn scheduler: list connections", slog.String("error", err.Error()))
			}
			return
		}
		now := sc.svc.opts.Clock.Now()
		for _, c := range conns {
			mu.Lock()
			busy := running[c.ID]
			mu.Unlock()
			if busy || !c.Due(now) {
				continue
			}
			select {
			case slots <- struct{}{}:
			default:
				return // every slot is busy; the next tick tries again
			}
			mu.Lock()
			running[c.ID] = true
			mu.Unlock()
			wg.Go(func() {
				defer func() {
					<-slots
					mu.Lock()
					delete(running, c.ID)
					mu.Unlock()
				}()
				// The list may predate the end of the previous sync of this
				// connection: read it again and sync only if it is still due.
				fresh, err := sc.svc.store.Connection(ctx, c.ID)
				if err != nil || !fresh.Due(sc.svc.opts.Clock.Now()) {
					return
				}
				_, err = sc.svc.Sync(ctx, c.ID, TriggerSchedule)
				switch code := leadcycle.ErrorCode(err); {
				case err == nil, code == leadcycle.EConflict, code == leadcycle.ENotFound:
					// done, another node has it, or it was deleted meanwhile
				default:
					sc.Logger.Warn("LinkedIn scheduler: sync", slog.String("connection", c.ID.String()), slog.String("error", err.Error()))
				}
			})
		}
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	check()
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			return
		case <-t.C:
			check()
		}
	}
}
