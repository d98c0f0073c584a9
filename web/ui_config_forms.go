package web

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/leadcycle/leadcycle"
)

// The form screens: the list of forms, and a form's editor with its form
// builder (rows of fields and consents that are added, removed and
// reordered with plain form buttons), a preview rendered here, the embed
// code and the recent submissions.

func (s *Server) registerFormPages() {
	write := leadcycle.Perm("forms", leadcycle.ActionWrite)
	s.handlePage("GET", "/forms", write, s.formListPage)
	s.handlePage("GET", "/forms/new", write, s.formNewPage)
	s.handlePage("POST", "/forms/new", write, s.formCreateSubmit)
	s.handlePage("GET", "/forms/{id}", write, s.formEditPage)
	s.handlePage("POST", "/forms/{id}", write, s.formSaveSubmit)
}

// formListData is the list of forms.
type formListData struct {
	Forms      []leadcycle.Form
	NextCursor string
	Base       string
}

func (s *Server) formListPage(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	q := url.Values{"limit": {"100"}, "sort": {"name"}}
	if c := r.URL.Query().Get("cursor"); c != "" {
		q.Set("cursor", c)
	}
	var res leadcycle.Page[leadcycle.Form]
	if err := s.api(r, p, "GET", "/api/v1/forms?"+q.Encode(), nil, &res); err != nil {
		return "", err
	}
	p.Title, p.Nav = p.T("forms.title"), "forms"
	p.Data = &formListData{Forms: res.Items, NextCursor: res.NextCursor, Base: s.publicBase(r)}
	return "forms", nil
}

// formFieldRow is one row of the form builder, as typed.
type formFieldRow struct {
	Index                              int
	Name, Label, Type, Target, Choices string
	Required, Remove                   bool
	// Errors are the API's problems with the row, by its input ("name",
	// "type"…; "" for the row as a whole).
	Errors map[string]string
}

func (r formFieldRow) blank() bool {
	return r.Name == "" && r.Label == "" && r.Target == "" && r.Choices == "" && !r.Required
}

// formConsentRow is one consent checkbox of the form builder, as typed.
type formConsentRow struct {
	Index          int
	Purpose, Label string
	Required       bool
	Remove         bool
	Errors         map[string]string
}

func (r formConsentRow) blank() bool { return r.Label == "" && !r.Required }

// formEditData is a form's editor, or the new form's when Form is nil.
type formEditData struct {
	Form              *leadcycle.Form
	Fields            []formFieldRow
	Consents          []formConsentRow
	Modes             []string
	Types             []string
	Targets           []string
	Purposes          []string
	ContactStrategies []leadcycle.MatchingStrategy
	LeadStrategies    []leadcycle.MatchingStrategy
	// Confirmations are the transactional email templates a double
	// opt-in can send.
	Confirmations []leadcycle.EmailTemplate
	// Preview is the form as typed, rendered like the hosted page.
	Preview *leadcycle.Form
	// Embed is the snippet that embeds the form in a site; Hosted the
	// address of its own page.
	Embed, Hosted string
	Submissions   []leadcycle.FormSubmission
	SubmissionsOf int
	// Unsaved says the rows were rearranged but not saved yet.
	Unsaved bool
	Action  string
}

// formPurposes are the purposes of consent checkboxes.
var formPurposes = []string{"commercial_email", "tracking"}

func (s *Server) newFormEditData(r *http.Request, p *page) *formEditData {
	d := &formEditData{Modes: leadcycle.FormModes, Types: leadcycle.FormFieldTypes, Targets: leadcycle.FormTargets, Purposes: formPurposes, Action: "/forms/new"}
	var strategies leadcycle.Page[leadcycle.MatchingStrategy]
	if err := s.api(r, p, "GET", "/api/v1/matching-strategies?limit=200&sort=name", nil, &strategies); err == nil {
		for _, m := range strategies.Items {
			if m.Kind == leadcycle.StrategyContact {
				d.ContactStrategies = append(d.ContactStrategies, m)
			} else {
				d.LeadStrategies = append(d.LeadStrategies, m)
			}
		}
	}
	var templates leadcycle.Page[leadcycle.EmailTemplate]
	if err := s.api(r, p, "GET", "/api/v1/email-templates?purpose=transactional&limit=200&sort=name", nil, &templates); err == nil {
		d.Confirmations = templates.Items
	}
	return d
}

func (s *Server) formNewPage(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	d := s.newFormEditData(r, p)
	p.Form = url.Values{
		"mode": {leadcycle.FormContactsAndLeads}, "active": {"true"},
		"fields.0.name": {"email"}, "fields.0.label": {p.T("form.starter_email")}, "fields.0.type": {"email"}, "fields.0.target": {"contact.email"}, "fields.0.required": {"true"},
		"fields.1.name": {"first_name"}, "fields.1.label": {p.T("form.starter_first_name")}, "fields.1.type": {"text"}, "fields.1.target": {"contact.first_name"},
	}
	d.fillRows(p.Form)
	d.preview(p.Form)
	p.Title, p.Nav, p.Data = p.T("form.new_title"), "forms", d
	return "form", nil
}

func (s *Server) formCreateSubmit(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	d := s.newFormEditData(r, p)
	p.Title, p.Nav, p.Data = p.T("form.new_title"), "forms", d
	body, done := d.submitted(r, p)
	if !done {
		return "form", nil
	}
	var f leadcycle.Form
	if err := s.api(r, p, "POST", "/api/v1/forms", body, &f); err != nil {
		return d.problem(p, err)
	}
	s.redirect(w, r, "/forms/"+f.ID.String(), p.T("form.created", "Name", f.Name))
	return "", nil
}

// loadForm reads the form of the path and what its editor shows beside it.
func (s *Server) loadForm(r *http.Request, p *page) (*formEditData, error) {
	id := r.PathValue("id")
	var f leadcycle.Form
	if err := s.api(r, p, "GET", "/api/v1/forms/"+url.PathEscape(id), nil, &f); err != nil {
		return nil, err
	}
	d := s.newFormEditData(r, p)
	d.Form, d.Action = &f, "/forms/"+f.ID.String()
	base := s.publicBase(r)
	d.Hosted = base + "/f/" + f.ID.String()
	d.Embed = fmt.Sprintf("<div data-leadcycle-form=\"%s\"></div>\n<script src=\"%s/f/%s/embed.js\" async></script>", f.ID, base, f.ID)
	var subs leadcycle.Page[leadcycle.FormSubmission]
	if err := s.api(r, p, "GET", "/api/v1/forms/"+f.ID.String()+"/submissions", nil, &subs); err == nil {
		items := subs.Items
		slices.SortStableFunc(items, func(a, b leadcycle.FormSubmission) int { return b.ReceivedAt.Compare(a.ReceivedAt) })
		d.SubmissionsOf = len(items)
		d.Submissions = items[:min(len(items), 20)]
	}
	p.Title, p.Nav, p.Data = f.Name, "forms", d
	return d, nil
}

func (s *Server) formEditPage(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	d, err := s.loadForm(r, p)
	if err != nil {
		return "", err
	}
	p.Form = formValues(d.Form)
	d.fillRows(p.Form)
	d.preview(p.Form)
	return "form", nil
}

func (s *Server) formSaveSubmit(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	d, err := s.loadForm(r, p)
	if err != nil {
		return "", err
	}
	body, done := d.submitted(r, p)
	if !done {
		return "form", nil
	}
	var f leadcycle.Form
	if err := s.api(r, p, "PATCH", "/api/v1/forms/"+d.Form.ID.String(), body, &f); err != nil {
		return d.problem(p, err)
	}
	s.redirect(w, r, "/forms/"+f.ID.String(), p.T("form.saved", "Name", f.Name))
	return "", nil
}

// submitted reads the posted editor. A row button (add a row, move one)
// only shows the rearranged form again: done is false. Otherwise it returns
// the API body of the form.
func (d *formEditData) submitted(r *http.Request, p *page) (body map[string]any, done bool) {
	p.Form = r.PostForm
	d.fillRows(r.PostForm)
	do := r.PostFormValue("do")
	if do == "add" || cfgMoveRow(d.Fields, "fields", do) || cfgMoveRow(d.Consents, "consents", do) {
		d.renumber()
		d.Unsaved = true
		d.preview(r.PostForm)
		return nil, false
	}
	d.preview(r.PostForm)
	return d.body(r.PostForm), true
}

// fillRows reads the builder's rows from form values and ends each list
// with one empty row, to add a field or a consent.
func (d *formEditData) fillRows(v url.Values) {
	d.Fields, d.Consents = nil, nil
	for _, i := range cfgRowIndexes(v, "fields") {
		d.Fields = append(d.Fields, formFieldRow{
			Name: cfgRowValue(v, "fields", i, "name"), Label: cfgRowValue(v, "fields", i, "label"),
			Type: cmp.Or(cfgRowValue(v, "fields", i, "type"), "text"), Target: cfgRowValue(v, "fields", i, "target"),
			Choices: cfgRowValue(v, "fields", i, "choices"), Required: cfgChecked(v, fmt.Sprintf("fields.%d.required", i)),
			Remove: cfgChecked(v, fmt.Sprintf("fields.%d.remove", i)), Errors: map[string]string{},
		})
	}
	for _, i := range cfgRowIndexes(v, "consents") {
		d.Consents = append(d.Consents, formConsentRow{
			Purpose: cmp.Or(cfgRowValue(v, "consents", i, "purpose"), formPurposes[0]), Label: cfgRowValue(v, "consents", i, "label"),
			Required: cfgChecked(v, fmt.Sprintf("consents.%d.required", i)), Remove: cfgChecked(v, fmt.Sprintf("consents.%d.remove", i)),
			Errors: map[string]string{},
		})
	}
	d.renumber()
}

// renumber numbers the rows in their order and keeps one empty row at the
// end of each list.
func (d *formEditData) renumber() {
	if n := len(d.Fields); n == 0 || !d.Fields[n-1].blank() {
		d.Fields = append(d.Fields, formFieldRow{Type: "text", Errors: map[string]string{}})
	}
	if n := len(d.Consents); n == 0 || !d.Consents[n-1].blank() {
		d.Consents = append(d.Consents, formConsentRow{Purpose: formPurposes[0], Errors: map[string]string{}})
	}
	for i := range d.Fields {
		d.Fields[i].Index = i
	}
	for i := range d.Consents {
		d.Consents[i].Index = i
	}
}

// sentFields and sentConsents are the rows the API body holds, in its
// order: neither empty rows nor rows marked for removal.
func (d *formEditData) sentFields() []*formFieldRow {
	var out []*formFieldRow
	for i := range d.Fields {
		if row := &d.Fields[i]; !row.Remove && !row.blank() {
			out = append(out, row)
		}
	}
	return out
}

func (d *formEditData) sentConsents() []*formConsentRow {
	var out []*formConsentRow
	for i := range d.Consents {
		if row := &d.Consents[i]; !row.Remove && !row.blank() {
			out = append(out, row)
		}
	}
	return out
}

// body is the API body of the typed form: every field the editor sets.
func (d *formEditData) body(v url.Values) map[string]any {
	fields := []map[string]any{}
	for _, row := range d.sentFields() {
		fields = append(fields, map[string]any{"name": row.Name, "label": row.Label, "type": row.Type, "target": row.Target,
			"required": row.Required, "choices": cfgList(row.Choices)})
	}
	consents := []map[string]any{}
	for _, row := range d.sentConsents() {
		consents = append(consents, map[string]any{"purpose": row.Purpose, "label": row.Label, "required": row.Required})
	}
	body := map[string]any{
		"name": strings.TrimSpace(v.Get("name")), "mode": v.Get("mode"), "active": cfgChecked(v, "active"),
		"always_create_lead": cfgChecked(v, "always_create_lead"), "fields": fields, "consents": consents,
		"contact_strategy_id": nil, "lead_strategy_id": nil,
		"double_opt_in": cfgChecked(v, "double_opt_in"), "confirmation_email_id": nil,
	}
	for _, k := range []string{"contact_strategy_id", "lead_strategy_id", "confirmation_email_id"} {
		if id := strings.TrimSpace(v.Get(k)); id != "" {
			body[k] = id
		}
	}
	for _, k := range []string{"lead_topic", "campaign", "submit_label", "redirect_url"} {
		body[k] = strings.TrimSpace(v.Get(k))
	}
	body["thank_you_message"] = strings.TrimSpace(v.Get("thank_you_message"))
	return body
}

// preview renders the typed form as the hosted page would.
func (d *formEditData) preview(v url.Values) {
	data, err := json.Marshal(d.body(v))
	if err != nil {
		return
	}
	var f leadcycle.Form
	_ = json.Unmarshal(data, &f)
	f.Normalize()
	d.Preview = &f
}

// problem shows the editor again with the API's problem, each field error
// on its row.
func (d *formEditData) problem(p *page, err error) (string, error) {
	if err := configProblem(p, err); err != nil {
		return "", err
	}
	fields, consents := d.sentFields(), d.sentConsents()
	for path, msg := range p.FieldErrors {
		list, i, rest, ok := cfgSplitPath(path)
		if !ok {
			continue
		}
		switch {
		case list == "fields" && i < len(fields):
			fields[i].Errors[rest] = msg
		case list == "consents" && i < len(consents):
			consents[i].Errors[rest] = msg
		}
	}
	return "form", nil
}

// formValues are the editor's inputs filled from a saved form.
func formValues(f *leadcycle.Form) url.Values {
	v := url.Values{}
	v.Set("name", f.Name)
	v.Set("mode", f.Mode)
	v.Set("active", cfgBool(f.Active))
	v.Set("always_create_lead", cfgBool(f.AlwaysCreateLead))
	v.Set("contact_strategy_id", cfgID(f.ContactStrategyID))
	v.Set("lead_strategy_id", cfgID(f.LeadStrategyID))
	v.Set("double_opt_in", cfgBool(f.DoubleOptIn))
	v.Set("confirmation_email_id", cfgID(f.ConfirmationEmailID))
	v.Set("lead_topic", f.LeadTopic)
	v.Set("campaign", f.Campaign)
	v.Set("submit_label", f.SubmitLabel)
	v.Set("thank_you_message", f.ThankYouMessage)
	v.Set("redirect_url", f.RedirectURL)
	for i, ff := range f.Fields {
		row := "fields." + strconv.Itoa(i) + "."
		v.Set(row+"name", ff.Name)
		v.Set(row+"label", ff.Label)
		v.Set(row+"type", ff.Type)
		v.Set(row+"target", ff.Target)
		v.Set(row+"required", cfgBool(ff.Required))
		v.Set(row+"choices", strings.Join(ff.Choices, ", "))
	}
	for i, c := range f.Consents {
		row := "consents." + strconv.Itoa(i) + "."
		v.Set(row+"purpose", c.Purpose)
		v.Set(row+"label", c.Label)
		v.Set(row+"required", cfgBool(c.Required))
	}
	return v
}

// cfgID is an optional id as a form value.
func cfgID(id *leadcycle.ID) string {
	if id == nil {
		return ""
	}
	return id.String()
}

// SubmissionSummary is a submission's values in one line, email first.
func (p *page) SubmissionSummary(sub leadcycle.FormSubmission) string {
	keys := sortedKeys(sub.Values)
	slices.SortStableFunc(keys, func(a, b string) int {
		return cmp.Compare(cfgRank(!strings.Contains(a, "email")), cfgRank(!strings.Contains(b, "email")))
	})
	var parts []string
	for _, k := range keys {
		if v := sub.Values[k]; v != "" {
			parts = append(parts, k+": "+v)
		}
	}
	out := strings.Join(parts, " · ")
	if r := []rune(out); len(r) > 160 {
		out = string(r[:160]) + "…"
	}
	return out
}

func cfgRank(b bool) int {
	if b {
		return 1
	}
	return 0
}
