package linkedin

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/leadcycle/leadcycle"
)

// Options configure a Service. Zero values take the defaults.
type Options struct {
	// Sealer seals tokens at rest; nil stores them unencrypted (marked plain).
	Sealer *Sealer
	// Records, when set, types custom field values by their declarations,
	// checks that mapped custom fields exist, and finds or creates the
	// account of account.name.
	Records leadcycle.Store
	Clock   leadcycle.Clock
	Logger  *slog.Logger
	// HTTPClient, Sleep, MaxAttempts and MaxRetryAfter tune the LinkedIn
	// client (tests inject a fake clockless Sleep).
	HTTPClient    *http.Client
	Sleep         Sleeper
	MaxAttempts   int
	MaxRetryAfter time.Duration
	// PageSize is the count asked per page (100).
	PageSize int
	// LeaseTTL is how long a sync holds its connection without renewing
	// (5 minutes; renewed after every page).
	LeaseTTL time.Duration
	// Overlap is how far before the cursor a sync starts reading (1 hour),
	// so that responses LinkedIn makes visible late are not missed.
	Overlap time.Duration
}

// Service manages LinkedIn connections and syncs them.
type Service struct {
	store    Store
	capturer leadcycle.Capturer
	opts     Options
}

// NewService returns a service on store that captures through capturer
// (which may be nil: connections can then be managed but not synced).
func NewService(store Store, capturer leadcycle.Capturer, opts Options) *Service {
	if opts.Sealer == nil {
		opts.Sealer, _ = NewSealer(nil)
	}
	if opts.Clock == nil {
		opts.Clock = leadcycle.SystemClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.PageSize <= 0 {
		opts.PageSize = DefaultPageSize
	}
	if opts.LeaseTTL <= 0 {
		opts.LeaseTTL = 5 * time.Minute
	}
	if opts.Overlap <= 0 {
		opts.Overlap = time.Hour
	}
	return &Service{store: store, capturer: capturer, opts: opts}
}

// CanSync reports whether the service has a Capturer.
func (s *Service) CanSync() bool { return s.capturer != nil }

// Store returns the service's store.
func (s *Service) Store() Store { return s.store }

// SecretsPatch changes some secrets; nil fields are kept, "" clears.
type SecretsPatch struct {
	AccessToken, RefreshToken, ClientSecret *string
}

// Create stores a new connection with its secrets, sealed.
func (s *Service) Create(ctx context.Context, c *Connection, secrets Secrets) error {
	sealed, err := s.opts.Sealer.SealSecrets(secrets)
	if err != nil {
		return err
	}
	c.Secrets = sealed
	c.Normalize()
	if err := c.Validate(); err != nil {
		return err
	}
	if err := s.checkMapping(ctx, c); err != nil {
		return err
	}
	s.warnPlain(c)
	err = s.store.CreateConnection(ctx, c)
	c.Secrets = Secrets{}
	return err
}

// Update changes a connection: fn edits its fields, patch its secrets.
func (s *Service) Update(ctx context.Context, id leadcycle.ID, patch SecretsPatch, fn func(*Connection) error) (*Connection, error) {
	c, err := s.store.UpdateConnection(ctx, id, func(c *Connection) error {
		oldAPI, oldToken := c.APIBaseURL, c.TokenURL
		if fn != nil {
			if err := fn(c); err != nil {
				return err
			}
		}
		// Tokens go only where they were sent for: moving the endpoints
		// needs them again, or anyone who may edit a connection could have
		// its stored tokens sent to a server of their choosing.
		c.Normalize()
		if (c.APIBaseURL != oldAPI || c.TokenURL != oldToken) && c.Secrets != (Secrets{}) {
			if patch.AccessToken == nil {
				field := "api_base_url"
				if c.APIBaseURL == oldAPI {
					field = "token_url"
				}
				return leadcycle.FieldErrorf(leadcycle.EInvalid, field, "changing where tokens are sent needs them again: send access_token (and refresh_token, client_secret) in the same request")
			}
			if patch.RefreshToken == nil {
				c.Secrets.RefreshToken = ""
			}
			if patch.ClientSecret == nil {
				c.Secrets.ClientSecret = ""
			}
		}
		for _, p := range []struct {
			v   *string
			dst *string
		}{{patch.AccessToken, &c.Secrets.AccessToken}, {patch.RefreshToken, &c.Secrets.RefreshToken}, {patch.ClientSecret, &c.Secrets.ClientSecret}} {
			if p.v == nil {
				continue
			}
			sealed, err := s.opts.Sealer.Seal(*p.v)
			if err != nil {
				return err
			}
			*p.dst = sealed
		}
		c.Normalize()
		if err := c.Validate(); err != nil {
			return err
		}
		if err := s.checkMapping(ctx, c); err != nil {
			return err
		}
		if patch.AccessToken != nil || patch.RefreshToken != nil || patch.ClientSecret != nil {
			s.warnPlain(c)
		}
		return nil
	})
	if c != nil {
		c.Secrets = Secrets{}
	}
	return c, err
}

func (s *Service) warnPlain(c *Connection) {
	if !s.opts.Sealer.Encrypts() && (c.Secrets.AccessToken != "" || c.Secrets.RefreshToken != "" || c.Secrets.ClientSecret != "") {
		s.opts.Logger.Warn("LinkedIn tokens are stored unencrypted; set "+EnvSecretKey+" to encrypt them", slog.String("connection", c.Name))
	}
}

// checkMapping refuses mappings to custom fields that are not declared.
func (s *Service) checkMapping(ctx context.Context, c *Connection) error {
	if s.opts.Records == nil {
		return nil
	}
	schemas := Schemas{}
	var errs []leadcycle.FieldError
	keys := make([]string, 0, len(c.Mapping))
	for k := range c.Mapping {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		t := c.Mapping[k]
		for _, entity := range []string{"contact", "lead"} {
			name, ok := strings.CutPrefix(t, entity+".custom.")
			if !ok {
				continue
			}
			if _, loaded := schemas[entity]; !loaded {
				sc, err := s.opts.Records.Schema(ctx, entity)
				if err != nil {
					return err
				}
				schemas[entity] = sc
			}
			if !slices.ContainsFunc(schemas[entity], func(f leadcycle.FieldDef) bool { return f.Name == name }) {
				errs = append(errs, leadcycle.FieldError{Field: "mapping." + k, Message: t + " is not a declared custom field of " + entity + "s (declare it at /api/v1/fields)"})
			}
		}
	}
	if len(errs) > 0 {
		return &leadcycle.Error{Code: leadcycle.EInvalid, Message: errs[0].Field + ": " + errs[0].Message, Fields: errs}
	}
	return nil
}

// Get returns a connection (without secrets).
func (s *Service) Get(ctx context.Context, id leadcycle.ID) (*Connection, error) {
	c, err := s.store.Connection(ctx, id)
	if c != nil {
		c.Secrets = Secrets{}
	}
	return c, err
}

// List returns every connection (without secrets).
func (s *Service) List(ctx context.Context) ([]Connection, error) {
	cs, err := s.store.Connections(ctx)
	for i := range cs {
		cs[i].Secrets = Secrets{}
	}
	return cs, err
}

// Delete removes a connection.
func (s *Service) Delete(ctx context.Context, id leadcycle.ID) error {
	return s.store.DeleteConnection(ctx, id)
}

// Runs returns a connection's latest sync runs, newest first.
func (s *Service) Runs(ctx context.Context, id leadcycle.ID, limit int) ([]SyncRun, error) {
	if _, err := s.store.Connection(ctx, id); err != nil {
		return nil, err
	}
	return s.store.SyncRuns(ctx, id, limit)
}

func newOwner() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Sync reads the connection's new lead form responses and captures them. It
// returns the run it recorded, whose Status says whether the sync
// succeeded; the error is for a sync that could not start: ENotFound,
// EConflict when another sync of the connection runs (here or on another
// node), EUnavailable without a Capturer.
func (s *Service) Sync(ctx context.Context, id leadcycle.ID, trigger string) (*SyncRun, error) {
	if s.capturer == nil {
		return nil, leadcycle.Errorf(leadcycle.EUnavailable, "LinkedIn sync is not available: this server has no lead capture")
	}
	owner := newOwner()
	ok, err := s.store.AcquireLease(ctx, id, owner, s.opts.LeaseTTL)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, leadcycle.Errorf(leadcycle.EConflict, "a sync of LinkedIn connection %s is already running", id)
	}
	// Bookkeeping outlives a cancelled sync: the run and the connection must
	// say what happened.
	bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	defer func() {
		if err := s.store.ReleaseLease(bg, id, owner); err != nil {
			s.opts.Logger.Warn("release LinkedIn sync lease", slog.String("connection", id.String()), slog.String("error", err.Error()))
		}
	}()
	conn, err := s.store.Connection(ctx, id)
	if err != nil {
		return nil, err
	}
	run := &SyncRun{ConnectionID: id, Trigger: trigger, Status: RunRunning, StartedAt: s.opts.Clock.Now(), Failures: []SyncFailure{}}
	if err := s.store.CreateSyncRun(ctx, run); err != nil {
		return nil, err
	}

	st := &syncState{s: s, conn: conn, owner: owner, run: run}
	runErr := st.sync(ctx)

	finished := s.opts.Clock.Now()
	run.FinishedAt = &finished
	run.Stats = st.stats
	lastErr := ""
	if runErr != nil {
		run.Status = RunFailed
		run.Error = describeSyncError(ctx, runErr)
		lastErr = run.Error
	} else {
		run.Status = RunSucceeded
		if st.stats.Errors > 0 {
			first := ""
			if len(run.Failures) > 0 {
				first = "; first: " + run.Failures[0].SubmissionID + ": " + run.Failures[0].Message
			}
			lastErr = fmt.Sprintf("%d of %d responses could not be captured (see the sync runs)%s", st.stats.Errors, st.stats.Fetched, first)
		}
	}
	cursor := conn.Cursor
	if runErr == nil {
		cursor = st.high
	}
	err = errors.Join(
		s.store.FinishSyncRun(bg, run),
		s.store.RecordSync(bg, id, finished, runErr == nil, cursor, lastErr, st.stats),
	)
	if err != nil && leadcycle.ErrorCode(err) != leadcycle.ENotFound { // deleted meanwhile: nothing to record
		return run, fmt.Errorf("record LinkedIn sync: %w", err)
	}
	log := s.opts.Logger.Info
	if runErr != nil {
		log = s.opts.Logger.Warn
	}
	log("LinkedIn sync", slog.String("connection", id.String()), slog.String("trigger", trigger), slog.String("status", run.Status),
		slog.Int("fetched", st.stats.Fetched), slog.Int("contacts_created", st.stats.ContactsCreated), slog.Int("leads_created", st.stats.LeadsCreated),
		slog.Int("matched", st.stats.Matched), slog.Int("skipped", st.stats.Skipped), slog.Int("errors", st.stats.Errors), slog.String("error", run.Error))
	return run, nil
}

func describeSyncError(ctx context.Context, err error) string {
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return "the sync was interrupted before it finished (" + ctx.Err().Error() + "); the next sync continues where it stopped"
	}
	msg := err.Error()
	if len(msg) > 2000 {
		msg = msg[:2000] + "…"
	}
	return msg
}

// syncState is one sync in progress.
type syncState struct {
	s     *Service
	conn  *Connection
	owner string
	run   *SyncRun
	stats SyncStats
	high  *time.Time

	client  *Client
	forms   map[int64]*Form
	formErr map[int64]string
	schemas Schemas
}

func (st *syncState) fail(id, msg string) {
	st.stats.Errors++
	if len(st.run.Failures) < MaxFailures {
		st.run.Failures = append(st.run.Failures, SyncFailure{SubmissionID: id, Message: msg})
	}
}

func (st *syncState) sync(ctx context.Context) error {
	s, conn := st.s, st.conn
	secrets, err := s.opts.Sealer.OpenSecrets(conn.Secrets)
	if err != nil {
		return err
	}
	if secrets.AccessToken == "" && secrets.RefreshToken == "" {
		return fmt.Errorf("%w: the connection has no access token", ErrTokenExpired)
	}
	tokens := &connTokens{
		s: s, id: conn.ID, access: secrets.AccessToken, refresh: secrets.RefreshToken, expiresAt: conn.TokenExpiresAt,
		oauth: OAuth{TokenURL: conn.TokenURL, ClientID: conn.ClientID, ClientSecret: secrets.ClientSecret, HTTP: s.opts.HTTPClient,
			Sleep: s.opts.Sleep, MaxAttempts: s.opts.MaxAttempts, Now: s.opts.Clock.Now},
	}
	st.client = &Client{
		BaseURL: conn.APIBaseURL, Version: conn.APIVersion, Tokens: tokens,
		HTTP: s.opts.HTTPClient, Sleep: st.sleep, MaxAttempts: s.opts.MaxAttempts, MaxRetryAfter: s.opts.MaxRetryAfter,
		AfterPage: st.renew,
	}
	st.forms, st.formErr, st.schemas = map[int64]*Form{}, map[int64]string{}, Schemas{}
	if s.opts.Records != nil {
		for _, entity := range []string{"contact", "lead"} {
			if st.schemas[entity], err = s.opts.Records.Schema(ctx, entity); err != nil {
				return err
			}
		}
	}
	st.high = conn.Cursor
	now := s.opts.Clock.Now()
	q := ResponsesQuery{SponsoredAccount: conn.SponsoredAccount, Count: s.opts.PageSize}
	if conn.Cursor != nil {
		q.Since = conn.Cursor.Add(-s.opts.Overlap)
		q.Until = now.Add(5 * time.Minute) // LinkedIn's clock may run ahead of ours
	}
	return st.client.Responses(ctx, q, func(p *ResponsesPage) error { return st.page(ctx, p) })
}

// sleep renews the lease before waiting (for Retry-After or a backoff), so
// that a wait never lets another node take the connection over.
func (st *syncState) sleep(ctx context.Context, d time.Duration) error {
	if err := st.renew(ctx); err != nil {
		return err
	}
	if st.s.opts.Sleep != nil {
		return st.s.opts.Sleep(ctx, d)
	}
	return Sleep(ctx, d)
}

// renew extends the lease after each page; losing it stops the sync.
func (st *syncState) renew(ctx context.Context) error {
	ok, err := st.s.store.RenewLease(ctx, st.conn.ID, st.owner, st.s.opts.LeaseTTL)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("the sync lost its lease on the connection (it ran longer than %s between pages); stopping", st.s.opts.LeaseTTL)
	}
	return nil
}

func (st *syncState) page(ctx context.Context, p *ResponsesPage) error {
	s, conn := st.s, st.conn
	st.stats.Fetched += p.Raw
	for _, b := range p.Bad {
		id := b.ID
		if id == "" {
			id = fmt.Sprintf("(element %d of the page at %d)", b.Index, p.Start)
		}
		st.fail(id, b.Err)
	}
	ids := make([]string, len(p.Elements))
	for i, r := range p.Elements {
		ids[i] = r.ID
	}
	captured, err := s.store.CapturedSubmissions(ctx, conn.ID, ids)
	if err != nil {
		return err
	}
	for i := range p.Elements {
		r := &p.Elements[i]
		if st.high == nil || r.SubmittedAt.After(*st.high) {
			t := r.SubmittedAt
			st.high = &t
		}
		if captured[r.ID] || (r.TestLead && !conn.IncludeTestLeads) {
			st.stats.Skipped++
			continue
		}
		if err := st.capture(ctx, r); err != nil {
			return err
		}
		captured[r.ID] = true // a page that repeats a response captures it once
	}
	return nil
}

// capture captures one response. Problems with the response itself are
// recorded and the sync goes on; anything else (the database, the token,
// LinkedIn) stops the sync, which the next run resumes.
func (st *syncState) capture(ctx context.Context, r *Response) error {
	s, conn := st.s, st.conn
	form, err := st.form(ctx, r)
	if err != nil {
		return err
	}
	if form == nil {
		return st.failed(ctx, r, st.formErr[r.FormID])
	}
	m := MapResponse(conn, r, form, st.schemas)
	if m.AccountName != "" {
		id, err := st.account(ctx, m.AccountName)
		if err != nil {
			return err
		}
		m.Input.Contact.AccountID = id
	}
	res, err := s.capturer.Capture(ctx, m.Input)
	if err != nil {
		switch leadcycle.ErrorCode(err) {
		case leadcycle.EInvalid, leadcycle.EMalformed:
			return st.failed(ctx, r, leadcycle.ErrorMessage(err))
		default:
			return fmt.Errorf("capture LinkedIn response %s: %w", r.ID, err)
		}
	}
	switch {
	case res.Repeated:
		st.stats.Skipped++
	default:
		if res.ContactCreated {
			st.stats.ContactsCreated++
		} else if res.ContactID != nil {
			st.stats.Matched++
		}
		if res.LeadCreated {
			st.stats.LeadsCreated++
		}
	}
	return s.store.SaveSubmission(ctx, &Submission{
		ConnectionID: conn.ID, SubmissionID: r.ID, Status: SubmissionCaptured, SubmittedAt: r.SubmittedAt,
		ContactID: res.ContactID, LeadID: res.LeadID, InteractionID: res.InteractionID, ProcessedAt: s.opts.Clock.Now(),
	})
}

func (st *syncState) failed(ctx context.Context, r *Response, msg string) error {
	st.fail(r.ID, msg)
	return st.s.store.SaveSubmission(ctx, &Submission{
		ConnectionID: st.conn.ID, SubmissionID: r.ID, Status: SubmissionFailed, SubmittedAt: r.SubmittedAt,
		Error: msg, ProcessedAt: st.s.opts.Clock.Now(),
	})
}

// form returns the response's lead form: inline, cached, or read from
// LinkedIn. A form LinkedIn will not give is a per-response failure (nil,
// nil); a token, rate-limit or network failure stops the sync.
func (st *syncState) form(ctx context.Context, r *Response) (*Form, error) {
	if r.Form != nil {
		if _, ok := st.forms[r.FormID]; !ok {
			st.forms[r.FormID] = r.Form
		}
		return r.Form, nil
	}
	if f, ok := st.forms[r.FormID]; ok {
		return f, nil
	}
	if _, failed := st.formErr[r.FormID]; failed {
		return nil, nil
	}
	f, err := st.client.LeadForm(ctx, r.FormID)
	switch {
	case err == nil:
		st.forms[r.FormID] = f
		return f, nil
	case ctx.Err() != nil, unavailable(err):
		return nil, err
	default:
		st.formErr[r.FormID] = err.Error()
		return nil, nil
	}
}

// account finds the account named name, or creates it; nil when accounts
// are not available or the name is not a valid account name.
func (st *syncState) account(ctx context.Context, name string) (*leadcycle.ID, error) {
	recs := st.s.opts.Records
	if recs == nil {
		return nil, nil
	}
	page, err := recs.Accounts().List(ctx, leadcycle.ListQuery{
		Filters: []leadcycle.Filter{{Columns: []string{"name"}, Op: leadcycle.OpEq, Value: name}},
		Limit:   1,
	})
	if err != nil {
		return nil, err
	}
	if len(page.Items) > 0 {
		return leadcycle.IDPtr(page.Items[0].ID), nil
	}
	a := &leadcycle.Account{Name: name}
	if err := recs.Accounts().Create(ctx, a); err != nil {
		if leadcycle.ErrorCode(err) == leadcycle.EInvalid {
			return nil, nil
		}
		return nil, err
	}
	return leadcycle.IDPtr(a.ID), nil
}

// connTokens is the TokenSource of one sync: it refreshes the access token
// with the refresh token when LinkedIn refuses it (or it is known to have
// expired) and stores the new tokens, sealed.
type connTokens struct {
	s         *Service
	id        leadcycle.ID
	oauth     OAuth
	mu        sync.Mutex
	access    string
	refresh   string
	expiresAt *time.Time
}

func (t *connTokens) Token(ctx context.Context) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	expired := t.expiresAt != nil && !t.s.opts.Clock.Now().Before(t.expiresAt.Add(-time.Minute))
	if t.access == "" || (expired && t.refresh != "") {
		return t.refreshLocked(ctx)
	}
	return t.access, nil
}

func (t *connTokens) Refresh(ctx context.Context, refused string) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.access != refused && t.access != "" {
		return t.access, nil
	}
	return t.refreshLocked(ctx)
}

func (t *connTokens) refreshLocked(ctx context.Context) (string, error) {
	tok, err := t.oauth.Refresh(ctx, t.refresh)
	if err != nil {
		return "", err
	}
	access, err := t.s.opts.Sealer.Seal(tok.AccessToken)
	if err != nil {
		return "", err
	}
	refresh, err := t.s.opts.Sealer.Seal(tok.RefreshToken)
	if err != nil {
		return "", err
	}
	if err := t.s.store.SaveTokens(context.WithoutCancel(ctx), t.id, access, refresh, tok.ExpiresAt); err != nil {
		return "", fmt.Errorf("save the refreshed LinkedIn token: %w", err)
	}
	t.access, t.refresh, t.expiresAt = tok.AccessToken, tok.RefreshToken, tok.ExpiresAt
	return t.access, nil
}
