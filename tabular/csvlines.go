package tabular

import (
	"bufio"
	"bytes"
	"io"
	"sync/atomic"
	"unicode/utf8"
)

// maxLineBytes bounds a physical line and a record, so that a file without
// line breaks, or with a quote that is never closed, cannot use unbounded
// memory.
const maxLineBytes = 4 << 20

// utf8BOM is the UTF-8 encoding of U+FEFF.
const utf8BOM = "\xEF\xBB\xBF"

// line is one physical line of a CSV file, decoded to UTF-8.
type line struct {
	text    []byte
	num     int64 // 1-based line number
	tooLong bool  // the line was longer than maxLineBytes and is not kept
}

// clone returns a copy of l that does not share the reader's buffers.
func (l line) clone() line {
	l.text = bytes.Clone(l.text)
	return l
}

// lineMode says how the bytes of a line are decoded.
type lineMode int

const (
	modeAuto    lineMode = iota // UTF-8, or Windows-1252 for a line that is not valid UTF-8
	modeUTF8                    // forced UTF-8: invalid bytes become U+FFFD
	mode1252                    // forced Windows-1252
	modeDecoded                 // decoded to UTF-8 by the underlying reader (UTF-16)
)

// lineSource reads the physical lines of a CSV file and lets the parser
// put lines back to read them again.
type lineSource struct {
	br      *bufio.Reader
	term    byte
	mode    lineMode
	num     int64  // number of the last line read from br
	replay  []line // lines put back, to be returned before reading br
	long    []byte // a line longer than br's buffer
	decoded []byte // scratch for decoding
	nulFree []byte // scratch for removing NULs
}

// next returns the next line, or io.EOF.
func (s *lineSource) next() (line, error) {
	if len(s.replay) > 0 {
		l := s.replay[0]
		s.replay = s.replay[1:]
		return l, nil
	}
	raw, tooLong, err := s.readRaw()
	if err != nil {
		return line{}, err
	}
	s.num++
	if tooLong {
		return line{num: s.num, tooLong: true}, nil
	}
	return line{text: s.clean(raw), num: s.num}, nil
}

// unread puts lines back, to be returned by next before any other.
func (s *lineSource) unread(lines []line) {
	if len(lines) == 0 {
		return
	}
	s.replay = append(append([]line(nil), lines...), s.replay...)
}

// readRaw reads the bytes of a line without its terminator.
func (s *lineSource) readRaw() ([]byte, bool, error) {
	b, err := s.br.ReadSlice(s.term)
	switch {
	case err == nil:
		return s.trim(b), false, nil
	case err == bufio.ErrBufferFull:
		return s.readLong(b)
	case err == io.EOF && len(b) > 0:
		return s.trim(b), false, nil
	}
	return nil, false, err
}

// readLong reads the rest of a line longer than the buffer, dropping it
// (tooLong) past maxLineBytes.
func (s *lineSource) readLong(b []byte) ([]byte, bool, error) {
	s.long = append(s.long[:0], b...)
	tooLong := false
	for {
		b, err := s.br.ReadSlice(s.term)
		if !tooLong && len(s.long)+len(b) > maxLineBytes {
			tooLong, s.long = true, s.long[:0]
		}
		if !tooLong {
			s.long = append(s.long, b...)
		}
		switch err {
		case nil, io.EOF:
			return s.trim(s.long), tooLong, nil
		case bufio.ErrBufferFull:
		default:
			return nil, false, err
		}
	}
}

// trim removes the line terminator, and a CR before an LF.
func (s *lineSource) trim(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == s.term {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}

// clean decodes a line, strips byte order marks at the start of the file
// and removes NUL bytes.
func (s *lineSource) clean(b []byte) []byte {
	b = s.decode(b)
	if s.num == 1 {
		for bytes.HasPrefix(b, []byte(utf8BOM)) {
			b = b[len(utf8BOM):]
		}
	}
	if bytes.IndexByte(b, 0) >= 0 {
		s.nulFree = s.nulFree[:0]
		for _, c := range b {
			if c != 0 {
				s.nulFree = append(s.nulFree, c)
			}
		}
		b = s.nulFree
	}
	return b
}

// decode returns the line as UTF-8, in the decoded scratch buffer when it
// had to be converted.
func (s *lineSource) decode(b []byte) []byte {
	switch {
	case s.mode == modeDecoded || isASCII(b):
		return b
	case s.mode == mode1252 || s.mode == modeAuto && !utf8.Valid(b):
		s.decoded = append1252(s.decoded[:0], b)
		return s.decoded
	case s.mode == modeUTF8 && !utf8.Valid(b):
		s.decoded = append(s.decoded[:0], bytes.ToValidUTF8(b, []byte("\uFFFD"))...)
		return s.decoded
	}
	return b
}

// countingReader counts the bytes read through it, for Progress.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

// Read reads from the underlying reader and counts.
func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}
