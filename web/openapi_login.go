package web

import (
	"fmt"
	"reflect"

	"github.com/leadcycle/leadcycle"
)

// OpenAPI of browser sessions (log in, log out, the current session) and of
// setting a user's password: the routes of registerLogin.

func init() {
	schemaTypes["Session"] = reflect.TypeFor[sessionView]()
	fieldDescriptions["Session.csrf_token"] = "Send it in the " + CSRFHeader + " header of every request of the session that changes something."
	operations = append(operations,
		operation{"POST", "/auth/login", "Log in with email and password: opens a browser session (cookie " + SessionCookie + ")", "login", ""},
		operation{"POST", "/auth/logout", "End the browser session", "logout", ""},
		operation{"GET", "/auth/session", "The current browser session: its user and CSRF token", "session", ""},
		operation{"POST", "/api/v1/users/{id}/password", "Set a user's password (admins); the user's sessions end", "set-password", "users"},
	)
	for _, kind := range []string{"login", "logout", "session", "set-password"} {
		operationDescribers[kind] = describeLogin
	}
}

func describeLogin(op operation, out obj) obj {
	responses := out["responses"].(obj)
	body := func(props obj, required ...string) obj {
		return obj{"required": true, "content": obj{"application/json": obj{"schema": obj{"type": "object", "additionalProperties": false, "properties": props, "required": required}}}}
	}
	session := obj{"in": "cookie", "name": SessionCookie, "required": true, "schema": obj{"type": "string"}}
	csrf := obj{"in": "header", "name": CSRFHeader, "required": true, "schema": obj{"type": "string"}}
	switch op.Kind {
	case "login":
		out["operationId"] = "login"
		out["security"] = []obj{}
		out["requestBody"] = body(obj{"email": obj{"type": "string", "format": "email"}, "password": obj{"type": "string"}}, "email", "password")
		responses["200"] = jsonResponse("Signed in; the response sets the session cookie (HttpOnly, SameSite=Lax, Secure over TLS)", ref("Session"))
		responses["400"] = problemResponse("Malformed JSON or an unknown field")
		responses["401"] = problemResponse("The email or the password is wrong (the same answer for an unknown email)")
		responses["422"] = problemResponse("The email or the password is missing")
		responses["429"] = problemResponse(fmt.Sprintf("Too many logins from this address, or the account is locked after %d wrong passwords in a row (for %s)", leadcycle.MaxLoginFailures, leadcycle.LoginLockout))
	case "logout":
		out["operationId"] = "logout"
		out["security"] = []obj{}
		out["parameters"] = []obj{session, csrf}
		responses["204"] = obj{"description": "The session has ended; the cookie is cleared"}
		responses["401"] = problemResponse("No live session")
		responses["403"] = problemResponse("The CSRF token is missing or wrong")
	case "session":
		out["operationId"] = "getSession"
		out["security"] = []obj{}
		out["parameters"] = []obj{session}
		responses["200"] = jsonResponse("The session", ref("Session"))
		responses["401"] = problemResponse("No live session")
	case "set-password":
		out["operationId"] = "setUserPassword"
		out["parameters"] = []obj{idParameter()}
		out["requestBody"] = body(obj{"password": obj{"type": "string", "minLength": 10, "description": "At least 10 characters, not a common password, not the user's email or name"}}, "password")
		responses["204"] = obj{"description": "Set; the user's sessions have ended"}
		responses["401"] = problemResponse("No valid API key or session")
		responses["403"] = problemResponse("Only admins set passwords")
		responses["404"] = problemResponse("No such user")
		responses["422"] = problemResponse("The password is too weak (field password)")
	}
	return out
}
