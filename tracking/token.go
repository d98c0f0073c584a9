package tracking

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/leadcycle/leadcycle"
)

// SecretName is the name of the server secret that signs email tokens, and
// SecretSize its length in bytes.
const (
	SecretName = "email-token-key"
	SecretSize = 32
)

// Token kinds. The kind is signed with the rest, so an open token is never
// accepted as a click token or the reverse.
const (
	KindOpen  = "open"
	KindClick = "click"
	// KindUnsubscribe is the token of an email's unsubscribe link; its
	// email id is the email the contact unsubscribed from.
	KindUnsubscribe = "unsubscribe"
	// KindConfirm is the token of a double opt-in confirmation link; its
	// email id is the consent purpose confirmed.
	KindConfirm = "confirm"
)

const (
	tokenVersion = 1
	macSize      = sha256.Size
	// MaxTokenLength bounds the tokens accepted, in characters.
	MaxTokenLength = 4096
	maxEmailID     = 200
)

// ErrInvalidToken is returned for tokens that are garbled, tampered with,
// signed with another key or of the other kind.
var ErrInvalidToken = errors.New("tracking: invalid token")

// Claim is what an email token says: who was sent which email (and, for a
// click, which address the link leads to), for which lead, and when the token
// was made.
type Claim struct {
	Kind      string
	ContactID leadcycle.ID
	EmailID   string
	LeadID    *leadcycle.ID
	URL       string
	IssuedAt  time.Time
}

// Signer makes and checks the tokens of email open pixels (/o/{token}) and
// click links (/c/{token}): HMAC-SHA256 over a compact binary claim, encoded
// in base64url. Its key never leaves it: String and GoString hide it.
type Signer struct {
	key   []byte
	clock leadcycle.Clock
}

// NewSigner returns a signer with a key of at least 32 bytes. A nil clock is
// the system clock.
func NewSigner(key []byte, clock leadcycle.Clock) (*Signer, error) {
	if len(key) < SecretSize {
		return nil, fmt.Errorf("tracking: signing key must have at least %d bytes", SecretSize)
	}
	if clock == nil {
		clock = leadcycle.SystemClock{}
	}
	return &Signer{key: append([]byte(nil), key...), clock: clock}, nil
}

// SecretStore gives the server's secrets; leadcycle.Store is one.
type SecretStore interface {
	Secret(ctx context.Context, name string, size int) ([]byte, error)
}

// LoadSigner returns the signer keyed with the server secret SecretName,
// which is generated the first time.
func LoadSigner(ctx context.Context, store SecretStore, clock leadcycle.Clock) (*Signer, error) {
	key, err := store.Secret(ctx, SecretName, SecretSize)
	if err != nil {
		return nil, err
	}
	return NewSigner(key, clock)
}

// String hides the key.
func (s *Signer) String() string { return "tracking.Signer{key: [redacted]}" }

// GoString hides the key from %#v.
func (s *Signer) GoString() string { return s.String() }

// OpenToken returns the token of the open pixel of an email sent to a
// contact, optionally about a lead.
func (s *Signer) OpenToken(contactID leadcycle.ID, emailID string, leadID *leadcycle.ID) (string, error) {
	return s.sign(Claim{Kind: KindOpen, ContactID: contactID, EmailID: emailID, LeadID: leadID})
}

// ClickToken returns the token of a link in an email that leads to url, an
// absolute http(s) address.
func (s *Signer) ClickToken(contactID leadcycle.ID, emailID string, leadID *leadcycle.ID, url string) (string, error) {
	return s.sign(Claim{Kind: KindClick, ContactID: contactID, EmailID: emailID, LeadID: leadID, URL: url})
}

// UnsubscribeToken returns the token of the unsubscribe link of an email
// sent to a contact.
func (s *Signer) UnsubscribeToken(contactID leadcycle.ID, emailID string) (string, error) {
	return s.sign(Claim{Kind: KindUnsubscribe, ContactID: contactID, EmailID: emailID})
}

// ConfirmToken returns the token of the link that confirms a contact's
// consent to a purpose (double opt-in).
func (s *Signer) ConfirmToken(contactID leadcycle.ID, purpose string) (string, error) {
	return s.sign(Claim{Kind: KindConfirm, ContactID: contactID, EmailID: purpose})
}

// VerifyUnsubscribe checks an unsubscribe token, or returns ErrInvalidToken.
func (s *Signer) VerifyUnsubscribe(token string) (Claim, error) {
	return s.verify(token, KindUnsubscribe)
}

// VerifyConfirm checks a consent confirmation token (its EmailID is the
// purpose), or returns ErrInvalidToken.
func (s *Signer) VerifyConfirm(token string) (Claim, error) { return s.verify(token, KindConfirm) }

func kindByte(kind string) byte {
	switch kind {
	case KindOpen:
		return 'o'
	case KindClick:
		return 'c'
	case KindUnsubscribe:
		return 'u'
	case KindConfirm:
		return 'k'
	}
	return 0
}

func (s *Signer) sign(c Claim) (string, error) {
	switch {
	case c.ContactID <= 0:
		return "", errors.New("tracking: token: contact id is required")
	case c.EmailID == "" || len(c.EmailID) > maxEmailID:
		return "", fmt.Errorf("tracking: token: email id must have 1 to %d bytes", maxEmailID)
	case c.LeadID != nil && *c.LeadID <= 0:
		return "", errors.New("tracking: token: lead id must be positive")
	case c.Kind == KindClick && (len(c.URL) > leadcycle.MaxTrackedURL || !leadcycle.ValidWebURL(c.URL)):
		return "", fmt.Errorf("tracking: token: the link must be an absolute http or https address of at most %d bytes", leadcycle.MaxTrackedURL)
	}
	b := make([]byte, 0, 64+len(c.EmailID)+len(c.URL))
	b = append(b, tokenVersion, kindByte(c.Kind))
	b = binary.AppendUvarint(b, uint64(s.clock.Now().Unix()))
	b = binary.AppendUvarint(b, uint64(c.ContactID))
	var lead uint64
	if c.LeadID != nil {
		lead = uint64(*c.LeadID)
	}
	b = binary.AppendUvarint(b, lead)
	b = binary.AppendUvarint(b, uint64(len(c.EmailID)))
	b = append(b, c.EmailID...)
	if c.Kind == KindClick {
		b = binary.AppendUvarint(b, uint64(len(c.URL)))
		b = append(b, c.URL...)
	}
	b = append(b, s.mac(b)...)
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func (s *Signer) mac(payload []byte) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write(payload)
	return m.Sum(nil)
}

// VerifyOpen checks an open pixel token and returns its claim, or
// ErrInvalidToken.
func (s *Signer) VerifyOpen(token string) (Claim, error) { return s.verify(token, KindOpen) }

// VerifyClick checks a click token and returns its claim, whose URL is the
// only address to redirect to, or ErrInvalidToken.
func (s *Signer) VerifyClick(token string) (Claim, error) { return s.verify(token, KindClick) }

func (s *Signer) verify(token, kind string) (Claim, error) {
	var c Claim
	if len(token) == 0 || len(token) > MaxTokenLength {
		return c, ErrInvalidToken
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || len(raw) < 2+macSize {
		return c, ErrInvalidToken
	}
	payload, sum := raw[:len(raw)-macSize], raw[len(raw)-macSize:]
	if !hmac.Equal(sum, s.mac(payload)) {
		return c, ErrInvalidToken
	}
	// The signature holds; the payload is ours, but parse it strictly all
	// the same.
	if payload[0] != tokenVersion || payload[1] != kindByte(kind) {
		return c, ErrInvalidToken
	}
	p := payload[2:]
	next := func() (uint64, bool) {
		v, n := binary.Uvarint(p)
		if n <= 0 {
			return 0, false
		}
		p = p[n:]
		return v, true
	}
	str := func(limit int) (string, bool) {
		n, ok := next()
		if !ok || n > uint64(limit) || n > uint64(len(p)) {
			return "", false
		}
		v := string(p[:n])
		p = p[n:]
		return v, true
	}
	issued, ok1 := next()
	contact, ok2 := next()
	lead, ok3 := next()
	email, ok4 := str(maxEmailID)
	if !ok1 || !ok2 || !ok3 || !ok4 || issued > math.MaxInt64 || contact == 0 || contact > math.MaxInt64 || lead > math.MaxInt64 || email == "" {
		return Claim{}, ErrInvalidToken
	}
	c = Claim{Kind: kind, ContactID: leadcycle.ID(contact), EmailID: email, IssuedAt: time.Unix(int64(issued), 0).UTC()}
	if lead != 0 {
		c.LeadID = leadcycle.IDPtr(leadcycle.ID(lead))
	}
	if kind == KindClick {
		u, ok := str(leadcycle.MaxTrackedURL)
		if !ok || !leadcycle.ValidWebURL(u) {
			return Claim{}, ErrInvalidToken
		}
		c.URL = u
	}
	if len(p) != 0 {
		return Claim{}, ErrInvalidToken
	}
	return c, nil
}
