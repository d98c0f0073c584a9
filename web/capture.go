package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/forms"
	"github.com/leadcycle/leadcycle/scoring"
)

// publicBodyLimit bounds form and registration bodies.
const publicBodyLimit = 64 << 10

func (s *Server) registerCapture() {
	register(s, resource[leadcycle.MatchingStrategy]{name: "matching-strategies", schema: "MatchingStrategy", repo: s.store.Strategies})
	register(s, resource[leadcycle.Form]{name: "forms", schema: "Form", repo: s.store.Forms})
	register(s, resource[leadcycle.Event]{name: "events", schema: "Event", repo: s.store.Events})
	s.handle("GET", "/api/v1/forms/{id}/submissions", "forms:read", s.formSubmissions)
	s.handle("GET", "/api/v1/forms/{id}/embed", "forms:read", s.formEmbed)
	s.handle("GET", "/api/v1/events/{id}/registrations", "events:read", s.eventRegistrations)
	s.handle("POST", "/api/v1/events/{id}/registrations", "events:write", s.eventRegisterContact)
	s.handle("DELETE", "/api/v1/events/{id}/registrations/{contact_id}", "events:write", s.eventCancel)
	s.handle("POST", "/api/v1/events/{id}/check-ins", "events:write", s.eventCheckIn)

	s.handle("GET", "/f/{id}", "", s.public.limit(s.formPage))
	s.handle("POST", "/f/{id}", "", s.public.limit(s.formSubmit))
	s.handle("GET", "/f/{id}/embed.js", "", s.public.limit(s.formScript))
	s.handle("POST", "/e/{id}/register", "", s.public.limit(s.eventRegister))
}

// RunWorkers processes pending and spooled form submissions and keeps scores
// and segment members current until ctx ends.
func (s *Server) RunWorkers(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() { s.forms.Run(ctx, 5*time.Second) })
	wg.Go(func() { (&scoring.Worker{Store: s.store.Scoring(), Logger: s.log}).Run(ctx) })
	wg.Go(func() {
		(&scoring.Worker{Store: s.store.SegmentMembers(), Name: "segments", Logger: s.log, Concurrency: 1}).Run(ctx)
	})
	wg.Go(func() { s.runWorkflow(ctx, 200*time.Millisecond) })
	wg.Go(func() { s.WebhookWorker().Run(ctx) })
	wg.Go(func() { s.ImportRunner().Work(ctx, time.Second) })
	wg.Go(func() { s.runJourneys(ctx, 250*time.Millisecond) })
	if m := s.Mailer(ctx); m != nil {
		wg.Go(func() { m.Run(ctx) })
	}
	wg.Wait()
}

// RetrySubmissions makes one pass over pending and spooled submissions.
func (s *Server) RetrySubmissions(ctx context.Context) int { return s.forms.Retry(ctx) }

func (s *Server) activeForm(r *http.Request) (*leadcycle.Form, error) {
	id, err := pathID(r)
	if err != nil {
		return nil, err
	}
	f, err := s.store.Forms().Get(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if !f.Active {
		return nil, leadcycle.Errorf(leadcycle.ENotFound, "this form no longer accepts submissions")
	}
	return f, nil
}

// readPublicValues reads a urlencoded or JSON body into string values.
func readPublicValues(w http.ResponseWriter, r *http.Request) (map[string]string, bool, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, publicBodyLimit))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, false, leadcycle.Errorf(leadcycle.ETooLarge, "the submission is larger than %d bytes", publicBodyLimit)
	}
	if err != nil {
		return nil, false, leadcycle.Errorf(leadcycle.EMalformed, "could not read the submission")
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	values := map[string]string{}
	switch mt {
	case "application/json":
		var raw map[string]any
		if err := json.Unmarshal(body, &raw); err != nil || raw == nil {
			return nil, true, leadcycle.Errorf(leadcycle.EMalformed, "the submission must be a JSON object of field values")
		}
		for k, v := range raw {
			switch x := v.(type) {
			case string:
				values[k] = x
			case bool, float64:
				values[k] = fmt.Sprint(x)
			case nil:
			default:
				return nil, true, leadcycle.FieldErrorf(leadcycle.EMalformed, k, "must be a string, number or boolean")
			}
		}
		return values, true, nil
	case "application/x-www-form-urlencoded", "":
		q, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, false, leadcycle.Errorf(leadcycle.EMalformed, "the submission is not valid form data")
		}
		for k, v := range q {
			values[k] = v[len(v)-1]
		}
		return values, strings.Contains(r.Header.Get("Accept"), "application/json"), nil
	default:
		return nil, false, leadcycle.Errorf(leadcycle.EUnsupported, "send the form as application/x-www-form-urlencoded or application/json")
	}
}

func (s *Server) formSubmit(w http.ResponseWriter, r *http.Request) {
	f, err := s.activeForm(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	values, wantsJSON, err := readPublicValues(w, r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	sub := &leadcycle.FormSubmission{FormID: f.ID, Key: values[forms.KeyField], VisitorID: values[forms.VisitorField], IP: clientIP(r), UserAgent: truncate(r.UserAgent(), 500)}
	if k := r.Header.Get("Idempotency-Key"); k != "" {
		sub.Key = k
	}
	if len(sub.Key) > 200 || len(sub.VisitorID) > 100 {
		writeError(w, r, leadcycle.Errorf(leadcycle.EMalformed, "the submission key or visitor id is too long"))
		return
	}
	if values[forms.HoneypotField] != "" {
		// Bots get the same answer as people; the submission is kept as spam.
		sub.Status, sub.Values = leadcycle.SubmissionSpam, values
		if _, err := s.forms.Submit(r.Context(), f, sub); err != nil {
			logger(r.Context()).Warn("store spam submission", "error", err.Error())
		}
		s.formDone(w, r, f, forms.Outcome{Status: leadcycle.SubmissionProcessed}, wantsJSON)
		return
	}
	clean, err := forms.Validate(f, values)
	if err != nil {
		if wantsJSON {
			writeError(w, r, err)
			return
		}
		s.renderForm(w, r, f, values, leadcycle.ErrorFields(err), http.StatusUnprocessableEntity)
		return
	}
	sub.Values = clean
	out, err := s.forms.Submit(r.Context(), f, sub)
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.formDone(w, r, f, out, wantsJSON)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func (s *Server) formDone(w http.ResponseWriter, r *http.Request, f *leadcycle.Form, out forms.Outcome, wantsJSON bool) {
	status := http.StatusOK
	if out.Status == leadcycle.SubmissionPending {
		status = http.StatusAccepted
	}
	if wantsJSON {
		body := map[string]any{"status": out.Status, "message": f.ThankYouMessage, "redirect_url": f.RedirectURL}
		if out.SubmissionID != 0 {
			body["submission_id"] = out.SubmissionID
		}
		writeJSON(w, status, body)
		return
	}
	if f.RedirectURL != "" {
		http.Redirect(w, r, f.RedirectURL, http.StatusSeeOther)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_ = pageTemplate.ExecuteTemplate(w, "thanks", f)
}

func (s *Server) formPage(w http.ResponseWriter, r *http.Request) {
	f, err := s.activeForm(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.renderForm(w, r, f, map[string]string{}, nil, http.StatusOK)
}

type formView struct {
	Form     *leadcycle.Form
	Values   map[string]string
	Errors   map[string]string
	Key      string
	Honeypot string
	KeyField string
	Consents []consentView
}

type consentView struct {
	Name, Label string
	Required    bool
	Checked     bool
}

func (s *Server) renderForm(w http.ResponseWriter, r *http.Request, f *leadcycle.Form, values map[string]string, errs []leadcycle.FieldError, status int) {
	v := formView{Form: f, Values: values, Errors: map[string]string{}, Key: values[forms.KeyField], Honeypot: forms.HoneypotField, KeyField: forms.KeyField}
	if v.Key == "" {
		v.Key = forms.NewKey()
	}
	for _, e := range errs {
		v.Errors[e.Field] = e.Message
	}
	for _, c := range f.Consents {
		name := "consent_" + c.Purpose
		v.Consents = append(v.Consents, consentView{Name: name, Label: c.Label, Required: c.Required, Checked: values[name] != ""})
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'unsafe-inline'; form-action 'self' https: http:")
	w.WriteHeader(status)
	if err := pageTemplate.ExecuteTemplate(w, "form", v); err != nil {
		logger(r.Context()).Error("render form", "error", err.Error())
	}
}

var pageTemplate = template.Must(template.New("pages").Parse(`
{{define "head"}}<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem;color:#1d2430}label{display:block;margin:.8rem 0 .2rem;font-weight:600}
input,textarea,select{width:100%;padding:.5rem;font:inherit;border:1px solid #9aa3ae;border-radius:4px;box-sizing:border-box}.check label{display:inline;font-weight:normal}
.check input{width:auto}.error{color:#b00020;font-size:.9rem}.hp{position:absolute;left:-10000px}button{margin-top:1.2rem;padding:.6rem 1.4rem;font:inherit;background:#1f5fbf;color:#fff;border:0;border-radius:4px}</style>
{{end}}
{{define "form"}}{{template "head"}}<title>{{.Form.Name}}</title></head><body>
<h1>{{.Form.Name}}</h1>
<form method="post" action="/f/{{.Form.ID}}" novalidate>
<input type="hidden" name="{{.KeyField}}" value="{{.Key}}">
<div class="hp" aria-hidden="true"><label for="{{.Honeypot}}">Leave this empty</label><input id="{{.Honeypot}}" name="{{.Honeypot}}" tabindex="-1" autocomplete="off"></div>
{{range .Form.Fields}}{{$err := index $.Errors .Name}}
{{if eq .Type "hidden"}}<input type="hidden" name="{{.Name}}" value="{{index $.Values .Name}}">{{else if eq .Type "checkbox"}}
<div class="check"><input type="checkbox" id="f-{{.Name}}" name="{{.Name}}" value="true"{{if index $.Values .Name}} checked{{end}}> <label for="f-{{.Name}}">{{.Label}}</label></div>
{{else}}<label for="f-{{.Name}}">{{.Label}}{{if .Required}} *{{end}}</label>
{{if eq .Type "textarea"}}<textarea id="f-{{.Name}}" name="{{.Name}}" rows="4"{{if .Required}} required{{end}}>{{index $.Values .Name}}</textarea>
{{else if eq .Type "choice"}}<select id="f-{{.Name}}" name="{{.Name}}"><option value=""></option>{{$v := index $.Values .Name}}{{range .Choices}}<option{{if eq . $v}} selected{{end}}>{{.}}</option>{{end}}</select>
{{else}}<input id="f-{{.Name}}" name="{{.Name}}" value="{{index $.Values .Name}}" type="{{if eq .Type "email"}}email{{else if eq .Type "phone"}}tel{{else if eq .Type "number"}}number{{else if eq .Type "date"}}date{{else}}text{{end}}"{{if .Required}} required{{end}}{{if $err}} aria-invalid="true"{{end}}>{{end}}{{end}}
{{if $err}}<div class="error" role="alert">{{.Label}} {{$err}}</div>{{end}}{{end}}
{{range .Consents}}<div class="check"><input type="checkbox" id="f-{{.Name}}" name="{{.Name}}" value="true"{{if .Checked}} checked{{end}}> <label for="f-{{.Name}}">{{.Label}}{{if .Required}} *{{end}}</label></div>
{{with index $.Errors .Name}}<div class="error" role="alert">{{.}}</div>{{end}}{{end}}
<button type="submit">{{.Form.SubmitLabel}}</button>
</form></body></html>{{end}}
{{define "thanks"}}{{template "head"}}<title>{{.Name}}</title></head><body><h1>{{.Name}}</h1><p role="status">{{.ThankYouMessage}}</p></body></html>{{end}}
`))

// formScript serves the embed script of a form: it renders the form into the
// page that includes it and submits it with fetch, showing per-field errors.
func (s *Server) formScript(w http.ResponseWriter, r *http.Request) {
	f, err := s.activeForm(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	def, _ := json.Marshal(map[string]any{
		"id": f.ID, "name": f.Name, "fields": f.Fields, "consents": f.Consents, "submit": f.SubmitLabel,
		"thanks": f.ThankYouMessage, "redirect": f.RedirectURL, "honeypot": forms.HoneypotField, "key": forms.KeyField, "visitor": forms.VisitorField,
	})
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=300")
	fmt.Fprintf(w, embedScript, def)
}

const embedScript = `(function () {
  "use strict";
  var def = %s;
  var script = document.currentScript;
  var base = new URL(script.src).origin;
  var host = document.querySelector('[data-leadcycle-form="' + def.id + '"]');
  if (!host) { host = document.createElement("div"); script.parentNode.insertBefore(host, script); }
  var form = document.createElement("form");
  form.noValidate = true;
  function el(tag, attrs, text) { var e = document.createElement(tag); for (var k in attrs) e.setAttribute(k, attrs[k]); if (text) e.textContent = text; return e; }
  function field(name, label, input) {
    var wrap = el("div", {"class": "lc-field"});
    var id = "lc-" + def.id + "-" + name;
    input.id = id; input.name = name;
    if (input.type === "checkbox") { wrap.appendChild(input); wrap.appendChild(el("label", {"for": id}, " " + label)); }
    else { wrap.appendChild(el("label", {"for": id}, label)); wrap.appendChild(input); }
    wrap.appendChild(el("div", {"class": "lc-error", "role": "alert", "data-for": name}));
    form.appendChild(wrap);
  }
  def.fields.forEach(function (f) {
    var input;
    if (f.type === "hidden") { input = el("input", {type: "hidden", name: f.name}); form.appendChild(input); return; }
    if (f.type === "textarea") input = el("textarea", {rows: "4"});
    else if (f.type === "choice") { input = el("select"); input.appendChild(el("option", {value: ""})); f.choices.forEach(function (c) { input.appendChild(el("option", {value: c}, c)); }); }
    else if (f.type === "checkbox") input = el("input", {type: "checkbox", value: "true"});
    else input = el("input", {type: {email: "email", phone: "tel", number: "number", date: "date"}[f.type] || "text"});
    field(f.name, f.label + (f.required ? " *" : ""), input);
  });
  def.consents.forEach(function (c) { field("consent_" + c.purpose, c.label + (c.required ? " *" : ""), el("input", {type: "checkbox", value: "true"})); });
  var hp = el("input", {name: def.honeypot, tabindex: "-1", autocomplete: "off", "aria-hidden": "true", style: "position:absolute;left:-10000px"});
  form.appendChild(hp);
  form.appendChild(el("button", {type: "submit"}, def.submit));
  var status = el("p", {"class": "lc-status", "role": "status"});
  host.appendChild(form); host.appendChild(status);
  var key = (window.crypto && crypto.randomUUID) ? crypto.randomUUID() : String(Date.now()) + Math.random();
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var data = {}; new FormData(form).forEach(function (v, k) { data[k] = v; });
    data[def.key] = key;
    try { if (window.leadcycle) { var vid = window.leadcycle("visitor"); if (vid) data[def.visitor] = vid; } } catch (e) {}
    form.querySelectorAll(".lc-error").forEach(function (e) { e.textContent = ""; });
    fetch(base + "/f/" + def.id, {method: "POST", headers: {"Content-Type": "application/json", "Accept": "application/json"}, body: JSON.stringify(data)})
      .then(function (res) { return res.json().then(function (body) { return {ok: res.ok, body: body}; }); })
      .then(function (r) {
        if (r.ok) { if (def.redirect) { window.location = def.redirect; return; } form.remove(); status.textContent = def.thanks; return; }
        (r.body.errors || []).forEach(function (e) { var t = form.querySelector('[data-for="' + e.field + '"]'); if (t) t.textContent = e.message; });
        if (!r.body.errors) status.textContent = r.body.detail || "Something went wrong; please try again.";
      })
      .catch(function () { status.textContent = "The form could not be sent; please try again."; });
  });
})();
`

func (s *Server) formEmbed(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if _, err := s.store.Forms().Get(r.Context(), id); err != nil {
		writeError(w, r, err)
		return
	}
	base := "https://" + r.Host
	if r.TLS == nil {
		base = "http://" + r.Host
	}
	snippet := fmt.Sprintf(`<div data-leadcycle-form="%s"></div>
<script src="%s/f/%s/embed.js" async></script>`, id, base, id)
	writeJSON(w, http.StatusOK, map[string]string{"html": snippet, "hosted_url": base + "/f/" + id.String()})
}

func (s *Server) formSubmissions(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	subs, err := s.store.Submissions().ListSubmissions(r.Context(), id, 200)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": subs, "next_cursor": ""})
}
