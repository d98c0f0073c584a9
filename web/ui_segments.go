package web

import (
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/leadcycle/leadcycle"
)

// The segment screens: the list of segments, a segment's page with its
// members (and, for a static segment, adding and removing contacts by
// email or with a CSV file), the editor with a live preview of a dynamic
// segment's query, and deleting. Every read and change goes through the
// JSON API, whose problems come back onto the form.

func (s *Server) registerSegmentPages() {
	read := leadcycle.Perm(segments, leadcycle.ActionRead)
	write := leadcycle.Perm(segments, leadcycle.ActionWrite)
	del := leadcycle.Perm(segments, leadcycle.ActionDelete)
	s.handlePage("GET", "/segments", read, s.segmentListPage)
	s.handlePage("GET", "/segments/new", write, s.segmentNewPage)
	s.handlePage("POST", "/segments/new", write, s.segmentCreateSubmit)
	s.handlePage("POST", "/segments/preview", write, s.segmentPreviewSubmit)
	s.handlePage("GET", "/segments/{id}", read, s.segmentPage)
	s.handlePage("POST", "/segments/{id}", write, s.segmentSaveSubmit)
	s.handlePage("POST", "/segments/{id}/members", write, s.segmentMembersSubmit)
	s.handlePage("GET", "/segments/{id}/delete", del, s.segmentDeletePage)
	s.handlePage("POST", "/segments/{id}/delete", del, s.segmentDeleteSubmit)
}

// segmentMembersPage is how many members a page of the segment shows.
const segmentMembersPage = 50

// segmentPreviewSample is how many contacts the live preview lists.
const segmentPreviewSample = 10

// segmentListData is the list of segments.
type segmentListData struct {
	Segments   []leadcycle.Segment
	NextCursor string
}

func (s *Server) segmentListPage(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	q := url.Values{"limit": {"100"}, "sort": {"name"}}
	if c := r.URL.Query().Get("cursor"); c != "" {
		q.Set("cursor", c)
	}
	var res leadcycle.Page[leadcycle.Segment]
	if err := s.api(r, p, "GET", segmentsBase+"?"+q.Encode(), nil, &res); err != nil {
		return "", err
	}
	p.Title, p.Nav = p.T("segments.title"), "segments"
	p.Data = &segmentListData{Segments: res.Items, NextCursor: res.NextCursor}
	return "segments", nil
}

// segmentMemberRow is one member as listed.
type segmentMemberRow struct {
	leadcycle.SegmentMember
	Name string
}

// segmentPreviewData is the live preview of a query: its count and first
// contacts, or the query's problem.
type segmentPreviewData struct {
	// Empty: no query typed yet.
	Empty  bool
	Count  int64
	Sample []segmentMemberRow
	Error  string
}

// segmentData is a segment's page, or the new-segment form when Segment
// is nil.
type segmentData struct {
	Segment    *leadcycle.Segment
	Kinds      []string
	Members    []segmentMemberRow
	NextCursor string
	Cursor     string
	// Change is the result of adding or removing contacts; ChangeAdded
	// tells which.
	Change      *leadcycle.MembersChange
	ChangeAdded bool
	// Emails is the typed list of emails, kept after a problem.
	Emails  string
	Preview *segmentPreviewData
	// Editing opens the editor of an existing segment (after a problem).
	Editing bool
}

// Dynamic reports whether the form is about a dynamic segment.
func (d *segmentData) Dynamic(p *page) bool {
	if d.Segment != nil {
		return d.Segment.Kind == leadcycle.SegmentDynamic
	}
	return p.Value("kind") != leadcycle.SegmentStatic
}

func (s *Server) segmentNewPage(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	p.Form.Set("kind", leadcycle.SegmentDynamic)
	p.Title, p.Nav = p.T("segments.new_title"), "segments"
	p.Data = &segmentData{Kinds: leadcycle.SegmentKinds, Preview: &segmentPreviewData{Empty: true}}
	return "segment", nil
}

// segmentBody reads the editor's form into an API body.
func segmentBody(r *http.Request, p *page, old *leadcycle.Segment) (map[string]any, error) {
	if err := r.ParseForm(); err != nil {
		return nil, leadcycle.Errorf(leadcycle.EMalformed, "the form could not be read: %v", err)
	}
	p.Form = r.PostForm
	body := map[string]any{}
	for _, f := range []string{"name", "key", "description"} {
		body[f] = strings.TrimSpace(p.Form.Get(f))
	}
	kind := p.Form.Get("kind")
	if old != nil {
		kind = old.Kind // the kind of a segment does not change
		p.Form.Set("kind", kind)
	} else {
		if kind == "" {
			kind = leadcycle.SegmentDynamic
		}
		body["kind"] = kind
		if body["key"] == "" {
			delete(body, "key") // made from the name
		}
	}
	if kind == leadcycle.SegmentDynamic {
		body["query"] = strings.TrimSpace(p.Form.Get("query"))
	}
	return body, nil
}

func (s *Server) segmentCreateSubmit(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	d := &segmentData{Kinds: leadcycle.SegmentKinds}
	p.Title, p.Nav, p.Data = p.T("segments.new_title"), "segments", d
	body, err := segmentBody(r, p, nil)
	if err != nil {
		return s.segmentFormProblem(p, d, err)
	}
	var seg leadcycle.Segment
	if err := s.api(r, p, "POST", segmentsBase, body, &seg); err != nil {
		return s.segmentFormProblem(p, d, err)
	}
	s.redirect(w, r, "/segments/"+seg.ID.String(), p.T("segments.created", "Name", seg.Name))
	return "", nil
}

// segmentFormProblem shows the editor again with the API's problem, each
// field's message beside its field, and the typed values.
func (s *Server) segmentFormProblem(p *page, d *segmentData, err error) (string, error) {
	code := leadcycle.ErrorCode(err)
	if code != leadcycle.EInvalid && code != leadcycle.EMalformed && code != leadcycle.EConflict {
		return "", err
	}
	p.Error = leadcycle.ErrorMessage(err)
	for _, f := range leadcycle.ErrorFields(err) {
		p.FieldErrors[f.Field] = f.Message
	}
	d.Editing = true
	if d.Preview == nil {
		d.Preview = &segmentPreviewData{Empty: true}
	}
	p.Status = StatusCode(code)
	if code == leadcycle.EMalformed {
		p.Status = http.StatusUnprocessableEntity
	}
	return "segment", nil
}

// loadSegment reads the segment of the path and a page of its members.
func (s *Server) loadSegment(r *http.Request, p *page) (*segmentData, error) {
	id := r.PathValue("id")
	var seg leadcycle.Segment
	if err := s.api(r, p, "GET", segmentsBase+"/"+url.PathEscape(id), nil, &seg); err != nil {
		return nil, err
	}
	d := &segmentData{Segment: &seg, Kinds: leadcycle.SegmentKinds}
	q := url.Values{"limit": {strconv.Itoa(segmentMembersPage)}}
	if c := r.URL.Query().Get("cursor"); c != "" {
		q.Set("cursor", c)
		d.Cursor = c
	}
	var members leadcycle.Page[leadcycle.SegmentMember]
	if err := s.api(r, p, "GET", segmentsBase+"/"+seg.ID.String()+"/members?"+q.Encode(), nil, &members); err != nil {
		return nil, err
	}
	for _, m := range members.Items {
		d.Members = append(d.Members, memberRow(m))
	}
	d.NextCursor = members.NextCursor
	p.Form = url.Values{"name": {seg.Name}, "key": {seg.Key}, "description": {seg.Description}, "kind": {seg.Kind}, "query": {seg.Query}}
	p.Title, p.Nav, p.Data = seg.Name, "segments", d
	return d, nil
}

func memberRow(m leadcycle.SegmentMember) segmentMemberRow {
	c := leadcycle.Contact{ID: m.ContactID, FirstName: m.FirstName, LastName: m.LastName, Email: m.Email}
	return segmentMemberRow{SegmentMember: m, Name: contactName(&c)}
}

func (s *Server) segmentPage(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	_, err := s.loadSegment(r, p)
	return "segment", err
}

func (s *Server) segmentSaveSubmit(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	d, err := s.loadSegment(r, p)
	if err != nil {
		return "", err
	}
	body, err := segmentBody(r, p, d.Segment)
	if err != nil {
		return s.segmentFormProblem(p, d, err)
	}
	var seg leadcycle.Segment
	if err := s.api(r, p, "PATCH", segmentsBase+"/"+d.Segment.ID.String(), body, &seg); err != nil {
		return s.segmentFormProblem(p, d, err)
	}
	s.redirect(w, r, "/segments/"+seg.ID.String(), p.T("segments.saved", "Name", seg.Name))
	return "", nil
}

// segmentPreviewSubmit evaluates the typed query with the preview API. As
// htmx asks for it (as the user types), the answer is the preview alone;
// without scripts the preview button shows the whole form again with it.
func (s *Server) segmentPreviewSubmit(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	if err := r.ParseForm(); err != nil {
		return "", leadcycle.Errorf(leadcycle.EMalformed, "the form could not be read: %v", err)
	}
	form := r.PostForm
	prev, err := s.previewQuery(r, p, form.Get("query"))
	if err != nil {
		return "", err
	}
	if r.Header.Get("HX-Request") == "true" && r.Header.Get("HX-Boosted") != "true" {
		p.Data = &segmentData{Preview: prev}
		return "segment", nil
	}
	// The whole editor, as typed, with the preview.
	var d *segmentData
	if id := form.Get("segment_id"); id != "" {
		r.SetPathValue("id", id)
		if d, err = s.loadSegment(r, p); err != nil {
			return "", err
		}
		d.Editing = true
	} else {
		d = &segmentData{Kinds: leadcycle.SegmentKinds}
		p.Title, p.Nav = p.T("segments.new_title"), "segments"
	}
	p.Form, p.Data = form, d
	d.Preview = prev
	if prev.Error != "" {
		p.FieldErrors["query"] = prev.Error
	}
	return "segment", nil
}

// previewQuery asks the API what a query holds now; a faulty query is the
// preview's error, any other problem the request's.
func (s *Server) previewQuery(r *http.Request, p *page, query string) (*segmentPreviewData, error) {
	query = strings.TrimSpace(query)
	if query == "" {
		return &segmentPreviewData{Empty: true}, nil
	}
	var res leadcycle.SegmentPreview
	err := s.api(r, p, "POST", segmentsBase+"/preview", map[string]any{"query": query, "sample": segmentPreviewSample}, &res)
	if err != nil {
		if leadcycle.ErrorCode(err) != leadcycle.EInvalid {
			return nil, err
		}
		msg := leadcycle.ErrorMessage(err)
		for _, f := range leadcycle.ErrorFields(err) {
			if f.Field == "query" {
				msg = f.Message
			}
		}
		return &segmentPreviewData{Error: msg}, nil
	}
	out := &segmentPreviewData{Count: res.Count}
	for _, c := range res.Sample {
		out.Sample = append(out.Sample, segmentMemberRow{SegmentMember: leadcycle.SegmentMember{ContactID: c.ID, Email: c.Email, FirstName: c.FirstName, LastName: c.LastName}, Name: contactName(&c)})
	}
	return out, nil
}

// emailSplit splits a typed list of emails: one a line, or separated by
// commas, semicolons or spaces.
var emailSplit = regexp.MustCompile(`[\s,;]+`)

// segmentEmailPath is the API's name of one email of the list: emails[2].
var segmentEmailPath = regexp.MustCompile(`^emails\[(\d+)\]$`)

// segmentFileLine is the API's name of a line of an uploaded CSV:
// file.line[3].
var segmentFileLine = regexp.MustCompile(`^file\.line\[(\d+)\]$`)

// segmentMembersSubmit adds contacts to a static segment or removes them,
// by the typed emails or an uploaded CSV file, and shows what changed.
func (s *Server) segmentMembersSubmit(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	if err := r.ParseMultipartForm(32 << 20); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		return "", leadcycle.Errorf(leadcycle.EMalformed, "the upload could not be read: %v", err)
	}
	form := r.PostForm
	d, err := s.loadSegment(r, p)
	if err != nil {
		return "", err
	}
	add := form.Get("action") != "remove"
	method := "POST"
	if !add {
		method = "DELETE"
	}
	d.Emails = form.Get("emails")
	path := segmentsBase + "/" + d.Segment.ID.String() + "/members"
	var change leadcycle.MembersChange
	var emails []string
	if file, hdr, ferr := r.FormFile("file"); ferr == nil && hdr.Size > 0 {
		defer file.Close()
		err = s.api(r, p, method, path, multipartBody{body: file, contentType: "text/csv"}, &change)
	} else {
		if ferr == nil {
			file.Close()
		}
		for _, e := range emailSplit.Split(d.Emails, -1) {
			if e != "" {
				emails = append(emails, e)
			}
		}
		if len(emails) == 0 {
			err = leadcycle.FieldErrorf(leadcycle.EInvalid, "emails", "%s", p.T("segments.members_none"))
		} else {
			err = s.api(r, p, method, path, map[string]any{"emails": emails}, &change)
		}
	}
	if err != nil {
		code := leadcycle.ErrorCode(err)
		if code != leadcycle.EInvalid && code != leadcycle.EConflict && code != leadcycle.ETooLarge {
			return "", err
		}
		p.Error = leadcycle.ErrorMessage(err)
		for _, f := range leadcycle.ErrorFields(err) {
			field, msg := f.Field, f.Message
			if m := segmentEmailPath.FindStringSubmatch(field); m != nil {
				n, _ := strconv.Atoi(m[1])
				field = "emails"
				if n < len(emails) {
					msg = p.T("segments.email_invalid", "Email", emails[n])
				}
			} else if field == "contact_ids" {
				field = "emails"
			} else if m := segmentFileLine.FindStringSubmatch(field); m != nil {
				field, msg = "file", p.T("segments.file_line", "Line", m[1], "Problem", msg)
			} else if strings.HasPrefix(field, "file") {
				field = "file"
			}
			p.FieldErrors[field] = msg
		}
		p.Status = StatusCode(code)
		return "segment", nil
	}
	// Show the list as it is now, with what changed.
	if d, err = s.loadSegment(r, p); err != nil {
		return "", err
	}
	d.Change, d.ChangeAdded = &change, add
	if len(change.NotFound) > 0 {
		d.Emails = strings.Join(change.NotFound, "\n")
	}
	return "segment", nil
}

// segmentDeletePage asks to confirm deleting a segment.
func (s *Server) segmentDeletePage(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	var seg leadcycle.Segment
	if err := s.api(r, p, "GET", segmentsBase+"/"+url.PathEscape(r.PathValue("id")), nil, &seg); err != nil {
		return "", err
	}
	p.Title, p.Nav = p.T("segments.delete_title", "Name", seg.Name), "segments"
	p.Data = &segmentData{Segment: &seg}
	return "segment_delete", nil
}

func (s *Server) segmentDeleteSubmit(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	if _, err := s.segmentDeletePage(w, r, p); err != nil {
		return "", err
	}
	seg := p.Data.(*segmentData).Segment
	if err := s.api(r, p, "DELETE", segmentsBase+"/"+seg.ID.String(), nil, nil); err != nil {
		if leadcycle.ErrorCode(err) != leadcycle.EConflict {
			return "", err
		}
		p.Error = p.T("segments.delete_refused", "Problem", leadcycle.ErrorMessage(err))
		p.Status = http.StatusConflict
		return "segment_delete", nil
	}
	s.redirect(w, r, "/segments", p.T("segments.deleted", "Name", seg.Name))
	return "", nil
}

// segmentExample is one query of the syntax help; Key names its
// explanation in the catalogs (segments.example.<key>).
type segmentExample struct {
	Key, Query string
}

// segmentExamples are the queries the syntax help shows (a test runs each
// through the preview API).
var segmentExamples = []segmentExample{
	{"industry", `account.industry == "Retail"`},
	{"job_title", `job_title contains "CTO" and account.country == "ES"`},
	{"open_lead", `any(leads, .status == "open" and .score("fit") > 50)`},
	{"opened_twice", `count(interactions, .type == "email_opened" and .email_id == "x", 14d) >= 2`},
	{"won_deal", `any(opportunities, .status == "won" and .estimated_value > 10000)`},
	{"in_segment", `in_segment("webinar-2026") and not in_segment("customers")`},
	{"recent", `created_at > days_ago(30)`},
}

// Examples are the queries of the syntax help.
func (d *segmentData) Examples() []segmentExample { return segmentExamples }
