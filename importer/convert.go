package importer

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/mapping"
	"github.com/leadcycle/leadcycle/tabular"
)

// converter turns the cells of a row into an ImportRow through the job's
// column mapping.
type converter struct {
	entity       string
	columns      []leadcycle.ImportColumn // mapped columns only
	headerCount  int
	fields       map[string]mapping.Field
	values       map[string]map[string]string
	dayFirst     bool
	decimalComma bool
	countries    *countries
}

func newConverter(job *leadcycle.ImportJob, fields []mapping.Field, headerCount int) *converter {
	c := &converter{
		entity: job.Options.Entity, headerCount: headerCount, fields: map[string]mapping.Field{},
		values: job.Options.Values, dayFirst: job.Options.DayFirst, decimalComma: job.Delimiter == ";",
	}
	if job.Options.Entity == leadcycle.ImportAccounts {
		c.countries = newCountries()
	}
	for _, f := range fields {
		c.fields[f.Name] = f
	}
	for _, col := range job.Columns {
		if col.Field != "" {
			c.columns = append(c.columns, col)
		}
	}
	return c
}

// cellError is one refused cell.
func cellError(line int64, col leadcycle.ImportColumn, value, format string, args ...any) leadcycle.ImportError {
	return leadcycle.ImportError{Line: line, Column: col.Header, Value: value, Reason: fmt.Sprintf(format, args...), Severity: leadcycle.SeverityError}
}

// convert reads one row. It returns the row to write, or the errors that
// keep it out.
func (c *converter) convert(row tabular.Row) (*leadcycle.ImportRow, []leadcycle.ImportError) {
	r := &leadcycle.ImportRow{Line: row.Line}
	switch c.entity {
	case leadcycle.ImportContacts:
		r.Contact = &leadcycle.Contact{Custom: leadcycle.Custom{}}
	case leadcycle.ImportAccounts:
		r.Account = &leadcycle.Account{Custom: leadcycle.Custom{}}
	default:
		r.Lead = &leadcycle.Lead{Custom: leadcycle.Custom{}}
	}
	var errs []leadcycle.ImportError
	if extra := extraCells(row.Cells, c.headerCount); extra > 0 {
		errs = append(errs, leadcycle.ImportError{Line: row.Line, Reason: fmt.Sprintf("the row has %s beyond the %d columns of the header; a delimiter or quote is probably missing", plural(extra, "cell with a value", "cells with values"), c.headerCount), Severity: leadcycle.SeverityError})
	}
	names := nameParts{}
	any := false
	for _, col := range c.columns {
		if col.Index >= len(row.Cells) {
			continue // a short (ragged) row: the column is not given
		}
		v := undefuse(strings.TrimSpace(row.Cells[col.Index]))
		r.Given = append(r.Given, col.Field)
		if v == "" {
			continue
		}
		if r.Cells == nil {
			r.Cells = map[string]string{}
		}
		r.Cells[col.Field] = v
		any = true
		if err := c.set(r, &names, col, v); err != nil {
			errs = append(errs, cellError(row.Line, col, v, "%s", err.Error()))
		}
	}
	if !any && len(errs) == 0 {
		errs = append(errs, leadcycle.ImportError{Line: row.Line, Reason: "the row has no value in any imported column", Severity: leadcycle.SeverityError})
	}
	if len(errs) > 0 {
		return nil, errs
	}
	names.apply(r)
	return r, nil
}

// extraCells counts the non-empty cells past the header's columns.
func extraCells(cells []string, n int) int {
	extra := 0
	for i := n; i < len(cells); i++ {
		if strings.TrimSpace(cells[i]) != "" {
			extra++
		}
	}
	return extra
}

// set stores one non-empty cell.
func (c *converter) set(r *leadcycle.ImportRow, names *nameParts, col leadcycle.ImportColumn, v string) error {
	field := col.Field
	f, ok := c.fields[field]
	if !ok {
		return fmt.Errorf("unknown field %q", field)
	}
	if vm := c.values[field]; len(vm) > 0 && f.Kind != mapping.KindChoice {
		if mapped, ok := vm[v]; ok {
			v = mapped
		}
	}
	if name, ok := strings.CutPrefix(field, "custom."); ok {
		val, err := c.value(f, v)
		if err == nil {
			c.custom(r)[name] = val
		}
		return err
	}
	switch field {
	case "first_name", "last_name", "full_name":
		names.set(field, v)
		return nil
	case "id":
		id, err := parseID(v)
		r.ID = id
		return err
	}
	switch {
	case r.Contact != nil:
		return c.setContact(r, f, v)
	case r.Account != nil:
		return c.setAccount(r.Account, f, v)
	default:
		return c.setLead(r, f, v)
	}
}

func (c *converter) custom(r *leadcycle.ImportRow) leadcycle.Custom {
	switch {
	case r.Contact != nil:
		return r.Contact.Custom
	case r.Account != nil:
		return r.Account.Custom
	default:
		return r.Lead.Custom
	}
}

// value parses a cell by the field's kind.
func (c *converter) value(f mapping.Field, v string) (any, error) {
	switch f.Kind {
	case mapping.KindNumber:
		return mapping.ParseNumber(v, c.decimalComma)
	case mapping.KindInteger:
		n, err := mapping.ParseInteger(v, c.decimalComma)
		return float64(n), err
	case mapping.KindBool:
		return mapping.ParseBool(v)
	case mapping.KindDate:
		t, err := mapping.ParseDate(v, c.dayFirst)
		if err != nil {
			return nil, err
		}
		return t.Format("2006-01-02"), nil
	case mapping.KindChoice:
		return f.Match(v, c.values[f.Name])
	}
	return v, nil
}

func (c *converter) setContact(r *leadcycle.ImportRow, f mapping.Field, v string) error {
	ct := r.Contact
	var err error
	switch f.Name {
	case "email":
		ct.Email = v
	case "phone":
		ct.Phone = v
	case "mobile_phone":
		if ct.Phone == "" {
			ct.Phone = v
		}
		r.Given = append(r.Given, "phone")
	case "job_title":
		ct.JobTitle = v
	case "account":
		r.AccountName = v
	case "account_domain":
		r.AccountDomain = v
	case "account_id":
		ct.AccountID, err = parseID(v)
	case "owner_id":
		ct.OwnerID, err = parseID(v)
	case "consent.commercial_email":
		ct.Consent.CommercialEmail, err = consent(v, f)
	case "consent.tracking":
		ct.Consent.Tracking, err = consent(v, f)
	default:
		return fmt.Errorf("%s cannot be imported into contacts", f.Name)
	}
	return err
}

// consent reads a consent cell: granted/denied/unknown or a yes/no.
func consent(v string, f mapping.Field) (string, error) {
	if b, err := mapping.ParseBool(v); err == nil {
		if b {
			return leadcycle.ConsentGranted, nil
		}
		return leadcycle.ConsentDenied, nil
	}
	return f.Match(v, nil)
}

func (c *converter) setAccount(a *leadcycle.Account, f mapping.Field, v string) error {
	var err error
	switch f.Name {
	case "name":
		a.Name = v
	case "website":
		a.Website = v
	case "domain":
		a.Domain = leadcycle.DomainOf(v)
		if a.Domain == "" {
			return fmt.Errorf("not a domain name")
		}
	case "industry":
		a.Industry = v
	case "employees":
		var n int64
		n, err = mapping.ParseInteger(v, c.decimalComma)
		a.Employees = &n
	case "revenue":
		var x float64
		x, err = mapping.ParseNumber(v, c.decimalComma)
		a.Revenue = &x
	case "country":
		a.Country, err = c.countries.code(v)
	case "owner_id":
		a.OwnerID, err = parseID(v)
	default:
		return fmt.Errorf("%s cannot be imported into accounts", f.Name)
	}
	return err
}

func (c *converter) setLead(r *leadcycle.ImportRow, f mapping.Field, v string) error {
	l := r.Lead
	var err error
	switch f.Name {
	case "topic":
		l.Topic = v
	case "description":
		l.Description = v
	case "purchase_timeframe":
		l.PurchaseTimeframe, err = f.Match(v, c.values[f.Name])
	case "purchase_process":
		l.PurchaseProcess, err = f.Match(v, c.values[f.Name])
	case "need":
		l.Need, err = f.Match(v, c.values[f.Name])
	case "status":
		l.Status, err = f.Match(v, c.values[f.Name])
	case "status_reason":
		l.StatusReason, err = f.Match(v, c.values[f.Name])
	case "budget_amount":
		var x float64
		x, err = mapping.ParseNumber(v, c.decimalComma)
		l.BudgetAmount = &x
	case "campaign":
		l.Campaign = v
	case "contact_id":
		l.ContactID, err = parseID(v)
	case "email":
		r.ContactEmail = v
	case "account":
		r.AccountName = v
	case "account_id":
		l.AccountID, err = parseID(v)
	case "owner_id":
		l.OwnerID, err = parseID(v)
	case "phone", "job_title", "mobile_phone":
		// Contact details of lead templates: the lead takes its contact's.
	default:
		return fmt.Errorf("%s cannot be imported into leads", f.Name)
	}
	return err
}

// parseID reads a record id.
func parseID(v string) (*leadcycle.ID, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n <= 0 {
		return nil, fmt.Errorf("not a record id (a positive whole number)")
	}
	return leadcycle.IDPtr(leadcycle.ID(n)), nil
}

// nameParts collects the name cells of a row: first and last names win
// over a full name, which is split when they are missing.
type nameParts struct{ first, last, full string }

func (n *nameParts) set(field, v string) {
	switch field {
	case "first_name":
		n.first = v
	case "last_name":
		n.last = v
	default:
		n.full = v
	}
}

func (n *nameParts) apply(r *leadcycle.ImportRow) {
	first, last := n.first, n.last
	if first == "" && last == "" && n.full != "" {
		first, last = splitName(n.full)
		r.Given = append(r.Given, "first_name", "last_name")
	}
	if r.Contact != nil {
		r.Contact.FirstName, r.Contact.LastName = first, last
	}
}

// splitName splits a full name: "Last, First" at the comma; "First Middle
// Last" before the last word; a Han, Hangul or kana name without spaces after
// its first character (the family name comes first).
func splitName(full string) (first, last string) {
	full = strings.Join(strings.Fields(full), " ")
	if l, f, ok := strings.Cut(full, ","); ok {
		return strings.TrimSpace(f), strings.TrimSpace(l)
	}
	if i := strings.LastIndexByte(full, ' '); i > 0 {
		return full[:i], full[i+1:]
	}
	r, size := utf8.DecodeRuneInString(full)
	if size < len(full) && (unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hangul, r)) {
		return full[size:], full[:size]
	}
	return full, ""
}

// plural writes "1 cell" or "2 cells".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
