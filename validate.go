package leadcycle

import (
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// validator collects field errors; Err returns them as one EInvalid error.
type validator struct {
	errs []FieldError
}

func (v *validator) add(field, msg string) {
	v.errs = append(v.errs, FieldError{Field: field, Message: msg})
}

// Err returns nil when no error was collected.
func (v *validator) Err() error {
	if len(v.errs) == 0 {
		return nil
	}
	e := &Error{Code: EInvalid, Fields: v.errs}
	e.Message = "validation failed: " + v.errs[0].Field + ": " + v.errs[0].Message
	return e
}

func (v *validator) required(field, s string) {
	if strings.TrimSpace(s) == "" {
		v.add(field, "is required")
	}
}

func (v *validator) maxLen(field, s string, n int) {
	if utf8.RuneCountInString(s) > n {
		v.add(field, "must be at most "+itoa(n)+" characters")
	}
	v.text(field, s)
}

// text rejects strings that no database stores the same way: invalid UTF-8
// and NUL characters.
func (v *validator) text(field, s string) {
	if !utf8.ValidString(s) {
		v.add(field, "must be valid UTF-8")
	} else if strings.IndexByte(s, 0) >= 0 {
		v.add(field, "must not contain NUL characters")
	}
}

func (v *validator) oneOf(field, s string, allowed []string) {
	if strings.IndexByte(s, 0) >= 0 {
		v.add(field, "must not contain NUL characters")
		return
	}
	if !slices.Contains(allowed, s) {
		v.add(field, "must be one of: "+strings.Join(allowed, ", "))
	}
}

func (v *validator) email(field, s string) {
	v.text(field, s)
	if s == "" {
		return
	}
	if !ValidEmail(s) {
		v.add(field, "is not a valid email address")
	}
}

var phonePattern = regexp.MustCompile(`^\+?[0-9 ()./-]{4,31}$`)

func (v *validator) phone(field, s string) {
	if s == "" {
		return
	}
	if !phonePattern.MatchString(s) || strings.Count(s, "+") > 1 {
		v.add(field, "is not a valid phone number")
	}
}

// ValidEmail reports whether s is a bare email address (no display name) whose
// domain has at least one dot.
func ValidEmail(s string) bool {
	if len(s) > 254 || strings.ContainsAny(s, " <>\t\r\n") {
		return false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	domain := s[at+1:]
	return at > 0 && strings.Contains(domain, ".") && !strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".")
}

// NormalizeEmail trims and case-folds an email address.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

var slugPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)

// ValidSlug reports whether s is a lower-case identifier: a letter, then
// letters, digits or underscores, at most 63 characters.
func ValidSlug(s string) bool { return slugPattern.MatchString(s) }

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}
