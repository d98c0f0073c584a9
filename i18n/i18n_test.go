package i18n_test

import (
	"slices"
	"testing"
	"time"

	"github.com/leadcycle/leadcycle/i18n"
	"golang.org/x/text/language"
)

// TestEveryKeyInEveryLanguage fails when a message exists in one language
// and not in another, or when its placeholders differ.
func TestEveryKeyInEveryLanguage(t *testing.T) {
	b := i18n.MustLoad()
	en := b.IDs(language.English)
	if len(en) < 100 {
		t.Fatalf("only %d English messages: the catalogs were not loaded", len(en))
	}
	for _, tag := range i18n.Languages {
		ids := b.IDs(tag)
		for _, id := range en {
			if !slices.Contains(ids, id) {
				t.Errorf("%s lacks %q", tag, id)
				continue
			}
			if got, want := b.Placeholders(tag, id), b.Placeholders(language.English, id); !slices.Equal(got, want) {
				t.Errorf("%s %q has placeholders %v, English has %v", tag, id, got, want)
			}
			if b.Plural(language.English, id) != b.Plural(tag, id) && tag.String() != "zh-Hant" {
				t.Errorf("%s %q: plural forms in one language and not the other", tag, id)
			}
		}
		for _, id := range ids {
			if !slices.Contains(en, id) {
				t.Errorf("%s has %q, which English lacks", tag, id)
			}
		}
	}
}

func TestMatch(t *testing.T) {
	b := i18n.MustLoad()
	for _, c := range []struct{ setting, accept, want string }{
		{"", "gl-ES,gl;q=0.9,es;q=0.8", "gl"},
		{"", "zh-TW,zh;q=0.9", "zh-Hant"},
		{"", "zh-HK", "zh-Hant"},
		{"", "fr-FR,fr;q=0.9", "en"},
		{"", "", "en"},
		{"", "%%%garbage", "en"},
		{"gl", "zh-TW", "gl"},
		{"zh-Hant", "gl", "zh-Hant"},
		{"xx-nonsense", "gl", "gl"},
	} {
		if got := b.Match(c.setting, c.accept).String(); got != c.want {
			t.Errorf("Match(%q, %q) = %s, want %s", c.setting, c.accept, got, c.want)
		}
	}
}

func TestFormatting(t *testing.T) {
	b := i18n.MustLoad()
	day := time.Date(2026, 3, 7, 14, 5, 0, 0, time.Local)
	for _, c := range []struct {
		lang, number, date, plural string
	}{
		{"en", "1,234,567.5", "Mar 7, 2026 14:05", "3 minutes ago"},
		{"gl", "1.234.567,5", "7 mar. 2026 14:05", "hai 3 minutos"},
		{"zh-Hant", "1,234,567.5", "2026年3月7日 14:05", "3 分鐘前"},
	} {
		l := b.For(language.MustParse(c.lang))
		if got := l.Number(1234567.5); got != c.number {
			t.Errorf("%s Number = %q, want %q", c.lang, got, c.number)
		}
		if got := l.DateTime(day); got != c.date {
			t.Errorf("%s DateTime = %q, want %q", c.lang, got, c.date)
		}
		if got := l.Ago(day, day.Add(3*time.Minute+10*time.Second)); got != c.plural {
			t.Errorf("%s Ago = %q, want %q", c.lang, got, c.plural)
		}
	}
	en := b.For(language.English)
	if got := en.N("time.days_ago", 1); got != "1 day ago" {
		t.Errorf("singular: %q", got)
	}
	if got := en.T("no.such.message"); got != "no.such.message" {
		t.Errorf("a missing message shows %q, want its id", got)
	}
	if got := en.T("lead.untitled", "ID", "<b>7</b>"); got != "Lead <b>7</b>" {
		t.Errorf("placeholders are filled as given (templates escape them): %q", got)
	}
}
