package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/importer"
	"github.com/leadcycle/leadcycle/store/sqldb"
	"github.com/leadcycle/leadcycle/web"
)

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ", ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func cmdImport(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fs, db := newDBFlagSet("import", "import FILE --type contacts|accounts|leads [flags]   or   import --resume ID", stderr, getenv)
	var o leadcycle.ImportOptions
	fs.StringVar(&o.Entity, "type", "", "what the rows are: contacts, accounts or leads")
	fs.StringVar(&o.OnMatch, "on-match", leadcycle.OnMatchUpdate, "what a row that matches an existing record does: update, skip or create")
	strategy := fs.Int64("strategy", 0, "id of the matching strategy (default: the default strategy of contacts or leads)")
	mappingID := fs.Int64("mapping", 0, "id of a saved column mapping to apply")
	var maps listFlag
	fs.Var(&maps, "map", `map a column to a field, "Header=field" (repeatable; "Header=" skips the column)`)
	values := fs.String("values", "", `JSON file of value mappings per field, {"status": {"Hot": "open"}}`)
	fs.BoolVar(&o.DayFirst, "day-first", false, "read dates like 02/03/2026 as 2 March (default: month first)")
	fs.BoolVar(&o.ClearEmpty, "clear-empty", false, "let empty cells clear the values of matched records")
	fs.StringVar(&o.Format, "format", "", "csv or xlsx (default: detected)")
	fs.StringVar(&o.Encoding, "encoding", "", "utf-8, utf-16le, utf-16be or windows-1252 (default: detected)")
	fs.StringVar(&o.Delimiter, "delimiter", "", `CSV delimiter: ",", ";", "\t" or "|" (default: detected)`)
	fs.StringVar(&o.Sheet, "sheet", "", "XLSX sheet (default: the first)")
	report := fs.String("report", "", "write the error report (CSV) to this file")
	batch := fs.Int("batch", importer.DefaultBatchSize, "rows per transaction")
	resume := fs.Int64("resume", 0, "resume the interrupted import with this id")
	quiet := fs.Bool("quiet", false, "no progress bar")
	if err := parse(fs, args); err != nil {
		return err
	}
	var files []string
	for fs.NArg() > 0 { // the file may come before the flags
		files = append(files, fs.Arg(0))
		if err := parse(fs, fs.Args()[1:]); err != nil {
			return err
		}
	}
	if o.Delimiter == `\t` {
		o.Delimiter = "\t"
	}
	store, err := db.open(ctx, nil)
	if err != nil {
		return err
	}
	defer store.Close()
	var job *leadcycle.ImportJob
	if *resume != 0 {
		if job, err = store.Imports().GetImport(ctx, leadcycle.ID(*resume)); err != nil {
			return err
		}
	} else {
		if len(files) != 1 {
			fmt.Fprintln(stderr, "import: give one FILE (or --resume ID)")
			return errUsage
		}
		if err := importOptions(&o, *strategy, *mappingID, maps, *values); err != nil {
			return err
		}
		if job, err = newFileImport(ctx, store, files[0], o); err != nil {
			return err
		}
	}
	describeImport(stdout, job)
	return runImport(ctx, store, job, *batch, *report, *quiet, stdout, stderr)
}

// importOptions fills the options given as flags.
func importOptions(o *leadcycle.ImportOptions, strategy, mappingID int64, maps []string, valuesFile string) error {
	if strategy != 0 {
		o.StrategyID = leadcycle.IDPtr(leadcycle.ID(strategy))
	}
	if mappingID != 0 {
		o.MappingID = leadcycle.IDPtr(leadcycle.ID(mappingID))
	}
	o.Columns = map[string]string{}
	for _, m := range maps {
		h, f, ok := strings.Cut(m, "=")
		if !ok {
			return fmt.Errorf(`--map %q: write "Header=field"`, m)
		}
		o.Columns[h] = f
	}
	if valuesFile != "" {
		b, err := os.ReadFile(valuesFile)
		if err != nil {
			return fmt.Errorf("--values: %w", err)
		}
		if err := json.Unmarshal(b, &o.Values); err != nil {
			return fmt.Errorf("--values: %s is not a JSON object of field → {file value → stored value}: %w", valuesFile, err)
		}
	}
	o.Normalize()
	return o.Validate()
}

// newFileImport creates the job of a local file.
func newFileImport(ctx context.Context, store *sqldb.Store, file string, o leadcycle.ImportOptions) (*leadcycle.ImportJob, error) {
	path, err := filepath.Abs(file)
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	sum, err := importer.FileSHA256(path)
	if err != nil {
		return nil, err
	}
	job := &leadcycle.ImportJob{Source: leadcycle.ImportSourcePath, Path: path, FileName: filepath.Base(path), Size: st.Size(), SHA256: sum, Options: o}
	ctx = leadcycle.WithActor(ctx, "cli")
	if err := importer.Prepare(ctx, store, job, path); err != nil {
		return nil, err
	}
	if err := store.Imports().CreateImport(ctx, job, nil); err != nil {
		return nil, err
	}
	return job, nil
}

// describeImport prints what the import reads and how its columns map.
func describeImport(w io.Writer, job *leadcycle.ImportJob) {
	delim := map[string]string{",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe", "": ""}[job.Delimiter]
	fmt.Fprintf(w, "import %s: %s from %s (%s %s %s)\n", job.ID, job.Options.Entity, job.FileName, job.Format, job.Encoding, delim)
	for _, c := range job.Columns {
		if c.Field == "" {
			fmt.Fprintf(w, "  %-28s not imported\n", c.Header)
		} else {
			fmt.Fprintf(w, "  %-28s → %s (%s)\n", c.Header, c.Field, c.How)
		}
	}
	for _, warn := range job.Warnings {
		fmt.Fprintln(w, "warning:", warn)
	}
}

// runImport runs a job in this process with a progress bar, then prints the
// outcome.
func runImport(ctx context.Context, store *sqldb.Store, job *leadcycle.ImportJob, batch int, report string, quiet bool, stdout, stderr io.Writer) error {
	bar := newProgressBar(stderr, job, quiet)
	host, _ := os.Hostname()
	r := &importer.Runner{Store: store, Owner: fmt.Sprintf("cli/%s/%d", host, os.Getpid()), BatchSize: batch, Progress: bar.update}
	ran, err := r.RunNext(ctx, job.ID)
	bar.done()
	if errors.Is(err, context.Canceled) {
		fmt.Fprintf(stderr, "interrupted; resume with: leadcycle import --resume %s\n", job.ID)
		return err
	}
	if err != nil {
		return err
	}
	if !ran {
		return fmt.Errorf("import %s is %s, or another process is running it", job.ID, statusOf(ctx, store, job.ID))
	}
	final, err := store.Imports().GetImport(ctx, job.ID)
	if err != nil {
		return err
	}
	return printOutcome(ctx, store, final, bar.elapsed(), report, stdout)
}

func statusOf(ctx context.Context, store *sqldb.Store, id leadcycle.ID) string {
	j, err := store.Imports().GetImport(ctx, id)
	if err != nil {
		return "unknown"
	}
	return j.Status
}

func printOutcome(ctx context.Context, store *sqldb.Store, job *leadcycle.ImportJob, took time.Duration, report string, stdout io.Writer) error {
	rate := float64(job.Rows) / max(took.Seconds(), 1e-3)
	fmt.Fprintf(stdout, "%s: %d rows in %.1f s (%.0f rows/s): %d created, %d updated, %d skipped, %d failed\n",
		job.Status, job.Rows, took.Seconds(), rate, job.Created, job.Updated, job.Skipped, job.Failed)
	if job.AccountsCreated > 0 {
		fmt.Fprintf(stdout, "%d account(s) created for companies that were not found\n", job.AccountsCreated)
	}
	if job.LeadsWithoutContact > 0 {
		fmt.Fprintf(stdout, "%d lead(s) have no contact (no contact has their email); they are in the report\n", job.LeadsWithoutContact)
	}
	if report != "" {
		f, err := os.Create(report)
		if err != nil {
			return err
		}
		if err := importer.WriteReport(ctx, store, job.ID, f); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "report:", report)
	} else if job.Failed > 0 || job.LeadsWithoutContact > 0 {
		fmt.Fprintf(stdout, "see the report with --report FILE, or GET /api/v1/imports/%s/errors.csv\n", job.ID)
	}
	if job.Status != leadcycle.ImportDone {
		return fmt.Errorf("import %s %s: %s", job.ID, job.Status, job.Error)
	}
	return nil
}

func cmdExport(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fs, db := newDBFlagSet("export", "export --type contacts|accounts|leads [--format csv|xlsx] [--out FILE] [--filter name=value ...]", stderr, getenv)
	entity := fs.String("type", "", "what to export: contacts, accounts or leads")
	format := fs.String("format", "csv", "csv or xlsx")
	out := fs.String("out", "", "file to write (default: standard output)")
	var filters listFlag
	fs.Var(&filters, "filter", `a filter of the collection's list, "name=value" (repeatable), e.g. status=open`)
	if err := parse(fs, args); err != nil {
		return err
	}
	q, err := exportQuery(*entity, filters)
	if err != nil {
		return err
	}
	store, err := db.open(ctx, nil)
	if err != nil {
		return err
	}
	defer store.Close()
	w, closeOut := stdout, func() error { return nil }
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		w, closeOut = f, f.Close
	}
	start := time.Now()
	e := importer.Exporter{Store: store, Entity: *entity, Format: *format, Query: q}
	n, err := e.Export(ctx, w)
	if cerr := closeOut(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "exported %d %s in %.1f s\n", n, *entity, time.Since(start).Seconds())
	return nil
}

// exportQuery builds the list query of the filters, checked against the
// collection's allowlist like the API's.
func exportQuery(entity string, filters []string) (leadcycle.ListQuery, error) {
	spec, ok := leadcycle.ListSpecs[entity]
	if !ok || !slices.Contains(leadcycle.ImportEntities, entity) {
		return leadcycle.ListQuery{}, fmt.Errorf("--type must be contacts, accounts or leads")
	}
	vals := url.Values{}
	for _, f := range filters {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return leadcycle.ListQuery{}, fmt.Errorf(`--filter %q: write "name=value"`, f)
		}
		vals.Add(k, v)
	}
	return web.ListQueryOf(&http.Request{URL: &url.URL{RawQuery: vals.Encode()}}, spec)
}
