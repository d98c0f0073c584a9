package leadcycle

import (
	"encoding/json"
	"reflect"
	"strconv"
)

// ID identifies a record. It is an integer in storage and a string on the wire
// (SPEC §8: string ids).
type ID int64

// String returns the decimal form of the id.
func (id ID) String() string { return strconv.FormatInt(int64(id), 10) }

// MarshalJSON writes the id as a JSON string.
func (id ID) MarshalJSON() ([]byte, error) {
	return []byte(`"` + id.String() + `"`), nil
}

// UnmarshalJSON reads an id from a JSON string of decimal digits. Any other JSON
// value is a type error, which the decoder reports with the field's name.
func (id *ID) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return &json.UnmarshalTypeError{Value: jsonKind(b), Type: reflect.TypeFor[ID]()}
	}
	v, ok := ParseID(s)
	if !ok {
		return &json.UnmarshalTypeError{Value: "string " + strconv.Quote(s), Type: reflect.TypeFor[ID]()}
	}
	*id = v
	return nil
}

// ParseID parses a positive decimal id.
func ParseID(s string) (ID, bool) {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v <= 0 {
		return 0, false
	}
	return ID(v), true
}

// IDPtr returns a pointer to id, for optional references.
func IDPtr(id ID) *ID { return &id }

func jsonKind(b []byte) string {
	if len(b) == 0 {
		return "empty"
	}
	switch b[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	case '"':
		return "string"
	default:
		return "number"
	}
}
