package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/leadcycle/leadcycle"
)

// The webhook screens: the subscriptions, a subscription's editor with its
// deliveries (status, attempts, the last answer) and the retry of a failed
// one. The signing secret is shown once, on the answer of the create or
// rotate request, never again.

func (s *Server) registerWebhookPages() {
	read, write := leadcycle.Perm("webhooks", leadcycle.ActionRead), leadcycle.Perm("webhooks", leadcycle.ActionWrite)
	s.handlePage("GET", "/webhooks", read, s.webhookListPage)
	s.handlePage("GET", "/webhooks/new", write, s.webhookNewPage)
	s.handlePage("POST", "/webhooks/new", write, s.webhookCreateSubmit)
	s.handlePage("GET", "/webhooks/{id}", read, s.webhookPage)
	s.handlePage("POST", "/webhooks/{id}", write, s.webhookSaveSubmit)
	s.handlePage("POST", "/webhooks/{id}/rotate-secret", write, s.webhookRotateSubmit)
	s.handlePage("POST", "/webhooks/{id}/deliveries/{delivery}/retry", write, s.webhookRetrySubmit)
}

// webhookListData is the list of webhooks.
type webhookListData struct {
	Hooks      []leadcycle.Webhook
	NextCursor string
}

func (s *Server) webhookListPage(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	q := url.Values{"limit": {"100"}}
	if c := r.URL.Query().Get("cursor"); c != "" {
		q.Set("cursor", c)
	}
	var res leadcycle.Page[leadcycle.Webhook]
	if err := s.api(r, p, "GET", webhooksBase+"?"+q.Encode(), nil, &res); err != nil {
		return "", err
	}
	p.Title, p.Nav, p.Data = p.T("webhooks.title"), "webhooks", &webhookListData{Hooks: res.Items, NextCursor: res.NextCursor}
	return "webhooks", nil
}

// webhookData is a webhook's page, or the new webhook's when Hook is nil.
type webhookData struct {
	Hook *leadcycle.Webhook
	// Secret is the signing secret, shown once after create or rotate.
	Secret     string
	Events     []string
	Deliveries []leadcycle.WebhookDelivery
	NextCursor string
	Cursor     string
	Action     string
}

func (s *Server) webhookNewPage(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	p.Form = url.Values{"active": {"true"}}
	p.Title, p.Nav, p.Data = p.T("webhook.new_title"), "webhooks", &webhookData{Events: leadcycle.EventTypes, Action: "/webhooks/new"}
	return "webhook", nil
}

func (s *Server) webhookCreateSubmit(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	p.Title, p.Nav, p.Form = p.T("webhook.new_title"), "webhooks", r.PostForm
	p.Data = &webhookData{Events: leadcycle.EventTypes, Action: "/webhooks/new"}
	var h leadcycle.Webhook
	if err := s.api(r, p, "POST", webhooksBase, webhookBody(r.PostForm), &h); err != nil {
		return "webhook", configProblem(p, err)
	}
	// The secret is in this answer only: show the page here rather than
	// redirect to it.
	secret := h.Secret
	h.Secret = ""
	return s.showWebhook(r, p, &h, secret, p.T("webhook.created", "Name", h.Name))
}

// showWebhook renders a webhook's page as its GET does, with a secret to
// show once and a message.
func (s *Server) showWebhook(r *http.Request, p *page, h *leadcycle.Webhook, secret, flash string) (string, error) {
	d, err := s.loadWebhook(r, p, h.ID.String())
	if err != nil {
		return "", err
	}
	d.Secret, p.Flash = secret, flash
	p.Form = webhookValues(d.Hook)
	return "webhook", nil
}

func (s *Server) loadWebhook(r *http.Request, p *page, id string) (*webhookData, error) {
	var h leadcycle.Webhook
	if err := s.api(r, p, "GET", webhooksBase+"/"+url.PathEscape(id), nil, &h); err != nil {
		return nil, err
	}
	d := &webhookData{Hook: &h, Events: leadcycle.EventTypes, Action: "/webhooks/" + h.ID.String()}
	q := url.Values{"limit": {"50"}}
	if c := r.URL.Query().Get("cursor"); c != "" {
		q.Set("cursor", c)
		d.Cursor = c
	}
	var res leadcycle.Page[leadcycle.WebhookDelivery]
	if err := s.api(r, p, "GET", webhooksBase+"/"+h.ID.String()+"/deliveries?"+q.Encode(), nil, &res); err != nil {
		return nil, err
	}
	d.Deliveries, d.NextCursor = res.Items, res.NextCursor
	p.Title, p.Nav, p.Data = h.Name, "webhooks", d
	return d, nil
}

func (s *Server) webhookPage(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	d, err := s.loadWebhook(r, p, r.PathValue("id"))
	if err != nil {
		return "", err
	}
	p.Form = webhookValues(d.Hook)
	return "webhook", nil
}

func (s *Server) webhookSaveSubmit(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	d, err := s.loadWebhook(r, p, r.PathValue("id"))
	if err != nil {
		return "", err
	}
	p.Form = r.PostForm
	var h leadcycle.Webhook
	if err := s.api(r, p, "PATCH", webhooksBase+"/"+d.Hook.ID.String(), webhookBody(r.PostForm), &h); err != nil {
		return "webhook", configProblem(p, err)
	}
	s.redirect(w, r, "/webhooks/"+h.ID.String(), p.T("webhook.saved", "Name", h.Name))
	return "", nil
}

func (s *Server) webhookRotateSubmit(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	id := r.PathValue("id")
	var h leadcycle.Webhook
	if err := s.api(r, p, "POST", webhooksBase+"/"+url.PathEscape(id)+"/rotate-secret", map[string]any{}, &h); err != nil {
		return "", err
	}
	secret := h.Secret
	h.Secret = ""
	return s.showWebhook(r, p, &h, secret, p.T("webhook.rotated"))
}

func (s *Server) webhookRetrySubmit(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	id, delivery := r.PathValue("id"), r.PathValue("delivery")
	if err := s.api(r, p, "POST", webhooksBase+"/"+url.PathEscape(id)+"/deliveries/"+url.PathEscape(delivery)+"/retry", map[string]any{}, nil); err != nil {
		return "", err
	}
	s.redirect(w, r, "/webhooks/"+id, p.T("webhook.retried", "ID", delivery))
	return "", nil
}

// webhookBody is the API body of the typed webhook.
func webhookBody(v url.Values) map[string]any {
	events := []string{}
	for _, e := range v["events"] {
		if e = strings.TrimSpace(e); e != "" {
			events = append(events, e)
		}
	}
	if cfgChecked(v, "all_events") {
		events = append([]string{"*"}, events...)
	}
	return map[string]any{"name": strings.TrimSpace(v.Get("name")), "url": strings.TrimSpace(v.Get("url")),
		"description": strings.TrimSpace(v.Get("description")), "events": events, "active": cfgChecked(v, "active")}
}

// webhookValues are the editor's inputs filled from a saved webhook.
func webhookValues(h *leadcycle.Webhook) url.Values {
	v := url.Values{"name": {h.Name}, "url": {h.URL}, "description": {h.Description}, "active": {cfgBool(h.Active)}}
	for _, e := range h.Events {
		if e == "*" {
			v.Set("all_events", "true")
		} else {
			v.Add("events", e)
		}
	}
	return v
}

// EventName is the shown name of an event type.
func (p *page) EventName(event string) string {
	if event == "*" {
		return p.T("webhook.event.all")
	}
	for _, e := range leadcycle.EventTypes {
		if e == event {
			return p.T("webhook.event." + e)
		}
	}
	return event
}
