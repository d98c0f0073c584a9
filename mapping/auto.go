package mapping

import (
	"strings"

	"github.com/leadcycle/leadcycle"
)

// Ways a column got its field.
const (
	HowAuto     = "auto"     // matched by its header
	HowExplicit = "explicit" // chosen by the user (Field "" = skipped on purpose)
)

// Mapping maps file columns to fields.
type Mapping struct {
	Columns []Column // one per header cell, in file order
}

// Column is one column of the file and the field it is imported into.
type Column struct {
	Index  int    // 0-based position in the row
	Header string // as in the file
	Field  string // "" = not imported
	How    string // HowAuto, HowExplicit, or "" (unmapped)
}

// index is the built-in header knowledge of one entity.
type index struct {
	exact     map[string]string // canonical names, compared as written
	names     map[string]string // normalised names and English labels (not of id fields)
	synonyms  map[string]string // normalised synonyms
	conflicts []string          // keys claimed by two fields, dropped (a test keeps it empty)
}

// indexes holds the index of every entity, built once.
var indexes = buildIndexes()

func buildIndexes() map[string]*index {
	out := make(map[string]*index, len(entities))
	for name, def := range entities {
		out[name] = buildIndex(def)
	}
	return out
}

func buildIndex(def entityDef) *index {
	ix := &index{exact: map[string]string{}, names: map[string]string{}, synonyms: map[string]string{}}
	bad := map[string]bool{}
	for _, s := range def.specs {
		ix.exact[s.name] = s.name
		if s.kind != KindID {
			ix.add(ix.names, bad, s.name, s.name)
			ix.add(ix.names, bad, s.label, s.name)
		}
	}
	for _, s := range def.specs {
		for _, syn := range s.synonyms {
			if f := ix.names[NormalizeHeader(syn)]; f != "" && f != s.name {
				ix.conflict(bad, syn, f, s.name)
				continue
			}
			ix.add(ix.synonyms, bad, syn, s.name)
		}
	}
	for key := range bad {
		delete(ix.names, key)
		delete(ix.synonyms, key)
	}
	return ix
}

// add records header → field, noting a conflict when another field has it.
func (ix *index) add(m map[string]string, bad map[string]bool, header, field string) {
	key := NormalizeHeader(header)
	if f, ok := m[key]; ok && f != field {
		ix.conflict(bad, header, f, field)
		return
	}
	m[key] = field
}

// conflict records a header claimed by two fields.
func (ix *index) conflict(bad map[string]bool, header, f1, f2 string) {
	bad[NormalizeHeader(header)] = true
	ix.conflicts = append(ix.conflicts, header+" → "+f1+" and "+f2)
}

// resolver finds the field of a header of one file.
type resolver struct {
	def     entityDef
	ix      *index
	exact   map[string]string // custom canonical names
	custom  map[string]string // normalised custom names and labels
	present map[string]bool   // normalised headers of the file
}

func newResolver(def entityDef, ix *index, headers []string, custom []leadcycle.FieldDef) resolver {
	r := resolver{def: def, ix: ix, exact: map[string]string{}, custom: map[string]string{},
		present: map[string]bool{}}
	for _, fd := range custom {
		if fd.Entity != def.custom {
			continue
		}
		name := CustomPrefix + fd.Name
		r.exact[name] = name
		for _, k := range []string{NormalizeHeader(name), NormalizeHeader(fd.Name), NormalizeHeader(fd.Label)} {
			if _, taken := r.custom[k]; k != "" && !taken && ix.names[k] == "" {
				r.custom[k] = name
			}
		}
	}
	for _, h := range headers {
		r.present[NormalizeHeader(h)] = true
	}
	return r
}

// resolve returns the field of a header, or "".
func (r resolver) resolve(header string) string {
	raw := trimHeader(header)
	if f, ok := r.ix.exact[raw]; ok {
		return f
	}
	if f, ok := r.exact[raw]; ok {
		return f
	}
	keys := []string{NormalizeHeader(raw)}
	if b := withoutBrackets(raw); b != "" {
		keys = append(keys, NormalizeHeader(b))
	}
	for _, k := range keys {
		if f := r.lookup(k); f != "" {
			return f
		}
	}
	for _, k := range keys {
		if f := r.stripped(k); f != "" {
			return f
		}
	}
	return ""
}

// lookup finds a normalised header among the context rules, built-in names
// and labels, custom fields and synonyms, in that order.
func (r resolver) lookup(key string) string {
	if key == "" {
		return ""
	}
	for _, rule := range r.def.context {
		if rule.key == key && r.present[rule.with] {
			return rule.field
		}
	}
	if f := r.ix.names[key]; f != "" {
		return f
	}
	if f := r.custom[key]; f != "" {
		return f
	}
	return r.ix.synonyms[key]
}

// stripped looks a normalised header up again without an entity prefix:
// "Contact Email" is "Email" for contacts.
func (r resolver) stripped(key string) string {
	for _, p := range r.def.prefixes {
		if rest, ok := strings.CutPrefix(key, p); ok && rest != "" {
			if f := r.lookup(rest); f != "" {
				return f
			}
		}
	}
	return ""
}

// Auto maps headers to fields of the entity. Each header is matched, in
// order, against: the canonical field names exactly as written (leadcycle's
// own export headers: "first_name", "custom.shoe_size", "consent.tracking",
// and the only way to reach the id fields); then, after NormalizeHeader, the
// headers whose meaning depends on the others (French "Nom" beside "Prénom" is
// the last name); the canonical names and English labels; the custom fields'
// names and labels; the synonyms of common exports and translations; the same
// without a bracketed part ("Annual Revenue (Base)"); and the same without a
// prefix such as "contact " or "lead ". A field is used by at most one column:
// the first wins, later duplicates stay unmapped.
func Auto(entity string, headers []string, custom []leadcycle.FieldDef) (Mapping, error) {
	def, err := lookupEntity(entity)
	if err != nil {
		return Mapping{}, err
	}
	r := newResolver(def, indexes[entity], headers, custom)
	m := Mapping{Columns: make([]Column, len(headers))}
	used := map[string]bool{}
	for i, h := range headers {
		m.Columns[i] = Column{Index: i, Header: h}
		if f := r.resolve(h); f != "" && !used[f] {
			used[f] = true
			m.Columns[i].Field, m.Columns[i].How = f, HowAuto
		}
	}
	return m, nil
}

// Unmapped returns the headers that are not imported, for a warning; columns
// the user skipped on purpose (mapped to "" with Apply) are not listed.
func (m Mapping) Unmapped() []string {
	var out []string
	for _, c := range m.Columns {
		if c.Field == "" && c.How != HowExplicit {
			out = append(out, c.Header)
		}
	}
	return out
}

// Index returns the column index of every imported field.
func (m Mapping) Index() map[string]int {
	out := map[string]int{}
	for _, c := range m.Columns {
		if c.Field != "" {
			out[c.Field] = c.Index
		}
	}
	return out
}
