package web_test

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/linkedin"
	"github.com/leadcycle/leadcycle/linkedin/linkedintest"
)

func TestLinkedInConnectionsThroughTheAPI(t *testing.T) {
	t.Setenv(linkedin.EnvSecretKey, base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef")))
	ts := newTestServer(t)
	fake := linkedintest.NewServer(t)
	fake.AddForm(linkedintest.StandardForm(300, "Canning line demo"))
	for i, email := range []string{"uxia@riasbaixas.gal", "breixo@peixes.gal", "uxia@riasbaixas.gal"} {
		fake.AddLeads(linkedintest.StandardLead("resp-"+string(rune('a'+i)), time.Now().Add(-time.Duration(2*i+1)*time.Hour), 300, "N", "S", email))
	}
	const path = "/api/v1/linkedin-connections"
	secrets := []string{"access-1", "refresh-1", "client-secret"}
	noSecrets := func(r response) {
		t.Helper()
		for _, s := range secrets {
			if strings.Contains(string(r.body), s) {
				t.Fatalf("a response shows the secret %q: %s", s, r.body)
			}
		}
	}

	// Create, as a marketer; tokens are accepted and never returned.
	r := ts.do(t, "POST", path, leadcycle.RoleMarketer, map[string]any{
		"name": "Ads EU", "sponsored_account": "5101", "api_base_url": fake.APIBaseURL(), "token_url": fake.TokenURL(),
		"client_id": "client-id", "client_secret": "client-secret", "access_token": "access-1", "refresh_token": "refresh-1",
		"mapping": map[string]string{"COMPANY_SIZE": "", "question:8": "lead.description"}, "interval_seconds": 600,
	})
	if r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	noSecrets(r)
	c := r.json(t)
	id := c["id"].(string)
	if r.header.Get("Location") != path+"/"+id || c["has_token"] != true || c["has_refresh_token"] != true || c["has_client_secret"] != true ||
		c["sponsored_account"] != "urn:li:sponsoredAccount:5101" || c["enabled"] != true || c["api_version"] != linkedin.DefaultAPIVersion {
		t.Fatalf("created: %s", r.body)
	}
	for _, k := range []string{"access_token", "refresh_token", "client_secret"} {
		if _, ok := c[k]; ok {
			t.Errorf("the connection has a %s field", k)
		}
	}
	// Stored sealed.
	stored, err := ts.store.(linkedin.Provider).LinkedIn().Connection(t.Context(), leadcycle.ID(mustAtoi(t, id)))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{stored.Secrets.AccessToken, stored.Secrets.RefreshToken, stored.Secrets.ClientSecret} {
		if !strings.HasPrefix(v, "v1:") {
			t.Errorf("stored secret %q is not encrypted", v)
		}
	}

	// Read, list.
	r = ts.do(t, "GET", path+"/"+id, leadcycle.RoleMarketer, nil)
	noSecrets(r)
	if r.status != 200 || r.json(t)["name"] != "Ads EU" {
		t.Fatalf("get: %d %s", r.status, r.body)
	}
	r = ts.do(t, "GET", path, leadcycle.RoleAdmin, nil)
	if r.status != 200 || len(r.json(t)["items"].([]any)) != 1 || r.json(t)["next_cursor"] != "" {
		t.Fatalf("list: %d %s", r.status, r.body)
	}
	second := ts.mustCreate(t, "linkedin-connections", map[string]any{"name": "Ads TW", "sponsored_account": "urn:li:sponsoredAccount:6"})
	r = ts.do(t, "GET", path+"?limit=1", leadcycle.RoleAdmin, nil)
	if items := r.json(t)["items"].([]any); len(items) != 1 || r.json(t)["next_cursor"] != id {
		t.Fatalf("first page: %s", r.body)
	}
	r = ts.do(t, "GET", path+"?limit=1&cursor="+id, leadcycle.RoleAdmin, nil)
	if items := r.json(t)["items"].([]any); len(items) != 1 || items[0].(map[string]any)["id"] != second || r.json(t)["next_cursor"] != "" {
		t.Fatalf("second page: %s", r.body)
	}
	problem(t, ts.do(t, "GET", path+"?status=x", leadcycle.RoleAdmin, nil), 422, "status")

	// Bad input names the field.
	problem(t, ts.do(t, "POST", path, leadcycle.RoleAdmin, map[string]any{"name": "x", "sponsored_account": "1", "has_token": true}), 400, "has_token")
	problem(t, ts.do(t, "POST", path, leadcycle.RoleAdmin, map[string]any{"name": "x", "sponsored_account": "1", "access_token": 5}), 400, "access_token")
	problem(t, ts.do(t, "POST", path, leadcycle.RoleAdmin, map[string]any{"name": "x", "sponsored_account": "1", "colour": "teal"}), 400, "colour")
	problem(t, ts.do(t, "POST", path, leadcycle.RoleAdmin, map[string]any{"name": "x", "sponsored_account": "urn:li:organization:1"}), 422, "sponsored_account")
	problem(t, ts.do(t, "POST", path, leadcycle.RoleAdmin, map[string]any{"name": "x", "sponsored_account": "1", "api_base_url": "http://evil.example.com"}), 422, "api_base_url")
	problem(t, ts.do(t, "POST", path, leadcycle.RoleAdmin, map[string]any{"name": "x", "sponsored_account": "1", "mapping": map[string]string{"EMAIL": "lead.custom.nope"}}), 422, "mapping.EMAIL")

	// Sync on demand.
	r = ts.do(t, "POST", path+"/"+id+"/sync", leadcycle.RoleMarketer, nil)
	if r.status != 200 {
		t.Fatalf("sync: %d %s", r.status, r.body)
	}
	run := r.json(t)
	stats := run["stats"].(map[string]any)
	if run["status"] != "succeeded" || run["trigger"] != "api" || stats["fetched"] != 3.0 || stats["contacts_created"] != 2.0 || stats["matched"] != 1.0 {
		t.Fatalf("sync run: %s", r.body)
	}
	if n := ts.count(t, "interactions"); n != 3 {
		t.Errorf("%d interactions after the sync, want 3", n)
	}
	r = ts.do(t, "POST", path+"/"+id+"/sync", leadcycle.RoleMarketer, nil) // reads from an hour before the newest response
	if s := r.json(t)["stats"].(map[string]any); s["fetched"] != 1.0 || s["skipped"] != 1.0 || s["contacts_created"] != 0.0 {
		t.Errorf("second sync: %s", r.body)
	}
	if n := ts.count(t, "interactions"); n != 3 {
		t.Errorf("%d interactions after syncing twice, want 3", n)
	}
	r = ts.do(t, "GET", path+"/"+id+"/sync-runs?limit=5", leadcycle.RoleMarketer, nil)
	if items := r.json(t)["items"].([]any); r.status != 200 || len(items) != 2 {
		t.Fatalf("sync runs: %d %s", r.status, r.body)
	}
	problem(t, ts.do(t, "GET", path+"/"+id+"/sync-runs?limit=0", leadcycle.RoleMarketer, nil), 422, "limit")
	c = ts.do(t, "GET", path+"/"+id, leadcycle.RoleMarketer, nil).json(t)
	if c["last_sync_at"] == nil || c["cursor"] == nil || c["last_error"] != "" || c["last_stats"].(map[string]any)["skipped"] != 1.0 {
		t.Errorf("connection after syncs: %v", c)
	}

	// PATCH merges; a refused token shows as the connection's error, and a
	// new token (reconnect) clears it.
	r = ts.do(t, "PATCH", path+"/"+id, leadcycle.RoleMarketer, map[string]any{
		"mapping": map[string]any{"question:8": nil, "budget": "lead.description"}, "access_token": "revoked", "refresh_token": nil,
	})
	if r.status != 200 {
		t.Fatalf("patch: %d %s", r.status, r.body)
	}
	c = r.json(t)
	if m := c["mapping"].(map[string]any); len(m) != 2 || m["budget"] != "lead.description" || m["COMPANY_SIZE"] != "" || c["has_refresh_token"] != false ||
		c["has_token"] != true || c["interval_seconds"] != 600.0 || c["name"] != "Ads EU" {
		t.Fatalf("patched: %s", r.body)
	}
	problem(t, ts.do(t, "PATCH", path+"/"+id, leadcycle.RoleMarketer, map[string]any{"last_error": ""}), 400, "last_error")
	problem(t, ts.do(t, "PATCH", path+"/"+id, leadcycle.RoleMarketer, map[string]any{"interval_seconds": 1}), 422, "interval_seconds")
	r = ts.do(t, "POST", path+"/"+id+"/sync", leadcycle.RoleMarketer, nil)
	if run := r.json(t); r.status != 200 || run["status"] != "failed" || !strings.Contains(run["error"].(string), "token expired: reconnect") {
		t.Fatalf("sync with a refused token: %d %s", r.status, r.body)
	}
	if c := ts.do(t, "GET", path+"/"+id, leadcycle.RoleMarketer, nil).json(t); !strings.Contains(c["last_error"].(string), "token expired: reconnect") {
		t.Errorf("connection error after a refused token: %v", c["last_error"])
	}
	ts.do(t, "PATCH", path+"/"+id, leadcycle.RoleMarketer, map[string]any{"access_token": "access-1"})
	if r := ts.do(t, "POST", path+"/"+id+"/sync", leadcycle.RoleMarketer, nil); r.json(t)["status"] != "succeeded" {
		t.Fatalf("sync after reconnecting: %s", r.body)
	}

	// Roles: salespeople may not read connections; marketers may not delete.
	problem(t, ts.do(t, "GET", path, leadcycle.RoleSales, nil), 403, "")
	problem(t, ts.do(t, "POST", path+"/"+id+"/sync", leadcycle.RoleReadonly, nil), 403, "")
	problem(t, ts.do(t, "DELETE", path+"/"+id, leadcycle.RoleMarketer, nil), 403, "")
	if r := ts.do(t, "DELETE", path+"/"+id, leadcycle.RoleAdmin, nil); r.status != 204 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	problem(t, ts.do(t, "GET", path+"/"+id, leadcycle.RoleAdmin, nil), 404, "")
	problem(t, ts.do(t, "POST", path+"/"+id+"/sync", leadcycle.RoleAdmin, nil), 404, "")
	problem(t, ts.do(t, "GET", path+"/"+id+"/sync-runs", leadcycle.RoleAdmin, nil), 404, "")

	// The OpenAPI schema describes exactly what the API returns.
	doc := ts.do(t, "GET", "/api/openapi.json", "", nil).json(t)
	schema := doc["components"].(map[string]any)["schemas"].(map[string]any)["LinkedInConnection"].(map[string]any)["properties"].(map[string]any)
	got := ts.do(t, "GET", path+"/"+second, leadcycle.RoleAdmin, nil).json(t)
	if a, b := strings.Join(keys(got), ","), strings.Join(keys(schema), ","); a != b {
		t.Errorf("schema LinkedInConnection has %s; the API returns %s", b, a)
	}
	create := doc["paths"].(map[string]any)[path].(map[string]any)["post"].(map[string]any)
	body := create["requestBody"].(map[string]any)["content"].(map[string]any)["application/json"].(map[string]any)["schema"].(map[string]any)["properties"].(map[string]any)
	if body["access_token"].(map[string]any)["writeOnly"] != true || body["has_token"] != nil {
		t.Errorf("create request schema: %v", body)
	}
}

func mustAtoi(t *testing.T, s string) int64 {
	t.Helper()
	id, ok := leadcycle.ParseID(s)
	if !ok {
		t.Fatalf("%q is not an id", s)
	}
	return int64(id)
}

func TestLinkedInEndpointChangeNeedsTokens(t *testing.T) {
	ts := newTestServer(t)
	id := ts.mustCreate(t, "linkedin-connections", map[string]any{"name": "x", "sponsored_account": "1", "access_token": "secret-token"})
	path := "/api/v1/linkedin-connections/" + id
	problem(t, ts.do(t, "PATCH", path, leadcycle.RoleMarketer, map[string]any{"api_base_url": "https://attacker.example"}), 422, "api_base_url")
	r := ts.do(t, "PATCH", path, leadcycle.RoleMarketer, map[string]any{"api_base_url": "https://attacker.example", "access_token": "their-own"})
	if r.status != 200 || r.json(t)["api_base_url"] != "https://attacker.example" || r.json(t)["token_expires_at"] != nil {
		t.Fatalf("move with a new token: %d %s", r.status, r.body)
	}
}
