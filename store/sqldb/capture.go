package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/leadcycle/leadcycle"
)

var _ leadcycle.Capturer = (*Store)(nil)

// Capture implements leadcycle.Capturer: in one transaction it matches or
// creates the contact, then the lead, then records the interaction. Captures
// of the same identity are serialised (one writer on SQLite, an advisory lock
// on the match key on PostgreSQL), so concurrent duplicates never create two
// records.
func (s *Store) Capture(ctx context.Context, in leadcycle.CaptureInput) (leadcycle.CaptureResult, error) {
	var res leadcycle.CaptureResult
	err := s.InTx(ctx, func(tx *sql.Tx) error {
		res = leadcycle.CaptureResult{Explanation: []string{}}
		c := &capture{s: s, tx: tx, in: in, res: &res}
		if err := c.run(withTrustedRefs(ctx)); err != nil {
			return err
		}
		if in.SubmissionID != 0 {
			var formID int64
			err := s.QueryRowQ(ctx, tx, "UPDATE form_submissions SET status = ?, result = ?, last_error = '', attempts = attempts + 1, processed_at = ? WHERE id = ? RETURNING form_id",
				leadcycle.SubmissionProcessed, jsonText(res), micros(s.Clock.Now()), int64(in.SubmissionID)).Scan(&formID)
			if errors.Is(err, sql.ErrNoRows) || res.Repeated {
				return nil // no stored submission (a direct capture), or nothing new
			}
			if err != nil {
				return err
			}
			return writeEvent(ctx, s.DB, tx, leadcycle.Occurrence{Type: leadcycle.EventFormSubmitted, LeadID: res.LeadID, ContactID: res.ContactID, Actor: "form " + leadcycle.ID(formID).String(),
				Payload: map[string]any{"form_id": leadcycle.ID(formID), "submission_id": in.SubmissionID, "contact_id": res.ContactID, "lead_id": res.LeadID,
					"contact_created": res.ContactCreated, "lead_created": res.LeadCreated, "explanation": res.Explanation}})
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	// Stitching runs after the commit: it has its own transaction, and a
	// failure there must not undo an acknowledged capture.
	if in.VisitorID != "" && res.ContactID != nil && !res.Repeated {
		if n, err := s.StitchVisitor(ctx, in.VisitorID, *res.ContactID); err == nil && n > 0 {
			res.Explanation = append(res.Explanation, fmt.Sprintf("%d earlier page views of visitor %s attributed to contact %s", n, in.VisitorID, *res.ContactID))
		}
	}
	return res, nil
}

type capture struct {
	s       *Store
	tx      *sql.Tx
	in      leadcycle.CaptureInput
	res     *leadcycle.CaptureResult
	contact *leadcycle.Contact // the matched or created contact, if any
	// optIn is set when the submission grants commercial email under a
	// double opt-in: the grant is written as pending.
	optIn bool
	// written is set when the capture created or updated the contact.
	written bool
}

func (c *capture) explain(format string, args ...any) {
	c.res.Explanation = append(c.res.Explanation, fmt.Sprintf(format, args...))
}

func (c *capture) lock(ctx context.Context, key string) error {
	if c.s.Dialect.LockKey == nil {
		return nil
	}
	return c.s.Dialect.LockKey(ctx, c.tx, key)
}

func (c *capture) run(ctx context.Context) error {
	c.res.CapturedAt = c.s.Clock.Now()
	if c.in.ExternalID != "" {
		if err := c.lock(ctx, "capture:"+c.in.Source+":"+c.in.ExternalID); err != nil {
			return err
		}
		err := c.s.QueryRowQ(ctx, c.tx, "SELECT result FROM capture_log WHERE source = ? AND external_id = ?", c.in.Source, c.in.ExternalID).Scan(jsonCol{c.res})
		if err == nil {
			c.res.Repeated = true
			c.res.Explanation = append(c.res.Explanation, "already captured as "+c.in.Source+" "+c.in.ExternalID+": nothing new written")
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
	}
	if err := c.matchContact(ctx); err != nil {
		return err
	}
	if c.in.Lead != nil {
		if err := c.matchLead(ctx); err != nil {
			return err
		}
	}
	if c.in.Interaction != nil {
		if err := c.record(ctx); err != nil {
			return err
		}
	}
	if c.in.ExternalID != "" {
		_, err := c.s.ExecQ(ctx, c.tx, "INSERT INTO capture_log (source, external_id, result, created_at) VALUES (?, ?, ?, ?)",
			c.in.Source, c.in.ExternalID, jsonText(c.res), micros(c.res.CapturedAt))
		return err
	}
	return nil
}

// strategy returns the chosen strategy of a kind, or the default.
func (c *capture) strategy(ctx context.Context, kind string, id leadcycle.ID, field string) (*leadcycle.MatchingStrategy, error) {
	all, err := loadStrategies(ctx, c.s.DB, c.tx, kind)
	if err != nil {
		return nil, err
	}
	for i := range all {
		if (id != 0 && all[i].ID == id) || (id == 0 && all[i].IsDefault) {
			return &all[i], nil
		}
	}
	if id != 0 {
		return nil, leadcycle.FieldErrorf(leadcycle.EInvalid, field, "matching strategy %s is not a %s strategy", id, kind)
	}
	return nil, fmt.Errorf("no default %s strategy", kind)
}

func describe(s *leadcycle.MatchingStrategy) string {
	return fmt.Sprintf("strategy %q (%s)", s.Name, strings.Join(s.Fields, " + "))
}

// given reports whether the submission carried a field ("contact.email").
func (c *capture) given(field, value string) bool {
	if c.in.Given == nil {
		return value != ""
	}
	return slices.Contains(c.in.Given, field)
}

func (c *capture) matchContact(ctx context.Context) error {
	strategy, err := c.strategy(ctx, leadcycle.StrategyContact, c.in.ContactStrategyID, "contact_strategy_id")
	if err != nil {
		return err
	}
	incoming := c.in.Contact
	incoming.Normalize()
	if c.in.ConfirmationEmailID != 0 && incoming.Consent.CommercialEmail == leadcycle.ConsentGranted {
		c.optIn = true
		incoming.Consent.CommercialEmail = leadcycle.ConsentPending
	}
	contacts := c.s.contacts
	key := contactKey(strategy, &incoming)
	var id leadcycle.ID
	if key != "" {
		if err := c.lock(ctx, "match:"+strategy.ID.String()+":"+key); err != nil {
			return err
		}
		if id, err = findContact(ctx, c.s.DB, c.tx, strategy, &incoming); err != nil {
			return err
		}
	}
	switch {
	case c.in.NoContact && id != 0:
		if c.contact, err = contacts.get(ctx, c.tx, id, false); err != nil {
			return err
		}
		c.explain("contact %s matched by %s and linked; lead-only capture does not change contacts", id, describe(strategy))
	case c.in.NoContact:
		c.explain("no contact matched by %s; lead-only capture creates none", describe(strategy))
		return nil
	case id != 0 && strategy.UpdateWhenMatched:
		c.contact, err = contacts.updateTx(ctx, c.tx, id, func(cur *leadcycle.Contact) error {
			c.mergeContact(cur, &incoming, strategy.IgnoreEmptyValues)
			return nil
		})
		if err != nil {
			return err
		}
		c.written = true
		c.explain("contact %s matched by %s and updated", id, describe(strategy))
	case id != 0:
		if c.contact, err = contacts.get(ctx, c.tx, id, false); err != nil {
			return err
		}
		c.explain("contact %s matched by %s; the strategy does not update matches", id, describe(strategy))
	case !strategy.CreateWhenNone:
		c.explain("no contact matched by %s and the strategy does not create contacts", describe(strategy))
		return nil
	default:
		incoming.ID = 0
		if slices.Contains(leadcycle.Sources, c.in.Source) {
			incoming.Origin = c.in.Source
		}
		if err := contacts.createTx(ctx, c.tx, &incoming); err != nil {
			return err
		}
		c.contact = &incoming
		c.res.ContactCreated = true
		c.written = true
		if key == "" {
			c.explain("contact %s created: the submission lacks a field of %s", incoming.ID, describe(strategy))
		} else {
			c.explain("contact %s created: none matched by %s", incoming.ID, describe(strategy))
		}
	}
	c.res.ContactID = leadcycle.IDPtr(c.contact.ID)
	return c.confirmOptIn(ctx)
}

// confirmOptIn queues the double opt-in confirmation when this capture left
// the contact's commercial email consent pending. A contact who had already
// granted it keeps the grant (mergeContact) and gets no confirmation.
func (c *capture) confirmOptIn(ctx context.Context) error {
	if !c.optIn || !c.written {
		return nil
	}
	ct := c.contact
	switch {
	case ct.Consent.CommercialEmail == leadcycle.ConsentGranted:
		c.explain("commercial email consent of contact %s was already granted: no double opt-in confirmation needed", ct.ID)
		return nil
	case ct.Consent.CommercialEmail != leadcycle.ConsentPending:
		return nil
	case ct.Email == "":
		c.explain("commercial email consent of contact %s is pending, but the contact has no email address to confirm it", ct.ID)
		return nil
	}
	if err := queueSend(ctx, c.s.DB, c.tx, leadcycle.EmailSend{TemplateID: c.in.ConfirmationEmailID, ContactID: ct.ID, ToEmail: ct.Email, Confirm: leadcycle.ConsentCommercialEmail}, c.res.CapturedAt); err != nil {
		return err
	}
	c.explain("commercial email consent of contact %s is pending until confirmed: confirmation email %s queued", ct.ID, c.in.ConfirmationEmailID)
	return nil
}

// mergeContact copies submitted values onto a matched contact. Empty values
// overwrite only when the strategy does not ignore them; consent only moves
// away from "unknown" or changes on an explicit answer.
func (c *capture) mergeContact(cur, in *leadcycle.Contact, ignoreEmpty bool) {
	set := func(field string, dst *string, v string) {
		if v != "" || (!ignoreEmpty && c.given("contact."+field, v)) {
			*dst = v
		}
	}
	set("first_name", &cur.FirstName, in.FirstName)
	set("last_name", &cur.LastName, in.LastName)
	set("email", &cur.Email, in.Email)
	set("phone", &cur.Phone, in.Phone)
	set("job_title", &cur.JobTitle, in.JobTitle)
	switch {
	case in.Consent.CommercialEmail == leadcycle.ConsentUnknown:
	case c.optIn && cur.Consent.CommercialEmail == leadcycle.ConsentGranted:
		// A double opt-in asks to confirm a grant the contact already gave.
	default:
		cur.Consent.CommercialEmail = in.Consent.CommercialEmail
	}
	if in.Consent.Tracking != leadcycle.ConsentUnknown {
		cur.Consent.Tracking = in.Consent.Tracking
	}
	if in.AccountID != nil {
		cur.AccountID = in.AccountID
	}
	cur.Custom = mergeCustom(cur.Custom, in.Custom, ignoreEmpty)
}

// mergeCustom copies submitted custom values onto a matched record's; empty
// strings are skipped when the strategy ignores empty values.
func mergeCustom(cur, in leadcycle.Custom, ignoreEmpty bool) leadcycle.Custom {
	if cur == nil {
		cur = leadcycle.Custom{}
	}
	for k, v := range in {
		if s, ok := v.(string); ok && s == "" && ignoreEmpty {
			continue
		}
		cur[k] = v
	}
	return cur
}

func (c *capture) matchLead(ctx context.Context) error {
	strategy, err := c.strategy(ctx, leadcycle.StrategyLead, c.in.LeadStrategyID, "lead_strategy_id")
	if err != nil {
		return err
	}
	incoming := *c.in.Lead
	incoming.ID = 0
	if c.contact != nil {
		incoming.ContactID = leadcycle.IDPtr(c.contact.ID)
		if incoming.AccountID == nil {
			incoming.AccountID = c.contact.AccountID
		}
	}
	if slices.Contains(leadcycle.Sources, c.in.Source) {
		incoming.Source = c.in.Source
	}
	incoming.Normalize()
	keyContact := c.contact
	if keyContact == nil {
		keyContact = &c.in.Contact
	}
	key := leadKey(strategy, &incoming, keyContact)
	var id leadcycle.ID
	if !c.in.AlwaysCreateLead && key != "" {
		if err := c.lock(ctx, "match:"+strategy.ID.String()+":"+key); err != nil {
			return err
		}
		if id, err = findByKey(ctx, c.s.DB, c.tx, strategy, key); err != nil {
			return err
		}
	}
	leads := c.s.leads
	switch {
	case id != 0 && strategy.UpdateWhenMatched:
		if _, err := leads.updateTx(ctx, c.tx, id, func(cur *leadcycle.Lead) error {
			mergeLead(cur, &incoming, strategy.IgnoreEmptyValues)
			return nil
		}); err != nil {
			return err
		}
		c.explain("lead %s matched by %s and updated", id, describe(strategy))
	case id != 0:
		c.explain("lead %s matched by %s; the strategy does not update matches", id, describe(strategy))
	case !c.in.AlwaysCreateLead && !strategy.CreateWhenNone:
		c.explain("no open lead matched by %s and the strategy does not create leads", describe(strategy))
		return nil
	default:
		if err := leads.createTx(ctx, c.tx, &incoming); err != nil {
			return err
		}
		id = incoming.ID
		c.res.LeadCreated = true
		switch {
		case c.in.AlwaysCreateLead:
			c.explain("lead %s created: the source always creates a new lead", id)
		default:
			c.explain("lead %s created: no open lead matched by %s", id, describe(strategy))
		}
		// A lead without a contact keeps the key of the submitted email so
		// that the next submission finds it.
		if c.contact == nil && key != "" {
			if err := putKey(ctx, c.s.DB, c.tx, strategy.ID, id, key); err != nil {
				return err
			}
		}
	}
	c.res.LeadID = leadcycle.IDPtr(id)
	return nil
}

func mergeLead(cur, in *leadcycle.Lead, ignoreEmpty bool) {
	if in.Description != "" {
		cur.Description = in.Description
	}
	if in.Campaign != "" {
		cur.Campaign = in.Campaign
	}
	if cur.ContactID == nil && in.ContactID != nil {
		cur.ContactID = in.ContactID
	}
	cur.Custom = mergeCustom(cur.Custom, in.Custom, ignoreEmpty)
}

func (c *capture) record(ctx context.Context) error {
	if c.contact == nil {
		c.explain("no interaction recorded: there is no contact to attribute it to")
		return nil
	}
	i := *c.in.Interaction
	i.ID = 0
	i.ContactID = c.contact.ID
	i.LeadID = c.res.LeadID
	if i.AccountID == nil {
		i.AccountID = c.contact.AccountID
	}
	if err := c.s.interactions.createTx(ctx, c.tx, &i); err != nil {
		return err
	}
	c.res.InteractionID = leadcycle.IDPtr(i.ID)
	c.explain("%s interaction %s recorded for contact %s", i.Type, i.ID, c.contact.ID)
	return nil
}
