package web_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/store/sqlite"
	"github.com/leadcycle/leadcycle/web"
	"github.com/leadcycle/leadcycle/webhook"
)

// newClockedServer is a test server whose store and server share a fixed
// clock, with options set by opts.
func newClockedServer(t *testing.T, clock *leadcycle.FixedClock, opts func(*web.Options)) *testServer {
	t.Helper()
	store, err := sqlite.Open(context.Background(), t.TempDir(), clock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	o := web.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), KeyCacheTTL: time.Nanosecond, Clock: clock,
		SpoolDir: t.TempDir(), PublicRate: 100, PublicBurst: 100}
	if opts != nil {
		opts(&o)
	}
	ws := web.NewServer(store, o)
	ts := &testServer{Server: httptest.NewServer(ws), store: store, web: ws, keys: map[string]string{}}
	t.Cleanup(ts.Close)
	for _, role := range leadcycle.Roles {
		ts.keys[role] = mustKey(t, store, role)
	}
	return ts
}

// ok fails the test unless the response has the status, and returns its
// JSON object.
func ok(t *testing.T, r response, status int) map[string]any {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d: %s", r.status, status, r.body)
	}
	return r.json(t)
}

func items(t *testing.T, r response) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, it := range ok(t, r, 200)["items"].([]any) {
		out = append(out, it.(map[string]any))
	}
	return out
}

// TestLeadToOpportunityThroughTheAPI walks a lead through the telesales path
// of the default process and qualifies it, each step by the role that does
// it in SPEC §5.
func TestLeadToOpportunityThroughTheAPI(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	seller := ok(t, ts.do(t, "POST", "/api/v1/users", leadcycle.RoleAdmin, map[string]any{"name": "Brais", "email": "brais@example.gal", "role": "sales"}), 201)["id"].(string)
	operator := ok(t, ts.do(t, "POST", "/api/v1/users", leadcycle.RoleAdmin, map[string]any{"name": "Mei", "email": "mei@example.tw", "role": "telesales"}), 201)["id"].(string)
	problem(t, ts.do(t, "POST", "/api/v1/users", leadcycle.RoleSalesManager, map[string]any{"name": "X", "email": "x@example.gal", "role": "sales"}), 403, "")
	problem(t, ts.do(t, "POST", "/api/v1/users", leadcycle.RoleAdmin, map[string]any{"name": "X", "email": "not-an-email", "role": "boss"}), 422, "role")

	contact := ts.mustCreate(t, "contacts", map[string]any{"first_name": "Uxía", "email": "uxia@riasbaixas.gal"})
	lead := ts.mustCreate(t, "leads", map[string]any{"topic": "Canning line", "contact_id": contact})
	path := "/api/v1/leads/" + lead
	if l := ok(t, ts.do(t, "GET", path, leadcycle.RoleMarketer, nil), 200); l["stage"] != leadcycle.StageInquiry || l["process_id"] == nil {
		t.Fatalf("new lead: %v", l)
	}

	// Not telesales ready yet: a telesales operator cannot see it, a
	// salesperson neither; telesales may not mark a lead sales accepted.
	problem(t, ts.do(t, "GET", path, leadcycle.RoleTelesales, nil), 403, "")
	problem(t, ts.do(t, "GET", path, leadcycle.RoleSales, nil), 403, "")
	if got := items(t, ts.do(t, "GET", "/api/v1/leads", leadcycle.RoleSales, nil)); len(got) != 0 {
		t.Errorf("salesperson lists %d leads, want none (no lead is sales ready)", len(got))
	}
	problem(t, ts.do(t, "PATCH", path, leadcycle.RoleSales, `{"telesales_ready": true}`), 403, "")
	problem(t, ts.do(t, "PATCH", path, leadcycle.RoleMarketer, `{"stage": "sales_acceptance"}`), 422, "stage")
	problem(t, ts.do(t, "PATCH", path, leadcycle.RoleMarketer, `{"status": "qualified"}`), 422, "status")

	// Marketing marks it telesales ready: the stage moves at once and a call
	// task for the telesales queue follows (round-robin: the one operator).
	if l := ok(t, ts.do(t, "PATCH", path, leadcycle.RoleMarketer, `{"telesales_ready": true}`), 200); l["stage"] != leadcycle.StageTelesalesAcceptance {
		t.Fatalf("telesales ready moved the lead to %v", l["stage"])
	}
	ts.web.HandleEvents(ctx)
	tasks := items(t, ts.do(t, "GET", "/api/v1/tasks?lead_id="+lead+"&queue=telesales", leadcycle.RoleTelesales, nil))
	if len(tasks) != 1 || tasks[0]["kind"] != "call" || tasks[0]["assignee_id"] != operator || tasks[0]["due_at"] == nil {
		t.Fatalf("telesales tasks: %v", tasks)
	}
	problem(t, ts.do(t, "PATCH", path, leadcycle.RoleTelesales, `{"sales_accepted": true}`), 403, "")
	problem(t, ts.do(t, "POST", path+"/qualify", leadcycle.RoleTelesales, nil), 403, "")

	// The operator accepts it and, after the call, fills the qualification
	// stage; completing it without the sales-ready tick is refused.
	if l := ok(t, ts.do(t, "PATCH", path, leadcycle.RoleTelesales, `{"telesales_accepted": true}`), 200); l["stage"] != leadcycle.StageTelesalesQualification {
		t.Fatalf("accepted by telesales: stage %v", l["stage"])
	}
	problem(t, ts.do(t, "POST", path+"/complete-stage", leadcycle.RoleTelesales, nil), 422, "lead.sales_ready")
	l := ok(t, ts.do(t, "PATCH", path, leadcycle.RoleTelesales, map[string]any{"purchase_timeframe": "this_quarter", "purchase_process": "committee",
		"budget_amount": 25000, "need": "must_have", "description": "Two lines", "sales_ready": true}), 200)
	if l["stage"] != leadcycle.StageSalesAcceptance || l["budget_amount"] != 25000.0 {
		t.Fatalf("sales ready from telesales qualification: %v", l)
	}
	problem(t, ts.do(t, "PATCH", path, leadcycle.RoleTelesales, `{"purchase_timeframe": "someday"}`), 422, "purchase_timeframe")

	// A sales task for the manager; the salesperson now sees the lead.
	ts.web.HandleEvents(ctx)
	sales := items(t, ts.do(t, "GET", "/api/v1/tasks?lead_id="+lead+"&queue=sales", leadcycle.RoleSalesManager, nil))
	if len(sales) != 1 || sales[0]["kind"] != "accept" || sales[0]["assignee_id"] != nil {
		t.Fatalf("sales tasks: %v", sales)
	}
	if call := ok(t, ts.do(t, "GET", "/api/v1/tasks/"+tasks[0]["id"].(string), leadcycle.RoleTelesales, nil), 200); call["status"] != "done" || call["completed_at"] == nil {
		t.Errorf("the telesales call after the lead became sales ready: %v", call)
	}
	if got := items(t, ts.do(t, "GET", "/api/v1/leads", leadcycle.RoleSales, nil)); len(got) != 1 || got[0]["id"] != lead {
		t.Errorf("salesperson's leads: %v", got)
	}
	task := sales[0]["id"].(string)
	problem(t, ts.do(t, "POST", "/api/v1/tasks/"+task+"/assign", leadcycle.RoleSales, map[string]any{"assignee_id": seller}), 403, "")
	problem(t, ts.do(t, "POST", "/api/v1/tasks/"+task+"/assign", leadcycle.RoleSalesManager, map[string]any{"assignee_id": "424242"}), 422, "assignee_id")
	if got := ok(t, ts.do(t, "POST", "/api/v1/tasks/"+task+"/assign", leadcycle.RoleSalesManager, map[string]any{"assignee_id": seller}), 200); got["assignee_id"] != seller {
		t.Fatalf("assign: %v", got)
	}
	if l := ok(t, ts.do(t, "GET", path, leadcycle.RoleSales, nil), 200); l["owner_id"] != seller {
		t.Errorf("assigning the acceptance task did not make the salesperson the owner: %v", l["owner_id"])
	}
	problem(t, ts.do(t, "PATCH", path, leadcycle.RoleSales, `{"sales_accepted": true}`), 403, "")
	ok(t, ts.do(t, "PATCH", path, leadcycle.RoleSalesManager, `{"sales_accepted": true}`), 200)
	ts.web.HandleEvents(ctx)
	if got := ok(t, ts.do(t, "GET", "/api/v1/tasks/"+task, leadcycle.RoleSalesManager, nil), 200); got["status"] != "done" {
		t.Errorf("sales accepted left the acceptance task %v", got["status"])
	}
	problem(t, ts.do(t, "POST", path+"/complete-stage", leadcycle.RoleSales, nil), 409, "")

	// The salesperson qualifies it: an opportunity that keeps the lead.
	r := ts.do(t, "POST", path+"/qualify", leadcycle.RoleSales, map[string]any{"opportunity": map[string]any{"estimated_value": 90000, "currency": "eur"}})
	res := ok(t, r, 201)
	opp := res["opportunity"].(map[string]any)
	if opp["lead_id"] != lead || opp["contact_id"] != contact || opp["name"] != "Canning line" || opp["currency"] != "EUR" || opp["owner_id"] != seller {
		t.Errorf("opportunity: %v", opp)
	}
	if res["lead"].(map[string]any)["status"] != "qualified" || r.header.Get("Location") != "/api/v1/opportunities/"+opp["id"].(string) {
		t.Errorf("qualify: %s", r.body)
	}
	problem(t, ts.do(t, "PATCH", path, leadcycle.RoleSalesManager, `{"topic": "x"}`), 409, "")
	problem(t, ts.do(t, "POST", path+"/qualify", leadcycle.RoleSales, nil), 409, "")

	timeline := items(t, ts.do(t, "GET", path+"/timeline?limit=100", leadcycle.RoleSales, nil))
	var stages []string
	for i := len(timeline) - 1; i >= 0; i-- {
		if e := timeline[i]; e["kind"] == leadcycle.TimelineStageChanged {
			stages = append(stages, e["from"].(string)+"→"+e["to"].(string))
			if e["actor"] == "" || e["reason"] == "" || e["at"] == nil {
				t.Errorf("timeline entry without who or why: %v", e)
			}
		}
	}
	want := []string{"inquiry→telesales_acceptance", "telesales_acceptance→telesales_qualification", "telesales_qualification→sales_acceptance"}
	if strings.Join(stages, " ") != strings.Join(want, " ") {
		t.Errorf("stage changes on the timeline: %v, want %v", stages, want)
	}
	if timeline[0]["kind"] != leadcycle.TimelineQualified || !strings.Contains(timeline[0]["actor"].(string), "(sales)") {
		t.Errorf("latest timeline entry: %v", timeline[0])
	}
}

// TestProcessesAPI covers process definitions: the shipped default, a
// custom one, refused definitions, switching and moving by hand.
func TestProcessesAPI(t *testing.T) {
	ts := newTestServer(t)
	procs := items(t, ts.do(t, "GET", "/api/v1/processes", leadcycle.RoleSales, nil))
	if len(procs) != 1 || procs[0]["name"] != leadcycle.DefaultProcessName || procs[0]["is_default"] != true || len(procs[0]["stages"].([]any)) != 5 {
		t.Fatalf("shipped processes: %v", procs)
	}
	bad := map[string]any{"name": "Loop", "stages": []map[string]any{
		{"key": "a", "name": "A", "next": []map[string]any{{"to": "b"}}},
		{"key": "b", "name": "B", "next": []map[string]any{{"to": "a"}}},
	}}
	problem(t, ts.do(t, "POST", "/api/v1/processes", leadcycle.RoleMarketer, bad), 422, "stages[0]")
	unreachable := map[string]any{"name": "Island", "stages": []map[string]any{
		{"key": "a", "name": "A", "final": true}, {"key": "b", "name": "B"},
	}}
	problem(t, ts.do(t, "POST", "/api/v1/processes", leadcycle.RoleMarketer, unreachable), 422, "stages[1]")
	problem(t, ts.do(t, "POST", "/api/v1/processes", leadcycle.RoleMarketer, map[string]any{"name": "Typo", "stages": []map[string]any{
		{"key": "a", "name": "A", "fields": []map[string]any{{"field": "lead.budjet"}}}}}), 422, "stages[0].fields[0].field")
	problem(t, ts.do(t, "POST", "/api/v1/processes", leadcycle.RoleTelesales, map[string]any{"name": "No"}), 403, "")

	custom := ok(t, ts.do(t, "POST", "/api/v1/processes", leadcycle.RoleMarketer, map[string]any{"name": "Partner referral", "stages": []map[string]any{
		{"key": "referred", "name": "Referred"}, {"key": "vetted", "name": "Vetted", "fields": []map[string]any{{"field": "lead.need", "required": true}}},
		{"key": "handed_over", "name": "Handed over"},
	}}), 201)
	lead := ts.mustCreate(t, "leads", map[string]any{"topic": "Referral"})
	path := "/api/v1/leads/" + lead
	problem(t, ts.do(t, "POST", path+"/switch-process", leadcycle.RoleMarketer, map[string]any{"process_id": "999"}), 422, "process_id")
	l := ok(t, ts.do(t, "POST", path+"/switch-process", leadcycle.RoleMarketer, map[string]any{"process_id": custom["id"]}), 200)
	if l["process_id"] != custom["id"] || l["stage"] != "referred" {
		t.Fatalf("switched: %v", l)
	}
	l = ok(t, ts.do(t, "POST", path+"/complete-stage", leadcycle.RoleMarketer, nil), 200)
	if l["stage"] != "vetted" {
		t.Fatalf("completed: %v", l["stage"])
	}
	problem(t, ts.do(t, "POST", path+"/complete-stage", leadcycle.RoleMarketer, nil), 422, "lead.need")
	problem(t, ts.do(t, "POST", path+"/move-stage", leadcycle.RoleTelesales, map[string]any{"stage": "handed_over"}), 403, "")
	problem(t, ts.do(t, "POST", path+"/move-stage", leadcycle.RoleMarketer, map[string]any{"stage": "nowhere"}), 422, "stage")
	problem(t, ts.do(t, "POST", path+"/move-stage", leadcycle.RoleMarketer, map[string]any{"stage": "handed_over", "extra": 1}), 400, "extra")
	l = ok(t, ts.do(t, "POST", path+"/move-stage", leadcycle.RoleSalesManager, map[string]any{"stage": "handed_over", "reason": "the partner called"}), 200)
	if l["stage"] != "handed_over" {
		t.Fatalf("moved: %v", l["stage"])
	}
	last := items(t, ts.do(t, "GET", path+"/timeline", leadcycle.RoleReadonly, nil))[0]
	if last["from"] != "vetted" || last["to"] != "handed_over" || !strings.Contains(last["reason"].(string), "the partner called") || !strings.Contains(last["actor"].(string), "sales_manager") {
		t.Errorf("manual move on the timeline: %v", last)
	}
	problem(t, ts.do(t, "DELETE", "/api/v1/processes/"+custom["id"].(string), leadcycle.RoleMarketer, nil), 409, "")
	problem(t, ts.do(t, "DELETE", "/api/v1/processes/"+procs[0]["id"].(string), leadcycle.RoleMarketer, nil), 409, "")

	// Disqualify needs a reason; reactivate reopens.
	problem(t, ts.do(t, "POST", path+"/disqualify", leadcycle.RoleTelesales, map[string]any{"reason": "lost"}), 403, "") // not telesales ready
	problem(t, ts.do(t, "POST", path+"/disqualify", leadcycle.RoleMarketer, map[string]any{"reason": "bored"}), 422, "reason")
	if l := ok(t, ts.do(t, "POST", path+"/disqualify", leadcycle.RoleMarketer, map[string]any{"reason": "no_longer_interested", "note": "went elsewhere"}), 200); l["status"] != "disqualified" {
		t.Fatalf("disqualified: %v", l)
	}
	problem(t, ts.do(t, "PATCH", path, leadcycle.RoleMarketer, `{"topic": "x"}`), 409, "")
	if l := ok(t, ts.do(t, "POST", path+"/reactivate", leadcycle.RoleMarketer, nil), 200); l["status"] != "open" || l["status_reason"] != "new" {
		t.Fatalf("reactivated: %v", l)
	}
	ok(t, ts.do(t, "PATCH", path, leadcycle.RoleMarketer, `{"topic": "Referral again"}`), 200)
}

// TestQueuesAPI covers queue settings and round-robin assignment by hand.
func TestQueuesAPI(t *testing.T) {
	ts := newTestServer(t)
	qs := items(t, ts.do(t, "GET", "/api/v1/queues", leadcycle.RoleTelesales, nil))
	if len(qs) != 2 || qs[0]["key"] != "telesales" || qs[0]["assignment"] != "round_robin" || qs[1]["key"] != "sales" || qs[1]["assignment"] != "manual" {
		t.Fatalf("queues: %v", qs)
	}
	problem(t, ts.do(t, "PATCH", "/api/v1/queues/sales", leadcycle.RoleSales, `{"assignment": "round_robin"}`), 403, "")
	problem(t, ts.do(t, "PATCH", "/api/v1/queues/sales", leadcycle.RoleSalesManager, `{"assignment": "lottery"}`), 422, "assignment")
	problem(t, ts.do(t, "PATCH", "/api/v1/queues/nope", leadcycle.RoleSalesManager, `{"due_hours": 4}`), 404, "")
	if q := ok(t, ts.do(t, "PATCH", "/api/v1/queues/sales", leadcycle.RoleSalesManager, `{"assignment": "round_robin", "due_hours": 4}`), 200); q["due_hours"] != 4.0 {
		t.Fatalf("queue: %v", q)
	}
	var sellers []string
	for _, name := range []string{"Ana", "Breixo"} {
		sellers = append(sellers, ok(t, ts.do(t, "POST", "/api/v1/users", leadcycle.RoleAdmin, map[string]any{"name": name, "email": strings.ToLower(name) + "@example.gal", "role": "sales"}), 201)["id"].(string))
	}
	var got []string
	for range 3 {
		task := ts.mustCreate(t, "tasks", map[string]any{"title": "Accept", "queue": "sales", "kind": "accept"})
		got = append(got, ok(t, ts.do(t, "POST", "/api/v1/tasks/"+task+"/assign", leadcycle.RoleSalesManager, nil), 200)["assignee_id"].(string))
	}
	if strings.Join(got, ",") != strings.Join([]string{sellers[0], sellers[1], sellers[0]}, ",") {
		t.Errorf("round-robin assignees %v, want %s,%s,%s", got, sellers[0], sellers[1], sellers[0])
	}
}

// receiver is a webhook endpoint on loopback that fails the first answers.
type receiver struct {
	mu       sync.Mutex
	failures int
	bodies   [][]byte
	headers  []http.Header
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.bodies, rc.headers = append(rc.bodies, body), append(rc.headers, r.Header.Clone())
	if rc.failures > 0 {
		rc.failures--
		http.Error(w, "try later", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// TestWebhooksDeliverSignedEventsOnce sends lead events to a receiver on
// loopback: refused unless allowed, signed per Standard Webhooks, retried
// after a 500 and delivered once.
func TestWebhooksDeliverSignedEventsOnce(t *testing.T) {
	rc := &receiver{failures: 1}
	hook := httptest.NewServer(rc)
	defer hook.Close()

	strict := newTestServer(t)
	problem(t, strict.do(t, "POST", "/api/v1/webhooks", leadcycle.RoleAdmin, map[string]any{"name": "CRM", "url": hook.URL, "events": []string{"lead.created"}}), 422, "url")

	clock := leadcycle.NewFixedClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	ts := newClockedServer(t, clock, func(o *web.Options) { o.WebhookAllowPrivate = true })
	problem(t, ts.do(t, "POST", "/api/v1/webhooks", leadcycle.RoleMarketer, map[string]any{"name": "CRM", "url": hook.URL, "events": []string{"lead.created"}}), 403, "")
	problem(t, ts.do(t, "POST", "/api/v1/webhooks", leadcycle.RoleAdmin, map[string]any{"name": "CRM", "url": hook.URL, "events": []string{"lead.sold"}}), 422, "events[0]")
	created := ok(t, ts.do(t, "POST", "/api/v1/webhooks", leadcycle.RoleAdmin, map[string]any{"name": "CRM", "url": hook.URL, "events": []string{"lead.created", "lead.stage_changed"}}), 201)
	secret, _ := created["secret"].(string)
	id := created["id"].(string)
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("create answer lacks the secret: %v", created)
	}
	if got := ok(t, ts.do(t, "GET", "/api/v1/webhooks/"+id, leadcycle.RoleMarketer, nil), 200); got["secret"] != nil {
		t.Errorf("the secret is shown again: %v", got)
	}

	lead := ts.mustCreate(t, "leads", map[string]any{"topic": "Webhook me"})
	worker := ts.web.WebhookWorker()
	if _, err := worker.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	ds := items(t, ts.do(t, "GET", "/api/v1/webhooks/"+id+"/deliveries", leadcycle.RoleAdmin, nil))
	if len(ds) != 1 || ds[0]["status"] != "pending" || ds[0]["attempts"] != 1.0 || ds[0]["last_status_code"] != 500.0 || ds[0]["event_type"] != "lead.created" {
		t.Fatalf("after a 500: %v", ds)
	}
	// Not due yet: nothing is sent; once due, it is delivered.
	if _, err := worker.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	if _, err := worker.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	for range 3 { // more passes send nothing more
		if _, err := worker.RunOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	ds = items(t, ts.do(t, "GET", "/api/v1/webhooks/"+id+"/deliveries", leadcycle.RoleAdmin, nil))
	if len(ds) != 1 || ds[0]["status"] != "delivered" || ds[0]["attempts"] != 2.0 {
		t.Fatalf("after the retry: %v", ds)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.bodies) != 2 {
		t.Fatalf("receiver got %d requests, want 2 (a 500, then the delivery)", len(rc.bodies))
	}
	for i, body := range rc.bodies {
		if err := webhook.Verify(secret, rc.headers[i], body, clock.Now(), 5*time.Minute); err != nil {
			t.Errorf("request %d: signature: %v", i, err)
		}
	}
	if rc.headers[0].Get("webhook-id") != rc.headers[1].Get("webhook-id") {
		t.Errorf("a retry changed the message id")
	}
	var msg struct {
		Type string `json:"type"`
		Data struct {
			Lead struct {
				ID string `json:"id"`
			} `json:"lead"`
		} `json:"data"`
	}
	if err := json.Unmarshal(rc.bodies[1], &msg); err != nil || msg.Type != "lead.created" || msg.Data.Lead.ID != lead {
		t.Errorf("delivered body: %s (%v)", rc.bodies[1], err)
	}
	if err := webhook.Verify("whsec_"+strings.Repeat("A", 32), rc.headers[1], rc.bodies[1], clock.Now(), 5*time.Minute); err == nil {
		t.Error("another secret verifies the signature")
	}
}

// TestEventLog lists the outbox: a form submission writes contact.created,
// lead.created and form.submitted, in that order.
func TestEventLog(t *testing.T) {
	ts := newTestServer(t)
	form := ok(t, ts.do(t, "POST", "/api/v1/forms", leadcycle.RoleMarketer, map[string]any{"name": "Ebook", "active": true,
		"fields": []map[string]any{{"name": "email", "type": "email", "target": "contact.email", "required": true}}}), 201)["id"].(string)
	req, _ := http.NewRequest("POST", ts.URL+"/f/"+form, strings.NewReader(`{"email": "noa@example.gal"}`))
	req.Header.Set("Content-Type", "application/json")
	res, err := ts.Client().Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("submit: %v %v", res, err)
	}
	res.Body.Close()
	problem(t, ts.do(t, "GET", "/api/v1/event-log", leadcycle.RoleSales, nil), 403, "")
	problem(t, ts.do(t, "GET", "/api/v1/event-log?after=x", leadcycle.RoleMarketer, nil), 422, "after")
	var types []string
	var submitted map[string]any
	for _, ev := range items(t, ts.do(t, "GET", "/api/v1/event-log", leadcycle.RoleMarketer, nil)) {
		types = append(types, ev["type"].(string))
		if ev["type"] == "form.submitted" {
			submitted = ev["payload"].(map[string]any)
		}
	}
	if strings.Join(types, ",") != "contact.created,lead.created,form.submitted" {
		t.Errorf("event types %v", types)
	}
	if submitted["form_id"] != form || submitted["lead_created"] != true || submitted["contact_id"] == nil {
		t.Errorf("form.submitted payload: %v", submitted)
	}
	all := items(t, ts.do(t, "GET", "/api/v1/event-log", leadcycle.RoleMarketer, nil))
	after := all[0]["id"].(string)
	if rest := items(t, ts.do(t, "GET", "/api/v1/event-log?after="+after, leadcycle.RoleMarketer, nil)); len(rest) != 2 {
		t.Errorf("after %s: %d events, want 2", after, len(rest))
	}
}

// TestLeadCreatedSalesReady: a lead entered already sales ready (by a sales
// manager) goes straight to Sales acceptance and gets its acceptance task.
func TestLeadCreatedSalesReady(t *testing.T) {
	ts := newTestServer(t)
	contact := ts.mustCreate(t, "contacts", map[string]any{"email": "walkin@example.gal"})
	problem(t, ts.do(t, "POST", "/api/v1/leads", leadcycle.RoleSales, map[string]any{"topic": "Walk-in", "contact_id": contact, "sales_ready": true}), 403, "")
	l := ok(t, ts.do(t, "POST", "/api/v1/leads", leadcycle.RoleSalesManager, map[string]any{"topic": "Walk-in", "contact_id": contact, "sales_ready": true}), 201)
	if l["stage"] != leadcycle.StageSalesAcceptance {
		t.Fatalf("a lead created sales ready is in %v", l["stage"])
	}
	metric := func(line string) bool {
		return strings.Contains(string(ts.do(t, "GET", "/metrics", "", nil).body), "\n"+line+"\n")
	}
	if !metric("leadcycle_outbox_workflow_pending 1") || !metric("leadcycle_webhook_deliveries_failed 0") {
		t.Errorf("outbox backlog missing from /metrics")
	}
	ts.web.HandleEvents(context.Background())
	if !metric("leadcycle_outbox_workflow_pending 0") {
		t.Errorf("the handled event is still counted as pending")
	}
	if tasks := items(t, ts.do(t, "GET", "/api/v1/tasks?queue=sales&lead_id="+l["id"].(string), leadcycle.RoleSalesManager, nil)); len(tasks) != 1 {
		t.Errorf("sales tasks of a lead created sales ready: %v", tasks)
	}
}
