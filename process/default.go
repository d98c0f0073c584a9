package process

import "github.com/leadcycle/leadcycle"

// Default returns the shipped business process, "Lead to opportunity
// marketing sales process" (SPEC §5), normalised. Each call returns a new
// copy the caller may change.
func Default() *leadcycle.Process {
	p := &leadcycle.Process{
		Key:  leadcycle.DefaultProcessKey,
		Name: leadcycle.DefaultProcessName,
		Description: "Takes a lead from its first expression of interest through automated marketing qualification " +
			"and telesales to the salespeople, who convert it into an opportunity.",
		IsDefault:   true,
		Stages:      defaultStages(),
		Transitions: defaultTransitions(),
	}
	p.Normalize()
	return p
}

// defaultStages are the five stages of the default process.
func defaultStages() []leadcycle.Stage {
	return []leadcycle.Stage{
		{
			Key:  leadcycle.StageInquiry,
			Name: "Inquiry",
			Description: "A new lead. Set or check its parent contact and/or account: forms and event registrations " +
				"link them automatically, otherwise link them by hand.",
			Fields: []leadcycle.StageField{
				{Field: "lead.topic", Label: "Topic", Required: true},
				{Field: "lead.contact_id", Label: "Contact"},
				{Field: "lead.account_id", Label: "Account"},
			},
		},
		{
			Key:  leadcycle.StageMarketingQualification,
			Name: "Automated marketing qualification",
			Description: "The lead is nurtured and scored until a scoring model's sales-ready threshold is reached. " +
				"A sales-ready lead skips the telesales stages and goes straight to sales acceptance.",
			EntryCondition: `lead.contact_id != "" or lead.account_id != ""`,
			Fields: []leadcycle.StageField{
				{Field: "lead.telesales_ready", Label: "Telesales ready"},
				{Field: "lead.sales_ready", Label: "Sales ready"},
			},
			Next: []leadcycle.Branch{
				{When: "lead.sales_ready", To: leadcycle.StageSalesAcceptance},
				{To: leadcycle.StageTelesalesAcceptance},
			},
		},
		{
			Key:  leadcycle.StageTelesalesAcceptance,
			Name: "Telesales acceptance",
			Description: "A telesales operator checks that the lead meets the minimum criteria for a phone call " +
				"and ticks Accepted by telesales.",
			Fields: []leadcycle.StageField{
				{Field: "lead.telesales_accepted", Label: "Accepted by telesales", Required: true},
			},
		},
		{
			Key:  leadcycle.StageTelesalesQualification,
			Name: "Telesales qualification",
			Description: "After the call the operator records what was learned and, if the lead is promising, " +
				"ticks Sales ready.",
			Fields: []leadcycle.StageField{
				{Field: "lead.purchase_timeframe", Label: "Purchase timeframe"},
				{Field: "lead.purchase_process", Label: "Purchase process"},
				{Field: "lead.budget_amount", Label: "Budget"},
				{Field: "lead.need", Label: "Need"},
				{Field: "lead.description", Label: "Description"},
				{Field: "lead.sales_ready", Label: "Sales ready", Required: true},
			},
		},
		{
			Key:  leadcycle.StageSalesAcceptance,
			Name: "Sales acceptance",
			Description: "A sales manager checks the minimum qualification criteria, assigns the lead to a " +
				"salesperson and ticks Sales accepted; the salesperson then qualifies it into an opportunity.",
			Fields: []leadcycle.StageField{
				{Field: "lead.owner_id", Label: "Owner", Required: true},
				{Field: "lead.sales_accepted", Label: "Sales accepted", Required: true},
			},
		},
	}
}

// defaultTransitions move leads of the default process on its events.
func defaultTransitions() []leadcycle.Transition {
	const (
		inquiry = leadcycle.StageInquiry
		amq     = leadcycle.StageMarketingQualification
		ta      = leadcycle.StageTelesalesAcceptance
		tq      = leadcycle.StageTelesalesQualification
	)
	return []leadcycle.Transition{
		// A new lead enters marketing qualification when a live scoring
		// model scores it for the first time.
		{Name: "Scored", On: leadcycle.TriggerLeadScored, From: []string{inquiry}, To: amq},
		// A lead marked telesales ready comes to the telesales operators.
		{Name: "Telesales ready", On: leadcycle.TriggerTelesalesReady, From: []string{inquiry, amq}, To: ta},
		// An operator's acceptance moves the lead on to the qualifying call.
		{Name: "Accepted by telesales", On: leadcycle.TriggerTelesalesAccepted, From: []string{inquiry, amq, ta}, To: tq},
		// A sales-ready lead goes straight to the salespeople, skipping the
		// telesales stages it has not been through.
		{Name: "Sales ready", On: leadcycle.TriggerSalesReady, From: []string{inquiry, amq, ta, tq}, To: leadcycle.StageSalesAcceptance},
	}
}
