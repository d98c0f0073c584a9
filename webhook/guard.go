package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// AllowHint tells an operator how to let webhooks reach private addresses.
const AllowHint = "webhooks to private or loopback addresses are refused unless the server runs with --webhook-allow-private or lists the host in --webhook-allow-hosts"

// ErrRefused is matched (errors.Is) by every *RefusedError.
var ErrRefused = errors.New("webhook address refused")

// RefusedError reports a webhook host or address the Guard refuses.
type RefusedError struct {
	// Host is the host as written in the URL (lower case).
	Host string
	// Addr is the refused address; it is the zero Addr when the name itself
	// is refused (localhost).
	Addr netip.Addr
	// Kind says what the address is, with an article: "a loopback
	// address", "a private address"...
	Kind string
}

// Error says which address is refused and how to allow it, for example
// "127.0.0.1 is a loopback address; webhooks to private or loopback
// addresses are refused unless ...".
func (e *RefusedError) Error() string {
	var what string
	switch {
	case !e.Addr.IsValid():
		what = e.Host + " is " + e.Kind
	case e.Host != "" && !sameAddr(e.Host, e.Addr):
		what = e.Host + " resolves to " + e.Addr.String() + ", " + e.Kind
	default:
		what = e.Addr.String() + " is " + e.Kind
	}
	return what + "; " + AllowHint
}

// Is makes errors.Is(err, ErrRefused) true.
func (e *RefusedError) Is(target error) bool { return target == ErrRefused }

func sameAddr(host string, a netip.Addr) bool {
	h, err := netip.ParseAddr(host)
	return err == nil && h.WithZone("") == a.WithZone("")
}

// Guard decides which hosts webhooks may be sent to. The zero Guard refuses
// every non-public address.
type Guard struct {
	// AllowPrivate allows every address, private and loopback included.
	AllowPrivate bool
	// AllowHosts lists hosts allowed whatever their addresses: a name or an
	// IP address ("hooks.internal", "10.0.0.5", "::1"), which allows every
	// port, or a host and port ("hooks.internal:8443", "[::1]:8080").
	AllowHosts []string
	// Resolve looks up the addresses of a host name for CheckURL; nil uses
	// net.DefaultResolver. (The Client resolves with the system resolver and
	// checks the addresses it connects to.)
	Resolve func(ctx context.Context, host string) ([]netip.Addr, error)
}

// CheckURL checks that a webhook URL is an http or https URL whose host is
// allowed: it resolves the host and refuses the URL when any of its
// addresses is not public (see the package documentation), unless
// AllowPrivate is set or the host is listed in AllowHosts. Its errors start
// with "url: "; refused addresses are a *RefusedError.
func (g Guard) CheckURL(ctx context.Context, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return errors.New("url: must be an absolute http or https URL")
	}
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	if g.AllowPrivate || g.hostAllowed(host, port) {
		return nil
	}
	if err := checkName(host); err != nil {
		return fmt.Errorf("url: %w", err)
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if err := checkAddr(host, a); err != nil {
			return fmt.Errorf("url: %w", err)
		}
		return nil
	}
	resolve := g.Resolve
	if resolve == nil {
		resolve = func(ctx context.Context, host string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		}
	}
	addrs, err := resolve(ctx, host)
	if err != nil {
		return fmt.Errorf("url: cannot resolve %s: %w", host, err)
	}
	if len(addrs) == 0 {
		return fmt.Errorf("url: %s has no address", host)
	}
	for _, a := range addrs {
		if err := checkAddr(host, a); err != nil {
			return fmt.Errorf("url: %w", err)
		}
	}
	return nil
}

// hostAllowed reports whether host (lower case, without brackets) or
// host:port is listed in AllowHosts.
func (g Guard) hostAllowed(host, port string) bool {
	host = strings.TrimSuffix(host, ".")
	hostPort := net.JoinHostPort(host, port)
	for _, h := range g.AllowHosts {
		h = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(h)), ".")
		switch {
		case h == "":
		case h == host || h == hostPort:
			return true
		case strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") && h[1:len(h)-1] == host:
			return true
		}
		// The same address written another way: "::1" and "0:0::1".
		if a, err := netip.ParseAddr(strings.Trim(h, "[]")); err == nil && sameAddr(host, a) {
			return true
		}
		if ap, err := netip.ParseAddrPort(h); err == nil && strconv.Itoa(int(ap.Port())) == port && sameAddr(host, ap.Addr()) {
			return true
		}
	}
	return false
}

// checkName refuses localhost names and hosts that only look like numbers
// (such as 2130706433, 127.1 or 0x7f.1, which some resolvers read as
// addresses).
func checkName(host string) error {
	name := strings.TrimSuffix(host, ".")
	if name == "localhost" || strings.HasSuffix(name, ".localhost") || name == "localhost.localdomain" {
		return &RefusedError{Host: host, Kind: "a loopback name"}
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return nil
	}
	last := name[strings.LastIndexByte(name, '.')+1:]
	numeric := last != ""
	if hex, ok := strings.CutPrefix(last, "0x"); ok {
		numeric = numeric && strings.Trim(hex, "0123456789abcdef") == ""
	} else {
		numeric = numeric && strings.Trim(last, "0123456789") == ""
	}
	if numeric {
		return fmt.Errorf("%s is neither a host name nor an IP address in standard form", host)
	}
	return nil
}

var (
	cgnat     = netip.MustParsePrefix("100.64.0.0/10")
	thisNet   = netip.MustParsePrefix("0.0.0.0/8")
	reserved4 = netip.MustParsePrefix("240.0.0.0/4") // includes 255.255.255.255
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
	siteLocal = netip.MustParsePrefix("fec0::/10") // deprecated, still private
	metadata  = netip.MustParseAddr("169.254.169.254")
)

// addrKind says what a non-public address is ("a loopback address"...), or
// returns "" for a public one. IPv4-mapped and NAT64 addresses are judged by
// the IPv4 address they carry.
func addrKind(a netip.Addr) string {
	a = a.WithZone("").Unmap()
	if a.Is6() && nat64.Contains(a) {
		b := a.As16()
		if k := addrKind(netip.AddrFrom4([4]byte(b[12:]))); k != "" {
			return k
		}
	}
	switch {
	case !a.IsValid():
		return "an invalid address"
	case a.IsUnspecified() || (a.Is4() && thisNet.Contains(a)):
		return "an unspecified address"
	case a.IsLoopback():
		return "a loopback address"
	case a.IsPrivate() || (a.Is6() && siteLocal.Contains(a)):
		return "a private address"
	case a == metadata:
		return "a link-local address (the cloud metadata service)"
	case a.IsLinkLocalUnicast():
		return "a link-local address"
	case a.IsMulticast():
		return "a multicast address"
	case a.Is4() && cgnat.Contains(a):
		return "a shared address (CGNAT, 100.64.0.0/10)"
	case a.Is4() && reserved4.Contains(a):
		return "a reserved or broadcast address"
	}
	return ""
}

// checkAddr returns a *RefusedError when a is not public.
func checkAddr(host string, a netip.Addr) error {
	if k := addrKind(a); k != "" {
		return &RefusedError{Host: host, Addr: a, Kind: k}
	}
	return nil
}

// DefaultTimeout is the time a request may take when no timeout is given.
const DefaultTimeout = 10 * time.Second

// Client returns an HTTP client for sending webhooks under the guard: every
// request ends after timeout (DefaultTimeout when not positive); every
// address it connects to is checked, so that a host cannot be rebound to a
// refused address after CheckURL; it uses no proxy, not even one from the
// environment; and it does not follow redirects (the 3xx answer is returned
// as it is, and a Worker counts it as a failed attempt).
func (g Guard) Client(timeout time.Duration) *http.Client {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	g.AllowHosts = append([]string(nil), g.AllowHosts...)
	base := net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		host = strings.ToLower(host)
		if g.AllowPrivate || g.hostAllowed(host, port) {
			return base.DialContext(ctx, network, addr)
		}
		if err := checkName(host); err != nil {
			return nil, err
		}
		d := base
		d.Control = func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("webhook: unexpected address %q", address)
			}
			return checkAddr(host, ap.Addr())
		}
		return d.DialContext(ctx, network, addr)
	}
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			Proxy:                 nil,
			DialContext:           dial,
			ForceAttemptHTTP2:     true,
			TLSHandshakeTimeout:   timeout,
			ResponseHeaderTimeout: timeout,
			MaxIdleConns:          32,
			MaxIdleConnsPerHost:   4,
			IdleConnTimeout:       90 * time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
