package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/leadcycle/leadcycle/store/sqldb"
)

// bulkRowsPerCopy bounds one COPY statement: PostgreSQL queues a foreign key
// check per row and reference until the statement ends, so very long COPYs
// into tables with foreign keys would hold that queue in the server's memory.
const bulkRowsPerCopy = 1_000_000

// BulkInsert loads rows into table with COPY … FROM STDIN (binary): next fills
// row (one value per column, in the order of cols) and returns true, or
// returns false when there are no more rows. row is reused between calls, so
// next must set every element and must not keep it. Rows are streamed to the
// server as they are produced, one COPY per million rows, all in one
// transaction: on error nothing is inserted. It returns the number of rows
// inserted.
//
// next is called from a goroutine of pgx's, one call at a time, and not any
// more once BulkInsert has returned. A panic in next aborts the COPY and is
// re-raised in the caller's goroutine.
//
// BulkInsert runs no validation and takes values as the drivers store them
// (times as Unix microseconds, JSON as text). Ids given explicitly do not move
// the identity sequences: callers that set ids must advance them afterwards.
func BulkInsert(ctx context.Context, db *sqldb.DB, table string, cols []string, next func(row []any) bool) (int, error) {
	if table == "" || len(cols) == 0 {
		return 0, fmt.Errorf("bulk insert: no table or no columns")
	}
	conn, err := db.W.Conn(ctx)
	if err != nil {
		return 0, fmt.Errorf("bulk insert into %s: %w", table, err)
	}
	defer conn.Close()
	total := 0
	var src *rowSource
	err = conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("driver connection is %T, not pgx", dc)
		}
		pc := c.Conn()
		tx, err := pc.Begin(ctx)
		if err != nil {
			return err
		}
		committed := false
		defer func() {
			if !committed {
				_ = tx.Rollback(context.WithoutCancel(ctx))
			}
		}()
		src = &rowSource{next: next, row: make([]any, len(cols))}
		for !src.done {
			src.left = bulkRowsPerCopy
			n, err := tx.CopyFrom(ctx, pgx.Identifier{table}, cols, src)
			if err != nil {
				return err
			}
			total += int(n)
		}
		if err := tx.Commit(ctx); err != nil {
			return err
		}
		committed = true
		return nil
	})
	if src != nil && src.panicked != nil {
		panic(src.panicked)
	}
	if err != nil {
		return 0, fmt.Errorf("bulk insert into %s: %w", table, err)
	}
	return total, nil
}

// rowSource adapts a next function to pgx.CopyFromSource, ending each COPY
// after left rows. pgx encodes each row before asking for the next one, so
// one row buffer is enough.
type rowSource struct {
	next     func(row []any) bool
	row      []any
	left     int
	done     bool
	panicked any
}

func (s *rowSource) Next() (more bool) {
	if s.done || s.left == 0 {
		return false
	}
	defer func() {
		if v := recover(); v != nil {
			s.panicked, s.done, more = v, true, false
		}
	}()
	clear(s.row)
	if !s.next(s.row) {
		s.done = true
		return false
	}
	s.left--
	return true
}

func (s *rowSource) Values() ([]any, error) { return s.row, nil }

// Err makes pgx abort the COPY after a panic in next.
func (s *rowSource) Err() error {
	if s.panicked != nil {
		return errPanicked
	}
	return nil
}

var errPanicked = errors.New("row source panicked")
