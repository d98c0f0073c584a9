package gctune

import (
	"runtime/debug"
	"testing"
)

func TestApplyUsesPercentUnlessGOGCIsSet(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	debug.SetGCPercent(100)
	if got := Apply(func(string) string { return "" }); got != Percent {
		t.Fatalf("Apply without GOGC = %d, want %d", got, Percent)
	}
	if got := debug.SetGCPercent(100); got != Percent {
		t.Fatalf("collector target after Apply = %d, want %d", got, Percent)
	}
	debug.SetGCPercent(150) // as the runtime would from GOGC=150
	if got := Apply(func(k string) string {
		if k == "GOGC" {
			return "150"
		}
		return ""
	}); got != 150 {
		t.Fatalf("Apply with GOGC=150 = %d, want 150 (left alone)", got)
	}
	if got := debug.SetGCPercent(100); got != 150 {
		t.Fatalf("collector target with GOGC set = %d, want 150", got)
	}
}
