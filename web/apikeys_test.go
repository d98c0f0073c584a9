package web_test

import (
	"io"
	"log/slog"
	"maps"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/web"
)

// newCachingServer is a test server whose verified keys stay cached for an
// hour, so that only an explicit forget can stop a revoked key.
func newCachingServer(t *testing.T) *testServer {
	t.Helper()
	ts := newTestServer(t)
	ws := web.NewServer(ts.store, web.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), KeyCacheTTL: time.Hour, SpoolDir: t.TempDir()})
	c := &testServer{Server: httptest.NewServer(ws), store: ts.store, web: ws, keys: maps.Clone(ts.keys)}
	t.Cleanup(c.Close)
	return c
}

func TestAPIKeys(t *testing.T) {
	ts := newCachingServer(t)
	schemas := ts.do(t, "GET", "/api/openapi.json", "", nil).json(t)["components"].(map[string]any)["schemas"].(map[string]any)

	r := ts.do(t, "POST", "/api/v1/api-keys", leadcycle.RoleAdmin, map[string]any{"name": "CI", "role": "marketer"})
	if r.status != 201 {
		t.Fatalf("create key: %d %s", r.status, r.body)
	}
	created := r.json(t)
	conforms(t, schemas, "NewAPIKey", created, "POST /api/v1/api-keys")
	secret, _ := created["secret"].(string)
	id, _ := created["id"].(string)
	if !strings.HasPrefix(secret, leadcycle.APIKeyPrefix) || len(secret) < 30 || created["prefix"] != secret[:len(created["prefix"].(string))] ||
		created["name"] != "CI" || created["role"] != "marketer" || created["revoked_at"] != nil || id == "" {
		t.Fatalf("created key: %s", r.body)
	}
	if _, ok := created["hash"]; ok {
		t.Errorf("the answer shows the hash: %s", r.body)
	}
	ts.keys["ci"] = secret

	listed := func() map[string]any {
		t.Helper()
		r := ts.do(t, "GET", "/api/v1/api-keys", leadcycle.RoleAdmin, nil)
		if r.status != 200 {
			t.Fatalf("list keys: %d %s", r.status, r.body)
		}
		if strings.Contains(string(r.body), secret) || strings.Contains(string(r.body), leadcycle.HashAPIKey(secret)) || strings.Contains(string(r.body), `"hash"`) {
			t.Fatalf("the list shows a secret or a hash: %s", r.body)
		}
		page := r.json(t)
		for _, item := range page["items"].([]any) {
			conforms(t, schemas, "APIKey", item, "GET /api/v1/api-keys")
			if k := item.(map[string]any); k["id"] == id {
				return k
			}
		}
		t.Fatalf("the new key is not listed: %s", r.body)
		return nil
	}
	if k := listed(); k["name"] != "CI" || k["revoked_at"] != nil {
		t.Errorf("listed key: %v", k)
	}

	// The new key works with its role's permissions, and is now cached.
	if r := ts.do(t, "GET", "/api/v1/lead-stats", "ci", nil); r.status != 200 {
		t.Fatalf("the new key: %d %s", r.status, r.body)
	}
	problem(t, ts.do(t, "GET", "/api/v1/api-keys", "ci", nil), 403, "")

	if r := ts.do(t, "DELETE", "/api/v1/api-keys/"+id, leadcycle.RoleAdmin, nil); r.status != 204 {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	problem(t, ts.do(t, "GET", "/api/v1/lead-stats", "ci", nil), 401, "")
	if k := listed(); k["revoked_at"] == nil {
		t.Errorf("revoked key listed without revoked_at: %v", k)
	}
	problem(t, ts.do(t, "DELETE", "/api/v1/api-keys/"+id, leadcycle.RoleAdmin, nil), 404, "")
	problem(t, ts.do(t, "DELETE", "/api/v1/api-keys/999999", leadcycle.RoleAdmin, nil), 404, "")
	problem(t, ts.do(t, "DELETE", "/api/v1/api-keys/nope", leadcycle.RoleAdmin, nil), 404, "")
	// The other keys are unaffected.
	if r := ts.do(t, "GET", "/api/v1/api-keys", leadcycle.RoleAdmin, nil); r.status != 200 {
		t.Errorf("the admin key after revoking another: %d", r.status)
	}
}

func TestAPIKeysAreForAdmins(t *testing.T) {
	ts := newTestServer(t)
	before := ts.count(t, "api-keys")
	for _, role := range leadcycle.Roles {
		if role == leadcycle.RoleAdmin {
			continue
		}
		problem(t, ts.do(t, "GET", "/api/v1/api-keys", role, nil), 403, "")
		problem(t, ts.do(t, "POST", "/api/v1/api-keys", role, map[string]any{"name": "mine", "role": "admin"}), 403, "")
		problem(t, ts.do(t, "DELETE", "/api/v1/api-keys/1", role, nil), 403, "")
	}
	problem(t, ts.do(t, "GET", "/api/v1/api-keys", "", nil), 401, "")
	if got := ts.count(t, "api-keys"); got != before {
		t.Errorf("keys after refused creates: %d, want %d", got, before)
	}
	// Key 1 (the admin's) is still there to revoke: the refused deletes did nothing.
	if r := ts.do(t, "DELETE", "/api/v1/api-keys/1", leadcycle.RoleAdmin, nil); r.status != 204 {
		t.Fatalf("the admin revokes key 1: %d %s", r.status, r.body)
	}
}

func TestAPIKeyBadInput(t *testing.T) {
	ts := newTestServer(t)
	before := ts.count(t, "api-keys")
	for _, c := range []struct {
		body   any
		status int
		field  string
	}{
		{map[string]any{"name": "x", "role": "root"}, 422, "role"},
		{map[string]any{"name": "x"}, 422, "role"},
		{map[string]any{"name": " ", "role": "sales"}, 422, "name"},
		{map[string]any{"name": strings.Repeat("n", 201), "role": "sales"}, 422, "name"},
		{map[string]any{"role": 5, "name": "x"}, 400, "role"},
		{map[string]any{"name": "x", "role": "sales", "hash": "abc"}, 400, "hash"},
		{map[string]any{"name": "x", "role": "sales", "secret": "lc_mine"}, 400, "secret"},
		{`["x"]`, 400, ""},
		{"", 400, ""},
	} {
		problem(t, ts.do(t, "POST", "/api/v1/api-keys", leadcycle.RoleAdmin, c.body), c.status, c.field)
	}
	if got := ts.count(t, "api-keys"); got != before {
		t.Errorf("keys after bad creates: %d, want %d", got, before)
	}
}
