// Package leadcycle holds the domain of the lead lifecycle engine: the records
// (contacts, accounts, leads, opportunities, interactions, tasks, custom field
// definitions, API keys), the rules that keep them valid, and the interfaces that
// storage and transport implement. It depends on nothing but the standard library.
package leadcycle

import (
	"errors"
	"fmt"
)

// Error codes. The transport layer maps each one to a status code in one table.
const (
	EMalformed    = "malformed"     // the request could not be read (bad JSON, wrong type, unknown field)
	EInvalid      = "invalid"       // the request was read but breaks a rule
	ENotFound     = "not_found"     // the record does not exist
	EConflict     = "conflict"      // the request conflicts with the current state
	EUnauthorized = "unauthorized"  // no valid credentials
	EForbidden    = "forbidden"     // valid credentials without the needed role
	ETooLarge     = "too_large"     // the request body is too large
	EUnsupported  = "unsupported"   // the operation or media type is not supported
	EInternal     = "internal"      // anything else
	ERateLimited  = "rate_limited"  // too many requests
	EUnavailable  = "unavailable"   // a dependency is down
	EMethod       = "method_denied" // the method is not allowed on the resource
)

// FieldError names one field of a request and what is wrong with it.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is the domain error: a code, a human-readable message and, for
// validation failures, the fields at fault.
type Error struct {
	Code    string
	Message string
	Fields  []FieldError
}

// Error implements the error interface.
func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return fmt.Sprintf("leadcycle: %s: %s", e.Code, e.Message)
	}
	return fmt.Sprintf("leadcycle: %s: %s (%s: %s)", e.Code, e.Message, e.Fields[0].Field, e.Fields[0].Message)
}

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldErrorf returns an *Error with the given code and one field error.
func FieldErrorf(code, field, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	return &Error{Code: code, Message: field + ": " + msg, Fields: []FieldError{{Field: field, Message: msg}}}
}

// ErrorCode returns the code of err, EInternal for errors that are not *Error,
// and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

// ErrorMessage returns the message of an *Error, or a generic message for other
// errors so that internal details never reach a client.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// ErrorFields returns the field errors carried by err, if any.
func ErrorFields(err error) []FieldError {
	var e *Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}
