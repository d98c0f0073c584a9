package sqldb

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/leadcycle/leadcycle"
)

// ref is a reference from a record to another table, checked on write.
type ref struct {
	field string
	table string
	id    *leadcycle.ID
}

// foreignKeyed lists the tables that every reference to is also a foreign
// key in the schema, so the database refuses a dangling one anyway.
var foreignKeyed = map[string]bool{"contacts": true, "accounts": true, "leads": true}

type trustedRefsKey struct{}

// withTrustedRefs marks writes whose references to foreign-keyed tables were
// read in the same transaction (a capture's own contact, lead and account):
// the per-field existence checks are skipped, the foreign keys remain.
func withTrustedRefs(ctx context.Context) context.Context {
	return context.WithValue(ctx, trustedRefsKey{}, true)
}

func refsTrusted(ctx context.Context) bool { return ctx.Value(trustedRefsKey{}) != nil }

// table maps one record type to its SQL table.
type table[T leadcycle.Record] struct {
	name       string // SQL table
	collection string // key of leadcycle.ListSpecs
	cols       []string
	values     func(*T) []any // values of cols, in order
	dests      func(*T) []any // scan destinations for id followed by cols
	id         func(*T) *leadcycle.ID
	// prepare normalises, stamps and validates a record about to be written.
	prepare func(v *T, now time.Time, create bool) error
	refs    func(*T) []ref
	// customEntity names the entity whose custom field schema applies, if any.
	customEntity string
	custom       func(*T) leadcycle.Custom
	// nullableSorts are sort columns that may be NULL; they sort last.
	nullableSorts []string

	// validate checks a prepared record with access to the transaction (for
	// checks that need other tables, such as the custom field schema).
	validate     func(ctx context.Context, db *DB, tx *sql.Tx, v *T) error
	beforeInsert func(ctx context.Context, db *DB, tx *sql.Tx, v *T) error
	beforeUpdate func(old, v *T) error
	beforeDelete func(ctx context.Context, db *DB, tx *sql.Tx, v *T) error
	// clone copies a record deeply, for records whose update checks
	// compare slices the update function may change in place.
	clone func(*T) T
	// beforeWrite runs in the transaction just before an insert or an
	// update, after validation (old is nil on insert).
	beforeWrite func(ctx context.Context, db *DB, tx *sql.Tx, old, v *T) error
	// afterWrite runs in the transaction after an insert or update (match
	// keys are kept here); afterDelete after a delete.
	afterWrite  func(ctx context.Context, db *DB, tx *sql.Tx, old, v *T) error // old is nil on insert
	afterDelete func(ctx context.Context, db *DB, tx *sql.Tx, id leadcycle.ID) error
	// load fills derived, read-only fields (a lead's scores) of records read
	// by Get and List.
	load func(ctx context.Context, db *DB, q querier, items []*T) error
}

// repo implements leadcycle.Repo for one table.
type repo[T leadcycle.Record] struct {
	db *DB
	t  *table[T]

	insertSQL, selectSQL, updateSQL string
}

func newRepo[T leadcycle.Record](db *DB, t *table[T]) *repo[T] {
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(t.cols)), ", ")
	sets := make([]string, len(t.cols))
	for i, c := range t.cols {
		sets[i] = c + " = ?"
	}
	return &repo[T]{
		db:        db,
		t:         t,
		insertSQL: db.Q(fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s) RETURNING id", t.name, strings.Join(t.cols, ", "), marks)),
		selectSQL: fmt.Sprintf("SELECT id, %s FROM %s", strings.Join(t.cols, ", "), t.name),
		updateSQL: db.Q(fmt.Sprintf("UPDATE %s SET %s WHERE id = ?", t.name, strings.Join(sets, ", "))),
	}
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func (r *repo[T]) notFound(id leadcycle.ID) error {
	return leadcycle.Errorf(leadcycle.ENotFound, "%s %s not found", strings.TrimSuffix(r.t.collection, "s"), id)
}

func (r *repo[T]) get(ctx context.Context, q querier, id leadcycle.ID, lock bool) (*T, error) {
	return getRow(ctx, r.db, q, r.t, id, lock)
}

// getRow reads one record of a table (locked for change when lock is set),
// or an ENotFound error; hooks, which have no repo, read through it too.
func getRow[T leadcycle.Record](ctx context.Context, db *DB, q querier, t *table[T], id leadcycle.ID, lock bool) (*T, error) {
	query := "SELECT id, " + strings.Join(t.cols, ", ") + " FROM " + t.name + " WHERE id = ?"
	if lock {
		query += db.Dialect.ForUpdate
	}
	v := new(T)
	err := db.QueryRowQ(ctx, q, query, int64(id)).Scan(t.dests(v)...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, leadcycle.Errorf(leadcycle.ENotFound, "%s %s not found", strings.TrimSuffix(t.collection, "s"), id)
	}
	if err != nil {
		return nil, fmt.Errorf("get %s %d: %w", t.name, id, err)
	}
	return v, nil
}

// Get implements leadcycle.Repo.
func (r *repo[T]) Get(ctx context.Context, id leadcycle.ID) (*T, error) {
	v, err := r.get(ctx, r.db.R, id, false)
	if err != nil || r.t.load == nil {
		return v, err
	}
	return v, r.t.load(ctx, r.db, r.db.R, []*T{v})
}

// check validates custom values against the schema and that every reference
// points at an existing record.
func (r *repo[T]) check(ctx context.Context, tx *sql.Tx, v *T) error {
	if r.t.customEntity != "" {
		schema, err := loadSchema(ctx, r.db, tx, r.t.customEntity)
		if err != nil {
			return err
		}
		if err := schema.ValidateCustom(r.t.custom(v)); err != nil {
			return err
		}
	}
	if r.t.refs == nil {
		return nil
	}
	trusted := refsTrusted(ctx)
	for _, f := range r.t.refs(v) {
		if f.id == nil || (trusted && foreignKeyed[f.table]) {
			continue
		}
		var one int
		err := r.db.QueryRowQ(ctx, tx, "SELECT 1 FROM "+f.table+" WHERE id = ?", int64(*f.id)).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return leadcycle.FieldErrorf(leadcycle.EInvalid, f.field, "%s %s does not exist", strings.TrimSuffix(f.table, "s"), *f.id)
		}
		if err != nil {
			return fmt.Errorf("check %s: %w", f.field, err)
		}
	}
	return nil
}

// Create implements leadcycle.Repo.
func (r *repo[T]) Create(ctx context.Context, v *T) error {
	return r.db.InTx(ctx, func(tx *sql.Tx) error { return r.createTx(ctx, tx, v) })
}

// createTx creates v inside a caller's write transaction.
func (r *repo[T]) createTx(ctx context.Context, tx *sql.Tx, v *T) error {
	if err := r.t.prepare(v, r.db.Clock.Now(), true); err != nil {
		return err
	}
	if err := r.check(ctx, tx, v); err != nil {
		return err
	}
	if r.t.validate != nil {
		if err := r.t.validate(ctx, r.db, tx, v); err != nil {
			return err
		}
	}
	if r.t.beforeInsert != nil {
		if err := r.t.beforeInsert(ctx, r.db, tx, v); err != nil {
			return err
		}
	}
	if r.t.beforeWrite != nil {
		if err := r.t.beforeWrite(ctx, r.db, tx, nil, v); err != nil {
			return err
		}
	}
	var id int64
	if err := r.db.QueryRowQ(ctx, tx, r.insertSQL, r.t.values(v)...).Scan(&id); err != nil {
		return r.writeErr(err)
	}
	*r.t.id(v) = leadcycle.ID(id)
	if r.t.afterWrite != nil {
		return r.t.afterWrite(ctx, r.db, tx, nil, v)
	}
	return nil
}

func (r *repo[T]) writeErr(err error) error {
	if r.db.Dialect.IsUniqueViolation(err) {
		return leadcycle.Errorf(leadcycle.EConflict, "a %s with these values already exists", strings.TrimSuffix(r.t.collection, "s"))
	}
	return fmt.Errorf("write %s: %w", r.t.name, err)
}

// Update implements leadcycle.Repo.
func (r *repo[T]) Update(ctx context.Context, id leadcycle.ID, fn func(*T) error) (*T, error) {
	var out *T
	err := r.db.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = r.updateTx(ctx, tx, id, fn)
		return err
	})
	return out, err
}

// updateTx updates a record inside a caller's write transaction.
func (r *repo[T]) updateTx(ctx context.Context, tx *sql.Tx, id leadcycle.ID, fn func(*T) error) (*T, error) {
	cur, err := r.get(ctx, tx, id, true)
	if err != nil {
		return nil, err
	}
	old := *cur
	if r.t.clone != nil {
		old = r.t.clone(cur)
	}
	if err := fn(cur); err != nil {
		return nil, err
	}
	*r.t.id(cur) = id
	if err := r.t.prepare(cur, r.db.Clock.Now(), false); err != nil {
		return nil, err
	}
	if r.t.beforeUpdate != nil {
		if err := r.t.beforeUpdate(&old, cur); err != nil {
			return nil, err
		}
	}
	if err := r.check(ctx, tx, cur); err != nil {
		return nil, err
	}
	if r.t.validate != nil {
		if err := r.t.validate(ctx, r.db, tx, cur); err != nil {
			return nil, err
		}
	}
	if r.t.beforeWrite != nil {
		if err := r.t.beforeWrite(ctx, r.db, tx, &old, cur); err != nil {
			return nil, err
		}
	}
	if _, err := r.db.ExecQ(ctx, tx, r.updateSQL, append(r.t.values(cur), int64(id))...); err != nil {
		return nil, r.writeErr(err)
	}
	if r.t.afterWrite != nil {
		if err := r.t.afterWrite(ctx, r.db, tx, &old, cur); err != nil {
			return nil, err
		}
	}
	return cur, nil
}

// Delete implements leadcycle.Repo.
func (r *repo[T]) Delete(ctx context.Context, id leadcycle.ID) error {
	return r.db.InTx(ctx, func(tx *sql.Tx) error { return r.deleteTx(ctx, tx, id) })
}

// deleteTx deletes a record, with its delete hooks, inside a caller's write
// transaction.
func (r *repo[T]) deleteTx(ctx context.Context, tx *sql.Tx, id leadcycle.ID) error {
	if r.t.beforeDelete != nil {
		v, err := r.get(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if err := r.t.beforeDelete(ctx, r.db, tx, v); err != nil {
			return err
		}
	}
	res, err := r.db.ExecQ(ctx, tx, "DELETE FROM "+r.t.name+" WHERE id = ?", int64(id))
	if err != nil {
		return fmt.Errorf("delete %s: %w", r.t.name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return r.notFound(id)
	}
	if r.t.afterDelete != nil {
		return r.t.afterDelete(ctx, r.db, tx, id)
	}
	return nil
}

// cursor is the position after the last row of a page: the sort value and id.
type cursor struct {
	Sort  string `json:"s"`
	Desc  bool   `json:"d"`
	Value any    `json:"v"`
	ID    int64  `json:"i"`
}

func encodeCursor(c cursor) string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (cursor, error) {
	var c cursor
	bad := leadcycle.FieldErrorf(leadcycle.EInvalid, "cursor", "is not a cursor returned by this list")
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return c, bad
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	if err := dec.Decode(&c); err != nil {
		return c, bad
	}
	switch v := c.Value.(type) {
	case json.Number:
		n, err := v.Int64()
		if err != nil {
			return c, bad
		}
		c.Value = n
	case string:
	default:
		return c, bad
	}
	return c, nil
}

// textSort reports whether a sort column holds text, so that its cursor values
// are strings; the other sort columns hold integers (microseconds).
func (r *repo[T]) textSort(col string) bool {
	i := slices.Index(r.t.cols, col)
	if i < 0 {
		return false
	}
	var v T
	_, ok := r.t.dests(&v)[i+1].(*string)
	return ok
}

// sqlValue converts a filter value to what the drivers store.
func sqlValue(v any) any {
	switch x := v.(type) {
	case leadcycle.ID:
		return int64(x)
	case time.Time:
		return micros(x)
	default:
		return v
	}
}

// List implements leadcycle.Repo with keyset pagination: a page continues
// after the (sort value, id) of the previous page's last row, so rows inserted
// meanwhile never shift or repeat the rows a client has not seen yet.
func (r *repo[T]) List(ctx context.Context, q leadcycle.ListQuery) (leadcycle.Page[T], error) {
	var page leadcycle.Page[T]
	spec := leadcycle.ListSpecs[r.t.collection]
	sortCol := q.Sort
	if sortCol == "" {
		sortCol = spec.Sorts[0]
	}
	if !slices.Contains(spec.Sorts, sortCol) {
		return page, leadcycle.FieldErrorf(leadcycle.EInvalid, "sort", "must be one of: %s (prefix - for descending)", strings.Join(spec.Sorts, ", "))
	}
	sortExpr := sortCol
	if slices.Contains(r.t.nullableSorts, sortCol) {
		sortExpr = "COALESCE(" + sortCol + ", 9223372036854775807)"
	}
	limit := q.Limit
	if limit <= 0 {
		limit = leadcycle.DefaultLimit
	}
	limit = min(limit, leadcycle.MaxLimit)

	var where []string
	var args []any
	for _, f := range q.Filters {
		for _, c := range f.Columns {
			if c != "id" && !slices.Contains(r.t.cols, c) {
				return page, leadcycle.FieldErrorf(leadcycle.EInvalid, c, "cannot be filtered on")
			}
		}
		switch f.Op {
		case leadcycle.OpEq:
			where = append(where, f.Columns[0]+" = ?")
			args = append(args, sqlValue(f.Value))
		case leadcycle.OpGTE:
			where = append(where, f.Columns[0]+" >= ?")
			args = append(args, sqlValue(f.Value))
		case leadcycle.OpLT:
			where = append(where, f.Columns[0]+" < ?")
			args = append(args, sqlValue(f.Value))
		case leadcycle.OpNull, leadcycle.OpAnyNotNul:
			// A false value negates the test: has_parent=false lists the
			// rows whose columns are all null.
			null := f.Op == leadcycle.OpNull
			if v, ok := f.Value.(bool); ok && !v {
				null = !null
			}
			if null {
				where = append(where, strings.Join(f.Columns, " IS NULL AND ")+" IS NULL")
			} else {
				where = append(where, "("+strings.Join(f.Columns, " IS NOT NULL OR ")+" IS NOT NULL)")
			}
		default:
			return page, fmt.Errorf("list %s: unknown operator %q", r.t.name, f.Op)
		}
	}
	cmp, dir := ">", "ASC"
	if q.Desc {
		cmp, dir = "<", "DESC"
	}
	if q.Cursor != "" {
		c, err := decodeCursor(q.Cursor)
		if err != nil {
			return page, err
		}
		if c.Sort != sortCol || c.Desc != q.Desc {
			return page, leadcycle.FieldErrorf(leadcycle.EInvalid, "cursor", "belongs to a list with another sort order")
		}
		if _, text := c.Value.(string); text != r.textSort(sortCol) {
			return page, leadcycle.FieldErrorf(leadcycle.EInvalid, "cursor", "is not a cursor returned by this list")
		}
		where = append(where, "("+sortExpr+", id) "+cmp+" (?, ?)")
		args = append(args, c.Value, c.ID)
	}
	query := fmt.Sprintf("SELECT id, %s, %s FROM %s", strings.Join(r.t.cols, ", "), sortExpr, r.t.name)
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += fmt.Sprintf(" ORDER BY %s %s, id %s LIMIT %d", sortExpr, dir, dir, limit+1)

	rows, err := r.db.QueryQ(ctx, r.db.R, query, args...)
	if err != nil {
		return page, fmt.Errorf("list %s: %w", r.t.name, err)
	}
	defer rows.Close()
	page.Items = make([]T, 0, min(limit, 64))
	var last cursor
	for rows.Next() {
		if len(page.Items) == limit {
			page.NextCursor = encodeCursor(last)
			break
		}
		var v T
		var sortVal any
		if err := rows.Scan(append(r.t.dests(&v), &sortVal)...); err != nil {
			return page, fmt.Errorf("list %s: %w", r.t.name, err)
		}
		if b, ok := sortVal.([]byte); ok {
			sortVal = string(b)
		}
		last = cursor{Sort: sortCol, Desc: q.Desc, Value: sortVal, ID: int64(*r.t.id(&v))}
		page.Items = append(page.Items, v)
	}
	if err := rows.Err(); err != nil {
		return page, fmt.Errorf("list %s: %w", r.t.name, err)
	}
	if r.t.load != nil && len(page.Items) > 0 {
		ptrs := make([]*T, len(page.Items))
		for i := range page.Items {
			ptrs[i] = &page.Items[i]
		}
		if err := r.t.load(ctx, r.db, r.db.R, ptrs); err != nil {
			return page, err
		}
	}
	return page, nil
}
