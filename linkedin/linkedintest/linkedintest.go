// Package linkedintest fakes LinkedIn's Lead Sync API and a lead Capturer
// for tests. The fake server listens on the loopback interface only and
// speaks the documented format: leadFormResponses with start/count paging,
// leadForms, and the OAuth token endpoint for refresh tokens. Faults can be
// scripted per request: an HTTP status (with Retry-After), or a raw body.
package linkedintest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Question is a question of a fake lead form.
type Question struct {
	ID         int64
	Name       string
	Label      string
	Predefined string           // FIRST_NAME, EMAIL…
	Options    map[int64]string // multiple choice
}

// Form is a fake lead form.
type Form struct {
	ID        int64
	Name      string
	Questions []Question
	Hidden    map[string]string
}

// Lead is one fake lead form response.
type Lead struct {
	ID          string
	SubmittedAt time.Time
	FormID      int64
	Campaign    string
	Creative    string
	Test        bool
	Answers     map[int64]string  // question id → text
	Choices     map[int64][]int64 // question id → option ids
	Consents    map[int64]bool    // consent id → accepted
}

// Fault is a scripted answer to one API request.
type Fault struct {
	Status     int    // answered with this status…
	RetryAfter string // …and this Retry-After header, if any
	Body       string // …and this body (a LinkedIn error by default); with Status 0 or 200, sent as a 200 page
}

// Request is what the server saw of one request.
type Request struct {
	Method, Path, RawQuery string
	Header                 http.Header
	Form                   url.Values // token requests
}

// Server is a fake LinkedIn API. Its fields may be changed between syncs
// (under Lock/Unlock when a sync is running).
type Server struct {
	*httptest.Server
	t *testing.T

	mu sync.Mutex
	// SponsoredAccount is the only owner the server knows.
	SponsoredAccount string
	// AccessToken is the valid token; RefreshToken, ClientID and
	// ClientSecret the valid refresh grant.
	AccessToken, RefreshToken, ClientID, ClientSecret string
	// ExpiresIn is the lifetime of refreshed tokens, in seconds.
	ExpiresIn int
	Forms     map[int64]*Form
	Leads     []Lead
	// InlineForms includes each response's form (the projection
	// form:(…)); without it the client must read /leadForms/{id}.
	InlineForms bool
	// OmitTotal leaves paging.total out.
	OmitTotal bool
	// MaxCount caps the count of a page, as LinkedIn does.
	MaxCount int
	// Faults are consumed one per API request (not token requests).
	Faults   []Fault
	Requests []Request
	// TokenFaults are consumed one per token request.
	TokenFaults []Fault
	refreshes   int
}

// NewServer starts a fake LinkedIn API on 127.0.0.1, closed when the test
// ends.
func NewServer(t *testing.T) *Server {
	s := &Server{
		t: t, SponsoredAccount: "urn:li:sponsoredAccount:5101", AccessToken: "access-1", RefreshToken: "refresh-1",
		ClientID: "client-id", ClientSecret: "client-secret", ExpiresIn: 5184000, Forms: map[int64]*Form{}, InlineForms: true,
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// APIBaseURL is the base of the REST API (as api.linkedin.com/rest).
func (s *Server) APIBaseURL() string { return s.URL + "/rest" }

// TokenURL is the OAuth token endpoint.
func (s *Server) TokenURL() string { return s.URL + "/oauth/v2/accessToken" }

// Lock and Unlock guard the fields while the server may be serving.
func (s *Server) Lock()   { s.mu.Lock() }
func (s *Server) Unlock() { s.mu.Unlock() }

// AddForm adds a form.
func (s *Server) AddForm(f *Form) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Forms[f.ID] = f
}

// AddLeads adds responses.
func (s *Server) AddLeads(leads ...Lead) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Leads = append(s.Leads, leads...)
}

// Fail scripts the next API requests' answers.
func (s *Server) Fail(faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Faults = append(s.Faults, faults...)
}

// Seen returns the requests made so far and forgets them.
func (s *Server) Seen() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.Requests
	s.Requests = nil
	return r
}

// Refreshes returns how many tokens the server issued.
func (s *Server) Refreshes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refreshes
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func linkedinError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"status": status, "code": code, "message": msg})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_ = r.ParseForm()
	req := Request{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Header: r.Header.Clone()}
	if r.Method == http.MethodPost {
		req.Form = r.PostForm
	}
	s.Requests = append(s.Requests, req)

	if r.URL.Path == "/oauth/v2/accessToken" {
		s.token(w, r)
		return
	}
	if len(s.Faults) > 0 {
		f := s.Faults[0]
		s.Faults = s.Faults[1:]
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		if f.Status == 0 || f.Status == http.StatusOK {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, f.Body)
			return
		}
		if f.Body != "" {
			w.WriteHeader(f.Status)
			fmt.Fprint(w, f.Body)
			return
		}
		linkedinError(w, f.Status, "SCRIPTED", http.StatusText(f.Status))
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+s.AccessToken || s.AccessToken == "" {
		linkedinError(w, http.StatusUnauthorized, "EXPIRED_ACCESS_TOKEN", "The token used in the request has expired")
		return
	}
	if r.Header.Get("X-Restli-Protocol-Version") != "2.0.0" || !regexp.MustCompile(`^[0-9]{6}$`).MatchString(r.Header.Get("LinkedIn-Version")) {
		linkedinError(w, http.StatusBadRequest, "VERSION_MISSING", "A version header is missing or not valid")
		return
	}
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/rest/leadFormResponses":
		s.responses(w, r)
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/rest/leadForms/"):
		id, _ := strconv.ParseInt(strings.TrimPrefix(r.URL.Path, "/rest/leadForms/"), 10, 64)
		f, ok := s.Forms[id]
		if !ok {
			linkedinError(w, http.StatusNotFound, "NOT_FOUND", "no such lead form")
			return
		}
		writeJSON(w, http.StatusOK, formJSON(f))
	default:
		linkedinError(w, http.StatusNotFound, "NOT_FOUND", "no such resource")
	}
}

var timeRange = regexp.MustCompile(`^\(start:([0-9]+),end:([0-9]+)\)$`)

func (s *Server) responses(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	wantOwner := "owner=(sponsoredAccount:" + url.QueryEscape(s.SponsoredAccount) + ")"
	if q.Get("q") != "owner" || !strings.Contains(r.URL.RawQuery, wantOwner) || q.Get("leadType") != "(leadType:SPONSORED)" {
		linkedinError(w, http.StatusBadRequest, "INVALID_PARAM", "expected q=owner, "+wantOwner+" and leadType=(leadType:SPONSORED), got "+r.URL.RawQuery)
		return
	}
	start, err1 := strconv.Atoi(q.Get("start"))
	count, err2 := strconv.Atoi(q.Get("count"))
	if err1 != nil || err2 != nil || start < 0 || count <= 0 {
		linkedinError(w, http.StatusBadRequest, "INVALID_PARAM", "start and count are required")
		return
	}
	if s.MaxCount > 0 {
		count = min(count, s.MaxCount)
	}
	leads := slices.Clone(s.Leads)
	if tr := q.Get("submittedAtTimeRange"); tr != "" {
		m := timeRange.FindStringSubmatch(tr)
		if m == nil {
			linkedinError(w, http.StatusBadRequest, "INVALID_PARAM", "bad submittedAtTimeRange "+tr)
			return
		}
		from, _ := strconv.ParseInt(m[1], 10, 64)
		to, _ := strconv.ParseInt(m[2], 10, 64)
		leads = slices.DeleteFunc(leads, func(l Lead) bool {
			ms := l.SubmittedAt.UnixMilli()
			return ms < from || ms > to
		})
	}
	// Newest first, as LinkedIn lists them.
	slices.SortStableFunc(leads, func(a, b Lead) int { return b.SubmittedAt.Compare(a.SubmittedAt) })
	elements := []any{}
	for i := start; i < min(start+count, len(leads)); i++ {
		elements = append(elements, s.element(leads[i]))
	}
	paging := map[string]any{"start": start, "count": count, "links": []any{}}
	if !s.OmitTotal {
		paging["total"] = len(leads)
	}
	writeJSON(w, http.StatusOK, map[string]any{"elements": elements, "paging": paging})
}

func (s *Server) element(l Lead) map[string]any {
	answers := []any{}
	for _, id := range sortedKeys(l.Answers) {
		answers = append(answers, map[string]any{"questionId": id, "answerDetails": map[string]any{"textQuestionAnswer": map[string]any{"answer": l.Answers[id]}}})
	}
	for _, id := range sortedKeys(l.Choices) {
		answers = append(answers, map[string]any{"questionId": id, "answerDetails": map[string]any{"multipleChoiceAnswer": map[string]any{"options": l.Choices[id]}}})
	}
	consents := []any{}
	for _, id := range sortedKeys(l.Consents) {
		consents = append(consents, map[string]any{"consentId": id, "accepted": l.Consents[id]})
	}
	e := map[string]any{
		"id":                      l.ID,
		"submittedAt":             l.SubmittedAt.UnixMilli(),
		"testLead":                l.Test,
		"leadType":                "SPONSORED",
		"owner":                   map[string]any{"sponsoredAccount": s.SponsoredAccount},
		"versionedLeadGenFormUrn": fmt.Sprintf("urn:li:versionedLeadGenForm:(urn:li:leadGenForm:%d,1)", l.FormID),
		"associatedEntity":        map[string]any{"associatedCreative": l.Creative},
		"leadMetadata":            map[string]any{"sponsoredLeadMetadata": map[string]any{"campaign": l.Campaign}},
		"formResponse":            map[string]any{"answers": answers, "consentResponses": consents},
	}
	if f, ok := s.Forms[l.FormID]; ok && s.InlineForms {
		e["form"] = formJSON(f)
	}
	return e
}

func formJSON(f *Form) map[string]any {
	questions := []any{}
	for _, q := range f.Questions {
		label := q.Label
		if label == "" {
			label = q.Name
		}
		question := map[string]any{
			"questionId": q.ID, "name": q.Name, "question": map[string]any{"localized": map[string]any{"en_US": label}},
			"responseRequired": true, "responseEditable": true,
		}
		if q.Predefined != "" {
			question["predefinedField"] = q.Predefined
		}
		if len(q.Options) > 0 {
			opts := []any{}
			for _, id := range sortedKeys(q.Options) {
				opts = append(opts, map[string]any{"id": id, "text": map[string]any{"localized": map[string]any{"en_US": q.Options[id]}}})
			}
			question["questionDetails"] = map[string]any{"multipleChoiceQuestionDetails": map[string]any{"options": opts}}
		} else {
			question["questionDetails"] = map[string]any{"textQuestionDetails": map[string]any{"maxResponseLength": 300}}
		}
		questions = append(questions, question)
	}
	hidden := []any{}
	for _, k := range sortedKeys(f.Hidden) {
		hidden = append(hidden, map[string]any{"name": k, "value": f.Hidden[k]})
	}
	return map[string]any{"id": f.ID, "name": f.Name, "hiddenFields": hidden, "content": map[string]any{"questions": questions}}
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if len(s.TokenFaults) > 0 {
		f := s.TokenFaults[0]
		s.TokenFaults = s.TokenFaults[1:]
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		writeJSON(w, f.Status, map[string]any{"error": "scripted", "error_description": http.StatusText(f.Status)})
		return
	}
	f := r.PostForm
	if r.Method != http.MethodPost || f.Get("grant_type") != "refresh_token" || f.Get("client_id") != s.ClientID ||
		f.Get("client_secret") != s.ClientSecret || f.Get("refresh_token") != s.RefreshToken || s.RefreshToken == "" {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_grant", "error_description": "The provided authorization grant or refresh token is invalid, expired or revoked"})
		return
	}
	s.refreshes++
	s.AccessToken = fmt.Sprintf("access-refreshed-%d", s.refreshes)
	writeJSON(w, http.StatusOK, map[string]any{"access_token": s.AccessToken, "expires_in": s.ExpiresIn, "refresh_token": s.RefreshToken, "refresh_token_expires_in": 31536000})
}

func sortedKeys[K int64 | string, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// StandardForm is a form with LinkedIn's usual predefined questions and two
// custom ones: "budget" (text, id 6) and "interest" (multiple choice, id 7),
// plus a hidden field utm_source.
func StandardForm(id int64, name string) *Form {
	return &Form{ID: id, Name: name, Hidden: map[string]string{"utm_source": "linkedin-ads"}, Questions: []Question{
		{ID: 1, Name: "firstName", Label: "First name", Predefined: "FIRST_NAME"},
		{ID: 2, Name: "lastName", Label: "Last name", Predefined: "LAST_NAME"},
		{ID: 3, Name: "email", Label: "Email address", Predefined: "EMAIL"},
		{ID: 4, Name: "company", Label: "Company name", Predefined: "COMPANY_NAME"},
		{ID: 5, Name: "title", Label: "Job title", Predefined: "JOB_TITLE"},
		{ID: 6, Name: "budget", Label: "What is your budget?"},
		{ID: 7, Name: "interest", Label: "What interests you?", Options: map[int64]string{1: "Canning line", 2: "Labelling"}},
		{ID: 8, Name: "favouriteColour", Label: "Favourite colour?"},
	}}
}

// StandardLead is a response to a StandardForm.
func StandardLead(id string, at time.Time, formID int64, first, last, email string) Lead {
	return Lead{ID: id, SubmittedAt: at, FormID: formID, Campaign: "urn:li:sponsoredCampaign:777", Creative: "urn:li:sponsoredCreative:888",
		Answers: map[int64]string{1: first, 2: last, 3: email, 4: "Conservas Rías Baixas", 5: "Buyer", 6: "1 200,50", 8: "teal"},
		Choices: map[int64][]int64{7: {1}}, Consents: map[int64]bool{11: true}}
}
