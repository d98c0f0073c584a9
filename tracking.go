package leadcycle

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// TrackingSite is a website that embeds the tracking script with
// data-site="Key". Its settings say which pages may send page views and
// whether the site's visitors consent to tracking by using it.
type TrackingSite struct {
	ID   ID     `json:"id"`
	Key  string `json:"key"`
	Name string `json:"name"`
	// AllowedOrigins, when not empty, lists the origins
	// ("https://www.example.com", or "https://*.example.com" for its
	// subdomains) whose pages may send page views; other origins are refused.
	AllowedOrigins []string `json:"allowed_origins"`
	// ConsentImplied is the site owner's statement that visitors consent to
	// tracking by using the site (or that the site collects consent itself
	// for every visitor). Without it, the script tracks only visitors whose
	// page says they consented.
	ConsentImplied bool      `json:"consent_implied"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// NewTrackingSiteKey returns a fresh random site key.
func NewTrackingSiteKey() string {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return "site_" + hex.EncodeToString(b)
}

var siteKeyPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{4,64}$`)

// Normalize trims text and normalises the allowed origins.
func (s *TrackingSite) Normalize() {
	s.Key = strings.TrimSpace(s.Key)
	s.Name = strings.TrimSpace(s.Name)
	origins := make([]string, 0, len(s.AllowedOrigins))
	for _, o := range s.AllowedOrigins {
		o = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(o)), "/")
		if o != "" {
			origins = append(origins, o)
		}
	}
	s.AllowedOrigins = origins
}

// Validate checks the site's own fields.
func (s *TrackingSite) Validate() error {
	var v validator
	v.required("key", s.Key)
	if s.Key != "" && !siteKeyPattern.MatchString(s.Key) {
		v.add("key", "must be 4 to 64 letters, digits, underscores or hyphens")
	}
	v.required("name", s.Name)
	v.maxLen("name", s.Name, 200)
	if len(s.AllowedOrigins) > 50 {
		v.add("allowed_origins", "must have at most 50 origins")
	}
	for _, o := range s.AllowedOrigins {
		if !validOrigin(o) {
			v.add("allowed_origins", "\""+o+"\" is not an origin such as https://www.example.com or https://*.example.com")
			break
		}
	}
	return v.Err()
}

func validOrigin(o string) bool {
	if len(o) > 300 {
		return false
	}
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return false
	}
	host := strings.TrimPrefix(u.Hostname(), "*.")
	return host != "" && !strings.ContainsAny(host, "*/@ ")
}

// AllowsOrigin reports whether a page of origin (scheme://host[:port]) may
// send page views for the site. Every origin may when AllowedOrigins is empty.
func (s *TrackingSite) AllowsOrigin(origin string) bool {
	if len(s.AllowedOrigins) == 0 {
		return true
	}
	origin = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(origin)), "/")
	if origin == "" {
		return false
	}
	for _, o := range s.AllowedOrigins {
		if o == origin {
			return true
		}
		scheme, host, ok := strings.Cut(o, "://*.")
		if ok && strings.HasPrefix(origin, scheme+"://") && strings.HasSuffix(origin, "."+host) {
			return true
		}
	}
	return false
}

var visitorIDPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

// ValidVisitorID reports whether id is a visitor id as the tracking script
// makes them: 128 random bits in lower-case hex.
func ValidVisitorID(id string) bool { return visitorIDPattern.MatchString(id) }

// Visitor is a browser that consented to tracking, known by the random id the
// tracking script keeps in a first-party cookie. It is anonymous until it is
// stitched to a contact.
type Visitor struct {
	ID           string     `json:"id"`
	SiteID       *ID        `json:"site_id"`
	ContactID    *ID        `json:"contact_id"`
	FirstSeenAt  time.Time  `json:"first_seen_at"`
	LastSeenAt   time.Time  `json:"last_seen_at"`
	IdentifiedAt *time.Time `json:"identified_at"`
}

// PageVisit is one page view of an anonymous visitor.
type PageVisit struct {
	ID         ID        `json:"id"`
	VisitorID  string    `json:"visitor_id"`
	SiteID     *ID       `json:"site_id"`
	URL        string    `json:"url"`
	Referrer   string    `json:"referrer"`
	Title      string    `json:"title"`
	Device     string    `json:"device"` // desktop, mobile, tablet or other
	OccurredAt time.Time `json:"occurred_at"`
}

// Limits of page view fields.
const (
	MaxTrackedURL   = 2048
	MaxTrackedTitle = 300
)

// PageView is a page view to record. OccurredAt defaults to the store's now.
type PageView struct {
	VisitorID  string
	SiteID     *ID
	URL        string
	Referrer   string
	Title      string
	Device     string
	OccurredAt time.Time
}

// Validate checks a page view. Callers truncate titles and drop referrers
// that are not web addresses; what is left must be right.
func (p *PageView) Validate() error {
	var v validator
	if !ValidVisitorID(p.VisitorID) {
		v.add("visitor_id", "must be 32 lower-case hexadecimal characters")
	}
	v.maxLen("url", p.URL, MaxTrackedURL)
	if !ValidWebURL(p.URL) {
		v.add("url", "must be an absolute http or https address")
	}
	v.maxLen("referrer", p.Referrer, MaxTrackedURL)
	v.maxLen("title", p.Title, MaxTrackedTitle)
	v.maxLen("device", p.Device, 20)
	return v.Err()
}

// ValidWebURL reports whether s is an absolute http(s) URL with a host.
func ValidWebURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.Opaque == "" &&
		!strings.ContainsAny(s, "\x00\r\n")
}

// PageViewResult says what happened to a page view.
type PageViewResult struct {
	// Recorded is false when the visitor's contact denied tracking.
	Recorded bool
	// ContactID is the visitor's contact, when it is identified; the page
	// view was then recorded as the interaction InteractionID.
	ContactID     *ID
	InteractionID *ID
}

// EmailOpenDedupWindow is how long after an open of an email by a contact
// further opens of the same email by the same contact are not recorded: mail
// clients and privacy proxies fetch images several times.
const EmailOpenDedupWindow = time.Minute

// EmailEvent is an open or a click of a tracked email.
type EmailEvent struct {
	Type      string // InteractionEmailOpened or InteractionEmailClicked
	ContactID ID
	LeadID    *ID
	EmailID   string
	URL       string // clicks: the address the link led to
	// OccurredAt defaults to the store's now.
	OccurredAt time.Time
}

// TrackingStore keeps website visitors, their page views, tracking sites,
// email opens and clicks, and the server's secrets.
type TrackingStore interface {
	TrackingSites() Repo[TrackingSite]
	// TrackingSiteByKey returns the site with the key, or ENotFound.
	TrackingSiteByKey(ctx context.Context, key string) (*TrackingSite, error)
	// RecordPageView records a page view: anonymously while the visitor is
	// not identified, as a page_view interaction of its contact once it is
	// (unless the contact denied tracking: then nothing is recorded).
	RecordPageView(ctx context.Context, v PageView) (PageViewResult, error)
	// StitchVisitor links the visitor to the contact and turns its anonymous
	// page visits into page_view interactions of the contact, atomically; it
	// returns how many it converted. Calling it again converts nothing
	// twice. A visitor stitched to another contact before is linked to this
	// one from now on. When the contact denied tracking, the anonymous visits
	// are deleted instead and 0 is returned.
	StitchVisitor(ctx context.Context, visitorID string, contactID ID) (int, error)
	// Visitor returns the visitor with the id, or ENotFound.
	Visitor(ctx context.Context, id string) (*Visitor, error)
	// PageVisits returns the anonymous page visits of a visitor, oldest first.
	PageVisits(ctx context.Context, visitorID string) ([]PageVisit, error)
	// PurgeAnonymousVisits deletes the page visits of unidentified visitors
	// that occurred before the time, and the unidentified visitors last seen
	// before it; it returns how many of each it deleted.
	PurgeAnonymousVisits(ctx context.Context, before time.Time) (visits, visitors int, err error)
	// RecordEmailEvent records an email_opened or email_clicked interaction.
	// It returns nil, recording nothing, when the contact no longer exists,
	// when it denied tracking, or for an open of the same email by the same
	// contact within EmailOpenDedupWindow of a recorded one.
	RecordEmailEvent(ctx context.Context, e EmailEvent) (*Interaction, error)
	// Secret returns the server secret with the name, generating size
	// random bytes the first time. Every node gets the same value.
	Secret(ctx context.Context, name string, size int) ([]byte, error)
}

func init() {
	ListSpecs["tracking-sites"] = ListSpec{
		Filters: append([]FilterSpec{eq("key", KindString), eq("consent_implied", KindBool)}, timeFilters()...),
		Sorts:   []string{"created_at", "updated_at", "name"},
	}
}
