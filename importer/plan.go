package importer

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/mapping"
	"github.com/leadcycle/leadcycle/tabular"
)

// customEntity is the custom-field entity of each import entity.
var customEntity = map[string]string{leadcycle.ImportContacts: "contact", leadcycle.ImportAccounts: "account", leadcycle.ImportLeads: "lead"}

// identifying lists, per entity, the fields of which a file must map at
// least one for its rows to make records.
var identifying = map[string][]string{
	leadcycle.ImportContacts: {"email", "first_name", "last_name", "full_name", "phone", "mobile_phone", "id"},
	leadcycle.ImportAccounts: {"name", "id"},
	leadcycle.ImportLeads:    {"topic", "id"},
}

// Plan is how a job reads its file: the detected format, the column
// mapping, and the converter of rows.
type Plan struct {
	conv     *converter
	header   []string
	lastLine int64
}

// NewPlan reads the file's header and maps its columns through the saved
// mapping, the explicit columns and the automatic mapping, in that order of
// precedence; it fills the job's format, encoding, delimiter, columns and
// warnings. A resumed job keeps the columns it started with. Problems the
// user must fix (an unknown field, no identifying column) are fatal errors.
func NewPlan(ctx context.Context, store leadcycle.Store, job *leadcycle.ImportJob, src tabular.Reader) (*Plan, error) {
	info := src.Info()
	job.Format, job.Encoding = info.Format, info.Encoding
	if info.Delimiter != 0 {
		job.Delimiter = string(info.Delimiter)
	}
	header := src.Header()
	schema, err := store.Schema(ctx, customEntity[job.Options.Entity])
	if err != nil {
		return nil, err
	}
	fields, err := mapping.Fields(job.Options.Entity, schema)
	if err != nil {
		return nil, fatalf("%v", err)
	}
	if len(job.Columns) > 0 {
		if err := sameHeader(job.Columns, header); err != nil {
			return nil, err
		}
	} else if err := mapColumns(ctx, store, job, header, schema); err != nil {
		return nil, err
	}
	return &Plan{conv: newConverter(job, fields, len(header)), header: header}, nil
}

// sameHeader checks that a resumed job's file still has its header.
func sameHeader(cols []leadcycle.ImportColumn, header []string) error {
	for _, c := range cols {
		if c.Index >= len(header) || header[c.Index] != c.Header {
			return fatalf("the file's header changed since the import started (column %d was %q)", c.Index+1, c.Header)
		}
	}
	return nil
}

// mapColumns chooses the field of every column.
func mapColumns(ctx context.Context, store leadcycle.Store, job *leadcycle.ImportJob, header []string, schema leadcycle.Schema) error {
	entity := job.Options.Entity
	m, err := mapping.Auto(entity, header, schema)
	if err != nil {
		return fatalf("%v", err)
	}
	if job.Options.MappingID != nil {
		saved, err := store.ImportMappings().Get(ctx, *job.Options.MappingID)
		if err != nil {
			return fatalf("mapping %s: %s", *job.Options.MappingID, leadcycle.ErrorMessage(err))
		}
		if m, err = applyMapping(m, entity, saved.Columns, schema, "saved"); err != nil {
			return fatalf("mapping %q: %v", saved.Name, err)
		}
		mergeValues(&job.Options, saved.Values)
	}
	if len(job.Options.Columns) > 0 {
		if m, err = applyMapping(m, entity, job.Options.Columns, schema, "explicit"); err != nil {
			return fatalf("%v", err)
		}
	}
	job.Columns = make([]leadcycle.ImportColumn, len(m.Columns))
	mapped := map[string]bool{}
	for i, c := range m.Columns {
		job.Columns[i] = leadcycle.ImportColumn{Index: c.Index, Header: c.Header, Field: c.Field, How: c.How}
		mapped[c.Field] = c.Field != ""
	}
	if !slices.ContainsFunc(identifying[entity], func(f string) bool { return mapped[f] }) {
		return fatalf("no column of the file maps to any of %s; name one in columns (the headers are: %s)",
			strings.Join(identifying[entity], ", "), strings.Join(header, ", "))
	}
	if un := m.Unmapped(); len(un) > 0 {
		job.Warnings = append(job.Warnings, fmt.Sprintf("%d column(s) are not imported: %s", len(un), strings.Join(un, ", ")))
	}
	if entity == leadcycle.ImportLeads {
		var info []string
		for _, f := range []string{"first_name", "last_name", "full_name", "phone", "mobile_phone", "job_title"} {
			if mapped[f] {
				info = append(info, f)
			}
		}
		if len(info) > 0 {
			job.Warnings = append(job.Warnings, "leads take the name and phone of their contact (linked by email): "+strings.Join(info, ", ")+" are not stored")
		}
	}
	return nil
}

// applyMapping applies explicit column choices, marking how they were made.
func applyMapping(m mapping.Mapping, entity string, cols map[string]string, schema leadcycle.Schema, how string) (mapping.Mapping, error) {
	out, err := m.Apply(entity, cols, schema)
	if err != nil {
		return m, err
	}
	for i := range out.Columns {
		if out.Columns[i].How == "explicit" {
			out.Columns[i].How = how
		}
	}
	return out, nil
}

// mergeValues adds a saved mapping's value maps under the job's own.
func mergeValues(o *leadcycle.ImportOptions, saved map[string]map[string]string) {
	if o.Values == nil {
		o.Values = map[string]map[string]string{}
	}
	for field, vm := range saved {
		cur := o.Values[field]
		if cur == nil {
			cur = map[string]string{}
			o.Values[field] = cur
		}
		for k, v := range vm {
			if _, ok := cur[k]; !ok {
				cur[k] = v
			}
		}
	}
}

// add converts a row into the batch, as a row to write or as errors.
func (p *Plan) add(b *leadcycle.ImportBatch, row tabular.Row) {
	p.lastLine = row.Line
	r, errs := p.conv.convert(row)
	if r != nil {
		b.Rows = append(b.Rows, *r)
		return
	}
	b.Errors = append(b.Errors, errs...)
	b.Failed++
}

// rowError records a row the file reader could not read.
func (p *Plan) rowError(b *leadcycle.ImportBatch, e *tabular.RowError) {
	p.lastLine = e.Line
	col := ""
	if e.Column > 0 && e.Column <= len(p.header) {
		col = p.header[e.Column-1]
	}
	b.Errors = append(b.Errors, leadcycle.ImportError{Line: e.Line, Column: col, Reason: e.Err.Error(), Severity: leadcycle.SeverityError})
	b.Failed++
}
