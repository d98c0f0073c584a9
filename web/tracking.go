package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/tracking"
)

// Limits of the public tracking endpoints. Page tracking (the script, its
// site settings and the collector) and email tracking (open pixels and click
// links) each have a token bucket per client address: a burst for a page
// load or a newsletter opened by an office behind one address, then a steady
// rate.
const (
	collectMaxBody     = 4 << 10
	pageTrackingRate   = 10
	pageTrackingBurst  = 60
	emailTrackingRate  = 20
	emailTrackingBurst = 100
	// emailRecordTimeout bounds the recording of an open or a click, which
	// goes on when the client has gone away.
	emailRecordTimeout = 5 * time.Second
)

// tracker serves website visit tracking and email open and click tracking.
type tracker struct {
	s      *Server
	pages  *ipLimiter
	emails *ipLimiter

	mu     sync.Mutex
	signer *tracking.Signer
}

// registerTracking registers the public tracking endpoints and the
// tracking-sites collection.
func (s *Server) registerTracking() {
	t := &tracker{
		s:      s,
		pages:  newIPLimiter(pageTrackingRate, pageTrackingBurst),
		emails: newIPLimiter(emailTrackingRate, emailTrackingBurst),
	}
	s.handle("GET", "/t.js", "", withCORS(t.pages.limit(t.script)))
	s.handle("GET", "/t/config", "", withCORS(t.pages.limit(t.config)))
	s.handle("POST", "/t/collect", "", withCORS(t.pages.limit(t.collect)))
	s.handle("OPTIONS", "/t/collect", "", withCORS(t.preflight))
	s.handle("GET", "/o/{token}", "", t.emails.limit(t.open))
	s.handle("GET", "/c/{token}", "", t.emails.limit(t.click))
	t.registerEmailLinks()
	s.tracker = t
	register(s, resource[leadcycle.TrackingSite]{name: "tracking-sites", schema: "TrackingSite", repo: s.store.TrackingSites})
}

// withCORS lets pages of any origin call a public endpoint; no credentials
// are involved (the visitor id travels in the body, not in a cookie of ours).
func withCORS(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		next(w, r)
	}
}

func (t *tracker) preflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Content-Type")
	h.Set("Access-Control-Max-Age", "86400")
	w.WriteHeader(http.StatusNoContent)
}

func (t *tracker) script(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("Cache-Control", "public, max-age=3600")
	h.Set("ETag", tracking.ScriptETag)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	http.ServeContent(w, r, "t.js", time.Time{}, bytes.NewReader(tracking.Script))
}

// config tells the script whether the site's owner declared consent
// implied. It carries no visitor data.
func (t *tracker) config(w http.ResponseWriter, r *http.Request) {
	key := r.URL.Query().Get("site")
	if key == "" || len(key) > 64 {
		writeError(w, r, leadcycle.FieldErrorf(leadcycle.EInvalid, "site", "is required: the data-site key of the tracking script"))
		return
	}
	site, err := t.s.store.TrackingSiteByKey(r.Context(), key)
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	writeJSON(w, http.StatusOK, map[string]bool{"consent_implied": site.ConsentImplied})
}

// collectRequest is what the script sends for a page view.
type collectRequest struct {
	Site      string `json:"site"`
	VisitorID string `json:"visitor_id"`
	URL       string `json:"url"`
	Referrer  string `json:"referrer"`
	Title     string `json:"title"`
	// Consent is true when the page said the visitor consented; false when
	// the script tracks on the site's implied consent.
	Consent bool `json:"consent"`
}

// collect records a page view. It answers 204 both when it records the view
// and when it drops it on purpose (a bot, no consent): a client learns
// nothing from the difference. Requests it cannot take get a problem
// document.
func (t *tracker) collect(w http.ResponseWriter, r *http.Request) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && mt != "text/plain") {
			writeError(w, r, leadcycle.Errorf(leadcycle.EUnsupported, "send the page view as JSON, with Content-Type application/json or text/plain"))
			return
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, collectMaxBody))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		writeError(w, r, leadcycle.Errorf(leadcycle.ETooLarge, "a page view must be at most %d bytes", collectMaxBody))
		return
	}
	if err != nil {
		writeError(w, r, leadcycle.Errorf(leadcycle.EMalformed, "could not read the request body"))
		return
	}
	var in collectRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&in); err != nil {
		writeError(w, r, malformed(err))
		return
	}
	if dec.More() {
		writeError(w, r, leadcycle.Errorf(leadcycle.EMalformed, "the body must hold one JSON object"))
		return
	}

	var errs []leadcycle.FieldError
	bad := func(field, msg string) { errs = append(errs, leadcycle.FieldError{Field: field, Message: msg}) }
	if in.Site == "" || len(in.Site) > 64 {
		bad("site", "is required: the data-site key of the tracking script")
	}
	if !leadcycle.ValidVisitorID(in.VisitorID) {
		bad("visitor_id", "must be 32 lower-case hexadecimal characters")
	}
	page, ok := cleanTrackedURL(in.URL)
	if !ok {
		bad("url", "must be an absolute http or https address of at most 2048 characters")
	}
	var site *leadcycle.TrackingSite
	if len(errs) == 0 {
		site, err = t.s.store.TrackingSiteByKey(r.Context(), in.Site)
		if leadcycle.ErrorCode(err) == leadcycle.ENotFound {
			bad("site", "no tracking site has this key")
		} else if err != nil {
			writeError(w, r, err)
			return
		}
	}
	if len(errs) > 0 {
		writeError(w, r, &leadcycle.Error{Code: leadcycle.EInvalid, Message: errs[0].Field + ": " + errs[0].Message, Fields: errs})
		return
	}
	origin := r.Header.Get("Origin")
	if origin == "" || origin == "null" {
		origin = originOf(page)
	}
	if !site.AllowsOrigin(origin) {
		writeError(w, r, leadcycle.Errorf(leadcycle.EForbidden, "pages of %s may not send page views for this site", origin))
		return
	}
	// Consent is checked here too, for clients other than our script: the
	// page's own statement, or the owner's implied consent unless the
	// browser asks not to be tracked with Global Privacy Control.
	consented := in.Consent || (site.ConsentImplied && r.Header.Get("Sec-GPC") != "1")
	ua := r.UserAgent()
	if !consented || tracking.IsBot(ua) {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	referrer, ok := cleanTrackedURL(in.Referrer)
	if !ok {
		referrer = ""
	}
	_, err = t.s.store.RecordPageView(r.Context(), leadcycle.PageView{
		VisitorID: in.VisitorID, SiteID: &site.ID, URL: page, Referrer: referrer,
		Title: cleanTitle(in.Title), Device: tracking.DeviceClass(ua),
	})
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// cleanTrackedURL returns an absolute http(s) address without its fragment
// (fragments stay in the browser and sometimes hold tokens).
func cleanTrackedURL(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '#'); i >= 0 {
		s = s[:i]
	}
	if s == "" || len(s) > leadcycle.MaxTrackedURL || !utf8.ValidString(s) || !leadcycle.ValidWebURL(s) {
		return "", false
	}
	return s, true
}

func originOf(page string) string {
	u, err := url.Parse(page)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// cleanTitle keeps a page title printable and short.
func cleanTitle(s string) string {
	s = strings.ToValidUTF8(s, "")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > leadcycle.MaxTrackedTitle {
		s = string([]rune(s)[:leadcycle.MaxTrackedTitle])
	}
	return s
}

// signerOf returns the email token signer, loading its key (generated on
// first use) from the database once.
func (t *tracker) signerOf(ctx context.Context) (*tracking.Signer, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.signer == nil {
		s, err := tracking.LoadSigner(ctx, t.s.store, t.s.clock)
		if err != nil {
			return nil, err
		}
		t.signer = s
	}
	return t.signer, nil
}

// transparentGIF is a 1×1 transparent GIF.
var transparentGIF = []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff\x21\xf9\x04\x01\x00\x00\x00\x00\x2c\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02\x44\x01\x00\x3b")

func noSuchTrackingLink() error {
	return leadcycle.Errorf(leadcycle.ENotFound, "no such tracking link")
}

// verifyEmailToken returns the claim of a valid token of the kind; a token
// that does not verify is answered with 404.
func (t *tracker) verifyEmailToken(w http.ResponseWriter, r *http.Request, kind string) (tracking.Claim, bool) {
	signer, err := t.signerOf(r.Context())
	if err != nil {
		writeError(w, r, err)
		return tracking.Claim{}, false
	}
	verify := signer.VerifyOpen
	if kind == tracking.KindClick {
		verify = signer.VerifyClick
	}
	c, err := verify(r.PathValue("token"))
	if err != nil {
		writeError(w, r, noSuchTrackingLink())
		return c, false
	}
	return c, true
}

// recordEmail records an open or a click. HEAD requests (link checkers)
// record nothing; failures are logged, never shown: the pixel and the
// redirect work regardless.
func (t *tracker) recordEmail(r *http.Request, typ string, c tracking.Claim) {
	if r.Method != http.MethodGet {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), emailRecordTimeout)
	defer cancel()
	_, err := t.s.store.RecordEmailEvent(ctx, leadcycle.EmailEvent{Type: typ, ContactID: c.ContactID, LeadID: c.LeadID, EmailID: c.EmailID, URL: c.URL})
	if err != nil {
		logger(r.Context()).Warn("record email "+strings.TrimPrefix(typ, "email_"), "error", err.Error())
	}
}

func (t *tracker) open(w http.ResponseWriter, r *http.Request) {
	c, ok := t.verifyEmailToken(w, r, tracking.KindOpen)
	if !ok {
		return
	}
	t.recordEmail(r, leadcycle.InteractionEmailOpened, c)
	h := w.Header()
	h.Set("Content-Type", "image/gif")
	h.Set("Cache-Control", "no-store, no-cache, must-revalidate, max-age=0, private")
	h.Set("Pragma", "no-cache")
	h.Set("Expires", "0")
	h.Set("Content-Length", "43")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(transparentGIF)
	}
}

// click redirects to the address signed in the token, and only there.
func (t *tracker) click(w http.ResponseWriter, r *http.Request) {
	c, ok := t.verifyEmailToken(w, r, tracking.KindClick)
	if !ok {
		return
	}
	t.recordEmail(r, leadcycle.InteractionEmailClicked, c)
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Location", c.URL)
	w.WriteHeader(http.StatusFound)
}

func init() {
	documentedCollections = append(documentedCollections, struct {
		Name, Schema, Tag string
		Update            bool
	}{"tracking-sites", "TrackingSite", "Tracking sites", true})
	schemaTypes["TrackingSite"] = reflect.TypeFor[leadcycle.TrackingSite]()
	base := "/api/v1/tracking-sites"
	operations = append(operations,
		operation{"GET", base, "List tracking sites", "list", "tracking-sites"},
		operation{"POST", base, "Create a tracking site (the key is generated when not given)", "create", "tracking-sites"},
		operation{"GET", base + "/{id}", "Get a tracking site", "get", "tracking-sites"},
		operation{"PATCH", base + "/{id}", "Update a tracking site (JSON merge patch)", "update", "tracking-sites"},
		operation{"DELETE", base + "/{id}", "Delete a tracking site", "delete", "tracking-sites"},
		operation{"GET", "/t.js", "The website tracking script (public, cacheable; tracks only with consent)", "trackingScript", ""},
		operation{"GET", "/t/config", "Whether a tracking site declared consent implied (public; rate limited)", "trackingConfig", ""},
		operation{"POST", "/t/collect", "Record a page view (public; JSON or text/plain; CORS; rate limited)", "trackingCollect", ""},
		operation{"OPTIONS", "/t/collect", "CORS preflight of the page view collector", "trackingPreflight", ""},
		operation{"GET", "/o/{token}", "Email open pixel: a 1×1 transparent GIF (public; rate limited)", "emailOpen", ""},
		operation{"GET", "/c/{token}", "Email click: redirect to the signed address (public; rate limited)", "emailClick", ""},
	)
	public := func(out obj) obj {
		out["security"] = []obj{}
		out["tags"] = []string{"Tracking"}
		return out
	}
	limited := problemResponse("Too many requests from this address")
	tokenParam := []obj{{"name": "token", "in": "path", "required": true, "schema": obj{"type": "string"}, "description": "A signed token made by the email sender"}}
	operationDescribers["trackingScript"] = func(op operation, out obj) obj {
		out["responses"] = obj{
			"200": obj{"description": "The script", "content": obj{"text/javascript": obj{"schema": obj{"type": "string"}}}},
			"304": obj{"description": "Not modified (If-None-Match)"},
			"429": limited,
		}
		return public(out)
	}
	operationDescribers["trackingConfig"] = func(op operation, out obj) obj {
		out["parameters"] = []obj{{"name": "site", "in": "query", "required": true, "schema": obj{"type": "string"}, "description": "The data-site key"}}
		out["responses"] = obj{
			"200": jsonResponse("The site's setting", obj{"type": "object", "properties": obj{"consent_implied": obj{"type": "boolean"}}}),
			"404": problemResponse("No tracking site has this key"),
			"422": problemResponse("The site parameter is missing"),
			"429": limited,
		}
		return public(out)
	}
	pageView := obj{"type": "object", "required": []string{"site", "visitor_id", "url"}, "properties": obj{
		"site":       obj{"type": "string", "description": "The data-site key"},
		"visitor_id": obj{"type": "string", "pattern": "^[0-9a-f]{32}$"},
		"url":        obj{"type": "string", "format": "uri", "maxLength": leadcycle.MaxTrackedURL},
		"referrer":   obj{"type": "string"},
		"title":      obj{"type": "string"},
		"consent":    obj{"type": "boolean", "description": "true when the page said the visitor consented to tracking"},
	}}
	operationDescribers["trackingCollect"] = func(op operation, out obj) obj {
		out["requestBody"] = obj{"required": true, "content": obj{"application/json": obj{"schema": pageView}, "text/plain": obj{"schema": pageView}}}
		out["responses"] = obj{
			"204": obj{"description": "Taken: recorded, or dropped on purpose (no consent, a bot)"},
			"400": problemResponse("Malformed JSON"),
			"403": problemResponse("The page's origin is not allowed for the site"),
			"413": problemResponse("The body is over 4 KiB"),
			"415": problemResponse("Not JSON or text/plain"),
			"422": problemResponse("A field is missing or not valid, or the site key is unknown"),
			"429": limited,
		}
		return public(out)
	}
	operationDescribers["trackingPreflight"] = func(op operation, out obj) obj {
		out["responses"] = obj{"204": obj{"description": "CORS allowed for any origin"}}
		return public(out)
	}
	operationDescribers["emailOpen"] = func(op operation, out obj) obj {
		out["parameters"] = tokenParam
		out["responses"] = obj{
			"200": obj{"description": "A 1×1 transparent GIF, never cached", "content": obj{"image/gif": obj{"schema": obj{"type": "string", "format": "binary"}}}},
			"404": problemResponse("The token does not verify"),
			"429": limited,
		}
		return public(out)
	}
	operationDescribers["emailClick"] = func(op operation, out obj) obj {
		out["parameters"] = tokenParam
		out["responses"] = obj{
			"302": obj{"description": "Redirect to the signed address", "headers": obj{"Location": obj{"schema": obj{"type": "string", "format": "uri"}}}},
			"404": problemResponse("The token does not verify; there is no redirect"),
			"429": limited,
		}
		return public(out)
	}
}
