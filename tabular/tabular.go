package tabular

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Format names, used in Options.Format and reported in Info.Format.
const (
	FormatCSV  = "csv"
	FormatXLSX = "xlsx"
)

// Encoding names, used in Options.Encoding and reported in Info.Encoding.
const (
	EncodingUTF8        = "utf-8"
	EncodingUTF16LE     = "utf-16le"
	EncodingUTF16BE     = "utf-16be"
	EncodingWindows1252 = "windows-1252"
)

// Error is an error with a fixed message. The package's sentinel errors are
// constants of this type, so they can be compared with errors.Is.
type Error string

// Error returns the message.
func (e Error) Error() string { return string(e) }

// Errors returned by Open (wrapped with details where there are some).
const (
	// ErrEmpty is returned for a file of zero bytes.
	ErrEmpty Error = "the file is empty"
	// ErrNoHeader is returned for a file with nothing but blank lines.
	ErrNoHeader Error = "no header row"
	// ErrNotTable is returned for a file that is neither CSV nor XLSX, such
	// as an image, a PDF or an old .xls workbook.
	ErrNotTable Error = "not a CSV or XLSX file"
	// ErrCorrupt is returned for a damaged XLSX file.
	ErrCorrupt Error = "xlsx: corrupt file"
	// ErrTooLarge is returned for an XLSX part that decompresses to more
	// than the reader accepts (a zip bomb, or a sheet beyond any real one).
	ErrTooLarge Error = "xlsx: the file is too large"
)

// Errors carried by a *RowError.
const (
	// ErrUnterminatedQuote means that a quoted field was never closed.
	ErrUnterminatedQuote Error = "unterminated quoted field"
	// ErrStrayQuote means that a quote inside a quoted field neither closes
	// it nor is doubled, and the field does not close on the same line.
	ErrStrayQuote Error = `a quote inside a quoted field is not doubled ("")`
	// ErrLineTooLong means that a line or a record is longer than 4 MiB.
	ErrLineTooLong Error = "the line is longer than 4 MiB"
)

// Options tune Open. Zero values mean "detect".
type Options struct {
	// Format is "", FormatCSV or FormatXLSX. "" detects it from the content
	// (a zip archive is XLSX), then from the name's extension.
	Format string
	// Encoding is "", "utf-8", "utf-16le", "utf-16be" or "windows-1252"
	// (CSV only; a few common aliases such as "cp1252" are accepted).
	Encoding string
	// Delimiter is the CSV field separator, an ASCII character; 0 sniffs it
	// among ',', ';', '\t' and '|'.
	Delimiter rune
	// Sheet is the XLSX sheet to read; "" reads the first worksheet.
	Sheet string
}

// Info says what Open detected.
type Info struct {
	Format    string   // FormatCSV or FormatXLSX
	Encoding  string   // CSV: the encoding of the first 64 KiB
	Delimiter rune     // CSV: the field separator
	Sheet     string   // XLSX: the sheet being read
	Sheets    []string // XLSX: every sheet of the workbook, in order
}

// Row is one data row.
type Row struct {
	// Line is, for CSV, the physical line (1-based) where the record
	// starts, and for XLSX the spreadsheet row number.
	Line int64
	// Cells are the cell texts. Missing trailing cells are not padded.
	Cells []string
}

// RowError is a row that could not be read. Reading goes on with the next
// row.
type RowError struct {
	Line   int64 // as Row.Line
	Column int   // 1-based column (field) number, 0 if unknown
	Err    error
}

// Error returns the message with the line and column.
func (e *RowError) Error() string {
	if e.Column > 0 {
		return fmt.Sprintf("line %d, column %d: %v", e.Line, e.Column, e.Err)
	}
	return fmt.Sprintf("line %d: %v", e.Line, e.Err)
}

// Unwrap returns the cause.
func (e *RowError) Unwrap() error { return e.Err }

// SheetError is returned by Open when Options.Sheet names no sheet of the
// workbook.
type SheetError struct {
	Name   string   // the sheet asked for
	Sheets []string // the sheets the workbook has
}

// Error lists the sheets the workbook has.
func (e *SheetError) Error() string {
	quoted := make([]string, len(e.Sheets))
	for i, s := range e.Sheets {
		quoted[i] = strconv.Quote(s)
	}
	return fmt.Sprintf("xlsx: the workbook has no sheet named %q (it has %s)",
		e.Name, strings.Join(quoted, ", "))
}

// Reader reads a table. Header is the first non-blank row; Next returns
// the data rows, then io.EOF.
type Reader interface {
	// Info says what was detected.
	Info() Info
	// Header returns the trimmed header cells.
	Header() []string
	// Next returns the next data row. A *RowError reports a broken row:
	// the caller records it and calls Next again. io.EOF ends the table;
	// any other error is fatal.
	Next() (Row, error)
	// Progress returns the bytes of input consumed and the input's size,
	// for a progress bar. For XLSX it is estimated from the compressed
	// sheet. It may be called from another goroutine.
	Progress() (done, total int64)
	// Close releases the reader.
	Close() error
}

// Open reads a table of size bytes from r. The name is used only for its
// extension, when the content does not tell the format.
func Open(r io.ReaderAt, size int64, name string, opt Options) (Reader, error) {
	if size <= 0 {
		return nil, ErrEmpty
	}
	format, err := detectFormat(r, size, name, opt.Format)
	if err != nil {
		return nil, err
	}
	if format == FormatXLSX {
		return openXLSX(r, size, opt, defaultLimits())
	}
	return openCSV(r, size, opt)
}

// OpenFile opens the file at path with Open. The returned Reader's Close
// closes the file.
func OpenFile(path string, opt Options) (Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	r, err := Open(f, st.Size(), path, opt)
	if err != nil {
		f.Close()
		return nil, err
	}
	return &fileReader{Reader: r, f: f}, nil
}

// fileReader closes the file with the reader.
type fileReader struct {
	Reader
	f *os.File
}

// Close closes the reader, then the file.
func (r *fileReader) Close() error {
	err := r.Reader.Close()
	if ferr := r.f.Close(); err == nil {
		err = ferr
	}
	return err
}

// Magic numbers of files that are refused with a clear message.
var binaryMagics = [...]struct{ magic, what string }{
	{"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", "an old Excel (.xls) or Office file: save it as .xlsx or CSV"},
	{"\x89PNG", "a PNG image"},
	{"\xFF\xD8\xFF", "a JPEG image"},
	{"GIF8", "a GIF image"},
	{"%PDF", "a PDF document"},
	{"\x1F\x8B", "a gzip archive"},
	{"Rar!", "a RAR archive"},
	{"7z\xBC\xAF", "a 7-Zip archive"},
}

// detectFormat returns FormatCSV or FormatXLSX for the forced format, the
// content, then the name's extension.
func detectFormat(r io.ReaderAt, size int64, name, forced string) (string, error) {
	switch strings.ToLower(forced) {
	case FormatCSV:
		return FormatCSV, nil
	case FormatXLSX:
		return FormatXLSX, nil
	case "":
	default:
		return "", fmt.Errorf("unknown format %q (use %q or %q)", forced, FormatCSV, FormatXLSX)
	}
	head := make([]byte, 8)
	n, err := r.ReadAt(head, 0)
	if n < len(head) && err != nil && err != io.EOF {
		return "", err
	}
	head = head[:n]
	if isZip(head) {
		return FormatXLSX, nil
	}
	for _, m := range binaryMagics {
		if strings.HasPrefix(string(head), m.magic) {
			return "", fmt.Errorf("%w: it is %s", ErrNotTable, m.what)
		}
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".xlsx", ".xlsm":
		return FormatXLSX, nil
	}
	return FormatCSV, nil
}

// isZip reports whether head starts like a zip archive.
func isZip(head []byte) bool {
	s := string(head)
	return strings.HasPrefix(s, "PK\x03\x04") || strings.HasPrefix(s, "PK\x05\x06") ||
		strings.HasPrefix(s, "PK\x07\x08")
}

// readHeader reads the first row through next as the header: a file
// without one is ErrNoHeader, a broken one an error that says so.
func readHeader(next func() (Row, error)) ([]string, error) {
	row, err := next()
	var rowErr *RowError
	switch {
	case err == io.EOF:
		return nil, ErrNoHeader
	case errors.As(err, &rowErr):
		return nil, fmt.Errorf("the header row cannot be read: %w", err)
	case err != nil:
		return nil, err
	}
	return cleanHeader(row.Cells), nil
}

// cleanHeader trims the header cells and removes byte order marks and NULs.
func cleanHeader(cells []string) []string {
	out := make([]string, len(cells))
	for i, c := range cells {
		c = strings.ReplaceAll(c, "\x00", "")
		c = strings.ReplaceAll(c, "\uFEFF", "")
		out[i] = strings.TrimSpace(c)
	}
	return out
}

// blank reports whether every cell is empty.
func blank(cells []string) bool {
	for _, c := range cells {
		if c != "" {
			return false
		}
	}
	return true
}
