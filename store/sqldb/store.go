package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/leadcycle/leadcycle"
)

// Store implements leadcycle.Store on a DB.
type Store struct {
	*DB
	contacts       *repo[leadcycle.Contact]
	accounts       *repo[leadcycle.Account]
	leads          *repo[leadcycle.Lead]
	opportunities  *repo[leadcycle.Opportunity]
	interactions   *repo[leadcycle.Interaction]
	tasks          *repo[leadcycle.Task]
	fields         *repo[leadcycle.FieldDef]
	strategies     *repo[leadcycle.MatchingStrategy]
	forms          *repo[leadcycle.Form]
	events         *repo[leadcycle.Event]
	trackingSites  *repo[leadcycle.TrackingSite]
	scoringModels  *repo[leadcycle.ScoringModel]
	processes      *repo[leadcycle.Process]
	users          *repo[leadcycle.User]
	webhooks       *repo[leadcycle.Webhook]
	imports        *repo[leadcycle.ImportJob]
	importMappings *repo[leadcycle.ImportMapping]
	segments       *repo[leadcycle.Segment]
	journeys       *repo[leadcycle.Journey]
	emailTemplates *repo[leadcycle.EmailTemplate]

	models    modelCache
	leases    leaseMap
	rescoring sync.Mutex
	lag       lagStats
}

var _ leadcycle.Store = (*Store)(nil)

// NewStore returns the store for an open, migrated DB.
func NewStore(db *DB) *Store {
	return &Store{
		DB:             db,
		contacts:       newRepo(db, contactTable),
		accounts:       newRepo(db, accountTable),
		leads:          newRepo(db, leadTable),
		opportunities:  newRepo(db, opportunityTable),
		interactions:   newRepo(db, interactionTable),
		tasks:          newRepo(db, taskTable),
		fields:         newRepo(db, fieldTable),
		strategies:     newRepo(db, strategyTable),
		forms:          newRepo(db, formTable),
		events:         newRepo(db, eventTable),
		trackingSites:  newRepo(db, trackingSiteTable),
		scoringModels:  newRepo(db, scoringModelTable),
		processes:      newRepo(db, processTable),
		users:          newRepo(db, userTable),
		webhooks:       newRepo(db, webhookTable),
		imports:        newRepo(db, importTable),
		importMappings: newRepo(db, importMappingTable),
		segments:       newRepo(db, segmentTable),
		journeys:       newRepo(db, journeyTable),
		emailTemplates: newRepo(db, emailTemplateTable),
	}
}

// Sibling returns another Store on the same database with its own in-process
// state, as a second node would have; tests use it to check that two nodes
// never do the same work twice. On a single-node database (SQLite) a second
// node can only be in the same process, so it shares the DB's claims.
func (s *Store) Sibling() leadcycle.Store { return NewStore(s.DB) }

// Contacts implements leadcycle.Store.
func (s *Store) Contacts() leadcycle.Repo[leadcycle.Contact] { return s.contacts }

// Accounts implements leadcycle.Store.
func (s *Store) Accounts() leadcycle.Repo[leadcycle.Account] { return s.accounts }

// Leads implements leadcycle.Store.
func (s *Store) Leads() leadcycle.Repo[leadcycle.Lead] { return s.leads }

// Opportunities implements leadcycle.Store.
func (s *Store) Opportunities() leadcycle.Repo[leadcycle.Opportunity] { return s.opportunities }

// Interactions implements leadcycle.Store.
func (s *Store) Interactions() leadcycle.Repo[leadcycle.Interaction] { return s.interactions }

// Tasks implements leadcycle.Store.
func (s *Store) Tasks() leadcycle.Repo[leadcycle.Task] { return s.tasks }

// Fields implements leadcycle.Store.
func (s *Store) Fields() leadcycle.Repo[leadcycle.FieldDef] { return s.fields }

// Strategies implements leadcycle.Store.
func (s *Store) Strategies() leadcycle.Repo[leadcycle.MatchingStrategy] { return s.strategies }

// Forms implements leadcycle.Store.
func (s *Store) Forms() leadcycle.Repo[leadcycle.Form] { return s.forms }

// Events implements leadcycle.Store.
func (s *Store) Events() leadcycle.Repo[leadcycle.Event] { return s.events }

// Submissions implements leadcycle.Store.
func (s *Store) Submissions() leadcycle.SubmissionStore { return submissions{s} }

// Registrations implements leadcycle.Store.
func (s *Store) Registrations() leadcycle.RegistrationStore { return registrations{s} }

// APIKeys implements leadcycle.Store.
func (s *Store) APIKeys() leadcycle.APIKeyStore { return apiKeys{s.DB} }

// Schema implements leadcycle.Store.
func (s *Store) Schema(ctx context.Context, entity string) (leadcycle.Schema, error) {
	return loadSchema(ctx, s.DB, s.R, entity)
}

type apiKeys struct{ db *DB }

const apiKeyCols = "id, name, role, prefix, hash, created_at, last_used_at, revoked_at"

func scanAPIKey(row scanner) (leadcycle.APIKey, error) {
	var k leadcycle.APIKey
	err := row.Scan(idCol{&k.ID}, &k.Name, &k.Role, &k.Prefix, &k.Hash, timeCol{&k.CreatedAt}, nullTimeCol{&k.LastUsedAt}, nullTimeCol{&k.RevokedAt})
	return k, err
}

func (a apiKeys) CreateAPIKey(ctx context.Context, k *leadcycle.APIKey) error {
	if err := k.Validate(); err != nil {
		return err
	}
	if len(k.Hash) != 64 {
		return fmt.Errorf("create api key: hash must be a SHA-256 hex digest")
	}
	k.CreatedAt = a.db.Clock.Now()
	var id int64
	err := a.db.W.QueryRowContext(ctx, a.db.Q("INSERT INTO api_keys (name, role, prefix, hash, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id"),
		k.Name, k.Role, k.Prefix, k.Hash, micros(k.CreatedAt)).Scan(&id)
	if a.db.Dialect.IsUniqueViolation(err) {
		return leadcycle.Errorf(leadcycle.EConflict, "an API key with this hash already exists")
	}
	if err != nil {
		return fmt.Errorf("create api key: %w", err)
	}
	k.ID = leadcycle.ID(id)
	return nil
}

func (a apiKeys) APIKeyByHash(ctx context.Context, hash string) (*leadcycle.APIKey, error) {
	k, err := scanAPIKey(a.db.R.QueryRowContext(ctx, a.db.Q("SELECT "+apiKeyCols+" FROM api_keys WHERE hash = ? AND revoked_at IS NULL"), hash))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, leadcycle.Errorf(leadcycle.ENotFound, "api key not found")
	}
	if err != nil {
		return nil, fmt.Errorf("api key by hash: %w", err)
	}
	return &k, nil
}

func (a apiKeys) ListAPIKeys(ctx context.Context) ([]leadcycle.APIKey, error) {
	rows, err := a.db.R.QueryContext(ctx, "SELECT "+apiKeyCols+" FROM api_keys ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	return scanAll(rows, scanAPIKey)
}

func (a apiKeys) RevokeAPIKey(ctx context.Context, id leadcycle.ID) error {
	res, err := a.db.W.ExecContext(ctx, a.db.Q("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL"), micros(a.db.Clock.Now()), int64(id))
	if err != nil {
		return fmt.Errorf("revoke api key: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return leadcycle.Errorf(leadcycle.ENotFound, "api key %s not found or already revoked", id)
	}
	return nil
}

func (a apiKeys) TouchAPIKey(ctx context.Context, id leadcycle.ID, at time.Time) error {
	_, err := a.db.W.ExecContext(ctx, a.db.Q("UPDATE api_keys SET last_used_at = ? WHERE id = ?"), micros(at), int64(id))
	return err
}
