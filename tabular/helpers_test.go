package tabular

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"reflect"
	"testing"
	"unicode/utf16"

	"golang.org/x/text/encoding/charmap"
)

// rowErr is an expected *RowError; a nil err matches any cause.
type rowErr struct {
	line int64
	col  int
	err  error
}

// table is everything a Reader yields.
type table struct {
	info   Info
	header []string
	rows   []Row
	errs   []rowErr
}

// readAll opens data and reads it to the end.
func readAll(t *testing.T, data []byte, name string, opt Options) (table, error) {
	t.Helper()
	r, err := Open(bytes.NewReader(data), int64(len(data)), name, opt)
	if err != nil {
		return table{}, err
	}
	defer r.Close()
	return drain(t, r), nil
}

// drain reads a Reader to the end, failing the test on a fatal error.
func drain(t *testing.T, r Reader) table {
	t.Helper()
	out := table{info: r.Info(), header: r.Header()}
	for {
		row, err := r.Next()
		var re *RowError
		switch {
		case err == io.EOF:
			return out
		case errors.As(err, &re):
			out.errs = append(out.errs, rowErr{re.Line, re.Column, re.Err})
		case err != nil:
			t.Fatalf("Next: fatal error %v", err)
		default:
			out.rows = append(out.rows, row)
		}
		if len(out.rows)+len(out.errs) > 1e7 {
			t.Fatal("Next never returns io.EOF")
		}
	}
}

// checkTable compares what was read with what was expected.
func checkTable(t *testing.T, got table, header []string, rows []Row, errs []rowErr) {
	t.Helper()
	if !reflect.DeepEqual(got.header, header) {
		t.Errorf("header = %q, want %q", got.header, header)
	}
	if len(got.rows) != len(rows) {
		t.Errorf("got %d rows, want %d:\n got %s\nwant %s", len(got.rows), len(rows), fmtRows(got.rows), fmtRows(rows))
	} else {
		for i := range rows {
			if !reflect.DeepEqual(got.rows[i], rows[i]) {
				t.Errorf("row %d = %s, want %s", i, fmtRows(got.rows[i:i+1]), fmtRows(rows[i:i+1]))
			}
		}
	}
	if len(got.errs) != len(errs) {
		t.Errorf("got row errors %v, want %v", got.errs, errs)
		return
	}
	for i, e := range errs {
		g := got.errs[i]
		if g.line != e.line || g.col != e.col || e.err != nil && !errors.Is(g.err, e.err) {
			t.Errorf("row error %d = line %d col %d %v, want line %d col %d %v", i, g.line, g.col, g.err, e.line, e.col, e.err)
		}
	}
}

// fmtRows prints rows compactly.
func fmtRows(rows []Row) string {
	var b bytes.Buffer
	for _, r := range rows {
		fmt.Fprintf(&b, "{%d %q} ", r.Line, r.Cells)
	}
	return b.String()
}

// rows builds expected rows from line numbers and cells.
func rows(lineCells ...any) []Row {
	var out []Row
	for i := 0; i < len(lineCells); i += 2 {
		out = append(out, Row{Line: int64(lineCells[i].(int)), Cells: lineCells[i+1].([]string)})
	}
	return out
}

// cells is shorthand for a []string.
func cells(s ...string) []string { return s }

// utf16Bytes encodes s as UTF-16 with an optional byte order mark.
func utf16Bytes(s string, order binary.AppendByteOrder, bom bool) []byte {
	var out []byte
	units := utf16.Encode([]rune(s))
	if bom {
		units = append([]uint16{0xFEFF}, units...)
	}
	for _, u := range units {
		out = order.AppendUint16(out, u)
	}
	return out
}

// cp1252 encodes s as Windows-1252.
func cp1252(t *testing.T, s string) []byte {
	t.Helper()
	b, err := charmap.Windows1252.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatalf("encoding %q as Windows-1252: %v", s, err)
	}
	return b
}

// pngBytes is the start of a real PNG file (a 1×1 image).
var pngBytes = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89" +
	"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
