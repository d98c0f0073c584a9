package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/leadcycle/leadcycle"
)

// progressBar draws an import's progress on a terminal: rows, rows/s, the
// share of the file read and the time left. On anything else it prints a
// line every few seconds instead of redrawing.
type progressBar struct {
	w        io.Writer
	tty      bool
	quiet    bool
	start    time.Time
	startRow int64
	last     time.Time
	mu       sync.Mutex
	drawn    bool
}

func newProgressBar(w io.Writer, job *leadcycle.ImportJob, quiet bool) *progressBar {
	tty := false
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil {
			tty = st.Mode()&os.ModeCharDevice != 0
		}
	}
	return &progressBar{w: w, tty: tty, quiet: quiet, start: time.Now(), startRow: job.Rows}
}

func (p *progressBar) elapsed() time.Duration { return time.Since(p.start) }

// update is the runner's progress callback, called after every batch.
func (p *progressBar) update(job *leadcycle.ImportJob) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	every := 5 * time.Second
	if p.tty {
		every = 100 * time.Millisecond
	}
	if p.quiet || now.Sub(p.last) < every {
		return
	}
	p.last = now
	line := progressLine(job, now.Sub(p.start), job.Rows-p.startRow)
	if p.tty {
		fmt.Fprintf(p.w, "\r%s\x1b[K", line)
		p.drawn = true
	} else {
		fmt.Fprintln(p.w, line)
	}
}

// done ends the bar's line.
func (p *progressBar) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprintln(p.w)
	}
}

// progressLine renders "[#####·····]  42%  120,000 rows  48,000 rows/s  ETA 0:03".
func progressLine(job *leadcycle.ImportJob, took time.Duration, rows int64) string {
	frac := 0.0
	if job.Size > 0 {
		frac = min(1, float64(job.BytesDone)/float64(job.Size))
	}
	const width = 24
	filled := int(frac * width)
	bar := strings.Repeat("#", filled) + strings.Repeat("·", width-filled)
	rate := float64(rows) / max(took.Seconds(), 1e-3)
	eta := "--:--"
	if frac > 0 && frac < 1 {
		left := time.Duration(float64(took) * (1 - frac) / frac).Round(time.Second)
		eta = fmt.Sprintf("%d:%02d", int(left.Minutes()), int(left.Seconds())%60)
	}
	return fmt.Sprintf("[%s] %3.0f%%  %s rows  %s rows/s  %d failed  ETA %s", bar, frac*100, thousands(job.Rows), thousands(int64(rate)), job.Failed, eta)
}

// thousands writes n with comma thousands separators.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
