package tabular

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxColumns is Excel's column limit (XFD).
const maxColumns = 16384

// sheetReader streams the rows of a worksheet part.
type sheetReader struct {
	name     string // part name, for errors
	dec      *xml.Decoder
	sst      []string
	styles   []cellKind // by cellXfs index
	date1904 bool
	row      int64 // number of the last row read
	inData   bool  // inside <sheetData>
	ended    bool  // past </sheetData>
	cells    []string
	text     []byte
}

// cell is one parsed <c> element.
type cell struct {
	col  int // 0-based
	text string
	err  error // a problem that makes the row a RowError
}

// next returns the next non-blank row.
func (s *sheetReader) next() (Row, error) {
	for {
		row, err := s.nextRow()
		if err != nil || !blank(row.Cells) {
			return row, err
		}
	}
}

// nextRow returns the next <row> of <sheetData>, or io.EOF after it.
func (s *sheetReader) nextRow() (Row, error) {
	for !s.ended {
		tok, err := s.dec.RawToken()
		if err == io.EOF && !s.inData {
			break
		}
		if err != nil {
			return Row{}, s.fail(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local == "sheetData" {
				s.inData = true
			} else if t.Name.Local == "row" && s.inData {
				return s.readRow(t)
			}
		case xml.EndElement:
			s.ended = t.Name.Local == "sheetData"
		}
	}
	return Row{}, io.EOF
}

// fail describes a fatal error in the sheet.
func (s *sheetReader) fail(err error) error {
	if err == io.EOF {
		err = fmt.Errorf("the sheet ends after row %d, inside its data", s.row)
	}
	return xmlError(s.name, err)
}

// readRow reads the cells of a <row>, placing them by their reference.
func (s *sheetReader) readRow(start xml.StartElement) (Row, error) {
	num := s.row + 1
	if n, err := strconv.ParseInt(attr(start, "r"), 10, 64); err == nil && n > 0 {
		num = n
	}
	s.row, s.cells = num, s.cells[:0]
	var rowErr error
	next := 0
	for {
		tok, err := s.dec.RawToken()
		if err != nil {
			return Row{}, s.fail(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local != "c" {
				err = skipElement(s.dec)
				break
			}
			var c cell
			if c, err = s.readCell(t, next); err == nil {
				next = c.col + 1
				rowErr = s.place(c, num, rowErr)
			}
		case xml.EndElement:
			if t.Name.Local == "row" {
				return s.finishRow(num, rowErr)
			}
		}
		if err != nil {
			return Row{}, s.fail(err)
		}
	}
}

// place stores a cell's text at its column, or returns the row's first
// error.
func (s *sheetReader) place(c cell, num int64, rowErr error) error {
	if rowErr != nil {
		return rowErr
	}
	if c.err != nil {
		return &RowError{Line: num, Column: min(c.col+1, maxColumns+1), Err: c.err}
	}
	for len(s.cells) <= c.col {
		s.cells = append(s.cells, "")
	}
	s.cells[c.col] = c.text
	return nil
}

// finishRow returns the row, without its trailing empty cells.
func (s *sheetReader) finishRow(num int64, rowErr error) (Row, error) {
	if rowErr != nil {
		return Row{}, rowErr
	}
	n := len(s.cells)
	for n > 0 && s.cells[n-1] == "" {
		n--
	}
	return Row{Line: num, Cells: append([]string(nil), s.cells[:n]...)}, nil
}

// readCell reads a <c> element; next is the column after the previous
// cell, used when the cell has no reference.
func (s *sheetReader) readCell(start xml.StartElement, next int) (cell, error) {
	c := cell{col: next}
	if col, ok := columnIndex(attr(start, "r")); ok {
		c.col = col
	}
	var value, inline string
	hasInline := false
	for {
		tok, err := s.dec.RawToken()
		if err != nil {
			return c, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "v":
				value, err = s.readText()
			case "is":
				inline, s.text, err = readRichText(s.dec, "is", s.text)
				hasInline = true
			default:
				err = skipElement(s.dec)
			}
		case xml.EndElement:
			if t.Name.Local == "c" {
				if c.col >= maxColumns {
					c.err = fmt.Errorf("the cell %s lies beyond the last column (XFD)", attr(start, "r"))
					return c, nil
				}
				c.text, c.err = s.value(attr(start, "t"), attr(start, "s"), value, inline, hasInline)
				return c, nil
			}
		}
		if err != nil {
			return c, err
		}
	}
}

// value turns a cell's type, style and content into text.
func (s *sheetReader) value(typ, style, v, inline string, hasInline bool) (string, error) {
	switch typ {
	case "s":
		i, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || i < 0 || i >= len(s.sst) {
			return "", fmt.Errorf("the shared string %q does not exist", v)
		}
		return s.sst[i], nil
	case "inlineStr":
		if hasInline {
			return inline, nil
		}
		return decodeEscapes(v), nil
	case "str":
		return decodeEscapes(v), nil
	case "b":
		return boolText(v), nil
	case "e", "d":
		return v, nil
	}
	if strings.TrimSpace(v) == "" {
		return "", nil
	}
	return numberText(v, s.kindOf(style), s.date1904), nil
}

// kindOf returns the kind of number format of a style index.
func (s *sheetReader) kindOf(style string) cellKind {
	i, err := strconv.Atoi(style)
	if err != nil || i < 0 || i >= len(s.styles) {
		return kindGeneral
	}
	return s.styles[i]
}

// boolText spells a boolean cell as Excel shows it.
func boolText(v string) string {
	switch strings.TrimSpace(v) {
	case "1", "true":
		return "TRUE"
	case "0", "false":
		return "FALSE"
	}
	return v
}

// readText reads the character data up to the end of the current element.
func (s *sheetReader) readText() (string, error) {
	var err error
	s.text, err = appendText(s.dec, s.text[:0])
	return string(s.text), err
}

// columnIndex returns the 0-based column of a cell reference such as
// "C5"; a column beyond maxColumns is returned as maxColumns.
func columnIndex(ref string) (int, bool) {
	col, i := 0, 0
	for ; i < len(ref); i++ {
		c := ref[i] | 0x20 // lower case
		if c < 'a' || c > 'z' {
			break
		}
		col = min(col*26+int(c-'a')+1, maxColumns+1)
	}
	if i == 0 {
		return 0, false
	}
	return col - 1, true
}

// attr returns the value of an unprefixed attribute.
func attr(e xml.StartElement, local string) string {
	for _, a := range e.Attr {
		if a.Name.Local == local && a.Name.Space == "" {
			return a.Value
		}
	}
	return ""
}

// appendText appends the character data up to the end of the current
// element to buf, skipping nested elements.
func appendText(d *xml.Decoder, buf []byte) ([]byte, error) {
	for {
		tok, err := d.RawToken()
		if err != nil {
			return buf, err
		}
		switch t := tok.(type) {
		case xml.CharData:
			buf = append(buf, t...)
		case xml.StartElement:
			if err := skipElement(d); err != nil {
				return buf, err
			}
		case xml.EndElement:
			return buf, nil
		}
	}
}

// readRichText reads a string item (<si> or <is>) up to the end of the
// element named end: plain <t> text and rich text runs <r><t> are
// concatenated; phonetic runs <rPh> are left out. buf is scratch space.
func readRichText(d *xml.Decoder, end string, buf []byte) (string, []byte, error) {
	buf = buf[:0]
	for {
		tok, err := d.RawToken()
		if err != nil {
			return "", buf, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "t":
				buf, err = appendText(d, buf)
			case "r":
			default: // rPh, rPr, phoneticPr
				err = skipElement(d)
			}
		case xml.EndElement:
			if t.Name.Local == end {
				return decodeEscapes(string(buf)), buf, nil
			}
		}
		if err != nil {
			return "", buf, err
		}
	}
}

// skipElement skips to the end of the element whose start was just read.
func skipElement(d *xml.Decoder) error {
	for depth := 1; depth > 0; {
		tok, err := d.RawToken()
		if err != nil {
			return err
		}
		switch tok.(type) {
		case xml.StartElement:
			depth++
		case xml.EndElement:
			depth--
		}
	}
	return nil
}

// decodeEscapes decodes the _xHHHH_ escapes with which Office stores
// characters that XML cannot hold, such as _x000D_ for a carriage return.
func decodeEscapes(s string) string {
	if !strings.Contains(s, "_x") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if r, ok := escapeAt(s, i); ok {
			b.WriteRune(r)
			i += len("_x0000_")
			continue
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String()
}

// escapeAt decodes an _xHHHH_ escape at s[i:].
func escapeAt(s string, i int) (rune, bool) {
	if i+7 > len(s) || s[i] != '_' || s[i+1] != 'x' || s[i+6] != '_' {
		return 0, false
	}
	n, err := strconv.ParseUint(s[i+2:i+6], 16, 32)
	if err != nil {
		return 0, false
	}
	if !utf8.ValidRune(rune(n)) {
		return utf8.RuneError, true
	}
	return rune(n), true
}
