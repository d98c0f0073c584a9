package web

import (
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/leadcycle/leadcycle"
)

// statusCodes maps domain error codes to HTTP status codes, in one place.
var statusCodes = map[string]int{
	leadcycle.EMalformed:    http.StatusBadRequest,
	leadcycle.EInvalid:      http.StatusUnprocessableEntity,
	leadcycle.ENotFound:     http.StatusNotFound,
	leadcycle.EConflict:     http.StatusConflict,
	leadcycle.EUnauthorized: http.StatusUnauthorized,
	leadcycle.EForbidden:    http.StatusForbidden,
	leadcycle.ETooLarge:     http.StatusRequestEntityTooLarge,
	leadcycle.EUnsupported:  http.StatusUnsupportedMediaType,
	leadcycle.EMethod:       http.StatusMethodNotAllowed,
	leadcycle.ERateLimited:  http.StatusTooManyRequests,
	leadcycle.EUnavailable:  http.StatusServiceUnavailable,
	leadcycle.EInternal:     http.StatusInternalServerError,
}

// StatusCode returns the HTTP status for a domain error code.
func StatusCode(code string) int {
	if s, ok := statusCodes[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Problem is an RFC 9457 problem document.
type Problem struct {
	Type      string                 `json:"type"`
	Title     string                 `json:"title"`
	Status    int                    `json:"status"`
	Detail    string                 `json:"detail"`
	Errors    []leadcycle.FieldError `json:"errors,omitempty"`
	RequestID string                 `json:"request_id,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// writeError answers with a problem document for err. Internal errors are
// logged with the request id and never shown to the client.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := leadcycle.ErrorCode(err)
	status := StatusCode(code)
	p := Problem{
		Type:      "about:blank",
		Title:     http.StatusText(status),
		Status:    status,
		Detail:    leadcycle.ErrorMessage(err),
		Errors:    leadcycle.ErrorFields(err),
		RequestID: requestID(r.Context()),
	}
	if code == leadcycle.EInternal {
		logger(r.Context()).Error("internal error", slog.String("error", err.Error()))
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="leadcycle"`)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(p)
}
