package email

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math"
	"net"
	"net/smtp"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Sender delivers built messages; SMTPSender implements it and tests can
// substitute a fake.
type Sender interface {
	// Send delivers msg to one recipient with the given envelope sender.
	Send(ctx context.Context, envelopeFrom, to string, msg []byte) error
}

// TLS modes of SMTPConfig.
const (
	// TLSNone speaks SMTP in clear.
	TLSNone = "none"
	// TLSStartTLS upgrades the connection with STARTTLS and fails when the
	// server does not offer it.
	TLSStartTLS = "starttls"
	// TLSImplicit speaks TLS from the first byte (usually port 465).
	TLSImplicit = "tls"
)

// SMTPConfig configures an SMTPSender.
type SMTPConfig struct {
	// Host is the SMTP server's host name or IP address.
	Host string
	// Port is the server's port; 0 means 587 for starttls, 465 for tls and
	// 25 for none.
	Port int
	// TLS is "none", "starttls" (the default when empty) or "tls" (TLS from
	// the first byte).
	TLS string
	// Username and Password, when Username is set, authenticate with AUTH
	// PLAIN or LOGIN. Credentials are only sent over TLS, or in clear to a
	// loopback host when TLS is "none".
	Username, Password string
	// HELO is the name the sender gives in EHLO; "" means "localhost".
	HELO string
	// Timeout bounds connecting and each Send; 0 means 30 seconds.
	Timeout time.Duration
	// RatePerSecond limits the messages sent per second; 0 is unlimited.
	RatePerSecond float64
	// Burst is the number of messages that may be sent at once above the
	// rate; 0 means the rate rounded up, at least 1.
	Burst int
	// RootCAs, when set, replaces the system roots to verify the server.
	RootCAs *x509.CertPool
	// InsecureSkipVerify disables verification of the server certificate;
	// use it only in tests.
	InsecureSkipVerify bool
}

func configErr(field, format string, args ...any) error {
	return fmt.Errorf("email: SMTPConfig.%s: %s", field, fmt.Sprintf(format, args...))
}

// isLoopback reports whether host is localhost or a loopback IP address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Validate checks the configuration; the error names the faulty field.
func (c SMTPConfig) Validate() error {
	switch {
	case strings.TrimSpace(c.Host) == "":
		return configErr("Host", "is required")
	case strings.ContainsAny(c.Host, " \t\r\n/:") && net.ParseIP(c.Host) == nil:
		return configErr("Host", "invalid host %q (give the port in Port)", c.Host)
	case c.Port < 0 || c.Port > 65535:
		return configErr("Port", "must be between 1 and 65535 (or 0 for the default)")
	}
	switch c.TLS {
	case "", TLSNone, TLSStartTLS, TLSImplicit:
	default:
		return configErr("TLS", "must be %q, %q or %q, not %q", TLSNone, TLSStartTLS, TLSImplicit, c.TLS)
	}
	switch {
	case c.Username == "" && c.Password != "":
		return configErr("Username", "is required with a password")
	case strings.ContainsAny(c.Username, "\r\n") || strings.ContainsAny(c.Password, "\r\n"):
		return configErr("Username", "user name and password may not contain line breaks")
	case c.Username != "" && c.TLS == TLSNone && !isLoopback(c.Host):
		return configErr("Username", "credentials are only sent over TLS (TLS %q) unless the host is loopback", TLSNone)
	case strings.ContainsAny(c.HELO, " \t\r\n"):
		return configErr("HELO", "invalid name %q", c.HELO)
	case c.Timeout < 0:
		return configErr("Timeout", "may not be negative")
	case c.RatePerSecond < 0 || math.IsNaN(c.RatePerSecond) || math.IsInf(c.RatePerSecond, 0):
		return configErr("RatePerSecond", "must be a non-negative number (0 = unlimited)")
	case c.Burst < 0:
		return configErr("Burst", "may not be negative")
	}
	return nil
}

// ErrPermanent is matched by errors.Is for permanent delivery failures: a
// 5xx reply to MAIL, RCPT or DATA, that is a bounce. A 530 (authentication
// required) reply is a configuration problem and does not count.
var ErrPermanent = errors.New("email: permanent delivery failure")

// ErrClosed is returned by Send after Close.
var ErrClosed = errors.New("email: sender is closed")

// SendError is an SMTP error reply met while sending.
type SendError struct {
	// Command is the SMTP command that got the reply (MAIL, RCPT, DATA, AUTH, …).
	Command string
	// Code is the reply code, such as 550 or 451.
	Code int
	// Msg is the reply text.
	Msg string
	// Permanent reports a 5xx reply to MAIL, RCPT or DATA: retrying will not help.
	Permanent bool
}

// Error returns the command and the server's reply.
func (e *SendError) Error() string {
	return fmt.Sprintf("email: smtp %s: %d %s", e.Command, e.Code, e.Msg)
}

// Is makes errors.Is(err, ErrPermanent) true for permanent failures.
func (e *SendError) Is(target error) bool {
	return target == ErrPermanent && e.Permanent
}

// IsPermanent reports whether err is a permanent delivery failure (a bounce),
// as opposed to a temporary one or a network error worth retrying.
func IsPermanent(err error) bool {
	return errors.Is(err, ErrPermanent)
}

// classify wraps an error of an SMTP command.
func classify(cmd string, err error) error {
	var te *textproto.Error
	if errors.As(err, &te) {
		// 530 (authentication required) is the sender's configuration, not
		// a bounce of the recipient.
		permanent := te.Code >= 500 && te.Code < 600 && te.Code != 530 && (cmd == "MAIL" || cmd == "RCPT" || cmd == "DATA")
		return &SendError{Command: cmd, Code: te.Code, Msg: te.Msg, Permanent: permanent}
	}
	return fmt.Errorf("email: smtp %s: %w", cmd, err)
}

// SMTPSender sends messages over one reused SMTP connection. It is safe for
// concurrent use; sends are serialised.
type SMTPSender struct {
	cfg     SMTPConfig
	addr    string
	timeout time.Duration
	limiter *rate.Limiter

	mu     sync.Mutex
	conn   net.Conn
	client *smtp.Client
	closed bool
}

var _ Sender = (*SMTPSender)(nil)

// NewSMTPSender validates cfg and returns a sender; it connects on the first
// Send.
func NewSMTPSender(cfg SMTPConfig) (*SMTPSender, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.TLS == "" {
		cfg.TLS = TLSStartTLS
	}
	if cfg.Port == 0 {
		cfg.Port = map[string]int{TLSNone: 25, TLSStartTLS: 587, TLSImplicit: 465}[cfg.TLS]
	}
	if cfg.HELO == "" {
		cfg.HELO = "localhost"
	}
	s := &SMTPSender{cfg: cfg, addr: net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)), timeout: cfg.Timeout}
	if s.timeout == 0 {
		s.timeout = 30 * time.Second
	}
	if cfg.RatePerSecond > 0 {
		burst := cfg.Burst
		if burst == 0 {
			burst = max(1, int(math.Ceil(cfg.RatePerSecond)))
		}
		s.limiter = rate.NewLimiter(rate.Limit(cfg.RatePerSecond), burst)
	}
	return s, nil
}

func (s *SMTPSender) tlsConfig() *tls.Config {
	return &tls.Config{
		ServerName:         s.cfg.Host,
		RootCAs:            s.cfg.RootCAs,
		InsecureSkipVerify: s.cfg.InsecureSkipVerify,
		MinVersion:         tls.VersionTLS12,
	}
}

// Send waits for the rate limiter, then delivers msg to one recipient. It
// reuses the open connection (after RSET) and reconnects when that fails.
// A 5xx reply to MAIL, RCPT or DATA gives an error for which IsPermanent is
// true.
func (s *SMTPSender) Send(ctx context.Context, envelopeFrom, to string, msg []byte) error {
	if strings.ContainsAny(envelopeFrom, "\r\n<>") || strings.ContainsAny(to, "\r\n<>") || to == "" {
		return errors.New("email: invalid envelope address")
	}
	if s.limiter != nil {
		if err := s.limiter.Wait(ctx); err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("email: waiting for the rate limit: %w", ctx.Err())
			}
			return fmt.Errorf("email: waiting for the rate limit: %w", err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	deadline := time.Now().Add(s.timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if s.client != nil {
		stop := s.watch(ctx, s.conn, deadline)
		err := s.client.Reset()
		stop()
		if err != nil {
			s.drop()
		}
	}
	if s.client == nil {
		if err := s.connect(ctx, deadline); err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("%w (%v)", ctx.Err(), err)
			}
			return err
		}
	}
	stop := s.watch(ctx, s.conn, deadline)
	err := s.transaction(envelopeFrom, to, msg)
	stop()
	if err != nil {
		var se *SendError
		if !errors.As(err, &se) || se.Code == 421 || ctx.Err() != nil {
			s.drop()
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%w (%v)", ctx.Err(), err)
		}
	}
	return err
}

// watch sets the connection deadline and makes ctx cancellation interrupt
// blocked reads and writes; the returned function undoes the latter.
func (s *SMTPSender) watch(ctx context.Context, conn net.Conn, deadline time.Time) func() {
	conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	return func() { stop() }
}

func (s *SMTPSender) transaction(from, to string, msg []byte) error {
	if err := s.client.Mail(from); err != nil {
		return classify("MAIL", err)
	}
	if err := s.client.Rcpt(to); err != nil {
		return classify("RCPT", err)
	}
	w, err := s.client.Data()
	if err != nil {
		return classify("DATA", err)
	}
	if _, err := w.Write(msg); err != nil {
		w.Close()
		return classify("DATA", err)
	}
	if err := w.Close(); err != nil {
		return classify("DATA", err)
	}
	return nil
}

// connect dials, greets, secures and authenticates a new connection.
func (s *SMTPSender) connect(ctx context.Context, deadline time.Time) error {
	d := &net.Dialer{Deadline: deadline}
	var conn net.Conn
	var err error
	if s.cfg.TLS == TLSImplicit {
		conn, err = (&tls.Dialer{NetDialer: d, Config: s.tlsConfig()}).DialContext(ctx, "tcp", s.addr)
	} else {
		conn, err = d.DialContext(ctx, "tcp", s.addr)
	}
	if err != nil {
		return fmt.Errorf("email: smtp connect %s: %w", s.addr, err)
	}
	stop := s.watch(ctx, conn, deadline)
	defer stop()
	c, err := smtp.NewClient(conn, s.cfg.Host)
	if err != nil {
		conn.Close()
		return classify("connect", err)
	}
	fail := func(cmd string, err error) error {
		c.Close()
		return classify(cmd, err)
	}
	if err := c.Hello(s.cfg.HELO); err != nil {
		return fail("EHLO", err)
	}
	if s.cfg.TLS == TLSStartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			c.Close()
			return fmt.Errorf("email: smtp %s does not offer STARTTLS (TLS %q)", s.addr, TLSStartTLS)
		}
		if err := c.StartTLS(s.tlsConfig()); err != nil {
			return fail("STARTTLS", err)
		}
	}
	if s.cfg.Username != "" {
		ok, mechs := c.Extension("AUTH")
		if !ok {
			c.Close()
			return fmt.Errorf("email: smtp %s does not offer AUTH", s.addr)
		}
		var a smtp.Auth
		switch fields := strings.Fields(strings.ToUpper(mechs)); {
		case contains(fields, "PLAIN"):
			a = smtp.PlainAuth("", s.cfg.Username, s.cfg.Password, s.cfg.Host)
		case contains(fields, "LOGIN"):
			a = &loginAuth{user: s.cfg.Username, pass: s.cfg.Password, host: s.cfg.Host}
		default:
			c.Close()
			return fmt.Errorf("email: smtp %s offers neither AUTH PLAIN nor LOGIN (%s)", s.addr, mechs)
		}
		if err := c.Auth(a); err != nil {
			return fail("AUTH", err)
		}
	}
	s.conn, s.client = conn, c
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// drop closes the current connection without QUIT.
func (s *SMTPSender) drop() {
	if s.client != nil {
		s.client.Close()
	}
	s.client, s.conn = nil, nil
}

// Close quits the open connection, if any; later sends fail with ErrClosed.
func (s *SMTPSender) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if s.client == nil {
		return nil
	}
	s.conn.SetDeadline(time.Now().Add(5 * time.Second))
	err := s.client.Quit()
	s.drop()
	return err
}

// loginAuth implements AUTH LOGIN with the same rule as smtp.PlainAuth:
// credentials only over TLS or to localhost.
type loginAuth struct {
	user, pass, host string
}

func (a *loginAuth) Start(server *smtp.ServerInfo) (string, []byte, error) {
	if !server.TLS && !isLoopback(server.Name) {
		return "", nil, errors.New("unencrypted connection")
	}
	if server.Name != a.host {
		return "", nil, errors.New("wrong host name")
	}
	return "LOGIN", nil, nil
}

func (a *loginAuth) Next(fromServer []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	switch strings.ToLower(strings.TrimSpace(string(fromServer))) {
	case "username:", "username":
		return []byte(a.user), nil
	case "password:", "password":
		return []byte(a.pass), nil
	}
	return nil, fmt.Errorf("unexpected LOGIN challenge %q", fromServer)
}
