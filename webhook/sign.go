package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Header names of Standard Webhooks.
const (
	// HeaderID carries the message id, the same on every attempt.
	HeaderID = "webhook-id"
	// HeaderTimestamp carries the Unix seconds of the attempt.
	HeaderTimestamp = "webhook-timestamp"
	// HeaderSignature carries space-separated "v1,<base64>" signatures.
	HeaderSignature = "webhook-signature"
)

// SecretPrefix starts every webhook secret.
const SecretPrefix = "whsec_"

// SecretBytes is how many random bytes NewSecret draws (Standard Webhooks
// asks for 24 to 64).
const SecretBytes = 32

// DefaultTolerance is how far a timestamp may be from now when Verify is
// given no tolerance (as in the reference implementations).
const DefaultTolerance = 5 * time.Minute

// Errors of Verify, matched with errors.Is.
var (
	// ErrMissingHeaders means a webhook-* header is absent.
	ErrMissingHeaders = errors.New("webhook: missing " + HeaderID + ", " + HeaderTimestamp + " or " + HeaderSignature + " header")
	// ErrTimestamp means the timestamp is not a number or too far from now.
	ErrTimestamp = errors.New("webhook: bad timestamp")
	// ErrSignature means no v1 signature matches the body.
	ErrSignature = errors.New("webhook: no matching signature")
	// ErrSecret means the secret is not "whsec_" and base64.
	ErrSecret = errors.New("webhook: the secret must be " + SecretPrefix + " followed by base64")
)

// NewSecret returns a new random secret: "whsec_" and the base64 of
// SecretBytes bytes from crypto/rand.
func NewSecret() string {
	b := make([]byte, SecretBytes)
	if _, err := rand.Read(b); err != nil {
		// crypto/rand does not fail on supported platforms.
		panic("webhook: reading random bytes: " + err.Error())
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(b)
}

// secretKey decodes a secret into its key bytes. The prefix is optional, as
// in the reference implementations.
func secretKey(secret string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, SecretPrefix))
	if err != nil || len(key) == 0 {
		return nil, ErrSecret
	}
	return key, nil
}

// signature returns the HMAC-SHA256 of "{msgID}.{ts}.{body}" keyed with key.
func signature(key []byte, msgID string, ts int64, body []byte) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(msgID))
	mac.Write([]byte{'.'})
	mac.Write([]byte(strconv.FormatInt(ts, 10)))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return mac.Sum(nil)
}

// Sign returns the webhook-signature header value for a message:
// "v1," and the base64 HMAC-SHA256 of "{msgID}.{unix seconds of ts}.{body}"
// keyed with the secret's decoded bytes.
func Sign(secret, msgID string, ts time.Time, body []byte) (string, error) {
	key, err := secretKey(secret)
	if err != nil {
		return "", err
	}
	return "v1," + base64.StdEncoding.EncodeToString(signature(key, msgID, ts.Unix(), body)), nil
}

// Verify checks a received message: its headers must carry an id, a
// timestamp within tolerance of now (DefaultTolerance when tolerance is not
// positive) and at least one v1 signature of the body made with secret.
// Signatures are compared in constant time; other versions are ignored.
func Verify(secret string, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	key, err := secretKey(secret)
	if err != nil {
		return err
	}
	id, tsText, sigs := h.Get(HeaderID), h.Get(HeaderTimestamp), h.Get(HeaderSignature)
	if id == "" || tsText == "" || sigs == "" {
		return ErrMissingHeaders
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %q is not Unix seconds", ErrTimestamp, tsText)
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	at := time.Unix(ts, 0)
	if now.Sub(at) > tolerance {
		return fmt.Errorf("%w: %s is too old (more than %s before now)", ErrTimestamp, tsText, tolerance)
	}
	if at.Sub(now) > tolerance {
		return fmt.Errorf("%w: %s is too far in the future (more than %s after now)", ErrTimestamp, tsText, tolerance)
	}
	want := signature(key, id, ts, body)
	for _, sig := range strings.Fields(sigs) {
		version, value, ok := strings.Cut(sig, ",")
		if !ok || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(value)
		if err != nil {
			continue
		}
		if hmac.Equal(got, want) {
			return nil
		}
	}
	return ErrSignature
}
