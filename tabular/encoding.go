package tabular

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf8"

	xencoding "golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
)

const (
	sampleSize  = 64 << 10 // bytes examined to detect the encoding and delimiter
	utf16Window = 1 << 10  // bytes examined to detect UTF-16 without a BOM
	binWindow   = 8 << 10  // bytes examined for NULs (as git does)
)

// encodingAliases maps accepted Options.Encoding spellings to encoding names.
var encodingAliases = map[string]string{
	"utf-8": EncodingUTF8, "utf8": EncodingUTF8, "utf-8-sig": EncodingUTF8,
	"utf-16le": EncodingUTF16LE, "utf16le": EncodingUTF16LE, "utf-16": EncodingUTF16LE,
	"ucs-2": EncodingUTF16LE, "unicode": EncodingUTF16LE,
	"utf-16be": EncodingUTF16BE, "utf16be": EncodingUTF16BE,
	"windows-1252": EncodingWindows1252, "windows1252": EncodingWindows1252,
	"cp1252": EncodingWindows1252, "latin1": EncodingWindows1252,
	"latin-1": EncodingWindows1252, "iso-8859-1": EncodingWindows1252,
	"iso-8859-15": EncodingWindows1252, "ansi": EncodingWindows1252,
}

// detected is the outcome of encoding detection.
type detected struct {
	name   string // one of the Encoding constants
	skip   int64  // bytes of byte order mark to skip
	forced bool   // chosen by Options.Encoding: no per-line fallback
}

// detectEncoding chooses the encoding of a CSV file from its first bytes
// (sample) or the forced name. prefix tells whether the file goes on after
// the sample.
func detectEncoding(sample []byte, prefix bool, forced string) (detected, error) {
	if forced != "" {
		return forcedEncoding(sample, forced)
	}
	if e, ok := bomEncoding(sample); ok {
		return e, nil
	}
	if name := utf16Heuristic(sample); name != "" {
		return detected{name: name}, nil
	}
	if err := checkBinary(sample); err != nil {
		return detected{}, err
	}
	if utf8.Valid(trimPartialRune(sample, prefix)) {
		return detected{name: EncodingUTF8}, nil
	}
	return detected{name: EncodingWindows1252}, nil
}

// forcedEncoding applies Options.Encoding, skipping a matching BOM.
func forcedEncoding(sample []byte, forced string) (detected, error) {
	key := strings.ToLower(strings.TrimSpace(forced))
	name, ok := encodingAliases[key]
	if !ok {
		return detected{}, fmt.Errorf("unknown encoding %q (use utf-8, utf-16le, utf-16be or windows-1252)", forced)
	}
	e := detected{name: name, forced: true}
	if b, ok := bomEncoding(sample); ok && (b.name == name || key == "utf-16" && b.name == EncodingUTF16BE) {
		e.name, e.skip = b.name, b.skip
	}
	if e.name == EncodingUTF8 || e.name == EncodingWindows1252 {
		if err := checkBinary(sample); err != nil {
			return detected{}, err
		}
	}
	return e, nil
}

// bomEncoding recognises a byte order mark.
func bomEncoding(b []byte) (detected, bool) {
	switch {
	case bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}):
		return detected{name: EncodingUTF8, skip: 3}, true
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE}):
		return detected{name: EncodingUTF16LE, skip: 2}, true
	case bytes.HasPrefix(b, []byte{0xFE, 0xFF}):
		return detected{name: EncodingUTF16BE, skip: 2}, true
	}
	return detected{}, false
}

// utf16Heuristic recognises UTF-16 without a BOM: text that is mostly ASCII
// has a NUL in nearly every other byte, and almost none in the others.
func utf16Heuristic(b []byte) string {
	if len(b) > utf16Window {
		b = b[:utf16Window]
	}
	pairs := len(b) / 2
	if pairs < 2 {
		return ""
	}
	var even, odd int
	for i := 0; i+1 < len(b); i += 2 {
		if b[i] == 0 {
			even++
		}
		if b[i+1] == 0 {
			odd++
		}
	}
	switch {
	case odd*10 >= pairs*4 && even*20 <= pairs:
		return EncodingUTF16LE
	case even*10 >= pairs*4 && odd*20 <= pairs:
		return EncodingUTF16BE
	}
	return ""
}

// checkBinary refuses content that cannot be text: NUL bytes, or more than
// 1% of control characters, in the first 8 KiB.
func checkBinary(b []byte) error {
	if len(b) > binWindow {
		b = b[:binWindow]
	}
	controls := 0
	for _, c := range b {
		switch {
		case c == 0:
			return fmt.Errorf("%w: it contains binary data", ErrNotTable)
		case c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != 0x1A, c == 0x7F:
			controls++
		}
	}
	if controls > 8 && controls*100 > len(b) {
		return fmt.Errorf("%w: it contains binary data", ErrNotTable)
	}
	return nil
}

// trimPartialRune drops an incomplete UTF-8 sequence cut at the end of a
// prefix of the file, so that the cut does not look like invalid UTF-8.
func trimPartialRune(b []byte, prefix bool) []byte {
	if !prefix {
		return b
	}
	for i := 1; i <= utf8.UTFMax && i <= len(b); i++ {
		c := b[len(b)-i]
		if c < utf8.RuneSelf {
			return b // ASCII: nothing is cut
		}
		if utf8.RuneStart(c) {
			if !utf8.FullRune(b[len(b)-i:]) {
				return b[:len(b)-i]
			}
			return b
		}
	}
	return b
}

// decodeSample returns the sample as UTF-8 text, for sniffing, decoded as
// the lines of the file will be.
func decodeSample(sample []byte, e detected, prefix bool) string {
	b := sample[e.skip:]
	switch {
	case e.name == EncodingUTF16LE || e.name == EncodingUTF16BE:
		if prefix {
			b = b[:len(b)&^1]
		}
		out, _ := utf16Decoder(e.name).Bytes(b)
		return string(out)
	case isASCII(b):
		return string(b)
	case e.forced && e.name == EncodingWindows1252:
		return string(append1252(nil, b))
	}
	b = trimPartialRune(b, prefix)
	if e.forced || utf8.Valid(b) {
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	return string(append1252(nil, b))
}

// utf16Decoder returns a decoder for UTF-16 text whose BOM was skipped.
func utf16Decoder(name string) *xencoding.Decoder {
	order := unicode.LittleEndian
	if name == EncodingUTF16BE {
		order = unicode.BigEndian
	}
	return unicode.UTF16(order, unicode.IgnoreBOM).NewDecoder()
}

// isASCII reports whether b is 7-bit ASCII.
func isASCII(b []byte) bool {
	for len(b) >= 8 {
		if binary.LittleEndian.Uint64(b)&0x8080808080808080 != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// append1252 appends b decoded as Windows-1252 to dst.
func append1252(dst, b []byte) []byte {
	for _, c := range b {
		if c < utf8.RuneSelf {
			dst = append(dst, c)
			continue
		}
		dst = utf8.AppendRune(dst, charmap.Windows1252.DecodeByte(c))
	}
	return dst
}
