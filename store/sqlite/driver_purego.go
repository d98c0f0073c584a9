//go:build !cgo

package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"

	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Driver names the SQLite driver this build uses: without cgo, the pure-Go
// translation of SQLite (modernc.org/sqlite), which builds anywhere Go
// does and runs its B-trees at about half the speed of the C library.
const Driver = "modernc.org/sqlite (pure Go)"

// openPool opens a pool of connections to the database file, each set up
// with pragmas; the writer's transactions begin IMMEDIATE.
func openPool(path string, kind poolKind) (*sql.DB, error) {
	if kind == writes {
		if err := sizeNewFile(path); err != nil {
			return nil, err
		}
	}
	q := url.Values{}
	for _, p := range pragmas(kind) {
		q.Add("_pragma", p)
	}
	if kind == writes {
		q.Set("_txlock", "immediate")
	}
	return sql.Open("sqlite", "file:"+path+"?"+q.Encode())
}

// sizeNewFile gives a database file that does not exist yet (or is empty)
// its page size. The driver runs a DSN's pragmas in alphabetical order,
// journal_mode before page_size, and switching a new file to WAL writes its
// header with the default size; so a connection of its own, with no other
// pragma, sets the size and writes the header first.
func sizeNewFile(path string) error {
	if st, err := os.Stat(path); err == nil && st.Size() > 0 {
		return nil
	}
	db, err := sql.Open("sqlite", "file:"+path+"?"+url.Values{"_pragma": {fmt.Sprintf("page_size(%d)", pageSize)}}.Encode())
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Exec("PRAGMA journal_mode=WAL"); err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	return nil
}

func isUniqueViolation(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && (e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
}
