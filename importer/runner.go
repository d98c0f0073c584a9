// Package importer reads CSV and XLSX files into contacts, accounts and leads:
// it maps columns to fields, converts cells, and hands batches of rows to
// the store, which matches and writes them. Jobs are resumable: the store
// commits each batch with the job's position in the file, and a resumed job
// skips the rows before it.
package importer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/tabular"
)

// DefaultBatchSize is the number of rows written per transaction.
const DefaultBatchSize = 20000

// Lease is how long a claimed job stays with its worker without a batch
// commit (each one extends it).
const Lease = 2 * time.Minute

// Runner runs import jobs.
type Runner struct {
	Store leadcycle.Store
	// Owner names this worker in job leases.
	Owner string
	// BatchSize is the number of rows per transaction; DefaultBatchSize
	// when 0.
	BatchSize int
	// TempDir keeps uploaded files while they are read; os.TempDir() when "".
	TempDir string
	// Progress, when set, is called after every committed batch.
	Progress func(*leadcycle.ImportJob)
	Log      *slog.Logger
}

func (r *Runner) batchSize() int {
	if r.BatchSize > 0 {
		return r.BatchSize
	}
	return DefaultBatchSize
}

func (r *Runner) log() *slog.Logger {
	if r.Log != nil {
		return r.Log
	}
	return slog.New(slog.DiscardHandler)
}

// Work claims and runs jobs until ctx ends, looking for new ones every
// interval.
func (r *Runner) Work(ctx context.Context, interval time.Duration) {
	for {
		ran, err := r.RunNext(ctx, 0)
		if err != nil && ctx.Err() == nil {
			r.log().Error("import", "err", err)
		}
		if ran && err == nil {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}

// RunNext claims job id (any job when 0) and runs it; it reports whether
// there was one to run.
func (r *Runner) RunNext(ctx context.Context, id leadcycle.ID) (bool, error) {
	job, err := r.Store.Imports().ClaimImport(ctx, id, r.Owner, Lease)
	if err != nil || job == nil {
		return false, err
	}
	return true, r.Run(ctx, job)
}

// Run runs a job this runner has claimed to its end: done, failed or
// canceled. When ctx ends first, the job is released to be resumed and
// ctx's error is returned.
func (r *Runner) Run(ctx context.Context, job *leadcycle.ImportJob) error {
	err := r.run(ctx, job)
	store := r.Store.Imports()
	if ctx.Err() != nil {
		_ = store.ReleaseImport(context.WithoutCancel(ctx), job, r.Owner)
		return ctx.Err()
	}
	var fatal *fatalError
	switch {
	case errors.As(err, &fatal):
		job.Status, job.Error = leadcycle.ImportFailed, fatal.msg
	case leadcycle.ErrorCode(err) == leadcycle.EConflict:
		return err // another worker holds the job now
	case err != nil:
		return err // the database is unwell: the lease runs out and the job resumes
	}
	if !job.Final() {
		job.Status = leadcycle.ImportDone
	}
	if err := store.FinishImport(ctx, job, r.Owner); err != nil {
		return err
	}
	r.log().Info("import finished", "id", job.ID, "status", job.Status, "rows", job.Rows, "created", job.Created,
		"updated", job.Updated, "skipped", job.Skipped, "failed", job.Failed)
	return nil
}

// fatalError ends a job as failed, with a message for its owner.
type fatalError struct{ msg string }

func (e *fatalError) Error() string { return e.msg }

func fatalf(format string, args ...any) error { return &fatalError{fmt.Sprintf(format, args...)} }

func (r *Runner) run(ctx context.Context, job *leadcycle.ImportJob) error {
	src, cleanup, err := r.open(ctx, job)
	if err != nil {
		return err
	}
	defer cleanup()
	p, err := NewPlan(ctx, r.Store, job, src)
	if err != nil {
		return err
	}
	if err := r.Store.Imports().StartImport(ctx, job, r.Owner); err != nil {
		return err
	}
	return r.copy(ctx, job, src, p)
}

// open opens a job's file: a local one (checked to be the file the job
// started with) or a copy of the uploaded one.
func (r *Runner) open(ctx context.Context, job *leadcycle.ImportJob) (tabular.Reader, func(), error) {
	path, cleanup := job.Path, func() {}
	if job.Source == leadcycle.ImportSourceUpload {
		f, err := os.CreateTemp(r.TempDir, "leadcycle-import-*")
		if err != nil {
			return nil, nil, fmt.Errorf("spool upload: %w", err)
		}
		cleanup = func() { f.Close(); os.Remove(f.Name()) }
		if err := r.Store.Imports().ImportFile(ctx, job.ID, f); err != nil {
			cleanup()
			if leadcycle.ErrorCode(err) == leadcycle.ENotFound {
				return nil, nil, fatalf("the uploaded file is gone")
			}
			return nil, nil, err
		}
		path = f.Name()
	} else if err := checkFile(job); err != nil {
		return nil, nil, err
	}
	src, err := tabular.OpenFile(path, tabular.Options{Format: job.Options.Format, Encoding: job.Options.Encoding, Delimiter: delimiter(job.Options.Delimiter), Sheet: job.Options.Sheet})
	if err != nil {
		cleanup()
		return nil, nil, fatalf("%s", err)
	}
	return src, func() { src.Close(); cleanup() }, nil
}

func delimiter(s string) rune {
	if s == "" {
		return 0
	}
	return []rune(s)[0]
}

// checkFile makes sure a local file is still the one the job was created
// with, so that a resumed job does not skip the wrong rows.
func checkFile(job *leadcycle.ImportJob) error {
	st, err := os.Stat(job.Path)
	if err != nil {
		return fatalf("cannot read %s: %v", job.Path, err)
	}
	if st.Size() != job.Size {
		return fatalf("%s changed since the import was created (%d bytes then, %d now)", job.Path, job.Size, st.Size())
	}
	if job.SHA256 == "" || job.Position == 0 {
		return nil
	}
	sum, err := FileSHA256(job.Path)
	if err != nil {
		return fatalf("cannot read %s: %v", job.Path, err)
	}
	if sum != job.SHA256 {
		return fatalf("%s changed since the import was created (its SHA-256 differs)", job.Path)
	}
	return nil
}

// FileSHA256 returns the hex SHA-256 of a file.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// copy reads the rows after the job's position and writes them in batches.
// Reading and converting the next batch overlaps with writing the last one.
func (r *Runner) copy(ctx context.Context, job *leadcycle.ImportJob, src tabular.Reader, p *Plan) error {
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	// Unbuffered: the batch being written, the next one and the one being
	// read are all the batches held in memory.
	batches := make(chan batchOrError)
	go r.read(ctx, job.Position, src, p, batches)
	store := r.Store.Imports()
	var next *batchOrError
	for {
		b := next
		if b == nil {
			got, ok := <-batches
			if !ok {
				break
			}
			b = &got
		}
		next = nil
		if b.err != nil {
			return b.err
		}
		// The next batch too, so that the store can look its rows up while
		// it writes this one. Reading keeps ahead of writing, so it is
		// there already but for the first batch.
		if got, ok := <-batches; ok {
			next = &got
			if got.err == nil {
				b.batch.Next = got.batch
			}
		}
		err := store.ApplyImportBatch(ctx, job, r.Owner, b.batch)
		b.batch.Next = nil
		if err != nil {
			return err
		}
		if r.Progress != nil {
			r.Progress(job)
		}
		canceled, err := r.canceled(ctx, job)
		if err != nil || canceled {
			return err
		}
	}
	return ctx.Err()
}

// canceled reports whether the job was asked to stop, and if so marks it.
func (r *Runner) canceled(ctx context.Context, job *leadcycle.ImportJob) (bool, error) {
	cur, err := r.Store.Imports().GetImport(ctx, job.ID)
	if err != nil {
		return false, err
	}
	if cur.CancelRequested {
		job.Status, job.CancelRequested = leadcycle.ImportCanceled, true
		return true, nil
	}
	return false, nil
}

type batchOrError struct {
	batch *leadcycle.ImportBatch
	err   error
}

// read produces the batches of the rows after position; it closes out when
// the file ends, after an error, or when ctx ends.
func (r *Runner) read(ctx context.Context, position int64, src tabular.Reader, p *Plan, out chan<- batchOrError) {
	defer close(out)
	send := func(b batchOrError) bool {
		select {
		case out <- b:
			return true
		case <-ctx.Done():
			return false
		}
	}
	var read int64
	size := r.batchSize()
	// Each batch's rows are allocated once, at the size of a batch.
	newBatch := func() *leadcycle.ImportBatch {
		return &leadcycle.ImportBatch{Rows: make([]leadcycle.ImportRow, 0, size)}
	}
	b := newBatch()
	for {
		row, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		var rowErr *tabular.RowError
		if err != nil && !errors.As(err, &rowErr) {
			send(batchOrError{err: fatalf("the file cannot be read after line %d: %v", p.lastLine, err)})
			return
		}
		read++
		if read <= position {
			continue // committed before the job was resumed
		}
		if rowErr != nil {
			p.rowError(b, rowErr)
		} else {
			p.add(b, row)
		}
		if len(b.Rows)+int(b.Failed) >= size {
			b.Position = read
			b.BytesDone, _ = src.Progress()
			if !send(batchOrError{batch: b}) {
				return
			}
			b = newBatch()
		}
	}
	b.Position = max(read, position)
	b.BytesDone, _ = src.Progress()
	send(batchOrError{batch: b})
}
