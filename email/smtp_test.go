package email

import (
	"context"
	"errors"
	"net/mail"
	"net/smtp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leadcycle/leadcycle/internal/smtptest"
)

func built(t *testing.T, subject string) []byte {
	t.Helper()
	raw, err := Build(Message{
		From: mail.Address{Name: "Ánxela 陳", Address: "news@example.com"}, To: mail.Address{Address: "ana@example.com"},
		Subject: subject, Text: "Ola\n.line starting with a dot\n", HTML: "<p>Ola</p>", UnsubscribeURL: "https://u.example/x",
	}, now)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func sender(t *testing.T, srv *smtptest.Server, edit func(*SMTPConfig)) *SMTPSender {
	t.Helper()
	cfg := SMTPConfig{Host: srv.Host(), Port: srv.Port(), TLS: TLSNone, Timeout: 5 * time.Second}
	if edit != nil {
		edit(&cfg)
	}
	s, err := NewSMTPSender(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestSendModes(t *testing.T) {
	srvTLS, pool := smtptest.SelfSignedTLS(t)
	tests := []struct {
		name    string
		opts    smtptest.Options
		cfg     func(*SMTPConfig)
		wantTLS bool
		wantErr string
	}{
		{"plain", smtptest.Options{}, nil, false, ""},
		{"plain with auth on loopback", smtptest.Options{Username: "u", Password: "p"}, func(c *SMTPConfig) { c.Username, c.Password = "u", "p" }, false, ""},
		{"starttls", smtptest.Options{TLS: srvTLS, Username: "u", Password: "p"}, func(c *SMTPConfig) {
			c.TLS, c.RootCAs, c.Username, c.Password = TLSStartTLS, pool, "u", "p"
		}, true, ""},
		{"implicit tls", smtptest.Options{TLS: srvTLS, ImplicitTLS: true, Username: "u", Password: "p"}, func(c *SMTPConfig) {
			c.TLS, c.RootCAs, c.Username, c.Password = TLSImplicit, pool, "u", "p"
		}, true, ""},
		{"starttls refused when not offered", smtptest.Options{}, func(c *SMTPConfig) { c.TLS = "" }, false, "does not offer STARTTLS"},
		{"untrusted certificate", smtptest.Options{TLS: srvTLS}, func(c *SMTPConfig) { c.TLS = TLSStartTLS }, false, "certificate"},
		{"auth required", smtptest.Options{Username: "u", Password: "p"}, nil, false, "530"},
		{"wrong password", smtptest.Options{Username: "u", Password: "p"}, func(c *SMTPConfig) { c.Username, c.Password = "u", "nope" }, false, "535"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtptest.Start(t, tt.opts)
			s := sender(t, srv, tt.cfg)
			err := s.Send(context.Background(), "bounce@example.com", "ana@example.com", built(t, "Ola Ánxela 陳"))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				if IsPermanent(err) {
					t.Fatalf("err %v must not count as a bounce", err)
				}
				if len(srv.Messages()) != 0 {
					t.Fatal("a message was delivered")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			m := srv.WaitMessages(t, 1, 2*time.Second)[0]
			if m.From != "bounce@example.com" || len(m.To) != 1 || m.To[0] != "ana@example.com" || m.TLS != tt.wantTLS {
				t.Fatalf("envelope = %q %q tls=%v", m.From, m.To, m.TLS)
			}
			if m.ParseErr != nil || m.Subject != "Ola Ánxela 陳" || m.Text != "Ola\r\n.line starting with a dot\r\n" || m.HTML != "<p>Ola</p>" {
				t.Fatalf("message = %+v", m)
			}
		})
	}
}

func TestSendRejections(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{Reject: func(rcpt string) (int, string) {
		switch {
		case strings.HasPrefix(rcpt, "gone@"):
			return 550, "5.1.1 No such user"
		case strings.HasPrefix(rcpt, "busy@"):
			return 451, "4.3.0 Try again later"
		}
		return 0, ""
	}})
	s := sender(t, srv, nil)
	ctx := context.Background()
	tests := []struct {
		to        string
		code      int
		permanent bool
	}{
		{"gone@example.com", 550, true},
		{"busy@example.com", 451, false},
		{"ok@example.com", 0, false},
	}
	for _, tt := range tests {
		err := s.Send(ctx, "b@example.com", tt.to, built(t, "x"))
		if tt.code == 0 {
			if err != nil {
				t.Fatalf("%s: %v", tt.to, err)
			}
			continue
		}
		var se *SendError
		if !errors.As(err, &se) || se.Code != tt.code || se.Command != "RCPT" {
			t.Fatalf("%s: err = %v", tt.to, err)
		}
		if IsPermanent(err) != tt.permanent || errors.Is(err, ErrPermanent) != tt.permanent {
			t.Fatalf("%s: IsPermanent = %v", tt.to, IsPermanent(err))
		}
	}
	if n := srv.Connections(); n != 1 {
		t.Fatalf("connections = %d, want the connection kept after rejected recipients", n)
	}
}

func TestSendReuseAndReconnect(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	s := sender(t, srv, nil)
	ctx := context.Background()
	for i := range 2 {
		if err := s.Send(ctx, "b@example.com", "a@example.com", built(t, "reuse")); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	if n := srv.Connections(); n != 1 {
		t.Fatalf("connections = %d, want 1", n)
	}
	srv.CloseConnections()
	if err := s.Send(ctx, "b@example.com", "a@example.com", built(t, "after drop")); err != nil {
		t.Fatalf("send after the server dropped the connection: %v", err)
	}
	if n := srv.Connections(); n != 2 {
		t.Fatalf("connections = %d, want 2", n)
	}
	srv.WaitMessages(t, 3, 2*time.Second)
}

func TestSendServerClosesBetweenMessages(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{MaxMessages: 1})
	s := sender(t, srv, nil)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.Send(context.Background(), "b@example.com", "a@example.com", built(t, "concurrent"))
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	srv.WaitMessages(t, 4, 2*time.Second)
	if n := srv.Connections(); n != 4 {
		t.Fatalf("connections = %d, want 4 (one per message)", n)
	}
}

func TestSendRateLimit(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	s := sender(t, srv, func(c *SMTPConfig) { c.RatePerSecond, c.Burst = 0.5, 1 })
	if err := s.Send(context.Background(), "b@example.com", "a@example.com", built(t, "1")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(50 * time.Millisecond); cancel() }()
	start := time.Now()
	err := s.Send(ctx, "b@example.com", "a@example.com", built(t, "2"))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("cancellation took %v", d)
	}
	if IsPermanent(err) || len(srv.Messages()) != 1 {
		t.Fatalf("permanent = %v, messages = %d", IsPermanent(err), len(srv.Messages()))
	}
}

func TestSendClosed(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	s := sender(t, srv, nil)
	if err := s.Send(context.Background(), "b@example.com", "a@example.com", built(t, "1")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), "b@example.com", "a@example.com", built(t, "2")); !errors.Is(err, ErrClosed) {
		t.Fatalf("err = %v", err)
	}
}

func TestSMTPConfigValidate(t *testing.T) {
	tests := []struct {
		cfg   SMTPConfig
		field string
	}{
		{SMTPConfig{Host: "smtp.example.com"}, ""},
		{SMTPConfig{}, "Host"},
		{SMTPConfig{Host: "smtp.example.com:25"}, "Host"},
		{SMTPConfig{Host: "h", Port: 70000}, "Port"},
		{SMTPConfig{Host: "h", TLS: "ssl"}, "TLS"},
		{SMTPConfig{Host: "h", Password: "p"}, "Username"},
		{SMTPConfig{Host: "smtp.example.com", TLS: TLSNone, Username: "u", Password: "p"}, "Username"},
		{SMTPConfig{Host: "127.0.0.1", TLS: TLSNone, Username: "u", Password: "p"}, ""},
		{SMTPConfig{Host: "h", HELO: "a b"}, "HELO"},
		{SMTPConfig{Host: "h", Timeout: -1}, "Timeout"},
		{SMTPConfig{Host: "h", RatePerSecond: -1}, "RatePerSecond"},
		{SMTPConfig{Host: "h", Burst: -1}, "Burst"},
	}
	for _, tt := range tests {
		err := tt.cfg.Validate()
		if tt.field == "" {
			if err != nil {
				t.Errorf("%+v: %v", tt.cfg, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), "SMTPConfig."+tt.field+":") {
			t.Errorf("%+v: err = %v, want it to name %s", tt.cfg, err, tt.field)
		}
	}
}

func TestLoginAuthRefusesClearText(t *testing.T) {
	tests := []struct {
		server smtp.ServerInfo
		ok     bool
	}{
		{smtp.ServerInfo{Name: "smtp.example.com", TLS: true}, true},
		{smtp.ServerInfo{Name: "smtp.example.com"}, false},
		{smtp.ServerInfo{Name: "127.0.0.1"}, false}, // wrong host
		{smtp.ServerInfo{Name: "other.example.com", TLS: true}, false},
	}
	for _, tt := range tests {
		a := &loginAuth{user: "u", pass: "p", host: "smtp.example.com"}
		_, _, err := a.Start(&tt.server)
		if (err == nil) != tt.ok {
			t.Errorf("%+v: err = %v", tt.server, err)
		}
	}
	a := &loginAuth{user: "u", pass: "p", host: "localhost"}
	if _, _, err := a.Start(&smtp.ServerInfo{Name: "localhost"}); err != nil {
		t.Fatal(err)
	}
	if u, _ := a.Next([]byte("Username:"), true); string(u) != "u" {
		t.Fatalf("user = %q", u)
	}
	if p, _ := a.Next([]byte("Password:"), true); string(p) != "p" {
		t.Fatalf("password = %q", p)
	}
}
