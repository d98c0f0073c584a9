package sqldb

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/leadcycle/leadcycle"
)

// Times are stored as Unix microseconds in both databases: exact, compact and
// ordered the same way everywhere.
func micros(t time.Time) int64 { return t.UnixMicro() }

func nullMicros(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMicro()
}

func nullID(id *leadcycle.ID) any {
	if id == nil {
		return nil
	}
	return int64(*id)
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("sqldb: marshal %T: %v", v, err)) // values come from JSON; cannot fail
	}
	return string(b)
}

// timeCol scans a non-null microsecond column into a time.Time.
type timeCol struct{ t *time.Time }

func (c timeCol) Scan(src any) error {
	v, ok := src.(int64)
	if !ok {
		return fmt.Errorf("time column: unexpected %T", src)
	}
	*c.t = time.UnixMicro(v).UTC()
	return nil
}

// nullTimeCol scans a nullable microsecond column.
type nullTimeCol struct{ t **time.Time }

func (c nullTimeCol) Scan(src any) error {
	if src == nil {
		*c.t = nil
		return nil
	}
	var t time.Time
	if err := (timeCol{&t}).Scan(src); err != nil {
		return err
	}
	*c.t = &t
	return nil
}

// idCol scans a non-null id column.
type idCol struct{ id *leadcycle.ID }

func (c idCol) Scan(src any) error {
	v, ok := src.(int64)
	if !ok {
		return fmt.Errorf("id column: unexpected %T", src)
	}
	*c.id = leadcycle.ID(v)
	return nil
}

// nullIDCol scans a nullable id column.
type nullIDCol struct{ id **leadcycle.ID }

func (c nullIDCol) Scan(src any) error {
	if src == nil {
		*c.id = nil
		return nil
	}
	var id leadcycle.ID
	if err := (idCol{&id}).Scan(src); err != nil {
		return err
	}
	*c.id = &id
	return nil
}

// jsonCol scans a JSON column into v.
type jsonCol struct{ v any }

func (c jsonCol) Scan(src any) error {
	switch s := src.(type) {
	case string:
		return json.Unmarshal([]byte(s), c.v)
	case []byte:
		return json.Unmarshal(s, c.v)
	case nil:
		return nil
	default:
		return fmt.Errorf("json column: unexpected %T", src)
	}
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(...any) error }

// scanAll reads every row with scan and closes rows. The result is empty,
// not nil, when there are no rows.
func scanAll[T any](rows *sql.Rows, scan func(scanner) (T, error)) ([]T, error) {
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// scanRecord scans a row of "id" followed by t's columns.
func scanRecord[T leadcycle.Record](t *table[T]) func(scanner) (T, error) {
	return func(row scanner) (T, error) {
		var v T
		err := row.Scan(t.dests(&v)...)
		return v, err
	}
}
