package sqldb

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/leadcycle/leadcycle"
)

// importFileChunk is the size of the pieces an uploaded file is stored in.
const importFileChunk = 4 << 20

var importTable = &table[leadcycle.ImportJob]{
	name: "imports", collection: "imports",
	cols: []string{"status", "entity", "source", "file_name", "path", "size", "sha256", "options", "format", "encoding", "delimiter", "column_map",
		"rows_total", "created_count", "updated_count", "skipped_count", "failed_count", "accounts_created", "leads_without_contact",
		"row_position", "bytes_done", "warnings", "error", "cancel_requested", "actor", "created_at", "started_at", "finished_at", "updated_at"},
	values: func(j *leadcycle.ImportJob) []any {
		return []any{j.Status, j.Options.Entity, j.Source, j.FileName, j.Path, j.Size, j.SHA256, jsonText(j.Options), j.Format, j.Encoding, j.Delimiter, jsonText(j.Columns),
			j.Rows, j.Created, j.Updated, j.Skipped, j.Failed, j.AccountsCreated, j.LeadsWithoutContact,
			j.Position, j.BytesDone, jsonText(j.Warnings), j.Error, j.CancelRequested, j.Actor, micros(j.CreatedAt), nullMicros(j.StartedAt), nullMicros(j.FinishedAt), micros(j.UpdatedAt)}
	},
	dests: func(j *leadcycle.ImportJob) []any {
		var entity string
		return []any{idCol{&j.ID}, &j.Status, &entity, &j.Source, &j.FileName, &j.Path, &j.Size, &j.SHA256, jsonCol{&j.Options}, &j.Format, &j.Encoding, &j.Delimiter, jsonCol{&j.Columns},
			&j.Rows, &j.Created, &j.Updated, &j.Skipped, &j.Failed, &j.AccountsCreated, &j.LeadsWithoutContact,
			&j.Position, &j.BytesDone, jsonCol{&j.Warnings}, &j.Error, &j.CancelRequested, &j.Actor, timeCol{&j.CreatedAt}, nullTimeCol{&j.StartedAt}, nullTimeCol{&j.FinishedAt}, timeCol{&j.UpdatedAt}}
	},
	id: func(j *leadcycle.ImportJob) *leadcycle.ID { return &j.ID },
	prepare: func(j *leadcycle.ImportJob, now time.Time, create bool) error {
		j.Options.Normalize()
		stamp(&j.CreatedAt, &j.UpdatedAt, now, create)
		return j.Options.Validate()
	},
}

var importMappingTable = &table[leadcycle.ImportMapping]{
	name: "import_mappings", collection: "import-mappings",
	cols: []string{"name", "entity", "column_map", "value_map", "created_at", "updated_at"},
	values: func(m *leadcycle.ImportMapping) []any {
		return []any{m.Name, m.Entity, jsonText(m.Columns), jsonText(m.Values), micros(m.CreatedAt), micros(m.UpdatedAt)}
	},
	dests: func(m *leadcycle.ImportMapping) []any {
		return []any{idCol{&m.ID}, &m.Name, &m.Entity, jsonCol{&m.Columns}, jsonCol{&m.Values}, timeCol{&m.CreatedAt}, timeCol{&m.UpdatedAt}}
	},
	id: func(m *leadcycle.ImportMapping) *leadcycle.ID { return &m.ID },
	prepare: func(m *leadcycle.ImportMapping, now time.Time, create bool) error {
		m.Normalize()
		stamp(&m.CreatedAt, &m.UpdatedAt, now, create)
		return m.Validate()
	},
}

// imports implements leadcycle.ImportStore.
type imports struct{ s *Store }

// Imports implements leadcycle.Store.
func (s *Store) Imports() leadcycle.ImportStore { return imports{s} }

// ImportMappings implements leadcycle.Store.
func (s *Store) ImportMappings() leadcycle.Repo[leadcycle.ImportMapping] { return s.importMappings }

// CreateImport implements leadcycle.ImportStore.
func (x imports) CreateImport(ctx context.Context, job *leadcycle.ImportJob, file io.Reader) error {
	job.Status = leadcycle.ImportQueued
	job.Actor = leadcycle.ActorOf(ctx)
	if job.Columns == nil {
		job.Columns = []leadcycle.ImportColumn{}
	}
	if job.Warnings == nil {
		job.Warnings = []string{}
	}
	if err := importTable.prepare(job, x.s.Clock.Now(), true); err != nil {
		return err
	}
	if (file == nil) != (job.Source == leadcycle.ImportSourcePath) {
		return fmt.Errorf("create import: a %q import needs a file exactly when it is an upload", job.Source)
	}
	return x.s.InTx(ctx, func(tx *sql.Tx) error {
		if err := x.checkOptions(ctx, tx, &job.Options); err != nil {
			return err
		}
		if err := x.s.imports.createTx(ctx, tx, job); err != nil {
			return err
		}
		if file == nil {
			return nil
		}
		return x.storeFile(ctx, tx, job, file)
	})
}

// checkOptions checks the references of the options: the strategy must be
// of the entity's kind, the mapping of the entity.
func (x imports) checkOptions(ctx context.Context, tx *sql.Tx, o *leadcycle.ImportOptions) error {
	if o.StrategyID != nil {
		kind := map[string]string{leadcycle.ImportContacts: leadcycle.StrategyContact, leadcycle.ImportLeads: leadcycle.StrategyLead}[o.Entity]
		if kind == "" {
			return leadcycle.FieldErrorf(leadcycle.EInvalid, "strategy_id", "accounts match on their domain, then their name; they take no strategy")
		}
		s, err := getRow(ctx, x.s.DB, tx, strategyTable, *o.StrategyID, false)
		if leadcycle.ErrorCode(err) == leadcycle.ENotFound {
			return leadcycle.FieldErrorf(leadcycle.EInvalid, "strategy_id", "matching strategy %s does not exist", *o.StrategyID)
		}
		if err != nil {
			return err
		}
		if s.Kind != kind {
			return leadcycle.FieldErrorf(leadcycle.EInvalid, "strategy_id", "matching strategy %s is for %ss, not %s", s.ID, s.Kind, o.Entity)
		}
	}
	if o.MappingID != nil {
		m, err := getRow(ctx, x.s.DB, tx, importMappingTable, *o.MappingID, false)
		if leadcycle.ErrorCode(err) == leadcycle.ENotFound {
			return leadcycle.FieldErrorf(leadcycle.EInvalid, "mapping_id", "mapping %s does not exist", *o.MappingID)
		}
		if err != nil {
			return err
		}
		if m.Entity != o.Entity {
			return leadcycle.FieldErrorf(leadcycle.EInvalid, "mapping_id", "mapping %q is for %s, not %s", m.Name, m.Entity, o.Entity)
		}
	}
	return nil
}

// storeFile writes an uploaded file in chunks and records its size.
func (x imports) storeFile(ctx context.Context, tx *sql.Tx, job *leadcycle.ImportJob, file io.Reader) error {
	buf := make([]byte, importFileChunk)
	var size int64
	for seq := 0; ; seq++ {
		n, err := io.ReadFull(file, buf)
		if n > 0 {
			if _, err := x.s.ExecQ(ctx, tx, "INSERT INTO import_files (import_id, seq, data) VALUES (?, ?, ?)", int64(job.ID), seq, buf[:n]); err != nil {
				return fmt.Errorf("store import file: %w", err)
			}
			size += int64(n)
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("read upload: %w", err)
		}
	}
	job.Size = size
	_, err := x.s.ExecQ(ctx, tx, "UPDATE imports SET size = ? WHERE id = ?", size, int64(job.ID))
	return err
}

// GetImport implements leadcycle.ImportStore.
func (x imports) GetImport(ctx context.Context, id leadcycle.ID) (*leadcycle.ImportJob, error) {
	return x.s.imports.Get(ctx, id)
}

// ListImports implements leadcycle.ImportStore.
func (x imports) ListImports(ctx context.Context, q leadcycle.ListQuery) (leadcycle.Page[leadcycle.ImportJob], error) {
	return x.s.imports.List(ctx, q)
}

// CancelImport implements leadcycle.ImportStore.
func (x imports) CancelImport(ctx context.Context, id leadcycle.ID) (*leadcycle.ImportJob, error) {
	return x.s.imports.Update(ctx, id, func(j *leadcycle.ImportJob) error {
		switch j.Status {
		case leadcycle.ImportQueued:
			now := x.s.Clock.Now()
			j.Status, j.FinishedAt = leadcycle.ImportCanceled, &now
		case leadcycle.ImportRunning:
			j.CancelRequested = true
		default:
			return leadcycle.Errorf(leadcycle.EConflict, "import %s is %s already", j.ID, j.Status)
		}
		return nil
	})
}

// ClaimImport implements leadcycle.ImportStore.
func (x imports) ClaimImport(ctx context.Context, want leadcycle.ID, owner string, lease time.Duration) (*leadcycle.ImportJob, error) {
	var out *leadcycle.ImportJob
	err := x.s.InTxRetry(ctx, func(tx *sql.Tx) error {
		now := x.s.Clock.Now()
		var id int64
		err := x.s.QueryRowQ(ctx, tx, "SELECT id FROM imports WHERE status IN (?, ?) AND lease_until < ? AND (? = 0 OR id = ?) ORDER BY id LIMIT 1"+x.s.Dialect.ForUpdate+x.s.Dialect.SkipLocked,
			leadcycle.ImportQueued, leadcycle.ImportRunning, micros(now), int64(want), int64(want)).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("claim import: %w", err)
		}
		_, err = x.s.ExecQ(ctx, tx, "UPDATE imports SET status = ?, lease_owner = ?, lease_until = ?, started_at = COALESCE(started_at, ?), updated_at = ? WHERE id = ?",
			leadcycle.ImportRunning, owner, micros(now.Add(lease)), micros(now), micros(now), id)
		if err != nil {
			return fmt.Errorf("claim import: %w", err)
		}
		out, err = getRow(ctx, x.s.DB, tx, importTable, leadcycle.ID(id), false)
		return err
	})
	return out, err
}

// ReleaseImport implements leadcycle.ImportStore.
func (x imports) ReleaseImport(ctx context.Context, job *leadcycle.ImportJob, owner string) error {
	res, err := x.s.ExecQ(ctx, x.s.W, "UPDATE imports SET lease_owner = '', lease_until = 0, updated_at = ? WHERE id = ? AND lease_owner = ?",
		micros(x.s.Clock.Now()), int64(job.ID), owner)
	return leaseHeld(res, err, job.ID)
}

// StartImport implements leadcycle.ImportStore.
func (x imports) StartImport(ctx context.Context, job *leadcycle.ImportJob, owner string) error {
	return x.s.InTx(ctx, func(tx *sql.Tx) error {
		res, err := x.s.ExecQ(ctx, tx, "UPDATE imports SET format = ?, encoding = ?, delimiter = ?, column_map = ?, warnings = ?, updated_at = ? WHERE id = ? AND lease_owner = ?",
			job.Format, job.Encoding, job.Delimiter, jsonText(job.Columns), jsonText(job.Warnings), micros(x.s.Clock.Now()), int64(job.ID), owner)
		return leaseHeld(res, err, job.ID)
	})
}

// leaseHeld turns an update of no row into the EConflict of a lost lease.
func leaseHeld(res sql.Result, err error, id leadcycle.ID) error {
	if err != nil {
		return fmt.Errorf("update import: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return leadcycle.Errorf(leadcycle.EConflict, "import %s is no longer held by this worker", id)
	}
	return nil
}

// ImportFile implements leadcycle.ImportStore.
func (x imports) ImportFile(ctx context.Context, id leadcycle.ID, w io.Writer) error {
	bw := bufio.NewWriter(w)
	for seq := 0; ; seq++ {
		var data []byte
		err := x.s.QueryRowQ(ctx, x.s.R, "SELECT data FROM import_files WHERE import_id = ? AND seq = ?", int64(id), seq).Scan(&data)
		if errors.Is(err, sql.ErrNoRows) {
			if seq == 0 {
				return leadcycle.Errorf(leadcycle.ENotFound, "import %s has no stored file", id)
			}
			return bw.Flush()
		}
		if err != nil {
			return fmt.Errorf("read import file: %w", err)
		}
		if _, err := bw.Write(data); err != nil {
			return err
		}
	}
}

// FinishImport implements leadcycle.ImportStore.
func (x imports) FinishImport(ctx context.Context, job *leadcycle.ImportJob, owner string) error {
	if !job.Final() {
		return fmt.Errorf("finish import: status %q is not final", job.Status)
	}
	now := x.s.Clock.Now()
	job.FinishedAt = &now
	return x.s.InTx(ctx, func(tx *sql.Tx) error {
		res, err := x.s.ExecQ(ctx, tx, "UPDATE imports SET status = ?, error = ?, warnings = ?, finished_at = ?, updated_at = ?, lease_owner = '', lease_until = 0 WHERE id = ? AND lease_owner = ?",
			job.Status, job.Error, jsonText(job.Warnings), micros(now), micros(now), int64(job.ID), owner)
		if err := leaseHeld(res, err, job.ID); err != nil {
			return err
		}
		_, err = x.s.ExecQ(ctx, tx, "DELETE FROM import_files WHERE import_id = ?", int64(job.ID))
		return err
	})
}

// ImportErrors implements leadcycle.ImportStore.
func (x imports) ImportErrors(ctx context.Context, id leadcycle.ID, after int64, limit int) ([]leadcycle.ImportError, error) {
	rows, err := x.s.QueryQ(ctx, x.s.R, "SELECT id, line, col, value, reason, severity FROM import_errors WHERE import_id = ? AND id > ? ORDER BY id LIMIT ?", int64(id), after, limit)
	if err != nil {
		return nil, fmt.Errorf("import errors: %w", err)
	}
	return scanAll(rows, func(r scanner) (leadcycle.ImportError, error) {
		var e leadcycle.ImportError
		err := r.Scan(&e.Seq, &e.Line, &e.Column, &e.Value, &e.Reason, &e.Severity)
		return e, err
	})
}

// writeImportErrors appends errors to a job's report, in multi-row
// statements.
func writeImportErrors(ctx context.Context, db *DB, tx *sql.Tx, id leadcycle.ID, errs []leadcycle.ImportError) error {
	const per = 200
	for len(errs) > 0 {
		n := min(per, len(errs))
		args := make([]any, 0, n*6)
		for _, e := range errs[:n] {
			sev := e.Severity
			if sev == "" {
				sev = leadcycle.SeverityError
			}
			args = append(args, int64(id), e.Line, clip(e.Column, 200), clip(e.Value, 500), clip(e.Reason, 1000), sev)
		}
		q := "INSERT INTO import_errors (import_id, line, col, value, reason, severity) VALUES " + strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?),", n), ",")
		if _, err := db.ExecQ(ctx, tx, q, args...); err != nil {
			return fmt.Errorf("write import errors: %w", err)
		}
		errs = errs[n:]
	}
	return nil
}

// clip makes s storable text of at most n runes, so that one huge or broken
// cell can neither bloat nor break the report.
func clip(s string, n int) string {
	s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
	if len(s) <= n {
		return s
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
