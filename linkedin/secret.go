package linkedin

import (
	"errors"
	"fmt"

	"github.com/leadcycle/leadcycle/seal"
)

// EnvSecretKey names the environment variable holding the key that encrypts
// LinkedIn tokens at rest (see package seal).
const EnvSecretKey = seal.EnvSecretKey

// SealPurpose is the purpose LinkedIn credentials are sealed for (see
// seal.Sealer.For). It must not change: tokens already stored are bound to it.
const SealPurpose = "linkedin-connection-secret"

// Sealer seals LinkedIn credentials before they are stored: a *seal.Sealer
// bound to SealPurpose, whose errors say how to reconnect. A nil *Sealer
// stores them unencrypted (marked plain).
type Sealer struct {
	s *seal.Sealer
}

// NewSealer returns a sealer with a 32-byte key; a nil key seals nothing.
func NewSealer(key []byte) (*Sealer, error) {
	s, err := seal.NewSealer(key)
	if err != nil {
		return nil, err
	}
	return WrapSealer(s), nil
}

// SealerFromEnv returns the sealer for the key in LEADCYCLE_SECRET_KEY, or a
// sealer that encrypts nothing when it is not set.
func SealerFromEnv(getenv func(string) string) (*Sealer, error) {
	s, err := seal.SealerFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	return WrapSealer(s), nil
}

// WrapSealer returns a LinkedIn sealer with the key of s (nil: no key), so
// that one sealer read from the environment serves LinkedIn and webhooks.
func WrapSealer(s *seal.Sealer) *Sealer { return &Sealer{s: s.For(SealPurpose)} }

// ParseKey reads a key written in base64 or hex (see seal.ParseKey).
func ParseKey(s string) ([]byte, error) { return seal.ParseKey(s) }

// Encrypts reports whether the sealer has a key.
func (s *Sealer) Encrypts() bool { return s.inner().Encrypts() }

// Seal returns the stored form of a secret; "" stays "".
func (s *Sealer) Seal(plain string) (string, error) { return s.inner().Seal(plain) }

// inner returns the wrapped sealer; nil (no key) for a nil s.
func (s *Sealer) inner() *seal.Sealer {
	if s == nil {
		return nil
	}
	return s.s
}

// Open returns the secret from its stored form. Its errors say that the
// stored LinkedIn credentials cannot be decrypted, why, and how to repair it.
func (s *Sealer) Open(sealed string) (string, error) {
	plain, err := s.inner().Open(sealed)
	if err == nil {
		return plain, nil
	}
	var oe *seal.OpenError
	if !errors.As(err, &oe) {
		return "", err
	}
	fix := "reconnect (send the tokens again)"
	if oe.Fix != "" {
		fix = oe.Fix + ", or " + fix
	}
	return "", &openError{msg: fmt.Sprintf("the stored LinkedIn credentials cannot be decrypted: %s; %s", oe.Reason, fix), err: oe}
}

// openError words a seal.OpenError for LinkedIn credentials.
type openError struct {
	msg string
	err *seal.OpenError
}

func (e *openError) Error() string { return e.msg }
func (e *openError) Unwrap() error { return e.err }

// SealSecrets seals each secret.
func (s *Sealer) SealSecrets(in Secrets) (Secrets, error) {
	var out Secrets
	var err error
	if out.AccessToken, err = s.Seal(in.AccessToken); err != nil {
		return out, err
	}
	if out.RefreshToken, err = s.Seal(in.RefreshToken); err != nil {
		return out, err
	}
	out.ClientSecret, err = s.Seal(in.ClientSecret)
	return out, err
}

// OpenSecrets opens each secret.
func (s *Sealer) OpenSecrets(in Secrets) (Secrets, error) {
	var out Secrets
	var err error
	if out.AccessToken, err = s.Open(in.AccessToken); err != nil {
		return out, err
	}
	if out.RefreshToken, err = s.Open(in.RefreshToken); err != nil {
		return out, err
	}
	out.ClientSecret, err = s.Open(in.ClientSecret)
	return out, err
}
