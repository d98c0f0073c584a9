package mapping

import (
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/leadcycle/leadcycle"
)

// ParseOptions are the hints and choices of one import for Field.Parse.
type ParseOptions struct {
	DecimalComma bool              // see ParseNumber; true for ';'-delimited CSV
	DayFirst     bool              // see ParseDate
	Values       map[string]string // source value → stored choice, for choice fields
}

// Match finds the stored choice of a choice field for a value: MatchChoice
// with the field's choices and the value map, then, for built-in fields, the
// values other systems export ("Closed - Converted" is a qualified status,
// "Opted out" or "no" a denied consent, "Cancelled" the reason canceled).
func (f Field) Match(value string, valueMap map[string]string) (string, error) {
	v, err := MatchChoice(value, f.Choices, valueMap)
	if err == nil {
		return v, nil
	}
	t := strings.TrimSpace(value)
	if stored, ok := f.aliases[NormalizeHeader(t)]; ok {
		return stored, nil
	}
	if stored, ok := f.aliases[t]; ok {
		return stored, nil
	}
	return "", err
}

// Parse reads a cell for the field. A blank cell is no value: nil and no
// error. Otherwise the result is a string for text, email, phone and choice
// fields (trimmed; an email's "Name <a@b>" or "mailto:" wrapping removed), a
// float64 for numbers, an int64 for integers, a bool, a leadcycle.ID for ids,
// and "YYYY-MM-DD" for dates (the form custom date fields store; use
// ParseDate for the time of day).
func (f Field) Parse(s string, o ParseOptions) (any, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return nil, nil
	}
	switch f.Kind {
	case KindNumber:
		return orNil(ParseNumber(t, o.DecimalComma))
	case KindInteger:
		return orNil(ParseInteger(t, o.DecimalComma))
	case KindBool:
		return orNil(ParseBool(t))
	case KindDate:
		d, err := ParseDate(t, o.DayFirst)
		return orNil(d.Format(time.DateOnly), err)
	case KindChoice:
		return orNil(f.Match(t, o.Values))
	case KindID:
		return orNil(parseID(t))
	case KindEmail:
		return parseEmail(t), nil
	}
	return t, nil
}

// orNil returns v as any, or nil when err is set.
func orNil[T any](v T, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return v, nil
}

// parseID reads a leadcycle id.
func parseID(s string) (leadcycle.ID, error) {
	id, ok := leadcycle.ParseID(s)
	if !ok {
		return 0, fmt.Errorf("not a leadcycle id: %q (ids are positive whole numbers)", s)
	}
	return id, nil
}

// parseEmail unwraps "Name <a@b>" and "mailto:a@b"; validity is the domain's
// to check.
func parseEmail(s string) string {
	if len(s) >= 7 && strings.EqualFold(s[:7], "mailto:") {
		s = strings.TrimSpace(s[7:])
	}
	if a, err := mail.ParseAddress(s); err == nil {
		return a.Address
	}
	return s
}
