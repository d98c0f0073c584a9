package leadcycle_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/leadcycle/leadcycle"
)

func TestValidEmail(t *testing.T) {
	for _, s := range []string{"a@b.es", "uxia.castro+news@riasbaixas.gal", "x@sub.example.com.tw"} {
		if !leadcycle.ValidEmail(s) {
			t.Errorf("%q rejected", s)
		}
	}
	for _, s := range []string{"", "a", "a@b", "@b.es", "a@.es", "a@b.", "Ada <a@b.es>", "a b@c.es", "a@b.es\n", strings.Repeat("a", 250) + "@b.es"} {
		if leadcycle.ValidEmail(s) {
			t.Errorf("%q accepted", s)
		}
	}
}

func TestIDJSON(t *testing.T) {
	var v struct {
		ID  leadcycle.ID  `json:"id"`
		Ref *leadcycle.ID `json:"ref"`
	}
	if err := json.Unmarshal([]byte(`{"id": "42", "ref": null}`), &v); err != nil || v.ID != 42 || v.Ref != nil {
		t.Fatalf("decode: %v %+v", err, v)
	}
	b, _ := json.Marshal(v)
	if string(b) != `{"id":"42","ref":null}` {
		t.Errorf("encode: %s", b)
	}
	for _, bad := range []string{`{"id": 42}`, `{"id": "abc"}`, `{"id": "-1"}`, `{"id": "0"}`, `{"ref": true}`} {
		err := json.Unmarshal([]byte(bad), &v)
		var te *json.UnmarshalTypeError
		if !errors.As(err, &te) || te.Field == "" {
			t.Errorf("%s: err = %v, want a type error naming the field", bad, err)
		}
	}
}

func TestLeadStatusFollowsReason(t *testing.T) {
	cases := []struct{ status, reason, wantStatus, wantReason, errField string }{
		{"", "", "open", "new", ""},
		{"qualified", "", "qualified", "qualified", ""},
		{"", "no_longer_interested", "disqualified", "no_longer_interested", ""},
		{"disqualified", "", "disqualified", "", "status_reason"},
		{"open", "lost", "open", "lost", "status_reason"},
		{"won", "", "won", "", "status"},
	}
	for _, c := range cases {
		l := leadcycle.Lead{Topic: "t", Status: c.status, StatusReason: c.reason}
		l.Normalize()
		err := l.Validate()
		if l.Status != c.wantStatus || l.StatusReason != c.wantReason {
			t.Errorf("%q/%q → %q/%q, want %q/%q", c.status, c.reason, l.Status, l.StatusReason, c.wantStatus, c.wantReason)
		}
		fields := leadcycle.ErrorFields(err)
		switch {
		case c.errField == "" && err != nil:
			t.Errorf("%q/%q: unexpected %v", c.status, c.reason, err)
		case c.errField != "" && (len(fields) != 1 || fields[0].Field != c.errField):
			t.Errorf("%q/%q: err = %v, want field %s", c.status, c.reason, err, c.errField)
		}
	}
}

func TestSchemaValidateCustom(t *testing.T) {
	schema := leadcycle.Schema{
		{Name: "tier", Type: leadcycle.FieldChoice, Choices: []string{"gold", "silver"}},
		{Name: "visits", Type: leadcycle.FieldNumber, Required: true},
		{Name: "vip", Type: leadcycle.FieldBool},
		{Name: "since", Type: leadcycle.FieldDate},
		{Name: "note", Type: leadcycle.FieldText},
	}
	ok := leadcycle.Custom{"tier": "gold", "visits": 3.0, "vip": true, "since": "2025-02-28", "note": "ok", "gone": nil}
	if err := schema.ValidateCustom(ok); err == nil {
		t.Fatal("undeclared key with null value accepted")
	}
	ok = leadcycle.Custom{"tier": "gold", "visits": 3.0, "vip": true, "since": "2025-02-28", "note": nil}
	if err := schema.ValidateCustom(ok); err != nil {
		t.Fatal(err)
	}
	if _, present := ok["note"]; present {
		t.Error("null value not removed")
	}
	bad := leadcycle.Custom{"tier": "bronze", "vip": "yes", "since": "2025-02-30", "note": 5.0, "other": 1.0}
	err := schema.ValidateCustom(bad)
	got := map[string]bool{}
	for _, f := range leadcycle.ErrorFields(err) {
		got[f.Field] = true
	}
	for _, want := range []string{"custom.tier", "custom.vip", "custom.since", "custom.note", "custom.other", "custom.visits"} {
		if !got[want] {
			t.Errorf("no error for %s in %v", want, err)
		}
	}
}

func TestFieldDefChange(t *testing.T) {
	old := leadcycle.FieldDef{Entity: "contact", Name: "tier", Type: "choice", Choices: []string{"gold", "silver"}}
	grown := old
	grown.Choices = []string{"gold", "silver", "bronze"}
	if err := grown.CheckChange(&old); err != nil {
		t.Errorf("adding a choice: %v", err)
	}
	shrunk := old
	shrunk.Choices = []string{"gold"}
	retyped := old
	retyped.Type = "text"
	for _, f := range []leadcycle.FieldDef{shrunk, retyped} {
		if err := f.CheckChange(&old); leadcycle.ErrorCode(err) != leadcycle.EInvalid {
			t.Errorf("%+v: err = %v", f, err)
		}
	}
}

func TestPolicy(t *testing.T) {
	for _, perm := range []leadcycle.Permission{"contacts:write", "leads:delete", "fields:write", "opportunities:write"} {
		if leadcycle.Can(leadcycle.RoleReadonly, perm) {
			t.Errorf("readonly may %s", perm)
		}
		if !leadcycle.Can(leadcycle.RoleAdmin, perm) {
			t.Errorf("admin may not %s", perm)
		}
	}
	if leadcycle.Can(leadcycle.RoleMarketer, "fields:write") || leadcycle.Can(leadcycle.RoleTelesales, "opportunities:write") {
		t.Error("policy too wide")
	}
	if !leadcycle.Can(leadcycle.RoleSales, "opportunities:write") || !leadcycle.Can(leadcycle.RoleReadonly, "leads:read") {
		t.Error("policy too narrow")
	}
}

func TestAPIKeySecret(t *testing.T) {
	a, pa := leadcycle.NewAPIKeySecret()
	b, _ := leadcycle.NewAPIKeySecret()
	if a == b || !strings.HasPrefix(a, leadcycle.APIKeyPrefix) || !strings.HasPrefix(a, pa) || len(a) < 35 {
		t.Errorf("secrets %q %q prefix %q", a, b, pa)
	}
	if h := leadcycle.HashAPIKey(a); len(h) != 64 || strings.Contains(h, a) || h != leadcycle.HashAPIKey(a) {
		t.Errorf("hash %q", h)
	}
}

func TestDomainOf(t *testing.T) {
	for in, want := range map[string]string{"https://www.RiasBaixas.gal/x": "riasbaixas.gal", "example.com.tw": "example.com.tw", "http://shop.acme.io:8080": "shop.acme.io"} {
		if got := leadcycle.DomainOf(in); got != want {
			t.Errorf("DomainOf(%q) = %q, want %q", in, got, want)
		}
	}
}
