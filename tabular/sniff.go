package tabular

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// delimiterCandidates are the delimiters that sniffing chooses from, in
// order of preference when they score the same.
var delimiterCandidates = [...]byte{',', ';', '\t', '|'}

// sniffRecords is how many non-blank records sniffing looks at.
const sniffRecords = 20

// sniffed is what the first lines of a CSV file tell.
type sniffed struct {
	delim   byte
	term    byte // line terminator: '\n', or '\r' for files with CR line ends only
	sepLine bool // the first line is Excel's "sep=X", to be skipped
}

// sniff finds the line terminator, Excel's "sep=" line and the delimiter
// in the decoded start of a CSV file. prefix tells whether the file goes on
// after text.
func sniff(text string, forced rune, prefix bool) (sniffed, error) {
	text = strings.TrimLeft(text, "\uFEFF")
	s := sniffed{term: '\n'}
	if !strings.Contains(text, "\n") && strings.Contains(text, "\r") {
		s.term = '\r'
	}
	first, rest, _ := strings.Cut(text, string(s.term))
	sep, isSep := sepDelimiter(first)
	if isSep {
		s.sepLine, text = true, rest
	}
	switch {
	case forced != 0:
		sep = forced
	case !isSep:
		s.delim = bestDelimiter(text, s.term, prefix)
		return s, nil
	}
	if sep >= utf8.RuneSelf || sep == '"' || sep == '\n' || sep == '\r' || sep == 0 {
		return sniffed{}, fmt.Errorf("unsupported delimiter %q (use an ASCII character other than a quote)", sep)
	}
	s.delim = byte(sep)
	return s, nil
}

// sepDelimiter recognises Excel's "sep=X" first line and returns X.
func sepDelimiter(line string) (rune, bool) {
	line = strings.TrimRight(line, "\r")
	if unq, ok := strings.CutPrefix(line, `"`); ok {
		line = strings.TrimSuffix(unq, `"`)
	}
	if len(line) < 5 || !strings.EqualFold(line[:4], "sep=") {
		return 0, false
	}
	rest := line[4:]
	if r, n := utf8.DecodeRuneInString(rest); n == len(rest) {
		return r, true
	}
	rest = strings.TrimRight(rest, " ")
	if r, n := utf8.DecodeRuneInString(rest); n == len(rest) && n > 0 {
		return r, true
	}
	return 0, false
}

// delimiterScore rates a candidate delimiter over the first records.
type delimiterScore struct {
	consistent int  // records with the most common field count
	mode       int  // the most common field count
	headerFits bool // the first record has mode fields
}

// better reports whether s beats o.
func (s delimiterScore) better(o delimiterScore) bool {
	if s.consistent != o.consistent {
		return s.consistent > o.consistent
	}
	if s.headerFits != o.headerFits {
		return s.headerFits
	}
	return s.mode > o.mode
}

// bestDelimiter picks the candidate that splits the first records into the
// most consistent number (more than one) of fields; ',' if none does.
func bestDelimiter(text string, term byte, prefix bool) byte {
	best, bestScore := byte(','), delimiterScore{}
	for _, d := range delimiterCandidates {
		if s := scoreDelimiter(fieldCounts(text, d, term, prefix)); s.better(bestScore) {
			best, bestScore = d, s
		}
	}
	return best
}

// scoreDelimiter rates the field counts of the first records.
func scoreDelimiter(counts []int) delimiterScore {
	freq := map[int]int{}
	var s delimiterScore
	for _, c := range counts {
		freq[c]++
		if f := freq[c]; f > s.consistent || f == s.consistent && c > s.mode {
			s.consistent, s.mode = f, c
		}
	}
	if s.mode <= 1 {
		return delimiterScore{}
	}
	s.headerFits = counts[0] == s.mode
	return s
}

// fieldCounts parses the first non-blank records of text with delimiter d
// and returns their field counts. A record cut by the end of the sample is
// left out.
func fieldCounts(text string, d, term byte, prefix bool) []int {
	if prefix {
		if i := strings.LastIndexByte(text, term); i >= 0 {
			text = text[:i]
		}
	}
	p := csvParser{delim: d}
	var counts []int
	for len(counts) < sniffRecords && text != "" {
		var line string
		line, text, _ = strings.Cut(text, string(term))
		b := []byte(strings.TrimSuffix(line, "\r"))
		if !p.open && separatorsOnly(b) {
			continue
		}
		more, err := p.parseLine(b)
		switch {
		case more:
			continue
		case err == nil && !p.empty():
			counts = append(counts, len(p.ends))
		}
		p.reset()
	}
	return counts
}
