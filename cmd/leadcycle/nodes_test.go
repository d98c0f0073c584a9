package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/leadcycle/leadcycle/store/postgres/pgtest"
)

// hookSink counts the webhook messages it receives by message id.
type hookSink struct {
	mu    sync.Mutex
	byID  map[string]int
	types map[string]int
}

func (h *hookSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var msg struct {
		Type string `json:"type"`
	}
	_ = json.Unmarshal(body, &msg)
	h.mu.Lock()
	h.byID[r.Header.Get("webhook-id")]++
	if h.byID[r.Header.Get("webhook-id")] == 1 {
		h.types[msg.Type]++
	}
	h.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func mustPost(t *testing.T, url, key, body string, want int) map[string]any {
	t.Helper()
	status, m, err := post(http.DefaultClient, url, key, body)
	if err != nil || status != want {
		t.Fatalf("POST %s: %d %v %v", url, status, m, err)
	}
	return m
}

// TestTwoNodesDoTheWorkOnce runs two serve processes on one PostgreSQL
// database: leads crossing a sales-ready threshold move to Sales acceptance
// once, get one sales task each, and every webhook message arrives once,
// however the two nodes' scorers, workflows and senders interleave.
func TestTwoNodesDoTheWorkOnce(t *testing.T) {
	if os.Getenv("LEADCYCLE_TEST_POSTGRES") == "" {
		t.Skip("LEADCYCLE_TEST_POSTGRES is not set")
	}
	db := pgtest.URL(t)
	key := createKey(t, "--database", db)
	sink := &hookSink{byID: map[string]int{}, types: map[string]int{}}
	receiver := httptest.NewServer(sink)
	defer receiver.Close()

	a := startServer(t, "--database", db, "--webhook-allow-private")
	b := startServer(t, "--database", db, "--webhook-allow-private")
	mustPost(t, a.url+"/api/v1/webhooks", key, fmt.Sprintf(`{"name": "sink", "url": %q, "events": ["lead.sales_ready", "lead.stage_changed", "task.created"]}`, receiver.URL), 201)
	model := mustPost(t, a.url+"/api/v1/scoring-models", key, `{"name": "Opens", "key": "opens", "target": "contact",
		"rules": [{"name": "Opened", "points": 10, "behaviors": [{"type": "email_opened", "frequency": "at_least_once", "window_days": 30}]}],
		"sales_ready_threshold": 10}`, 201)
	mustPost(t, a.url+"/api/v1/scoring-models/"+model["id"].(string)+"/publish", key, "", 202)

	const n = 12
	leads := make([]string, n)
	contacts := make([]string, n)
	for i := range n {
		contacts[i] = mustPost(t, a.url+"/api/v1/contacts", key, fmt.Sprintf(`{"email": "node%d@example.gal"}`, i), 201)["id"].(string)
		leads[i] = mustPost(t, b.url+"/api/v1/leads", key, fmt.Sprintf(`{"topic": "Lead %d", "contact_id": %q}`, i, contacts[i]), 201)["id"].(string)
	}
	// Both nodes receive the opens at once.
	var wg sync.WaitGroup
	for i := range n {
		node := a
		if i%2 == 1 {
			node = b
		}
		wg.Go(func() {
			status, _, err := post(http.DefaultClient, node.url+"/api/v1/interactions", key, fmt.Sprintf(`{"type": "email_opened", "contact_id": %q}`, contacts[i]))
			if err != nil || status != 201 {
				t.Errorf("interaction %d: %d %v", i, status, err)
			}
		})
	}
	wg.Wait()

	deadline := time.Now().Add(30 * time.Second)
	for _, id := range leads {
		for {
			l := getJSON(t, a.url+"/api/v1/leads/"+id, key)
			if l["sales_ready"] == true && l["stage"] == "sales_acceptance" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("lead %s did not become sales ready in Sales acceptance: %v\n%s\n%s", id, l, a.log(), b.log())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	// Let both nodes settle: tasks are created and webhooks sent.
	wantMessages := func() bool {
		sink.mu.Lock()
		defer sink.mu.Unlock()
		return sink.types["task.created"] >= n && sink.types["lead.sales_ready"] >= n && sink.types["lead.stage_changed"] >= 2*n
	}
	for !wantMessages() && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(time.Second) // a duplicate, if any, has time to arrive

	for _, id := range leads {
		toSales := 0
		for _, e := range getJSON(t, b.url+"/api/v1/leads/"+id+"/timeline?limit=100", key)["items"].([]any) {
			if e := e.(map[string]any); e["kind"] == "stage_changed" && e["to"] == "sales_acceptance" {
				toSales++
			}
		}
		if toSales != 1 {
			t.Errorf("lead %s moved to sales acceptance %d times", id, toSales)
		}
		if tasks := getJSON(t, a.url+"/api/v1/tasks?queue=sales&lead_id="+id, key)["items"].([]any); len(tasks) != 1 {
			t.Errorf("lead %s has %d sales tasks, want 1", id, len(tasks))
		}
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	for id, count := range sink.byID {
		if count != 1 {
			t.Errorf("webhook message %s arrived %d times", id, count)
		}
	}
	if sink.types["lead.sales_ready"] != n || sink.types["task.created"] != n || sink.types["lead.stage_changed"] != 2*n {
		t.Errorf("webhook messages by type: %v, want %d sales_ready, %d task.created, %d stage_changed", sink.types, n, n, 2*n)
	}
}
