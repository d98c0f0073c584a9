package gen

import (
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/leadcycle/leadcycle"
)

var interactionCols = []string{"id", "type", "occurred_at", "contact_id", "lead_id", "account_id", "properties", "created_at"}

// Interaction types, as indexes into typeNames.
const (
	tEmailSent = iota
	tEmailDelivered
	tEmailOpened
	tEmailClicked
	tFormSubmitted
	tPageView
	tEventRegistered
	tEventAttended
	tLinkedInForm
)

var typeNames = [...]string{
	tEmailSent: leadcycle.InteractionEmailSent, tEmailDelivered: leadcycle.InteractionEmailDelivered,
	tEmailOpened: leadcycle.InteractionEmailOpened, tEmailClicked: leadcycle.InteractionEmailClicked,
	tFormSubmitted: leadcycle.InteractionFormSubmitted, tPageView: leadcycle.InteractionPageView,
	tEventRegistered: leadcycle.InteractionEventRegistered, tEventAttended: leadcycle.InteractionEventAttended,
	tLinkedInForm: leadcycle.InteractionLinkedInFormSubmitted,
}

// leadShare is, per type, how often an interaction of a contact with a lead
// is attributed to that lead.
var leadShare = [...]float64{
	tEmailSent: 0.3, tEmailDelivered: 0.3, tEmailOpened: 0.3, tEmailClicked: 0.4, tFormSubmitted: 0.8,
	tPageView: 0.2, tEventRegistered: 0.7, tEventAttended: 0.7, tLinkedInForm: 0.8,
}

// Root activities: an email send (followed by delivery, opens, clicks and the
// visits they lead to), a web visit (page views, sometimes a form), an event
// registration (sometimes attended) or a LinkedIn lead form.
const (
	rootEmail = iota
	rootWeb
	rootEvent
	rootLinkedIn
)

var rootW = newChoice(44, 50, 3.5, 2.5)

// Event flags.
const (
	fromEmail    = 1 // a page view reached through an email click
	withReferrer = 2 // a page view arriving from another site
)

// event is one interaction, generated or scheduled.
type event struct {
	t       int64  // occurred_at, µs
	seq     uint64 // tie-breaker: the order in which events were scheduled
	contact int32
	id      int32 // email_id, form_id or event_id
	page    int16 // index into pages
	typ     uint8
	flags   uint8
}

func (a *event) before(b *event) bool { return a.t < b.t || a.t == b.t && a.seq < b.seq }

// eventHeap is a min-heap of scheduled events ordered by (t, seq).
type eventHeap []event

func (h *eventHeap) push(e event) {
	*h = append(*h, e)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if !s[i].before(&s[p]) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *eventHeap) pop() event {
	s := *h
	top := s[0]
	n := len(s) - 1
	s[0] = s[n]
	s = s[:n]
	for i := 0; ; {
		l, m := 2*i+1, i
		if l < n && s[l].before(&s[m]) {
			m = l
		}
		if r := l + 1; r < n && s[r].before(&s[m]) {
			m = r
		}
		if m == i {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}

// timeline maps a quantile of the year before the reference time to an
// instant, with more activity on working days and hours (in Europe, Taiwan
// and the Americas), less in August and at Christmas, and growth over the
// year. It is monotonic, so interactions are generated in time order.
type timeline struct {
	start int64
	cum   []float64 // cumulative weight per hour
}

func newTimeline() timeline {
	ref := reference.UnixMicro()
	tl := timeline{start: ref - year, cum: make([]float64, year/hour)}
	regions := []struct {
		offset time.Duration
		share  float64
		europe bool
	}{{time.Hour, 0.6, true}, {8 * time.Hour, 0.25, false}, {-6 * time.Hour, 0.15, false}}
	sum := 0.0
	for h := range tl.cum {
		t := time.UnixMicro(tl.start + int64(h)*hour).UTC()
		w := 0.0
		for _, rg := range regions {
			lt := t.Add(rg.offset)
			a := 0.08
			switch hr := lt.Hour(); {
			case hr >= 9 && hr < 18:
				a = 1
			case hr >= 7 && hr < 22:
				a = 0.4
			}
			if wd := lt.Weekday(); wd == time.Saturday || wd == time.Sunday {
				a *= 0.3
			}
			if rg.europe && lt.Month() == time.August {
				a *= 0.7
			}
			if m, d := lt.Month(), lt.Day(); m == time.December && d >= 24 || m == time.January && d == 1 {
				a *= 0.5
			}
			w += float64(rg.share * a) // float64(): never fused into an FMA, so every platform adds the same
		}
		w *= 0.8 + float64(0.4*float64(h)/float64(len(tl.cum)))
		sum += w
		tl.cum[h] = sum
	}
	return tl
}

// at returns the instant at quantile q ∈ [0, 1).
func (tl *timeline) at(q float64) int64 {
	n := len(tl.cum)
	x := q * tl.cum[n-1]
	h := searchCum(tl.cum, n, x)
	prev := 0.0
	if h > 0 {
		prev = tl.cum[h-1]
	}
	frac := min(max((x-prev)/(tl.cum[h]-prev), 0), 1)
	return min(tl.start+int64(h)*hour+int64(frac*float64(hour)), tl.start+year-1)
}

// interactions returns the row source of the interactions table. Root
// activities are placed along the timeline by the number of interactions
// written so far; their follow-ups (deliveries, opens, clicks, further page
// views, attendance) wait in a heap until their time comes, so rows come out
// in time order and ids follow occurred_at.
func (g *generator) interactions() func(row []any) bool {
	r := g.rng(4)
	total := g.opts.Interactions
	tl := newTimeline()
	ref := reference.UnixMicro()
	var h eventHeap
	var seq uint64
	alive := 0 // contacts created so far
	written := 0
	props := make([]byte, 0, 256)

	schedule := func(e event) {
		if e.t >= ref {
			return
		}
		seq++
		e.seq = seq
		h.push(e)
	}
	// page picks a page of the site, often one in the contact's language.
	page := func(c int32) int16 {
		rg := pageRange[g.conCulture[c]]
		if rg[1] > rg[0] && chance(r, 0.45) {
			return rg[0] + int16(r.IntN(int(rg[1]-rg[0])))
		}
		return int16(r.IntN(len(globalPages)))
	}
	form := func(c int32) int32 {
		if f := localForm[g.conCulture[c]]; f > 0 && chance(r, 0.4) {
			return int32(f)
		}
		return int32(r.IntN(7) + 1)
	}
	// root starts an activity at t and returns its first event.
	root := func(t int64) event {
		for alive < len(g.conCreated) && g.conCreated[alive] <= t {
			alive++
		}
		c := int32(searchCum(g.conCumW, alive, r.Float64()*g.conCumW[alive-1]))
		consent := g.conConsent[c]
		kind := rootW.pick(r)
		if kind == rootEmail && consent&consentEmailDenied != 0 {
			kind = rootWeb
		}
		if kind == rootWeb && consent&consentTrackingDenied != 0 {
			kind = rootEvent
			if consent&consentEmailDenied == 0 {
				kind = rootEmail
			}
		}
		e := event{t: t, contact: c}
		switch kind {
		case rootEmail:
			week := (t - tl.start) / (7 * day)
			e.typ, e.id = tEmailSent, int32(1000+week*4+int64(r.IntN(4)))
			if !chance(r, 0.96) {
				break
			}
			schedule(event{t: t + second + r.Int64N(minute), contact: c, id: e.id, typ: tEmailDelivered})
			if !chance(r, 0.38) {
				break
			}
			opened := t + minute + expDelay(r, 8*hour, 7*day)
			schedule(event{t: opened, contact: c, id: e.id, typ: tEmailOpened})
			if !chance(r, 0.28) {
				break
			}
			clicked := opened + 5*second + r.Int64N(20*minute)
			pg := page(c)
			schedule(event{t: clicked, contact: c, id: e.id, page: pg, typ: tEmailClicked})
			if consent&consentTrackingDenied == 0 && chance(r, 0.85) {
				v := clicked + second + r.Int64N(10*second)
				schedule(event{t: v, contact: c, id: e.id, page: pg, typ: tPageView, flags: fromEmail})
				if chance(r, 0.4) {
					schedule(event{t: v + 30*second + r.Int64N(270*second), contact: c, page: page(c), typ: tPageView})
				}
			}
			if chance(r, 0.05) {
				schedule(event{t: clicked + minute + r.Int64N(4*minute), contact: c, id: form(c), typ: tFormSubmitted})
			}
		case rootWeb:
			e.typ, e.page = tPageView, page(c)
			if chance(r, 0.5) {
				e.flags = withReferrer
			}
			v := t
			for n := 1; n < 8 && chance(r, 0.55); n++ {
				v += 10*second + r.Int64N(230*second)
				schedule(event{t: v, contact: c, page: page(c), typ: tPageView})
			}
			if chance(r, 0.045) {
				schedule(event{t: v + 30*second + r.Int64N(270*second), contact: c, id: form(c), typ: tFormSubmitted})
			}
		case rootEvent:
			e.typ, e.id = tEventRegistered, int32(eventID(r, t+14*day))
			if chance(r, 0.55) {
				schedule(event{t: t + 2*day + r.Int64N(23*day), contact: c, id: e.id, typ: tEventAttended})
			}
		case rootLinkedIn:
			e.typ, e.id = tLinkedInForm, int32(101+r.IntN(linkedInForms))
		}
		return e
	}

	return func(row []any) bool {
		if written == total {
			return false
		}
		tRoot := tl.at((float64(written) + r.Float64()) / float64(total))
		var e event
		if len(h) > 0 && h[0].t <= tRoot {
			e = h.pop()
		} else {
			e = root(tRoot)
		}

		var leadID, accountID any
		if li := g.conLead[e.contact]; li >= 0 && g.leadCreated[li] <= e.t && chance(r, leadShare[e.typ]) {
			leadID = g.baseLead + int64(li) + 1
		}
		if a := g.conAccount[e.contact]; a >= 0 {
			accountID = g.baseAccount + int64(a) + 1
		}
		props = appendProperties(r, props[:0], &e)

		row[0] = g.baseInteraction + int64(written) + 1
		row[1] = typeNames[e.typ]
		row[2] = e.t
		row[3] = g.baseContact + int64(e.contact) + 1
		row[4] = leadID
		row[5] = accountID
		row[6] = string(props)
		row[7] = min(e.t+r.Int64N(3*second), ref-1)
		written++
		return true
	}
}

// appendProperties writes the interaction's properties as a JSON object.
func appendProperties(r *rand.Rand, b []byte, e *event) []byte {
	b = append(b, '{')
	switch e.typ {
	case tEmailSent, tEmailDelivered, tEmailOpened:
		b = appendInt(b, "email_id", int64(e.id))
	case tEmailClicked:
		b = appendInt(b, "email_id", int64(e.id))
		b = append(b, ',')
		b = appendStr(b, "url", siteURL+pages[e.page])
	case tPageView:
		b = appendStr(b, "url", siteURL+pages[e.page])
		if e.flags&fromEmail != 0 {
			b = append(b, ',')
			b = appendStr(b, "utm_medium", "email")
			b = append(b, ',')
			b = appendInt(b, "email_id", int64(e.id))
		}
		if e.flags&withReferrer != 0 {
			b = append(b, ',')
			b = appendStr(b, "referrer", pick(r, referrers))
		}
	case tFormSubmitted:
		f := forms[e.id-1]
		b = appendInt(b, "form_id", int64(e.id))
		b = append(b, ',')
		b = appendStr(b, "form_name", f.name)
		b = append(b, ',')
		b = appendStr(b, "url", siteURL+f.path)
	case tEventRegistered, tEventAttended:
		b = appendInt(b, "event_id", int64(e.id))
		b = append(b, ',')
		b = appendStr(b, "event_name", eventName(int64(e.id)))
	case tLinkedInForm:
		b = appendInt(b, "form_id", int64(e.id))
		b = append(b, ',')
		b = appendStr(b, "campaign", quarterCampaign(r, e.t))
	}
	return append(b, '}')
}

func appendInt(b []byte, key string, v int64) []byte {
	b = appendJSONString(b, key)
	b = append(b, ':')
	return strconv.AppendInt(b, v, 10)
}

func appendStr(b []byte, key, v string) []byte {
	b = appendJSONString(b, key)
	b = append(b, ':')
	return appendJSONString(b, v)
}

// appendJSONString quotes s for JSON (the generator's strings are valid UTF-8).
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
