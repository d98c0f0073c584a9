package leadcycle

import (
	"encoding/json"
	"errors"
	"io"
)

// JSONPersonalData writes a personal data export as one JSON object: the
// header's fields, then one member per section; list sections are arrays.
// Every value is encoded on its own as it arrives, so the document is never
// held in memory whole.
type JSONPersonalData struct {
	w       io.Writer
	enc     *json.Encoder
	members int  // members written so far
	inList  bool // an array is open
	items   int  // items of the open array
	err     error
}

// NewJSONPersonalData returns a writer that writes the export to w.
func NewJSONPersonalData(w io.Writer) *JSONPersonalData {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return &JSONPersonalData{w: w, enc: enc}
}

var errJSONOrder = errors.New("personal data export: sections written out of order")

// Begin implements PersonalDataWriter.
func (j *JSONPersonalData) Begin(h PersonalDataHeader) error {
	if j.members != 0 {
		return errJSONOrder
	}
	j.write("{")
	j.member("format", h.Format)
	j.member("format_version", h.Version)
	j.member("exported_at", h.ExportedAt)
	j.member("contact_id", h.ContactID)
	return j.err
}

// Value implements PersonalDataWriter.
func (j *JSONPersonalData) Value(section string, v any) error {
	if j.members == 0 {
		return errJSONOrder
	}
	j.closeList()
	j.member(section, v)
	return j.err
}

// List implements PersonalDataWriter.
func (j *JSONPersonalData) List(section string) error {
	if j.members == 0 {
		return errJSONOrder
	}
	j.closeList()
	j.key(section)
	j.write("[")
	j.inList, j.items = true, 0
	return j.err
}

// Item implements PersonalDataWriter.
func (j *JSONPersonalData) Item(v any) error {
	if !j.inList {
		return errJSONOrder
	}
	if j.items > 0 {
		j.write(",")
	}
	j.items++
	j.encode(v)
	return j.err
}

// End implements PersonalDataWriter.
func (j *JSONPersonalData) End() error {
	if j.members == 0 {
		return errJSONOrder
	}
	j.closeList()
	j.write("}\n")
	return j.err
}

// member writes "name": value, after a comma unless it is the first.
func (j *JSONPersonalData) member(name string, v any) {
	j.key(name)
	j.encode(v)
}

func (j *JSONPersonalData) key(name string) {
	if j.members > 0 {
		j.write(",")
	}
	j.members++
	j.encode(name)
	j.write(":")
}

func (j *JSONPersonalData) closeList() {
	if j.inList {
		j.write("]")
		j.inList = false
	}
}

// encode writes one value (followed by a newline, which JSON allows between
// tokens); the first error sticks.
func (j *JSONPersonalData) encode(v any) {
	if j.err == nil {
		j.err = j.enc.Encode(v)
	}
}

func (j *JSONPersonalData) write(s string) {
	if j.err == nil {
		_, j.err = io.WriteString(j.w, s)
	}
}
