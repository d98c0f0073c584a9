package web

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/leadcycle/leadcycle"
)

// The journey screens: the list of journeys with their counts, a journey's
// page (entry, steps in words, goal, counts, its runs, and the lifecycle
// buttons), and the form that makes or edits a draft. Every read and
// change goes through the JSON API, whose problems come back onto the page.

func (s *Server) registerJourneyPages() {
	read := leadcycle.Perm(journeys, leadcycle.ActionRead)
	write := leadcycle.Perm(journeys, leadcycle.ActionWrite)
	s.handlePage("GET", "/journeys", read, s.journeyListPage)
	s.handlePage("GET", "/journeys/new", write, s.journeyNewPage)
	s.handlePage("POST", "/journeys/new", write, s.journeyCreateSubmit)
	s.handlePage("GET", "/journeys/{id}", read, s.journeyPage)
	s.handlePage("GET", "/journeys/{id}/edit", write, s.journeyEditPage)
	s.handlePage("POST", "/journeys/{id}/edit", write, s.journeyEditSubmit)
	for _, action := range journeyActions {
		s.handlePage("POST", "/journeys/{id}/"+action, write, s.journeyActionSubmit(action))
	}
}

// journeyActions are the lifecycle actions, in the order of their buttons.
var journeyActions = []string{"publish", "pause", "resume", "stop"}

// journeyRunsPage is how many runs a page of the journey shows.
const journeyRunsPage = 50

// journeyRunStates are the states the runs can be filtered by.
var journeyRunStates = []string{leadcycle.RunActive, leadcycle.RunWaiting, leadcycle.RunCompleted, leadcycle.RunGoal, leadcycle.RunExited, leadcycle.RunFailed}

// journeyStepExample prefills the steps of a new journey.
const journeyStepExample = `[
  {"id": "wait", "type": "wait", "duration": "3d"},
  {"id": "bye", "type": "exit"}
]`

type journeyListData struct {
	Journeys   []leadcycle.Journey
	NextCursor string
}

func (s *Server) journeyListPage(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	q := url.Values{"limit": {"100"}}
	if c := r.URL.Query().Get("cursor"); c != "" {
		q.Set("cursor", c)
	}
	var res leadcycle.Page[leadcycle.Journey]
	if err := s.api(r, p, "GET", journeysBase+"?"+q.Encode(), nil, &res); err != nil {
		return "", err
	}
	p.Title, p.Nav = p.T("journeys.title"), "journeys"
	p.Data = &journeyListData{Journeys: res.Items, NextCursor: res.NextCursor}
	return "journeys", nil
}

// journeyStepRow is one step as shown: its id, type and settings in words.
type journeyStepRow struct {
	ID, Type, Name, Words string
}

// journeyData is a journey's page.
type journeyData struct {
	Journey    *leadcycle.Journey
	Steps      []journeyStepRow
	Entry      string
	Runs       []leadcycle.JourneyRun
	NextCursor string
	Cursor     string
	State      string
	States     []string
}

// Actions are the lifecycle actions the journey's status allows.
func (d *journeyData) Actions() []string {
	switch d.Journey.Status {
	case leadcycle.JourneyDraft:
		return []string{"publish"}
	case leadcycle.JourneyLive:
		return []string{"pause", "stop"}
	case leadcycle.JourneyPaused:
		return []string{"resume", "stop"}
	}
	return nil
}

func (s *Server) loadJourney(r *http.Request, p *page) (*journeyData, error) {
	var j leadcycle.Journey
	if err := s.api(r, p, "GET", journeysBase+"/"+url.PathEscape(r.PathValue("id")), nil, &j); err != nil {
		return nil, err
	}
	d := &journeyData{Journey: &j, States: journeyRunStates}
	names := s.journeyNames(r, p)
	d.Entry = describeEntry(p, &j.Entry, names)
	for _, st := range j.Steps {
		d.Steps = append(d.Steps, journeyStepRow{ID: st.ID, Type: st.Type, Name: st.Name, Words: describeStep(p, &st, names)})
	}
	q := url.Values{"limit": {strconv.Itoa(journeyRunsPage)}}
	if c := r.URL.Query().Get("cursor"); c != "" {
		q.Set("cursor", c)
		d.Cursor = c
	}
	if st := r.URL.Query().Get("state"); st != "" {
		q.Set("state", st)
		d.State = st
	}
	var runs leadcycle.Page[leadcycle.JourneyRun]
	if err := s.api(r, p, "GET", journeysBase+"/"+j.ID.String()+"/runs?"+q.Encode(), nil, &runs); err != nil {
		return nil, err
	}
	d.Runs, d.NextCursor = runs.Items, runs.NextCursor
	p.Title, p.Nav, p.Data = j.Name, "journeys", d
	return d, nil
}

// journeyNames are the names of the email templates and segments a
// journey can name, by id; the ones the user may not read are left out.
func (s *Server) journeyNames(r *http.Request, p *page) map[string]string {
	names := map[string]string{}
	var tmpls leadcycle.Page[leadcycle.EmailTemplate]
	if s.api(r, p, "GET", templatesBase+"?limit=200", nil, &tmpls) == nil {
		for _, t := range tmpls.Items {
			names["email:"+t.ID.String()] = t.Name
		}
	}
	var segs leadcycle.Page[leadcycle.Segment]
	if s.api(r, p, "GET", segmentsBase+"?limit=200", nil, &segs) == nil {
		for _, sg := range segs.Items {
			names["segment:"+sg.ID.String()] = sg.Name
		}
	}
	return names
}

func nameOf(names map[string]string, kind string, id *leadcycle.ID) string {
	if id == nil {
		return ""
	}
	if n, ok := names[kind+":"+id.String()]; ok {
		return n
	}
	return "#" + id.String()
}

// describeEntry says in words who enters a journey.
func describeEntry(p *page, e *leadcycle.JourneyEntry, names map[string]string) string {
	if e.Kind == leadcycle.EntrySegment {
		return p.T("journeys.entry_segment."+e.Mode, "Name", nameOf(names, "segment", e.SegmentID))
	}
	out := p.T("journeys.trigger." + e.Trigger)
	if e.EventType != "" {
		out += " (" + e.EventType + ")"
	}
	return out
}

// describeStep says in words what a step does.
func describeStep(p *page, st *leadcycle.JourneyStep, names map[string]string) string {
	dash := func(s string) string {
		if s == "" {
			return p.T("journeys.step.end")
		}
		return s
	}
	var out string
	switch st.Type {
	case leadcycle.StepSendEmail:
		out = p.T("journeys.step.send_email", "Name", nameOf(names, "email", st.EmailID))
	case leadcycle.StepWait:
		if st.Until != nil {
			out = p.T("journeys.step.wait_until", "Until", p.L.DateTime(*st.Until))
		} else {
			out = p.T("journeys.step.wait", "Duration", st.Duration)
		}
	case leadcycle.StepBranch:
		cond := st.Condition
		if in := st.Interaction; in != nil {
			cond = p.T("journeys.step.interaction", "Type", in.Type, "Within", in.Within)
		}
		out = p.T("journeys.step.branch", "Condition", cond, "Then", dash(st.Then), "Else", dash(st.Else))
	case leadcycle.StepCreateLead:
		out = p.T("journeys.step.create_lead", "Per", st.Per, "Topic", st.Topic)
	case leadcycle.StepUpdateRecord:
		keys := make([]string, 0, len(st.Set))
		for k, v := range st.Set {
			b, _ := json.Marshal(v)
			keys = append(keys, k+" = "+string(b))
		}
		sort.Strings(keys)
		out = p.T("journeys.step.update_record", "Target", st.Target, "Fields", strings.Join(keys, ", "))
	case leadcycle.StepCreateTask:
		out = p.T("journeys.step.create_task", "Title", st.Title)
	case leadcycle.StepWebhook:
		out = p.T("journeys.step.webhook", "ID", idString(st.WebhookID))
	case leadcycle.StepExit:
		out = p.T("journeys.step.exit")
	default:
		out = st.Type
	}
	if st.Next != "" {
		out += " " + p.T("journeys.step.next", "Next", st.Next)
	}
	return out
}

func idString(id *leadcycle.ID) string {
	if id == nil {
		return ""
	}
	return id.String()
}

func (s *Server) journeyPage(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	_, err := s.loadJourney(r, p)
	return "journey", err
}

// journeyActionSubmit publishes, pauses, resumes or stops a journey; the
// API's refusal is shown on the journey's page.
func (s *Server) journeyActionSubmit(action string) pageFunc {
	return func(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
		id := r.PathValue("id")
		var j leadcycle.Journey
		if err := s.api(r, p, "POST", journeysBase+"/"+url.PathEscape(id)+"/"+action, map[string]any{}, &j); err != nil {
			code := leadcycle.ErrorCode(err)
			if code != leadcycle.EConflict && code != leadcycle.EInvalid {
				return "", err
			}
			if _, lerr := s.loadJourney(r, p); lerr != nil {
				return "", lerr
			}
			p.Error = p.T("journeys.action_refused", "Problem", leadcycle.ErrorMessage(err))
			for _, f := range leadcycle.ErrorFields(err) {
				p.FieldErrors[f.Field] = f.Message
			}
			p.Status = StatusCode(code)
			return "journey", nil
		}
		s.redirect(w, r, "/journeys/"+j.ID.String(), p.T("journeys.done."+action, "Name", j.Name))
		return "", nil
	}
}

// journeyFormData is the form that makes or edits a draft journey.
type journeyFormData struct {
	Journey  *leadcycle.Journey
	Segments []leadcycle.Segment
	Triggers []string
	Modes    []string
	// StepErrors are the problems of the steps, each with its path.
	StepErrors []string
}

func (s *Server) journeyForm(r *http.Request, p *page, j *leadcycle.Journey) (*journeyFormData, error) {
	d := &journeyFormData{Journey: j, Triggers: leadcycle.JourneyTriggers, Modes: []string{leadcycle.EntryOneTime, leadcycle.EntryOngoing}}
	var segs leadcycle.Page[leadcycle.Segment]
	if err := s.api(r, p, "GET", segmentsBase+"?limit=200&sort=name", nil, &segs); err != nil {
		return nil, err
	}
	d.Segments = segs.Items
	p.Nav, p.Data = "journeys", d
	if j != nil {
		p.Title = p.T("journeys.edit_title", "Name", j.Name)
	} else {
		p.Title = p.T("journeys.new_title")
	}
	return d, nil
}

func (s *Server) journeyNewPage(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	if _, err := s.journeyForm(r, p, nil); err != nil {
		return "", err
	}
	p.Form = url.Values{"entry_kind": {leadcycle.EntrySegment}, "mode": {leadcycle.EntryOneTime}, "steps": {journeyStepExample}}
	return "journey_form", nil
}

// journeyFormValues fills the form from a journey.
func journeyFormValues(j *leadcycle.Journey) url.Values {
	steps, _ := json.MarshalIndent(j.Steps, "", "  ")
	return url.Values{"name": {j.Name}, "description": {j.Description}, "entry_kind": {j.Entry.Kind}, "segment_id": {idString(j.Entry.SegmentID)},
		"mode": {j.Entry.Mode}, "trigger": {j.Entry.Trigger}, "event_type": {j.Entry.EventType}, "goal": {j.Goal}, "exit_condition": {j.ExitCondition}, "steps": {string(steps)}}
}

// journeyBody reads the form into an API body.
func journeyBody(r *http.Request, p *page) (map[string]any, error) {
	if err := r.ParseForm(); err != nil {
		return nil, leadcycle.Errorf(leadcycle.EMalformed, "the form could not be read: %v", err)
	}
	p.Form = r.PostForm
	f := p.Form
	body := map[string]any{}
	for _, k := range []string{"name", "description", "goal", "exit_condition"} {
		body[k] = strings.TrimSpace(f.Get(k))
	}
	entry := map[string]any{"kind": f.Get("entry_kind")}
	if f.Get("entry_kind") == leadcycle.EntryTrigger {
		entry["trigger"] = f.Get("trigger")
		if et := strings.TrimSpace(f.Get("event_type")); et != "" {
			entry["event_type"] = et
		}
	} else {
		entry["mode"] = f.Get("mode")
		if id := f.Get("segment_id"); id != "" {
			entry["segment_id"] = id
		}
	}
	body["entry"] = entry
	dec := json.NewDecoder(bytes.NewReader([]byte(f.Get("steps"))))
	dec.UseNumber()
	var steps any
	if err := dec.Decode(&steps); err != nil {
		return nil, leadcycle.FieldErrorf(leadcycle.EInvalid, "steps", "%s", p.T("journeys.steps_json", "Problem", err.Error()))
	}
	body["steps"] = steps
	return body, nil
}

// journeyFormProblem shows the form again with the API's problems beside
// their fields; the steps' problems are listed under the steps.
func (s *Server) journeyFormProblem(p *page, d *journeyFormData, err error) (string, error) {
	code := leadcycle.ErrorCode(err)
	if code != leadcycle.EInvalid && code != leadcycle.EMalformed && code != leadcycle.EConflict {
		return "", err
	}
	p.Error = leadcycle.ErrorMessage(err)
	for _, f := range leadcycle.ErrorFields(err) {
		field := strings.TrimPrefix(f.Field, "entry.")
		if field == "kind" {
			field = "entry_kind"
		}
		if strings.HasPrefix(f.Field, "steps") {
			d.StepErrors = append(d.StepErrors, f.Field+": "+f.Message)
			field = "steps"
		}
		if p.FieldErrors[field] == "" {
			p.FieldErrors[field] = f.Message
		}
	}
	p.Status = StatusCode(code)
	if code == leadcycle.EMalformed {
		p.Status = http.StatusUnprocessableEntity
	}
	return "journey_form", nil
}

func (s *Server) journeyCreateSubmit(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	d, err := s.journeyForm(r, p, nil)
	if err != nil {
		return "", err
	}
	body, err := journeyBody(r, p)
	if err != nil {
		return s.journeyFormProblem(p, d, err)
	}
	var j leadcycle.Journey
	if err := s.api(r, p, "POST", journeysBase, body, &j); err != nil {
		return s.journeyFormProblem(p, d, err)
	}
	s.redirect(w, r, "/journeys/"+j.ID.String(), p.T("journeys.created", "Name", j.Name))
	return "", nil
}

func (s *Server) loadDraft(r *http.Request, p *page) (*journeyFormData, error) {
	var j leadcycle.Journey
	if err := s.api(r, p, "GET", journeysBase+"/"+url.PathEscape(r.PathValue("id")), nil, &j); err != nil {
		return nil, err
	}
	if j.Status != leadcycle.JourneyDraft {
		return nil, leadcycle.Errorf(leadcycle.EConflict, "%s", p.T("journeys.not_draft"))
	}
	return s.journeyForm(r, p, &j)
}

func (s *Server) journeyEditPage(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	d, err := s.loadDraft(r, p)
	if err != nil {
		return "", err
	}
	p.Form = journeyFormValues(d.Journey)
	return "journey_form", nil
}

func (s *Server) journeyEditSubmit(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	d, err := s.loadDraft(r, p)
	if err != nil {
		return "", err
	}
	body, err := journeyBody(r, p)
	if err != nil {
		return s.journeyFormProblem(p, d, err)
	}
	var j leadcycle.Journey
	if err := s.api(r, p, "PATCH", journeysBase+"/"+d.Journey.ID.String(), body, &j); err != nil {
		return s.journeyFormProblem(p, d, err)
	}
	s.redirect(w, r, "/journeys/"+j.ID.String(), p.T("journeys.saved", "Name", j.Name))
	return "", nil
}
