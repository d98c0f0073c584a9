package linkedin_test

import (
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/linkedin"
	"github.com/leadcycle/leadcycle/linkedin/linkedintest"
)

func TestMapResponse(t *testing.T) {
	form := &linkedin.Form{ID: 300, Name: "Canning line demo", HiddenFields: map[string]string{"utm_source": "ads", "unused": "x"}, Questions: []linkedin.Question{
		{ID: 1, Name: "firstName", PredefinedField: "FIRST_NAME"},
		{ID: 2, Name: "lastName", PredefinedField: "LAST_NAME"},
		{ID: 3, Name: "email", PredefinedField: "EMAIL"},
		{ID: 4, Name: "company", PredefinedField: "COMPANY_NAME"},
		{ID: 5, Name: "size", PredefinedField: "COMPANY_SIZE"},
		{ID: 6, Name: "Budget"},
		{ID: 7, Name: "interest", Options: map[int64]string{1: "Canning line", 2: "Labelling"}},
		{ID: 8, Name: "colour"},
		{ID: 9, Name: "phone", PredefinedField: "PHONE_NUMBER"},
		{ID: 10, Name: "work", PredefinedField: "WORK_EMAIL"},
	}}
	resp := &linkedin.Response{
		ID: "urn:li:leadFormResponse:abc", SubmittedAt: time.Date(2026, 3, 1, 10, 0, 0, 123000000, time.UTC), FormID: 300,
		FormURN: "urn:li:versionedLeadGenForm:(urn:li:leadGenForm:300,1)", Campaign: "urn:li:sponsoredCampaign:777", Creative: "urn:li:sponsoredCreative:888",
		Answers: []linkedin.Answer{
			{QuestionID: 1, Text: " Uxía "}, {QuestionID: 2, Text: "Castro"}, {QuestionID: 3, Text: "UXIA@RiasBaixas.gal"},
			{QuestionID: 4, Text: "Conservas Rías Baixas"}, {QuestionID: 5, Text: "51-200"}, {QuestionID: 6, Text: "1 200,50"},
			{QuestionID: 7, Options: []int64{2, 1}}, {QuestionID: 8, Text: "teal"}, {QuestionID: 9, Text: ""},
			{QuestionID: 10, Text: "second@riasbaixas.gal"}, {QuestionID: 99, Text: "a question the form does not have"},
		},
		Consents: []linkedin.ConsentResponse{{ConsentID: 11, Accepted: false}, {ConsentID: 12, Accepted: true}},
	}
	conn := &linkedin.Connection{
		ID: 4, SponsoredAccount: "urn:li:sponsoredAccount:5101", ContactStrategyID: leadcycle.IDPtr(3),
		Mapping: map[string]string{
			"budget":            "lead.custom.budget",      // by name, case-insensitively
			"question:7":        "contact.custom.interest", // by id
			"COMPANY_SIZE":      "",                        // dropped explicitly
			"hidden:utm_source": "lead.custom.source",      // hidden field
			"question:9":        "contact.phone",           // an empty answer gives nothing
		},
	}
	schemas := linkedin.Schemas{"lead": {{Name: "budget", Type: leadcycle.FieldNumber}, {Name: "source", Type: leadcycle.FieldText}}}

	got := linkedin.MapResponse(conn, resp, form, schemas)
	want := linkedin.Mapped{
		AccountName: "Conservas Rías Baixas",
		Input: leadcycle.CaptureInput{
			Source: "linkedin",
			Contact: leadcycle.Contact{
				FirstName: "Uxía", LastName: "Castro", Email: "UXIA@RiasBaixas.gal", Origin: "linkedin",
				Consent: leadcycle.Consent{CommercialEmail: "granted"},
				Custom:  leadcycle.Custom{"interest": "Labelling, Canning line"},
			},
			Lead: &leadcycle.Lead{
				Topic: "Canning line demo", Campaign: "urn:li:sponsoredCampaign:777", Source: "linkedin",
				Custom: leadcycle.Custom{"budget": 1200.5, "source": "ads"},
			},
			ContactStrategyID: 3,
			Interaction: &leadcycle.Interaction{
				Type: "linkedin_form_submitted", OccurredAt: resp.SubmittedAt,
				Properties: map[string]any{
					"submission_id": "urn:li:leadFormResponse:abc", "form_id": "300", "form_name": "Canning line demo",
					"form_urn": "urn:li:versionedLeadGenForm:(urn:li:leadGenForm:300,1)", "campaign": "urn:li:sponsoredCampaign:777",
					"creative": "urn:li:sponsoredCreative:888", "sponsored_account": "urn:li:sponsoredAccount:5101", "connection_id": "4",
				},
			},
			ExternalID: "urn:li:leadFormResponse:abc",
		},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("mapped (-want +got):\n%s", d)
	}
	// Unknown questions (colour, 99) went nowhere.
	for _, s := range []string{"teal", "a question the form does not have", "51-200"} {
		if strings.Contains(strings.Join(flatten(got), "|"), s) {
			t.Errorf("dropped answer %q was mapped", s)
		}
	}

	// Consent ids restrict which checkbox means commercial email; an
	// unticked one leaves consent unknown.
	conn.CommercialEmailConsents = []int64{11}
	if got := linkedin.MapResponse(conn, resp, form, nil); got.Input.Contact.Consent.CommercialEmail != "" {
		t.Errorf("consent from the wrong checkbox: %q", got.Input.Contact.Consent.CommercialEmail)
	}
	// Topic: the mapping, then the connection's, then the form's name, then the form id.
	conn.LeadTopic = "Demo requests"
	if got := linkedin.MapResponse(conn, resp, form, nil).Input.Lead.Topic; got != "Demo requests" {
		t.Errorf("topic %q", got)
	}
	conn.Mapping["question:8"] = "lead.topic"
	if got := linkedin.MapResponse(conn, resp, form, nil).Input.Lead.Topic; got != "teal" {
		t.Errorf("mapped topic %q", got)
	}
	conn.LeadTopic = ""
	delete(conn.Mapping, "question:8")
	if got := linkedin.MapResponse(conn, resp, nil, nil).Input.Lead.Topic; got != "LinkedIn lead form 300" {
		t.Errorf("topic without a form %q", got)
	}
	// Without the form only question:<id> mappings apply; option ids stand
	// in for their texts.
	got = linkedin.MapResponse(&linkedin.Connection{Mapping: map[string]string{"question:3": "contact.email", "question:7": "lead.description"}}, resp, nil, nil)
	if got.Input.Contact.Email != "UXIA@RiasBaixas.gal" || got.Input.Lead.Description != "2, 1" || got.Input.Contact.FirstName != "" || got.AccountName != "" {
		t.Errorf("without the form: %+v", got)
	}
	// Untyped schema: values stay text.
	got = linkedin.MapResponse(&linkedin.Connection{Mapping: map[string]string{"budget": "lead.custom.budget"}}, resp, form, nil)
	if got.Input.Lead.Custom["budget"] != "1 200,50" {
		t.Errorf("budget without schema: %#v", got.Input.Lead.Custom["budget"])
	}
}

func flatten(m linkedin.Mapped) []string {
	c := m.Input.Contact
	out := []string{c.FirstName, c.LastName, c.Email, c.Phone, c.JobTitle, m.AccountName, m.Input.Lead.Topic, m.Input.Lead.Description, m.Input.Lead.Campaign}
	for _, v := range c.Custom {
		out = append(out, v.(string))
	}
	for _, v := range m.Input.Lead.Custom {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func TestConnectionValidationAgainstCustomFields(t *testing.T) {
	h := newHarness(t, func(o *linkedin.Options) { o.Records = nil })
	h.svc = linkedin.NewService(h.ls, h.cap, linkedin.Options{Records: h.store, Clock: h.clock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err := h.store.Fields().Create(h.ctx, &leadcycle.FieldDef{Entity: "lead", Name: "budget", Type: leadcycle.FieldNumber}); err != nil {
		t.Fatal(err)
	}
	c := &linkedin.Connection{Name: "x", SponsoredAccount: "1", Mapping: map[string]string{"budget": "lead.custom.budget", "size": "contact.custom.size"}}
	err := h.svc.Create(h.ctx, c, linkedin.Secrets{})
	if leadcycle.ErrorCode(err) != leadcycle.EInvalid || len(leadcycle.ErrorFields(err)) != 1 || leadcycle.ErrorFields(err)[0].Field != "mapping.size" {
		t.Fatalf("mapping to an undeclared custom field: %v %+v", err, leadcycle.ErrorFields(err))
	}
	delete(c.Mapping, "size")
	if err := h.svc.Create(h.ctx, c, linkedin.Secrets{}); err != nil {
		t.Fatal(err)
	}
	_, err = h.svc.Update(h.ctx, c.ID, linkedin.SecretsPatch{}, func(c *linkedin.Connection) error {
		c.Mapping["x"] = "lead.custom.nope"
		return nil
	})
	if leadcycle.ErrorCode(err) != leadcycle.EInvalid {
		t.Fatalf("update to an undeclared custom field: %v", err)
	}
}

func TestSyncTypesCustomFieldsAndFindsAccounts(t *testing.T) {
	h := newHarness(t)
	h.svc = linkedin.NewService(h.ls, h.cap, linkedin.Options{Records: h.store, Clock: h.clock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err := h.store.Fields().Create(h.ctx, &leadcycle.FieldDef{Entity: "lead", Name: "budget", Type: leadcycle.FieldNumber}); err != nil {
		t.Fatal(err)
	}
	existing := &leadcycle.Account{Name: "Conservas Rías Baixas"}
	if err := h.store.Accounts().Create(h.ctx, existing); err != nil {
		t.Fatal(err)
	}
	h.fake.AddLeads(linkedintest.StandardLead("a", now.Add(-time.Hour), 300, "A", "A", "a@example.gal"))
	other := linkedintest.StandardLead("b", now.Add(-2*time.Hour), 300, "B", "B", "b@example.gal")
	other.Answers[4] = "Peixes do Norte"
	h.fake.AddLeads(other)
	c := h.connection(func(c *linkedin.Connection, _ *linkedin.Secrets) {
		c.Mapping = map[string]string{"budget": "lead.custom.budget"}
	})
	wantStatus(t, h.sync(c.ID), linkedin.RunSucceeded, "")
	byEmail := map[string]leadcycle.CaptureInput{}
	for _, in := range h.cap.Inputs {
		byEmail[in.Contact.Email] = in
	}
	if in := byEmail["a@example.gal"]; in.Contact.AccountID == nil || *in.Contact.AccountID != existing.ID || in.Lead.Custom["budget"] != 1200.5 {
		t.Errorf("a: account %v budget %#v; want the existing account %s and 1200.5", in.Contact.AccountID, in.Lead.Custom["budget"], existing.ID)
	}
	in := byEmail["b@example.gal"]
	if in.Contact.AccountID == nil || *in.Contact.AccountID == existing.ID {
		t.Fatalf("b: account %v, want a new one", in.Contact.AccountID)
	}
	a, err := h.store.Accounts().Get(h.ctx, *in.Contact.AccountID)
	if err != nil || a.Name != "Peixes do Norte" {
		t.Errorf("created account %+v, %v", a, err)
	}
}
