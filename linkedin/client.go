package linkedin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Errors a sync can end with.
var (
	// ErrTokenExpired means LinkedIn refused the access token and it could
	// not be refreshed: someone must reconnect the connection (send new
	// tokens).
	ErrTokenExpired = errors.New("token expired: reconnect the LinkedIn connection (send a new access token)")
	// ErrRateLimited means LinkedIn asked to wait longer than a sync waits.
	ErrRateLimited = errors.New("LinkedIn rate limit reached")
)

// Client defaults.
const (
	DefaultPageSize      = 100
	DefaultMaxAttempts   = 5
	DefaultMaxRetryAfter = 2 * time.Minute
	maxBodyBytes         = 32 << 20
	maxPages             = 10_000
)

// TokenSource gives the Client its bearer token.
type TokenSource interface {
	// Token returns the access token to send.
	Token(ctx context.Context) (string, error)
	// Refresh is called once when LinkedIn answered 401 to refused; it
	// returns a new token, or an error wrapping ErrTokenExpired when the
	// connection must be reconnected.
	Refresh(ctx context.Context, refused string) (string, error)
}

// StaticToken is a TokenSource that cannot refresh.
type StaticToken string

// Token implements TokenSource.
func (t StaticToken) Token(context.Context) (string, error) {
	if t == "" {
		return "", fmt.Errorf("%w: the connection has no access token", ErrTokenExpired)
	}
	return string(t), nil
}

// Refresh implements TokenSource.
func (t StaticToken) Refresh(context.Context, string) (string, error) {
	return "", fmt.Errorf("%w: LinkedIn answered 401 Unauthorized and no refresh token is configured", ErrTokenExpired)
}

// Sleeper waits for d or until ctx is done.
type Sleeper func(ctx context.Context, d time.Duration) error

// Sleep is the real Sleeper.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// retrier sends requests, retrying network errors, 429 and 5xx answers with
// bounded backoff (429 waits as long as Retry-After says, within a bound).
type retrier struct {
	http          *http.Client
	sleep         Sleeper
	maxAttempts   int
	maxRetryAfter time.Duration
}

func (r *retrier) defaults() {
	if r.http == nil {
		r.http = &http.Client{Timeout: time.Minute}
	}
	if r.sleep == nil {
		r.sleep = Sleep
	}
	if r.maxAttempts <= 0 {
		r.maxAttempts = DefaultMaxAttempts
	}
	if r.maxRetryAfter <= 0 {
		r.maxRetryAfter = DefaultMaxRetryAfter
	}
}

// backoff is 1 s, 2 s, 4 s… up to 30 s.
func backoff(attempt int) time.Duration {
	d := time.Second << min(attempt-1, 5)
	return min(d, 30*time.Second)
}

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseFloat(v, 64); err == nil && n >= 0 {
		return time.Duration(n * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// reply is a final answer: a status that is not retried (or the last try).
type reply struct {
	status int
	header http.Header
	body   []byte
}

// send builds and sends a request until it gets an answer that is not
// retried, or gives up. what names the request in errors.
func (r *retrier) send(ctx context.Context, what string, build func() (*http.Request, error)) (*reply, error) {
	var lastErr error
	for attempt := 1; ; attempt++ {
		req, err := build()
		if err != nil {
			return nil, err
		}
		var wait time.Duration
		res, err := r.http.Do(req.WithContext(ctx))
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			lastErr = fmt.Errorf("%s: LinkedIn could not be reached: %v", what, unwrapURLError(err))
			wait = backoff(attempt)
		default:
			body, rerr := io.ReadAll(io.LimitReader(res.Body, maxBodyBytes))
			res.Body.Close()
			switch {
			case res.StatusCode == http.StatusTooManyRequests:
				ra, ok := retryAfter(res.Header, time.Now())
				if !ok {
					ra = backoff(attempt)
				}
				if ra > r.maxRetryAfter {
					return nil, fmt.Errorf("%w: %s: LinkedIn asks to wait %s before the next request; the next sync will try again", ErrRateLimited, what, ra.Round(time.Second))
				}
				lastErr = fmt.Errorf("%w: %s: LinkedIn answered 429 Too Many Requests", ErrRateLimited, what)
				wait = ra
			case res.StatusCode >= 500:
				lastErr = fmt.Errorf("%s: LinkedIn answered %d %s%s", what, res.StatusCode, http.StatusText(res.StatusCode), detail(body))
				wait = backoff(attempt)
				if ra, ok := retryAfter(res.Header, time.Now()); ok && ra <= r.maxRetryAfter {
					wait = max(wait, ra)
				}
			case rerr != nil:
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				lastErr = fmt.Errorf("%s: reading LinkedIn's answer: %v", what, rerr)
				wait = backoff(attempt)
			default:
				return &reply{status: res.StatusCode, header: res.Header, body: body}, nil
			}
		}
		if attempt >= r.maxAttempts {
			return nil, &gaveUpError{err: lastErr, attempts: attempt}
		}
		if err := r.sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// gaveUpError is a request that failed every attempt: LinkedIn is down,
// unreachable or keeps limiting the rate.
type gaveUpError struct {
	err      error
	attempts int
}

func (e *gaveUpError) Error() string {
	return fmt.Sprintf("%v (gave up after %d attempts)", e.err, e.attempts)
}
func (e *gaveUpError) Unwrap() error { return e.err }

// unavailable reports whether err says LinkedIn could not be used at all
// (as opposed to refusing one request).
func unavailable(err error) bool {
	var g *gaveUpError
	return errors.As(err, &g) || errors.Is(err, ErrTokenExpired) || errors.Is(err, ErrRateLimited)
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func detail(body []byte) string {
	if d := describeAPIError(body); d != "" {
		return " (" + d + ")"
	}
	return ""
}

// Client reads lead forms and lead form responses from LinkedIn's REST API.
type Client struct {
	BaseURL string // https://api.linkedin.com/rest
	Version string // LinkedIn-Version header, YYYYMM
	Tokens  TokenSource
	// HTTP, Sleep, MaxAttempts and MaxRetryAfter tune requests; zero values
	// take the defaults.
	HTTP          *http.Client
	Sleep         Sleeper
	MaxAttempts   int
	MaxRetryAfter time.Duration
	// AfterPage, if set, runs after each page is handled (the Service renews
	// its lease there).
	AfterPage func(ctx context.Context) error

	once sync.Once
	r    retrier
}

func (c *Client) init() {
	c.once.Do(func() {
		c.r = retrier{http: c.HTTP, sleep: c.Sleep, maxAttempts: c.MaxAttempts, maxRetryAfter: c.MaxRetryAfter}
		c.r.defaults()
		if c.Version == "" {
			c.Version = DefaultAPIVersion
		}
	})
}

// get fetches an API resource with the bearer token, refreshing it once on
// 401.
func (c *Client) get(ctx context.Context, what, u string) ([]byte, error) {
	c.init()
	token, err := c.Tokens.Token(ctx)
	if err != nil {
		return nil, err
	}
	refreshed := false
	for {
		rep, err := c.r.send(ctx, what, func() (*http.Request, error) {
			req, err := http.NewRequest(http.MethodGet, u, nil)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", what, err)
			}
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("LinkedIn-Version", c.Version)
			req.Header.Set("X-Restli-Protocol-Version", "2.0.0")
			req.Header.Set("Accept", "application/json")
			return req, nil
		})
		if err != nil {
			return nil, err
		}
		switch {
		case rep.status == http.StatusOK:
			return rep.body, nil
		case rep.status == http.StatusUnauthorized && !refreshed:
			refreshed = true
			if token, err = c.Tokens.Refresh(ctx, token); err != nil {
				return nil, err
			}
		case rep.status == http.StatusUnauthorized:
			return nil, fmt.Errorf("%w: LinkedIn refused the refreshed token too%s", ErrTokenExpired, detail(rep.body))
		case rep.status == http.StatusForbidden:
			return nil, fmt.Errorf("%s: LinkedIn answered 403 Forbidden%s: the token needs the r_marketing_leadgen_automation permission and a role on the ad account", what, detail(rep.body))
		default:
			return nil, fmt.Errorf("%s: LinkedIn answered %d %s%s", what, rep.status, http.StatusText(rep.status), detail(rep.body))
		}
	}
}

// Responses reads every page of lead form responses matching q, from
// q.Start, and calls fn with each. It stops after an empty page, a page that
// reaches paging.total, or (when LinkedIn gives no total) a short page.
func (c *Client) Responses(ctx context.Context, q ResponsesQuery, fn func(*ResponsesPage) error) error {
	if q.Count <= 0 {
		q.Count = DefaultPageSize
	}
	for pages := 0; ; pages++ {
		if pages >= maxPages {
			return fmt.Errorf("read lead form responses: more than %d pages; LinkedIn's paging does not end", maxPages)
		}
		body, err := c.get(ctx, fmt.Sprintf("read lead form responses (start %d)", q.Start), responsesURL(c.BaseURL, q))
		if err != nil {
			return err
		}
		page, err := ParseResponsesPage(body)
		if err != nil {
			return fmt.Errorf("read lead form responses (start %d): %w", q.Start, err)
		}
		if err := fn(page); err != nil {
			return err
		}
		if c.AfterPage != nil {
			if err := c.AfterPage(ctx); err != nil {
				return err
			}
		}
		if page.Raw == 0 {
			return nil
		}
		q.Start += page.Raw
		if page.HasTotal && q.Start >= page.Total {
			return nil
		}
		if !page.HasTotal && page.Raw < q.Count {
			return nil
		}
	}
}

// LeadForm reads a lead form definition.
func (c *Client) LeadForm(ctx context.Context, id int64) (*Form, error) {
	what := fmt.Sprintf("read lead form %d", id)
	body, err := c.get(ctx, what, leadFormURL(c.BaseURL, id))
	if err != nil {
		return nil, err
	}
	f, err := ParseLeadForm(body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if f.ID == 0 {
		f.ID = id
	}
	return f, nil
}

// OAuthToken is the result of a token refresh.
type OAuthToken struct {
	AccessToken  string
	RefreshToken string     // the new refresh token, or the old one when none was sent
	ExpiresAt    *time.Time // when LinkedIn said
}

// OAuth refreshes access tokens at LinkedIn's token endpoint.
type OAuth struct {
	TokenURL, ClientID, ClientSecret string
	HTTP                             *http.Client
	Sleep                            Sleeper
	MaxAttempts                      int
	Now                              func() time.Time
}

// Refresh trades a refresh token for a new access token. A refused refresh
// token is an error wrapping ErrTokenExpired.
func (o *OAuth) Refresh(ctx context.Context, refreshToken string) (OAuthToken, error) {
	if refreshToken == "" || o.ClientID == "" || o.ClientSecret == "" {
		return OAuthToken{}, fmt.Errorf("%w: LinkedIn answered 401 Unauthorized; to refresh tokens automatically set refresh_token, client_id and client_secret", ErrTokenExpired)
	}
	r := retrier{http: o.HTTP, sleep: o.Sleep, maxAttempts: o.MaxAttempts}
	r.defaults()
	form := url.Values{
		"grant_type":    {"refresh_token"},
		"refresh_token": {refreshToken},
		"client_id":     {o.ClientID},
		"client_secret": {o.ClientSecret},
	}.Encode()
	rep, err := r.send(ctx, "refresh the access token", func() (*http.Request, error) {
		req, err := http.NewRequest(http.MethodPost, o.TokenURL, strings.NewReader(form))
		if err != nil {
			return nil, fmt.Errorf("refresh the access token: %w", err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "application/json")
		return req, nil
	})
	if err != nil {
		return OAuthToken{}, err
	}
	if rep.status == http.StatusBadRequest || rep.status == http.StatusUnauthorized {
		return OAuthToken{}, fmt.Errorf("%w: the refresh token was refused%s", ErrTokenExpired, detail(rep.body))
	}
	if rep.status != http.StatusOK {
		return OAuthToken{}, fmt.Errorf("refresh the access token: LinkedIn answered %d %s%s", rep.status, http.StatusText(rep.status), detail(rep.body))
	}
	tok, err := parseToken(rep.body)
	if err != nil {
		return OAuthToken{}, err
	}
	out := OAuthToken{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken}
	if out.RefreshToken == "" {
		out.RefreshToken = refreshToken
	}
	if tok.ExpiresIn.set && tok.ExpiresIn.v > 0 {
		now := time.Now
		if o.Now != nil {
			now = o.Now
		}
		t := now().Add(time.Duration(tok.ExpiresIn.v) * time.Second).UTC().Truncate(time.Microsecond)
		out.ExpiresAt = &t
	}
	return out, nil
}
