package importer

import (
	"context"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/tabular"
)

// exportPage is the number of records read per query while exporting.
const exportPage = 1000

// Exporter writes contacts, accounts or leads to a CSV or XLSX file, with
// headers that the importer maps back to the same fields: an export imported
// into an empty database makes the same records (accounts first, then
// contacts, then leads, which link to them by name and email).
type Exporter struct {
	Store  leadcycle.Store
	Entity string
	Format string // csv (the default) or xlsx
	// Query filters and sorts the records, as the list of the collection
	// does; its cursor and limit are ignored.
	Query leadcycle.ListQuery
}

// column is one exported column: its header, kind and how a record gives
// its cell.
type column[T any] struct {
	header string
	kind   tabular.Kind
	cell   func(*T) string
}

// Export streams the records to w and returns how many it wrote.
func (e *Exporter) Export(ctx context.Context, w io.Writer) (int64, error) {
	var tw tabular.Writer
	var xw *tabular.XLSXWriter
	switch e.Format {
	case "", tabular.FormatCSV:
		tw = tabular.NewCSVWriter(w, true)
	case tabular.FormatXLSX:
		xw = tabular.NewXLSXWriter(w, e.Entity)
		tw = xw
	default:
		return 0, leadcycle.FieldErrorf(leadcycle.EInvalid, "format", "must be csv or xlsx")
	}
	schema, err := e.Store.Schema(ctx, customEntity[e.Entity])
	if err != nil {
		return 0, err
	}
	var n int64
	switch e.Entity {
	case leadcycle.ImportContacts:
		n, err = exportRecords(ctx, e, tw, xw, e.Store.Contacts(), contactColumns(ctx, e.Store, schema))
	case leadcycle.ImportAccounts:
		n, err = exportRecords(ctx, e, tw, xw, e.Store.Accounts(), accountColumns(schema))
	case leadcycle.ImportLeads:
		n, err = exportRecords(ctx, e, tw, xw, e.Store.Leads(), leadColumns(ctx, e.Store, schema))
	default:
		return 0, leadcycle.FieldErrorf(leadcycle.EInvalid, "entity", "must be one of contacts, accounts, leads")
	}
	if err != nil {
		return n, err
	}
	return n, tw.Close()
}

func exportRecords[T leadcycle.Record](ctx context.Context, e *Exporter, tw tabular.Writer, xw *tabular.XLSXWriter, repo leadcycle.Repo[T], cols []column[T]) (int64, error) {
	header := make([]string, len(cols))
	kinds := make([]tabular.Kind, len(cols))
	for i, c := range cols {
		header[i], kinds[i] = c.header, c.kind
	}
	if xw != nil {
		xw.SetKinds(kinds)
	}
	if err := tw.Write(header); err != nil {
		return 0, err
	}
	q := e.Query
	q.Limit, q.Cursor = exportPage, ""
	cells := make([]string, len(cols))
	var n int64
	for {
		page, err := repo.List(ctx, q)
		if err != nil {
			return n, err
		}
		for i := range page.Items {
			for j, c := range cols {
				cells[j] = c.cell(&page.Items[i])
				if xw == nil {
					cells[j] = defuse(cells[j])
				}
			}
			if err := tw.Write(cells); err != nil {
				return n, err
			}
			n++
		}
		if page.NextCursor == "" {
			return n, nil
		}
		q.Cursor = page.NextCursor
	}
}

// defuse keeps a CSV cell from being run as a formula by the spreadsheet
// that opens the file: a cell that starts like one gets a leading
// apostrophe, which spreadsheets hide and the importer removes. Phone
// numbers and negative numbers ("+34…", "-12") are left alone.
func defuse(s string) string {
	if formulaLike(s) {
		return "'" + s
	}
	return s
}

func formulaLike(s string) bool {
	if s == "" {
		return false
	}
	switch s[0] {
	case '=', '@', '\t', '\r':
		return true
	case '+', '-':
		return len(s) > 1 && !strings.ContainsRune("0123456789 (.", rune(s[1]))
	}
	return false
}

// undefuse removes the apostrophe defuse adds.
func undefuse(s string) string {
	if rest, ok := strings.CutPrefix(s, "'"); ok && formulaLike(rest) {
		return rest
	}
	return s
}

func idText(id *leadcycle.ID) string {
	if id == nil {
		return ""
	}
	return id.String()
}

func timeText(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func numText(f *float64) string {
	if f == nil {
		return ""
	}
	return strconv.FormatFloat(*f, 'f', -1, 64)
}

// customColumns are one column per custom field of the schema.
func customColumns[T any](schema leadcycle.Schema, custom func(*T) leadcycle.Custom) []column[T] {
	out := make([]column[T], 0, len(schema))
	for _, f := range schema {
		kind := tabular.KindText
		switch f.Type {
		case leadcycle.FieldNumber:
			kind = tabular.KindNumber
		case leadcycle.FieldDate:
			kind = tabular.KindDate
		}
		out = append(out, column[T]{"custom." + f.Name, kind, func(v *T) string { return custom(v).Text(f.Name) }})
	}
	return out
}

// names caches the names and domains of accounts and the emails of contacts
// that exported records refer to.
type names struct {
	store    leadcycle.Store
	accounts map[leadcycle.ID]*leadcycle.Account
	contacts map[leadcycle.ID]string
}

func (n *names) account(ctx context.Context, id *leadcycle.ID) *leadcycle.Account {
	if id == nil {
		return nil
	}
	if a, ok := n.accounts[*id]; ok {
		return a
	}
	if len(n.accounts) > 50_000 {
		clear(n.accounts)
	}
	a, err := n.store.Accounts().Get(ctx, *id)
	if err != nil {
		a = nil
	}
	n.accounts[*id] = a
	return a
}

func (n *names) email(ctx context.Context, id *leadcycle.ID) string {
	if id == nil {
		return ""
	}
	if e, ok := n.contacts[*id]; ok {
		return e
	}
	if len(n.contacts) > 50_000 {
		clear(n.contacts)
	}
	c, err := n.store.Contacts().Get(ctx, *id)
	e := ""
	if err == nil {
		e = c.Email
	}
	n.contacts[*id] = e
	return e
}

func newNames(s leadcycle.Store) *names {
	return &names{store: s, accounts: map[leadcycle.ID]*leadcycle.Account{}, contacts: map[leadcycle.ID]string{}}
}

func contactColumns(ctx context.Context, s leadcycle.Store, schema leadcycle.Schema) []column[leadcycle.Contact] {
	n := newNames(s)
	accountName := func(c *leadcycle.Contact) string {
		if a := n.account(ctx, c.AccountID); a != nil {
			return a.Name
		}
		return ""
	}
	accountDomain := func(c *leadcycle.Contact) string {
		if a := n.account(ctx, c.AccountID); a != nil {
			return a.Domain
		}
		return ""
	}
	cols := []column[leadcycle.Contact]{
		{"id", tabular.KindText, func(c *leadcycle.Contact) string { return c.ID.String() }},
		{"first_name", tabular.KindText, func(c *leadcycle.Contact) string { return c.FirstName }},
		{"last_name", tabular.KindText, func(c *leadcycle.Contact) string { return c.LastName }},
		{"email", tabular.KindText, func(c *leadcycle.Contact) string { return c.Email }},
		{"phone", tabular.KindText, func(c *leadcycle.Contact) string { return c.Phone }},
		{"job_title", tabular.KindText, func(c *leadcycle.Contact) string { return c.JobTitle }},
		{"account", tabular.KindText, accountName},
		{"account_domain", tabular.KindText, accountDomain},
		{"owner_id", tabular.KindText, func(c *leadcycle.Contact) string { return idText(c.OwnerID) }},
		{"consent.commercial_email", tabular.KindText, func(c *leadcycle.Contact) string { return c.Consent.CommercialEmail }},
		{"consent.tracking", tabular.KindText, func(c *leadcycle.Contact) string { return c.Consent.Tracking }},
		{"origin", tabular.KindText, func(c *leadcycle.Contact) string { return c.Origin }},
	}
	cols = append(cols, customColumns(schema, func(c *leadcycle.Contact) leadcycle.Custom { return c.Custom })...)
	return append(cols,
		column[leadcycle.Contact]{"created_at", tabular.KindText, func(c *leadcycle.Contact) string { return timeText(c.CreatedAt) }},
		column[leadcycle.Contact]{"updated_at", tabular.KindText, func(c *leadcycle.Contact) string { return timeText(c.UpdatedAt) }})
}

func accountColumns(schema leadcycle.Schema) []column[leadcycle.Account] {
	cols := []column[leadcycle.Account]{
		{"id", tabular.KindText, func(a *leadcycle.Account) string { return a.ID.String() }},
		{"name", tabular.KindText, func(a *leadcycle.Account) string { return a.Name }},
		{"website", tabular.KindText, func(a *leadcycle.Account) string { return a.Website }},
		{"domain", tabular.KindText, func(a *leadcycle.Account) string { return a.Domain }},
		{"industry", tabular.KindText, func(a *leadcycle.Account) string { return a.Industry }},
		{"employees", tabular.KindNumber, func(a *leadcycle.Account) string {
			if a.Employees == nil {
				return ""
			}
			return strconv.FormatInt(*a.Employees, 10)
		}},
		{"revenue", tabular.KindNumber, func(a *leadcycle.Account) string { return numText(a.Revenue) }},
		{"country", tabular.KindText, func(a *leadcycle.Account) string { return a.Country }},
		{"owner_id", tabular.KindText, func(a *leadcycle.Account) string { return idText(a.OwnerID) }},
	}
	cols = append(cols, customColumns(schema, func(a *leadcycle.Account) leadcycle.Custom { return a.Custom })...)
	return append(cols,
		column[leadcycle.Account]{"created_at", tabular.KindText, func(a *leadcycle.Account) string { return timeText(a.CreatedAt) }},
		column[leadcycle.Account]{"updated_at", tabular.KindText, func(a *leadcycle.Account) string { return timeText(a.UpdatedAt) }})
}

func leadColumns(ctx context.Context, s leadcycle.Store, schema leadcycle.Schema) []column[leadcycle.Lead] {
	n := newNames(s)
	cols := []column[leadcycle.Lead]{
		{"id", tabular.KindText, func(l *leadcycle.Lead) string { return l.ID.String() }},
		{"topic", tabular.KindText, func(l *leadcycle.Lead) string { return l.Topic }},
		{"email", tabular.KindText, func(l *leadcycle.Lead) string { return n.email(ctx, l.ContactID) }},
		{"account", tabular.KindText, func(l *leadcycle.Lead) string {
			if a := n.account(ctx, l.AccountID); a != nil && l.ContactID == nil {
				return a.Name
			}
			return ""
		}},
		{"status", tabular.KindText, func(l *leadcycle.Lead) string { return l.Status }},
		{"status_reason", tabular.KindText, func(l *leadcycle.Lead) string { return l.StatusReason }},
		{"description", tabular.KindText, func(l *leadcycle.Lead) string { return l.Description }},
		{"campaign", tabular.KindText, func(l *leadcycle.Lead) string { return l.Campaign }},
		{"purchase_timeframe", tabular.KindText, func(l *leadcycle.Lead) string { return l.PurchaseTimeframe }},
		{"purchase_process", tabular.KindText, func(l *leadcycle.Lead) string { return l.PurchaseProcess }},
		{"budget_amount", tabular.KindNumber, func(l *leadcycle.Lead) string { return numText(l.BudgetAmount) }},
		{"need", tabular.KindText, func(l *leadcycle.Lead) string { return l.Need }},
		{"owner_id", tabular.KindText, func(l *leadcycle.Lead) string { return idText(l.OwnerID) }},
		{"stage", tabular.KindText, func(l *leadcycle.Lead) string { return l.Stage }},
		{"source", tabular.KindText, func(l *leadcycle.Lead) string { return l.Source }},
		{"sales_ready", tabular.KindText, func(l *leadcycle.Lead) string { return strconv.FormatBool(l.SalesReady) }},
	}
	cols = append(cols, customColumns(schema, func(l *leadcycle.Lead) leadcycle.Custom { return l.Custom })...)
	return append(cols,
		column[leadcycle.Lead]{"created_at", tabular.KindText, func(l *leadcycle.Lead) string { return timeText(l.CreatedAt) }},
		column[leadcycle.Lead]{"updated_at", tabular.KindText, func(l *leadcycle.Lead) string { return timeText(l.UpdatedAt) }})
}
