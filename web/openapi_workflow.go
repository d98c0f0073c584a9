package web

import (
	"reflect"

	"github.com/leadcycle/leadcycle"
)

// OpenAPI of the lead business process (processes, stage actions,
// qualification, the timeline), users, task queues, the event log and
// webhooks: the routes of registerWorkflow and registerWebhooks, documented
// through operationDescribers.

func init() {
	type collection = struct {
		Name, Schema, Tag string
		Update            bool
	}
	documentedCollections = append(documentedCollections,
		collection{"processes", "Process", "Business processes", true},
		collection{"users", "User", "Users", true},
		collection{"webhooks", "Webhook", "Webhooks", true},
	)
	for name, t := range map[string]reflect.Type{
		"Process":         reflect.TypeFor[leadcycle.Process](),
		"User":            reflect.TypeFor[leadcycle.User](),
		"Queue":           reflect.TypeFor[leadcycle.Queue](),
		"TimelineEntry":   reflect.TypeFor[leadcycle.TimelineEntry](),
		"Occurrence":      reflect.TypeFor[leadcycle.Occurrence](),
		"QualifyRequest":  reflect.TypeFor[leadcycle.QualifyRequest](),
		"QualifyResult":   reflect.TypeFor[leadcycle.QualifyResult](),
		"Webhook":         reflect.TypeFor[leadcycle.Webhook](),
		"WebhookDelivery": reflect.TypeFor[leadcycle.WebhookDelivery](),
	} {
		schemaTypes[name] = t
	}

	eventTypes := append([]string{"*"}, leadcycle.EventTypes...)
	enums["Transition.on"] = leadcycle.Triggers
	enums["User.role"] = leadcycle.Roles
	enums["User.locale"] = leadcycle.Locales
	enums["User.queues"] = []string{"telesales", "sales"}
	enums["Queue.key"] = []string{"telesales", "sales"}
	enums["Queue.assignment"] = []string{leadcycle.AssignManual, leadcycle.AssignRoundRobin}
	enums["TimelineEntry.kind"] = []string{leadcycle.TimelineCreated, leadcycle.TimelineStageChanged, leadcycle.TimelineProcessSwitched,
		leadcycle.TimelineFlagChanged, leadcycle.TimelineStatusChanged, leadcycle.TimelineQualified, leadcycle.TimelineDisqualified,
		leadcycle.TimelineReactivated, leadcycle.TimelineAssigned}
	enums["Occurrence.type"] = leadcycle.EventTypes
	enums["Webhook.events"] = eventTypes
	enums["WebhookDelivery.event_type"] = leadcycle.EventTypes
	enums["WebhookDelivery.status"] = []string{leadcycle.DeliveryPending, leadcycle.DeliveryDelivered, leadcycle.DeliveryFailed}
	for _, f := range []string{"Queue.key", "Queue.last_assignee_id", "Webhook.secret"} {
		readOnlyFields[f] = true
	}
	for k, d := range map[string]string{
		"Process.is_default":         "The process every new lead starts in; exactly one process is the default. Make another process the default to change it.",
		"Process.stages":             "In timeline order; the first is where a lead starts.",
		"Process.transitions":        "Move leads between stages automatically, on events or conditions.",
		"Stage.fields":               "The record fields that support the stage; a required one must be set (a required flag true) to complete the stage.",
		"Stage.entry_condition":      "When set, must hold for a lead to enter the stage by completing the previous one or by a transition (an expression over lead.*, contact.*, account.*). Moves by hand skip it.",
		"Stage.next":                 "Where completing the stage leads: the first branch whose condition holds. Empty: the following stage (the last stage ends the process).",
		"Stage.final":                "The stage ends the process even when it is not the last one; a final stage has no next.",
		"StageField.field":           "lead.<field>, lead.custom.<name>, contact.<field>, contact.custom.<name>, account.<field> or account.custom.<name>",
		"Branch.when":                "An expression; empty always holds.",
		"Branch.to":                  "A stage key",
		"Transition.condition":       "An expression that must also hold (the whole trigger when on is condition).",
		"Transition.from":            "The stages the transition applies in; empty: every stage before to in timeline order.",
		"Transition.to":              "A stage key",
		"User.queues":                "The task queues whose tasks the user takes; empty: the queue of the role (telesales → telesales, sales → sales).",
		"Queue.assignment":           "manual: a manager assigns each task; round_robin: each new task goes to the next active member.",
		"Queue.due_hours":            "New tasks of the queue are due this many hours after they are created (0 to 8760).",
		"TimelineEntry.actor":        "Who or which rule made the change",
		"Occurrence.payload":         "What happened, by event type",
		"QualifyResult.explanation":  "How the contact and account were found or made",
		"QualifyRequest.contact":     "Used only when the lead has no contact: matched by email before one is created.",
		"QualifyRequest.account":     "Used only when the lead has no account: matched by domain or name before one is created.",
		"QualifyRequest.opportunity": "Fields of the new opportunity; its name defaults to the lead's topic and its owner to the lead's.",
		"Webhook.events":             "The event types delivered; \"*\" is every type.",
		"Webhook.secret": "Write-once: generated by the server (\"whsec_\" + base64), returned only in the answers of create and rotate-secret, " +
			"stored sealed and never shown again. Verify the Standard Webhooks signatures with it.",
		"WebhookDelivery.last_status_code": "The HTTP status of the last attempt; 0 when no answer was received",
	} {
		fieldDescriptions[k] = d
	}

	lead := "/api/v1/leads/{id}"
	operations = append(operations,
		operation{"GET", "/api/v1/processes", "List business processes", "list", "processes"},
		operation{"POST", "/api/v1/processes", "Create a business process; its structure is checked and every expression type-checked", "process-create", "processes"},
		operation{"GET", "/api/v1/processes/{id}", "Get a business process", "get", "processes"},
		operation{"PATCH", "/api/v1/processes/{id}", "Update a business process (JSON merge patch); a stage that still holds leads cannot be removed", "process-update", "processes"},
		operation{"DELETE", "/api/v1/processes/{id}", "Delete a business process that is not the default and holds no leads", "process-delete", "processes"},
		operation{"GET", "/api/v1/users", "List users", "list", "users"},
		operation{"POST", "/api/v1/users", "Create a user", "user-create", "users"},
		operation{"GET", "/api/v1/users/{id}", "Get a user", "get", "users"},
		operation{"PATCH", "/api/v1/users/{id}", "Update a user (JSON merge patch)", "user-update", "users"},
		operation{"DELETE", "/api/v1/users/{id}", "Delete a user", "delete", "users"},
		operation{"GET", lead + "/timeline", "The timeline of a lead, newest first: every stage, process, flag and status change, who made it and why", "lead-timeline", "leads"},
		operation{"POST", lead + "/complete-stage", "Complete the lead's current stage (its required fields must be set) and enter the next one", "lead-complete-stage", "leads"},
		operation{"POST", lead + "/move-stage", "Move a lead by hand to any stage of its process (entry conditions are skipped)", "lead-move-stage", "leads"},
		operation{"POST", lead + "/switch-process", "Put a lead in another business process, at the given stage or its first one", "lead-switch-process", "leads"},
		operation{"POST", lead + "/qualify", "Qualify an open lead into an opportunity, matching or creating its contact and account first", "lead-qualify", "leads"},
		operation{"POST", lead + "/disqualify", "Disqualify an open lead, with one of the disqualified reasons", "lead-disqualify", "leads"},
		operation{"POST", lead + "/reactivate", "Reopen a qualified or disqualified lead", "lead-reactivate", "leads"},
		operation{"GET", "/api/v1/queues", "The task queues (telesales, sales) and their settings", "queue-list", ""},
		operation{"PATCH", "/api/v1/queues/{key}", "Change a task queue's settings (JSON merge patch): name, assignment, due_hours", "queue-update", ""},
		operation{"POST", "/api/v1/tasks/{id}/assign", "Assign an open task to a user, or to the next member of its queue", "task-assign", "tasks"},
		operation{"GET", "/api/v1/event-log", "The event outbox, oldest first: what happened, once each, as webhooks receive it", "event-log", ""},
		operation{"GET", webhooksBase, "List webhooks (secrets are never listed)", "webhook-list", "webhooks"},
		operation{"POST", webhooksBase, "Create a webhook; the answer carries its signing secret, shown this once", "webhook-create", "webhooks"},
		operation{"GET", webhooksBase + "/{id}", "Get a webhook (without its secret)", "webhook-get", "webhooks"},
		operation{"PATCH", webhooksBase + "/{id}", "Update a webhook (JSON merge patch); the secret is changed only by rotate-secret", "webhook-update", "webhooks"},
		operation{"DELETE", webhooksBase + "/{id}", "Delete a webhook with its deliveries", "delete", "webhooks"},
		operation{"POST", webhooksBase + "/{id}/rotate-secret", "Give a webhook a new signing secret, shown this once; the old one stops signing at once", "webhook-rotate", "webhooks"},
		operation{"GET", webhooksBase + "/{id}/deliveries", "The deliveries of a webhook, newest first, with the outcome of their last attempt", "webhook-deliveries", "webhooks"},
		operation{"POST", webhooksBase + "/{id}/deliveries/{delivery}/retry", "Send a delivery again now (a pending or failed one)", "webhook-retry", "webhooks"},
	)
	for _, kind := range []string{"process-create", "process-update", "process-delete", "user-create", "user-update",
		"lead-timeline", "lead-complete-stage", "lead-move-stage", "lead-switch-process", "lead-qualify", "lead-disqualify", "lead-reactivate",
		"queue-list", "queue-update", "task-assign", "event-log",
		"webhook-list", "webhook-create", "webhook-get", "webhook-update", "webhook-rotate", "webhook-deliveries", "webhook-retry"} {
		operationDescribers[kind] = describeWorkflow
	}
}

// workflowBases are the plain collection kinds the describer starts from
// before adding what is particular to the route.
var workflowBases = map[string]string{
	"process-create": "create", "process-update": "update", "process-delete": "delete",
	"user-create": "create", "user-update": "update",
	"webhook-create": "create", "webhook-get": "get", "webhook-update": "update",
}

// actionBody is the request body of an action: an object with only the
// given properties.
func actionBody(required bool, props obj, requiredProps ...string) obj {
	s := obj{"type": "object", "additionalProperties": false, "properties": props}
	if len(requiredProps) > 0 {
		s["required"] = requiredProps
	}
	return obj{"required": required, "content": obj{"application/json": obj{"schema": s}}}
}

func describeWorkflow(op operation, out obj) obj {
	if base, ok := workflowBases[op.Kind]; ok {
		plain := op
		plain.Kind = base
		out = describeOperation(plain)
	}
	responses := out["responses"].(obj)
	responses["401"] = problemResponse("No valid API key")
	responses["403"] = problemResponse("The key's role may not do this")
	idParam := idParameter()
	pageParams := pageParameters()
	page := pageResponse
	leadAction := func(id string) {
		out["operationId"] = id
		out["parameters"] = []obj{idParam}
		responses["403"] = problemResponse("The key's role may not do this, or the lead is outside the role's scope (sales keys work on sales-ready leads, telesales keys on telesales-ready ones)")
		responses["404"] = problemResponse("No such lead")
		responses["413"] = problemResponse("The body is too large")
		responses["415"] = problemResponse("The body is not JSON")
	}
	malformed := problemResponse("Malformed JSON, an unknown field, or a value of the wrong type")
	switch op.Kind {
	case "process-create":
		responses["409"] = problemResponse("A process with this key exists")
		responses["422"] = problemResponse("A value breaks a rule, or an expression does not compile (each field named, e.g. stages[2].entry_condition)")
	case "process-update":
		responses["409"] = problemResponse("A removed stage still holds leads (move them first), or another process has this key")
		responses["422"] = problemResponse("A value breaks a rule, an expression does not compile, or is_default is turned off (make another process the default instead)")
	case "process-delete":
		responses["409"] = problemResponse("The process is the default, or leads are still in it")
	case "user-create", "user-update":
		responses["409"] = problemResponse("A user with this email exists")

	case "lead-timeline":
		leadAction("listLeadTimeline")
		delete(responses, "413")
		delete(responses, "415")
		out["parameters"] = append([]obj{idParam}, pageParams...)
		responses["200"] = page("TimelineEntry")
		responses["422"] = problemResponse("A limit or cursor is not valid")
	case "lead-complete-stage":
		leadAction("completeLeadStage")
		out["description"] = "Completing the stage checks its required fields and follows its branches (or goes to the following stage); the next stage's entry condition must hold. The change is written on the timeline and may trigger transitions."
		responses["200"] = jsonResponse("The lead in its next stage", ref("Lead"))
		responses["400"] = problemResponse("The body has fields (complete-stage takes none)")
		responses["409"] = problemResponse("The lead is not open, or its stage is the last one (qualify the lead instead)")
		responses["422"] = problemResponse("Required fields of the stage are missing (one field error each), no branch applies, the next stage's entry condition does not hold, or the lead is in no process")
	case "lead-move-stage":
		leadAction("moveLeadStage")
		out["requestBody"] = actionBody(true, obj{
			"stage":  obj{"type": "string", "description": "The key of a stage of the lead's process"},
			"reason": obj{"type": "string", "description": "Why, for the timeline"},
		}, "stage")
		responses["200"] = jsonResponse("The lead in the stage", ref("Lead"))
		responses["400"] = malformed
		responses["409"] = problemResponse("The lead is not open")
		responses["422"] = problemResponse("stage is missing or not a stage of the lead's process, or the lead is in no process")
	case "lead-switch-process":
		leadAction("switchLeadProcess")
		out["requestBody"] = actionBody(true, obj{
			"process_id": obj{"type": "string", "pattern": "^[0-9]+$", "description": "The process to put the lead in"},
			"stage":      obj{"type": "string", "description": "A stage of that process; its first stage when left out"},
		}, "process_id")
		responses["200"] = jsonResponse("The lead in the new process", ref("Lead"))
		responses["400"] = malformed
		responses["409"] = problemResponse("The lead is not open")
		responses["422"] = problemResponse("process_id is missing or names no process, or stage is not a stage of it")
	case "lead-qualify":
		leadAction("qualifyLead")
		out["description"] = "Creates the opportunity (named after the lead's topic unless opportunity.name is given) and closes the lead as qualified. " +
			"A lead without a contact or account takes the ones given, matched first with the default matching strategies (contacts by email, accounts by domain or name)."
		out["requestBody"] = obj{"required": false, "content": obj{"application/json": obj{"schema": ref("QualifyRequest")}}}
		responses["201"] = obj{"description": "Qualified: the lead, its new opportunity and how the contact and account were found or made",
			"headers": obj{"Location": obj{"description": "The new opportunity", "schema": obj{"type": "string"}}},
			"content": obj{"application/json": obj{"schema": ref("QualifyResult")}}}
		responses["400"] = problemResponse("Malformed JSON, an unknown or read-only field, or a value of the wrong type (named e.g. contact.email)")
		responses["409"] = problemResponse("The lead is not open")
		responses["422"] = problemResponse("The lead has neither a contact nor an account and none is given, or a value breaks a rule (named e.g. opportunity.amount)")
	case "lead-disqualify":
		leadAction("disqualifyLead")
		out["requestBody"] = actionBody(true, obj{
			"reason": obj{"type": "string", "enum": leadcycle.LeadStatusReasons[leadcycle.LeadDisqualified], "description": "The status reason"},
			"note":   obj{"type": "string", "description": "Added to the timeline"},
		}, "reason")
		responses["200"] = jsonResponse("The disqualified lead", ref("Lead"))
		responses["400"] = malformed
		responses["409"] = problemResponse("The lead is not open")
		responses["422"] = problemResponse("reason is missing or not a disqualified reason")
	case "lead-reactivate":
		leadAction("reactivateLead")
		out["requestBody"] = actionBody(false, obj{"note": obj{"type": "string", "description": "Added to the timeline"}})
		responses["200"] = jsonResponse("The lead, open again (status reason new)", ref("Lead"))
		responses["400"] = malformed
		responses["409"] = problemResponse("The lead is already open")

	case "queue-list":
		out["operationId"] = "listQueues"
		out["tags"] = []string{"Task queues"}
		responses["200"] = jsonResponse("Every queue", obj{"type": "object", "required": []string{"items", "next_cursor"},
			"properties": obj{"items": obj{"type": "array", "items": ref("Queue")}, "next_cursor": obj{"type": "string", "description": "Always empty: one page holds every queue."}}})
	case "queue-update":
		out["operationId"] = "updateQueue"
		out["tags"] = []string{"Task queues"}
		out["parameters"] = []obj{{"name": "key", "in": "path", "required": true, "schema": obj{"type": "string", "enum": enums["Queue.key"]}}}
		out["requestBody"] = obj{"required": true, "content": obj{"application/merge-patch+json": obj{"schema": ref("Queue")}, "application/json": obj{"schema": ref("Queue")}}}
		responses["200"] = jsonResponse("The updated queue", ref("Queue"))
		responses["400"] = problemResponse("Malformed JSON, a field other than name, assignment and due_hours, or a value of the wrong type")
		responses["404"] = problemResponse("No such queue")
		responses["413"] = problemResponse("The body is too large")
		responses["415"] = problemResponse("The body is not JSON")
		responses["422"] = problemResponse("A value breaks a rule")
	case "task-assign":
		out["operationId"] = "assignTask"
		out["parameters"] = []obj{idParam}
		out["requestBody"] = actionBody(false, obj{"assignee_id": obj{"type": []any{"string", "null"}, "pattern": "^[0-9]+$",
			"description": "An active user; left out or null: the next member of the task's queue (round-robin)"}})
		responses["200"] = jsonResponse("The assigned task", ref("Task"))
		responses["400"] = malformed
		responses["404"] = problemResponse("No such task")
		responses["409"] = problemResponse("The task is not open")
		responses["413"] = problemResponse("The body is too large")
		responses["415"] = problemResponse("The body is not JSON")
		responses["422"] = problemResponse("The user does not exist or is not active, or the task's queue has no active member (or no queue)")
	case "event-log":
		out["operationId"] = "listEventLog"
		out["tags"] = []string{"Event log"}
		out["parameters"] = []obj{
			{"name": "after", "in": "query", "schema": obj{"type": "integer", "minimum": 0, "default": 0}, "description": "Only events with a greater id: next_cursor of the previous page"},
			{"name": "limit", "in": "query", "schema": obj{"type": "integer", "minimum": 1, "maximum": leadcycle.MaxLimit, "default": leadcycle.DefaultLimit}},
		}
		responses["200"] = jsonResponse("One page, oldest first", obj{"type": "object", "required": []string{"items", "next_cursor"},
			"properties": obj{"items": obj{"type": "array", "items": ref("Occurrence")}, "next_cursor": obj{"type": "string",
				"description": "Pass as after for the next page; empty when the page is not full."}}})
		responses["422"] = problemResponse("A parameter other than after and limit, or a value that is not a whole number in range")

	case "webhook-list":
		out["operationId"] = "listWebhooks"
		out["parameters"] = pageParams
		responses["200"] = page("Webhook")
		responses["422"] = problemResponse("A parameter other than limit and cursor, or a value that is not valid")
	case "webhook-create":
		out["description"] = "The server generates the signing secret; the answer is the only time it is shown. The URL's host must resolve to public addresses " +
			"unless the server allows private ones (--webhook-allow-private) or lists the host (--webhook-allow-hosts)."
		responses["201"] = obj{"description": "Created, with its secret",
			"headers": obj{"Location": obj{"description": "The new webhook", "schema": obj{"type": "string"}}},
			"content": obj{"application/json": obj{"schema": ref("Webhook")}}}
		responses["415"] = problemResponse("The body is not JSON")
		responses["422"] = problemResponse("A value breaks a rule, or the URL's host is refused (a private, loopback or unresolvable address)")
	case "webhook-get":
		responses["200"] = jsonResponse("The webhook, without its secret", ref("Webhook"))
	case "webhook-update":
		responses["200"] = jsonResponse("The updated webhook, without its secret", ref("Webhook"))
		responses["422"] = problemResponse("A value breaks a rule, or the URL's host is refused (a private, loopback or unresolvable address)")
	case "webhook-rotate":
		out["operationId"] = "rotateWebhookSecret"
		out["parameters"] = []obj{idParam}
		responses["200"] = jsonResponse("The webhook with its new secret, shown this once", ref("Webhook"))
		responses["400"] = problemResponse("The body has fields (rotate-secret takes none)")
		responses["404"] = problemResponse("No such webhook")
	case "webhook-deliveries":
		out["operationId"] = "listWebhookDeliveries"
		out["parameters"] = append([]obj{idParam}, pageParams...)
		responses["200"] = page("WebhookDelivery")
		responses["404"] = problemResponse("No such webhook")
		responses["422"] = problemResponse("A limit or cursor is not valid")
	case "webhook-retry":
		out["operationId"] = "retryWebhookDelivery"
		out["parameters"] = []obj{idParam, {"name": "delivery", "in": "path", "required": true, "schema": obj{"type": "string", "pattern": "^[0-9]+$"}}}
		responses["200"] = jsonResponse("The delivery, pending and due now", ref("WebhookDelivery"))
		responses["400"] = problemResponse("The body has fields (retry takes none)")
		responses["404"] = problemResponse("No such webhook, or no such delivery of it")
		responses["409"] = problemResponse("The delivery was delivered; it is not sent again")
	}
	return out
}
