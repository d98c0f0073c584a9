package mapping

import "github.com/leadcycle/leadcycle"

// Values that other systems export for the built-in choice fields, by stored
// choice; compared after NormalizeHeader. The choices themselves match without
// being listed ("Marketing Qualified" → "marketing_qualified").
var (
	consentValues = map[string][]string{
		leadcycle.ConsentGranted: {
			"opted in", "opt in", "subscribed", "consented", "consent given", "allowed", "accepted", "given",
			"concedido", "otorgado", "aceptado", "consentido", "outorgado", "aceite", "accordé", "donné",
			"erteilt", "gewährt", "concesso", "atorgat", "同意", "已同意", "允許", "允许",
		},
		leadcycle.ConsentDenied: {
			"opted out", "opt out", "unsubscribed", "refused", "revoked", "withdrawn", "declined",
			"denegado", "rechazado", "revocado", "negado", "recusado", "refusé", "retiré", "verweigert",
			"widerrufen", "negato", "revocato", "denegat", "拒絕", "拒绝", "不同意", "已拒絕",
		},
		leadcycle.ConsentUnknown: unknownValues,
	}
	unknownValues = []string{
		"not set", "unset", "desconocido", "descoñecido", "desconhecido", "inconnu", "unbekannt",
		"sconosciuto", "desconegut", "未知", "不明",
	}
	statusValues = map[string][]string{
		leadcycle.LeadOpen: {
			"marketing qualified lead", "mql", "working", "in progress", "attempted to contact", "connected",
			"open - not contacted", "working - contacted", "nurturing", "abierto", "abierta", "aberto", "aberta",
			"ouvert", "offen", "aperto", "obert", "開啟", "開放", "开放", "打开",
		},
		leadcycle.LeadQualified: {
			"converted", "closed - converted", "open deal", "sql", "sales qualified", "sales qualified lead",
			"cualificado", "calificado", "cualificada", "qualificado", "qualifié", "qualifiziert", "qualificato",
			"qualificat", "合格", "已合格",
		},
		leadcycle.LeadDisqualified: {
			"unqualified", "not qualified", "closed - not converted", "cancelled", "junk",
			"descalificado", "descualificado", "descartado", "desqualificado", "disqualifié", "disqualifiziert",
			"squalificato", "desqualificat", "不合格", "取消資格", "取消资格",
		},
	}
	reasonValues = map[string][]string{
		"new": {
			"open - not contacted", "not contacted", "nuevo", "nueva", "novo", "nova", "nouveau", "neu", "nuovo",
			"nou", "新", "新建", "新增",
		},
		"contacted": {
			"working - contacted", "attempted to contact", "in progress", "working", "contactado", "contatado",
			"contacté", "kontaktiert", "contattato", "contactat", "已聯絡", "已聯繫", "已联系",
		},
		"marketing_qualified": {"mql", "marketing qualified lead"},
		"qualified": {
			"sql", "converted", "closed - converted", "sales qualified", "sales qualified lead", "cualificado",
			"calificado", "qualificado", "qualifié", "qualifiziert", "qualificato", "qualificat", "合格", "已合格",
		},
		"lost": {"perdido", "perdida", "perdu", "verloren", "perso", "perdut", "遺失", "丢失"},
		"cannot_contact": {
			"can't contact", "unable to contact", "unreachable", "no se puede contactar", "non se pode contactar",
			"impossible à contacter", "nicht erreichbar", "non contattabile", "no es pot contactar",
			"無法聯絡", "无法联系",
		},
		"no_longer_interested": {
			"not interested", "no interest", "ya no está interesado", "xa non está interesado",
			"já não está interessado", "plus intéressé", "kein Interesse mehr", "non più interessato",
			"ja no està interessat", "不再感興趣", "不再感兴趣",
		},
		"canceled": {
			"cancelled", "cancelado", "cancelada", "annulé", "storniert", "annullato", "cancel·lat",
			"已取消", "取消",
		},
	}
	timeframeValues = map[string][]string{
		"immediate": {
			"immediately", "now", "asap", "inmediato", "inmediata", "inmediatamente", "imediato", "immédiat",
			"immédiatement", "sofort", "immediato", "immediata", "immediat", "立即", "馬上", "马上",
		},
		"this_quarter": {
			"este trimestre", "neste trimestre", "ce trimestre", "dieses Quartal", "questo trimestre",
			"aquest trimestre", "本季", "本季度",
		},
		"next_quarter": {
			"próximo trimestre", "seguinte trimestre", "trimestre prochain", "nächstes Quartal",
			"prossimo trimestre", "proper trimestre", "下一季", "下季", "下季度", "下个季度",
		},
		"this_year": {"este año", "este ano", "cette année", "dieses Jahr", "quest'anno", "aquest any", "今年", "本年"},
		"unknown":   unknownValues,
	}
	processValues = map[string][]string{
		"individual": {"individuel", "Einzelperson", "individuale", "個人", "个人"},
		"committee":  {"comité", "comitê", "comitato", "Ausschuss", "Gremium", "委員會", "委员会"},
		"unknown":    unknownValues,
	}
	needValues = map[string][]string{
		"good_to_have": {"nice to have"},
		"no_need":      {"not needed", "none", "no"},
	}
)

// choiceAliases maps each built-in choice field to its normalised aliases.
var choiceAliases = map[string]map[string]string{
	"consent.commercial_email": consentAliases(),
	"consent.tracking":         consentAliases(),
	"status":                   statusAliases(),
	"status_reason":            aliasMap(reasonValues),
	"purchase_timeframe":       aliasMap(timeframeValues),
	"purchase_process":         aliasMap(processValues),
	"need":                     aliasMap(needValues),
}

// aliasMap normalises a table of stored value → aliases.
func aliasMap(values map[string][]string) map[string]string {
	m := map[string]string{}
	for stored, aliases := range values {
		for _, a := range aliases {
			m[NormalizeHeader(a)] = stored
		}
	}
	return m
}

// consentAliases are the consent values plus every yes/no word: a
// spreadsheet column "Accepts Marketing: yes" is a granted consent.
func consentAliases() map[string]string {
	m := aliasMap(consentValues)
	for word, yes := range boolWords {
		if yes {
			m[word] = leadcycle.ConsentGranted
		} else {
			m[word] = leadcycle.ConsentDenied
		}
	}
	return m
}

// statusAliases are the status values plus every status reason, which names
// its status ("Lost" → disqualified).
func statusAliases() map[string]string {
	m := aliasMap(statusValues)
	for status, reasons := range leadcycle.LeadStatusReasons {
		for _, r := range reasons {
			m[NormalizeHeader(r)] = status
		}
	}
	return m
}
