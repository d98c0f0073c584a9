package gen

import (
	"math"
	"math/rand/v2"
	"strconv"
)

var accountCols = []string{"id", "name", "website", "domain", "industry", "employees", "revenue", "country", "created_at", "updated_at"}

// company is a generated company name with its candidate domain labels.
type company struct {
	head     string   // name without the legal form
	legal    string   // legal form, e.g. "S.L.", "GmbH", "股份有限公司"
	labels   []string // domain labels, best first
	sep      string   // separator used in labels
	tld      string
	industry string
	culture  int
	region   bool // a Taiwanese name that already starts with a region
}

func (c *company) name() string {
	switch {
	case c.legal == "":
		return c.head
	case c.culture == cultZH:
		return c.head + c.legal
	default:
		return c.head + " " + c.legal
	}
}

// sizeClasses are employee ranges with their shares.
var (
	sizeClasses = [][2]int64{{1, 10}, {10, 50}, {50, 250}, {250, 1000}, {1000, 5000}, {5000, 50_000}}
	sizeClassW  = newChoice(45, 30, 15, 6, 3, 1)
)

var countryChoice = func() choice {
	w := make([]float64, len(countries))
	for i, c := range countries {
		w[i] = c.weight
	}
	return newChoice(w...)
}()

// accounts returns the row source of the accounts table.
func (g *generator) accounts() func(row []any) bool {
	r := g.rng(1)
	n := g.accountCount()
	g.accCreated = make([]int64, 0, n)
	g.accDomain = make([]string, 0, n)
	g.accCountry = make([]uint8, 0, n)
	g.accCulture = make([]uint8, 0, n)
	g.accCumW = make([]float64, 0, n)
	ref := reference.UnixMicro()
	start, end := ref-3*year-90*day, ref-7*day
	cum := 0.0
	return func(row []any) bool {
		j := len(g.accCreated)
		if j == n {
			return false
		}
		ct := countryChoice.pick(r)
		c, domain := g.newCompany(r, ct)
		created := spread(r, j, n, start, end)
		updated := created
		if chance(r, 0.65) {
			updated += expDelay(r, 90*day, ref-second-created)
		}

		var employees, revenue any
		// Size classes as in company statistics (micro, small, medium,
		// large…), skewed to the small end within each class.
		class := sizeClasses[sizeClassW.pick(r)]
		u := r.Float64()
		emp := class[0] + int64(float64(class[1]-class[0])*float64(u*u))
		weight := math.Sqrt(float64(emp) + 4)
		if chance(r, 0.07) {
			weight = 3
		} else {
			employees = emp
			if chance(r, 0.85) {
				perHead := 60_000 + r.Int64N(190_000)
				revenue = float64((emp*perHead + 500) / 1000 * 1000)
			}
		}
		website := "https://www." + domain
		if chance(r, 0.2) {
			website = "https://" + domain
		}

		g.accCreated = append(g.accCreated, created)
		g.accDomain = append(g.accDomain, domain)
		g.accCountry = append(g.accCountry, uint8(ct))
		g.accCulture = append(g.accCulture, uint8(c.culture))
		cum += weight
		g.accCumW = append(g.accCumW, cum)

		row[0] = g.baseAccount + int64(j) + 1
		row[1] = c.name()
		row[2] = website
		row[3] = domain
		row[4] = c.industry
		row[5] = employees
		row[6] = revenue
		row[7] = countries[ct].code
		row[8] = created
		row[9] = updated
		return true
	}
}

// companyDraws is how many names are invented for an account before its
// domain is qualified by a city or numbered.
const companyDraws = 12

// newCompany invents a company of the country with a domain no other account
// has: the first free one among its labels, inventing another name when all
// are taken; after companyDraws names, the last one's first label qualified by
// a city or region (which is added to the name too), then numbered.
func (g *generator) newCompany(r *rand.Rand, ct int) (company, string) {
	var c company
	for range companyDraws {
		c = makeCompany(r, ct)
		for _, l := range c.labels {
			if d, ok := g.claimDomain(l + c.tld); ok {
				return c, d
			}
		}
	}
	return c, g.qualifiedDomain(r, &c, ct)
}

func (g *generator) claimDomain(d string) (string, bool) {
	if _, taken := g.domains[d]; taken {
		return "", false
	}
	g.domains[d] = struct{}{}
	return d, true
}

func (g *generator) qualifiedDomain(r *rand.Rand, c *company, ct int) string {
	try := func(label string) (string, bool) { return g.claimDomain(label + c.tld) }
	if c.culture == cultZH && !c.region {
		off := r.IntN(len(twRegions))
		for k := range twRegions {
			reg := twRegions[(off+k)%len(twRegions)]
			if d, ok := try(reg.industry + "-" + c.labels[0]); ok {
				c.head = reg.text + c.head
				return d
			}
		}
	} else if c.culture != cultZH {
		cities := countries[ct].cities
		if c.culture == cultGL {
			cities = glCities
		}
		off := r.IntN(len(cities))
		for k := range cities {
			city := cities[(off+k)%len(cities)]
			if d, ok := try(c.labels[0] + c.sep + slug(city, c.sep, c.culture)); ok {
				c.head += " " + city
				return d
			}
		}
	}
	for n := 2; ; n++ {
		if d, ok := try(c.labels[0] + strconv.Itoa(n)); ok {
			return d
		}
	}
}

// legalForm picks a legal form with weights.
func legalForm(r *rand.Rand, forms []string, weights choice) string {
	return forms[weights.pick(r)]
}

var (
	esLegal  = []string{"S.L.", "S.A.", "S.L.U.", "S. Coop.", ""}
	esLegalW = newChoice(55, 20, 15, 5, 5)
	ptLegal  = []string{"Lda.", "S.A."}
	ptLegalW = newChoice(70, 30)
	twLegal  = []string{"股份有限公司", "有限公司", ""}
	twLegalW = newChoice(50, 20, 30)
	usLegal  = []string{"Inc.", "LLC", "Corp.", ""}
	usLegalW = newChoice(45, 30, 15, 10)
	gbLegal  = []string{"Ltd", "PLC", "Group", ""}
	gbLegalW = newChoice(70, 10, 10, 10)
	frLegal  = []string{"SAS", "SA", "SARL"}
	frLegalW = newChoice(50, 20, 30)
	deLegal  = []string{"GmbH", "AG", "GmbH & Co. KG"}
	deLegalW = newChoice(75, 15, 10)
	mxLegal  = []string{"S.A. de C.V.", "S. de R.L. de C.V."}
	mxLegalW = newChoice(70, 30)
)

func tld(r *rand.Rand, p float64, a, b string) string {
	if chance(r, p) {
		return a
	}
	return b
}

// makeCompany invents a company of the country.
func makeCompany(r *rand.Rand, ct int) company {
	var c company
	c.sep = "-"
	switch ct {
	case ctES:
		if chance(r, 0.35) { // Galicia
			c.culture = cultGL
			sur := names[cultGL].surnames
			switch t := r.IntN(10); {
			case t < 6:
				p, place := pick(r, glPrefixes), pick(r, glPlaces)
				c.head, c.industry = p.text+" "+place, p.industry
				c.labels = []string{slug(place, "-", cultGL), slug(p.text+" "+place, "-", cultGL)}
			case t < 8:
				p, s := pick(r, glPrefixes), pick(r, sur)
				c.head, c.industry = p.text+" "+s, p.industry
				c.labels = []string{slug(c.head, "-", cultGL)}
			case t < 9:
				s := pick(r, sur)
				c.head, c.industry = s+" Hermanos", pick(r, industries)
				c.labels = []string{slug(s, "", cultGL) + "hermanos", slug(c.head, "-", cultGL)}
			default:
				s1, s2 := pick2(r, sur)
				c.head, c.industry = s1+" e "+s2+" Avogados", "Professional Services"
				c.labels = []string{slug(s1+" "+s2, "-", cultGL) + "-avogados"}
			}
			c.legal = legalForm(r, esLegal, esLegalW)
			switch x := r.Float64(); {
			case x < 0.4:
				c.tld = ".gal"
			case x < 0.8:
				c.tld = ".es"
			default:
				c.tld = ".com"
			}
			return c
		}
		c.culture = cultES
		c.legal = legalForm(r, esLegal, esLegalW)
		c.tld = tld(r, 0.65, ".es", ".com")
		spanishCompany(r, &c, esPlaces)
	case ctMX:
		c.culture = cultES
		c.legal = legalForm(r, mxLegal, mxLegalW)
		c.tld = tld(r, 0.8, ".com.mx", ".mx")
		spanishCompany(r, &c, mxPlaces)
	case ctPT:
		c.culture = cultPT
		sur := names[cultPT].surnames
		switch t := r.IntN(12); {
		case t < 6:
			p, place := pick(r, ptPrefixes), pick(r, ptPlaces)
			c.head, c.industry = p.text+" "+place, p.industry
			c.labels = []string{slug(c.head, "-", cultPT), slug(stripParticle(place), "", cultPT)}
		case t < 9:
			p, s := pick(r, ptPrefixes), pick(r, sur)
			c.head, c.industry = p.text+" "+s, p.industry
			c.labels = []string{slug(c.head, "-", cultPT)}
		case t < 10:
			s := pick(r, sur)
			c.head, c.industry = s+" & Filhos", pick(r, industries)
			c.labels = []string{slug(s, "", cultPT) + "filhos", slug(s, "", cultPT) + "-e-filhos"}
		default:
			s1, s2 := pick2(r, sur)
			c.head, c.industry = s1+" & "+s2+" Associados", "Professional Services"
			c.labels = []string{slug(s1+" "+s2, "-", cultPT), slug(c.head, "-", cultPT)}
		}
		c.legal = legalForm(r, ptLegal, ptLegalW)
		c.tld = tld(r, 0.7, ".pt", ".com")
	case ctTW:
		c.culture = cultZH
		k := r.IntN(len(twKinds))
		kind, kindRoman := twKinds[k].text, twKindsRoman[k]
		c.industry = twKinds[k].industry
		b1, b2 := pick(r, twBrandFirst), pick(r, twBrandSecond)
		for b2.text == b1.text {
			b2 = pick(r, twBrandSecond)
		}
		brand, brandRoman := b1.text+b2.text, b1.industry+b2.industry
		switch t := r.IntN(20); {
		case t < 2: // 台灣精密工業
			reg := pick(r, twRegions)
			c.head, c.region = reg.text+kind, true
			c.labels = []string{reg.industry + "-" + kindRoman, reg.industry + kindRoman}
		case t < 8: // 新竹宏遠光電
			reg := pick(r, twRegions)
			c.head, c.region = reg.text+brand+kind, true
			c.labels = []string{brandRoman + "-" + kindRoman, reg.industry + "-" + brandRoman + "-" + kindRoman}
		default: // 華新電子
			c.head = brand + kind
			c.labels = []string{brandRoman + "-" + kindRoman, brandRoman + kindRoman}
		}
		c.legal = legalForm(r, twLegal, twLegalW)
		switch x := r.Float64(); {
		case x < 0.85:
			c.tld = ".com.tw"
		case x < 0.9:
			c.tld = ".tw"
		default:
			c.tld = ".com"
		}
	case ctUS, ctGB:
		c.culture = cultEN
		cores := enCores
		if ct == ctGB {
			cores = gbCores
			c.legal = legalForm(r, gbLegal, gbLegalW)
			c.tld = tld(r, 0.75, ".co.uk", ".com")
		} else {
			c.legal = legalForm(r, usLegal, usLegalW)
			c.tld = tld(r, 0.88, ".com", ".io")
		}
		c.sep = ""
		sur := names[cultEN].surnames
		switch t := r.IntN(10); {
		case t < 6:
			core, k := pick(r, cores), pick(r, enKinds)
			c.head, c.industry = core+" "+k.text, k.industry
			c.labels = []string{slug(c.head, "", cultEN), slug(core, "", cultEN) + "-" + slug(k.text, "", cultEN)}
		case t < 8:
			s, k := pick(r, sur), pick(r, enKinds)
			c.head, c.industry = s+" "+k.text, k.industry
			c.labels = []string{slug(c.head, "", cultEN), slug(c.head, "-", cultEN)}
		default:
			s1, s2 := pick2(r, sur)
			c.head, c.industry = s1+" & "+s2, "Professional Services"
			c.labels = []string{slug(s1+s2, "", cultEN), slug(s1+" "+s2, "-", cultEN)}
		}
	case ctFR:
		c.culture = cultFR
		sur := names[cultFR].surnames
		switch t := r.IntN(10); {
		case t < 6:
			k, place := pick(r, frKinds), pick(r, frPlaces)
			c.head, c.industry = k.text+" "+place, k.industry
			c.labels = []string{slug(c.head, "-", cultFR), slug(k.text+" "+stripParticle(place), "", cultFR)}
		case t < 8:
			k, s := pick(r, frKinds), pick(r, sur)
			c.head, c.industry = k.text+" "+s, k.industry
			c.labels = []string{slug(c.head, "-", cultFR), slug(c.head, "", cultFR)}
		default:
			s1, s2 := pick2(r, sur)
			c.head, c.industry = s1+" & "+s2+" Associés", "Professional Services"
			c.labels = []string{slug(s1+" "+s2, "-", cultFR), slug(s1+" "+s2, "", cultFR)}
		}
		c.legal = legalForm(r, frLegal, frLegalW)
		c.tld = tld(r, 0.8, ".fr", ".com")
	case ctDE:
		c.culture = cultDE
		sur := names[cultDE].surnames
		switch t := r.IntN(10); {
		case t < 6:
			place, k := pick(r, dePlaces), pick(r, deKinds)
			c.head, c.industry = place+" "+k.text, k.industry
			c.labels = []string{slug(c.head, "-", cultDE), slug(c.head, "", cultDE)}
		case t < 8:
			s, k := pick(r, sur), pick(r, deKinds)
			c.head, c.industry = s+" "+k.text, k.industry
			c.labels = []string{slug(c.head, "-", cultDE), slug(c.head, "", cultDE)}
		default:
			s1, s2 := pick2(r, sur)
			c.head, c.industry = s1+" & "+s2, "Professional Services"
			c.labels = []string{slug(s1+" "+s2, "-", cultDE), slug(s1+" und "+s2, "-", cultDE)}
		}
		c.legal = legalForm(r, deLegal, deLegalW)
		c.tld = tld(r, 0.85, ".de", ".com")
	}
	return c
}

// spanishCompany fills a Spanish-language company (Spain, Mexico).
func spanishCompany(r *rand.Rand, c *company, places []string) {
	sur := names[cultES].surnames
	switch t := r.IntN(10); {
	case t < 5:
		p, place := pick(r, esPrefixes), pick(r, places)
		c.head, c.industry = p.text+" "+place, p.industry
		c.labels = []string{slug(c.head, "-", cultES), slug(stripParticle(place), "", cultES)}
	case t < 7:
		p, s := pick(r, esPrefixes), pick(r, sur)
		c.head, c.industry = p.text+" "+s, p.industry
		c.labels = []string{slug(c.head, "", cultES), slug(c.head, "-", cultES)}
	case t < 8:
		s := pick(r, sur)
		c.head, c.industry = s+" e Hijos", pick(r, industries)
		c.labels = []string{slug(c.head, "", cultES), slug(c.head, "-", cultES)}
	case t < 9:
		s := pick(r, sur)
		c.head, c.industry = "Grupo "+s, pick(r, industries)
		c.labels = []string{slug(c.head, "", cultES), slug(c.head, "-", cultES)}
	default:
		s1, s2 := pick2(r, sur)
		c.head, c.industry = s1+" y "+s2+" Asociados", "Professional Services"
		c.labels = []string{slug(s1+" "+s2, "-", cultES), slug(c.head, "-", cultES)}
	}
}

// pick2 picks two different elements.
func pick2[T comparable](r *rand.Rand, xs []T) (T, T) {
	a := pick(r, xs)
	for {
		if b := pick(r, xs); b != a {
			return a, b
		}
	}
}
