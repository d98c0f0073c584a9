package smtptest

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
)

// Message is one message accepted by the server, with its envelope and the
// parsed content.
type Message struct {
	// From is the envelope sender (MAIL FROM).
	From string
	// To holds the accepted envelope recipients (RCPT TO).
	To []string
	// Raw is the message as received, dot-unstuffed, with its CRLF line endings.
	Raw []byte
	// TLS reports whether the message arrived over TLS (implicit or STARTTLS).
	TLS bool
	// AuthUser is the user name the client authenticated as, if any.
	AuthUser string

	// Header holds the parsed message header.
	Header mail.Header
	// Subject is the Subject header with RFC 2047 encoded words decoded.
	Subject string
	// Text is the decoded text/plain body, if any.
	Text string
	// HTML is the decoded text/html body, if any.
	HTML string
	// ParseErr is the error met while parsing Raw, or nil.
	ParseErr error
}

var wordDecoder = &mime.WordDecoder{}

func parse(raw []byte) Message {
	m := Message{Raw: append([]byte(nil), raw...)}
	msg, err := mail.ReadMessage(bytes.NewReader(m.Raw))
	if err != nil {
		m.ParseErr = err
		return m
	}
	m.Header = msg.Header
	if m.Subject, err = wordDecoder.DecodeHeader(msg.Header.Get("Subject")); err != nil {
		m.ParseErr = err
	}
	if err := m.walk(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body); err != nil && m.ParseErr == nil {
		m.ParseErr = err
	}
	return m
}

// walk decodes one entity, descending into multipart ones.
func (m *Message) walk(ctype, cte string, body io.Reader) error {
	if ctype == "" {
		ctype = "text/plain"
	}
	mt, params, err := mime.ParseMediaType(ctype)
	if err != nil {
		return err
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			// multipart.Reader hides a quoted-printable Content-Transfer-Encoding
			// and decodes it itself.
			if err := m.walk(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p); err != nil {
				return err
			}
		}
	}
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	switch mt {
	case "text/plain":
		if m.Text == "" {
			m.Text = string(b)
		}
	case "text/html":
		if m.HTML == "" {
			m.HTML = string(b)
		}
	}
	return nil
}
