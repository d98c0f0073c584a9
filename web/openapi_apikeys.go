package web

import (
	"reflect"

	"github.com/leadcycle/leadcycle"
)

// OpenAPI of API keys: the routes of registerAPIKeys.

func init() {
	schemaTypes["APIKey"] = reflect.TypeFor[leadcycle.APIKey]()
	schemaTypes["NewAPIKey"] = reflect.TypeFor[newAPIKey]()
	for _, schema := range []string{"APIKey", "NewAPIKey"} {
		enums[schema+".role"] = leadcycle.Roles
		for k, d := range map[string]string{
			"name":         "Who or what uses the key.",
			"prefix":       "The first characters of the secret, to tell keys apart; the secret itself is never stored.",
			"last_used_at": "When the key last authenticated a request (recorded at most once a minute).",
			"revoked_at":   "When the key was revoked; a revoked key authenticates nothing.",
		} {
			fieldDescriptions[schema+"."+k] = d
		}
		for _, f := range []string{"prefix", "last_used_at", "revoked_at"} {
			readOnlyFields[schema+"."+f] = true
		}
	}
	fieldDescriptions["NewAPIKey.secret"] = "The key to send as Authorization: Bearer <secret>. Shown only in this answer: only its hash is stored."
	readOnlyFields["NewAPIKey.secret"] = true
	operations = append(operations,
		operation{"GET", apiKeysBase, "List API keys, revoked ones included (admins; secrets are never shown again)", "apikey-list", "api-keys"},
		operation{"POST", apiKeysBase, "Create an API key (admins); the answer carries its secret, shown this once", "apikey-create", "api-keys"},
		operation{"DELETE", apiKeysBase + "/{id}", "Revoke an API key (admins); it stops authenticating at once", "apikey-revoke", "api-keys"},
	)
	for _, kind := range []string{"apikey-list", "apikey-create", "apikey-revoke"} {
		operationDescribers[kind] = describeAPIKeys
	}
}

func describeAPIKeys(op operation, out obj) obj {
	out["tags"] = []string{"API keys"}
	responses := out["responses"].(obj)
	responses["401"] = problemResponse("No valid API key")
	responses["403"] = problemResponse("Only admins manage API keys")
	switch op.Kind {
	case "apikey-list":
		out["operationId"] = "listAPIKeys"
		responses["200"] = jsonResponse("Every key, oldest first", obj{"type": "object", "required": []string{"items", "next_cursor"},
			"properties": obj{"items": obj{"type": "array", "items": ref("APIKey")}, "next_cursor": obj{"type": "string", "description": "Always empty: one page holds every key."}}})
	case "apikey-create":
		out["operationId"] = "createAPIKey"
		out["requestBody"] = actionBody(true, obj{
			"name": obj{"type": "string", "maxLength": 200, "description": "Who or what uses the key"},
			"role": obj{"type": "string", "enum": leadcycle.Roles, "description": "What the key may do"},
		}, "name", "role")
		responses["201"] = jsonResponse("The key with its secret", ref("NewAPIKey"))
		responses["400"] = problemResponse("Malformed JSON, a field other than name and role, or a value of the wrong type")
		responses["413"] = problemResponse("The body is too large")
		responses["415"] = problemResponse("The body is not JSON")
		responses["422"] = problemResponse("name is missing or too long, or role is not a role (each field named)")
	case "apikey-revoke":
		out["operationId"] = "revokeAPIKey"
		out["parameters"] = []obj{idParameter()}
		responses["204"] = obj{"description": "Revoked"}
		responses["404"] = problemResponse("No such key, or it is revoked already")
	}
	return out
}
