package mapping

import (
	"strings"
	"testing"
)

func TestParseNumber(t *testing.T) {
	tests := []struct {
		in           string
		decimalComma bool
		want         float64
	}{
		{"1234.5", false, 1234.5},
		{"1234,5", false, 1234.5},
		{"1,234.5", false, 1234.5},
		{"1,234.5", true, 1234.5},
		{"1.234,5", false, 1234.5},
		{"1.234,5", true, 1234.5},
		{"1 234,5", false, 1234.5},
		{"1\u00a0234,5", true, 1234.5},
		{"1\u202f234.5", false, 1234.5},
		{"1'234.5", false, 1234.5},
		{"1’234’567", false, 1234567},
		{"1,234,567", false, 1234567},
		{"1.234.567", false, 1234567},
		{"1.234.567,89", true, 1234567.89},
		{"-12", false, -12},
		{"−12", false, -12},
		{"+12", false, 12},
		{"(12)", false, -12},
		{"(€ 1.200,00)", false, -1200},
		{"€ 1.200,00", false, 1200},
		{"-€12", false, -12},
		{"€-12", false, -12},
		{"$1,200", false, 1200},
		{"NT$ 1,200", false, 1200},
		{"R$ 1.200,50", false, 1200.5},
		{"1200 EUR", false, 1200},
		{"EUR1200", false, 1200},
		{"1200元", false, 1200},
		{"1e3", false, 1000},
		{"-1.5E-3", false, -0.0015},
		{"１２３", false, 123},
		{".5", false, 0.5},
		{",5", true, 0.5},
		{"007", false, 7},
		{"  42  ", false, 42},
		// One separator followed by three digits: the hint decides.
		{"1,234", false, 1234},
		{"1,234", true, 1.234},
		{"1.234", false, 1.234},
		{"1.234", true, 1234},
		{"-1.234", true, -1234},
		// Not ambiguous: no hint needed.
		{"0,234", false, 0.234},
		{"0.234", true, 0.234},
		{"1234,567", false, 1234.567},
		{"1234.567", true, 1234.567},
		{"1,5", false, 1.5},
		{"1.50", true, 1.5},
		{"12,3456", false, 12.3456},
	}
	for _, tc := range tests {
		got, err := ParseNumber(tc.in, tc.decimalComma)
		if err != nil || got != tc.want {
			t.Errorf("ParseNumber(%q, %v) = %v, %v; want %v", tc.in, tc.decimalComma, got, err, tc.want)
		}
	}
}

func TestParseNumberErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "empty"},
		{"   ", "empty"},
		{"12abc", `not a number: "12abc"`},
		{"abc", `not a number: "abc"`},
		{"1,2,3", "three digits"},
		{"1,00,000", "three digits"},
		{"1.2,3", "three digits"},
		{"12,", "digits must follow"},
		{"1.234.5", "three digits"},
		{"1,234.567,8", "must follow"},
		{"1 234.567,5", "one kind of separator"},
		{"12 %", "percentage"},
		{"12%", "percentage"},
		{"NaN", "not a number"},
		{"Inf", "not a number"},
		{"1e999", "out of range"},
		{"-(12)", "not a number"},
		{"(12", "not a number"},
		{"--12", "not a number"},
		{"0x1F", "not a number"},
		{"1_000", "not a number"},
		{"€", "not a number"},
		{"1..2", "not a number"},
	}
	for _, tc := range tests {
		if got, err := ParseNumber(tc.in, false); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseNumber(%q) = %v, %v; want an error with %q", tc.in, got, err, tc.want)
		}
	}
}

func TestParseInteger(t *testing.T) {
	tests := []struct {
		in           string
		decimalComma bool
		want         int64
	}{
		{"1000", false, 1000},
		{"1.000", true, 1000},
		{"1.000", false, 1000}, // a separator before three digits groups in integers
		{"1,000", true, 1000},
		{"1,000,000", false, 1000000},
		{"12.0", false, 12},
		{"12,00", true, 12},
		{"-7", false, -7},
		{"(7)", false, -7},
		{"1e3", false, 1000},
		{"9223372036854775807", false, 9223372036854775807},
		{"1 250", false, 1250},
	}
	for _, tc := range tests {
		got, err := ParseInteger(tc.in, tc.decimalComma)
		if err != nil || got != tc.want {
			t.Errorf("ParseInteger(%q, %v) = %v, %v; want %v", tc.in, tc.decimalComma, got, err, tc.want)
		}
	}
	for in, want := range map[string]string{
		"12.5":                "not a whole number",
		"12,5":                "not a whole number",
		"1.5e-1":              "not a whole number",
		"9223372036854775808": "out of range",
		"1e19":                "out of range",
		"twelve":              "not a number",
		"":                    "empty",
		"10 %":                "percentage",
	} {
		if got, err := ParseInteger(in, true); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseInteger(%q) = %v, %v; want an error with %q", in, got, err, want)
		}
	}
}
