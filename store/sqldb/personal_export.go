package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/leadcycle/leadcycle"
)

// ExportPersonalData implements leadcycle.PersonalDataStore. Everything is
// read in one snapshot, so the sections agree with each other; lists are
// written row by row as the database returns them.
func (x personalStore) ExportPersonalData(ctx context.Context, contactID leadcycle.ID, w leadcycle.PersonalDataWriter) error {
	return x.inSnapshot(ctx, func(q querier) error {
		sub, err := x.find(ctx, q, contactID, false)
		if err != nil {
			return err
		}
		if _, err := x.audit(ctx, x.s.W, leadcycle.AuditPersonalDataExported, contactID, map[string]any{"format_version": leadcycle.PersonalDataVersion}); err != nil {
			return err
		}
		err = w.Begin(leadcycle.PersonalDataHeader{Format: leadcycle.PersonalDataFormat, Version: leadcycle.PersonalDataVersion,
			ExportedAt: x.s.Clock.Now().UTC(), ContactID: contactID})
		if err != nil {
			return err
		}
		e := &exporter{ctx: ctx, x: x, q: q, sub: sub, w: w}
		for _, section := range e.sections() {
			if err := section(); err != nil {
				return err
			}
		}
		return w.End()
	})
}

// exporter writes the sections of one export.
type exporter struct {
	ctx context.Context
	x   personalStore
	q   querier
	sub *subject
	w   leadcycle.PersonalDataWriter
}

// sections are the export's sections in document order.
func (e *exporter) sections() []func() error {
	return []func() error{
		e.contact, e.account, e.leads, e.scoreHistory, e.timeline, e.opportunities, e.tasks, e.interactions,
		e.submissions, e.registrations, e.captureLog, e.visitors, e.pageVisits, e.linkedIn, e.events, e.deliveries,
		e.segments, e.journeyRuns, e.emailSends, e.suppressions,
	}
}

// segmentMembership is one segment the contact is in.
type segmentMembership struct {
	SegmentID leadcycle.ID `json:"segment_id"`
	Key       string       `json:"key"`
	Name      string       `json:"name"`
	Since     time.Time    `json:"since"`
}

func (e *exporter) segments() error {
	return list(e, "segment_memberships", "SELECT s.id, s.key, s.name, m.since FROM segment_members m JOIN segments s ON s.id = m.segment_id WHERE m.contact_id = ? ORDER BY s.id",
		[]any{e.contactID()}, func(r scanner) (segmentMembership, error) {
			var m segmentMembership
			return m, r.Scan(idCol{&m.SegmentID}, &m.Key, &m.Name, timeCol{&m.Since})
		})
}

func (e *exporter) journeyRuns() error {
	return list(e, "journey_runs", runSelect+" WHERE r.contact_id = ? ORDER BY r.id", []any{e.contactID()}, scanRun)
}

func (e *exporter) emailSends() error {
	return list(e, "email_sends", "SELECT "+sendCols+" FROM email_sends WHERE contact_id = ? ORDER BY id", []any{e.contactID()}, scanSend)
}

func (e *exporter) suppressions() error {
	return list(e, "email_suppressions", "SELECT email, reason, detail, created_at FROM email_suppressions WHERE email = ?", []any{strings.ToLower(e.sub.contact.Email)},
		func(r scanner) (leadcycle.Suppression, error) {
			var sp leadcycle.Suppression
			return sp, r.Scan(&sp.Email, &sp.Reason, &sp.Detail, timeCol{&sp.CreatedAt})
		})
}

// list writes the rows of a query as the items of a list section.
func list[T any](e *exporter, section, query string, args []any, scan func(scanner) (T, error)) error {
	if err := e.w.List(section); err != nil {
		return err
	}
	rows, err := e.x.s.QueryQ(e.ctx, e.q, query, args...)
	if err != nil {
		return fmt.Errorf("export %s: %w", section, err)
	}
	defer rows.Close()
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return fmt.Errorf("export %s: %w", section, err)
		}
		if err := e.w.Item(v); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("export %s: %w", section, err)
	}
	return nil
}

func (e *exporter) contactID() int64 { return int64(e.sub.contact.ID) }

func (e *exporter) contact() error { return e.w.Value("contact", e.sub.contact) }

func (e *exporter) account() error {
	id := e.sub.contact.AccountID
	if id == nil {
		return e.w.Value("account", nil)
	}
	ref := leadcycle.AccountRef{ID: *id}
	err := e.x.s.QueryRowQ(e.ctx, e.q, "SELECT name FROM accounts WHERE id = ?", int64(*id)).Scan(&ref.Name)
	if errors.Is(err, sql.ErrNoRows) {
		return e.w.Value("account", nil)
	}
	if err != nil {
		return fmt.Errorf("export account: %w", err)
	}
	return e.w.Value("account", ref)
}

// leads are read whole to attach their scores: a contact has few.
func (e *exporter) leads() error {
	rows, err := e.x.s.QueryQ(e.ctx, e.q, e.x.s.leads.selectSQL+" WHERE contact_id = ? ORDER BY id", e.contactID())
	if err != nil {
		return fmt.Errorf("export leads: %w", err)
	}
	leads, err := scanAll(rows, scanRecord(leadTable))
	if err != nil {
		return fmt.Errorf("export leads: %w", err)
	}
	ptrs := make([]*leadcycle.Lead, len(leads))
	for i := range leads {
		ptrs[i] = &leads[i]
	}
	if len(ptrs) > 0 {
		if err := loadLeadScores(e.ctx, e.x.s.DB, e.q, ptrs); err != nil {
			return err
		}
	}
	if err := e.w.List("leads"); err != nil {
		return err
	}
	for _, l := range leads {
		if err := e.w.Item(l); err != nil {
			return err
		}
	}
	return nil
}

func (e *exporter) scoreHistory() error {
	in, arg := e.sub.inLeads(e.x.s.Dialect, "lead_id")
	return list(e, "score_history", "SELECT "+scoreChangeCols+" FROM score_ledger WHERE "+in+" ORDER BY id", []any{arg}, scanScoreChange)
}

func (e *exporter) timeline() error {
	in, arg := e.sub.inLeads(e.x.s.Dialect, "lead_id")
	return list(e, "lead_timeline", "SELECT "+timelineCols+" FROM lead_timeline WHERE "+in+" ORDER BY id", []any{arg}, scanTimelineEntry)
}

func (e *exporter) opportunities() error {
	cond, args := e.sub.ofContact(e.x.s.Dialect, "contact_id", "lead_id")
	return list(e, "opportunities", e.x.s.opportunities.selectSQL+" WHERE "+cond+" ORDER BY id", args, scanRecord(opportunityTable))
}

func (e *exporter) tasks() error {
	cond, args := e.sub.ofContact(e.x.s.Dialect, "contact_id", "lead_id")
	return list(e, "tasks", e.x.s.tasks.selectSQL+" WHERE "+cond+" ORDER BY id", args, scanRecord(taskTable))
}

func (e *exporter) interactions() error {
	return list(e, "interactions", e.x.s.interactions.selectSQL+" WHERE contact_id = ? ORDER BY occurred_at, id", []any{e.contactID()}, scanRecord(interactionTable))
}

func (e *exporter) submissions() error {
	d := e.x.s.Dialect
	return list(e, "form_submissions", "SELECT "+submissionCols+" FROM form_submissions WHERE "+d.InIDs("id")+" ORDER BY id",
		[]any{d.IDsArg(append([]int64{}, e.sub.submissions...))}, scanExportedSubmission)
}

// scanExportedSubmission scans a row of submissionCols with its address.
func scanExportedSubmission(r scanner) (leadcycle.ExportedSubmission, error) {
	f, err := scanSubmission(r)
	return leadcycle.ExportedSubmission{ID: f.ID, FormID: f.FormID, Values: f.Values, VisitorID: f.VisitorID, IP: f.IP, UserAgent: f.UserAgent,
		Status: f.Status, Attempts: f.Attempts, LastError: f.LastError, Result: f.Result, ReceivedAt: f.ReceivedAt, ProcessedAt: f.ProcessedAt}, err
}

func (e *exporter) registrations() error {
	return list(e, "event_registrations", "SELECT "+registrationCols+" FROM event_registrations WHERE contact_id = ? ORDER BY id", []any{e.contactID()}, scanRegistration)
}

func (e *exporter) captureLog() error {
	cond, args := e.sub.resultNames(e.x.s.Dialect, "result")
	return list(e, "capture_log", "SELECT source, external_id, result, created_at FROM capture_log WHERE "+cond+" ORDER BY created_at, source, external_id", args,
		func(r scanner) (leadcycle.CaptureLogEntry, error) {
			c := leadcycle.CaptureLogEntry{Result: &leadcycle.CaptureResult{}}
			err := r.Scan(&c.Source, &c.ExternalID, jsonCol{c.Result}, timeCol{&c.CreatedAt})
			return c, err
		})
}

func (e *exporter) visitors() error {
	cond, arg := e.sub.visitorsIn(e.x.s.Dialect, "id")
	return list(e, "visitors", "SELECT "+visitorCols+" FROM visitors WHERE "+cond+" ORDER BY first_seen_at, id", []any{arg}, scanVisitor)
}

func (e *exporter) pageVisits() error {
	cond, arg := e.sub.visitorsIn(e.x.s.Dialect, "visitor_id")
	return list(e, "page_visits", "SELECT "+pageVisitCols+" FROM page_visits WHERE "+cond+" ORDER BY occurred_at, id", []any{arg}, scanPageVisit)
}

func (e *exporter) linkedIn() error {
	cond, args := e.sub.ofContact(e.x.s.Dialect, "contact_id", "lead_id")
	return list(e, "linkedin_submissions", `SELECT connection_id, submission_id, status, submitted_at, contact_id, lead_id, interaction_id, error, processed_at
		FROM linkedin_submissions WHERE `+cond+" ORDER BY submitted_at, submission_id", args, func(r scanner) (leadcycle.LinkedInRecord, error) {
		var l leadcycle.LinkedInRecord
		err := r.Scan(idCol{&l.ConnectionID}, &l.SubmissionID, &l.Status, timeCol{&l.SubmittedAt}, nullIDCol{&l.ContactID}, nullIDCol{&l.LeadID},
			nullIDCol{&l.InteractionID}, &l.Error, timeCol{&l.ProcessedAt})
		return l, err
	})
}

// events are the outbox events about the contact or its leads.
func (e *exporter) events() error {
	cond, args := e.sub.ofContact(e.x.s.Dialect, "contact_id", "lead_id")
	return list(e, "events", "SELECT "+eventCols+" FROM outbox WHERE "+cond+" ORDER BY id", args, scanEvent)
}

// deliveries are the webhook deliveries of those events.
func (e *exporter) deliveries() error {
	cond, args := e.sub.ofContact(e.x.s.Dialect, "contact_id", "lead_id")
	return list(e, "webhook_deliveries", "SELECT "+deliveryCols+" FROM webhook_deliveries WHERE event_id IN (SELECT id FROM outbox WHERE "+cond+") ORDER BY id",
		args, scanDelivery)
}
