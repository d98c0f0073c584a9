package password

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// MinLength is the minimum number of characters (runes) that Check requires.
const MinLength = 10

// MaxLength is the maximum length in bytes that Check allows.
const MaxLength = 1024

// The errors that Check returns. Their messages are user-facing sentences.
var (
	errTooShort = fmt.Errorf("the password must have at least %d characters", MinLength)
	errTooLong  = fmt.Errorf("the password must have at most %d bytes", MaxLength)
	errSameChar = errors.New("the password must not consist of a single repeated character")
	errPersonal = errors.New("the password must not be the same as your email address or name")
	errCommon   = errors.New("the password is too common; choose a less predictable one")
)

// Check validates a new password before it is hashed. The password must have
// at least MinLength characters (runes) and at most MaxLength bytes, must not
// consist of a single repeated character, must not be equal, ignoring case,
// to any of the non-empty avoid values (such as the user's email address or
// name), and must not be in a small built-in list of the most common
// passwords, also ignoring case. The error, if any, is a user-facing
// sentence such as "the password must have at least 10 characters".
//
// Check does not trim the password, and neither should the caller: the
// password is hashed exactly as given. Leading and trailing spaces in the
// avoid values are ignored.
func Check(password string, avoid ...string) error {
	if utf8.RuneCountInString(password) < MinLength {
		return errTooShort
	}
	if len(password) > MaxLength {
		return errTooLong
	}
	if sameChar(password) {
		return errSameChar
	}
	for _, a := range avoid {
		if a = strings.TrimSpace(a); a != "" && strings.EqualFold(password, a) {
			return errPersonal
		}
	}
	if _, ok := common[strings.ToLower(password)]; ok {
		return errCommon
	}
	return nil
}

// sameChar reports whether s consists of a single repeated rune.
func sameChar(s string) bool {
	first, _ := utf8.DecodeRuneInString(s)
	for _, r := range s {
		if r != first {
			return false
		}
	}
	return true
}

// common holds, in lower case, well-known passwords from public lists of the
// most used ones. Only those of at least MinLength characters are listed,
// since shorter ones are refused anyway.
var common = setOf(
	"0123456789",
	"0987654321",
	"1234567890",
	"12345678910",
	"123456789a",
	"123456789q",
	"1234567890a",
	"1234512345",
	"123123123123",
	"123qweasdzxc",
	"12345qwert",
	"1q2w3e4r5t",
	"1q2w3e4r5t6y",
	"1qaz2wsx3edc",
	"9876543210",
	"a1b2c3d4e5",
	"abc1234567",
	"abcd123456",
	"abcdefghij",
	"abc123456789",
	"admin12345",
	"admin123456",
	"administrator",
	"asdfghjkl1",
	"asdfghjkl123",
	"baseball123",
	"changeme123",
	"computer123",
	"contrasena",
	"contraseña",
	"contrasinal",
	"dragon1234",
	"football123",
	"iloveyou12",
	"iloveyou123",
	"iloveyou1234",
	"letmein123",
	"letmein1234",
	"monkey12345",
	"motdepasse",
	"passw0rd123",
	"password01",
	"password12",
	"password123",
	"password1234",
	"passwordpassword",
	"passwort123",
	"princess123",
	"q1w2e3r4t5",
	"qazwsxedc123",
	"qazwsxedcrfv",
	"qwerty1234",
	"qwerty12345",
	"qwerty123456",
	"qwertyuiop",
	"qwertyuiop123",
	"starwars123",
	"sunshine123",
	"superman123",
	"welcome123",
	"welcome1234",
	"whatever123",
	"zxcvbnm123",
)

// setOf returns a set of the given strings.
func setOf(items ...string) map[string]struct{} {
	m := make(map[string]struct{}, len(items))
	for _, s := range items {
		m[s] = struct{}{}
	}
	return m
}
