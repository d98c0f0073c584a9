package tabular

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// benchColumns is the header of the generated contact files.
var benchColumns = []string{"id", "first_name", "last_name", "email", "phone", "company", "city", "country", "score", "created"}

// contactRow returns the generated row i, of 10 cells.
func contactRow(i int) []string {
	names := [...][2]string{{"Xosé Manuel", "Castelao"}, {"陳", "大文"}, {"林", "美玲"}, {"Ana", "Pérez, Ñoño"}, {"Luis", "O'Brien"}}
	n := names[i%len(names)]
	return []string{
		strconv.Itoa(i), n[0], n[1], fmt.Sprintf("lead%d@example.com", i), "+34 981 000 " + strconv.Itoa(100+i%900),
		"Acme \"Galicia\" SL", "A Coruña", "ES", strconv.Itoa(i % 100), "2024-01-31",
	}
}

// genCSV writes n generated rows as CSV.
func genCSV(tb testing.TB, n int) []byte {
	var buf bytes.Buffer
	w := NewCSVWriter(&buf, true)
	w.Write(benchColumns)
	for i := 0; i < n; i++ {
		w.Write(contactRow(i))
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// virtualCSV is a large CSV file generated on demand, never held in memory:
// a header line, then n lines of the same length.
type virtualCSV struct{ n int64 }

const (
	virtualHeader = "id;name;notes\r\n"
	virtualRow    = "%012d;Xosé Manuel Castelao;\"a note; with a delimiter\r\nand a line break\"\r\n"
)

// rowLen is the length of one generated record in bytes.
func (v virtualCSV) rowLen() int64 { return int64(len(fmt.Sprintf(virtualRow, 0))) }

// size is the file size.
func (v virtualCSV) size() int64 { return int64(len(virtualHeader)) + v.n*v.rowLen() }

// ReadAt generates the bytes at off.
func (v virtualCSV) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for n < len(p) && off < v.size() {
		var chunk string
		var at int64
		if off < int64(len(virtualHeader)) {
			chunk, at = virtualHeader, off
		} else {
			i := (off - int64(len(virtualHeader))) / v.rowLen()
			chunk = fmt.Sprintf(virtualRow, i)
			at = (off - int64(len(virtualHeader))) % v.rowLen()
		}
		c := copy(p[n:], chunk[at:])
		n += c
		off += int64(c)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// TestCSVStreamsLargeFiles reads a 90 MB file and checks that the live
// heap stays small and every row is read with the right line number.
func TestCSVStreamsLargeFiles(t *testing.T) {
	if testing.Short() {
		t.Skip("large file")
	}
	v := virtualCSV{n: 1_000_000}
	r, err := Open(v, v.size(), "big.csv", Options{})
	if err != nil {
		t.Fatal(err)
	}
	var maxHeap uint64
	var count int64
	for {
		row, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("row %d: %v", count, err)
		}
		if want := 2 + 2*count; row.Line != want || row.Cells[0] != fmt.Sprintf("%012d", count) {
			t.Fatalf("row %d = %v, want line %d", count, row, want)
		}
		if count%200_000 == 0 {
			maxHeap = max(maxHeap, liveHeap())
		}
		count++
	}
	if count != v.n {
		t.Errorf("read %d rows, want %d", count, v.n)
	}
	if maxHeap > 16<<20 {
		t.Errorf("live heap reached %d MiB reading a %d MiB file", maxHeap>>20, v.size()>>20)
	}
}

// TestXLSXStreams writes a large sheet to a file and reads it back, checking
// that neither side holds the rows in memory.
func TestXLSXStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("large file")
	}
	const n = 100_000
	path := filepath.Join(t.TempDir(), "big.xlsx")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := NewXLSXWriter(f, "Leads")
	w.Write(benchColumns)
	var maxHeap uint64
	for i := 0; i < n; i++ {
		if err := w.Write(contactRow(i)); err != nil {
			t.Fatal(err)
		}
		if i%50_000 == 0 {
			maxHeap = max(maxHeap, liveHeap())
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	r, err := OpenFile(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	count := 0
	for {
		row, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if row.Cells[0] != strconv.Itoa(count) {
			t.Fatalf("row %d = %v", count, row)
		}
		if count%50_000 == 0 {
			maxHeap = max(maxHeap, liveHeap())
		}
		count++
	}
	if count != n || maxHeap > 16<<20 {
		t.Errorf("read %d rows (want %d); live heap reached %d MiB", count, n, maxHeap>>20)
	}
}

// liveHeap returns the heap in use after a collection.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func BenchmarkCSVRead(b *testing.B) {
	const n = 100_000
	data := genCSV(b, n)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		readBench(b, data, n)
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkXLSXRead(b *testing.B) {
	const n = 100_000
	rows := [][]string{benchColumns}
	for i := 0; i < n; i++ {
		rows = append(rows, contactRow(i))
	}
	data := xlsxBytes(b, rows, KindNumber, KindText, KindText, KindText, KindText, KindText, KindText, KindText, KindNumber, KindDate)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		readBench(b, data, n)
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkXLSXReadSharedStrings reads a sheet laid out as Excel saves one:
// texts in the shared strings table, dates as styled numbers.
func BenchmarkXLSXReadSharedStrings(b *testing.B) {
	const n = 100_000
	var sst, sheet strings.Builder
	sst.WriteString(xmlDecl + `<sst ` + nsMain + `>`)
	for i := 0; i < 1000; i++ {
		fmt.Fprintf(&sst, `<si><t>%s %d</t></si>`, contactRow(i)[1], i)
	}
	sst.WriteString(`</sst>`)
	sheet.WriteString(xmlDecl + `<worksheet ` + nsMain + `><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row>`)
	for i := 0; i < n; i++ {
		fmt.Fprintf(&sheet, `<row r="%d" spans="1:10">`, i+2)
		fmt.Fprintf(&sheet, `<c r="A%d"><v>%d</v></c>`, i+2, i)
		for c := 1; c < 8; c++ {
			fmt.Fprintf(&sheet, `<c r="%c%d" t="s"><v>%d</v></c>`, 'A'+c, i+2, (i*7+c)%1000)
		}
		fmt.Fprintf(&sheet, `<c r="I%d"><v>%d.5</v></c><c r="J%d" s="1"><v>%d</v></c></row>`, i+2, i%100, i+2, 45000+i%1000)
	}
	sheet.WriteString(`</sheetData></worksheet>`)
	data := zipParts(b, withParts(excelParts(), part{"xl/sharedStrings.xml", sst.String()},
		part{"xl/worksheets/sheet1.xml", sheet.String()}))
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		readBench(b, data, n)
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// readBench reads data to the end and checks the row count.
func readBench(b *testing.B, data []byte, n int) {
	r, err := Open(bytes.NewReader(data), int64(len(data)), "bench", Options{})
	if err != nil {
		b.Fatal(err)
	}
	count := 0
	for {
		_, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		count++
	}
	if count != n {
		b.Fatalf("read %d rows, want %d", count, n)
	}
}

func BenchmarkCSVWrite(b *testing.B) {
	benchWrite(b, func(w io.Writer) Writer { return NewCSVWriter(w, true) })
}

func BenchmarkXLSXWrite(b *testing.B) {
	benchWrite(b, func(w io.Writer) Writer {
		x := NewXLSXWriter(w, "Leads")
		x.SetKinds([]Kind{KindNumber, KindText, KindText, KindText, KindText, KindText, KindText, KindText, KindNumber, KindDate})
		return x
	})
}

// benchWrite writes 100,000 rows with the writer newWriter makes.
func benchWrite(b *testing.B, newWriter func(io.Writer) Writer) {
	const n = 100_000
	rows := make([][]string, n)
	for i := range rows {
		rows[i] = contactRow(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w := newWriter(io.Discard)
		for _, r := range rows {
			if err := w.Write(r); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
