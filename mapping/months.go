package mapping

import "time"

// monthNames maps folded month names and abbreviations (see foldWords) in
// English, Spanish, Galician, Portuguese, French, German, Italian and
// Catalan to months. Shared spellings ("mar", "set", "ago") mean the same
// month in every language that has them.
var monthNames = map[string]time.Month{
	// January
	"january": 1, "jan": 1, "enero": 1, "ene": 1, "xaneiro": 1, "xan": 1, "janeiro": 1, "janvier": 1,
	"janv": 1, "januar": 1, "janner": 1, "gennaio": 1, "gen": 1, "gener": 1,
	// February
	"february": 2, "feb": 2, "febrero": 2, "febreiro": 2, "fevereiro": 2, "fev": 2, "fevrier": 2,
	"fevr": 2, "februar": 2, "febbraio": 2, "febrer": 2, "febr": 2,
	// March
	"march": 3, "mar": 3, "marzo": 3, "marco": 3, "mars": 3, "marz": 3, "marc": 3,
	// April
	"april": 4, "apr": 4, "abril": 4, "abr": 4, "avril": 4, "avr": 4, "aprile": 4,
	// May
	"may": 5, "mayo": 5, "maio": 5, "mai": 5, "maggio": 5, "mag": 5, "maig": 5,
	// June
	"june": 6, "jun": 6, "junio": 6, "xuno": 6, "xun": 6, "junho": 6, "juin": 6, "juni": 6,
	"giugno": 6, "giu": 6, "juny": 6,
	// July
	"july": 7, "jul": 7, "julio": 7, "xullo": 7, "xul": 7, "julho": 7, "juillet": 7, "juil": 7,
	"juli": 7, "luglio": 7, "lug": 7, "juliol": 7,
	// August
	"august": 8, "aug": 8, "agosto": 8, "ago": 8, "aout": 8, "agost": 8, "ag": 8,
	// September
	"september": 9, "sep": 9, "sept": 9, "septiembre": 9, "setiembre": 9, "setembro": 9, "set": 9,
	"septembre": 9, "settembre": 9, "setembre": 9,
	// October
	"october": 10, "oct": 10, "octubre": 10, "outubro": 10, "out": 10, "octobre": 10, "oktober": 10,
	"okt": 10, "ottobre": 10, "ott": 10,
	// November
	"november": 11, "nov": 11, "noviembre": 11, "novembro": 11, "novembre": 11,
	// December
	"december": 12, "dec": 12, "diciembre": 12, "dic": 12, "decembro": 12, "dezembro": 12, "dez": 12,
	"decembre": 12, "dezember": 12, "dicembre": 12, "desembre": 12, "des": 12,
}

// dateFillers are the words around day, month and year that carry no date:
// "2 de enero del 2006", "the 2nd of January", "Monday, 2 January".
var dateFillers = map[string]bool{
	"de": true, "del": true, "d": true, "of": true, "the": true, "le": true, "el": true, "o": true,
	"mon": true, "monday": true, "tue": true, "tues": true, "tuesday": true, "wed": true, "wednesday": true,
	"thu": true, "thur": true, "thurs": true, "thursday": true, "fri": true, "friday": true,
	"sat": true, "saturday": true, "sun": true, "sunday": true,
}
