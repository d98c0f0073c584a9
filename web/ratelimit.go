package web

import (
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/leadcycle/leadcycle"
	"golang.org/x/time/rate"
)

// ipLimiter rate-limits public endpoints per client address with a token
// bucket each; idle buckets are forgotten.
type ipLimiter struct {
	rate  rate.Limit
	burst int
	mu    sync.Mutex
	seen  map[string]*ipBucket
	swept time.Time
}

type ipBucket struct {
	lim  *rate.Limiter
	last time.Time
}

func newIPLimiter(perSecond float64, burst int) *ipLimiter {
	return &ipLimiter{rate: rate.Limit(perSecond), burst: burst, seen: map[string]*ipBucket{}}
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (l *ipLimiter) allow(ip string) bool {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > time.Minute {
		for k, b := range l.seen {
			if now.Sub(b.last) > 10*time.Minute {
				delete(l.seen, k)
			}
		}
		l.swept = now
	}
	b, ok := l.seen[ip]
	if !ok {
		b = &ipBucket{lim: rate.NewLimiter(l.rate, l.burst)}
		l.seen[ip] = b
	}
	b.last = now
	return b.lim.AllowN(now, 1)
}

// limit wraps a public handler with the limiter.
func (l *ipLimiter) limit(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !l.allow(clientIP(r)) {
			w.Header().Set("Retry-After", strconv.Itoa(max(1, int(float64(l.burst)/float64(l.rate)))))
			writeError(w, r, leadcycle.Errorf(leadcycle.ERateLimited, "too many requests from your address; try again shortly"))
			return
		}
		next(w, r)
	}
}
