package password

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCheck(t *testing.T) {
	const email = "john.doe@example.com"
	const name = "Maximilian Mustermann"
	// varied returns n bytes of text that is neither repetitive nor common.
	varied := func(n int) string {
		return strings.Repeat("Tr0ub4dor&3-", n/12+1)[:n]
	}
	tests := []struct {
		name     string
		password string
		avoid    []string
		want     error
	}{
		// Accepted.
		{"passphrase", "correct horse battery staple", []string{email, name}, nil},
		{"exactly 10 characters", "Tr0ub4dor&", nil, nil},
		{"10 multibyte characters", "ñandú pájá", nil, nil},
		{"spaces kept", "  horse battery  ", nil, nil},
		{"exactly 1024 bytes", varied(1024), nil, nil},
		{"contains the email", email + "!x", []string{email}, nil},
		{"empty avoid values ignored", "correct horse battery staple", []string{"", "   "}, nil},

		// Too short.
		{"empty", "", nil, errTooShort},
		{"short", "short", nil, errTooShort},
		{"9 characters", "123456789", nil, errTooShort},
		{"9 characters in 10 bytes", "contraseñ", nil, errTooShort},
		{"9 characters plus spaces counted", "  abcdef ", nil, errTooShort},

		// Too long.
		{"1025 bytes", varied(1025), nil, errTooLong},
		{"1026 bytes in 513 characters", strings.Repeat("ñé", 513)[:1026], nil, errTooLong},

		// The same character.
		{"same letter", "aaaaaaaaaa", nil, errSameChar},
		{"same digit", "1111111111111", nil, errSameChar},
		{"same multibyte", "ññññññññññ", nil, errSameChar},
		{"only spaces", "          ", nil, errSameChar},

		// Equal to the email or name.
		{"equal to email", email, []string{email, name}, errPersonal},
		{"equal to email ignoring case", "John.Doe@Example.COM", []string{email}, errPersonal},
		{"equal to name", name, []string{email, name}, errPersonal},
		{"equal to name ignoring case", "maximilian mustermann", []string{email, name}, errPersonal},
		{"avoid value with spaces", email, []string{"  " + email + " "}, errPersonal},

		// Common.
		{"password123", "password123", nil, errCommon},
		{"Password123 ignoring case", "Password123", nil, errCommon},
		{"qwertyuiop", "qwertyuiop", nil, errCommon},
		{"1234567890", "1234567890", nil, errCommon},
		{"contrasinal", "contrasinal", nil, errCommon},
		{"iloveyou123", "iloveyou123", nil, errCommon},
		{"CONTRASEÑA ignoring case", "CONTRASEÑA", nil, errCommon},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check(tt.password, tt.avoid...)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Check(%q, %q) = %v, want %v", tt.password, tt.avoid, err, tt.want)
			}
		})
	}
}

func TestCheckMessages(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{errTooShort, "the password must have at least 10 characters"},
		{errTooLong, "the password must have at most 1024 bytes"},
		{errSameChar, "the password must not consist of a single repeated character"},
		{errPersonal, "the password must not be the same as your email address or name"},
		{errCommon, "the password is too common; choose a less predictable one"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("message = %q, want %q", got, tt.want)
		}
	}
}

// TestCommonList checks that the built-in list is large enough, that its
// entries are in lower case (Check compares in lower case) and that each
// entry is refused as common rather than for another reason.
func TestCommonList(t *testing.T) {
	if len(common) < 50 {
		t.Errorf("common has %d entries, want at least 50", len(common))
	}
	for s := range common {
		if s != strings.ToLower(s) {
			t.Errorf("common entry %q is not in lower case", s)
		}
		if n := utf8.RuneCountInString(s); n < MinLength {
			t.Errorf("common entry %q has %d characters, fewer than %d", s, n, MinLength)
		}
		if err := Check(s); err != errCommon {
			t.Errorf("Check(%q) = %v, want %v", s, err, errCommon)
		}
		if err := Check(strings.ToUpper(s)); err != errCommon {
			t.Errorf("Check(%q) = %v, want %v", strings.ToUpper(s), err, errCommon)
		}
	}
}
