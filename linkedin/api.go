package linkedin

// This file is the one place that knows the shape of LinkedIn's Lead Sync API
// (REST, Rest.li protocol 2.0.0): the URLs of leadFormResponses and leadForms
// and the JSON they answer. Everything else works with the types below.

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// LeadTypeSponsored is the lead type of leads collected from ads.
const LeadTypeSponsored = "SPONSORED"

// responseFields is the field projection asked of leadFormResponses: the form
// (with its questions, consents and hidden fields) comes inline, so that no
// extra request per form is needed.
const responseFields = "id,submittedAt,testLead,leadType,owner,versionedLeadGenFormUrn,associatedEntity,leadMetadata,formResponse,form:(id,name,hiddenFields,content)"

// ResponsesQuery selects lead form responses of one owner.
type ResponsesQuery struct {
	SponsoredAccount string    // urn:li:sponsoredAccount:123
	Since, Until     time.Time // submittedAt range; zero Since means everything LinkedIn keeps
	Start, Count     int
}

// responsesURL builds the finder URL by hand: Rest.li 2.0 wants the parens
// and colons of its structures literal and the URNs inside them encoded.
func responsesURL(base string, q ResponsesQuery) string {
	var b strings.Builder
	b.WriteString(base)
	b.WriteString("/leadFormResponses?q=owner&owner=(sponsoredAccount:")
	b.WriteString(url.QueryEscape(q.SponsoredAccount))
	b.WriteString(")&leadType=(leadType:" + LeadTypeSponsored + ")&limitedToTestLeads=false")
	if !q.Since.IsZero() {
		until := q.Until
		if until.IsZero() || until.Before(q.Since) {
			until = q.Since
		}
		fmt.Fprintf(&b, "&submittedAtTimeRange=(start:%d,end:%d)", q.Since.UnixMilli(), until.UnixMilli())
	}
	b.WriteString("&fields=" + responseFields)
	fmt.Fprintf(&b, "&start=%d&count=%d", q.Start, q.Count)
	return b.String()
}

func leadFormURL(base string, formID int64) string {
	return base + "/leadForms/" + strconv.FormatInt(formID, 10)
}

// ResponsesPage is one page of leadFormResponses.
type ResponsesPage struct {
	Elements []Response
	Start    int
	Count    int
	Total    int // -1 when LinkedIn did not say
	Raw      int // how many elements the page held, parsable or not
	Bad      []BadElement
	HasTotal bool // whether paging.total was present
}

// BadElement is an element of a page that could not be read.
type BadElement struct {
	Index int
	ID    string // if it could be read
	Err   string
}

// Response is one lead form response (one submission).
type Response struct {
	ID               string
	SubmittedAt      time.Time
	TestLead         bool
	LeadType         string
	SponsoredAccount string
	FormURN          string // urn:li:versionedLeadGenForm:(urn:li:leadGenForm:123,1)
	FormID           int64
	FormVersion      int64
	Campaign         string // urn:li:sponsoredCampaign:…
	Creative         string // urn:li:sponsoredCreative:…
	Answers          []Answer
	Consents         []ConsentResponse
	Form             *Form // inline, when the projection returned it
}

// Answer is the answer to one question: Text for text questions, Options
// (option ids) for multiple choice.
type Answer struct {
	QuestionID int64
	Text       string
	Options    []int64
}

// ConsentResponse is one consent checkbox, accepted or not.
type ConsentResponse struct {
	ConsentID int64
	Accepted  bool
}

// Form is a lead form definition: its questions, consents and hidden fields.
type Form struct {
	ID           int64
	Name         string
	Questions    []Question
	HiddenFields map[string]string
}

// Question is one question of a form.
type Question struct {
	ID              int64
	Name            string
	Label           string
	PredefinedField string
	Options         map[int64]string // multiple choice: option id → text
}

// Question returns the question with the id, or nil.
func (f *Form) Question(id int64) *Question {
	if f == nil {
		return nil
	}
	for i := range f.Questions {
		if f.Questions[i].ID == id {
			return &f.Questions[i]
		}
	}
	return nil
}

// Wire types. Unknown fields are ignored; numbers that LinkedIn may send as
// strings or numbers are read with flexInt.

type wirePage struct {
	Elements *[]json.RawMessage `json:"elements"`
	Paging   *struct {
		Start *flexInt `json:"start"`
		Count *flexInt `json:"count"`
		Total *flexInt `json:"total"`
	} `json:"paging"`
}

type wireResponse struct {
	ID                      json.RawMessage `json:"id"`
	SubmittedAt             *flexInt        `json:"submittedAt"`
	TestLead                bool            `json:"testLead"`
	LeadType                string          `json:"leadType"`
	Owner                   map[string]any  `json:"owner"`
	VersionedLeadGenFormURN string          `json:"versionedLeadGenFormUrn"`
	AssociatedEntity        map[string]any  `json:"associatedEntity"`
	LeadMetadata            struct {
		Sponsored struct {
			Campaign string `json:"campaign"`
		} `json:"sponsoredLeadMetadata"`
	} `json:"leadMetadata"`
	FormResponse struct {
		Answers []struct {
			QuestionID    flexInt `json:"questionId"`
			AnswerDetails struct {
				Text *struct {
					Answer string `json:"answer"`
				} `json:"textQuestionAnswer"`
				MultipleChoice *struct {
					Options []flexInt `json:"options"`
				} `json:"multipleChoiceAnswer"`
			} `json:"answerDetails"`
		} `json:"answers"`
		ConsentResponses []struct {
			ConsentID flexInt `json:"consentId"`
			Accepted  bool    `json:"accepted"`
		} `json:"consentResponses"`
	} `json:"formResponse"`
	Form *wireForm `json:"form"`
}

type wireForm struct {
	ID           flexInt `json:"id"`
	Name         string  `json:"name"`
	HiddenFields []struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	} `json:"hiddenFields"`
	Content struct {
		Questions []struct {
			QuestionID      flexInt         `json:"questionId"`
			Name            string          `json:"name"`
			Question        json.RawMessage `json:"question"`
			PredefinedField string          `json:"predefinedField"`
			QuestionDetails struct {
				MultipleChoice *struct {
					Options []struct {
						ID    flexInt         `json:"id"`
						Value flexInt         `json:"value"`
						Text  json.RawMessage `json:"text"`
					} `json:"options"`
				} `json:"multipleChoiceQuestionDetails"`
			} `json:"questionDetails"`
		} `json:"questions"`
	} `json:"content"`
}

// flexInt reads an integer sent as a JSON number or a string of digits.
type flexInt struct {
	v   int64
	set bool
}

func (f *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "null" {
		return nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		if fv, ferr := strconv.ParseFloat(s, 64); ferr == nil && fv == float64(int64(fv)) {
			v, err = int64(fv), nil
		}
	}
	if err != nil {
		return fmt.Errorf("%s is not an integer", b)
	}
	f.v, f.set = v, true
	return nil
}

// ParseResponsesPage reads one page of leadFormResponses. A body that is not
// a page at all is an error; elements that cannot be read are listed in Bad
// and the rest are returned.
func ParseResponsesPage(body []byte) (*ResponsesPage, error) {
	var w wirePage
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, fmt.Errorf("LinkedIn sent a page of lead form responses that is not valid JSON: %v", err)
	}
	if w.Elements == nil {
		return nil, fmt.Errorf("LinkedIn sent a page of lead form responses without elements")
	}
	p := &ResponsesPage{Total: -1, Raw: len(*w.Elements)}
	if w.Paging != nil {
		if w.Paging.Start != nil {
			p.Start = int(w.Paging.Start.v)
		}
		if w.Paging.Count != nil {
			p.Count = int(w.Paging.Count.v)
		}
		if w.Paging.Total != nil && w.Paging.Total.set {
			p.Total, p.HasTotal = int(w.Paging.Total.v), true
		}
	}
	for i, raw := range *w.Elements {
		r, err := parseResponse(raw)
		if err != nil {
			p.Bad = append(p.Bad, BadElement{Index: i, ID: r.ID, Err: err.Error()})
			continue
		}
		p.Elements = append(p.Elements, r)
	}
	return p, nil
}

var formURNPattern = regexp.MustCompile(`urn:li:(?:leadGenForm|adForm):([0-9]+)(?:,([0-9]+))?`)

func parseResponse(raw json.RawMessage) (Response, error) {
	var r Response
	var w wireResponse
	if err := json.Unmarshal(raw, &w); err != nil {
		// Try to recover the id for the error report.
		var idOnly struct {
			ID json.RawMessage `json:"id"`
		}
		if json.Unmarshal(raw, &idOnly) == nil {
			r.ID = rawID(idOnly.ID)
		}
		return r, fmt.Errorf("response is not valid: %v", err)
	}
	r.ID = rawID(w.ID)
	if r.ID == "" {
		return r, fmt.Errorf("response has no id")
	}
	if len(r.ID) > 500 {
		return r, fmt.Errorf("response id is longer than 500 characters")
	}
	if w.SubmittedAt == nil || !w.SubmittedAt.set || w.SubmittedAt.v <= 0 {
		return r, fmt.Errorf("response %s has no submittedAt", r.ID)
	}
	r.SubmittedAt = time.UnixMilli(w.SubmittedAt.v).UTC()
	r.TestLead = w.TestLead
	r.LeadType = w.LeadType
	r.SponsoredAccount, _ = w.Owner["sponsoredAccount"].(string)
	r.FormURN = w.VersionedLeadGenFormURN
	if m := formURNPattern.FindStringSubmatch(r.FormURN); m != nil {
		r.FormID, _ = strconv.ParseInt(m[1], 10, 64)
		if m[2] != "" {
			r.FormVersion, _ = strconv.ParseInt(m[2], 10, 64)
		}
	}
	r.Campaign = w.LeadMetadata.Sponsored.Campaign
	for _, k := range []string{"associatedCreative", "sponsoredCreative", "creative"} {
		if s, ok := w.AssociatedEntity[k].(string); ok && s != "" {
			r.Creative = s
			break
		}
	}
	if r.Campaign == "" {
		if s, ok := w.AssociatedEntity["campaign"].(string); ok {
			r.Campaign = s
		}
	}
	for _, a := range w.FormResponse.Answers {
		ans := Answer{QuestionID: a.QuestionID.v}
		switch {
		case a.AnswerDetails.Text != nil:
			ans.Text = a.AnswerDetails.Text.Answer
		case a.AnswerDetails.MultipleChoice != nil:
			for _, o := range a.AnswerDetails.MultipleChoice.Options {
				ans.Options = append(ans.Options, o.v)
			}
		default:
			continue // an answer type this connector does not know
		}
		r.Answers = append(r.Answers, ans)
	}
	for _, c := range w.FormResponse.ConsentResponses {
		r.Consents = append(r.Consents, ConsentResponse{ConsentID: c.ConsentID.v, Accepted: c.Accepted})
	}
	if w.Form != nil && len(w.Form.Content.Questions) > 0 {
		r.Form = w.Form.toForm()
		if r.FormID == 0 {
			r.FormID = r.Form.ID
		}
	}
	if r.FormID == 0 {
		return r, fmt.Errorf("response %s has no lead form (versionedLeadGenFormUrn %q)", r.ID, r.FormURN)
	}
	return r, nil
}

// rawID reads an id that may be a string or a number.
func rawID(b json.RawMessage) string {
	var s string
	if json.Unmarshal(b, &s) == nil {
		return strings.TrimSpace(s)
	}
	var n json.Number
	if json.Unmarshal(b, &n) == nil {
		return n.String()
	}
	return ""
}

// ParseLeadForm reads a lead form definition (GET /leadForms/{id}).
func ParseLeadForm(body []byte) (*Form, error) {
	var w wireForm
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, fmt.Errorf("LinkedIn sent a lead form that is not valid JSON: %v", err)
	}
	if !w.ID.set && len(w.Content.Questions) == 0 {
		return nil, fmt.Errorf("LinkedIn sent a lead form without id or questions")
	}
	return w.toForm(), nil
}

func (w *wireForm) toForm() *Form {
	f := &Form{ID: w.ID.v, Name: strings.TrimSpace(w.Name), HiddenFields: map[string]string{}}
	for _, h := range w.HiddenFields {
		f.HiddenFields[h.Name] = h.Value
	}
	for _, q := range w.Content.Questions {
		question := Question{ID: q.QuestionID.v, Name: strings.TrimSpace(q.Name), Label: localized(q.Question), PredefinedField: q.PredefinedField}
		if mc := q.QuestionDetails.MultipleChoice; mc != nil {
			question.Options = map[int64]string{}
			for _, o := range mc.Options {
				id := o.ID.v
				if !o.ID.set {
					id = o.Value.v
				}
				question.Options[id] = localized(o.Text)
			}
		}
		f.Questions = append(f.Questions, question)
	}
	return f
}

// localized reads a LinkedIn MultiLocaleString ({"localized": {"en_US": "…"}})
// or a plain string. With several locales, en_US wins, then the first by name.
func localized(b json.RawMessage) string {
	if len(b) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(b, &s) == nil {
		return strings.TrimSpace(s)
	}
	var m struct {
		Localized map[string]any `json:"localized"`
	}
	if json.Unmarshal(b, &m) != nil || len(m.Localized) == 0 {
		return ""
	}
	text := func(v any) string {
		switch x := v.(type) {
		case string:
			return x
		case map[string]any: // {"rawText": "…"} in some versions
			for _, k := range []string{"rawText", "text", "value"} {
				if s, ok := x[k].(string); ok {
					return s
				}
			}
		}
		return ""
	}
	if v, ok := m.Localized["en_US"]; ok {
		return strings.TrimSpace(text(v))
	}
	keys := make([]string, 0, len(m.Localized))
	for k := range m.Localized {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.TrimSpace(text(m.Localized[keys[0]]))
}

// apiError is the error body LinkedIn sends: {"status": 401, "message": "…",
// "serviceErrorCode": 65601, "code": "EXPIRED_ACCESS_TOKEN"}.
type apiError struct {
	Status           int    `json:"status"`
	Message          string `json:"message"`
	ServiceErrorCode int    `json:"serviceErrorCode"`
	Code             string `json:"code"`
	// OAuth errors.
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

// describeAPIError returns LinkedIn's explanation from an error body, if any.
func describeAPIError(body []byte) string {
	var e apiError
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	var parts []string
	if e.Code != "" {
		parts = append(parts, e.Code)
	}
	if e.Message != "" {
		parts = append(parts, e.Message)
	}
	if e.Error != "" {
		parts = append(parts, e.Error)
	}
	if e.ErrorDescription != "" {
		parts = append(parts, e.ErrorDescription)
	}
	s := strings.Join(parts, ": ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// tokenResponse is the OAuth token endpoint's answer.
type tokenResponse struct {
	AccessToken  string  `json:"access_token"`
	ExpiresIn    flexInt `json:"expires_in"`
	RefreshToken string  `json:"refresh_token"`
}

func parseToken(body []byte) (*tokenResponse, error) {
	var t tokenResponse
	if err := json.Unmarshal(body, &t); err != nil {
		return nil, fmt.Errorf("refresh the access token: LinkedIn sent an answer that is not valid JSON: %v", err)
	}
	if t.AccessToken == "" {
		return nil, fmt.Errorf("refresh the access token: LinkedIn's answer has no access_token")
	}
	return &t, nil
}
