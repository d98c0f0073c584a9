package tabular

import (
	"encoding/xml"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// cellKind is how a number cell is shown, from its number format.
type cellKind uint8

const (
	kindGeneral  cellKind = iota // a plain number
	kindDate                     // a date: "2006-01-02"
	kindDateTime                 // a date and time: "2006-01-02T15:04:05"
	kindTime                     // a time of day: "15:04:05"
	kindDuration                 // elapsed time such as [h]:mm: "36:00:00"
)

// Excel's date limits.
const (
	maxSerial = 2958465 // 9999-12-31
	daySecs   = 24 * 60 * 60
)

// readStyles reads the number format kind of every cell style (cellXfs).
func readStyles(p *xlsxPackage, name string) ([]cellKind, error) {
	var doc struct {
		NumFmts []struct {
			ID   string `xml:"numFmtId,attr"`
			Code string `xml:"formatCode,attr"`
		} `xml:"numFmts>numFmt"`
		Xfs []struct {
			NumFmtID string `xml:"numFmtId,attr"`
		} `xml:"cellXfs>xf"`
	}
	err := p.decode(name, p.limits.meta, func(d *xml.Decoder) error { return d.Decode(&doc) })
	if err != nil {
		return nil, err
	}
	custom := make(map[int]string, len(doc.NumFmts))
	for _, f := range doc.NumFmts {
		if id, err := strconv.Atoi(f.ID); err == nil {
			custom[id] = f.Code
		}
	}
	kinds := make([]cellKind, len(doc.Xfs))
	for i, xf := range doc.Xfs {
		id, _ := strconv.Atoi(xf.NumFmtID)
		if code, ok := custom[id]; ok {
			kinds[i] = formatKind(code)
		} else {
			kinds[i] = builtinKind(id)
		}
	}
	return kinds, nil
}

// builtinKind classifies Excel's built-in number formats. The ids that are
// dates in some locales and times in others (32–35, 52–53, 55–56) are
// taken as times, which keep the date of a value that has one.
func builtinKind(id int) cellKind {
	switch {
	case id >= 14 && id <= 17, id >= 27 && id <= 31, id == 36,
		id >= 50 && id <= 51, id == 54, id >= 57 && id <= 58:
		return kindDate
	case id == 22:
		return kindDateTime
	case id >= 18 && id <= 21, id >= 32 && id <= 35, id == 45, id == 47,
		id >= 52 && id <= 53, id >= 55 && id <= 56:
		return kindTime
	case id == 46:
		return kindDuration
	}
	return kindGeneral
}

// formatKind classifies a custom number format code by the date and time
// tokens of its first section, outside quoted text, escaped characters and
// brackets ([Red], [$-409]); [h], [mm] and [ss] are elapsed time.
func formatKind(code string) cellKind {
	var date, clock, month, elapsed bool
	for i := 0; i < len(code); i++ {
		switch c := code[i] | 0x20; {
		case code[i] == ';':
			i = len(code) // only the first section
		case code[i] == '"':
			if j := strings.IndexByte(code[i+1:], '"'); j >= 0 {
				i += j + 1
			} else {
				i = len(code)
			}
		case code[i] == '\\' || code[i] == '_' || code[i] == '*':
			i++
		case code[i] == '[':
			j := strings.IndexByte(code[i:], ']')
			if j < 0 {
				j = len(code) - i
			}
			elapsed = elapsed || isElapsed(code[i+1:i+j])
			i += j
		case c == 'a' && hasPrefixFold(code[i:], "am/pm"):
			clock = true
			i += len("am/pm") - 1
		case c == 'a' && hasPrefixFold(code[i:], "a/p"):
			clock = true
			i += len("a/p") - 1
		case c == 'y' || c == 'd':
			date = true
		case c == 'h' || c == 's':
			clock = true
		case c == 'm':
			month = true
		}
	}
	return kindOfTokens(date, clock, month, elapsed)
}

// kindOfTokens decides the kind from the tokens found: "m" is a month
// without hours or seconds around, a minute with them.
func kindOfTokens(date, clock, month, elapsed bool) cellKind {
	switch {
	case elapsed:
		return kindDuration
	case date && clock:
		return kindDateTime
	case date || month && !clock:
		return kindDate
	case clock:
		return kindTime
	}
	return kindGeneral
}

// isElapsed reports whether a bracketed token is elapsed time: [h], [mm]…
func isElapsed(s string) bool {
	if s == "" {
		return false
	}
	c := s[0] | 0x20
	if c != 'h' && c != 'm' && c != 's' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i]|0x20 != c {
			return false
		}
	}
	return true
}

// hasPrefixFold is strings.HasPrefix ignoring ASCII case.
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// numberText returns the text of a number cell of the given kind.
func numberText(v string, kind cellKind, date1904 bool) string {
	if kind != kindGeneral {
		if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
			if s, ok := serialText(f, kind, date1904); ok {
				return s
			}
		}
	}
	return formatNumber(v)
}

// serialText formats an Excel date serial number; ok is false outside
// Excel's dates (negative, or after 9999).
func serialText(f float64, kind cellKind, date1904 bool) (string, bool) {
	if !(f >= 0 && f < maxSerial+1) {
		return "", false
	}
	days := math.Floor(f)
	secs := int(math.Round((f - days) * daySecs))
	d := int(days)
	if secs >= daySecs {
		d, secs = d+1, secs-daySecs
	}
	if kind == kindDuration {
		total := d*daySecs + secs
		return fmt.Sprintf("%02d:%02d:%02d", total/3600, total/60%60, total%60), true
	}
	t := serialDate(d, date1904).Add(time.Duration(secs) * time.Second)
	switch {
	case kind == kindDate:
		return t.Format(time.DateOnly), true
	case kind == kindTime && d == 0:
		return t.Format(time.TimeOnly), true
	}
	return t.Format("2006-01-02T15:04:05"), true
}

// serialDate returns the date of a day serial number. In the 1900 system
// Excel counts a fictitious 1900-02-29 (day 60, kept for Lotus 1-2-3): days
// before it count from 1899-12-31, later days from 1899-12-30, so day 60
// reads as 1900-02-28.
func serialDate(d int, date1904 bool) time.Time {
	switch {
	case date1904:
		return time.Date(1904, 1, 1+d, 0, 0, 0, 0, time.UTC)
	case d < 60:
		return time.Date(1899, 12, 31+d, 0, 0, 0, 0, time.UTC)
	}
	return time.Date(1899, 12, 30+d, 0, 0, 0, 0, time.UTC)
}

// formatNumber writes a stored number as Excel shows it in General
// format: 15 significant digits, in plain decimal. Text that is not a
// number is returned as is.
func formatNumber(v string) string {
	v = strings.TrimSpace(v)
	if isShortInteger(v) {
		return v
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return v
	}
	return plainDecimal(f)
}

// isShortInteger reports whether v is an integer of at most 15 digits in
// canonical form, which needs no formatting.
func isShortInteger(v string) bool {
	digits := strings.TrimPrefix(v, "-")
	if digits == "" || len(digits) > 15 || digits[0] == '0' && len(digits) > 1 {
		return false
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return false
		}
	}
	return v != "-0"
}

// plainDecimal formats f with 15 significant digits, without exponent and
// without trailing zeros.
func plainDecimal(f float64) string {
	if f == 0 {
		return "0"
	}
	s := strconv.FormatFloat(f, 'e', 14, 64) // [-]d.ddddddddddddddde±dd
	var b strings.Builder
	if s[0] == '-' {
		b.WriteByte('-')
		s = s[1:]
	}
	mant, expText, _ := strings.Cut(s, "e")
	exp, _ := strconv.Atoi(expText)
	digits := strings.TrimRight(mant[:1]+mant[2:], "0")
	point := exp + 1 // digits before the decimal point
	switch {
	case point <= 0:
		b.WriteString("0.")
		b.WriteString(strings.Repeat("0", -point))
		b.WriteString(digits)
	case point >= len(digits):
		b.WriteString(digits)
		b.WriteString(strings.Repeat("0", point-len(digits)))
	default:
		b.WriteString(digits[:point])
		b.WriteByte('.')
		b.WriteString(digits[point:])
	}
	return b.String()
}
