package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/leadcycle/leadcycle"
)

// resource serves one collection: list, create, get, update (PATCH), delete.
type resource[T leadcycle.Record] struct {
	name   string // collection name and path segment, e.g. "contacts"
	schema string // OpenAPI schema name, e.g. "Contact"
	repo   func() leadcycle.Repo[T]
	// readOnly lists JSON fields clients may not set, besides id and times.
	readOnly []string
	// appendOnly records can be created and deleted but never changed.
	appendOnly bool
	// adjustPatch, if set, rewrites a PATCH body before it is merged.
	adjustPatch func(patch map[string]json.RawMessage)
	// patch, if set, serves PATCH in place of the plain merge patch.
	patch func(res resource[T], s *Server, w http.ResponseWriter, r *http.Request)
	// checkCreate and checkPatch, if set, check a create request's fields
	// or a merge patch first.
	checkCreate, checkPatch func(r *http.Request, fields map[string]json.RawMessage) error
	// defaults, if set, fills a new record before the request's fields are
	// decoded onto it.
	defaults func(v *T)
	// scope, if set, limits lists to what the caller may see.
	scope func(r *http.Request, q *leadcycle.ListQuery)
}

// adjustLeadPatch keeps status and status reason together: a patch that sets
// only one of them lets the other follow (the default reason of the new
// status, or the status a new reason belongs to).
func adjustLeadPatch(patch map[string]json.RawMessage) {
	_, status := patch["status"]
	_, reason := patch["status_reason"]
	switch {
	case status && !reason:
		patch["status_reason"] = json.RawMessage("null")
	case reason && !status:
		patch["status"] = json.RawMessage("null")
	}
}

var alwaysReadOnly = []string{"id", "created_at", "updated_at"}

func register[T leadcycle.Record](s *Server, res resource[T]) {
	res.readOnly = append(res.readOnly, alwaysReadOnly...)
	base := "/api/v1/" + res.name
	s.handle("GET", base, leadcycle.Perm(res.name, leadcycle.ActionRead), res.list)
	s.handle("POST", base, leadcycle.Perm(res.name, leadcycle.ActionWrite), func(w http.ResponseWriter, r *http.Request) { res.create(s, w, r) })
	s.handle("GET", base+"/{id}", leadcycle.Perm(res.name, leadcycle.ActionRead), res.get)
	if !res.appendOnly {
		update := res.update
		if res.patch != nil {
			update = func(s *Server, w http.ResponseWriter, r *http.Request) { res.patch(res, s, w, r) }
		}
		s.handle("PATCH", base+"/{id}", leadcycle.Perm(res.name, leadcycle.ActionWrite), func(w http.ResponseWriter, r *http.Request) { update(s, w, r) })
	}
	s.handle("DELETE", base+"/{id}", leadcycle.Perm(res.name, leadcycle.ActionDelete), res.delete)
}

func (res resource[T]) singular() string { return strings.TrimSuffix(res.name, "s") }

func pathID(r *http.Request) (leadcycle.ID, error) {
	id, ok := leadcycle.ParseID(r.PathValue("id"))
	if !ok {
		return 0, leadcycle.Errorf(leadcycle.ENotFound, "no record with id %q", r.PathValue("id"))
	}
	return id, nil
}

func (res resource[T]) get(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	v, err := res.repo().Get(r.Context(), id)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (res resource[T]) create(s *Server, w http.ResponseWriter, r *http.Request) {
	fields, err := s.readObject(w, r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if err := res.checkWritable(fields); err != nil {
		writeError(w, r, err)
		return
	}
	if res.checkCreate != nil {
		if err := res.checkCreate(r, fields); err != nil {
			writeError(w, r, err)
			return
		}
	}
	v := new(T)
	if res.defaults != nil {
		res.defaults(v)
	}
	if err := decodeFields(fields, v, res.singular()); err != nil {
		writeError(w, r, err)
		return
	}
	if err := res.repo().Create(r.Context(), v); err != nil {
		writeError(w, r, err)
		return
	}
	id := reflect.ValueOf(v).Elem().FieldByName("ID").Interface().(leadcycle.ID)
	w.Header().Set("Location", "/api/v1/"+res.name+"/"+id.String())
	writeJSON(w, http.StatusCreated, v)
}

// readPatch reads the id in the path and a merge patch that sets only
// writable fields.
func (res resource[T]) readPatch(s *Server, w http.ResponseWriter, r *http.Request) (leadcycle.ID, map[string]json.RawMessage, error) {
	id, err := pathID(r)
	if err != nil {
		return 0, nil, err
	}
	patch, err := s.readObject(w, r)
	if err != nil {
		return 0, nil, err
	}
	return id, patch, res.checkWritable(patch)
}

func (res resource[T]) update(s *Server, w http.ResponseWriter, r *http.Request) {
	id, patch, err := res.readPatch(s, w, r)
	if err == nil && res.checkPatch != nil {
		err = res.checkPatch(r, patch)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	if res.adjustPatch != nil {
		res.adjustPatch(patch)
	}
	v, err := res.repo().Update(r.Context(), id, applyPatch[T](patch, res.singular()))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// applyPatch returns a function that applies a JSON merge patch to a record:
// the record is turned into JSON, merged and decoded again, so every error
// names its field.
func applyPatch[T any](patch map[string]json.RawMessage, entity string) func(cur *T) error {
	return func(cur *T) error {
		doc, err := toObject(cur)
		if err != nil {
			return err
		}
		for k, p := range patch {
			merged, keep := mergePatch(doc[k], p)
			if keep {
				doc[k] = merged
			} else {
				delete(doc, k)
			}
		}
		var next T
		if err := decodeFields(doc, &next, entity); err != nil {
			return err
		}
		*cur = next
		return nil
	}
}

func (res resource[T]) delete(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if err := res.repo().Delete(r.Context(), id); err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (res resource[T]) checkWritable(fields map[string]json.RawMessage) error {
	var errs []leadcycle.FieldError
	for _, k := range sortedKeys(fields) {
		if slices.Contains(res.readOnly, k) {
			errs = append(errs, leadcycle.FieldError{Field: k, Message: "is read-only"})
		}
	}
	if len(errs) > 0 {
		return &leadcycle.Error{Code: leadcycle.EMalformed, Message: errs[0].Field + ": " + errs[0].Message, Fields: errs}
	}
	return nil
}

// readObject reads a JSON object body of at most the server's size limit.
func (s *Server) readObject(w http.ResponseWriter, r *http.Request) (map[string]json.RawMessage, error) {
	return s.readBody(w, r, false)
}

// readOptionalObject is readObject for routes whose body may be left out; an
// empty body gives an empty object.
func (s *Server) readOptionalObject(w http.ResponseWriter, r *http.Request) (map[string]json.RawMessage, error) {
	return s.readBody(w, r, true)
}

func (s *Server) readBody(w http.ResponseWriter, r *http.Request, optional bool) (map[string]json.RawMessage, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return nil, leadcycle.Errorf(leadcycle.EUnsupported, "the body must be JSON (Content-Type: application/json), not %q", ct)
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxBody))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, leadcycle.Errorf(leadcycle.ETooLarge, "the request body is larger than %d bytes", s.maxBody)
	}
	if err != nil {
		return nil, leadcycle.Errorf(leadcycle.EMalformed, "could not read the request body")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if optional {
			return map[string]json.RawMessage{}, nil
		}
		return nil, leadcycle.Errorf(leadcycle.EMalformed, "the request body is empty; send a JSON object")
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return nil, malformed(err)
	}
	if fields == nil {
		return nil, leadcycle.Errorf(leadcycle.EMalformed, "the request body must be a JSON object")
	}
	return fields, nil
}

func malformed(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return leadcycle.Errorf(leadcycle.EMalformed, "the body is not valid JSON: %s (at byte %d)", syn.Error(), syn.Offset)
	case errors.As(err, &typ) && typ.Field == "":
		return leadcycle.Errorf(leadcycle.EMalformed, "the request body must be a JSON object, not %s", typ.Value)
	default:
		return leadcycle.Errorf(leadcycle.EMalformed, "the body is not valid JSON: %v", err)
	}
}

// decodeFields decodes each top-level field into v separately, so every
// error names its field; unknown fields and wrong types are all reported.
func decodeFields(fields map[string]json.RawMessage, v any, entity string) error {
	errs := decodeFieldsAt(fields, v, entity, "")
	if len(errs) > 0 {
		return &leadcycle.Error{Code: leadcycle.EMalformed, Message: errs[0].Field + ": " + errs[0].Message, Fields: errs}
	}
	return nil
}

// decodeFieldsAt decodes fields into v (a pointer to a struct) one at a time.
// Errors inside nested objects and arrays are located by decoding their
// parts separately, so that they name the whole path, e.g.
// rules[2].behaviors[0].count; prefix starts every name.
func decodeFieldsAt(fields map[string]json.RawMessage, v any, entity, prefix string) []leadcycle.FieldError {
	var errs []leadcycle.FieldError
	for _, k := range sortedKeys(fields) {
		one, _ := json.Marshal(map[string]json.RawMessage{k: fields[k]})
		dec := json.NewDecoder(bytes.NewReader(one))
		dec.DisallowUnknownFields()
		err := dec.Decode(v)
		if err == nil {
			continue
		}
		if inner := locateDecodeErrors(fields[k], jsonFieldType(reflect.TypeOf(v), k), prefix+k); len(inner) > 0 {
			errs = append(errs, inner...)
			continue
		}
		fe := fieldDecodeError(k, entity, err)
		fe.Field = prefix + fe.Field
		errs = append(errs, fe)
	}
	return errs
}

var jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()

// locateDecodeErrors decodes the parts of a nested object or array of type t
// separately and returns their errors, named from path; nil when raw is not
// a nested object or array of t (the caller then reports the error itself).
func locateDecodeErrors(raw json.RawMessage, t reflect.Type, path string) []leadcycle.FieldError {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || reflect.PointerTo(t).Implements(jsonUnmarshaler) {
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		var fields map[string]json.RawMessage
		if json.Unmarshal(raw, &fields) != nil || fields == nil {
			return nil
		}
		return decodeFieldsAt(fields, reflect.New(t).Interface(), "", path+".")
	case reflect.Slice:
		var items []json.RawMessage
		if json.Unmarshal(raw, &items) != nil {
			return nil
		}
		var errs []leadcycle.FieldError
		for i, item := range items {
			at := fmt.Sprintf("%s[%d]", path, i)
			if inner := locateDecodeErrors(item, t.Elem(), at); len(inner) > 0 {
				errs = append(errs, inner...)
				continue
			}
			if err := json.Unmarshal(item, reflect.New(t.Elem()).Interface()); err != nil {
				errs = append(errs, fieldDecodeError(at, "", err))
			}
		}
		return errs
	}
	return nil
}

// jsonFieldType returns the type of the field of struct type t (or pointer
// to it) whose JSON name is name, or nil.
func jsonFieldType(t reflect.Type, name string) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if strings.Split(f.Tag.Get("json"), ",")[0] == name {
			return f.Type
		}
	}
	return nil
}

func fieldDecodeError(key, entity string, err error) leadcycle.FieldError {
	var typ *json.UnmarshalTypeError
	var perr *time.ParseError
	switch {
	case errors.As(err, &typ):
		field := key
		if typ.Field != "" {
			field = typ.Field
		}
		return leadcycle.FieldError{Field: field, Message: "must be " + describeType(typ.Type) + ", not " + typ.Value}
	case errors.As(err, &perr):
		return leadcycle.FieldError{Field: key, Message: "must be an RFC 3339 time such as 2026-05-01T09:30:00Z"}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		if name == key && entity != "" {
			return leadcycle.FieldError{Field: key, Message: "is not a field of " + entity}
		}
		if name == key {
			return leadcycle.FieldError{Field: key, Message: "is not a known field"}
		}
		return leadcycle.FieldError{Field: key + "." + name, Message: "is not a known field"}
	default:
		return leadcycle.FieldError{Field: key, Message: "is not valid: " + strings.TrimPrefix(err.Error(), "json: ")}
	}
}

func describeType(t reflect.Type) string {
	if t == reflect.TypeFor[leadcycle.ID]() {
		return `a string id such as "42"`
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "an integer"
	case reflect.Float64, reflect.Float32:
		return "a number"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Slice:
		return "an array"
	default:
		return t.String()
	}
}

func toObject(v any) (map[string]json.RawMessage, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	return m, json.Unmarshal(b, &m)
}

// mergePatch applies an RFC 7396 JSON merge patch to target; keep is false
// when the result is to be removed (the patch was null).
func mergePatch(target, patch json.RawMessage) (out json.RawMessage, keep bool) {
	p := bytes.TrimSpace(patch)
	if bytes.Equal(p, []byte("null")) {
		return nil, false
	}
	if len(p) == 0 || p[0] != '{' {
		return patch, true
	}
	var pm map[string]json.RawMessage
	if json.Unmarshal(p, &pm) != nil {
		return patch, true
	}
	var tm map[string]json.RawMessage
	if json.Unmarshal(target, &tm) != nil || tm == nil {
		tm = map[string]json.RawMessage{}
	}
	for k, v := range pm {
		merged, keep := mergePatch(tm[k], v)
		if keep {
			tm[k] = merged
		} else {
			delete(tm, k)
		}
	}
	b, _ := json.Marshal(tm)
	return b, true
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// listParams are the query parameters every list accepts besides filters.
var listParams = []string{"limit", "cursor", "sort"}

func (res resource[T]) list(w http.ResponseWriter, r *http.Request) {
	q, err := parseListQuery(r, leadcycle.ListSpecs[res.name])
	if err != nil {
		writeError(w, r, err)
		return
	}
	if res.scope != nil {
		res.scope(r, &q)
	}
	page, err := res.repo().List(r.Context(), q)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

// parseListQuery turns query parameters into a ListQuery through the
// collection's allowlist; anything else is an error naming the parameter.
// ListQueryOf reads the list parameters of a request (filters, sort, limit,
// cursor) against a collection's allowlist, as the API does; the CLI's
// export uses it for its filters.
func ListQueryOf(r *http.Request, spec leadcycle.ListSpec) (leadcycle.ListQuery, error) {
	return parseListQuery(r, spec)
}

func parseListQuery(r *http.Request, spec leadcycle.ListSpec) (leadcycle.ListQuery, error) {
	var q leadcycle.ListQuery
	var errs []leadcycle.FieldError
	bad := func(field, msg string) { errs = append(errs, leadcycle.FieldError{Field: field, Message: msg}) }
	values := r.URL.Query()
	for _, name := range sortedKeys(values) {
		vals := values[name]
		val := vals[len(vals)-1]
		switch name {
		case "limit":
			n, err := strconv.Atoi(val)
			if err != nil || n < 1 || n > leadcycle.MaxLimit {
				bad(name, fmt.Sprintf("must be a whole number from 1 to %d", leadcycle.MaxLimit))
			}
			q.Limit = n
			continue
		case "cursor":
			q.Cursor = val
			continue
		case "sort":
			q.Desc = strings.HasPrefix(val, "-")
			q.Sort = strings.TrimPrefix(val, "-")
			if !slices.Contains(spec.Sorts, q.Sort) {
				bad(name, "must be one of: "+strings.Join(spec.Sorts, ", ")+" (prefix - for descending)")
			}
			continue
		}
		i := slices.IndexFunc(spec.Filters, func(f leadcycle.FilterSpec) bool { return f.Param == name })
		if i < 0 {
			names := slices.Clone(listParams)
			for _, f := range spec.Filters {
				names = append(names, f.Param)
			}
			bad(name, "is not a filter of this list; use one of: "+strings.Join(names, ", "))
			continue
		}
		f, msg := parseFilter(spec.Filters[i], val)
		if msg != "" {
			bad(name, msg)
			continue
		}
		q.Filters = append(q.Filters, f)
	}
	if len(errs) > 0 {
		return q, &leadcycle.Error{Code: leadcycle.EInvalid, Message: errs[0].Field + ": " + errs[0].Message, Fields: errs}
	}
	return q, nil
}

func parseFilter(fs leadcycle.FilterSpec, val string) (leadcycle.Filter, string) {
	f := leadcycle.Filter{Columns: strings.Split(fs.Column, ","), Op: fs.Op}
	switch fs.Kind {
	case leadcycle.KindID:
		id, ok := leadcycle.ParseID(val)
		if !ok {
			return f, "must be a record id"
		}
		f.Value = id
	case leadcycle.KindBool:
		b, err := strconv.ParseBool(val)
		if err != nil {
			return f, "must be true or false"
		}
		f.Value = b
	case leadcycle.KindTime:
		t, err := time.Parse(time.RFC3339Nano, val)
		if err != nil {
			return f, "must be an RFC 3339 time such as 2026-05-01T09:30:00Z"
		}
		f.Value = t
	default:
		if len(fs.Allowed) > 0 && !slices.Contains(fs.Allowed, val) {
			return f, "must be one of: " + strings.Join(fs.Allowed, ", ")
		}
		if fs.Column == "email" {
			val = leadcycle.NormalizeEmail(val)
		}
		f.Value = val
	}
	return f, ""
}
