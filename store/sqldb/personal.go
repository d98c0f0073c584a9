package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/match"
)

// Personal data (GDPR): the export and the erasure of one contact. Reading
// every migration (0001 to 0010), these are the tables that hold a
// contact's personal data or point at it, and what the two do with them:
//
//	contacts             the record itself: names, email, phone, job title,
//	                     consent, custom fields          exported; deleted
//	accounts             the company (contacts.account_id): only its id and
//	                     name are exported                kept
//	leads                contact_id                       exported with their
//	                     scores; deleted, with their match keys
//	lead_scores          lead_id                          exported in the
//	                     leads; deleted
//	score_ledger         lead_id                          exported
//	                     (score_history); deleted
//	lead_timeline        lead_id                          exported; deleted
//	score_queue          lead_id                          deleted
//	opportunities        contact_id, lead_id              exported; kept as
//	                     business records, without the links to the contact
//	                     and its leads
//	tasks                contact_id, lead_id              exported; deleted
//	interactions         contact_id; properties hold URLs, visitor ids…
//	                                                      exported (streamed);
//	                     deleted
//	form_submissions     the capture result (JSON) names the contact or a
//	                     lead; submitted (JSON) holds the raw values, the
//	                     email among them, with ip and user_agent
//	                                                      exported; deleted,
//	                     and so are submissions that name no contact but hold
//	                     the contact's email (pending, failed, spam)
//	event_registrations  contact_id, lead_id              exported; deleted
//	capture_log          result (JSON) names the contact or a lead
//	                                                      exported; deleted
//	visitors             contact_id; anonymous visitors whose id the
//	                     contact's submissions or page views carry
//	                                                      exported; deleted
//	page_visits          visitor_id of those visitors     exported; deleted
//	match_keys           record_id of contact and lead strategies (hashes
//	                     of the email, phone…)            deleted
//	linkedin_submissions contact_id, lead_id, interaction_id
//	                                                      exported; kept
//	                     without the links: the bare response id makes a
//	                     later sync skip the response instead of capturing
//	                     the person again
//	outbox               contact_id, lead_id; payloads embed the contact
//	                     and the leads                    exported (events);
//	                     deleted
//	webhook_deliveries   event_id of those events         exported; deleted
//	segment_members      contact_id (migration 0013)      exported (with the
//	                     segment's key and name); deleted with the contact
//	                     (foreign key)
//	segment_queue        contact_id                       not exported; a
//	                     worker drops the entry of a contact that is gone
//	journey_runs         contact_id, lead_id (migration 0014); with
//	journey_steps        their steps                      exported; deleted
//	email_sends          contact_id, to_email             exported; deleted
//	email_suppressions   the contact's email              exported; deleted
//	audit_log            ids, counts and reasons only     one entry per export
//	                     and per erasure
//
// The other tables hold no contact's personal data: field_defs, api_keys,
// matching_strategies, forms, events, tracking_sites, secrets,
// linkedin_connections, linkedin_sync_runs (the ids of responses that failed
// before any contact was made), scoring_models, processes, users and queues
// (staff and configuration), webhooks, schema_migrations. The import tables
// (imports, import_files, import_errors, import_mappings) keep uploaded files
// as they came, many people to a file; they are outside this export and
// erasure.

// personalStore implements leadcycle.PersonalDataStore.
type personalStore struct{ s *Store }

// PersonalData implements leadcycle.Store.
func (s *Store) PersonalData() leadcycle.PersonalDataStore { return personalStore{s} }

// subject is what belongs to one contact, found once per export or erasure
// and before anything is deleted.
type subject struct {
	contact     *leadcycle.Contact
	leads       []int64  // the contact's leads (contact_id)
	submissions []int64  // its raw form submissions
	visitors    []string // its visitors, identified or anonymous
}

// find reads the contact and what belongs to it; with lock, the contact and
// its leads stay locked until the transaction ends.
func (x personalStore) find(ctx context.Context, q querier, id leadcycle.ID, lock bool) (*subject, error) {
	c, err := getRow(ctx, x.s.DB, q, contactTable, id, lock)
	if leadcycle.ErrorCode(err) == leadcycle.ENotFound {
		return nil, x.notFound(ctx, id)
	}
	if err != nil {
		return nil, err
	}
	sub := &subject{contact: c}
	if sub.leads, err = x.leadsOf(ctx, q, id, lock); err != nil {
		return nil, err
	}
	if sub.submissions, err = x.submissionsOf(ctx, q, sub); err != nil {
		return nil, err
	}
	if sub.visitors, err = x.visitorsOf(ctx, q, sub); err != nil {
		return nil, err
	}
	return sub, nil
}

// notFound says that a contact does not exist, and when it was erased if
// it was.
func (x personalStore) notFound(ctx context.Context, id leadcycle.ID) error {
	var at int64
	err := x.s.QueryRowQ(ctx, x.s.R, "SELECT at FROM audit_log WHERE subject_id = ? AND action = ? ORDER BY id DESC LIMIT 1",
		int64(id), leadcycle.AuditContactErased).Scan(&at)
	if err == nil {
		return leadcycle.Errorf(leadcycle.ENotFound, "contact %s not found: it was erased at %s", id, time.UnixMicro(at).UTC().Format(time.RFC3339))
	}
	return leadcycle.Errorf(leadcycle.ENotFound, "contact %s not found", id)
}

func (x personalStore) leadsOf(ctx context.Context, q querier, id leadcycle.ID, lock bool) ([]int64, error) {
	query := "SELECT id FROM leads WHERE contact_id = ? ORDER BY id"
	if lock {
		query += x.s.Dialect.ForUpdate
	}
	rows, err := x.s.QueryQ(ctx, q, query, int64(id))
	if err != nil {
		return nil, fmt.Errorf("leads of contact: %w", err)
	}
	return scanAll(rows, scanInt64)
}

func scanInt64(r scanner) (int64, error) {
	var v int64
	return v, r.Scan(&v)
}

// inLeads returns a condition true when col is one of the subject's leads,
// and its argument.
func (sub *subject) inLeads(d Dialect, col string) (string, any) {
	return d.InIDs(col), d.IDsArg(append([]int64{}, sub.leads...))
}

// ofContact returns a condition true for rows whose contact column is the
// contact or whose lead column is one of its leads, and its arguments.
func (sub *subject) ofContact(d Dialect, contactCol, leadCol string) (string, []any) {
	in, arg := sub.inLeads(d, leadCol)
	return "(" + contactCol + " = ? OR " + in + ")", []any{int64(sub.contact.ID), arg}
}

// resultNames returns a condition true when the capture result in the JSON
// column names the contact or one of its leads, and its arguments.
func (sub *subject) resultNames(d Dialect, col string) (string, []any) {
	id := func() string { return "CAST(" + d.JSONText(col) + " AS BIGINT)" }
	in, arg := sub.inLeads(d, id())
	return "(" + id() + " = ? OR " + in + ")", []any{"contact_id", int64(sub.contact.ID), "lead_id", arg}
}

// submissionsOf finds the contact's raw form submissions: those whose
// capture result names the contact or one of its leads, and those that name
// no contact (pending, failed, spam, lead-only) but hold its email in a
// value.
func (x personalStore) submissionsOf(ctx context.Context, q querier, sub *subject) ([]int64, error) {
	cond, args := sub.resultNames(x.s.Dialect, "result")
	rows, err := x.s.QueryQ(ctx, q, "SELECT id FROM form_submissions WHERE "+cond+" ORDER BY id", args...)
	if err != nil {
		return nil, fmt.Errorf("submissions of contact: %w", err)
	}
	ids, err := scanAll(rows, scanInt64)
	if err != nil || sub.contact.Email == "" {
		return ids, err
	}
	loose, err := x.looseSubmissions(ctx, q, match.Email(sub.contact.Email))
	if err != nil {
		return nil, err
	}
	return uniqueIDs(append(ids, loose...)), nil
}

// plainLocal matches the local parts of email addresses that read the same
// in every database's lower-cased JSON text, so that they can narrow a scan.
var plainLocal = regexp.MustCompile(`^[a-z0-9.+-]+$`)

// looseSubmissions finds the submissions that name no contact but have a
// value that is the email (normalised as matching does). The database
// narrows them by the email's local part where it can; each candidate's
// values are then compared exactly.
func (x personalStore) looseSubmissions(ctx context.Context, q querier, email string) ([]int64, error) {
	query := "SELECT id, submitted FROM form_submissions WHERE (result IS NULL OR " + x.s.Dialect.JSONText("result") + " IS NULL)"
	args := []any{"contact_id"}
	if local, _, ok := strings.Cut(email, "@"); ok && plainLocal.MatchString(local) {
		query += ` AND LOWER(CAST(submitted AS TEXT)) LIKE ? ESCAPE '\'`
		args = append(args, "%"+strings.ReplaceAll(local, "_", `\_`)+"%")
	}
	rows, err := x.s.QueryQ(ctx, q, query+" ORDER BY id", args...)
	if err != nil {
		return nil, fmt.Errorf("submissions with the email: %w", err)
	}
	type cand struct {
		id     int64
		values map[string]string
	}
	cands, err := scanAll(rows, func(r scanner) (cand, error) { var c cand; return c, r.Scan(&c.id, jsonCol{&c.values}) })
	if err != nil {
		return nil, fmt.Errorf("submissions with the email: %w", err)
	}
	var ids []int64
	for _, c := range cands {
		for _, v := range c.values {
			if match.Email(v) == email {
				ids = append(ids, c.id)
				break
			}
		}
	}
	return ids, nil
}

// visitorsOf finds the contact's visitors: those identified as the contact,
// and the anonymous ones whose id its submissions or page views carry
// (never another contact's).
func (x personalStore) visitorsOf(ctx context.Context, q querier, sub *subject) ([]string, error) {
	d := x.s.Dialect
	query := "SELECT id FROM visitors WHERE contact_id = ? OR (contact_id IS NULL AND (id IN (SELECT visitor_id FROM form_submissions WHERE " + d.InIDs("id") + ")" +
		" OR id IN (SELECT " + d.JSONText("properties") + " FROM interactions WHERE contact_id = ? AND type = ?))) ORDER BY id"
	id := int64(sub.contact.ID)
	rows, err := x.s.QueryQ(ctx, q, query, id, d.IDsArg(append([]int64{}, sub.submissions...)), "visitor_id", id, leadcycle.InteractionPageView)
	if err != nil {
		return nil, fmt.Errorf("visitors of contact: %w", err)
	}
	return scanAll(rows, func(r scanner) (string, error) { var s string; return s, r.Scan(&s) })
}

// visitorsIn returns a condition true when col is one of the subject's
// visitors, and its argument.
func (sub *subject) visitorsIn(d Dialect, col string) (string, any) {
	return d.InTexts(col), d.TextsArg(append([]string{}, sub.visitors...))
}

// snapshot is a read-only transaction on the reader pool that sees one
// state of the database from its first read to its end. Its type is not
// *sql.Tx, so the statement cache (which prepares on the writer) leaves it
// alone.
type snapshot struct{ *sql.Tx }

// inSnapshot runs fn in a snapshot.
func (x personalStore) inSnapshot(ctx context.Context, fn func(q querier) error) error {
	tx, err := x.s.R.BeginTx(ctx, &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead})
	if err != nil {
		return fmt.Errorf("begin read: %w", err)
	}
	defer tx.Rollback()
	return fn(snapshot{tx})
}
