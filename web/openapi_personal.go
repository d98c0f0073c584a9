package web

import (
	"reflect"
	"time"

	"github.com/leadcycle/leadcycle"
)

// OpenAPI of the personal data routes: the export of a contact's data, its
// erasure and the audit log, documented through operationDescribers.

// personalDataExport describes the export document for the schema; the
// store writes it section by section (see leadcycle.PersonalDataWriter), and
// a test compares a real export with it.
type personalDataExport struct {
	Format              string                         `json:"format"`
	FormatVersion       int                            `json:"format_version"`
	ExportedAt          time.Time                      `json:"exported_at"`
	ContactID           leadcycle.ID                   `json:"contact_id"`
	Contact             leadcycle.Contact              `json:"contact"`
	Account             *leadcycle.AccountRef          `json:"account"`
	Leads               []leadcycle.Lead               `json:"leads"`
	ScoreHistory        []leadcycle.ScoreChange        `json:"score_history"`
	LeadTimeline        []leadcycle.TimelineEntry      `json:"lead_timeline"`
	Opportunities       []leadcycle.Opportunity        `json:"opportunities"`
	Tasks               []leadcycle.Task               `json:"tasks"`
	Interactions        []leadcycle.Interaction        `json:"interactions"`
	FormSubmissions     []leadcycle.ExportedSubmission `json:"form_submissions"`
	EventRegistrations  []leadcycle.Registration       `json:"event_registrations"`
	CaptureLog          []leadcycle.CaptureLogEntry    `json:"capture_log"`
	Visitors            []leadcycle.Visitor            `json:"visitors"`
	PageVisits          []leadcycle.PageVisit          `json:"page_visits"`
	LinkedInSubmissions []leadcycle.LinkedInRecord     `json:"linkedin_submissions"`
	Events              []leadcycle.Occurrence         `json:"events"`
	WebhookDeliveries   []leadcycle.WebhookDelivery    `json:"webhook_deliveries"`
	SegmentMemberships  []segmentMembership            `json:"segment_memberships"`
	JourneyRuns         []leadcycle.JourneyRun         `json:"journey_runs"`
	EmailSends          []leadcycle.EmailSend          `json:"email_sends"`
	EmailSuppressions   []leadcycle.Suppression        `json:"email_suppressions"`
}

func init() {
	for name, t := range map[string]reflect.Type{
		"PersonalDataExport": reflect.TypeFor[personalDataExport](),
		"ErasureReport":      reflect.TypeFor[leadcycle.ErasureReport](),
		"AuditEntry":         reflect.TypeFor[leadcycle.AuditEntry](),
	} {
		schemaTypes[name] = t
	}
	enums["AuditEntry.action"] = leadcycle.AuditActions
	enums["AuditEntry.subject_type"] = []string{leadcycle.AuditSubjectContact}
	enums["PersonalDataExport.format"] = []string{leadcycle.PersonalDataFormat}
	for k, d := range map[string]string{
		"PersonalDataExport.format_version": "Changes when a section is removed or changes meaning; sections may be added without a new version.",
		"PersonalDataExport.account":        "The contact's account: the company's record, so only its id and name.",
		"PersonalDataExport.events":         "The outbox events about the contact or its leads, as webhooks receive them.",
		"PersonalDataExport.page_visits":    "Page views of the contact's visitors not yet turned into interactions.",
		"ExportedSubmission.ip":             "The address the submission was sent from.",
		"ErasureReport.deleted":             "Rows deleted, per kind: contacts, leads, lead_scores, score_history, lead_timeline, score_queue, tasks, interactions, form_submissions, event_registrations, capture_log, visitors, page_visits, match_keys, events, webhook_deliveries, journey_runs, email_sends, email_suppressions.",
		"ErasureReport.unlinked":            "Rows kept without their link to the contact: opportunities (business records) and linkedin_submissions (bare response ids, so that a later sync does not capture the person again).",
		"ErasureReport.rescored":            "Account-based leads queued for rescoring: their account lost the contact's interactions.",
		"ErasureReport.opportunity_ids":     "The opportunities kept, now without a contact and without the erased lead.",
		"AuditEntry.actor":                  "Who asked: the API key (id, name, role) or the command line.",
		"AuditEntry.detail":                 "Counts, ids and the reason; never personal data.",
	} {
		fieldDescriptions[k] = d
	}
	operations = append(operations,
		operation{"GET", "/api/v1/contacts/{id}/personal-data", "Export everything stored about a contact (GDPR access), as one JSON document", "personal-export", "contacts"},
		operation{"POST", "/api/v1/contacts/{id}/erase", "Erase a contact and everything stored about it (GDPR erasure), in one transaction", "contact-erase", "contacts"},
		operation{"GET", "/api/v1/audit-log", "The audit log of personal data exports and erasures, newest first", "audit-log", ""},
	)
	for _, kind := range []string{"personal-export", "contact-erase", "audit-log"} {
		operationDescribers[kind] = describePersonal
	}
}

func describePersonal(op operation, out obj) obj {
	responses := out["responses"].(obj)
	responses["401"] = problemResponse("No valid API key")
	responses["403"] = problemResponse("The key's role may not do this")
	idParam := idParameter()
	switch op.Kind {
	case "personal-export":
		out["operationId"] = "exportContactPersonalData"
		out["tags"] = []string{"Personal data"}
		out["parameters"] = []obj{idParam}
		out["description"] = "Admins and marketers. Streamed as it is read, as an attachment; the export is written to the audit log when it starts. " +
			"A connection cut before the closing brace means the export failed."
		responses["200"] = obj{"description": "The export",
			"headers": obj{"Content-Disposition": obj{"description": `attachment; filename="contact-{id}-personal-data.json"`, "schema": obj{"type": "string"}}},
			"content": obj{"application/json": obj{"schema": ref("PersonalDataExport")}}}
		responses["404"] = problemResponse("No such contact (or it was erased)")
	case "contact-erase":
		out["operationId"] = "eraseContact"
		out["tags"] = []string{"Personal data"}
		out["parameters"] = []obj{idParam}
		out["description"] = "Admins only. Deletes the contact, its leads (with scores, score history, timeline, tasks), interactions, form submissions, " +
			"event registrations, visitors and page views, match keys, capture log entries, outbox events and webhook deliveries; keeps its " +
			"opportunities and LinkedIn response ids without the links; queues the account's leads for rescoring; writes the audit log. All or nothing."
		out["requestBody"] = actionBody(true, obj{"reason": obj{"type": "string", "minLength": 1, "maxLength": leadcycle.MaxErasureReason,
			"description": "Why, for the audit log; it must not contain the contact's email, phone or name."}}, "reason")
		responses["200"] = jsonResponse("Erased: what went and what was kept", ref("ErasureReport"))
		responses["400"] = problemResponse("Malformed JSON, an unknown field, or a reason that is not a string")
		responses["404"] = problemResponse("No such contact, or it was erased already")
		responses["413"] = problemResponse("The body is too large")
		responses["415"] = problemResponse("The body is not JSON")
		responses["422"] = problemResponse("reason is missing, longer than 1000 characters, or holds the contact's email, phone or name")
	case "audit-log":
		out["operationId"] = "listAuditLog"
		out["tags"] = []string{"Personal data"}
		out["description"] = "Admins only."
		params := []obj{
			{"name": "limit", "in": "query", "schema": obj{"type": "integer", "minimum": 1, "maximum": leadcycle.MaxLimit, "default": leadcycle.DefaultLimit}},
			{"name": "cursor", "in": "query", "schema": obj{"type": "string"}, "description": "next_cursor of the previous page"},
		}
		for _, f := range leadcycle.AuditLogFilters {
			s := obj{"type": "string"}
			if f.Kind == leadcycle.KindID {
				s["pattern"] = "^[0-9]+$"
			}
			if len(f.Allowed) > 0 {
				s["enum"] = f.Allowed
			}
			params = append(params, obj{"name": f.Param, "in": "query", "schema": s, "description": f.Doc})
		}
		out["parameters"] = params
		responses["200"] = jsonResponse("One page, newest first", obj{"type": "object", "required": []string{"items", "next_cursor"},
			"properties": obj{"items": obj{"type": "array", "items": ref("AuditEntry")}, "next_cursor": obj{"type": "string", "description": "Pass as cursor for the next page; empty on the last page."}}})
		responses["422"] = problemResponse("A parameter other than limit, cursor, action and subject_id, or a value that is not valid")
	}
	return out
}

// segmentMembership is one segment of the contact, in the export.
type segmentMembership struct {
	SegmentID leadcycle.ID `json:"segment_id"`
	Key       string       `json:"key"`
	Name      string       `json:"name"`
	Since     time.Time    `json:"since"`
}
