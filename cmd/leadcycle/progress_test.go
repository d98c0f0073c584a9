package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/leadcycle/leadcycle"
)

func TestProgressLine(t *testing.T) {
	job := &leadcycle.ImportJob{Size: 1000, BytesDone: 250, ImportCounts: leadcycle.ImportCounts{Rows: 1234567, Failed: 3}}
	got := progressLine(job, 10*time.Second, 1234567)
	for _, want := range []string{"[######··················]", " 25%", "1,234,567 rows", "123,456 rows/s", "3 failed", "ETA 0:30"} {
		if !strings.Contains(got, want) {
			t.Errorf("progress line %q lacks %q", got, want)
		}
	}
	job.BytesDone = 1000
	if got := progressLine(job, time.Second, 10); !strings.Contains(got, "100%") || !strings.Contains(got, "ETA --:--") {
		t.Errorf("finished line = %q", got)
	}
	// Off a terminal the bar prints whole lines, at most every few seconds.
	var b bytes.Buffer
	bar := newProgressBar(&b, &leadcycle.ImportJob{}, false)
	bar.update(job)
	bar.update(job)
	bar.done()
	if n := strings.Count(b.String(), "\n"); n != 1 || strings.Contains(b.String(), "\r") {
		t.Errorf("non-terminal output = %q", b.String())
	}
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", -12345: "-12,345"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}
