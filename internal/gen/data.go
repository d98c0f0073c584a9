package gen

import (
	"slices"
	"strings"
	"unicode"
)

// Cultures decide names, job titles, lead topics and email styles.
const (
	cultES = iota // Spanish
	cultGL        // Galician
	cultPT        // Portuguese
	cultEN        // English
	cultZH        // Traditional Chinese (Taiwan)
	cultFR        // French
	cultDE        // German
	numCultures
)

// names of one culture. Romanized, when set, holds the ASCII spelling used in
// email addresses, index by index (for scripts other than Latin).
type namePool struct {
	male, female, surnames                []string
	maleRoman, femaleRoman, surnamesRoman []string
	twoSurnames                           float64 // share of people with two surnames
}

var names = [numCultures]namePool{
	cultES: {
		male:        []string{"Javier", "Alejandro", "Pablo", "Sergio", "David", "Carlos", "Manuel", "Daniel", "Jorge", "José Luis", "Álvaro", "Íñigo", "Ramón", "Antonio", "Francisco", "Miguel Ángel", "Raúl", "Adrián", "Rubén", "Hugo"},
		female:      []string{"María", "Lucía", "Carmen", "Laura", "Marta", "Elena", "Ana", "Isabel", "Sofía", "Paula", "Raquel", "María José", "Nerea", "Begoña", "Pilar", "Cristina", "Rocío", "Inmaculada", "Sara", "Beatriz"},
		surnames:    []string{"García", "Martínez", "López", "Sánchez", "Pérez", "Gómez", "Martín", "Jiménez", "Ruiz", "Hernández", "Díaz", "Moreno", "Muñoz", "Álvarez", "Romero", "Alonso", "Gutiérrez", "Navarro", "Torres", "Domínguez", "Ramos", "Gil", "Serrano", "Ortega", "Rubio", "Núñez", "Castillo", "Ibáñez"},
		twoSurnames: 0.55,
	},
	cultGL: {
		male:        []string{"Xoán", "Brais", "Iago", "Breixo", "Anxo", "Martiño", "Roi", "Xabier", "Lois", "Uxío", "Xurxo", "Antón", "Xosé", "Fiz", "Pedro", "Manuel", "Diego", "Telmo", "Darío", "Mateo"},
		female:      []string{"Uxía", "Antía", "Noa", "Sabela", "Iria", "Xiana", "Aldara", "Icía", "Candela", "Olalla", "Carme", "Rosalía", "Comba", "Lúa", "Alba", "Mariña", "Eva", "Xulia", "Tareixa", "Iolanda"},
		surnames:    []string{"Castro", "Otero", "Varela", "Lorenzo", "Souto", "Piñeiro", "Fernández", "Rodríguez", "Vázquez", "Pereira", "Rey", "Seoane", "Outeiro", "Carballo", "Fraga", "Vilar", "Barreiro", "Louzao", "Regueiro", "Novoa", "Mosquera", "Cid", "Lamas", "Figueiras", "Paz", "Doval", "Iglesias", "Rivas", "Abelleira", "Quintela"},
		twoSurnames: 0.6,
	},
	cultPT: {
		male:     []string{"João", "Pedro", "Tiago", "Rui", "Gonçalo", "Francisco", "Duarte", "Miguel", "Luís", "Tomás", "Afonso", "Diogo", "Nuno", "Ricardo", "André"},
		female:   []string{"Maria", "Ana", "Inês", "Beatriz", "Mariana", "Catarina", "Leonor", "Joana", "Sofia", "Rita", "Carolina", "Matilde", "Filipa", "Teresa", "Marta"},
		surnames: []string{"Silva", "Santos", "Ferreira", "Pereira", "Oliveira", "Costa", "Rodrigues", "Martins", "Sousa", "Fernandes", "Gonçalves", "Gomes", "Lopes", "Marques", "Alves", "Almeida", "Ribeiro", "Pinto", "Carvalho", "Teixeira", "Moreira", "Correia", "Mendes", "Nunes", "Magalhães", "Araújo"},
		// Portuguese names usually carry two surnames, but CRMs tend to keep one.
		twoSurnames: 0.3,
	},
	cultEN: {
		male:     []string{"James", "Liam", "Noah", "Michael", "Daniel", "Matthew", "David", "Chris", "Ryan", "Oliver", "Harry", "George", "Thomas", "Jack", "William", "Ethan", "Samuel", "Benjamin"},
		female:   []string{"Emma", "Olivia", "Ava", "Sophia", "Sarah", "Emily", "Jessica", "Ashley", "Jennifer", "Hannah", "Megan", "Charlotte", "Amelia", "Grace", "Chloe", "Lauren", "Rachel", "Zoe"},
		surnames: []string{"Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson", "Taylor", "Thomas", "Moore", "Jackson", "White", "Harris", "Clark", "Lewis", "Walker", "Hall", "Young", "O'Brien", "O'Connor", "Evans", "Robinson", "Wright", "Hughes"},
	},
	cultZH: {
		male:          []string{"志明", "家豪", "俊傑", "建宏", "冠宇", "宗翰", "承恩", "柏翰", "信宏", "彥廷", "承翰", "志偉", "冠廷", "俊宏", "家瑋"},
		maleRoman:     []string{"chihming", "chiahao", "chunchieh", "chienhung", "kuanyu", "tsunghan", "chengen", "pohan", "hsinhung", "yenting", "chenghan", "chihwei", "kuanting", "chunhung", "chiawei"},
		female:        []string{"怡君", "雅婷", "淑芬", "美玲", "佳穎", "詩涵", "雅雯", "欣怡", "惠雯", "筱涵", "宜蓁", "郁婷", "佩珊", "思妤", "靜宜"},
		femaleRoman:   []string{"yichun", "yating", "shufen", "meiling", "chiaying", "shihhan", "yawen", "hsinyi", "huiwen", "hsiaohan", "yichen", "yuting", "peishan", "ssuyu", "chingyi"},
		surnames:      []string{"陳", "林", "黃", "張", "李", "王", "吳", "劉", "蔡", "楊", "許", "鄭", "謝", "郭", "洪", "曾", "邱", "廖", "賴", "周"},
		surnamesRoman: []string{"chen", "lin", "huang", "chang", "lee", "wang", "wu", "liu", "tsai", "yang", "hsu", "cheng", "hsieh", "kuo", "hung", "tseng", "chiu", "liao", "lai", "chou"},
	},
	cultFR: {
		male:     []string{"Hugo", "Louis", "Gabriel", "Jules", "Théo", "Antoine", "Nicolas", "Julien", "Mathieu", "Pierre", "Étienne", "Lucas"},
		female:   []string{"Camille", "Léa", "Manon", "Chloé", "Élodie", "Mathilde", "Céline", "Aurélie", "Juliette", "Inès", "Claire", "Sophie"},
		surnames: []string{"Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Fournier", "Girard", "Bonnet", "Rousseau"},
	},
	cultDE: {
		male:     []string{"Lukas", "Leon", "Jonas", "Felix", "Maximilian", "Paul", "Jürgen", "Stefan", "Tobias", "Florian", "Matthias", "Jan"},
		female:   []string{"Anna", "Lena", "Leonie", "Marie", "Julia", "Sophie", "Katrin", "Sabine", "Jana", "Laura", "Franziska", "Lea"},
		surnames: []string{"Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann", "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz", "Zimmermann", "Krüger", "Weiß"},
	},
}

// Job titles per culture, as {male, female} forms (equal when the title has
// one form).
var jobTitles = [numCultures][][2]string{
	cultES: {{"Director de Marketing", "Directora de Marketing"}, {"Director Comercial", "Directora Comercial"}, {"Responsable de Compras", "Responsable de Compras"},
		{"Gerente", "Gerente"}, {"CEO", "CEO"}, {"Técnico de Marketing Digital", "Técnica de Marketing Digital"}, {"Jefe de Ventas", "Jefa de Ventas"},
		{"Responsable de Administración", "Responsable de Administración"}, {"Director Financiero", "Directora Financiera"}, {"Ingeniero de Producto", "Ingeniera de Producto"},
		{"Coordinador de Eventos", "Coordinadora de Eventos"}, {"Responsable de TI", "Responsable de TI"}, {"Director General", "Directora General"}, {"Comercial", "Comercial"}},
	cultGL: {{"Xerente", "Xerente"}, {"Xefe de Vendas", "Xefa de Vendas"}, {"Responsable de Compras", "Responsable de Compras"}, {"Director Xeral", "Directora Xeral"},
		{"Técnico de Márketing", "Técnica de Márketing"}, {"Director de Márketing", "Directora de Márketing"}, {"Responsable de Calidade", "Responsable de Calidade"},
		{"Director Comercial", "Directora Comercial"}, {"Responsable de Administración", "Responsable de Administración"}, {"Enxeñeiro de Produción", "Enxeñeira de Produción"}},
	cultPT: {{"Diretor de Marketing", "Diretora de Marketing"}, {"Gestor Comercial", "Gestora Comercial"}, {"Responsável de Compras", "Responsável de Compras"},
		{"Diretor Geral", "Diretora Geral"}, {"Engenheiro de Produto", "Engenheira de Produto"}, {"Diretor Financeiro", "Diretora Financeira"},
		{"Técnico de Marketing Digital", "Técnica de Marketing Digital"}, {"Administrador", "Administradora"}},
	cultEN: {{"Marketing Manager", ""}, {"VP of Sales", ""}, {"Head of Procurement", ""}, {"CEO", ""}, {"CFO", ""}, {"Digital Marketing Specialist", ""},
		{"Operations Director", ""}, {"IT Manager", ""}, {"Product Manager", ""}, {"Sales Representative", ""}, {"Founder", ""}, {"Account Executive", ""},
		{"Marketing Operations Lead", ""}, {"Chief Marketing Officer", ""}},
	cultZH: {{"行銷經理", ""}, {"業務經理", ""}, {"採購專員", ""}, {"總經理", ""}, {"財務長", ""}, {"資訊部主管", ""}, {"產品經理", ""},
		{"工程師", ""}, {"業務代表", ""}, {"執行長", ""}, {"行銷專員", ""}, {"專案經理", ""}},
	cultFR: {{"Directeur Marketing", "Directrice Marketing"}, {"Responsable des Achats", "Responsable des Achats"}, {"Directeur Commercial", "Directrice Commerciale"},
		{"PDG", "PDG"}, {"Chef de Produit", "Cheffe de Produit"}, {"Responsable Informatique", "Responsable Informatique"}, {"Chargé de Marketing", "Chargée de Marketing"}},
	cultDE: {{"Marketingleiter", "Marketingleiterin"}, {"Vertriebsleiter", "Vertriebsleiterin"}, {"Einkaufsleiter", "Einkaufsleiterin"}, {"Geschäftsführer", "Geschäftsführerin"},
		{"Produktmanager", "Produktmanagerin"}, {"IT-Leiter", "IT-Leiterin"}, {"Key Account Manager", "Key Account Managerin"}},
}

// Lead topics per culture.
var leadTopics = [numCultures][]string{
	cultES: {"Solicitud de demo", "Consulta de precios", "Interés en automatización de marketing", "Descarga de ebook: guía de lead scoring", "Seguimiento de webinar", "Petición de presupuesto", "Integración con el CRM", "Prueba gratuita del plan Empresa"},
	cultGL: {"Solicitude de demostración", "Consulta de prezos", "Interese en automatización de márketing", "Petición de orzamento", "Seguimento do webinar", "Descarga do ebook: lead scoring"},
	cultPT: {"Pedido de demonstração", "Pedido de orçamento", "Interesse em automação de marketing", "Download do ebook: lead scoring", "Seguimento do webinar", "Integração com o CRM"},
	cultEN: {"Demo request", "Pricing inquiry", "Interested in marketing automation", "Ebook download: lead scoring guide", "Webinar follow-up", "Request for quote", "CRM integration question", "Enterprise plan trial"},
	cultZH: {"產品展示申請", "報價諮詢", "行銷自動化方案洽詢", "電子書下載：潛在客戶評分指南", "研討會後續聯繫", "CRM 整合詢問", "企業方案試用"},
	cultFR: {"Demande de démo", "Demande de devis", "Intérêt pour l'automatisation marketing", "Suivi du webinaire", "Téléchargement du livre blanc"},
	cultDE: {"Demo-Anfrage", "Preisanfrage", "Interesse an Marketing-Automatisierung", "Webinar-Nachfassung", "Whitepaper-Download"},
}

// Lead descriptions per culture (most leads have none).
var leadDescriptions = [numCultures][]string{
	cultES: {"Quiere ver la integración con su ERP.", "Pide precios para 50 usuarios.", "Llegó desde la campaña de LinkedIn."},
	cultGL: {"Quere ver a integración co seu ERP.", "Pide prezos para 20 usuarios."},
	cultPT: {"Quer ver a integração com o ERP.", "Pede preços para 30 utilizadores."},
	cultEN: {"Wants to see the ERP integration.", "Asked for pricing for 50 seats.", "Came from the LinkedIn campaign."},
	cultZH: {"希望了解與 ERP 的整合。", "詢問 50 位使用者的報價。"},
	cultFR: {"Souhaite voir l'intégration ERP."},
	cultDE: {"Möchte die ERP-Integration sehen."},
}

// Countries of accounts and contacts, with weights.
type country struct {
	code     string
	weight   float64
	dial     string   // E.164 country code
	mobile   []string // national mobile prefixes
	digits   int      // national significant number length
	freeMail []string
	cities   []string
}

var countries = []country{
	{code: "ES", weight: 34, dial: "34", mobile: []string{"6", "7", "9"}, digits: 9, freeMail: []string{"gmail.com", "hotmail.es", "outlook.es", "yahoo.es", "gmail.com"},
		cities: []string{"Madrid", "Barcelona", "Valencia", "Sevilla", "Zaragoza", "Bilbao", "Málaga", "Murcia", "Valladolid", "Alicante", "Córdoba", "Pamplona"}},
	{code: "PT", weight: 10, dial: "351", mobile: []string{"91", "92", "93", "96", "2"}, digits: 9, freeMail: []string{"gmail.com", "sapo.pt", "hotmail.com", "outlook.pt"},
		cities: []string{"Lisboa", "Porto", "Braga", "Coimbra", "Aveiro", "Faro", "Setúbal", "Guimarães"}},
	{code: "TW", weight: 20, dial: "886", mobile: []string{"9", "2", "4"}, digits: 9, freeMail: []string{"gmail.com", "yahoo.com.tw", "hotmail.com", "msa.hinet.net"},
		cities: []string{"Taipei", "Hsinchu", "Taichung", "Kaohsiung", "Tainan", "Taoyuan"}},
	{code: "US", weight: 12, dial: "1", mobile: []string{"2", "3", "4", "5", "6", "7", "8", "9"}, digits: 10, freeMail: []string{"gmail.com", "yahoo.com", "outlook.com", "icloud.com"},
		cities: []string{"Boston", "Austin", "Denver", "Chicago", "Seattle", "Atlanta", "Portland", "Phoenix"}},
	{code: "GB", weight: 7, dial: "44", mobile: []string{"7", "20", "161", "131"}, digits: 10, freeMail: []string{"gmail.com", "hotmail.co.uk", "outlook.com", "btinternet.com"},
		cities: []string{"London", "Manchester", "Leeds", "Bristol", "Glasgow", "Birmingham"}},
	{code: "FR", weight: 6, dial: "33", mobile: []string{"6", "7", "1", "4"}, digits: 9, freeMail: []string{"gmail.com", "orange.fr", "free.fr", "hotmail.fr"},
		cities: []string{"Paris", "Lyon", "Nantes", "Bordeaux", "Lille", "Toulouse"}},
	{code: "DE", weight: 6, dial: "49", mobile: []string{"151", "160", "170", "176", "30", "89"}, digits: 11, freeMail: []string{"gmail.com", "gmx.de", "web.de", "t-online.de"},
		cities: []string{"Berlin", "Hamburg", "München", "Köln", "Stuttgart", "Leipzig"}},
	{code: "MX", weight: 5, dial: "52", mobile: []string{"55", "33", "81", "222"}, digits: 10, freeMail: []string{"gmail.com", "hotmail.com", "outlook.com", "yahoo.com.mx"},
		cities: []string{"Monterrey", "Guadalajara", "Puebla", "Querétaro", "Mérida", "León"}},
}

// Country indexes used by the company templates.
const (
	ctES = iota
	ctPT
	ctTW
	ctUS
	ctGB
	ctFR
	ctDE
	ctMX
)

// term is a word of a company name with the industry it implies, if any.
type term struct {
	text, industry string
}

var industries = []string{"Manufacturing", "Food & Beverage", "Software", "Logistics", "Retail", "Financial Services", "Healthcare",
	"Construction", "Energy", "Education", "Professional Services", "Electronics", "Semiconductors", "Automotive", "Textiles", "Wholesale"}

var (
	esPrefixes = []term{{"Conservas", "Food & Beverage"}, {"Construcciones", "Construction"}, {"Transportes", "Logistics"}, {"Talleres", "Automotive"},
		{"Distribuciones", "Wholesale"}, {"Bodegas", "Food & Beverage"}, {"Industrias", "Manufacturing"}, {"Tecnologías", "Software"},
		{"Ingeniería", "Professional Services"}, {"Consultores", "Professional Services"}, {"Aceites", "Food & Beverage"}, {"Energías", "Energy"},
		{"Clínica", "Healthcare"}, {"Seguros", "Financial Services"}, {"Muebles", "Retail"}, {"Cerámicas", "Manufacturing"}, {"Academia", "Education"}}
	esPlaces = []string{"Ibérica", "Mediterráneo", "Castellana", "Levante", "Cantábrica", "Andaluza", "Sierra Nevada", "Guadalquivir", "Montserrat",
		"Ebro", "Duero", "Tajo", "La Mancha", "Navarra", "Aragonesa", "Costa Brava", "Pirineos", "Moncayo"}
	glPrefixes = []term{{"Conservas", "Food & Beverage"}, {"Mariscos", "Food & Beverage"}, {"Granxa", "Food & Beverage"}, {"Adegas", "Food & Beverage"},
		{"Transportes", "Logistics"}, {"Serradoiro", "Manufacturing"}, {"Estaleiros", "Manufacturing"}, {"Talleres", "Automotive"},
		{"Lácteos", "Food & Beverage"}, {"Queixos", "Food & Beverage"}, {"Construcións", "Construction"}, {"Software", "Software"}, {"Enerxías", "Energy"}}
	glPlaces = []string{"Rías Baixas", "Costa da Morte", "Miño", "Ribeira Sacra", "Compostela", "Ourense", "Atlántico", "Arousa", "A Mariña",
		"Ulla", "Os Ancares", "Fisterra", "O Morrazo", "Bergantiños", "Cíes", "Sil", "Deza", "Ortegal"}
	ptPrefixes = []term{{"Conservas", "Food & Beverage"}, {"Vinhos", "Food & Beverage"}, {"Construções", "Construction"}, {"Têxteis", "Textiles"},
		{"Transportes", "Logistics"}, {"Tecnologias", "Software"}, {"Cortiças", "Manufacturing"}, {"Moldes", "Manufacturing"}, {"Calçado", "Retail"},
		{"Azulejos", "Manufacturing"}, {"Seguros", "Financial Services"}}
	ptPlaces = []string{"do Douro", "Lusitana", "Atlântico", "do Minho", "Alentejana", "do Tejo", "Algarvia", "da Beira", "do Ribatejo", "do Dão", "Madeirense"}
	// Taiwanese companies: an optional region, a two-character brand and a
	// kind of business; term.industry holds the romanization here.
	twRegions = []term{{"台灣", "taiwan"}, {"台北", "taipei"}, {"新竹", "hsinchu"}, {"台中", "taichung"}, {"台南", "tainan"},
		{"高雄", "kaohsiung"}, {"桃園", "taoyuan"}, {"彰化", "changhua"}}
	// Brands are two characters: one of twBrandFirst, one of twBrandSecond.
	twBrandFirst = []term{{"宏", "hung"}, {"華", "hua"}, {"永", "yung"}, {"聯", "lien"}, {"金", "chin"}, {"昇", "sheng"}, {"立", "li"},
		{"東", "tung"}, {"長", "chang"}, {"大", "ta"}, {"信", "hsin"}, {"泰", "tai"}, {"達", "ta"}, {"益", "yi"}, {"全", "chuan"},
		{"鴻", "hung"}, {"振", "chen"}, {"建", "chien"}, {"德", "te"}, {"富", "fu"}, {"協", "hsieh"}, {"嘉", "chia"}, {"百", "pai"},
		{"恆", "heng"}, {"美", "mei"}, {"晶", "ching"}, {"友", "yu"}, {"元", "yuan"}, {"正", "cheng"}, {"國", "kuo"}}
	twBrandSecond = []term{{"遠", "yuan"}, {"新", "hsin"}, {"豐", "feng"}, {"合", "ho"}, {"泰", "tai"}, {"陽", "yang"}, {"昌", "chang"},
		{"興", "hsing"}, {"安", "an"}, {"義", "yi"}, {"達", "ta"}, {"信", "hsin"}, {"強", "chiang"}, {"和", "ho"}, {"全", "chuan"},
		{"隆", "lung"}, {"華", "hua"}, {"光", "kuang"}, {"成", "cheng"}, {"益", "yi"}}
	twKinds = []term{{"精密工業", "Manufacturing"}, {"光電", "Electronics"}, {"電子", "Electronics"}, {"半導體", "Semiconductors"},
		{"科技", "Software"}, {"機械", "Manufacturing"}, {"食品", "Food & Beverage"}, {"物流", "Logistics"}, {"生技", "Healthcare"}, {"紡織", "Textiles"},
		{"塑膠", "Manufacturing"}, {"化工", "Manufacturing"}, {"能源", "Energy"}, {"建設", "Construction"}, {"貿易", "Wholesale"}, {"資訊", "Software"}}
	twKindsRoman = []string{"precision", "opto", "electronics", "semi", "tech", "machinery", "foods", "logistics", "biotech", "textile",
		"plastics", "chemical", "energy", "construction", "trading", "infotech"}
	enCores = []string{"Summit", "Northwind", "Blue Ridge", "Harbor", "Redwood", "Granite", "Pioneer", "Lakeside", "Evergreen", "Ironbridge",
		"Silver Creek", "Cascade", "Prairie", "Bayview", "Liberty", "Keystone", "Aspen", "Clearwater"}
	gbCores = []string{"Thames", "Pennine", "Highland", "Kingsbridge", "Ashford", "Wessex", "Albion", "Cotswold", "Mersey", "Caledonian", "Severn", "Windsor"}
	enKinds = []term{{"Analytics", "Software"}, {"Logistics", "Logistics"}, {"Manufacturing", "Manufacturing"}, {"Foods", "Food & Beverage"},
		{"Software", "Software"}, {"Health", "Healthcare"}, {"Capital", "Financial Services"}, {"Systems", "Software"}, {"Energy", "Energy"},
		{"Builders", "Construction"}, {"Labs", "Healthcare"}, {"Retail", "Retail"}, {"Consulting", "Professional Services"}, {"Learning", "Education"}}
	frKinds = []term{{"Transports", "Logistics"}, {"Conserveries", "Food & Beverage"}, {"Bâtiment", "Construction"}, {"Logiciels", "Software"},
		{"Vins", "Food & Beverage"}, {"Industries", "Manufacturing"}, {"Laboratoires", "Healthcare"}, {"Énergies", "Energy"}, {"Conseil", "Professional Services"}}
	frPlaces = []string{"Atlantique", "de Bretagne", "Provençale", "du Rhône", "Lorraine", "d'Aquitaine", "Normande", "Alpine", "de Loire", "Occitane"}
	deKinds  = []term{{"Maschinenbau", "Manufacturing"}, {"Logistik", "Logistics"}, {"Software", "Software"}, {"Lebensmittel", "Food & Beverage"},
		{"Energie", "Energy"}, {"Bau", "Construction"}, {"Medizintechnik", "Healthcare"}, {"Automobil", "Automotive"}, {"Elektronik", "Electronics"}}
	dePlaces = []string{"Rhein", "Bayern", "Elbe", "Schwarzwald", "Nordsee", "Harz", "Allgäu", "Main", "Ruhr", "Spree", "Weser", "Bodensee"}
	glCities = []string{"Vigo", "A Coruña", "Santiago", "Ourense", "Lugo", "Pontevedra", "Ferrol", "Vilagarcía", "Ribeira", "Monforte"}
	mxPlaces = []string{"Azteca", "del Bajío", "Jalisciense", "Norteña", "Yucateca", "Sierra Madre", "del Pacífico", "Regiomontana", "Oaxaqueña", "Anáhuac"}
)

// Marketing content referenced by leads and interactions.
var (
	forms = []struct{ name, path string }{
		{"Demo request", "/demo"}, {"Contact us", "/contact"}, {"Newsletter", "/newsletter"}, {"Ebook: lead scoring", "/resources/ebook-lead-scoring"},
		{"Webinar registration", "/webinars"}, {"Quote request", "/pricing/quote"}, {"Free trial", "/trial"},
		{"Solicitud de demo", "/es/demo"}, {"Solicitude de demostración", "/gl/demo"}, {"產品展示申請", "/zh-tw/demo"},
	}
	linkedInForms = 8 // LinkedIn lead gen forms get ids 101…108
	// localForm is the demo form in the culture's language, if any (an id).
	localForm = [numCultures]int{cultES: 8, cultGL: 9, cultZH: 10}
	// pages of the marketer's site: global ones, then each language's.
	globalPages = []string{"/", "/pricing", "/product", "/product/automation", "/product/scoring", "/product/journeys", "/customers",
		"/blog/lead-scoring-basics", "/blog/gdpr-consent", "/blog/email-deliverability", "/blog/b2b-journeys", "/integrations", "/about",
		"/docs/api", "/careers"}
	localPages = [numCultures][]string{
		cultES: {"/es/", "/es/precios", "/es/blog/automatizacion", "/es/clientes"},
		cultGL: {"/gl/", "/gl/prezos", "/gl/blog/automatizacion"},
		cultPT: {"/pt/", "/pt/precos", "/pt/blog/automacao"},
		cultZH: {"/zh-tw/", "/zh-tw/pricing", "/zh-tw/blog/marketing-automation"},
		cultFR: {"/fr/", "/fr/tarifs"},
		cultDE: {"/de/", "/de/preise"},
	}
	pages, pageRange = func() ([]string, [numCultures][2]int16) {
		all := slices.Clone(globalPages)
		var rng [numCultures][2]int16
		for c, local := range localPages {
			rng[c] = [2]int16{int16(len(all)), int16(len(all) + len(local))}
			all = append(all, local...)
		}
		return all, rng
	}()
	referrers = []string{"https://www.google.com/", "https://www.google.es/", "https://www.bing.com/", "https://www.linkedin.com/",
		"https://duckduckgo.com/", "https://www.google.com.tw/", "https://t.co/"}
	eventNames = []string{"Webinar: Lead scoring 101", "Jornada de automatización en Vigo", "Taipei Marketing Tech Meetup", "Webinar: GDPR y consentimiento",
		"Feira de Marketing Digital Porto", "Customer Day Madrid", "Webinar: B2B journeys", "SaaS Growth Summit Boston", "Xuntanza Martech Compostela",
		"Webinar: 行銷自動化入門", "Roadshow Barcelona", "Product update live"}
	campaignNames = []string{"Newsletter", "Demo Push", "Webinar Series", "Ebook Launch", "Event Follow-up", "Retargeting", "Partner Co-marketing"}
)

// siteURL is the marketer's own web site, on a reserved domain.
const siteURL = "https://www.example.com"

// asciiFold spells accented Latin letters in ASCII and drops apostrophes, for
// domains and email local parts.
var asciiFold = strings.NewReplacer(
	"á", "a", "à", "a", "â", "a", "ã", "a", "ä", "a", "Á", "a", "Â", "a", "Ã", "a",
	"é", "e", "è", "e", "ê", "e", "ë", "e", "É", "e", "È", "e",
	"í", "i", "î", "i", "ï", "i", "Í", "i",
	"ó", "o", "ô", "o", "õ", "o", "ö", "o", "Ó", "o",
	"ú", "u", "ü", "u", "û", "u", "Ú", "u",
	"ñ", "n", "Ñ", "n", "ç", "c", "Ç", "c", "ß", "ss", "'", "",
)

// germanFold spells umlauts the German way (Müller → mueller).
var germanFold = strings.NewReplacer("ä", "ae", "ö", "oe", "ü", "ue", "Ä", "ae", "Ö", "oe", "Ü", "ue", "ß", "ss")

// slug turns a name into a domain label: ASCII letters and digits joined by
// sep.
func slug(s string, sep string, culture int) string {
	if culture == cultDE {
		s = germanFold.Replace(s)
	}
	s = strings.ToLower(asciiFold.Replace(s))
	var b strings.Builder
	pending := false
	for _, r := range s {
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			if pending && b.Len() > 0 {
				b.WriteString(sep)
			}
			pending = false
			b.WriteRune(r)
			continue
		}
		pending = true
	}
	return b.String()
}

// stripParticle drops a leading article or preposition ("do Douro" → "Douro").
func stripParticle(s string) string {
	for _, p := range []string{"do ", "da ", "de ", "del ", "la ", "el ", "d'", "du "} {
		if rest, ok := strings.CutPrefix(s, p); ok {
			return rest
		}
	}
	return s
}
