package leadcycle

import (
	"context"
	"io"
	"strings"
	"time"
)

// Import entities: what the rows of an import file become.
const (
	ImportContacts = "contacts"
	ImportAccounts = "accounts"
	ImportLeads    = "leads"
)

// ImportEntities lists the importable entities.
var ImportEntities = []string{ImportContacts, ImportAccounts, ImportLeads}

// Import job statuses. Queued and running jobs are picked up (again after a
// restart) by the import worker; the others are final.
const (
	ImportQueued   = "queued"
	ImportRunning  = "running"
	ImportDone     = "done"
	ImportFailed   = "failed"
	ImportCanceled = "canceled"
)

// ImportStatuses lists the job statuses.
var ImportStatuses = []string{ImportQueued, ImportRunning, ImportDone, ImportFailed, ImportCanceled}

// What an import does with a row that matches an existing record.
const (
	OnMatchUpdate = "update" // update the matched record
	OnMatchSkip   = "skip"   // leave it as it is; the row counts as skipped
	OnMatchCreate = "create" // create a new record anyway (duplicates allowed)
)

// OnMatchActions lists the choices for ImportOptions.OnMatch.
var OnMatchActions = []string{OnMatchUpdate, OnMatchSkip, OnMatchCreate}

// Where an import's file is kept.
const (
	ImportSourceUpload = "upload" // stored in the database with the job
	ImportSourcePath   = "path"   // a local file named by the job (CLI imports)
)

// ImportOptions say how an import reads its file and writes its rows.
type ImportOptions struct {
	Entity string `json:"entity"`
	// OnMatch is update (the default), skip or create.
	OnMatch string `json:"on_match"`
	// StrategyID is the matching strategy (a contact strategy for contacts,
	// a lead strategy for leads); nil means the default one. Accounts match
	// on their domain, then on their name.
	StrategyID *ID `json:"strategy_id"`
	// MappingID names a saved mapping whose columns and values apply first.
	MappingID *ID `json:"mapping_id"`
	// Columns maps file headers to fields ("" skips a column); it overrides
	// the saved mapping and the automatic one.
	Columns map[string]string `json:"columns"`
	// Values maps, per field, values of the file to stored values (for
	// choice fields: "Hot" → "a").
	Values map[string]map[string]string `json:"values"`
	// ClearEmpty makes empty cells clear the matched record's values; by
	// default they leave them as they are.
	ClearEmpty bool `json:"clear_empty"`
	// DayFirst reads dates like 02/03/2026 as 2 March (else as February 3).
	DayFirst bool `json:"day_first"`
	// Format, Encoding, Delimiter and Sheet override what is detected.
	Format    string `json:"format"`
	Encoding  string `json:"encoding"`
	Delimiter string `json:"delimiter"`
	Sheet     string `json:"sheet"`
}

// ImportColumn is how one column of the file is read.
type ImportColumn struct {
	Index  int    `json:"index"`
	Header string `json:"header"`
	Field  string `json:"field"` // "" when the column is not imported
	How    string `json:"how"`   // auto, saved, explicit or ""
}

// ImportCounts add up: Rows = Created + Updated + Skipped + Failed.
type ImportCounts struct {
	Rows    int64 `json:"rows"`
	Created int64 `json:"created"`
	Updated int64 `json:"updated"`
	Skipped int64 `json:"skipped"`
	Failed  int64 `json:"failed"`
	// AccountsCreated counts accounts created for contacts whose company
	// was not found; LeadsWithoutContact counts imported leads that have no
	// parent contact (they cannot be scored until one is set).
	AccountsCreated     int64 `json:"accounts_created"`
	LeadsWithoutContact int64 `json:"leads_without_contact"`
}

// Add adds the counts of b to c.
func (c *ImportCounts) Add(b ImportCounts) {
	c.Rows += b.Rows
	c.Created += b.Created
	c.Updated += b.Updated
	c.Skipped += b.Skipped
	c.Failed += b.Failed
	c.AccountsCreated += b.AccountsCreated
	c.LeadsWithoutContact += b.LeadsWithoutContact
}

// ImportJob is one import: its file, options, progress and outcome.
type ImportJob struct {
	ID       ID            `json:"id"`
	Status   string        `json:"status"`
	Source   string        `json:"source"`
	FileName string        `json:"file_name"`
	Path     string        `json:"-"`
	Size     int64         `json:"size"`
	SHA256   string        `json:"sha256"`
	Options  ImportOptions `json:"options"`
	// Format, Encoding and Delimiter are what was detected (or chosen).
	Format    string         `json:"format"`
	Encoding  string         `json:"encoding"`
	Delimiter string         `json:"delimiter"`
	Columns   []ImportColumn `json:"columns"`
	ImportCounts
	// Position is the number of data rows whose outcome is committed: a
	// resumed job skips them.
	Position  int64    `json:"position"`
	BytesDone int64    `json:"bytes_done"`
	Warnings  []string `json:"warnings"`
	Error     string   `json:"error"`
	// CancelRequested asks a running job to stop after its current batch.
	CancelRequested bool       `json:"cancel_requested"`
	Actor           string     `json:"actor"`
	CreatedAt       time.Time  `json:"created_at"`
	StartedAt       *time.Time `json:"started_at"`
	FinishedAt      *time.Time `json:"finished_at"`
	UpdatedAt       time.Time  `json:"updated_at"`
}

// Final reports whether the job has ended.
func (j *ImportJob) Final() bool {
	return j.Status == ImportDone || j.Status == ImportFailed || j.Status == ImportCanceled
}

// Normalize fills the defaults of the options.
func (o *ImportOptions) Normalize() {
	o.Entity = strings.TrimSpace(strings.ToLower(o.Entity))
	if o.OnMatch == "" {
		o.OnMatch = OnMatchUpdate
	}
	if o.Columns == nil {
		o.Columns = map[string]string{}
	}
	if o.Values == nil {
		o.Values = map[string]map[string]string{}
	}
}

// Validate checks the options that do not depend on the file.
func (o *ImportOptions) Validate() error {
	var v validator
	v.oneOf("entity", o.Entity, ImportEntities)
	v.oneOf("on_match", o.OnMatch, OnMatchActions)
	if o.Format != "" {
		v.oneOf("format", o.Format, []string{"csv", "xlsx"})
	}
	if o.Encoding != "" {
		v.oneOf("encoding", o.Encoding, []string{"utf-8", "utf-16le", "utf-16be", "windows-1252"})
	}
	if o.Delimiter != "" {
		v.oneOf("delimiter", o.Delimiter, []string{",", ";", "\t", "|"})
	}
	v.maxLen("sheet", o.Sheet, 31)
	for h, f := range o.Columns {
		v.maxLen("columns["+h+"]", f, 200)
	}
	return v.Err()
}

// ImportError is a row that was not imported, or a problem with one of its
// cells: the line of the file, the column and why.
type ImportError struct {
	Seq    int64  `json:"seq"` // order in the report
	Line   int64  `json:"line"`
	Column string `json:"column"`
	Value  string `json:"value"`
	Reason string `json:"reason"`
	// Severity is "error" for a row that was not imported, "notice" for a
	// row imported with a remark (a lead without a contact).
	Severity string `json:"severity"`
}

// Report severities.
const (
	SeverityError  = "error"
	SeverityNotice = "notice"
)

// ImportMapping is a saved, reusable column mapping: headers to fields, and
// per field the file values to stored values.
type ImportMapping struct {
	ID        ID                           `json:"id"`
	Name      string                       `json:"name"`
	Entity    string                       `json:"entity"`
	Columns   map[string]string            `json:"columns"`
	Values    map[string]map[string]string `json:"values"`
	CreatedAt time.Time                    `json:"created_at"`
	UpdatedAt time.Time                    `json:"updated_at"`
}

// Normalize trims the mapping and fills empty maps.
func (m *ImportMapping) Normalize() {
	m.Name = strings.TrimSpace(m.Name)
	m.Entity = strings.TrimSpace(strings.ToLower(m.Entity))
	if m.Columns == nil {
		m.Columns = map[string]string{}
	}
	if m.Values == nil {
		m.Values = map[string]map[string]string{}
	}
}

// Validate checks the mapping's own fields; the importer checks the field
// names against the entity when the mapping is used.
func (m *ImportMapping) Validate() error {
	var v validator
	v.required("name", m.Name)
	v.maxLen("name", m.Name, 200)
	v.oneOf("entity", m.Entity, ImportEntities)
	if len(m.Columns) > 1000 {
		v.add("columns", "at most 1000 columns")
	}
	for h, f := range m.Columns {
		v.maxLen("columns["+h+"]", f, 200)
		if strings.TrimSpace(h) == "" {
			v.add("columns", "headers must not be empty")
		}
	}
	return v.Err()
}

// ImportRow is one row ready to be written: exactly one of Contact, Account
// and Lead is set. Given lists the fields the row had a column for (empty
// cells included), so that ClearEmpty can tell "empty" from "not in the
// file".
type ImportRow struct {
	Line    int64
	Contact *Contact
	Account *Account
	Lead    *Lead
	Given   []string
	// Cells holds the raw text of the row's cells by field, for the report.
	Cells map[string]string
	// ID, when set, is the record to update (an id column); matching is not
	// used for the row.
	ID *ID
	// AccountName and AccountDomain link a contact (or a lead) to an
	// account: an existing one by domain, then by name; contacts whose
	// account is not found get a new account.
	AccountName   string
	AccountDomain string
	// ContactEmail links a lead to the contact with this email.
	ContactEmail string
}

// ImportBatch is a run of consecutive rows of a job: the rows to write, the
// rows that already failed to convert, and where the job stands after them.
type ImportBatch struct {
	Rows   []ImportRow
	Errors []ImportError
	// Failed counts the rows of Errors (a row may have several errors).
	Failed int64
	// Position is the number of data rows read once this batch is
	// committed, BytesDone how far into the file that is.
	Position  int64
	BytesDone int64
	// Next is the batch that follows, when it has been read already: a
	// store may look its rows up while it writes this one.
	Next *ImportBatch
	// ReadAhead is what the store looked up for this batch while it wrote
	// the one before; only the store that set it reads it.
	ReadAhead any
}

// ImportStore keeps import jobs, their files and error reports, and writes
// import batches.
type ImportStore interface {
	// CreateImport stores a new job (queued) and, for uploads, its file.
	CreateImport(ctx context.Context, job *ImportJob, file io.Reader) error
	// GetImport returns a job, or ENotFound.
	GetImport(ctx context.Context, id ID) (*ImportJob, error)
	// ListImports lists jobs, newest first.
	ListImports(ctx context.Context, q ListQuery) (Page[ImportJob], error)
	// CancelImport cancels a queued job at once and asks a running one to
	// stop after its batch; a final job is an EConflict.
	CancelImport(ctx context.Context, id ID) (*ImportJob, error)
	// ClaimImport takes job id (or, when id is 0, the oldest one) if it is
	// queued, or running with an expired lease (its process died or let it
	// go), for owner for the lease's duration; nil when there is none.
	ClaimImport(ctx context.Context, id ID, owner string, lease time.Duration) (*ImportJob, error)
	// ReleaseImport lets go of a running job without ending it, so that it
	// can be resumed at once (an interrupted CLI import).
	ReleaseImport(ctx context.Context, job *ImportJob, owner string) error
	// StartImport records what was detected in the file (format, encoding,
	// columns, warnings) for a claimed job.
	StartImport(ctx context.Context, job *ImportJob, owner string) error
	// ImportFile copies an uploaded job's file to w.
	ImportFile(ctx context.Context, id ID, w io.Writer) error
	// ApplyImportBatch writes a batch in one transaction: it matches and
	// writes the rows, records every error, adds the batch's counts to the
	// job and moves its position, and extends owner's lease. A row that
	// breaks a rule becomes an error of the report, not a failure of the
	// batch. It returns EConflict when owner no longer holds the job.
	ApplyImportBatch(ctx context.Context, job *ImportJob, owner string, b *ImportBatch) error
	// FinishImport ends a job with its final status (done, failed or
	// canceled) and error, and drops an uploaded file.
	FinishImport(ctx context.Context, job *ImportJob, owner string) error
	// ImportErrors returns the errors of a job in file order, those after
	// the error with sequence number after.
	ImportErrors(ctx context.Context, id ID, after int64, limit int) ([]ImportError, error)
}
