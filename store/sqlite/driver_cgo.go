//go:build cgo

package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"net/url"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// Driver names the SQLite driver this build uses: with cgo, the SQLite C
// library itself (github.com/mattn/go-sqlite3). Its B-trees run about twice
// as fast as the pure-Go translation that a build without cgo uses
// (bench/README.md, "Eighth round").
const Driver = "github.com/mattn/go-sqlite3 (SQLite's C library, cgo)"

// openPool opens a pool of connections to the database file, each set up
// with pragmas when it connects; the writer's transactions begin
// IMMEDIATE.
func openPool(path string, kind poolKind) (*sql.DB, error) {
	settings := pragmas(kind)
	d := &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		for _, p := range settings {
			if _, err := c.Exec("PRAGMA "+p, nil); err != nil {
				return err
			}
		}
		return nil
	}}
	q := url.Values{}
	vfs, err := vfsName()
	if err != nil {
		return nil, err
	}
	if vfs != "" {
		q.Set("vfs", vfs)
	}
	if kind == writes {
		q.Set("_txlock", "immediate")
	}
	return sql.OpenDB(connector{d, "file:" + path + "?" + q.Encode()}), nil
}

// connector opens connections of one pool with its own driver (and so its
// own pragmas), without registering a driver name.
type connector struct {
	d   *sqlite3.SQLiteDriver
	dsn string
}

func (c connector) Connect(context.Context) (driver.Conn, error) { return c.d.Open(c.dsn) }

func (c connector) Driver() driver.Driver { return c.d }

func isUniqueViolation(err error) bool {
	var e sqlite3.Error
	return errors.As(err, &e) && (e.ExtendedCode == sqlite3.ErrConstraintUnique || e.ExtendedCode == sqlite3.ErrConstraintPrimaryKey)
}
