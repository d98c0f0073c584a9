package web_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/leadcycle/leadcycle"
)

// processSegments evaluates queued contacts until nothing is due.
func (ts *testServer) processSegments(t *testing.T) {
	t.Helper()
	for range 100 {
		n, err := ts.store.SegmentMembers().ProcessDue(context.Background(), 500)
		if err != nil {
			t.Fatalf("ProcessDue: %v", err)
		}
		if n == 0 {
			return
		}
	}
	t.Fatal("segments are still busy after 100 rounds")
}

func (ts *testServer) postCSV(t *testing.T, method, path, role, body string) response {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "text/csv")
	req.Header.Set("Authorization", "Bearer "+ts.keys[role])
	res, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: b}
}

func memberEmails(t *testing.T, ts *testServer, id string) []string {
	t.Helper()
	r := ts.do(t, "GET", "/api/v1/segments/"+id+"/members", leadcycle.RoleReadonly, nil)
	if r.status != 200 {
		t.Fatalf("members: %d %s", r.status, r.body)
	}
	var out []string
	for _, m := range r.json(t)["items"].([]any) {
		out = append(out, m.(map[string]any)["email"].(string))
	}
	return out
}

func TestSegmentsThroughTheAPI(t *testing.T) {
	ts := newTestServer(t)
	acc := ts.mustCreate(t, "accounts", map[string]any{"name": "Shop", "industry": "Retail"})
	ana := ts.mustCreate(t, "contacts", map[string]any{"email": "ana@shop.example", "account_id": acc, "job_title": "CTO"})
	ts.mustCreate(t, "contacts", map[string]any{"email": "bo@bank.example", "job_title": "CTO"})
	query := `account.industry == "Retail" and count(interactions, .type == "email_opened" and .email_id == "x", 14d) >= 2`

	t.Run("preview", func(t *testing.T) {
		r := ts.do(t, "POST", "/api/v1/segments/preview", leadcycle.RoleMarketer, map[string]any{"query": `job_title == "CTO"`, "sample": 1})
		if r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		m := r.json(t)
		if m["count"].(float64) != 2 || len(m["sample"].([]any)) != 1 {
			t.Errorf("preview %s", r.body)
		}
		problem(t, ts.do(t, "POST", "/api/v1/segments/preview", leadcycle.RoleMarketer, map[string]any{"query": `account.industri == "x"`}), 422, "query")
		problem(t, ts.do(t, "POST", "/api/v1/segments/preview", leadcycle.RoleMarketer, map[string]any{"query": `x`, "sample": 9999}), 422, "sample")
		problem(t, ts.do(t, "POST", "/api/v1/segments/preview", leadcycle.RoleMarketer, map[string]any{"query": `x`, "limit": 3}), 400, "limit")
		problem(t, ts.do(t, "POST", "/api/v1/segments/preview", leadcycle.RoleSales, map[string]any{"query": `email != ""`}), 403, "")
	})

	t.Run("dynamic", func(t *testing.T) {
		problem(t, ts.do(t, "POST", "/api/v1/segments", leadcycle.RoleMarketer, map[string]any{"name": "Bad", "query": `count(interactions, .type == "email_opened", 14d) >= "2"`}), 422, "query")
		problem(t, ts.do(t, "POST", "/api/v1/segments", leadcycle.RoleMarketer, map[string]any{"name": "Bad", "kind": "weekly"}), 422, "kind")
		problem(t, ts.do(t, "POST", "/api/v1/segments", leadcycle.RoleMarketer, map[string]any{"name": "Bad", "member_count": 3, "kind": "static"}), 400, "member_count")
		problem(t, ts.do(t, "POST", "/api/v1/segments", leadcycle.RoleTelesales, map[string]any{"name": "Openers", "query": query}), 403, "")
		r := ts.do(t, "POST", "/api/v1/segments", leadcycle.RoleMarketer, map[string]any{"name": "Retail openers", "query": query})
		if r.status != 201 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		id := r.json(t)["id"].(string)
		for range 2 {
			ts.mustCreate(t, "interactions", map[string]any{"type": "email_opened", "contact_id": ana, "properties": map[string]any{"email_id": "x"}})
		}
		ts.processSegments(t)
		if got := memberEmails(t, ts, id); len(got) != 1 || got[0] != "ana@shop.example" {
			t.Errorf("members %v", got)
		}
		got := ts.do(t, "GET", "/api/v1/segments/"+id, leadcycle.RoleSales, nil).json(t)
		if got["member_count"].(float64) != 1 || got["kind"] != "dynamic" {
			t.Errorf("segment %v", got)
		}
		// The event log carries the entry.
		log := ts.do(t, "GET", "/api/v1/event-log?limit=500", leadcycle.RoleMarketer, nil)
		if !strings.Contains(string(log.body), `"segment.entered"`) {
			t.Errorf("no segment.entered in the event log: %s", log.body)
		}
		problem(t, ts.do(t, "PATCH", "/api/v1/segments/"+id, leadcycle.RoleMarketer, map[string]any{"query": `in_segment("nope")`}), 422, "query")
		problem(t, ts.do(t, "PATCH", "/api/v1/segments/"+id, leadcycle.RoleSales, map[string]any{"name": "x"}), 403, "")
		problem(t, ts.do(t, "POST", "/api/v1/segments/"+id+"/members", leadcycle.RoleMarketer, map[string]any{"contact_ids": []string{ana}}), 409, "")
		problem(t, ts.do(t, "DELETE", "/api/v1/segments/"+id, leadcycle.RoleSales, nil), 403, "")
		if r := ts.do(t, "DELETE", "/api/v1/segments/"+id, leadcycle.RoleMarketer, nil); r.status != 204 {
			t.Errorf("delete: %d %s", r.status, r.body)
		}
	})

	t.Run("static", func(t *testing.T) {
		id := ts.mustCreate(t, "segments", map[string]any{"name": "Webinar 2026", "key": "webinar-2026", "kind": "static"})
		r := ts.do(t, "POST", "/api/v1/segments/"+id+"/members", leadcycle.RoleMarketer, map[string]any{"contact_ids": []string{ana}, "emails": []string{"nobody@x.example"}})
		if r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if m := r.json(t); m["changed"].(float64) != 1 || len(m["not_found"].([]any)) != 1 {
			t.Errorf("change %s", r.body)
		}
		problem(t, ts.do(t, "POST", "/api/v1/segments/"+id+"/members", leadcycle.RoleMarketer, map[string]any{"emails": []string{"not an email"}}), 422, "emails[0]")
		problem(t, ts.do(t, "POST", "/api/v1/segments/"+id+"/members", leadcycle.RoleMarketer, map[string]any{}), 422, "contact_ids")
		problem(t, ts.do(t, "POST", "/api/v1/segments/"+id+"/members", leadcycle.RoleReadonly, map[string]any{"contact_ids": []string{ana}}), 403, "")
		// A CSV with a header.
		r = ts.postCSV(t, "POST", "/api/v1/segments/"+id+"/members", leadcycle.RoleMarketer, "\ufeffname,Email\nBo,BO@bank.example\nCy,cy@nowhere.example\n")
		if r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if m := r.json(t); m["changed"].(float64) != 1 || m["not_found"].([]any)[0] != "cy@nowhere.example" {
			t.Errorf("csv change %s", r.body)
		}
		if got := memberEmails(t, ts, id); len(got) != 2 {
			t.Errorf("members %v", got)
		}
		problem(t, ts.postCSV(t, "POST", "/api/v1/segments/"+id+"/members", leadcycle.RoleMarketer, "email\nfine@x.example\nnope\n"), 422, "file.line[3]")
		problem(t, ts.postCSV(t, "POST", "/api/v1/segments/"+id+"/members", leadcycle.RoleMarketer, "a,b\n1,2\n"), 422, "file")
		// One id a line, no header, removes.
		r = ts.postCSV(t, "DELETE", "/api/v1/segments/"+id+"/members", leadcycle.RoleMarketer, ana+"\n")
		if r.status != 200 || r.json(t)["changed"].(float64) != 1 {
			t.Fatalf("remove: %d %s", r.status, r.body)
		}
		if got := memberEmails(t, ts, id); len(got) != 1 || got[0] != "bo@bank.example" {
			t.Errorf("members %v", got)
		}
		// A dynamic segment built on the list follows it.
		dyn := ts.mustCreate(t, "segments", map[string]any{"name": "Webinar CTOs", "query": `in_segment("webinar-2026") and job_title == "CTO"`})
		if got := memberEmails(t, ts, dyn); len(got) != 1 {
			t.Errorf("dynamic members %v", got)
		}
		ts.do(t, "POST", "/api/v1/segments/"+id+"/members", leadcycle.RoleMarketer, map[string]any{"contact_ids": []string{ana}})
		ts.processSegments(t)
		if got := memberEmails(t, ts, dyn); len(got) != 2 {
			t.Errorf("dynamic members after the list grew %v", got)
		}
		problem(t, ts.do(t, "DELETE", "/api/v1/segments/"+id, leadcycle.RoleMarketer, nil), 409, "")
	})
}
