// Package postgres opens leadcycle's PostgreSQL database through pgx.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib" // also registers the "pgx" driver
	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/store/sqldb"
)

//go:embed migrations/*.sql
var migrations embed.FS

// migrationLock is the advisory lock key that serialises migrations when
// several nodes start at once.
const migrationLock = 7_263_510_115

// Dialect is PostgreSQL's dialect.
var Dialect = sqldb.Dialect{
	Name: "postgres",
	// Through the index lead_scores_model.
	ScoreCounts: func(models string) string {
		return "SELECT model_id, score, COUNT(*) AS leads FROM lead_scores WHERE " + models + " GROUP BY model_id, score"
	},
	Numbered:  true,
	ForUpdate: " FOR UPDATE",
	IsUniqueViolation: func(err error) bool {
		var e *pgconn.PgError
		return errors.As(err, &e) && e.Code == "23505"
	},
	IsRetryable: func(err error) bool {
		var e *pgconn.PgError
		return errors.As(err, &e) && (e.Code == "40P01" || e.Code == "40001")
	},
	JSONRemoveKey: func(col string) string { return "(" + col + " - ?::text)" },
	JSONHasKey:    func(col string) string { return "jsonb_exists(" + col + ", ?::text)" },
	InIDs:         func(col string) string { return col + " = ANY(?::bigint[])" },
	IDsArg:        func(ids []int64) any { return ids },
	InTexts:       func(col string) string { return col + " = ANY(?::text[])" },
	TextsArg:      func(vs []string) any { return vs },
	Cast: func(kind string) string {
		return map[string]string{"int": "::bigint", "text": "::text", "json": "::jsonb"}[kind]
	},
	CopyRows: func(ctx context.Context, conn *sql.Conn, table string, cols []string, rows [][]any) error {
		return conn.Raw(func(dc any) error {
			c, ok := dc.(*stdlib.Conn)
			if !ok {
				return fmt.Errorf("driver connection is %T, not pgx", dc)
			}
			_, err := c.Conn().CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromRows(rows))
			return err
		})
	},
	NextIDs: func(ctx context.Context, tx *sql.Tx, table string, n int) ([]int64, error) {
		rows, err := tx.QueryContext(ctx, "SELECT nextval(pg_get_serial_sequence($1, 'id')) FROM generate_series(1, $2)", table, n)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		ids := make([]int64, 0, n)
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return nil, err
			}
			ids = append(ids, id)
		}
		return ids, rows.Err()
	},
	SkipLocked:  " FOR UPDATE SKIP LOCKED",
	JSONText:    func(col string) string { return "(" + col + " ->> ?::text)" },
	ForKeyShare: " FOR KEY SHARE",
	// PostgreSQL's statistics find the partial indexes alone.
	IndexedBy: func(string) string { return "" },
	LockKey: func(ctx context.Context, tx *sql.Tx, key string) error {
		_, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", key)
		return err
	},
	LockMigrations: func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", int64(migrationLock))
		return err
	},
}

// Open connects to the database at url and migrates it.
func Open(ctx context.Context, url string, clock leadcycle.Clock) (*sqldb.Store, error) {
	db, err := OpenDB(ctx, url, clock)
	if err != nil {
		return nil, err
	}
	if _, err := db.Migrate(ctx, migrations, "migrations"); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return sqldb.NewStore(db), nil
}

// OpenDB connects without migrating.
func OpenDB(ctx context.Context, url string, clock leadcycle.Clock) (*sqldb.DB, error) {
	pool, err := sql.Open("pgx", url)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	pool.SetMaxOpenConns(20)
	pool.SetMaxIdleConns(20)
	if err := pool.PingContext(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return sqldb.New(pool, pool, Dialect, clock), nil
}

// Migrate applies pending migrations.
func Migrate(ctx context.Context, url string) ([]string, error) {
	db, err := OpenDB(ctx, url, nil)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return db.Migrate(ctx, migrations, "migrations")
}
