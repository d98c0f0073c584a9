// Package match normalises field values and turns them into match keys. It is
// pure: storage keeps one key per record and strategy, and a capture looks
// the key up, so "all listed fields equal after normalisation" becomes one
// indexed equality.
package match

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"unicode"

	"github.com/nyaruka/phonenumbers"
	"golang.org/x/net/idna"
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Field kinds decide the normalisation.
const (
	KindEmail = "email"
	KindPhone = "phone"
	KindText  = "text"
	KindID    = "id"
)

var folder = cases.Fold()

// Email trims and case-folds an address and converts its domain to ASCII
// (IDNA), so "Ana@Ría.gal" and "ana@xn--ra-yja.gal" match.
func Email(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return s
	}
	domain, err := idna.Lookup.ToASCII(s[at+1:])
	if err != nil {
		return s
	}
	return s[:at+1] + domain
}

// Phone returns the number in E.164 form, parsing national numbers in the
// default region (an ISO country code such as "ES"). A number that cannot be
// parsed falls back to its digits, with a leading + kept.
func Phone(s, region string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	if region == "" {
		region = "ZZ"
	}
	if n, err := phonenumbers.Parse(s, strings.ToUpper(region)); err == nil && phonenumbers.IsPossibleNumber(n) {
		return phonenumbers.Format(n, phonenumbers.E164)
	}
	var b strings.Builder
	for i, r := range s {
		if r == '+' && i == 0 || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Text trims, applies Unicode NFC and case-folds, and collapses inner runs of
// white space.
func Text(s string) string {
	s = norm.NFC.String(strings.TrimSpace(s))
	return folder.String(strings.Join(strings.Fields(s), " "))
}

// Normalize applies the normalisation of kind.
func Normalize(kind, value, region string) string {
	switch kind {
	case KindEmail:
		return Email(value)
	case KindPhone:
		return Phone(value, region)
	case KindID:
		return strings.TrimSpace(value)
	default:
		return Text(value)
	}
}

// Key combines normalised values into a match key. It returns "" when any
// value is empty: a record with a missing field never matches on it.
func Key(values []string) string {
	h := sha256.New()
	for _, v := range values {
		if v == "" {
			return ""
		}
		h.Write([]byte(v))
		h.Write([]byte{0x1f})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}
