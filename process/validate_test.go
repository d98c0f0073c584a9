package process_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/process"
)

// simple is a valid process of three stages and one transition.
func simple() *leadcycle.Process {
	return &leadcycle.Process{
		Name: "Simple",
		Stages: []leadcycle.Stage{
			{Key: "a", Name: "A", Fields: []leadcycle.StageField{{Field: "lead.topic", Required: true}}},
			{Key: "b", Name: "B"},
			{Key: "c", Name: "C"},
		},
		Transitions: []leadcycle.Transition{{Name: "Ready", On: leadcycle.TriggerSalesReady, From: []string{"a"}, To: "c"}},
	}
}

type fe = leadcycle.FieldError

// e makes a field error.
func e(field, msg string) fe { return fe{Field: field, Message: msg} }

func TestValidateAndCompileErrors(t *testing.T) {
	only := `: only the last branch may have no condition; the branches after it could never be taken`
	loop := func(i int, name string) fe {
		return e(fmt.Sprintf("stages[%d]", i), fmt.Sprintf("stage %q is in a loop with no way out to a final stage", name))
	}
	cases := []struct {
		name string
		edit func(p *leadcycle.Process)
		want []fe
	}{
		{"unreachable stage", func(p *leadcycle.Process) { p.Stages[0].Next = []leadcycle.Branch{{To: "c"}} },
			[]fe{e("stages[1]", `stage "B" cannot be reached from the first stage "A"`)}},
		{"a final stage cuts off the rest", func(p *leadcycle.Process) { p.Stages[1].Final = true; p.Transitions = nil },
			[]fe{e("stages[2]", `stage "C" cannot be reached from the first stage "A"`)}},
		{"a transition reaches a stage after a final one", func(p *leadcycle.Process) { p.Stages[1].Final = true }, nil},
		{"loop without exit", func(p *leadcycle.Process) {
			p.Stages = p.Stages[:2]
			p.Stages[0].Next = []leadcycle.Branch{{To: "b"}}
			p.Stages[1].Next = []leadcycle.Branch{{To: "a"}}
			p.Transitions = nil
		}, []fe{loop(0, "A"), loop(1, "B")}},
		{"the last stage loops back", func(p *leadcycle.Process) {
			p.Stages[2].Next = []leadcycle.Branch{{To: "b"}}
		}, []fe{loop(0, "A"), loop(1, "B"), loop(2, "C")}},
		{"a loop with a way out through a transition", func(p *leadcycle.Process) {
			p.Stages[2].Next = []leadcycle.Branch{{To: "b"}}
			p.Stages = append(p.Stages, leadcycle.Stage{Key: "d", Name: "D", Final: true})
			p.Transitions = append(p.Transitions, leadcycle.Transition{Name: "Done", On: leadcycle.TriggerSalesAccepted, To: "d"})
		}, nil},
		{"a loop with a way out through a branch", func(p *leadcycle.Process) {
			p.Stages[0].Next = []leadcycle.Branch{{When: "lead.sales_ready", To: "c"}, {To: "b"}}
			p.Stages[1].Next = []leadcycle.Branch{{To: "a"}}
		}, nil},
		{"stages trapped in a loop", func(p *leadcycle.Process) {
			p.Stages = []leadcycle.Stage{p.Stages[0], p.Stages[1],
				{Key: "x", Name: "X", Next: []leadcycle.Branch{{To: "y"}}},
				{Key: "y", Name: "Y", Next: []leadcycle.Branch{{To: "x"}}},
				p.Stages[2]}
			p.Stages[1].Next = []leadcycle.Branch{{When: "lead.sales_ready", To: "c"}, {To: "x"}}
		}, []fe{loop(2, "X"), loop(3, "Y")}},
		{"unconditional branch before another", func(p *leadcycle.Process) {
			p.Stages[0].Next = []leadcycle.Branch{{To: "b"}, {When: "lead.sales_ready", To: "c"}}
		}, []fe{e("stages[0].next[0].when", `stage "A"`+only)}},
		{"branch to a missing stage", func(p *leadcycle.Process) { p.Stages[0].Next = []leadcycle.Branch{{To: "z"}} },
			[]fe{e("stages[0].next[0].to", `stage "A": next stage "z" does not exist`)}},
		{"branch to itself", func(p *leadcycle.Process) {
			p.Stages[1].Next = []leadcycle.Branch{{When: "lead.sales_ready", To: "b"}, {To: "c"}}
		},
			[]fe{e("stages[1].next[0].to", `stage "B": a branch cannot lead back to the stage itself`)}},
		{"branch without a target", func(p *leadcycle.Process) { p.Stages[1].Next = []leadcycle.Branch{{}} },
			[]fe{e("stages[1].next[0].to", `stage "B": the next stage is required`)}},
		{"final stage with branches", func(p *leadcycle.Process) {
			p.Stages[1].Final = true
			p.Stages[1].Next = []leadcycle.Branch{{To: "c"}}
		}, []fe{e("stages[1].next", `stage "B" is final: it ends the process and cannot have next stages`)}},
		{"bad trigger", func(p *leadcycle.Process) { p.Transitions[0].On = "lead.won" },
			[]fe{e("transitions[0].on", `transition "Ready": trigger "lead.won" is not one of: lead.scored, lead.telesales_ready, lead.telesales_accepted, lead.sales_ready, lead.sales_accepted, condition`)}},
		{"condition trigger without a condition", func(p *leadcycle.Process) { p.Transitions[0].On = leadcycle.TriggerCondition },
			[]fe{e("transitions[0].condition", `transition "Ready": a condition is required when the trigger is "condition"`)}},
		{"bad to", func(p *leadcycle.Process) { p.Transitions[0].To = "z" },
			[]fe{e("transitions[0].to", `transition "Ready": target stage "z" does not exist`)}},
		{"no to", func(p *leadcycle.Process) { p.Transitions[0].To = "" },
			[]fe{e("transitions[0].to", `transition "Ready": the target stage is required`)}},
		{"bad from", func(p *leadcycle.Process) { p.Transitions[0].From = []string{"a", "z"} },
			[]fe{e("transitions[0].from[1]", `transition "Ready": source stage "z" does not exist`)}},
		{"from its target", func(p *leadcycle.Process) { p.Transitions[0].From = []string{"c"} },
			[]fe{e("transitions[0].from[0]", `transition "Ready": stage "c" is its target and cannot be a source`)}},
		{"unnamed transition", func(p *leadcycle.Process) { p.Transitions[0].Name = ""; p.Transitions[0].To = "z" },
			[]fe{e("transitions[0].to", `transition 1: target stage "z" does not exist`)}},
		{"duplicate stage key", func(p *leadcycle.Process) { p.Stages[2].Key = "a" },
			[]fe{
				e("stages[2].key", `stage "C": key "a" is already used by stage "A"`),
				e("transitions[0].to", `transition "Ready": target stage "c" does not exist`),
			}},
		{"bad stage key", func(p *leadcycle.Process) { p.Stages[1].Key = "Bad-key" },
			[]fe{e("stages[1].key", `stage "B": key must be a lower-case letter, then letters, digits or underscores (at most 63)`)}},
		{"stage without a name", func(p *leadcycle.Process) { p.Stages[1].Name = "" },
			[]fe{e("stages[1].name", `stage 2: name is required`)}},
		{"field listed twice", func(p *leadcycle.Process) {
			p.Stages[0].Fields = append(p.Stages[0].Fields, leadcycle.StageField{Field: "lead.topic"})
		}, []fe{e("stages[0].fields[1].field", `stage "A": field "lead.topic" is listed twice`)}},
		{"empty field", func(p *leadcycle.Process) { p.Stages[1].Fields = []leadcycle.StageField{{Label: "Nothing"}} },
			[]fe{e("stages[1].fields[0].field", `stage "B": field is required`)}},
		{"no stages", func(p *leadcycle.Process) { p.Stages = nil; p.Transitions = nil },
			[]fe{e("stages", "a process needs at least one stage")}},
		{"too many stages", func(p *leadcycle.Process) {
			p.Transitions = nil
			p.Stages = nil
			for i := range 31 {
				p.Stages = append(p.Stages, leadcycle.Stage{Key: fmt.Sprintf("s%d", i), Name: fmt.Sprintf("S%d", i)})
			}
		}, []fe{e("stages", "a process has at most 30 stages")}},
		{"no name", func(p *leadcycle.Process) { p.Name = ""; p.Key = "simple" },
			[]fe{e("name", "is required")}},
		{"unknown field", func(p *leadcycle.Process) { p.Stages[1].Fields = []leadcycle.StageField{{Field: "lead.foo"}} },
			[]fe{e("stages[1].fields[0].field", `unknown field "lead.foo" in stage "B"`)}},
		{"unknown fields of every kind", func(p *leadcycle.Process) {
			p.Stages[2].Fields = []leadcycle.StageField{
				{Field: "lead.custom.nope"}, {Field: "lead.id"}, {Field: "contact.custom.budget"}, {Field: "opportunity.name"},
				{Field: "topic"}, {Field: "lead.scores"}, {Field: "account.custom"}, {Field: "lead."},
				{Field: "contact.email"}, {Field: "account.custom.segment"}, {Field: "account.employees"}, {Field: "lead.custom.budget"},
			}
		}, []fe{
			e("stages[2].fields[0].field", `unknown field "lead.custom.nope" in stage "C"`),
			e("stages[2].fields[1].field", `unknown field "lead.id" in stage "C"`),
			e("stages[2].fields[2].field", `unknown field "contact.custom.budget" in stage "C"`),
			e("stages[2].fields[3].field", `unknown field "opportunity.name" in stage "C"`),
			e("stages[2].fields[4].field", `unknown field "topic" in stage "C"`),
			e("stages[2].fields[5].field", `unknown field "lead.scores" in stage "C"`),
			e("stages[2].fields[6].field", `unknown field "account.custom" in stage "C"`),
			e("stages[2].fields[7].field", `unknown field "lead." in stage "C"`),
			e("stages[2].fields[9].field", `unknown field "account.custom.segment" in stage "C"`),
		}},
		{"entry condition type error", func(p *leadcycle.Process) { p.Stages[1].EntryCondition = `lead.topic > 3` },
			[]fe{e("stages[1].entry_condition", `stage "B": type mismatch: > between string and int (1:12)`)}},
		{"branch condition not a condition", func(p *leadcycle.Process) {
			p.Stages[0].Next = []leadcycle.Branch{{When: "lead.topic", To: "c"}, {To: "b"}}
		}, []fe{e("stages[0].next[0].when", `stage "A": expression must be true or false, not string`)}},
		{"transition condition unknown field", func(p *leadcycle.Process) { p.Transitions[0].Condition = `lead.custom.budgt > 1` },
			[]fe{e("transitions[0].condition", `transition "Ready": unknown custom field "budgt" on lead (1:13)`)}},
		{"structure and expressions together", func(p *leadcycle.Process) {
			p.Transitions[0].On = "lead.won"
			p.Stages[2].EntryCondition = `contact.titel == ""`
		}, []fe{
			e("transitions[0].on", `transition "Ready": trigger "lead.won" is not one of: lead.scored, lead.telesales_ready, lead.telesales_accepted, lead.sales_ready, lead.sales_accepted, condition`),
			e("stages[2].entry_condition", `stage "C": unknown field "titel" on contact (1:9)`),
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := simple()
			tc.edit(p)
			p.Normalize()
			c, err := process.Compile(p, schemas())
			got := leadcycle.ErrorFields(err)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("errors\n got %q\nwant %q", got, tc.want)
			}
			if tc.want == nil {
				if c == nil || err != nil {
					t.Fatalf("compile: %v", err)
				}
				return
			}
			if c != nil || leadcycle.ErrorCode(err) != leadcycle.EInvalid {
				t.Fatalf("got %v, %v; want an EInvalid error", c, err)
			}
			if msg, want := leadcycle.ErrorMessage(err), "validation failed: "+tc.want[0].Field+": "+tc.want[0].Message; msg != want {
				t.Errorf("message %q, want %q", msg, want)
			}
		})
	}
}

func TestValidateChecksOnlyTheStructure(t *testing.T) {
	p := simple()
	p.Stages[1].Fields = []leadcycle.StageField{{Field: "lead.foo"}}
	p.Stages[1].EntryCondition = `lead.topic > 3`
	p.Normalize()
	if err := p.Validate(); err != nil {
		t.Errorf("Validate checks neither fields nor expressions: %v", err)
	}
	p.Stages[0].Next = []leadcycle.Branch{{To: "c"}}
	err := p.Validate()
	if f := leadcycle.ErrorFields(err); !slices.Equal(f, []fe{e("stages[1]", `stage "B" cannot be reached from the first stage "A"`)}) {
		t.Errorf("Validate: %v", err)
	}
}

func TestNormalize(t *testing.T) {
	p := &leadcycle.Process{
		Name:        "  Partner leads ",
		Stages:      []leadcycle.Stage{{Name: " New partner lead ", Fields: []leadcycle.StageField{{Field: " lead.topic "}}, EntryCondition: " lead.sales_ready "}},
		Transitions: []leadcycle.Transition{{Name: " T ", On: " condition ", Condition: " true ", From: []string{" x "}, To: " y "}},
	}
	p.Normalize()
	if p.Name != "Partner leads" || p.Key != "partner_leads" {
		t.Errorf("name %q key %q", p.Name, p.Key)
	}
	s := p.Stages[0]
	if s.Key != "new_partner_lead" || s.Name != "New partner lead" || s.Fields[0].Field != "lead.topic" ||
		s.EntryCondition != "lead.sales_ready" || s.Next == nil {
		t.Errorf("stage %+v", s)
	}
	tr := p.Transitions[0]
	if tr.Name != "T" || tr.On != "condition" || tr.Condition != "true" || tr.From[0] != "x" || tr.To != "y" {
		t.Errorf("transition %+v", tr)
	}
	empty := &leadcycle.Process{Name: "E", Key: "kept"}
	empty.Normalize()
	if empty.Key != "kept" || empty.Stages == nil || empty.Transitions == nil {
		t.Errorf("empty %+v", empty)
	}
}
