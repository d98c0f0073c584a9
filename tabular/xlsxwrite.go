package tabular

import (
	"archive/zip"
	"bufio"
	"compress/flate"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Kind says how an XLSX column is written.
type Kind int

// Column kinds for XLSXWriter.SetKinds.
const (
	// KindText writes the cell as an inline string.
	KindText Kind = iota
	// KindNumber writes a plain decimal number ("-12.5", "1e6") as a
	// number; other texts are written as text.
	KindNumber
	// KindDate writes "2006-01-02", or an RFC 3339 date and time, as a
	// date; other texts are written as text.
	KindDate
	// KindBool writes "true"/"false" (as strconv.ParseBool accepts them) as
	// a boolean; other texts are written as text.
	KindBool
)

// Excel's limits.
const (
	// MaxXLSXRows is the most rows an Excel sheet holds.
	MaxXLSXRows = 1 << 20
	// MaxXLSXColumns is the most columns an Excel sheet holds.
	MaxXLSXColumns = maxColumns
	// MaxCellChars is the most characters (UTF-16 code units) an Excel
	// cell holds; longer texts are truncated.
	MaxCellChars = 32767
	// maxSheetName is the longest sheet name, in characters.
	maxSheetName = 31
	// maxExactDigits is the most significant digits a number keeps in Excel.
	maxExactDigits = 15
)

// ErrTooManyRows is returned by XLSXWriter.Write past MaxXLSXRows rows.
const ErrTooManyRows Error = "xlsx: a sheet holds at most 1,048,576 rows (use CSV for larger exports)"

// Cell styles of the written workbook (indexes in cellXfs).
const (
	styleDate     = "1"
	styleDateTime = "2"
)

// XLSXWriter streams a one-sheet workbook. Memory does not depend on the
// number of rows: the fixed parts are written first, then the sheet row by
// row, then the zip directory on Close.
//
// Excel's limits are enforced: texts longer than MaxCellChars are
// truncated; characters that XML 1.0 cannot hold (control characters other
// than tab, line feed and carriage return) are dropped; invalid UTF-8 is
// written as U+FFFD; Write refuses a row past MaxXLSXRows (ErrTooManyRows)
// or with more than MaxXLSXColumns cells. Empty cells are left out, so a
// reader sees no trailing empty cells.
type XLSXWriter struct {
	zw      *zip.Writer
	part    *bufio.Writer
	sheet   string
	kinds   []Kind
	rows    int
	maxRows int
	started bool
	closed  bool
	err     error    // sticky write error
	buf     []byte   // the row being written
	cols    []string // column letters, cached
}

// NewXLSXWriter streams a one-sheet workbook to w, which need not be
// seekable. The sheet name is made acceptable with SheetName. Cells are
// inline strings unless SetKinds says otherwise.
func NewXLSXWriter(w io.Writer, sheet string) *XLSXWriter {
	zw := zip.NewWriter(w)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(w, flate.BestSpeed)
	})
	return &XLSXWriter{zw: zw, sheet: SheetName(sheet), maxRows: MaxXLSXRows}
}

// SetKinds sets the kind of each column (missing ones are KindText). It
// applies to the rows written after it, so call it before the first Write;
// a header row of names is written as text anyway.
func (x *XLSXWriter) SetKinds(kinds []Kind) {
	x.kinds = append([]Kind(nil), kinds...)
}

// Write writes one row.
func (x *XLSXWriter) Write(cells []string) error {
	switch {
	case x.err != nil:
		return x.err
	case x.closed:
		return errClosed
	case len(cells) > MaxXLSXColumns:
		return fmt.Errorf("xlsx: a row holds at most %d cells, not %d", MaxXLSXColumns, len(cells))
	case x.rows >= x.maxRows:
		return ErrTooManyRows
	}
	if err := x.start(); err != nil {
		return err
	}
	x.rows++
	x.buf = x.appendRow(x.buf[:0], cells)
	_, x.err = x.part.Write(x.buf)
	return x.err
}

// Close writes the end of the sheet and the zip directory. It does not
// close the underlying io.Writer.
func (x *XLSXWriter) Close() error {
	if x.closed || x.err != nil {
		return x.err
	}
	x.closed = true
	if x.err = x.start(); x.err != nil {
		return x.err
	}
	if _, x.err = x.part.WriteString(sheetTail); x.err != nil {
		return x.err
	}
	if x.err = x.part.Flush(); x.err != nil {
		return x.err
	}
	x.err = x.zw.Close()
	return x.err
}

// start writes the fixed parts and the start of the sheet, once.
func (x *XLSXWriter) start() error {
	if x.started {
		return x.err
	}
	x.started = true
	parts := [...]struct{ name, body string }{
		{"[Content_Types].xml", contentTypesXML},
		{"_rels/.rels", rootRelsXML},
		{"xl/workbook.xml", workbookXML(x.sheet)},
		{"xl/_rels/workbook.xml.rels", workbookRelsXML},
		{"xl/styles.xml", stylesXML},
	}
	for _, p := range parts {
		if x.err = x.writePart(p.name, p.body); x.err != nil {
			return x.err
		}
	}
	w, err := x.zw.Create("xl/worksheets/sheet1.xml")
	if err != nil {
		x.err = err
		return err
	}
	x.part = bufio.NewWriterSize(w, 64<<10)
	_, x.err = x.part.WriteString(sheetHead)
	return x.err
}

// writePart writes a whole zip part.
func (x *XLSXWriter) writePart(name, body string) error {
	w, err := x.zw.Create(name)
	if err == nil {
		_, err = io.WriteString(w, body)
	}
	return err
}

// appendRow appends the XML of a row.
func (x *XLSXWriter) appendRow(b []byte, cells []string) []byte {
	b = append(b, `<row r="`...)
	b = strconv.AppendInt(b, int64(x.rows), 10)
	b = append(b, `">`...)
	for col, text := range cells {
		if text != "" {
			b = x.appendCell(b, col, text)
		}
	}
	return append(b, "</row>"...)
}

// appendCell appends the XML of a non-empty cell, of its column's kind.
func (x *XLSXWriter) appendCell(b []byte, col int, text string) []byte {
	b = append(b, `<c r="`...)
	b = append(b, x.column(col)...)
	b = strconv.AppendInt(b, int64(x.rows), 10)
	b = append(b, '"')
	kind := KindText
	if col < len(x.kinds) {
		kind = x.kinds[col]
	}
	switch kind {
	case KindNumber:
		if isExactNumber(text) {
			return appendValue(b, "", "", text)
		}
	case KindDate:
		if serial, style, ok := excelSerial(text); ok {
			return appendValue(b, "", style, strconv.FormatFloat(serial, 'f', -1, 64))
		}
	case KindBool:
		if v, err := strconv.ParseBool(text); err == nil {
			return appendValue(b, "b", "", boolValue(v))
		}
	}
	return appendInline(b, text)
}

// boolValue is the <v> of a boolean cell.
func boolValue(v bool) string {
	if v {
		return "1"
	}
	return "0"
}

// column returns the letters of a 0-based column: A, B, … AA, AB …
func (x *XLSXWriter) column(col int) string {
	for len(x.cols) <= col {
		x.cols = append(x.cols, columnName(len(x.cols)))
	}
	return x.cols[col]
}

// columnName returns the letters of a 0-based column.
func columnName(col int) string {
	var b []byte
	for col++; col > 0; col = (col - 1) / 26 {
		b = append([]byte{byte('A' + (col-1)%26)}, b...)
	}
	return string(b)
}

// appendValue ends a cell element with a <v> value.
func appendValue(b []byte, typ, style, v string) []byte {
	if typ != "" {
		b = append(b, ` t="`...)
		b = append(b, typ...)
		b = append(b, '"')
	}
	if style != "" {
		b = append(b, ` s="`...)
		b = append(b, style...)
		b = append(b, '"')
	}
	b = append(b, "><v>"...)
	b = append(b, v...)
	return append(b, "</v></c>"...)
}

// appendInline ends a cell element with an inline string.
func appendInline(b []byte, text string) []byte {
	b = append(b, ` t="inlineStr"><is><t`...)
	if isSpaceByte(text[0]) || isSpaceByte(text[len(text)-1]) {
		b = append(b, ` xml:space="preserve"`...)
	}
	b = append(b, '>')
	b = appendCellText(b, text)
	return append(b, "</t></is></c>"...)
}

// isSpaceByte reports whether c is XML white space, which a reader drops
// around a text unless told to preserve it.
func isSpaceByte(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// appendCellText appends text escaped for XML, without the characters XML
// cannot hold, cut at MaxCellChars UTF-16 code units. Text that would read
// as an _xHHHH_ escape has its underscore escaped.
func appendCellText(b []byte, s string) []byte {
	units := 0
	for i := 0; i < len(s); {
		r, size := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		n := 1
		if r >= 0x10000 {
			n = 2
		}
		if !xmlChar(r) {
			i += size
			continue
		}
		if units+n > MaxCellChars {
			break
		}
		units += n
		b = appendXMLRune(b, s, i, r)
		i += size
	}
	return b
}

// appendXMLRune appends r, found at s[i], escaped.
func appendXMLRune(b []byte, s string, i int, r rune) []byte {
	switch r {
	case '&':
		return append(b, "&amp;"...)
	case '<':
		return append(b, "&lt;"...)
	case '>':
		return append(b, "&gt;"...)
	case '\r':
		return append(b, "&#xD;"...)
	case '_':
		if _, ok := escapeAt(s, i); ok {
			return append(b, "_x005F_"...)
		}
	}
	return utf8.AppendRune(b, r)
}

// xmlChar reports whether XML 1.0 can hold r.
func xmlChar(r rune) bool {
	switch {
	case r < 0x20:
		return r == '\t' || r == '\n' || r == '\r'
	case r == 0xFFFE || r == 0xFFFF:
		return false
	}
	return true
}

// isExactNumber reports whether text is a plain decimal number (optional
// minus, digits without a leading zero, optional fraction and exponent)
// that Excel stores without losing digits, so that neither leading zeros
// nor long identifiers are changed.
func isExactNumber(text string) bool {
	mant, exp, hasExp := text, "", false
	if i := strings.IndexAny(text, "eE"); i >= 0 {
		mant, exp, hasExp = text[:i], text[i+1:], true
	}
	if hasExp {
		if exp != "" && (exp[0] == '+' || exp[0] == '-') {
			exp = exp[1:]
		}
		if !isDigits(exp, false) {
			return false
		}
	}
	whole, frac, hasFrac := strings.Cut(strings.TrimPrefix(mant, "-"), ".")
	if !isDigits(whole, true) || hasFrac && !isDigits(frac, false) {
		return false
	}
	if _, err := strconv.ParseFloat(text, 64); err != nil {
		return false // out of range
	}
	return len(strings.Trim(whole+frac, "0")) <= maxExactDigits
}

// isDigits reports whether s is a non-empty run of digits; an integer
// part may not have a leading zero (other than "0" itself).
func isDigits(s string, integer bool) bool {
	if s == "" || integer && len(s) > 1 && s[0] == '0' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// dateLayouts are the texts KindDate accepts, with whether they carry a
// time of day.
var dateLayouts = [...]struct {
	layout   string
	withTime bool
}{
	{time.DateOnly, false},
	{time.RFC3339Nano, true},
	{"2006-01-02T15:04:05", true},
	{time.DateTime, true},
}

// excelSerial converts a date text to an Excel serial number (1900 date
// system) and its cell style. A date and time keeps the wall clock of its
// own offset (Excel has no time zones). Dates before 1900 are not dates in
// Excel: ok is false.
func excelSerial(text string) (serial float64, style string, ok bool) {
	for _, l := range dateLayouts {
		t, err := time.Parse(l.layout, text)
		if err != nil {
			continue
		}
		y, m, d := t.Date()
		if y < 1900 || y > 9999 {
			return 0, "", false
		}
		epoch := time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC).Unix()
		days := int((time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() - epoch) / daySecs)
		if days < 61 { // before 1900-03-01: Excel counts a 1900-02-29
			days--
		}
		if !l.withTime {
			return float64(days), styleDate, true
		}
		h, mi, s := t.Clock()
		return float64(days) + float64(h*3600+mi*60+s)/daySecs, styleDateTime, true
	}
	return 0, "", false
}

// SheetName makes name acceptable as an Excel sheet name: the characters
// []:*?/\ and control characters become "_", surrounding apostrophes are
// removed, it is cut to 31 characters, and an empty name, or Excel's
// reserved "History", becomes "Sheet1".
func SheetName(name string) string {
	var b strings.Builder
	n := 0
	for _, r := range strings.Trim(name, "'") {
		if n == maxSheetName {
			break
		}
		if strings.ContainsRune(`[]:*?/\`, r) || r < 0x20 || r == utf8.RuneError {
			r = '_'
		}
		b.WriteRune(r)
		n++
	}
	s := strings.TrimRight(b.String(), "'")
	if strings.TrimSpace(s) == "" || strings.EqualFold(s, "History") {
		return "Sheet1"
	}
	return s
}

// workbookXML returns xl/workbook.xml for one sheet.
func workbookXML(sheet string) string {
	name := strings.ReplaceAll(string(appendCellText(nil, sheet)), `"`, "&quot;")
	return workbookHead + name + workbookTail
}

// The fixed parts of the written workbook.
const (
	xmlDecl         = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n"
	contentTypesXML = xmlDecl + `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
		`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>` +
		`<Default Extension="xml" ContentType="application/xml"/>` +
		`<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>` +
		`<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>` +
		`<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>` +
		`</Types>`
	rootRelsXML = xmlDecl + `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
		`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>` +
		`</Relationships>`
	workbookHead = xmlDecl + `<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" ` +
		`xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">` +
		`<sheets><sheet name="`
	workbookTail    = `" sheetId="1" r:id="rId1"/></sheets></workbook>`
	workbookRelsXML = xmlDecl + `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
		`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>` +
		`<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>` +
		`</Relationships>`
	stylesXML = xmlDecl + `<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">` +
		`<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/>` +
		`<numFmt numFmtId="165" formatCode="yyyy-mm-dd hh:mm:ss"/></numFmts>` +
		`<fonts count="1"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>` +
		`<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>` +
		`<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>` +
		`<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>` +
		`<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>` +
		`<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>` +
		`<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>` +
		`<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>` +
		`</styleSheet>`
	sheetHead = xmlDecl + `<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`
	sheetTail = `</sheetData></worksheet>`
)
