package linkedin

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
// LinkedIn tokens at rest: 32 random bytes in base64 or hex
// (openssl rand -base64 32).
const EnvSecretKey = "LEADCYCLE_SECRET_KEY"

// Sealed values are prefixed with how they were sealed.
const (
	sealedAESGCM = "v1:"
	sealedPlain  = "plain:"
)

// additional data bound to every ciphertext, so that a value sealed for
// another purpose with the same key does not open here.
var sealAD = []byte("leadcycle/linkedin-connection-secret")

// Sealer encrypts credentials before they are stored (AES-256-GCM). Without a
// key it stores them marked as plain text: they are still never returned by
// the API, but anyone who reads the database can read them.
type Sealer struct {
	aead cipher.AEAD
}

// NewSealer returns a sealer with a 32-byte key; a nil key seals nothing.
func NewSealer(key []byte) (*Sealer, error) {
	if key == nil {
		return &Sealer{}, nil
	}
	if len(key) != 32 {
		return nil, fmt.Errorf("the secret key must be 32 bytes, not %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead}, nil
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
	out := s.aead.Seal(nonce, nonce, []byte(plain), sealAD)
	return sealedAESGCM + base64.RawStdEncoding.EncodeToString(out), nil
}

// errCannotOpen explains a secret that cannot be decrypted.
var errCannotOpen = errors.New("the stored LinkedIn credentials cannot be decrypted")

// Open returns the secret from its stored form.
func (s *Sealer) Open(sealed string) (string, error) {
	switch {
	case sealed == "":
		return "", nil
	case strings.HasPrefix(sealed, sealedPlain):
		return strings.TrimPrefix(sealed, sealedPlain), nil
	case strings.HasPrefix(sealed, sealedAESGCM):
		if !s.Encrypts() {
			return "", fmt.Errorf("%w: they were encrypted with a key; set %s to that key, or reconnect (send the tokens again)", errCannotOpen, EnvSecretKey)
		}
		raw, err := base64.RawStdEncoding.DecodeString(strings.TrimPrefix(sealed, sealedAESGCM))
		if err != nil || len(raw) < s.aead.NonceSize() {
			return "", fmt.Errorf("%w: the stored value is damaged; reconnect (send the tokens again)", errCannotOpen)
		}
		plain, err := s.aead.Open(nil, raw[:s.aead.NonceSize()], raw[s.aead.NonceSize():], sealAD)
		if err != nil {
			return "", fmt.Errorf("%w: %s is not the key they were stored with; set it back, or reconnect (send the tokens again)", errCannotOpen, EnvSecretKey)
		}
		return string(plain), nil
	default:
		return "", fmt.Errorf("%w: unknown format; reconnect (send the tokens again)", errCannotOpen)
	}
}

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
