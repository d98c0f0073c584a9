package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/leadcycle/leadcycle/store/sqldb"
)

// Bulk loading tunables: rows bound by one INSERT statement and rows committed
// per transaction.
const (
	bulkRowsPerStmt = 100
	bulkRowsPerTx   = 50_000
	maxVariables    = 32_766 // SQLITE_MAX_VARIABLE_NUMBER of SQLite ≥ 3.32
)

// BulkInsert loads rows into table through the single writer connection, one
// transaction per turn to write (see sqldb.DB.WithWriter): next
// fills row (one value per column, in the order of cols) and returns true, or
// returns false when there are no more rows. row is reused, so next must set
// every element and must not keep it. Rows are written with a prepared
// multi-row INSERT (100 rows a statement), committed every 50,000 rows; rows
// committed before an error stay in the database. It returns the number of
// rows inserted.
//
// next runs on a goroutine of its own, one call at a time, so that producing
// rows overlaps with SQLite writing the previous ones; it is not called any
// more once BulkInsert has returned. A panic in next is re-raised in the
// caller's goroutine after the open transaction has been rolled back.
//
// BulkInsert runs no validation and takes values as the drivers store them
// (times as Unix microseconds, JSON as text); it is meant for generators and
// importers that produce valid rows themselves.
func BulkInsert(ctx context.Context, db *sqldb.DB, table string, cols []string, next func(row []any) bool) (int, error) {
	return bulkInsert(ctx, db, table, cols, next, bulkRowsPerTx)
}

// bulkInsert is BulkInsert committing every rowsPerTx rows.
func bulkInsert(ctx context.Context, db *sqldb.DB, table string, cols []string, next func(row []any) bool, rowsPerTx int) (int, error) {
	if !validIdent(table) || len(cols) == 0 {
		return 0, fmt.Errorf("bulk insert: bad table %q or no columns", table)
	}
	for _, c := range cols {
		if !validIdent(c) {
			return 0, fmt.Errorf("bulk insert into %s: bad column %q", table, c)
		}
	}
	nc := len(cols)
	per := min(bulkRowsPerStmt, maxVariables/nc)
	perTx := max(per, rowsPerTx/per*per) // a multiple of per: only the last statement is short

	p := produce(next, nc, per)
	defer p.stop() // re-raises a panic of next

	total := 0
	// batch writes up to perTx rows in one transaction and reports whether
	// the rows ran out. The deferred rollback is a no-op after the commit.
	batch := func(conn *sql.Conn) (n int, last bool, err error) {
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return 0, false, fmt.Errorf("begin: %w", err)
		}
		defer tx.Rollback()
		var stmt *sql.Stmt
		for n < perTx {
			b, ok := <-p.full
			if !ok {
				if p.panicked != nil {
					return 0, false, errPanicked // roll back; stop re-panics
				}
				last = true
				break
			}
			if b.rows == per {
				if stmt == nil {
					if stmt, err = tx.PrepareContext(ctx, insertSQL(table, cols, per)); err != nil {
						return 0, false, err
					}
					defer stmt.Close()
				}
				_, err = stmt.ExecContext(ctx, b.args...)
			} else {
				_, err = tx.ExecContext(ctx, insertSQL(table, cols, b.rows), b.args[:b.rows*nc]...)
			}
			p.free <- b.args
			if err != nil {
				return 0, false, err
			}
			n += b.rows
		}
		if n > 0 {
			if err := tx.Commit(); err != nil {
				return 0, false, fmt.Errorf("commit: %w", err)
			}
		}
		return n, last, nil
	}
	for {
		// Each transaction takes its turn: other writers, and the
		// checkpointer restarting the WAL, come in between.
		var n int
		var last bool
		err := db.WithWriter(ctx, func(conn *sql.Conn) error {
			var err error
			n, last, err = batch(conn)
			return err
		})
		if err != nil {
			return total, fmt.Errorf("bulk insert into %s: %w", table, err)
		}
		total += n
		if last {
			break
		}
	}
	return total, nil
}

var errPanicked = errors.New("row source panicked")

// producer calls next on its own goroutine and hands over batches of rows;
// three buffers circulate between it and the writer.
type producer struct {
	full     chan rows
	free     chan []any
	quit     chan struct{}
	panicked any
}

type rows struct {
	args []any
	rows int
}

func produce(next func(row []any) bool, nc, per int) *producer {
	p := &producer{full: make(chan rows, 2), free: make(chan []any, 3), quit: make(chan struct{})}
	for range 3 {
		p.free <- make([]any, per*nc)
	}
	go func() {
		defer close(p.full)
		defer func() { p.panicked = recover() }()
		for {
			var buf []any
			select {
			case buf = <-p.free:
			case <-p.quit:
				return
			}
			k := 0
			for k < per {
				row := buf[k*nc : (k+1)*nc]
				clear(row)
				if !next(row) {
					break
				}
				k++
			}
			if k > 0 {
				select {
				case p.full <- rows{buf, k}:
				case <-p.quit:
					return
				}
			}
			if k < per {
				return
			}
		}
	}()
	return p
}

// stop ends the producer if it is still running, waits for it and re-raises
// its panic, if any.
func (p *producer) stop() {
	close(p.quit)
	for b := range p.full {
		p.free <- b.args
	}
	if p.panicked != nil {
		panic(p.panicked)
	}
}

// insertSQL returns "INSERT INTO table (cols) VALUES (?, …), …" for n rows.
func insertSQL(table string, cols []string, n int) string {
	one := "(" + strings.TrimSuffix(strings.Repeat("?,", len(cols)), ",") + ")"
	var b strings.Builder
	b.Grow(len(table) + 32 + 8*len(cols) + n*(len(one)+1))
	b.WriteString("INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES ")
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(one)
	}
	return b.String()
}

// validIdent accepts the plain lower-case identifiers of leadcycle's schema, so
// that names can be written into SQL unquoted.
func validIdent(s string) bool {
	if s == "" || len(s) > 63 {
		return false
	}
	for i, r := range s {
		if !(r >= 'a' && r <= 'z' || r == '_' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}
