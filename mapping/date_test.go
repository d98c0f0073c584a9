package mapping

import (
	"strings"
	"testing"
	"time"
)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func TestParseDate(t *testing.T) {
	at := func(y int, m time.Month, d, h, min, s int) time.Time {
		return time.Date(y, m, d, h, min, s, 0, time.UTC)
	}
	tests := []struct {
		in       string
		dayFirst bool
		want     time.Time
	}{
		{"2006-01-02", false, day(2006, 1, 2)},
		{"2006-1-2", false, day(2006, 1, 2)},
		{"2006/01/02", true, day(2006, 1, 2)},
		{"2006.01.02", false, day(2006, 1, 2)},
		{"20060102", false, day(2006, 1, 2)},
		{"2006-01-02T15:04:05Z", false, at(2006, 1, 2, 15, 4, 5)},
		{"2006-01-02T15:04:05", false, at(2006, 1, 2, 15, 4, 5)},
		{"2006-01-02 15:04", false, at(2006, 1, 2, 15, 4, 0)},
		{"2006-01-02 15:04:05", false, at(2006, 1, 2, 15, 4, 5)},
		{"2006-01-02T15:04", false, at(2006, 1, 2, 15, 4, 0)},
		{"02/01/2006", true, day(2006, 1, 2)},
		{"02/01/2006", false, day(2006, 2, 1)},
		{"02.01.2006", true, day(2006, 1, 2)},
		{"02-01-2006", true, day(2006, 1, 2)},
		{"2.1.2006", true, day(2006, 1, 2)},
		{"13/01/2006", false, day(2006, 1, 13)},
		{"13/01/2006", true, day(2006, 1, 13)},
		{"01/13/2006", true, day(2006, 1, 13)},
		{"01/13/2006", false, day(2006, 1, 13)},
		{"02/01/06", true, day(2006, 1, 2)},
		{"02/01/99", true, day(1999, 1, 2)},
		{"1/2/2006 3:04 PM", false, at(2006, 1, 2, 15, 4, 0)},
		{"1/2/2006 12:30 am", false, at(2006, 1, 2, 0, 30, 0)},
		{"02.01.2006 15:04:05", true, at(2006, 1, 2, 15, 4, 5)},
		{"2 Jan 2006", false, day(2006, 1, 2)},
		{"2 January 2006", true, day(2006, 1, 2)},
		{"January 2, 2006", true, day(2006, 1, 2)},
		{"Jan 2, 2006 15:04", false, at(2006, 1, 2, 15, 4, 0)},
		{"Monday, January 2nd, 2006", false, day(2006, 1, 2)},
		{"2-Jan-06", false, day(2006, 1, 2)},
		{"2006 Jan 2", false, day(2006, 1, 2)},
		{"2 de enero de 2006", false, day(2006, 1, 2)},
		{"2 de xaneiro de 2006", false, day(2006, 1, 2)},
		{"2 de xuño de 2006", false, day(2006, 6, 2)},
		{"2 de março de 2006", false, day(2006, 3, 2)},
		{"1er février 2006", false, day(2006, 2, 1)},
		{"2. März 2006", false, day(2006, 3, 2)},
		{"2 agosto 2006", false, day(2006, 8, 2)},
		{"2 d'abril de 2006", false, day(2006, 4, 2)},
		{"2 set. 2006", false, day(2006, 9, 2)},
		{"2006年1月2日", false, day(2006, 1, 2)},
		{"2006 年 12 月 31 日", false, day(2006, 12, 31)},
		{"2006年1月2日 15:04", false, at(2006, 1, 2, 15, 4, 0)},
		{"2006年1月2日 下午3時04分", false, at(2006, 1, 2, 15, 4, 0)},
		{"民國95年1月2日", false, day(2006, 1, 2)},
		{"２００６年１月２日", false, day(2006, 1, 2)},
		{"45292", false, day(2024, 1, 1)},
		{"45292.5", false, at(2024, 1, 1, 12, 0, 0)},
		{"10959", false, day(1930, 1, 1)},
		{"73050", false, day(2099, 12, 31)},
		{"2024-02-29", false, day(2024, 2, 29)},
		{"29/02/2000", true, day(2000, 2, 29)},
		{" 2006-01-02 ", false, day(2006, 1, 2)},
	}
	for _, tc := range tests {
		got, err := ParseDate(tc.in, tc.dayFirst)
		if err != nil || !got.Equal(tc.want) || got.Location() != time.UTC {
			t.Errorf("ParseDate(%q, %v) = %v, %v; want %v", tc.in, tc.dayFirst, got, err, tc.want)
		}
	}
}

func TestParseDateKeepsZone(t *testing.T) {
	got, err := ParseDate("2006-01-02T15:04:05+02:00", false)
	if err != nil || !got.Equal(time.Date(2006, 1, 2, 13, 4, 5, 0, time.UTC)) {
		t.Fatalf("got %v, %v", got, err)
	}
	if _, off := got.Zone(); off != 7200 {
		t.Errorf("offset = %d", off)
	}
}

func TestParseDateErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "empty"},
		{"tomorrow", `not a date: "tomorrow"`},
		{"2006-13-01", "month 13 does not exist"},
		{"13/13/2006", "month 13 does not exist"},
		{"2006-00-10", "month 0 does not exist"},
		{"2023-02-29", "day 29 does not exist in February 2023"},
		{"1900-02-29", "day 29 does not exist in February 1900"},
		{"29/02/2023", "day 29 does not exist in February 2023"},
		{"2006-04-31", "day 31 does not exist in April 2006"},
		{"32/01/2006", "day 32 does not exist in January 2006"},
		{"20230229", "day 29 does not exist"},
		{"2006年2月30日", "day 30 does not exist in February 2006"},
		{"95年1月2日", "write the full year"},
		{"30 February 2006", "day 30 does not exist"},
		{"2006-01-02 25:00", "hour 25 does not exist"},
		{"2006-01-02 10:61", "minute 61 does not exist"},
		{"1/2/2006 13:00 pm", "hour 13 does not exist with am/pm"},
		{"2024", "a year alone is not a date"},
		{"99999", "outside 1930–2099"},
		{"10000", "outside 1930–2099"},
		{"12", "not a date"},
		{"January 2006", "not a date"},
		{"2 Foo 2006", "not a date"},
		{"2006-01-02-03", "not a date"},
		{"01/02/03/04", "not a date"},
		{"1.234,5", "not a date"},
	}
	for _, tc := range tests {
		if got, err := ParseDate(tc.in, true); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseDate(%q) = %v, %v; want an error with %q", tc.in, got, err, tc.want)
		}
	}
}
