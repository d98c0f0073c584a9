package mapping

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/leadcycle/leadcycle"
)

// Apply overrides an automatic mapping with explicit choices: header → field
// name, where "" means "do not import this column". A header is found
// exactly as written, else after NormalizeHeader (every column with that
// header), else as "#N", the N-th column counted from 1, for files whose
// headers repeat. A field chosen explicitly is taken away from the column
// Auto had given it to. Unknown field names, headers not in the file and two
// columns mapped to one field are errors naming them, all reported together
// as one leadcycle EInvalid error with a field error per problem, e.g.
// `columns["E-mail"]: no such column in the file` or
// `columns["Mail"]: unknown field "emial" for contacts (did you mean "email"?)`.
func (m Mapping) Apply(entity string, explicit map[string]string, custom []leadcycle.FieldDef) (Mapping, error) {
	fields, err := Fields(entity, custom)
	if err != nil {
		return Mapping{}, err
	}
	out := Mapping{Columns: slices.Clone(m.Columns)}
	var errs fieldErrors
	chosen := map[int]string{}   // column → explicit key
	taken := map[string]string{} // field → explicit key
	for _, key := range sortedKeys(explicit) {
		field, name := explicit[key], "columns["+strconv.Quote(key)+"]"
		cols := out.find(key)
		switch {
		case len(cols) == 0:
			errs.add(name, "no such column in the file")
		case field != "" && !hasField(fields, field):
			errs.add(name, fmt.Sprintf("unknown field %q for %s%s", field, entity, suggest(field, fields)))
		case field != "" && taken[field] != "":
			errs.add(name, fmt.Sprintf("field %q is already imported from columns[%q]", field, taken[field]))
		case field != "" && len(cols) > 1:
			errs.add(name, fmt.Sprintf("%d columns have this header; name one as \"#%d\"", len(cols), cols[0]+1))
		default:
			if prev := out.set(cols, field, key, chosen); prev != "" {
				errs.add(name, fmt.Sprintf("names the same column as columns[%q]", prev))
			} else if field != "" {
				taken[field] = key
			}
		}
	}
	if err := errs.err(); err != nil {
		return Mapping{}, err
	}
	out.release(chosen, taken)
	return out, nil
}

// set gives columns their explicit field and returns the key that had
// already chosen one of them, if any.
func (m *Mapping) set(cols []int, field, key string, chosen map[int]string) (prev string) {
	for _, i := range cols {
		if p, ok := chosen[i]; ok {
			return p
		}
	}
	for _, i := range cols {
		chosen[i] = key
		m.Columns[i].Field, m.Columns[i].How = field, HowExplicit
	}
	return ""
}

// release unmaps the automatic columns whose field was chosen explicitly for
// another column.
func (m *Mapping) release(chosen map[int]string, taken map[string]string) {
	for i, c := range m.Columns {
		if _, ok := chosen[i]; !ok && taken[c.Field] != "" {
			m.Columns[i].Field, m.Columns[i].How = "", ""
		}
	}
}

// find returns the positions in Columns of the columns a key names: exact
// header, then normalised header, then "#N".
func (m Mapping) find(key string) []int {
	match := func(same func(Column) bool) []int {
		var out []int
		for i, c := range m.Columns {
			if same(c) {
				out = append(out, i)
			}
		}
		return out
	}
	if cols := match(func(c Column) bool { return c.Header == key }); len(cols) > 0 {
		return cols
	}
	if k := NormalizeHeader(key); k != "" {
		if cols := match(func(c Column) bool { return NormalizeHeader(c.Header) == k }); len(cols) > 0 {
			return cols
		}
	}
	if rest, ok := strings.CutPrefix(key, "#"); ok {
		if n, err := strconv.Atoi(rest); err == nil {
			return match(func(c Column) bool { return c.Index == n-1 })
		}
	}
	return nil
}

// hasField reports whether name is one of fields.
func hasField(fields []Field, name string) bool {
	return slices.ContainsFunc(fields, func(f Field) bool { return f.Name == name })
}

// suggest proposes the field a misspelt name probably meant: one whose name
// or label normalises the same, or within two edits of it (fewer than half
// its length, so that short names do not suggest anything).
func suggest(name string, fields []Field) string {
	key := NormalizeHeader(name)
	best, bestDist := "", 3
	for _, f := range fields {
		if key == NormalizeHeader(f.Name) || key == NormalizeHeader(f.Label) {
			return fmt.Sprintf(" (did you mean %q?)", f.Name)
		}
		if d := editDistance(name, f.Name); d < bestDist && 2*d < utf8.RuneCountInString(name) {
			best, bestDist = f.Name, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is the Levenshtein distance between two strings, in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur := make([]int, len(rb)+1)
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(rb)]
}

// sortedKeys returns the keys of a map in order, so that errors come in a
// stable order.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// fieldErrors collects the problems of an Apply call.
type fieldErrors []leadcycle.FieldError

func (e *fieldErrors) add(field, msg string) {
	*e = append(*e, leadcycle.FieldError{Field: field, Message: msg})
}

// err returns the problems as one EInvalid error, or nil.
func (e fieldErrors) err() error {
	if len(e) == 0 {
		return nil
	}
	msg := e[0].Field + ": " + e[0].Message
	if len(e) > 1 {
		msg += fmt.Sprintf(" (and %d more)", len(e)-1)
	}
	return &leadcycle.Error{Code: leadcycle.EInvalid, Message: msg, Fields: e}
}
