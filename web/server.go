// Package web serves leadcycle's HTTP API: JSON over REST under /api/v1,
// problem+json errors, API keys with roles, health, metrics and the OpenAPI
// document.
package web

import (
	"context"
	"crypto/rand"
	"log/slog"
	"net/http"
	"net/mail"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/email"
	"github.com/leadcycle/leadcycle/forms"
	"github.com/leadcycle/leadcycle/password"
	"github.com/leadcycle/leadcycle/seal"
	"github.com/leadcycle/leadcycle/webhook"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Options configure a Server.
type Options struct {
	Logger       *slog.Logger
	Registry     *prometheus.Registry // metrics registry; a new one when nil
	Clock        leadcycle.Clock
	Version      string
	MaxBodyBytes int64         // largest accepted request body; 1 MiB when 0
	KeyCacheTTL  time.Duration // how long a verified API key is trusted without a lookup; 10 s when 0
	// SpoolDir keeps form submissions the database could not take.
	SpoolDir string
	// PublicRate and PublicBurst limit each client address on the public
	// endpoints (forms, registrations); 5/s with a burst of 20 when 0.
	PublicRate  float64
	PublicBurst int
	// WebhookAllowPrivate lets webhooks call private and loopback
	// addresses; WebhookAllowHosts lets them call the listed hosts (or
	// host:port) only.
	WebhookAllowPrivate bool
	WebhookAllowHosts   []string
	// Sealer seals webhook secrets at rest; from LEADCYCLE_SECRET_KEY when
	// nil.
	Sealer *seal.Sealer
	// SecureCookies marks session cookies Secure on plain HTTP too, for a
	// server behind a TLS proxy.
	SecureCookies bool
	// MaxImportBytes is the largest accepted import upload; 1 GiB when 0.
	// ImportDir keeps uploads while they are checked; the system's
	// temporary directory when "".
	MaxImportBytes int64
	ImportDir      string
	// EventRetention is how long handled outbox events and finished
	// webhook deliveries are kept; 0 keeps them forever.
	EventRetention time.Duration
	// Mail configures sending email; nil sends none (sends stay queued).
	Mail *MailOptions
}

// MailOptions configures the mailer.
type MailOptions struct {
	Sender email.Sender
	// PublicURL is where recipients reach this server; links in emails
	// start with it.
	PublicURL string
	// From is the sender of templates that name none; ReturnPath the
	// envelope sender.
	From       mail.Address
	ReturnPath string
}

// Server is the HTTP handler of leadcycle.
type Server struct {
	store    leadcycle.Store
	log      *slog.Logger
	clock    leadcycle.Clock
	version  string
	maxBody  int64
	registry *prometheus.Registry
	metrics  metrics
	mux      *http.ServeMux
	handler  http.Handler
	keys     keyCache
	// openAPIDoc builds the OpenAPI document on first use, once.
	openAPIDoc func() map[string]any
	forms      *forms.Service
	public     *ipLimiter
	// webhookGuard refuses webhook addresses the server may not call;
	// sealer seals their secrets.
	webhookGuard webhook.Guard
	sealer       *seal.Sealer
	retention    time.Duration
	maxImport    int64
	importDir    string
	// secureCookies marks session cookies Secure even on plain HTTP (the
	// server sits behind a TLS proxy); dummyHash is verified for unknown
	// emails so that a login takes as long either way.
	secureCookies bool
	dummyHash     string

	// routes lists every registered route, for the OpenAPI test.
	routes []Route
	// ui renders the pages of the browser interface.
	ui *ui
	// tracker serves the tracking endpoints and signs email tokens.
	tracker *tracker
	// mail configures the mailer; nil when no SMTP server is set.
	mail *MailOptions
}

// Route is one registered method and path pattern.
type Route struct {
	Method, Path string
	// Perm is the permission the route needs; empty for public routes.
	Perm leadcycle.Permission
}

type metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// NewServer builds the handler for store.
func NewServer(store leadcycle.Store, opts Options) *Server {
	s := &Server{
		store:    store,
		log:      opts.Logger,
		clock:    opts.Clock,
		version:  opts.Version,
		maxBody:  opts.MaxBodyBytes,
		registry: opts.Registry,
		mux:      http.NewServeMux(),
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.clock == nil {
		s.clock = leadcycle.SystemClock{}
	}
	if s.maxBody == 0 {
		s.maxBody = 1 << 20
	}
	if s.registry == nil {
		s.registry = prometheus.NewRegistry()
	}
	if opts.PublicRate == 0 {
		opts.PublicRate, opts.PublicBurst = 5, 20
	}
	s.public = newIPLimiter(opts.PublicRate, max(1, opts.PublicBurst))
	s.webhookGuard = webhook.Guard{AllowPrivate: opts.WebhookAllowPrivate, AllowHosts: opts.WebhookAllowHosts}
	s.retention = opts.EventRetention
	s.maxImport, s.importDir = opts.MaxImportBytes, opts.ImportDir
	s.secureCookies = opts.SecureCookies
	s.mail = opts.Mail
	s.dummyHash, _ = password.Hash(rand.Text(), password.Default)
	if s.maxImport == 0 {
		s.maxImport = 1 << 30
	}
	sealer := opts.Sealer
	if sealer == nil {
		var err error
		if sealer, err = seal.SealerFromEnv(os.Getenv); err != nil {
			s.log.Error("webhook secrets are stored unsealed: " + err.Error())
		}
	}
	s.sealer = sealer.For("webhook-secret")
	s.forms = &forms.Service{Store: store, SpoolDir: opts.SpoolDir, Log: s.log, RetryAfter: 10 * time.Second}
	s.keys = keyCache{ttl: opts.KeyCacheTTL, entries: map[string]keyEntry{}}
	if s.keys.ttl == 0 {
		s.keys.ttl = 10 * time.Second
	}
	s.metrics = metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "leadcycle_http_requests_total", Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "leadcycle_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route"}),
	}
	s.registry.MustRegister(s.metrics.requests, s.metrics.latency)
	registerScoringMetrics(s.registry, s.store)
	registerWriterMetrics(s.registry, s.store)
	registerOutboxMetrics(s.registry, s.store)
	s.openAPIDoc = sync.OnceValue(buildOpenAPI)
	s.registerRoutes()
	s.handler = s.observe(s.mux)
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Routes returns the registered routes.
func (s *Server) Routes() []Route { return slices.Clone(s.routes) }

// handle registers h for method and path. A route with a permission requires
// an API key whose role holds it; the check is made here, for every route.
func (s *Server) handle(method, path string, perm leadcycle.Permission, h http.HandlerFunc) {
	s.routes = append(s.routes, Route{Method: method, Path: path, Perm: perm})
	var handler http.Handler = h
	if perm != "" {
		if strings.HasPrefix(path, "/api/v1/leads/{id}") {
			h = s.scopeLead(h)
		}
		handler = s.authorize(perm, withActor(h))
	}
	s.mux.Handle(method+" "+path, handler)
}

func (s *Server) registerRoutes() {
	s.handle("GET", "/healthz", "", s.healthz)
	s.handle("GET", "/metrics", "", promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{}).ServeHTTP)
	s.handle("GET", "/api/openapi.json", "", s.openAPI)

	register(s, resource[leadcycle.Contact]{name: "contacts", schema: "Contact", repo: s.store.Contacts})
	register(s, resource[leadcycle.Account]{name: "accounts", schema: "Account", repo: s.store.Accounts})
	register(s, resource[leadcycle.Lead]{name: "leads", schema: "Lead", repo: s.store.Leads, readOnly: []string{"scores"},
		adjustPatch: adjustLeadPatch, checkCreate: checkLeadPatch, checkPatch: checkLeadUpdate, scope: scopeLeadList})
	register(s, resource[leadcycle.Opportunity]{name: "opportunities", schema: "Opportunity", repo: s.store.Opportunities, readOnly: []string{"closed_at"}})
	register(s, resource[leadcycle.Interaction]{name: "interactions", schema: "Interaction", repo: s.store.Interactions, appendOnly: true})
	register(s, resource[leadcycle.Task]{name: "tasks", schema: "Task", repo: s.store.Tasks, readOnly: []string{"completed_at"}})
	register(s, resource[leadcycle.FieldDef]{name: "fields", schema: "Field", repo: s.store.Fields})
	s.registerCapture()
	s.registerTracking()
	s.registerLinkedIn()
	s.registerScoring()
	s.registerSegments()
	s.registerJourneys()
	s.registerWorkflow()
	s.registerWebhooks()
	s.registerImports()
	s.registerLogin()
	s.registerPersonalData()
	s.registerStats()
	s.registerAPIKeys()
	s.ui = newUI()
	s.registerUI()

	s.handleUnmatched()
}

// deniableMethods are the methods answered with 405 on a known path that
// does not take them; other methods get 404.
var deniableMethods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

// handleUnmatched answers unknown paths with 404 and known paths with a wrong
// method with 405, both as problem documents.
func (s *Server) handleUnmatched() {
	methods := map[string][]string{}
	for _, r := range s.routes {
		methods[r.Path] = append(methods[r.Path], r.Method)
	}
	paths := make([]string, 0, len(methods))
	for p := range methods {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		allow := methods[p]
		if slices.Contains(allow, "GET") {
			allow = append(allow, "HEAD")
		}
		sort.Strings(allow)
		methodDenied := func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			writeError(w, r, leadcycle.Errorf(leadcycle.EMethod, "method %s is not allowed on %s; allowed: %s", r.Method, r.URL.Path, strings.Join(allow, ", ")))
		}
		// One pattern per method: a pattern for every method would conflict
		// with the routes of a sibling path (POST /interactions/batch and
		// GET /interactions/{id}).
		for _, m := range deniableMethods {
			if !slices.Contains(allow, m) {
				s.mux.HandleFunc(m+" "+p, methodDenied)
			}
		}
	}
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		err := leadcycle.Errorf(leadcycle.ENotFound, "no such path: %s", r.URL.Path)
		if wantsPage(r) {
			sess, u, _ := s.cookieSession(r)
			csrf := ""
			if sess != nil {
				csrf = sess.CSRFToken
			}
			s.renderError(w, r, s.newPage(r, u, csrf), err)
			return
		}
		writeError(w, r, err)
	})
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "database": "down"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "database": "ok", "version": s.version})
}

// keyCache remembers verified API keys for a short time so that most requests
// need no database lookup. A key revoked through this server stops working at
// once (forget); one revoked elsewhere (the CLI, another node) within the TTL.
type keyCache struct {
	ttl     time.Duration
	mu      sync.Mutex
	entries map[string]keyEntry
	// forgets counts the calls of forget, so that a lookup that began
	// before one does not cache what it read.
	forgets uint64
}

// forget drops the cached entries of the key with the id.
func (c *keyCache) forget(id leadcycle.ID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.forgets++
	for hash, e := range c.entries {
		if e.key.ID == id {
			delete(c.entries, hash)
		}
	}
}

type keyEntry struct {
	key     *leadcycle.APIKey
	expires time.Time
	touched time.Time
}

// authorize checks the bearer key and that its role holds perm.
func (s *Server) authorize(perm leadcycle.Permission, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		var key *leadcycle.APIKey
		var err error
		if _, noCookie := r.Cookie(SessionCookie); r.Header.Get("Authorization") == "" && noCookie == nil {
			// A browser session: its user's role, and the CSRF token on
			// every request that changes something.
			var sess *leadcycle.Session
			var u *leadcycle.User
			if sess, u, err = s.cookieSession(r); err == nil {
				err = checkCSRF(r, sess)
				key, ctx = sessionPrincipal(u), context.WithValue(ctx, ctxKeyUser{}, u)
			}
		} else {
			key, err = s.authenticate(r)
		}
		if err != nil {
			writeError(w, r, err)
			return
		}
		if !leadcycle.Can(key.Role, perm) {
			resource, action, _ := strings.Cut(string(perm), ":")
			writeError(w, r, leadcycle.Errorf(leadcycle.EForbidden, "the role %s may not %s %s", key.Role, strings.ReplaceAll(action, "_", " "), resource))
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(ctx, ctxAPIKey, key)))
	})
}

func (s *Server) authenticate(r *http.Request) (*leadcycle.APIKey, error) {
	h := r.Header.Get("Authorization")
	secret, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || secret == "" {
		return nil, leadcycle.Errorf(leadcycle.EUnauthorized, "an API key is required: send Authorization: Bearer <key>")
	}
	hash := leadcycle.HashAPIKey(strings.TrimSpace(secret))
	now := time.Now()
	s.keys.mu.Lock()
	e, ok := s.keys.entries[hash]
	forgets := s.keys.forgets
	s.keys.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.key, nil
	}
	key, err := s.store.APIKeys().APIKeyByHash(r.Context(), hash)
	if leadcycle.ErrorCode(err) == leadcycle.ENotFound {
		return nil, leadcycle.Errorf(leadcycle.EUnauthorized, "the API key is not valid or has been revoked")
	}
	if err != nil {
		return nil, err
	}
	// Record use at most once per TTL so that reads do not become writes.
	if now.Sub(e.touched) > time.Minute {
		e.touched = now
		if err := s.store.APIKeys().TouchAPIKey(r.Context(), key.ID, s.clock.Now()); err != nil {
			logger(r.Context()).Warn("touch api key", slog.String("error", err.Error()))
		}
	}
	s.keys.mu.Lock()
	if len(s.keys.entries) > 10_000 {
		clear(s.keys.entries)
	}
	if s.keys.forgets == forgets { // else the key may have been revoked since the lookup
		s.keys.entries[hash] = keyEntry{key: key, expires: now.Add(s.keys.ttl), touched: e.touched}
	}
	s.keys.mu.Unlock()
	return key, nil
}

// scoringLag is implemented by stores that measure how long leads wait for
// their new scores.
type scoringLag interface {
	ScoringLag(reset bool) (n int64, p50, p99, worst time.Duration)
}

// registerScoringMetrics exports the scorer's lag since the start, when the
// store measures it.
func registerScoringMetrics(reg *prometheus.Registry, st leadcycle.Store) {
	lag, ok := st.(scoringLag)
	if !ok {
		return
	}
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "leadcycle_scoring_leads_total", Help: "Leads rescored since the start.",
	}, func() float64 { n, _, _, _ := lag.ScoringLag(false); return float64(n) }))
	for _, q := range []struct {
		name, help string
		pick       func(p50, p99, worst time.Duration) time.Duration
	}{
		{"leadcycle_scoring_lag_p50_seconds", "Median wait from the change that queued a lead to its new scores, since the start (histogram bucket bound).", func(p50, _, _ time.Duration) time.Duration { return p50 }},
		{"leadcycle_scoring_lag_p99_seconds", "99th percentile of that wait (histogram bucket bound).", func(_, p99, _ time.Duration) time.Duration { return p99 }},
		{"leadcycle_scoring_lag_max_seconds", "Longest such wait.", func(_, _, worst time.Duration) time.Duration { return worst }},
	} {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: q.name, Help: q.help}, func() float64 {
			_, p50, p99, worst := lag.ScoringLag(false)
			return q.pick(p50, p99, worst).Seconds()
		}))
	}
}

// writerUse is implemented by the SQL stores: SQLite's transactions take
// turns on its one writer; PostgreSQL's take none and report zeros.
type writerUse interface {
	WriterUse() (turns int64, waited, held time.Duration)
}

// registerWriterMetrics exports how much the one writer of a single-writer
// database is used: the rate of leadcycle_writer_held_seconds_total is the
// share of time it is busy, which nears 1 as a load reaches what the
// database can take.
func registerWriterMetrics(reg *prometheus.Registry, st leadcycle.Store) {
	w, ok := st.(writerUse)
	if !ok {
		return
	}
	for _, c := range []struct {
		name, help string
		pick       func(turns int64, waited, held time.Duration) float64
	}{
		{"leadcycle_writer_turns_total", "Write transactions that took their turn on the database's one writer, since the start (0 on PostgreSQL).", func(n int64, _, _ time.Duration) float64 { return float64(n) }},
		{"leadcycle_writer_wait_seconds_total", "Time write transactions waited for their turn, added up.", func(_ int64, waited, _ time.Duration) float64 { return waited.Seconds() }},
		{"leadcycle_writer_held_seconds_total", "Time the one writer was held; its rate is the share of time the writer is busy.", func(_ int64, _, held time.Duration) float64 { return held.Seconds() }},
	} {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: c.name, Help: c.help}, func() float64 { return c.pick(w.WriterUse()) }))
	}
}

// outboxBacklog is implemented by stores that count the work waiting in the
// event outbox.
type outboxBacklog interface {
	OutboxBacklog(ctx context.Context) (workflow, webhooks, failed int64, err error)
}

// registerOutboxMetrics exports the outbox's backlog, read once per scrape.
func registerOutboxMetrics(reg *prometheus.Registry, st leadcycle.Store) {
	ob, ok := st.(outboxBacklog)
	if !ok {
		return
	}
	reg.MustRegister(outboxCollector{ob: ob,
		workflow: prometheus.NewDesc("leadcycle_outbox_workflow_pending", "Events the business process and task queues have not handled yet.", nil, nil),
		webhooks: prometheus.NewDesc("leadcycle_outbox_webhooks_pending", "Events not yet turned into webhook deliveries.", nil, nil),
		failed:   prometheus.NewDesc("leadcycle_webhook_deliveries_failed", "Webhook deliveries that failed every attempt (retry them by hand).", nil, nil),
	})
}

// outboxCollector reads the three backlog counts in one query per scrape.
type outboxCollector struct {
	ob                         outboxBacklog
	workflow, webhooks, failed *prometheus.Desc
}

// Describe implements prometheus.Collector.
func (c outboxCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.workflow
	ch <- c.webhooks
	ch <- c.failed
}

// Collect implements prometheus.Collector; the counts are -1 when the
// database does not answer.
func (c outboxCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	w, h, f, err := c.ob.OutboxBacklog(ctx)
	if err != nil {
		w, h, f = -1, -1, -1
	}
	ch <- prometheus.MustNewConstMetric(c.workflow, prometheus.GaugeValue, float64(w))
	ch <- prometheus.MustNewConstMetric(c.webhooks, prometheus.GaugeValue, float64(h))
	ch <- prometheus.MustNewConstMetric(c.failed, prometheus.GaugeValue, float64(f))
}
