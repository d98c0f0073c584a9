package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/leadcycle/leadcycle/store/sqlite"
)

// TestScoringSurvivesAKill posts batches of interactions, kills the server
// with SIGKILL while its scorer is still behind, restarts it, and checks
// that every lead ends with exactly the points of its acknowledged
// interactions: on SQLite the scorer reads new interactions by id from a
// position it stores, so a restart goes on from there.
func TestScoringSurvivesAKill(t *testing.T) {
	dbArgs := []string{"--data", t.TempDir()}
	key := createKey(t, dbArgs...)
	srv := startServer(t, dbArgs...)
	m := mustPost(t, srv.url+"/api/v1/scoring-models", key, `{"name": "Opens", "target": "contact",
		"rules": [{"name": "Opens", "points": 1, "behaviors": [{"type": "email_opened", "frequency": "each_time", "window_days": 30}]}]}`, 201)["id"].(string)
	mustPost(t, srv.url+"/api/v1/scoring-models/"+m+"/publish", key, "", 202)
	const contacts, batches = 40, 60
	ids := make([]string, contacts)
	leads := make([]string, contacts)
	for i := range contacts {
		ids[i] = mustPost(t, srv.url+"/api/v1/contacts", key, fmt.Sprintf(`{"email": "kill%d@example.gal"}`, i), 201)["id"].(string)
		leads[i] = mustPost(t, srv.url+"/api/v1/leads", key, fmt.Sprintf(`{"topic": "Kill %d", "contact_id": %q}`, i, ids[i]), 201)["id"].(string)
	}
	want := make([]int, contacts)
	for b := range batches {
		items := make([]string, 0, 100)
		for i := range 100 {
			k := (b*7 + i*3) % contacts
			want[k]++
			items = append(items, fmt.Sprintf(`{"type": "email_opened", "contact_id": %q}`, ids[k]))
		}
		mustPost(t, srv.url+"/api/v1/interactions/batch", key, `{"items": [`+strings.Join(items, ",")+`]}`, 201)
	}
	// Every batch is acknowledged: kill before the scorer is through.
	if err := srv.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-srv.done
	st, err := sqlite.Open(t.Context(), dbArgs[1], nil)
	if err != nil {
		t.Fatal(err)
	}
	leadsLeft, left, err := st.ScoringBacklog(t.Context())
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("the kill left %d interactions and %d queued leads to score", left, leadsLeft)
	if left == 0 {
		t.Logf("the scorer had caught up before the kill; the restart proves less")
	}
	srv2 := startServer(t, dbArgs...)
	deadline := time.Now().Add(60 * time.Second)
	for i, lead := range leads {
		for {
			got := scoreOf(t, srv2.url, key, lead)
			if got == want[i] {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("lead %s scores %d after the restart, want %d\n%s", lead, got, want[i], srv2.log())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// scoreOf returns a lead's score under its one model (-1: none yet).
func scoreOf(t *testing.T, url, key, lead string) int {
	t.Helper()
	items, _ := getJSON(t, url+"/api/v1/leads/"+lead+"/scores", key)["items"].([]any)
	if len(items) == 0 {
		return -1
	}
	var d struct {
		Score int `json:"score"`
	}
	b, _ := json.Marshal(items[0])
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	return d.Score
}
