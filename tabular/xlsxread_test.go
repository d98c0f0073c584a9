package tabular

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"errors"
	"hash/crc32"
	"io"
	"reflect"
	"strings"
	"testing"
)

// Parts of a workbook laid out the way Excel saves one.
const (
	nsMain = `xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"`
	nsRel  = `xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"`
	relNS  = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"

	excelContentTypes = xmlDecl + `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
		`<Default Extension="bin" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.printerSettings"/>` +
		`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>` +
		`<Default Extension="xml" ContentType="application/xml"/>` +
		`<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>` +
		`<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>` +
		`<Override PartName="/xl/worksheets/sheet2.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>` +
		`<Override PartName="/xl/theme/theme1.xml" ContentType="application/vnd.openxmlformats-officedocument.theme+xml"/>` +
		`<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>` +
		`<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>` +
		`<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>` +
		`<Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/></Types>`

	excelRootRels = xmlDecl + `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
		`<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties" Target="docProps/app.xml"/>` +
		`<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>` +
		`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>` +
		`</Relationships>`

	excelWorkbook = xmlDecl + `<workbook ` + nsMain + ` ` + nsRel +
		` xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" mc:Ignorable="x15 xr xr6 xr10 xr2"` +
		` xmlns:x15="http://schemas.microsoft.com/office/spreadsheetml/2010/11/main"` +
		` xmlns:xr="http://schemas.microsoft.com/office/spreadsheetml/2014/revision">` +
		`<fileVersion appName="xl" lastEdited="7" lowestEdited="7" rupBuild="27328"/>` +
		`<workbookPr date1904="false" defaultThemeVersion="166925"/>` +
		`<mc:AlternateContent xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"><mc:Choice Requires="x15">` +
		`<x15ac:absPath url="C:\Users\ana\Documents\" xmlns:x15ac="http://schemas.microsoft.com/office/spreadsheetml/2010/11/ac"/>` +
		`</mc:Choice></mc:AlternateContent>` +
		`<bookViews><workbookView xWindow="-120" yWindow="-120" windowWidth="29040" windowHeight="15840"/></bookViews>` +
		`<sheets><sheet name="Leads" sheetId="1" r:id="rId1"/><sheet name="Sheet2" sheetId="2" r:id="rId2"/></sheets>` +
		`<definedNames><definedName name="_xlnm._FilterDatabase" localSheetId="0" hidden="1">Leads!$A$1:$I$7</definedName></definedNames>` +
		`<calcPr calcId="191029"/></workbook>`

	excelWorkbookRels = xmlDecl + `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
		`<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/theme" Target="theme/theme1.xml"/>` +
		`<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="/xl/worksheets/sheet2.xml"/>` +
		`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>` +
		`<Relationship Id="rId5" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>` +
		`<Relationship Id="rId4" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>` +
		`</Relationships>`

	excelSharedStrings = xmlDecl + `<sst ` + nsMain + ` count="16" uniqueCount="14">` +
		`<si><t>Name</t></si><si><t>Email</t></si><si><t>Created</t></si><si><t>Last visit</t></si>` +
		`<si><t>Score</t></si><si><t>Opt-in</t></si><si><t>Greeting</t></si>` +
		`<si><r><rPr><b/><sz val="11"/><color theme="1"/><rFont val="Calibri"/><family val="2"/><scheme val="minor"/></rPr>` +
		`<t>Xosé</t></r><r><rPr><sz val="11"/><color theme="1"/><rFont val="Calibri"/><family val="2"/><scheme val="minor"/></rPr>` +
		`<t xml:space="preserve"> Manuel Castelao</t></r></si>` +
		`<si><t>陳大文</t><rPh sb="0" eb="3"><t>チンダイブン</t></rPh><phoneticPr fontId="1" type="noConversion"/></si>` +
		`<si><t>xose@example.gal</t></si>` +
		"<si><t xml:space=\"preserve\">Line one_x000D_\nLine two</t></si>" +
		`<si><t>Ñoño &amp; Cía &lt;SL&gt;</t></si>` +
		`<si><t>Pct</t></si><si><t>Amount</t></si></sst>`

	excelStyles = xmlDecl + `<styleSheet ` + nsMain +
		` xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" mc:Ignorable="x14ac x16r2 xr"` +
		` xmlns:x14ac="http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac">` +
		`<numFmts count="1"><numFmt numFmtId="164" formatCode="dd/mm/yyyy\ hh:mm"/></numFmts>` +
		`<fonts count="2" x14ac:knownFonts="1"><font><sz val="11"/><color theme="1"/><name val="Calibri"/><family val="2"/><scheme val="minor"/></font>` +
		`<font><sz val="9"/><name val="MS PGothic"/><family val="3"/><charset val="128"/></font></fonts>` +
		`<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>` +
		`<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>` +
		`<cellStyleXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/><xf numFmtId="14" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>` +
		`<cellXfs count="6"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>` +
		`<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>` +
		`<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>` +
		`<xf numFmtId="10" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>` +
		`<xf numFmtId="4" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"><alignment horizontal="right"/></xf>` +
		`<xf numFmtId="20" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>` +
		`<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>` +
		`<dxfs count="0"/><tableStyles count="0" defaultTableStyle="TableStyleMedium2" defaultPivotStyle="PivotStyleLight16"/></styleSheet>`

	excelSheet1 = xmlDecl + `<worksheet ` + nsMain + ` ` + nsRel +
		` xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" mc:Ignorable="x14ac xr xr2 xr3"` +
		` xmlns:x14ac="http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac"` +
		` xmlns:xr="http://schemas.microsoft.com/office/spreadsheetml/2014/revision" xr:uid="{00000000-0001-0000-0000-000000000000}">` +
		`<dimension ref="A1:I7"/><sheetViews><sheetView tabSelected="1" workbookViewId="0"><selection activeCell="A1" sqref="A1"/></sheetView></sheetViews>` +
		`<sheetFormatPr defaultRowHeight="15" x14ac:dyDescent="0.25"/><cols><col min="1" max="1" width="24.7109375" customWidth="1"/></cols>` +
		`<sheetData>` +
		`<row r="1" spans="1:9" x14ac:dyDescent="0.25"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c>` +
		`<c r="C1" t="s"><v>2</v></c><c r="D1" t="s"><v>3</v></c><c r="E1" t="s"><v>4</v></c><c r="F1" t="s"><v>5</v></c>` +
		`<c r="G1" t="s"><v>6</v></c><c r="H1" t="s"><v>12</v></c><c r="I1" t="s"><v>13</v></c></row>` +
		`<row r="2" spans="1:9" x14ac:dyDescent="0.25"><c r="A2" t="s"><v>7</v></c><c r="B2" t="s"><v>9</v></c>` +
		`<c r="C2" s="1"><v>45292</v></c><c r="D2" s="2"><v>45292.5</v></c><c r="E2"><v>0.30000000000000004</v></c>` +
		`<c r="F2" t="b"><v>1</v></c><c r="G2" t="str"><f>A2&amp;"!"</f><v>Xosé Manuel Castelao!</v></c>` +
		`<c r="H2" s="3"><v>0.25</v></c><c r="I2" s="4"><v>1234567890123</v></c></row>` +
		`<row r="4" spans="1:9" x14ac:dyDescent="0.25"><c r="A4" t="s"><v>8</v></c>` +
		`<c r="C4" s="1"><v>60</v></c><c r="D4" s="5"><v>0.75</v></c><c r="E4"><v>1E-3</v></c>` +
		`<c r="F4" t="b"><v>0</v></c><c r="G4" t="e"><f>NA()</f><v>#N/A</v></c><c r="I4"><v>12.0</v></c></row>` +
		`<row r="5" spans="1:9" x14ac:dyDescent="0.25"><c r="A5" t="s"><v>11</v></c><c r="D5" t="s"><v>10</v></c></row>` +
		`<row r="6" spans="1:9" x14ac:dyDescent="0.25"><c r="A6" s="1"/><c r="B6" s="1"/></row>` +
		`<row r="7" spans="1:9" x14ac:dyDescent="0.25"><c r="A7" t="inlineStr"><is><t>林美玲</t></is></c>` +
		`<c r="C7" t="d"><v>2024-02-29T10:00:00</v></c><c r="E7"><v>-5.5e2</v></c><c r="I7" s="4"/></row>` +
		`</sheetData><autoFilter ref="A1:I7"/>` +
		`<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>` +
		`<pageSetup paperSize="9" orientation="portrait"/></worksheet>`

	excelSheet2 = xmlDecl + `<worksheet ` + nsMain + `><dimension ref="A1:B3"/><sheetData>` +
		`<row><c t="inlineStr"><is><t>Code</t></is></c><c t="inlineStr"><is><t>Value</t></is></c></row>` +
		`<row><c t="inlineStr"><is><t>a</t></is></c><c><v>1</v></c></row>` +
		`<row><c t="inlineStr"><is><t>b</t></is></c><c><v>2.5</v></c></row>` +
		`</sheetData></worksheet>`
)

// part is one zip entry of a test workbook.
type part struct{ name, body string }

// excelParts returns the parts of the Excel-like workbook.
func excelParts() []part {
	return []part{
		{"[Content_Types].xml", excelContentTypes},
		{"_rels/.rels", excelRootRels},
		{"docProps/app.xml", xmlDecl + `<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"><Application>Microsoft Excel</Application></Properties>`},
		{"docProps/core.xml", xmlDecl + `<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties"/>`},
		{"xl/workbook.xml", excelWorkbook},
		{"xl/_rels/workbook.xml.rels", excelWorkbookRels},
		{"xl/theme/theme1.xml", xmlDecl + `<a:theme xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" name="Office Theme"/>`},
		{"xl/styles.xml", excelStyles},
		{"xl/sharedStrings.xml", excelSharedStrings},
		{"xl/worksheets/sheet1.xml", excelSheet1},
		{"xl/worksheets/sheet2.xml", excelSheet2},
	}
}

// withParts replaces (or adds) parts; an empty body removes the part.
func withParts(parts []part, changes ...part) []part {
	out := append([]part(nil), parts...)
	for _, c := range changes {
		found := false
		for i := range out {
			if out[i].name == c.name {
				out[i], found = c, true
			}
		}
		if !found {
			out = append(out, c)
		}
	}
	kept := out[:0]
	for _, p := range out {
		if p.body != "" {
			kept = append(kept, p)
		}
	}
	return kept
}

// zipParts deflates the parts into a zip archive.
func zipParts(t testing.TB, parts []part) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, p := range parts {
		w, err := zw.Create(p.name)
		if err == nil {
			_, err = io.WriteString(w, p.body)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// sheetXML wraps rows in a worksheet.
func sheetXML(rows string) string {
	return xmlDecl + `<worksheet ` + nsMain + `><sheetData>` + rows + `</sheetData></worksheet>`
}

func TestXLSXExcelFixture(t *testing.T) {
	data := zipParts(t, excelParts())
	got, err := readAll(t, data, "Leads.xlsx", Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	wantInfo := Info{Format: FormatXLSX, Sheet: "Leads", Sheets: cells("Leads", "Sheet2")}
	if !reflect.DeepEqual(got.info, wantInfo) {
		t.Errorf("info = %+v, want %+v", got.info, wantInfo)
	}
	checkTable(t, got,
		cells("Name", "Email", "Created", "Last visit", "Score", "Opt-in", "Greeting", "Pct", "Amount"),
		rows(
			2, cells("Xosé Manuel Castelao", "xose@example.gal", "2024-01-01", "2024-01-01T12:00:00", "0.3",
				"TRUE", "Xosé Manuel Castelao!", "0.25", "1234567890123"),
			4, cells("陳大文", "", "1900-02-28", "18:00:00", "0.001", "FALSE", "#N/A", "", "12"),
			5, cells("Ñoño & Cía <SL>", "", "", "Line one\r\nLine two"),
			7, cells("林美玲", "", "2024-02-29T10:00:00", "", "-550"),
		), nil)
}

func TestXLSXSheets(t *testing.T) {
	data := zipParts(t, excelParts())
	for _, name := range []string{"Sheet2", "sheet2", "SHEET2"} {
		got, err := readAll(t, data, "book.xlsx", Options{Sheet: name})
		if err != nil {
			t.Fatalf("Open(%q): %v", name, err)
		}
		if got.info.Sheet != "Sheet2" {
			t.Errorf("Sheet = %q", got.info.Sheet)
		}
		checkTable(t, got, cells("Code", "Value"), rows(2, cells("a", "1"), 3, cells("b", "2.5")), nil)
	}
	_, err := readAll(t, data, "book.xlsx", Options{Sheet: "X"})
	const want = `xlsx: the workbook has no sheet named "X" (it has "Leads", "Sheet2")`
	var se *SheetError
	if err == nil || err.Error() != want || !errors.As(err, &se) || se.Name != "X" {
		t.Errorf("missing sheet: error = %v, want %q", err, want)
	}
}

func TestXLSXVariants(t *testing.T) {
	base := excelParts()
	tests := []struct {
		name   string
		parts  []part
		header []string
		rows   []Row
		errs   []rowErr
	}{
		{
			name: "rows and cells without references",
			parts: withParts(base, part{"xl/worksheets/sheet1.xml", sheetXML(
				`<row><c t="s"><v>0</v></c><c t="s"><v>1</v></c></row><row><c><v>1</v></c><c><v>2</v></c></row>` +
					`<row r="5"><c><v>3</v></c><c r="C5"><v>4</v></c><c><v>5</v></c></row><row><c><v>6</v></c></row>`)}),
			header: cells("Name", "Email"),
			rows:   rows(2, cells("1", "2"), 5, cells("3", "", "4", "5"), 6, cells("6")),
		},
		{
			name: "prefixed namespace",
			parts: withParts(base, part{"xl/worksheets/sheet1.xml", xmlDecl +
				`<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:sheetData>` +
				`<x:row r="1"><x:c r="A1" t="inlineStr"><x:is><x:t>id</x:t></x:is></x:c></x:row>` +
				`<x:row r="2"><x:c r="A2"><x:v>7</x:v></x:c></x:row></x:sheetData></x:worksheet>`}),
			header: cells("id"),
			rows:   rows(2, cells("7")),
		},
		{
			name: "1904 date system",
			parts: withParts(base,
				part{"xl/workbook.xml", strings.Replace(excelWorkbook, `date1904="false"`, `date1904="1"`, 1)},
				part{"xl/worksheets/sheet1.xml", sheetXML(`<row r="1"><c t="s"><v>2</v></c></row>` +
					`<row r="2"><c s="1"><v>0</v></c></row><row r="3"><c s="2"><v>43830.25</v></c></row>`)}),
			header: cells("Created"),
			rows:   rows(2, cells("1904-01-01"), 3, cells("2024-01-01T06:00:00")),
		},
		{
			name: "inline rich text, escapes and phonetic runs",
			parts: withParts(base, part{"xl/worksheets/sheet1.xml", sheetXML(`<row r="1"><c t="s"><v>0</v></c></row>` +
				`<row r="2"><c t="inlineStr"><is><r><t>Ñoño</t></r><r><rPr><b/></rPr><t xml:space="preserve"> Castelao</t></r>` +
				`<rPh sb="0" eb="1"><t>x</t></rPh></is></c></row>` +
				`<row r="3"><c t="inlineStr"><is><t>a_x0009_b _x005F_x0041_</t></is></c></row>` +
				`<row r="4"><c t="str"><v>&lt;tag&gt; &amp; "q"</v></c></row>`)}),
			header: cells("Name"),
			rows:   rows(2, cells("Ñoño Castelao"), 3, cells("a\tb _x0041_"), 4, cells(`<tag> & "q"`)),
		},
		{
			name: "a cell beyond column XFD and a missing shared string are row errors",
			parts: withParts(base, part{"xl/worksheets/sheet1.xml", sheetXML(`<row r="1"><c t="s"><v>0</v></c></row>` +
				`<row r="2"><c r="A2"><v>1</v></c><c r="XFE2"><v>1</v></c></row>` +
				`<row r="3"><c r="A3"><v>2</v></c><c r="B3" t="s"><v>99</v></c></row>` +
				`<row r="4"><c r="A4"><v>3</v></c><c r="XFD4"><v>4</v></c></row>`)}),
			header: cells("Name"),
			rows:   []Row{{Line: 4, Cells: append(append(cells("3"), make([]string, maxColumns-2)...), "4")}},
			errs:   []rowErr{{2, maxColumns + 1, nil}, {3, 2, nil}},
		},
		{
			name: "header only, no styles and no shared strings parts",
			parts: withParts(base, part{"xl/styles.xml", ""}, part{"xl/sharedStrings.xml", ""},
				part{"xl/worksheets/sheet1.xml", sheetXML(`<row r="3"><c r="B3" t="inlineStr"><is><t> id </t></is></c></row>`)}),
			header: cells("", "id"),
		},
		{
			name: "workbook found without package relationships",
			parts: withParts(base, part{"_rels/.rels", ""}, part{"xl/_rels/workbook.xml.rels", xmlDecl +
				`<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
				`<Relationship Id="rId1" Type="` + relNS + `/worksheet" Target="/xl/worksheets/sheet2.xml"/>` +
				`<Relationship Id="rId2" Type="` + relNS + `/worksheet" Target="worksheets/sheet1.xml"/></Relationships>`}),
			header: cells("Code", "Value"),
			rows:   rows(2, cells("a", "1"), 3, cells("b", "2.5")),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readAll(t, zipParts(t, tt.parts), "book.xlsx", Options{})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			checkTable(t, got, tt.header, tt.rows, tt.errs)
		})
	}
}

func TestXLSXErrors(t *testing.T) {
	base := excelParts()
	sheet := func(body string) part { return part{"xl/worksheets/sheet1.xml", body} }
	small := xlsxLimits{sheet: 1 << 20, strings: 1 << 20, meta: 1 << 20}
	tests := []struct {
		name   string
		data   []byte
		limits xlsxLimits
		is     error
		has    string
	}{
		{"empty sheet", zipParts(t, withParts(base, sheet(sheetXML("")))), small, ErrNoHeader, ""},
		{"blank rows only", zipParts(t, withParts(base, sheet(sheetXML(`<row r="1"><c r="A1" s="1"/></row>`)))), small, ErrNoHeader, ""},
		{"sheet without sheetData", zipParts(t, withParts(base, sheet(xmlDecl+`<worksheet `+nsMain+`/>`))), small, ErrNoHeader, ""},
		{"broken XML", zipParts(t, withParts(base, sheet(sheetXML(`<row r="1"><c><v>1</v></row>`)))), small, ErrCorrupt, "sheet1.xml"},
		{"sheet cut inside its data", zipParts(t, withParts(base, sheet(xmlDecl+`<worksheet `+nsMain+`><sheetData><row r="1"><c><v>1</v></c></row>`))), small, ErrCorrupt, "ends"},
		{"missing sheet part", zipParts(t, withParts(base, sheet(""))), small, ErrCorrupt, "missing"},
		{"no sheets", zipParts(t, withParts(base, part{"xl/workbook.xml", xmlDecl + `<workbook ` + nsMain + `><sheets/></workbook>`})), small, ErrCorrupt, "no sheets"},
		{"broken shared strings", zipParts(t, withParts(base, part{"xl/sharedStrings.xml", `<sst><si><t>a</si></sst>`})), small, ErrCorrupt, "sharedStrings.xml"},
		{"broken header row", zipParts(t, withParts(base, sheet(sheetXML(`<row r="1"><c t="s"><v>x</v></c></row>`)))), small, nil,
			`the header row cannot be read: line 1, column 1: the shared string "x" does not exist`},
		{"sheet over the limit", zipParts(t, base), xlsxLimits{sheet: 100, strings: 1 << 20, meta: 1 << 20}, ErrTooLarge, "sheet1.xml"},
		{"shared strings over the limit", zipParts(t, base), xlsxLimits{sheet: 1 << 20, strings: 100, meta: 1 << 20}, ErrTooLarge, "sharedStrings.xml"},
		{"more data than declared", lyingZip(t, base, "xl/worksheets/sheet1.xml", -200, 0), small, ErrCorrupt, "more data"},
		{"less data than declared", lyingZip(t, base, "xl/sharedStrings.xml", 200, 0), small, ErrCorrupt, "shorter"},
		{"bad checksum", lyingZip(t, base, "xl/sharedStrings.xml", 0, 1), small, ErrCorrupt, "checksum"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := openXLSX(bytes.NewReader(tt.data), int64(len(tt.data)), Options{}, tt.limits)
			if err == nil {
				_, err = drainErr(r)
			}
			if err == nil || tt.is != nil && !errors.Is(err, tt.is) || !strings.Contains(err.Error(), tt.has) {
				t.Errorf("error = %v, want %v mentioning %q", err, tt.is, tt.has)
			}
		})
	}
}

// TestXLSXDeclaredSizeOverLimit checks that a part declaring more than the
// limit is refused before it is read.
func TestXLSXDeclaredSizeOverLimit(t *testing.T) {
	data := lyingZip(t, excelParts(), "xl/worksheets/sheet1.xml", 5<<30, 0)
	_, err := Open(bytes.NewReader(data), int64(len(data)), "bomb.xlsx", Options{})
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("error = %v, want ErrTooLarge", err)
	}
	const want = "xlsx: the file is too large: xl/worksheets/sheet1.xml is larger than 4096 MiB uncompressed"
	if err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
}

// drainErr reads r to the end and returns the first fatal error.
func drainErr(r Reader) (int, error) {
	n := 0
	for {
		_, err := r.Next()
		var re *RowError
		switch {
		case err == io.EOF:
			return n, nil
		case errors.As(err, &re):
		case err != nil:
			return n, err
		}
		n++
	}
}

// lyingZip builds the workbook with the named part's declared size changed
// by sizeDelta and its checksum by crcDelta, as a zip bomb or a damaged
// file would have them.
func lyingZip(t *testing.T, parts []part, name string, sizeDelta int64, crcDelta uint32) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, p := range parts {
		if p.name != name {
			w, _ := zw.Create(p.name)
			io.WriteString(w, p.body)
			continue
		}
		var comp bytes.Buffer
		fw, _ := flate.NewWriter(&comp, flate.DefaultCompression)
		io.WriteString(fw, p.body)
		fw.Close()
		h := &zip.FileHeader{
			Name: p.name, Method: zip.Deflate,
			CRC32:              crc32.ChecksumIEEE([]byte(p.body)) + crcDelta,
			CompressedSize64:   uint64(comp.Len()),
			UncompressedSize64: uint64(int64(len(p.body)) + sizeDelta),
		}
		w, err := zw.CreateRaw(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(comp.Bytes())
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestXLSXProgress(t *testing.T) {
	var rowsIn [][]string
	for i := 0; i < 20000; i++ {
		rowsIn = append(rowsIn, []string{"Xosé Manuel Castelao", "xose@example.gal", "陳大文"})
	}
	data := xlsxBytes(t, rowsIn)
	r, err := Open(bytes.NewReader(data), int64(len(data)), "p.xlsx", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var last int64
	middle := false
	for {
		if _, err := r.Next(); err != nil {
			break
		}
		done, total := r.Progress()
		if done < last || done > total || total != int64(len(data)) {
			t.Fatalf("Progress = %d/%d after %d", done, total, last)
		}
		middle = middle || done > 0 && done < total
		last = done
	}
	if done, total := r.Progress(); done != total || !middle {
		t.Errorf("Progress at the end = %d/%d, seen in between: %v", done, total, middle)
	}
}
