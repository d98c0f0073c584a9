package web

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/i18n"
	"github.com/leadcycle/leadcycle/process"
	"golang.org/x/text/language"
)

// literalKeys finds the catalog keys written out in templates ({{.T "x"}},
// {{$p.N "x" n}}) and in the pages' Go code (p.T("x"), p.N("x", n)).
var literalKeys = regexp.MustCompile(`(?:\.T|\.N)[ (]"([a-z][a-z0-9_.-]*)"`)

// TestEveryUsedKeyExists fails when a page asks for a message that the
// English catalog (and so, by the i18n test, every catalog) lacks.
func TestEveryUsedKeyExists(t *testing.T) {
	b := i18n.MustLoad()
	en := b.IDs(language.English)
	has := map[string]bool{}
	for _, id := range en {
		has[id] = true
	}
	var used []string
	_ = fs.WalkDir(uiTemplateFS, "ui/templates", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			data, _ := fs.ReadFile(uiTemplateFS, path)
			for _, m := range literalKeys.FindAllStringSubmatch(string(data), -1) {
				used = append(used, m[1])
			}
		}
		return nil
	})
	goFiles, _ := filepath.Glob("ui*.go")
	for _, f := range goFiles {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		data, _ := os.ReadFile(f)
		for _, m := range literalKeys.FindAllStringSubmatch(string(data), -1) {
			used = append(used, m[1])
		}
	}
	if len(used) < 100 {
		t.Fatalf("found only %d keys in use: the scan is broken", len(used))
	}
	// Keys built from a prefix and a value, for every value there is.
	dynamic := map[string][]string{
		"role.":                    leadcycle.Roles,
		"enum.status.":             leadcycle.LeadStatuses,
		"enum.source.":             leadcycle.Sources,
		"enum.opportunity.":        leadcycle.OpportunityStatuses,
		"enum.task_status.":        leadcycle.TaskStatuses,
		"interaction.":             leadcycle.InteractionTypes,
		"leads.view.":              leadViewKeys,
		"field.lead.":              leadFlags,
		"flag.":                    leadFlags,
		"enum.purchase_timeframe.": leadcycle.PurchaseTimeframes[1:],
		"enum.purchase_process.":   leadcycle.PurchaseProcesses[1:],
		"enum.need.":               leadcycle.Needs[1:],
		"emails.send_status.":      {leadcycle.SendQueued, leadcycle.SendSent, leadcycle.SendSkipped, leadcycle.SendBounced, leadcycle.SendFailed},
		"emails.suppress_reason.":  {leadcycle.SuppressBounce, leadcycle.SuppressComplaint},
		"timeline.kind.": {leadcycle.TimelineCreated, leadcycle.TimelineStageChanged, leadcycle.TimelineProcessSwitched, leadcycle.TimelineFlagChanged,
			leadcycle.TimelineStatusChanged, leadcycle.TimelineQualified, leadcycle.TimelineDisqualified, leadcycle.TimelineReactivated, leadcycle.TimelineAssigned},
	}
	for _, reasons := range leadcycle.LeadStatusReasons {
		dynamic["enum.reason."] = append(dynamic["enum.reason."], reasons...)
	}
	for _, st := range process.Default().Stages {
		dynamic["stage."] = append(dynamic["stage."], st.Key)
		dynamic["stage_desc."] = append(dynamic["stage_desc."], st.Key)
		for _, f := range st.Fields {
			used = append(used, "field."+f.Field)
		}
	}
	for prefix, values := range dynamic {
		for _, v := range values {
			used = append(used, prefix+v)
		}
	}
	for m := 1; m <= 12; m++ {
		used = append(used, "month."+strconv.Itoa(m))
	}
	for _, id := range used {
		if !has[id] && !strings.HasSuffix(id, ".") { // a prefix: its values are listed above
			t.Errorf("the pages use %q, which the catalogs lack", id)
		}
	}
}

// TestShippedNamesAreTranslated: the default process's stage names and
// descriptions read in the user's language, and a renamed stage keeps the
// name its user gave it.
func TestShippedNamesAreTranslated(t *testing.T) {
	b := i18n.MustLoad()
	p := &page{L: b.For(language.MustParse("gl")), en: b.For(language.English)}
	def := process.Default()
	st := def.Stages[1]
	if got := p.StageName(st); got != "Cualificación automática de márketing" {
		t.Errorf("shipped stage name in Galician: %q", got)
	}
	if got := p.StageDescription(st); !strings.HasPrefix(got, "O cliente potencial") {
		t.Errorf("shipped description in Galician: %q", got)
	}
	st.Name, st.Description = "Nutrición", "Our own words"
	if p.StageName(st) != "Nutrición" || p.StageDescription(st) != "Our own words" {
		t.Error("a renamed stage is translated over")
	}
	if got := p.fieldLabel("lead.budget_amount", "Budget"); got != "Orzamento" {
		t.Errorf("shipped field label: %q", got)
	}
	if got := p.fieldLabel("lead.custom.segment", ""); got != "lead.custom.segment" {
		t.Errorf("unknown field label: %q", got)
	}
}
