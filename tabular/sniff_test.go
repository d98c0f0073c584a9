package tabular

import (
	"encoding/binary"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestDetectEncoding(t *testing.T) {
	edge := []byte(strings.Repeat("a", 99) + "é") // cut inside é when prefix
	tests := []struct {
		name   string
		sample []byte
		prefix bool
		forced string
		want   detected
		err    error
	}{
		{"ASCII", []byte("a,b\n"), false, "", detected{name: EncodingUTF8}, nil},
		{"UTF-8 BOM", []byte("\xEF\xBB\xBFa,b"), false, "", detected{name: EncodingUTF8, skip: 3}, nil},
		{"UTF-16LE BOM", []byte("\xFF\xFEa\x00"), false, "", detected{name: EncodingUTF16LE, skip: 2}, nil},
		{"UTF-16BE BOM", []byte("\xFE\xFF\x00a"), false, "", detected{name: EncodingUTF16BE, skip: 2}, nil},
		{"UTF-16LE heuristic", utf16Bytes("name,city\r\n", binary.LittleEndian, false), false, "", detected{name: EncodingUTF16LE}, nil},
		{"UTF-16BE heuristic", utf16Bytes("name,city\r\n", binary.BigEndian, false), false, "", detected{name: EncodingUTF16BE}, nil},
		{"Windows-1252", []byte("Ca\xF1a,\x80\n"), false, "", detected{name: EncodingWindows1252}, nil},
		{"UTF-8 cut at the sample edge", edge[:len(edge)-1], true, "", detected{name: EncodingUTF8}, nil},
		{"truncated UTF-8 at the real end is invalid", edge[:len(edge)-1], false, "", detected{name: EncodingWindows1252}, nil},
		{"NUL bytes", []byte("a,b\n\x00\x00\x01c"), false, "", detected{}, ErrNotTable},
		{"PNG", pngBytes, false, "", detected{}, ErrNotTable},
		{"forced latin1", []byte("a"), false, "Latin1", detected{name: EncodingWindows1252, forced: true}, nil},
		{"forced UTF-8 skips its BOM", []byte("\xEF\xBB\xBFa"), false, "utf-8", detected{name: EncodingUTF8, skip: 3, forced: true}, nil},
		{"forced UTF-16LE keeps a foreign BOM", []byte("\xEF\xBB\xBFa"), false, "utf-16le", detected{name: EncodingUTF16LE, forced: true}, nil},
		{"forced UTF-8 on binary", []byte("\x00\x00"), false, "utf-8", detected{}, ErrNotTable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := detectEncoding(tt.sample, tt.prefix, tt.forced)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Errorf("error = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("detectEncoding = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestSniff(t *testing.T) {
	tests := []struct {
		name   string
		text   string
		forced rune
		want   sniffed
	}{
		{"comma", "a,b,c\n1,2,3\n", 0, sniffed{delim: ',', term: '\n'}},
		{"semicolon beats decimal commas", "a;b\n1,5;2,5\n3,5;4\n", 0, sniffed{delim: ';', term: '\n'}},
		{"tab", "a\tb\n1\t2\n", 0, sniffed{delim: '\t', term: '\n'}},
		{"pipe", "a|b|c\n1|2|3\n", 0, sniffed{delim: '|', term: '\n'}},
		{"delimiters inside quotes do not count", "a,b\n\"x;y;z\",1\n\"p;q;r\",2\n", 0, sniffed{delim: ',', term: '\n'}},
		{"quoted newlines", "a;b\n\"1\n2,3,4\";5\n6;7\n", 0, sniffed{delim: ';', term: '\n'}},
		{"semicolons in a comma file's notes", "name,notes\nAna,x;y\nLuis,z\n", 0, sniffed{delim: ',', term: '\n'}},
		{"header fits on a tie", "a;b;c\n1,5;2,5;3,5\n", 0, sniffed{delim: ';', term: '\n'}},
		{"blank and separator lines are ignored", "\n;;;\na;b\n\n1;2\n", 0, sniffed{delim: ';', term: '\n'}},
		{"single column defaults to comma", "email\nana@example.com\n", 0, sniffed{delim: ',', term: '\n'}},
		{"sep line", "sep=|\na,b\n", 0, sniffed{delim: '|', term: '\n', sepLine: true}},
		{"quoted sep line with CRLF", "\"sep=;\"\r\na,b\r\n", 0, sniffed{delim: ';', term: '\n', sepLine: true}},
		{"sep line with a tab", "SEP=\t\na,b\n", 0, sniffed{delim: '\t', term: '\n', sepLine: true}},
		{"not a sep line", "sep=;,\n1,2\n", 0, sniffed{delim: ',', term: '\n'}},
		{"forced", "a,b\n", ';', sniffed{delim: ';', term: '\n'}},
		{"CR line ends", "a;b\r1;2\r", 0, sniffed{delim: ';', term: '\r'}},
		{"BOM", "\uFEFFa;b\n", 0, sniffed{delim: ';', term: '\n'}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := sniff(tt.text, tt.forced, false)
			if err != nil || got != tt.want {
				t.Errorf("sniff = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

// TestSniffIgnoresCutRecord checks that the record cut by the end of the
// sample does not count.
func TestSniffIgnoresCutRecord(t *testing.T) {
	text := "a;b\n1;2\n3;4\nx,y,z,w,v,u,t"
	if got := bestDelimiter(text, '\n', true); got != ';' {
		t.Errorf("bestDelimiter = %q, want ';'", got)
	}
}

func TestParseLine(t *testing.T) {
	tests := []struct {
		line string
		want []string
		more bool
		err  error
	}{
		{"a,b,c", cells("a", "b", "c"), false, nil},
		{"", cells(""), false, nil},
		{",", cells("", ""), false, nil},
		{`"a",`, cells("a", ""), false, nil},
		{`"a" , "b"`, cells("a", "b"), false, nil},
		{` "a,b" ,c`, cells("a,b", "c"), false, nil},
		{`"""",x`, cells(`"`, "x"), false, nil},
		{`a"b,c`, cells(`a"b`, "c"), false, nil},
		{`"a"b"c",d`, cells(`a"b"c`, "d"), false, nil},
		{`"open`, nil, true, nil},
		{`"a"b,c`, nil, false, ErrStrayQuote},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			p := csvParser{delim: ','}
			more, err := p.parseLine([]byte(tt.line))
			if more != tt.more || !errors.Is(err, tt.err) {
				t.Fatalf("parseLine = %v, %v; want %v, %v", more, err, tt.more, tt.err)
			}
			if tt.want != nil && !reflect.DeepEqual(p.cells(), tt.want) {
				t.Errorf("cells = %q, want %q", p.cells(), tt.want)
			}
		})
	}
}
