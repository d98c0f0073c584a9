package leadcycle

import (
	"fmt"
	"slices"
	"strings"
)

// maxStages is how many stages a process may have.
const maxStages = 30

// Normalize trims text, derives missing keys from names and replaces nil
// lists with empty ones; it never fails.
func (p *Process) Normalize() {
	p.Name = strings.TrimSpace(p.Name)
	p.Key = strings.TrimSpace(p.Key)
	if p.Key == "" {
		p.Key = Slugify(p.Name)
	}
	p.Description = strings.TrimSpace(p.Description)
	if p.Stages == nil {
		p.Stages = []Stage{}
	}
	if p.Transitions == nil {
		p.Transitions = []Transition{}
	}
	for i := range p.Stages {
		p.Stages[i].normalize()
	}
	for i := range p.Transitions {
		p.Transitions[i].normalize()
	}
}

func (s *Stage) normalize() {
	s.Name = strings.TrimSpace(s.Name)
	s.Key = strings.TrimSpace(s.Key)
	if s.Key == "" {
		s.Key = Slugify(s.Name)
	}
	s.Description = strings.TrimSpace(s.Description)
	s.EntryCondition = strings.TrimSpace(s.EntryCondition)
	if s.Fields == nil {
		s.Fields = []StageField{}
	}
	for i := range s.Fields {
		s.Fields[i].Field = strings.TrimSpace(s.Fields[i].Field)
		s.Fields[i].Label = strings.TrimSpace(s.Fields[i].Label)
	}
	if s.Next == nil {
		s.Next = []Branch{}
	}
	for i := range s.Next {
		s.Next[i].When = strings.TrimSpace(s.Next[i].When)
		s.Next[i].To = strings.TrimSpace(s.Next[i].To)
	}
}

func (t *Transition) normalize() {
	t.Name = strings.TrimSpace(t.Name)
	t.On = strings.TrimSpace(t.On)
	t.Condition = strings.TrimSpace(t.Condition)
	t.To = strings.TrimSpace(t.To)
	if t.From == nil {
		t.From = []string{}
	}
	for i := range t.From {
		t.From[i] = strings.TrimSpace(t.From[i])
	}
}

// Validate checks the structure of the process (the caller has normalised
// it): names and keys, stage fields, branches, transitions, and that every
// stage can be reached from the first one and leads to a final stage. It
// does not check field names or expressions, which need the custom field
// schemas (package process compiles them). Field names in errors are paths
// such as stages[2].key, stages[1].next[0].to or transitions[3].on.
func (p *Process) Validate() error {
	var v validator
	v.required("name", p.Name)
	v.maxLen("name", p.Name, 200)
	v.maxLen("description", p.Description, 5000)
	if !ValidSlug(p.Key) {
		v.add("key", "must be a key: a lower-case letter, then letters, digits or underscores (at most 63)")
	}
	switch {
	case len(p.Stages) == 0:
		v.add("stages", "a process needs at least one stage")
	case len(p.Stages) > maxStages:
		v.add("stages", fmt.Sprintf("a process has at most %d stages", maxStages))
	}
	if len(p.Transitions) > 100 {
		v.add("transitions", "a process has at most 100 transitions")
	}
	p.validateStages(&v)
	p.validateTransitions(&v)
	if len(v.errs) == 0 {
		p.validateGraph(&v)
	}
	return v.Err()
}

// stageLabel names the i-th stage in messages: by name, else by position.
func (p *Process) stageLabel(i int) string {
	if p.Stages[i].Name != "" {
		return fmt.Sprintf("stage %q", p.Stages[i].Name)
	}
	return fmt.Sprintf("stage %d", i+1)
}

// validateStages checks each stage on its own and the uniqueness of keys.
func (p *Process) validateStages(v *validator) {
	keys := map[string]int{}
	for i := range p.Stages {
		s := &p.Stages[i]
		path, label := fmt.Sprintf("stages[%d]", i), p.stageLabel(i)
		if s.Name == "" {
			v.add(path+".name", label+": name is required")
		}
		v.maxLen(path+".name", s.Name, 200)
		v.maxLen(path+".description", s.Description, 5000)
		v.maxLen(path+".entry_condition", s.EntryCondition, 2000)
		if !ValidSlug(s.Key) {
			v.add(path+".key", label+": key must be a lower-case letter, then letters, digits or underscores (at most 63)")
		} else if j, dup := keys[s.Key]; dup {
			v.add(path+".key", fmt.Sprintf("%s: key %q is already used by %s", label, s.Key, p.stageLabel(j)))
		} else {
			keys[s.Key] = i
		}
		validateStageFields(v, path, label, s.Fields)
	}
	for i := range p.Stages {
		p.validateNext(v, i)
	}
}

// validateStageFields checks the fields offered by one stage.
func validateStageFields(v *validator, path, label string, fields []StageField) {
	seen := map[string]bool{}
	for j, f := range fields {
		fp := fmt.Sprintf("%s.fields[%d]", path, j)
		switch {
		case f.Field == "":
			v.add(fp+".field", label+": field is required")
		case seen[f.Field]:
			v.add(fp+".field", fmt.Sprintf("%s: field %q is listed twice", label, f.Field))
		}
		seen[f.Field] = true
		v.maxLen(fp+".field", f.Field, 200)
		v.maxLen(fp+".label", f.Label, 200)
	}
}

// validateNext checks the branches of the i-th stage.
func (p *Process) validateNext(v *validator, i int) {
	s := &p.Stages[i]
	path, label := fmt.Sprintf("stages[%d]", i), p.stageLabel(i)
	if s.Final && len(s.Next) > 0 {
		v.add(path+".next", label+" is final: it ends the process and cannot have next stages")
	}
	if len(s.Next) > 20 {
		v.add(path+".next", label+": a stage has at most 20 branches")
	}
	for k, b := range s.Next {
		bp := fmt.Sprintf("%s.next[%d]", path, k)
		switch {
		case b.To == "":
			v.add(bp+".to", label+": the next stage is required")
		case b.To == s.Key:
			v.add(bp+".to", label+": a branch cannot lead back to the stage itself")
		case p.StageIndex(b.To) < 0:
			v.add(bp+".to", fmt.Sprintf("%s: next stage %q does not exist", label, b.To))
		}
		if b.When == "" && k < len(s.Next)-1 {
			v.add(bp+".when", label+": only the last branch may have no condition; the branches after it could never be taken")
		}
		v.maxLen(bp+".when", b.When, 2000)
	}
}

// transitionLabel names the i-th transition in messages.
func (p *Process) transitionLabel(i int) string {
	if p.Transitions[i].Name != "" {
		return fmt.Sprintf("transition %q", p.Transitions[i].Name)
	}
	return fmt.Sprintf("transition %d", i+1)
}

// validateTransitions checks triggers, conditions and stage references.
func (p *Process) validateTransitions(v *validator) {
	for i := range p.Transitions {
		t := &p.Transitions[i]
		path, label := fmt.Sprintf("transitions[%d]", i), p.transitionLabel(i)
		v.maxLen(path+".name", t.Name, 200)
		v.maxLen(path+".condition", t.Condition, 2000)
		if !slices.Contains(Triggers, t.On) {
			v.add(path+".on", fmt.Sprintf("%s: trigger %q is not one of: %s", label, t.On, strings.Join(Triggers, ", ")))
		}
		if t.On == TriggerCondition && t.Condition == "" {
			v.add(path+".condition", label+`: a condition is required when the trigger is "condition"`)
		}
		switch {
		case t.To == "":
			v.add(path+".to", label+": the target stage is required")
		case p.StageIndex(t.To) < 0:
			v.add(path+".to", fmt.Sprintf("%s: target stage %q does not exist", label, t.To))
		}
		for k, from := range t.From {
			fp := fmt.Sprintf("%s.from[%d]", path, k)
			switch {
			case from == t.To:
				v.add(fp, fmt.Sprintf("%s: stage %q is its target and cannot be a source", label, from))
			case p.StageIndex(from) < 0:
				v.add(fp, fmt.Sprintf("%s: source stage %q does not exist", label, from))
			}
		}
	}
}

// validateGraph refuses stages that cannot be reached from the first stage
// and stages from which no terminal stage can be reached. It runs on a
// process whose references are valid.
func (p *Process) validateGraph(v *validator) {
	edges := p.edges()
	reached := reach(len(p.Stages), []int{0}, edges)
	reverse := make([][]int, len(p.Stages))
	var terminals []int
	for i := range p.Stages {
		for _, j := range edges[i] {
			reverse[j] = append(reverse[j], i)
		}
		if p.Terminal(p.Stages[i].Key) {
			terminals = append(terminals, i)
		}
	}
	exits := reach(len(p.Stages), terminals, reverse)
	for i, s := range p.Stages {
		path := fmt.Sprintf("stages[%d]", i)
		switch {
		case !reached[i]:
			v.add(path, fmt.Sprintf("stage %q cannot be reached from the first stage %q", s.Name, p.Stages[0].Name))
		case !exits[i]:
			v.add(path, fmt.Sprintf("stage %q is in a loop with no way out to a final stage", s.Name))
		}
	}
}

// edges returns, per stage index, the stages a lead can go to from it: by
// completing it (its branches, else the following stage) or by a transition.
func (p *Process) edges() [][]int {
	out := make([][]int, len(p.Stages))
	for i, s := range p.Stages {
		for _, b := range s.Next {
			out[i] = append(out[i], p.StageIndex(b.To))
		}
		if len(s.Next) == 0 && !s.Final && i < len(p.Stages)-1 {
			out[i] = append(out[i], i+1)
		}
	}
	for _, t := range p.Transitions {
		to := p.StageIndex(t.To)
		for _, from := range p.TransitionSources(t) {
			if i := p.StageIndex(from); i >= 0 {
				out[i] = append(out[i], to)
			}
		}
	}
	return out
}

// reach returns which nodes can be reached from the start nodes.
func reach(n int, start []int, edges [][]int) []bool {
	seen := make([]bool, n)
	queue := slices.Clone(start)
	for _, s := range start {
		seen[s] = true
	}
	for len(queue) > 0 {
		i := queue[0]
		queue = queue[1:]
		for _, j := range edges[i] {
			if j >= 0 && !seen[j] {
				seen[j] = true
				queue = append(queue, j)
			}
		}
	}
	return seen
}

// TransitionSources returns the keys of the stages t moves leads from: its
// From, or every stage before its target in timeline order when From is
// empty.
func (p *Process) TransitionSources(t Transition) []string {
	if len(t.From) > 0 {
		return t.From
	}
	var out []string
	for _, s := range p.Stages {
		if s.Key == t.To {
			return out
		}
		out = append(out, s.Key)
	}
	return nil
}

// Terminal reports whether completing the stage with the key ends the
// process: it is final, or it is the last stage and has no branches.
func (p *Process) Terminal(key string) bool {
	i := p.StageIndex(key)
	if i < 0 {
		return false
	}
	s := &p.Stages[i]
	return s.Final || (i == len(p.Stages)-1 && len(s.Next) == 0)
}
