package tracking

import (
	"encoding/json"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// TestScriptHasTheConsentGate reads the script's text: every send and every
// write of the visitor id must go through the consent check, and the check
// must accept only explicit consent or the site's implied consent.
func TestScriptHasTheConsentGate(t *testing.T) {
	js := string(Script)
	for _, want := range []string{
		`function allowed() { return consent === true || (consent === null && implied && !gpc()); }`,
		`window.leadcycleConsent`, `"consent"`, `consent_implied`, `globalPrivacyControl`,
		`/t/collect`, `/t/config`, `sendBeacon`, `getRandomValues`, `new Uint8Array(16)`,
		`"_lc_visitor"`, `data-leadcycle-visitor`, `case "visitor"`,
	} {
		if !strings.Contains(js, want) {
			t.Errorf("t.js lacks %q", want)
		}
	}
	// The functions that send or store start by asking allowed().
	for _, fn := range []string{"send", "visitor"} {
		re := regexp.MustCompile(`function ` + fn + `\(\) \{\s*(//[^\n]*\n\s*)*if \(!allowed\(\)`)
		if !re.MatchString(js) {
			t.Errorf("function %s does not start with the consent gate", fn)
		}
	}
	// keep() (the only writer of the id) is called from visitor() alone.
	if n := strings.Count(js, "keep("); n != 2 { // its definition and one call
		t.Errorf("keep( appears %d times, want its definition and one call in visitor()", n)
	}
	if strings.Contains(js, "import ") || strings.Contains(js, "require(") {
		t.Error("t.js must have no dependencies")
	}
	if len(Script) > 12<<10 {
		t.Errorf("t.js is %d bytes; keep it small", len(Script))
	}
	if !strings.HasPrefix(ScriptETag, `"`) || len(ScriptETag) != 26 {
		t.Errorf("ETag = %s", ScriptETag)
	}
}

// scriptRun is what the harness reports.
type scriptRun struct {
	Before struct {
		Beacons, StorageWrites, CookieWrites int
	}
	Beacons []struct {
		URL  string
		Type string
		Body map[string]any
	}
	Fetches       []string
	Storage       map[string]string
	StorageWrites []string
	Cookie        string
	CookieWrites  []string
	Visitor       string
	LooseInput    string
	MarkedInput   string
	Hidden        []struct{ Name, Type, Value string }
}

// runScript runs t.js in a fake browser under Node.js.
func runScript(t *testing.T, scenario map[string]any) scriptRun {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed; the script's behaviour is not tested")
	}
	sc, _ := json.Marshal(scenario)
	out, err := exec.Command(node, "testdata/harness.js", "t.js", string(sc)).Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("harness: %v\n%s", err, stderr)
	}
	var r scriptRun
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("harness output: %v: %s", err, out)
	}
	return r
}

var hexID = regexp.MustCompile(`^[0-9a-f]{32}$`)

func wantNothing(t *testing.T, r scriptRun) {
	t.Helper()
	if len(r.Beacons) != 0 || len(r.StorageWrites) != 0 || len(r.CookieWrites) != 0 || len(r.Storage) != 0 || r.Cookie != "" || r.Visitor != "" {
		t.Errorf("without consent the script sent or stored something: %+v", r)
	}
	for _, f := range r.Fetches {
		if strings.Contains(f, "/t/collect") {
			t.Errorf("without consent the script fetched %s", f)
		}
	}
}

func wantOnePageView(t *testing.T, r scriptRun, consent bool) string {
	t.Helper()
	if len(r.Beacons) != 1 {
		t.Fatalf("%d beacons, want 1: %+v", len(r.Beacons), r)
	}
	b := r.Beacons[0]
	vid, _ := b.Body["visitor_id"].(string)
	if b.URL != "https://lc.example/t/collect" || b.Type != "text/plain" || !hexID.MatchString(vid) ||
		b.Body["site"] != "site_1" || b.Body["url"] != "https://www.example.com/page?x=1#frag" ||
		b.Body["referrer"] != "https://ref.example/" || b.Body["title"] != "Page title" || b.Body["consent"] != consent {
		t.Errorf("beacon = %+v", b)
	}
	if r.Storage["lc_vid"] != vid || !strings.Contains(r.Cookie, "lc_vid="+vid) {
		t.Errorf("visitor id not kept: storage %v, cookie %q", r.Storage, r.Cookie)
	}
	for _, w := range r.CookieWrites {
		if !strings.Contains(w, "lc_vid="+vid) && !strings.Contains(w, "Max-Age=0") {
			continue
		}
		if !strings.Contains(w, "SameSite=Lax") || !strings.Contains(w, "Secure") || !strings.Contains(w, "Path=/") {
			t.Errorf("cookie written as %q", w)
		}
	}
	if r.Visitor != vid {
		t.Errorf("leadcycle('visitor') = %q, want %q", r.Visitor, vid)
	}
	return vid
}

func TestScriptBehaviour(t *testing.T) {
	t.Run("no consent, not implied: nothing sent or stored", func(t *testing.T) {
		r := runScript(t, map[string]any{"site": "site_1", "implied": false})
		wantNothing(t, r)
		if len(r.Fetches) != 1 || r.Fetches[0] != "https://lc.example/t/config?site=site_1" {
			t.Errorf("fetches = %v, want only the site's setting", r.Fetches)
		}
		if r.LooseInput != "" || r.MarkedInput != "" {
			t.Errorf("form inputs filled without consent: %q %q", r.LooseInput, r.MarkedInput)
		}
	})
	t.Run("consent set before the script loads", func(t *testing.T) {
		r := runScript(t, map[string]any{"site": "site_1", "consent": true})
		wantOnePageView(t, r, true)
		if len(r.Fetches) != 0 {
			t.Errorf("fetches = %v; the page decided, no need to ask the site", r.Fetches)
		}
	})
	t.Run("consent given later with leadcycle('consent', true)", func(t *testing.T) {
		r := runScript(t, map[string]any{"site": "site_1", "after": [][]any{{"consent", true}}})
		if r.Before.Beacons != 0 || r.Before.StorageWrites != 0 || r.Before.CookieWrites != 0 {
			t.Errorf("the script acted before consent: %+v", r.Before)
		}
		wantOnePageView(t, r, true)
	})
	t.Run("consent given later with window.leadcycleConsent = true", func(t *testing.T) {
		r := runScript(t, map[string]any{"site": "site_1", "after": [][]any{{"=", true}}})
		if r.Before.Beacons != 0 {
			t.Errorf("the script sent before consent")
		}
		wantOnePageView(t, r, true)
	})
	t.Run("consent queued before the script loads", func(t *testing.T) {
		r := runScript(t, map[string]any{"site": "site_1", "queue": [][]any{{"consent", true}}})
		wantOnePageView(t, r, true)
	})
	t.Run("consent implied by the site", func(t *testing.T) {
		wantOnePageView(t, runScript(t, map[string]any{"site": "site_1", "implied": true}), false)
	})
	t.Run("implied consent yields to Global Privacy Control", func(t *testing.T) {
		wantNothing(t, runScript(t, map[string]any{"site": "site_1", "implied": true, "gpc": true}))
	})
	t.Run("explicit refusal beats implied consent", func(t *testing.T) {
		r := runScript(t, map[string]any{"site": "site_1", "implied": true, "consent": false})
		wantNothing(t, r)
		if len(r.Fetches) != 0 {
			t.Errorf("fetches = %v after a refusal", r.Fetches)
		}
	})
	t.Run("withdrawing consent forgets the visitor", func(t *testing.T) {
		r := runScript(t, map[string]any{"site": "site_1", "consent": true, "after": [][]any{{"consent", false}, {"pageview"}}})
		if len(r.Beacons) != 1 || len(r.Storage) != 0 || r.Cookie != "" || r.Visitor != "" {
			t.Errorf("after withdrawal: %+v", r)
		}
	})
	t.Run("an existing visitor id is reused", func(t *testing.T) {
		id := "0123456789abcdef0123456789abcdef"
		r := runScript(t, map[string]any{"site": "site_1", "consent": true, "storage": map[string]string{"lc_vid": id}})
		if got := wantOnePageView(t, r, true); got != id {
			t.Errorf("visitor id %s, want the stored %s", got, id)
		}
	})
	t.Run("forms receive the visitor id", func(t *testing.T) {
		r := runScript(t, map[string]any{"site": "site_1", "consent": true, "forms": true})
		vid := wantOnePageView(t, r, true)
		if r.LooseInput != vid || r.MarkedInput != vid {
			t.Errorf("inputs = %q, %q; want %s", r.LooseInput, r.MarkedInput, vid)
		}
		if len(r.Hidden) != 1 || r.Hidden[0].Name != "_lc_visitor" || r.Hidden[0].Type != "hidden" || r.Hidden[0].Value != vid {
			t.Errorf("hidden inputs added to the form: %+v", r.Hidden)
		}
	})
	t.Run("no site key: nothing sent", func(t *testing.T) {
		r := runScript(t, map[string]any{"consent": true})
		if len(r.Beacons) != 0 {
			t.Errorf("sent without a site key: %+v", r.Beacons)
		}
	})
}
