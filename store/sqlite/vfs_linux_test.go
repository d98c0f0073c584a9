//go:build cgo && linux

package sqlite_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/store/sqlite"
	"github.com/leadcycle/leadcycle/store/storetest"
)

// The shim VFS (vfs_linux.c) buffers WAL frames and serves reads from a
// shared mapping. These tests check that it does, and that what SQLite
// promises still holds: a commit is in the file when it returns, a rollback
// never reaches a reader, and a killed process loses no acknowledged commit.

const scratchTable = "CREATE TABLE IF NOT EXISTS vfs_scratch (batch INTEGER NOT NULL, n INTEGER NOT NULL, pad BLOB NOT NULL, PRIMARY KEY (batch, n))"

// insertBatch writes rows rows of size bytes each, as batch, in one
// transaction of db, and commits it unless rollback is set.
func insertBatch(ctx context.Context, db *sql.DB, batch, rows, size int, rollback bool) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	pad := make([]byte, size)
	for n := range rows {
		rand.Read(pad)
		if _, err := tx.ExecContext(ctx, "INSERT INTO vfs_scratch (batch, n, pad) VALUES (?, ?, ?)", batch, n, pad); err != nil {
			return err
		}
	}
	if rollback {
		return tx.Rollback()
	}
	return tx.Commit()
}

func mustExec(t *testing.T, db *sql.DB, query string) {
	t.Helper()
	if _, err := db.ExecContext(t.Context(), query); err != nil {
		t.Fatal(err)
	}
}

func mustCount(t *testing.T, db *sql.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(t.Context(), query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func mustBeIntact(t *testing.T, db *sql.DB) {
	t.Helper()
	var v string
	if err := db.QueryRowContext(t.Context(), "PRAGMA integrity_check").Scan(&v); err != nil || v != "ok" {
		t.Fatalf("integrity_check = %q, %v", v, err)
	}
}

func TestShimBuffersTheWALAndReadsItsMapping(t *testing.T) {
	if !sqlite.SharedMapping {
		t.Fatal("a cgo build on Linux does not use the shim VFS")
	}
	s := mustOpen(t, t.TempDir(), leadcycle.NewFixedClock(storetest.Epoch))
	defer s.Close()
	mustExec(t, s.W, scratchTable)
	before := sqlite.VFSStats()
	const commits = 40
	for b := range commits {
		if err := insertBatch(t.Context(), s.W, b, 50, 100, false); err != nil {
			t.Fatal(err)
		}
	}
	written := sqlite.VFSStats()
	flushes, buffered := written.WALFlushes-before.WALFlushes, written.WALBuffered-before.WALBuffered
	// Each commit writes a few frames, two writes each, and one flush.
	if flushes < commits || flushes > 2*commits || buffered < 4*flushes {
		t.Errorf("%d commits: %d WAL flushes of %d buffered writes", commits, flushes, buffered)
	}
	for _, db := range []*sql.DB{s.R, s.P} {
		if n := mustCount(t, db, "SELECT count(*) FROM vfs_scratch"); n != commits*50 {
			t.Errorf("a reader sees %d rows, want %d", n, commits*50)
		}
	}
	if reads := sqlite.VFSStats().MappedReads - written.MappedReads; reads == 0 {
		t.Error("no read was served from the shared mapping")
	}
}

func TestRolledBackFramesNeverReachReaders(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir, leadcycle.NewFixedClock(storetest.Epoch))
	mustExec(t, s.W, scratchTable)
	// 3 MB: more than the shim buffers, so that part of it is written
	// before the rollback.
	if err := insertBatch(t.Context(), s.W, 1, 3000, 1000, true); err != nil {
		t.Fatal(err)
	}
	if err := insertBatch(t.Context(), s.W, 2, 10, 100, false); err != nil {
		t.Fatal(err)
	}
	if err := insertBatch(t.Context(), s.W, 3, 3000, 1000, true); err != nil {
		t.Fatal(err)
	}
	for _, db := range []*sql.DB{s.W, s.R, s.P} {
		if n := mustCount(t, db, "SELECT count(*) FROM vfs_scratch"); n != 10 {
			t.Errorf("%d rows after two rollbacks, want 10", n)
		}
		mustBeIntact(t, db)
	}
	s.Close()
	// The next process recovers the WAL from the file.
	s = mustOpen(t, dir, leadcycle.NewFixedClock(storetest.Epoch))
	defer s.Close()
	if n := mustCount(t, s.R, "SELECT count(*) FROM vfs_scratch WHERE batch = 2"); n != 10 {
		t.Errorf("%d rows after reopening, want 10", n)
	}
	mustBeIntact(t, s.R)
}

// TestCommittedTransactionsSurviveAKill kills a process writing
// transactions of every size (some rolled back) three times, and checks
// after each that the database is intact and holds every transaction the
// process reported committed.
func TestCommittedTransactionsSurviveAKill(t *testing.T) {
	if dir := os.Getenv("LEADCYCLE_VFS_KILL_DIR"); dir != "" {
		writeUntilKilled(t, dir)
		return
	}
	dir := t.TempDir()
	committed := 0
	for round := range 3 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCommittedTransactionsSurviveAKill$")
		cmd.Env = append(os.Environ(), "LEADCYCLE_VFS_KILL_DIR="+dir)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := bufio.NewScanner(out)
		seen := 0
		for seen < 60+round*20 && lines.Scan() {
			b, err := strconv.Atoi(lines.Text())
			if err != nil {
				t.Logf("round %d, writer: %s", round, lines.Text())
				continue
			}
			committed, seen = b, seen+1
		}
		cmd.Process.Kill()
		cmd.Wait()
		if seen == 0 {
			t.Fatalf("round %d: the writer reported no commit", round)
		}
		s := mustOpen(t, dir, leadcycle.NewFixedClock(storetest.Epoch))
		mustBeIntact(t, s.R)
		want := committed - committed/7 // every seventh rolled back
		if got := mustCount(t, s.R, "SELECT count(DISTINCT batch) FROM vfs_scratch WHERE batch <= ?", committed); got != want {
			t.Errorf("round %d: %d of the %d committed transactions there", round, got, want)
		}
		if n := mustCount(t, s.R, "SELECT count(*) FROM vfs_scratch WHERE batch % 7 = 0"); n != 0 {
			t.Errorf("round %d: %d rows of rolled-back transactions", round, n)
		}
		s.Close()
	}
}

// writeUntilKilled writes numbered transactions after the last one
// stored, and prints each number once committed. Every seventh rolls back;
// every fifth is larger than the shim's buffer.
func writeUntilKilled(t *testing.T, dir string) {
	s := mustOpen(t, dir, leadcycle.NewFixedClock(storetest.Epoch))
	mustExec(t, s.W, scratchTable)
	first := mustCount(t, s.W, "SELECT COALESCE(MAX(batch), 0) + 1 FROM vfs_scratch")
	deadline := time.Now().Add(time.Minute)
	for b := first; time.Now().Before(deadline); b++ {
		rows := 20
		if b%5 == 0 {
			rows = 1500
		}
		rollback := b%7 == 0
		if err := insertBatch(t.Context(), s.W, b, rows, 1000, rollback); err != nil {
			t.Fatal(err)
		}
		if !rollback {
			fmt.Println(b)
		}
	}
}
