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
	"github.com/leadcycle/leadcycle/store/sqldb"
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
	s := openFastCheckpoints(t, dir, restartFrames, time.Second)
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
	if err := s.R.QueryRowContext(ctx, "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()").Scan(&written); err != nil {
		t.Fatal(err)
	}
	// The WAL may pass the threshold by what is written during one pass
	// and the restart's wait; it must not hold what the run wrote.
	const bound = 16 * restartFrames * (pageSize + 24) // a frame is a page and its header
	t.Logf("largest WAL %d bytes, database %d bytes", largest, written)
	if largest > bound {
		t.Fatalf("WAL reached %d bytes (bound %d): it was not restarted under load", largest, bound)
	}
}

// TestWALStaysBoundedDuringBulkLoad loads a table with BulkInsert's
// machinery in many transactions: each takes its turn to write, so the
// checkpointer's restarts come in between. A load that held the writer's
// connection from its first transaction to its last kept every restart
// out, and the WAL held everything it wrote (14 GB while generating 10M
// interactions).
func TestWALStaysBoundedDuringBulkLoad(t *testing.T) {
	ctx, dir := t.Context(), t.TempDir()
	const restartFrames = 256
	s := openFastCheckpoints(t, dir, restartFrames, time.Second)
	defer s.Close()
	if _, err := s.W.ExecContext(ctx, "CREATE TABLE load (pad TEXT)"); err != nil {
		t.Fatal(err)
	}
	wal := filepath.Join(dir, FileName+"-wal")
	var largest int64
	pad := fmt.Sprintf("%03000d", 7)
	const rows = 8000
	left := rows
	n, err := bulkInsert(ctx, s.DB, "load", []string{"pad"}, func(row []any) bool {
		if left%100 == 0 {
			// A slower source: the checkpointer gets its passes. At 1 ms the
			// load wrote its 24 MB in ~0.2 s, and once, with another test
			// binary busy on both cores, 22.8 MB went by between two restarts.
			time.Sleep(3 * time.Millisecond)
			if fi, err := os.Stat(wal); err == nil {
				largest = max(largest, fi.Size())
			}
		}
		if left == 0 {
			return false
		}
		left--
		row[0] = pad
		return true
	}, 200)
	if err != nil || n != rows {
		t.Fatalf("bulk insert: %d rows, %v; want %d", n, err, rows)
	}
	const bound = 16 * restartFrames * (pageSize + 24) // a frame is a page and its header
	t.Logf("largest WAL %d bytes", largest)
	if largest > bound {
		t.Fatalf("WAL reached %d bytes (bound %d) during a bulk load: no restart came in between its transactions", largest, bound)
	}
}

// TestCheckpointsGoOnWhileTheWriterIsHeld holds the writer's connection and
// commits on it, as a long bulk transaction would: the restart cannot take
// the writers' turn, gives up after turnWait, and the passive passes go on
// copying the WAL into the database file. A restart that waited for the
// turn stopped every pass until the writer was let go.
func TestCheckpointsGoOnWhileTheWriterIsHeld(t *testing.T) {
	ctx, dir := t.Context(), t.TempDir()
	s := openFastCheckpoints(t, dir, 256, 20*time.Millisecond)
	defer s.Close()
	path := filepath.Join(dir, FileName)
	conn, err := s.W.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "CREATE TABLE load (pad TEXT)"); err != nil {
		t.Fatal(err)
	}
	size := func() int64 {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	before := size()
	pad := fmt.Sprintf("%03000d", 7)
	for i := range 2000 {
		if _, err := conn.ExecContext(ctx, "INSERT INTO load (pad) VALUES (?)", pad); err != nil {
			t.Fatal(err)
		}
		if i%100 == 0 {
			time.Sleep(10 * time.Millisecond)
		}
	}
	time.Sleep(100 * time.Millisecond)
	// 2,000 rows of 3 KB take a page each: most must be in the file.
	if grown := size() - before; grown < 1000*4096 {
		t.Errorf("database file grew %d bytes while the writer was held, want the passes to have copied most of 2,000 pages", grown)
	}
}

// openFastCheckpoints opens a store in dir whose checkpointer passes every
// 5 ms and restarts the WAL past restartFrames, waiting turnWait for the
// writers.
func openFastCheckpoints(t *testing.T, dir string, restartFrames int64, turnWait time.Duration) *sqldb.Store {
	t.Helper()
	s, err := open(t.Context(), dir, leadcycle.SystemClock{}, checkpoints{every: 5 * time.Millisecond, restartBytes: restartFrames * pageSize, restartWait: 50 * time.Millisecond, turnWait: turnWait})
	if err != nil {
		t.Fatal(err)
	}
	return s
}
