package gen

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/leadcycle/leadcycle"
)

var contactCols = []string{"id", "first_name", "last_name", "email", "phone", "job_title", "account_id", "consent", "origin", "created_at", "updated_at"}

// Consent bits kept per contact for the interactions.
const (
	consentEmailDenied    = 1
	consentTrackingDenied = 2
)

var (
	consentStates  = []string{leadcycle.ConsentGranted, leadcycle.ConsentUnknown, leadcycle.ConsentDenied}
	emailConsentW  = newChoice(55, 30, 15)
	trackConsentW  = newChoice(60, 25, 15)
	consentJSON    [3][3]string                           // [commercial_email][tracking], as json.Marshal writes leadcycle.Consent
	originW        = newChoice(10, 14, 30, 10, 11, 18, 7) // in the order of leadcycle.Sources
	companyEmailW  = newChoice(45, 20, 8, 5, 7, 5, 10)
	freeMailW      = newChoice(30, 20, 20, 10, 15, 5)
	noAccountShare = 0.08
)

func init() {
	for i, e := range consentStates {
		for j, t := range consentStates {
			consentJSON[i][j] = `{"commercial_email":"` + e + `","tracking":"` + t + `"}`
		}
	}
}

// cultureMix is, per account culture, the cultures of its people and their
// weights.
var cultureMix = [numCultures]struct {
	cultures []int
	weights  choice
}{
	cultES: {[]int{cultES, cultGL, cultEN}, newChoice(85, 10, 5)},
	cultGL: {[]int{cultGL, cultES}, newChoice(70, 30)},
	cultPT: {[]int{cultPT, cultES, cultEN}, newChoice(92, 4, 4)},
	cultEN: {[]int{cultEN, cultES, cultZH}, newChoice(85, 10, 5)},
	cultZH: {[]int{cultZH, cultEN}, newChoice(92, 8)},
	cultFR: {[]int{cultFR, cultEN}, newChoice(90, 10)},
	cultDE: {[]int{cultDE, cultEN}, newChoice(90, 10)},
}

// countryCulture is the main culture of each country (Spain: Spanish; the
// Galician share comes from cultureMix and Galician companies).
var countryCulture = [...]int{ctES: cultES, ctPT: cultPT, ctTW: cultZH, ctUS: cultEN, ctGB: cultEN, ctFR: cultFR, ctDE: cultDE, ctMX: cultES}

// person is a generated name with its ASCII spellings for email addresses.
type person struct {
	first, last         string // as stored
	firstASCII, lastASC string
	female              bool
}

func makePerson(r *rand.Rand, cult int) person {
	pool := &names[cult]
	var p person
	p.female = chance(r, 0.5)
	given, givenRoman := pool.male, pool.maleRoman
	if p.female {
		given, givenRoman = pool.female, pool.femaleRoman
	}
	gi := r.IntN(len(given))
	si := r.IntN(len(pool.surnames))
	p.first = given[gi]
	p.last = pool.surnames[si]
	if cult == cultZH {
		p.firstASCII, p.lastASC = givenRoman[gi], pool.surnamesRoman[si]
		return p
	}
	if chance(r, pool.twoSurnames) {
		if s2 := pick(r, pool.surnames); s2 != p.last {
			p.last += " " + s2
		}
	}
	first, _, _ := strings.Cut(p.first, " ") // "José Luis" → "José"
	last, _, _ := strings.Cut(p.last, " ")
	p.firstASCII, p.lastASC = slug(first, "", cult), slug(last, "", cult)
	return p
}

// localPart builds the part of an email before the @ in one of the usual
// styles.
func localPart(r *rand.Rand, p *person, company bool) string {
	f, l := p.firstASCII, p.lastASC
	if company {
		switch companyEmailW.pick(r) {
		case 0:
			return f + "." + l
		case 1:
			return f[:1] + l
		case 2:
			return f
		case 3:
			return f + "_" + l
		case 4:
			return f + l
		case 5:
			return l + "." + f
		default:
			return f[:1] + "." + l
		}
	}
	switch freeMailW.pick(r) {
	case 0:
		return f + "." + l
	case 1:
		return f + l
	case 2:
		return f + "." + l + strconv.Itoa(10+r.IntN(90))
	case 3:
		return f + "_" + l
	case 4:
		return f + l + strconv.Itoa(1960+r.IntN(45))
	default:
		return f[:1] + l + strconv.Itoa(10+r.IntN(90))
	}
}

// uniqueEmail returns local@domain, or a numbered variant when it is taken.
func (g *generator) uniqueEmail(r *rand.Rand, local, domain string, company bool) string {
	e := local + "@" + domain
	for n := 2; ; n++ {
		h := hashString(e)
		if _, taken := g.emails[h]; !taken {
			g.emails[h] = struct{}{}
			return e
		}
		if company {
			e = local + strconv.Itoa(n) + "@" + domain
		} else {
			// free-mail users pick a number of their own, longer as names run out
			e = local + strconv.Itoa(r.IntN(int(math.Pow10(min(2+n/8, 9))))) + "@" + domain
		}
	}
}

// phone returns a number in E.164 form for the country.
func phone(r *rand.Rand, c *country) string {
	var b [24]byte
	s := append(b[:0], '+')
	s = append(s, c.dial...)
	prefix := c.mobile[0]
	if !chance(r, 0.6) { // 60% give their first-listed (mobile) prefix
		prefix = pick(r, c.mobile)
	}
	s = append(s, prefix...)
	for range c.digits - len(prefix) {
		s = append(s, byte('0'+r.IntN(10)))
	}
	return string(s)
}

// contacts returns the row source of the contacts table.
func (g *generator) contacts() func(row []any) bool {
	r := g.rng(2)
	n := g.opts.Contacts
	g.conCreated = make([]int64, 0, n)
	g.conAccount = make([]int32, 0, n)
	g.conCulture = make([]uint8, 0, n)
	g.conConsent = make([]uint8, 0, n)
	g.conCumW = make([]float64, 0, n)
	ref := reference.UnixMicro()
	start, end := ref-3*year, ref-hour
	alive := 0 // accounts created so far
	cum := 0.0
	return func(row []any) bool {
		i := len(g.conCreated)
		if i == n {
			g.emails = nil // not needed any more
			return false
		}
		created := spread(r, i, n, start, end)
		for alive < len(g.accCreated) && g.accCreated[alive] <= created {
			alive++
		}
		acc := int32(-1)
		var accountID any
		ct := -1
		cult := -1
		if alive > 0 && !chance(r, noAccountShare) {
			acc = int32(searchCum(g.accCumW, alive, r.Float64()*g.accCumW[alive-1]))
			accountID = g.baseAccount + int64(acc) + 1
			ct, cult = int(g.accCountry[acc]), int(g.accCulture[acc])
		} else {
			ct = countryChoice.pick(r)
			cult = countryCulture[ct]
			if ct == ctES && chance(r, 0.3) {
				cult = cultGL
			}
		}
		mix := &cultureMix[cult]
		cult = mix.cultures[mix.weights.pick(r)]
		p := makePerson(r, cult)

		var email string
		if acc >= 0 && chance(r, 0.76) {
			email = g.uniqueEmail(r, localPart(r, &p, true), g.accDomain[acc], true)
		} else {
			email = g.uniqueEmail(r, localPart(r, &p, false), pick(r, countries[ct].freeMail), false)
		}
		tel := ""
		if chance(r, 0.7) {
			tel = phone(r, &countries[ct])
		}
		title := ""
		if chance(r, 0.85) && (acc >= 0 || chance(r, 0.5)) {
			t := pick(r, jobTitles[cult])
			title = t[0]
			if p.female && t[1] != "" {
				title = t[1]
			}
		}
		ec, tc := emailConsentW.pick(r), trackConsentW.pick(r)
		var consent uint8
		if consentStates[ec] == leadcycle.ConsentDenied {
			consent |= consentEmailDenied
		}
		if consentStates[tc] == leadcycle.ConsentDenied {
			consent |= consentTrackingDenied
		}
		updated := created
		if chance(r, 0.6) {
			updated += expDelay(r, 120*day, ref-second-created)
		}
		// Activity is heavy-tailed (Pareto, α=1.6: u^-0.625 = 1/(√u·u^⅛),
		// computed with square roots, which round the same everywhere): the
		// most active 1% of contacts have about a fifth of the interactions.
		u := 1 - r.Float64()
		weight := min(1/float64(math.Sqrt(u)*math.Sqrt(math.Sqrt(math.Sqrt(u)))), 200)

		g.conCreated = append(g.conCreated, created)
		g.conAccount = append(g.conAccount, acc)
		g.conCulture = append(g.conCulture, uint8(cult))
		g.conConsent = append(g.conConsent, consent)
		cum += weight
		g.conCumW = append(g.conCumW, cum)

		row[0] = g.baseContact + int64(i) + 1
		row[1] = p.first
		row[2] = p.last
		row[3] = email
		row[4] = tel
		row[5] = title
		row[6] = accountID
		row[7] = consentJSON[ec][tc]
		row[8] = leadcycle.Sources[originW.pick(r)]
		row[9] = created
		row[10] = updated
		return true
	}
}
