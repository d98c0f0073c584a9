package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/leadcycle/leadcycle"
)

// The email template screens: the list, and the form that makes or edits
// a template, with the placeholder help. The API checks the placeholders;
// its problems, with their positions, come back beside their fields.

func (s *Server) registerEmailTemplatePages() {
	read := leadcycle.Perm(emailTemplates, leadcycle.ActionRead)
	write := leadcycle.Perm(emailTemplates, leadcycle.ActionWrite)
	s.handlePage("GET", "/email-templates", read, s.emailTemplateListPage)
	s.handlePage("GET", "/email-templates/new", write, s.emailTemplateNewPage)
	s.handlePage("POST", "/email-templates/new", write, s.emailTemplateCreateSubmit)
	s.handlePage("GET", "/email-templates/{id}", read, s.emailTemplatePage)
	s.handlePage("POST", "/email-templates/{id}", write, s.emailTemplateSaveSubmit)
}

// emailTemplateFields are the form's fields, named as the API names them.
var emailTemplateFields = []string{"name", "subject", "from_name", "from_email", "reply_to", "purpose", "html", "text"}

// emailPlaceholders are the examples of the placeholder help.
var emailPlaceholders = []string{`{{contact.first_name | "fallback"}}`, `{{account.name}}`, `{{unsubscribe_url}}`}

type emailTemplateListData struct {
	Templates  []leadcycle.EmailTemplate
	NextCursor string
}

func (s *Server) emailTemplateListPage(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	q := url.Values{"limit": {"100"}}
	if c := r.URL.Query().Get("cursor"); c != "" {
		q.Set("cursor", c)
	}
	var res leadcycle.Page[leadcycle.EmailTemplate]
	if err := s.api(r, p, "GET", templatesBase+"?"+q.Encode(), nil, &res); err != nil {
		return "", err
	}
	p.Title, p.Nav = p.T("emails.title"), "emails"
	p.Data = &emailTemplateListData{Templates: res.Items, NextCursor: res.NextCursor}
	return "email_templates", nil
}

// emailTemplateData is the form of a template; Template is nil for a new
// one.
type emailTemplateData struct {
	Template     *leadcycle.EmailTemplate
	Purposes     []string
	Placeholders []string
	// PreviewFor is the email of the contact the preview is rendered for;
	// Preview the rendered parts, or PreviewError why there are none.
	PreviewFor   string
	Preview      *templatePreview
	PreviewError string
}

// templatePreview is a template rendered for a contact.
type templatePreview struct {
	Subject string `json:"subject"`
	HTML    string `json:"html"`
	Text    string `json:"text"`
}

func newEmailTemplateData(p *page, t *leadcycle.EmailTemplate) *emailTemplateData {
	d := &emailTemplateData{Template: t, Purposes: []string{leadcycle.PurposeCommercial, leadcycle.PurposeTransactional}, Placeholders: emailPlaceholders}
	p.Nav, p.Data = "emails", d
	if t != nil {
		p.Title = t.Name
	} else {
		p.Title = p.T("emails.new_title")
	}
	return d
}

func (s *Server) emailTemplateNewPage(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	newEmailTemplateData(p, nil)
	p.Form.Set("purpose", leadcycle.PurposeCommercial)
	return "email_template", nil
}

func (s *Server) loadEmailTemplate(r *http.Request, p *page) (*emailTemplateData, error) {
	var t leadcycle.EmailTemplate
	if err := s.api(r, p, "GET", templatesBase+"/"+url.PathEscape(r.PathValue("id")), nil, &t); err != nil {
		return nil, err
	}
	p.Form = url.Values{"name": {t.Name}, "subject": {t.Subject}, "from_name": {t.FromName}, "from_email": {t.FromEmail}, "reply_to": {t.ReplyTo},
		"purpose": {t.Purpose}, "html": {t.HTML}, "text": {t.Text}}
	return newEmailTemplateData(p, &t), nil
}

func (s *Server) emailTemplatePage(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	d, err := s.loadEmailTemplate(r, p)
	if err != nil {
		return "", err
	}
	if d.PreviewFor = strings.TrimSpace(r.URL.Query().Get("preview")); d.PreviewFor != "" && p.Can("email-templates:write") {
		s.previewTemplatePage(r, p, d)
	}
	return "email_template", nil
}

// previewTemplatePage renders the template for the contact with the email
// asked for.
func (s *Server) previewTemplatePage(r *http.Request, p *page, d *emailTemplateData) {
	var contacts leadcycle.Page[leadcycle.Contact]
	if err := s.api(r, p, "GET", "/api/v1/contacts?limit=1&email="+url.QueryEscape(strings.ToLower(d.PreviewFor)), nil, &contacts); err != nil || len(contacts.Items) == 0 {
		d.PreviewError = p.T("emails.preview_no_contact", "Email", d.PreviewFor)
		return
	}
	var out templatePreview
	if err := s.api(r, p, "POST", templatesBase+"/"+d.Template.ID.String()+"/preview", map[string]any{"contact_id": contacts.Items[0].ID.String()}, &out); err != nil {
		d.PreviewError = err.Error()
		return
	}
	d.Preview = &out
}

func emailTemplateBody(r *http.Request, p *page) (map[string]any, error) {
	if err := r.ParseForm(); err != nil {
		return nil, leadcycle.Errorf(leadcycle.EMalformed, "the form could not be read: %v", err)
	}
	p.Form = r.PostForm
	body := map[string]any{}
	for _, f := range emailTemplateFields {
		v := p.Form.Get(f)
		if f != "html" && f != "text" {
			v = strings.TrimSpace(v)
		}
		body[f] = v
	}
	return body, nil
}

// emailTemplateProblem shows the form again, as typed, with the problems
// beside their fields.
func emailTemplateProblem(p *page, err error) (string, error) {
	code := leadcycle.ErrorCode(err)
	if code != leadcycle.EInvalid && code != leadcycle.EMalformed && code != leadcycle.EConflict {
		return "", err
	}
	showFieldErrors(p, err)
	return "email_template", nil
}

// showFieldErrors puts an API problem on the page: its message, each field
// error beside its field, and its status (422 for a malformed form).
func showFieldErrors(p *page, err error) {
	code := leadcycle.ErrorCode(err)
	p.Error = leadcycle.ErrorMessage(err)
	for _, f := range leadcycle.ErrorFields(err) {
		if p.FieldErrors[f.Field] != "" {
			p.FieldErrors[f.Field] += "; " + f.Message
		} else {
			p.FieldErrors[f.Field] = f.Message
		}
	}
	p.Status = StatusCode(code)
	if code == leadcycle.EMalformed {
		p.Status = http.StatusUnprocessableEntity
	}
}

func (s *Server) emailTemplateCreateSubmit(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	newEmailTemplateData(p, nil)
	body, err := emailTemplateBody(r, p)
	if err != nil {
		return emailTemplateProblem(p, err)
	}
	var t leadcycle.EmailTemplate
	if err := s.api(r, p, "POST", templatesBase, body, &t); err != nil {
		return emailTemplateProblem(p, err)
	}
	s.redirect(w, r, "/email-templates/"+t.ID.String(), p.T("emails.created", "Name", t.Name))
	return "", nil
}

func (s *Server) emailTemplateSaveSubmit(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	d, err := s.loadEmailTemplate(r, p)
	if err != nil {
		return "", err
	}
	body, err := emailTemplateBody(r, p)
	if err != nil {
		return emailTemplateProblem(p, err)
	}
	var t leadcycle.EmailTemplate
	if err := s.api(r, p, "PATCH", templatesBase+"/"+d.Template.ID.String(), body, &t); err != nil {
		return emailTemplateProblem(p, err)
	}
	s.redirect(w, r, "/email-templates/"+t.ID.String(), p.T("emails.saved", "Name", t.Name))
	return "", nil
}
