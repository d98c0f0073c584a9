package storetest

import (
	"testing"
	"time"

	"github.com/leadcycle/leadcycle"
)

// deliveryJobTests check what a claimed delivery carries.
var deliveryJobTests = []test{
	{"scorer_events_carry_the_lead", func(t *testing.T, e *env) {
		// The scorer's events name the lead without carrying it; a
		// delivery attaches the lead as it is when it is sent.
		MustCreate(t, e.ctx, e.s.Webhooks(), &leadcycle.Webhook{Name: "Scores", URL: "https://crm.example.com/h", Events: []string{leadcycle.EventLeadScored}, Active: true, Secret: "sealed"})
		c := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "scored@example.gal"})
		l := MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: "Scored", ContactID: &c.ID})
		MustPublishModel(t, e.ctx, e.s, &leadcycle.ScoringModel{Name: "Any", Target: leadcycle.TargetContact,
			Rules: []leadcycle.ScoringRule{{Name: "Known", Points: 1, Conditions: []string{`contact.email != ""`}}}})
		MustDrainScoring(t, e.ctx, e.s)
		if _, err := e.s.WebhookDeliveries().FanOut(e.ctx, 100); err != nil {
			t.Fatal(err)
		}
		jobs, err := e.s.WebhookDeliveries().ClaimDeliveries(e.ctx, 10, time.Minute)
		if err != nil || len(jobs) != 1 {
			t.Fatalf("claimed %d deliveries (%v), want the lead.scored one", len(jobs), err)
		}
		got, ok := jobs[0].Event.Payload["lead"].(*leadcycle.Lead)
		if !ok || got.ID != l.ID || got.Topic != "Scored" || jobs[0].Event.Payload["score"] == nil {
			t.Errorf("payload of the lead.scored delivery: %#v", jobs[0].Event.Payload)
		}
	}},
}
