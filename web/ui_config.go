package web

import (
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/leadcycle/leadcycle"
)

// The marketing configuration screens: forms (with a form builder, a
// preview, the embed code and the recent submissions), matching strategies,
// business processes (a readable rendering and a JSON editor) and webhooks
// (the secret shown once, deliveries and retries). Every change goes through
// the JSON API, so roles and validation are the API's; its field errors come
// back onto the forms.

func (s *Server) registerConfigPages() {
	s.registerFormPages()
	s.registerStrategyPages()
	s.registerProcessPages()
	s.registerWebhookPages()
}

// configProblem shows a form again with the problem of an API call: its
// message, its field errors and the status of its code. Errors that are not
// about the submitted values are returned for the error page.
func configProblem(p *page, err error) error {
	switch leadcycle.ErrorCode(err) {
	case leadcycle.EInvalid, leadcycle.EMalformed, leadcycle.EConflict, leadcycle.EUnsupported, leadcycle.ETooLarge:
	default:
		return err
	}
	p.Error = leadcycle.ErrorMessage(err)
	for _, f := range leadcycle.ErrorFields(err) {
		if prev, ok := p.FieldErrors[f.Field]; ok && prev != f.Message {
			p.FieldErrors[f.Field] = prev + "; " + f.Message
			continue
		}
		p.FieldErrors[f.Field] = f.Message
	}
	p.Status = StatusCode(leadcycle.ErrorCode(err))
	return nil
}

// cfgChecked reads a checkbox of a form.
func cfgChecked(v map[string][]string, name string) bool {
	for _, s := range v[name] {
		if s == "true" || s == "on" || s == "1" {
			return true
		}
	}
	return false
}

// cfgBool is a checkbox's form value.
func cfgBool(b bool) string {
	if b {
		return "true"
	}
	return ""
}

// cfgList splits a comma (or line) separated list, trimmed, without
// empty items.
func cfgList(s string) []string {
	out := []string{}
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' }) {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// cfgIndexedPath and cfgSplitPath read an API field path of a list item, "fields[2].name",
// into the list, the index and the rest ("name"; "" for the item itself).
var cfgIndexedPath = regexp.MustCompile(`^([a-z_]+)\[(\d+)\](?:\.(.*))?$`)

func cfgSplitPath(path string) (list string, index int, rest string, ok bool) {
	m := cfgIndexedPath.FindStringSubmatch(path)
	if m == nil {
		return "", 0, "", false
	}
	n, err := strconv.Atoi(m[2])
	if err != nil {
		return "", 0, "", false
	}
	return m[1], n, m[3], true
}

// cfgRowIndexes lists the row numbers of a repeated group of inputs in a
// submitted form ("fields.3.name" is row 3 of group "fields"), in order.
func cfgRowIndexes(v map[string][]string, group string) []int {
	var out []int
	for k := range v {
		rest, ok := strings.CutPrefix(k, group+".")
		if !ok {
			continue
		}
		num, _, ok := strings.Cut(rest, ".")
		if !ok {
			continue
		}
		n, err := strconv.Atoi(num)
		if err != nil || n < 0 || n > 200 || slices.Contains(out, n) {
			continue
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// cfgRowValue is one input of a row of a repeated group.
func cfgRowValue(v map[string][]string, group string, row int, name string) string {
	vals := v[group+"."+strconv.Itoa(row)+"."+name]
	if len(vals) == 0 {
		return ""
	}
	return strings.TrimSpace(vals[len(vals)-1])
}

// publicBase is the address the public pages (hosted forms, the embed
// script) are reached at, as this request reached the server.
func (s *Server) publicBase(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || s.secureCookies || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// cfgMoveRow applies a reorder button of a group ("fields.up.3",
// "fields.down.0") to its rows; it reports whether do was such a button.
func cfgMoveRow[T any](rows []T, group, do string) bool {
	do, ok := strings.CutPrefix(do, group+".")
	if !ok {
		return false
	}
	dir, num, ok := strings.Cut(do, ".")
	if !ok || (dir != "up" && dir != "down") {
		return false
	}
	i, err := strconv.Atoi(num)
	if err != nil || i < 0 || i >= len(rows) {
		return true
	}
	j := i - 1
	if dir == "down" {
		j = i + 1
	}
	if j >= 0 && j < len(rows) {
		rows[i], rows[j] = rows[j], rows[i]
	}
	return true
}
