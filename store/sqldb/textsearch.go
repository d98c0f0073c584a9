package sqldb

import (
	"context"
	"fmt"
	"strings"
)

// FindText reports where the database still holds any of the strings:
// every column of every table is read as text (JSON and binary columns
// included) and each hit is given as "table.column: string". It serves to
// check that an erasure left nothing of a person behind, in audits and
// tests; it reads whole tables, so it is slow on a large database.
func (s *Store) FindText(ctx context.Context, needles ...string) ([]string, error) {
	cols, err := s.textColumns(ctx)
	if err != nil {
		return nil, err
	}
	var hits []string
	for _, c := range cols {
		for _, n := range needles {
			if n == "" {
				continue
			}
			var rows int
			err := s.R.QueryRowContext(ctx, s.Q("SELECT COUNT(*) FROM "+quoteIdent(c.table)+" WHERE "+s.containsText(c)), n).Scan(&rows)
			if err != nil {
				return nil, fmt.Errorf("find text in %s.%s: %w", c.table, c.name, err)
			}
			if rows > 0 {
				hits = append(hits, c.table+"."+c.name+": "+n)
			}
		}
	}
	return hits, nil
}

// column is one column of a table, with its declared type.
type column struct{ table, name, typ string }

// textColumns lists every column of every table of the database (of the
// current schema on PostgreSQL).
func (s *Store) textColumns(ctx context.Context) ([]column, error) {
	query := `SELECT m.name, p.name, LOWER(p.type) FROM sqlite_master m JOIN pragma_table_info(m.name) p
		WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, p.cid`
	if s.Dialect.Name == "postgres" {
		query = `SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c
			JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
			WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' ORDER BY c.table_name, c.ordinal_position`
	}
	rows, err := s.R.QueryContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("list columns: %w", err)
	}
	return scanAll(rows, func(r scanner) (column, error) { var c column; return c, r.Scan(&c.table, &c.name, &c.typ) })
}

// containsText returns a condition true when the column holds the string
// given as the one placeholder.
func (s *Store) containsText(c column) string {
	col := quoteIdent(c.name)
	switch {
	case s.Dialect.Name != "postgres":
		return "instr(CAST(" + col + " AS TEXT), ?) > 0"
	case c.typ == "bytea":
		return "position(convert_to(?, 'UTF8') IN " + col + ") > 0"
	default:
		return "strpos(CAST(" + col + " AS TEXT), ?) > 0"
	}
}

// quoteIdent quotes a table or column name read from the catalog.
func quoteIdent(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }
