package tabular

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestOpenErrors(t *testing.T) {
	zipped := zipOf(t, map[string]string{"word/document.xml": "<w:document/>"})
	tests := []struct {
		name    string
		data    []byte
		file    string
		opt     Options
		is      error  // errors.Is target, if any
		message string // exact message, if set
		has     string // substring of the message, if set
	}{
		{name: "empty file", data: nil, is: ErrEmpty, message: "the file is empty"},
		{name: "only a BOM", data: []byte(utf8BOM), is: ErrEmpty},
		{name: "only blank lines", data: []byte("\r\n\r\n  \r\n;;;\r\n"), is: ErrNoHeader, message: "no header row"},
		{name: "only a sep line", data: []byte("sep=;\r\n"), is: ErrNoHeader},
		{name: "UTF-16 blank lines", data: utf16Bytes("\r\n\r\n", binary.LittleEndian, true), is: ErrNoHeader},
		{name: "PNG image", data: pngBytes, file: "leads.csv", is: ErrNotTable, message: "not a CSV or XLSX file: it is a PNG image"},
		{name: "PNG forced as CSV", data: pngBytes, opt: Options{Format: "csv"}, is: ErrNotTable, has: "binary"},
		{name: "binary with NULs", data: []byte("id,name\n1,\x00\x01\x02\x03ana\n"), is: ErrNotTable, message: "not a CSV or XLSX file: it contains binary data"},
		{name: "binary forced as UTF-8", data: []byte("a\x00b\x00c\x00"), opt: Options{Encoding: "utf-8"}, is: ErrNotTable},
		{name: "control characters", data: bytes.Repeat([]byte("ab\x01\x02\x03\x04\x05\x06\x07\x08cd"), 20), is: ErrNotTable},
		{name: "old Excel", data: []byte("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\x00\x00"), file: "leads.xls", is: ErrNotTable, has: ".xls"},
		{name: "PDF", data: []byte("%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj"), is: ErrNotTable, has: "PDF"},
		{name: "zip that is not a workbook", data: zipped, file: "report.docx", is: ErrNotTable, has: "zip archive"},
		{name: "xlsx name on text", data: []byte("name,city\nAna,Vigo\n"), file: "leads.xlsx", is: ErrCorrupt, has: "not a valid zip archive"},
		{name: "forced xlsx on text", data: []byte("name,city\n"), opt: Options{Format: "XLSX"}, is: ErrCorrupt},
		{name: "truncated zip", data: zipped[:len(zipped)/2], file: "leads.xlsx", is: ErrCorrupt},
		{name: "unknown format", data: []byte("a,b\n"), opt: Options{Format: "ods"}, message: `unknown format "ods" (use "csv" or "xlsx")`},
		{name: "unknown encoding", data: []byte("a,b\n"), opt: Options{Encoding: "koi8-r"}, has: `unknown encoding "koi8-r"`},
		{name: "non-ASCII delimiter", data: []byte("a§b\n"), opt: Options{Delimiter: '§'}, has: "unsupported delimiter"},
		{name: "quote delimiter", data: []byte("sep=\"\na\"b\n"), has: "unsupported delimiter"},
		{name: "broken header", data: []byte("name,\"notes\ncity\n"), is: ErrUnterminatedQuote, message: "the header row cannot be read: line 1, column 2: unterminated quoted field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.file == "" {
				tt.file = "leads.csv"
			}
			r, err := Open(bytes.NewReader(tt.data), int64(len(tt.data)), tt.file, tt.opt)
			if err == nil {
				r.Close()
				t.Fatalf("Open succeeded, want an error")
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %q is not %q", err, tt.is)
			}
			if tt.message != "" && err.Error() != tt.message {
				t.Errorf("error = %q, want %q", err, tt.message)
			}
			if tt.has != "" && !strings.Contains(err.Error(), tt.has) {
				t.Errorf("error = %q, want it to mention %q", err, tt.has)
			}
		})
	}
}

func TestDetectFormat(t *testing.T) {
	book := xlsxBytes(t, [][]string{{"name"}, {"Ana"}})
	tests := []struct {
		name, file, forced string
		data               []byte
		want               string
	}{
		{"zip content wins over a csv name", "leads.csv", "", book, FormatXLSX},
		{"zip content without a name", "", "", book, FormatXLSX},
		{"text with an xlsx name", "Leads.XLSX", "", []byte("a,b"), FormatXLSX},
		{"text with an xlsm name", "leads.xlsm", "", []byte("a,b"), FormatXLSX},
		{"text with a txt name", "leads.txt", "", []byte("a,b"), FormatCSV},
		{"text without extension", "leads", "", []byte("a,b"), FormatCSV},
		{"forced csv on a zip", "leads.xlsx", "csv", book, FormatCSV},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := detectFormat(bytes.NewReader(tt.data), int64(len(tt.data)), tt.file, tt.forced)
			if err != nil || got != tt.want {
				t.Errorf("detectFormat = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// TestOpenFile reads the committed fixtures, as saved by Excel and by an
// old Windows program.
func TestOpenFile(t *testing.T) {
	tests := []struct {
		file   string
		enc    string
		delim  rune
		header []string
		rows   []Row
	}{
		{
			file: "excel-unicode-text.txt", enc: EncodingUTF16LE, delim: '\t',
			header: cells("Nombre", "Apellidos", "Correo", "Ciudad"),
			rows: rows(2, cells("Xosé Manuel", "Castelao", "xose@example.gal", "Rianxo"),
				3, cells("陳大文", "", "chan@example.tw", "台北"),
				4, cells("林美玲", "", "lin@example.tw", "高雄"),
				5, cells("Ñoño", "Pérez", "nono@example.es", "A Coruña")),
		},
		{
			file: "windows-1252.csv", enc: EncodingWindows1252, delim: ';',
			header: cells("Nombre", "Ciudad", "Importe"),
			rows: rows(2, cells("Ñoño", "Coruña", "1.234,56"), 3, cells("François", "Besançon", "€ 12,50"),
				4, cells("Çelik", "Ourense", "0,99")),
		},
		{
			file: "utf8-bom.csv", enc: EncodingUTF8, delim: ',',
			header: cells("name", "email", "notes"),
			rows: rows(2, cells("Xosé Manuel Castelao", "xose@example.gal", "Pintor,\nescritor"),
				4, cells("陳大文", "chan@example.tw", "")),
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			r, err := OpenFile(filepath.Join("testdata", tt.file), Options{})
			if err != nil {
				t.Fatalf("OpenFile: %v", err)
			}
			got := drain(t, r)
			if err := r.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
			if got.info.Encoding != tt.enc || got.info.Delimiter != tt.delim {
				t.Errorf("info = %+v", got.info)
			}
			checkTable(t, got, tt.header, tt.rows, nil)
		})
	}
}

func TestOpenFileErrors(t *testing.T) {
	if _, err := OpenFile(filepath.Join(t.TempDir(), "missing.csv"), Options{}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	path := filepath.Join(t.TempDir(), "empty.csv")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenFile(path, Options{}); !errors.Is(err, ErrEmpty) {
		t.Errorf("empty file: %v", err)
	}
}

func TestRowErrorMessage(t *testing.T) {
	tests := []struct {
		err  *RowError
		want string
	}{
		{&RowError{Line: 12, Column: 3, Err: ErrUnterminatedQuote}, "line 12, column 3: unterminated quoted field"},
		{&RowError{Line: 7, Err: ErrLineTooLong}, "line 7: the line is longer than 4 MiB"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
		if !errors.Is(tt.err, tt.err.Err) {
			t.Errorf("errors.Is(%v, its cause) = false", tt.err)
		}
	}
}

func TestCleanHeader(t *testing.T) {
	got := cleanHeader(cells("\uFEFFname", " e\x00mail\x00 ", "\t城市 "))
	if want := cells("name", "email", "城市"); !reflect.DeepEqual(got, want) {
		t.Errorf("cleanHeader = %q, want %q", got, want)
	}
}

// zipOf builds a zip archive of the given parts.
func zipOf(t *testing.T, parts map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range parts {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(body))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// xlsxBytes writes rows with NewXLSXWriter.
func xlsxBytes(t testing.TB, rows [][]string, kinds ...Kind) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := NewXLSXWriter(&buf, "Leads")
	w.SetKinds(kinds)
	for _, r := range rows {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
