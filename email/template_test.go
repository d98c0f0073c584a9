package email

import (
	"errors"
	"strings"
	"testing"
)

func fields() Fields {
	return DefaultFields().Add("contact", "custom.seats")
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		tmpl Template
		want string // full error text
	}{
		{"unknown field", Template{HTML: "<p>\n\n<b>Hello {{contact.frist_name}}"}, `html 3:12: unknown field "contact.frist_name"`},
		{"unknown field after spaces", Template{Text: "Hi {{  lead.nope }}"}, `text 1:8: unknown field "lead.nope"`},
		{"unknown root", Template{Subject: "{{user.name}}"}, `subject 1:3: unknown root "user" in "user.name" (want one of contact, account, lead, sender, consent)`},
		{"bare word", Template{Subject: "{{first_name}}"}, `subject 1:3: unknown placeholder "first_name"`},
		{"unterminated", Template{Text: "ok\nHi {{contact.first_name"}, `text 2:4: unterminated placeholder: missing }}`},
		{"unterminated before next", Template{Text: "{{contact.first_name {{account.name}}"}, `text 1:1: unterminated placeholder: missing }}`},
		{"empty", Template{HTML: "a {{ }}"}, `html 1:6: empty placeholder`},
		{"malformed", Template{HTML: "{{contact.}}"}, `html 1:3: malformed placeholder "contact.": want root.field`},
		{"fallback unquoted", Template{Subject: `{{contact.first_name | there}}`}, `subject 1:24: fallback must be a double-quoted string`},
		{"fallback unterminated", Template{Subject: `{{contact.first_name | "there}}`}, `subject 1:24: unterminated fallback string`},
		{"junk", Template{Subject: `{{contact.first_name "x"}}`}, `subject 1:22: unexpected "\"" in placeholder`},
		{"column counts characters", Template{Text: "Olá 陳 {{contact.nope}}"}, `text 1:9: unknown field "contact.nope"`},
		{"custom field not declared", Template{Text: "{{account.custom.size}}"}, `text 1:3: unknown field "account.custom.size"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseWith(tt.tmpl, fields())
			var te *TemplateError
			if !errors.As(err, &te) {
				t.Fatalf("err = %v, want a *TemplateError", err)
			}
			if err.Error() != tt.want {
				t.Fatalf("err = %q\nwant  %q", err, tt.want)
			}
		})
	}
}

func TestParseAccepts(t *testing.T) {
	c, err := ParseWith(Template{
		Subject: `{{contact.first_name|"there"}}`,
		HTML:    `{{ contact.custom.seats }} {{sender.name}} {{ unsubscribe_url }}`,
		Text:    "{{\n  lead.topic  |  \"a \\\"b\\\" }}\"  }}",
	}, fields())
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(c.Placeholders(), ",")
	if got != "contact.custom.seats,contact.first_name,lead.topic,sender.name,unsubscribe_url" {
		t.Fatalf("placeholders = %s", got)
	}
	if h, tx := c.UsesUnsubscribe(); !h || tx {
		t.Fatalf("UsesUnsubscribe = %v, %v", h, tx)
	}
}

func TestRenderValues(t *testing.T) {
	data := Data{
		"contact": {"first_name": "<script>alert(1)</script>", "custom.seats": "12", "last_name": ""},
		"account": {"name": "Tom & Jerry's"},
	}
	tests := []struct {
		name       string
		tmpl       Template
		subj, text string
		html       string // substring expected in HTML
	}{
		{"escape in html only",
			Template{Subject: "Hi {{contact.first_name}}", HTML: "<p>Hi {{contact.first_name}}</p>", Text: "Hi {{contact.first_name}}"},
			"Hi <script>alert(1)</script>", "Hi <script>alert(1)</script>", "<p>Hi &lt;script&gt;alert(1)&lt;/script&gt;</p>"},
		{"fallback for missing and empty",
			Template{Subject: `{{lead.topic | "your project"}}`, HTML: `<p>{{contact.last_name|"friend"}}</p>`, Text: `{{contact.last_name}}|{{account.country}}|`},
			"your project", "||", "<p>friend</p>"},
		{"fallback escapes",
			Template{Subject: `{{lead.topic | "a\tb \"q\" \\"}}`, HTML: `{{lead.topic | "<b>"}}`, Text: "x"},
			`a b "q" \`, "x", "&lt;b&gt;"},
		{"custom and account",
			Template{Subject: "{{contact.custom.seats}} seats", HTML: "{{account.name}}", Text: "{{account.name}}"},
			"12 seats", "Tom & Jerry's", "Tom &amp; Jerry&#39;s"},
		{"subject line breaks stripped",
			Template{Subject: "{{account.name}}\r\nBcc: x@example.com", Text: "x"},
			"Tom & Jerry's  Bcc: x@example.com", "x", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseWith(tt.tmpl, fields())
			if err != nil {
				t.Fatal(err)
			}
			r, err := c.Render(data, Links{})
			if err != nil {
				t.Fatal(err)
			}
			if r.Subject != tt.subj {
				t.Errorf("subject = %q, want %q", r.Subject, tt.subj)
			}
			if r.Text != tt.text {
				t.Errorf("text = %q, want %q", r.Text, tt.text)
			}
			if !strings.Contains(r.HTML, tt.html) {
				t.Errorf("html = %q, want it to contain %q", r.HTML, tt.html)
			}
		})
	}
}

func track(u string) string { return "https://t.example/c?u=" + u }

func TestRenderLinksPixelFooter(t *testing.T) {
	const unsub = "https://u.example/unsub?t=abc&x=1"
	links := Links{Track: track, OpenPixelURL: "https://t.example/o.gif?id=1&r=2", UnsubscribeURL: unsub}
	data := Data{"contact": {"email": "ana@example.com", "first_name": "Ana"}}
	tests := []struct {
		name     string
		tmpl     Template
		wantHTML string
		wantText string
	}{
		{"personalised url tracked after substitution, pixel and footer before body",
			Template{HTML: `<html><BODY><a href="https://x.example/p?e={{contact.email}}&amp;s=1">Go</a></Body></html>`, Text: "Go https://x.example/p?e={{contact.email}}"},
			`<html><BODY><a href="https://t.example/c?u=https://x.example/p?e=ana@example.com&amp;s=1">Go</a>` +
				`<p style="font-size:12px;color:#666666;margin-top:24px"><a href="https://u.example/unsub?t=abc&amp;x=1" style="color:#666666">Unsubscribe</a></p>` +
				`<img src="https://t.example/o.gif?id=1&amp;r=2" width="1" height="1" alt="" style="display:block;border:0"></Body></html>`,
			"Go https://x.example/p?e=ana@example.com\n\n--\nUnsubscribe: " + unsub + "\n"},
		{"template places unsubscribe itself: no footer, link untouched",
			Template{HTML: `<a href="{{unsubscribe_url}}">Leave</a>`, Text: "Leave: {{unsubscribe_url}}"},
			`<a href="https://u.example/unsub?t=abc&amp;x=1">Leave</a>` +
				`<img src="https://t.example/o.gif?id=1&amp;r=2" width="1" height="1" alt="" style="display:block;border:0">`,
			"Leave: " + unsub},
		{"generated text part",
			Template{HTML: "<html><head><title>T</title><style>p{}</style></head><body><h1>Hello&nbsp;{{contact.first_name}}</h1>\n<p>Read   <a href='https://x.example/a'>our guide</a> or mail <a href=\"mailto:hi@example.com\">hi@example.com</a>.<br>Bye</p><ul><li>One</li><li>Two &amp; three</li></ul><a href=\"{{unsubscribe_url}}\">Unsubscribe</a></body></html>"},
			"", "Hello\u00a0Ana\n\nRead our guide [https://x.example/a] or mail hi@example.com.\nBye\n\n- One\n- Two & three\n\nUnsubscribe [" + unsub + "]\n"},
		{"generated text without unsubscribe gets footer",
			Template{HTML: "<p>Hi</p>"},
			"", "Hi\n\n--\nUnsubscribe: " + unsub + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse(tt.tmpl)
			if err != nil {
				t.Fatal(err)
			}
			r, err := c.Render(data, links)
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantHTML != "" && r.HTML != tt.wantHTML {
				t.Errorf("html = %s\nwant   %s", r.HTML, tt.wantHTML)
			}
			if r.Text != tt.wantText {
				t.Errorf("text = %q\nwant   %q", r.Text, tt.wantText)
			}
		})
	}
}

func TestRenderNoPixelNoUnsubscribe(t *testing.T) {
	c, err := Parse(Template{HTML: "<p>Hi</p>", Text: "Hi"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.Render(nil, Links{})
	if err != nil {
		t.Fatal(err)
	}
	if r.HTML != "<p>Hi</p>" || r.Text != "Hi" {
		t.Fatalf("rendered = %+v", r)
	}
	c, _ = Parse(Template{Text: "{{unsubscribe_url}}"})
	if _, err := c.Render(nil, Links{}); err == nil {
		t.Fatal("want an error for {{unsubscribe_url}} without a URL")
	}
}
