package web

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/leadcycle/leadcycle"
)

// The record pages: the contact and account lists with their filters, and
// a page per contact and account with its properties, custom fields, leads
// and recent interactions, and a form to edit its main fields. Everything
// is read and changed through the API, so that a salesperson sees only the
// leads of their scope and the API's validation names the wrong field.

func (s *Server) registerRecordPages() {
	s.handlePage("GET", "/contacts", leadcycle.Perm("contacts", leadcycle.ActionRead), s.contactListPage)
	s.handlePage("GET", "/contacts/{id}", leadcycle.Perm("contacts", leadcycle.ActionRead), s.contactPage)
	s.handlePage("POST", "/contacts/{id}/edit", leadcycle.Perm("contacts", leadcycle.ActionWrite), s.contactEditSubmit)
	s.handlePage("GET", "/accounts", leadcycle.Perm("accounts", leadcycle.ActionRead), s.accountListPage)
	s.handlePage("GET", "/accounts/{id}", leadcycle.Perm("accounts", leadcycle.ActionRead), s.accountPage)
	s.handlePage("POST", "/accounts/{id}/edit", leadcycle.Perm("accounts", leadcycle.ActionWrite), s.accountEditSubmit)
}

// recordList is what a list page needs besides its rows: the form's
// filters and sort, and the cursor of the next page.
type recordList struct {
	Query      url.Values
	Sort       string
	Sorts      []string
	NextCursor string
	// Paged is true past the first page.
	Paged bool
}

// FirstURL and NextURL are the links of the first and the next page, with
// the filters and sort. (Whole URLs: html/template escapes a query string
// written after a literal "?" as one value.)
func (l recordList) FirstURL(base string) string { return pageURL(base, l.Query, "") }

func (l recordList) NextURL(base string) string { return pageURL(base, l.Query, l.NextCursor) }

func pageURL(base string, q url.Values, cursor string) string {
	out := url.Values{}
	for k, v := range q {
		out[k] = v
	}
	if cursor != "" {
		out.Set("cursor", cursor)
	}
	if len(out) == 0 {
		return base
	}
	return base + "?" + out.Encode()
}

// listQuery builds the API query of a list page from the page's own query
// string: only the filters the form offers, the sort and the cursor.
func listQuery(in url.Values, filters, sorts []string) (api url.Values, list recordList) {
	api = url.Values{}
	list = recordList{Query: url.Values{}, Sorts: sorts}
	for _, f := range filters {
		if v := strings.TrimSpace(in.Get(f)); v != "" {
			api.Set(f, v)
			list.Query.Set(f, v)
		}
	}
	list.Sort = sorts[0]
	if v := in.Get("sort"); slices.Contains(sorts, v) {
		list.Sort = v
		if v != sorts[0] {
			list.Query.Set("sort", v)
		}
	}
	api.Set("sort", list.Sort)
	if c := in.Get("cursor"); c != "" {
		api.Set("cursor", c)
		list.Paged = true
	}
	api.Set("limit", "50")
	return api, list
}

// listProblem shows a list page with the problem of its filters (a wrong
// account id) instead of the error page, so the form can be corrected.
func listProblem(p *page, err error) error {
	if leadcycle.ErrorCode(err) != leadcycle.EInvalid {
		return err
	}
	p.Error = leadcycle.ErrorMessage(err)
	for _, f := range leadcycle.ErrorFields(err) {
		p.FieldErrors[f.Field] = f.Message
	}
	p.Status = http.StatusUnprocessableEntity
	return nil
}

// contactRow is one line of the contact list.
type contactRow struct {
	Contact leadcycle.Contact
	Name    string
	Account string
}

type contactListData struct {
	recordList
	Rows    []contactRow
	Origins []string
}

var contactSorts = []string{"-created_at", "created_at", "-updated_at", "last_name", "email"}

func (s *Server) contactListPage(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	q, list := listQuery(r.URL.Query(), []string{"email", "account_id", "origin"}, contactSorts)
	d := &contactListData{recordList: list, Origins: leadcycle.Sources}
	p.Title, p.Nav, p.Data = p.T("contacts.title"), "contacts", d
	var res leadcycle.Page[leadcycle.Contact]
	if err := s.api(r, p, "GET", "/api/v1/contacts?"+q.Encode(), nil, &res); err != nil {
		return "contacts", listProblem(p, err)
	}
	d.NextCursor = res.NextCursor
	names := s.recordNames(r)
	for _, c := range res.Items {
		d.Rows = append(d.Rows, contactRow{Contact: c, Name: contactName(&c), Account: names.account(c.AccountID)})
	}
	return "contacts", nil
}

// accountRow is one line of the account list.
type accountListData struct {
	recordList
	Rows []leadcycle.Account
}

var accountSorts = []string{"-created_at", "created_at", "-updated_at", "name"}

func (s *Server) accountListPage(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	q, list := listQuery(r.URL.Query(), []string{"domain", "industry", "country"}, accountSorts)
	if c := q.Get("country"); c != "" {
		q.Set("country", strings.ToUpper(c))
	}
	if dom := q.Get("domain"); dom != "" {
		q.Set("domain", strings.ToLower(dom))
	}
	d := &accountListData{recordList: list}
	p.Title, p.Nav, p.Data = p.T("accounts.title"), "accounts", d
	var res leadcycle.Page[leadcycle.Account]
	if err := s.api(r, p, "GET", "/api/v1/accounts?"+q.Encode(), nil, &res); err != nil {
		return "accounts", listProblem(p, err)
	}
	d.Rows, d.NextCursor = res.Items, res.NextCursor
	return "accounts", nil
}

// customValue is one custom field of a record as shown.
type customValue struct {
	Name, Label, Value string
}

// customValues lists a record's custom fields: the declared ones in their
// order, then any other value the record holds.
func (s *Server) customValues(r *http.Request, p *page, entity string, custom leadcycle.Custom) []customValue {
	var defs leadcycle.Page[leadcycle.FieldDef]
	_ = s.api(r, p, "GET", "/api/v1/fields?limit=500&entity="+entity, nil, &defs)
	var out []customValue
	seen := map[string]bool{}
	for _, f := range defs.Items {
		seen[f.Name] = true
		v := custom.Text(f.Name)
		if b, ok := custom[f.Name].(bool); ok {
			v = p.T("common.no")
			if b {
				v = p.T("common.yes")
			}
		}
		out = append(out, customValue{Name: f.Name, Label: cmp.Or(f.Label, f.Name), Value: v})
	}
	for _, k := range sortedKeys(custom) {
		if !seen[k] {
			v := custom.Text(k)
			if v == "" && custom[k] != nil {
				v = fmt.Sprint(custom[k])
			}
			out = append(out, customValue{Name: k, Label: k, Value: v})
		}
	}
	return out
}

// recordLead is one lead of a contact or account.
type recordLead struct {
	Lead  leadcycle.Lead
	Stage string
}

// recordLeads lists the leads of a contact or account through the API, so
// that a role limited to some leads sees only those.
func (s *Server) recordLeads(r *http.Request, p *page, param string, id leadcycle.ID) ([]recordLead, error) {
	var res leadcycle.Page[leadcycle.Lead]
	q := url.Values{param: {id.String()}, "sort": {"-created_at"}, "limit": {"50"}}
	if err := s.api(r, p, "GET", "/api/v1/leads?"+q.Encode(), nil, &res); err != nil {
		return nil, err
	}
	procs := map[leadcycle.ID]*leadcycle.Process{}
	var out []recordLead
	for _, l := range res.Items {
		var proc *leadcycle.Process
		if l.ProcessID != nil {
			var ok bool
			if proc, ok = procs[*l.ProcessID]; !ok {
				proc, _ = s.store.Processes().Get(r.Context(), *l.ProcessID)
				procs[*l.ProcessID] = proc
			}
		}
		out = append(out, recordLead{Lead: l, Stage: s.stageName(p, proc, l.Stage)})
	}
	return out, nil
}

// recordInteraction is one interaction on a record page.
type recordInteraction struct {
	Interaction leadcycle.Interaction
	Type        string
	Contact     string
}

// recordInteractions lists the latest interactions of a contact or of an
// account's contacts.
func (s *Server) recordInteractions(r *http.Request, p *page, param string, id leadcycle.ID, names *recordNames) ([]recordInteraction, error) {
	var res leadcycle.Page[leadcycle.Interaction]
	q := url.Values{param: {id.String()}, "sort": {"-occurred_at"}, "limit": {"25"}}
	if err := s.api(r, p, "GET", "/api/v1/interactions?"+q.Encode(), nil, &res); err != nil {
		return nil, err
	}
	var out []recordInteraction
	for _, in := range res.Items {
		it := recordInteraction{Interaction: in, Type: in.Type}
		if slices.Contains(leadcycle.InteractionTypes, in.Type) {
			it.Type = p.T("interaction." + in.Type)
		}
		if names != nil {
			it.Contact = names.contact(&in.ContactID)
		}
		out = append(out, it)
	}
	return out, nil
}

// contactPageData is the contact page.
type contactPageData struct {
	Contact      leadcycle.Contact
	Name         string
	Account      string
	Owner        string
	Custom       []customValue
	Leads        []recordLead
	Interactions []recordInteraction
	// LeadsScoped says the user's role sees only some leads.
	LeadsScoped   bool
	Edit          map[string]string
	ConsentStates []string
}

// contactEditFields are the contact's main fields the edit form offers.
var contactEditFields = []string{"first_name", "last_name", "email", "phone", "job_title", "account_id", "consent.commercial_email", "consent.tracking"}

func (s *Server) loadContactPage(r *http.Request, p *page) (*contactPageData, error) {
	d := &contactPageData{ConsentStates: leadcycle.ConsentStates}
	if err := s.api(r, p, "GET", "/api/v1/contacts/"+url.PathEscape(r.PathValue("id")), nil, &d.Contact); err != nil {
		return nil, err
	}
	c := &d.Contact
	names := s.recordNames(r)
	d.Name, d.Account, d.Owner = contactName(c), names.account(c.AccountID), names.user(c.OwnerID)
	d.Custom = s.customValues(r, p, "contact", c.Custom)
	var err error
	if d.Leads, err = s.recordLeads(r, p, "contact_id", c.ID); err != nil {
		return nil, err
	}
	_, d.LeadsScoped = leadScopes[p.User.Role]
	if d.Interactions, err = s.recordInteractions(r, p, "contact_id", c.ID, nil); err != nil {
		return nil, err
	}
	d.Edit = map[string]string{"first_name": c.FirstName, "last_name": c.LastName, "email": c.Email, "phone": c.Phone, "job_title": c.JobTitle,
		"account_id": recordIDString(c.AccountID), "consent.commercial_email": c.Consent.CommercialEmail, "consent.tracking": c.Consent.Tracking}
	p.Title, p.Nav, p.Data = d.Name, "contacts", d
	return d, nil
}

func (s *Server) contactPage(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	if _, err := s.loadContactPage(r, p); err != nil {
		return "", err
	}
	return "contact", nil
}

// contactEditSubmit saves the edit form with a merge patch of its fields.
func (s *Server) contactEditSubmit(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	d, err := s.loadContactPage(r, p)
	if err != nil {
		return "", err
	}
	patch := map[string]any{}
	consent := map[string]any{}
	for _, f := range contactEditFields {
		if r.PostForm[f] == nil {
			continue
		}
		v := strings.TrimSpace(r.PostFormValue(f))
		switch {
		case f == "account_id":
			if v == "" {
				patch[f] = nil
			} else if _, ok := leadcycle.ParseID(v); ok {
				patch[f] = v
			} else {
				p.FieldErrors[f] = p.T("records.invalid_id", "Value", v)
			}
		case strings.HasPrefix(f, "consent."):
			consent[strings.TrimPrefix(f, "consent.")] = v
		default:
			patch[f] = v
		}
	}
	if len(consent) > 0 {
		patch["consent"] = consent
	}
	if len(p.FieldErrors) == 0 {
		err = s.api(r, p, "PATCH", "/api/v1/contacts/"+d.Contact.ID.String(), patch, nil)
	} else {
		err = leadcycle.Errorf(leadcycle.EInvalid, "%s", p.T("records.form_invalid"))
	}
	if err != nil {
		return recordFormProblem(r, p, d.Edit, contactEditFields, err, "contact")
	}
	s.redirect(w, r, "/contacts/"+d.Contact.ID.String(), p.T("contacts.saved"))
	return "", nil
}

// recordFormProblem shows a record page again with the problem of its
// edit form, the fields' messages and the values as they were typed.
func recordFormProblem(r *http.Request, p *page, edit map[string]string, fields []string, err error, tmpl string) (string, error) {
	code := leadcycle.ErrorCode(err)
	if code != leadcycle.EInvalid && code != leadcycle.EConflict {
		return "", err
	}
	p.Error = leadcycle.ErrorMessage(err)
	for _, f := range leadcycle.ErrorFields(err) {
		p.FieldErrors[f.Field] = f.Message
	}
	for _, f := range fields {
		if r.PostForm[f] != nil {
			edit[f] = r.PostFormValue(f)
		}
	}
	p.Form = r.PostForm
	p.Status = StatusCode(code)
	return tmpl, nil
}

// accountPageData is the account page.
type accountPageData struct {
	Account leadcycle.Account
	// WebsiteURL is the website as a link, when it is a web address.
	WebsiteURL   string
	Owner        string
	Custom       []customValue
	Contacts     []contactRow
	MoreContacts bool
	Leads        []recordLead
	LeadsScoped  bool
	Interactions []recordInteraction
	Edit         map[string]string
}

// accountEditFields are the account's main fields the edit form offers.
var accountEditFields = []string{"name", "website", "domain", "industry", "employees", "revenue", "country"}

func (s *Server) loadAccountPage(r *http.Request, p *page) (*accountPageData, error) {
	d := &accountPageData{}
	if err := s.api(r, p, "GET", "/api/v1/accounts/"+url.PathEscape(r.PathValue("id")), nil, &d.Account); err != nil {
		return nil, err
	}
	a := &d.Account
	names := s.recordNames(r)
	d.Owner = names.user(a.OwnerID)
	if u, err := url.Parse(a.Website); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
		d.WebsiteURL = u.String()
	} else if a.Website != "" && a.Domain != "" {
		d.WebsiteURL = "https://" + a.Domain
	}
	d.Custom = s.customValues(r, p, "account", a.Custom)
	var contacts leadcycle.Page[leadcycle.Contact]
	q := url.Values{"account_id": {a.ID.String()}, "sort": {"last_name"}, "limit": {"100"}}
	if err := s.api(r, p, "GET", "/api/v1/contacts?"+q.Encode(), nil, &contacts); err != nil {
		return nil, err
	}
	for _, c := range contacts.Items {
		name := contactName(&c)
		names.contacts[c.ID] = name
		d.Contacts = append(d.Contacts, contactRow{Contact: c, Name: name})
	}
	d.MoreContacts = contacts.NextCursor != ""
	var err error
	if d.Leads, err = s.recordLeads(r, p, "account_id", a.ID); err != nil {
		return nil, err
	}
	_, d.LeadsScoped = leadScopes[p.User.Role]
	if d.Interactions, err = s.recordInteractions(r, p, "account_id", a.ID, names); err != nil {
		return nil, err
	}
	d.Edit = map[string]string{"name": a.Name, "website": a.Website, "domain": a.Domain, "industry": a.Industry, "country": a.Country}
	if a.Employees != nil {
		d.Edit["employees"] = strconv.FormatInt(*a.Employees, 10)
	}
	if a.Revenue != nil {
		d.Edit["revenue"] = strconv.FormatFloat(*a.Revenue, 'f', -1, 64)
	}
	p.Title, p.Nav, p.Data = a.Name, "accounts", d
	return d, nil
}

func (s *Server) accountPage(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	if _, err := s.loadAccountPage(r, p); err != nil {
		return "", err
	}
	return "account", nil
}

func (s *Server) accountEditSubmit(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	d, err := s.loadAccountPage(r, p)
	if err != nil {
		return "", err
	}
	patch := map[string]any{}
	for _, f := range accountEditFields {
		if r.PostForm[f] == nil {
			continue
		}
		v := strings.TrimSpace(r.PostFormValue(f))
		switch f {
		case "employees":
			if v == "" {
				patch[f] = nil
			} else if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				patch[f] = n
			} else {
				p.FieldErrors[f] = p.T("records.invalid_whole_number", "Value", v)
			}
		case "revenue":
			if v == "" {
				patch[f] = nil
			} else if n, err := strconv.ParseFloat(strings.ReplaceAll(v, ",", "."), 64); err == nil {
				patch[f] = n
			} else {
				p.FieldErrors[f] = p.T("records.invalid_number", "Value", v)
			}
		default:
			patch[f] = v
		}
	}
	if len(p.FieldErrors) == 0 {
		err = s.api(r, p, "PATCH", "/api/v1/accounts/"+d.Account.ID.String(), patch, nil)
	} else {
		err = leadcycle.Errorf(leadcycle.EInvalid, "%s", p.T("records.form_invalid"))
	}
	if err != nil {
		return recordFormProblem(r, p, d.Edit, accountEditFields, err, "account")
	}
	s.redirect(w, r, "/accounts/"+d.Account.ID.String(), p.T("accounts.saved"))
	return "", nil
}

// recordIDString is an optional reference as form text.
func recordIDString(id *leadcycle.ID) string {
	if id == nil {
		return ""
	}
	return id.String()
}
