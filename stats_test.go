package leadcycle_test

import (
	"slices"
	"testing"

	"github.com/leadcycle/leadcycle"
)

func TestScoreDistribution(t *testing.T) {
	for _, c := range []struct{ top, width int64 }{{-5, 1}, {0, 1}, {9, 1}, {10, 1}, {11, 2}, {100, 10}, {101, 11}, {135, 14}} {
		if got := leadcycle.NewScoreDistribution(c.top).Width; got != c.width {
			t.Errorf("width for a top of %d = %d, want %d", c.top, got, c.width)
		}
	}
	d := leadcycle.NewScoreDistribution(100)
	for _, score := range []int64{-1, 0, 9, 10, 95, 99, 100, 250} {
		d.Add(score, 1)
	}
	d.Add(50, 3)
	if want := []int64{2, 1, 0, 0, 0, 3, 0, 0, 0, 4}; !slices.Equal(d.Buckets, want) || d.Negative != 1 || d.Total != 11 {
		t.Errorf("buckets %v negative %d total %d, want %v, 1, 11", d.Buckets, d.Negative, d.Total, want)
	}
}
