package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/leadcycle/leadcycle"
)

type submissions struct{ s *Store }

const submissionCols = "id, form_id, key, submitted, visitor_id, ip, user_agent, status, attempts, last_error, result, received_at, processed_at"

func scanSubmission(row scanner) (leadcycle.FormSubmission, error) {
	var f leadcycle.FormSubmission
	var result sql.NullString
	err := row.Scan(idCol{&f.ID}, idCol{&f.FormID}, &f.Key, jsonCol{&f.Values}, &f.VisitorID, &f.IP, &f.UserAgent, &f.Status, &f.Attempts, &f.LastError,
		&result, timeCol{&f.ReceivedAt}, nullTimeCol{&f.ProcessedAt})
	if err == nil && result.Valid {
		f.Result = new(leadcycle.CaptureResult)
		err = jsonCol{f.Result}.Scan(result.String)
	}
	return f, err
}

func (x submissions) SaveSubmission(ctx context.Context, sub *leadcycle.FormSubmission) (bool, error) {
	created := false
	err := x.s.InTx(ctx, func(tx *sql.Tx) error {
		got, err := scanSubmission(x.s.QueryRowQ(ctx, tx, "SELECT "+submissionCols+" FROM form_submissions WHERE form_id = ? AND key = ?", int64(sub.FormID), sub.Key))
		if err == nil {
			*sub = got
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if sub.ReceivedAt.IsZero() {
			sub.ReceivedAt = x.s.Clock.Now()
		}
		if sub.Status == "" {
			sub.Status = leadcycle.SubmissionPending
		}
		var id int64
		err = x.s.QueryRowQ(ctx, tx, `INSERT INTO form_submissions (form_id, key, submitted, visitor_id, ip, user_agent, status, received_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, int64(sub.FormID), sub.Key, jsonText(sub.Values), sub.VisitorID, sub.IP, sub.UserAgent, sub.Status, micros(sub.ReceivedAt)).Scan(&id)
		if err != nil {
			return fmt.Errorf("save submission: %w", err)
		}
		sub.ID = leadcycle.ID(id)
		created = true
		return nil
	})
	return created, err
}

func (x submissions) PendingSubmissions(ctx context.Context, before time.Time, limit int) ([]leadcycle.FormSubmission, error) {
	rows, err := x.s.QueryQ(ctx, x.s.R, "SELECT "+submissionCols+" FROM form_submissions WHERE status = ? AND received_at < ? AND attempts < 20 ORDER BY received_at, id LIMIT ?",
		leadcycle.SubmissionPending, micros(before), limit)
	if err != nil {
		return nil, err
	}
	return scanAll(rows, scanSubmission)
}

func (x submissions) FinishSubmission(ctx context.Context, id leadcycle.ID, status string, result *leadcycle.CaptureResult, errMsg string) error {
	var res any
	var processed any
	if result != nil {
		res = jsonText(result)
	}
	if status != leadcycle.SubmissionPending {
		processed = micros(x.s.Clock.Now())
	}
	_, err := x.s.ExecQ(ctx, x.s.W, "UPDATE form_submissions SET status = ?, result = ?, last_error = ?, attempts = attempts + 1, processed_at = ? WHERE id = ?",
		status, res, errMsg, processed, int64(id))
	return err
}

func (x submissions) ListSubmissions(ctx context.Context, formID leadcycle.ID, limit int) ([]leadcycle.FormSubmission, error) {
	rows, err := x.s.QueryQ(ctx, x.s.R, "SELECT "+submissionCols+" FROM form_submissions WHERE form_id = ? ORDER BY id DESC LIMIT ?", int64(formID), limit)
	if err != nil {
		return nil, err
	}
	return scanAll(rows, scanSubmission)
}

type registrations struct{ s *Store }

const registrationCols = "id, event_id, contact_id, lead_id, status, registered_at, checked_in_at"

func scanRegistration(row scanner) (leadcycle.Registration, error) {
	var r leadcycle.Registration
	err := row.Scan(idCol{&r.ID}, idCol{&r.EventID}, idCol{&r.ContactID}, nullIDCol{&r.LeadID}, &r.Status, timeCol{&r.RegisteredAt}, nullTimeCol{&r.CheckedInAt})
	return r, err
}

func (x registrations) find(ctx context.Context, tx *sql.Tx, eventID, contactID leadcycle.ID) (leadcycle.Registration, error) {
	r, err := scanRegistration(x.s.QueryRowQ(ctx, tx, "SELECT "+registrationCols+" FROM event_registrations WHERE event_id = ? AND contact_id = ?", int64(eventID), int64(contactID)))
	if errors.Is(err, sql.ErrNoRows) {
		return r, leadcycle.Errorf(leadcycle.ENotFound, "contact %s is not registered for event %s", contactID, eventID)
	}
	return r, err
}

// lockEvent loads the event with a row lock, so capacity checks of concurrent
// registrations run one after the other.
func (x registrations) lockEvent(ctx context.Context, tx *sql.Tx, eventID leadcycle.ID) (*leadcycle.Event, error) {
	return x.s.events.get(ctx, tx, eventID, true)
}

func (x registrations) interaction(ctx context.Context, tx *sql.Tx, typ string, r leadcycle.Registration) error {
	i := leadcycle.Interaction{Type: typ, ContactID: r.ContactID, LeadID: r.LeadID,
		Properties: map[string]any{"event_id": r.EventID.String(), "status": r.Status}}
	return x.s.interactions.createTx(ctx, tx, &i)
}

func (x registrations) Register(ctx context.Context, eventID, contactID leadcycle.ID, leadID *leadcycle.ID) (leadcycle.Registration, bool, error) {
	var reg leadcycle.Registration
	created := false
	err := x.s.InTx(ctx, func(tx *sql.Tx) error {
		ev, err := x.lockEvent(ctx, tx, eventID)
		if err != nil {
			return err
		}
		if reg, err = x.find(ctx, tx, eventID, contactID); err == nil && reg.Status != leadcycle.RegistrationCanceled {
			return nil
		} else if err != nil && leadcycle.ErrorCode(err) != leadcycle.ENotFound {
			return err
		}
		if !ev.RegistrationOpen {
			return leadcycle.Errorf(leadcycle.EConflict, "registration for %s is closed", ev.Name)
		}
		status := leadcycle.RegistrationRegistered
		if ev.Capacity > 0 {
			var taken int64
			if err := x.s.QueryRowQ(ctx, tx, "SELECT COUNT(*) FROM event_registrations WHERE event_id = ? AND status IN ('registered', 'attended')", int64(eventID)).Scan(&taken); err != nil {
				return err
			}
			if taken >= ev.Capacity {
				if !ev.Waitlist {
					return leadcycle.Errorf(leadcycle.EConflict, "%s is full", ev.Name)
				}
				status = leadcycle.RegistrationWaitlisted
			}
		}
		now := x.s.Clock.Now()
		if reg.ID != 0 { // a canceled registration comes back
			reg.Status, reg.RegisteredAt, reg.LeadID = status, now, leadID
			if _, err := x.s.ExecQ(ctx, tx, "UPDATE event_registrations SET status = ?, registered_at = ?, lead_id = ? WHERE id = ?", status, micros(now), nullID(leadID), int64(reg.ID)); err != nil {
				return err
			}
		} else {
			reg = leadcycle.Registration{EventID: eventID, ContactID: contactID, LeadID: leadID, Status: status, RegisteredAt: now}
			var id int64
			if err := x.s.QueryRowQ(ctx, tx, "INSERT INTO event_registrations (event_id, contact_id, lead_id, status, registered_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
				int64(eventID), int64(contactID), nullID(leadID), status, micros(now)).Scan(&id); err != nil {
				return err
			}
			reg.ID = leadcycle.ID(id)
		}
		created = true
		return x.interaction(ctx, tx, leadcycle.InteractionEventRegistered, reg)
	})
	return reg, created, err
}

func (x registrations) CheckIn(ctx context.Context, eventID, contactID leadcycle.ID) (leadcycle.Registration, error) {
	var reg leadcycle.Registration
	err := x.s.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := x.lockEvent(ctx, tx, eventID); err != nil {
			return err
		}
		var err error
		if reg, err = x.find(ctx, tx, eventID, contactID); err != nil {
			return err
		}
		switch reg.Status {
		case leadcycle.RegistrationAttended:
			return nil
		case leadcycle.RegistrationCanceled:
			return leadcycle.Errorf(leadcycle.EConflict, "the registration of contact %s was canceled", contactID)
		}
		now := x.s.Clock.Now()
		reg.Status, reg.CheckedInAt = leadcycle.RegistrationAttended, &now
		if _, err := x.s.ExecQ(ctx, tx, "UPDATE event_registrations SET status = ?, checked_in_at = ? WHERE id = ?", reg.Status, micros(now), int64(reg.ID)); err != nil {
			return err
		}
		return x.interaction(ctx, tx, leadcycle.InteractionEventAttended, reg)
	})
	return reg, err
}

func (x registrations) Cancel(ctx context.Context, eventID, contactID leadcycle.ID) (leadcycle.Registration, error) {
	var reg leadcycle.Registration
	err := x.s.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := x.lockEvent(ctx, tx, eventID); err != nil {
			return err
		}
		var err error
		if reg, err = x.find(ctx, tx, eventID, contactID); err != nil {
			return err
		}
		if reg.Status == leadcycle.RegistrationCanceled {
			return nil
		}
		freed := reg.Status == leadcycle.RegistrationRegistered
		reg.Status = leadcycle.RegistrationCanceled
		if _, err := x.s.ExecQ(ctx, tx, "UPDATE event_registrations SET status = ? WHERE id = ?", reg.Status, int64(reg.ID)); err != nil {
			return err
		}
		if !freed {
			return nil
		}
		next, err := scanRegistration(x.s.QueryRowQ(ctx, tx, "SELECT "+registrationCols+" FROM event_registrations WHERE event_id = ? AND status = ? ORDER BY registered_at, id LIMIT 1",
			int64(eventID), leadcycle.RegistrationWaitlisted))
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		_, err = x.s.ExecQ(ctx, tx, "UPDATE event_registrations SET status = ? WHERE id = ?", leadcycle.RegistrationRegistered, int64(next.ID))
		return err
	})
	return reg, err
}

func (x registrations) Registrations(ctx context.Context, eventID leadcycle.ID) ([]leadcycle.Registration, error) {
	rows, err := x.s.QueryQ(ctx, x.s.R, "SELECT "+registrationCols+" FROM event_registrations WHERE event_id = ? ORDER BY registered_at, id", int64(eventID))
	if err != nil {
		return nil, err
	}
	return scanAll(rows, scanRegistration)
}
