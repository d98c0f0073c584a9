// Package seal encrypts secrets before they are stored: LinkedIn tokens,
// webhook signing secrets and anything else the server must read back but
// nobody who reads the database should.
//
// A Sealer uses AES-256-GCM with a key from LEADCYCLE_SECRET_KEY. Without a
// key it stores values marked as plain text ("plain:" prefix), so that a key
// can be added later: values sealed with a key start with "v1:". Every
// ciphertext is bound to a purpose (see Sealer.For), so that a value sealed
// for one use does not open as another.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// EnvSecretKey names the environment variable holding the key that encrypts
// secrets at rest: 32 random bytes in base64 or hex
// (openssl rand -base64 32).
const EnvSecretKey = "LEADCYCLE_SECRET_KEY"

// Sealed values are prefixed with how they were sealed.
const (
	sealedAESGCM = "v1:"
	sealedPlain  = "plain:"
)

// DefaultPurpose is the purpose of a sealer that was not given one with For.
const DefaultPurpose = "secret"

// Sealer encrypts secrets before they are stored (AES-256-GCM). Without a
// key it stores them marked as plain text: they are still never returned by
// the API, but anyone who reads the database can read them. A nil *Sealer
// behaves like a sealer without a key.
type Sealer struct {
	aead cipher.AEAD
	// ad is the additional data bound to every ciphertext:
	// "leadcycle/" + purpose.
	ad []byte
}

// NewSealer returns a sealer with a 32-byte key and the default purpose; a
// nil key seals nothing (values are stored marked plain).
func NewSealer(key []byte) (*Sealer, error) {
	s := &Sealer{ad: additionalData(DefaultPurpose)}
	if key == nil {
		return s, nil
	}
	if len(key) != 32 {
		return nil, fmt.Errorf("the secret key must be 32 bytes, not %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	if s.aead, err = cipher.NewGCM(block); err != nil {
		return nil, err
	}
	return s, nil
}

// ParseKey reads a key written in base64 (standard or URL alphabet, padded or
// not) or hex. A longer passphrase is accepted too and hashed with SHA-256.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == 32 {
			return b, nil
		}
	}
	if b, err := hex.DecodeString(s); err == nil && len(b) == 32 {
		return b, nil
	}
	if len(s) >= 32 {
		sum := sha256.Sum256([]byte(s))
		return sum[:], nil
	}
	return nil, fmt.Errorf("%s must be 32 random bytes in base64 or hex (for example the output of: openssl rand -base64 32)", EnvSecretKey)
}

// SealerFromEnv returns the sealer for the key in LEADCYCLE_SECRET_KEY, or a
// sealer that encrypts nothing when it is not set.
func SealerFromEnv(getenv func(string) string) (*Sealer, error) {
	v := getenv(EnvSecretKey)
	if strings.TrimSpace(v) == "" {
		return NewSealer(nil)
	}
	key, err := ParseKey(v)
	if err != nil {
		return nil, err
	}
	return NewSealer(key)
}

// For returns a sealer with the same key whose values are bound to purpose
// (for example "webhook-secret"): a value sealed for one purpose does not open
// for another. The receiver is not changed.
func (s *Sealer) For(purpose string) *Sealer {
	out := &Sealer{ad: additionalData(purpose)}
	if s != nil {
		out.aead = s.aead
	}
	return out
}

func additionalData(purpose string) []byte { return []byte("leadcycle/" + purpose) }

// Encrypts reports whether the sealer has a key.
func (s *Sealer) Encrypts() bool { return s != nil && s.aead != nil }

// Seal returns the stored form of a secret; "" stays "".
func (s *Sealer) Seal(plain string) (string, error) {
	if plain == "" {
		return "", nil
	}
	if !s.Encrypts() {
		return sealedPlain + plain, nil
	}
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	out := s.aead.Seal(nonce, nonce, []byte(plain), s.ad)
	return sealedAESGCM + base64.RawStdEncoding.EncodeToString(out), nil
}

// ErrCannotOpen is matched (errors.Is) by every error of Open.
var ErrCannotOpen = errors.New("the stored secret cannot be decrypted")

// OpenError explains why a stored value cannot be opened. Callers that know
// what the value is may word their own message from Reason and Fix.
type OpenError struct {
	// Reason says what is wrong, for example "the stored value is damaged".
	Reason string
	// Fix says how an operator can repair it without storing the secret
	// again; it is empty when only storing the secret again helps.
	Fix string
}

// Error returns "the stored secret cannot be decrypted: " with the reason and
// the fix.
func (e *OpenError) Error() string {
	msg := ErrCannotOpen.Error() + ": " + e.Reason
	if e.Fix != "" {
		msg += "; " + e.Fix
	}
	return msg
}

// Is makes errors.Is(err, ErrCannotOpen) true.
func (e *OpenError) Is(target error) bool { return target == ErrCannotOpen }

// Open returns the secret from its stored form. Values stored plain open with
// any sealer; encrypted values need the key and the purpose they were sealed
// with. Its errors are *OpenError.
func (s *Sealer) Open(sealed string) (string, error) {
	switch {
	case sealed == "":
		return "", nil
	case strings.HasPrefix(sealed, sealedPlain):
		return strings.TrimPrefix(sealed, sealedPlain), nil
	case strings.HasPrefix(sealed, sealedAESGCM):
		if !s.Encrypts() {
			return "", &OpenError{
				Reason: "it was encrypted with a key and " + EnvSecretKey + " is not set",
				Fix:    "set " + EnvSecretKey + " to that key",
			}
		}
		raw, err := base64.RawStdEncoding.DecodeString(strings.TrimPrefix(sealed, sealedAESGCM))
		if err != nil || len(raw) < s.aead.NonceSize() {
			return "", &OpenError{Reason: "the stored value is damaged"}
		}
		plain, err := s.aead.Open(nil, raw[:s.aead.NonceSize()], raw[s.aead.NonceSize():], s.ad)
		if err != nil {
			return "", &OpenError{
				Reason: EnvSecretKey + " is not the key it was stored with",
				Fix:    "set it back",
			}
		}
		return string(plain), nil
	default:
		return "", &OpenError{Reason: "unknown format"}
	}
}
