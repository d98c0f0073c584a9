package email

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 3, 14, 9, 30, 0, 0, time.FixedZone("CET", 3600))

func sampleMessage() Message {
	return Message{
		From:              mail.Address{Name: "Ánxela 陳", Address: "news@mail.example.gal"},
		To:                mail.Address{Name: "Xoán Núñez", Address: "xoan@example.com"},
		Subject:           "Ola Ánxela 陳, benvida á nosa newsletter de primavera con ofertas especiais",
		HTML:              "<p>Ola <b>Ánxela</b> — " + strings.Repeat("texto longo ", 12) + "</p>\n<p>=fin.</p>",
		Text:              "Ola Ánxela\n.\nliña dous\n",
		UnsubscribeURL:    "https://u.example/off?t=1",
		UnsubscribeMailto: "unsub@mail.example.gal",
		Headers:           map[string]string{"X-Campaign": "Primavera ñ"},
	}
}

func TestBuildRoundTrip(t *testing.T) {
	raw, err := Build(sampleMessage(), now)
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.SplitAfter(string(raw), "\n") {
		if line != "" && !strings.HasSuffix(line, "\r\n") {
			t.Fatalf("line %d lacks CRLF: %q", i, line)
		}
		if len(line) > 200 {
			t.Fatalf("line %d too long: %d", i, len(line))
		}
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	h := msg.Header
	dec := new(mime.WordDecoder)
	subj, err := dec.DecodeHeader(h.Get("Subject"))
	if err != nil || subj != sampleMessage().Subject {
		t.Errorf("subject = %q, %v", subj, err)
	}
	from, err := h.AddressList("From")
	if err != nil || len(from) != 1 || from[0].Name != "Ánxela 陳" || from[0].Address != "news@mail.example.gal" {
		t.Errorf("from = %v, %v", from, err)
	}
	to, err := h.AddressList("To")
	if err != nil || to[0].Name != "Xoán Núñez" {
		t.Errorf("to = %v, %v", to, err)
	}
	if d, err := h.Date(); err != nil || !d.Equal(now) {
		t.Errorf("date = %v, %v", d, err)
	}
	if id := h.Get("Message-ID"); !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@mail.example.gal>") || len(id) < 30 {
		t.Errorf("message-id = %q", id)
	}
	want := map[string]string{
		"MIME-Version":          "1.0",
		"List-Unsubscribe":      "<https://u.example/off?t=1>, <mailto:unsub@mail.example.gal>",
		"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
	}
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if c, _ := dec.DecodeHeader(h.Get("X-Campaign")); c != "Primavera ñ" {
		t.Errorf("X-Campaign = %q", c)
	}
	mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("content-type %q, %v", mt, err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	var types, bodies []string
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p) // quoted-printable is decoded by multipart
		types = append(types, p.Header.Get("Content-Type"))
		bodies = append(bodies, string(b))
	}
	if strings.Join(types, ",") != "text/plain; charset=utf-8,text/html; charset=utf-8" {
		t.Fatalf("parts = %v", types)
	}
	if bodies[0] != "Ola Ánxela\r\n.\r\nliña dous\r\n" {
		t.Errorf("text = %q", bodies[0])
	}
	if bodies[1] != strings.ReplaceAll(sampleMessage().HTML, "\n", "\r\n") {
		t.Errorf("html = %q", bodies[1])
	}
}

func TestBuildSinglePartAndMessageID(t *testing.T) {
	m := Message{From: mail.Address{Address: "a@example.com"}, To: mail.Address{Address: "b@example.com"}, Subject: "Hi", Text: "only text", MessageID: "x1@example.com"}
	raw, err := Build(m, now)
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := mail.ReadMessage(bytes.NewReader(raw))
	if msg.Header.Get("Content-Type") != "text/plain; charset=utf-8" || msg.Header.Get("Message-ID") != "<x1@example.com>" ||
		msg.Header.Get("List-Unsubscribe") != "" || msg.Header.Get("Subject") != "Hi" {
		t.Fatalf("header = %v", msg.Header)
	}
}

func TestBuildRefuses(t *testing.T) {
	tests := []struct {
		name      string
		edit      func(*Message)
		injection bool
	}{
		{"CRLF in subject", func(m *Message) { m.Subject = "Hi\r\nBcc: x@example.com" }, true},
		{"LF in subject", func(m *Message) { m.Subject = "Hi\nBcc: x@example.com" }, true},
		{"CR in from name", func(m *Message) { m.From.Name = "A\rB" }, true},
		{"LF in to address", func(m *Message) { m.To.Address = "b@example.com\nBcc: c@example.com" }, true},
		{"LF in unsubscribe URL", func(m *Message) { m.UnsubscribeURL = "https://u.example/\r\nX: y" }, true},
		{"LF in extra header", func(m *Message) { m.Headers = map[string]string{"X-A": "1\r\nBcc: c@example.com"} }, true},
		{"LF in message id", func(m *Message) { m.MessageID = "a@b\nX: y" }, true},
		{"bad header name", func(m *Message) { m.Headers = map[string]string{"X A:": "1"} }, false},
		{"reserved header", func(m *Message) { m.Headers = map[string]string{"subject": "1"} }, false},
		{"invalid address", func(m *Message) { m.To.Address = "not an address" }, false},
		{"no body", func(m *Message) { m.Text, m.HTML = "", "" }, false},
		{"mailto without url", func(m *Message) { m.UnsubscribeURL = "" }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := sampleMessage()
			tt.edit(&m)
			_, err := Build(m, now)
			if err == nil {
				t.Fatal("want an error")
			}
			if errors.Is(err, ErrHeaderInjection) != tt.injection {
				t.Fatalf("err = %v, injection = %v", err, !tt.injection)
			}
		})
	}
}
