package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/scoring"
	"pgregory.net/rapid"
)

// The property: for random data and random queries, the members SQL finds,
// the contacts the in-memory evaluation accepts (on records read back
// through the repositories), and the members kept live from the queue are
// the same. Data accumulate across the checks, so later queries run over
// more contacts.

var (
	propWords     = []string{"", "ana", "Ana", "bo", "CTO", "cto", "Retail", "retail", "x", "é", "demo", "zed"}
	propIndustry  = []string{"", "Retail", "Finance", "retail"}
	propTypes     = []string{"email_opened", "email_clicked", "page_view", "form_submitted"}
	propEmailIDs  = []any{"x", "y", "12", 12.0, 7.0, true}
	propURLs      = []string{"https://a.example/pricing", "https://a.example/blog", "/pricing?x=1", ""}
	propStatuses  = []string{leadcycle.LeadOpen, leadcycle.LeadQualified, leadcycle.LeadDisqualified}
	propTiers     = []string{"gold", "silver"}
	propDays      = []int{1, 3, 7, 14, 30}
	propNumbers   = []float64{-1, 0, 1, 2, 5, 10, 50, 100, 1000.5}
	propCompareOp = []string{"==", "!=", "<", "<=", ">", ">="}
	propRegions   = []string{"EMEA", "APAC", ""}
	propCloseDate = []string{"", "2026-01-15", "2026-03-01", "2026-06-30"}
)

func testSegmentProperty(t *testing.T, e *env) {
	if _, ok := e.s.(segmentEvaluator); !ok {
		t.Skipf("%T cannot evaluate segment queries in SQL", e.s)
	}
	for _, f := range []leadcycle.FieldDef{
		{Entity: "contact", Name: "tier", Type: leadcycle.FieldChoice, Choices: propTiers},
		{Entity: "contact", Name: "vip", Type: leadcycle.FieldBool},
		{Entity: "contact", Name: "rank", Type: leadcycle.FieldNumber},
		{Entity: "account", Name: "arr", Type: leadcycle.FieldNumber},
		{Entity: "lead", Name: "budget", Type: leadcycle.FieldNumber},
		{Entity: "opportunity", Name: "margin", Type: leadcycle.FieldNumber},
		{Entity: "opportunity", Name: "region", Type: leadcycle.FieldText},
	} {
		MustCreateField(t, e.ctx, e.s, &f)
	}
	MustPublishModel(t, e.ctx, e.s, &leadcycle.ScoringModel{Name: "Fit", Rules: []leadcycle.ScoringRule{
		{Name: "opens", Points: 10, Behaviors: []leadcycle.Behavior{{Type: "email_opened", Frequency: leadcycle.FrequencyEachTime}}},
		{Name: "open", Points: 5, Conditions: []string{`lead.status == "open"`}},
	}})
	static := MustCreate(t, e.ctx, e.s.Segments(), &leadcycle.Segment{Name: "List", Key: "list", Kind: "static"})
	var accounts, contacts, leads, openLeads, opps []leadcycle.ID
	// Live segments over opportunities from the start: their contacts
	// change through writes to opportunities and leads, not to contacts.
	var live []*leadcycle.Segment
	for i, q := range []string{
		`any(opportunities, .status == "won" and .lead_id != "")`,
		`count(opportunities, .closed_at > days_ago(3)) >= 1`,
		`none(opportunities, .status == "open" and .created_at < days_ago(1))`,
	} {
		live = append(live, MustCreate(t, e.ctx, e.s.Segments(), &leadcycle.Segment{Name: fmt.Sprintf("Opportunities %d", i), Query: q}))
	}
	fixed := len(live)
	round := 0
	rapid.Check(t, func(rt *rapid.T) {
		round++
		// New data.
		for range rapid.IntRange(0, 2).Draw(rt, "accounts") {
			a := &leadcycle.Account{Name: rapid.SampledFrom(propWords[1:]).Draw(rt, "name"), Industry: rapid.SampledFrom(propIndustry).Draw(rt, "industry"),
				Country: rapid.SampledFrom([]string{"", "ES", "TW"}).Draw(rt, "country"), Custom: leadcycle.Custom{}}
			if rapid.Bool().Draw(rt, "has employees") {
				a.Employees = ptr(int64(rapid.IntRange(0, 200).Draw(rt, "employees")))
			}
			if rapid.Bool().Draw(rt, "has revenue") {
				a.Revenue = ptr(rapid.SampledFrom(propNumbers[1:]).Draw(rt, "revenue"))
			}
			if rapid.Bool().Draw(rt, "has arr") {
				a.Custom["arr"] = rapid.SampledFrom(propNumbers).Draw(rt, "arr")
			}
			accounts = append(accounts, MustCreateAccount(t, e.ctx, e.s, a).ID)
		}
		now := e.clock.Now()
		for range rapid.IntRange(1, 5).Draw(rt, "contacts") {
			c := &leadcycle.Contact{
				FirstName: rapid.SampledFrom(propWords).Draw(rt, "first"),
				JobTitle:  rapid.SampledFrom(propWords).Draw(rt, "title"),
				Email:     fmt.Sprintf("p%d.%d@%s.example", round, rapid.IntRange(0, 1<<30).Draw(rt, "email"), rapid.SampledFrom([]string{"shop", "bank"}).Draw(rt, "domain")),
				Custom:    leadcycle.Custom{},
			}
			if len(accounts) > 0 && rapid.Bool().Draw(rt, "has account") {
				c.AccountID = &accounts[rapid.IntRange(0, len(accounts)-1).Draw(rt, "account")]
			}
			if rapid.Bool().Draw(rt, "has tier") {
				c.Custom["tier"] = rapid.SampledFrom(propTiers).Draw(rt, "tier")
			}
			if rapid.Bool().Draw(rt, "has vip") {
				c.Custom["vip"] = rapid.Bool().Draw(rt, "vip")
			}
			if rapid.Bool().Draw(rt, "has rank") {
				c.Custom["rank"] = rapid.SampledFrom(propNumbers).Draw(rt, "rank")
			}
			c = MustCreateContact(t, e.ctx, e.s, c)
			for range rapid.IntRange(0, 2).Draw(rt, "leads") {
				l := &leadcycle.Lead{Topic: rapid.SampledFrom(propWords[1:]).Draw(rt, "topic"), ContactID: &c.ID, Custom: leadcycle.Custom{},
					Status: rapid.SampledFrom(propStatuses).Draw(rt, "status")}
				if l.Status == leadcycle.LeadDisqualified {
					l.StatusReason = "lost"
				}
				if rapid.Bool().Draw(rt, "has budget") {
					l.Custom["budget"] = rapid.SampledFrom(propNumbers).Draw(rt, "budget")
				}
				if rapid.Bool().Draw(rt, "has amount") {
					l.BudgetAmount = ptr(rapid.SampledFrom(propNumbers[1:]).Draw(rt, "amount"))
				}
				leads = append(leads, MustCreateLead(t, e.ctx, e.s, l).ID)
				if l.Status == leadcycle.LeadOpen {
					openLeads = append(openLeads, l.ID) // the others are read-only
				}
			}
			contacts = append(contacts, c.ID)
			// Opportunities: the contact's own, of one of its leads or of
			// another contact's lead, or of both.
			for range rapid.IntRange(0, 2).Draw(rt, "opportunities") {
				o := propOpportunity(rt)
				switch rapid.IntRange(0, 3).Draw(rt, "opportunity contact") {
				case 0:
					o.ContactID = &c.ID
				case 1:
					o.ContactID = &contacts[rapid.IntRange(0, len(contacts)-1).Draw(rt, "other contact")]
				}
				if len(leads) > 0 && rapid.Bool().Draw(rt, "has lead") {
					o.LeadID = &leads[rapid.IntRange(0, len(leads)-1).Draw(rt, "lead")]
				}
				opps = append(opps, MustCreateOpportunity(t, e.ctx, e.s, o).ID)
			}
			for range rapid.IntRange(0, 4).Draw(rt, "interactions") {
				props := map[string]any{}
				if rapid.Bool().Draw(rt, "has email id") {
					props["email_id"] = rapid.SampledFrom(propEmailIDs).Draw(rt, "email id")
				}
				if rapid.Bool().Draw(rt, "has url") {
					props["url"] = rapid.SampledFrom(propURLs).Draw(rt, "url")
				}
				ago := time.Duration(rapid.IntRange(0, 40*24).Draw(rt, "hours ago")) * time.Hour
				MustCreateInteraction(t, e.ctx, e.s, &leadcycle.Interaction{Type: rapid.SampledFrom(propTypes).Draw(rt, "type"), ContactID: c.ID,
					OccurredAt: now.Add(-ago), Properties: props})
			}
			if rapid.Bool().Draw(rt, "listed") {
				if _, err := e.s.SegmentMembers().AddMembers(e.ctx, static.ID, []leadcycle.ID{c.ID}, nil); err != nil {
					t.Fatal(err)
				}
			}
		}
		// Changes: an opportunity closes, reopens or changes contact; a lead
		// moves to another contact, with its opportunities.
		if len(opps) > 0 && rapid.Bool().Draw(rt, "change opportunity") {
			id := opps[rapid.IntRange(0, len(opps)-1).Draw(rt, "opportunity")]
			status := rapid.SampledFrom(leadcycle.OpportunityStatuses).Draw(rt, "new status")
			var contact *leadcycle.ID
			if rapid.Bool().Draw(rt, "new contact") {
				contact = &contacts[rapid.IntRange(0, len(contacts)-1).Draw(rt, "contact")]
			}
			MustUpdate(t, e.ctx, e.s.Opportunities(), id, func(o *leadcycle.Opportunity) error {
				o.Status, o.ContactID = status, contact
				return nil
			})
		}
		if len(openLeads) > 0 && rapid.Bool().Draw(rt, "move lead") {
			id := openLeads[rapid.IntRange(0, len(openLeads)-1).Draw(rt, "lead")]
			to := contacts[rapid.IntRange(0, len(contacts)-1).Draw(rt, "to")]
			MustUpdate(t, e.ctx, e.s.Leads(), id, func(l *leadcycle.Lead) error { l.ContactID = &to; return nil })
		}
		e.clock.Advance(time.Duration(rapid.IntRange(0, 48).Draw(rt, "advance hours")) * time.Hour)
		MustDrainScoring(t, e.ctx, e.s)

		query := propQuery(rt, 0)
		ids, err := segmentIDs(t, e, query)
		if err != nil {
			rt.Fatalf("%s: %v", query, err)
		}
		mem := memoryMembers(t, e, query)
		if !slices.Equal(ids, mem) {
			rt.Fatalf("query %s\nSQL:    %v\nmemory: %v", query, ids, mem)
		}
		// Some queries become live segments: their members, kept from the
		// queue as data arrive, must match a full evaluation too.
		if len(live) < fixed+4 && rapid.Bool().Draw(rt, "keep live") {
			s := MustCreate(t, e.ctx, e.s.Segments(), &leadcycle.Segment{Name: fmt.Sprintf("Live %d", round), Query: query})
			live = append(live, s)
		}
		MustDrainSegments(t, e.ctx, e.s)
		for _, s := range live {
			want, err := segmentIDs(t, e, s.Query)
			if err != nil {
				rt.Fatal(err)
			}
			if got := memberPages(t, e, s.ID, leadcycle.MaxLimit); !slices.Equal(got, want) {
				rt.Fatalf("live segment %s\nmembers: %v\nSQL:     %v", s.Query, got, want)
			}
		}
	})
}

// memoryMembers evaluates a query in memory on every contact, with the
// records read back through the repositories.
func memoryMembers(t *testing.T, e *env, query string) []leadcycle.ID {
	schemas := scoring.Schemas{}
	for _, s := range []struct {
		entity string
		dst    *leadcycle.Schema
	}{{"contact", &schemas.Contact}, {"account", &schemas.Account}, {"lead", &schemas.Lead}, {"opportunity", &schemas.Opportunity}} {
		sc, err := e.s.Schema(e.ctx, s.entity)
		if err != nil {
			t.Fatal(err)
		}
		*s.dst = sc
	}
	segs := MustList(t, e.ctx, e.s.Segments(), leadcycle.ListQuery{Limit: leadcycle.MaxLimit})
	keys := map[string]leadcycle.ID{}
	for _, s := range segs {
		keys[s.Key] = s.ID
	}
	q, err := scoring.CompileSegment(query, schemas, func(k string) (leadcycle.ID, bool) { id, ok := keys[k]; return id, ok })
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	models := map[string][]leadcycle.ID{}
	ms := MustList(t, e.ctx, e.s.ScoringModels(), leadcycle.ListQuery{Limit: leadcycle.MaxLimit})
	slices.SortFunc(ms, func(a, b leadcycle.ScoringModel) int { return b.Version - a.Version })
	for _, m := range ms {
		models[m.Key] = append(models[m.Key], m.ID)
	}
	member := map[leadcycle.ID]map[leadcycle.ID]bool{}
	for _, s := range segs {
		for _, c := range memberPages(t, e, s.ID, leadcycle.MaxLimit) {
			if member[c] == nil {
				member[c] = map[leadcycle.ID]bool{}
			}
			member[c][s.ID] = true
		}
	}
	all := leadcycle.ListQuery{Limit: leadcycle.MaxLimit}
	accounts := map[leadcycle.ID]*leadcycle.Account{}
	for _, a := range MustList(t, e.ctx, e.s.Accounts(), all) {
		accounts[a.ID] = &a
	}
	leads := map[leadcycle.ID][]leadcycle.Lead{}
	leadContact := map[leadcycle.ID]leadcycle.ID{}
	for _, l := range MustList(t, e.ctx, e.s.Leads(), all) {
		if l.ContactID != nil {
			leads[*l.ContactID] = append(leads[*l.ContactID], l)
			leadContact[l.ID] = *l.ContactID
		}
	}
	// A contact's opportunities: its own and its leads', each once.
	opps := map[leadcycle.ID][]leadcycle.Opportunity{}
	for _, o := range MustList(t, e.ctx, e.s.Opportunities(), all) {
		owners := map[leadcycle.ID]bool{}
		if o.ContactID != nil {
			owners[*o.ContactID] = true
		}
		if o.LeadID != nil {
			if c, ok := leadContact[*o.LeadID]; ok {
				owners[c] = true
			}
		}
		for c := range owners {
			opps[c] = append(opps[c], o)
		}
	}
	ints := map[leadcycle.ID][]leadcycle.Interaction{}
	for _, i := range MustList(t, e.ctx, e.s.Interactions(), all) {
		ints[i.ContactID] = append(ints[i.ContactID], i)
	}
	var out []leadcycle.ID
	for _, c := range MustList(t, e.ctx, e.s.Contacts(), all) {
		sub := scoring.SegmentSubject{Contact: &c, Models: models, Leads: leads[c.ID], Interactions: ints[c.ID], Opportunities: opps[c.ID],
			InSegment: func(k string) bool { return member[c.ID][keys[k]] }}
		if c.AccountID != nil {
			sub.Account = accounts[*c.AccountID]
		}
		if q.Matches(sub, e.clock.Now()) {
			out = append(out, c.ID)
		}
	}
	slices.Sort(out)
	return out
}

// propQuery draws a random query.
func propQuery(rt *rapid.T, depth int) string {
	if depth < 2 && rapid.IntRange(0, 2).Draw(rt, "compound") == 0 {
		switch rapid.IntRange(0, 2).Draw(rt, "join") {
		case 0:
			return "(" + propQuery(rt, depth+1) + " and " + propQuery(rt, depth+1) + ")"
		case 1:
			return "(" + propQuery(rt, depth+1) + " or " + propQuery(rt, depth+1) + ")"
		default:
			return "not (" + propQuery(rt, depth+1) + ")"
		}
	}
	op := func() string { return rapid.SampledFrom(propCompareOp).Draw(rt, "op") }
	word := func() string { return fmt.Sprintf("%q", rapid.SampledFrom(propWords).Draw(rt, "word")) }
	num := func() string { return fmt.Sprint(rapid.SampledFrom(propNumbers).Draw(rt, "number")) }
	textOp := func() string {
		return rapid.SampledFrom([]string{"==", "!=", "<", ">=", "contains", "startsWith", "endsWith"}).Draw(rt, "text op")
	}
	switch rapid.IntRange(0, 20).Draw(rt, "atom") {
	case 0:
		return "job_title " + textOp() + " " + word()
	case 1:
		return "first_name " + textOp() + " " + word()
	case 2:
		return "email_domain == " + fmt.Sprintf("%q", rapid.SampledFrom([]string{"shop.example", "bank.example"}).Draw(rt, "domain"))
	case 3:
		return "custom.tier " + rapid.SampledFrom([]string{"==", "!="}).Draw(rt, "eq") + " " + fmt.Sprintf("%q", rapid.SampledFrom(append([]string{""}, propTiers...)).Draw(rt, "tier"))
	case 4:
		return rapid.SampledFrom([]string{"custom.vip", "not contact.custom.vip", "custom.vip == false"}).Draw(rt, "vip")
	case 5:
		return "custom.rank " + op() + " " + num()
	case 6:
		return "account.industry " + textOp() + " " + fmt.Sprintf("%q", rapid.SampledFrom(propIndustry).Draw(rt, "industry"))
	case 7:
		return rapid.SampledFrom([]string{"account.employees", "account.revenue", "account.custom.arr"}).Draw(rt, "account number") + " " + op() + " " + num()
	case 8:
		return "account.country in [\"ES\", \"\"]"
	case 9:
		return "account_id " + rapid.SampledFrom([]string{"==", "!="}).Draw(rt, "eq") + " \"\""
	case 10:
		return rapid.SampledFrom([]string{"any", "all", "none"}).Draw(rt, "fn") + "(leads, " + propLeadPred(rt) + ")"
	case 11:
		return "count(leads, " + propLeadPred(rt) + ") " + op() + " " + fmt.Sprint(rapid.IntRange(0, 2).Draw(rt, "n"))
	case 12:
		return fmt.Sprintf("count(interactions, %s, %dd) %s %d", propInteractionPred(rt), rapid.SampledFrom(propDays).Draw(rt, "days"), op(), rapid.IntRange(0, 3).Draw(rt, "n"))
	case 13:
		return rapid.SampledFrom([]string{"any", "none"}).Draw(rt, "fn") + "(interactions, " + propInteractionPred(rt) + ")"
	case 14:
		return "count(interactions, " + propInteractionPred(rt) + ") " + op() + " count(leads, .status == \"open\")"
	case 15:
		return "in_segment(\"list\")"
	case 16:
		return fmt.Sprintf("created_at %s days_ago(%d)", op(), rapid.IntRange(0, 3).Draw(rt, "days"))
	case 17:
		return rapid.SampledFrom([]string{"any", "all", "none"}).Draw(rt, "fn") + "(opportunities, " + propOpportunityPred(rt) + ")"
	case 18:
		return "count(opportunities, " + propOpportunityPred(rt) + ") " + op() + " " + fmt.Sprint(rapid.IntRange(0, 2).Draw(rt, "n"))
	case 19:
		return "count(opportunities, " + propOpportunityPred(rt) + ") " + op() + " count(leads, " + propLeadPred(rt) + ")"
	default:
		return "all(interactions, " + propInteractionPred(rt) + ")"
	}
}

func propLeadPred(rt *rapid.T) string {
	preds := []string{
		`.status == "open"`, `.status != "qualified"`, `.sales_ready`, `not .sales_ready`, `.topic contains "e"`,
		`.topic startsWith "A"`, `.source == "api"`, `.stage != ""`,
	}
	var p string
	switch rapid.IntRange(0, 3).Draw(rt, "lead pred") {
	case 0:
		p = rapid.SampledFrom(preds).Draw(rt, "lead field")
	case 1:
		p = fmt.Sprintf(".score(\"fit\") %s %d", rapid.SampledFrom(propCompareOp).Draw(rt, "op"), rapid.SampledFrom([]int{0, 5, 10, 15, 25}).Draw(rt, "score"))
	case 2:
		p = fmt.Sprintf(".custom.budget %s %v", rapid.SampledFrom(propCompareOp).Draw(rt, "op"), rapid.SampledFrom(propNumbers).Draw(rt, "budget"))
	default:
		p = fmt.Sprintf(".budget_amount %s %v", rapid.SampledFrom(propCompareOp).Draw(rt, "op"), rapid.SampledFrom(propNumbers).Draw(rt, "amount"))
	}
	if rapid.Bool().Draw(rt, "and") {
		p += " and " + rapid.SampledFrom(preds).Draw(rt, "lead field")
	}
	return p
}

func propInteractionPred(rt *rapid.T) string {
	var parts []string
	if rapid.Bool().Draw(rt, "typed") {
		parts = append(parts, fmt.Sprintf(".type == %q", rapid.SampledFrom(propTypes).Draw(rt, "type")))
	}
	switch rapid.IntRange(0, 4).Draw(rt, "property") {
	case 0:
		parts = append(parts, fmt.Sprintf(".email_id %s %q", rapid.SampledFrom([]string{"==", "!="}).Draw(rt, "eq"), rapid.SampledFrom([]string{"x", "y", "12", "7", ""}).Draw(rt, "email id")))
	case 1:
		parts = append(parts, fmt.Sprintf(".url %s %q", rapid.SampledFrom([]string{"contains", "startsWith", "endsWith", "=="}).Draw(rt, "op"), rapid.SampledFrom([]string{"/pricing", "https://", "1", ""}).Draw(rt, "url")))
	case 2:
		parts = append(parts, fmt.Sprintf(".occurred_at %s days_ago(%d)", rapid.SampledFrom([]string{">", ">=", "<", "<="}).Draw(rt, "op"), rapid.SampledFrom(propDays).Draw(rt, "days")))
	case 3:
		parts = append(parts, `.lead_id == ""`)
	}
	if len(parts) == 0 {
		return `.type != ""`
	}
	return strings.Join(parts, " and ")
}

// propOpportunity draws an opportunity without its contact and lead.
func propOpportunity(rt *rapid.T) *leadcycle.Opportunity {
	o := &leadcycle.Opportunity{Name: rapid.SampledFrom(propWords[1:]).Draw(rt, "opportunity name"), Custom: leadcycle.Custom{},
		Status:            rapid.SampledFrom(leadcycle.OpportunityStatuses).Draw(rt, "opportunity status"),
		Currency:          rapid.SampledFrom([]string{"", "EUR", "TWD"}).Draw(rt, "currency"),
		ExpectedCloseDate: rapid.SampledFrom(propCloseDate).Draw(rt, "close date")}
	if rapid.Bool().Draw(rt, "has value") {
		o.EstimatedValue = ptr(rapid.SampledFrom(propNumbers[1:]).Draw(rt, "value"))
	}
	if rapid.Bool().Draw(rt, "has margin") {
		o.Custom["margin"] = rapid.SampledFrom(propNumbers).Draw(rt, "margin")
	}
	if rapid.Bool().Draw(rt, "has region") {
		o.Custom["region"] = rapid.SampledFrom(propRegions).Draw(rt, "region")
	}
	return o
}

func propOpportunityPred(rt *rapid.T) string {
	preds := []string{
		`.status == "won"`, `.status != "open"`, `.status in ["won", "lost"]`, `.currency == "EUR"`, `.currency == ""`,
		`.expected_close_date < "2026-03-01"`, `.expected_close_date != ""`, `.name contains "a"`, `.lead_id == ""`,
		`.lead_id != ""`, `.owner_id == ""`, `.custom.region == "EMEA"`, `.custom.region == ""`,
	}
	var p string
	switch rapid.IntRange(0, 3).Draw(rt, "opportunity pred") {
	case 0:
		p = rapid.SampledFrom(preds).Draw(rt, "opportunity field")
	case 1:
		p = fmt.Sprintf(".%s %s %v", rapid.SampledFrom([]string{"estimated_value", "custom.margin"}).Draw(rt, "number field"),
			rapid.SampledFrom(propCompareOp).Draw(rt, "op"), rapid.SampledFrom(propNumbers).Draw(rt, "number"))
	default:
		p = fmt.Sprintf(".%s %s days_ago(%d)", rapid.SampledFrom([]string{"closed_at", "created_at"}).Draw(rt, "time field"),
			rapid.SampledFrom([]string{">", ">=", "<", "<="}).Draw(rt, "op"), rapid.SampledFrom(propDays).Draw(rt, "days"))
	}
	if rapid.Bool().Draw(rt, "and") {
		p += " and " + rapid.SampledFrom(preds).Draw(rt, "opportunity field")
	}
	return p
}
