package scoring

import (
	"reflect"
	"slices"
	"time"

	"github.com/expr-lang/expr/vm"
	"github.com/leadcycle/leadcycle"
)

// SegmentSubject is what a segment query is evaluated on: one contact, its
// account, its leads (with their scores), its interactions and its
// opportunities.
type SegmentSubject struct {
	Contact      *leadcycle.Contact
	Account      *leadcycle.Account // nil without one
	Leads        []leadcycle.Lead
	Interactions []leadcycle.Interaction
	// Opportunities are the contact's opportunities: those whose contact_id
	// is the contact and those whose lead's contact_id is the contact, each
	// once.
	Opportunities []leadcycle.Opportunity
	// Models maps scoring model keys to the ids of their versions, newest
	// first: a lead's score("key") is its score under the newest version
	// that scored it.
	Models map[string][]leadcycle.ID
	// InSegment reports whether the contact is in the segment with the key.
	InSegment func(key string) bool
}

// Matches reports whether the contact of s belongs to the segment at now. A
// nil contact never does.
func (q *SegmentQuery) Matches(s SegmentSubject, now time.Time) bool {
	if s.Contact == nil {
		return false
	}
	l := q.layout
	env := reflect.New(l.top).Elem()
	contact := q.entity(l.contact, entContact, s.Contact)
	env.Field(topContact).Set(contact)
	env.Field(topContactNamed).Set(contact)
	if s.Account != nil {
		env.Field(topAccount).Set(q.entity(l.account, entAccount, s.Account))
	}
	if q.Reads["leads"] {
		leads := reflect.MakeSlice(reflect.SliceOf(l.lead), len(s.Leads), len(s.Leads))
		for i := range s.Leads {
			lead := &s.Leads[i]
			v := q.entity(l.lead, entLead, lead)
			v.Field(entScore).Set(reflect.ValueOf(func(key string) int {
				for _, id := range s.Models[key] {
					for _, sc := range lead.Scores {
						if sc.ModelID == id {
							return int(sc.Score)
						}
					}
				}
				return 0
			}))
			leads.Index(i).Set(v)
		}
		env.Field(topLeads).Set(leads)
	}
	if q.Reads["interactions"] {
		ints := make([]segInteractionVars, len(s.Interactions))
		for i := range s.Interactions {
			// The same fields as a scoring rule's where sees.
			var w whereVars
			for _, set := range whereSetters {
				set.set(&w, &s.Interactions[i])
			}
			ints[i] = w.segInteractionVars
		}
		env.Field(topInteractions).Set(reflect.ValueOf(ints))
	}
	if q.Reads["opportunities"] {
		opps := reflect.MakeSlice(reflect.SliceOf(l.opportunity), len(s.Opportunities), len(s.Opportunities))
		for i := range s.Opportunities {
			opps.Index(i).Set(q.opportunity(&s.Opportunities[i]))
		}
		env.Field(topOpportunities).Set(opps)
	}
	in := s.InSegment
	if in == nil {
		in = func(string) bool { return false }
	}
	env.Field(topInSegment).Set(reflect.ValueOf(in))
	env.Field(topDaysAgo).Set(reflect.ValueOf(func(days int) time.Time { return DaysAgo(now, days) }))
	out, err := vm.Run(q.program, env.Interface())
	if err != nil {
		return false
	}
	b, _ := out.(bool)
	return b
}

// DaysAgo is the time days×24 hours before now, as segment queries see it.
func DaysAgo(now time.Time, days int) time.Time {
	return now.Add(-time.Duration(days) * 24 * time.Hour)
}

// entity builds the value of a contact, account or lead.
func (q *SegmentQuery) entity(t reflect.Type, e int, rec any) reflect.Value {
	v := reflect.New(t).Elem()
	vars := v.Field(entVars).Addr().Interface()
	var custom leadcycle.Custom
	switch r := rec.(type) {
	case *leadcycle.Contact:
		fill(vars.(*contactVars), r, pick(contactSetters, nil, true))
		custom = r.Custom
	case *leadcycle.Account:
		fill(vars.(*accountVars), r, pick(accountSetters, nil, true))
		custom = r.Custom
	case *leadcycle.Lead:
		fill(vars.(*leadVars), r, pick(leadSetters, nil, true))
		custom = r.Custom
	}
	fillCustom(v.Field(entCustom), q.layout.custom[e], custom)
	return v
}

// opportunity builds the value of an opportunity: a missing estimated value
// reads as 0 and a missing closed_at as the zero time.
func (q *SegmentQuery) opportunity(o *leadcycle.Opportunity) reflect.Value {
	v := reflect.New(q.layout.opportunity).Elem()
	vars := v.Field(entVars).Addr().Interface().(*segOpportunityVars)
	*vars = segOpportunityVars{
		ID: idText(o.ID), Name: o.Name, Status: o.Status, EstimatedValue: deref(o.EstimatedValue), Currency: o.Currency,
		ExpectedCloseDate: o.ExpectedCloseDate, ClosedAt: deref(o.ClosedAt), CreatedAt: o.CreatedAt,
		LeadID: idPtrText(o.LeadID), OwnerID: idPtrText(o.OwnerID),
	}
	fillCustom(v.Field(entCustom), q.layout.opportunityCustom, o.Custom)
	return v
}

// NextChange returns the earliest time after now at which the query's
// result for s can change with no new data: when a time field the query
// compares with days_ago (a window is one) crosses now minus its days. ok is
// false when no such time exists, and when the query's trend (see Trend)
// rules out a change for a contact that is (member) or is not in the
// segment.
func (q *SegmentQuery) NextChange(s SegmentSubject, now time.Time, member bool) (next time.Time, ok bool) {
	if len(q.Windows) == 0 || s.Contact == nil {
		return time.Time{}, false
	}
	switch q.Trend() {
	case TrendConstant:
		return time.Time{}, false
	case TrendFalling:
		if !member {
			return time.Time{}, false
		}
	case TrendRising:
		if member {
			return time.Time{}, false
		}
	}
	consider := func(field string, t time.Time) {
		for _, days := range q.Windows[field] {
			// days_ago(d) reaches t at t + d days: a comparison with it can
			// change then (>, ==) and just after (>=).
			at := t.Add(time.Duration(days) * 24 * time.Hour)
			for _, c := range []time.Time{at, at.Add(time.Microsecond)} {
				if c.After(now) && (!ok || c.Before(next)) {
					next, ok = c, true
				}
			}
		}
	}
	consider("contact.created_at", s.Contact.CreatedAt)
	consider("contact.updated_at", s.Contact.UpdatedAt)
	if s.Account != nil {
		consider("account.created_at", s.Account.CreatedAt)
	} else {
		consider("account.created_at", time.Time{})
	}
	for i := range s.Leads {
		consider("lead.created_at", s.Leads[i].CreatedAt)
	}
	for i := range s.Interactions {
		consider("interaction.occurred_at", s.Interactions[i].OccurredAt)
	}
	for i := range s.Opportunities {
		consider("opportunity.created_at", s.Opportunities[i].CreatedAt)
		consider("opportunity.closed_at", deref(s.Opportunities[i].ClosedAt))
	}
	return next, ok
}

// UsesModel reports whether the query reads scores of the model key.
func (q *SegmentQuery) UsesModel(key string) bool { return slices.Contains(q.ModelKeys, key) }
