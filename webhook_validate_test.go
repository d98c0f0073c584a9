package leadcycle_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/leadcycle/leadcycle"
)

func TestWebhookNormalize(t *testing.T) {
	w := leadcycle.Webhook{
		Name:   "  CRM sync ",
		URL:    " https://hooks.example.com/leadcycle\n",
		Events: []string{"lead.created", " lead.created", "*", "lead.qualified", "*"},
	}
	w.Normalize()
	if w.Name != "CRM sync" || w.URL != "https://hooks.example.com/leadcycle" {
		t.Errorf("not trimmed: %q %q", w.Name, w.URL)
	}
	if want := []string{"lead.created", "*", "lead.qualified"}; !slices.Equal(w.Events, want) {
		t.Errorf("events %q, want %q", w.Events, want)
	}
	if w.Active {
		t.Error("Normalize changed Active")
	}
	active := leadcycle.Webhook{Active: true}
	active.Normalize()
	if !active.Active || active.Events != nil {
		t.Errorf("normalized %+v", active)
	}
}

func TestWebhookValidate(t *testing.T) {
	valid := func() leadcycle.Webhook {
		return leadcycle.Webhook{
			Name:   "CRM sync",
			URL:    "https://hooks.example.com/leadcycle?source=lc",
			Events: []string{leadcycle.EventLeadCreated, leadcycle.EventLeadQualified},
		}
	}
	for _, w := range []leadcycle.Webhook{
		valid(),
		func() leadcycle.Webhook { w := valid(); w.Events = []string{"*"}; return w }(),
		func() leadcycle.Webhook { w := valid(); w.URL = "http://10.0.0.5:8080/hook"; return w }(),
		func() leadcycle.Webhook { w := valid(); w.URL = "HTTPS://[2001:db8::1]/hook"; return w }(),
		func() leadcycle.Webhook { w := valid(); w.Events = slices.Clone(leadcycle.EventTypes); return w }(),
	} {
		if err := w.Validate(); err != nil {
			t.Errorf("%+v: %v", w, err)
		}
	}

	cases := []struct {
		name  string
		edit  func(*leadcycle.Webhook)
		field string
		msg   string
	}{
		{"no name", func(w *leadcycle.Webhook) { w.Name = " " }, "name", "is required"},
		{"long name", func(w *leadcycle.Webhook) { w.Name = strings.Repeat("n", 201) }, "name", "at most 200"},
		{"no url", func(w *leadcycle.Webhook) { w.URL = "" }, "url", "is required"},
		{"relative url", func(w *leadcycle.Webhook) { w.URL = "/hooks/leadcycle" }, "url", "absolute http or https"},
		{"no host", func(w *leadcycle.Webhook) { w.URL = "https:///path" }, "url", "absolute http or https"},
		{"opaque", func(w *leadcycle.Webhook) { w.URL = "https:hooks.example.com" }, "url", "absolute http or https"},
		{"ftp", func(w *leadcycle.Webhook) { w.URL = "ftp://hooks.example.com/x" }, "url", "absolute http or https"},
		{"javascript", func(w *leadcycle.Webhook) { w.URL = "javascript:alert(1)" }, "url", "absolute http or https"},
		{"unparsable", func(w *leadcycle.Webhook) { w.URL = "https://hooks example.com/" }, "url", "absolute http or https"},
		{"user info", func(w *leadcycle.Webhook) { w.URL = "https://user:pw@hooks.example.com/" }, "url", "user info"},
		{"fragment", func(w *leadcycle.Webhook) { w.URL = "https://hooks.example.com/x#frag" }, "url", "fragment"},
		{"empty fragment", func(w *leadcycle.Webhook) { w.URL = "https://hooks.example.com/x#" }, "url", "fragment"},
		{"bad port", func(w *leadcycle.Webhook) { w.URL = "https://hooks.example.com:70000/" }, "url", "port"},
		{"long url", func(w *leadcycle.Webhook) { w.URL = "https://hooks.example.com/" + strings.Repeat("p", 2000) }, "url", "at most 2000"},
		{"no events", func(w *leadcycle.Webhook) { w.Events = nil }, "events", "at least one event type"},
		{"unknown event", func(w *leadcycle.Webhook) { w.Events = []string{"lead.created", "lead.deleted"} }, "events[1]", "must be one of: *, lead.created"},
		{"empty event", func(w *leadcycle.Webhook) { w.Events = []string{""} }, "events[0]", "must be one of"},
		{"long description", func(w *leadcycle.Webhook) { w.Description = strings.Repeat("d", 2001) }, "description", "at most 2000"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := valid()
			c.edit(&w)
			err := w.Validate()
			if err == nil {
				t.Fatalf("%+v accepted", w)
			}
			found := false
			for _, f := range leadcycle.ErrorFields(err) {
				if f.Field == c.field && strings.Contains(f.Message, c.msg) {
					found = true
				}
			}
			if !found {
				t.Errorf("error %v (fields %+v) lacks %s: %q", err, leadcycle.ErrorFields(err), c.field, c.msg)
			}
		})
	}

	// The message for an unknown event lists every allowed value.
	w := valid()
	w.Events = []string{"nope"}
	msg := leadcycle.ErrorFields(w.Validate())[0].Message
	for _, e := range leadcycle.EventTypes {
		if !strings.Contains(msg, e) {
			t.Errorf("message %q does not list %s", msg, e)
		}
	}
}
