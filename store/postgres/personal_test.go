package postgres_test

import (
	"testing"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/store/postgres/pgtest"
	"github.com/leadcycle/leadcycle/store/storetest"
)

// TestErasureIsAtomic makes deleting contacts fail behind the store's back:
// the erasure, which deletes the contact last, must leave everything else.
func TestErasureIsAtomic(t *testing.T) {
	clock := leadcycle.NewFixedClock(storetest.Epoch)
	s := pgtest.Open(t, clock)
	storetest.CheckErasureIsAtomic(t, s, clock, func(t *testing.T) {
		_, err := s.W.ExecContext(t.Context(), `CREATE FUNCTION refuse_contact_delete() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN RAISE EXCEPTION '`+storetest.SabotageMessage+`'; END $$;
			CREATE TRIGGER refuse_contact_delete BEFORE DELETE ON contacts FOR EACH ROW EXECUTE FUNCTION refuse_contact_delete()`)
		if err != nil {
			t.Fatal(err)
		}
	})
}
