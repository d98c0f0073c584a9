package seal_test

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/leadcycle/leadcycle/seal"
)

func env(v string) func(string) string {
	return func(k string) string {
		if k == seal.EnvSecretKey {
			return v
		}
		return ""
	}
}

func TestSealer(t *testing.T) {
	key := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	s, err := seal.SealerFromEnv(env(key))
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
	if got, err := s.Open(""); got != "" || err != nil {
		t.Errorf("open empty: %q %v", got, err)
	}

	// The same key in hex opens it; another key or no key does not.
	hexKey, _ := seal.SealerFromEnv(env("3031323334353637383961626364656630313233343536373839616263646566"))
	if got, err := hexKey.Open(sealed); err != nil || got != "AQX-secret-token" {
		t.Errorf("hex key: %q %v", got, err)
	}
	other, _ := seal.SealerFromEnv(env(base64.StdEncoding.EncodeToString([]byte("another key of thirty-two bytes!"))))
	if _, err := other.Open(sealed); err == nil || !strings.Contains(err.Error(), "not the key") || !errors.Is(err, seal.ErrCannotOpen) {
		t.Errorf("open with another key: %v", err)
	}
	none, err := seal.SealerFromEnv(env(""))
	if err != nil || none.Encrypts() {
		t.Fatalf("no key: %v", err)
	}
	if _, err := none.Open(sealed); err == nil || !strings.Contains(err.Error(), seal.EnvSecretKey) {
		t.Errorf("open without a key: %v", err)
	}
	tampered := sealed[:len(sealed)-2] + "AA"
	if _, err := s.Open(tampered); err == nil {
		t.Error("a tampered value opened")
	}
	if _, err := s.Open("v1:!!"); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Errorf("open a damaged value: %v", err)
	}
	if _, err := s.Open("v9:abc"); err == nil || !strings.Contains(err.Error(), "unknown format") {
		t.Errorf("open an unknown format: %v", err)
	}
	var oe *seal.OpenError
	if _, err := none.Open(sealed); !errors.As(err, &oe) || oe.Fix == "" {
		t.Errorf("open without a key: %#v", err)
	}
	// Without a key, secrets are stored marked plain and read back by any sealer.
	plain, _ := none.Seal("tok")
	if plain != "plain:tok" {
		t.Errorf("plain seal %q", plain)
	}
	if got, err := s.Open(plain); err != nil || got != "tok" {
		t.Errorf("open plain with a keyed sealer: %q %v", got, err)
	}
	if _, err := seal.SealerFromEnv(env("short")); err == nil {
		t.Error("a short key was accepted")
	}
	if _, err := seal.NewSealer([]byte("16 bytes of key!")); err == nil {
		t.Error("a 16-byte key was accepted")
	}
	// A passphrase of 32 characters or more is hashed into a key.
	if p, err := seal.SealerFromEnv(env("correct horse battery staple, and more")); err != nil || !p.Encrypts() {
		t.Errorf("passphrase: %v", err)
	}
}

func TestNilSealerStoresPlain(t *testing.T) {
	var s *seal.Sealer
	if s.Encrypts() {
		t.Fatal("a nil sealer encrypts")
	}
	got, err := s.Seal("tok")
	if err != nil || got != "plain:tok" {
		t.Fatalf("nil seal: %q %v", got, err)
	}
	if back, err := s.Open(got); err != nil || back != "tok" {
		t.Fatalf("nil open: %q %v", back, err)
	}
	if s.For("x").Encrypts() {
		t.Error("For on a nil sealer encrypts")
	}
}

func TestPurposesDoNotMix(t *testing.T) {
	s, err := seal.NewSealer([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	hooks := s.For("webhook-secret")
	if !hooks.Encrypts() {
		t.Fatal("For lost the key")
	}
	sealed, err := hooks.Seal("whsec_x")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.For("webhook-secret").Open(sealed); err != nil || got != "whsec_x" {
		t.Errorf("same purpose: %q %v", got, err)
	}
	if _, err := s.Open(sealed); err == nil {
		t.Error("a value sealed for webhook-secret opened with the default purpose")
	}
	if _, err := s.For("linkedin-connection-secret").Open(sealed); err == nil {
		t.Error("a value sealed for webhook-secret opened as a LinkedIn secret")
	}
	// The default purpose is DefaultPurpose.
	d, _ := s.Seal("v")
	if got, err := s.For(seal.DefaultPurpose).Open(d); err != nil || got != "v" {
		t.Errorf("default purpose: %q %v", got, err)
	}
}

// TestLinkedInValuesStillOpen opens a value sealed by the sealer as it was in
// package linkedin before it moved here (key "0123456789abcdef0123456789abcdef",
// additional data "leadcycle/linkedin-connection-secret"): tokens stored then
// must keep opening.
func TestLinkedInValuesStillOpen(t *testing.T) {
	s, err := seal.NewSealer([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	const stored = "v1:Iye1Mwq6touWkvXAk2DdKGg1A55LkwhDoklx8V0VnY+U7hdjGHM0dmr154A"
	if got, err := s.For("linkedin-connection-secret").Open(stored); err != nil || got != "AQX-secret-token" {
		t.Fatalf("open a value sealed before the move: %q %v", got, err)
	}
}
