package web

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/leadcycle/leadcycle"
)

func (s *Server) registerDashboards() {
	s.handlePage("GET", "/{$}", leadcycle.Perm("profile", leadcycle.ActionRead), s.homePage)
	s.handlePage("POST", "/tasks/{id}/assign", leadcycle.Perm("tasks", "assign"), s.assignTaskSubmit)
}

// queueRow is one open task of a queue with its lead.
type queueRow struct {
	Task     leadcycle.Task
	Lead     *leadcycle.Lead
	Contact  string
	Account  string
	Assignee string
	Mine     bool
}

// dashboardData is the home page: the sections the user's role works with.
type dashboardData struct {
	Telesales  []queueRow
	Sales      []queueRow
	SalesUsers []leadcycle.User
	Overview   *overview
	MyLeads    []leadRow
}

// overview is the marketer's view of the funnel.
type overview struct {
	Stats   leadcycle.LeadStats
	Funnel  svgChart
	Sources svgChart
	Scores  []scoreChart
}

// scoreChart is the score distribution of one live model.
type scoreChart struct {
	Model leadcycle.ScoreDistribution
	Chart svgChart
}

func (s *Server) homePage(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	d := &dashboardData{}
	role := p.User.Role
	admin := role == leadcycle.RoleAdmin
	var err error
	if admin || role == leadcycle.RoleTelesales || role == leadcycle.RoleSalesManager {
		if d.Telesales, err = s.queueRows(r, p, "telesales"); err != nil {
			return "", err
		}
	}
	if admin || role == leadcycle.RoleSales || role == leadcycle.RoleSalesManager {
		if d.Sales, err = s.queueRows(r, p, "sales"); err != nil {
			return "", err
		}
	}
	if p.Can("tasks:assign") {
		users, err := s.store.Users().List(r.Context(), leadcycle.ListQuery{Limit: leadcycle.MaxLimit, Filters: []leadcycle.Filter{{Columns: []string{"active"}, Op: leadcycle.OpEq, Value: true}}})
		if err != nil {
			return "", err
		}
		for _, u := range users.Items {
			if u.Role == leadcycle.RoleSales || u.Role == leadcycle.RoleSalesManager || slices.Contains(u.Queues, "sales") {
				d.SalesUsers = append(d.SalesUsers, u)
			}
		}
	}
	if p.Can("leads:read_all") {
		var st leadcycle.LeadStats
		if err := s.api(r, p, "GET", "/api/v1/lead-stats", nil, &st); err != nil {
			return "", err
		}
		d.Overview = s.buildOverview(r, p, &st)
	}
	if role == leadcycle.RoleSales || role == leadcycle.RoleTelesales {
		q := url.Values{"owner_id": {p.User.ID.String()}, "status": {leadcycle.LeadOpen}, "limit": {"20"}}
		var res leadcycle.Page[leadcycle.Lead]
		if err := s.api(r, p, "GET", "/api/v1/leads?"+q.Encode(), nil, &res); err != nil {
			return "", err
		}
		names := s.recordNames(r)
		for _, l := range res.Items {
			d.MyLeads = append(d.MyLeads, leadRow{Lead: l, Contact: names.contact(l.ContactID), Account: names.account(l.AccountID)})
		}
	}
	p.Title, p.Nav, p.Data = p.T("home.title"), "home", d
	return "home", nil
}

// queueRows lists the open tasks of a queue with their leads; leads the
// user may not open are left out.
func (s *Server) queueRows(r *http.Request, p *page, queue string) ([]queueRow, error) {
	q := url.Values{"queue": {queue}, "status": {"open"}, "sort": {"due_at"}, "limit": {"100"}}
	var tasks leadcycle.Page[leadcycle.Task]
	if err := s.api(r, p, "GET", "/api/v1/tasks?"+q.Encode(), nil, &tasks); err != nil {
		return nil, err
	}
	names := s.recordNames(r)
	var out []queueRow
	for _, t := range tasks.Items {
		row := queueRow{Task: t, Assignee: names.user(t.AssigneeID), Mine: t.AssigneeID != nil && *t.AssigneeID == p.User.ID}
		if t.LeadID != nil {
			var l leadcycle.Lead
			if err := s.api(r, p, "GET", "/api/v1/leads/"+t.LeadID.String(), nil, &l); err != nil {
				if leadcycle.ErrorCode(err) == leadcycle.EForbidden || leadcycle.ErrorCode(err) == leadcycle.ENotFound {
					continue
				}
				return nil, err
			}
			row.Lead, row.Contact, row.Account = &l, names.contact(l.ContactID), names.account(l.AccountID)
		}
		out = append(out, row)
	}
	// The user's own tasks first, then the unassigned, then the others'.
	rank := func(r queueRow) int {
		switch {
		case r.Mine:
			return 0
		case r.Task.AssigneeID == nil:
			return 1
		}
		return 2
	}
	slices.SortStableFunc(out, func(a, b queueRow) int { return cmp.Compare(rank(a), rank(b)) })
	return out, nil
}

// buildOverview draws the marketer's charts.
func (s *Server) buildOverview(r *http.Request, p *page, st *leadcycle.LeadStats) *overview {
	o := &overview{Stats: *st}
	var stageLabels []string
	var stageValues []int64
	proc, _ := s.defaultProcess(r)
	// Stages of the default process in its order, any others after them.
	order := func(key string) int {
		if proc == nil {
			return 0
		}
		return cmp.Or(slices.IndexFunc(proc.Stages, func(x leadcycle.Stage) bool { return x.Key == key })+1, 1000)
	}
	stages := slices.Clone(st.ByStage)
	slices.SortStableFunc(stages, func(a, b leadcycle.Count) int { return cmp.Compare(order(a.Key), order(b.Key)) })
	for _, c := range stages {
		stageLabels = append(stageLabels, s.stageName(p, proc, c.Key))
		stageValues = append(stageValues, c.Count)
	}
	o.Funnel = horizontalBars(p, p.T("home.funnel"), stageLabels, stageValues)
	var srcLabels []string
	var srcValues []int64
	for _, c := range st.BySource {
		srcLabels = append(srcLabels, p.T("enum.source."+c.Key))
		srcValues = append(srcValues, c.Count)
	}
	o.Sources = horizontalBars(p, p.T("home.sources"), srcLabels, srcValues)
	for _, m := range st.Scores {
		labels := make([]string, len(m.Buckets))
		for i := range m.Buckets {
			labels[i] = p.L.Number(int64(i) * m.Width)
		}
		o.Scores = append(o.Scores, scoreChart{Model: m, Chart: histogram(p, p.T("home.score_distribution", "Model", m.ModelName), labels, m.Buckets)})
	}
	return o
}

// assignTaskSubmit gives a queue task to a user, or to the next member of
// its queue.
func (s *Server) assignTaskSubmit(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	body := map[string]any{"assignee_id": nil}
	if v := strings.TrimSpace(r.PostFormValue("assignee_id")); v != "" {
		body["assignee_id"] = v
	}
	var t leadcycle.Task
	if err := s.api(r, p, "POST", "/api/v1/tasks/"+url.PathEscape(r.PathValue("id"))+"/assign", body, &t); err != nil {
		return "", err
	}
	s.redirect(w, r, "/", p.T("home.assigned", "Task", t.Title, "User", s.recordNames(r).user(t.AssigneeID)))
	return "", nil
}
