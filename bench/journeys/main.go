// Command journeys measures the journey runner and the mailer on SQLite (and
// PostgreSQL when given a URL): N contacts of a static segment go through a
// published journey of three steps — send an email, create a lead, create a
// task — and the mailer then composes and hands over every queued email (to
// a sender that discards it, so that SMTP is not measured). Baseline, in the
// same run: raw inserts of the same leads and tasks, one transaction per
// contact as the runner does.
//
//	go run ./bench/journeys -contacts 20000
//	go run ./bench/journeys -no-sqlite -postgres postgres://… -contacts 20000
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"github.com/leadcycle/leadcycle/internal/gctune"
	"log"
	"net/mail"
	"os"
	"runtime"
	"time"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/bench/benchdb"
	"github.com/leadcycle/leadcycle/mailer"
	"github.com/leadcycle/leadcycle/store/sqldb"
	"github.com/leadcycle/leadcycle/tracking"
)

func main() {
	// The collector runs as it does in the leadcycle binary.
	gctune.Apply(os.Getenv)
	contacts := flag.Int("contacts", 20_000, "contacts that go through the journey")
	pgURL := flag.String("postgres", "", "PostgreSQL URL; empty skips PostgreSQL")
	skipSQLite := flag.Bool("no-sqlite", false, "skip SQLite")
	flag.Parse()
	ctx := context.Background()
	fmt.Println("| database | contacts | journey (3 steps each) | runs/s | steps/s | baseline raw inserts | journey / raw | mailer | emails/s | peak Go heap |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|")
	if !*skipSQLite {
		st, closeDB, err := benchdb.OpenSQLite(ctx, "")
		if err != nil {
			log.Fatal(err)
		}
		run(ctx, "SQLite", st, *contacts)
		closeDB()
	}
	if *pgURL != "" {
		st, drop, err := benchdb.OpenPostgres(ctx, *pgURL)
		if err != nil {
			log.Fatal(err)
		}
		run(ctx, "PostgreSQL", st, *contacts)
		drop()
	}
}

// discard is a sender that drops messages.
type discard struct{}

func (discard) Send(context.Context, string, string, []byte) error { return nil }

func run(ctx context.Context, name string, st *sqldb.Store, n int) {
	ids := make([]leadcycle.ID, n)
	for i := range n {
		c := leadcycle.Contact{FirstName: "Ánxela", Email: fmt.Sprintf("c%d@example.gal", i),
			Consent: leadcycle.Consent{CommercialEmail: leadcycle.ConsentGranted, Tracking: leadcycle.ConsentGranted}}
		must(st.Contacts().Create(ctx, &c))
		ids[i] = c.ID
	}
	seg := leadcycle.Segment{Name: "Bench", Kind: leadcycle.SegmentStatic}
	must(st.Segments().Create(ctx, &seg))
	_, err := st.SegmentMembers().AddMembers(ctx, seg.ID, ids, nil)
	must(err)
	tmpl := leadcycle.EmailTemplate{Name: "Offer", Subject: "{{contact.first_name}}, our offer", FromEmail: "news@example.com",
		HTML: `<p>Hola {{contact.first_name | "amiga"}},</p><p><a href="https://example.com/offer">See it</a> or <a href="https://example.com/shop">the shop</a>.</p>`}
	must(st.EmailTemplates().Create(ctx, &tmpl))
	j := leadcycle.Journey{Name: "Bench", Entry: leadcycle.JourneyEntry{Kind: leadcycle.EntrySegment, SegmentID: &seg.ID}, Steps: []leadcycle.JourneyStep{
		{ID: "mail", Type: leadcycle.StepSendEmail, EmailID: &tmpl.ID}, {ID: "lead", Type: leadcycle.StepCreateLead, Topic: "Offer"},
		{ID: "task", Type: leadcycle.StepCreateTask, Title: "Call", Queue: "sales"}}}
	must(st.Journeys().Create(ctx, &j))
	_, err = st.JourneyRuns().Publish(ctx, j.ID)
	must(err)

	peak := heapSampler()
	start := time.Now()
	for {
		k, err := st.JourneyRuns().ProcessDue(ctx, 200)
		must(err)
		if k == 0 {
			break
		}
	}
	journey := time.Since(start)
	got, err := st.Journeys().Get(ctx, j.ID)
	must(err)
	if got.Stats.Completed != int64(n) {
		log.Fatalf("%s: %d of %d completed", name, got.Stats.Completed, n)
	}

	signer, err := tracking.NewSigner(make([]byte, 32), nil)
	must(err)
	m := &mailer.Mailer{Store: st, Sender: discard{}, Signer: signer, PublicURL: "https://crm.example.com", From: mail.Address{Address: "news@example.com"}, Batch: 200}
	start = time.Now()
	sent := 0
	for {
		k, err := m.SendDue(ctx)
		must(err)
		if k == 0 {
			break
		}
		sent += k
	}
	mailing := time.Since(start)
	heap := peak()

	raw := baseline(ctx, st, ids)
	fmt.Printf("| %s | %d | %.2f s | %.0f | %.0f | %.2f s | %.1f× | %.2f s | %.0f | %d MiB |\n", name, n, journey.Seconds(), float64(n)/journey.Seconds(),
		3*float64(n)/journey.Seconds(), raw.Seconds(), journey.Seconds()/raw.Seconds(), mailing.Seconds(), float64(sent)/mailing.Seconds(), heap>>20)
}

// baseline inserts a lead and a task per contact, one transaction each.
func baseline(ctx context.Context, st *sqldb.Store, ids []leadcycle.ID) time.Duration {
	lead := st.Q("INSERT INTO leads (topic, contact_id, status, status_reason, source, stage, created_at, updated_at) VALUES (?, ?, 'open', 'new', 'journey', 'inquiry', ?, ?) RETURNING id")
	task := st.Q("INSERT INTO tasks (title, kind, queue, lead_id, contact_id, status, created_at, updated_at) VALUES ('Call', 'follow_up', 'sales', ?, ?, 'open', ?, ?)")
	start := time.Now()
	for _, id := range ids {
		must(st.InTx(ctx, func(tx *sql.Tx) error {
			now := time.Now().UnixMicro()
			var l int64
			if err := tx.QueryRowContext(ctx, lead, "Baseline", int64(id), now, now).Scan(&l); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, task, l, int64(id), now, now)
			return err
		}))
	}
	return time.Since(start)
}

// heapSampler samples the Go heap every 50 ms until the returned function
// is called, which returns the peak.
func heapSampler() func() uint64 {
	stop, done := make(chan struct{}), make(chan uint64)
	go func() {
		var peak uint64
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
			select {
			case <-stop:
				done <- peak
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	return func() uint64 { close(stop); return <-done }
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
