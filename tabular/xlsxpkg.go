package tabular

import (
	"archive/zip"
	"bufio"
	"compress/flate"
	"encoding/xml"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"path"
	"strings"
	"sync/atomic"
)

// Limits on the uncompressed size of XLSX parts.
const (
	maxSheetBytes   = 4 << 30   // a worksheet, read as a stream
	maxStringsBytes = 1 << 30   // the shared strings, held in memory
	maxMetaBytes    = 256 << 20 // the workbook, its relationships and styles
)

// xlsxLimits are the part size limits in force (smaller in tests).
type xlsxLimits struct{ sheet, strings, meta int64 }

// defaultLimits returns the limits of Open.
func defaultLimits() xlsxLimits {
	return xlsxLimits{sheet: maxSheetBytes, strings: maxStringsBytes, meta: maxMetaBytes}
}

// xlsxPackage is an opened XLSX zip archive.
type xlsxPackage struct {
	files  map[string]*zip.File // by lower-case name with forward slashes
	limits xlsxLimits
}

// openPackage opens the zip archive and indexes its parts.
func openPackage(r io.ReaderAt, size int64, limits xlsxLimits) (*xlsxPackage, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("%w: not a valid zip archive (%v)", ErrCorrupt, err)
	}
	p := &xlsxPackage{files: make(map[string]*zip.File, len(zr.File)), limits: limits}
	for _, f := range zr.File {
		p.files[partKey(f.Name)] = f
	}
	return p, nil
}

// partKey normalises a part name for lookup: zip tools disagree on case
// and on the path separator.
func partKey(name string) string {
	return strings.ToLower(strings.TrimPrefix(strings.ReplaceAll(name, `\`, "/"), "/"))
}

// file returns the part with that name, or nil.
func (p *xlsxPackage) file(name string) *zip.File { return p.files[partKey(name)] }

// open opens a part for streaming, refusing it beyond limit bytes.
func (p *xlsxPackage) open(name string, limit int64) (*partReader, error) {
	f := p.file(name)
	if f == nil {
		return nil, fmt.Errorf("%w: the part %s is missing", ErrCorrupt, name)
	}
	if f.UncompressedSize64 > uint64(limit) {
		return nil, tooLarge(name, limit)
	}
	raw, err := f.OpenRaw()
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, name, err)
	}
	pr := &partReader{name: name, raw: &countingReader{r: raw}, limit: limit, f: f, crc: crc32.NewIEEE()}
	switch f.Method {
	case zip.Store:
		pr.data = pr.raw
	case zip.Deflate:
		pr.data = flate.NewReader(pr.raw)
	default:
		return nil, fmt.Errorf("%w: %s uses an unsupported compression method (%d)", ErrCorrupt, name, f.Method)
	}
	return pr, nil
}

// decode parses a whole part with fn, refusing it beyond limit bytes.
func (p *xlsxPackage) decode(name string, limit int64, fn func(*xml.Decoder) error) error {
	pr, err := p.open(name, limit)
	if err != nil {
		return err
	}
	defer pr.Close()
	if err := fn(newXMLDecoder(pr)); err != nil {
		return xmlError(name, err)
	}
	return nil
}

// newXMLDecoder returns a decoder over r with a large buffer.
func newXMLDecoder(r io.Reader) *xml.Decoder {
	return xml.NewDecoder(bufio.NewReaderSize(r, 64<<10))
}

// xmlError wraps an error met while parsing a part, unless it already says
// what is wrong.
func xmlError(name string, err error) error {
	if errors.Is(err, ErrCorrupt) || errors.Is(err, ErrTooLarge) {
		return err
	}
	return fmt.Errorf("%w: %s: %v", ErrCorrupt, name, err)
}

// tooLarge is the error for a part beyond its limit.
func tooLarge(name string, limit int64) error {
	return fmt.Errorf("%w: %s is larger than %d MiB uncompressed", ErrTooLarge, name, limit>>20)
}

// partReader decompresses a part, checking its size and checksum, and
// counts the compressed bytes read, for Progress. The declared sizes are
// not trusted: the data is cut at the declared size and at the limit.
type partReader struct {
	name  string
	f     *zip.File
	raw   *countingReader // compressed bytes
	data  io.Reader       // decompressed bytes
	crc   hash.Hash32
	n     int64 // decompressed bytes so far
	limit int64
	done  atomic.Bool // the whole part was read
}

// Read decompresses.
func (p *partReader) Read(b []byte) (int, error) {
	n, err := p.data.Read(b)
	p.n += int64(n)
	p.crc.Write(b[:n])
	switch {
	case p.n > p.limit:
		return 0, tooLarge(p.name, p.limit)
	case uint64(p.n) > p.f.UncompressedSize64:
		return 0, fmt.Errorf("%w: %s holds more data than its zip entry declares", ErrCorrupt, p.name)
	case err == io.EOF:
		return n, p.finish()
	case err != nil:
		return n, fmt.Errorf("%w: %s: %v", ErrCorrupt, p.name, err)
	}
	return n, nil
}

// finish checks the size and checksum at the end of the part.
func (p *partReader) finish() error {
	if uint64(p.n) != p.f.UncompressedSize64 {
		return fmt.Errorf("%w: %s is shorter than its zip entry declares", ErrCorrupt, p.name)
	}
	if p.f.CRC32 != 0 && p.crc.Sum32() != p.f.CRC32 { // 0: not recorded, as archive/zip allows
		return fmt.Errorf("%w: %s fails its checksum", ErrCorrupt, p.name)
	}
	p.done.Store(true)
	return io.EOF
}

// progress returns the fraction (0 to 1) of the compressed part read.
func (p *partReader) progress() float64 {
	if p.done.Load() || p.f.CompressedSize64 == 0 {
		return 1
	}
	return min(1, float64(p.raw.n.Load())/float64(p.f.CompressedSize64))
}

// Close releases the decompressor.
func (p *partReader) Close() error {
	if c, ok := p.data.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// relationship is one entry of a .rels part.
type relationship struct {
	ID     string `xml:"Id,attr"`
	Type   string `xml:"Type,attr"`
	Target string `xml:"Target,attr"`
	Mode   string `xml:"TargetMode,attr"`
}

// readRels reads the relationships of the part named source ("" for the
// package itself); a missing .rels part has none.
func (p *xlsxPackage) readRels(source string) ([]relationship, error) {
	name := "_rels/.rels"
	if source != "" {
		name = path.Join(path.Dir(source), "_rels", path.Base(source)+".rels")
	}
	if p.file(name) == nil {
		return nil, nil
	}
	var doc struct {
		Rels []relationship `xml:"Relationship"`
	}
	err := p.decode(name, p.limits.meta, func(d *xml.Decoder) error { return d.Decode(&doc) })
	for i, r := range doc.Rels {
		doc.Rels[i].Target = resolveTarget(source, r.Target)
	}
	return doc.Rels, err
}

// resolveTarget resolves a relationship target against its source part:
// "/xl/x.xml" is absolute, "worksheets/sheet1.xml" is relative.
func resolveTarget(source, target string) string {
	target = strings.ReplaceAll(target, `\`, "/")
	if strings.HasPrefix(target, "/") {
		return path.Clean(target[1:])
	}
	return path.Clean(path.Join(path.Dir(source), target))
}

// relOfType returns the first relationship whose type ends with suffix.
func relOfType(rels []relationship, suffix string) (relationship, bool) {
	for _, r := range rels {
		if strings.HasSuffix(r.Type, suffix) && !strings.EqualFold(r.Mode, "External") {
			return r, true
		}
	}
	return relationship{}, false
}
