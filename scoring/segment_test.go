package scoring

import (
	"strings"
	"testing"
	"time"

	"github.com/leadcycle/leadcycle"
)

var segSchemas = Schemas{
	Contact: leadcycle.Schema{{Name: "tier", Type: leadcycle.FieldChoice, Choices: []string{"gold", "silver"}}, {Name: "vip", Type: leadcycle.FieldBool}},
	Account: leadcycle.Schema{{Name: "arr", Type: leadcycle.FieldNumber}},
	Lead:    leadcycle.Schema{{Name: "budget", Type: leadcycle.FieldNumber}},
	Opportunity: leadcycle.Schema{{Name: "region", Type: leadcycle.FieldText}, {Name: "margin", Type: leadcycle.FieldNumber},
		{Name: "signed", Type: leadcycle.FieldDate}},
}

func segResolver(key string) (leadcycle.ID, bool) {
	if key == "webinar-2026" {
		return 7, true
	}
	return 0, false
}

func TestSegmentCompileErrors(t *testing.T) {
	for src, want := range map[string]string{
		`job_titel == "CTO"`:                                   `unknown name "job_titel"`,
		`account.industri == "Retail"`:                         `unknown field "industri" on account (1:9)`,
		`account.employees == "ten"`:                           `type mismatch: == between a number and text (1:19)`,
		`any(leads, .status == "open" and email == "x")`:       `contact's email cannot be used here (1:34)`,
		`count(leads, .status == "open", 14d) > 1`:             `a window counts interactions`,
		`in_segment("nope")`:                                   `no segment with key "nope" (1:1)`,
		`job_title`:                                            `the query must be true or false`,
		`any(leads, .score(1) > 2)`:                            `score`,
		`email matches "x"`:                                    `operator matches cannot be used`,
		`custom.tier == "gold" and 14d`:                        `a window such as 14d can only be the last argument`,
		`count(interactions, .type == "email_opened", 0d) > 1`: `between 1d and 36500d`,
		`(`:                                   `syntax error`,
		`any(opportunities, .stage == "won")`: `unknown field "stage" on opportunity (1:21)`,
		`any(opportunities, .estimated_value == "big")`:            `type mismatch: == between a number and text (1:37)`,
		`any(opportunities, .closed_at > 3)`:                       `type mismatch: > between a time and a number (1:31)`,
		`count(opportunities, .custom.regio == "EMEA") > 0`:        `unknown field "regio" on opportunity.custom (1:30)`,
		`any(opportunities, .custom.signed == date("2026-01-01"))`: `custom date fields cannot be used in segment queries yet (1:28)`,
		`none(opportunities, .status == "lost" and email == "x")`:  `contact's email cannot be used here (1:43)`,
		`any(opportunities, .score("fit") > 2)`:                    `type opportunity has no method score (1:21)`,
		`count(opportunities, .status == "won", 14d) > 1`:          `a window counts interactions; count(opportunities, …) has none (1:40)`,
		`any(opportunities, any(leads, .status == "open"))`:        `any cannot be nested inside another list's predicate (1:20)`,
		`any(deals, .status == "won")`:                             `unknown name "deals"`,
		`any(opportunities, .status)`:                              `predicate`,
	} {
		_, err := CompileSegment(src, segSchemas, segResolver)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", src, err, want)
			continue
		}
		if f := leadcycle.ErrorFields(err); len(f) != 1 || f[0].Field != "query" {
			t.Errorf("%s: fields %v", src, f)
		}
	}
}

func TestSegmentMatches(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	acc := &leadcycle.Account{ID: 3, Industry: "Retail", Custom: leadcycle.Custom{"arr": 5000.0}}
	c := &leadcycle.Contact{ID: 1, Email: "ana@shop.example", JobTitle: "CTO", AccountID: leadcycle.IDPtr(3),
		Custom: leadcycle.Custom{"tier": "gold", "vip": true}, CreatedAt: now.Add(-10 * 24 * time.Hour)}
	leads := []leadcycle.Lead{{ID: 5, Status: leadcycle.LeadOpen, Scores: []leadcycle.LeadScore{{ModelID: 9, Score: 60}}}}
	ints := []leadcycle.Interaction{
		{Type: "email_opened", OccurredAt: now.Add(-24 * time.Hour), Properties: map[string]any{"email_id": "x"}},
		{Type: "email_opened", OccurredAt: now.Add(-13 * 24 * time.Hour), Properties: map[string]any{"email_id": "x"}},
		{Type: "email_opened", OccurredAt: now.Add(-15 * 24 * time.Hour), Properties: map[string]any{"email_id": "x"}},
	}
	s := SegmentSubject{Contact: c, Account: acc, Leads: leads, Interactions: ints, Models: map[string][]leadcycle.ID{"fit": {11, 9}},
		InSegment: func(k string) bool { return k == "webinar-2026" }}
	for src, want := range map[string]bool{
		`account.industry == "Retail"`:                                                true,
		`account.custom.arr > 1000 and custom.vip`:                                    true,
		`contact.custom.tier in ["gold", "silver"]`:                                   true,
		`any(leads, .status == "open" and .score("fit") > 50)`:                        true,
		`any(leads, .score("fit") > 60)`:                                              false,
		`any(leads, .score("other") == 0)`:                                            true,
		`count(interactions, .type == "email_opened" and .email_id == "x", 14d) >= 2`: true,
		`count(interactions, .type == "email_opened" and .email_id == "x", 14d) >= 3`: false,
		`count(interactions, .type == "email_opened") == 3`:                           true,
		`none(interactions, .type == "email_opened", 1d)`:                             true,
		`in_segment("webinar-2026") and created_at > days_ago(11)`:                    true,
		`email endsWith "@shop.example" and not (job_title startsWith "CE")`:          true,
		`email_domain == "shop.example"`:                                              true,
	} {
		q, err := CompileSegment(src, segSchemas, segResolver)
		if err != nil {
			t.Errorf("%s: %v", src, err)
			continue
		}
		if got := q.Matches(s, now); got != want {
			t.Errorf("%s: got %v, want %v", src, got, want)
		}
	}
	q, _ := CompileSegment(`count(interactions, .type == "email_opened", 14d) >= 2`, segSchemas, segResolver)
	next, ok := q.NextChange(s, now, true)
	if _, ok := q.NextChange(s, now, false); ok {
		t.Error("a falling query schedules a non-member")
	}
	if want := now.Add(-13 * 24 * time.Hour).Add(14 * 24 * time.Hour); !ok || !next.Equal(want) {
		t.Errorf("next change %v %v, want %v", next, ok, want)
	}
}

func TestSegmentOpportunities(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	closed := now.Add(-2 * day)
	c := &leadcycle.Contact{ID: 1, Email: "ana@shop.example"}
	opps := []leadcycle.Opportunity{
		{ID: 20, Name: "Big deal", Status: "won", EstimatedValue: ptrTo(20000.0), Currency: "EUR", ExpectedCloseDate: "2026-02-20",
			LeadID: leadcycle.IDPtr(5), ClosedAt: &closed, CreatedAt: now.Add(-5 * day),
			Custom: leadcycle.Custom{"region": "EMEA", "margin": 0.3}},
		{ID: 21, Name: "Renewal", Status: "open", OwnerID: leadcycle.IDPtr(8), CreatedAt: now.Add(-40 * day),
			Custom: leadcycle.Custom{"margin": "high"}},
	}
	s := SegmentSubject{Contact: c, Opportunities: opps}
	for src, want := range map[string]bool{
		`any(opportunities, .status == "won" and .estimated_value > 10000)`:              true,
		`any(opportunities, .status == "won" and .estimated_value > 20000)`:              false,
		`count(opportunities, .status == "open") >= 1`:                                   true,
		`count(opportunities, .status != "lost") == 2`:                                   true,
		`none(opportunities, .status == "lost")`:                                         true,
		`none(opportunities, .status == "won")`:                                          false,
		`all(opportunities, .estimated_value > 0)`:                                       false,
		`any(opportunities, .estimated_value == 0 and .name == "Renewal")`:               true,
		`any(opportunities, .closed_at > days_ago(3) and .lead_id == "5")`:               true,
		`any(opportunities, .closed_at < days_ago(3))`:                                   true, // the open one: the zero time
		`count(opportunities, .created_at > days_ago(30)) == 1`:                          true,
		`any(opportunities, .custom.region == "EMEA" and .custom.margin > 0.2)`:          true,
		`any(opportunities, .custom.region == "" and .custom.margin == 0)`:               true, // missing and wrongly typed
		`any(opportunities, .expected_close_date < "2026-03-01" and .currency == "EUR")`: true,
		`any(opportunities, .owner_id == "8" and .name startsWith "Ren")`:                true,
		`any(opportunities, .id == "21")`:                                                true,
	} {
		q, err := CompileSegment(src, segSchemas, segResolver)
		if err != nil {
			t.Errorf("%s: %v", src, err)
			continue
		}
		if !q.Reads["opportunities"] {
			t.Errorf("%s: reads %v", src, q.Reads)
		}
		if got := q.Matches(s, now); got != want {
			t.Errorf("%s: got %v, want %v", src, got, want)
		}
	}
	// Without opportunities, every list is empty.
	q, _ := CompileSegment(`none(opportunities, .status == "won")`, segSchemas, segResolver)
	if !q.Matches(SegmentSubject{Contact: c}, now) {
		t.Error("a contact without opportunities has a won one")
	}
	// A closed_at window: the won one leaves three days after it closed.
	q, _ = CompileSegment(`any(opportunities, .status == "won" and .closed_at > days_ago(3))`, segSchemas, segResolver)
	next, ok := q.NextChange(s, now, true)
	if want := closed.Add(3 * day); !ok || !next.Equal(want) {
		t.Errorf("next change %v %v, want %v", next, ok, want)
	}
	if diff := q.Windows["opportunity.closed_at"]; len(diff) != 1 || diff[0] != 3 {
		t.Errorf("windows %v", q.Windows)
	}
}

func ptrTo[T any](v T) *T { return &v }
