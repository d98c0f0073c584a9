package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestImportAndExportCommands imports a messy file with the CLI, reads the
// report, exports, and imports the export into an empty database.
func TestImportAndExportCommands(t *testing.T) {
	dir := t.TempDir()
	data, empty := filepath.Join(dir, "data"), filepath.Join(dir, "empty")
	file := filepath.Join(dir, "contacts.csv")
	os.WriteFile(file, []byte("\ufeffNome;Apelidos;Correo electrónico;Empresa\r\nXosé;Castelao;xose@castelao.gal;Sargadelos\r\nRosalía;de Castro;non-é-un-correo;\r\n陳;大文;chan@example.tw;台灣茶業\r\n"), 0o600)
	report := filepath.Join(dir, "report.csv")

	code, out, errOut := cli(t, nil, "import", file, "--type", "contacts", "--data", data, "--report", report)
	if code != 0 {
		t.Fatalf("import: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"import 1: contacts from contacts.csv (csv utf-8 semicolon)", "Correo electrónico", "→ email (auto)",
		"done: 3 rows", "2 created, 0 updated, 0 skipped, 1 failed", "2 account(s) created", "report: " + report} {
		if !strings.Contains(out, want) {
			t.Errorf("import output lacks %q:\n%s", want, out)
		}
	}
	rep, _ := os.ReadFile(report)
	if !strings.Contains(string(rep), "3,Correo electrónico,non-é-un-correo,") {
		t.Errorf("report:\n%s", rep)
	}

	export := filepath.Join(dir, "export.xlsx")
	code, _, errOut = cli(t, nil, "export", "--type", "contacts", "--format", "xlsx", "--out", export, "--data", data)
	if code != 0 || !strings.Contains(errOut, "exported 2 contacts") {
		t.Fatalf("export: exit %d: %s", code, errOut)
	}
	code, out, errOut = cli(t, nil, "import", export, "--type", "contacts", "--data", empty, "--quiet")
	if code != 0 || !strings.Contains(out, "2 created, 0 updated, 0 skipped, 0 failed") || !strings.Contains(out, "(xlsx") {
		t.Fatalf("import of the export: exit %d\n%s\n%s", code, out, errOut)
	}

	// Mistakes are named, and exit with an error.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"import", file, "--data", data}, "entity: must be one of"},
		{[]string{"import", file, "--type", "contacts", "--map", "Nome=nome", "--data", data}, `unknown field "nome"`},
		{[]string{"import", filepath.Join(dir, "missing.csv"), "--type", "contacts", "--data", data}, "no such file"},
		{[]string{"export", "--type", "deals", "--data", data}, "--type must be contacts, accounts or leads"},
		{[]string{"export", "--type", "leads", "--filter", "colour=red", "--data", data}, "colour"},
	} {
		code, _, errOut := cli(t, nil, tc.args...)
		if code == 0 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want it to mention %q", tc.args, code, errOut, tc.want)
		}
	}
}

// TestImportResumesAfterSIGINT interrupts a CLI import and resumes it with
// --resume: every row is imported once.
func TestImportResumesAfterSIGINT(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	file := filepath.Join(dir, "big.csv")
	var b strings.Builder
	b.WriteString("email,first_name\n")
	const rows = 200_000
	for i := range rows {
		b.WriteString("person")
		b.WriteString(strconv.Itoa(i))
		b.WriteString("@example.gal,P\n")
	}
	os.WriteFile(file, []byte(b.String()), 0o600)
	cmd := exec.Command(binary, "import", file, "--type", "contacts", "--data", data, "--batch", "1000")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGINT)
	cmd.Wait()
	if strings.Contains(out.String(), "done:") {
		t.Skipf("the import finished before the interrupt; nothing to resume:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "resume with: leadcycle import --resume 1") {
		t.Fatalf("interrupted import said:\n%s", out.String())
	}
	code, res, errOut := cli(t, nil, "import", "--resume", "1", "--data", data, "--quiet")
	if code != 0 || !strings.Contains(res, "done:") {
		t.Fatalf("resume: exit %d\n%s\n%s", code, res, errOut)
	}
	code, _, errOut = cli(t, nil, "export", "--type", "contacts", "--out", filepath.Join(dir, "all.csv"), "--data", data)
	if code != 0 || !strings.Contains(errOut, "exported 200000 contacts") {
		t.Errorf("after the resume: %s", errOut)
	}
}

// TestUserCommands makes the first admin from the command line and logs in
// as it through the server.
func TestUserCommands(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	code, out, errOut := cli(t, nil, "user", "create", "--email", "Admin@Example.gal", "--name", "Primeira Admin", "--role", "admin", "--data", data)
	if code != 0 || !strings.Contains(out, "Created user 1 (admin@example.gal, role admin)") {
		t.Fatalf("user create: exit %d\n%s\n%s", code, out, errOut)
	}
	generated := lastLine(out)
	if len(generated) < 20 {
		t.Fatalf("generated password %q", generated)
	}
	code, _, errOut = cli(t, nil, "user", "create", "--email", "x@example.gal", "--name", "X", "--role", "boss", "--data", data)
	if code != 2 || !strings.Contains(errOut, "--role must be one of") {
		t.Errorf("bad role: exit %d: %s", code, errOut)
	}
	cmd := exec.Command(binary, "user", "set-password", "--email", "admin@example.gal", "--password-stdin", "--data", data)
	cmd.Stdin = strings.NewReader("short\n")
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "at least 10") {
		t.Errorf("weak password accepted: %v %s", err, out)
	}
	cmd = exec.Command(binary, "user", "set-password", "--email", "admin@example.gal", "--password-stdin", "--data", data)
	cmd.Stdin = strings.NewReader("unha frase longa para entrar\n")
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "sessions have ended") {
		t.Fatalf("set-password: %v %s", err, out)
	}
	if code, _, errOut := cli(t, nil, "user", "set-password", "--email", "nobody@example.gal", "--data", data); code == 0 || !strings.Contains(errOut, "no user has this email") {
		t.Errorf("unknown user: exit %d: %s", code, errOut)
	}
}
