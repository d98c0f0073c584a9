package linkedin

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/leadcycle/leadcycle"
)

// Schemas are the custom field declarations used to type mapped values; nil
// entries leave values as text.
type Schemas map[string]leadcycle.Schema

// Mapped is what one response becomes: the capture, and the company name
// mapped to account.name (resolved to an account by the Service).
type Mapped struct {
	Input       leadcycle.CaptureInput
	AccountName string
}

// resolver finds the target of a question under a connection's mapping.
type resolver struct {
	custom map[string]string // lower-cased key → target
}

func newResolver(mapping map[string]string) resolver {
	r := resolver{custom: make(map[string]string, len(mapping))}
	for k, v := range mapping {
		r.custom[strings.ToLower(k)] = v
	}
	return r
}

// target returns the target of a question and whether it is mapped at all.
// The connection's mapping is tried by question id, name and predefined
// field; then the DefaultMapping by predefined field.
func (r resolver) target(questionID int64, q *Question) (string, bool) {
	keys := []string{"question:" + strconv.FormatInt(questionID, 10)}
	if q != nil {
		if q.Name != "" {
			keys = append(keys, q.Name)
		}
		if q.PredefinedField != "" {
			keys = append(keys, q.PredefinedField)
		}
	}
	for _, k := range keys {
		if t, ok := r.custom[strings.ToLower(k)]; ok {
			return t, t != ""
		}
	}
	if q != nil && q.PredefinedField != "" {
		if t, ok := DefaultMapping[strings.ToUpper(q.PredefinedField)]; ok {
			return t, true
		}
	}
	return "", false
}

// MapResponse turns one response into a capture under the connection's
// settings. form is the response's lead form (nil when unknown: only
// "question:<id>" mappings apply then). Questions mapped nowhere are dropped.
func MapResponse(conn *Connection, r *Response, form *Form, schemas Schemas) Mapped {
	contact := leadcycle.Contact{Origin: leadcycle.SourceLinkedIn, Custom: leadcycle.Custom{}}
	lead := &leadcycle.Lead{Source: leadcycle.SourceLinkedIn, Custom: leadcycle.Custom{}}
	var m Mapped
	set := func(dst *string, v string) {
		if *dst == "" {
			*dst = v
		}
	}
	assign := func(target, value string) {
		value = strings.TrimSpace(value)
		if value == "" {
			return
		}
		switch target {
		case "contact.first_name":
			set(&contact.FirstName, value)
		case "contact.last_name":
			set(&contact.LastName, value)
		case "contact.email":
			set(&contact.Email, value)
		case "contact.phone":
			set(&contact.Phone, value)
		case "contact.job_title":
			set(&contact.JobTitle, value)
		case "lead.topic":
			set(&lead.Topic, value)
		case "lead.description":
			set(&lead.Description, value)
		case "lead.campaign":
			set(&lead.Campaign, value)
		case "account.name":
			set(&m.AccountName, value)
		default:
			if name, ok := strings.CutPrefix(target, "contact.custom."); ok {
				if _, dup := contact.Custom[name]; !dup {
					contact.Custom[name] = typed(schemas["contact"], name, value)
				}
			} else if name, ok := strings.CutPrefix(target, "lead.custom."); ok {
				if _, dup := lead.Custom[name]; !dup {
					lead.Custom[name] = typed(schemas["lead"], name, value)
				}
			}
		}
	}

	res := newResolver(conn.Mapping)
	for _, a := range r.Answers {
		q := form.Question(a.QuestionID)
		target, ok := res.target(a.QuestionID, q)
		if !ok {
			continue // not mapped: dropped
		}
		assign(target, answerText(a, q))
	}
	if form != nil {
		names := make([]string, 0, len(form.HiddenFields))
		for n := range form.HiddenFields {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			if t, ok := res.custom[strings.ToLower("hidden:"+n)]; ok && t != "" {
				assign(t, form.HiddenFields[n])
			}
		}
	}

	// Consent: an accepted checkbox that means commercial email grants it;
	// an unticked one says nothing (it never withdraws an earlier consent).
	for _, c := range r.Consents {
		if c.Accepted && (len(conn.CommercialEmailConsents) == 0 || slices.Contains(conn.CommercialEmailConsents, c.ConsentID)) {
			contact.Consent.CommercialEmail = leadcycle.ConsentGranted
		}
	}

	formName := ""
	if form != nil {
		formName = form.Name
	}
	set(&lead.Topic, conn.LeadTopic)
	set(&lead.Topic, formName)
	set(&lead.Topic, "LinkedIn lead form "+strconv.FormatInt(r.FormID, 10))
	set(&lead.Campaign, r.Campaign)

	props := map[string]any{
		"submission_id":     r.ID,
		"form_id":           strconv.FormatInt(r.FormID, 10),
		"sponsored_account": conn.SponsoredAccount,
		"connection_id":     conn.ID.String(),
	}
	for k, v := range map[string]string{"form_urn": r.FormURN, "form_name": formName, "campaign": r.Campaign, "creative": r.Creative} {
		if v != "" {
			props[k] = v
		}
	}
	if r.TestLead {
		props["test_lead"] = true
	}

	var contactStrategy, leadStrategy leadcycle.ID
	if conn.ContactStrategyID != nil {
		contactStrategy = *conn.ContactStrategyID
	}
	if conn.LeadStrategyID != nil {
		leadStrategy = *conn.LeadStrategyID
	}
	m.Input = leadcycle.CaptureInput{
		Source:            leadcycle.SourceLinkedIn,
		Contact:           contact,
		Lead:              lead,
		ContactStrategyID: contactStrategy,
		LeadStrategyID:    leadStrategy,
		Interaction: &leadcycle.Interaction{
			Type:       leadcycle.InteractionLinkedInFormSubmitted,
			OccurredAt: r.SubmittedAt.UTC().Truncate(time.Microsecond),
			Properties: props,
		},
		ExternalID: r.ID,
	}
	return m
}

// answerText is the text of an answer: the text answered, or the chosen
// options' texts joined with ", " (their ids when the form is unknown).
func answerText(a Answer, q *Question) string {
	if len(a.Options) == 0 {
		return a.Text
	}
	parts := make([]string, 0, len(a.Options))
	for _, o := range a.Options {
		text := ""
		if q != nil {
			text = q.Options[o]
		}
		if text == "" {
			text = strconv.FormatInt(o, 10)
		}
		parts = append(parts, text)
	}
	return strings.Join(parts, ", ")
}

// typed converts an answer to the declared type of a custom field; values
// that do not convert stay text, and capture reports them by field.
func typed(schema leadcycle.Schema, name, value string) any {
	for _, f := range schema {
		if f.Name != name {
			continue
		}
		switch f.Type {
		case leadcycle.FieldNumber:
			s := strings.ReplaceAll(strings.ReplaceAll(value, " ", ""), ",", ".")
			if n, err := strconv.ParseFloat(s, 64); err == nil {
				return n
			}
		case leadcycle.FieldBool:
			switch strings.ToLower(value) {
			case "true", "yes", "y", "1", "sí", "si", "是":
				return true
			case "false", "no", "n", "0", "否":
				return false
			}
		case leadcycle.FieldChoice:
			for _, c := range f.Choices {
				if strings.EqualFold(c, value) {
					return c
				}
			}
		}
		return value
	}
	return value
}
