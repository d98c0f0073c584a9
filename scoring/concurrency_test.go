package scoring_test

import (
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/leadcycle/leadcycle/scoring"
)

// TestConcurrentScore scores the fixture from many goroutines at once (run
// with -race); every result must equal the sequential one.
func TestConcurrentScore(t *testing.T) {
	m := compile(t, fixtureModel(), fixtureSchemas())
	cases := fixtureCases()
	want := make([]scoring.Result, len(cases))
	for i, c := range cases {
		want[i] = m.Score(c.subject, now)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 16)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range 200 {
				i := (g + k) % len(cases)
				if d := cmp.Diff(want[i], m.Score(cases[i].subject, now)); d != "" {
					select {
					case errs <- cases[i].name + ":\n" + d:
					default:
					}
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
