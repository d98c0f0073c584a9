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
	"time"

	"github.com/leadcycle/leadcycle"
)

func (s *Server) registerLeadPages() {
	read := leadcycle.Perm("leads", leadcycle.ActionRead)
	s.handlePage("GET", "/leads", read, s.leadListPage)
	s.handlePage("GET", "/leads/{id}", read, s.leadPage)
	s.handlePage("POST", "/leads/{id}/fields", leadcycle.Perm("leads", "stage"), s.leadFieldsSubmit)
	s.handlePage("POST", "/leads/{id}/move-stage", leadcycle.Perm("leads", "move"), s.leadAction("move-stage", "lead.moved"))
	s.handlePage("POST", "/leads/{id}/switch-process", leadcycle.Perm("leads", "stage"), s.leadAction("switch-process", "lead.switched"))
	s.handlePage("POST", "/leads/{id}/disqualify", leadcycle.Perm("leads", "disqualify"), s.leadAction("disqualify", "lead.disqualified"))
	s.handlePage("POST", "/leads/{id}/reactivate", leadcycle.Perm("leads", "reactivate"), s.leadAction("reactivate", "lead.reactivated"))
	s.handlePage("POST", "/leads/{id}/flag", leadcycle.Perm("leads", leadcycle.ActionWrite), s.leadFlagSubmit)
	s.handlePage("POST", "/leads/{id}/qualify", leadcycle.Perm("leads", "qualify"), s.leadQualifySubmit)
}

// leadView is one saved view of the lead list.
type leadView struct {
	Key    string
	Params url.Values
}

// leadViews are the saved views of the lead list, in menu order; "my"
// and "new" are filled in per request.
var leadViewKeys = []string{"all", "my", "telesales", "sales", "new", "unlinked"}

func (s *Server) leadViewParams(key string, u *leadcycle.User, now time.Time) url.Values {
	q := url.Values{}
	switch key {
	case "my":
		q.Set("owner_id", u.ID.String())
		q.Set("status", leadcycle.LeadOpen)
	case "telesales":
		q.Set("telesales_ready", "true")
		q.Set("status", leadcycle.LeadOpen)
	case "sales":
		q.Set("sales_ready", "true")
		q.Set("status", leadcycle.LeadOpen)
	case "new":
		q.Set("created_since", now.AddDate(0, 0, -7).UTC().Format(time.RFC3339))
	case "unlinked":
		q.Set("has_parent", "false")
	}
	return q
}

// leadRow is one line of the lead list.
type leadRow struct {
	Lead    leadcycle.Lead
	Contact string
	Account string
	Score   *leadcycle.LeadScore
}

// leadListData is the lead list page.
type leadListData struct {
	View       string
	Views      []string
	Query      url.Values // the filters and sort of the form
	Rows       []leadRow
	NextCursor string
	// NextURL is the address of the next page, with the same filters.
	NextURL  string
	Statuses []string
	Sources  []string
	Stages   []leadcycle.Stage
	Sort     string
}

// leadListFilters are the list filters the page's form offers.
var leadListFilters = []string{"status", "stage", "source", "campaign"}

func (s *Server) leadListPage(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	in := r.URL.Query()
	view := cmp.Or(in.Get("view"), "all")
	if !slices.Contains(leadViewKeys, view) {
		return "", leadcycle.FieldErrorf(leadcycle.EInvalid, "view", "must be one of %s", strings.Join(leadViewKeys, ", "))
	}
	q := s.leadViewParams(view, p.User, p.Now)
	form := url.Values{"view": {view}}
	for _, f := range append(leadListFilters, "sort") {
		if v := strings.TrimSpace(in.Get(f)); v != "" {
			q.Set(f, v)
			form.Set(f, v)
		}
	}
	if c := in.Get("cursor"); c != "" {
		q.Set("cursor", c)
	}
	q.Set("limit", "50")
	if q.Get("sort") == "" {
		q.Set("sort", "-created_at")
	}
	var res leadcycle.Page[leadcycle.Lead]
	if err := s.api(r, p, "GET", "/api/v1/leads?"+q.Encode(), nil, &res); err != nil {
		return "", err
	}
	items := res.Items
	data := &leadListData{View: view, Views: leadViewKeys, Query: form, NextCursor: res.NextCursor,
		Statuses: leadcycle.LeadStatuses, Sources: leadcycle.Sources, Sort: q.Get("sort")}
	if res.NextCursor != "" {
		next := url.Values{}
		for k, v := range form {
			next[k] = v
		}
		next.Set("cursor", res.NextCursor)
		data.NextURL = "/leads?" + next.Encode()
	}
	if def, err := s.defaultProcess(r); err == nil {
		data.Stages = def.Stages
	}
	names := s.recordNames(r)
	for _, l := range items {
		row := leadRow{Lead: l, Contact: names.contact(l.ContactID), Account: names.account(l.AccountID)}
		if len(l.Scores) > 0 {
			best := slices.MaxFunc(l.Scores, func(a, b leadcycle.LeadScore) int { return cmp.Compare(a.Score, b.Score) })
			row.Score = &best
		}
		data.Rows = append(data.Rows, row)
	}
	p.Title, p.Nav, p.Data = p.T("leads.title"), "leads", data
	return "leads", nil
}

// recordNames looks up the display names of contacts and accounts once
// per page.
type recordNames struct {
	s        *Server
	r        *http.Request
	contacts map[leadcycle.ID]string
	accounts map[leadcycle.ID]string
	users    map[leadcycle.ID]string
}

func (s *Server) recordNames(r *http.Request) *recordNames {
	return &recordNames{s: s, r: r, contacts: map[leadcycle.ID]string{}, accounts: map[leadcycle.ID]string{}, users: map[leadcycle.ID]string{}}
}

func (n *recordNames) contact(id *leadcycle.ID) string {
	return cachedName(n.contacts, id, func(id leadcycle.ID) (string, error) {
		c, err := n.s.store.Contacts().Get(n.r.Context(), id)
		if err != nil {
			return "", err
		}
		return contactName(c), nil
	})
}

func (n *recordNames) account(id *leadcycle.ID) string {
	return cachedName(n.accounts, id, func(id leadcycle.ID) (string, error) {
		a, err := n.s.store.Accounts().Get(n.r.Context(), id)
		if err != nil {
			return "", err
		}
		return a.Name, nil
	})
}

func (n *recordNames) user(id *leadcycle.ID) string {
	return cachedName(n.users, id, func(id leadcycle.ID) (string, error) {
		u, err := n.s.store.Users().Get(n.r.Context(), id)
		if err != nil {
			return "", err
		}
		return cmp.Or(u.Name, u.Email), nil
	})
}

// cachedName looks a record's name up once; a record that cannot be read
// shows as its id.
func cachedName(cache map[leadcycle.ID]string, id *leadcycle.ID, get func(leadcycle.ID) (string, error)) string {
	if id == nil {
		return ""
	}
	if name, ok := cache[*id]; ok {
		return name
	}
	name, err := get(*id)
	if err != nil {
		name = "#" + id.String()
	}
	cache[*id] = name
	return name
}

// contactName is a contact's full name, or its email when it has none.
func contactName(c *leadcycle.Contact) string {
	name := strings.TrimSpace(c.FirstName + " " + c.LastName)
	if containsHan(name) {
		name = c.LastName + c.FirstName
	}
	return cmp.Or(name, c.Email, "#"+c.ID.String())
}

// containsHan reports whether a name is written in Chinese characters,
// which put the family name first without a space.
func containsHan(s string) bool {
	for _, r := range s {
		if r >= 0x4E00 && r <= 0x9FFF {
			return true
		}
	}
	return false
}

func (s *Server) defaultProcess(r *http.Request) (*leadcycle.Process, error) {
	page, err := s.store.Processes().List(r.Context(), leadcycle.ListQuery{Filters: []leadcycle.Filter{{Columns: []string{"is_default"}, Op: leadcycle.OpEq, Value: true}}, Limit: 1})
	if err != nil {
		return nil, err
	}
	if len(page.Items) == 0 {
		return nil, leadcycle.Errorf(leadcycle.ENotFound, "no default process")
	}
	return &page.Items[0], nil
}

// leadPageData is everything the lead page shows.
type leadPageData struct {
	Lead          leadcycle.Lead
	Contact       *leadcycle.Contact
	Account       *leadcycle.Account
	Owner         string
	Process       *leadcycle.Process
	Processes     []leadcycle.Process
	ActiveIndex   int
	Selected      *leadcycle.Stage
	SelectedIndex int
	Inputs        []stageInput
	Scores        []leadcycle.LeadScoreDetail
	Timeline      []timelineItem
	Tasks         []leadcycle.Task
	Opportunities []leadcycle.Opportunity
	Reasons       []string
	Closed        bool
	// ShowQualify opens the qualify form.
	ShowQualify bool
}

// timelineItem is one line of the lead's timeline: a stage change or an
// interaction of its contact.
type timelineItem struct {
	At      time.Time
	Kind    string // stage, interaction
	Title   string
	Detail  string
	Actor   string
	IsStage bool
}

func (s *Server) leadPage(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	d, err := s.loadLeadPage(r, p, r.URL.Query().Get("stage"))
	if err != nil {
		return "", err
	}
	d.ShowQualify = r.URL.Query().Get("qualify") == "1"
	p.Data = d
	return "lead", nil
}

// loadLeadPage reads a lead and what its page shows, through the API so
// that a role limited to some leads gets 403 for the others.
func (s *Server) loadLeadPage(r *http.Request, p *page, stageKey string) (*leadPageData, error) {
	id := r.PathValue("id")
	d := &leadPageData{Reasons: leadcycle.LeadStatusReasons[leadcycle.LeadDisqualified]}
	if err := s.api(r, p, "GET", "/api/v1/leads/"+url.PathEscape(id), nil, &d.Lead); err != nil {
		return nil, err
	}
	ctx := r.Context()
	l := &d.Lead
	d.Closed = l.Status != leadcycle.LeadOpen
	if l.ContactID != nil {
		d.Contact, _ = s.store.Contacts().Get(ctx, *l.ContactID)
	}
	if l.AccountID != nil {
		d.Account, _ = s.store.Accounts().Get(ctx, *l.AccountID)
	}
	d.Owner = s.recordNames(r).user(l.OwnerID)
	if l.ProcessID != nil {
		d.Process, _ = s.store.Processes().Get(ctx, *l.ProcessID)
	}
	if procs, err := s.store.Processes().List(ctx, leadcycle.ListQuery{Limit: leadcycle.MaxLimit}); err == nil {
		d.Processes = procs.Items
	}
	if d.Process != nil {
		d.ActiveIndex = slices.IndexFunc(d.Process.Stages, func(st leadcycle.Stage) bool { return st.Key == l.Stage })
		d.SelectedIndex = d.ActiveIndex
		if i := slices.IndexFunc(d.Process.Stages, func(st leadcycle.Stage) bool { return st.Key == stageKey }); i >= 0 {
			d.SelectedIndex = i
		}
		if d.SelectedIndex >= 0 {
			d.Selected = &d.Process.Stages[d.SelectedIndex]
			d.Inputs = s.stageInputs(r, p, d, d.Selected)
		}
	}
	var scores struct {
		Items []leadcycle.LeadScoreDetail `json:"items"`
	}
	if err := s.api(r, p, "GET", "/api/v1/leads/"+id+"/scores", nil, &scores); err != nil {
		return nil, err
	}
	d.Scores = scores.Items
	tl, err := s.leadTimeline(r, p, d)
	if err != nil {
		return nil, err
	}
	d.Timeline = tl
	byLead := leadcycle.ListQuery{Filters: []leadcycle.Filter{{Columns: []string{"lead_id"}, Op: leadcycle.OpEq, Value: l.ID}}, Limit: 20}
	if tasks, err := s.store.Tasks().List(ctx, byLead); err == nil {
		d.Tasks = tasks.Items
	}
	if opps, err := s.store.Opportunities().List(ctx, byLead); err == nil {
		d.Opportunities = opps.Items
	}
	p.Title, p.Nav = cmp.Or(l.Topic, p.T("lead.untitled", "ID", l.ID.String())), "leads"
	return d, nil
}

// leadTimeline merges the lead's stage changes with its contact's recent
// interactions, newest first.
func (s *Server) leadTimeline(r *http.Request, p *page, d *leadPageData) ([]timelineItem, error) {
	var tl leadcycle.Page[leadcycle.TimelineEntry]
	if err := s.api(r, p, "GET", "/api/v1/leads/"+d.Lead.ID.String()+"/timeline?limit=50", nil, &tl); err != nil {
		return nil, err
	}
	var items []timelineItem
	for _, e := range tl.Items {
		it := timelineItem{At: e.At, Kind: e.Kind, Actor: e.Actor, Detail: e.Reason, IsStage: true}
		switch e.Kind {
		case leadcycle.TimelineStageChanged:
			it.Title = p.T("timeline.stage_change", "From", s.stageName(p, d.Process, e.From), "To", s.stageName(p, d.Process, e.To))
		case leadcycle.TimelineCreated:
			it.Title = p.T("timeline.created", "To", s.stageName(p, d.Process, e.To))
		default:
			it.Title = p.T("timeline.kind." + e.Kind)
			if e.From != "" || e.To != "" {
				it.Detail = strings.TrimSpace(e.From + " → " + e.To + " · " + e.Reason)
			}
		}
		items = append(items, it)
	}
	if d.Lead.ContactID != nil {
		q := leadcycle.ListQuery{Filters: []leadcycle.Filter{{Columns: []string{"contact_id"}, Op: leadcycle.OpEq, Value: *d.Lead.ContactID}}, Limit: 30, Sort: "occurred_at", Desc: true}
		if page, err := s.store.Interactions().List(r.Context(), q); err == nil {
			for _, in := range page.Items {
				items = append(items, timelineItem{At: in.OccurredAt, Kind: "interaction", Title: p.T("interaction." + in.Type), Detail: interactionDetail(in)})
			}
		}
	}
	slices.SortStableFunc(items, func(a, b timelineItem) int { return b.At.Compare(a.At) })
	return items, nil
}

// interactionDetail summarises an interaction's properties in one line.
func interactionDetail(in leadcycle.Interaction) string {
	var parts []string
	for _, k := range sortedKeys(in.Properties) {
		parts = append(parts, fmt.Sprintf("%s: %v", k, in.Properties[k]))
	}
	return strings.Join(parts, " · ")
}

// stageName is the shown name of a stage of a process.
func (s *Server) stageName(p *page, proc *leadcycle.Process, key string) string {
	if key == "" {
		return ""
	}
	name := ""
	if proc != nil {
		if st := proc.Stage(key); st != nil {
			name = st.Name
		}
	}
	return p.stageName(key, name)
}

// StageName is a stage's name as shown: the catalog's translation for the
// shipped stages, the process's own name once the user has renamed one.
func (p *page) StageName(st leadcycle.Stage) string { return p.stageName(st.Key, st.Name) }

// StageDescription is a stage's description as shown, translated like its
// name while it is the shipped one.
func (p *page) StageDescription(st leadcycle.Stage) string {
	return p.shipped("stage_desc."+st.Key, st.Description)
}

// shipped shows the catalog's translation of a text leadcycle ships (the
// default process's names and descriptions) unless the user changed it.
func (p *page) shipped(id, text string) string {
	english := p.en.T(id)
	if english == id || (text != "" && text != english) {
		return text
	}
	return p.T(id)
}

func (p *page) stageName(key, name string) string {
	return cmp.Or(p.shipped("stage."+key, name), key)
}

// stageInput is one field of the selected stage as a form input.
type stageInput struct {
	Path     string // lead.budget_amount, contact.custom.segment
	Entity   string
	Name     string // the JSON name, or custom.<name>
	Label    string
	Required bool
	Kind     string // text, textarea, number, bool, choice, ref, date
	Value    string
	Checked  bool
	Options  []string
	// OptionPrefix names the catalog entries of the options.
	OptionPrefix string
	Error        string
}

// stageInputs turns the fields of a stage into form inputs with the
// records' current values.
func (s *Server) stageInputs(r *http.Request, p *page, d *leadPageData, st *leadcycle.Stage) []stageInput {
	values := map[string]map[string]any{"lead": jsonMap(d.Lead)}
	if d.Contact != nil {
		values["contact"] = jsonMap(d.Contact)
	}
	if d.Account != nil {
		values["account"] = jsonMap(d.Account)
	}
	defs, _ := s.store.Fields().List(r.Context(), leadcycle.ListQuery{Limit: leadcycle.MaxLimit})
	var out []stageInput
	for _, f := range st.Fields {
		entity, name, _ := strings.Cut(f.Field, ".")
		in := stageInput{Path: f.Field, Entity: entity, Name: name, Required: f.Required, Kind: "text"}
		in.Label = p.fieldLabel(f.Field, f.Label)
		rec := values[entity]
		var v any
		if custom, ok := strings.CutPrefix(name, "custom."); ok {
			if m, ok := rec["custom"].(map[string]any); ok {
				v = m[custom]
			}
			for _, def := range defs.Items {
				if def.Entity == entity && def.Name == custom {
					in.Kind = map[string]string{leadcycle.FieldNumber: "number", leadcycle.FieldBool: "bool", leadcycle.FieldDate: "date", leadcycle.FieldChoice: "choice"}[def.Type]
					in.Kind = cmp.Or(in.Kind, "text")
					in.Options = append([]string{""}, def.Choices...)
					if f.Label == "" {
						in.Label = cmp.Or(def.Label, def.Name)
					}
				}
			}
		} else {
			v = rec[name]
			in.Kind, in.Options, in.OptionPrefix = builtinInputKind(entity, name, v)
		}
		switch val := v.(type) {
		case nil:
		case bool:
			in.Checked = val
		case float64:
			in.Value = strconv.FormatFloat(val, 'f', -1, 64)
		case string:
			in.Value = val
		default:
			in.Value = fmt.Sprint(val)
		}
		if rec == nil {
			in.Kind = "missing"
		}
		out = append(out, in)
	}
	return out
}

// builtinInputKind chooses the input of a built-in field.
func builtinInputKind(entity, name string, v any) (kind string, options []string, prefix string) {
	schema := strings.ToUpper(entity[:1]) + entity[1:]
	if opts, ok := enums[schema+"."+name]; ok {
		return "choice", opts, "enum." + name + "."
	}
	switch {
	case strings.HasSuffix(name, "_id"):
		return "ref", nil, ""
	case name == "description":
		return "textarea", nil, ""
	}
	switch v.(type) {
	case bool:
		return "bool", nil, ""
	case float64:
		return "number", nil, ""
	}
	if name == "budget_amount" || name == "employees" || name == "revenue" {
		return "number", nil, ""
	}
	return "text", nil, ""
}

// fieldLabel is a stage field's label: the catalog's for the shipped
// labels, the process's own otherwise.
func (p *page) fieldLabel(path, label string) string {
	return cmp.Or(p.shipped("field."+path, label), path)
}

// jsonMap is a record as its JSON object.
func jsonMap(v any) map[string]any {
	b, _ := json.Marshal(v)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

// leadFieldsSubmit saves the selected stage's fields and, when asked,
// completes the stage.
func (s *Server) leadFieldsSubmit(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	stageKey := r.PostFormValue("stage")
	d, err := s.loadLeadPage(r, p, stageKey)
	if err != nil {
		return "", err
	}
	p.Form = r.PostForm
	patches := map[string]map[string]any{}
	for _, in := range d.Inputs {
		if in.Kind == "missing" || r.PostForm["present."+in.Path] == nil {
			continue
		}
		newVal, changed, err := submittedValue(in, r.PostForm)
		if err != nil {
			p.FieldErrors[in.Path] = err.Error()
			continue
		}
		if !changed {
			continue
		}
		if patches[in.Entity] == nil {
			patches[in.Entity] = map[string]any{}
		}
		if custom, ok := strings.CutPrefix(in.Name, "custom."); ok {
			m, _ := patches[in.Entity]["custom"].(map[string]any)
			if m == nil {
				m = map[string]any{}
				patches[in.Entity]["custom"] = m
			}
			m[custom] = newVal
		} else {
			patches[in.Entity][in.Name] = newVal
		}
	}
	if len(p.FieldErrors) > 0 {
		return s.leadPageProblem(r, p, d, leadcycle.Errorf(leadcycle.EInvalid, "%s", p.T("lead.fields_invalid")))
	}
	for _, entity := range []string{"contact", "account", "lead"} {
		patch := patches[entity]
		if patch == nil {
			continue
		}
		path := "/api/v1/leads/" + d.Lead.ID.String()
		switch entity {
		case "contact":
			path = "/api/v1/contacts/" + d.Contact.ID.String()
		case "account":
			path = "/api/v1/accounts/" + d.Account.ID.String()
		}
		if err := s.api(r, p, "PATCH", path, patch, nil); err != nil {
			return s.leadPageProblem(r, p, d, prefixFields(err, entity))
		}
	}
	flash := p.T("lead.saved")
	if r.PostFormValue("do") == "complete" {
		stage, err := s.completeFromPage(r, p, d)
		if err != nil {
			d, _ = s.reloadLead(r, p, d, stageKey)
			return s.leadPageProblem(r, p, d, err)
		}
		flash = p.T("lead.stage_completed", "Stage", s.stageName(p, d.Process, stage))
		stageKey = ""
	}
	to := "/leads/" + d.Lead.ID.String()
	if stageKey != "" && r.PostFormValue("do") != "complete" {
		to += "?stage=" + url.QueryEscape(stageKey)
	}
	s.redirect(w, r, to, flash)
	return "", nil
}

// completeFromPage completes the stage the page showed as active and
// returns the lead's new stage. When the saved fields already moved the lead
// on (ticking "accepted by telesales" fires the process's own transition),
// the stage is not completed a second time.
func (s *Server) completeFromPage(r *http.Request, p *page, d *leadPageData) (string, error) {
	path := "/api/v1/leads/" + d.Lead.ID.String()
	var now leadcycle.Lead
	if err := s.api(r, p, "GET", path, nil, &now); err != nil {
		return "", err
	}
	if now.Stage != d.Lead.Stage {
		return now.Stage, nil
	}
	if err := s.api(r, p, "POST", path+"/complete-stage", map[string]any{}, &now); err != nil {
		return "", err
	}
	return now.Stage, nil
}

// reloadLead reads the lead page again after a partial change; on failure
// the old data is kept.
func (s *Server) reloadLead(r *http.Request, p *page, old *leadPageData, stageKey string) (*leadPageData, error) {
	d, err := s.loadLeadPage(r, p, stageKey)
	if err != nil {
		return old, err
	}
	return d, nil
}

// leadPageProblem shows the lead page again with the problem of an action
// and the submitted values.
func (s *Server) leadPageProblem(r *http.Request, p *page, d *leadPageData, err error) (string, error) {
	code := leadcycle.ErrorCode(err)
	if code != leadcycle.EInvalid && code != leadcycle.EConflict && code != leadcycle.EForbidden {
		return "", err
	}
	p.Error = leadcycle.ErrorMessage(err)
	for _, f := range leadcycle.ErrorFields(err) {
		p.FieldErrors[f.Field] = f.Message
	}
	for i := range d.Inputs {
		in := &d.Inputs[i]
		in.Error = cmp.Or(p.FieldErrors[in.Path], p.FieldErrors[in.Name])
		if r.PostForm["present."+in.Path] != nil {
			in.Value = r.PostFormValue(in.Path)
			in.Checked = r.PostFormValue(in.Path) == "true"
		}
	}
	p.Status = StatusCode(code)
	p.Data = d
	return "lead", nil
}

// prefixFields names an entity's field errors by their stage path
// (contact.email) so they land on the right inputs.
func prefixFields(err error, entity string) error {
	fields := leadcycle.ErrorFields(err)
	if len(fields) == 0 {
		return err
	}
	out := make([]leadcycle.FieldError, len(fields))
	for i, f := range fields {
		out[i] = leadcycle.FieldError{Field: entity + "." + f.Field, Message: f.Message}
	}
	return &leadcycle.Error{Code: leadcycle.ErrorCode(err), Message: leadcycle.ErrorMessage(err), Fields: out}
}

// submittedValue reads an input's new value; changed is false when it
// equals the current one, so that unchanged fields are not sent (a role
// may see a flag it may not change).
func submittedValue(in stageInput, form url.Values) (value any, changed bool, err error) {
	raw := strings.TrimSpace(form.Get(in.Path))
	switch in.Kind {
	case "bool":
		v := raw == "true" || raw == "on"
		return v, v != in.Checked, nil
	case "number":
		if raw == "" {
			return nil, in.Value != "", nil
		}
		f, err := strconv.ParseFloat(strings.ReplaceAll(raw, ",", "."), 64)
		if err != nil {
			return nil, false, fmt.Errorf("%q is not a number", raw)
		}
		return f, strconv.FormatFloat(f, 'f', -1, 64) != in.Value, nil
	case "ref":
		if raw == "" {
			return nil, in.Value != "", nil
		}
		return raw, raw != in.Value, nil
	}
	return raw, raw != in.Value, nil
}

// leadAction posts a page form to one of the lead's API actions, with the
// form's fields as its JSON body.
func (s *Server) leadAction(action, flashID string) pageFunc {
	fields := map[string][]string{
		"move-stage":     {"stage", "reason"},
		"switch-process": {"process_id", "stage"},
		"disqualify":     {"reason", "note"},
		"reactivate":     {"note"},
	}[action]
	return func(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
		id := r.PathValue("id")
		body := map[string]any{}
		for _, f := range fields {
			if v := strings.TrimSpace(r.PostFormValue(f)); v != "" {
				body[f] = v
			}
		}
		if err := s.api(r, p, "POST", "/api/v1/leads/"+url.PathEscape(id)+"/"+action, body, nil); err != nil {
			d, lerr := s.loadLeadPage(r, p, "")
			if lerr != nil {
				return "", err
			}
			p.Form = r.PostForm
			return s.leadPageProblem(r, p, d, err)
		}
		s.redirect(w, r, "/leads/"+id, p.T(flashID))
		return "", nil
	}
}

// leadFlags are the flags the flags card sets, each by the API's own
// permission check.
var leadFlags = []string{"telesales_ready", "telesales_accepted", "sales_ready", "sales_accepted"}

// leadFlagSubmit sets or clears one lead flag.
func (s *Server) leadFlagSubmit(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	id := r.PathValue("id")
	flag := r.PostFormValue("flag")
	if !slices.Contains(leadFlags, flag) {
		return "", leadcycle.FieldErrorf(leadcycle.EInvalid, "flag", "must be one of %s", strings.Join(leadFlags, ", "))
	}
	value := r.PostFormValue("value") == "true"
	if err := s.api(r, p, "PATCH", "/api/v1/leads/"+url.PathEscape(id), map[string]any{flag: value}, nil); err != nil {
		d, lerr := s.loadLeadPage(r, p, "")
		if lerr != nil {
			return "", err
		}
		return s.leadPageProblem(r, p, d, err)
	}
	msg := "lead.flag_cleared"
	if value {
		msg = "lead.flag_set"
	}
	s.redirect(w, r, "/leads/"+id, p.T(msg, "Flag", p.T("field.lead."+flag)))
	return "", nil
}

// leadQualifySubmit converts the lead into an opportunity.
func (s *Server) leadQualifySubmit(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	id := r.PathValue("id")
	opp := map[string]any{}
	if v := strings.TrimSpace(r.PostFormValue("opportunity_name")); v != "" {
		opp["name"] = v
	}
	if v := strings.TrimSpace(r.PostFormValue("opportunity_amount")); v != "" {
		f, err := strconv.ParseFloat(strings.ReplaceAll(v, ",", "."), 64)
		if err != nil {
			d, lerr := s.loadLeadPage(r, p, "")
			if lerr != nil {
				return "", lerr
			}
			d.ShowQualify = true
			p.Form = r.PostForm
			return s.leadPageProblem(r, p, d, leadcycle.FieldErrorf(leadcycle.EInvalid, "opportunity_amount", "%s", p.T("lead.qualify_amount_invalid", "Value", v)))
		}
		opp["estimated_value"] = f
	}
	if v := strings.TrimSpace(r.PostFormValue("opportunity_close")); v != "" {
		opp["expected_close_date"] = v
	}
	if v := strings.TrimSpace(r.PostFormValue("opportunity_currency")); v != "" {
		opp["currency"] = strings.ToUpper(v)
	}
	body := map[string]any{}
	if len(opp) > 0 {
		body["opportunity"] = opp
	}
	var res leadcycle.QualifyResult
	if err := s.api(r, p, "POST", "/api/v1/leads/"+url.PathEscape(id)+"/qualify", body, &res); err != nil {
		d, lerr := s.loadLeadPage(r, p, "")
		if lerr != nil {
			return "", err
		}
		d.ShowQualify = true
		p.Form = r.PostForm
		return s.leadPageProblem(r, p, d, err)
	}
	s.redirect(w, r, "/leads/"+id, p.T("lead.qualified", "Opportunity", res.Opportunity.Name))
	return "", nil
}
