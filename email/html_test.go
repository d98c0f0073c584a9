package email

import "testing"

func TestRewriteLinks(t *testing.T) {
	const unsub = "https://u.example/off"
	rw := func(u string) (string, bool) {
		if u == unsub || !isTrackable(u) {
			return "", false
		}
		return "T(" + u + ")", true
	}
	tests := []struct{ name, in, want string }{
		{"double quotes", `<a href="https://a.example/x">x</a>`, `<a href="T(https://a.example/x)">x</a>`},
		{"single quotes", `<a class='b' href='https://a.example/x?q="1"'>x</a>`, `<a class='b' href="T(https://a.example/x?q=&#34;1&#34;)">x</a>`},
		{"no quotes", `<a href=https://a.example/x>x</a>`, `<a href="T(https://a.example/x)">x</a>`},
		{"uppercase", `<A HREF = "HTTPS://A.example/X" TARGET=_blank>x</A>`, `<A HREF = "T(HTTPS://A.example/X)" TARGET=_blank>x</A>`},
		{"entities decoded then re-escaped", `<a href="https://a.example/?a=1&amp;b=2">x</a>`, `<a href="T(https://a.example/?a=1&amp;b=2)">x</a>`},
		{"spaces trimmed", `<a href="  https://a.example/ ">x</a>`, `<a href="T(https://a.example/)">x</a>`},
		{"mailto untouched", `<a href="mailto:a@example.com">x</a>`, `<a href="mailto:a@example.com">x</a>`},
		{"tel untouched", `<a href="tel:+34600000000">x</a>`, `<a href="tel:+34600000000">x</a>`},
		{"anchor untouched", `<a href="#top">x</a>`, `<a href="#top">x</a>`},
		{"relative untouched", `<a href="/path">x</a>`, `<a href="/path">x</a>`},
		{"unsubscribe untouched", `<a href="https://u.example/off">x</a>`, `<a href="https://u.example/off">x</a>`},
		{"not an a element", `<abbr href="https://a.example/">x</abbr><link href="https://a.example/s.css"><img src="https://a.example/i.png">`, `<abbr href="https://a.example/">x</abbr><link href="https://a.example/s.css"><img src="https://a.example/i.png">`},
		{"data-href is not href", `<a data-href="https://a.example/" href="https://b.example/">x</a>`, `<a data-href="https://a.example/" href="T(https://b.example/)">x</a>`},
		{"gt inside quoted value", `<a title="a > b" href="https://a.example/">x</a>`, `<a title="a > b" href="T(https://a.example/)">x</a>`},
		{"first href wins", `<a href="https://a.example/" href="https://b.example/">x</a>`, `<a href="T(https://a.example/)" href="https://b.example/">x</a>`},
		{"comment skipped", `<!-- <a href="https://a.example/"> --><a href="https://b.example/">`, `<!-- <a href="https://a.example/"> --><a href="T(https://b.example/)">`},
		{"script skipped", `<script>var s='<a href="https://a.example/">'</script>`, `<script>var s='<a href="https://a.example/">'</script>`},
		{"self-closing and newlines", "<a\nhref=\"https://a.example/\"\n/>", "<a\nhref=\"T(https://a.example/)\"\n/>"},
		{"unterminated quote", `<a href="https://a.example/`, `<a href="T(https://a.example/)"`},
		{"lone less-than", `1 < 2 <a href="https://a.example/">`, `1 < 2 <a href="T(https://a.example/)">`},
		{"several links", `<a href="https://a.example/">a</a> <a href='https://b.example/'>b</a>`, `<a href="T(https://a.example/)">a</a> <a href="T(https://b.example/)">b</a>`},
		{"host required", `<a href="https:///nohost">x</a>`, `<a href="https:///nohost">x</a>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RewriteLinks(tt.in, rw); got != tt.want {
				t.Fatalf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestPixelPlacement(t *testing.T) {
	const px = `<img src="https://p.example/o" width="1" height="1" alt="" style="display:block;border:0">`
	tests := []struct{ in, want string }{
		{"<body>x</body>", "<body>x" + px + "</body>"},
		{"<BODY>x</BODY ></HTML>", "<BODY>x" + px + "</BODY ></HTML>"},
		{"<p>x</p>", "<p>x</p>" + px},
		{"İstanbul</body>", "İstanbul" + px + "</body>"},
	}
	for _, tt := range tests {
		c, err := Parse(Template{HTML: tt.in, Text: "x"})
		if err != nil {
			t.Fatal(err)
		}
		r, err := c.Render(nil, Links{OpenPixelURL: "https://p.example/o"})
		if err != nil {
			t.Fatal(err)
		}
		if r.HTML != tt.want {
			t.Errorf("%s: got %s", tt.in, r.HTML)
		}
	}
}
