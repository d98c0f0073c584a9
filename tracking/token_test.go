package tracking

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/leadcycle/leadcycle"
)

var testKey = bytes.Repeat([]byte{0x42}, SecretSize)

func testSigner(t testing.TB, key []byte) *Signer {
	t.Helper()
	s, err := NewSigner(key, leadcycle.NewFixedClock(time.Date(2026, 5, 1, 9, 30, 15, 123456000, time.UTC)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestTokensRoundTrip(t *testing.T) {
	s := testSigner(t, testKey)
	lead := leadcycle.ID(77)
	issued := time.Date(2026, 5, 1, 9, 30, 15, 0, time.UTC)

	open, err := s.OpenToken(12, "news-2026-05", &lead)
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.VerifyOpen(open)
	if err != nil {
		t.Fatal(err)
	}
	if c.Kind != KindOpen || c.ContactID != 12 || c.EmailID != "news-2026-05" || c.LeadID == nil || *c.LeadID != 77 || c.URL != "" || !c.IssuedAt.Equal(issued) {
		t.Errorf("open claim = %+v", c)
	}
	if strings.ContainsAny(open, "+/=") || len(open) > 120 {
		t.Errorf("open token is not compact base64url: %q (%d)", open, len(open))
	}

	link := "https://www.example.com/offer?utm_source=email&a=1#top"
	click, err := s.ClickToken(12, "news-2026-05", nil, link)
	if err != nil {
		t.Fatal(err)
	}
	c, err = s.VerifyClick(click)
	if err != nil {
		t.Fatal(err)
	}
	if c.Kind != KindClick || c.ContactID != 12 || c.LeadID != nil || c.URL != link {
		t.Errorf("click claim = %+v", c)
	}

	// The kind is signed: an open token is no click token, and the reverse.
	if _, err := s.VerifyClick(open); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("open token verified as a click: %v", err)
	}
	if _, err := s.VerifyOpen(click); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("click token verified as an open: %v", err)
	}
}

func TestTokensRejectTampering(t *testing.T) {
	s := testSigner(t, testKey)
	click, err := s.ClickToken(12, "news", nil, "https://www.example.com/a")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(click)
	// Every single bit flipped anywhere breaks the token.
	for i := range raw {
		for bit := range 8 {
			bad := bytes.Clone(raw)
			bad[i] ^= 1 << bit
			if _, err := s.VerifyClick(base64.RawURLEncoding.EncodeToString(bad)); !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("byte %d bit %d flipped: the token still verifies", i, bit)
			}
		}
	}
	// Every character changed breaks it.
	for i := range click {
		b := []byte(click)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		if c, err := s.VerifyClick(string(b)); err == nil {
			t.Fatalf("character %d changed: verifies as %+v", i, c)
		}
	}
	// The same claim for another address, with the original signature.
	payload := raw[:len(raw)-macSize]
	mac := raw[len(raw)-macSize:]
	other := bytes.Replace(payload, []byte("https://www.example.com/a"), []byte("https://evil.example.net"), 1)
	other = append(other[:len(other)-len("https://evil.example.net")-1], byte(len("https://evil.example.net")))
	other = append(other, "https://evil.example.net"...)
	forged := base64.RawURLEncoding.EncodeToString(append(other, mac...))
	if _, err := s.VerifyClick(forged); !errors.Is(err, ErrInvalidToken) {
		t.Error("a token re-pointed at another address verifies")
	}
	// Signed with another key.
	otherKey := bytes.Repeat([]byte{0x43}, SecretSize)
	if _, err := testSigner(t, otherKey).VerifyClick(click); !errors.Is(err, ErrInvalidToken) {
		t.Error("a token verifies under another key")
	}
	// Truncated, extended, garbled.
	for _, bad := range []string{
		"", "a", "abc", "!!!!", "%2e%2e", "../../etc/passwd", click[:len(click)-1], click + "A", click + "=",
		base64.RawURLEncoding.EncodeToString(append(bytes.Clone(raw), 0)),
		base64.URLEncoding.EncodeToString(raw), // padded
		base64.StdEncoding.EncodeToString(raw), // other alphabet
		strings.Repeat("A", MaxTokenLength+1),
	} {
		if bad == click {
			continue // another encoding that happens to be the same text
		}
		if _, err := s.VerifyClick(bad); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("%q verifies", bad)
		}
	}
}

// TestTokensSignedPayloadsAreParsedStrictly signs malformed payloads with the
// right key: even then nothing half-formed is accepted.
func TestTokensSignedPayloadsAreParsedStrictly(t *testing.T) {
	s := testSigner(t, testKey)
	sign := func(p []byte) string {
		return base64.RawURLEncoding.EncodeToString(append(bytes.Clone(p), s.mac(p)...))
	}
	good := func(kind byte, url string) []byte {
		b := []byte{tokenVersion, kind}
		b = binary.AppendUvarint(b, 1000)
		b = binary.AppendUvarint(b, 5)
		b = binary.AppendUvarint(b, 0)
		b = binary.AppendUvarint(b, 2)
		b = append(b, "e1"...)
		if kind == 'c' {
			b = binary.AppendUvarint(b, uint64(len(url)))
			b = append(b, url...)
		}
		return b
	}
	if _, err := s.VerifyClick(sign(good('c', "https://ok.example/"))); err != nil {
		t.Fatalf("the well-formed payload does not verify: %v", err)
	}
	cases := map[string][]byte{
		"javascript URL":  good('c', "javascript:alert(1)"),
		"relative URL":    good('c', "//evil.example/"),
		"other version":   append([]byte{2}, good('c', "https://ok.example/")[1:]...),
		"trailing byte":   append(good('c', "https://ok.example/"), 0),
		"short":           good('c', "https://ok.example/")[:8],
		"contact zero":    {tokenVersion, 'c', 1, 0, 0, 1, 'e', 3, 'h', 't', 't'},
		"length past end": {tokenVersion, 'c', 1, 5, 0, 50, 'e'},
		"only a header":   {tokenVersion, 'c'},
		"huge contact id": append([]byte{tokenVersion, 'o', 1}, append(binary.AppendUvarint(nil, 1<<63), 0, 1, 'e')...),
		"empty email id":  {tokenVersion, 'o', 1, 5, 0, 0},
		"unknown kind":    append([]byte{tokenVersion, 'x'}, good('o', "")[2:]...),
		"open as a click": good('o', ""),
	}
	for name, p := range cases {
		if _, err := s.VerifyClick(sign(p)); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("%s: verifies as a click", name)
		}
	}
}

func TestTokensRefuseBadClaims(t *testing.T) {
	s := testSigner(t, testKey)
	zero := leadcycle.ID(0)
	for name, err := range map[string]error{
		"no contact":          func() error { _, err := s.OpenToken(0, "e", nil); return err }(),
		"no email":            func() error { _, err := s.OpenToken(1, "", nil); return err }(),
		"long email":          func() error { _, err := s.OpenToken(1, strings.Repeat("e", 201), nil); return err }(),
		"zero lead":           func() error { _, err := s.OpenToken(1, "e", &zero); return err }(),
		"javascript link":     func() error { _, err := s.ClickToken(1, "e", nil, "javascript:alert(1)"); return err }(),
		"relative link":       func() error { _, err := s.ClickToken(1, "e", nil, "/offer"); return err }(),
		"protocol-less link":  func() error { _, err := s.ClickToken(1, "e", nil, "//evil.example/"); return err }(),
		"link with a newline": func() error { _, err := s.ClickToken(1, "e", nil, "https://a.example/\r\nX: y"); return err }(),
		"long link": func() error {
			_, err := s.ClickToken(1, "e", nil, "https://a.example/"+strings.Repeat("a", 2048))
			return err
		}(),
	} {
		if err == nil {
			t.Errorf("%s: a token was made", name)
		}
	}
	if _, err := NewSigner(make([]byte, 16), nil); err == nil {
		t.Error("a 16-byte key was accepted")
	}
}

func TestSignerHidesItsKey(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	s := testSigner(t, key)
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		out := fmt.Sprintf(format, s)
		if strings.Contains(out, string(key)) || strings.Contains(out, hex.EncodeToString(key)) || strings.Contains(out, fmt.Sprint(key)) {
			t.Errorf("%s shows the key: %s", format, out)
		}
	}
	key[0] = 'X' // the signer keeps its own copy
	if _, err := s.OpenToken(1, "e", nil); err != nil {
		t.Fatal(err)
	}
}

type fakeSecrets map[string][]byte

func (f fakeSecrets) Secret(_ context.Context, name string, size int) ([]byte, error) {
	if v, ok := f[name]; ok {
		return v, nil
	}
	return nil, errors.New("no secret")
}

func TestLoadSigner(t *testing.T) {
	a, err := LoadSigner(context.Background(), fakeSecrets{SecretName: testKey}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := a.OpenToken(3, "e", nil)
	if _, err := testSigner(t, testKey).VerifyOpen(tok); err != nil {
		t.Errorf("a loaded signer does not use the stored key: %v", err)
	}
	if _, err := LoadSigner(context.Background(), fakeSecrets{}, nil); err == nil {
		t.Error("LoadSigner without a secret")
	}
}

func FuzzVerify(f *testing.F) {
	s := testSigner(f, testKey)
	open, _ := s.OpenToken(1, "e", nil)
	click, _ := s.ClickToken(1, "e", nil, "https://a.example/")
	for _, seed := range []string{"", "abc", open, click, click[:10]} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		if c, err := s.VerifyClick(tok); err == nil && !leadcycle.ValidWebURL(c.URL) {
			t.Fatalf("a click token verified with the address %q", c.URL)
		}
		_, _ = s.VerifyOpen(tok)
	})
}
