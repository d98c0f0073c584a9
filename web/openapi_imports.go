package web

import (
	"reflect"

	"github.com/leadcycle/leadcycle"
)

// OpenAPI of imports, saved import mappings and exports: the routes of
// registerImports.

func init() {
	type collection = struct {
		Name, Schema, Tag string
		Update            bool
	}
	documentedCollections = append(documentedCollections, collection{"import-mappings", "ImportMapping", "Imports", true})
	schemaTypes["ImportMapping"] = reflect.TypeFor[leadcycle.ImportMapping]()
	schemaTypes["ImportJob"] = reflect.TypeFor[leadcycle.ImportJob]()
	schemaTypes["ImportError"] = reflect.TypeFor[leadcycle.ImportError]()
	schemaTypes["ImportOptions"] = reflect.TypeFor[leadcycle.ImportOptions]()
	enums["ImportMapping.entity"] = leadcycle.ImportEntities
	enums["ImportOptions.entity"] = leadcycle.ImportEntities
	enums["ImportOptions.on_match"] = leadcycle.OnMatchActions
	enums["ImportOptions.format"] = []string{"", "csv", "xlsx"}
	enums["ImportOptions.encoding"] = []string{"", "utf-8", "utf-16le", "utf-16be", "windows-1252"}
	enums["ImportOptions.delimiter"] = []string{"", ",", ";", "\t", "|"}
	enums["ImportJob.status"] = leadcycle.ImportStatuses
	enums["ImportJob.source"] = []string{leadcycle.ImportSourceUpload, leadcycle.ImportSourcePath}
	enums["ImportColumn.how"] = []string{"auto", "saved", "explicit", ""}
	enums["ImportError.severity"] = []string{leadcycle.SeverityError, leadcycle.SeverityNotice}
	for k, d := range map[string]string{
		"ImportMapping.columns":           "File header → field (first_name, email, custom.<name>, …); \"\" leaves the column out.",
		"ImportMapping.values":            "Per field, file value → stored value, for choice fields (\"Hot\" → \"open\").",
		"ImportOptions.on_match":          "What a row that matches an existing record does: update it (the default), skip it, or create a new record anyway.",
		"ImportOptions.strategy_id":       "The matching strategy: a contact strategy for contacts, a lead strategy for leads (default: the default one). Accounts match on domain, then name.",
		"ImportOptions.columns":           "Header → field; overrides the saved mapping and the automatic one.",
		"ImportOptions.clear_empty":       "Empty cells clear the values of matched records (by default they leave them).",
		"ImportOptions.day_first":         "Read dates like 02/03/2026 as 2 March.",
		"ImportJob.position":              "Data rows whose outcome is committed; a resumed job starts after them.",
		"ImportJob.rows":                  "Rows read so far; always created + updated + skipped + failed.",
		"ImportJob.bytes_done":            "How far into the file the job is (of size), for progress and ETA.",
		"ImportJob.cancel_requested":      "The job stops after the batch it is writing.",
		"ImportJob.columns":               "How every column of the file is read, fixed when the job is created.",
		"ImportJob.warnings":              "Columns not imported, and other remarks about the file.",
		"ImportJob.leads_without_contact": "Imported leads that have no parent contact; each is in the report as a notice.",
		"ImportError.line":                "The line of the file (CSV) or the spreadsheet row (XLSX).",
		"ImportError.column":              "The header of the column at fault, if any.",
	} {
		fieldDescriptions[k] = d
	}
	for _, f := range []string{"ImportJob.status", "ImportJob.columns", "ImportJob.format", "ImportJob.encoding", "ImportJob.delimiter", "ImportJob.size", "ImportJob.sha256",
		"ImportJob.position", "ImportJob.bytes_done", "ImportJob.warnings", "ImportJob.error", "ImportJob.cancel_requested", "ImportJob.actor",
		"ImportJob.started_at", "ImportJob.finished_at", "ImportJob.rows", "ImportJob.created", "ImportJob.updated", "ImportJob.skipped",
		"ImportJob.failed", "ImportJob.accounts_created", "ImportJob.leads_without_contact", "ImportJob.source", "ImportJob.file_name"} {
		readOnlyFields[f] = true
	}
	maps := "/api/v1/import-mappings"
	operations = append(operations,
		operation{"GET", maps, "List saved import mappings", "list", "import-mappings"},
		operation{"POST", maps, "Save a column mapping for later imports", "create", "import-mappings"},
		operation{"GET", maps + "/{id}", "Get a saved import mapping", "get", "import-mappings"},
		operation{"PATCH", maps + "/{id}", "Update a saved import mapping (JSON merge patch)", "update", "import-mappings"},
		operation{"DELETE", maps + "/{id}", "Delete a saved import mapping", "delete", "import-mappings"},
		operation{"GET", importsBase, "List import jobs, newest first", "import-list", "imports"},
		operation{"POST", importsBase, "Upload a CSV or XLSX file to import contacts, accounts or leads in the background", "import-create", "imports"},
		operation{"GET", importsBase + "/{id}", "An import job: status, progress, counts, column mapping", "import-get", "imports"},
		operation{"POST", importsBase + "/{id}/cancel", "Cancel an import: a queued one at once, a running one after its current batch", "import-cancel", "imports"},
		operation{"GET", importsBase + "/{id}/errors", "The report of an import in file order: every refused row (and notices) with line, column and reason", "import-errors", "imports"},
		operation{"GET", importsBase + "/{id}/errors.csv", "The report of an import as a CSV download", "import-errors-csv", "imports"},
	)
	for _, entity := range leadcycle.ImportEntities {
		operations = append(operations, operation{"GET", "/api/v1/" + entity + "/export", "Export " + entity + " as CSV or XLSX, filtered like their list; the file imports back", "export", entity})
	}
	for _, kind := range []string{"import-list", "import-create", "import-get", "import-cancel", "import-errors", "import-errors-csv", "export"} {
		operationDescribers[kind] = describeImports
	}
}

func describeImports(op operation, out obj) obj {
	responses := out["responses"].(obj)
	responses["401"] = problemResponse("No valid API key")
	responses["403"] = problemResponse("The key's role may not do this")
	idParam := idParameter()
	pageParams := pageParameters()
	page := pageResponse
	switch op.Kind {
	case "import-list":
		out["operationId"] = "listImports"
		out["parameters"] = listParameters("imports")
		responses["200"] = page("ImportJob")
		responses["422"] = problemResponse("A filter, sort, limit or cursor is not valid")
	case "import-create":
		out["operationId"] = "createImport"
		out["description"] = "Send the file as multipart/form-data with a \"file\" part and an \"options\" part (a JSON ImportOptions object, or one form field per option), " +
			"or as the body (text/csv or the XLSX media type) with the options as query parameters (columns and values as JSON). The file is read once at once: " +
			"a file that cannot be read or columns that cannot be mapped are refused here; the rows are imported in the background by any node."
		opts := ref("ImportOptions")
		out["requestBody"] = obj{"required": true, "content": obj{
			"multipart/form-data": obj{"schema": obj{"type": "object", "required": []string{"file"}, "properties": obj{
				"file": obj{"type": "string", "contentMediaType": "application/octet-stream"}, "options": opts}}},
			"text/csv": obj{"schema": obj{"type": "string"}},
			"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": obj{"schema": obj{"type": "string", "contentMediaType": "application/octet-stream"}},
		}}
		out["parameters"] = []obj{
			{"name": "entity", "in": "query", "schema": obj{"type": "string", "enum": leadcycle.ImportEntities}, "description": "With a raw body: what the rows are"},
			{"name": "file_name", "in": "query", "schema": obj{"type": "string"}, "description": "With a raw body: the file's name, for the job"},
		}
		responses["201"] = jsonResponse("The queued job, with the column mapping it will use", ref("ImportJob"))
		responses["400"] = problemResponse("The upload could not be read")
		responses["413"] = problemResponse("The file is larger than the server's import limit")
		responses["415"] = problemResponse("Neither multipart/form-data nor a CSV or XLSX body")
		responses["422"] = problemResponse("An option breaks a rule, the file cannot be read (named in field file), or a column cannot be mapped (field columns)")
	case "import-get":
		out["operationId"] = "getImport"
		out["parameters"] = []obj{idParam}
		responses["200"] = jsonResponse("The job", ref("ImportJob"))
		responses["404"] = problemResponse("No such import")
	case "import-cancel":
		out["operationId"] = "cancelImport"
		out["parameters"] = []obj{idParam}
		responses["200"] = jsonResponse("The job, canceled or asked to stop", ref("ImportJob"))
		responses["404"] = problemResponse("No such import")
		responses["409"] = problemResponse("The import has ended already")
	case "import-errors":
		out["operationId"] = "listImportErrors"
		out["parameters"] = append([]obj{idParam}, pageParams...)
		responses["200"] = page("ImportError")
		responses["404"] = problemResponse("No such import")
		responses["422"] = problemResponse("A limit or cursor is not valid")
	case "import-errors-csv":
		out["operationId"] = "downloadImportErrors"
		out["parameters"] = []obj{idParam}
		responses["200"] = obj{"description": "line, column, value, reason, severity", "content": obj{"text/csv": obj{"schema": obj{"type": "string"}}}}
		responses["404"] = problemResponse("No such import")
	case "export":
		out["operationId"] = "export" + map[string]string{"contacts": "Contacts", "accounts": "Accounts", "leads": "Leads"}[op.Collection]
		out["description"] = "Streams every record the list with the same filters would give, in one file. Headers are field names (custom fields as custom.<name>); " +
			"contacts carry their account's name and domain, leads their contact's email, so that the files import into another installation (accounts, then contacts, then leads)."
		params := []obj{{"name": "format", "in": "query", "schema": obj{"type": "string", "enum": []string{"csv", "xlsx"}, "default": "csv"}}}
		for _, p := range listParameters(op.Collection) {
			if n := p["name"]; n != "limit" && n != "cursor" {
				params = append(params, p)
			}
		}
		out["parameters"] = params
		responses["200"] = obj{"description": "The file", "content": obj{
			"text/csv": obj{"schema": obj{"type": "string"}},
			"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": obj{"schema": obj{"type": "string", "contentMediaType": "application/octet-stream"}}}}
		responses["422"] = problemResponse("A filter or the format is not valid")
	}
	return out
}
