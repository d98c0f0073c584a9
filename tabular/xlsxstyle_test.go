package tabular

import (
	"strings"
	"testing"
)

func TestFormatKind(t *testing.T) {
	tests := []struct {
		code string
		want cellKind
	}{
		{"General", kindGeneral},
		{"0.00", kindGeneral},
		{"#,##0", kindGeneral},
		{"#,##0.00 [$€-C0A];[Red]-#,##0.00 [$€-C0A]", kindGeneral},
		{"0.00%", kindGeneral},
		{"0.00E+00", kindGeneral},
		{"@", kindGeneral},
		{`0.0 "days"`, kindGeneral},
		{`0\ \m`, kindGeneral},
		{`_-* #,##0_-;\-* #,##0_-;_-* "-"_-;_-@_-`, kindGeneral},
		{"dd/mm/yyyy", kindDate},
		{"yyyy-mm-dd", kindDate},
		{"mmm-yy", kindDate},
		{"mmmm", kindDate},
		{"[$-F800]dddd\\,\\ mmmm\\ dd\\,\\ yyyy", kindDate},
		{`[$-404]e"年"m"月"d"日"`, kindDate},
		{`yyyy"年"m"月"d"日"`, kindDate},
		{"[Red]dd/mm/yyyy", kindDate},
		{"dd/mm/yyyy\\ hh:mm", kindDateTime},
		{"m/d/yy h:mm AM/PM", kindDateTime},
		{"yyyy-mm-ddThh:mm:ss", kindDateTime},
		{"h:mm", kindTime},
		{"hh:mm:ss", kindTime},
		{"mm:ss", kindTime},
		{"h:mm AM/PM", kindTime},
		{"h:mm a/p", kindTime},
		{`hh"時"mm"分"`, kindTime},
		{"[h]:mm", kindDuration},
		{"[hh]:mm:ss", kindDuration},
		{"[mm]:ss", kindDuration},
		{"dd/mm/yyyy;@", kindDate},
		{`"Date: "0`, kindGeneral},
		{`"unclosed`, kindGeneral},
		{"[unclosed", kindGeneral},
	}
	for _, tt := range tests {
		if got := formatKind(tt.code); got != tt.want {
			t.Errorf("formatKind(%q) = %d, want %d", tt.code, got, tt.want)
		}
	}
}

func TestBuiltinKind(t *testing.T) {
	tests := []struct {
		ids  []int
		want cellKind
	}{
		{[]int{0, 1, 2, 3, 4, 9, 10, 11, 12, 13, 37, 38, 39, 40, 44, 48, 49, 59, 164}, kindGeneral},
		{[]int{14, 15, 16, 17, 27, 28, 29, 30, 31, 36, 50, 51, 54, 57, 58}, kindDate},
		{[]int{22}, kindDateTime},
		{[]int{18, 19, 20, 21, 32, 33, 34, 35, 45, 47, 52, 53, 55, 56}, kindTime},
		{[]int{46}, kindDuration},
	}
	for _, tt := range tests {
		for _, id := range tt.ids {
			if got := builtinKind(id); got != tt.want {
				t.Errorf("builtinKind(%d) = %d, want %d", id, got, tt.want)
			}
		}
	}
}

func TestSerialText(t *testing.T) {
	tests := []struct {
		serial   float64
		kind     cellKind
		date1904 bool
		want     string
		ok       bool
	}{
		{1, kindDate, false, "1900-01-01", true},
		{59, kindDate, false, "1900-02-28", true},
		{60, kindDate, false, "1900-02-28", true}, // Excel's fictitious 1900-02-29
		{61, kindDate, false, "1900-03-01", true},
		{45292, kindDate, false, "2024-01-01", true},
		{45292.75, kindDate, false, "2024-01-01", true},
		{45351, kindDate, false, "2024-02-29", true},
		{45292.5, kindDateTime, false, "2024-01-01T12:00:00", true},
		{45292.99999, kindDateTime, false, "2024-01-01T23:59:59", true},
		{45292.9999999, kindDateTime, false, "2024-01-02T00:00:00", true}, // rounds to the second
		{0.75, kindTime, false, "18:00:00", true},
		{0.5208333333333334, kindTime, false, "12:30:00", true},
		{45292.25, kindTime, false, "2024-01-01T06:00:00", true}, // keeps the date
		{1.5, kindDuration, false, "36:00:00", true},
		{0.0006944444444444445, kindDuration, false, "00:01:00", true},
		{0, kindDate, true, "1904-01-01", true},
		{43830, kindDate, true, "2024-01-01", true},
		{2958465, kindDate, false, "9999-12-31", true},
		{2958466, kindDate, false, "", false},
		{-1, kindDate, false, "", false},
	}
	for _, tt := range tests {
		got, ok := serialText(tt.serial, tt.kind, tt.date1904)
		if got != tt.want || ok != tt.ok {
			t.Errorf("serialText(%v, %d, %v) = %q, %v; want %q, %v", tt.serial, tt.kind, tt.date1904, got, ok, tt.want, tt.ok)
		}
	}
}

func TestFormatNumber(t *testing.T) {
	tests := []struct{ in, want string }{
		{"0", "0"},
		{"-0", "0"},
		{"12", "12"},
		{"12.0", "12"},
		{"1234567890123", "1234567890123"},
		{"0.30000000000000004", "0.3"},
		{"0.1", "0.1"},
		{"1E-3", "0.001"},
		{"1.5E-10", "0.00000000015"},
		{"1E+21", "1000000000000000000000"},
		{"123456789012345678", "123456789012346000"},
		{"-1234.5678", "-1234.5678"},
		{"3.14159265358979323846", "3.14159265358979"},
		{"99999999999999.99", "100000000000000"},
		{"007", "7"},
		{" 42 ", "42"},
		{"not a number", "not a number"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := formatNumber(tt.in); got != tt.want {
			t.Errorf("formatNumber(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNumberText(t *testing.T) {
	tests := []struct {
		v    string
		kind cellKind
		want string
	}{
		{"45292", kindDate, "2024-01-01"},
		{"0.25", kindGeneral, "0.25"},
		{"-5", kindDate, "-5"}, // not a date: the number
		{"1e300", kindDateTime, "1" + strings.Repeat("0", 300)},
		{"abc", kindDate, "abc"},
	}
	for _, tt := range tests {
		if got := numberText(tt.v, tt.kind, false); got != tt.want {
			t.Errorf("numberText(%q, %d) = %q, want %q", tt.v, tt.kind, got, tt.want)
		}
	}
}
