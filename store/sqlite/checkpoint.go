package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/leadcycle/leadcycle/store/sqldb"
)

// checkpoints says when the WAL is copied back into the database file.
type checkpoints struct {
	// every is the time between passes.
	every time.Duration
	// restartBytes is the WAL length past which a pass makes the WAL start
	// again from its beginning (its frames times the file's page size).
	restartBytes int64
	// restartWait bounds how long a restart waits for readers of older
	// snapshots while this process's writers wait for it.
	restartWait time.Duration
	// turnWait bounds how long a restart waits for this process's writers
	// to pause: a bulk load holds the writer's connection for a whole
	// table, and a checkpointer waiting behind it would copy nothing until
	// it ends.
	turnWait time.Duration
}

// defaultCheckpoints restarts the WAL at 160 MB: below walSizeLimit
// (256 MB), so that the file is not trimmed and grown
// again, and every frame is written over a page the kernel already caches.
// Measured with bench/scoring at 10,000 interactions/s offered: a WAL
// appended to without end (2.4 GB in 10 s) cost the writer twice the time
// in its commits (a fifth of all CPU went to the kernel zeroing the file's
// new pages).
//
// A pass copies each page once however many commits wrote it since the
// last, so the pages every commit writes (the tails of the tables and
// indexes that grow, the queue, the scoring position) are copied once a
// second rather than four times. Measured at 2,500 interactions/s: 13% fewer
// bytes written per interaction than with passes every 250 ms.
var defaultCheckpoints = checkpoints{every: time.Second, restartBytes: 160 << 20, restartWait: 50 * time.Millisecond, turnWait: 5 * time.Second}

// startCheckpointer copies the WAL into the database file from a
// connection of its own, in the background: the writer never pays for a
// checkpoint inside a commit (SQLite's automatic checkpoints are off), so
// writes keep one core while the copy uses the other.
//
// A passive checkpoint blocks nobody, but it cannot copy frames newer than
// the oldest reader's snapshot, and the WAL starts again from its beginning
// only when no reader uses it. Under a steady load of overlapping reads
// and writes that moment never comes and the WAL grows without end. So a
// pass that finds the WAL longer than restartBytes restarts it (see
// restart). The returned function stops the checkpointer and runs a last
// checkpoint that empties the WAL.
func startCheckpointer(path string, db *sqldb.DB, c checkpoints) (func() error, error) {
	ck, err := openPool(path, writes)
	if err != nil {
		return nil, err
	}
	ck.SetMaxOpenConns(1)
	// A restart pauses the writers; counted in frames, the WAL of a file
	// with 2 KiB pages would restart twice as often as one with 4 KiB.
	var size int64
	if err := ck.QueryRow("PRAGMA page_size").Scan(&size); err != nil {
		ck.Close()
		return nil, fmt.Errorf("page size: %w", err)
	}
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(c.every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				// A failed pass (the database busy, closing) is tried
				// again at the next tick.
				_ = c.pass(ck, db, size)
			}
		}
	}()
	return func() error {
		close(done)
		<-stopped
		_, err := ck.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
		return errors.Join(err, ck.Close())
	}, nil
}

// walState is what PRAGMA wal_checkpoint reports: whether it gave up
// waiting, the frames in the WAL and the frames copied.
type walState struct{ busy, frames, copied int64 }

func walCheckpoint(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, mode string) (walState, error) {
	var w walState
	err := q.QueryRowContext(ctx, "PRAGMA wal_checkpoint("+mode+")").Scan(&w.busy, &w.frames, &w.copied)
	return w, err
}

// pass runs one passive checkpoint, and restarts the WAL when it is long:
// its frames of pageSize bytes add up to restartBytes.
func (c checkpoints) pass(ck *sql.DB, db *sqldb.DB, pageSize int64) error {
	w, err := walCheckpoint(context.Background(), ck, "PASSIVE")
	if err != nil || w.frames*pageSize < c.restartBytes {
		return err
	}
	return c.restart(ck, db)
}

// restart makes the WAL start again from its beginning. It first holds
// back the scorer's reads and copies passively what the readers it waited
// for kept back, while writes go on; then it pauses this process's writes
// and restarts the WAL, which leaves only the frames written meanwhile to
// copy, and waits at most restartWait for any other reader (a long export
// makes the pass give up, rather than stall every writer behind it). When
// the writers do not pause within turnWait (a bulk load), the pass gives
// up and the next one tries again: meanwhile passive passes go on copying,
// and a writer with no reader in its way starts the WAL again itself.
func (c checkpoints) restart(ck *sql.DB, db *sqldb.DB) error {
	ctx := context.Background()
	return db.PauseBackgroundReads(func() error {
		if _, err := walCheckpoint(ctx, ck, "PASSIVE"); err != nil {
			return err
		}
		turn, cancel := context.WithTimeout(ctx, c.turnWait)
		defer cancel()
		return db.PauseWrites(turn, func() error {
			conn, err := ck.Conn(ctx)
			if err != nil {
				return err
			}
			defer conn.Close()
			if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA busy_timeout = %d", c.restartWait.Milliseconds())); err != nil {
				return err
			}
			_, err = walCheckpoint(ctx, conn, "RESTART")
			_, reset := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA busy_timeout = %d", busyTimeout.Milliseconds()))
			return errors.Join(err, reset)
		})
	})
}
