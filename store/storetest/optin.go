package storetest

import (
	"strings"
	"testing"
	"time"

	"github.com/leadcycle/leadcycle"
)

// Double opt-in forms: a ticked commercial email box leaves the consent
// pending and queues the confirmation email; the confirmation link grants it.
var optInTests = []test{
	{"double_opt_in_form_checks", testOptInFormChecks},
	{"double_opt_in_pending_until_confirmed", testOptInPendingUntilConfirmed},
	{"double_opt_in_already_granted", testOptInAlreadyGranted},
	{"double_opt_in_asks_again", testOptInAsksAgain},
	{"no_double_opt_in_grants", testOptInOff},
}

// mustConfirmationTemplate stores a transactional template with the
// confirmation link.
func mustConfirmationTemplate(t *testing.T, e *env) *leadcycle.EmailTemplate {
	t.Helper()
	return MustCreate(t, e.ctx, e.s.EmailTemplates(), &leadcycle.EmailTemplate{Name: "Confirm", Subject: "Please confirm", Purpose: leadcycle.PurposeTransactional,
		HTML: `<p>Hi {{contact.first_name | "there"}}, <a href="{{consent.confirm_url}}">confirm your subscription</a>.</p>`, FromEmail: "news@example.com"})
}

var newsletterConsent = leadcycle.FormConsent{Purpose: leadcycle.ConsentCommercialEmail, Label: "Send me the newsletter"}

// mustOptInForm stores a double opt-in form confirmed by the template.
func mustOptInForm(t *testing.T, e *env, confirm *leadcycle.EmailTemplate) *leadcycle.Form {
	t.Helper()
	return mustForm(t, e, "Newsletter", func(f *leadcycle.Form) {
		f.Mode = leadcycle.FormContactsOnly
		f.Consents = []leadcycle.FormConsent{newsletterConsent}
		f.DoubleOptIn = true
		f.ConfirmationEmailID = &confirm.ID
	})
}

func sendsTo(t *testing.T, e *env, contact leadcycle.ID) []leadcycle.EmailSend {
	t.Helper()
	page, err := e.s.Emails().Sends(e.ctx, leadcycle.ListQuery{Filters: []leadcycle.Filter{eqFilter("contact_id", contact)}, Limit: leadcycle.MaxLimit})
	if err != nil {
		t.Fatalf("sends: %v", err)
	}
	return page.Items
}

func commercialConsent(t *testing.T, e *env, id leadcycle.ID) string {
	t.Helper()
	return MustGet(t, e.ctx, e.s.Contacts(), id).Consent.CommercialEmail
}

func testOptInFormChecks(t *testing.T, e *env) {
	confirm := mustConfirmationTemplate(t, e)
	commercial := MustCreateTemplate(t, e.ctx, e.s, "Offer")
	noLink := MustCreate(t, e.ctx, e.s.EmailTemplates(), &leadcycle.EmailTemplate{Name: "No link", Subject: "Welcome", Purpose: leadcycle.PurposeTransactional, Text: "Welcome aboard."})
	linkInSubject := MustCreate(t, e.ctx, e.s.EmailTemplates(), &leadcycle.EmailTemplate{Name: "Subject link", Subject: "Confirm {{consent.confirm_url}}", Purpose: leadcycle.PurposeTransactional, Text: "Welcome."})
	missing := leadcycle.ID(999999)
	base := func(mod func(*leadcycle.Form)) leadcycle.Form {
		f := leadcycle.Form{Name: "f", Fields: []leadcycle.FormField{{Name: "email", Type: "email", Target: "contact.email"}},
			Consents: []leadcycle.FormConsent{newsletterConsent}, DoubleOptIn: true, ConfirmationEmailID: &confirm.ID}
		mod(&f)
		return f
	}
	cases := []struct {
		name   string
		f      leadcycle.Form
		fields map[string]string // field: part of the message
	}{
		{"no email, no box", base(func(f *leadcycle.Form) { f.ConfirmationEmailID = nil; f.Consents = nil }),
			map[string]string{"confirmation_email_id": "confirmation email", "consents": "commercial_email"}},
		{"only a tracking box", base(func(f *leadcycle.Form) {
			f.Consents = []leadcycle.FormConsent{{Purpose: leadcycle.ConsentTracking, Label: "Track me"}}
		}), map[string]string{"consents": "commercial_email"}},
		{"missing template", base(func(f *leadcycle.Form) { f.ConfirmationEmailID = &missing }), map[string]string{"confirmation_email_id": "does not exist"}},
		{"commercial template", base(func(f *leadcycle.Form) { f.ConfirmationEmailID = &commercial.ID }), map[string]string{"confirmation_email_id": "transactional"}},
		{"no confirmation link", base(func(f *leadcycle.Form) { f.ConfirmationEmailID = &noLink.ID }), map[string]string{"confirmation_email_id": "{{consent.confirm_url}}"}},
		{"link only in the subject", base(func(f *leadcycle.Form) { f.ConfirmationEmailID = &linkInSubject.ID }), map[string]string{"confirmation_email_id": "{{consent.confirm_url}}"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := c.f
			err := e.s.Forms().Create(e.ctx, &f)
			if leadcycle.ErrorCode(err) != leadcycle.EInvalid {
				t.Fatalf("err = %v, want invalid", err)
			}
			got := leadcycle.ErrorFields(err)
			for field, msg := range c.fields {
				found := false
				for _, fe := range got {
					found = found || (fe.Field == field && strings.Contains(fe.Message, msg))
				}
				if !found {
					t.Errorf("errors %+v lack %s: …%s…", got, field, msg)
				}
			}
		})
	}
	f := mustOptInForm(t, e, confirm)
	got := MustGet(t, e.ctx, e.s.Forms(), f.ID)
	if !got.DoubleOptIn || got.ConfirmationEmailID == nil || *got.ConfirmationEmailID != confirm.ID {
		t.Fatalf("stored form: double_opt_in %v, confirmation_email_id %v", got.DoubleOptIn, got.ConfirmationEmailID)
	}
	// Without double opt-in the confirmation email is not needed.
	MustUpdate(t, e.ctx, e.s.Forms(), f.ID, func(f *leadcycle.Form) error { f.DoubleOptIn = false; f.ConfirmationEmailID = nil; return nil })
	MustUpdate(t, e.ctx, e.s.Forms(), f.ID, func(f *leadcycle.Form) error { f.DoubleOptIn = true; f.ConfirmationEmailID = &confirm.ID; return nil })
	// The template stays fit for the form that confirms with it.
	_, err := e.s.EmailTemplates().Update(e.ctx, confirm.ID, func(t *leadcycle.EmailTemplate) error { t.Purpose = leadcycle.PurposeCommercial; return nil })
	if fe := leadcycle.ErrorFields(err); len(fe) != 1 || fe[0].Field != "purpose" || !strings.Contains(fe[0].Message, "transactional") {
		t.Errorf("making the confirmation commercial: %v", err)
	}
	_, err = e.s.EmailTemplates().Update(e.ctx, confirm.ID, func(t *leadcycle.EmailTemplate) error { t.HTML = "<p>Thanks</p>"; return nil })
	if fe := leadcycle.ErrorFields(err); len(fe) != 1 || fe[0].Field != "html" || !strings.Contains(fe[0].Message, "consent.confirm_url") {
		t.Errorf("dropping the confirmation link: %v", err)
	}
	if err := e.s.EmailTemplates().Delete(e.ctx, confirm.ID); leadcycle.ErrorCode(err) != leadcycle.EConflict {
		t.Errorf("deleting the confirmation email of a form: %v", err)
	}
}

func testOptInPendingUntilConfirmed(t *testing.T, e *env) {
	confirm := mustConfirmationTemplate(t, e)
	offer := MustCreateTemplate(t, e.ctx, e.s, "Offer")
	f := mustOptInForm(t, e, confirm)
	// A journey that mails everyone who submits the form.
	onForm := mustPublishJourney(t, e, &leadcycle.Journey{Name: "Welcome", Entry: leadcycle.JourneyEntry{Kind: "trigger", Trigger: "form_submitted", FormID: &f.ID},
		Steps: []leadcycle.JourneyStep{{ID: "mail", Type: "send_email", EmailID: &offer.ID}}})

	res := submitForm(t, e, f, map[string]string{"email": "Sabela@example.gal", "first_name": "Sabela", "consent_commercial_email": "true"})
	if !res.ContactCreated || res.ContactID == nil {
		t.Fatalf("capture: %+v", res)
	}
	id := *res.ContactID
	if got := commercialConsent(t, e, id); got != leadcycle.ConsentPending {
		t.Fatalf("consent after the submission = %q, want pending", got)
	}
	sends := sendsTo(t, e, id)
	if len(sends) != 1 {
		t.Fatalf("sends = %+v, want the confirmation", sends)
	}
	if s := sends[0]; s.TemplateID != confirm.ID || s.Confirm != leadcycle.ConsentCommercialEmail || s.Status != leadcycle.SendQueued || s.ToEmail != "sabela@example.gal" || s.JourneyID != nil {
		t.Errorf("confirmation send = %+v", s)
	}
	if !strings.Contains(strings.Join(res.Explanation, "\n"), "pending") {
		t.Errorf("explanation does not say the consent is pending: %q", res.Explanation)
	}

	// The commercial journey skips the pending contact.
	MustDrainJourneys(t, e.ctx, e.s)
	if r := runOf(t, e, onForm.ID, id); len(r.History) != 1 || !strings.Contains(r.History[0].Outcome, "consent") {
		t.Errorf("journey history of the pending contact: %+v", r.History)
	}
	if n := len(sendsTo(t, e, id)); n != 1 {
		t.Errorf("the journey queued for a pending contact: %d sends", n)
	}
	// The confirmation itself, being transactional, goes out while pending.
	claimed, err := e.s.Emails().ClaimSends(e.ctx, 10, time.Minute)
	if err != nil || len(claimed) != 1 || claimed[0].Send.ID != sends[0].ID || claimed[0].Send.Confirm != leadcycle.ConsentCommercialEmail {
		t.Fatalf("claim: %+v, %v", claimed, err)
	}
	if err := e.s.Emails().MarkSent(e.ctx, claimed[0].Send.ID, "<confirm@example.com>"); err != nil {
		t.Fatal(err)
	}

	// The link grants; the journey mails the contact from then on.
	if ok, err := e.s.Emails().ConfirmConsent(e.ctx, id, leadcycle.ConsentCommercialEmail); err != nil || !ok {
		t.Fatalf("confirm: %v, %v", ok, err)
	}
	if got := commercialConsent(t, e, id); got != leadcycle.ConsentGranted {
		t.Fatalf("consent after confirming = %q", got)
	}
	seg := staticSegment(t, e, "confirmed", &leadcycle.Contact{ID: id})
	later := mustPublishJourney(t, e, &leadcycle.Journey{Name: "Confirmed", Entry: segmentEntry(seg), Steps: []leadcycle.JourneyStep{{ID: "mail", Type: "send_email", EmailID: &offer.ID}}})
	MustDrainJourneys(t, e.ctx, e.s)
	if r := runOf(t, e, later.ID, id); len(r.History) != 1 || !strings.Contains(r.History[0].Outcome, "queued") {
		t.Errorf("journey history of the confirmed contact: %+v", r.History)
	}
	sends = sendsTo(t, e, id)
	if len(sends) != 2 || sends[0].TemplateID != offer.ID || sends[0].JourneyID == nil || *sends[0].JourneyID != later.ID || sends[0].Confirm != "" {
		t.Errorf("sends after confirming = %+v", sends)
	}
	// A new subscriber who confirms is mailed by the form journey too.
	res = submitForm(t, e, f, map[string]string{"email": "iago@example.gal", "consent_commercial_email": "true"})
	if ok, err := e.s.Emails().ConfirmConsent(e.ctx, *res.ContactID, leadcycle.ConsentCommercialEmail); err != nil || !ok {
		t.Fatalf("confirm the second: %v, %v", ok, err)
	}
	MustDrainJourneys(t, e.ctx, e.s)
	if r := runOf(t, e, onForm.ID, *res.ContactID); len(r.History) != 1 || !strings.Contains(r.History[0].Outcome, "queued") {
		t.Errorf("form journey history of a contact confirmed before the step ran: %+v", r.History)
	}
}

func testOptInAlreadyGranted(t *testing.T, e *env) {
	confirm := mustConfirmationTemplate(t, e)
	f := mustOptInForm(t, e, confirm)
	c := MustCreateContact(t, e.ctx, e.s, consenting("anxo@example.gal", "Anxo"))
	res := submitForm(t, e, f, map[string]string{"email": "anxo@example.gal", "job": "Enxeñeiro", "consent_commercial_email": "true"})
	if res.ContactCreated || res.ContactID == nil || *res.ContactID != c.ID {
		t.Fatalf("capture: %+v", res)
	}
	got := MustGet(t, e.ctx, e.s.Contacts(), c.ID)
	if got.Consent.CommercialEmail != leadcycle.ConsentGranted || got.JobTitle != "Enxeñeiro" {
		t.Errorf("contact = consent %q, job %q; want granted and updated", got.Consent.CommercialEmail, got.JobTitle)
	}
	if s := sendsTo(t, e, c.ID); len(s) != 0 {
		t.Errorf("a contact who had granted got sends %+v", s)
	}
}

func testOptInAsksAgain(t *testing.T, e *env) {
	confirm := mustConfirmationTemplate(t, e)
	f := mustOptInForm(t, e, confirm)
	denied := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "rosalia@example.gal", Consent: leadcycle.Consent{CommercialEmail: leadcycle.ConsentDenied}})
	// Not ticking the box changes nothing.
	submitForm(t, e, f, map[string]string{"email": "rosalia@example.gal"})
	if got := commercialConsent(t, e, denied.ID); got != leadcycle.ConsentDenied || len(sendsTo(t, e, denied.ID)) != 0 {
		t.Fatalf("without the box: consent %q, sends %d", got, len(sendsTo(t, e, denied.ID)))
	}
	// Ticking it again asks again.
	submitForm(t, e, f, map[string]string{"email": "rosalia@example.gal", "consent_commercial_email": "true"})
	if got := commercialConsent(t, e, denied.ID); got != leadcycle.ConsentPending {
		t.Fatalf("consent of a denied contact who ticks the box = %q, want pending", got)
	}
	if s := sendsTo(t, e, denied.ID); len(s) != 1 || s[0].Confirm != leadcycle.ConsentCommercialEmail {
		t.Fatalf("sends = %+v, want one confirmation", s)
	}
	// Still pending: another submission sends another confirmation.
	submitForm(t, e, f, map[string]string{"email": "rosalia@example.gal", "consent_commercial_email": "true"})
	if got, s := commercialConsent(t, e, denied.ID), sendsTo(t, e, denied.ID); got != leadcycle.ConsentPending || len(s) != 2 || s[0].Confirm != leadcycle.ConsentCommercialEmail {
		t.Errorf("second submission: consent %q, sends %+v", got, s)
	}
}

func testOptInOff(t *testing.T, e *env) {
	confirm := mustConfirmationTemplate(t, e)
	// The confirmation email is kept but double opt-in is off.
	f := mustForm(t, e, "Plain", func(f *leadcycle.Form) {
		f.Consents = []leadcycle.FormConsent{newsletterConsent}
		f.ConfirmationEmailID = &confirm.ID
	})
	res := submitForm(t, e, f, map[string]string{"email": "breogan@example.gal", "consent_commercial_email": "true"})
	if got := commercialConsent(t, e, *res.ContactID); got != leadcycle.ConsentGranted {
		t.Errorf("consent = %q, want granted", got)
	}
	if s := sendsTo(t, e, *res.ContactID); len(s) != 0 {
		t.Errorf("sends = %+v, want none", s)
	}
}
