package gen

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestLn(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 100_000 {
		x := 1 - r.Float64() // (0, 1], as expDelay uses it
		if i%2 == 1 {
			x = math.Ldexp(x, r.IntN(200)-100)
		}
		got, want := ln(x), math.Log(x)
		if math.Abs(got-want) > 4e-16*math.Max(1, math.Abs(want)) {
			t.Fatalf("ln(%g) = %.17g, math.Log = %.17g", x, got, want)
		}
	}
	if ln(1) != 0 {
		t.Errorf("ln(1) = %g", ln(1))
	}
}

func TestPow75(t *testing.T) {
	for _, q := range []float64{0, 1e-9, 0.001, 0.25, 0.5, 0.999999, 1} {
		if got, want := pow75(q), math.Pow(q, 0.75); math.Abs(got-want) > 1e-15 {
			t.Errorf("pow75(%g) = %g, want %g", q, got, want)
		}
	}
}
