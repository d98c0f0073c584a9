package mapping

import (
	"strings"
	"testing"
)

func TestParseBool(t *testing.T) {
	yes := []string{"true", "TRUE", "t", "yes", "Y", "1", "x", "X", "on", "✓", "✔", "sí", "Si", "SÍ", "sim",
		"oui", "ja", "sì", "verdadero", "VERDADEIRO", "vrai", "WAHR", "vero", "cert", "是", "對", "对", " yes "}
	no := []string{"false", "FALSE", "f", "no", "N", "0", "", "  ", "off", "non", "Non", "não", "nao", "nein",
		"falso", "faux", "FALSCH", "fals", "否", "錯", "错", "不是", "✗", "☐"}
	for _, s := range yes {
		if v, err := ParseBool(s); err != nil || !v {
			t.Errorf("ParseBool(%q) = %v, %v; want true", s, v, err)
		}
	}
	for _, s := range no {
		if v, err := ParseBool(s); err != nil || v {
			t.Errorf("ParseBool(%q) = %v, %v; want false", s, v, err)
		}
	}
	for _, s := range []string{"maybe", "2", "yes!no", "-", "okay", "★", "10"} {
		if v, err := ParseBool(s); err == nil || !strings.Contains(err.Error(), "not a yes/no value") {
			t.Errorf("ParseBool(%q) = %v, %v; want an error", s, v, err)
		}
	}
}
