package importer

import (
	"context"
	"errors"
	"io"
	"strconv"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/tabular"
)

// Prepare reads the header of a new job's file at path and maps its columns,
// so that a file that cannot be read or a mapping that cannot work is
// refused before the job is stored (an EInvalid error naming the file or the
// columns). It fills the job's format, encoding, delimiter, columns and
// warnings; the job then keeps that mapping to its end.
func Prepare(ctx context.Context, store leadcycle.Store, job *leadcycle.ImportJob, path string) error {
	src, err := tabular.OpenFile(path, tabular.Options{Format: job.Options.Format, Encoding: job.Options.Encoding, Delimiter: delimiter(job.Options.Delimiter), Sheet: job.Options.Sheet})
	if err != nil {
		return leadcycle.FieldErrorf(leadcycle.EInvalid, "file", "%s", err)
	}
	defer src.Close()
	if _, err := NewPlan(ctx, store, job, src); err != nil {
		var fatal *fatalError
		if errors.As(err, &fatal) {
			return leadcycle.FieldErrorf(leadcycle.EInvalid, "columns", "%s", fatal.msg)
		}
		return err
	}
	return nil
}

// reportHeader is the header of the downloadable error report.
var reportHeader = []string{"line", "column", "value", "reason", "severity"}

// WriteReport writes the error report of a job as CSV, in file order.
func WriteReport(ctx context.Context, store leadcycle.Store, id leadcycle.ID, w io.Writer) error {
	tw := tabular.NewCSVWriter(w, true)
	if err := tw.Write(reportHeader); err != nil {
		return err
	}
	var after int64
	for {
		errs, err := store.Imports().ImportErrors(ctx, id, after, 1000)
		if err != nil {
			return err
		}
		for _, e := range errs {
			if err := tw.Write([]string{strconv.FormatInt(e.Line, 10), e.Column, e.Value, e.Reason, e.Severity}); err != nil {
				return err
			}
			after = e.Seq
		}
		if len(errs) < 1000 {
			return tw.Close()
		}
	}
}
