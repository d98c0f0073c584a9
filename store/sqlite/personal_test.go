package sqlite_test

import (
	"testing"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/store/sqlite"
	"github.com/leadcycle/leadcycle/store/storetest"
)

// TestErasureIsAtomic makes deleting contacts fail behind the store's back:
// the erasure, which deletes the contact last, must leave everything else.
func TestErasureIsAtomic(t *testing.T) {
	clock := leadcycle.NewFixedClock(storetest.Epoch)
	s, err := sqlite.Open(t.Context(), t.TempDir(), clock)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	storetest.CheckErasureIsAtomic(t, s, clock, func(t *testing.T) {
		_, err := s.W.ExecContext(t.Context(), `CREATE TRIGGER refuse_contact_delete BEFORE DELETE ON contacts
			BEGIN SELECT RAISE(ABORT, '`+storetest.SabotageMessage+`'); END`)
		if err != nil {
			t.Fatal(err)
		}
	})
}
