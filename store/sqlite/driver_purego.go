//go:build !cgo

package sqlite

import (
	"database/sql"
	"errors"
	"net/url"

	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Driver names the SQLite driver this build uses: without cgo, the pure-Go
// translation of SQLite (modernc.org/sqlite), which builds anywhere Go
// does and runs its B-trees at about half the speed of the C library.
const Driver = "modernc.org/sqlite (pure Go)"

// openPool opens a pool of connections to the database file, each set up
// with pragmas; the writer's transactions begin IMMEDIATE.
func openPool(path string, readOnly bool) (*sql.DB, error) {
	q := url.Values{}
	for _, p := range pragmas(readOnly) {
		q.Add("_pragma", p)
	}
	if !readOnly {
		q.Set("_txlock", "immediate")
	}
	return sql.Open("sqlite", "file:"+path+"?"+q.Encode())
}

func isUniqueViolation(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && (e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
}
