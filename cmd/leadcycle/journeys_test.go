package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/leadcycle/leadcycle/store/postgres/pgtest"
)

// seedJourney makes n contacts, a static segment of them and a published
// journey that gives each a lead and a task.
func seedJourney(t *testing.T, url, key string, n int) string {
	t.Helper()
	ids := make([]string, n)
	for i := range n {
		ids[i] = mustPost(t, url+"/api/v1/contacts", key, fmt.Sprintf(`{"email": "journey%d@example.gal"}`, i), 201)["id"].(string)
	}
	seg := mustPost(t, url+"/api/v1/segments", key, `{"name": "Everyone", "kind": "static"}`, 201)["id"].(string)
	idsJSON, _ := json.Marshal(ids)
	mustPost(t, url+"/api/v1/segments/"+seg+"/members", key, fmt.Sprintf(`{"contact_ids": %s}`, idsJSON), 200)
	j := mustPost(t, url+"/api/v1/journeys", key, fmt.Sprintf(`{"name": "Once each", "entry": {"kind": "segment", "segment_id": %q},
		"steps": [{"id": "lead", "type": "create_lead", "topic": "Journey lead"}, {"id": "task", "type": "create_task", "title": "Call", "queue": "sales"}]}`, seg), 201)["id"].(string)
	mustPost(t, url+"/api/v1/journeys/"+j+"/publish", key, "", 200)
	return j
}

// waitCompleted waits until the journey's contacts are all through it.
func waitCompleted(t *testing.T, url, key, journey string, n int, logs func() string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		st := getJSON(t, url+"/api/v1/journeys/"+journey, key)["stats"].(map[string]any)
		if st["completed"] == float64(n) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("journey stats after 60 s: %v\n%s", st, logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkOnce checks that every contact got exactly one lead and one task.
func checkOnce(t *testing.T, url, key string, n int) {
	t.Helper()
	var leads, tasks int
	for _, c := range []struct {
		path  string
		count *int
	}{{"/api/v1/leads?source=journey", &leads}, {"/api/v1/tasks?queue=sales", &tasks}} {
		cursor := ""
		for {
			page := getJSON(t, url+c.path+"&limit=500&cursor="+cursor, key)
			*c.count += len(page["items"].([]any))
			if cursor, _ = page["next_cursor"].(string); cursor == "" {
				break
			}
		}
	}
	if leads != n || tasks != n {
		t.Errorf("%d journey leads and %d tasks for %d contacts, want one each", leads, tasks, n)
	}
}

// TestJourneySurvivesAKill kills the server with SIGKILL while a journey is
// moving its contacts, restarts it, and checks that every step ran exactly
// once per contact.
func TestJourneySurvivesAKill(t *testing.T) {
	dbArgs := []string{"--data", t.TempDir()}
	key := createKey(t, dbArgs...)
	srv := startServer(t, dbArgs...)
	const n = 400
	j := seedJourney(t, srv.url, key, n)
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		if st := getJSON(t, srv.url+"/api/v1/journeys/"+j, key)["stats"].(map[string]any); st["completed"].(float64) >= 20 {
			break
		}
	}
	if err := srv.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-srv.done
	srv2 := startServer(t, dbArgs...)
	before := getJSON(t, srv2.url+"/api/v1/journeys/"+j, key)["stats"].(map[string]any)["completed"].(float64)
	if before >= n {
		t.Logf("the journey had finished before the kill; the restart proves less")
	}
	waitCompleted(t, srv2.url, key, j, n, srv2.log)
	checkOnce(t, srv2.url, key, n)
	t.Logf("%v of %d contacts were through before the kill", before, n)
}

// TestJourneyOnTwoNodes runs a journey on two servers sharing one
// PostgreSQL database: each step runs once per contact.
func TestJourneyOnTwoNodes(t *testing.T) {
	if os.Getenv("LEADCYCLE_TEST_POSTGRES") == "" {
		t.Skip("LEADCYCLE_TEST_POSTGRES is not set")
	}
	db := pgtest.URL(t)
	key := createKey(t, "--database", db)
	a := startServer(t, "--database", db)
	b := startServer(t, "--database", db)
	const n = 300
	j := seedJourney(t, a.url, key, n)
	waitCompleted(t, b.url, key, j, n, func() string { return a.log() + "\n" + b.log() })
	checkOnce(t, a.url, key, n)
	if strings.Contains(a.log()+b.log(), "already done") {
		t.Errorf("a step was found done twice:\n%s\n%s", a.log(), b.log())
	}
}
