package tabular

import (
	"encoding/csv"
	"io"
	"strings"
	"unicode/utf8"
)

// errClosed is returned by Write after Close.
const errClosed Error = "tabular: write after close"

// Writer writes rows of a table file.
type Writer interface {
	// Write writes one row.
	Write(cells []string) error
	// Close flushes and finishes the file; it does not close the
	// underlying io.Writer.
	Close() error
}

// NewCSVWriter writes RFC 4180 CSV in UTF-8: comma delimiter, CRLF line
// ends (also for line breaks inside fields; a lone CR is dropped), fields
// quoted only when needed (a comma, quote or line break, or a leading
// space). With bom the file starts with a UTF-8 byte order mark, so that
// Excel reads accents right. Invalid UTF-8 is written as U+FFFD.
func NewCSVWriter(w io.Writer, bom bool) Writer {
	out := &prefixWriter{w: w}
	if bom {
		out.prefix = []byte(utf8BOM)
	}
	cw := csv.NewWriter(out)
	cw.UseCRLF = true
	return &csvWriter{w: cw, out: out}
}

// csvWriter is the Writer of NewCSVWriter.
type csvWriter struct {
	w      *csv.Writer
	out    *prefixWriter
	closed bool
	valid  []string // scratch for cells repaired to valid UTF-8
}

// Write writes one record.
func (c *csvWriter) Write(cells []string) error {
	if c.closed {
		return errClosed
	}
	return c.w.Write(c.validUTF8(cells))
}

// Close flushes the records; a file without records still gets its BOM.
func (c *csvWriter) Close() error {
	if c.closed {
		return nil
	}
	c.closed = true
	c.w.Flush()
	if err := c.w.Error(); err != nil {
		return err
	}
	return c.out.flushPrefix()
}

// validUTF8 returns cells with invalid UTF-8 replaced.
func (c *csvWriter) validUTF8(cells []string) []string {
	for i, s := range cells {
		if !utf8.ValidString(s) {
			c.valid = append(c.valid[:0], cells...)
			for j := i; j < len(cells); j++ {
				c.valid[j] = strings.ToValidUTF8(cells[j], "\uFFFD")
			}
			return c.valid
		}
	}
	return cells
}

// prefixWriter writes a prefix before the first bytes.
type prefixWriter struct {
	w      io.Writer
	prefix []byte
}

// Write writes the prefix if still due, then b.
func (p *prefixWriter) Write(b []byte) (int, error) {
	if err := p.flushPrefix(); err != nil {
		return 0, err
	}
	return p.w.Write(b)
}

// flushPrefix writes the prefix if still due.
func (p *prefixWriter) flushPrefix() error {
	if len(p.prefix) == 0 {
		return nil
	}
	_, err := p.w.Write(p.prefix)
	p.prefix = nil
	return err
}
