// Package forms turns marketing form submissions into captures: it checks
// the submitted values against the form, stores each submission raw before
// processing it (or spools it to disk when the database cannot take it), and
// retries what could not be processed, so nothing acknowledged is lost.
package forms

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/leadcycle/leadcycle"
)

// HoneypotField is a hidden input that people leave empty and bots fill in.
const HoneypotField = "_lc_hp"

// KeyField carries the idempotency key of a submission; the hosted page and
// the embed script always send one, so a retried POST creates nothing new.
const KeyField = "_lc_key"

// VisitorField carries the website visitor id, for identity stitching.
const VisitorField = "_lc_visitor"

// consentField is the input name of a consent checkbox.
func consentField(purpose string) string { return "consent_" + purpose }

// Validate checks submitted values against the form and returns the values
// of the form's own fields. Errors name the form's input names.
func Validate(f *leadcycle.Form, values map[string]string) (map[string]string, error) {
	var errs []leadcycle.FieldError
	bad := func(field, msg string) { errs = append(errs, leadcycle.FieldError{Field: field, Message: msg}) }
	clean := map[string]string{}
	for _, ff := range f.Fields {
		v := strings.TrimSpace(values[ff.Name])
		if len(v) > 4000 || strings.IndexByte(v, 0) >= 0 {
			bad(ff.Name, "is too long or contains invalid characters")
			continue
		}
		if v == "" {
			if ff.Required {
				bad(ff.Name, "is required")
			}
			continue
		}
		switch ff.Type {
		case "email":
			if !leadcycle.ValidEmail(leadcycle.NormalizeEmail(v)) {
				bad(ff.Name, "is not a valid email address")
			}
		case "phone":
			c := leadcycle.Contact{FirstName: "x", Phone: v}
			if c.Validate() != nil {
				bad(ff.Name, "is not a valid phone number")
			}
		case "number":
			if _, err := strconv.ParseFloat(v, 64); err != nil {
				bad(ff.Name, "must be a number")
			}
		case "date":
			if _, err := time.Parse(time.DateOnly, v); err != nil {
				bad(ff.Name, "must be a date as YYYY-MM-DD")
			}
		case "choice":
			if !slices.Contains(ff.Choices, v) {
				bad(ff.Name, "must be one of: "+strings.Join(ff.Choices, ", "))
			}
		case "checkbox":
			v = strconv.FormatBool(Truthy(v))
		}
		clean[ff.Name] = v
	}
	for _, c := range f.Consents {
		name := consentField(c.Purpose)
		given := Truthy(values[name])
		if c.Required && !given {
			bad(name, "must be accepted")
		}
		clean[name] = strconv.FormatBool(given)
	}
	if len(errs) > 0 {
		return nil, &leadcycle.Error{Code: leadcycle.EInvalid, Message: errs[0].Field + ": " + errs[0].Message, Fields: errs}
	}
	return clean, nil
}

// Truthy reports whether a checkbox value means "checked".
func Truthy(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "on", "true", "yes", "y", "si", "sí", "是":
		return true
	}
	return false
}

// Capture builds the capture of a stored submission.
func Capture(f *leadcycle.Form, sub *leadcycle.FormSubmission) leadcycle.CaptureInput {
	in := leadcycle.CaptureInput{
		Source:           leadcycle.SourceForm,
		ExternalID:       "submission:" + sub.ID.String(),
		SubmissionID:     sub.ID,
		AlwaysCreateLead: f.AlwaysCreateLead,
		VisitorID:        sub.VisitorID,
		Given:            []string{},
	}
	if f.ContactStrategyID != nil {
		in.ContactStrategyID = *f.ContactStrategyID
	}
	if f.LeadStrategyID != nil {
		in.LeadStrategyID = *f.LeadStrategyID
	}
	if f.DoubleOptIn && f.ConfirmationEmailID != nil {
		in.ConfirmationEmailID = *f.ConfirmationEmailID
	}
	in.Contact.Custom = leadcycle.Custom{}
	lead := &leadcycle.Lead{Topic: f.LeadTopic, Campaign: f.Campaign, FormID: leadcycle.IDPtr(f.ID), Custom: leadcycle.Custom{}}
	if lead.Topic == "" {
		lead.Topic = f.Name
	}
	var companyName string
	for _, ff := range f.Fields {
		v, ok := sub.Values[ff.Name]
		if !ok || ff.Target == "" {
			continue
		}
		in.Given = append(in.Given, ff.Target)
		var custom any = v
		switch ff.Type {
		case "number":
			n, _ := strconv.ParseFloat(v, 64)
			custom = n
		case "checkbox":
			custom = v == "true"
		}
		switch {
		case strings.HasPrefix(ff.Target, "contact.custom."):
			in.Contact.Custom[strings.TrimPrefix(ff.Target, "contact.custom.")] = custom
		case strings.HasPrefix(ff.Target, "lead.custom."):
			lead.Custom[strings.TrimPrefix(ff.Target, "lead.custom.")] = custom
		}
		switch ff.Target {
		case "contact.first_name":
			in.Contact.FirstName = v
		case "contact.last_name":
			in.Contact.LastName = v
		case "contact.email":
			in.Contact.Email = v
		case "contact.phone":
			in.Contact.Phone = v
		case "contact.job_title":
			in.Contact.JobTitle = v
		case "lead.topic":
			lead.Topic = v
		case "lead.description":
			lead.Description = v
		case "lead.campaign":
			lead.Campaign = v
		case "account.name":
			companyName = v
		}
	}
	for _, c := range f.Consents {
		state := leadcycle.ConsentUnknown
		if sub.Values[consentField(c.Purpose)] == "true" {
			state = leadcycle.ConsentGranted
		}
		switch c.Purpose {
		case "commercial_email":
			in.Contact.Consent.CommercialEmail = state
		case "tracking":
			in.Contact.Consent.Tracking = state
		}
	}
	switch f.Mode {
	case leadcycle.FormContactsOnly:
		lead = nil
	case leadcycle.FormLeadsOnly:
		in.NoContact = true
	}
	in.Lead = lead
	props := map[string]any{"form_id": f.ID.String(), "submission_id": sub.ID.String()}
	if companyName != "" {
		props["company"] = companyName
	}
	in.Interaction = &leadcycle.Interaction{Type: leadcycle.InteractionFormSubmitted, OccurredAt: sub.ReceivedAt, Properties: props}
	return in
}

// Outcome is what a submitter is told.
type Outcome struct {
	SubmissionID leadcycle.ID             `json:"submission_id,omitempty"`
	Status       string                   `json:"status"` // processed, pending (accepted, processed later) or spam
	Result       *leadcycle.CaptureResult `json:"-"`
}

// Service accepts and processes submissions.
type Service struct {
	Store leadcycle.Store
	// SpoolDir keeps submissions that the database could not store; they
	// are replayed by Run.
	SpoolDir string
	Log      *slog.Logger
	// RetryAfter is how old a pending submission must be before Run retries
	// it (so it does not race the request that is processing it).
	RetryAfter time.Duration
}

// NewKey returns a random idempotency key.
func NewKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Submit stores the submission raw and then processes it. When the
// database cannot store it, it is spooled to disk and reported pending; when
// processing fails, it stays pending for Run to retry. A submission whose key
// was seen before returns the first outcome and writes nothing new.
func (s *Service) Submit(ctx context.Context, f *leadcycle.Form, sub *leadcycle.FormSubmission) (Outcome, error) {
	if sub.Key == "" {
		sub.Key = NewKey()
	}
	created, err := s.Store.Submissions().SaveSubmission(ctx, sub)
	if err != nil {
		if spoolErr := s.spool(sub); spoolErr != nil {
			return Outcome{}, fmt.Errorf("store submission: %w; spool: %v", err, spoolErr)
		}
		s.log().Warn("submission spooled: database unavailable", slog.String("error", err.Error()), slog.String("form_id", f.ID.String()))
		return Outcome{Status: leadcycle.SubmissionPending}, nil
	}
	if !created && sub.Status != leadcycle.SubmissionPending {
		return Outcome{SubmissionID: sub.ID, Status: sub.Status, Result: sub.Result}, nil
	}
	if sub.Status == leadcycle.SubmissionSpam {
		return Outcome{SubmissionID: sub.ID, Status: sub.Status}, nil
	}
	return s.process(ctx, f, sub), nil
}

func (s *Service) process(ctx context.Context, f *leadcycle.Form, sub *leadcycle.FormSubmission) Outcome {
	if f.Mode == leadcycle.FormStoreOnly {
		_ = s.Store.Submissions().FinishSubmission(ctx, sub.ID, leadcycle.SubmissionProcessed, nil, "")
		return Outcome{SubmissionID: sub.ID, Status: leadcycle.SubmissionProcessed}
	}
	res, err := s.Store.Capture(ctx, Capture(f, sub))
	if err != nil {
		status := leadcycle.SubmissionPending
		if code := leadcycle.ErrorCode(err); code == leadcycle.EInvalid || code == leadcycle.EConflict {
			status = leadcycle.SubmissionFailed // retrying cannot help
		}
		s.log().Warn("submission not processed", slog.String("submission_id", sub.ID.String()), slog.String("error", err.Error()), slog.String("status", status))
		_ = s.Store.Submissions().FinishSubmission(context.WithoutCancel(ctx), sub.ID, status, nil, err.Error())
		return Outcome{SubmissionID: sub.ID, Status: status}
	}
	// The capture marked the submission processed in its own transaction.
	return Outcome{SubmissionID: sub.ID, Status: leadcycle.SubmissionProcessed, Result: &res}
}

func (s *Service) log() *slog.Logger {
	if s.Log == nil {
		return slog.Default()
	}
	return s.Log
}

// spool writes the submission to a file and syncs it to disk.
func (s *Service) spool(sub *leadcycle.FormSubmission) error {
	if s.SpoolDir == "" {
		return errors.New("no spool directory")
	}
	if err := os.MkdirAll(s.SpoolDir, 0o750); err != nil {
		return err
	}
	if sub.ReceivedAt.IsZero() {
		sub.ReceivedAt = time.Now().UTC()
	}
	b, err := json.Marshal(spooled{FormID: int64(sub.FormID), Key: sub.Key, Values: sub.Values, VisitorID: sub.VisitorID,
		IP: sub.IP, UserAgent: sub.UserAgent, ReceivedAt: sub.ReceivedAt, Status: sub.Status})
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(s.SpoolDir, "sub-*.tmp")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), strings.TrimSuffix(tmp.Name(), ".tmp")+".json")
}

// spooled is a submission on disk, waiting for the database.
type spooled struct {
	FormID     int64             `json:"form_id"`
	Key        string            `json:"key"`
	Values     map[string]string `json:"values"`
	VisitorID  string            `json:"visitor_id"`
	IP         string            `json:"ip"`
	UserAgent  string            `json:"user_agent"`
	ReceivedAt time.Time         `json:"received_at"`
	Status     string            `json:"status,omitempty"` // spam stays spam; empty is pending
}

// Run replays spooled submissions and retries pending ones every interval
// until ctx ends.
func (s *Service) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		s.Retry(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Retry makes one pass over the spool and the pending submissions and
// returns how many submissions it processed.
func (s *Service) Retry(ctx context.Context) int {
	n := 0
	files, _ := filepath.Glob(filepath.Join(s.SpoolDir, "sub-*.json"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			continue
		}
		var sp spooled
		if err := json.Unmarshal(b, &sp); err != nil {
			s.log().Error("unreadable spool file", slog.String("file", name))
			continue
		}
		sub := leadcycle.FormSubmission{FormID: leadcycle.ID(sp.FormID), Key: sp.Key, Values: sp.Values, VisitorID: sp.VisitorID,
			IP: sp.IP, UserAgent: sp.UserAgent, ReceivedAt: sp.ReceivedAt, Status: sp.Status}
		if _, err := s.Store.Submissions().SaveSubmission(ctx, &sub); err != nil {
			return n // the database is still unavailable
		}
		os.Remove(name)
		if sub.Status != leadcycle.SubmissionPending {
			continue
		}
		if f, err := s.Store.Forms().Get(ctx, sub.FormID); err == nil {
			if out := s.process(ctx, f, &sub); out.Status == leadcycle.SubmissionProcessed {
				n++
			}
		}
	}
	pending, err := s.Store.Submissions().PendingSubmissions(ctx, time.Now().Add(-s.RetryAfter), 100)
	if err != nil {
		return n
	}
	for i := range pending {
		f, err := s.Store.Forms().Get(ctx, pending[i].FormID)
		if err != nil {
			continue
		}
		if out := s.process(ctx, f, &pending[i]); out.Status == leadcycle.SubmissionProcessed {
			n++
		}
	}
	return n
}
