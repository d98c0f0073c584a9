package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/gif"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/tracking"
)

const browserUA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"

// raw sends a request without an API key and without following redirects.
func (ts *testServer) raw(t *testing.T, method, path string, body []byte, header map[string]string) response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, ts.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	client := *ts.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: b}
}

func pageView(site, visitor, url string, consent bool) []byte {
	b, _ := json.Marshal(map[string]any{"site": site, "visitor_id": visitor, "url": url, "referrer": "https://search.example/?q=leadcycle",
		"title": "  Pricing\n\t– Acme  ", "consent": consent})
	return b
}

func visitorN(n int) string { return fmt.Sprintf("%032x", 0xfeed00+n) }

func (ts *testServer) mustSite(t *testing.T, v map[string]any) map[string]any {
	t.Helper()
	r := ts.do(t, "POST", "/api/v1/tracking-sites", leadcycle.RoleAdmin, v)
	if r.status != http.StatusCreated {
		t.Fatalf("create tracking site: %d %s", r.status, r.body)
	}
	return r.json(t)
}

func (ts *testServer) visits(t *testing.T, visitor string) []leadcycle.PageVisit {
	t.Helper()
	v, err := ts.store.PageVisits(context.Background(), visitor)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestTrackingScriptAndConfig(t *testing.T) {
	ts := newTestServer(t)
	r := ts.raw(t, "GET", "/t.js", nil, nil)
	if r.status != 200 || !bytes.Equal(r.body, tracking.Script) {
		t.Fatalf("GET /t.js: %d, %d bytes", r.status, len(r.body))
	}
	h := r.header
	if !strings.HasPrefix(h.Get("Content-Type"), "text/javascript") || !strings.Contains(h.Get("Cache-Control"), "max-age=") ||
		h.Get("ETag") != tracking.ScriptETag || h.Get("Access-Control-Allow-Origin") != "*" || h.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("script headers: %v", h)
	}
	if !strings.Contains(string(r.body), "function allowed()") {
		t.Error("the served script has no consent gate")
	}
	if r := ts.raw(t, "GET", "/t.js", nil, map[string]string{"If-None-Match": tracking.ScriptETag}); r.status != http.StatusNotModified || len(r.body) != 0 {
		t.Errorf("conditional GET: %d, %d bytes", r.status, len(r.body))
	}

	site := ts.mustSite(t, map[string]any{"name": "Web"})
	implied := ts.mustSite(t, map[string]any{"name": "Shop", "key": "shop-1", "consent_implied": true})
	for key, want := range map[string]bool{site["key"].(string): false, implied["key"].(string): true} {
		r := ts.raw(t, "GET", "/t/config?site="+key, nil, nil)
		if r.status != 200 || r.json(t)["consent_implied"] != want || r.header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("config of %s: %d %s %v", key, r.status, r.body, r.header)
		}
	}
	problem(t, ts.raw(t, "GET", "/t/config?site=unknown", nil, nil), 404, "")
	problem(t, ts.raw(t, "GET", "/t/config", nil, nil), 422, "site")
}

func TestTrackingCollect(t *testing.T) {
	ts := newTestServer(t)
	site := ts.mustSite(t, map[string]any{"name": "Web", "allowed_origins": []string{"https://www.example.com"}})
	key := site["key"].(string)
	implied := ts.mustSite(t, map[string]any{"name": "Shop", "consent_implied": true})["key"].(string)
	browser := map[string]string{"Content-Type": "text/plain;charset=UTF-8", "User-Agent": browserUA, "Origin": "https://www.example.com"}

	vid := visitorN(1)
	r := ts.raw(t, "POST", "/t/collect", pageView(key, vid, "https://www.example.com/pricing?plan=pro#section-2", true), browser)
	if r.status != http.StatusNoContent || r.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("collect: %d %s %v", r.status, r.body, r.header)
	}
	got := ts.visits(t, vid)
	if len(got) != 1 {
		t.Fatalf("%d page visits stored, want 1", len(got))
	}
	v := got[0]
	if v.URL != "https://www.example.com/pricing?plan=pro" || v.Referrer != "https://search.example/?q=leadcycle" || v.Title != "Pricing – Acme" ||
		v.Device != tracking.DeviceDesktop || v.SiteID == nil || v.SiteID.String() != site["id"] {
		t.Errorf("stored visit: %+v", v)
	}
	if n := ts.count(t, "interactions"); n != 0 {
		t.Errorf("an anonymous page view made %d interactions", n)
	}
	// application/json works too.
	jsonHdr := map[string]string{"Content-Type": "application/json", "User-Agent": browserUA, "Origin": "https://www.example.com"}
	if r := ts.raw(t, "POST", "/t/collect", pageView(key, vid, "https://www.example.com/demo", true), jsonHdr); r.status != 204 {
		t.Fatalf("JSON collect: %d %s", r.status, r.body)
	}
	if n := len(ts.visits(t, vid)); n != 2 {
		t.Fatalf("%d visits after the JSON page view, want 2", n)
	}
	// The preflight a JSON fetch needs.
	r = ts.raw(t, "OPTIONS", "/t/collect", nil, map[string]string{"Origin": "https://www.example.com", "Access-Control-Request-Method": "POST"})
	if r.status != 204 || r.header.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(r.header.Get("Access-Control-Allow-Headers"), "Content-Type") {
		t.Errorf("preflight: %d %v", r.status, r.header)
	}

	fresh := visitorN(2)
	refused := []struct {
		name   string
		body   []byte
		header map[string]string
		status int
		field  string
	}{
		{"malformed JSON", []byte(`{"site": "` + key + `", "visitor_id": `), browser, 400, ""},
		{"not an object", []byte(`["` + fresh + `"]`), browser, 400, ""},
		{"two objects", append(pageView(key, fresh, "https://www.example.com/", true), pageView(key, fresh, "https://www.example.com/", true)...), browser, 400, ""},
		{"oversized body", pageView(key, fresh, "https://www.example.com/?q="+strings.Repeat("a", 5000), true), browser, 413, ""},
		{"missing visitor id", pageView(key, "", "https://www.example.com/", true), browser, 422, "visitor_id"},
		{"short visitor id", pageView(key, "abc123", "https://www.example.com/", true), browser, 422, "visitor_id"},
		{"upper-case visitor id", pageView(key, strings.ToUpper(fresh), "https://www.example.com/", true), browser, 422, "visitor_id"},
		{"missing site", pageView("", fresh, "https://www.example.com/", true), browser, 422, "site"},
		{"unknown site", pageView("nope-nope", fresh, "https://www.example.com/", true), browser, 422, "site"},
		{"relative URL", pageView(key, fresh, "/pricing", true), browser, 422, "url"},
		{"javascript URL", pageView(key, fresh, "javascript:alert(1)", true), browser, 422, "url"},
		{"form content type", pageView(key, fresh, "https://www.example.com/", true),
			map[string]string{"Content-Type": "application/x-www-form-urlencoded", "User-Agent": browserUA}, 415, ""},
		{"origin not allowed", pageView(key, fresh, "https://www.example.com/", true),
			map[string]string{"Content-Type": "text/plain", "User-Agent": browserUA, "Origin": "https://evil.example"}, 403, ""},
		{"page of another origin, no Origin header", pageView(key, fresh, "https://evil.example/", true),
			map[string]string{"Content-Type": "text/plain", "User-Agent": browserUA}, 403, ""},
	}
	for _, c := range refused {
		t.Run(c.name, func(t *testing.T) {
			r := ts.raw(t, "POST", "/t/collect", c.body, c.header)
			problem(t, r, c.status, c.field)
			if r.header.Get("Access-Control-Allow-Origin") != "*" {
				t.Errorf("a refusal without CORS headers: the page cannot read it")
			}
		})
	}
	// Taken but dropped on purpose: answered 204, nothing stored.
	dropped := []struct {
		name   string
		body   []byte
		header map[string]string
	}{
		{"bot user agent", pageView(key, fresh, "https://www.example.com/", true),
			map[string]string{"Content-Type": "text/plain", "User-Agent": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"}},
		{"headless browser", pageView(key, fresh, "https://www.example.com/", true),
			map[string]string{"Content-Type": "text/plain", "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.0.0 Safari/537.36"}},
		{"curl", pageView(key, fresh, "https://www.example.com/", true), map[string]string{"Content-Type": "text/plain", "User-Agent": "curl/8.5.0"}},
		{"no user agent", pageView(key, fresh, "https://www.example.com/", true), map[string]string{"Content-Type": "text/plain", "User-Agent": ""}},
		{"no consent, not implied", pageView(key, fresh, "https://www.example.com/", false), browser},
		{"implied consent but Global Privacy Control", pageView(implied, fresh, "https://shop.example/", false),
			map[string]string{"Content-Type": "text/plain", "User-Agent": browserUA, "Sec-GPC": "1"}},
	}
	for _, c := range dropped {
		t.Run(c.name, func(t *testing.T) {
			if r := ts.raw(t, "POST", "/t/collect", c.body, c.header); r.status != http.StatusNoContent {
				t.Errorf("status %d, want 204: %s", r.status, r.body)
			}
		})
	}
	if v := ts.visits(t, fresh); len(v) != 0 {
		t.Errorf("refused or dropped page views stored %d visits: %+v", len(v), v)
	}
	if _, err := ts.store.Visitor(context.Background(), fresh); leadcycle.ErrorCode(err) != leadcycle.ENotFound {
		t.Errorf("refused or dropped page views created the visitor: %v", err)
	}
	// Implied consent without a statement from the page is enough.
	if r := ts.raw(t, "POST", "/t/collect", pageView(implied, fresh, "https://shop.example/", false), browser); r.status != 204 {
		t.Fatalf("implied consent: %d %s", r.status, r.body)
	}
	if v := ts.visits(t, fresh); len(v) != 1 {
		t.Errorf("implied consent stored %d visits, want 1", len(v))
	}
}

// TestTrackingIdentifiedVisitor follows a visitor from anonymous page views
// through stitching (as a form submission does) to page views recorded as
// interactions of the contact.
func TestTrackingIdentifiedVisitor(t *testing.T) {
	ts := newTestServer(t)
	key := ts.mustSite(t, map[string]any{"name": "Web", "consent_implied": true})["key"].(string)
	hdr := map[string]string{"Content-Type": "text/plain", "User-Agent": browserUA}
	vid := visitorN(1)
	for _, p := range []string{"/", "/pricing", "/demo"} {
		if r := ts.raw(t, "POST", "/t/collect", pageView(key, vid, "https://www.example.com"+p, false), hdr); r.status != 204 {
			t.Fatalf("collect: %d %s", r.status, r.body)
		}
	}
	contact := ts.mustCreate(t, "contacts", map[string]any{"email": "ana@example.com"})
	cid, _ := leadcycle.ParseID(contact)
	n, err := ts.store.StitchVisitor(context.Background(), vid, cid)
	if err != nil || n != 3 {
		t.Fatalf("stitch: %d, %v", n, err)
	}
	if r := ts.raw(t, "POST", "/t/collect", pageView(key, vid, "https://www.example.com/after", false), hdr); r.status != 204 {
		t.Fatalf("collect: %d %s", r.status, r.body)
	}
	r := ts.do(t, "GET", "/api/v1/interactions?type=page_view&contact_id="+contact+"&sort=occurred_at", leadcycle.RoleReadonly, nil)
	items := r.json(t)["items"].([]any)
	if len(items) != 4 {
		t.Fatalf("%d page_view interactions, want 4: %s", len(items), r.body)
	}
	last := items[3].(map[string]any)["properties"].(map[string]any)
	if last["url"] != "https://www.example.com/after" || last["visitor_id"] != vid || last["title"] != "Pricing – Acme" {
		t.Errorf("last page view: %v", last)
	}
	if v := ts.visits(t, vid); len(v) != 0 {
		t.Errorf("%d anonymous visits left", len(v))
	}
}

func TestTrackingSitesAPI(t *testing.T) {
	ts := newTestServer(t)
	site := ts.mustSite(t, map[string]any{"name": "Web", "allowed_origins": []string{"https://www.example.com/"}})
	if !strings.HasPrefix(site["key"].(string), "site_") || site["consent_implied"] != false {
		t.Errorf("created site: %v", site)
	}
	id := site["id"].(string)
	if r := ts.do(t, "GET", "/api/v1/tracking-sites/"+id, leadcycle.RoleMarketer, nil); r.status != 200 {
		t.Errorf("marketer read: %d", r.status)
	}
	problem(t, ts.do(t, "GET", "/api/v1/tracking-sites", leadcycle.RoleReadonly, nil), 403, "")
	problem(t, ts.do(t, "POST", "/api/v1/tracking-sites", leadcycle.RoleMarketer, map[string]any{"name": "x"}), 403, "")
	problem(t, ts.do(t, "PATCH", "/api/v1/tracking-sites/"+id, leadcycle.RoleMarketer, map[string]any{"name": "x"}), 403, "")
	problem(t, ts.do(t, "DELETE", "/api/v1/tracking-sites/"+id, leadcycle.RoleMarketer, nil), 403, "")

	r := ts.do(t, "PATCH", "/api/v1/tracking-sites/"+id, leadcycle.RoleAdmin, map[string]any{"consent_implied": true, "allowed_origins": []string{}})
	if r.status != 200 || r.json(t)["consent_implied"] != true || r.json(t)["key"] != site["key"] {
		t.Errorf("patch: %d %s", r.status, r.body)
	}
	problem(t, ts.do(t, "POST", "/api/v1/tracking-sites", leadcycle.RoleAdmin, map[string]any{"name": "Copy", "key": site["key"]}), 409, "key")
	problem(t, ts.do(t, "POST", "/api/v1/tracking-sites", leadcycle.RoleAdmin, map[string]any{"name": "Bad", "allowed_origins": []string{"example.com"}}), 422, "allowed_origins")
	problem(t, ts.do(t, "POST", "/api/v1/tracking-sites", leadcycle.RoleAdmin, map[string]any{"key": "no name"}), 422, "name")
	problem(t, ts.do(t, "POST", "/api/v1/tracking-sites", leadcycle.RoleAdmin, map[string]any{"name": "x", "secret": "y"}), 400, "secret")
	if r := ts.do(t, "GET", "/api/v1/tracking-sites?key="+site["key"].(string), leadcycle.RoleAdmin, nil); len(r.json(t)["items"].([]any)) != 1 {
		t.Errorf("list by key: %s", r.body)
	}

	// The OpenAPI schema describes exactly what the API returns.
	doc := ts.do(t, "GET", "/api/openapi.json", "", nil).json(t)
	props := doc["components"].(map[string]any)["schemas"].(map[string]any)["TrackingSite"].(map[string]any)["properties"].(map[string]any)
	body := ts.do(t, "GET", "/api/v1/tracking-sites/"+id, leadcycle.RoleAdmin, nil).json(t)
	if got, want := keys(body), keys(props); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("schema TrackingSite has %v; the API returns %v", want, got)
	}
	paths := doc["paths"].(map[string]any)
	for _, p := range []string{"/t.js", "/t/collect", "/o/{token}", "/c/{token}"} {
		for m, op := range paths[p].(map[string]any) {
			if sec, ok := op.(map[string]any)["security"].([]any); !ok || len(sec) != 0 {
				t.Errorf("%s %s is public but documented as needing a key", m, p)
			}
		}
	}

	if r := ts.do(t, "DELETE", "/api/v1/tracking-sites/"+id, leadcycle.RoleAdmin, nil); r.status != 204 {
		t.Errorf("delete: %d", r.status)
	}
}

func TestEmailOpenAndClick(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	signer, err := tracking.LoadSigner(ctx, ts.store, nil)
	if err != nil {
		t.Fatal(err)
	}
	contact := ts.mustCreate(t, "contacts", map[string]any{"email": "ana@example.com"})
	lead := ts.mustCreate(t, "leads", map[string]any{"topic": "Newsletter", "contact_id": contact})
	cid, _ := leadcycle.ParseID(contact)
	lid, _ := leadcycle.ParseID(lead)
	interactions := func(typ string) []any {
		t.Helper()
		r := ts.do(t, "GET", "/api/v1/interactions?type="+typ+"&contact_id="+contact, leadcycle.RoleReadonly, nil)
		return r.json(t)["items"].([]any)
	}

	open, err := signer.OpenToken(cid, "news-1", &lid)
	if err != nil {
		t.Fatal(err)
	}
	r := ts.raw(t, "GET", "/o/"+open, nil, nil)
	if r.status != 200 || r.header.Get("Content-Type") != "image/gif" || !strings.Contains(r.header.Get("Cache-Control"), "no-store") ||
		!strings.Contains(r.header.Get("Cache-Control"), "no-cache") || r.header.Get("Pragma") != "no-cache" {
		t.Fatalf("pixel: %d %v", r.status, r.header)
	}
	img, err := gif.Decode(bytes.NewReader(r.body))
	if err != nil {
		t.Fatalf("pixel is not a GIF: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 1 || b.Dy() != 1 {
		t.Errorf("pixel is %v", b)
	}
	if _, _, _, a := img.At(0, 0).RGBA(); a != 0 {
		t.Errorf("pixel is not transparent: alpha %d", a)
	}
	opens := interactions("email_opened")
	if len(opens) != 1 {
		t.Fatalf("%d opens recorded, want 1", len(opens))
	}
	o := opens[0].(map[string]any)
	if o["lead_id"] != lead || o["properties"].(map[string]any)["email_id"] != "news-1" || o["properties"].(map[string]any)["lead_id"] != lead {
		t.Errorf("open: %v", o)
	}
	// Fetched again at once (mail clients do): still one open.
	ts.raw(t, "GET", "/o/"+open, nil, nil)
	// A link checker's HEAD records nothing.
	if r := ts.raw(t, "HEAD", "/o/"+open, nil, nil); r.status != 200 {
		t.Errorf("HEAD pixel: %d", r.status)
	}
	if n := len(interactions("email_opened")); n != 1 {
		t.Errorf("%d opens after a repeat and a HEAD, want 1", n)
	}

	link := "https://www.example.com/offer?utm_source=email&x=1"
	click, err := signer.ClickToken(cid, "news-1", nil, link)
	if err != nil {
		t.Fatal(err)
	}
	r = ts.raw(t, "GET", "/c/"+click, nil, nil)
	if r.status != http.StatusFound || r.header.Get("Location") != link || !strings.Contains(r.header.Get("Cache-Control"), "no-store") {
		t.Fatalf("click: %d %v", r.status, r.header)
	}
	clicks := interactions("email_clicked")
	if len(clicks) != 1 {
		t.Fatalf("%d clicks recorded, want 1", len(clicks))
	}
	if p := clicks[0].(map[string]any)["properties"].(map[string]any); p["url"] != link || p["email_id"] != "news-1" {
		t.Errorf("click properties: %v", p)
	}

	// Tokens that do not verify: 404, no redirect, nothing recorded.
	other, _ := tracking.NewSigner(bytes.Repeat([]byte{7}, 32), nil)
	forged, _ := other.ClickToken(cid, "news-1", nil, "https://evil.example/phish")
	tampered := []byte(click)
	tampered[len(tampered)/2] ^= 1
	for name, path := range map[string]string{
		"tampered click":         "/c/" + string(tampered),
		"click of another key":   "/c/" + forged,
		"open token as a click":  "/c/" + open,
		"click token as an open": "/o/" + click,
		"garbage click":          "/c/hello",
		"garbage open":           "/o/%2e%2e%2fetc",
		"long click":             "/c/" + strings.Repeat("A", 5000),
	} {
		r := ts.raw(t, "GET", path, nil, nil)
		problem(t, r, 404, "")
		if loc := r.header.Get("Location"); loc != "" {
			t.Errorf("%s: redirects to %s", name, loc)
		}
	}
	if o, c := len(interactions("email_opened")), len(interactions("email_clicked")); o != 1 || c != 1 {
		t.Errorf("after bad tokens: %d opens, %d clicks; want 1 and 1", o, c)
	}

	// A contact who denied tracking: the pixel and the link work, nothing
	// is recorded.
	denied := ts.mustCreate(t, "contacts", map[string]any{"email": "no@example.com", "consent": map[string]any{"tracking": "denied"}})
	did, _ := leadcycle.ParseID(denied)
	dOpen, _ := signer.OpenToken(did, "news-1", nil)
	dClick, _ := signer.ClickToken(did, "news-1", nil, link)
	if r := ts.raw(t, "GET", "/o/"+dOpen, nil, nil); r.status != 200 || r.header.Get("Content-Type") != "image/gif" {
		t.Errorf("denied pixel: %d", r.status)
	}
	if r := ts.raw(t, "GET", "/c/"+dClick, nil, nil); r.status != 302 || r.header.Get("Location") != link {
		t.Errorf("denied click: %d %v", r.status, r.header)
	}
	r = ts.do(t, "GET", "/api/v1/interactions?contact_id="+denied, leadcycle.RoleReadonly, nil)
	if n := len(r.json(t)["items"].([]any)); n != 0 {
		t.Errorf("%d interactions recorded for a contact who denied tracking", n)
	}
}

func TestTrackingRateLimit(t *testing.T) {
	for _, c := range []struct {
		name         string
		method, path string
		body         bool
		sibling      string // a route sharing the bucket
	}{
		{"collector", "POST", "/t/collect", true, "/t.js"},
		{"open pixel", "GET", "/o/garbage", false, "/c/garbage"},
		{"click redirect", "GET", "/c/garbage", false, "/o/garbage"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ts := newTestServer(t)
			var body []byte
			if c.body {
				key := ts.mustSite(t, map[string]any{"name": "Web", "consent_implied": true})["key"].(string)
				body = pageView(key, visitorN(1), "https://www.example.com/", true)
			}
			hdr := map[string]string{"Content-Type": "text/plain", "User-Agent": browserUA}
			first := -1
			var limited response
			for i := range 400 {
				r := ts.raw(t, c.method, c.path, body, hdr)
				if r.status == http.StatusTooManyRequests {
					first, limited = i, r
					break
				}
				if r.status >= 500 {
					t.Fatalf("request %d: %d %s", i, r.status, r.body)
				}
			}
			if first < 0 {
				t.Fatalf("400 requests from one address were never limited")
			}
			if first < 50 {
				t.Errorf("limited after %d requests; the burst should let a page load or a newsletter through", first)
			}
			problem(t, limited, 429, "")
			if limited.header.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
			if r := ts.raw(t, "GET", c.sibling, nil, nil); r.status != http.StatusTooManyRequests {
				t.Errorf("%s does not share the limit of %s: %d", c.sibling, c.path, r.status)
			}
			if r := ts.do(t, "GET", "/api/v1/contacts", leadcycle.RoleAdmin, nil); r.status != 200 {
				t.Errorf("the API is limited with the public endpoints: %d", r.status)
			}
		})
	}
}
