package web_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/email"
	"github.com/leadcycle/leadcycle/internal/smtptest"
	"github.com/leadcycle/leadcycle/store/sqlite"
	"github.com/leadcycle/leadcycle/store/storetest"
	"github.com/leadcycle/leadcycle/web"
)

// journeyServer is a test server with an injectable clock that sends email
// through an SMTP server on loopback (STARTTLS and a login).
func journeyServer(t *testing.T, reject func(string) (int, string)) (*testServer, *leadcycle.FixedClock, *smtptest.Server) {
	t.Helper()
	ctx := context.Background()
	clock := leadcycle.NewFixedClock(time.Now().UTC().Truncate(time.Second))
	store, err := sqlite.Open(ctx, t.TempDir(), clock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	tlsConf, pool := smtptest.SelfSignedTLS(t)
	smtp := smtptest.Start(t, smtptest.Options{TLS: tlsConf, Username: "mailer", Password: "s3cret-Pass", Reject: reject})
	sender, err := email.NewSMTPSender(email.SMTPConfig{Host: smtp.Host(), Port: smtp.Port(), TLS: email.TLSStartTLS, Username: "mailer", Password: "s3cret-Pass",
		RootCAs: pool, RatePerSecond: 100})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sender.Close() })
	mailOpts := &web.MailOptions{Sender: sender, From: mail.Address{Name: "Conservas Rías", Address: "news@conservas.example"}}
	ws := web.NewServer(store, web.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), KeyCacheTTL: time.Nanosecond, Clock: clock,
		SpoolDir: t.TempDir(), PublicRate: 100, PublicBurst: 100, Mail: mailOpts, WebhookAllowPrivate: true})
	hs := httptest.NewServer(ws)
	t.Cleanup(hs.Close)
	mailOpts.PublicURL = hs.URL
	ts := &testServer{Server: hs, store: store, web: ws, keys: map[string]string{}}
	for _, role := range leadcycle.Roles {
		ts.keys[role] = mustKey(t, store, role)
	}
	return ts, clock, smtp
}

// settle runs every worker once, in the order a real server interleaves
// them, until nothing moves.
func settle(t *testing.T, ts *testServer, m interface {
	SendDue(context.Context) (int, error)
}) {
	t.Helper()
	ctx := context.Background()
	for range 20 {
		moved := 0
		storetest.MustDrainSegments(t, ctx, ts.store)
		n, err := ts.store.JourneyRuns().ProcessDue(ctx, 500)
		if err != nil {
			t.Fatal(err)
		}
		moved += n
		if n, err = m.SendDue(ctx); err != nil {
			t.Fatal(err)
		}
		moved += n
		storetest.MustDrainScoring(t, ctx, ts.store)
		moved += ts.web.HandleEvents(ctx)
		if moved == 0 {
			return
		}
	}
	t.Fatal("the workers did not settle")
}

var hrefPattern = regexp.MustCompile(`(?:href|src)="([^"]+)"`)

// links returns the addresses of a message's HTML that start with prefix.
func links(html, prefix string) []string {
	var out []string
	for _, m := range hrefPattern.FindAllStringSubmatch(html, -1) {
		u := strings.ReplaceAll(m[1], "&amp;", "&")
		if strings.HasPrefix(u, prefix) {
			out = append(out, u)
		}
	}
	return out
}

// TestJourneyEndToEnd runs a nurture journey: segment → email → the contact
// opens it (pixel) → branch → create lead → the lead is scored → sales
// ready → the business process moves it → a sales task. The contact who does
// not open leaves after the time limit.
func TestJourneyEndToEnd(t *testing.T) {
	ts, clock, smtp := journeyServer(t, nil)
	ctx := context.Background()
	m := ts.web.Mailer(ctx)
	if m == nil {
		t.Fatal("no mailer")
	}
	model := ts.do(t, "POST", "/api/v1/scoring-models", leadcycle.RoleMarketer, map[string]any{
		"name":                  "Journey engagement",
		"rules":                 []map[string]any{{"name": "Opened an email", "points": 60, "behaviors": []map[string]any{{"type": "email_opened", "frequency": "at_least_once", "window_days": 30}}}},
		"grades":                []map[string]any{{"name": "A", "min": 50}, {"name": "B", "max": 49}},
		"sales_ready_threshold": 50,
	})
	if model.status != 201 {
		t.Fatalf("model: %d %s", model.status, model.body)
	}
	ts.do(t, "POST", "/api/v1/scoring-models/"+model.json(t)["id"].(string)+"/publish", leadcycle.RoleMarketer, nil)

	consent := map[string]any{"commercial_email": "granted", "tracking": "granted"}
	ana := ts.mustCreate(t, "contacts", map[string]any{"first_name": "Ánxela", "last_name": "Vázquez", "email": "anxela@example.gal", "consent": consent})
	wei := ts.mustCreate(t, "contacts", map[string]any{"first_name": "陳", "email": "chen@example.tw", "consent": consent})
	refused := ts.mustCreate(t, "contacts", map[string]any{"first_name": "Brais", "email": "brais@example.gal", "consent": map[string]any{"commercial_email": "denied"}})
	seg := ts.mustCreate(t, "segments", map[string]any{"name": "Autumn fair", "kind": "static"})
	if r := ts.do(t, "POST", "/api/v1/segments/"+seg+"/members", leadcycle.RoleMarketer, map[string]any{"contact_ids": []string{ana, wei, refused}}); r.status != 200 {
		t.Fatalf("members: %d %s", r.status, r.body)
	}
	tmpl := ts.do(t, "POST", "/api/v1/email-templates", leadcycle.RoleMarketer, map[string]any{
		"name": "Autumn offer", "subject": "{{contact.first_name | \"Hello\"}}, our autumn tins",
		"html": `<html><body><p>Hola {{contact.first_name}},</p><p><a href="https://conservas.example/outono?c=1">See the offer</a></p></body></html>`,
	})
	if tmpl.status != 201 {
		t.Fatalf("template: %d %s", tmpl.status, tmpl.body)
	}
	tmplID := tmpl.json(t)["id"].(string)
	j := ts.do(t, "POST", "/api/v1/journeys", leadcycle.RoleMarketer, map[string]any{
		"name":  "Autumn nurture",
		"entry": map[string]any{"kind": "segment", "segment_id": seg},
		"steps": []map[string]any{
			{"id": "mail", "type": "send_email", "email_id": tmplID},
			{"id": "opened", "type": "branch", "interaction": map[string]any{"type": "email_opened", "email_step": "mail", "within": "3d"}, "then": "lead", "else": "bye"},
			{"id": "bye", "type": "exit"},
			{"id": "lead", "type": "create_lead", "topic": "Autumn tins"},
		},
	})
	if j.status != 201 {
		t.Fatalf("journey: %d %s", j.status, j.body)
	}
	jid := j.json(t)["id"].(string)
	if r := ts.do(t, "POST", "/api/v1/journeys/"+jid+"/publish", leadcycle.RoleSales, nil); r.status != 403 {
		t.Errorf("sales published a journey: %d", r.status)
	}
	if r := ts.do(t, "POST", "/api/v1/journeys/"+jid+"/publish", leadcycle.RoleMarketer, nil); r.status != 200 {
		t.Fatalf("publish: %d %s", r.status, r.body)
	}
	settle(t, ts, m)

	msgs := smtp.WaitMessages(t, 2, 5*time.Second)
	byTo := map[string]smtptest.Message{}
	for _, msg := range msgs {
		if !msg.TLS || msg.AuthUser != "mailer" {
			t.Errorf("message to %v not sent over TLS with the login", msg.To)
		}
		byTo[msg.To[0]] = msg
	}
	if _, ok := byTo["brais@example.gal"]; ok || len(byTo) != 2 {
		t.Fatalf("delivered to %v; the contact without consent must get nothing", msgs)
	}
	msg := byTo["anxela@example.gal"]
	if msg.Subject != "Ánxela, our autumn tins" || !strings.Contains(msg.HTML, "Hola Ánxela,") {
		t.Errorf("personalisation: subject %q, html %q", msg.Subject, msg.HTML)
	}
	if got := byTo["chen@example.tw"].Subject; got != "陳, our autumn tins" {
		t.Errorf("subject to 陳 = %q", got)
	}
	if strings.Contains(msg.HTML, `href="https://conservas.example`) {
		t.Error("the offer link is not tracked")
	}
	clicks, pixels, unsubs := links(msg.HTML, ts.URL+"/c/"), links(msg.HTML, ts.URL+"/o/"), links(msg.HTML, ts.URL+"/u/")
	if len(clicks) != 1 || len(pixels) != 1 || len(unsubs) != 1 {
		t.Fatalf("links: clicks %v, pixels %v, unsubscribe %v in %s", clicks, pixels, unsubs, msg.HTML)
	}
	if lu := msg.Header.Get("List-Unsubscribe"); lu != "<"+unsubs[0]+">" || msg.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
		t.Errorf("List-Unsubscribe = %q, Post = %q", lu, msg.Header.Get("List-Unsubscribe-Post"))
	}
	if !strings.Contains(msg.Text, unsubs[0]) {
		t.Errorf("the text part lacks the unsubscribe link: %q", msg.Text)
	}

	// Ánxela opens the email (her mail client fetches the pixel) and
	// clicks the offer.
	clock.Advance(2 * time.Hour)
	if res, err := http.Get(pixels[0]); err != nil || res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/gif" {
		t.Fatalf("pixel: %v %v", res, err)
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := noRedirect.Get(clicks[0])
	if err != nil || res.StatusCode != http.StatusFound || res.Header.Get("Location") != "https://conservas.example/outono?c=1" {
		t.Fatalf("click: %v %v", res, err)
	}
	settle(t, ts, m)

	run := ts.do(t, "GET", "/api/v1/journeys/"+jid+"/runs/"+ana, leadcycle.RoleReadonly, nil).json(t)
	if run["state"] != "completed" || run["lead_id"] == nil {
		t.Fatalf("Ánxela's run = %v", run)
	}
	leadID := run["lead_id"].(string)
	lead := ts.do(t, "GET", "/api/v1/leads/"+leadID, leadcycle.RoleAdmin, nil).json(t)
	if lead["source"] != "journey" || lead["journey_id"] != jid || lead["topic"] != "Autumn tins" || lead["contact_id"] != ana {
		t.Errorf("lead = %v", lead)
	}
	scores, _ := lead["scores"].([]any)
	if len(scores) != 1 || scores[0].(map[string]any)["score"] != float64(60) || lead["sales_ready"] != true {
		t.Fatalf("scored lead = %v", lead)
	}
	if lead["stage"] != leadcycle.StageSalesAcceptance {
		t.Errorf("stage = %v, want the process to move the sales-ready lead to %s", lead["stage"], leadcycle.StageSalesAcceptance)
	}
	tasks := ts.do(t, "GET", "/api/v1/tasks?lead_id="+leadID, leadcycle.RoleAdmin, nil).json(t)["items"].([]any)
	var accept bool
	for _, task := range tasks {
		if tk := task.(map[string]any); tk["queue"] == "sales" && tk["kind"] == "accept" && tk["status"] == "open" {
			accept = true
		}
	}
	if !accept {
		t.Errorf("no open sales accept task for the lead: %v", tasks)
	}

	// 陳 never opens it: after the three days the branch takes else.
	if r := ts.do(t, "GET", "/api/v1/journeys/"+jid+"/runs/"+wei, leadcycle.RoleReadonly, nil).json(t); r["state"] != "waiting" {
		t.Fatalf("陳 before the limit = %v", r)
	}
	clock.Advance(3 * 24 * time.Hour)
	settle(t, ts, m)
	if r := ts.do(t, "GET", "/api/v1/journeys/"+jid+"/runs/"+wei, leadcycle.RoleReadonly, nil).json(t); r["state"] != "exited" || r["lead_id"] != nil {
		t.Fatalf("陳 after the limit = %v", r)
	}
	stats := ts.do(t, "GET", "/api/v1/journeys/"+jid, leadcycle.RoleReadonly, nil).json(t)["stats"].(map[string]any)
	if stats["entered"] != float64(3) || stats["completed"] != float64(1) || stats["exited"] != float64(2) || stats["emails_queued"] != float64(2) || stats["skipped_consent"] != float64(1) {
		t.Errorf("stats = %v", stats)
	}
	sends := ts.do(t, "GET", "/api/v1/email-sends?status=sent", leadcycle.RoleMarketer, nil).json(t)["items"].([]any)
	if len(sends) != 2 {
		t.Errorf("sent = %v", sends)
	}

	// One click on the unsubscribe link: a scanner gets a button, the
	// person is unsubscribed at once; the one-click POST works too.
	req, _ := http.NewRequest("GET", unsubs[0], nil)
	req.Header.Set("User-Agent", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)")
	req.Header.Set("Accept-Language", "gl")
	if body := mustBody(t, req); !strings.Contains(body, "<form method=\"post\"") || !strings.Contains(body, "Cancelar a subscrición") {
		t.Errorf("scanner page: %s", body)
	}
	if c := ts.do(t, "GET", "/api/v1/contacts/"+ana, leadcycle.RoleAdmin, nil).json(t); c["consent"].(map[string]any)["commercial_email"] != "granted" {
		t.Fatal("a scanner unsubscribed the contact")
	}
	req, _ = http.NewRequest("GET", unsubs[0], nil)
	req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/140.0 Safari/537.36")
	if body := mustBody(t, req); !strings.Contains(body, "You are unsubscribed") {
		t.Errorf("unsubscribe page: %s", body)
	}
	if c := ts.do(t, "GET", "/api/v1/contacts/"+ana, leadcycle.RoleAdmin, nil).json(t); c["consent"].(map[string]any)["commercial_email"] != "denied" {
		t.Errorf("consent after unsubscribing = %v", c["consent"])
	}
	chenUnsub := links(byTo["chen@example.tw"].HTML, ts.URL+"/u/")[0]
	res, err = http.Post(chenUnsub, "application/x-www-form-urlencoded", strings.NewReader(url.Values{"List-Unsubscribe": {"One-Click"}}.Encode()))
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("one-click POST: %v %v", res, err)
	}
	if c := ts.do(t, "GET", "/api/v1/contacts/"+wei, leadcycle.RoleAdmin, nil).json(t); c["consent"].(map[string]any)["commercial_email"] != "denied" {
		t.Errorf("consent after the one-click POST = %v", c["consent"])
	}
	if res, _ := http.Get(ts.URL + "/u/forged-token"); res.StatusCode != 404 {
		t.Errorf("forged unsubscribe token: %d", res.StatusCode)
	}
}

func mustBody(t *testing.T, req *http.Request) string {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

// TestJourneyBounce: a mailbox the server refuses for good is suppressed,
// and a temporary refusal is retried later.
func TestJourneyBounce(t *testing.T) {
	tempFail := true
	ts, clock, smtp := journeyServer(t, func(rcpt string) (int, string) {
		switch {
		case rcpt == "gone@example.gal":
			return 550, "5.1.1 no such mailbox"
		case rcpt == "busy@example.gal" && tempFail:
			return 451, "4.2.1 try later"
		}
		return 0, ""
	})
	ctx := context.Background()
	m := ts.web.Mailer(ctx)
	consent := map[string]any{"commercial_email": "granted"}
	gone := ts.mustCreate(t, "contacts", map[string]any{"email": "gone@example.gal", "consent": consent})
	busy := ts.mustCreate(t, "contacts", map[string]any{"email": "busy@example.gal", "consent": consent})
	seg := ts.mustCreate(t, "segments", map[string]any{"name": "All", "kind": "static"})
	ts.do(t, "POST", "/api/v1/segments/"+seg+"/members", leadcycle.RoleMarketer, map[string]any{"contact_ids": []string{gone, busy}})
	tmpl := ts.mustCreate(t, "email-templates", map[string]any{"name": "N", "subject": "News", "text": "Hello {{contact.first_name | \"friend\"}}"})
	j := ts.mustCreate(t, "journeys", map[string]any{"name": "News", "entry": map[string]any{"kind": "segment", "segment_id": seg},
		"steps": []map[string]any{{"type": "send_email", "email_id": tmpl}}})
	ts.do(t, "POST", "/api/v1/journeys/"+j+"/publish", leadcycle.RoleMarketer, nil)
	settle(t, ts, m)
	if n := len(smtp.Messages()); n != 0 {
		t.Fatalf("%d delivered", n)
	}
	sup := ts.do(t, "GET", "/api/v1/suppressions", leadcycle.RoleMarketer, nil).json(t)["items"].([]any)
	if len(sup) != 1 || sup[0].(map[string]any)["email"] != "gone@example.gal" {
		t.Fatalf("suppressions = %v", sup)
	}
	bounced := ts.do(t, "GET", "/api/v1/email-sends?status=bounced", leadcycle.RoleMarketer, nil).json(t)["items"].([]any)
	if len(bounced) != 1 || !strings.Contains(bounced[0].(map[string]any)["reason"].(string), "550") {
		t.Errorf("bounced = %v", bounced)
	}
	tempFail = false
	clock.Advance(2 * time.Minute)
	settle(t, ts, m)
	delivered := smtp.WaitMessages(t, 1, 5*time.Second)
	if delivered[0].To[0] != "busy@example.gal" || !strings.Contains(delivered[0].Text, "Hello friend") {
		t.Errorf("retried message = %+v", delivered[0])
	}
	// A bounce reported by the provider suppresses too; a bad report is refused.
	if r := ts.do(t, "POST", "/api/v1/suppressions", leadcycle.RoleMarketer, map[string]any{"email": "Busy@example.gal", "reason": "complaint"}); r.status != 201 {
		t.Errorf("report: %d %s", r.status, r.body)
	}
	if f := problemFields(t, ts.do(t, "POST", "/api/v1/suppressions", leadcycle.RoleMarketer, map[string]any{"email": "x", "reason": "bounce"}), 422); len(f) != 1 || f[0] != "email" {
		t.Errorf("bad report fields = %v", f)
	}
	if r := ts.do(t, "DELETE", "/api/v1/suppressions/gone@example.gal", leadcycle.RoleMarketer, nil); r.status != 204 {
		t.Errorf("unsuppress: %d", r.status)
	}
	// Template placeholders are checked on save, with their position.
	if f := problemFields(t, ts.do(t, "POST", "/api/v1/email-templates", leadcycle.RoleMarketer, map[string]any{"name": "x", "subject": "Hi {{contact.nmae}}", "text": "x"}), 422); len(f) != 1 || f[0] != "subject" {
		t.Errorf("bad placeholder fields = %v", f)
	}
}

// TestDoubleOptInByEmail: a form with double opt-in leaves the consent
// pending and mails the confirmation; its link grants the consent, and only
// then does a journey's commercial email go out.
func TestDoubleOptInByEmail(t *testing.T) {
	ts, _, smtp := journeyServer(t, nil)
	ctx := context.Background()
	m := ts.web.Mailer(ctx)
	confirm := ts.mustCreate(t, "email-templates", map[string]any{"name": "Confirm", "subject": "Confirm your subscription", "purpose": "transactional",
		"html": `<p>Hi {{contact.first_name | "there"}}, <a href="{{consent.confirm_url}}">confirm your subscription</a>.</p>`})
	form := ts.mustCreate(t, "forms", map[string]any{"name": "Newsletter", "active": true, "mode": "contacts_only", "double_opt_in": true, "confirmation_email_id": confirm,
		"fields":   []map[string]any{{"name": "email", "type": "email", "target": "contact.email", "required": true}, {"name": "first_name", "type": "text", "target": "contact.first_name"}},
		"consents": []map[string]any{{"purpose": "commercial_email", "label": "Send me news"}}})
	news := ts.mustCreate(t, "email-templates", map[string]any{"name": "News", "subject": "News", "text": "Autumn news"})
	res, err := http.PostForm(ts.URL+"/f/"+form, url.Values{"email": {"xiana@example.gal"}, "first_name": {"Xiana"}, "consent_commercial_email": {"true"}})
	if err != nil || res.StatusCode >= 300 {
		t.Fatalf("submit: %v %v", res, err)
	}
	settle(t, ts, m)
	contacts := ts.do(t, "GET", "/api/v1/contacts?email=xiana@example.gal", leadcycle.RoleAdmin, nil).json(t)["items"].([]any)
	if len(contacts) != 1 {
		t.Fatalf("contacts = %v", contacts)
	}
	c := contacts[0].(map[string]any)
	if c["consent"].(map[string]any)["commercial_email"] != "pending" {
		t.Fatalf("consent after the form = %v", c["consent"])
	}
	msg := smtp.WaitMessages(t, 1, 5*time.Second)[0]
	confirmLinks := links(msg.HTML, ts.URL+"/consent/")
	if msg.Subject != "Confirm your subscription" || !strings.Contains(msg.HTML, "Hi Xiana") || len(confirmLinks) != 1 {
		t.Fatalf("confirmation message: %q %s", msg.Subject, msg.HTML)
	}
	// A journey's commercial email waits for the confirmation.
	seg := ts.mustCreate(t, "segments", map[string]any{"name": "Subscribers", "kind": "static"})
	ts.do(t, "POST", "/api/v1/segments/"+seg+"/members", leadcycle.RoleMarketer, map[string]any{"contact_ids": []string{c["id"].(string)}})
	j := ts.mustCreate(t, "journeys", map[string]any{"name": "News", "entry": map[string]any{"kind": "segment", "segment_id": seg, "mode": "one_time"},
		"steps": []map[string]any{{"type": "send_email", "email_id": news}}})
	ts.do(t, "POST", "/api/v1/journeys/"+j+"/publish", leadcycle.RoleMarketer, nil)
	settle(t, ts, m)
	if stats := ts.do(t, "GET", "/api/v1/journeys/"+j, leadcycle.RoleMarketer, nil).json(t)["stats"].(map[string]any); stats["skipped_consent"] != float64(1) {
		t.Errorf("a pending consent was not skipped: %v", stats)
	}
	res, err = http.Get(confirmLinks[0])
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("confirm: %v %v", res, err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(b), "confirmed") {
		t.Errorf("confirmation page: %s", b)
	}
	c = ts.do(t, "GET", "/api/v1/contacts/"+c["id"].(string), leadcycle.RoleAdmin, nil).json(t)
	if c["consent"].(map[string]any)["commercial_email"] != "granted" {
		t.Errorf("consent after confirming = %v", c["consent"])
	}
	if len(smtp.Messages()) != 1 {
		t.Errorf("%d messages; the news must not have gone to a pending contact", len(smtp.Messages()))
	}
}

// TestJourneyWebhookAndCustomTrigger: a custom event enters the contact
// into a trigger journey whose webhook step is delivered, signed, to the
// step's webhook with the contact.
func TestJourneyWebhookAndCustomTrigger(t *testing.T) {
	ts, _, _ := journeyServer(t, nil)
	ctx := context.Background()
	got := make(chan map[string]any, 4)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		body["_signed"] = r.Header.Get("webhook-signature") != ""
		got <- body
	}))
	defer receiver.Close()
	hook := ts.do(t, "POST", "/api/v1/webhooks", leadcycle.RoleAdmin, map[string]any{"name": "CRM", "url": receiver.URL, "events": []string{"lead.created"}})
	if hook.status != 201 {
		t.Fatalf("webhook: %d %s", hook.status, hook.body)
	}
	j := ts.mustCreate(t, "journeys", map[string]any{"name": "Webinar watchers", "entry": map[string]any{"kind": "trigger", "trigger": "custom_event", "event_type": "webinar_watched"},
		"steps": []map[string]any{{"type": "webhook", "webhook_id": hook.json(t)["id"]}}})
	if r := ts.do(t, "POST", "/api/v1/journeys/"+j+"/publish", leadcycle.RoleMarketer, nil); r.status != 200 {
		t.Fatalf("publish: %d %s", r.status, r.body)
	}
	c := ts.mustCreate(t, "contacts", map[string]any{"first_name": "Iria", "email": "iria@example.gal"})
	if r := ts.do(t, "POST", "/api/v1/interactions", leadcycle.RoleMarketer, map[string]any{"type": "custom:webinar_watched", "contact_id": c}); r.status != 201 {
		t.Fatalf("interaction: %d %s", r.status, r.body)
	}
	if _, err := ts.store.JourneyRuns().ProcessDue(ctx, 10); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.web.WebhookWorker().RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case body := <-got:
		data, _ := body["data"].(map[string]any)
		contact, _ := data["contact"].(map[string]any)
		if body["type"] != leadcycle.EventJourneyStep || data["journey_id"] != j || contact["email"] != "iria@example.gal" || body["_signed"] != true {
			t.Errorf("delivered = %v", body)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the journey's webhook was not called")
	}
}

// TestJourneyBadInput: malformed or invalid journeys and templates are
// refused with the field named, and nothing is stored.
func TestJourneyBadInput(t *testing.T) {
	ts := newTestServer(t)
	seg := ts.mustCreate(t, "segments", map[string]any{"name": "S", "kind": "static"})
	entry := map[string]any{"kind": "segment", "segment_id": seg}
	many := make([]map[string]any, 201)
	for i := range many {
		many[i] = map[string]any{"type": "wait", "duration": "1h"}
	}
	cases := []struct {
		name   string
		body   any
		status int
		field  string
	}{
		{"steps not a list", map[string]any{"name": "j", "entry": entry, "steps": "wait 3 days"}, 400, "steps"},
		{"unknown step field", map[string]any{"name": "j", "entry": entry, "steps": []map[string]any{{"type": "wait", "duration": "1d", "colour": "red"}}}, 400, "steps[0].colour"},
		{"duration as a number", map[string]any{"name": "j", "entry": entry, "steps": []map[string]any{{"type": "wait", "duration": 3}}}, 400, "steps[0].duration"},
		{"read-only status", map[string]any{"name": "j", "status": "live", "entry": entry, "steps": []map[string]any{{"type": "exit"}}}, 400, "status"},
		{"read-only stats", map[string]any{"name": "j", "stats": map[string]any{"entered": 5}, "entry": entry, "steps": []map[string]any{{"type": "exit"}}}, 400, "stats"},
		{"too many steps", map[string]any{"name": "j", "entry": entry, "steps": many}, 422, "steps"},
		{"unknown step type", map[string]any{"name": "j", "entry": entry, "steps": []map[string]any{{"type": "teleport"}}}, 422, "steps[0].type"},
		{"id as number", map[string]any{"name": "j", "entry": map[string]any{"kind": "segment", "segment_id": 5}, "steps": []map[string]any{{"type": "exit"}}}, 400, "entry.segment_id"},
		{"missing segment", map[string]any{"name": "j", "entry": map[string]any{"kind": "segment", "segment_id": "987654"}, "steps": []map[string]any{{"type": "exit"}}}, 422, "entry.segment_id"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := ts.do(t, "POST", "/api/v1/journeys", leadcycle.RoleMarketer, c.body)
			if f := problemFields(t, r, c.status); !slices.Contains(f, c.field) {
				t.Errorf("fields %v lack %s (%s)", f, c.field, r.body)
			}
		})
	}
	if n := ts.count(t, "journeys"); n != 0 {
		t.Errorf("%d journeys stored from bad input", n)
	}
	// Actions on what is not there, or not in the right status.
	if r := ts.do(t, "POST", "/api/v1/journeys/424242/publish", leadcycle.RoleMarketer, nil); r.status != 404 {
		t.Errorf("publish a missing journey: %d", r.status)
	}
	j := ts.mustCreate(t, "journeys", map[string]any{"name": "ok", "entry": entry, "steps": []map[string]any{{"type": "exit"}}})
	problem(t, ts.do(t, "POST", "/api/v1/journeys/"+j+"/resume", leadcycle.RoleMarketer, nil), 409, "")
	problem(t, ts.do(t, "POST", "/api/v1/journeys/"+j+"/publish", leadcycle.RoleMarketer, map[string]any{"now": true}), 400, "")
	problem(t, ts.do(t, "GET", "/api/v1/journeys/"+j+"/runs?state=dancing", leadcycle.RoleMarketer, nil), 422, "")
}

// TestTemplatePreview renders a template for a contact with its account;
// the preview's links track nothing and unsubscribe no one.
func TestTemplatePreview(t *testing.T) {
	ts := newTestServer(t)
	acc := ts.mustCreate(t, "accounts", map[string]any{"name": "Conservas Rías"})
	c := ts.mustCreate(t, "contacts", map[string]any{"first_name": "Ánxela", "email": "anxela@example.gal", "account_id": acc,
		"consent": map[string]any{"commercial_email": "granted", "tracking": "granted"}})
	tmpl := ts.mustCreate(t, "email-templates", map[string]any{"name": "Offer", "subject": "{{contact.first_name}} at {{account.name}}", "from_email": "news@example.gal",
		"html": `<p>Hola {{contact.first_name}}, <a href="https://example.gal/offer">see</a></p>`})
	r := ts.do(t, "POST", "/api/v1/email-templates/"+tmpl+"/preview", leadcycle.RoleMarketer, map[string]any{"contact_id": c})
	if r.status != 200 {
		t.Fatalf("preview: %d %s", r.status, r.body)
	}
	out := r.json(t)
	html, _ := out["html"].(string)
	if out["subject"] != "Ánxela at Conservas Rías" || !strings.Contains(html, `href="https://example.gal/offer"`) || strings.Contains(html, "/o/") ||
		!strings.Contains(html, "/u/preview") || !strings.Contains(out["text"].(string), "Hola Ánxela") {
		t.Errorf("preview = %v", out)
	}
	if f := problemFields(t, ts.do(t, "POST", "/api/v1/email-templates/"+tmpl+"/preview", leadcycle.RoleMarketer, map[string]any{}), 422); !slices.Contains(f, "contact_id") {
		t.Errorf("fields = %v", f)
	}
	if f := problemFields(t, ts.do(t, "POST", "/api/v1/email-templates/"+tmpl+"/preview", leadcycle.RoleMarketer, map[string]any{"contact_id": "424242"}), 422); !slices.Contains(f, "contact_id") {
		t.Errorf("fields = %v", f)
	}
	if r := ts.do(t, "POST", "/api/v1/email-templates/"+tmpl+"/preview", leadcycle.RoleSales, map[string]any{"contact_id": c}); r.status != 403 {
		t.Errorf("sales previewed: %d", r.status)
	}
}
