// Package email personalises email templates, builds RFC 5322 messages and
// sends them over SMTP.
//
// A Template holds a subject, an HTML body and a text body with placeholders
// such as {{contact.first_name | "there"}}. Parse or ParseWith checks the
// placeholders once; Compiled.Render fills them for one recipient, rewrites
// links for click tracking, adds the open pixel and makes sure the message
// carries an unsubscribe link. Build turns the result into a MIME message and
// an SMTPSender delivers it.
package email

import (
	"fmt"
	"html"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Template is an email template as the caller stores it.
type Template struct {
	// Subject is the subject line template.
	Subject string
	// HTML is the HTML body template.
	HTML string
	// Text is the plain-text body template; when empty, the text part is
	// generated from the rendered HTML.
	Text string
}

// Fields maps a placeholder root (contact, account, lead, sender) to the set
// of field names allowed under it; custom fields are named "custom.<name>".
type Fields map[string]map[string]bool

// Roots lists the placeholder roots a template may use.
var Roots = []string{"contact", "account", "lead", "sender", "consent"}

// UnsubscribePlaceholder is the special placeholder replaced by the
// recipient's unsubscribe URL.
const UnsubscribePlaceholder = "unsubscribe_url"

// DefaultFields returns the standard fields of contacts, accounts, leads and
// the sender, without any custom field.
func DefaultFields() Fields {
	set := func(names ...string) map[string]bool {
		m := make(map[string]bool, len(names))
		for _, n := range names {
			m[n] = true
		}
		return m
	}
	return Fields{
		"contact": set("first_name", "last_name", "email", "phone", "job_title"),
		"account": set("name", "website", "domain", "industry", "country"),
		"lead":    set("topic", "description", "need", "status", "source", "campaign", "stage"),
		"sender":  set("name", "email"),
		// consent.confirm_url is the link of a double opt-in
		// confirmation message.
		"consent": set("confirm_url"),
	}
}

// Add allows the given field names under root and returns f; it allocates
// the set when needed.
func (f Fields) Add(root string, names ...string) Fields {
	if f[root] == nil {
		f[root] = map[string]bool{}
	}
	for _, n := range names {
		f[root][n] = true
	}
	return f
}

// TemplateError reports a problem in a template at a position of one part.
type TemplateError struct {
	// Part is "subject", "html" or "text".
	Part string
	// Line is the 1-based line of the problem.
	Line int
	// Column is the 1-based column, counted in characters, of the problem.
	Column int
	// Msg describes the problem.
	Msg string
}

// Error returns the error as "part line:column: message".
func (e *TemplateError) Error() string {
	return fmt.Sprintf("%s %d:%d: %s", e.Part, e.Line, e.Column, e.Msg)
}

// segment is a literal (ph == nil) or a placeholder.
type segment struct {
	lit string
	ph  *placeholder
}

type placeholder struct {
	root, field string // root is "" for unsubscribe_url
	fallback    string
}

type part struct {
	segs        []segment
	unsubscribe bool // contains {{unsubscribe_url}}
}

// Compiled is a checked template ready to render; it is safe for concurrent
// use.
type Compiled struct {
	subject, html, text part
	hasText             bool
}

// Parse checks a template against DefaultFields.
func Parse(t Template) (*Compiled, error) {
	return ParseWith(t, DefaultFields())
}

// ParseWith checks a template against the allowed fields and compiles it.
// The error, a *TemplateError, names the part and the position of the first
// problem: an unterminated placeholder, a malformed one, an unknown root or
// an unknown field.
func ParseWith(t Template, fields Fields) (*Compiled, error) {
	c := &Compiled{hasText: strings.TrimSpace(t.Text) != ""}
	var err error
	if c.subject, err = parsePart("subject", t.Subject, fields); err != nil {
		return nil, err
	}
	if c.html, err = parsePart("html", t.HTML, fields); err != nil {
		return nil, err
	}
	if c.text, err = parsePart("text", t.Text, fields); err != nil {
		return nil, err
	}
	return c, nil
}

// UsesUnsubscribe reports whether the HTML and text parts place the
// unsubscribe link themselves.
func (c *Compiled) UsesUnsubscribe() (html, text bool) {
	return c.html.unsubscribe, c.text.unsubscribe
}

// Placeholders returns the distinct "root.field" names the template uses,
// sorted, including "unsubscribe_url" when present.
func (c *Compiled) Placeholders() []string {
	seen := map[string]bool{}
	for _, p := range []part{c.subject, c.html, c.text} {
		for _, s := range p.segs {
			if s.ph == nil {
				continue
			}
			if s.ph.root == "" {
				seen[UnsubscribePlaceholder] = true
			} else {
				seen[s.ph.root+"."+s.ph.field] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// position converts a byte offset of src to a 1-based line and column.
func position(src string, off int) (line, col int) {
	line = 1
	start := 0
	for i := 0; i < off && i < len(src); i++ {
		if src[i] == '\n' {
			line++
			start = i + 1
		}
	}
	return line, utf8.RuneCountInString(src[start:off]) + 1
}

func parsePart(name, src string, fields Fields) (part, error) {
	var p part
	fail := func(off int, format string, args ...any) (part, error) {
		line, col := position(src, off)
		return part{}, &TemplateError{Part: name, Line: line, Column: col, Msg: fmt.Sprintf(format, args...)}
	}
	i := 0
	for {
		j := strings.Index(src[i:], "{{")
		if j < 0 {
			if i < len(src) {
				p.segs = append(p.segs, segment{lit: src[i:]})
			}
			return p, nil
		}
		open := i + j
		if open > i {
			p.segs = append(p.segs, segment{lit: src[i:open]})
		}
		k := open + 2
		skip := func() {
			for k < len(src) && (src[k] == ' ' || src[k] == '\t' || src[k] == '\n' || src[k] == '\r') {
				k++
			}
		}
		skip()
		nameStart := k
		for k < len(src) && (isIdent(src[k]) || src[k] == '.') {
			k++
		}
		path := src[nameStart:k]
		skip()
		ph := &placeholder{}
		if k < len(src) && src[k] == '|' {
			k++
			skip()
			if k >= len(src) || src[k] != '"' {
				if k >= len(src) {
					return fail(open, "unterminated placeholder: missing }}")
				}
				return fail(k, "fallback must be a double-quoted string")
			}
			q := k
			k++
			for k < len(src) && src[k] != '"' {
				if src[k] == '\\' {
					k++
				}
				k++
			}
			if k >= len(src) {
				return fail(q, "unterminated fallback string")
			}
			k++
			s, err := strconv.Unquote(src[q:k])
			if err != nil {
				return fail(q, "invalid fallback string %s", src[q:k])
			}
			ph.fallback = s
			skip()
		}
		if !strings.HasPrefix(src[k:], "}}") {
			if k >= len(src) || strings.HasPrefix(src[k:], "{{") {
				return fail(open, "unterminated placeholder: missing }}")
			}
			if end := strings.Index(src[k:], "}}"); end < 0 {
				return fail(open, "unterminated placeholder: missing }}")
			}
			return fail(k, "unexpected %q in placeholder", nextChar(src[k:]))
		}
		if path == "" {
			return fail(nameStart, "empty placeholder")
		}
		if path == UnsubscribePlaceholder {
			p.unsubscribe = true
		} else {
			root, field, ok := strings.Cut(path, ".")
			if !ok || field == "" || root == "" || strings.HasPrefix(field, ".") || strings.HasSuffix(field, ".") {
				if !ok && !isRoot(root) {
					return fail(nameStart, "unknown placeholder %q", path)
				}
				return fail(nameStart, "malformed placeholder %q: want root.field", path)
			}
			if !isRoot(root) {
				return fail(nameStart, "unknown root %q in %q (want one of %s)", root, path, strings.Join(Roots, ", "))
			}
			if !fields[root][field] {
				return fail(nameStart, "unknown field %q", path)
			}
			ph.root, ph.field = root, field
		}
		p.segs = append(p.segs, segment{ph: ph})
		i = k + 2
	}
}

func nextChar(s string) string {
	r, _ := utf8.DecodeRuneInString(s)
	return string(r)
}

func isIdent(b byte) bool {
	return b == '_' || b == '-' || 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9'
}

func isRoot(s string) bool {
	for _, r := range Roots {
		if r == s {
			return true
		}
	}
	return false
}

// Data holds the values of one recipient: root → field → value, with custom
// fields under "custom.<name>".
type Data map[string]map[string]string

// Links says how to rewrite and complete the links of a rendered message.
type Links struct {
	// Track returns the tracked form of an absolute http(s) link of the HTML
	// part; nil leaves links unchanged.
	Track func(url string) string
	// OpenPixelURL is the address of the 1×1 open-tracking image; "" adds none.
	OpenPixelURL string
	// UnsubscribeURL is the recipient's unsubscribe address. It replaces
	// {{unsubscribe_url}} and is added as a footer to a part that lacks it.
	UnsubscribeURL string
	// UnsubscribeLabel is the text of the added unsubscribe footer link;
	// "" means "Unsubscribe".
	UnsubscribeLabel string
}

// Rendered is a template filled for one recipient.
type Rendered struct {
	// Subject is the subject line, without CR or LF.
	Subject string
	// HTML is the HTML body with tracked links, the footer and the pixel.
	HTML string
	// Text is the plain-text body with the unsubscribe footer.
	Text string
}

// render fills a part; esc escapes values (HTML) or not.
func (p part) render(data Data, unsub string, esc func(string) string) string {
	var b strings.Builder
	for _, s := range p.segs {
		if s.ph == nil {
			b.WriteString(s.lit)
			continue
		}
		var v string
		if s.ph.root == "" {
			v = unsub
		} else {
			v = data[s.ph.root][s.ph.field]
		}
		if strings.TrimSpace(v) == "" {
			v = s.ph.fallback
		}
		b.WriteString(esc(v))
	}
	return b.String()
}

// Render fills the template for one recipient. Values are HTML-escaped in the
// HTML part and kept as they are in the subject and text; a missing or empty
// value takes the placeholder's fallback, or "" without one. Links of the
// HTML part are then rewritten by links.Track, the unsubscribe footer is
// appended to a part that does not place {{unsubscribe_url}} itself and the
// open pixel is added. Render fails when the template uses
// {{unsubscribe_url}} but links.UnsubscribeURL is empty.
func (c *Compiled) Render(data Data, links Links) (Rendered, error) {
	if links.UnsubscribeURL == "" && (c.subject.unsubscribe || c.html.unsubscribe || c.text.unsubscribe) {
		return Rendered{}, fmt.Errorf("email: the template uses {{%s}} but no unsubscribe URL was given", UnsubscribePlaceholder)
	}
	raw := func(s string) string { return s }
	var r Rendered
	r.Subject = cleanSubject(c.subject.render(data, links.UnsubscribeURL, raw))
	htmlBody := c.html.render(data, links.UnsubscribeURL, html.EscapeString)
	label := links.UnsubscribeLabel
	if label == "" {
		label = "Unsubscribe"
	}
	if c.hasText {
		r.Text = c.text.render(data, links.UnsubscribeURL, raw)
		if links.UnsubscribeURL != "" && !c.text.unsubscribe {
			r.Text = textFooter(r.Text, label, links.UnsubscribeURL)
		}
	} else if htmlBody != "" {
		r.Text = HTMLToText(htmlBody)
		if links.UnsubscribeURL != "" && !strings.Contains(r.Text, links.UnsubscribeURL) {
			r.Text = textFooter(r.Text, label, links.UnsubscribeURL)
		}
	}
	if htmlBody != "" {
		if links.Track != nil {
			htmlBody = RewriteLinks(htmlBody, func(u string) (string, bool) {
				if u == links.UnsubscribeURL || !isTrackable(u) {
					return "", false
				}
				return links.Track(u), true
			})
		}
		if links.UnsubscribeURL != "" && !c.html.unsubscribe {
			htmlBody = beforeBody(htmlBody, `<p style="font-size:12px;color:#666666;margin-top:24px">`+
				`<a href="`+html.EscapeString(links.UnsubscribeURL)+`" style="color:#666666">`+html.EscapeString(label)+`</a></p>`)
		}
		if links.OpenPixelURL != "" {
			htmlBody = beforeBody(htmlBody, `<img src="`+html.EscapeString(links.OpenPixelURL)+
				`" width="1" height="1" alt="" style="display:block;border:0">`)
		}
	}
	r.HTML = htmlBody
	return r, nil
}

func textFooter(text, label, url string) string {
	return strings.TrimRight(text, " \t\r\n") + "\n\n--\n" + label + ": " + url + "\n"
}

// cleanSubject replaces line breaks and other control characters by spaces.
func cleanSubject(s string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' || r == '\t' || r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s))
}

// beforeBody inserts s before the last </body> (any case) or appends it.
func beforeBody(doc, s string) string {
	if i := lastIndexFold(doc, "</body"); i >= 0 {
		return doc[:i] + s + doc[i:]
	}
	return doc + s
}

// lastIndexFold is strings.LastIndex with ASCII case folding; sub must be
// lower-case ASCII.
func lastIndexFold(s, sub string) int {
	for i := len(s) - len(sub); i >= 0; i-- {
		if hasPrefixFold(s[i:], sub) {
			return i
		}
	}
	return -1
}

// hasPrefixFold reports whether s starts with the lower-case ASCII prefix,
// ignoring ASCII case.
func hasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != prefix[i] {
			return false
		}
	}
	return true
}
