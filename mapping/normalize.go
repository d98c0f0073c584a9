package mapping

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// NormalizeHeader is the normalisation Auto uses to compare headers: it
// applies Unicode compatibility folding (full-width letters and digits become
// ASCII, "º" becomes "o"), folds case ("ß" becomes "ss"), removes accents and
// keeps only letters and digits. "Correo electrónico", "CORREO_ELECTRONICO"
// and "Correo-Electrónico " all give "correoelectronico"; Chinese headers
// keep their characters ("電子郵件" stays "電子郵件").
func NormalizeHeader(h string) string {
	s := strings.ToLower(norm.NFKC.String(h))
	s = strings.ReplaceAll(s, "ß", "ss")
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// foldWords is NormalizeHeader that keeps word boundaries: letters and digits
// are folded the same way and every other run of characters becomes a single
// space, so "2 de Xaneiro, 2006" gives "2 de xaneiro 2006".
func foldWords(s string) string {
	s = strings.ToLower(norm.NFKC.String(s))
	s = strings.ReplaceAll(s, "ß", "ss")
	var b strings.Builder
	space := false
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
		default:
			space = true
		}
	}
	return b.String()
}

// trimHeader removes the spaces around a header and a byte order mark that
// spreadsheet programs put before the first one.
func trimHeader(h string) string {
	return strings.TrimSpace(strings.TrimPrefix(h, "\uFEFF"))
}

// closing maps closing brackets to their opening ones.
var closing = map[rune]string{')': "(", ']': "[", '）': "（", '】': "【"}

// withoutBrackets removes the bracketed parts at the end of a header, such
// as "(Base)" or "[required]"; it returns "" when there are none. Leading ones
// stay: Dynamics "(Do Not Modify) Contact" holds ids, not contact names.
func withoutBrackets(h string) string {
	h = strings.TrimSpace(h)
	out := h
	for {
		r, _ := utf8.DecodeLastRuneInString(out)
		open, ok := closing[r]
		i := strings.LastIndex(out, open)
		if !ok || i <= 0 {
			break
		}
		out = strings.TrimSpace(out[:i])
	}
	if out == h {
		return ""
	}
	return out
}
