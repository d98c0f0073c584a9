package tabular

import (
	"bufio"
	"errors"
	"fmt"
	"io"

	"golang.org/x/text/transform"
)

// csvBufferSize is the read buffer of the CSV reader.
const csvBufferSize = 64 << 10

// csvReader reads a CSV file; see the package documentation for its rules.
type csvReader struct {
	info    Info
	header  []string
	lines   lineSource
	parser  csvParser
	pending []line // the lines of a record whose quoted field spans lines
	input   *countingReader
	size    int64
}

// openCSV detects the encoding and delimiter of a CSV file and reads its
// header.
func openCSV(r io.ReaderAt, size int64, opt Options) (Reader, error) {
	sample, err := readSample(r, size)
	if err != nil {
		return nil, err
	}
	prefix := int64(len(sample)) < size
	enc, err := detectEncoding(sample, prefix, opt.Encoding)
	if err != nil {
		return nil, err
	}
	if enc.skip == size {
		return nil, ErrEmpty
	}
	sn, err := sniff(decodeSample(sample, enc, prefix), opt.Delimiter, prefix)
	if err != nil {
		return nil, err
	}
	c := newCSVReader(r, size, enc, sn)
	if err := c.readHeader(sn.sepLine); err != nil {
		return nil, err
	}
	return c, nil
}

// readSample reads the first bytes of the file.
func readSample(r io.ReaderAt, size int64) ([]byte, error) {
	buf := make([]byte, min(size, sampleSize))
	n, err := r.ReadAt(buf, 0)
	if n == len(buf) {
		return buf, nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return nil, fmt.Errorf("reading the file: %w", err)
}

// newCSVReader sets up the decoding pipeline after the byte order mark.
func newCSVReader(r io.ReaderAt, size int64, enc detected, sn sniffed) *csvReader {
	c := &csvReader{
		info:   Info{Format: FormatCSV, Encoding: enc.name, Delimiter: rune(sn.delim)},
		input:  &countingReader{r: io.NewSectionReader(r, enc.skip, size-enc.skip)},
		size:   size,
		parser: csvParser{delim: sn.delim},
	}
	c.input.n.Store(enc.skip)
	var src io.Reader = c.input
	mode := modeAuto
	switch {
	case enc.name == EncodingUTF16LE || enc.name == EncodingUTF16BE:
		src, mode = transform.NewReader(src, utf16Decoder(enc.name)), modeDecoded
	case enc.forced && enc.name == EncodingWindows1252:
		mode = mode1252
	case enc.forced:
		mode = modeUTF8
	}
	c.lines = lineSource{br: bufio.NewReaderSize(src, csvBufferSize), term: sn.term, mode: mode}
	return c
}

// readHeader skips Excel's "sep=" line and reads the first non-blank
// record as the header.
func (c *csvReader) readHeader(sepLine bool) error {
	if sepLine {
		if _, err := c.lines.next(); err != nil {
			return err
		}
	}
	header, err := readHeader(c.Next)
	c.header = header
	return err
}

// Info says what was detected.
func (c *csvReader) Info() Info { return c.info }

// Header returns the trimmed header cells.
func (c *csvReader) Header() []string { return c.header }

// Progress returns the bytes read and the file size.
func (c *csvReader) Progress() (done, total int64) { return c.input.n.Load(), c.size }

// Close releases nothing: the caller owns the io.ReaderAt.
func (c *csvReader) Close() error { return nil }

// Next returns the next non-blank record.
func (c *csvReader) Next() (Row, error) {
	for {
		row, empty, err := c.record()
		if err != nil || !empty {
			return row, err
		}
	}
}

// record reads one record, which may span several lines.
func (c *csvReader) record() (row Row, empty bool, err error) {
	first, err := c.lines.next()
	if err != nil {
		return Row{}, false, err
	}
	if first.tooLong {
		return Row{}, false, &RowError{Line: first.num, Err: ErrLineTooLong}
	}
	if separatorsOnly(first.text) {
		return Row{}, true, nil
	}
	c.parser.reset()
	more, err := c.parser.parseLine(first.text)
	if more {
		err = c.continueRecord(first)
	}
	if err != nil {
		return Row{}, false, c.rowError(first.num, err)
	}
	if c.parser.empty() {
		return Row{}, true, nil
	}
	return Row{Line: first.num, Cells: c.parser.cells()}, false, nil
}

// continueRecord reads the next lines of a record whose quoted field spans
// line breaks. When the field turns out never to be closed, the lines after
// the record's first line are put back to be read again as records of
// their own, and the parse error is returned.
func (c *csvReader) continueRecord(first line) error {
	c.pending = append(c.pending[:0], first.clone())
	for {
		l, err := c.lines.next()
		if err == io.EOF {
			return c.giveUp(ErrUnterminatedQuote)
		}
		if err != nil {
			return err
		}
		c.pending = append(c.pending, l.clone())
		if l.tooLong || len(c.parser.rec)+len(l.text) > maxLineBytes {
			return c.giveUp(ErrUnterminatedQuote)
		}
		more, err := c.parser.parseLine(l.text)
		if err != nil {
			return c.giveUp(err)
		}
		if !more {
			return nil
		}
	}
}

// giveUp puts back the lines after the first of the pending record.
func (c *csvReader) giveUp(err error) error {
	c.lines.unread(c.pending[1:])
	return err
}

// rowError turns a parse error into a *RowError; read errors stay fatal.
func (c *csvReader) rowError(num int64, err error) error {
	var e Error
	if !errors.As(err, &e) {
		return err
	}
	return &RowError{Line: num, Column: c.parser.col, Err: err}
}

// separatorsOnly reports whether a line holds nothing but white space and
// the usual delimiters (",;|" and tab): such a line is blank whatever the
// file's delimiter.
func separatorsOnly(l []byte) bool {
	for _, c := range l {
		switch c {
		case ' ', '\t', ',', ';', '|':
		default:
			return false
		}
	}
	return true
}
