// Package smtptest runs an in-process SMTP server for tests.
//
// The server speaks enough of RFC 5321 (EHLO, HELO, STARTTLS, AUTH PLAIN and
// LOGIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT) to exercise a real SMTP client,
// records every accepted message and parses it back for assertions.
package smtptest

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Options configures a test server.
type Options struct {
	// TLS, when set, makes the server offer STARTTLS with this configuration.
	TLS *tls.Config
	// ImplicitTLS makes the server speak TLS from the first byte; TLS must be set.
	ImplicitTLS bool
	// Username and Password, when Username is set, make the server require
	// AUTH PLAIN or LOGIN with these credentials before MAIL (530 otherwise).
	Username, Password string
	// Reject, when set, is called for each RCPT TO address; a non-zero code is
	// sent as the reply (for example 550 for a bounced mailbox or 451 for a
	// temporary failure) and the recipient is refused.
	Reject func(rcpt string) (code int, msg string)
	// MaxMessages, when positive, is the number of messages the server accepts
	// on one connection; after the last one is acknowledged the server closes
	// the connection without a word, as an idle-timeout would.
	MaxMessages int
}

// Server is a running test SMTP server.
type Server struct {
	opts Options
	ln   net.Listener

	mu       sync.Mutex
	msgs     []Message
	conns    map[net.Conn]struct{}
	accepted int
	notify   chan struct{}
	closed   bool

	wg sync.WaitGroup
}

// Start starts a server on 127.0.0.1 on a free port; it is closed when the
// test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.ImplicitTLS && opts.TLS == nil {
		t.Fatal("smtptest: ImplicitTLS needs Options.TLS")
	}
	var ln net.Listener
	var err error
	if opts.ImplicitTLS {
		ln, err = tls.Listen("tcp", "127.0.0.1:0", opts.TLS)
	} else {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		t.Fatalf("smtptest: listen: %v", err)
	}
	s := &Server{opts: opts, ln: ln, conns: map[net.Conn]struct{}{}, notify: make(chan struct{})}
	s.wg.Add(1)
	go s.serve()
	t.Cleanup(s.Close)
	return s
}

// Addr returns the host:port the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Host returns the IP address the server listens on.
func (s *Server) Host() string { return s.ln.Addr().(*net.TCPAddr).IP.String() }

// Port returns the port the server listens on.
func (s *Server) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// Connections returns the number of connections the server has accepted so far.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accepted
}

// Messages returns a copy of the messages accepted so far, in order.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// WaitMessages waits until at least n messages have been accepted and returns
// them; the test fails if that takes longer than timeout.
func (s *Server) WaitMessages(t testing.TB, n int, timeout time.Duration) []Message {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		if len(s.msgs) >= n {
			msgs := append([]Message(nil), s.msgs...)
			s.mu.Unlock()
			return msgs
		}
		ch := s.notify
		got := len(s.msgs)
		s.mu.Unlock()
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("smtptest: got %d messages after %v, want %d", got, timeout, n)
			return nil
		}
	}
}

// CloseConnections drops every open client connection without a reply.
func (s *Server) CloseConnections() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.Close()
	}
}

// Close stops the server, drops open connections and waits for them to end.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.mu.Unlock()
	s.ln.Close()
	s.CloseConnections()
	s.wg.Wait()
}

func (s *Server) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.accepted++
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			last := s.session(c)
			s.mu.Lock()
			delete(s.conns, c)
			delete(s.conns, last)
			s.mu.Unlock()
			last.Close()
			c.Close()
		}()
	}
}

func (s *Server) track(old, c net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, old)
	s.conns[c] = struct{}{}
}

func (s *Server) store(m Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, m)
	close(s.notify)
	s.notify = make(chan struct{})
}

type session struct {
	s      *Server
	conn   net.Conn
	tp     *textproto.Conn
	tls    bool
	helo   bool
	user   string
	authed bool
	from   string
	inTx   bool
	rcpts  []string
	count  int
}

// session serves one connection and returns the connection it ended on
// (the TLS one after STARTTLS).
func (s *Server) session(c net.Conn) net.Conn {
	ss := &session{s: s, conn: c, tp: textproto.NewConn(c)}
	ss.serve()
	return ss.conn
}

func (ss *session) serve() {
	s := ss.s
	if tc, ok := ss.conn.(*tls.Conn); ok {
		if err := tc.Handshake(); err != nil {
			return
		}
		ss.tls = true
	}
	ss.reply(220, "smtptest ESMTP ready")
	for {
		line, err := ss.tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		arg = strings.TrimSpace(arg)
		switch strings.ToUpper(verb) {
		case "EHLO":
			ss.ehlo(arg)
		case "HELO":
			ss.helo = true
			ss.reset()
			ss.reply(250, "smtptest")
		case "STARTTLS":
			if !ss.starttls() {
				return
			}
		case "AUTH":
			ss.auth(arg)
		case "MAIL":
			ss.mail(arg)
		case "RCPT":
			ss.rcpt(arg)
		case "DATA":
			if !ss.data() {
				return
			}
			if s.opts.MaxMessages > 0 && ss.count >= s.opts.MaxMessages {
				return
			}
		case "RSET":
			ss.reset()
			ss.reply(250, "2.0.0 OK")
		case "NOOP":
			ss.reply(250, "2.0.0 OK")
		case "VRFY":
			ss.reply(252, "2.1.5 Cannot VRFY user")
		case "QUIT":
			ss.reply(221, "2.0.0 Bye")
			return
		default:
			ss.reply(500, "5.5.2 Command not recognized")
		}
	}
}

func (ss *session) reply(code int, lines ...string) {
	for i, l := range lines {
		sep := "-"
		if i == len(lines)-1 {
			sep = " "
		}
		ss.tp.PrintfLine("%d%s%s", code, sep, l)
	}
}

func (ss *session) reset() {
	ss.from, ss.inTx, ss.rcpts = "", false, nil
}

func (ss *session) ehlo(arg string) {
	if arg == "" {
		ss.reply(501, "5.5.4 EHLO needs a domain")
		return
	}
	ss.helo = true
	ss.reset()
	lines := []string{"smtptest greets " + arg, "8BITMIME", "SIZE 10485760"}
	if ss.s.opts.TLS != nil && !ss.tls {
		lines = append(lines, "STARTTLS")
	}
	if ss.s.opts.Username != "" {
		lines = append(lines, "AUTH PLAIN LOGIN")
	}
	ss.reply(250, lines...)
}

func (ss *session) starttls() bool {
	if ss.s.opts.TLS == nil || ss.tls {
		ss.reply(502, "5.5.1 STARTTLS not available")
		return true
	}
	ss.reply(220, "2.0.0 Ready to start TLS")
	tc := tls.Server(ss.conn, ss.s.opts.TLS)
	if err := tc.Handshake(); err != nil {
		return false
	}
	ss.s.track(ss.conn, tc)
	ss.conn, ss.tp, ss.tls = tc, textproto.NewConn(tc), true
	ss.helo, ss.authed = false, false
	ss.reset()
	return true
}

func (ss *session) auth(arg string) {
	if ss.s.opts.Username == "" {
		ss.reply(502, "5.5.1 AUTH not available")
		return
	}
	if ss.authed {
		ss.reply(503, "5.5.1 Already authenticated")
		return
	}
	mech, initial, _ := strings.Cut(arg, " ")
	var user, pass string
	switch strings.ToUpper(mech) {
	case "PLAIN":
		resp, ok := ss.challenge(initial, "")
		if !ok {
			return
		}
		parts := strings.Split(resp, "\x00")
		if len(parts) != 3 {
			ss.reply(501, "5.5.2 Malformed PLAIN response")
			return
		}
		user, pass = parts[1], parts[2]
	case "LOGIN":
		var ok bool
		if user, ok = ss.challenge(initial, "Username:"); !ok {
			return
		}
		if pass, ok = ss.challenge("", "Password:"); !ok {
			return
		}
	default:
		ss.reply(504, "5.5.4 Unrecognized authentication type")
		return
	}
	if user != ss.s.opts.Username || pass != ss.s.opts.Password {
		ss.reply(535, "5.7.8 Authentication credentials invalid")
		return
	}
	ss.authed, ss.user = true, user
	ss.reply(235, "2.7.0 Authentication successful")
}

// challenge returns the decoded initial response or asks for one with prompt.
func (ss *session) challenge(initial, prompt string) (string, bool) {
	if initial == "" {
		ss.reply(334, base64.StdEncoding.EncodeToString([]byte(prompt)))
		line, err := ss.tp.ReadLine()
		if err != nil {
			return "", false
		}
		if line == "*" {
			ss.reply(501, "5.0.0 Authentication cancelled")
			return "", false
		}
		initial = line
	}
	if initial == "=" {
		return "", true
	}
	b, err := base64.StdEncoding.DecodeString(initial)
	if err != nil {
		ss.reply(501, "5.5.2 Cannot decode response")
		return "", false
	}
	return string(b), true
}

// path extracts the address from "FROM:<addr> params".
func path(arg, prefix string) (string, bool) {
	if len(arg) < len(prefix) || !strings.EqualFold(arg[:len(prefix)], prefix) {
		return "", false
	}
	rest := strings.TrimSpace(arg[len(prefix):])
	if !strings.HasPrefix(rest, "<") {
		return "", false
	}
	end := strings.IndexByte(rest, '>')
	if end < 0 {
		return "", false
	}
	return rest[1:end], true
}

func (ss *session) mail(arg string) {
	switch {
	case !ss.helo:
		ss.reply(503, "5.5.1 Say EHLO first")
	case ss.s.opts.Username != "" && !ss.authed:
		ss.reply(530, "5.7.0 Authentication required")
	case ss.inTx:
		ss.reply(503, "5.5.1 Nested MAIL command")
	default:
		from, ok := path(arg, "FROM:")
		if !ok {
			ss.reply(501, "5.5.4 Syntax: MAIL FROM:<address>")
			return
		}
		ss.from, ss.inTx = from, true
		ss.reply(250, "2.1.0 OK")
	}
}

func (ss *session) rcpt(arg string) {
	if !ss.inTx {
		ss.reply(503, "5.5.1 Need MAIL first")
		return
	}
	to, ok := path(arg, "TO:")
	if !ok || to == "" {
		ss.reply(501, "5.5.4 Syntax: RCPT TO:<address>")
		return
	}
	if ss.s.opts.Reject != nil {
		if code, msg := ss.s.opts.Reject(to); code != 0 {
			ss.reply(code, msg)
			return
		}
	}
	ss.rcpts = append(ss.rcpts, to)
	ss.reply(250, "2.1.5 OK")
}

// data reads one message; it reports false when the connection must end.
func (ss *session) data() bool {
	if !ss.inTx || len(ss.rcpts) == 0 {
		ss.reply(503, "5.5.1 Need RCPT first")
		return true
	}
	ss.reply(354, "Start mail input; end with <CRLF>.<CRLF>")
	raw, err := readData(ss.tp.R)
	if err != nil {
		return false
	}
	m := parse(raw)
	m.From, m.To, m.TLS, m.AuthUser = ss.from, ss.rcpts, ss.tls, ss.user
	ss.s.store(m)
	ss.count++
	ss.reset()
	ss.reply(250, "2.0.0 OK queued as "+strconv.Itoa(ss.count))
	return true
}

// readData reads a dot-terminated body, undoing dot-stuffing and keeping the
// CRLF line endings as sent.
func readData(r *bufio.Reader) ([]byte, error) {
	var buf bytes.Buffer
	for {
		line, err := r.ReadBytes('\n')
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, err
		}
		if bytes.Equal(line, []byte(".\r\n")) || bytes.Equal(line, []byte(".\n")) {
			return buf.Bytes(), nil
		}
		if line[0] == '.' {
			line = line[1:]
		}
		buf.Write(line)
	}
}
