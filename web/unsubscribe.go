package web

import (
	"html/template"
	"net/http"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/tracking"
)

// The links of every email: unsubscribe (/u/{token}) and, for double
// opt-in, consent confirmation (/consent/{token}). A person following the
// unsubscribe link is unsubscribed at once (one click); a link checker or
// mail scanner (a bot user agent) gets a page with a button instead, so that
// scanning a message does not unsubscribe anyone. Mail clients unsubscribe
// with RFC 8058's POST (List-Unsubscribe=One-Click).

func (t *tracker) registerEmailLinks() {
	t.s.handle("GET", "/u/{token}", "", t.emails.limit(t.unsubscribe))
	t.s.handle("POST", "/u/{token}", "", t.emails.limit(t.unsubscribe))
	t.s.handle("GET", "/consent/{token}", "", t.emails.limit(t.confirmConsent))
}

var emailLinkPage = template.Must(template.New("p").Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>{{.Title}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;line-height:1.5;color:#222}button{font:inherit;padding:.5rem 1rem}</style>
</head><body><main><h1>{{.Title}}</h1><p>{{.Message}}</p>
{{if .Button}}<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">{{.Button}}</button></form>{{end}}
</main></body></html>`))

func (t *tracker) linkPage(w http.ResponseWriter, r *http.Request, status int, title, message, button string) {
	l := t.s.ui.bundle.For(t.s.ui.bundle.Match("", r.Header.Get("Accept-Language")))
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'")
	w.WriteHeader(status)
	b := ""
	if button != "" {
		b = l.T(button)
	}
	_ = emailLinkPage.Execute(w, map[string]string{"Lang": l.Lang(), "Title": l.T(title), "Message": l.T(message), "Button": b})
}

func (t *tracker) unsubscribe(w http.ResponseWriter, r *http.Request) {
	signer, err := t.signerOf(r.Context())
	if err != nil {
		writeError(w, r, err)
		return
	}
	c, err := signer.VerifyUnsubscribe(r.PathValue("token"))
	if err != nil {
		t.linkPage(w, r, http.StatusNotFound, "email.unsubscribe.title", "email.link.invalid", "")
		return
	}
	if r.Method == http.MethodGet && tracking.IsBot(r.UserAgent()) {
		t.linkPage(w, r, http.StatusOK, "email.unsubscribe.title", "email.unsubscribe.ask", "email.unsubscribe.button")
		return
	}
	changed, err := t.s.store.Emails().Unsubscribe(r.Context(), c.ContactID, c.EmailID)
	if changed {
		logger(r.Context()).Info("unsubscribed", "contact", c.ContactID.String(), "email", c.EmailID)
	}
	t.outcomePage(w, r, "email.unsubscribe.title", changed, err, "email.unsubscribe.done", "email.unsubscribe.already")
}

// outcomePage says what following a link did: done or already so, or that
// the contact is gone.
func (t *tracker) outcomePage(w http.ResponseWriter, r *http.Request, title string, changed bool, err error, done, already string) {
	switch {
	case leadcycle.ErrorCode(err) == leadcycle.ENotFound:
		t.linkPage(w, r, http.StatusOK, title, "email.link.gone", "")
	case err != nil:
		writeError(w, r, err)
	case changed:
		t.linkPage(w, r, http.StatusOK, title, done, "")
	default:
		t.linkPage(w, r, http.StatusOK, title, already, "")
	}
}

func (t *tracker) confirmConsent(w http.ResponseWriter, r *http.Request) {
	signer, err := t.signerOf(r.Context())
	if err != nil {
		writeError(w, r, err)
		return
	}
	c, err := signer.VerifyConfirm(r.PathValue("token"))
	if err != nil {
		t.linkPage(w, r, http.StatusNotFound, "email.confirm.title", "email.link.invalid", "")
		return
	}
	changed, err := t.s.store.Emails().ConfirmConsent(r.Context(), c.ContactID, c.EmailID)
	t.outcomePage(w, r, "email.confirm.title", changed, err, "email.confirm.done", "email.confirm.already")
}

func init() {
	operations = append(operations,
		operation{"GET", "/u/{token}", "Unsubscribe link of an email: unsubscribes at once (a bot user agent gets a page with a button); public, rate limited", "emailUnsubscribe", ""},
		operation{"POST", "/u/{token}", "One-click unsubscribe (RFC 8058, body List-Unsubscribe=One-Click); public, rate limited", "emailUnsubscribe", ""},
		operation{"GET", "/consent/{token}", "Double opt-in confirmation link: grants the consent the contact asked for; public, rate limited", "emailConfirm", ""},
	)
	page := obj{"text/html": obj{"schema": obj{"type": "string"}}}
	describe := func(op operation, out obj) obj {
		out["operationId"] = map[string]string{"GET /u/{token}": "unsubscribe", "POST /u/{token}": "unsubscribeOneClick", "GET /consent/{token}": "confirmConsent"}[op.Method+" "+op.Path]
		out["security"] = []obj{}
		out["tags"] = []string{"Email"}
		out["parameters"] = []obj{{"name": "token", "in": "path", "required": true, "schema": obj{"type": "string"}, "description": "A signed token made by the mailer"}}
		out["responses"] = obj{
			"200": obj{"description": "A page saying what was done", "content": page},
			"404": obj{"description": "The token does not verify", "content": page},
			"429": problemResponse("Too many requests from this address"),
		}
		return out
	}
	operationDescribers["emailUnsubscribe"] = describe
	operationDescribers["emailConfirm"] = describe
}
