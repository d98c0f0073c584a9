package leadcycle_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/leadcycle/leadcycle"
)

func TestJSONPersonalDataWritesOneObject(t *testing.T) {
	var buf bytes.Buffer
	w := leadcycle.NewJSONPersonalData(&buf)
	at := time.Date(2026, 5, 1, 9, 30, 0, 0, time.UTC)
	steps := []error{
		w.Begin(leadcycle.PersonalDataHeader{Format: leadcycle.PersonalDataFormat, Version: 1, ExportedAt: at, ContactID: 7}),
		w.Value("contact", map[string]string{"email": "a&b@example.org"}),
		w.Value("account", nil),
		w.List("empty"),
		w.List("items"),
		w.Item(1), w.Item(map[string]int{"n": 2}),
		w.End(),
	}
	for i, err := range steps {
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, buf.Bytes())
	}
	want := map[string]any{"format": leadcycle.PersonalDataFormat, "format_version": 1.0, "exported_at": "2026-05-01T09:30:00Z", "contact_id": "7",
		"contact": map[string]any{"email": "a&b@example.org"}, "account": nil, "empty": []any{}, "items": []any{1.0, map[string]any{"n": 2.0}}}
	gb, _ := json.Marshal(got)
	wb, _ := json.Marshal(want)
	if !bytes.Equal(gb, wb) {
		t.Errorf("got %s\nwant %s", gb, wb)
	}
	if !strings.Contains(buf.String(), `"a&b@example.org"`) {
		t.Errorf("HTML characters escaped: %s", buf.String())
	}
}

func TestJSONPersonalDataRefusesDisorder(t *testing.T) {
	w := leadcycle.NewJSONPersonalData(&bytes.Buffer{})
	if w.Value("contact", nil) == nil || w.List("x") == nil || w.Item(1) == nil || w.End() == nil {
		t.Error("sections before Begin were accepted")
	}
	_ = w.Begin(leadcycle.PersonalDataHeader{})
	if w.Item(1) == nil {
		t.Error("an item outside a list was accepted")
	}
	if w.Begin(leadcycle.PersonalDataHeader{}) == nil {
		t.Error("a second Begin was accepted")
	}
}

// failAfter is a writer that fails once n bytes were written.
type failAfter struct{ n int }

func (f *failAfter) Write(p []byte) (int, error) {
	if f.n -= len(p); f.n < 0 {
		return 0, errors.New("connection reset")
	}
	return len(p), nil
}

func TestJSONPersonalDataKeepsTheFirstError(t *testing.T) {
	w := leadcycle.NewJSONPersonalData(&failAfter{n: 10})
	_ = w.Begin(leadcycle.PersonalDataHeader{Format: "f"})
	_ = w.List("items")
	if err := w.Item(1); err == nil || !strings.Contains(err.Error(), "connection reset") {
		t.Errorf("after a failed write: %v", err)
	}
	if err := w.End(); err == nil {
		t.Error("End after a failed write succeeded")
	}
}

func TestCheckErasureReason(t *testing.T) {
	c := &leadcycle.Contact{FirstName: "Uxía", LastName: "Castro", Email: "uxia@riasbaixas.gal", Phone: "+34 600 111 222"}
	for _, bad := range []string{"", " \t", strings.Repeat("é", leadcycle.MaxErasureReason+1), "UXIA@riasbaixas.gal asked", "uxía castro asked", "called from +34 600 111 222", "a\x00b"} {
		if err := leadcycle.CheckErasureReason(bad, c); leadcycle.ErrorCode(err) != leadcycle.EInvalid || leadcycle.ErrorFields(err)[0].Field != "reason" {
			t.Errorf("reason %.40q: %v", bad, err)
		}
	}
	for _, ok := range []string{"Art. 17 request, ticket 12", "Uxía asked by phone", strings.Repeat("é", leadcycle.MaxErasureReason)} {
		if err := leadcycle.CheckErasureReason(ok, c); err != nil {
			t.Errorf("reason %.40q: %v", ok, err)
		}
	}
	if err := leadcycle.CheckErasureReason("uxia@riasbaixas.gal", nil); err != nil {
		t.Errorf("without a contact only length and presence are checked: %v", err)
	}
}
