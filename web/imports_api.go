package web

import (
	"errors"
	"io"
	"net/http"
	"os"
	"reflect"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/importer"
	"github.com/leadcycle/leadcycle/mapping"
	"github.com/leadcycle/leadcycle/tabular"
)

// The dry run of an import: the file is uploaded as for POST
// /api/v1/imports and read once, but nothing is stored. The answer shows the
// file's headers, its first rows and how each column would be mapped (the
// saved mapping, the explicit columns and the automatic mapping, as the
// import itself applies them), so that a user can check and change the
// mapping before importing.

const importPreviewPath = importsBase + "/preview"

// importPreviewRows is the number of data rows a preview shows.
const importPreviewRows = 5

// ImportPreview is what an import of a file would do with its columns.
type ImportPreview struct {
	FileName  string `json:"file_name"`
	Entity    string `json:"entity"`
	Format    string `json:"format"`
	Encoding  string `json:"encoding"`
	Delimiter string `json:"delimiter"`
	Sheet     string `json:"sheet"`
	// Columns are the file's columns with the field each would be imported
	// into.
	Columns []leadcycle.ImportColumn `json:"columns"`
	// Samples are the first data rows, cells in column order.
	Samples [][]string `json:"samples"`
	// Fields are the fields of the entity a column can be mapped to.
	Fields   []ImportPreviewField `json:"fields"`
	Warnings []string             `json:"warnings"`
	// Error is why an import with this mapping would be refused (no column
	// identifies a record, a saved mapping names an unknown field); empty
	// when it would be accepted.
	Error string `json:"error"`
}

// ImportPreviewField is a field a column can be imported into.
type ImportPreviewField struct {
	Name    string   `json:"name"`
	Label   string   `json:"label"`
	Kind    string   `json:"kind"`
	Choices []string `json:"choices"`
}

// importCustomEntity is the custom-field entity of each import entity.
var importCustomEntity = map[string]string{leadcycle.ImportContacts: "contact", leadcycle.ImportAccounts: "account", leadcycle.ImportLeads: "lead"}

func (s *Server) registerImportPreview() {
	s.handle("POST", importPreviewPath, leadcycle.Perm("imports", leadcycle.ActionWrite), s.previewImport)
}

func (s *Server) previewImport(w http.ResponseWriter, r *http.Request) {
	spool, name, opts, err := s.readUpload(w, r)
	if spool != nil {
		defer func() { spool.Close(); os.Remove(spool.Name()) }()
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	opts.Normalize()
	if err := opts.Validate(); err != nil {
		writeError(w, r, err)
		return
	}
	prev, err := s.importPreview(r, spool.Name(), name, opts)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, prev)
}

// importPreview reads a file's header and first rows and maps its columns
// like importer.Prepare, without storing a job.
func (s *Server) importPreview(r *http.Request, path, name string, opts leadcycle.ImportOptions) (*ImportPreview, error) {
	ctx := r.Context()
	src, err := tabular.OpenFile(path, tabular.Options{Format: opts.Format, Encoding: opts.Encoding, Delimiter: firstRune(opts.Delimiter), Sheet: opts.Sheet})
	if err != nil {
		return nil, leadcycle.FieldErrorf(leadcycle.EInvalid, "file", "%s", err)
	}
	defer src.Close()
	info, header := src.Info(), src.Header()
	prev := &ImportPreview{FileName: name, Entity: opts.Entity, Format: info.Format, Encoding: info.Encoding, Sheet: info.Sheet,
		Samples: [][]string{}, Fields: []ImportPreviewField{}, Warnings: []string{}, Columns: []leadcycle.ImportColumn{}}
	if info.Delimiter != 0 {
		prev.Delimiter = string(info.Delimiter)
	}
	for len(prev.Samples) < importPreviewRows {
		row, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		var rowErr *tabular.RowError
		if errors.As(err, &rowErr) {
			continue
		}
		if err != nil {
			return nil, leadcycle.FieldErrorf(leadcycle.EInvalid, "file", "%s", err)
		}
		cells := make([]string, len(header))
		copy(cells, row.Cells)
		prev.Samples = append(prev.Samples, cells)
	}
	schema, err := s.store.Schema(ctx, importCustomEntity[opts.Entity])
	if err != nil {
		return nil, err
	}
	fields, err := mapping.Fields(opts.Entity, schema)
	if err != nil {
		return nil, leadcycle.FieldErrorf(leadcycle.EInvalid, "entity", "%v", err)
	}
	for _, f := range fields {
		choices := f.Choices
		if choices == nil {
			choices = []string{}
		}
		prev.Fields = append(prev.Fields, ImportPreviewField{Name: f.Name, Label: f.Label, Kind: f.Kind, Choices: choices})
	}
	// The import's own preparation decides; when it refuses the mapping,
	// the columns are mapped as far as they can be, to be corrected.
	job := &leadcycle.ImportJob{Source: leadcycle.ImportSourceUpload, FileName: name, Options: opts}
	if err := importer.Prepare(ctx, s.store, job, path); err != nil {
		if leadcycle.ErrorCode(err) != leadcycle.EInvalid {
			return nil, err
		}
		if fields := leadcycle.ErrorFields(err); len(fields) == 0 || fields[0].Field != "columns" {
			return nil, err
		}
		prev.Error = leadcycle.ErrorFields(err)[0].Message
		prev.Columns = s.bestMapping(r, opts, header, schema)
		return prev, nil
	}
	prev.Columns = job.Columns
	if job.Warnings != nil {
		prev.Warnings = job.Warnings
	}
	return prev, nil
}

// bestMapping maps the columns as the import would, skipping the choices
// that cannot be applied.
func (s *Server) bestMapping(r *http.Request, opts leadcycle.ImportOptions, header []string, schema leadcycle.Schema) []leadcycle.ImportColumn {
	m, err := mapping.Auto(opts.Entity, header, schema)
	if err != nil {
		return []leadcycle.ImportColumn{}
	}
	if opts.MappingID != nil {
		if saved, err := s.store.ImportMappings().Get(r.Context(), *opts.MappingID); err == nil {
			if next, err := m.Apply(opts.Entity, saved.Columns, schema); err == nil {
				m = markHow(next, "saved")
			}
		}
	}
	if len(opts.Columns) > 0 {
		if next, err := m.Apply(opts.Entity, opts.Columns, schema); err == nil {
			m = next
		}
	}
	out := make([]leadcycle.ImportColumn, len(m.Columns))
	for i, c := range m.Columns {
		out[i] = leadcycle.ImportColumn{Index: c.Index, Header: c.Header, Field: c.Field, How: c.How}
	}
	return out
}

// markHow names how explicitly chosen columns were chosen.
func markHow(m mapping.Mapping, how string) mapping.Mapping {
	for i := range m.Columns {
		if m.Columns[i].How == mapping.HowExplicit {
			m.Columns[i].How = how
		}
	}
	return m
}

func firstRune(s string) rune {
	if s == "" {
		return 0
	}
	return []rune(s)[0]
}

// OpenAPI of the preview.

func init() {
	schemaTypes["ImportPreview"] = reflect.TypeFor[ImportPreview]()
	schemaTypes["ImportPreviewField"] = reflect.TypeFor[ImportPreviewField]()
	enums["ImportPreview.entity"] = leadcycle.ImportEntities
	enums["ImportPreviewField.kind"] = []string{mapping.KindText, mapping.KindEmail, mapping.KindPhone, mapping.KindNumber, mapping.KindInteger,
		mapping.KindBool, mapping.KindDate, mapping.KindChoice, mapping.KindID}
	for k, d := range map[string]string{
		"ImportPreview.columns":      "Every column of the file and the field it would be imported into (\"\" when it would not be).",
		"ImportPreview.samples":      "The first data rows of the file, one cell per column.",
		"ImportPreview.fields":       "The fields of the entity a column can be mapped to with the columns option.",
		"ImportPreview.error":        "Why an import with these options would be refused (e.g. no column identifies a record); empty when it would be accepted.",
		"ImportPreviewField.label":   "The field's English label.",
		"ImportPreviewField.choices": "For choice fields, the stored values.",
	} {
		fieldDescriptions[k] = d
	}
	operations = append(operations, operation{"POST", importPreviewPath, "Dry run of an import: the file's headers, first rows and column mapping, storing nothing", "import-preview", "imports"})
	operationDescribers["import-preview"] = describeImportPreview
}

func describeImportPreview(op operation, out obj) obj {
	out["operationId"] = "previewImport"
	out["description"] = "Send the file and options exactly as for POST /api/v1/imports. The file is read, its columns are mapped (saved mapping, then the columns option, then the automatic mapping), " +
		"and the answer shows the result with the first rows; no job is created and the file is not kept. Change the mapping with the columns option and import with the same options."
	out["requestBody"] = obj{"required": true, "content": obj{
		"multipart/form-data": obj{"schema": obj{"type": "object", "required": []string{"file"}, "properties": obj{
			"file": obj{"type": "string", "contentMediaType": "application/octet-stream"}, "options": ref("ImportOptions")}}},
		"text/csv": obj{"schema": obj{"type": "string"}},
		"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": obj{"schema": obj{"type": "string", "contentMediaType": "application/octet-stream"}},
	}}
	out["parameters"] = []obj{
		{"name": "entity", "in": "query", "schema": obj{"type": "string", "enum": leadcycle.ImportEntities}, "description": "With a raw body: what the rows are"},
		{"name": "file_name", "in": "query", "schema": obj{"type": "string"}, "description": "With a raw body: the file's name"},
	}
	responses := out["responses"].(obj)
	responses["200"] = jsonResponse("How the file would be imported", ref("ImportPreview"))
	responses["400"] = problemResponse("The upload could not be read")
	responses["401"] = problemResponse("No valid API key")
	responses["403"] = problemResponse("The key's role may not import")
	responses["413"] = problemResponse("The file is larger than the server's import limit")
	responses["415"] = problemResponse("Neither multipart/form-data nor a CSV or XLSX body")
	responses["422"] = problemResponse("An option breaks a rule, or the file cannot be read (named in field file)")
	return out
}
