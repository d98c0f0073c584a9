package email

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// Message is an email ready to be built into RFC 5322 form.
type Message struct {
	// From is the author, shown to the recipient.
	From mail.Address
	// To is the recipient.
	To mail.Address
	// Subject is the subject line; non-ASCII text is RFC 2047 encoded.
	Subject string
	// HTML is the HTML body.
	HTML string
	// Text is the plain-text body.
	Text string
	// UnsubscribeURL, when set, is announced in List-Unsubscribe with
	// one-click unsubscription (RFC 8058).
	UnsubscribeURL string
	// UnsubscribeMailto is an optional address added to List-Unsubscribe as
	// a mailto: alternative; it needs UnsubscribeURL.
	UnsubscribeMailto string
	// MessageID is the Message-ID, with or without angle brackets; one is
	// generated from the From domain when empty.
	MessageID string
	// Headers holds extra header fields; they may not replace the fields
	// Build writes itself.
	Headers map[string]string
}

// reserved lists the header fields Build writes itself (canonical form).
var reserved = map[string]bool{
	"From": true, "To": true, "Subject": true, "Date": true, "Message-Id": true,
	"Mime-Version": true, "Content-Type": true, "Content-Transfer-Encoding": true,
	"List-Unsubscribe": true, "List-Unsubscribe-Post": true,
}

// ErrHeaderInjection is wrapped by Build errors about a line break in a
// header value or an address.
var ErrHeaderInjection = errors.New("line break in a header value")

func checkLine(field, v string) error {
	if strings.ContainsAny(v, "\r\n") {
		return fmt.Errorf("email: %s: %w", field, ErrHeaderInjection)
	}
	if strings.ContainsRune(v, 0) {
		return fmt.Errorf("email: %s: NUL character", field)
	}
	return nil
}

func checkAddress(field string, a mail.Address) error {
	if err := checkLine(field+" name", a.Name); err != nil {
		return err
	}
	if err := checkLine(field+" address", a.Address); err != nil {
		return err
	}
	if a.Address == "" {
		return fmt.Errorf("email: %s: address is required", field)
	}
	p, err := mail.ParseAddress(a.Address)
	if err != nil || p.Address != a.Address {
		return fmt.Errorf("email: %s: invalid address %q", field, a.Address)
	}
	return nil
}

// Build returns m as an RFC 5322 message with CRLF line endings, dated now:
// a multipart/alternative body with the text part then the HTML part (or a
// single part when only one is given), both UTF-8 quoted-printable. It
// refuses line breaks in header values and addresses.
func Build(m Message, now time.Time) ([]byte, error) {
	if err := checkAddress("from", m.From); err != nil {
		return nil, err
	}
	if err := checkAddress("to", m.To); err != nil {
		return nil, err
	}
	for _, f := range []struct{ name, v string }{
		{"subject", m.Subject}, {"unsubscribe URL", m.UnsubscribeURL},
		{"unsubscribe mailto", m.UnsubscribeMailto}, {"message ID", m.MessageID},
	} {
		if err := checkLine(f.name, f.v); err != nil {
			return nil, err
		}
	}
	if strings.ContainsAny(m.UnsubscribeURL, "<>, ") || strings.ContainsAny(m.UnsubscribeMailto, "<>, ") {
		return nil, errors.New("email: unsubscribe URL and mailto may not contain <, >, comma or space")
	}
	if m.UnsubscribeMailto != "" && m.UnsubscribeURL == "" {
		return nil, errors.New("email: unsubscribe mailto needs an unsubscribe URL (RFC 8058 one-click)")
	}
	if m.Text == "" && m.HTML == "" {
		return nil, errors.New("email: the message has no body")
	}
	if !utf8.ValidString(m.Subject) || !utf8.ValidString(m.Text) || !utf8.ValidString(m.HTML) {
		return nil, errors.New("email: subject and bodies must be valid UTF-8")
	}

	var h bytes.Buffer
	field := func(name, value string) { h.WriteString(fold(name + ": " + value)) }
	id := strings.TrimSuffix(strings.TrimPrefix(m.MessageID, "<"), ">")
	if id == "" {
		id = newMessageID(m.From.Address)
	} else if strings.ContainsAny(id, "<> ") || !strings.Contains(id, "@") {
		return nil, fmt.Errorf("email: message ID: invalid %q", m.MessageID)
	}
	field("From", m.From.String())
	field("To", m.To.String())
	field("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	field("Date", now.Format(time.RFC1123Z))
	field("Message-ID", "<"+id+">")
	if m.UnsubscribeURL != "" {
		v := "<" + m.UnsubscribeURL + ">"
		if m.UnsubscribeMailto != "" {
			v += ", <mailto:" + strings.TrimPrefix(m.UnsubscribeMailto, "mailto:") + ">"
		}
		field("List-Unsubscribe", v)
		field("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
	}
	keys := make([]string, 0, len(m.Headers))
	for k := range m.Headers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := m.Headers[k]
		if !validFieldName(k) {
			return nil, fmt.Errorf("email: header %q: invalid field name", k)
		}
		if reserved[textproto.CanonicalMIMEHeaderKey(k)] {
			return nil, fmt.Errorf("email: header %q is written by Build", k)
		}
		if err := checkLine("header "+k, v); err != nil {
			return nil, err
		}
		field(k, mime.QEncoding.Encode("utf-8", v))
	}
	field("MIME-Version", "1.0")

	var body bytes.Buffer
	switch {
	case m.Text != "" && m.HTML != "":
		mw := multipart.NewWriter(&body)
		field("Content-Type", mime.FormatMediaType("multipart/alternative", map[string]string{"boundary": mw.Boundary()}))
		for _, p := range []struct{ ctype, s string }{{"text/plain", m.Text}, {"text/html", m.HTML}} {
			w, err := mw.CreatePart(textproto.MIMEHeader{
				"Content-Type":              {p.ctype + "; charset=utf-8"},
				"Content-Transfer-Encoding": {"quoted-printable"},
			})
			if err != nil {
				return nil, err
			}
			if err := writeQP(w, p.s); err != nil {
				return nil, err
			}
		}
		if err := mw.Close(); err != nil {
			return nil, err
		}
	default:
		ctype, s := "text/plain", m.Text
		if s == "" {
			ctype, s = "text/html", m.HTML
		}
		field("Content-Type", ctype+"; charset=utf-8")
		field("Content-Transfer-Encoding", "quoted-printable")
		if err := writeQP(&body, s); err != nil {
			return nil, err
		}
		body.WriteString("\r\n")
	}
	h.WriteString("\r\n")
	h.Write(body.Bytes())
	return h.Bytes(), nil
}

type writer interface{ Write([]byte) (int, error) }

func writeQP(w writer, s string) error {
	qw := quotedprintable.NewWriter(w)
	s = strings.ReplaceAll(s, "\r\n", "\n")
	if _, err := qw.Write([]byte(s)); err != nil {
		return err
	}
	return qw.Close()
}

func validFieldName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] <= ' ' || k[i] > '~' || k[i] == ':' {
			return false
		}
	}
	return true
}

// fold folds a header line at spaces so that lines stay within 78
// characters where possible, and ends it with CRLF.
func fold(line string) string {
	const limit = 78
	if len(line) <= limit {
		return line + "\r\n"
	}
	var b strings.Builder
	for len(line) > limit {
		cut := strings.LastIndexByte(line[:limit], ' ')
		if cut <= 0 || strings.TrimSpace(line[:cut]) == "" || strings.HasSuffix(line[:cut], ":") {
			next := strings.IndexByte(line[limit:], ' ')
			if next < 0 {
				break
			}
			cut = limit + next
		}
		b.WriteString(line[:cut])
		b.WriteString("\r\n")
		line = line[cut:] // keeps the space as the folding white space
	}
	b.WriteString(line)
	b.WriteString("\r\n")
	return b.String()
}

// newMessageID returns a random id at the domain of from.
func newMessageID(from string) string {
	var r [16]byte
	rand.Read(r[:])
	domain := "localhost"
	if i := strings.LastIndexByte(from, '@'); i >= 0 && i+1 < len(from) {
		domain = from[i+1:]
	}
	return hex.EncodeToString(r[:]) + "@" + domain
}
