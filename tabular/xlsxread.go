package tabular

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// Fallback part names, for packages whose relationships do not name them.
const (
	defaultWorkbook = "xl/workbook.xml"
	defaultStrings  = "xl/sharedStrings.xml"
	defaultStyles   = "xl/styles.xml"
)

// xlsxReader reads one worksheet of an XLSX workbook.
type xlsxReader struct {
	info   Info
	header []string
	sheet  *sheetReader
	part   *partReader
	size   int64
}

// openXLSX opens the workbook, loads its shared strings and styles, and
// reads the header of the chosen sheet.
func openXLSX(r io.ReaderAt, size int64, opt Options, limits xlsxLimits) (Reader, error) {
	p, err := openPackage(r, size, limits)
	if err != nil {
		return nil, err
	}
	wb, err := readWorkbook(p)
	if err != nil {
		return nil, err
	}
	entry, target, err := wb.choose(opt.Sheet)
	if err != nil {
		return nil, err
	}
	sheet, err := loadSheetContext(p, wb)
	if err != nil {
		return nil, err
	}
	part, err := p.open(target, limits.sheet)
	if err != nil {
		return nil, err
	}
	sheet.name, sheet.dec = target, newXMLDecoder(part)
	x := &xlsxReader{
		info:  Info{Format: FormatXLSX, Sheet: entry.name, Sheets: wb.names()},
		sheet: sheet, part: part, size: size,
	}
	if err := x.readHeader(); err != nil {
		part.Close()
		return nil, err
	}
	return x, nil
}

// loadSheetContext reads what cells refer to: shared strings and styles.
func loadSheetContext(p *xlsxPackage, wb *workbook) (*sheetReader, error) {
	s := &sheetReader{date1904: wb.date1904}
	var err error
	if name := wb.part("/styles", defaultStyles, p); name != "" {
		if s.styles, err = readStyles(p, name); err != nil {
			return nil, err
		}
	}
	if name := wb.part("/sharedStrings", defaultStrings, p); name != "" {
		if s.sst, err = readSharedStrings(p, name); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// readHeader reads the first non-blank row.
func (x *xlsxReader) readHeader() error {
	header, err := readHeader(x.sheet.next)
	x.header = header
	return err
}

// Info says which sheet is read.
func (x *xlsxReader) Info() Info { return x.info }

// Header returns the trimmed header cells.
func (x *xlsxReader) Header() []string { return x.header }

// Next returns the next non-blank row.
func (x *xlsxReader) Next() (Row, error) { return x.sheet.next() }

// Progress estimates the bytes read from the fraction of the compressed
// sheet read.
func (x *xlsxReader) Progress() (done, total int64) {
	return int64(float64(x.size) * x.part.progress()), x.size
}

// Close releases the sheet's decompressor.
func (x *xlsxReader) Close() error { return x.part.Close() }

// sheetEntry is a sheet listed in the workbook.
type sheetEntry struct{ name, relID string }

// workbook is what xl/workbook.xml and its relationships say.
type workbook struct {
	path     string
	sheets   []sheetEntry
	date1904 bool
	rels     []relationship
}

// readWorkbook finds the workbook part through the package relationships
// and reads its sheet list.
func readWorkbook(p *xlsxPackage) (*workbook, error) {
	wb := &workbook{path: defaultWorkbook}
	root, err := p.readRels("")
	if err != nil {
		return nil, err
	}
	if r, ok := relOfType(root, "/officeDocument"); ok && p.file(r.Target) != nil {
		wb.path = r.Target
	}
	if p.file(wb.path) == nil {
		return nil, fmt.Errorf("%w: it is a zip archive, not an Excel workbook", ErrNotTable)
	}
	if err := p.decode(wb.path, p.limits.meta, wb.parse); err != nil {
		return nil, err
	}
	if len(wb.sheets) == 0 {
		return nil, fmt.Errorf("%w: the workbook has no sheets", ErrCorrupt)
	}
	wb.rels, err = p.readRels(wb.path)
	return wb, err
}

// parse reads the sheet list and the date system of workbook.xml.
func (wb *workbook) parse(d *xml.Decoder) error {
	var doc struct {
		Pr struct {
			Date1904 string `xml:"date1904,attr"`
		} `xml:"workbookPr"`
		Sheets []struct {
			Name  string     `xml:"name,attr"`
			Attrs []xml.Attr `xml:",any,attr"`
		} `xml:"sheets>sheet"`
	}
	if err := d.Decode(&doc); err != nil {
		return err
	}
	wb.date1904 = doc.Pr.Date1904 == "1" || strings.EqualFold(doc.Pr.Date1904, "true")
	for _, s := range doc.Sheets {
		e := sheetEntry{name: s.Name}
		for _, a := range s.Attrs {
			if a.Name.Local == "id" && a.Name.Space != "" {
				e.relID = a.Value
			}
		}
		wb.sheets = append(wb.sheets, e)
	}
	return nil
}

// names returns the sheet names in workbook order.
func (wb *workbook) names() []string {
	out := make([]string, len(wb.sheets))
	for i, s := range wb.sheets {
		out[i] = s.name
	}
	return out
}

// part returns the target of the workbook relationship of that type, or
// the fallback name, if the package has it; else "".
func (wb *workbook) part(relType, fallback string, p *xlsxPackage) string {
	if r, ok := relOfType(wb.rels, relType); ok && p.file(r.Target) != nil {
		return r.Target
	}
	if p.file(fallback) != nil {
		return fallback
	}
	return ""
}

// choose finds the sheet to read: the named one (exactly, else ignoring
// case as Excel does), or the first worksheet.
func (wb *workbook) choose(name string) (sheetEntry, string, error) {
	if name == "" {
		for _, s := range wb.sheets {
			if t, ok := wb.worksheetTarget(s); ok {
				return s, t, nil
			}
		}
		return sheetEntry{}, "", fmt.Errorf("%w: the workbook has no worksheet", ErrCorrupt)
	}
	s, ok := wb.find(name)
	if !ok {
		return sheetEntry{}, "", &SheetError{Name: name, Sheets: wb.names()}
	}
	t, ok := wb.worksheetTarget(s)
	if !ok {
		return sheetEntry{}, "", fmt.Errorf("xlsx: the sheet %q is not a worksheet (it may be a chart)", s.name)
	}
	return s, t, nil
}

// find looks a sheet up by name.
func (wb *workbook) find(name string) (sheetEntry, bool) {
	for _, s := range wb.sheets {
		if s.name == name {
			return s, true
		}
	}
	for _, s := range wb.sheets {
		if strings.EqualFold(s.name, name) {
			return s, true
		}
	}
	return sheetEntry{}, false
}

// worksheetTarget returns the part of a sheet if it is a worksheet.
func (wb *workbook) worksheetTarget(s sheetEntry) (string, bool) {
	for _, r := range wb.rels {
		if r.ID == s.relID {
			return r.Target, strings.HasSuffix(r.Type, "/worksheet")
		}
	}
	return "", false
}

// readSharedStrings reads the shared string table that cells of type "s"
// index.
func readSharedStrings(p *xlsxPackage, name string) ([]string, error) {
	var sst []string
	err := p.decode(name, p.limits.strings, func(d *xml.Decoder) error {
		var buf []byte
		for {
			tok, err := d.RawToken()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "si" {
				var s string
				if s, buf, err = readRichText(d, "si", buf); err != nil {
					return err
				}
				sst = append(sst, s)
			}
		}
	})
	return sst, err
}
