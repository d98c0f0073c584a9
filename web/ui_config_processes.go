package web

import (
	"cmp"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/leadcycle/leadcycle"
)

// The business process screens: the list of processes, and a process's
// page with a readable rendering of its stages and transitions beside a
// JSON editor of its definition. The API compiles a saved definition
// (structure and expressions); its errors name paths such as
// stages[1].next[0].to and are shown on the editor and on the stage they
// concern. A new process starts as a copy of an existing one.

func (s *Server) registerProcessPages() {
	write := leadcycle.Perm("processes", leadcycle.ActionWrite)
	s.handlePage("GET", "/processes", write, s.processListPage)
	s.handlePage("GET", "/processes/new", write, s.processNewPage)
	s.handlePage("POST", "/processes/new", write, s.processCreateSubmit)
	s.handlePage("GET", "/processes/{id}", write, s.processPage)
	s.handlePage("POST", "/processes/{id}", write, s.processSaveSubmit)
	s.handlePage("POST", "/processes/{id}/make-default", write, s.processDefaultSubmit)
}

func (s *Server) processListPage(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	procs, err := s.listProcesses(r, p)
	if err != nil {
		return "", err
	}
	p.Title, p.Nav, p.Data = p.T("processes.title"), "processes", procs
	return "processes", nil
}

func (s *Server) listProcesses(r *http.Request, p *page) ([]leadcycle.Process, error) {
	var res leadcycle.Page[leadcycle.Process]
	if err := s.api(r, p, "GET", "/api/v1/processes?limit=200&sort=name", nil, &res); err != nil {
		return nil, err
	}
	// The default first.
	slices.SortStableFunc(res.Items, func(a, b leadcycle.Process) int { return cmp.Compare(cfgRank(!a.IsDefault), cfgRank(!b.IsDefault)) })
	return res.Items, nil
}

// processDoc is the part of a process the JSON editor shows: what a
// client may write, in a readable order.
type processDoc struct {
	Key         string                 `json:"key"`
	Name        string                 `json:"name"`
	Description string                 `json:"description"`
	IsDefault   bool                   `json:"is_default"`
	Stages      []leadcycle.Stage      `json:"stages"`
	Transitions []leadcycle.Transition `json:"transitions"`
}

func processJSON(p *leadcycle.Process) string {
	b, _ := json.MarshalIndent(processDoc{Key: p.Key, Name: p.Name, Description: p.Description, IsDefault: p.IsDefault, Stages: p.Stages, Transitions: p.Transitions}, "", "  ")
	return string(b)
}

// processPageData is a process's page, or the new process's when Process
// is nil.
type processPageData struct {
	Process *leadcycle.Process
	// View is what the readable rendering shows: the typed definition when
	// it could be read, the saved one otherwise.
	View *leadcycle.Process
	// ViewTyped says View is the typed, unsaved definition.
	ViewTyped bool
	JSON      string
	// StageErrors and TransitionErrors are the API's problems with each
	// stage and transition of View, by position ("path: message").
	StageErrors      map[int][]string
	TransitionErrors map[int][]string
	// Processes and CopyOf choose the process a new one copies.
	Processes []leadcycle.Process
	CopyOf    string
	Action    string
}

func (s *Server) processPage(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	d, err := s.loadProcess(r, p)
	if err != nil {
		return "", err
	}
	d.JSON = processJSON(d.Process)
	return "process", nil
}

func (s *Server) loadProcess(r *http.Request, p *page) (*processPageData, error) {
	var proc leadcycle.Process
	if err := s.api(r, p, "GET", "/api/v1/processes/"+url.PathEscape(r.PathValue("id")), nil, &proc); err != nil {
		return nil, err
	}
	d := &processPageData{Process: &proc, View: &proc, Action: "/processes/" + proc.ID.String()}
	p.Title, p.Nav, p.Data = p.ProcessName(proc), "processes", d
	return d, nil
}

func (s *Server) processSaveSubmit(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	d, err := s.loadProcess(r, p)
	if err != nil {
		return "", err
	}
	d.JSON = r.PostFormValue("definition")
	var saved leadcycle.Process
	if err := s.api(r, p, "PATCH", "/api/v1/processes/"+d.Process.ID.String(), strings.NewReader(d.JSON), &saved); err != nil {
		return d.problem(p, err)
	}
	s.redirect(w, r, "/processes/"+saved.ID.String(), p.T("process.saved", "Name", saved.Name))
	return "", nil
}

// processDefaultSubmit makes the process the one new leads start in.
func (s *Server) processDefaultSubmit(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	var saved leadcycle.Process
	if err := s.api(r, p, "PATCH", "/api/v1/processes/"+url.PathEscape(r.PathValue("id")), map[string]any{"is_default": true}, &saved); err != nil {
		return "", err
	}
	s.redirect(w, r, "/processes/"+saved.ID.String(), p.T("process.made_default", "Name", p.ProcessName(saved)))
	return "", nil
}

// newProcessData starts the new process's page as a copy of the process
// named by copy (the default process when it names none).
func (s *Server) newProcessData(r *http.Request, p *page, copyOf string) (*processPageData, error) {
	procs, err := s.listProcesses(r, p)
	if err != nil {
		return nil, err
	}
	d := &processPageData{Processes: procs, Action: "/processes/new", CopyOf: copyOf}
	p.Title, p.Nav, p.Data = p.T("process.new_title"), "processes", d
	return d, nil
}

func (s *Server) processNewPage(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	d, err := s.newProcessData(r, p, r.URL.Query().Get("copy"))
	if err != nil {
		return "", err
	}
	var src *leadcycle.Process
	for i := range d.Processes {
		if pr := &d.Processes[i]; pr.ID.String() == d.CopyOf || (d.CopyOf == "" && pr.IsDefault) {
			src = pr
		}
	}
	if src == nil && d.CopyOf != "" {
		return "", leadcycle.Errorf(leadcycle.ENotFound, "%s", p.T("process.copy_missing", "ID", d.CopyOf))
	}
	if src == nil && len(d.Processes) > 0 {
		src = &d.Processes[0]
	}
	cp := leadcycle.Process{Stages: []leadcycle.Stage{}, Transitions: []leadcycle.Transition{}}
	if src != nil {
		d.CopyOf = src.ID.String()
		cp = *src
		cp.Name = p.T("process.copy_name", "Name", p.ProcessName(*src))
		cp.Key = src.Key + "_copy"
		cp.Description = p.ProcessDescription(*src)
		cp.IsDefault = false
	}
	d.View, d.JSON = &cp, processJSON(&cp)
	return "process", nil
}

func (s *Server) processCreateSubmit(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	d, err := s.newProcessData(r, p, r.PostFormValue("copy"))
	if err != nil {
		return "", err
	}
	d.JSON = r.PostFormValue("definition")
	var saved leadcycle.Process
	if err := s.api(r, p, "POST", "/api/v1/processes", strings.NewReader(d.JSON), &saved); err != nil {
		return d.problem(p, err)
	}
	s.redirect(w, r, "/processes/"+saved.ID.String(), p.T("process.created", "Name", saved.Name))
	return "", nil
}

// problem shows the page again with the API's problem: the typed
// definition stays in the editor, and the readable rendering shows it when
// it can be read, each error under the stage or transition it names.
func (d *processPageData) problem(p *page, err error) (string, error) {
	if err := configProblem(p, err); err != nil {
		return "", err
	}
	var typed leadcycle.Process
	if d.JSON != "" && json.Unmarshal([]byte(d.JSON), &typed) == nil {
		typed.Normalize()
		d.View, d.ViewTyped = &typed, true
	}
	if d.View == nil {
		d.View = &leadcycle.Process{}
	}
	d.StageErrors, d.TransitionErrors = map[int][]string{}, map[int][]string{}
	for _, path := range sortedKeys(p.FieldErrors) {
		list, i, _, ok := cfgSplitPath(path)
		if !ok {
			continue
		}
		msg := path + ": " + p.FieldErrors[path]
		switch list {
		case "stages":
			d.StageErrors[i] = append(d.StageErrors[i], msg)
		case "transitions":
			d.TransitionErrors[i] = append(d.TransitionErrors[i], msg)
		}
	}
	return "process", nil
}

// ProcessName is a process's name as shown: the shipped default's reads in
// the user's language until someone renames it.
func (p *page) ProcessName(proc leadcycle.Process) string {
	if proc.Key == leadcycle.DefaultProcessKey {
		return cmp.Or(p.shipped("processes.shipped_name", proc.Name), proc.Key)
	}
	return cmp.Or(proc.Name, proc.Key)
}

// ProcessDescription is a process's description as shown.
func (p *page) ProcessDescription(proc leadcycle.Process) string {
	if proc.Key == leadcycle.DefaultProcessKey {
		return p.shipped("processes.shipped_description", proc.Description)
	}
	return proc.Description
}

// StageFieldLabel is the label of a stage's field as shown.
func (p *page) StageFieldLabel(f leadcycle.StageField) string { return p.fieldLabel(f.Field, f.Label) }

// StageKeyName is the shown name of the stage with a key in a process.
func (p *page) StageKeyName(proc *leadcycle.Process, key string) string {
	if proc != nil {
		if st := proc.Stage(key); st != nil {
			return p.StageName(*st)
		}
	}
	return key
}

// TriggerName is the shown name of a transition's trigger.
func (p *page) TriggerName(on string) string {
	if slices.Contains(leadcycle.Triggers, on) {
		return p.T("process.trigger." + on)
	}
	return on
}

// StageAfter is the key of the stage after position i, "" after the last.
func (p *page) StageAfter(proc *leadcycle.Process, i int) string {
	if proc == nil || i+1 >= len(proc.Stages) {
		return ""
	}
	return proc.Stages[i+1].Key
}
