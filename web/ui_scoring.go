package web

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/leadcycle/leadcycle"
)

// The scoring screens: the list of scoring models, a model's page with its
// rules, grades and thresholds, the editor of a draft (rule rows, or the
// whole model as JSON), a preview of one lead's score, publishing with the
// rescore's progress, and stopping. Every change goes through the JSON API,
// whose validation (expressions type-checked against the field schema)
// comes back onto the form.

func (s *Server) registerScoringPages() {
	write := leadcycle.Perm(scoringModels, leadcycle.ActionWrite)
	publish := leadcycle.Perm(scoringModels, "publish")
	s.handlePage("GET", "/scoring-models", write, s.scoringListPage)
	s.handlePage("GET", "/scoring-models/new", write, s.scoringNewPage)
	s.handlePage("POST", "/scoring-models/new", write, s.scoringCreateSubmit)
	s.handlePage("GET", "/scoring-models/{id}", write, s.scoringModelPage)
	s.handlePage("POST", "/scoring-models/{id}", write, s.scoringSaveSubmit)
	s.handlePage("POST", "/scoring-models/{id}/publish", publish, s.scoringPublishSubmit)
	s.handlePage("POST", "/scoring-models/{id}/stop", publish, s.scoringStopSubmit)
}

// scoringListData is the list of scoring models.
type scoringListData struct {
	Models     []leadcycle.ScoringModel
	Status     string
	Statuses   []string
	NextCursor string
}

func (s *Server) scoringListPage(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	status := r.URL.Query().Get("status")
	q := url.Values{"limit": {"100"}, "sort": {"name"}}
	if status != "" {
		q.Set("status", status)
	}
	if c := r.URL.Query().Get("cursor"); c != "" {
		q.Set("cursor", c)
	}
	var res leadcycle.Page[leadcycle.ScoringModel]
	if err := s.api(r, p, "GET", scoringModelsBase+"?"+q.Encode(), nil, &res); err != nil {
		return "", err
	}
	models := res.Items
	// The versions of one model stay together, newest first.
	slices.SortStableFunc(models, func(a, b leadcycle.ScoringModel) int {
		return cmp.Or(cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)), cmp.Compare(a.Key, b.Key), cmp.Compare(b.Version, a.Version))
	})
	p.Title, p.Nav = p.T("scoring.title"), "scoring"
	p.Data = &scoringListData{Models: models, Status: status, NextCursor: res.NextCursor,
		Statuses: []string{leadcycle.ModelDraft, leadcycle.ModelLive, leadcycle.ModelStopped}}
	return "scoring", nil
}

// scoringRuleRow is one rule of the editor, as typed.
type scoringRuleRow struct {
	Index      int
	Name       string
	Points     string
	Conditions string // one expression a line
	Behaviors  string // JSON array, empty for none
	HalfLife   string
	Remove     bool
	Errors     []string
	// Invalid names the inputs the errors are about: conditions,
	// behaviors, points, name, half_life_days.
	Invalid map[string]bool
}

// scoringGradeRow is one grade of the editor, as typed.
type scoringGradeRow struct {
	Index          int
	Name, Min, Max string
	Remove         bool
	Errors         []string
}

// scoringModelData is a model's page, or the new-model form when Model is
// nil.
type scoringModelData struct {
	Model    *leadcycle.ScoringModel
	Editable bool // a draft: edited in place
	Rules    []scoringRuleRow
	Grades   []scoringGradeRow
	// JSON is the model's writable fields for the advanced editor;
	// JSONOpen opens it (after an error in it).
	JSON     string
	JSONOpen bool
	Targets  []string
	Versions []leadcycle.ScoringModel
	// Draft is the draft version of a live or stopped model, if any.
	Draft *leadcycle.ScoringModel
	// The preview of one lead's score.
	PreviewLead  string
	Preview      *leadcycle.LeadScoreDetail
	PreviewError string
	// PreviewReady: the previewed score reaches the sales-ready threshold.
	PreviewReady bool
	RecentLeads  []leadcycle.Lead
	Unscorable   []leadcycle.Lead
	// Polling: the rescore is still running.
	Running bool
}

// scoringWritable are the fields of a model the editors set.
var scoringWritable = []string{"name", "key", "description", "target", "applies_to", "rules", "grades", "sales_ready_threshold", "telesales_ready_threshold"}

func (s *Server) scoringNewPage(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	d := &scoringModelData{Editable: true, Targets: leadcycle.ScoringTargets}
	d.Rules = []scoringRuleRow{{Index: 0}}
	d.Grades = []scoringGradeRow{{Index: 0}}
	d.JSON = scoringTemplateJSON
	p.Form.Set("target", leadcycle.TargetContact)
	p.Title, p.Nav, p.Data = p.T("scoring.new_title"), "scoring", d
	return "scoring_model", nil
}

// scoringTemplateJSON starts the advanced editor of a new model.
const scoringTemplateJSON = `{
  "name": "",
  "target": "contact",
  "applies_to": "",
  "rules": [
    {"name": "", "points": 10, "conditions": [""]}
  ],
  "grades": [],
  "sales_ready_threshold": null,
  "telesales_ready_threshold": null
}`

func (s *Server) scoringCreateSubmit(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	d := &scoringModelData{Editable: true, Targets: leadcycle.ScoringTargets}
	p.Title, p.Nav, p.Data = p.T("scoring.new_title"), "scoring", d
	body, rows, err := s.scoringBody(r, p, d, true)
	if err != nil {
		return s.scoringFormProblem(p, d, rows, err)
	}
	var m leadcycle.ScoringModel
	if err := s.api(r, p, "POST", scoringModelsBase, body, &m); err != nil {
		return s.scoringFormProblem(p, d, rows, err)
	}
	s.redirect(w, r, "/scoring-models/"+m.ID.String(), p.T("scoring.created", "Name", m.Name))
	return "", nil
}

func (s *Server) scoringModelPage(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	d, err := s.loadScoringModel(r, p)
	if err != nil {
		return "", err
	}
	d.fillEditor(d.Model)
	if lead := strings.TrimSpace(r.URL.Query().Get("lead_id")); lead != "" {
		d.PreviewLead = lead
		var res leadcycle.LeadScoreDetail
		if err := s.api(r, p, "GET", scoringModelsBase+"/"+d.Model.ID.String()+"/preview?"+url.Values{"lead_id": {lead}}.Encode(), nil, &res); err != nil {
			if leadcycle.ErrorCode(err) == leadcycle.EInternal {
				return "", err
			}
			d.PreviewError = leadcycle.ErrorMessage(err)
			if leadcycle.ErrorCode(err) == leadcycle.ENotFound {
				d.PreviewError = p.T("scoring.preview_no_lead", "ID", lead)
			}
		} else {
			d.Preview = &res
			d.PreviewReady = res.Applies && res.Scorable && res.SalesReadyThreshold != nil && res.Score >= *res.SalesReadyThreshold
		}
	}
	return "scoring_model", nil
}

// loadScoringModel reads the model of the path and what its page shows
// beside the editor.
func (s *Server) loadScoringModel(r *http.Request, p *page) (*scoringModelData, error) {
	id := r.PathValue("id")
	var m leadcycle.ScoringModel
	if err := s.api(r, p, "GET", scoringModelsBase+"/"+url.PathEscape(id), nil, &m); err != nil {
		return nil, err
	}
	d := &scoringModelData{Model: &m, Editable: m.Status == leadcycle.ModelDraft, Targets: leadcycle.ScoringTargets,
		Running: m.Rescore.State == leadcycle.RescoreRunning}
	var versions leadcycle.Page[leadcycle.ScoringModel]
	if err := s.api(r, p, "GET", scoringModelsBase+"?"+url.Values{"key": {m.Key}, "limit": {"100"}}.Encode(), nil, &versions); err == nil {
		d.Versions = versions.Items
		slices.SortFunc(d.Versions, func(a, b leadcycle.ScoringModel) int { return cmp.Compare(b.Version, a.Version) })
		for i := range d.Versions {
			if v := &d.Versions[i]; v.Status == leadcycle.ModelDraft && v.ID != m.ID {
				d.Draft = v
			}
		}
	}
	var recent leadcycle.Page[leadcycle.Lead]
	if err := s.api(r, p, "GET", "/api/v1/leads?limit=20&sort=-created_at", nil, &recent); err == nil {
		d.RecentLeads = recent.Items
	}
	if m.Status != leadcycle.ModelDraft && p.Can("leads:read_all") {
		var un leadcycle.Page[leadcycle.Lead]
		if err := s.api(r, p, "GET", scoringModelsBase+"/"+m.ID.String()+"/unscorable-leads?limit=10", nil, &un); err == nil {
			d.Unscorable = un.Items
		}
	}
	p.Form = url.Values{"name": {m.Name}, "description": {m.Description}, "target": {m.Target}, "applies_to": {m.AppliesTo},
		"sales_ready_threshold": {intText(m.SalesReadyThreshold)}, "telesales_ready_threshold": {intText(m.TelesalesReadyThreshold)}}
	p.Title, p.Nav, p.Data = p.T("scoring.model_title", "Name", m.Name, "Version", m.Version), "scoring", d
	return d, nil
}

// fillEditor puts a model's rules and grades into the editor's rows, with
// an empty row of each to add one.
func (d *scoringModelData) fillEditor(m *leadcycle.ScoringModel) {
	d.Rules, d.Grades = nil, nil
	for i, rule := range m.Rules {
		row := scoringRuleRow{Index: i, Name: rule.Name, Points: strconv.FormatInt(rule.Points, 10), Conditions: strings.Join(rule.Conditions, "\n")}
		if len(rule.Behaviors) > 0 {
			row.Behaviors = behaviorsJSON(rule.Behaviors)
		}
		if rule.HalfLifeDays != nil {
			row.HalfLife = strconv.FormatFloat(*rule.HalfLifeDays, 'f', -1, 64)
		}
		d.Rules = append(d.Rules, row)
	}
	d.Rules = append(d.Rules, scoringRuleRow{Index: len(m.Rules)})
	for i, g := range m.Grades {
		d.Grades = append(d.Grades, scoringGradeRow{Index: i, Name: g.Name, Min: intText(g.Min), Max: intText(g.Max)})
	}
	d.Grades = append(d.Grades, scoringGradeRow{Index: len(m.Grades)})
	d.JSON = scoringModelJSON(m)
}

// behaviorsJSON writes a rule's behaviours one a line, without the
// fields left at their defaults.
func behaviorsJSON(behaviors []leadcycle.Behavior) string {
	lines := make([]string, len(behaviors))
	for i, b := range behaviors {
		m := jsonMap(b)
		for k, v := range m {
			if v == nil || v == "" || (k == "count" && v == float64(0)) {
				delete(m, k)
			}
		}
		line, _ := json.Marshal(m)
		lines[i] = "  " + string(line)
	}
	return "[\n" + strings.Join(lines, ",\n") + "\n]"
}

func intText(v *int64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatInt(*v, 10)
}

// scoringModelJSON is the writable part of a model, for the advanced
// editor.
func scoringModelJSON(m *leadcycle.ScoringModel) string {
	all := jsonMap(m)
	out := map[string]any{}
	for _, k := range scoringWritable {
		if k == "key" {
			continue // a model's key does not change
		}
		out[k] = all[k]
	}
	b, _ := json.MarshalIndent(out, "", "  ")
	return string(b)
}

// scoringSaveSubmit saves the editor: a draft is changed in place; a live
// or stopped model gets a new draft version, which the user is sent to.
func (s *Server) scoringSaveSubmit(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	d, err := s.loadScoringModel(r, p)
	if err != nil {
		return "", err
	}
	d.fillEditor(d.Model)
	body, rows, err := s.scoringBody(r, p, d, false)
	if err != nil {
		return s.scoringFormProblem(p, d, rows, err)
	}
	var m leadcycle.ScoringModel
	if err := s.api(r, p, "PATCH", scoringModelsBase+"/"+d.Model.ID.String(), body, &m); err != nil {
		return s.scoringFormProblem(p, d, rows, err)
	}
	if m.ID != d.Model.ID {
		s.redirect(w, r, "/scoring-models/"+m.ID.String(), p.T("scoring.new_version", "Version", m.Version))
		return "", nil
	}
	s.redirect(w, r, "/scoring-models/"+m.ID.String(), p.T("scoring.saved"))
	return "", nil
}

// scoringRowIndex maps the rules and grades sent to the API back to the
// editor's rows, to show each error on its row.
type scoringRowIndex struct {
	rules, grades []int
}

// scoringBody reads the editor's form into an API body. A value the form
// cannot turn into JSON (points that are not a number) is an error of its
// row, named like the API's (rules[0].points).
func (s *Server) scoringBody(r *http.Request, p *page, d *scoringModelData, isNew bool) (map[string]any, scoringRowIndex, error) {
	var idx scoringRowIndex
	if err := r.ParseForm(); err != nil { // htmx sends the CSRF token as a header: the form is not read yet
		return nil, idx, leadcycle.Errorf(leadcycle.EMalformed, "the form could not be read: %v", err)
	}
	form := r.PostForm
	p.Form = form
	if form.Get("mode") == "json" {
		d.JSON, d.JSONOpen = form.Get("model_json"), true
		var body map[string]any
		dec := json.NewDecoder(strings.NewReader(d.JSON))
		dec.UseNumber()
		if err := dec.Decode(&body); err != nil || body == nil {
			msg := p.T("scoring.json_invalid")
			if err != nil {
				msg = p.T("scoring.json_invalid_detail", "Problem", err.Error())
			}
			return nil, idx, leadcycle.FieldErrorf(leadcycle.EInvalid, "model_json", "%s", msg)
		}
		return body, idx, nil
	}
	body := map[string]any{}
	for _, f := range []string{"name", "description", "target", "applies_to"} {
		body[f] = strings.TrimSpace(form.Get(f))
	}
	if isNew {
		if k := strings.TrimSpace(form.Get("key")); k != "" {
			body["key"] = k
		}
	}
	var errs []leadcycle.FieldError
	for _, f := range []string{"sales_ready_threshold", "telesales_ready_threshold"} {
		v, err := optionalInt(form.Get(f))
		if err != nil {
			errs = append(errs, leadcycle.FieldError{Field: f, Message: p.T("scoring.not_whole_number", "Value", form.Get(f))})
		}
		body[f] = v
	}
	ruleCount, _ := strconv.Atoi(form.Get("rule_rows"))
	rules := []map[string]any{}
	d.Rules = nil
	for i := 0; i < min(ruleCount, 500); i++ {
		at := fmt.Sprintf("rule.%d.", i)
		row := scoringRuleRow{Index: i, Name: strings.TrimSpace(form.Get(at + "name")), Points: strings.TrimSpace(form.Get(at + "points")),
			Conditions: form.Get(at + "conditions"), Behaviors: strings.TrimSpace(form.Get(at + "behaviors")),
			HalfLife: strings.TrimSpace(form.Get(at + "half_life_days")), Remove: form.Get(at+"remove") != ""}
		d.Rules = append(d.Rules, row)
		if row.Remove || row.Blank() {
			continue
		}
		api := fmt.Sprintf("rules[%d].", len(rules))
		rule := map[string]any{"name": row.Name}
		points, err := strconv.ParseInt(row.Points, 10, 64)
		if err != nil {
			errs = append(errs, leadcycle.FieldError{Field: api + "points", Message: p.T("scoring.points_invalid", "Rule", row.Name, "Value", row.Points)})
		}
		rule["points"] = points
		conds := []string{}
		for _, line := range strings.Split(row.Conditions, "\n") {
			if line = strings.TrimSpace(line); line != "" {
				conds = append(conds, line)
			}
		}
		rule["conditions"] = conds
		if row.Behaviors != "" {
			var behaviors []any
			if err := json.Unmarshal([]byte(row.Behaviors), &behaviors); err != nil {
				errs = append(errs, leadcycle.FieldError{Field: api + "behaviors", Message: p.T("scoring.behaviors_invalid", "Rule", row.Name)})
			}
			rule["behaviors"] = behaviors
		}
		if row.HalfLife != "" {
			hl, err := strconv.ParseFloat(strings.ReplaceAll(row.HalfLife, ",", "."), 64)
			if err != nil {
				errs = append(errs, leadcycle.FieldError{Field: api + "half_life_days", Message: p.T("scoring.half_life_invalid", "Rule", row.Name, "Value", row.HalfLife)})
			}
			rule["half_life_days"] = hl
		}
		rules = append(rules, rule)
		idx.rules = append(idx.rules, i)
	}
	body["rules"] = rules
	gradeCount, _ := strconv.Atoi(form.Get("grade_rows"))
	grades := []map[string]any{}
	d.Grades = nil
	for i := 0; i < min(gradeCount, 500); i++ {
		at := fmt.Sprintf("grade.%d.", i)
		row := scoringGradeRow{Index: i, Name: strings.TrimSpace(form.Get(at + "name")), Min: strings.TrimSpace(form.Get(at + "min")),
			Max: strings.TrimSpace(form.Get(at + "max")), Remove: form.Get(at+"remove") != ""}
		d.Grades = append(d.Grades, row)
		if row.Remove || row.Blank() {
			continue
		}
		api := fmt.Sprintf("grades[%d].", len(grades))
		grade := map[string]any{"name": row.Name}
		for f, v := range map[string]string{"min": row.Min, "max": row.Max} {
			n, err := optionalInt(v)
			if err != nil {
				errs = append(errs, leadcycle.FieldError{Field: api + f, Message: p.T("scoring.not_whole_number", "Value", v)})
			}
			grade[f] = n
		}
		grades = append(grades, grade)
		idx.grades = append(idx.grades, i)
	}
	body["grades"] = grades
	if len(errs) > 0 {
		slices.SortFunc(errs, func(a, b leadcycle.FieldError) int { return cmp.Compare(a.Field, b.Field) })
		return nil, idx, &leadcycle.Error{Code: leadcycle.EInvalid, Message: p.T("scoring.form_invalid"), Fields: errs}
	}
	return body, idx, nil
}

// optionalInt reads an empty text as null and anything else as a whole
// number.
func optionalInt(v string) (*int64, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return nil, err
	}
	return &n, nil
}

// scoringRowPath finds the rule or grade an API error names:
// rules[2].conditions[0] is rule 2.
var scoringRowPath = regexp.MustCompile(`^(rules|grades)\[(\d+)\]`)

// scoringFormProblem shows the editor again with the API's (or the
// form's) problem, every field error on its row, and the typed values.
func (s *Server) scoringFormProblem(p *page, d *scoringModelData, idx scoringRowIndex, err error) (string, error) {
	code := leadcycle.ErrorCode(err)
	if code != leadcycle.EInvalid && code != leadcycle.EMalformed && code != leadcycle.EConflict {
		return "", err
	}
	p.Error = leadcycle.ErrorMessage(err)
	for _, f := range leadcycle.ErrorFields(err) {
		p.FieldErrors[f.Field] = f.Message
		m := scoringRowPath.FindStringSubmatch(f.Field)
		if m == nil {
			continue
		}
		n, _ := strconv.Atoi(m[2])
		if m[1] == "rules" && n < len(idx.rules) && idx.rules[n] < len(d.Rules) {
			row := &d.Rules[idx.rules[n]]
			row.Errors = append(row.Errors, f.Message)
			input, _, _ := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(f.Field, m[0]), "."), "[")
			input, _, _ = strings.Cut(input, ".")
			if row.Invalid == nil {
				row.Invalid = map[string]bool{}
			}
			row.Invalid[cmp.Or(input, "conditions")] = true
		} else if m[1] == "grades" && n < len(idx.grades) && idx.grades[n] < len(d.Grades) {
			row := &d.Grades[idx.grades[n]]
			row.Errors = append(row.Errors, f.Message)
		}
	}
	if len(d.Rules) == 0 || !d.Rules[len(d.Rules)-1].Blank() {
		d.Rules = append(d.Rules, scoringRuleRow{Index: len(d.Rules)})
	}
	if len(d.Grades) == 0 || !d.Grades[len(d.Grades)-1].Blank() {
		d.Grades = append(d.Grades, scoringGradeRow{Index: len(d.Grades)})
	}
	p.Status = StatusCode(code)
	if code == leadcycle.EMalformed {
		p.Status = http.StatusUnprocessableEntity // the form's values, not the request, are at fault
	}
	return "scoring_model", nil
}

// Blank reports whether a rule row is the empty one that adds a rule.
func (r scoringRuleRow) Blank() bool {
	return r.Name == "" && r.Points == "" && strings.TrimSpace(r.Conditions) == "" && r.Behaviors == "" && r.HalfLife == "" && len(r.Errors) == 0
}

// Blank reports whether a grade row is the empty one that adds a grade.
func (g scoringGradeRow) Blank() bool {
	return g.Name == "" && g.Min == "" && g.Max == "" && len(g.Errors) == 0
}

func (s *Server) scoringPublishSubmit(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	id := r.PathValue("id")
	var m leadcycle.ScoringModel
	if err := s.api(r, p, "POST", scoringModelsBase+"/"+url.PathEscape(id)+"/publish", map[string]any{}, &m); err != nil {
		return s.scoringActionProblem(r, p, err)
	}
	s.redirect(w, r, "/scoring-models/"+m.ID.String(), p.T("scoring.published", "Name", m.Name, "Version", m.Version))
	return "", nil
}

func (s *Server) scoringStopSubmit(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	id := r.PathValue("id")
	scores := r.PostFormValue("scores")
	if scores != stopClearScores {
		scores = stopKeepScores
	}
	var m leadcycle.ScoringModel
	if err := s.api(r, p, "POST", scoringModelsBase+"/"+url.PathEscape(id)+"/stop", map[string]any{"scores": scores}, &m); err != nil {
		return s.scoringActionProblem(r, p, err)
	}
	msg := p.T("scoring.stopped_keep", "Name", m.Name)
	if scores == stopClearScores {
		msg = p.T("scoring.stopped_clear", "Name", m.Name)
	}
	s.redirect(w, r, "/scoring-models/"+m.ID.String(), msg)
	return "", nil
}

// scoringActionProblem shows the model's page with the problem of a
// publish or stop (a model that is not valid, or not a draft).
func (s *Server) scoringActionProblem(r *http.Request, p *page, err error) (string, error) {
	code := leadcycle.ErrorCode(err)
	if code != leadcycle.EInvalid && code != leadcycle.EConflict {
		return "", err
	}
	d, lerr := s.loadScoringModel(r, p)
	if lerr != nil {
		return "", err
	}
	d.fillEditor(d.Model)
	p.Error = leadcycle.ErrorMessage(err)
	for _, f := range leadcycle.ErrorFields(err) {
		p.FieldErrors[f.Field] = f.Message
	}
	p.Status = StatusCode(code)
	return "scoring_model", nil
}

// RescorePercent is how far the rescore of a model is, 0 to 100.
func (d *scoringModelData) RescorePercent() int {
	if d.Model == nil {
		return 0
	}
	rs := d.Model.Rescore
	if rs.State == leadcycle.RescoreDone {
		return 100
	}
	return pctOf(rs.Done, rs.Total)
}

// pctOf is part of whole in percent, 0 when whole is 0.
func pctOf(part, whole int64) int {
	if whole <= 0 {
		return 0
	}
	return int(min(part*100/whole, 100))
}
