package smtptest

import (
	"crypto/tls"
	"net/smtp"
	"strings"
	"testing"
	"time"
)

const sample = "From: a@example.com\r\nTo: b@example.com\r\nSubject: =?utf-8?q?=C3=81nxela?=\r\n" +
	"MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=XX\r\n\r\n" +
	"--XX\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
	"Ol=C3=A1\r\n.dot\r\n--XX\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
	"PHA+T2zDoTwvcD4=\r\n--XX--\r\n"

func TestServerPlainAndStartTLS(t *testing.T) {
	srvTLS, pool := SelfSignedTLS(t)
	s := Start(t, Options{TLS: srvTLS, Username: "u", Password: "p"})
	c, err := smtp.Dial(s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Mail("a@example.com"); err == nil || !strings.HasPrefix(err.Error(), "530") {
		t.Fatalf("MAIL before AUTH: %v, want 530", err)
	}
	if err := c.StartTLS(&tls.Config{ServerName: "127.0.0.1", RootCAs: pool}); err != nil {
		t.Fatal(err)
	}
	if err := c.Auth(smtp.PlainAuth("", "u", "p", "127.0.0.1")); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		send(t, c, sample)
	}
	msgs := s.WaitMessages(t, 2, time.Second)
	m := msgs[0]
	if m.ParseErr != nil || m.Subject != "Ánxela" || m.Text != "Olá\r\n.dot" || m.HTML != "<p>Olá</p>" || !m.TLS || m.AuthUser != "u" {
		t.Fatalf("message = %+v", m)
	}
	if s.Connections() != 1 {
		t.Fatalf("connections = %d", s.Connections())
	}
}

func send(t *testing.T, c *smtp.Client, msg string) {
	t.Helper()
	if err := c.Mail("a@example.com"); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("b@example.com"); err != nil {
		t.Fatal(err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}
