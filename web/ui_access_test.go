package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/leadcycle/leadcycle"
	"golang.org/x/net/html"
)

// checkAccessible fails for what keyboard and screen-reader users cannot
// use: a page without a language, a form control without a label, an
// image without a text, a button without a name, or an inline style or
// script that the pages' Content-Security-Policy would block.
func checkAccessible(t *testing.T, path, body string) {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	labels := map[string]bool{}
	var controls []*html.Node
	var walk func(n *html.Node, inLabel bool)
	walk = func(n *html.Node, inLabel bool) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "html":
				if attr(n, "lang") == "" {
					t.Errorf("%s: <html> has no lang", path)
				}
			case "label":
				if f := attr(n, "for"); f != "" {
					labels[f] = true
				}
				inLabel = true
			case "input", "select", "textarea":
				if attr(n, "type") != "hidden" && attr(n, "type") != "submit" && !inLabel {
					controls = append(controls, n)
				}
			case "img":
				if _, ok := attrOK(n, "alt"); !ok {
					t.Errorf("%s: <img> without alt", path)
				}
			case "button":
				if strings.TrimSpace(textContent(n)) == "" && attr(n, "aria-label") == "" {
					t.Errorf("%s: a button without a name", path)
				}
			case "script":
				if attr(n, "src") == "" {
					t.Errorf("%s: an inline script", path)
				}
			}
			if _, ok := attrOK(n, "style"); ok {
				t.Errorf("%s: an inline style on <%s>", path, n.Data)
			}
			for _, a := range n.Attr {
				if strings.HasPrefix(a.Key, "on") {
					t.Errorf("%s: an inline event handler %s on <%s>", path, a.Key, n.Data)
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, inLabel)
		}
	}
	walk(doc, false)
	for _, c := range controls {
		id := attr(c, "id")
		if (id == "" || !labels[id]) && attr(c, "aria-label") == "" && attr(c, "aria-labelledby") == "" {
			t.Errorf("%s: <%s name=%q> has no label", path, c.Data, attr(c, "name"))
		}
	}
}

func attr(n *html.Node, key string) string {
	v, _ := attrOK(n, key)
	return v
}

func attrOK(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func textContent(n *html.Node) string {
	if n.Type == html.TextNode {
		return n.Data
	}
	var b strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		b.WriteString(textContent(c))
	}
	return b.String()
}

// TestPagesAreAccessible opens every page an admin can open, on a database
// with one record of each kind, and checks each with checkAccessible.
func TestPagesAreAccessible(t *testing.T) {
	ts := newTestServer(t)
	mustUser(t, ts.store, "admin@example.gal", "Admin", leadcycle.RoleAdmin)
	l := seedLead(t, ts, "Demo", "Uxia", func(l *leadcycle.Lead) { l.SalesReady = true })
	seedLead(t, ts, "Other", "Breixo", nil)
	// Segments of both kinds, so that their pages are opened too.
	ts.mustCreate(t, "segments", map[string]any{"name": "Webinar", "key": "webinar", "kind": "static"})
	dyn := ts.mustCreate(t, "segments", map[string]any{"name": "Webinar CTOs", "query": `in_segment("webinar") and job_title == "CTO"`})
	// A journey and an email template, so that their pages are opened too.
	tmpl := ts.mustCreate(t, "email-templates", map[string]any{"name": "Offer", "subject": "Tins", "html": "<p>Hi {{contact.first_name | \"there\"}}</p>"})
	jid := ts.mustCreate(t, "journeys", map[string]any{"name": "Nurture", "entry": map[string]any{"kind": "trigger", "trigger": "lead_created"},
		"steps": []map[string]any{{"id": "mail", "type": "send_email", "email_id": tmpl}, {"id": "w", "type": "wait", "duration": "3d"}}})
	// A suppressed address, so that its row and Remove button are checked.
	ts.do(t, "POST", "/api/v1/suppressions", leadcycle.RoleMarketer, map[string]any{"email": "xoan@example.gal", "reason": "bounce", "detail": "550"})
	c := ts.login(t, "admin@example.gal")
	checked := 0
	for _, rt := range ts.web.PageRoutes() {
		if rt.Method != "GET" {
			continue
		}
		path := strings.NewReplacer("{id}", "1", "{$}", "", "{key}", "telesales").Replace(rt.Path)
		r := c.get(path)
		if r.status == http.StatusNotFound && strings.Contains(rt.Path, "{") {
			continue // no record of that kind in this database
		}
		if r.status != http.StatusOK || !strings.HasPrefix(r.body, "<!doctype html>") {
			if !strings.HasSuffix(path, ".csv") {
				t.Errorf("%s: %d", path, r.status)
			}
			continue
		}
		checkAccessible(t, path, r.body)
		checked++
	}
	for _, path := range []string{"/leads?view=sales", "/leads/" + l.ID.String() + "?stage=sales_acceptance", "/leads/" + l.ID.String() + "?qualify=1",
		"/segments", "/segments/new", "/segments/" + dyn, "/segments/" + dyn + "/delete",
		"/journeys", "/journeys/new", "/journeys/" + jid, "/journeys/" + jid + "/edit", "/email-templates", "/email-templates/new", "/email-templates/" + tmpl,
		"/email-sends", "/email-sends?status=queued", "/suppressions"} {
		checkAccessible(t, path, c.get(path).body)
	}
	if checked < 15 {
		t.Fatalf("only %d pages checked", checked)
	}
	// The login page too.
	anon := &browserClient{t: t, base: ts.URL, http: &http.Client{}}
	checkAccessible(t, "/login", anon.get("/login").body)
}
