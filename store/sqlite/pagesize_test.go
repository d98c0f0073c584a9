package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/store/storetest"
)

// TestDatabaseCreatedEarlierKeepsItsPageSize opens a database whose pages
// are 4 KiB (SQLite's default, what builds before the 2 KiB setting
// created) and checks that it keeps them, with its rows, and takes writes.
func TestDatabaseCreatedEarlierKeepsItsPageSize(t *testing.T) {
	dir := t.TempDir()
	clock := leadcycle.NewFixedClock(storetest.Epoch)
	s, err := Open(t.Context(), dir, clock)
	if err != nil {
		t.Fatal(err)
	}
	c := &leadcycle.Contact{FirstName: "Uxía", Email: "uxia@example.gal"}
	if err := s.Contacts().Create(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	s.Close()

	// Rewrite the file with 4 KiB pages, as an earlier build made it.
	w, err := openPool(filepath.Join(dir, FileName), writes)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := w.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"PRAGMA journal_mode=DELETE", "PRAGMA page_size=4096", "VACUUM", "PRAGMA journal_mode=WAL"} {
		if _, err := conn.ExecContext(t.Context(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	conn.Close()
	w.Close()

	s, err = Open(t.Context(), dir, clock)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var size int
	if err := s.W.QueryRowContext(t.Context(), "PRAGMA page_size").Scan(&size); err != nil {
		t.Fatal(err)
	}
	if size != 4096 {
		t.Errorf("page_size = %d after reopening, want the file's 4096", size)
	}
	if got, err := s.Contacts().Get(t.Context(), c.ID); err != nil || got.Email != c.Email {
		t.Fatalf("contact after reopening: %+v, %v", got, err)
	}
	if err := s.Contacts().Create(t.Context(), &leadcycle.Contact{FirstName: "Brais", Email: "brais@example.gal"}); err != nil {
		t.Errorf("write after reopening: %v", err)
	}
}
