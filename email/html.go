package email

import (
	"html"
	"net/url"
	"strings"
)

// token is a run of text or a tag found by scanHTML.
type token struct {
	start, end int    // byte span in the document
	tag        bool   // a tag (or comment, doctype) rather than text
	name       string // lower-case tag name; "" for comments and doctypes
	closing    bool   // </name>
	raw        bool   // text inside script, style, title or textarea
	attrs      []attr
}

// attr is one attribute of a tag; vs:ve is the value's span without quotes.
type attr struct {
	name   string // lower-case
	val    string // raw (still entity-encoded) value
	vs, ve int
	quote  byte // '"', '\'' or 0
	hasVal bool
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'
}

func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// scanHTML splits doc into text runs and tags, calling fn for each in order.
// It is a forgiving scanner, not a full HTML parser: it understands
// comments, doctypes, end tags, attribute values in double, single or no
// quotes, and the raw-text content of script, style, title and textarea.
func scanHTML(doc string, fn func(token)) {
	i, textStart := 0, 0
	flush := func(end int, raw bool) {
		if end > textStart {
			fn(token{start: textStart, end: end, raw: raw})
		}
	}
	for i < len(doc) {
		if doc[i] != '<' {
			i++
			continue
		}
		rest := doc[i:]
		switch {
		case strings.HasPrefix(rest, "<!--"):
			flush(i, false)
			end := strings.Index(rest[4:], "-->")
			e := len(doc)
			if end >= 0 {
				e = i + 4 + end + 3
			}
			fn(token{start: i, end: e, tag: true})
			i, textStart = e, e
		case strings.HasPrefix(rest, "<!") || strings.HasPrefix(rest, "<?"):
			flush(i, false)
			e := len(doc)
			if end := strings.IndexByte(rest, '>'); end >= 0 {
				e = i + end + 1
			}
			fn(token{start: i, end: e, tag: true})
			i, textStart = e, e
		case len(rest) > 2 && rest[1] == '/' && isAlpha(rest[2]):
			flush(i, false)
			t := parseTag(doc, i, i+2)
			t.closing = true
			fn(t)
			i, textStart = t.end, t.end
		case len(rest) > 1 && isAlpha(rest[1]):
			flush(i, false)
			t := parseTag(doc, i, i+1)
			fn(t)
			i, textStart = t.end, t.end
			switch t.name {
			case "script", "style", "title", "textarea":
				e := len(doc)
				if j := indexFold(doc[i:], "</"+t.name); j >= 0 {
					e = i + j
				}
				flush(e, true)
				i, textStart = e, e
			}
		default:
			i++
		}
	}
	flush(len(doc), false)
}

// parseTag parses the tag starting at start whose name begins at n.
func parseTag(doc string, start, n int) token {
	t := token{start: start, tag: true}
	i := n
	for i < len(doc) && !isSpace(doc[i]) && doc[i] != '/' && doc[i] != '>' {
		i++
	}
	t.name = strings.ToLower(doc[n:i])
	for {
		for i < len(doc) && (isSpace(doc[i]) || doc[i] == '/') {
			i++
		}
		if i >= len(doc) {
			t.end = len(doc)
			return t
		}
		if doc[i] == '>' {
			t.end = i + 1
			return t
		}
		ns := i
		i++ // an attribute name may start with '='
		for i < len(doc) && !isSpace(doc[i]) && doc[i] != '/' && doc[i] != '>' && doc[i] != '=' {
			i++
		}
		a := attr{name: strings.ToLower(doc[ns:i])}
		j := i
		for j < len(doc) && isSpace(doc[j]) {
			j++
		}
		if j < len(doc) && doc[j] == '=' {
			j++
			for j < len(doc) && isSpace(doc[j]) {
				j++
			}
			a.hasVal = true
			if j < len(doc) && (doc[j] == '"' || doc[j] == '\'') {
				a.quote = doc[j]
				a.vs = j + 1
				e := strings.IndexByte(doc[a.vs:], a.quote)
				if e < 0 {
					a.ve = len(doc)
					i = len(doc)
				} else {
					a.ve = a.vs + e
					i = a.ve + 1
				}
			} else {
				a.vs = j
				for j < len(doc) && !isSpace(doc[j]) && doc[j] != '>' {
					j++
				}
				a.ve = j
				i = j
			}
			a.val = doc[a.vs:a.ve]
		}
		t.attrs = append(t.attrs, a)
	}
}

// indexFold is strings.Index with ASCII case folding; sub must be lower-case.
func indexFold(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if hasPrefixFold(s[i:], sub) {
			return i
		}
	}
	return -1
}

// href returns the first href attribute of an opening <a> tag.
func (t token) href() (attr, bool) {
	if !t.tag || t.closing || t.name != "a" {
		return attr{}, false
	}
	for _, a := range t.attrs {
		if a.name == "href" && a.hasVal {
			return a, true
		}
	}
	return attr{}, false
}

// RewriteLinks calls rewrite with the decoded, trimmed value of the href of
// every <a> element of doc; when it returns true, the value is replaced by
// the returned URL, HTML-escaped and double-quoted. Everything else is copied
// unchanged.
func RewriteLinks(doc string, rewrite func(url string) (string, bool)) string {
	var b strings.Builder
	last := 0
	scanHTML(doc, func(t token) {
		a, ok := t.href()
		if !ok {
			return
		}
		u := strings.TrimSpace(html.UnescapeString(a.val))
		nu, ok := rewrite(u)
		if !ok {
			return
		}
		s, e := a.vs, a.ve
		if a.quote != 0 {
			s--
			if e < len(doc) {
				e++
			}
		}
		b.WriteString(doc[last:s])
		b.WriteString(`"` + html.EscapeString(nu) + `"`)
		last = e
	})
	if last == 0 {
		return doc
	}
	b.WriteString(doc[last:])
	return b.String()
}

// isTrackable reports whether u is an absolute http or https URL.
func isTrackable(u string) bool {
	if !hasPrefixFold(u, "http://") && !hasPrefixFold(u, "https://") {
		return false
	}
	p, err := url.Parse(u)
	return err == nil && p.Host != ""
}

// textWriter collapses white space and counts line breaks.
type textWriter struct {
	b         strings.Builder
	space     bool // a space is pending
	newlines  int  // trailing newlines written
	started   bool // something was written
	lineStart bool // the last byte written is a newline
}

func (w *textWriter) text(s string) {
	for _, r := range s {
		if r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f' {
			w.space = true
			continue
		}
		if w.space && w.started && !w.lineStart {
			w.b.WriteByte(' ')
		}
		w.space = false
		w.b.WriteRune(r)
		w.newlines = 0
		w.started = true
		w.lineStart = false
	}
}

func (w *textWriter) raw(s string) {
	w.b.WriteString(s)
	w.space = false
	w.newlines = 0
	w.started = true
	w.lineStart = false
}

func (w *textWriter) breakLine(n int) {
	if !w.started {
		return
	}
	for w.newlines < n {
		w.newline()
	}
	w.space = false
}

func (w *textWriter) newline() {
	w.b.WriteByte('\n')
	w.newlines++
	w.lineStart = true
	w.space = false
}

// HTMLToText turns an HTML body into readable plain text: tags are removed,
// entities decoded, white space collapsed, blocks separated by line breaks,
// list items prefixed by "- " and link targets kept in brackets after the
// link text.
func HTMLToText(doc string) string {
	var w textWriter
	skip := 0 // inside <head>
	var linkURL string
	linkStart := -1
	scanHTML(doc, func(t token) {
		if !t.tag {
			if t.raw || skip > 0 {
				return
			}
			w.text(html.UnescapeString(doc[t.start:t.end]))
			return
		}
		switch t.name {
		case "head":
			if t.closing {
				skip = 0
			} else {
				skip = 1
			}
		case "br":
			if w.started {
				w.newline()
			}
		case "p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "blockquote":
			w.breakLine(2)
		case "div", "tr", "section", "header", "footer", "article", "center", "dl", "dt", "dd":
			w.breakLine(1)
		case "li":
			if !t.closing {
				w.breakLine(1)
				w.raw("- ")
				w.space = false
			}
		case "td", "th":
			if !t.closing {
				w.space = true
			}
		case "hr":
			w.breakLine(1)
			w.raw("---")
			w.breakLine(1)
		case "a":
			if !t.closing {
				if a, ok := t.href(); ok {
					u := strings.TrimSpace(html.UnescapeString(a.val))
					if isTrackable(u) || hasPrefixFold(u, "mailto:") {
						linkURL, linkStart = u, w.b.Len()
					}
				}
				return
			}
			if linkStart >= 0 {
				label := strings.TrimSpace(w.b.String()[min(linkStart, w.b.Len()):])
				target := strings.TrimPrefix(linkURL, "mailto:")
				if label != linkURL && label != target {
					w.space = label != ""
					w.text("[" + linkURL + "]")
				}
				linkURL, linkStart = "", -1
			}
		}
	})
	lines := strings.Split(w.b.String(), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.TrimSpace(strings.Join(lines, "\n")) + "\n"
}
