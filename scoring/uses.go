package scoring

import (
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"
)

// uses records which names and fields an expression reads, so that Score
// fills only those: ids rendered as text and dates parsed cost time and
// memory on every lead.
type uses struct {
	idents map[string]bool
	// count and covered count, per entity, the uses of the entity's name and
	// those that read one of its fields by a fixed name; when they differ the
	// expression uses the entity as a whole and every field is needed.
	count, covered [entities]int
	fields         [entities]map[string]bool
	// customCount and customCovered do the same for entity.custom.
	customCount, customCovered [entities]int
	custom                     [entities]map[string]bool
}

// collectUses walks the program's tree.
func collectUses(p *vm.Program) *uses {
	u := &uses{idents: map[string]bool{}}
	for e := range entities {
		u.fields[e] = map[string]bool{}
		u.custom[e] = map[string]bool{}
	}
	node := p.Node()
	ast.Walk(&node, u)
	return u
}

// Visit implements ast.Visitor.
func (u *uses) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.IdentifierNode:
		u.idents[n.Value] = true
		if e := entityOf(n); e >= 0 {
			u.count[e]++
		}
	case *ast.MemberNode:
		u.member(n)
	}
}

// member records entity.field and entity.custom.field.
func (u *uses) member(n *ast.MemberNode) {
	prop, ok := n.Property.(*ast.StringNode)
	if !ok {
		return
	}
	if e := entityOf(n.Node); e >= 0 {
		u.covered[e]++
		u.fields[e][prop.Value] = true
		if prop.Value == "custom" {
			u.customCount[e]++
		}
		return
	}
	inner, ok := n.Node.(*ast.MemberNode)
	if !ok {
		return
	}
	if p, ok := inner.Property.(*ast.StringNode); ok && p.Value == "custom" {
		if e := entityOf(inner.Node); e >= 0 {
			u.customCovered[e]++
			u.custom[e][prop.Value] = true
		}
	}
}

// entityOf returns the entity a node names, or -1.
func entityOf(n ast.Node) int {
	id, ok := n.(*ast.IdentifierNode)
	if !ok {
		return -1
	}
	for e, name := range entityNames {
		if id.Value == name {
			return e
		}
	}
	return -1
}

// needs accumulates the uses of all the conditions of a model.
type needs struct {
	fields    [entities]map[string]bool
	custom    [entities]map[string]bool
	all       [entities]bool
	allCustom [entities]bool
}

func newNeeds() *needs {
	n := &needs{}
	for e := range entities {
		n.fields[e] = map[string]bool{}
		n.custom[e] = map[string]bool{}
	}
	return n
}

// add merges the uses of one expression.
func (n *needs) add(u *uses) {
	env := u.idents["$env"]
	for e := range entities {
		n.all[e] = n.all[e] || env || u.count[e] > u.covered[e]
		n.allCustom[e] = n.allCustom[e] || n.all[e] || u.customCount[e] > u.customCovered[e]
		for f := range u.fields[e] {
			n.fields[e][f] = true
		}
		for f := range u.custom[e] {
			n.custom[e][f] = true
		}
	}
}

// plan turns the needs into the setters Score runs.
func (n *needs) plan(l *condLayout) *condPlan {
	p := &condPlan{
		layout:      l,
		contactSets: pick(contactSetters, n.fields[entContact], n.all[entContact]),
		accountSets: pick(accountSetters, n.fields[entAccount], n.all[entAccount]),
		leadSets:    pick(leadSetters, n.fields[entLead], n.all[entLead]),
	}
	for e := range entities {
		for _, f := range l.custom[e] {
			if n.allCustom[e] || n.custom[e][f.name] {
				p.custom[e] = append(p.custom[e], f)
			}
		}
	}
	return p
}
