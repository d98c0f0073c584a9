package linkedin_test

import (
	"encoding/base64"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/leadcycle/leadcycle/linkedin"
)

func TestSealer(t *testing.T) {
	key := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == linkedin.EnvSecretKey {
				return v
			}
			return ""
		}
	}
	s, err := linkedin.SealerFromEnv(env(key))
	if err != nil || !s.Encrypts() {
		t.Fatalf("sealer from a base64 key: %v", err)
	}
	sealed, err := s.Seal("AQX-secret-token")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sealed, "AQX-secret-token") || !strings.HasPrefix(sealed, "v1:") {
		t.Fatalf("sealed value %q shows the secret", sealed)
	}
	again, _ := s.Seal("AQX-secret-token")
	if again == sealed {
		t.Error("sealing twice gave the same ciphertext (nonce reused)")
	}
	if got, err := s.Open(sealed); err != nil || got != "AQX-secret-token" {
		t.Fatalf("open: %q %v", got, err)
	}
	if got, _ := s.Seal(""); got != "" {
		t.Errorf("empty secret sealed as %q", got)
	}

	// The same key in hex opens it; another key or no key does not.
	hexKey, _ := linkedin.SealerFromEnv(env("3031323334353637383961626364656630313233343536373839616263646566"))
	if got, err := hexKey.Open(sealed); err != nil || got != "AQX-secret-token" {
		t.Errorf("hex key: %q %v", got, err)
	}
	other, _ := linkedin.SealerFromEnv(env(base64.StdEncoding.EncodeToString([]byte("another key of thirty-two bytes!"))))
	if _, err := other.Open(sealed); err == nil || !strings.Contains(err.Error(), "not the key") {
		t.Errorf("open with another key: %v", err)
	}
	none, err := linkedin.SealerFromEnv(env(""))
	if err != nil || none.Encrypts() {
		t.Fatalf("no key: %v", err)
	}
	if _, err := none.Open(sealed); err == nil || !strings.Contains(err.Error(), linkedin.EnvSecretKey) {
		t.Errorf("open without a key: %v", err)
	}
	tampered := sealed[:len(sealed)-2] + "AA"
	if _, err := s.Open(tampered); err == nil {
		t.Error("a tampered value opened")
	}
	// Without a key, secrets are stored marked plain and read back by any sealer.
	plain, _ := none.Seal("tok")
	if plain != "plain:tok" {
		t.Errorf("plain seal %q", plain)
	}
	if got, err := s.Open(plain); err != nil || got != "tok" {
		t.Errorf("open plain with a keyed sealer: %q %v", got, err)
	}
	if _, err := linkedin.SealerFromEnv(env("short")); err == nil {
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
