package mapping

import "slices"

// The header tables: for each entity, its built-in fields in order with the
// headers that map to them. Every synonym is compared after NormalizeHeader,
// so "E-mail", "e_mail" and "EMAIL" are one entry, as are Spanish "Teléfono"
// and Italian "Telefono", or Salesforce's "FirstName" and the label "First
// name". Canonical names and English labels match too and are not repeated.
//
// Identifier fields (id, account_id, contact_id, owner_id) have no synonyms
// on purpose: they hold leadcycle ids, and the ids other systems export
// (HubSpot "Record ID", Salesforce "AccountId", Dynamics "(Do Not Modify)
// Contact", Pipedrive "Person - ID") or their owner names would update or link
// the wrong records. Only the exact canonical name maps to them.

// Person fields shared by contacts and leads.
var (
	firstNameHeaders = []string{
		"First", "Given Name", "Forename", "fname", "Person - First name",
		"Nombre", "Nome", "Prénom", "Vorname", "Nom de pila",
		"名字", "名",
	}
	lastNameHeaders = []string{
		"Last", "Surname", "Family Name", "lname", "Person - Last name",
		"Apellidos", "Apellido", "Primer apellido", "Apelidos", "Apelido", "Sobrenome",
		"Nom de famille", "Nachname", "Familienname", "Cognome", "Cognoms", "Cognom",
		"姓氏", "姓",
	}
	fullNameHeaders = []string{
		"Name", "Contact Name", "Contact", "Contact Person", "Person Name",
		"Parent Contact for lead", "Parent Contact",
		"Nombre completo", "Nombre y apellidos", "Persona de contacto", "Contacto",
		"Nome completo", "Nome e apelidos", "Nome e sobrenome", "Pessoa de contato", "Pessoa de contacto", "Contato",
		"Nom complet", "Nom et prénom", "Prénom et nom", "Nom i cognoms", "Persona de contacte",
		"Vollständiger Name", "Ansprechpartner", "Kontakt", "Nome e cognome", "Nominativo", "Referente",
		"姓名", "全名", "聯絡人", "联系人",
	}
	emailHeaders = []string{
		"Email Address", "Mail", "Primary Email", "Work Email", "Business Email",
		"Email - Work", "Email - Home", "emailaddress1", "email_from",
		"Correo", "Correo electrónico", "Dirección de correo", "Dirección de correo electrónico", "Email de contacto",
		"Enderezo electrónico", "Enderezo de correo electrónico", "Correo-e",
		"Endereço de e-mail", "Correio eletrónico",
		"Courriel", "Adresse e-mail", "Adresse électronique", "Mél",
		"E-Mail-Adresse", "Mailadresse", "Indirizzo email", "Posta elettronica",
		"Correu electrònic", "Adreça electrònica", "Adreça de correu electrònic", "Correu",
		"電子郵件", "電郵", "電子郵件地址", "郵件", "電子信箱", "电子邮件", "邮箱", "电子邮箱", "邮件", "电子邮件地址",
	}
	phoneHeaders = []string{
		"Phone Number", "Telephone", "Tel", "Business Phone", "Work Phone", "Office Phone",
		"Phone - Work", "telephone1",
		"Teléfono", "Número de teléfono", "Teléfono del trabajo", "Teléfono fijo", "Telefone", "Número de telefone",
		"Numéro de téléphone", "Telefon", "Telefonnummer", "Numero di telefono",
		"電話", "電話號碼", "商務電話", "电话", "电话号码", "商务电话",
	}
	jobTitleHeaders = []string{
		"Title", "Position", "Job Position", "Designation", "Person - Job title",
		"Cargo", "Puesto", "Puesto de trabajo", "Posto", "Fonction", "Poste", "Titre",
		"Berufsbezeichnung", "Jobtitel", "Funktion", "Qualifica", "Posizione", "Mansione",
		"Càrrec", "Lloc de treball", "職稱", "職位", "職務", "职位", "职称", "职务",
	}
	companyHeaders = []string{
		"Company", "Company Name", "Organization", "Organisation",
		"Organization Name", "Organisation Name", "Parent Account", "Parent Account for lead",
		"Associated Company", "Related Company", "Employer",
		"Empresa", "Nombre de la empresa", "Nombre de empresa", "Nombre de la compañía", "Compañía", "Organización",
		"Nome da empresa", "Companhia", "Organização", "Entreprise", "Société", "Nom de l'entreprise",
		"Nom de la société", "Firma", "Unternehmen", "Firmenname", "Azienda", "Società", "Nome azienda",
		"Ragione sociale", "Organizzazione", "Companyia", "Organització", "Nom de l'empresa",
		"公司", "公司名稱", "組織", "公司名称", "单位", "组织", "企业名称",
	}
)

// contactSpecs is the header table of contacts.
var contactSpecs = []spec{
	{name: "id", label: "ID", kind: KindID},
	{name: "first_name", label: "First name", kind: KindText, synonyms: firstNameHeaders},
	{name: "last_name", label: "Last name", kind: KindText, synonyms: lastNameHeaders},
	{name: "full_name", label: "Full name", kind: KindText, synonyms: fullNameHeaders},
	{name: "email", label: "Email", kind: KindEmail, synonyms: emailHeaders},
	{name: "phone", label: "Phone", kind: KindPhone, synonyms: phoneHeaders},
	{name: "mobile_phone", label: "Mobile phone", kind: KindPhone, synonyms: []string{
		"Mobile", "Mobile Phone Number", "Mobile Number", "Cell", "Cell Phone",
		"Phone - Mobile", "Móvil", "Teléfono móvil", "Celular", "Móbil", "Teléfono móbil", "Telemóvel",
		"Telefone celular", "Portable", "Téléphone portable", "Tél. portable", "Mobiltelefon", "Handy",
		"Mobilnummer", "Handynummer", "Cellulare", "Telefono cellulare", "Telèfon mòbil",
		"手機", "行動電話", "手機號碼", "手机", "移动电话", "手机号码", "手机号",
	}},
	{name: "job_title", label: "Job title", kind: KindText, synonyms: jobTitleHeaders},
	{name: "account", label: "Account name", kind: KindText, synonyms: companyHeaders},
	{name: "account_id", label: "Account ID", kind: KindID},
	{name: "account_domain", label: "Account domain", kind: KindText, synonyms: []string{
		"Website", "Website URL", "Company Website", "Company Domain", "Company Domain Name",
		"Domain", "Domain Name", "URL", "Web", "Homepage",
		"Sitio web", "Página web", "Dominio", "Páxina web", "Site", "Site web",
		"Site internet", "Domaine", "Webseite", "Internetseite", "Sito web", "Sito internet", "Lloc web", "Domini",
		"網站", "網址", "公司網站", "網域", "网站", "网址", "公司网站", "域名",
	}},
	{name: "owner_id", label: "Owner ID", kind: KindID},
	{name: "consent.commercial_email", label: "Commercial email consent", kind: KindChoice, choices: consentChoices, synonyms: []string{
		"Email Consent", "Marketing Email Consent", "Marketing Consent",
		"Email Opt-in", "Marketing Opt-in", "Accepts Marketing", "Accepts Email Marketing",
		"Consentimiento comercial", "Consentimiento de correo comercial", "Consentimento comercial",
		"Consentement commercial", "Consentement e-mail", "Einwilligung E-Mail", "Werbeeinwilligung",
		"Consenso commerciale", "Consentiment comercial", "商業郵件同意", "商业邮件同意",
	}},
	{name: "consent.tracking", label: "Tracking consent", kind: KindChoice, choices: consentChoices, synonyms: []string{
		"Cookie Consent", "Allow Tracking", "Tracking",
		"Consentimiento de seguimiento", "Consentimento de seguimento", "Consentement au suivi",
		"Tracking-Einwilligung", "Consenso al tracciamento", "Consentiment de seguiment", "追蹤同意", "跟踪同意",
	}},
}

// accountSpecs is the header table of accounts.
var accountSpecs = []spec{
	{name: "id", label: "ID", kind: KindID},
	{name: "name", label: "Name", kind: KindText, synonyms: []string{
		"Account Name", "Company", "Company Name", "Organization", "Organisation", "Organization Name",
		"Organisation Name", "Business Name", "Account", "Nombre", "Nome", "Nom",
		"Empresa", "Nombre de la empresa", "Nombre de la compañía", "Razón social", "Compañía", "Nome da empresa",
		"Razão social", "Entreprise", "Société", "Raison sociale", "Nom de l'entreprise", "Firma", "Firmenname",
		"Unternehmen", "Azienda", "Ragione sociale", "Nome azienda", "Raó social", "Nom de l'empresa",
		"公司", "公司名稱", "名稱", "客戶名稱", "公司名称", "名称", "企业名称", "客户名称",
	}},
	// Not Portuguese "Site": Salesforce "Account Site" (API name "Site") is
	// a location such as "Headquarters", not a website.
	{name: "website", label: "Website", kind: KindText, synonyms: []string{
		"Website URL", "URL", "Web", "Homepage", "Company Website",
		"Sitio web", "Página web", "Páxina web", "Site web", "Site internet", "Site da empresa",
		"Webseite", "Internetseite", "Sito web", "Sito internet", "Lloc web",
		"網站", "網址", "官網", "网站", "网址", "官网",
	}},
	{name: "domain", label: "Domain", kind: KindText, synonyms: []string{
		"Company Domain Name", "Domain Name", "Email Domain", "Dominio", "Domaine", "Domini",
		"網域", "域名",
	}},
	{name: "industry", label: "Industry", kind: KindText, synonyms: []string{
		"Industry Type", "Sector", "Industria", "Setor", "Ramo de atividade", "Secteur",
		"Secteur d'activité", "Industrie", "Branche", "Settore", "產業", "行業", "行业", "产业",
	}},
	{name: "employees", label: "Employees", kind: KindInteger, synonyms: []string{
		"Number of Employees", "No. of Employees", "# of Employees", "Employee Count",
		"Headcount", "Empleados", "Número de empleados", "Nº de empleados", "Empregados", "Número de empregados",
		"Traballadores", "Funcionários", "Número de funcionários", "Employés", "Nombre d'employés", "Effectif",
		"Mitarbeiter", "Anzahl der Mitarbeiter", "Mitarbeiterzahl", "Beschäftigte", "Dipendenti",
		"Numero di dipendenti", "Numero dipendenti", "Empleats", "Nombre d'empleats", "Treballadors",
		"員工人數", "員工數", "員工", "员工人数", "员工数", "员工",
	}},
	{name: "revenue", label: "Annual revenue", kind: KindNumber, synonyms: []string{
		"Annual Sales", "Turnover", "Facturación", "Facturación anual", "Ingresos",
		"Ingresos anuales", "Ingresos anuais", "Receita", "Receita anual", "Faturação", "Faturamento",
		"Volume de negócios", "Chiffre d'affaires", "Revenu annuel", "Umsatz", "Jahresumsatz", "Fatturato",
		"Fatturato annuo", "Ricavi", "Facturació", "Ingressos", "Ingressos anuals",
		"營收", "年營收", "營業額", "年營業額", "营收", "年收入", "营业额", "年营业额", "营业收入",
	}},
	{name: "country", label: "Country", kind: KindText, synonyms: []string{
		"Country/Region", "Billing Country", "Address 1: Country/Region", "address1_country",
		"Country Code", "País", "Pays", "Land", "Paese", "Nazione", "國家", "國家/地區", "国家", "国家/地区",
	}},
	{name: "owner_id", label: "Owner ID", kind: KindID},
}

// leadSpecs is the header table of leads.
var leadSpecs = []spec{
	{name: "id", label: "ID", kind: KindID},
	{name: "topic", label: "Topic", kind: KindText, synonyms: []string{
		"Subject", "Lead Topic", "Lead - Title", "Opportunity", "Interest",
		"Asunto", "Tema", "Assunto", "Tópico", "Sujet", "Objet", "Thème", "Thema", "Betreff", "Argomento",
		"Oggetto", "Assumpte", "主題", "主题",
	}},
	{name: "description", label: "Description", kind: KindText, synonyms: []string{
		"Notes", "Note", "Internal Notes", "Comments", "Comment", "Message", "Details",
		"Descripción", "Notas", "Comentarios", "Mensaje", "Descrición", "Descrição", "Observações", "Mensagem",
		"Commentaires", "Beschreibung", "Notizen", "Kommentar", "Nachricht",
		"Bemerkungen", "Descrizione", "Commenti", "Messaggio", "Descripció", "Comentaris", "Missatge",
		"描述", "說明", "備註", "留言", "说明", "备注",
	}},
	{name: "purchase_timeframe", label: "Purchase timeframe", kind: KindChoice, choices: timeframeChoices, synonyms: []string{
		"Timeframe", "Plazo de compra", "Prazo de compra",
		"Período de compra", "Délai d'achat", "Kaufzeitraum", "Zeitrahmen", "Tempi di acquisto",
		"Tempistica di acquisto", "Termini de compra", "購買時間範圍", "購買時間", "购买时间范围", "购买时间",
	}},
	{name: "purchase_process", label: "Purchase process", kind: KindChoice, choices: processChoices, synonyms: []string{
		"Buying Process", "Proceso de compra", "Processo de compra", "Processus d'achat", "Kaufprozess",
		"Einkaufsprozess", "Processo di acquisto", "Procés de compra", "購買程序", "購買流程", "购买流程", "购买程序",
	}},
	{name: "budget_amount", label: "Budget amount", kind: KindNumber, synonyms: []string{
		"Budget", "Importe del presupuesto", "Presupuesto", "Orzamento", "Importe do orzamento", "Orçamento",
		"Valor do orçamento", "Montant du budget", "Budgetbetrag", "Importo del budget", "Pressupost",
		"Import del pressupost", "預算", "預算金額", "预算", "预算金额",
	}},
	{name: "need", label: "Need", kind: KindChoice, choices: needChoices, synonyms: []string{
		"Necesidad", "Necesidade", "Necessidade", "Besoin", "Bedarf", "Necessità", "Esigenza", "Necessitat", "需求",
	}},
	{name: "status", label: "Status", kind: KindChoice, choices: statusChoices, synonyms: []string{
		"Lead Status", "Estado", "Situação", "Statut", "État", "Stato", "Estat", "狀態", "状态",
	}},
	{name: "status_reason", label: "Status reason", kind: KindChoice, choices: reasonChoices, synonyms: []string{
		"statuscode", "Reason", "Razón para el estado", "Motivo del estado", "Motivo do estado",
		"Razón do estado", "Razão do status", "Motivo do status", "Raison du statut", "Motif du statut",
		"Statusgrund", "Motivo stato", "Motivo dello stato", "Motiu de l'estat", "Raó de l'estat",
		"狀態原因", "状态原因",
	}},
	{name: "campaign", label: "Campaign", kind: KindText, synonyms: []string{
		"Source Campaign", "Campaign Name", "Marketing Campaign", "UTM Campaign",
		"Campaña", "Campaña de orixe", "Campaña de origen", "Campanha", "Campagne", "Kampagne", "Campagna",
		"Campanya", "行銷活動", "來源行銷活動", "营销活动", "市场活动", "来源营销活动",
	}},
	{name: "contact_id", label: "Contact ID", kind: KindID},
	{name: "email", label: "Email", kind: KindEmail, synonyms: emailHeaders},
	{name: "first_name", label: "First name", kind: KindText, synonyms: firstNameHeaders},
	{name: "last_name", label: "Last name", kind: KindText, synonyms: lastNameHeaders},
	{name: "full_name", label: "Full name", kind: KindText, synonyms: fullNameHeaders},
	{name: "phone", label: "Phone", kind: KindPhone, synonyms: phoneHeaders},
	{name: "job_title", label: "Job title", kind: KindText, synonyms: jobTitleHeaders},
	{name: "account", label: "Account name", kind: KindText, synonyms: companyHeaders},
	{name: "account_id", label: "Account ID", kind: KindID},
	{name: "owner_id", label: "Owner ID", kind: KindID},
}

// nameRules resolve the headers whose meaning depends on their neighbours.
var nameRules = []contextRule{
	{key: "nom", with: "prenom", field: "last_name"},   // French: Prénom, Nom
	{key: "nom", with: "cognoms", field: "first_name"}, // Catalan: Nom, Cognoms
	{key: "nom", with: "cognom", field: "first_name"},
	{key: "name", with: "vorname", field: "last_name"}, // German: Vorname, Name
}

// entities holds the definition of every importable entity.
var entities = map[string]entityDef{
	Contacts: {
		custom: "contact", specs: contactSpecs, context: nameRules,
		prefixes: []string{"contact", "contacto", "contato", "kontakt", "person", "persona", "pessoa", "联系人", "聯絡人"},
	},
	Accounts: {
		custom: "account", specs: accountSpecs,
		prefixes: []string{"account", "company", "organization", "organisation", "cuenta", "conta", "compte",
			"empresa", "entreprise", "societe", "unternehmen", "azienda", "公司", "客戶", "客户"},
	},
	Leads: {
		custom: "lead", specs: leadSpecs, context: nameRules,
		prefixes: slices.Concat([]string{"lead", "prospect", "prospecto", "潛在客戶", "潜在客户"},
			[]string{"contact", "contacto", "contato", "kontakt", "person", "persona", "pessoa", "联系人", "聯絡人"}),
	},
}
