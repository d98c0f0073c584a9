package mapping

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/unicode/norm"
)

// Spreadsheet serial numbers are read only for dates from 1930 to 2099, so
// that a year ("2024") or a count is never taken for a date.
const (
	serialMinYear = 1930
	serialMaxYear = 2099
)

// timeOfDay matches "15:04", "3:04:05.123 PM": hour, minute, second,
// fraction and am/pm.
const timeOfDay = `(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*(?i:(am|pm|a\.m\.|p\.m\.))?`

// Shapes of dates; each has its own reader in dateReaders.
var (
	numericDate = regexp.MustCompile(`^(\d{1,4})([-/.])(\d{1,2})([-/.])(\d{1,4})\.?(?:(?:\s+|T)` + timeOfDay + `)?$`)
	cjkDate     = regexp.MustCompile(`^(民國|民国)?\s*(\d{1,4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日號号]\s*(上午|下午)?\s*(?:(\d{1,2})\s*[:時时点點]\s*(\d{1,2})\s*分?(?:\s*:?\s*(\d{1,2})\s*秒?)?)?$`)
	endTime     = regexp.MustCompile(`\s*,?\s*` + timeOfDay + `$`)
	serialDate  = regexp.MustCompile(`^(\d+)(?:\.(\d+))?$`)
	compactDate = regexp.MustCompile(`^(\d{4})(\d{2})(\d{2})$`)
)

// layouts are the standard formats tried first, as Go parses them.
var layouts = []string{
	time.RFC3339Nano, "2006-01-02 15:04:05Z07:00", "2006-01-02T15:04:05.999999999",
	time.RFC1123Z, time.RFC1123, time.RFC850, time.ANSIC,
}

// dateReaders try the shapes in order; the first that recognises the text
// answers, with an error when the date it describes does not exist.
var dateReaders = []func(s string, dayFirst bool) (time.Time, bool, error){
	readLayout, readSerial, readCompact, readNumeric, readCJK, readNamed,
}

// ParseDate reads a date: ISO "2006-01-02", RFC 3339, "2006-01-02 15:04[:05]",
// "2006/01/02", "20060102"; "02/01/2006", "02.01.2006" and "02-01-2006" (also
// with a two-digit year, 69–99 being 1900s, and an optional time) read
// day-first when dayFirst, else month-first, except that when one of the
// first two numbers is over 12 it is the day whatever the hint (13/01/2006
// and 01/13/2006 are both 13 January); month names in English, Spanish,
// Galician, Portuguese, French, German, Italian and Catalan ("2 Jan 2006",
// "January 2, 2006", "2 de xaneiro de 2006", "2. Januar 2006"); Chinese
// "2006年1月2日" and Taiwanese "民國95年1月2日"; and spreadsheet serial
// numbers written as text ("45292" is 2024-01-01; a fraction is the time of
// day) for 1930 to 2099 only. The result is in UTC (midnight when no time is
// given) unless the text has a zone. Errors name the problem: "not a date:
// …", "month 13 does not exist", "day 29 does not exist in February 2023".
func ParseDate(s string, dayFirst bool) (time.Time, error) {
	t := strings.TrimSpace(norm.NFKC.String(s))
	if t == "" {
		return time.Time{}, errors.New("empty: no date")
	}
	for _, read := range dateReaders {
		if d, ok, err := read(t, dayFirst); ok {
			if err != nil {
				return time.Time{}, fmt.Errorf("%q: %w", s, err)
			}
			return d, nil
		}
	}
	return time.Time{}, fmt.Errorf("not a date: %q", s)
}

// readLayout tries the standard layouts.
func readLayout(s string, _ bool) (time.Time, bool, error) {
	for _, l := range layouts {
		if d, err := time.Parse(l, s); err == nil {
			return d, true, nil
		}
	}
	return time.Time{}, false, nil
}

// readSerial reads a spreadsheet serial number (days since 1899-12-30, which
// absorbs the 1900 leap-year bug for every date after February 1900). Only
// five-digit numbers are serials; four digits alone are refused as a year.
func readSerial(s string, _ bool) (time.Time, bool, error) {
	m := serialDate.FindStringSubmatch(s)
	switch {
	case m != nil && len(m[1]) == 4 && m[2] == "":
		return time.Time{}, true, errors.New("a year alone is not a date")
	case m == nil || len(m[1]) != 5:
		return time.Time{}, false, nil
	}
	days, _ := strconv.ParseFloat(s, 64)
	epoch := time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)
	d := epoch.Add(time.Duration(days*86400+0.5) * time.Second)
	if y := d.Year(); y < serialMinYear || y > serialMaxYear {
		return time.Time{}, true, fmt.Errorf("not a date: as a spreadsheet serial number it would be %s, outside %d–%d",
			d.Format(time.DateOnly), serialMinYear, serialMaxYear)
	}
	return d, true, nil
}

// readCompact reads the ISO basic form "20060102".
func readCompact(s string, _ bool) (time.Time, bool, error) {
	m := compactDate.FindStringSubmatch(s)
	if m == nil {
		return time.Time{}, false, nil
	}
	d, err := makeDate(atoi(m[1]), atoi(m[2]), atoi(m[3]), clock{})
	return d, true, err
}

// readNumeric reads dates of three numbers: year first (ISO and its slashed
// and dotted forms) or year last (day and month in either order).
func readNumeric(s string, dayFirst bool) (time.Time, bool, error) {
	m := numericDate.FindStringSubmatch(s)
	if m == nil || m[2] != m[4] {
		return time.Time{}, false, nil
	}
	c, err := readClock(m[6:11])
	if err != nil {
		return time.Time{}, true, err
	}
	a, b, y := m[1], m[3], m[5]
	switch {
	case len(a) == 4 && len(y) <= 2:
		d, err := makeDate(atoi(a), atoi(b), atoi(y), c)
		return d, true, err
	case len(a) <= 2 && (len(y) == 4 || len(y) == 2):
		day, month := dayMonth(atoi(a), atoi(b), dayFirst)
		d, err := makeDate(fullYear(y), month, day, c)
		return d, true, err
	}
	return time.Time{}, false, nil
}

// dayMonth orders the first two numbers of a date: a number over 12 must be
// the day; otherwise the hint decides.
func dayMonth(a, b int, dayFirst bool) (day, month int) {
	switch {
	case a > 12 && b <= 12:
		return a, b
	case b > 12 && a <= 12:
		return b, a
	case dayFirst:
		return a, b
	}
	return b, a
}

// readCJK reads "2006年1月2日", optionally with a time ("15:04", "下午3時04分")
// and the Republic of China era (民國95年 is 2006).
func readCJK(s string, _ bool) (time.Time, bool, error) {
	m := cjkDate.FindStringSubmatch(s)
	if m == nil {
		return time.Time{}, false, nil
	}
	year := atoi(m[2])
	switch {
	case m[1] != "":
		year += 1911
	case len(m[2]) != 4:
		return time.Time{}, true, fmt.Errorf("year %s: write the full year or 民國%s年", m[2], m[2])
	}
	meridiem := map[string]string{"上午": "am", "下午": "pm"}[m[5]]
	c, err := readClock([]string{m[6], m[7], m[8], "", meridiem})
	if err != nil {
		return time.Time{}, true, err
	}
	d, err := makeDate(year, atoi(m[3]), atoi(m[4]), c)
	return d, true, err
}

// readNamed reads dates with a month name: "2 Jan 2006", "January 2, 2006",
// "Monday, 2 January 2006 15:04", "2 de xaneiro de 2006", "2-Jan-06".
func readNamed(s string, _ bool) (time.Time, bool, error) {
	var c clock
	if m := endTime.FindStringSubmatch(s); m != nil && m[0] != s {
		var err error
		if c, err = readClock(m[1:6]); err != nil {
			return time.Time{}, true, err
		}
		s = s[:len(s)-len(m[0])]
	}
	month, nums, ok := dateWords(foldWords(s))
	if !ok {
		return time.Time{}, false, nil
	}
	day, year := nums[0], nums[1]
	if len(day) == 4 || (len(year) != 4 && len(day) > 2) {
		day, year = year, day
	}
	if len(day) > 2 || (len(year) != 4 && len(year) != 2) {
		return time.Time{}, false, nil
	}
	d, err := makeDate(fullYear(year), int(month), atoi(day), c)
	return d, true, err
}

// dateWords splits folded words into a month and two numbers, dropping
// fillers, weekdays and ordinal suffixes ("2nd", "1er", "1º").
func dateWords(s string) (time.Month, []string, bool) {
	var month time.Month
	var nums []string
	for _, w := range strings.Fields(s) {
		if n := strings.TrimRight(w, "stndrhéeoa"); n != "" && strings.Trim(n, "0123456789") == "" {
			nums = append(nums, n)
			continue
		}
		if m, ok := monthNames[w]; ok && month == 0 {
			month = m
			continue
		}
		if !dateFillers[w] {
			return 0, nil, false
		}
	}
	return month, nums, month != 0 && len(nums) == 2
}

// clock is a time of day.
type clock struct{ hour, min, sec, nsec int }

// readClock reads hour, minute, second, fraction and am/pm captures; all
// empty is midnight.
func readClock(m []string) (clock, error) {
	if m[0] == "" {
		return clock{}, nil
	}
	c := clock{hour: atoi(m[0]), min: atoi(m[1]), sec: atoi(m[2])}
	if m[3] != "" {
		c.nsec = atoi((m[3] + "00000000")[:9])
	}
	switch strings.ToLower(strings.ReplaceAll(m[4], ".", "")) {
	case "am", "pm":
		if c.hour < 1 || c.hour > 12 {
			return clock{}, fmt.Errorf("hour %d does not exist with am/pm", c.hour)
		}
		c.hour %= 12
		if strings.HasPrefix(strings.ToLower(m[4]), "p") {
			c.hour += 12
		}
	}
	switch {
	case c.hour > 23:
		return clock{}, fmt.Errorf("hour %d does not exist", c.hour)
	case c.min > 59:
		return clock{}, fmt.Errorf("minute %d does not exist", c.min)
	case c.sec > 59:
		return clock{}, fmt.Errorf("second %d does not exist", c.sec)
	}
	return c, nil
}

// makeDate builds a UTC time, refusing months and days that do not exist
// instead of normalising them as time.Date does.
func makeDate(year, month, day int, c clock) (time.Time, error) {
	if month < 1 || month > 12 {
		return time.Time{}, fmt.Errorf("month %d does not exist", month)
	}
	last := time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
	if day < 1 || day > last {
		return time.Time{}, fmt.Errorf("day %d does not exist in %s %d", day, time.Month(month), year)
	}
	return time.Date(year, time.Month(month), day, c.hour, c.min, c.sec, c.nsec, time.UTC), nil
}

// fullYear reads a year of four digits, or two: 69–99 are the 1900s and
// 00–68 the 2000s, as in Go's time package.
func fullYear(y string) int {
	n := atoi(y)
	if len(y) != 2 {
		return n
	}
	if n >= 69 {
		return 1900 + n
	}
	return 2000 + n
}

// atoi reads digits the regular expressions have already checked.
func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
