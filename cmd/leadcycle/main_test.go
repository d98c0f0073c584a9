package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/store/postgres/pgtest"
)

// binary is the leadcycle executable built once for these tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "leadcycle-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "leadcycle")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// cli runs the binary and returns its exit code, stdout and stderr.
func cli(t *testing.T, env []string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, stdout.String(), stderr.String()
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

func TestCommandLine(t *testing.T) {
	data := t.TempDir()
	for _, args := range [][]string{{"--help"}, {"serve", "--help"}, {"migrate", "--help"}, {"apikey", "--help"}, {"apikey", "create", "--help"}, {"generate", "--help"}} {
		code, out, errOut := cli(t, nil, args...)
		if code != 0 || !strings.Contains(out+errOut, "Usage") {
			t.Errorf("%v: exit %d, output %q", args, code, out+errOut)
		}
	}
	if code, _, errOut := cli(t, nil, "frobnicate"); code != 2 || !strings.Contains(errOut, "unknown command") {
		t.Errorf("unknown command: exit %d: %s", code, errOut)
	}
	if code, out, _ := cli(t, nil, "version"); code != 0 || !strings.HasPrefix(out, "leadcycle ") {
		t.Errorf("version: %d %q", code, out)
	}

	code, out, _ := cli(t, nil, "migrate", "--data", data)
	if code != 0 || !strings.Contains(out, "applied 0001_core") {
		t.Fatalf("migrate: %d %q", code, out)
	}
	if _, out, _ = cli(t, nil, "migrate", "--data", data); !strings.Contains(out, "up to date") {
		t.Errorf("second migrate: %q", out)
	}

	code, _, errOut := cli(t, nil, "apikey", "create", "--data", data, "--name", "x", "--role", "wizard")
	if code != 2 || !strings.Contains(errOut, "--role must be one of") {
		t.Errorf("bad role: exit %d: %q", code, errOut)
	}
	code, out, errOut = cli(t, nil, "apikey", "create", "--data", data, "--name", "website", "--role", "marketer")
	key := lastLine(out)
	if code != 0 || !strings.HasPrefix(key, leadcycle.APIKeyPrefix) || len(key) < 30 {
		t.Fatalf("apikey create: exit %d, last line %q, stderr %q", code, key, errOut)
	}
	dbBytes, err := os.ReadFile(filepath.Join(data, "leadcycle.db"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(dbBytes, []byte(key)) {
		t.Fatal("the API key is stored in clear in the database file")
	}
	code, out, _ = cli(t, nil, "apikey", "list", "--data", data)
	if code != 0 || !strings.Contains(out, "website") || !strings.Contains(out, "marketer") || strings.Contains(out, key) {
		t.Errorf("apikey list: %d %q", code, out)
	}
	if code, out, _ = cli(t, nil, "apikey", "revoke", "--data", data, "1"); code != 0 || !strings.Contains(out, "Revoked") {
		t.Errorf("revoke: %d %q", code, out)
	}
	if code, _, errOut = cli(t, nil, "apikey", "revoke", "--data", data, "1"); code != 1 || !strings.Contains(errOut, "not found") {
		t.Errorf("revoke twice: %d %q", code, errOut)
	}
	if code, _, _ = cli(t, nil, "apikey", "revoke", "--data", data, "abc"); code != 2 {
		t.Errorf("revoke abc: exit %d", code)
	}
	// The environment chooses the data directory too.
	code, out, _ = cli(t, []string{"LEADCYCLE_DATA=" + data}, "apikey", "list")
	if code != 0 || !strings.Contains(out, "revoked") {
		t.Errorf("LEADCYCLE_DATA: %d %q", code, out)
	}
}

// server is a leadcycle serve process.
type server struct {
	cmd  *exec.Cmd
	url  string
	logs *bytes.Buffer
	done chan error
	mu   sync.Mutex
}

var listenLine = regexp.MustCompile(`"msg":"listening","addr":"(http://[^"]+)"`)

func startServer(t *testing.T, args ...string) *server {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, logs: &bytes.Buffer{}, done: make(chan error, 1)}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			s.mu.Lock()
			s.logs.WriteString(line + "\n")
			s.mu.Unlock()
			if m := listenLine.FindStringSubmatch(line); m != nil {
				found <- m[1]
			}
		}
		s.done <- cmd.Wait()
	}()
	select {
	case s.url = <-found:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("server did not start: %s", s.log())
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
		}
	})
	return s
}

func (s *server) log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logs.String()
}

func createKey(t *testing.T, dbArgs ...string) string {
	t.Helper()
	code, out, errOut := cli(t, nil, append([]string{"apikey", "create", "--name", "test", "--role", "admin"}, dbArgs...)...)
	if code != 0 {
		t.Fatalf("apikey create: %s", errOut)
	}
	return lastLine(out)
}

func post(client *http.Client, url, key, body string) (int, map[string]any, error) {
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	res, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	var m map[string]any
	b, _ := io.ReadAll(res.Body)
	json.Unmarshal(b, &m)
	return res.StatusCode, m, nil
}

func get(t *testing.T, url, key string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// writeStream posts contacts from several goroutines until stop is closed and
// returns the ids of every write that was acknowledged with 201.
func writeStream(url, key string, stop <-chan struct{}, count *atomic.Int64) []string {
	var mu sync.Mutex
	var acked []string
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 10 * time.Second}
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				status, body, err := post(client, url+"/api/v1/contacts", key, fmt.Sprintf(`{"email":"w%d-%d@example.com"}`, w, i))
				if err != nil {
					continue // the server died mid-request: not acknowledged
				}
				if status == http.StatusCreated {
					mu.Lock()
					acked = append(acked, body["id"].(string))
					mu.Unlock()
					count.Add(1)
				}
			}
		}()
	}
	<-stop
	wg.Wait()
	return acked
}

func databases(t *testing.T) map[string][]string {
	dbs := map[string][]string{"sqlite": {"--data", t.TempDir()}}
	if os.Getenv("LEADCYCLE_TEST_POSTGRES") != "" {
		dbs["postgres"] = []string{"--database", pgtest.URL(t)}
	}
	return dbs
}

// TestKillLosesNoAcknowledgedWrite kills the server with SIGKILL in the middle
// of a stream of writes; every write that got a 2xx must be there afterwards.
func TestKillLosesNoAcknowledgedWrite(t *testing.T) {
	for name, dbArgs := range databases(t) {
		t.Run(name, func(t *testing.T) {
			key := createKey(t, dbArgs...)
			srv := startServer(t, dbArgs...)
			stop := make(chan struct{})
			result := make(chan []string)
			var count atomic.Int64
			go func() { result <- writeStream(srv.url, key, stop, &count) }()
			// Kill once enough writes are acknowledged (a busy machine is
			// slower), and no later than after 30 s.
			for deadline := time.Now().Add(30 * time.Second); count.Load() < 100 && time.Now().Before(deadline); {
				time.Sleep(50 * time.Millisecond)
			}
			if err := srv.cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			<-srv.done
			close(stop)
			acked := <-result
			if len(acked) < 20 {
				t.Fatalf("only %d writes acknowledged before the kill; the test proves nothing", len(acked))
			}
			srv2 := startServer(t, dbArgs...)
			for _, id := range acked {
				if status := get(t, srv2.url+"/api/v1/contacts/"+id, key); status != 200 {
					t.Errorf("acknowledged contact %s: GET after restart = %d", id, status)
				}
			}
			t.Logf("%d acknowledged writes survived SIGKILL", len(acked))
		})
	}
}

// TestGracefulShutdown sends SIGTERM during a stream of writes: the process
// finishes what it accepted, closes the database and exits 0.
func TestGracefulShutdown(t *testing.T) {
	dbArgs := []string{"--data", t.TempDir()}
	key := createKey(t, dbArgs...)
	srv := startServer(t, dbArgs...)
	stop := make(chan struct{})
	result := make(chan []string)
	var count atomic.Int64
	go func() { result <- writeStream(srv.url, key, stop, &count) }()
	for deadline := time.Now().Add(30 * time.Second); count.Load() < 20 && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-srv.done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, srv.log())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("server did not stop after SIGTERM")
	}
	close(stop)
	acked := <-result
	for _, want := range []string{"shutting down", "database closed"} {
		if !strings.Contains(srv.log(), want) {
			t.Errorf("log lacks %q:\n%s", want, srv.log())
		}
	}
	srv2 := startServer(t, dbArgs...)
	for _, id := range acked {
		if status := get(t, srv2.url+"/api/v1/contacts/"+id, key); status != 200 {
			t.Errorf("contact %s acknowledged before shutdown: GET = %d", id, status)
		}
	}
	// Logs are JSON with a request id on every request line.
	for _, line := range strings.Split(srv.log(), "\n") {
		if strings.Contains(line, `"msg":"request"`) && !strings.Contains(line, `"request_id":"`) {
			t.Errorf("request log line without request_id: %s", line)
			break
		}
	}
}
