package gen

import (
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/leadcycle/leadcycle"
)

var leadCols = []string{"id", "topic", "description", "contact_id", "account_id", "status", "status_reason", "source", "form_id", "event_id", "journey_id",
	"campaign", "stage", "telesales_ready", "telesales_accepted", "sales_ready", "sales_accepted", "created_at", "updated_at", "process_id"}

// Stages of the shipped lead process, in order.
const (
	stageInquiry    = leadcycle.DefaultStage
	stageAMQ        = "automated_marketing_qualification"
	stageTSAccept   = "telesales_acceptance"
	stageTSQualify  = "telesales_qualification"
	stageSalesAccpt = "sales_acceptance"
)

// leadState is a lead's status, reason, stage and flags, kept consistent:
// accepted implies ready, sales implies telesales, and the stage is the one
// the flags lead to.
type leadState struct {
	status, reason, stage           string
	tsReady, tsAccepted, salesReady bool
	salesAccepted                   bool
}

// Outcomes of a lead with their weights for fresh (under two weeks) and
// older leads. Most leads are open and new.
var (
	outcomes = []struct{ status, reason string }{
		{leadcycle.LeadOpen, "new"}, {leadcycle.LeadOpen, "contacted"}, {leadcycle.LeadOpen, "marketing_qualified"},
		{leadcycle.LeadQualified, "qualified"},
		{leadcycle.LeadDisqualified, "lost"}, {leadcycle.LeadDisqualified, "cannot_contact"},
		{leadcycle.LeadDisqualified, "no_longer_interested"}, {leadcycle.LeadDisqualified, "canceled"},
	}
	freshOutcomeW = newChoice(80, 12, 5, 1, 0.5, 0.5, 0.5, 0.5)
	oldOutcomeW   = newChoice(45, 12, 10, 9, 8, 7, 6, 3)
	// lead sources in the order of leadcycle.Sources
	leadSourceW = newChoice(8, 13, 35, 12, 12, 10, 10)
	// sources of leads without a contact: imports and manual entry mostly
	orphanSourceW = newChoice(35, 25, 0, 5, 0, 35, 0)

	processStages     = []string{stageInquiry, stageAMQ, stageTSAccept, stageTSQualify, stageSalesAccpt}
	mqlStepW          = newChoice(50, 30, 20) // marketing qualified leads wait at steps 2, 3, 4
	disqualifiedSteps = []int{0, 1, 3, 4}     // where disqualified leads stopped
	disqualifiedStepW = newChoice(40, 25, 25, 10)
)

func makeLeadState(r *rand.Rand, fresh bool) leadState {
	w := oldOutcomeW
	if fresh {
		w = freshOutcomeW
	}
	o := outcomes[w.pick(r)]
	s := leadState{status: o.status, reason: o.reason, stage: stageInquiry}
	// progress moves a lead along the process to step k (0 = inquiry).
	progress := func(k int) {
		s.stage = processStages[k]
		s.tsReady = k >= 2
		s.tsAccepted = k >= 3
		s.salesReady = k >= 4
	}
	switch o.reason {
	case "new":
	case "contacted":
		if chance(r, 0.4) {
			progress(1)
		}
	case "marketing_qualified":
		progress(2 + mqlStepW.pick(r))
	case "qualified":
		progress(4)
		s.salesAccepted = true
	default: // disqualified wherever it stopped
		progress(disqualifiedSteps[disqualifiedStepW.pick(r)])
	}
	return s
}

// quarterCampaign names a campaign of the quarter containing t (µs).
func quarterCampaign(r *rand.Rand, t int64) string {
	tt := time.UnixMicro(t).UTC()
	return strconv.Itoa(tt.Year()) + "-Q" + strconv.Itoa(int(tt.Month()-1)/3+1) + " " + pick(r, campaignNames)
}

// eventID is the id of one of the two events of the month containing t.
func eventID(r *rand.Rand, t int64) int64 {
	tt := time.UnixMicro(t).UTC()
	return int64((tt.Year()-2022)*24+int(tt.Month()-1)*2+r.IntN(2)) + 1
}

func eventName(id int64) string { return eventNames[int(id)%len(eventNames)] }

// leads returns the row source of the leads table: Options.Leads leads, about
// 97% from a contact (and its account), 2% from an account alone and 1% with
// no parent at all, chosen with selection sampling so the count is exact.
func (g *generator) leads() func(row []any) bool {
	r := g.rng(3)
	n := len(g.conCreated)
	total := min(g.opts.Leads, n)
	orphans := total / 100
	accountOnly := total * 2 / 100
	withContact := total - orphans - accountOnly
	g.conLead = make([]int32, n)
	for i := range g.conLead {
		g.conLead[i] = -1
	}
	g.leadCreated = make([]int64, 0, total)
	ref := reference.UnixMicro()

	type pendingLead struct {
		contact, account int32 // -1 when absent
		culture          int
		after            int64 // created after this time
	}
	var queue []pendingLead
	i := 0    // next contact to consider
	made := 0 // leads written
	return func(row []any) bool {
		for len(queue) == 0 {
			if i == n {
				return false
			}
			left := n - i
			c := int32(i)
			if r.IntN(left) < withContact {
				withContact--
				queue = append(queue, pendingLead{contact: c, account: g.conAccount[i], culture: int(g.conCulture[i]), after: g.conCreated[i]})
			}
			if r.IntN(left) < accountOnly {
				accountOnly--
				acc := g.conAccount[i]
				if acc < 0 {
					acc = int32(r.IntN(len(g.accCreated)))
				}
				queue = append(queue, pendingLead{contact: -1, account: acc, culture: int(g.accCulture[acc]), after: max(g.conCreated[i], g.accCreated[acc])})
			}
			if r.IntN(left) < orphans {
				orphans--
				queue = append(queue, pendingLead{contact: -1, account: -1, culture: r.IntN(numCultures), after: g.conCreated[i]})
			}
			i++
		}
		p := queue[0]
		queue = queue[1:]

		created := p.after + minute + expDelay(r, 20*day, max(ref-minute-p.after-minute, 0))
		created = min(created, ref-minute)
		s := makeLeadState(r, ref-created < 14*day)
		updated := created
		if s.reason != "new" || chance(r, 0.2) {
			updated = created + expDelay(r, 10*day, ref-second-created)
		}
		var contactID, accountID, formID, eventIDv, journeyID any
		if p.contact >= 0 {
			contactID = g.baseContact + int64(p.contact) + 1
			g.conLead[p.contact] = int32(made)
		}
		g.leadCreated = append(g.leadCreated, created)
		if p.account >= 0 {
			accountID = g.baseAccount + int64(p.account) + 1
		}
		srcW := leadSourceW
		if p.contact < 0 && p.account < 0 {
			srcW = orphanSourceW
		}
		source := leadcycle.Sources[srcW.pick(r)]
		switch source {
		case leadcycle.SourceForm:
			formID = int64(r.IntN(7)) + 1
			switch p.culture { // localised demo forms
			case cultES:
				if chance(r, 0.5) {
					formID = int64(8)
				}
			case cultGL:
				if chance(r, 0.5) {
					formID = int64(9)
				}
			case cultZH:
				if chance(r, 0.5) {
					formID = int64(10)
				}
			}
		case leadcycle.SourceEvent:
			eventIDv = eventID(r, created)
		case leadcycle.SourceJourney:
			journeyID = int64(r.IntN(6)) + 1
		}
		campaign := ""
		if source == leadcycle.SourceLinkedIn || source == leadcycle.SourceJourney || chance(r, 0.4) {
			campaign = quarterCampaign(r, created)
		}
		description := ""
		if chance(r, 0.25) {
			description = pick(r, leadDescriptions[p.culture])
		}

		row[0] = g.baseLead + int64(made) + 1
		row[1] = pick(r, leadTopics[p.culture])
		row[2] = description
		row[3] = contactID
		row[4] = accountID
		row[5] = s.status
		row[6] = s.reason
		row[7] = source
		row[8] = formID
		row[9] = eventIDv
		row[10] = journeyID
		row[11] = campaign
		row[12] = s.stage
		row[13] = s.tsReady
		row[14] = s.tsAccepted
		row[15] = s.salesReady
		row[16] = s.salesAccepted
		row[17] = created
		row[18] = updated
		row[19] = g.processID
		made++
		return true
	}
}
