package mapping

import (
	"slices"
	"strings"
	"testing"

	"github.com/leadcycle/leadcycle"
)

// headerRow is one header row of a real or translated export and the field
// each column must get ("" = unmapped).
type headerRow struct {
	name    string
	entity  string
	headers []string
	want    []string
}

func checkRows(t *testing.T, rows []headerRow, custom []leadcycle.FieldDef) {
	t.Helper()
	for _, tc := range rows {
		t.Run(tc.name, func(t *testing.T) {
			if len(tc.headers) != len(tc.want) {
				t.Fatalf("bad test: %d headers, %d wants", len(tc.headers), len(tc.want))
			}
			m, err := Auto(tc.entity, tc.headers, custom)
			if err != nil {
				t.Fatal(err)
			}
			for i, c := range m.Columns {
				if c.Index != i || c.Header != tc.headers[i] {
					t.Errorf("column %d = %+v", i, c)
				}
				if c.Field != tc.want[i] {
					t.Errorf("%q → %q, want %q", c.Header, c.Field, tc.want[i])
				}
				if wantHow := map[bool]string{true: HowAuto, false: ""}[tc.want[i] != ""]; c.How != wantHow {
					t.Errorf("%q: How = %q, want %q", c.Header, c.How, wantHow)
				}
			}
		})
	}
}

func TestAutoExports(t *testing.T) {
	checkRows(t, []headerRow{
		{"hubspot contacts", Contacts,
			[]string{"Record ID", "First Name", "Last Name", "Email", "Phone Number", "Mobile Phone Number", "Job Title",
				"Company Name", "Website URL", "Contact owner", "Lead Status", "Lifecycle Stage", "Create Date", "Country/Region", "Associated Company"},
			[]string{"", "first_name", "last_name", "email", "phone", "mobile_phone", "job_title",
				"account", "account_domain", "", "", "", "", "", ""}},
		{"hubspot companies", Accounts,
			[]string{"Record ID", "Company name", "Company Domain Name", "Website URL", "Industry", "Number of Employees",
				"Annual Revenue", "Country/Region", "Company owner", "Phone Number", "City", "Create Date"},
			[]string{"", "name", "domain", "website", "industry", "employees", "revenue", "country", "", "", "", ""}},
		{"salesforce contact report", Contacts,
			[]string{"Contact ID", "First Name", "Last Name", "Title", "Account Name", "Email", "Phone", "Mobile",
				"Mailing Country", "Contact Owner", "Lead Source"},
			[]string{"", "first_name", "last_name", "job_title", "account", "email", "phone", "mobile_phone", "", "", ""}},
		{"salesforce contact api names", Contacts,
			[]string{"Id", "FirstName", "LastName", "Title", "AccountId", "Email", "Phone", "MobilePhone", "OwnerId",
				"LeadSource", "HasOptedOutOfEmail"},
			[]string{"", "first_name", "last_name", "job_title", "", "email", "phone", "mobile_phone", "", "", ""}},
		{"salesforce lead api names", Leads,
			[]string{"Id", "FirstName", "LastName", "Title", "Company", "Email", "Phone", "MobilePhone", "LeadSource",
				"Status", "Description", "Industry", "NumberOfEmployees", "AnnualRevenue", "Website", "Country", "OwnerId", "Rating"},
			[]string{"", "first_name", "last_name", "job_title", "account", "email", "phone", "", "",
				"status", "description", "", "", "", "", "", "", ""}},
		{"salesforce account report", Accounts,
			[]string{"Account ID", "Account Name", "Website", "Industry", "Employees", "Annual Revenue", "Billing Country",
				"Account Owner", "Type", "Phone", "Account Site"},
			[]string{"", "name", "website", "industry", "employees", "revenue", "country", "", "", "", ""}},
		{"salesforce account api names", Accounts,
			[]string{"Id", "Name", "Site", "Industry", "NumberOfEmployees", "AnnualRevenue", "BillingCountry", "OwnerId"},
			[]string{"", "name", "", "industry", "employees", "revenue", "country", ""}},
		{"dynamics lead template", Leads,
			[]string{"Topic", "First Name", "Last Name", "Job Title", "Business Phone", "Mobile Phone", "Email", "Company Name",
				"Website", "Street 1", "City", "ZIP/Postal Code", "Country/Region", "Description", "Lead Source", "Rating",
				"Status Reason", "Purchase Timeframe", "Purchase Process", "Budget Amount", "Need",
				"Parent Account for lead", "Parent Contact for lead", "Source Campaign"},
			[]string{"topic", "first_name", "last_name", "job_title", "phone", "", "email", "account",
				"", "", "", "", "", "description", "", "",
				"status_reason", "purchase_timeframe", "purchase_process", "budget_amount", "need",
				"", "full_name", "campaign"}},
		{"dynamics lead export", Leads,
			[]string{"(Do Not Modify) Lead", "(Do Not Modify) Row Checksum", "(Do Not Modify) Modified On", "Topic", "Name",
				"Status", "Parent Account for lead", "Budget Amount (Base)", "Created On"},
			[]string{"", "", "", "topic", "full_name", "status", "account", "budget_amount", ""}},
		{"dynamics contact template", Contacts,
			[]string{"First Name", "Last Name", "Job Title", "Company Name", "Email", "Business Phone", "Mobile Phone",
				"Street 1", "City", "Country/Region", "(Do Not Modify) Contact"},
			[]string{"first_name", "last_name", "job_title", "account", "email", "phone", "mobile_phone", "", "", "", ""}},
		{"dynamics account template", Accounts,
			[]string{"Account Name", "Main Phone", "Website", "Industry", "Number of Employees", "Annual Revenue",
				"Address 1: City", "Address 1: Country/Region", "Primary Contact", "Owner", "Description"},
			[]string{"name", "", "website", "industry", "employees", "revenue", "", "country", "", "", ""}},
		{"mautic contacts", Contacts,
			[]string{"firstname", "lastname", "email", "phone", "mobile", "position", "company", "website", "country",
				"city", "points", "stage", "owner"},
			[]string{"first_name", "last_name", "email", "phone", "mobile_phone", "job_title", "account", "account_domain", "",
				"", "", "", ""}},
		{"mautic companies", Accounts,
			[]string{"companyname", "companyemail", "companywebsite", "companycountry", "companyindustry",
				"companyemployees", "companyannual_revenue", "companydescription", "companyphone"},
			[]string{"name", "", "website", "country", "industry", "employees", "revenue", "", ""}},
		{"odoo contacts", Contacts,
			[]string{"Name", "Email", "Phone", "Mobile", "Job Position", "Related Company", "Website", "Country",
				"Salesperson", "Tags"},
			[]string{"full_name", "email", "phone", "mobile_phone", "job_title", "account", "account_domain", "", "", ""}},
		{"odoo crm leads", Leads,
			[]string{"Opportunity", "Contact Name", "Email", "Phone", "Mobile", "Company Name", "Job Position",
				"Salesperson", "Campaign", "Notes", "Expected Revenue", "Stage"},
			[]string{"topic", "full_name", "email", "phone", "", "account", "job_title", "", "campaign", "description", "", ""}},
		{"zoho leads", Leads,
			[]string{"Record Id", "Lead Owner", "Company", "First Name", "Last Name", "Designation", "Email", "Phone",
				"Mobile", "Website", "Lead Source", "Lead Status", "Industry", "No. of Employees", "Annual Revenue", "Description"},
			[]string{"", "", "account", "first_name", "last_name", "job_title", "email", "phone",
				"", "", "", "status", "", "", "", "description"}},
		{"zoho accounts", Accounts,
			[]string{"Record Id", "Account Owner", "Account Name", "Website", "Industry", "Employees", "Annual Revenue",
				"Billing Country", "Phone", "Account Number"},
			[]string{"", "", "name", "website", "industry", "employees", "revenue", "country", "", ""}},
		{"pipedrive persons", Contacts,
			[]string{"Person - ID", "Person - Name", "Person - First name", "Person - Last name", "Person - Organization",
				"Person - Email - Work", "Person - Email - Home", "Person - Phone - Work", "Person - Phone - Mobile",
				"Person - Owner", "Person - Label"},
			[]string{"", "full_name", "first_name", "last_name", "account", "email", "", "phone", "mobile_phone", "", ""}},
		{"pipedrive organizations", Accounts,
			[]string{"Organization - ID", "Organization - Name", "Organization - Owner", "Organization - Address",
				"Organization - Website"},
			[]string{"", "name", "", "", "website"}},
		{"pipedrive leads", Leads,
			[]string{"Lead - Title", "Lead - Owner", "Lead - Value", "Person - Name", "Person - Email",
				"Organization - Name", "Lead - Source"},
			[]string{"topic", "", "", "full_name", "email", "account", ""}},
		{"hand-made list", Contacts,
			[]string{"Name", "E-mail", "Tel.", "Company", "Position", "Notes"},
			[]string{"full_name", "email", "phone", "account", "job_title", ""}},
		{"prefixed headers", Contacts,
			[]string{"Contact First Name", "Contact Last Name", "Contact Email", "Contact Phone", "Contact ID"},
			[]string{"first_name", "last_name", "email", "phone", ""}},
		{"lead prefixes", Leads,
			[]string{"Lead Topic", "Lead Description", "Lead Campaign", "Contact Email", "Lead Name"},
			[]string{"topic", "description", "campaign", "email", "full_name"}},
		{"account prefixes", Accounts,
			[]string{"Company Industry", "Account Website", "Organisation Country", "Company Phone"},
			[]string{"industry", "website", "country", ""}},
		{"consent", Contacts,
			[]string{"Email", "Email Opt-in", "Cookie Consent"},
			[]string{"email", "consent.commercial_email", "consent.tracking"}},
	}, nil)
}

func TestAutoTranslations(t *testing.T) {
	checkRows(t, []headerRow{
		{"galician contacts", Contacts,
			[]string{"Nome", "Apelidos", "Correo electrónico", "Teléfono", "Móbil", "Cargo", "Empresa", "Sitio web"},
			[]string{"first_name", "last_name", "email", "phone", "mobile_phone", "job_title", "account", "account_domain"}},
		{"galician email variant", Contacts,
			[]string{"Enderezo electrónico"}, []string{"email"}},
		{"galician accounts", Accounts,
			[]string{"Nome", "Sitio web", "Sector", "Empregados", "Facturación", "País"},
			[]string{"name", "website", "industry", "employees", "revenue", "country"}},
		{"galician leads", Leads,
			[]string{"Asunto", "Nome", "Apelidos", "Enderezo electrónico", "Empresa", "Descrición", "Orzamento",
				"Estado", "Motivo do estado", "Necesidade", "Campaña"},
			[]string{"topic", "first_name", "last_name", "email", "account", "description", "budget_amount",
				"status", "status_reason", "need", "campaign"}},
		{"galician tema", Leads, []string{"Tema"}, []string{"topic"}},
		{"spanish contacts", Contacts,
			[]string{"Nombre", "Apellidos", "Correo electrónico", "Teléfono", "Móvil", "Puesto", "Empresa", "Sitio web"},
			[]string{"first_name", "last_name", "email", "phone", "mobile_phone", "job_title", "account", "account_domain"}},
		{"spanish accounts", Accounts,
			[]string{"Nombre de la empresa", "Sitio web", "Sector", "Número de empleados", "Facturación", "País"},
			[]string{"name", "website", "industry", "employees", "revenue", "country"}},
		{"spanish dynamics lead", Leads,
			[]string{"Tema", "Nombre", "Apellidos", "Correo electrónico", "Teléfono del trabajo", "Nombre de la compañía",
				"Razón para el estado", "Plazo de compra", "Proceso de compra", "Importe del presupuesto", "Necesidad"},
			[]string{"topic", "first_name", "last_name", "email", "phone", "account",
				"status_reason", "purchase_timeframe", "purchase_process", "budget_amount", "need"}},
		{"traditional chinese contacts", Contacts,
			[]string{"名字", "姓氏", "電子郵件", "電話", "手機", "職稱", "公司名稱", "網站"},
			[]string{"first_name", "last_name", "email", "phone", "mobile_phone", "job_title", "account", "account_domain"}},
		{"traditional chinese full name", Contacts,
			[]string{"姓名", "電郵", "公司"}, []string{"full_name", "email", "account"}},
		{"traditional chinese accounts", Accounts,
			[]string{"公司名稱", "網站", "產業", "員工人數", "營收", "國家/地區"},
			[]string{"name", "website", "industry", "employees", "revenue", "country"}},
		{"traditional chinese leads", Leads,
			[]string{"主題", "姓名", "電子郵件", "公司名稱", "預算金額", "狀態", "狀態原因", "購買時間範圍", "購買程序", "需求", "描述"},
			[]string{"topic", "full_name", "email", "account", "budget_amount", "status", "status_reason",
				"purchase_timeframe", "purchase_process", "need", "description"}},
		{"simplified chinese contacts", Contacts,
			[]string{"名", "姓", "邮箱", "电话", "手机", "职位", "公司", "网站"},
			[]string{"first_name", "last_name", "email", "phone", "mobile_phone", "job_title", "account", "account_domain"}},
		{"simplified chinese accounts", Accounts,
			[]string{"公司", "网站", "行业", "员工人数", "国家"},
			[]string{"name", "website", "industry", "employees", "country"}},
		{"portuguese contacts", Contacts,
			[]string{"Nome", "Sobrenome", "E-mail", "Telefone", "Celular", "Cargo", "Empresa", "Site"},
			[]string{"first_name", "last_name", "email", "phone", "mobile_phone", "job_title", "account", "account_domain"}},
		{"portuguese accounts", Accounts,
			[]string{"Empresa", "Sítio web", "Setor", "Número de funcionários", "Faturamento", "País"},
			[]string{"name", "website", "industry", "employees", "revenue", "country"}},
		{"french contacts", Contacts,
			[]string{"Prénom", "Nom", "Courriel", "Téléphone", "Portable", "Fonction", "Société", "Site web"},
			[]string{"first_name", "last_name", "email", "phone", "mobile_phone", "job_title", "account", "account_domain"}},
		{"french accounts", Accounts,
			[]string{"Nom", "Site web", "Secteur", "Nombre d'employés", "Chiffre d'affaires", "Pays"},
			[]string{"name", "website", "industry", "employees", "revenue", "country"}},
		{"german contacts", Contacts,
			[]string{"Vorname", "Nachname", "E-Mail", "Telefon", "Mobil", "Position", "Firma", "Webseite"},
			[]string{"first_name", "last_name", "email", "phone", "mobile_phone", "job_title", "account", "account_domain"}},
		{"german name beside vorname", Contacts,
			[]string{"Name", "Vorname"}, []string{"last_name", "first_name"}},
		{"german accounts", Accounts,
			[]string{"Firmenname", "Webseite", "Branche", "Mitarbeiter", "Jahresumsatz", "Land"},
			[]string{"name", "website", "industry", "employees", "revenue", "country"}},
		{"italian contacts", Contacts,
			[]string{"Nome", "Cognome", "Email", "Telefono", "Cellulare", "Qualifica", "Azienda", "Sito web"},
			[]string{"first_name", "last_name", "email", "phone", "mobile_phone", "job_title", "account", "account_domain"}},
		{"italian accounts", Accounts,
			[]string{"Ragione sociale", "Sito web", "Settore", "Numero di dipendenti", "Fatturato", "Paese"},
			[]string{"name", "website", "industry", "employees", "revenue", "country"}},
		{"catalan contacts", Contacts,
			[]string{"Nom", "Cognoms", "Correu electrònic", "Telèfon", "Mòbil", "Càrrec", "Empresa", "Lloc web"},
			[]string{"first_name", "last_name", "email", "phone", "mobile_phone", "job_title", "account", "account_domain"}},
		{"catalan accounts", Accounts,
			[]string{"Nom", "Lloc web", "Sector", "Nombre d'empleats", "Facturació", "País"},
			[]string{"name", "website", "industry", "employees", "revenue", "country"}},
		{"catalan leads", Leads,
			[]string{"Assumpte", "Nom", "Cognoms", "Pressupost", "Estat", "Campanya"},
			[]string{"topic", "first_name", "last_name", "budget_amount", "status", "campaign"}},
		{"nom alone is ambiguous", Contacts, []string{"Nom", "Email"}, []string{"", "email"}},
	}, nil)
}

func TestAutoAmbiguousHeaders(t *testing.T) {
	want := map[string]map[string]string{
		"Name":    {Contacts: "full_name", Accounts: "name", Leads: "full_name"},
		"Company": {Contacts: "account", Accounts: "name", Leads: "account"},
		"Website": {Contacts: "account_domain", Accounts: "website", Leads: ""},
		"Title":   {Contacts: "job_title", Accounts: "", Leads: "job_title"},
		"Topic":   {Contacts: "", Accounts: "", Leads: "topic"},
		"Subject": {Contacts: "", Accounts: "", Leads: "topic"},
		"Country": {Contacts: "", Accounts: "country", Leads: ""},
		"Status":  {Contacts: "", Accounts: "", Leads: "status"},
		"Domain":  {Contacts: "account_domain", Accounts: "domain", Leads: ""},
		"Nombre":  {Contacts: "first_name", Accounts: "name", Leads: "first_name"},
	}
	for header, byEntity := range want {
		for entity, field := range byEntity {
			m, err := Auto(entity, []string{header}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := m.Columns[0].Field; got != field {
				t.Errorf("%s %q → %q, want %q", entity, header, got, field)
			}
		}
	}
}

func TestAutoNormalisesHeaders(t *testing.T) {
	checkRows(t, []headerRow{
		{"case, accents, punctuation, spaces", Contacts,
			[]string{"  FIRST_NAME ", "last-name", "E_MAIL", "correo electronico", "Ｍｏｂｉｌｅ"},
			[]string{"first_name", "last_name", "email", "", "mobile_phone"}},
		{"byte order mark", Contacts, []string{"\uFEFFEmail", "Phone"}, []string{"email", "phone"}},
		{"marks of required columns", Leads, []string{"Topic*", "Last Name (required)", "[Email]"},
			[]string{"topic", "last_name", "email"}},
		{"empty and junk headers", Contacts, []string{"", "   ", "???", "Column1"}, []string{"", "", "", ""}},
	}, nil)
}

func TestAutoDuplicates(t *testing.T) {
	checkRows(t, []headerRow{
		{"same header twice", Contacts, []string{"Email", "Email", "E-mail"}, []string{"email", "", ""}},
		{"first synonym wins", Contacts, []string{"Work Phone", "Phone", "Mobile"}, []string{"phone", "", "mobile_phone"}},
		{"canonical after synonym", Contacts, []string{"E-mail", "email"}, []string{"email", ""}},
	}, nil)
}

func TestAutoIDsOnlyByCanonicalName(t *testing.T) {
	checkRows(t, []headerRow{
		{"contacts", Contacts, []string{"ID", "Id", "Contact ID", "Record ID", "AccountId", "Account ID", "OwnerId", "Owner"},
			[]string{"", "", "", "", "", "", "", ""}},
		{"leads", Leads, []string{"Lead ID", "ContactId", "Contact ID", "(Do Not Modify) Lead", "Lead Owner"},
			[]string{"", "", "", "", ""}},
		{"canonical", Leads, []string{"id", "contact_id", "account_id", "owner_id"},
			[]string{"id", "contact_id", "account_id", "owner_id"}},
	}, nil)
}

func customDefs() []leadcycle.FieldDef {
	return []leadcycle.FieldDef{
		{Entity: "contact", Name: "shoe_size", Label: "Shoe size", Type: leadcycle.FieldNumber},
		{Entity: "contact", Name: "segment", Label: "Cargo", Type: leadcycle.FieldChoice, Choices: []string{"a", "b"}},
		{Entity: "contact", Name: "personal_email", Label: "Email", Type: leadcycle.FieldText},
		{Entity: "contact", Name: "newsletter", Type: leadcycle.FieldBool},
		{Entity: "account", Name: "founded", Label: "Año de fundación", Type: leadcycle.FieldDate},
		{Entity: "lead", Name: "shoe_size", Label: "Lead shoe size", Type: leadcycle.FieldText},
	}
}

func TestAutoCustomFields(t *testing.T) {
	checkRows(t, []headerRow{
		{"by label and name", Contacts,
			[]string{"Shoe Size", "newsletter", "Email", "Cargo", "Job Title"},
			[]string{"custom.shoe_size", "custom.newsletter", "email", "custom.segment", "job_title"}},
		{"by canonical name", Contacts,
			[]string{"custom.personal_email", "custom.shoe_size", "Shoe size"},
			[]string{"custom.personal_email", "custom.shoe_size", ""}},
		{"by normalised name", Contacts, []string{"SHOE-SIZE", "Personal Email"},
			[]string{"custom.shoe_size", "custom.personal_email"}},
		{"translated label", Accounts, []string{"Año de fundación", "ano de fundacion"}, []string{"custom.founded", ""}},
		{"other entity's custom fields", Accounts, []string{"Shoe size", "custom.shoe_size"}, []string{"", ""}},
		{"lead custom", Leads, []string{"custom.shoe_size"}, []string{"custom.shoe_size"}},
	}, customDefs())
}

func TestAutoRoundTrip(t *testing.T) {
	for _, entity := range []string{Contacts, Accounts, Leads} {
		fields, err := Fields(entity, customDefs())
		if err != nil {
			t.Fatal(err)
		}
		var headers []string
		for _, f := range fields {
			headers = append(headers, f.Name)
		}
		slices.Reverse(headers) // order must not matter
		m, err := Auto(entity, headers, customDefs())
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range m.Columns {
			if c.Field != c.Header || c.How != HowAuto {
				t.Errorf("%s: %q → %q (%s)", entity, c.Header, c.Field, c.How)
			}
		}
		if u := m.Unmapped(); len(u) != 0 {
			t.Errorf("%s: unmapped %v", entity, u)
		}
	}
}

func TestAutoUnknownEntity(t *testing.T) {
	if _, err := Auto("opportunities", []string{"Name"}, nil); leadcycle.ErrorCode(err) != leadcycle.EInvalid ||
		!strings.Contains(err.Error(), `"opportunities"`) {
		t.Fatalf("err = %v", err)
	}
}

// Every synonym, name and label in the tables must reach its own field: a
// synonym shadowed by another field's label or lost to a conflict fails here.
func TestHeaderTablesResolve(t *testing.T) {
	for entity, def := range entities {
		ix := indexes[entity]
		if len(ix.conflicts) > 0 {
			t.Errorf("%s: headers claimed by two fields: %v", entity, ix.conflicts)
		}
		r := newResolver(def, ix, nil, nil)
		for _, s := range def.specs {
			heads := append([]string{s.name}, s.synonyms...)
			if s.kind != KindID {
				heads = append(heads, s.label)
			}
			for _, h := range heads {
				if got := r.resolve(h); got != s.name {
					t.Errorf("%s: %q → %q, want %q", entity, h, got, s.name)
				}
			}
		}
	}
}

func TestBuildIndexReportsConflicts(t *testing.T) {
	def := entityDef{specs: []spec{
		{name: "a", label: "Alpha", kind: KindText, synonyms: []string{"Shared", "Beta"}},
		{name: "b", label: "Beta", kind: KindText, synonyms: []string{"shared"}},
	}}
	ix := buildIndex(def)
	if len(ix.conflicts) != 2 {
		t.Fatalf("conflicts = %v", ix.conflicts)
	}
	r := newResolver(def, ix, nil, nil)
	for h, want := range map[string]string{"Shared": "", "Alpha": "a", "a": "a"} {
		if got := r.resolve(h); got != want {
			t.Errorf("%q → %q, want %q", h, got, want)
		}
	}
}

func TestNormalizeHeader(t *testing.T) {
	for in, want := range map[string]string{
		"Correo electrónico":   "correoelectronico",
		"CORREO_ELECTRONICO":   "correoelectronico",
		" Correo-Electrónico ": "correoelectronico",
		"Country/Region":       "countryregion",
		"Nº de empleados":      "nodeempleados",
		"Straße":               "strasse",
		"ＦＩＲＳＴ　ＮＡＭＥ":           "firstname",
		"電子郵件":                 "電子郵件",
		"Càrrec":               "carrec",
		"Nom de l'entreprise":  "nomdelentreprise",
		"(Do Not Modify) Lead": "donotmodifylead",
		"\uFEFFEmail":          "email",
		"":                     "",
	} {
		if got := NormalizeHeader(in); got != want {
			t.Errorf("NormalizeHeader(%q) = %q, want %q", in, got, want)
		}
	}
}
