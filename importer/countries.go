package importer

import (
	"fmt"
	"strings"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"

	"github.com/leadcycle/leadcycle/mapping"
)

// countryLanguages are the languages whose country names an account's
// country column may hold.
var countryLanguages = []string{"en", "es", "gl", "pt", "fr", "de", "it", "ca", "zh-Hant", "zh-Hans", "ja"}

// countries reads country cells: ISO 3166-1 alpha-2 or alpha-3 codes, or a
// country's name in one of countryLanguages ("Spain", "España", "台灣").
type countries struct {
	byName map[string]string // normalised name → alpha-2 code
}

func newCountries() *countries {
	c := &countries{byName: map[string]string{}}
	namers := make([]display.Namer, 0, len(countryLanguages))
	for _, l := range countryLanguages {
		namers = append(namers, display.Regions(language.MustParse(l)))
	}
	for a := 'A'; a <= 'Z'; a++ {
		for b := 'A'; b <= 'Z'; b++ {
			code := string([]rune{a, b})
			r, err := language.ParseRegion(code)
			if err != nil || !r.IsCountry() || r.String() != code {
				continue
			}
			for _, n := range namers {
				if name := n.Name(r); name != "" {
					c.byName[mapping.NormalizeHeader(name)] = code
				}
			}
		}
	}
	for name, code := range map[string]string{"usa": "US", "uk": "GB", "greatbritain": "GB", "england": "GB", "taiwanroc": "TW", "台灣": "TW", "臺灣": "TW", "中華民國": "TW", "españa": "ES"} {
		c.byName[mapping.NormalizeHeader(name)] = code
	}
	return c
}

// code returns the alpha-2 code of a country cell.
func (c *countries) code(v string) (string, error) {
	s := strings.TrimSpace(v)
	if len(s) == 2 || len(s) == 3 {
		if r, err := language.ParseRegion(strings.ToUpper(s)); err == nil && r.IsCountry() {
			return r.String(), nil
		}
	}
	if code, ok := c.byName[mapping.NormalizeHeader(s)]; ok {
		return code, nil
	}
	return "", fmt.Errorf("not a country: use an ISO 3166-1 code such as ES or TW, or the country's name")
}
