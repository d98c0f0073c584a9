package leadcycle

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Normalize trims the name and URL and drops repeated event types (keeping
// the first of each, in order). It leaves Active as it is.
func (w *Webhook) Normalize() {
	w.Name = strings.TrimSpace(w.Name)
	w.URL = strings.TrimSpace(w.URL)
	if w.Events == nil {
		return
	}
	events := make([]string, 0, len(w.Events))
	for _, e := range w.Events {
		e = strings.TrimSpace(e)
		if !slices.Contains(events, e) {
			events = append(events, e)
		}
	}
	w.Events = events
}

// Validate checks the webhook: a name (at most 200 characters), an absolute
// http or https URL without user info or fragment (at most 2000 characters),
// at least one event type, each "*" or one of EventTypes, and a description
// of at most 2000 characters. Whether the URL's host may be called (private
// addresses) is checked where it is resolved, by package webhook.
func (w *Webhook) Validate() error {
	var v validator
	v.required("name", w.Name)
	v.maxLen("name", w.Name, 200)
	v.required("url", w.URL)
	v.maxLen("url", w.URL, 2000)
	if w.URL != "" {
		if msg := webhookURLProblem(w.URL); msg != "" {
			v.add("url", msg)
		}
	}
	if len(w.Events) == 0 {
		v.add("events", `must list at least one event type, or "*" for every type`)
	}
	allowed := append([]string{"*"}, EventTypes...)
	for i, e := range w.Events {
		v.oneOf("events["+strconv.Itoa(i)+"]", e, allowed)
	}
	v.maxLen("description", w.Description, 2000)
	return v.Err()
}

// webhookURLProblem says what is wrong with a webhook URL, or "".
func webhookURLProblem(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Opaque != "" || u.Hostname() == "" {
		return "must be an absolute http or https URL"
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "must have a port between 1 and 65535"
		}
	}
	if u.User != nil {
		return "must not contain user info (user:password@)"
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return "must not contain a fragment (#...)"
	}
	return ""
}
