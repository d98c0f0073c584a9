package web

import "fmt"

// svgChart is a bar chart drawn on the server as SVG: no script, readable
// by screen readers through its title and the table of values beside it.
type svgChart struct {
	Title         string
	Width, Height int
	Bars          []svgBar
	// Horizontal bars carry their label left of the bar; a histogram's
	// labels sit under its columns.
	Horizontal bool
	Empty      bool
}

// svgBar is one bar with its label and value, placed in the view box.
type svgBar struct {
	Label, Value string
	// Short is the label as drawn.
	Short      string
	X, Y, W, H int
	LabelX     int
	LabelY     int
	ValueX     int
	ValueY     int
}

const (
	chartWidth  = 520
	barHeight   = 22
	barGap      = 8
	labelWidth  = 210
	valueMargin = 50
	// labelRunes is the longest label drawn in full; longer ones are cut
	// with an ellipsis (the full text is in the bar's title and the table).
	labelRunes = 26
)

// horizontalBars draws one horizontal bar per label, longest for the
// largest value.
func horizontalBars(p *page, title string, labels []string, values []int64) svgChart {
	c := svgChart{Title: title, Width: chartWidth, Horizontal: true, Empty: len(values) == 0}
	top := maxOf(values)
	span := chartWidth - labelWidth - valueMargin
	for i, v := range values {
		y := i * (barHeight + barGap)
		w := 0
		if top > 0 {
			w = int(float64(span) * float64(v) / float64(top))
		}
		c.Bars = append(c.Bars, svgBar{Label: labels[i], Short: shorten(labels[i]), Value: p.L.Number(v), X: labelWidth, Y: y, W: max(w, 1), H: barHeight,
			LabelX: labelWidth - 8, LabelY: y + barHeight*2/3, ValueX: labelWidth + max(w, 1) + 6, ValueY: y + barHeight*2/3})
	}
	c.Height = max(len(values)*(barHeight+barGap), barHeight)
	return c
}

// histogram draws one column per bucket.
func histogram(p *page, title string, labels []string, values []int64) svgChart {
	const plot = 160
	c := svgChart{Title: title, Width: chartWidth, Height: plot + 40, Empty: len(values) == 0}
	top := maxOf(values)
	colW := chartWidth / max(len(values), 1)
	for i, v := range values {
		h := 0
		if top > 0 {
			h = int(float64(plot) * float64(v) / float64(top))
		}
		x := i * colW
		c.Bars = append(c.Bars, svgBar{Label: labels[i], Short: shorten(labels[i]), Value: p.L.Number(v), X: x + 4, Y: plot - h + 16, W: colW - 8, H: max(h, 1),
			LabelX: x + colW/2, LabelY: plot + 34, ValueX: x + colW/2, ValueY: plot - h + 12})
	}
	return c
}

// shorten cuts a label to labelRunes runes.
func shorten(label string) string {
	r := []rune(label)
	if len(r) <= labelRunes {
		return label
	}
	return string(r[:labelRunes-1]) + "…"
}

func maxOf(values []int64) int64 {
	var top int64
	for _, v := range values {
		top = max(top, v)
	}
	return top
}

// ViewBox is the chart's SVG view box.
func (c svgChart) ViewBox() string { return fmt.Sprintf("0 0 %d %d", c.Width, c.Height) }
