package scoring

import (
	"cmp"
	"math"
	"reflect"
	"slices"
	"time"

	"github.com/expr-lang/expr/vm"
	"github.com/leadcycle/leadcycle"
)

// maxInteractionIDs is how many matching interactions a rule's explanation
// lists.
const maxInteractionIDs = 20

// Subject is what a model scores.
type Subject struct {
	Lead    *leadcycle.Lead
	Contact *leadcycle.Contact // nil when none
	// Account is nil when none (the caller resolves lead.account_id, else the
	// contact's account).
	Account *leadcycle.Account
	// Interactions are those of the lead's contact (contact target) or of
	// all contacts of the lead's account (account target), in any order.
	// They may include types and times the model does not use; Score
	// filters.
	Interactions []leadcycle.Interaction
}

// Result is one model's verdict on one lead.
type Result struct {
	// Applies reports whether the model's applies_to holds (always, when it
	// is empty).
	Applies bool
	// Scorable reports whether the lead has what the target needs: a
	// contact model needs Lead.ContactID, an account model Lead.AccountID.
	Scorable bool
	Score    int64
	// Grade is the model's grade holding Score; "" when none does or when
	// the lead is not scored.
	Grade string
	// Rules are the rules that hold, in rule order.
	Rules []leadcycle.RuleContribution
	// NextChange is the earliest time after now at which the score can
	// change without new data (an interaction leaving a window, a since or
	// until bound, a decay step); zero when never.
	NextChange time.Time
}

// scratch is the per-call working memory of Score, pooled per model.
type scratch struct {
	vm       vm.VM
	env      any           // the condition environment, boxed once
	vars     reflect.Value // the variables it points to
	contact  *contactVars
	account  *accountVars
	lead     *leadVars
	now      *time.Time
	custom   [entities]reflect.Value
	where    whereVars
	whereEnv any      // whereEnv{&where}, boxed once
	order    []int32  // indices of the interactions of used types, newest first
	matches  []int32  // positions in order of each behaviour's matches
	spans    [][2]int // each behaviour's matches in matches
	marks    []bool   // per position in order, to merge several behaviours' matches
	ids      []leadcycle.ID
	idSpans  [][2]int // each held rule's interaction ids in ids
}

// newScratch allocates working memory for the model's layout.
func (m *Model) newScratch() any {
	sc := &scratch{}
	sc.whereEnv = whereEnv{&sc.where}
	if m.cond == nil {
		return sc
	}
	vars := reflect.New(m.cond.layout.vars)
	env := reflect.New(m.cond.layout.typ).Elem()
	env.Field(0).Set(vars)
	sc.env = env.Interface()
	sc.vars = vars.Elem()
	sc.contact = sc.vars.Field(entContact).Field(0).Addr().Interface().(*contactVars)
	sc.account = sc.vars.Field(entAccount).Field(0).Addr().Interface().(*accountVars)
	sc.lead = sc.vars.Field(entLead).Field(0).Addr().Interface().(*leadVars)
	sc.now = sc.vars.Field(entities).Addr().Interface().(*time.Time)
	for e := range entities {
		sc.custom[e] = sc.vars.Field(e).Field(1)
	}
	return sc
}

// Score evaluates the model for s at now. When the model does not apply or
// the lead is not scorable, Score, Grade, Rules and NextChange are zero.
func (m *Model) Score(s Subject, now time.Time) Result {
	var res Result
	if s.Lead == nil {
		return res
	}
	sc := m.pool.Get().(*scratch)
	defer m.pool.Put(sc)
	env := m.condEnv(sc, s, now)
	res.Applies = m.applies == nil || sc.run(m.applies, env)
	res.Scorable = m.scorable(s.Lead)
	if !res.Applies || !res.Scorable {
		return res
	}
	sc.sortInteractions(m.types, s.Interactions)
	sc.ids, sc.idSpans = sc.ids[:0], sc.idSpans[:0]
	for i := range m.rules {
		r := &m.rules[i]
		if !sc.conditions(r, env) {
			continue
		}
		c, held, next := sc.rule(r, s.Interactions, now)
		res.NextChange = earliest(res.NextChange, next)
		if held {
			if res.Rules == nil {
				res.Rules = make([]leadcycle.RuleContribution, 0, len(m.rules)-i)
			}
			res.Rules = append(res.Rules, c)
			res.Score += c.Points
		}
	}
	sc.attachIDs(res.Rules)
	res.Grade = m.Def.GradeOf(res.Score)
	return res
}

// scorable reports whether the lead has the parent the target needs: a
// contact for contact-based models; for account-based models an account and
// no contact (a lead with a parent contact is that contact's lead).
func (m *Model) scorable(l *leadcycle.Lead) bool {
	if m.Def.Target == leadcycle.TargetAccount {
		return l.AccountID != nil && l.ContactID == nil
	}
	return l.ContactID != nil
}

// condEnv fills the condition environment for s and returns it boxed, or nil
// when the model has no conditions.
func (m *Model) condEnv(sc *scratch, s Subject, now time.Time) any {
	p := m.cond
	if p == nil {
		return nil
	}
	fill(sc.contact, s.Contact, p.contactSets)
	fill(sc.account, s.Account, p.accountSets)
	fill(sc.lead, s.Lead, p.leadSets)
	var custom [entities]leadcycle.Custom
	if s.Contact != nil {
		custom[entContact] = s.Contact.Custom
	}
	if s.Account != nil {
		custom[entAccount] = s.Account.Custom
	}
	custom[entLead] = s.Lead.Custom
	for e := range entities {
		fillCustom(sc.custom[e], p.custom[e], custom[e])
	}
	*sc.now = now
	return sc.env
}

// run runs a boolean program; an error or a non-boolean result is false.
func (sc *scratch) run(p *vm.Program, env any) bool {
	out, err := sc.vm.Run(p, env)
	b, ok := out.(bool)
	return err == nil && ok && b
}

// conditions reports whether all of the rule's conditions hold.
func (sc *scratch) conditions(r *rule, env any) bool {
	for _, p := range r.conds {
		if !sc.run(p, env) {
			return false
		}
	}
	return true
}

// sortInteractions keeps the interactions of the given types, newest first
// (then highest id first), as indices in sc.order.
func (sc *scratch) sortInteractions(types []string, ints []leadcycle.Interaction) {
	sc.order = sc.order[:0]
	// From the end: histories kept in time order (a cached account's) come
	// out newest first already, and need no sort.
	for i := len(ints) - 1; i >= 0; i-- {
		if slices.Contains(types, ints[i].Type) {
			sc.order = append(sc.order, int32(i))
		}
	}
	newestFirst := func(a, b int32) int {
		x, y := &ints[a], &ints[b]
		if c := y.OccurredAt.Compare(x.OccurredAt); c != 0 {
			return c
		}
		return cmp.Compare(y.ID, x.ID)
	}
	if !slices.IsSortedFunc(sc.order, newestFirst) {
		slices.SortFunc(sc.order, newestFirst)
	}
}

// rule evaluates the behaviours of a rule whose conditions hold. It returns
// the rule's contribution, whether it holds, and when its result may change.
func (sc *scratch) rule(r *rule, ints []leadcycle.Interaction, now time.Time) (leadcycle.RuleContribution, bool, time.Time) {
	sc.matches, sc.spans = sc.matches[:0], sc.spans[:0]
	held := true
	var next time.Time
	for j := range r.behaviors {
		b := &r.behaviors[j]
		start := len(sc.matches)
		sc.match(b, ints, now)
		sc.spans = append(sc.spans, [2]int{start, len(sc.matches)})
		ms := sc.matches[start:]
		held = held && b.holds(len(ms))
		next = earliest(next, b.nextChange(sc.times(ms, ints), now))
	}
	if !held {
		return leadcycle.RuleContribution{}, false, next
	}
	points := sc.points(r, ints, now)
	if r.halfLife > 0 && points != 0 {
		step := max(time.Duration(r.halfLife*float64(24*time.Hour)/16), time.Hour)
		next = earliest(next, now.Add(step))
	}
	sc.collectIDs(ints)
	return leadcycle.RuleContribution{Rule: r.name, Points: points, Matches: len(sc.matches)}, true, next
}

// match appends the positions (in sc.order) of the interactions matching b.
func (sc *scratch) match(b *behavior, ints []leadcycle.Interaction, now time.Time) {
	// Inside the window means now - occurred_at < window, that is
	// occurred_at > now - window.
	cutoff := now.Add(-b.window)
	for q, i := range sc.order {
		it := &ints[i]
		if b.window > 0 && !it.OccurredAt.After(cutoff) {
			break // sc.order is newest first: the rest are older still
		}
		if it.Type != b.typ || !b.inRange(it.OccurredAt) {
			continue
		}
		if b.where != nil && !sc.whereHolds(b, it, now) {
			continue
		}
		sc.matches = append(sc.matches, int32(q))
	}
}

// whereHolds evaluates b's where on one interaction.
func (sc *scratch) whereHolds(b *behavior, it *leadcycle.Interaction, now time.Time) bool {
	fill(&sc.where, it, b.whereSets)
	sc.where.Now = now
	return sc.run(b.where, sc.whereEnv)
}

// inRange reports whether t is within the behaviour's since/until bounds.
func (b *behavior) inRange(t time.Time) bool {
	return (b.since.IsZero() || !t.Before(b.since)) && (b.until.IsZero() || t.Before(b.until))
}

// holds reports whether count matches satisfy the frequency.
func (b *behavior) holds(count int) bool {
	switch b.freq {
	case leadcycle.FrequencyNone:
		return count == 0
	case leadcycle.FrequencyAtLeast:
		return count >= b.count
	default:
		return count >= 1
	}
}

// times returns a view of the occurrence times of matches ms.
func (sc *scratch) times(ms []int32, ints []leadcycle.Interaction) matchTimes {
	return matchTimes{ms: ms, order: sc.order, ints: ints}
}

// matchTimes gives the occurrence times of a behaviour's matches, newest
// first.
type matchTimes struct {
	ms    []int32
	order []int32
	ints  []leadcycle.Interaction
}

func (t matchTimes) len() int           { return len(t.ms) }
func (t matchTimes) at(k int) time.Time { return t.ints[t.order[t.ms[k]]].OccurredAt }
func (t matchTimes) age(k int, now time.Time) time.Duration {
	return max(now.Sub(t.at(k)), 0)
}

// nextChange returns when the behaviour's outcome may change without new
// data: the earliest future match's time, the exit from the window of the
// match whose leaving matters, or a since/until bound yet to come.
func (b *behavior) nextChange(t matchTimes, now time.Time) time.Time {
	var next time.Time
	for k := 0; k < t.len() && t.at(k).After(now); k++ {
		next = t.at(k) // ends on the earliest future match
	}
	if k := b.pivot(t.len()); b.window > 0 && k >= 0 {
		next = earliest(next, t.at(k).Add(b.window))
	}
	for _, bound := range [2]time.Time{b.since, b.until} {
		if bound.After(now) {
			next = earliest(next, bound)
		}
	}
	return next
}

// pivot returns the index (newest first) of the match whose age decides the
// behaviour: the oldest for each_time (the first to leave the window), the
// newest for at_least_once and none, the N-th newest for at_least N; -1 when
// there is none.
func (b *behavior) pivot(count int) int {
	var k int
	switch b.freq {
	case leadcycle.FrequencyEachTime:
		k = count - 1
	case leadcycle.FrequencyAtLeast:
		k = b.count - 1
	default:
		k = 0
	}
	if k >= count {
		return -1
	}
	return k
}

// decay returns the factor of the points of an interaction of the given age.
func decay(age time.Duration, halfLifeDays float64) float64 {
	return math.Exp2(-age.Hours() / 24 / halfLifeDays)
}

// points returns a holding rule's rounded contribution.
func (sc *scratch) points(r *rule, ints []leadcycle.Interaction, now time.Time) int64 {
	units := 1.0 // how many times the points count, decay included
	other := 1.0 // the smallest factor of the behaviours but each_time
	if r.halfLife > 0 {
		for j := range r.behaviors {
			b := &r.behaviors[j]
			if j == r.eachTime || b.freq == leadcycle.FrequencyNone {
				continue
			}
			if k := b.pivot(sc.count(j)); k >= 0 {
				other = min(other, decay(sc.times(sc.span(j), ints).age(k, now), r.halfLife))
			}
		}
		units = other
	}
	if r.eachTime >= 0 {
		t := sc.times(sc.span(r.eachTime), ints)
		units = float64(t.len())
		if r.halfLife > 0 {
			units = 0
			for k := range t.len() {
				units += min(decay(t.age(k, now), r.halfLife), other)
			}
		}
	}
	return int64(math.Round(float64(r.points) * units))
}

// span returns the matches of the j-th behaviour of the current rule.
func (sc *scratch) span(j int) []int32 { return sc.matches[sc.spans[j][0]:sc.spans[j][1]] }

// count returns the number of matches of the j-th behaviour.
func (sc *scratch) count(j int) int { return sc.spans[j][1] - sc.spans[j][0] }

// collectIDs appends the ids of the current rule's matches, newest first,
// without repeats and at most maxInteractionIDs, to sc.ids.
func (sc *scratch) collectIDs(ints []leadcycle.Interaction) {
	start := len(sc.ids)
	if len(sc.spans) == 1 {
		for _, q := range sc.matches[:min(len(sc.matches), maxInteractionIDs)] {
			sc.ids = append(sc.ids, ints[sc.order[q]].ID)
		}
	} else if len(sc.matches) > 0 {
		sc.mergeIDs(ints)
	}
	sc.idSpans = append(sc.idSpans, [2]int{start, len(sc.ids)})
}

// mergeIDs merges the matches of several behaviours in time order.
func (sc *scratch) mergeIDs(ints []leadcycle.Interaction) {
	if len(sc.marks) < len(sc.order) {
		sc.marks = make([]bool, len(sc.order))
	}
	for _, q := range sc.matches {
		sc.marks[q] = true
	}
	n := 0
	for q := range sc.order {
		if sc.marks[q] {
			sc.marks[q] = false
			if n < maxInteractionIDs {
				sc.ids = append(sc.ids, ints[sc.order[q]].ID)
				n++
			}
		}
	}
}

// attachIDs gives the held rules their interaction ids, all in one
// allocation.
func (sc *scratch) attachIDs(rules []leadcycle.RuleContribution) {
	all := slices.Clone(sc.ids)
	if all == nil {
		all = []leadcycle.ID{}
	}
	for k := range rules {
		sp := sc.idSpans[k]
		rules[k].InteractionIDs = all[sp[0]:sp[1]:sp[1]]
	}
}

// earliest returns the earlier of two times, zero meaning never.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}
