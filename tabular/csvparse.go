package tabular

import "bytes"

// csvParser splits CSV lines into fields. A record is fed to it one
// physical line at a time (without the line terminator); a quoted field
// may continue on the next line.
//
// Quoting rules:
//   - a field is quoted when its first character other than spaces and tabs
//     is a quote; inside, "" is a quote, and a quote followed by optional
//     spaces and a delimiter or the end of the line closes the field;
//   - any other quote inside a quoted field is a stray quote: it is kept as
//     a character if the field closes on the line where it opened, and is an
//     error otherwise (ErrStrayQuote on the opening line, ErrUnterminatedQuote
//     on a continuation line, where it shows that the opening quote was never
//     closed);
//   - quotes inside unquoted fields are ordinary characters;
//   - unquoted fields are trimmed of surrounding whitespace.
type csvParser struct {
	delim byte
	rec   []byte // the record's field bytes, end to end
	ends  []int  // end offset in rec of each field
	open  bool   // the line ended inside a quoted field
	multi bool   // the open quoted field already spans a line break
	stray bool   // the open quoted field has a stray quote
	col   int    // 1-based number of the open quoted field
}

// reset prepares the parser for a new record.
func (p *csvParser) reset() {
	p.rec, p.ends = p.rec[:0], p.ends[:0]
	p.open, p.multi, p.stray, p.col = false, false, false, 0
}

// parseLine parses one physical line of the current record. It returns
// more=true when the line ends inside a quoted field, so that the record
// goes on with the next line.
func (p *csvParser) parseLine(l []byte) (more bool, err error) {
	i := 0
	if p.open {
		p.rec = append(p.rec, '\n')
		p.multi = true
		if i, more, err = p.quoted(l, 0); more || err != nil || i > len(l) {
			return more, err
		}
	}
	for {
		j := skipBlanks(l, i, p.delim)
		if j < len(l) && l[j] == '"' {
			p.open, p.multi, p.stray, p.col = true, false, false, len(p.ends)+1
			if i, more, err = p.quoted(l, j+1); more || err != nil || i > len(l) {
				return more, err
			}
			continue
		}
		k := bytes.IndexByte(l[i:], p.delim)
		if k < 0 {
			p.field(l[i:])
			return false, nil
		}
		p.field(l[i : i+k])
		i += k + 1
	}
}

// quoted parses the body of a quoted field from l[i:]. It returns the
// index after the delimiter that follows the closing quote, or len(l)+1
// when the closing quote ends the line; more=true when the line ends
// inside the field.
func (p *csvParser) quoted(l []byte, i int) (next int, more bool, err error) {
	for {
		k := bytes.IndexByte(l[i:], '"')
		if k < 0 {
			p.rec = append(p.rec, l[i:]...)
			if p.stray {
				return 0, false, ErrStrayQuote
			}
			return 0, true, nil
		}
		p.rec = append(p.rec, l[i:i+k]...)
		i += k + 1
		if i < len(l) && l[i] == '"' {
			p.rec = append(p.rec, '"')
			i++
			continue
		}
		m := skipBlanks(l, i, p.delim)
		if m == len(l) || l[m] == p.delim {
			p.open = false
			p.ends = append(p.ends, len(p.rec))
			return m + 1, false, nil
		}
		if p.multi {
			return 0, false, ErrUnterminatedQuote
		}
		p.stray = true
		p.rec = append(p.rec, '"')
	}
}

// field appends an unquoted field, trimmed.
func (p *csvParser) field(b []byte) {
	p.rec = append(p.rec, bytes.TrimSpace(b)...)
	p.ends = append(p.ends, len(p.rec))
}

// cells returns the fields of the finished record.
func (p *csvParser) cells() []string {
	s := string(p.rec)
	cells := make([]string, len(p.ends))
	prev := 0
	for i, e := range p.ends {
		cells[i] = s[prev:e]
		prev = e
	}
	return cells
}

// empty reports whether every field of the finished record is empty.
func (p *csvParser) empty() bool { return len(p.rec) == 0 }

// skipBlanks returns the index of the first byte of l[i:] that is not a
// space or a tab (other than the delimiter itself).
func skipBlanks(l []byte, i int, delim byte) int {
	for i < len(l) && (l[i] == ' ' || l[i] == '\t') && l[i] != delim {
		i++
	}
	return i
}
