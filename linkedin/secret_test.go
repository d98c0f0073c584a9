package linkedin_test

import (
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/leadcycle/leadcycle/linkedin"
	"github.com/leadcycle/leadcycle/seal"
)

// The sealer itself is tested in package seal; these tests check what
// LinkedIn adds: its purpose, so that tokens stored before the sealer moved
// still open, and errors that say how to reconnect.

func TestSealerOpensTokensStoredBeforeTheMove(t *testing.T) {
	s, err := linkedin.NewSealer([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	// Sealed by linkedin.Sealer before it moved to package seal.
	const stored = "v1:Iye1Mwq6touWkvXAk2DdKGg1A55LkwhDoklx8V0VnY+U7hdjGHM0dmr154A"
	if got, err := s.Open(stored); err != nil || got != "AQX-secret-token" {
		t.Fatalf("open: %q %v", got, err)
	}
	// A sealer wrapped from package seal is bound to the same purpose.
	base, _ := seal.NewSealer([]byte("0123456789abcdef0123456789abcdef"))
	if got, err := linkedin.WrapSealer(base).Open(stored); err != nil || got != "AQX-secret-token" {
		t.Fatalf("open with a wrapped sealer: %q %v", got, err)
	}
	// ...and not to the purpose of other secrets.
	if _, err := base.Open(stored); err == nil {
		t.Error("a LinkedIn token opened with the default purpose")
	}
}

func TestSealerErrorsSayHowToReconnect(t *testing.T) {
	s, _ := linkedin.NewSealer([]byte("0123456789abcdef0123456789abcdef"))
	sealed, err := s.Seal("tok")
	if err != nil {
		t.Fatal(err)
	}
	other, _ := linkedin.NewSealer([]byte("another key of thirty-two bytes!"))
	_, err = other.Open(sealed)
	if err == nil || !errors.Is(err, seal.ErrCannotOpen) {
		t.Fatalf("open with another key: %v", err)
	}
	for _, want := range []string{"the stored LinkedIn credentials cannot be decrypted", "not the key", "set it back, or reconnect (send the tokens again)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	none, err := linkedin.SealerFromEnv(func(string) string { return "" })
	if err != nil || none.Encrypts() {
		t.Fatalf("no key: %v", err)
	}
	if _, err := none.Open(sealed); err == nil || !strings.Contains(err.Error(), linkedin.EnvSecretKey) || !strings.Contains(err.Error(), "reconnect") {
		t.Errorf("open without a key: %v", err)
	}
	var nilSealer *linkedin.Sealer
	if v, err := nilSealer.Seal("x"); err != nil || v != "plain:x" {
		t.Errorf("nil sealer: %q %v", v, err)
	}
	if _, err := linkedin.SealerFromEnv(func(string) string { return "short" }); err == nil {
		t.Error("a short key was accepted")
	}
}

func TestTokensAreSealedAtRest(t *testing.T) {
	key := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	sealer, err := linkedin.SealerFromEnv(func(string) string { return key })
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, func(o *linkedin.Options) { o.Sealer = sealer })
	h.addLeads(2)
	c := h.connection(func(c *linkedin.Connection, s *linkedin.Secrets) {
		s.RefreshToken, s.ClientSecret = "refresh-1", "client-secret"
	})
	if c.Secrets != (linkedin.Secrets{}) || !c.HasToken || !c.HasRefreshToken || !c.HasClientSecret {
		t.Fatalf("created connection carries secrets %+v or lacks has_* %+v", c.Secrets, c)
	}
	stored := h.get(c.ID).Secrets
	for _, v := range []string{stored.AccessToken, stored.RefreshToken, stored.ClientSecret} {
		if !strings.HasPrefix(v, "v1:") {
			t.Errorf("stored secret %q is not sealed", v)
		}
	}
	// The sync opens them.
	wantStatus(t, h.sync(c.ID), linkedin.RunSucceeded, "")

	// Another key cannot: the sync fails saying so.
	other, _ := linkedin.NewSealer([]byte("another key of thirty-two bytes!"))
	h.svc = linkedin.NewService(h.ls, h.cap, linkedin.Options{Sealer: other, Clock: h.clock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	wantStatus(t, h.sync(c.ID), linkedin.RunFailed, "cannot be decrypted")
}
