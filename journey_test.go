package leadcycle_test

import (
	"strings"
	"testing"
	"time"

	"github.com/leadcycle/leadcycle"
)

func TestParseJourneyDuration(t *testing.T) {
	cases := []struct {
		in   string
		want time.Duration
		err  string
	}{
		{"30m", 30 * time.Minute, ""},
		{"2h", 2 * time.Hour, ""},
		{"1h30m", 90 * time.Minute, ""},
		{"3d", 72 * time.Hour, ""},
		{"1w", 7 * 24 * time.Hour, ""},
		{" 2d ", 48 * time.Hour, ""},
		{"0d", 0, "longer than zero"},
		{"-1h", 0, "longer than zero"},
		{"soon", 0, "not a duration"},
		{"d", 0, "not a duration"},
		{"800d", 0, "longer than two years"},
		{"20000h", 0, "longer than two years"},
	}
	for _, c := range cases {
		got, err := leadcycle.ParseJourneyDuration(c.in)
		switch {
		case c.err == "" && (err != nil || got != c.want):
			t.Errorf("%q = %v, %v; want %v", c.in, got, err, c.want)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%q: error %v, want …%s…", c.in, err, c.err)
		}
	}
}

func TestJourneyNormalizeAndGraph(t *testing.T) {
	seg := leadcycle.ID(1)
	j := leadcycle.Journey{Name: " Nurture ", Entry: leadcycle.JourneyEntry{SegmentID: &seg}, Steps: []leadcycle.JourneyStep{
		{Type: "send_email", EmailID: &seg},
		{Type: "branch", Condition: "x", Then: "s4", Else: "s3"},
		{Type: "exit"},
		{Type: "create_lead"},
	}}
	j.Normalize()
	if j.Name != "Nurture" || j.Status != "draft" || j.Entry.Kind != "segment" || j.Entry.Mode != "one_time" || j.Steps[0].ID != "s1" || j.Steps[3].Per != "contact" {
		t.Fatalf("normalized: %+v", j)
	}
	if err := j.Validate(); err != nil {
		t.Fatalf("valid journey refused: %v", err)
	}
	if got := j.Following("s1"); got != "s2" {
		t.Errorf("after s1: %q", got)
	}
	if got := j.Following("s4"); got != "" {
		t.Errorf("after the last step: %q", got)
	}
	if got := j.Following("s3"); got != "" {
		t.Errorf("after an exit: %q", got)
	}
	// A clone is deep: changing it leaves the original alone.
	c := j.Clone()
	c.Steps[0].Type = "exit"
	if j.Steps[0].Type != "send_email" {
		t.Error("Clone shares the steps")
	}
	custom := leadcycle.Journey{Name: "c", Entry: leadcycle.JourneyEntry{Kind: "trigger", Trigger: "custom_event", EventType: "webinar_watched"}, Steps: []leadcycle.JourneyStep{{Type: "exit"}}}
	custom.Normalize()
	if custom.Entry.EventType != "custom:webinar_watched" || custom.Validate() != nil {
		t.Errorf("custom event type = %q, %v", custom.Entry.EventType, custom.Validate())
	}
	builtin := leadcycle.Journey{Name: "c", Entry: leadcycle.JourneyEntry{Kind: "trigger", Trigger: "custom_event", EventType: "custom:Bad Key"}, Steps: []leadcycle.JourneyStep{{Type: "exit"}}}
	builtin.Normalize()
	if f := leadcycle.ErrorFields(builtin.Validate()); len(f) != 1 || f[0].Field != "entry.event_type" {
		t.Errorf("bad custom type: %v", f)
	}
}
