package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/linkedin"
	"github.com/leadcycle/leadcycle/linkedin/linkedintest"
	"github.com/leadcycle/leadcycle/store/postgres"
	"github.com/leadcycle/leadcycle/store/sqldb"
	"github.com/leadcycle/leadcycle/store/sqlite"
)

// openStore opens the database the flags name, in this process.
func openStore(t *testing.T, dbArgs []string) *sqldb.Store {
	t.Helper()
	var s *sqldb.Store
	var err error
	if dbArgs[0] == "--database" {
		s, err = postgres.Open(t.Context(), dbArgs[1], nil)
	} else {
		s, err = sqlite.Open(t.Context(), dbArgs[1], nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestLinkedInCommands(t *testing.T) {
	t.Setenv(linkedin.EnvSecretKey, base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef")))
	for name, dbArgs := range databases(t) {
		t.Run(name, func(t *testing.T) {
			if code, out, _ := cli(t, nil, "linkedin", "--help"); code != 0 || !strings.Contains(out, "linkedin sync") {
				t.Errorf("linkedin --help: %d %q", code, out)
			}
			if code, _, errOut := cli(t, nil, "linkedin"); code != 2 || !strings.Contains(errOut, "Usage") {
				t.Errorf("linkedin: %d %q", code, errOut)
			}
			if code, _, errOut := cli(t, nil, append([]string{"linkedin", "sync", "--connection", "abc"}, dbArgs...)...); code != 2 || !strings.Contains(errOut, "not a connection id") {
				t.Errorf("sync --connection abc: %d %q", code, errOut)
			}
			if code, out, _ := cli(t, nil, append([]string{"linkedin", "connections"}, dbArgs...)...); code != 0 || !strings.Contains(out, "No LinkedIn connections") {
				t.Errorf("connections of a new database: %d %q", code, out)
			}

			fake := linkedintest.NewServer(t)
			fake.AddForm(linkedintest.StandardForm(300, "Canning line demo"))
			for i, email := range []string{"a@example.gal", "b@example.gal", "a@example.gal", "c@example.gal"} {
				fake.AddLeads(linkedintest.StandardLead(fmt.Sprint("resp-", i), time.Now().Add(-time.Duration(2*i+1)*time.Hour), 300, "N", "S", email))
			}
			store := openStore(t, dbArgs)
			sealer, err := linkedin.SealerFromEnv(os.Getenv)
			if err != nil {
				t.Fatal(err)
			}
			svc := linkedin.NewService(store.LinkedIn(), nil, linkedin.Options{Sealer: sealer, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			create := func(name string, enabled bool, token string) leadcycle.ID {
				c := &linkedin.Connection{Name: name, SponsoredAccount: fake.SponsoredAccount, APIBaseURL: fake.APIBaseURL(), TokenURL: fake.TokenURL(), Enabled: enabled}
				if err := svc.Create(t.Context(), c, linkedin.Secrets{AccessToken: token}); err != nil {
					t.Fatal(err)
				}
				return c.ID
			}
			manual := create("Manual", false, fake.AccessToken)
			expired := create("Expired", false, "access-expired")
			store.Close()

			code, out, errOut := cli(t, nil, append([]string{"linkedin", "connections"}, dbArgs...)...)
			if code != 0 || !strings.Contains(out, "Manual") || !strings.Contains(out, "Expired") || !strings.Contains(out, "5101") || strings.Contains(out, fake.AccessToken) {
				t.Fatalf("connections: %d %q %q", code, out, errOut)
			}
			if name == "sqlite" {
				db, _ := os.ReadFile(filepath.Join(dbArgs[1], "leadcycle.db"))
				wal, _ := os.ReadFile(filepath.Join(dbArgs[1], "leadcycle.db-wal"))
				if bytes.Contains(append(db, wal...), []byte(fake.AccessToken)) {
					t.Fatal("the access token is stored in clear")
				}
			}

			syncOne := append([]string{"linkedin", "sync", "--connection", manual.String()}, dbArgs...)
			code, out, errOut = cli(t, nil, syncOne...)
			if code != 0 || !strings.Contains(out, "succeeded: fetched 4, contacts created 3, leads created 4, matched 1, skipped 0, errors 0") {
				t.Fatalf("sync: %d %q %q", code, out, errOut)
			}
			code, out, _ = cli(t, nil, syncOne...) // the hour before the newest response is read again, and skipped
			if code != 0 || !strings.Contains(out, "fetched 1, contacts created 0, leads created 0, matched 0, skipped 1") {
				t.Fatalf("sync again: %d %q", code, out)
			}
			code, out, _ = cli(t, nil, append([]string{"linkedin", "sync", "--connection", expired.String()}, dbArgs...)...)
			if code != 1 || !strings.Contains(out, "token expired: reconnect") {
				t.Fatalf("sync with an expired token: %d %q", code, out)
			}
			if code, out, _ = cli(t, nil, append([]string{"linkedin", "sync", "--connection", "999"}, dbArgs...)...); code != 1 {
				t.Errorf("sync of a missing connection: %d %q", code, out)
			}
			if code, out, _ = cli(t, nil, append([]string{"linkedin", "sync"}, dbArgs...)...); code != 0 || !strings.Contains(out, "No enabled LinkedIn connection") {
				t.Errorf("sync with nothing enabled: %d %q", code, out)
			}
			_, out, _ = cli(t, nil, append([]string{"linkedin", "connections"}, dbArgs...)...)
			if !strings.Contains(out, "token expired: reconnect") {
				t.Errorf("connections does not show the error: %q", out)
			}

			// serve syncs enabled connections on its own.
			store = openStore(t, dbArgs)
			svc = linkedin.NewService(store.LinkedIn(), nil, linkedin.Options{Sealer: sealer, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			scheduled := create("Scheduled", true, fake.AccessToken)
			store.Close()
			srv := startServer(t, dbArgs...)
			key := createKey(t, dbArgs...)
			var got map[string]any
			deadline := time.Now().Add(20 * time.Second)
			for got["last_sync_at"] == nil {
				if time.Now().After(deadline) {
					t.Fatalf("serve did not sync the enabled connection: %v\n%s", got, srv.log())
				}
				time.Sleep(50 * time.Millisecond)
				got = getJSON(t, srv.url+"/api/v1/linkedin-connections/"+scheduled.String(), key)
			}
			runs := getJSON(t, srv.url+"/api/v1/linkedin-connections/"+scheduled.String()+"/sync-runs", key)["items"].([]any)
			if len(runs) != 1 || runs[0].(map[string]any)["trigger"] != "schedule" || runs[0].(map[string]any)["status"] != "succeeded" {
				t.Errorf("scheduled runs: %v", runs)
			}
			if err := srv.cmd.Process.Signal(os.Interrupt); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-srv.done:
				if err != nil {
					t.Errorf("serve exited with %v\n%s", err, srv.log())
				}
			case <-time.After(30 * time.Second):
				t.Fatal("serve did not stop")
			}
		})
	}
}

func getJSON(t *testing.T, url, key string) map[string]any {
	t.Helper()
	req, _ := http.NewRequestWithContext(context.Background(), "GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(res.Body).Decode(&m); err != nil || res.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v", url, res.StatusCode, err)
	}
	return m
}
