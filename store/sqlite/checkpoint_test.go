package sqlite

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/scoring"
	"github.com/leadcycle/leadcycle/store/storetest"
)

// TestWALStaysBoundedUnderScoringLoad stores interactions from two writers
// while two scorer loops read and write without pause, as under the
// real-time benchmark. The scorer's reads overlap, so a passive checkpoint
// never finds the WAL free to start again; without the restart the WAL
// grows by every frame written.
func TestWALStaysBoundedUnderScoringLoad(t *testing.T) {
	ctx, dir := t.Context(), t.TempDir()
	const restartFrames = 256
	s, err := open(ctx, dir, leadcycle.SystemClock{}, checkpoints{every: 5 * time.Millisecond, restartFrames: restartFrames, restartWait: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	days := 30
	storetest.MustPublishModel(t, ctx, s, &leadcycle.ScoringModel{Name: "Opens", Target: leadcycle.TargetContact, Rules: []leadcycle.ScoringRule{
		{Name: "Opens", Points: 5, Behaviors: []leadcycle.Behavior{{Type: "email_opened", Frequency: leadcycle.FrequencyEachTime, WindowDays: &days}}},
	}})
	var contacts []leadcycle.ID
	for i := range 300 {
		c := storetest.MustCreateContact(t, ctx, s, &leadcycle.Contact{Email: fmt.Sprintf("c%d@example.gal", i)})
		storetest.MustCreateLead(t, ctx, s, &leadcycle.Lead{Topic: "WAL", ContactID: &c.ID})
		contacts = append(contacts, c.ID)
	}

	wal := filepath.Join(dir, FileName+"-wal")
	var largest int64
	watch, stopWatch := context.WithCancel(ctx)
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for watch.Err() == nil {
			if fi, err := os.Stat(wal); err == nil {
				largest = max(largest, fi.Size())
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()
	scoringCtx, stopScoring := context.WithCancel(ctx)
	scored := make(chan struct{})
	go func() {
		defer close(scored)
		(&scoring.Worker{Store: s.Scoring(), Batch: 100, Idle: time.Millisecond, Concurrency: 2}).Run(scoringCtx)
	}()
	var writers sync.WaitGroup
	for w := range 2 {
		writers.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 7))
			for range 200 {
				batch := make([]leadcycle.Interaction, 50)
				for i := range batch {
					batch[i] = leadcycle.Interaction{Type: "email_opened", ContactID: contacts[r.IntN(len(contacts))],
						Properties: map[string]any{"pad": fmt.Sprintf("%0600d", r.Int64())}}
				}
				if err := s.AddInteractions(ctx, batch); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	writers.Wait()
	stopScoring()
	<-scored
	stopWatch()
	<-watched

	var written int64
	if err := s.R.QueryRowContext(ctx, "SELECT SUM(pgsize) FROM dbstat").Scan(&written); err != nil {
		t.Fatal(err)
	}
	// The WAL may pass the threshold by what is written during one pass
	// and the restart's wait; it must not hold what the run wrote.
	const bound = 16 * restartFrames * 4120
	t.Logf("largest WAL %d bytes, database %d bytes", largest, written)
	if largest > bound {
		t.Fatalf("WAL reached %d bytes (bound %d): it was not restarted under load", largest, bound)
	}
}
