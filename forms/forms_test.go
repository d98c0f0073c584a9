package forms

import (
	"testing"

	"github.com/leadcycle/leadcycle"
)

func testForm() *leadcycle.Form {
	return &leadcycle.Form{
		ID: 3, Name: "Quote", LeadTopic: "Quote request", Campaign: "Autumn",
		Fields: []leadcycle.FormField{
			{Name: "email", Type: "email", Target: "contact.email", Required: true},
			{Name: "phone", Type: "phone", Target: "contact.phone"},
			{Name: "seats", Type: "number", Target: "lead.custom.seats"},
			{Name: "size", Type: "choice", Choices: []string{"S", "M"}, Target: "contact.custom.size"},
			{Name: "start", Type: "date"},
			{Name: "vip", Type: "checkbox", Target: "contact.custom.vip"},
			{Name: "company", Target: "account.name"},
		},
		Consents: []leadcycle.FormConsent{{Purpose: "commercial_email", Label: "News", Required: true}, {Purpose: "tracking", Label: "Tracking"}},
	}
}

func TestValidate(t *testing.T) {
	f := testForm()
	clean, err := Validate(f, map[string]string{"email": " ana@example.gal ", "seats": "12", "size": "M", "vip": "on",
		"consent_commercial_email": "yes", "unknown": "dropped"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"email": "ana@example.gal", "seats": "12", "size": "M", "vip": "true", "consent_commercial_email": "true", "consent_tracking": "false"}
	for k, v := range want {
		if clean[k] != v {
			t.Errorf("%s = %q, want %q", k, clean[k], v)
		}
	}
	if _, ok := clean["unknown"]; ok {
		t.Error("a value that is not a field of the form was kept")
	}
	_, err = Validate(f, map[string]string{"email": "nope", "phone": "call me", "seats": "many", "size": "XL", "start": "tomorrow"})
	got := map[string]bool{}
	for _, fe := range leadcycle.ErrorFields(err) {
		got[fe.Field] = true
	}
	for _, field := range []string{"email", "phone", "seats", "size", "start", "consent_commercial_email"} {
		if !got[field] {
			t.Errorf("no error for %s: %v", field, err)
		}
	}
	if _, err := Validate(f, map[string]string{"consent_commercial_email": "1"}); len(leadcycle.ErrorFields(err)) != 1 || leadcycle.ErrorFields(err)[0].Field != "email" {
		t.Errorf("missing required email: %v", err)
	}
}

func TestCapture(t *testing.T) {
	f := testForm()
	sub := &leadcycle.FormSubmission{ID: 9, FormID: 3, VisitorID: "v1",
		Values: map[string]string{"email": "ana@example.gal", "seats": "12", "size": "M", "vip": "true", "company": "Acme", "consent_commercial_email": "true", "consent_tracking": "false"}}
	in := Capture(f, sub)
	if in.Source != "form" || in.ExternalID != "submission:9" || in.SubmissionID != 9 || in.VisitorID != "v1" {
		t.Errorf("identity: %+v", in)
	}
	if in.Contact.Email != "ana@example.gal" || in.Contact.Custom["size"] != "M" || in.Contact.Custom["vip"] != true {
		t.Errorf("contact: %+v", in.Contact)
	}
	if in.Contact.Consent.CommercialEmail != "granted" || in.Contact.Consent.Tracking != "unknown" {
		t.Errorf("consent: %+v (an unticked box is no answer, not a refusal)", in.Contact.Consent)
	}
	if in.Lead == nil || in.Lead.Topic != "Quote request" || in.Lead.Campaign != "Autumn" || *in.Lead.FormID != 3 || in.Lead.Custom["seats"] != 12.0 {
		t.Errorf("lead: %+v", in.Lead)
	}
	if in.Interaction.Type != "form_submitted" || in.Interaction.Properties["company"] != "Acme" || in.Interaction.Properties["form_id"] != "3" {
		t.Errorf("interaction: %+v", in.Interaction)
	}
	f.Mode = leadcycle.FormContactsOnly
	if in := Capture(f, sub); in.Lead != nil {
		t.Error("contacts_only form asked for a lead")
	}
	f.Mode = leadcycle.FormLeadsOnly
	if in := Capture(f, sub); !in.NoContact || in.Lead == nil {
		t.Error("leads_only form must not create contacts but must make a lead")
	}
	if in := Capture(f, sub); in.ConfirmationEmailID != 0 {
		t.Errorf("a form without double opt-in asks for confirmation %s", in.ConfirmationEmailID)
	}
	f.ConfirmationEmailID = leadcycle.IDPtr(7)
	if in := Capture(f, sub); in.ConfirmationEmailID != 0 {
		t.Errorf("a confirmation email without double opt-in asks for confirmation %s", in.ConfirmationEmailID)
	}
	f.DoubleOptIn = true
	if in := Capture(f, sub); in.ConfirmationEmailID != 7 || in.Contact.Consent.CommercialEmail != "granted" {
		t.Errorf("double opt-in: confirmation %s, consent %q (the store makes the grant pending)", in.ConfirmationEmailID, in.Contact.Consent.CommercialEmail)
	}
}
