package mapping

import (
	"fmt"
	"strings"
)

// Words for yes and no, compared after NormalizeHeader. They include the
// TRUE/FALSE that spreadsheets write in each language (VERDADERO, WAHR,
// VRAI, VERO, CERT…).
var (
	yesWords = []string{
		"true", "t", "yes", "y", "1", "x", "on", "checked", "sí", "s", "sim", "oui", "ja", "j", "sì",
		"verdadero", "verdadeiro", "vrai", "wahr", "vero", "cert", "是", "是的", "對", "对", "真", "有",
	}
	noWords = []string{
		"false", "f", "no", "n", "0", "off", "unchecked", "non", "não", "nein", "falso", "faux", "falsch",
		"fals", "否", "不", "不是", "錯", "错", "假", "無", "无", "沒有", "没有",
	}
	// yesSymbols and noSymbols are check marks, compared before
	// normalisation (which drops symbols).
	yesSymbols = []string{"✓", "✔", "☑", "✅", "☒"}
	noSymbols  = []string{"✗", "✘", "☐", "❌"}
)

// boolWords maps every normalised yes/no word and symbol to its value.
var boolWords = buildBoolWords()

func buildBoolWords() map[string]bool {
	m := map[string]bool{}
	for _, w := range yesWords {
		m[NormalizeHeader(w)] = true
	}
	for _, w := range noWords {
		m[NormalizeHeader(w)] = false
	}
	for _, w := range yesSymbols {
		m[w] = true
	}
	for _, w := range noSymbols {
		m[w] = false
	}
	return m
}

// ParseBool accepts true/false, yes/no, y/n, 1/0, on/off, "x" (a ticked
// cell), check marks, and yes/no in the supported languages: sí/si/non/sim/
// não/oui/ja/nein/sì/是/否/對/錯/对/错… Case and accents are ignored. An empty
// cell is false, as in a column where "x" marks the ticked rows.
func ParseBool(s string) (bool, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return false, nil
	}
	if v, ok := boolWords[t]; ok {
		return v, nil
	}
	if v, ok := boolWords[NormalizeHeader(t)]; ok && NormalizeHeader(t) != "" {
		return v, nil
	}
	return false, fmt.Errorf("not a yes/no value: %q (use yes/no, true/false or 1/0)", s)
}
