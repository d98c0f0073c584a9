package web

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/leadcycle/leadcycle"
)

// The matching strategy screens: the strategies of each kind, and a
// strategy's editor (the fields that must all be equal, what happens on a
// match, the default flag).

func (s *Server) registerStrategyPages() {
	write := leadcycle.Perm("matching-strategies", leadcycle.ActionWrite)
	s.handlePage("GET", "/matching-strategies", write, s.strategyListPage)
	s.handlePage("GET", "/matching-strategies/new", write, s.strategyNewPage)
	s.handlePage("POST", "/matching-strategies/new", write, s.strategyCreateSubmit)
	s.handlePage("GET", "/matching-strategies/{id}", write, s.strategyEditPage)
	s.handlePage("POST", "/matching-strategies/{id}", write, s.strategySaveSubmit)
}

// strategyKinds are the kinds of matching strategies, in page order.
var strategyKinds = []string{leadcycle.StrategyContact, leadcycle.StrategyLead}

// strategyGroup is the strategies of one kind.
type strategyGroup struct {
	Kind       string
	Strategies []leadcycle.MatchingStrategy
}

func (s *Server) strategyListPage(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	var res leadcycle.Page[leadcycle.MatchingStrategy]
	if err := s.api(r, p, "GET", "/api/v1/matching-strategies?limit=200&sort=name", nil, &res); err != nil {
		return "", err
	}
	var groups []strategyGroup
	for _, kind := range strategyKinds {
		g := strategyGroup{Kind: kind}
		for _, m := range res.Items {
			if m.Kind == kind {
				g.Strategies = append(g.Strategies, m)
			}
		}
		groups = append(groups, g)
	}
	p.Title, p.Nav, p.Data = p.T("strategies.title"), "strategies", groups
	return "strategies", nil
}

// strategyEditData is a strategy's editor, or the new strategy's when
// Strategy is nil.
type strategyEditData struct {
	Strategy *leadcycle.MatchingStrategy
	Kind     string
	Kinds    []string
	// Fields are the built-in fields a strategy of the kind may compare.
	Fields []string
	Action string
}

func newStrategyEditData(kind string) *strategyEditData {
	d := &strategyEditData{Kind: kind, Kinds: strategyKinds, Action: "/matching-strategies/new"}
	for f := range leadcycle.StrategyFields[kind] {
		d.Fields = append(d.Fields, f)
	}
	// The identities first, then the rest by name.
	rank := map[string]int{"email": 0, "phone": 1}
	slices.SortFunc(d.Fields, func(a, b string) int {
		ra, oka := rank[a]
		rb, okb := rank[b]
		if !oka {
			ra = 2
		}
		if !okb {
			rb = 2
		}
		return cmp.Or(cmp.Compare(ra, rb), cmp.Compare(a, b))
	})
	return d
}

func (s *Server) strategyNewPage(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	kind := r.URL.Query().Get("kind")
	if !slices.Contains(strategyKinds, kind) {
		kind = leadcycle.StrategyContact
	}
	d := newStrategyEditData(kind)
	p.Form = url.Values{"kind": {kind}, "fields": {"email"}, "update_when_matched": {"true"}, "create_when_none": {"true"}, "ignore_empty_values": {"true"}}
	p.Title, p.Nav, p.Data = p.T("strategy.new_title"), "strategies", d
	return "strategy", nil
}

func (s *Server) strategyCreateSubmit(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	kind := r.PostFormValue("kind")
	d := newStrategyEditData(kind)
	p.Title, p.Nav, p.Data, p.Form = p.T("strategy.new_title"), "strategies", d, r.PostForm
	body := strategyBody(r.PostForm)
	body["kind"] = kind
	var m leadcycle.MatchingStrategy
	if err := s.api(r, p, "POST", "/api/v1/matching-strategies", body, &m); err != nil {
		return "strategy", configProblem(p, err)
	}
	s.redirect(w, r, "/matching-strategies", p.T("strategy.created", "Name", m.Name))
	return "", nil
}

func (s *Server) loadStrategy(r *http.Request, p *page) (*strategyEditData, error) {
	var m leadcycle.MatchingStrategy
	if err := s.api(r, p, "GET", "/api/v1/matching-strategies/"+url.PathEscape(r.PathValue("id")), nil, &m); err != nil {
		return nil, err
	}
	d := newStrategyEditData(m.Kind)
	d.Strategy, d.Action = &m, "/matching-strategies/"+m.ID.String()
	p.Title, p.Nav, p.Data = p.StrategyName(m), "strategies", d
	return d, nil
}

func (s *Server) strategyEditPage(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	d, err := s.loadStrategy(r, p)
	if err != nil {
		return "", err
	}
	m := d.Strategy
	p.Form = url.Values{"name": {m.Name}, "kind": {m.Kind}, "phone_region": {m.PhoneRegion},
		"update_when_matched": {cfgBool(m.UpdateWhenMatched)}, "create_when_none": {cfgBool(m.CreateWhenNone)},
		"ignore_empty_values": {cfgBool(m.IgnoreEmptyValues)}, "is_default": {cfgBool(m.IsDefault)}}
	var custom []string
	for _, f := range m.Fields {
		if slices.Contains(d.Fields, f) {
			p.Form.Add("fields", f)
		} else {
			custom = append(custom, f)
		}
	}
	p.Form.Set("custom_fields", strings.Join(custom, ", "))
	return "strategy", nil
}

func (s *Server) strategySaveSubmit(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	d, err := s.loadStrategy(r, p)
	if err != nil {
		return "", err
	}
	p.Form = r.PostForm
	var m leadcycle.MatchingStrategy
	if err := s.api(r, p, "PATCH", "/api/v1/matching-strategies/"+d.Strategy.ID.String(), strategyBody(r.PostForm), &m); err != nil {
		return "strategy", configProblem(p, err)
	}
	s.redirect(w, r, "/matching-strategies", p.T("strategy.saved", "Name", m.Name))
	return "", nil
}

// strategyBody is the API body of the typed strategy. Custom fields may be
// written with or without their "custom." prefix.
func strategyBody(v url.Values) map[string]any {
	fields := []string{}
	for _, f := range v["fields"] {
		if f = strings.TrimSpace(f); f != "" && !slices.Contains(fields, f) {
			fields = append(fields, f)
		}
	}
	for _, f := range cfgList(v.Get("custom_fields")) {
		if !strings.HasPrefix(f, "custom.") {
			f = "custom." + f
		}
		fields = append(fields, f)
	}
	return map[string]any{
		"name": strings.TrimSpace(v.Get("name")), "fields": fields, "phone_region": strings.TrimSpace(v.Get("phone_region")),
		"update_when_matched": cfgChecked(v, "update_when_matched"), "create_when_none": cfgChecked(v, "create_when_none"),
		"ignore_empty_values": cfgChecked(v, "ignore_empty_values"), "is_default": cfgChecked(v, "is_default"),
	}
}

// StrategyName is a strategy's name as shown: the shipped defaults read in
// the user's language until someone renames them.
func (p *page) StrategyName(m leadcycle.MatchingStrategy) string {
	return cmp.Or(p.shipped("strategies.shipped."+m.Kind, m.Name), m.Name)
}

// StrategyField is the shown name of a field a strategy compares.
func (p *page) StrategyField(field string) string {
	if custom, ok := strings.CutPrefix(field, "custom."); ok {
		return p.T("strategies.custom_field", "Name", custom)
	}
	return p.T("strategies.field." + field)
}
