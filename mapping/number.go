package mapping

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Currency marks around amounts: symbols (optionally after letters, as in
// NT$, R$, US$), ISO codes and the Chinese 元.
var (
	currencyPrefix = regexp.MustCompile(`^(?:[A-Za-z]{0,3}\p{Sc}|(?i:eur|usd|gbp|chf|twd|ntd|cny|rmb|jpy|brl|mxn|ars|clp|cop|cad|aud|hkd|sgd|sek|nok|dkk|pln))\s*`)
	currencySuffix = regexp.MustCompile(`\s*(?:\p{Sc}|(?i:eur|usd|gbp|chf|twd|ntd|cny|rmb|jpy|brl|mxn|ars|clp|cop|cad|aud|hkd|sgd|sek|nok|dkk|pln|kr)|元|圓|圆)$`)
	exponent       = regexp.MustCompile(`^(.*\d)[eE]([+-]?\d{1,3})$`)
)

// ParseNumber reads a number the way people and spreadsheets write it:
// "1234.5", "1,234.5", "1.234,5", "1 234,5" (also with no-break or thin
// spaces), "1'234.5", "-12", "−12", "(12)" (negative), "€ 1.200,00", "$1,200",
// "NT$ 1,200", "1200 EUR", "1200元", "1e3", and full-width digits.
//
// Separators: when both "." and "," appear, the last one is the decimal
// separator and the other groups thousands; a separator that appears more
// than once groups thousands; spaces and apostrophes always group. Groups
// after the first must have exactly three digits, so "1,2,3" and "1,00,000"
// are refused. A single "," or "." followed by exactly three digits after a
// one-to-three-digit integer part that does not start with 0 ("1,234",
// "1.234") is ambiguous: with decimalComma (the importer passes true when the
// CSV delimiter is ';') "," is the decimal separator and "." groups thousands,
// so "1.234" is 1234 and "1,234" is 1.234; without it, the reverse. Any other
// single separator is the decimal separator ("1,5" is 1.5 and "1.50" is 1.5
// either way).
//
// Percentages ("12 %") are refused rather than guessed as 12 or 0.12, as are
// text ("12abc"), a trailing separator ("12,"), NaN and infinities.
func ParseNumber(s string, decimalComma bool) (float64, error) {
	c, err := canonicalNumber(s, decimalComma, false)
	if err != nil {
		return 0, err
	}
	f, err := strconv.ParseFloat(c, 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, fmt.Errorf("number out of range: %q", s)
	}
	return f, nil
}

// ParseInteger reads a whole number like ParseNumber, except that a single
// separator followed by exactly three digits always groups thousands (no
// one writes 1.000 for one): "1.000" and "1,000" are 1000 with or without
// decimalComma. "12.5" is refused as "not a whole number"; "12.0" is 12.
func ParseInteger(s string, decimalComma bool) (int64, error) {
	c, err := canonicalNumber(s, decimalComma, true)
	if err != nil {
		return 0, err
	}
	if !strings.ContainsAny(c, ".e") {
		n, err := strconv.ParseInt(c, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("number out of range: %q", s)
		}
		return n, nil
	}
	f, err := strconv.ParseFloat(c, 64)
	switch {
	case err != nil || math.IsInf(f, 0) || math.Abs(f) >= 1<<63:
		return 0, fmt.Errorf("number out of range: %q", s)
	case f != math.Trunc(f):
		return 0, fmt.Errorf("not a whole number: %q", s)
	}
	return int64(f), nil
}

// canonicalNumber rewrites a number as Go's strconv reads it: "-1234.5e3".
func canonicalNumber(s string, decimalComma, integer bool) (string, error) {
	t := strings.TrimSpace(norm.NFKC.String(s))
	if t == "" {
		return "", errors.New("empty: no number")
	}
	if strings.HasSuffix(t, "%") || strings.HasSuffix(t, "‰") {
		return "", fmt.Errorf("%q is a percentage: write it as a plain number (12 or 0.12)", s)
	}
	neg, body, ok := stripSigns(t)
	if !ok {
		return "", fmt.Errorf("not a number: %q", s)
	}
	mant, exp := body, ""
	if m := exponent.FindStringSubmatch(body); m != nil {
		mant, exp = m[1], "e"+m[2]
	}
	digits, err := resolveSeparators(mant, decimalComma, integer)
	if err != nil {
		return "", fmt.Errorf("not a number: %q (%v)", s, err)
	}
	if neg {
		digits = "-" + digits
	}
	return digits + exp, nil
}

// stripSigns removes currency marks, a sign and accounting parentheses,
// reporting whether the number is negative.
func stripSigns(t string) (neg bool, body string, ok bool) {
	body = stripCurrency(t)
	if inner, found := strings.CutPrefix(body, "("); found {
		inner, found = strings.CutSuffix(inner, ")")
		if !found {
			return false, "", false
		}
		neg, body = true, stripCurrency(strings.TrimSpace(inner))
	}
	sign, size := utf8.DecodeRuneInString(body)
	if !strings.ContainsRune("+-−", sign) {
		sign, size = 0, 0
	}
	body = stripCurrency(strings.TrimSpace(body[size:]))
	if neg && sign != 0 {
		return false, "", false
	}
	return neg || sign == '-' || sign == '−', body, body != ""
}

// stripCurrency removes a currency mark before and after a number.
func stripCurrency(t string) string {
	t = currencyPrefix.ReplaceAllString(t, "")
	return strings.TrimSpace(currencySuffix.ReplaceAllString(t, ""))
}

// resolveSeparators turns the digits and separators of a mantissa into
// "1234.5", deciding which separator is the decimal one (see ParseNumber).
func resolveSeparators(m string, decimalComma, integer bool) (string, error) {
	m = strings.NewReplacer("'", " ", "’", " ").Replace(m)
	if strings.Trim(m, "0123456789., ") != "" {
		return "", errors.New("only digits and separators may follow the sign")
	}
	dec := decimalSeparator(m, decimalComma, integer)
	intPart, frac, hasFrac := m, "", false
	if dec != 0 {
		intPart, frac, hasFrac = strings.Cut(m, string(dec))
	}
	if hasFrac && (frac == "" || strings.Trim(frac, "0123456789") != "") {
		return "", errors.New("digits must follow the decimal separator")
	}
	whole, err := ungroup(intPart, hasFrac)
	if err != nil {
		return "", err
	}
	if hasFrac {
		return whole + "." + frac, nil
	}
	return whole, nil
}

// decimalSeparator returns the decimal separator of a mantissa, or 0 when it
// has none.
func decimalSeparator(m string, decimalComma, integer bool) rune {
	commas, dots := strings.Count(m, ","), strings.Count(m, ".")
	switch {
	case commas > 0 && dots > 0:
		if strings.LastIndex(m, ",") > strings.LastIndex(m, ".") {
			return ','
		}
		return '.'
	case commas+dots == 0 || commas > 1 || dots > 1:
		return 0
	}
	sep := '.'
	if commas == 1 {
		sep = ','
	}
	intPart, frac, _ := strings.Cut(m, string(sep))
	ambiguous := len(frac) == 3 && len(intPart) >= 1 && len(intPart) <= 3 &&
		intPart[0] != '0' && !strings.Contains(intPart, " ")
	if !ambiguous {
		return sep
	}
	if integer || (sep == ',') != decimalComma {
		return 0
	}
	return sep
}

// ungroup removes the thousands separators of an integer part, checking that
// one kind of separator stands between groups and that every group after
// the first has three digits. An empty integer part is allowed before a
// fraction (".5").
func ungroup(intPart string, hasFrac bool) (string, error) {
	if intPart == "" {
		if hasFrac {
			return "0", nil
		}
		return "", errors.New("no digits")
	}
	sep, groups := rune(0), []string{""}
	for _, r := range intPart {
		switch {
		case r >= '0' && r <= '9':
			groups[len(groups)-1] += string(r)
		case sep != 0 && r != sep:
			return "", errors.New("thousands must be grouped with one kind of separator")
		default:
			sep = r
			groups = append(groups, "")
		}
	}
	for i, g := range groups {
		switch {
		case g == "":
			return "", errors.New("separators must stand between digits")
		case i == 0 && len(groups) > 1 && len(g) > 3, i > 0 && len(g) != 3:
			return "", errors.New("digit groups must have three digits")
		}
	}
	return strings.Join(groups, ""), nil
}
