package storetest

import (
	"testing"

	"github.com/leadcycle/leadcycle"
)

// fieldInUseTests check that a custom field a process or a scoring model
// uses cannot be deleted from under it.
var fieldInUseTests = []test{
	{"used_by_process", func(t *testing.T, e *env) {
		budget := MustCreateField(t, e.ctx, e.s, &leadcycle.FieldDef{Entity: "lead", Name: "budget", Type: leadcycle.FieldNumber})
		p := MustCreate(t, e.ctx, e.s.Processes(), &leadcycle.Process{Name: "Budgeted", Stages: []leadcycle.Stage{
			{Key: "ask", Name: "Ask", Fields: []leadcycle.StageField{{Field: "lead.custom.budget", Required: true}}},
			{Key: "done", Name: "Done"},
		}})
		wantErr(t, e.s.Fields().Delete(e.ctx, budget.ID), leadcycle.EConflict)
		if err := e.s.Processes().Delete(e.ctx, p.ID); err != nil {
			t.Fatal(err)
		}
		if err := e.s.Fields().Delete(e.ctx, budget.ID); err != nil {
			t.Errorf("deleting a field no process uses: %v", err)
		}
	}},
	{"used_by_scoring_model", func(t *testing.T, e *env) {
		size := MustCreateField(t, e.ctx, e.s, &leadcycle.FieldDef{Entity: "account", Name: "size", Type: leadcycle.FieldNumber})
		m := MustCreate(t, e.ctx, e.s.ScoringModels(), &leadcycle.ScoringModel{Name: "Big", Target: leadcycle.TargetContact,
			Rules: []leadcycle.ScoringRule{{Name: "Big", Points: 5, Conditions: []string{"account.custom.size > 100"}}}})
		wantErr(t, e.s.Fields().Delete(e.ctx, size.ID), leadcycle.EConflict)
		if err := e.s.ScoringModels().Delete(e.ctx, m.ID); err != nil {
			t.Fatal(err)
		}
		if err := e.s.Fields().Delete(e.ctx, size.ID); err != nil {
			t.Errorf("deleting a field no model uses: %v", err)
		}
	}},
}
