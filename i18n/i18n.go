// Package i18n translates the web interface into the languages leadcycle
// speaks (English, Galician and Traditional Chinese) and formats numbers and
// dates for each. The catalogs are JSON files embedded in the binary, one per
// screen area and language (locales/<area>.<lang>.json); a message is a
// string or, when it depends on a count, an object of CLDR plural forms.
package i18n

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/number"
)

//go:embed locales/*.json
var catalogs embed.FS

// Languages the interface speaks, the first being the fallback.
var Languages = []language.Tag{language.English, language.MustParse("gl"), language.MustParse("zh-Hant")}

// Bundle holds every catalog.
type Bundle struct {
	bundle  *goi18n.Bundle
	matcher language.Matcher
	// ids lists the message ids of each language, by its tag string;
	// texts holds every form of each message; plural marks the messages
	// written with plural forms.
	ids    map[string][]string
	texts  map[string]map[string][]string
	plural map[string]bool
}

// Load parses the embedded catalogs.
func Load() (*Bundle, error) { return load(catalogs) }

// MustLoad is Load for start-up, where a broken embedded catalog is a bug.
func MustLoad() *Bundle {
	b, err := Load()
	if err != nil {
		panic(err)
	}
	return b
}

func load(fsys fs.FS) (*Bundle, error) {
	b := &Bundle{bundle: goi18n.NewBundle(language.English), matcher: language.NewMatcher(Languages), ids: map[string][]string{},
		texts: map[string]map[string][]string{}, plural: map[string]bool{}}
	files, err := fs.Glob(fsys, "locales/*.json")
	if err != nil {
		return nil, err
	}
	for _, name := range files {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		mf, err := b.bundle.ParseMessageFileBytes(data, path.Base(name))
		if err != nil {
			return nil, fmt.Errorf("catalog %s: %w", name, err)
		}
		lang := mf.Tag.String()
		for _, m := range mf.Messages {
			if _, dup := b.texts[lang][m.ID]; dup {
				return nil, fmt.Errorf("catalog %s: message %q is defined twice for %s", name, m.ID, lang)
			}
			b.ids[lang] = append(b.ids[lang], m.ID)
			if b.texts[lang] == nil {
				b.texts[lang] = map[string][]string{}
			}
			forms, plural := formsOf(m)
			b.texts[lang][m.ID] = forms
			b.plural[lang+"\x00"+m.ID] = plural
		}
	}
	for _, ids := range b.ids {
		slices.Sort(ids)
	}
	return b, nil
}

// IDs returns the sorted message ids of a language.
func (b *Bundle) IDs(lang language.Tag) []string { return slices.Clone(b.ids[lang.String()]) }

// Match picks the language for a user: their setting when they have one,
// else the best of the Accept-Language header, else English.
func (b *Bundle) Match(setting, acceptLanguage string) language.Tag {
	if setting != "" {
		if t, err := language.Parse(setting); err == nil {
			if _, i, c := b.matcher.Match(t); c >= language.High {
				return Languages[i]
			}
		}
	}
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 {
		return Languages[0]
	}
	_, i, c := b.matcher.Match(tags...)
	if c == language.No {
		return Languages[0]
	}
	return Languages[i]
}

// Localizer translates into one language.
type Localizer struct {
	tag     language.Tag
	loc     *goi18n.Localizer
	printer *message.Printer
}

// For returns the localizer of a language.
func (b *Bundle) For(tag language.Tag) *Localizer {
	return &Localizer{tag: tag, loc: goi18n.NewLocalizer(b.bundle, tag.String()), printer: message.NewPrinter(tag)}
}

// Tag is the localizer's language.
func (l *Localizer) Tag() language.Tag { return l.tag }

// Lang is the language as an HTML lang attribute.
func (l *Localizer) Lang() string { return l.tag.String() }

// T translates a message; args are name, value pairs for its placeholders
// ({{.Name}}). A missing message shows its id, so that it is seen and fixed
// (a test makes sure none is missing).
func (l *Localizer) T(id string, args ...any) string {
	return l.localize(id, nil, args)
}

// N translates a message whose wording depends on count, which is also its
// {{.Count}} placeholder.
func (l *Localizer) N(id string, count int, args ...any) string {
	return l.localize(id, count, append(args, "Count", l.Number(count)))
}

func (l *Localizer) localize(id string, count any, args []any) string {
	var data map[string]any
	if len(args) > 0 {
		data = make(map[string]any, len(args)/2)
		for i := 0; i+1 < len(args); i += 2 {
			data[fmt.Sprint(args[i])] = args[i+1]
		}
	}
	s, err := l.loc.Localize(&goi18n.LocalizeConfig{MessageID: id, TemplateData: data, PluralCount: count})
	if err != nil && s == "" {
		return id
	}
	return s
}

// Number formats a number with the language's separators.
func (l *Localizer) Number(v any) string {
	switch p := v.(type) {
	case *int64:
		if p == nil {
			return ""
		}
		v = *p
	case *float64:
		if p == nil {
			return ""
		}
		v = *p
	}
	switch v.(type) {
	case float32, float64:
		return l.printer.Sprint(number.Decimal(v, number.MaxFractionDigits(2)))
	}
	return l.printer.Sprint(number.Decimal(v))
}

// Percent formats a share (0.25 is 25 %).
func (l *Localizer) Percent(share float64) string {
	return l.printer.Sprint(number.Percent(share, number.MaxFractionDigits(0)))
}

// Date formats a day in the language's usual order, with the month's
// short name from the catalog.
func (l *Localizer) Date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	t = t.Local()
	month := l.T(fmt.Sprintf("month.%d", int(t.Month())))
	switch l.tag.String() {
	case "zh-Hant":
		return fmt.Sprintf("%d年%d月%d日", t.Year(), int(t.Month()), t.Day())
	case "gl":
		return fmt.Sprintf("%d %s %d", t.Day(), month, t.Year())
	}
	return fmt.Sprintf("%s %d, %d", month, t.Day(), t.Year())
}

// DateTime formats a moment: the date and the 24-hour time.
func (l *Localizer) DateTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return l.Date(t) + " " + t.Local().Format("15:04")
}

// Ago says how long before now a moment was, in the largest whole unit.
func (l *Localizer) Ago(t, now time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return l.T("time.just_now")
	case d < time.Hour:
		return l.N("time.minutes_ago", int(d/time.Minute))
	case d < 24*time.Hour:
		return l.N("time.hours_ago", int(d/time.Hour))
	case d < 30*24*time.Hour:
		return l.N("time.days_ago", int(d/(24*time.Hour)))
	}
	return l.Date(t)
}

// Has reports whether the language has its own message id (not the
// English fallback).
func (b *Bundle) Has(tag language.Tag, id string) bool {
	_, ok := b.texts[tag.String()][id]
	return ok
}

// Placeholders returns the {{.Name}} placeholders of a message's forms in a
// language, sorted and without repeats, for the catalog tests.
func (b *Bundle) Placeholders(tag language.Tag, id string) []string {
	var out []string
	for _, form := range b.texts[tag.String()][id] {
		for rest := form; ; {
			i := strings.Index(rest, "{{.")
			if i < 0 {
				break
			}
			rest = rest[i+3:]
			j := strings.Index(rest, "}}")
			if j < 0 {
				break
			}
			if name := strings.TrimSpace(rest[:j]); !slices.Contains(out, name) {
				out = append(out, name)
			}
		}
	}
	slices.Sort(out)
	return out
}

// Plural reports whether a message has plural forms in a language.
func (b *Bundle) Plural(tag language.Tag, id string) bool {
	return len(b.texts[tag.String()][id]) > 1 || b.plural[tag.String()+"\x00"+id]
}

// formsOf lists the non-empty forms of a message.
func formsOf(m *goi18n.Message) (forms []string, plural bool) {
	for _, f := range []string{m.Zero, m.One, m.Two, m.Few, m.Many} {
		if f != "" {
			forms, plural = append(forms, f), true
		}
	}
	return append(forms, m.Other), plural
}
