package match

import "testing"

func TestEmail(t *testing.T) {
	for in, want := range map[string]string{
		"  Ana.Castro@Example.COM ": "ana.castro@example.com",
		"uxia@ría.gal":              "uxia@xn--ra-nja.gal",
		"UXIA@RÍA.GAL":              "uxia@xn--ra-nja.gal",
		"uxia@xn--ra-nja.gal":       "uxia@xn--ra-nja.gal",
		"陳@例子.台灣":                   "陳@xn--fsqu00a.xn--kpry57d",
	} {
		if got := Email(in); got != want {
			t.Errorf("Email(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPhone(t *testing.T) {
	cases := []struct{ in, region, want string }{
		{"981 123 456", "ES", "+34981123456"},
		{"+34 981-123-456", "", "+34981123456"},
		{"0034 981 123 456", "ES", "+34981123456"},
		{"02 2345 6789", "TW", "+886223456789"},
		{"(02) 2345-6789", "TW", "+886223456789"},
		{"12", "", "12"},
		{"", "ES", ""},
	}
	for _, c := range cases {
		if got := Phone(c.in, c.region); got != c.want {
			t.Errorf("Phone(%q, %q) = %q, want %q", c.in, c.region, got, c.want)
		}
	}
}

func TestText(t *testing.T) {
	// "Xoán" with a combining acute accent (NFD) equals the precomposed form.
	if Text("  XOA\u0301N  Pérez ") != Text("xoán pérez") {
		t.Errorf("NFC/case folding: %q vs %q", Text("  XOA\u0301N  Pérez "), Text("xoán pérez"))
	}
	if Text("Straße") != Text("STRASSE") {
		t.Errorf("full case folding: %q vs %q", Text("Straße"), Text("STRASSE"))
	}
}

func TestKey(t *testing.T) {
	a := Key([]string{"ana@example.com", "7"})
	if a == "" || a != Key([]string{"ana@example.com", "7"}) {
		t.Fatal("key not deterministic")
	}
	if a == Key([]string{"ana@example.com7"}) || a == Key([]string{"ana@example.com", "8"}) {
		t.Error("distinct values share a key")
	}
	if Key([]string{"ana@example.com", ""}) != "" {
		t.Error("a missing value must give no key")
	}
}
