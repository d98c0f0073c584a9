package tabular

import (
	"bytes"
	"encoding/binary"
	"reflect"
	"strings"
	"testing"
)

func TestCSVRead(t *testing.T) {
	tests := []struct {
		name   string
		data   []byte
		opt    Options
		enc    string
		delim  rune
		header []string
		rows   []Row
		errs   []rowErr
	}{
		{
			name:   "UTF-8 with BOM, Galician and Traditional Chinese names",
			data:   []byte("\xEF\xBB\xBFname,email\r\nXosé Manuel Castelao,xose@example.gal\r\n陳大文,chan@example.tw\r\n林美玲,lin@example.tw\r\n"),
			enc:    EncodingUTF8,
			delim:  ',',
			header: cells("name", "email"),
			rows: rows(2, cells("Xosé Manuel Castelao", "xose@example.gal"),
				3, cells("陳大文", "chan@example.tw"), 4, cells("林美玲", "lin@example.tw")),
		},
		{
			name:   "UTF-8 without BOM",
			data:   []byte("nome;cidade\nRosalía de Castro;Santiago de Compostela\n"),
			enc:    EncodingUTF8,
			delim:  ';',
			header: cells("nome", "cidade"),
			rows:   rows(2, cells("Rosalía de Castro", "Santiago de Compostela")),
		},
		{
			name:   "double BOM never leaks into the header",
			data:   []byte("\xEF\xBB\xBF\xEF\xBB\xBFname,city\nAna,Vigo\n"),
			enc:    EncodingUTF8,
			delim:  ',',
			header: cells("name", "city"),
			rows:   rows(2, cells("Ana", "Vigo")),
		},
		{
			name:   "semicolons and decimal commas",
			data:   []byte("Nombre;Importe;Total\r\nAna;1.234,56;7,5\r\nLuis;99,5;0,25\r\nMarta;3;4\r\n"),
			enc:    EncodingUTF8,
			delim:  ';',
			header: cells("Nombre", "Importe", "Total"),
			rows: rows(2, cells("Ana", "1.234,56", "7,5"), 3, cells("Luis", "99,5", "0,25"),
				4, cells("Marta", "3", "4")),
		},
		{
			name:   "commas with quoted decimal commas",
			data:   []byte("name,amount\nAna,\"1.234,56\"\nLuis,\"7,5\"\n"),
			enc:    EncodingUTF8,
			delim:  ',',
			header: cells("name", "amount"),
			rows:   rows(2, cells("Ana", "1.234,56"), 3, cells("Luis", "7,5")),
		},
		{
			name:   "tab",
			data:   []byte("name\tcity\tnotes\nAna\tVigo\ta, b; c\nLuis\t\tx\n"),
			enc:    EncodingUTF8,
			delim:  '\t',
			header: cells("name", "city", "notes"),
			rows:   rows(2, cells("Ana", "Vigo", "a, b; c"), 3, cells("Luis", "", "x")),
		},
		{
			name:   "pipe",
			data:   []byte("name|city\nAna|Vigo, Pontevedra\nLuis|Lugo\n"),
			enc:    EncodingUTF8,
			delim:  '|',
			header: cells("name", "city"),
			rows:   rows(2, cells("Ana", "Vigo, Pontevedra"), 3, cells("Luis", "Lugo")),
		},
		{
			name:   "Excel sep= line is honoured and skipped",
			data:   []byte("sep=;\r\nname;amount,eur\r\nAna;1,5\r\n"),
			enc:    EncodingUTF8,
			delim:  ';',
			header: cells("name", "amount,eur"),
			rows:   rows(3, cells("Ana", "1,5")),
		},
		{
			name:   "sep= line with a forced delimiter is still skipped",
			data:   []byte("sep=,\nname|city\nAna|Vigo\n"),
			opt:    Options{Delimiter: '|'},
			enc:    EncodingUTF8,
			delim:  '|',
			header: cells("name", "city"),
			rows:   rows(3, cells("Ana", "Vigo")),
		},
		{
			name:   "blank, whitespace and delimiter-only lines are skipped",
			data:   []byte("\n\nname;city\n\n;;;\n   \t \nAna;Vigo\n ; ; \n\"\";\"\"\nLuis;Lugo\n\n"),
			enc:    EncodingUTF8,
			delim:  ';',
			header: cells("name", "city"),
			rows:   rows(7, cells("Ana", "Vigo"), 10, cells("Luis", "Lugo")),
		},
		{
			name: "quoted fields with newlines keep line numbers right (CRLF)",
			data: []byte("name,notes,city\r\n\"Ana\",\"first line\r\nsecond line\r\nthird\",Vigo\r\n" +
				"Luis,\"a, b\",Lugo\r\n\"Marta\",\"x\ny\",\"Ourense\"\r\n"),
			enc:    EncodingUTF8,
			delim:  ',',
			header: cells("name", "notes", "city"),
			rows: rows(2, cells("Ana", "first line\nsecond line\nthird", "Vigo"),
				5, cells("Luis", "a, b", "Lugo"), 6, cells("Marta", "x\ny", "Ourense")),
		},
		{
			name:   "final line without newline",
			data:   []byte("name,city\r\nAna,Vigo\r\nLuis,Lugo"),
			enc:    EncodingUTF8,
			delim:  ',',
			header: cells("name", "city"),
			rows:   rows(2, cells("Ana", "Vigo"), 3, cells("Luis", "Lugo")),
		},
		{
			name:   "ragged rows are returned as they are",
			data:   []byte("a,b,c\n1\n1,2\n1,2,3,4,5\n1,2,,\n"),
			enc:    EncodingUTF8,
			delim:  ',',
			header: cells("a", "b", "c"),
			rows: rows(2, cells("1"), 3, cells("1", "2"), 4, cells("1", "2", "3", "4", "5"),
				5, cells("1", "2", "", "")),
		},
		{
			name:   "a bare quote in an unquoted field is a character",
			data:   []byte("name,size,city\nAna,5\" screen,Vigo\nO'Brien,12\"\",Cork\n"),
			enc:    EncodingUTF8,
			delim:  ',',
			header: cells("name", "size", "city"),
			rows:   rows(2, cells("Ana", "5\" screen", "Vigo"), 3, cells("O'Brien", "12\"\"", "Cork")),
		},
		{
			name:   "doubled quotes and a stray quote that still closes on its line",
			data:   []byte("quote,who\n\"say \"\"hi\"\"\",Ana\n\"He said \"hi\" to me\",Luis\n"),
			enc:    EncodingUTF8,
			delim:  ',',
			header: cells("quote", "who"),
			rows:   rows(2, cells(`say "hi"`, "Ana"), 3, cells(`He said "hi" to me`, "Luis")),
		},
		{
			name:   "a stray quote in a field that does not close on its line is a row error",
			data:   []byte("name,city\n\"Big\" Jim,Vigo\nLuis,Lugo\n"),
			enc:    EncodingUTF8,
			delim:  ',',
			header: cells("name", "city"),
			rows:   rows(3, cells("Luis", "Lugo")),
			errs:   []rowErr{{2, 1, ErrStrayQuote}},
		},
		{
			name: "an unterminated quote in the middle does not swallow the file",
			data: []byte("name,notes,city\nAna,\"never closed,Vigo\nLuis,ok,Lugo\n" +
				"Marta,fine,Ourense\nXoán,\"multi\nline\",Noia\n"),
			enc:    EncodingUTF8,
			delim:  ',',
			header: cells("name", "notes", "city"),
			rows: rows(3, cells("Luis", "ok", "Lugo"), 4, cells("Marta", "fine", "Ourense"),
				5, cells("Xoán", "multi\nline", "Noia")),
			errs: []rowErr{{2, 2, ErrUnterminatedQuote}},
		},
		{
			name: "an unterminated quote followed by quoted fields is caught early",
			data: []byte("name,notes,city\r\nAna,\"never closed,Vigo\r\nLuis,\"quoted\",Lugo\r\n" +
				"Marta,\"a\"\"b\",Ourense\r\n"),
			enc:    EncodingUTF8,
			delim:  ',',
			header: cells("name", "notes", "city"),
			rows:   rows(3, cells("Luis", "quoted", "Lugo"), 4, cells("Marta", `a"b`, "Ourense")),
			errs:   []rowErr{{2, 2, ErrUnterminatedQuote}},
		},
		{
			name:   "two unterminated quotes",
			data:   []byte("a,b\n\"x,1\n\"y,2\nz,3\n"),
			enc:    EncodingUTF8,
			delim:  ',',
			header: cells("a", "b"),
			rows:   rows(4, cells("z", "3")),
			errs:   []rowErr{{2, 1, ErrUnterminatedQuote}, {3, 1, ErrUnterminatedQuote}},
		},
		{
			name:   "header only",
			data:   []byte("name,email,phone\r\n"),
			enc:    EncodingUTF8,
			delim:  ',',
			header: cells("name", "email", "phone"),
		},
		{
			name:   "header only without newline",
			data:   []byte("name;email"),
			enc:    EncodingUTF8,
			delim:  ';',
			header: cells("name", "email"),
		},
		{
			name:   "unquoted fields and the header are trimmed, quoted fields are not",
			data:   []byte(" name ,\" city \" \n  Ana  ,\" Vigo \"  \n\u00a0Luis\u00a0, \"a, b\"\n"),
			enc:    EncodingUTF8,
			delim:  ',',
			header: cells("name", "city"),
			rows:   rows(2, cells("Ana", " Vigo "), 3, cells("Luis", "a, b")),
		},
		{
			name:   "CR line ends (old Mac)",
			data:   []byte("name,city\rAna,Vigo\r\"Luis\",\"a\rb\"\rMarta,Lugo\r"),
			enc:    EncodingUTF8,
			delim:  ',',
			header: cells("name", "city"),
			rows:   rows(2, cells("Ana", "Vigo"), 3, cells("Luis", "a\nb"), 5, cells("Marta", "Lugo")),
		},
		{
			name:   "single column",
			data:   []byte("email\nana@example.com\nluis@example.com\n"),
			enc:    EncodingUTF8,
			delim:  ',',
			header: cells("email"),
			rows:   rows(2, cells("ana@example.com"), 3, cells("luis@example.com")),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readAll(t, tt.data, "leads.csv", tt.opt)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if got.info.Format != FormatCSV || got.info.Encoding != tt.enc || got.info.Delimiter != tt.delim {
				t.Errorf("info = %+v, want csv %s %q", got.info, tt.enc, tt.delim)
			}
			checkTable(t, got, tt.header, tt.rows, tt.errs)
		})
	}
}

func TestCSVEncodings(t *testing.T) {
	const text = "name\tcity\r\nXosé Manuel Castelao\tSantiago\r\n陳大文\t台北\r\n林美玲\t高雄\r\n"
	wantRows := rows(2, cells("Xosé Manuel Castelao", "Santiago"), 3, cells("陳大文", "台北"), 4, cells("林美玲", "高雄"))
	tests := []struct {
		name string
		data []byte
		opt  Options
		enc  string
	}{
		{"UTF-16LE with BOM (Excel Unicode text)", utf16Bytes(text, binary.LittleEndian, true), Options{}, EncodingUTF16LE},
		{"UTF-16BE with BOM", utf16Bytes(text, binary.BigEndian, true), Options{}, EncodingUTF16BE},
		{"UTF-16LE without BOM", utf16Bytes(text, binary.LittleEndian, false), Options{}, EncodingUTF16LE},
		{"UTF-16BE without BOM", utf16Bytes(text, binary.BigEndian, false), Options{}, EncodingUTF16BE},
		{"forced utf-16 with a BE BOM", utf16Bytes(text, binary.BigEndian, true), Options{Encoding: "UTF-16"}, EncodingUTF16BE},
		{"forced utf-16le", utf16Bytes(text, binary.LittleEndian, false), Options{Encoding: "utf-16le"}, EncodingUTF16LE},
		{"forced utf-8 with BOM", []byte(utf8BOM + text), Options{Encoding: "UTF8"}, EncodingUTF8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readAll(t, tt.data, "unicode.txt", tt.opt)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if got.info.Encoding != tt.enc || got.info.Delimiter != '\t' {
				t.Errorf("info = %+v, want %s, tab", got.info, tt.enc)
			}
			checkTable(t, got, cells("name", "city"), wantRows, nil)
		})
	}
}

func TestCSVWindows1252(t *testing.T) {
	text := "Nombre;Ciudad;Importe\r\nÑoño;Coruña;1.234,56\r\nFrançois;Besançon;€ 12,50\r\nJosé;Cádiz;7,5\r\n"
	tests := []struct {
		name string
		data []byte
		opt  Options
		want []Row
		enc  string
	}{
		{
			name: "detected",
			data: cp1252(t, text),
			enc:  EncodingWindows1252,
			want: rows(2, cells("Ñoño", "Coruña", "1.234,56"), 3, cells("François", "Besançon", "€ 12,50"),
				4, cells("José", "Cádiz", "7,5")),
		},
		{
			name: "forced",
			data: cp1252(t, text),
			opt:  Options{Encoding: "cp1252"},
			enc:  EncodingWindows1252,
			want: rows(2, cells("Ñoño", "Coruña", "1.234,56"), 3, cells("François", "Besançon", "€ 12,50"),
				4, cells("José", "Cádiz", "7,5")),
		},
		{
			name: "forced on UTF-8 bytes decodes every line as Windows-1252",
			data: []byte("Nombre;Ciudad\r\nÑoño;Coruña\r\n"),
			opt:  Options{Encoding: "windows-1252"},
			enc:  EncodingWindows1252,
			want: rows(2, cells("Ã‘oÃ±o", "CoruÃ±a")),
		},
		{
			name: "mixed: UTF-8 lines and a Windows-1252 line",
			data: append([]byte("Nombre;Ciudad\r\nXosé;Coruña\r\n"), cp1252(t, "Ñoño;Cádiz\r\n")...),
			enc:  EncodingWindows1252,
			want: rows(2, cells("Xosé", "Coruña"), 3, cells("Ñoño", "Cádiz")),
		},
		{
			name: "forced UTF-8 replaces invalid bytes",
			data: append([]byte("Nombre;Ciudad\r\n"), cp1252(t, "Ñoño;Cádiz\r\n")...),
			opt:  Options{Encoding: "utf-8"},
			enc:  EncodingUTF8,
			want: rows(2, cells("\uFFFDo\uFFFDo", "C\uFFFDdiz")),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readAll(t, tt.data, "export.csv", tt.opt)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if got.info.Encoding != tt.enc {
				t.Errorf("encoding = %s, want %s", got.info.Encoding, tt.enc)
			}
			checkTable(t, got, got.header, tt.want, nil)
		})
	}
}

// TestCSVUTF8AcrossSampleEdge puts a two-byte character across the 64 KiB
// edge of the encoding sample: it must not make the file look invalid.
func TestCSVUTF8AcrossSampleEdge(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("name,city\n")
	for b.Len() < sampleSize-10 {
		b.WriteString("Ana,Vigo\n")
	}
	b.WriteString(strings.Repeat("x", sampleSize-1-b.Len()))
	b.WriteString("é,Coruña\n") // é starts at byte sampleSize-1
	got, err := readAll(t, b.Bytes(), "edge.csv", Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if got.info.Encoding != EncodingUTF8 {
		t.Errorf("encoding = %s, want utf-8", got.info.Encoding)
	}
	last := got.rows[len(got.rows)-1].Cells
	if !strings.HasSuffix(last[0], "xé") || last[1] != "Coruña" {
		t.Errorf("last row = %q", last)
	}
}

// TestCSVNULs checks that NUL bytes past the binary check are removed.
func TestCSVNULs(t *testing.T) {
	data := "name,city\n" + strings.Repeat("x,y\n", 3000) + "A\x00na,Vi\x00go\n"
	got, err := readAll(t, []byte(data), "nul.csv", Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	last := got.rows[len(got.rows)-1]
	if want := (Row{Line: 3002, Cells: cells("Ana", "Vigo")}); !reflect.DeepEqual(last, want) {
		t.Errorf("last row = %v, want %v", last, want)
	}
}

// TestCSVLongLines checks the bounds on lines and on quoted fields.
func TestCSVLongLines(t *testing.T) {
	long := strings.Repeat("x", maxLineBytes+10)
	tests := []struct {
		name string
		data string
		rows []Row
		errs []rowErr
	}{
		{
			name: "a line over 4 MiB is a row error",
			data: "a,b\n1," + long + "\n2,ok\n",
			rows: rows(3, cells("2", "ok")),
			errs: []rowErr{{2, 0, ErrLineTooLong}},
		},
		{
			name: "a long line that fits is read",
			data: "a,b\n1," + long[:1<<20] + "\n2,ok\n",
			rows: rows(2, cells("1", long[:1<<20]), 3, cells("2", "ok")),
		},
		{
			name: "a quoted field over 4 MiB is given up",
			data: "a,b\n1,\"open\n" + strings.Repeat(long[:1<<20]+"\n", 5) + "2,ok\n",
			rows: rows(3, cells(long[:1<<20]), 4, cells(long[:1<<20]), 5, cells(long[:1<<20]),
				6, cells(long[:1<<20]), 7, cells(long[:1<<20]), 8, cells("2", "ok")),
			errs: []rowErr{{2, 2, ErrUnterminatedQuote}},
		},
		{
			name: "a line over 4 MiB inside a quoted field",
			data: "a,b\n1,\"open\n" + long + "\n2,ok\n",
			rows: rows(4, cells("2", "ok")),
			errs: []rowErr{{2, 2, ErrUnterminatedQuote}, {3, 0, ErrLineTooLong}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readAll(t, []byte(tt.data), "long.csv", Options{Delimiter: ','})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			checkTable(t, got, cells("a", "b"), tt.rows, tt.errs)
		})
	}
}

func TestCSVProgress(t *testing.T) {
	data := []byte("name,city\n" + strings.Repeat("Ana,Vigo\n", 50000))
	r, err := Open(bytes.NewReader(data), int64(len(data)), "p.csv", Options{})
	if err != nil {
		t.Fatal(err)
	}
	var last int64
	for {
		if _, err := r.Next(); err != nil {
			break
		}
		done, total := r.Progress()
		if done < last || done > total || total != int64(len(data)) {
			t.Fatalf("Progress = %d/%d after %d", done, total, last)
		}
		last = done
	}
	if done, total := r.Progress(); done != total {
		t.Errorf("Progress at the end = %d/%d", done, total)
	}
}
