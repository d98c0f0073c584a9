package webhook_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leadcycle/leadcycle/webhook"
)

// fakeResolver answers for a few names and fails the test for any other:
// no test resolves a real name.
func fakeResolver(t *testing.T) func(context.Context, string) ([]netip.Addr, error) {
	names := map[string][]string{
		"hooks.example.com":    {"93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"},
		"internal.example.com": {"10.1.2.3"},
		"mixed.example.com":    {"93.184.215.14", "127.0.0.1"},
		"metadata.example.com": {"169.254.169.254"},
		"mapped.example.com":   {"::ffff:10.0.0.1"},
		"empty.example.com":    {},
	}
	return func(_ context.Context, host string) ([]netip.Addr, error) {
		addrs, ok := names[host]
		if !ok {
			t.Errorf("resolved %q, which the test does not know", host)
			return nil, errors.New("no such host")
		}
		var out []netip.Addr
		for _, a := range addrs {
			out = append(out, netip.MustParseAddr(a))
		}
		return out, nil
	}
}

func TestGuardCheckURLRefusesPrivateAddresses(t *testing.T) {
	ctx := context.Background()
	g := webhook.Guard{Resolve: fakeResolver(t)}
	refused := []struct{ url, want string }{
		{"http://127.0.0.1/hook", "127.0.0.1 is a loopback address"},
		{"http://127.0.0.2:8080/hook", "127.0.0.2 is a loopback address"},
		{"http://[::1]:8080/hook", "::1 is a loopback address"},
		{"http://10.0.0.1/hook", "10.0.0.1 is a private address"},
		{"https://172.16.5.4/hook", "172.16.5.4 is a private address"},
		{"https://192.168.1.1/hook", "192.168.1.1 is a private address"},
		{"http://[fd12:3456::1]/hook", "fd12:3456::1 is a private address"},
		{"http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address (the cloud metadata service)"},
		{"http://169.254.1.1/", "169.254.1.1 is a link-local address"},
		{"http://[fe80::1%25eth0]/", "is a link-local address"},
		{"http://[::ffff:127.0.0.1]/hook", "::ffff:127.0.0.1 is a loopback address"},
		{"http://[::ffff:169.254.169.254]/", "link-local"},
		{"http://[64:ff9b::a00:1]/", "private address"},
		{"http://0.0.0.0:8080/", "0.0.0.0 is an unspecified address"},
		{"http://[::]/", ":: is an unspecified address"},
		{"http://0.1.2.3/", "unspecified address"},
		{"http://100.64.0.1/", "100.64.0.1 is a shared address (CGNAT"},
		{"http://100.127.255.254/", "shared address"},
		{"http://224.0.0.1/", "224.0.0.1 is a multicast address"},
		{"http://[ff02::1]/", "multicast"},
		{"http://255.255.255.255/", "broadcast"},
		{"http://localhost:8080/hook", "localhost is a loopback name"},
		{"http://LOCALHOST./hook", "localhost. is a loopback name"},
		{"http://api.localhost/hook", "api.localhost is a loopback name"},
		{"http://internal.example.com/hook", "internal.example.com resolves to 10.1.2.3, a private address"},
		{"http://mixed.example.com/hook", "mixed.example.com resolves to 127.0.0.1, a loopback address"},
		{"http://metadata.example.com/", "resolves to 169.254.169.254, a link-local address"},
		{"http://mapped.example.com/", "resolves to ::ffff:10.0.0.1, a private address"},
	}
	for _, c := range refused {
		err := g.CheckURL(ctx, c.url)
		if err == nil {
			t.Errorf("%s accepted", c.url)
			continue
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "url: ") || !strings.Contains(msg, c.want) || !strings.Contains(msg, "--webhook-allow-private") || !strings.Contains(msg, "--webhook-allow-hosts") {
			t.Errorf("%s: %q, want it to contain %q and how to allow it", c.url, msg, c.want)
		}
		if !errors.Is(err, webhook.ErrRefused) {
			t.Errorf("%s: %v is not ErrRefused", c.url, err)
		}
	}

	// The exact wording.
	err := g.CheckURL(ctx, "http://127.0.0.1/")
	want := "url: 127.0.0.1 is a loopback address; webhooks to private or loopback addresses are refused unless the server runs with --webhook-allow-private or lists the host in --webhook-allow-hosts"
	if err == nil || err.Error() != want {
		t.Errorf("got %q\nwant %q", err, want)
	}
	var re *webhook.RefusedError
	if !errors.As(err, &re) || re.Addr != netip.MustParseAddr("127.0.0.1") || re.Kind != "a loopback address" {
		t.Errorf("RefusedError %+v", re)
	}

	// Not refusals but still errors.
	for _, c := range []struct{ url, want string }{
		{"ftp://hooks.example.com/", "absolute http or https"},
		{"/relative", "absolute http or https"},
		{"http://2130706433/", "neither a host name nor an IP address"},
		{"http://0x7f000001/", "neither a host name nor an IP address"},
		{"http://127.1/", "neither a host name nor an IP address"},
		{"http://empty.example.com/", "has no address"},
		{"http://unknown.example.com/", "cannot resolve"},
	} {
		if c.url == "http://unknown.example.com/" {
			g := webhook.Guard{Resolve: func(context.Context, string) ([]netip.Addr, error) { return nil, errors.New("no such host") }}
			if err := g.CheckURL(ctx, c.url); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s: %v", c.url, err)
			}
			continue
		}
		if err := g.CheckURL(ctx, c.url); err == nil || !strings.Contains(err.Error(), c.want) || errors.Is(err, webhook.ErrRefused) {
			t.Errorf("%s: %v, want %q", c.url, err, c.want)
		}
	}

	// Public addresses and names pass.
	for _, u := range []string{"https://hooks.example.com/leadcycle", "http://93.184.215.14:8080/x", "https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/", "http://100.128.0.1/", "http://172.32.0.1/"} {
		if err := g.CheckURL(ctx, u); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
}

func TestGuardCheckURLAllowsWhatIsConfigured(t *testing.T) {
	ctx := context.Background()
	all := []string{
		"http://127.0.0.1/hook", "http://[::1]:8080/hook", "http://10.0.0.1/hook",
		"http://169.254.169.254/", "http://[::ffff:127.0.0.1]/", "http://localhost:8080/", "http://internal.example.com/",
	}
	private := webhook.Guard{AllowPrivate: true, Resolve: fakeResolver(t)}
	for _, u := range all {
		if err := private.CheckURL(ctx, u); err != nil {
			t.Errorf("AllowPrivate: %s: %v", u, err)
		}
	}

	hosts := webhook.Guard{
		AllowHosts: []string{"10.0.0.1", "LOCALHOST:8080", "[::1]:8080", "internal.example.com", "::ffff:127.0.0.1", " 169.254.169.254 "},
		Resolve:    fakeResolver(t),
	}
	for _, u := range all {
		if err := hosts.CheckURL(ctx, u); u != "http://127.0.0.1/hook" && err != nil {
			t.Errorf("AllowHosts: %s: %v", u, err)
		}
	}
	// Only what is listed: the host, or the host on the listed port.
	for _, u := range []string{"http://127.0.0.1/hook", "http://localhost:9090/", "http://[::1]:9090/", "http://10.0.0.2/"} {
		if err := hosts.CheckURL(ctx, u); !errors.Is(err, webhook.ErrRefused) {
			t.Errorf("AllowHosts: %s: %v", u, err)
		}
	}
	// An address written differently still matches.
	if err := (webhook.Guard{AllowHosts: []string{"0:0::1"}}).CheckURL(ctx, "http://[::1]/"); err != nil {
		t.Errorf("::1 as 0:0::1: %v", err)
	}
	if err := (webhook.Guard{AllowHosts: []string{"[0::1]:8080"}}).CheckURL(ctx, "http://[::1]:8080/"); err != nil {
		t.Errorf("[::1]:8080 as [0::1]:8080: %v", err)
	}
	if err := (webhook.Guard{AllowHosts: []string{"hooks.internal:443"}}).CheckURL(ctx, "https://hooks.internal/"); err != nil {
		t.Errorf("the default https port: %v", err)
	}
}

// loopbackServer counts the requests it is sent.
func loopbackServer(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int32) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if h != nil {
			h(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func TestGuardClientChecksEveryConnection(t *testing.T) {
	srv, hits := loopbackServer(t, nil)
	// The zero guard refuses the loopback server when connecting: the
	// request never arrives.
	_, err := webhook.Guard{}.Client(5 * time.Second).Get(srv.URL)
	if err == nil || !errors.Is(err, webhook.ErrRefused) || !strings.Contains(err.Error(), "127.0.0.1 is a loopback address") {
		t.Fatalf("zero guard: %v", err)
	}
	if hits.Load() != 0 {
		t.Fatalf("the refused request arrived")
	}
	// Names are checked too.
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	localURL := "http://localhost:" + itoa(port) + "/"
	if _, err := (webhook.Guard{}).Client(5 * time.Second).Get(localURL); !errors.Is(err, webhook.ErrRefused) {
		t.Fatalf("zero guard, localhost: %v", err)
	}

	for _, g := range []webhook.Guard{
		{AllowPrivate: true},
		{AllowHosts: []string{"127.0.0.1"}},
		{AllowHosts: []string{srv.Listener.Addr().String()}},
	} {
		resp, err := g.Client(5 * time.Second).Get(srv.URL)
		if err != nil {
			t.Fatalf("%+v: %v", g, err)
		}
		resp.Body.Close()
	}
	if hits.Load() != 3 {
		t.Errorf("%d requests arrived, want 3", hits.Load())
	}
	// Another port of an allowed host:port is refused.
	if _, err := (webhook.Guard{AllowHosts: []string{"127.0.0.1:1"}}).Client(5 * time.Second).Get(srv.URL); !errors.Is(err, webhook.ErrRefused) {
		t.Errorf("another port: %v", err)
	}
}

func TestGuardClientDoesNotFollowRedirects(t *testing.T) {
	target, targetHits := loopbackServer(t, nil)
	srv, _ := loopbackServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+"/elsewhere", http.StatusFound)
	})
	resp, err := webhook.Guard{AllowPrivate: true}.Client(5*time.Second).Post(srv.URL, "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || targetHits.Load() != 0 {
		t.Errorf("status %d, redirect target hit %d times", resp.StatusCode, targetHits.Load())
	}
}

func TestGuardClientUsesNoProxy(t *testing.T) {
	// (Go never proxies loopback requests, so a proxy server would prove
	// nothing here: check the transport instead.)
	t.Setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
	tr, ok := webhook.Guard{}.Client(0).Transport.(*http.Transport)
	if !ok || tr.Proxy != nil {
		t.Fatalf("transport %T with a proxy function", tr)
	}
	if c := (webhook.Guard{}).Client(0); c.Timeout != webhook.DefaultTimeout || c.CheckRedirect == nil {
		t.Errorf("client timeout %s, redirect check %v", c.Timeout, c.CheckRedirect != nil)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
