package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/store/sqlite"
)

// TestContactCommands exports and erases a contact from the command line
// and checks the audit log they leave.
func TestContactCommands(t *testing.T) {
	data := t.TempDir()
	id := seedContact(t, data)
	env := []string{"USER=dpo"}

	code, out, errOut := cli(t, env, "contact", "export-data", "--data", data, "--id", id)
	var doc map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &doc) != nil || doc["contact"].(map[string]any)["email"] != "noa@example.gal" {
		t.Fatalf("export-data: exit %d, %s %s", code, out, errOut)
	}
	file := filepath.Join(t.TempDir(), "noa.json")
	if code, _, errOut := cli(t, env, "contact", "export-data", "--data", data, "--id", id, "--out", file); code != 0 {
		t.Fatalf("export-data --out: exit %d: %s", code, errOut)
	}
	if b, err := os.ReadFile(file); err != nil || !json.Valid(b) {
		t.Errorf("the exported file: %v %.80s", err, b)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the exported file's mode: %v %v", fi.Mode(), err)
	}

	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"erase", "--id", id}, 2, "--reason is required"},
		{[]string{"erase", "--id", "x", "--reason", "r"}, 2, "not a contact id"},
		{[]string{"export-data", "--id", "999"}, 1, "contact 999 not found"},
		{[]string{"frob"}, 2, "unknown subcommand"},
	} {
		code, _, errOut := cli(t, env, append(append([]string{"contact"}, c.args...), "--data", data)...)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("contact %v: exit %d, %q; want %d and %q", c.args, code, errOut, c.code, c.want)
		}
	}

	code, out, errOut = cli(t, env, "contact", "erase", "--data", data, "--id", id, "--reason", "Art. 17 request 4711")
	if code != 0 || !strings.Contains(out, "Erased contact "+id) || !strings.Contains(out, "interactions") {
		t.Fatalf("erase: exit %d, %s %s", code, out, errOut)
	}
	if code, _, errOut := cli(t, env, "contact", "erase", "--data", data, "--id", id, "--reason", "again"); code != 1 || !strings.Contains(errOut, "erased") {
		t.Errorf("erase again: exit %d, %s", code, errOut)
	}
	checkCLIAudit(t, data)
}

// seedContact stores a contact with a lead and an interaction and returns
// its id.
func seedContact(t *testing.T, data string) string {
	t.Helper()
	ctx := context.Background()
	s, err := sqlite.Open(ctx, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := &leadcycle.Contact{FirstName: "Noa", Email: "noa@example.gal"}
	if err := s.Contacts().Create(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := s.Leads().Create(ctx, &leadcycle.Lead{Topic: "Ebook", ContactID: &c.ID}); err != nil {
		t.Fatal(err)
	}
	if err := s.Interactions().Create(ctx, &leadcycle.Interaction{Type: leadcycle.InteractionPageView, ContactID: c.ID}); err != nil {
		t.Fatal(err)
	}
	return c.ID.String()
}

func checkCLIAudit(t *testing.T, data string) {
	t.Helper()
	s, err := sqlite.Open(context.Background(), data, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	page, err := s.PersonalData().AuditLog(context.Background(), leadcycle.ListQuery{})
	if err != nil || len(page.Items) != 3 {
		t.Fatalf("audit log: %+v, %v; want two exports and an erasure", page.Items, err)
	}
	for _, a := range page.Items {
		if a.Actor != "command line (dpo)" {
			t.Errorf("audit actor %q", a.Actor)
		}
	}
	if page.Items[0].Action != leadcycle.AuditContactErased {
		t.Errorf("newest audit entry: %+v", page.Items[0])
	}
}
