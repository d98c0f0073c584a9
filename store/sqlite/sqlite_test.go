package sqlite_test

import (
	"testing"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/store/sqlite"
	"github.com/leadcycle/leadcycle/store/storetest"
)

// open returns a fresh store in its own temporary directory.
func open(t *testing.T, clock leadcycle.Clock) leadcycle.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), t.TempDir(), clock)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

func TestStore(t *testing.T) {
	storetest.Run(t, open)
}
