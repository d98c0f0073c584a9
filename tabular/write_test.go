package tabular

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

func TestCSVWriter(t *testing.T) {
	tests := []struct {
		name string
		bom  bool
		rows [][]string
		want string
	}{
		{"plain", false, [][]string{{"name", "city"}, {"Ana", "Vigo"}}, "name,city\r\nAna,Vigo\r\n"},
		{"BOM", true, [][]string{{"nome"}, {"Xosé"}}, utf8BOM + "nome\r\nXosé\r\n"},
		{"BOM on an empty file", true, nil, utf8BOM},
		{"quotes only when needed", false, [][]string{{"a,b", `say "hi"`, "x\ny", " lead", "plain", "", "陳大文"}},
			"\"a,b\",\"say \"\"hi\"\"\",\"x\r\ny\",\" lead\",plain,,陳大文\r\n"},
		{"invalid UTF-8", false, [][]string{{"ok", "bad\xff"}}, "ok,bad\uFFFD\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			w := NewCSVWriter(&buf, tt.bom)
			for _, r := range tt.rows {
				if err := w.Write(r); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if got := buf.String(); got != tt.want {
				t.Errorf("output = %q, want %q", got, tt.want)
			}
			if err := w.Write([]string{"late"}); !errors.Is(err, errClosed) {
				t.Errorf("Write after Close = %v", err)
			}
		})
	}
}

// TestCSVRoundTrip writes awkward cells and reads them back.
func TestCSVRoundTrip(t *testing.T) {
	in := [][]string{
		{"name", "notes", "city"},
		{"Ñoño Castelao", "line 1\nline 2", "A Coruña"},
		{"陳大文", `"quoted", with comma`, "台北"},
		{"<&>", "", " padded "},
	}
	var buf bytes.Buffer
	w := NewCSVWriter(&buf, true)
	for _, r := range in {
		w.Write(r)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := readAll(t, buf.Bytes(), "out.csv", Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkTable(t, got, in[0], rows(2, in[1], 4, in[2], 5, in[3]), nil)
}

// failWriter fails after n bytes.
type failWriter struct{ n int }

func (f *failWriter) Write(b []byte) (int, error) {
	if len(b) > f.n {
		return 0, io.ErrShortWrite
	}
	f.n -= len(b)
	return len(b), nil
}

func TestWritersReportWriteErrors(t *testing.T) {
	big := strings.Repeat("x", 100<<10)
	cw := NewCSVWriter(&failWriter{n: 10}, false)
	cw.Write([]string{big})
	if err := cw.Close(); !errors.Is(err, io.ErrShortWrite) {
		t.Errorf("CSV Close = %v, want a write error", err)
	}
	xw := NewXLSXWriter(&failWriter{n: 10}, "Leads")
	var err error
	for i := 0; i < 10 && err == nil; i++ {
		err = xw.Write([]string{big})
	}
	if err == nil {
		err = xw.Close()
	}
	if !errors.Is(err, io.ErrShortWrite) {
		t.Errorf("XLSX = %v, want a write error", err)
	}
	if err := xw.Write([]string{"again"}); !errors.Is(err, io.ErrShortWrite) {
		t.Errorf("XLSX Write after an error = %v, want the same error", err)
	}
}

func TestXLSXRoundTrip(t *testing.T) {
	in := [][]string{
		{"Nome", "Apelidos", "Notas", "Importe", "Alta", "Última visita", "Activo"},
		{"Ñoño", "Castelao", "liña 1\nliña 2", "1234.5", "2024-01-31", "2024-01-31T10:20:30Z", "true"},
		{"陳大文", "", `"comillas" & <tags>`, "-0.001", "1900-01-01", "2024-03-01T23:59:59+02:00", "false"},
		{"Xosé Manuel", "Castelao", "", "", "", "", ""},
		{"  espazos  ", "tab\there", "CR\r\nLF", "1e6", "1900-02-28", "1900-03-01T06:00:00", "TRUE"},
		{"林美玲", "_x0041_ literal", "text", "007", "31/01/2024", "not a date", "maybe"},
		{"", "", "", "", "", "", "last"},
	}
	want := [][]string{
		in[0],
		{"Ñoño", "Castelao", "liña 1\nliña 2", "1234.5", "2024-01-31", "2024-01-31T10:20:30", "TRUE"},
		{"陳大文", "", `"comillas" & <tags>`, "-0.001", "1900-01-01", "2024-03-01T23:59:59", "FALSE"},
		{"Xosé Manuel", "Castelao"},
		{"  espazos  ", "tab\there", "CR\r\nLF", "1000000", "1900-02-28", "1900-03-01T06:00:00", "TRUE"},
		{"林美玲", "_x0041_ literal", "text", "007", "31/01/2024", "not a date", "maybe"},
		{"", "", "", "", "", "", "last"},
	}
	data := xlsxBytes(t, in, KindText, KindText, KindText, KindNumber, KindDate, KindDate, KindBool)
	got, err := readAll(t, data, "export.xlsx", Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if got.info.Sheet != "Leads" || !reflect.DeepEqual(got.info.Sheets, []string{"Leads"}) {
		t.Errorf("info = %+v", got.info)
	}
	var wantRows []Row
	for i, r := range want[1:] {
		wantRows = append(wantRows, Row{Line: int64(i + 2), Cells: r})
	}
	checkTable(t, got, want[0], wantRows, nil)
}

// TestXLSXWriterCells checks the XML written for each kind of cell.
func TestXLSXWriterCells(t *testing.T) {
	tests := []struct {
		kind Kind
		text string
		want string
	}{
		{KindText, "a<b", `<c r="A1" t="inlineStr"><is><t>a&lt;b</t></is></c>`},
		{KindText, " x", `<c r="A1" t="inlineStr"><is><t xml:space="preserve"> x</t></is></c>`},
		{KindText, "a\x00b\x1fc\td", `<c r="A1" t="inlineStr"><is><t>abc` + "\t" + `d</t></is></c>`},
		{KindText, "\uFFFEz", `<c r="A1" t="inlineStr"><is><t>z</t></is></c>`},
		{KindText, "bad\xffutf8", `<c r="A1" t="inlineStr"><is><t>bad` + "\uFFFD" + `utf8</t></is></c>`},
		{KindNumber, "12.5", `<c r="A1"><v>12.5</v></c>`},
		{KindNumber, "-3e-2", `<c r="A1"><v>-3e-2</v></c>`},
		{KindNumber, "0012", `<c r="A1" t="inlineStr"><is><t>0012</t></is></c>`},
		{KindNumber, "1234567890123456", `<c r="A1" t="inlineStr"><is><t>1234567890123456</t></is></c>`},
		{KindNumber, "1,5", `<c r="A1" t="inlineStr"><is><t>1,5</t></is></c>`},
		{KindNumber, "1e999", `<c r="A1" t="inlineStr"><is><t>1e999</t></is></c>`},
		{KindNumber, "Inf", `<c r="A1" t="inlineStr"><is><t>Inf</t></is></c>`},
		{KindDate, "2024-01-01", `<c r="A1" s="1"><v>45292</v></c>`},
		{KindDate, "2024-01-01T12:00:00Z", `<c r="A1" s="2"><v>45292.5</v></c>`},
		{KindDate, "1899-12-31", `<c r="A1" t="inlineStr"><is><t>1899-12-31</t></is></c>`},
		{KindBool, "1", `<c r="A1" t="b"><v>1</v></c>`},
		{KindBool, "F", `<c r="A1" t="b"><v>0</v></c>`},
	}
	for _, tt := range tests {
		x := &XLSXWriter{kinds: []Kind{tt.kind}, rows: 1}
		if got := string(x.appendCell(nil, 0, tt.text)); got != tt.want {
			t.Errorf("%d %q: %s, want %s", tt.kind, tt.text, got, tt.want)
		}
	}
}

func TestXLSXTruncation(t *testing.T) {
	tests := []struct {
		name string
		text string
		want int // runes kept
	}{
		{"ASCII", strings.Repeat("a", MaxCellChars+100), MaxCellChars},
		{"exactly the limit", strings.Repeat("ñ", MaxCellChars), MaxCellChars},
		{"a pair of UTF-16 units is not split", strings.Repeat("a", MaxCellChars-1) + "😀", MaxCellChars - 1},
		{"pairs count twice", strings.Repeat("😀", MaxCellChars), MaxCellChars / 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readAll(t, xlsxBytes(t, [][]string{{"h"}, {tt.text}}), "t.xlsx", Options{})
			if err != nil {
				t.Fatal(err)
			}
			cell := got.rows[0].Cells[0]
			if n := len([]rune(cell)); n != tt.want || !strings.HasPrefix(tt.text, cell) {
				t.Errorf("kept %d characters, want %d", n, tt.want)
			}
		})
	}
}

func TestXLSXWriterLimits(t *testing.T) {
	var buf bytes.Buffer
	w := NewXLSXWriter(&buf, "Leads")
	w.maxRows = 2
	if err := w.Write([]string{"a"}); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(make([]string, MaxXLSXColumns+1)); err == nil {
		t.Error("a row over the column limit was accepted")
	}
	if err := w.Write([]string{"b"}); err != nil {
		t.Fatal(err)
	}
	if err := w.Write([]string{"c"}); !errors.Is(err, ErrTooManyRows) {
		t.Errorf("row past the limit: %v, want ErrTooManyRows", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Write([]string{"d"}); !errors.Is(err, errClosed) {
		t.Errorf("Write after Close = %v", err)
	}
	got, err := readAll(t, buf.Bytes(), "l.xlsx", Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkTable(t, got, cells("a"), rows(2, cells("b")), nil)
}

func TestXLSXWriterEmptyWorkbook(t *testing.T) {
	var buf bytes.Buffer
	w := NewXLSXWriter(&buf, "")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := Open(bytes.NewReader(buf.Bytes()), int64(buf.Len()), "e.xlsx", Options{})
	if !errors.Is(err, ErrNoHeader) {
		t.Errorf("Open = %v, want ErrNoHeader", err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	want := []string{"[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/styles.xml", "xl/worksheets/sheet1.xml"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("parts = %q, want %q", names, want)
	}
}

func TestSheetName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Leads", "Leads"},
		{"", "Sheet1"},
		{"   ", "Sheet1"},
		{"history", "Sheet1"},
		{"Q1/Q2 [2024]: *?", "Q1_Q2 _2024__ __"},
		{`a\b`, "a_b"},
		{"'quoted'", "quoted"},
		{"Contactos de Galicia e Taiwán 2024", "Contactos de Galicia e Taiwán 2"},
		{"聯絡人", "聯絡人"},
		{`say "hi" & <go>`, `say "hi" & <go>`},
	}
	for _, tt := range tests {
		if got := SheetName(tt.in); got != tt.want {
			t.Errorf("SheetName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	data := xlsxBytesNamed(t, `say "hi" & <go>`)
	got, err := readAll(t, data, "n.xlsx", Options{Sheet: `say "hi" & <go>`})
	if err != nil || got.info.Sheet != `say "hi" & <go>` {
		t.Errorf("reading a sheet with XML characters in its name: %v %+v", err, got.info)
	}
}

// xlsxBytesNamed writes a one-row workbook with the given sheet name.
func xlsxBytesNamed(t *testing.T, sheet string) []byte {
	var buf bytes.Buffer
	w := NewXLSXWriter(&buf, sheet)
	w.Write([]string{"h"})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestColumnName(t *testing.T) {
	tests := []struct {
		col  int
		want string
	}{{0, "A"}, {25, "Z"}, {26, "AA"}, {51, "AZ"}, {52, "BA"}, {701, "ZZ"}, {702, "AAA"}, {16383, "XFD"}}
	for _, tt := range tests {
		if got := columnName(tt.col); got != tt.want {
			t.Errorf("columnName(%d) = %q, want %q", tt.col, got, tt.want)
		}
		if got, ok := columnIndex(tt.want + "12"); !ok || got != tt.col {
			t.Errorf("columnIndex(%q) = %d, %v", tt.want+"12", got, ok)
		}
	}
}
