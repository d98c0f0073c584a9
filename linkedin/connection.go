// Package linkedin syncs LinkedIn Lead Gen Form responses into leadcycle.
//
// A Connection is the saved configuration of one sponsored (ad) account: where
// the API is, the OAuth tokens (sealed at rest and never returned by the API),
// how form questions map to leadcycle fields, which matching strategies to use
// and how often to sync. The Client reads lead form responses the way
// LinkedIn's Lead Sync API returns them (paging, token refresh, rate limits
// and retries); the Service turns each response into a leadcycle.CaptureInput
// and hands it to a leadcycle.Capturer, keeping its own record of processed
// submissions so that a sync repeated over the same responses changes nothing;
// the Scheduler runs the syncs on each connection's interval, at most one at a
// time per connection across every node (a lease in the database).
package linkedin

import (
	"context"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/leadcycle/leadcycle"
)

// Defaults of a connection.
const (
	DefaultAPIBaseURL = "https://api.linkedin.com/rest"
	DefaultTokenURL   = "https://www.linkedin.com/oauth/v2/accessToken"
	// DefaultAPIVersion is sent as the LinkedIn-Version header (YYYYMM).
	// LinkedIn sunsets versions after about a year; set api_version on the
	// connection to move on without a new release.
	DefaultAPIVersion = "202601"
	DefaultInterval   = 15 * time.Minute
	MinInterval       = time.Minute
	MaxInterval       = 7 * 24 * time.Hour
)

// Connection is the saved configuration of one LinkedIn sponsored account
// whose lead form responses are synced. Tokens live in Secrets, which is never
// serialised; HasToken and friends say whether they are set.
type Connection struct {
	ID   leadcycle.ID `json:"id"`
	Name string       `json:"name"`
	// SponsoredAccount is the ad account URN, urn:li:sponsoredAccount:123.
	SponsoredAccount string `json:"sponsored_account"`
	// APIBaseURL is where the REST API lives (LinkedIn's unless overridden,
	// e.g. for tests); APIVersion is the LinkedIn-Version header.
	APIBaseURL string `json:"api_base_url"`
	APIVersion string `json:"api_version"`
	// TokenURL, ClientID and the sealed client secret refresh an expired
	// access token with the refresh token.
	TokenURL        string     `json:"token_url"`
	ClientID        string     `json:"client_id"`
	HasClientSecret bool       `json:"has_client_secret"`
	HasToken        bool       `json:"has_token"`
	HasRefreshToken bool       `json:"has_refresh_token"`
	TokenExpiresAt  *time.Time `json:"token_expires_at"`
	// Mapping maps a LinkedIn question to a leadcycle field. Keys: a
	// predefined field (EMAIL, FIRST_NAME…), "question:<id>", "hidden:<name>"
	// (a hidden field of the form) or a question's name. Values: a target
	// (contact.email, lead.custom.budget…) or "" to drop the question. The
	// DefaultMapping applies under it; questions mapped nowhere are dropped.
	Mapping map[string]string `json:"mapping"`
	// CommercialEmailConsents lists the consent checkbox ids that mean
	// consent to commercial email; empty means any consent checkbox.
	CommercialEmailConsents []int64 `json:"commercial_email_consents"`
	// LeadTopic is the topic of the leads created; the form's name when empty.
	LeadTopic string `json:"lead_topic"`
	// ContactStrategyID and LeadStrategyID choose the matching strategies;
	// null means the default strategy of each kind.
	ContactStrategyID *leadcycle.ID `json:"contact_strategy_id"`
	LeadStrategyID    *leadcycle.ID `json:"lead_strategy_id"`
	// IntervalSeconds is how often the scheduler syncs the connection.
	IntervalSeconds  int64 `json:"interval_seconds"`
	Enabled          bool  `json:"enabled"`
	IncludeTestLeads bool  `json:"include_test_leads"`
	// Cursor is the high-water mark: the latest submittedAt of the responses
	// synced so far. Syncs ask LinkedIn for responses submitted since shortly
	// before it; setting it back (or to null) re-reads older responses, which
	// retries the ones that failed and skips the ones already captured.
	Cursor        *time.Time `json:"cursor"`
	LastSyncAt    *time.Time `json:"last_sync_at"`
	LastSuccessAt *time.Time `json:"last_success_at"`
	LastError     string     `json:"last_error"`
	LastStats     SyncStats  `json:"last_stats"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`

	// Secrets are the credentials. In storage they are sealed (see Sealer);
	// the Service opens them only to talk to LinkedIn.
	Secrets Secrets `json:"-"`
}

// Secrets are a connection's credentials.
type Secrets struct {
	AccessToken  string
	RefreshToken string
	ClientSecret string
}

// ReadOnlyFields are the JSON fields of a Connection that clients may not set.
var ReadOnlyFields = []string{"id", "created_at", "updated_at", "has_client_secret", "has_token", "has_refresh_token",
	"last_sync_at", "last_success_at", "last_error", "last_stats"}

// WriteOnlyFields are accepted on create and update but never returned.
var WriteOnlyFields = []string{"access_token", "refresh_token", "client_secret"}

// Interval returns the sync interval as a duration.
func (c *Connection) Interval() time.Duration { return time.Duration(c.IntervalSeconds) * time.Second }

// Due reports whether the scheduler should sync the connection at now.
func (c *Connection) Due(now time.Time) bool {
	if !c.Enabled || (!c.HasToken && !c.HasRefreshToken) {
		return false
	}
	return c.LastSyncAt == nil || !now.Before(c.LastSyncAt.Add(c.Interval()))
}

// Normalize trims text and fills defaults.
func (c *Connection) Normalize() {
	c.Name = strings.TrimSpace(c.Name)
	c.SponsoredAccount = strings.TrimSpace(c.SponsoredAccount)
	if digits := c.SponsoredAccount; digits != "" && strings.Trim(digits, "0123456789") == "" {
		c.SponsoredAccount = "urn:li:sponsoredAccount:" + digits
	}
	c.APIBaseURL = strings.TrimRight(strings.TrimSpace(c.APIBaseURL), "/")
	if c.APIBaseURL == "" {
		c.APIBaseURL = DefaultAPIBaseURL
	}
	c.APIVersion = strings.TrimSpace(c.APIVersion)
	if c.APIVersion == "" {
		c.APIVersion = DefaultAPIVersion
	}
	c.TokenURL = strings.TrimSpace(c.TokenURL)
	if c.TokenURL == "" {
		c.TokenURL = DefaultTokenURL
	}
	c.ClientID = strings.TrimSpace(c.ClientID)
	c.LeadTopic = strings.TrimSpace(c.LeadTopic)
	if c.Mapping == nil {
		c.Mapping = map[string]string{}
	}
	clean := make(map[string]string, len(c.Mapping))
	for k, v := range c.Mapping {
		clean[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	c.Mapping = clean
	if c.CommercialEmailConsents == nil {
		c.CommercialEmailConsents = []int64{}
	}
	if c.IntervalSeconds == 0 {
		c.IntervalSeconds = int64(DefaultInterval / time.Second)
	}
	c.HasToken = c.Secrets.AccessToken != ""
	c.HasRefreshToken = c.Secrets.RefreshToken != ""
	c.HasClientSecret = c.Secrets.ClientSecret != ""
}

var (
	sponsoredAccountPattern = regexp.MustCompile(`^urn:li:sponsoredAccount:[0-9]{1,19}$`)
	apiVersionPattern       = regexp.MustCompile(`^[0-9]{6}(\.[0-9]{2})?$`)
)

// Validate checks the connection's fields.
func (c *Connection) Validate() error {
	var errs []leadcycle.FieldError
	add := func(field, msg string) { errs = append(errs, leadcycle.FieldError{Field: field, Message: msg}) }
	text := func(field, s string, n int) {
		switch {
		case !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0:
			add(field, "must be valid UTF-8 without NUL characters")
		case utf8.RuneCountInString(s) > n:
			add(field, "must be at most "+strconv.Itoa(n)+" characters")
		}
	}
	if c.Name == "" {
		add("name", "is required")
	}
	text("name", c.Name, 200)
	if !sponsoredAccountPattern.MatchString(c.SponsoredAccount) {
		add("sponsored_account", "must be a sponsored account URN such as urn:li:sponsoredAccount:123456 (or its number)")
	}
	if msg := checkEndpoint(c.APIBaseURL); msg != "" {
		add("api_base_url", msg)
	}
	if msg := checkEndpoint(c.TokenURL); msg != "" {
		add("token_url", msg)
	}
	if !apiVersionPattern.MatchString(c.APIVersion) {
		add("api_version", "must be a LinkedIn API version such as 202601 (YYYYMM)")
	}
	text("client_id", c.ClientID, 200)
	text("lead_topic", c.LeadTopic, 300)
	if len(c.Mapping) > 200 {
		add("mapping", "must have at most 200 entries")
	}
	keys := make([]string, 0, len(c.Mapping))
	for k := range c.Mapping {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		field := "mapping." + k
		if k == "" {
			add("mapping", "keys must not be empty")
			continue
		}
		text(field, k, 300)
		if id, ok := strings.CutPrefix(k, "question:"); ok {
			if n, err := strconv.ParseInt(id, 10, 64); err != nil || n < 0 {
				add(field, "question:<id> needs a numeric question id")
			}
		}
		if msg := CheckTarget(c.Mapping[k]); msg != "" {
			add(field, msg)
		}
	}
	if len(c.CommercialEmailConsents) > 50 {
		add("commercial_email_consents", "must list at most 50 consent ids")
	}
	if c.IntervalSeconds < int64(MinInterval/time.Second) || c.IntervalSeconds > int64(MaxInterval/time.Second) {
		add("interval_seconds", "must be from 60 (one minute) to 604800 (one week)")
	}
	if c.ContactStrategyID != nil && *c.ContactStrategyID <= 0 {
		add("contact_strategy_id", "must be a strategy id, or null for the default")
	}
	if c.LeadStrategyID != nil && *c.LeadStrategyID <= 0 {
		add("lead_strategy_id", "must be a strategy id, or null for the default")
	}
	if len(errs) == 0 {
		return nil
	}
	return &leadcycle.Error{Code: leadcycle.EInvalid, Message: "validation failed: " + errs[0].Field + ": " + errs[0].Message, Fields: errs}
}

// checkEndpoint accepts https addresses, and http only on the loopback
// interface (a test server): tokens must never cross a network in clear.
func checkEndpoint(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "must be an absolute https address without query, fragment or credentials"
	}
	switch u.Scheme {
	case "https":
		return ""
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); (ip != nil && ip.IsLoopback()) || host == "localhost" {
			return ""
		}
		return "must use https (plain http is allowed only on the loopback interface)"
	default:
		return "must be an absolute https address"
	}
}

// Targets lists the built-in leadcycle fields a LinkedIn question can fill;
// contact.custom.<name> and lead.custom.<name> fill custom fields.
var Targets = []string{
	"contact.first_name", "contact.last_name", "contact.email", "contact.phone", "contact.job_title",
	"lead.topic", "lead.description", "lead.campaign", "account.name",
}

// CheckTarget returns what is wrong with a mapping target, or "".
func CheckTarget(t string) string {
	if t == "" || slices.Contains(Targets, t) {
		return ""
	}
	for _, p := range []string{"contact.custom.", "lead.custom."} {
		if name, ok := strings.CutPrefix(t, p); ok {
			if leadcycle.ValidSlug(name) {
				return ""
			}
			return "custom field names are lower-case keys: " + p + "<name>"
		}
	}
	return "must be one of " + strings.Join(Targets, ", ") + ", contact.custom.<name>, lead.custom.<name>, or \"\" to drop the question"
}

// DefaultMapping maps LinkedIn's predefined fields; a connection's Mapping
// overrides it key by key (map a key to "" to drop it).
var DefaultMapping = map[string]string{
	"FIRST_NAME":        "contact.first_name",
	"LAST_NAME":         "contact.last_name",
	"EMAIL":             "contact.email",
	"WORK_EMAIL":        "contact.email",
	"PHONE_NUMBER":      "contact.phone",
	"WORK_PHONE_NUMBER": "contact.phone",
	"JOB_TITLE":         "contact.job_title",
	"COMPANY_NAME":      "account.name",
}

// SyncStats counts what a sync did with the responses it read.
type SyncStats struct {
	// Fetched is the number of responses read from LinkedIn.
	Fetched int `json:"fetched"`
	// ContactsCreated and LeadsCreated count new records.
	ContactsCreated int `json:"contacts_created"`
	LeadsCreated    int `json:"leads_created"`
	// Matched counts responses whose contact matched an existing one.
	Matched int `json:"matched"`
	// Skipped counts responses captured before, and test leads.
	Skipped int `json:"skipped"`
	// Errors counts responses that could not be captured.
	Errors int `json:"errors"`
}

// Add adds o to s.
func (s *SyncStats) Add(o SyncStats) {
	s.Fetched += o.Fetched
	s.ContactsCreated += o.ContactsCreated
	s.LeadsCreated += o.LeadsCreated
	s.Matched += o.Matched
	s.Skipped += o.Skipped
	s.Errors += o.Errors
}

// Sync run triggers and statuses.
const (
	TriggerSchedule = "schedule"
	TriggerAPI      = "api"
	TriggerCLI      = "cli"

	RunRunning     = "running"
	RunSucceeded   = "succeeded"
	RunFailed      = "failed"
	RunInterrupted = "interrupted"
)

// SyncRun is the log of one sync of a connection.
type SyncRun struct {
	ID           leadcycle.ID  `json:"id"`
	ConnectionID leadcycle.ID  `json:"connection_id"`
	Trigger      string        `json:"trigger"`
	Status       string        `json:"status"`
	StartedAt    time.Time     `json:"started_at"`
	FinishedAt   *time.Time    `json:"finished_at"`
	Stats        SyncStats     `json:"stats"`
	Error        string        `json:"error"`
	Failures     []SyncFailure `json:"failures"`
}

// MaxFailures bounds the failures kept per run.
const MaxFailures = 50

// SyncFailure says why one response could not be captured.
type SyncFailure struct {
	SubmissionID string `json:"submission_id"`
	Message      string `json:"message"`
}

// Submission statuses.
const (
	SubmissionCaptured = "captured"
	SubmissionFailed   = "failed"
)

// Submission is the connector's record of one processed response.
type Submission struct {
	ConnectionID  leadcycle.ID
	SubmissionID  string
	Status        string
	SubmittedAt   time.Time
	ContactID     *leadcycle.ID
	LeadID        *leadcycle.ID
	InteractionID *leadcycle.ID
	Error         string
	ProcessedAt   time.Time
}

// Store keeps connections, their leases, processed submissions and sync runs.
// It keeps Secrets as given: sealing them is the Service's job.
type Store interface {
	// CreateConnection validates and stores c, assigning its id and times.
	CreateConnection(ctx context.Context, c *Connection) error
	// Connection returns a connection, or ENotFound.
	Connection(ctx context.Context, id leadcycle.ID) (*Connection, error)
	// Connections returns every connection, by id.
	Connections(ctx context.Context) ([]Connection, error)
	// UpdateConnection loads a connection, lets fn change it and stores the
	// result in one transaction; an error from fn aborts the update.
	UpdateConnection(ctx context.Context, id leadcycle.ID, fn func(*Connection) error) (*Connection, error)
	// DeleteConnection removes a connection with its submissions and runs.
	DeleteConnection(ctx context.Context, id leadcycle.ID) error

	// AcquireLease takes the connection's sync lease for ttl when nobody
	// holds it (or the holder's lease ran out) and reports whether it did.
	AcquireLease(ctx context.Context, id leadcycle.ID, owner string, ttl time.Duration) (bool, error)
	// RenewLease extends a lease owner still holds; false when it was lost.
	RenewLease(ctx context.Context, id leadcycle.ID, owner string, ttl time.Duration) (bool, error)
	// ReleaseLease gives a lease back, if owner still holds it.
	ReleaseLease(ctx context.Context, id leadcycle.ID, owner string) error

	// SaveTokens replaces the sealed access and refresh tokens.
	SaveTokens(ctx context.Context, id leadcycle.ID, accessToken, refreshToken string, expiresAt *time.Time) error
	// RecordSync stores the outcome of a sync on the connection: last sync
	// time, error and stats; the cursor and last success time when success.
	RecordSync(ctx context.Context, id leadcycle.ID, at time.Time, success bool, cursor *time.Time, errMsg string, stats SyncStats) error

	// CapturedSubmissions returns which of ids were captured for the connection.
	CapturedSubmissions(ctx context.Context, connectionID leadcycle.ID, ids []string) (map[string]bool, error)
	// SaveSubmission inserts or replaces the record of one response.
	SaveSubmission(ctx context.Context, s *Submission) error
	// CountSubmissions counts a connection's submissions per status.
	CountSubmissions(ctx context.Context, connectionID leadcycle.ID) (map[string]int, error)

	// CreateSyncRun stores a new run; runs of the connection still marked
	// running are marked interrupted (the caller holds the lease, so they
	// are leftovers of a crash). Old runs beyond the latest 200 are pruned.
	CreateSyncRun(ctx context.Context, r *SyncRun) error
	// FinishSyncRun stores the final status, stats, error and failures.
	FinishSyncRun(ctx context.Context, r *SyncRun) error
	// SyncRuns returns a connection's latest runs, newest first.
	SyncRuns(ctx context.Context, connectionID leadcycle.ID, limit int) ([]SyncRun, error)
}

// Provider is implemented by storage that keeps LinkedIn connections.
type Provider interface {
	LinkedIn() Store
}
