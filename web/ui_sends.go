package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/leadcycle/leadcycle"
)

// The sent emails and the suppression list, beside the email templates:
// the sends newest first with a status filter, and the addresses no email
// goes to, which a marketer adds or takes off.

func (s *Server) registerEmailSendPages() {
	s.handlePage("GET", "/email-sends", leadcycle.Perm("email-sends", leadcycle.ActionRead), s.emailSendListPage)
	s.handlePage("GET", "/suppressions", leadcycle.Perm("suppressions", leadcycle.ActionRead), s.suppressionListPage)
	s.handlePage("POST", "/suppressions", leadcycle.Perm("suppressions", leadcycle.ActionWrite), s.suppressionAddSubmit)
	s.handlePage("POST", "/suppressions/remove", leadcycle.Perm("suppressions", leadcycle.ActionDelete), s.suppressionRemoveSubmit)
}

// sendStatuses are the statuses of a send, in the filter's order.
var sendStatuses = []string{leadcycle.SendQueued, leadcycle.SendSent, leadcycle.SendSkipped, leadcycle.SendBounced, leadcycle.SendFailed}

// suppressReasons are the reasons an address is suppressed.
var suppressReasons = []string{leadcycle.SuppressBounce, leadcycle.SuppressComplaint}

type emailSendListData struct {
	Sends    []leadcycle.EmailSend
	Statuses []string
	Status   string
	// Journey is the journey_id filter, kept in the paging links.
	Journey    string
	Cursor     string
	NextCursor string
	// Templates and Journeys name the ids of the sends.
	Templates map[string]string
	Journeys  map[string]string
}

// StatusClass is the badge class of a send's status.
func (d *emailSendListData) StatusClass(status string) string {
	switch status {
	case leadcycle.SendSent:
		return "ok"
	case leadcycle.SendQueued, leadcycle.SendSkipped:
		return "warn"
	case leadcycle.SendBounced, leadcycle.SendFailed:
		return "bad"
	}
	return ""
}

func (s *Server) emailSendListPage(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	d := &emailSendListData{Statuses: sendStatuses, Templates: map[string]string{}, Journeys: map[string]string{}}
	q := url.Values{"limit": {"50"}}
	if st := r.URL.Query().Get("status"); st != "" {
		d.Status = st
		q.Set("status", st)
	}
	if j := r.URL.Query().Get("journey_id"); j != "" {
		d.Journey = j
		q.Set("journey_id", j)
	}
	if c := r.URL.Query().Get("cursor"); c != "" {
		d.Cursor = c
		q.Set("cursor", c)
	}
	var res leadcycle.Page[leadcycle.EmailSend]
	if err := s.api(r, p, "GET", sendsBase+"?"+q.Encode(), nil, &res); err != nil {
		return "", err
	}
	d.Sends, d.NextCursor = res.Items, res.NextCursor
	// The names of the templates and journeys sent from; a name the user
	// may not read is left out and the id shown instead.
	for _, snd := range d.Sends {
		if id := snd.TemplateID.String(); d.Templates[id] == "" {
			var t leadcycle.EmailTemplate
			if err := s.api(r, p, "GET", templatesBase+"/"+id, nil, &t); err == nil {
				d.Templates[id] = t.Name
			} else {
				d.Templates[id] = "#" + id
			}
		}
		if snd.JourneyID != nil {
			if id := snd.JourneyID.String(); d.Journeys[id] == "" {
				var j leadcycle.Journey
				if err := s.api(r, p, "GET", journeysBase+"/"+id, nil, &j); err == nil {
					d.Journeys[id] = j.Name
				} else {
					d.Journeys[id] = "#" + id
				}
			}
		}
	}
	p.Title, p.Nav, p.Data = p.T("emails.sends.title"), "emails", d
	return "email_sends", nil
}

type suppressionListData struct {
	Suppressions []leadcycle.Suppression
	Reasons      []string
	Cursor       string
	NextCursor   string
}

func (s *Server) loadSuppressions(r *http.Request, p *page) (*suppressionListData, error) {
	d := &suppressionListData{Reasons: suppressReasons}
	q := url.Values{"limit": {"100"}}
	if c := r.URL.Query().Get("cursor"); c != "" {
		d.Cursor = c
		q.Set("cursor", c)
	}
	var res leadcycle.Page[leadcycle.Suppression]
	if err := s.api(r, p, "GET", suppressBase+"?"+q.Encode(), nil, &res); err != nil {
		return nil, err
	}
	d.Suppressions, d.NextCursor = res.Items, res.NextCursor
	p.Title, p.Nav, p.Data = p.T("emails.suppressions.title"), "emails", d
	return d, nil
}

func (s *Server) suppressionListPage(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	if _, err := s.loadSuppressions(r, p); err != nil {
		return "", err
	}
	p.Form.Set("reason", leadcycle.SuppressBounce)
	return "suppressions", nil
}

func (s *Server) suppressionAddSubmit(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	if err := r.ParseForm(); err != nil {
		return "", leadcycle.Errorf(leadcycle.EMalformed, "the form could not be read: %v", err)
	}
	form := r.PostForm
	body := map[string]any{"email": strings.TrimSpace(form.Get("email")), "reason": form.Get("reason"), "detail": strings.TrimSpace(form.Get("detail"))}
	if err := s.api(r, p, "POST", suppressBase, body, nil); err != nil {
		code := leadcycle.ErrorCode(err)
		if code != leadcycle.EInvalid && code != leadcycle.EMalformed && code != leadcycle.EConflict {
			return "", err
		}
		if _, lerr := s.loadSuppressions(r, p); lerr != nil {
			return "", lerr
		}
		p.Form = form
		showFieldErrors(p, err)
		return "suppressions", nil
	}
	s.redirect(w, r, "/suppressions", p.T("emails.suppressions.added", "Email", body["email"]))
	return "", nil
}

func (s *Server) suppressionRemoveSubmit(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	if err := r.ParseForm(); err != nil {
		return "", leadcycle.Errorf(leadcycle.EMalformed, "the form could not be read: %v", err)
	}
	email := r.PostForm.Get("email")
	if err := s.api(r, p, "DELETE", suppressBase+"/"+url.PathEscape(email), nil, nil); err != nil {
		return "", err
	}
	s.redirect(w, r, "/suppressions", p.T("emails.suppressions.removed", "Email", email))
	return "", nil
}
