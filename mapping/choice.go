package mapping

import (
	"fmt"
	"slices"
	"strings"
)

// maxListed is how many allowed values an error message lists.
const maxListed = 10

// MatchChoice finds the stored choice for a value. The explicit value map
// (source value → stored value) is applied first when present, matching its
// keys exactly, then after NormalizeHeader; then the value is compared with
// the choices exactly, then after NormalizeHeader (ignoring case, accents,
// spaces and punctuation, so "Cannot Contact" finds "cannot_contact"). An
// empty value is no value: "" and no error, unless the map maps "". The error
// lists the allowed values (at most ten).
func MatchChoice(value string, choices []string, valueMap map[string]string) (string, error) {
	v := strings.TrimSpace(value)
	if stored, ok := lookupValue(valueMap, v); ok {
		if !slices.Contains(choices, stored) {
			return "", fmt.Errorf("the value map sends %q to %q, which is not one of: %s", v, stored, listChoices(choices))
		}
		return stored, nil
	}
	if v == "" || slices.Contains(choices, v) {
		return v, nil
	}
	var found []string
	key := NormalizeHeader(v)
	for _, c := range choices {
		if key != "" && NormalizeHeader(c) == key {
			found = append(found, c)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return "", fmt.Errorf("%q is not one of: %s", v, listChoices(choices))
	default:
		return "", fmt.Errorf("%q matches several choices: %s", v, strings.Join(found, ", "))
	}
}

// lookupValue finds a value in a value map by exact key, then by normalised
// key (the first in key order, so that the result is deterministic).
func lookupValue(valueMap map[string]string, v string) (string, bool) {
	if stored, ok := valueMap[v]; ok {
		return stored, true
	}
	key := NormalizeHeader(v)
	if key == "" {
		return "", false
	}
	keys := make([]string, 0, len(valueMap))
	for k := range valueMap {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if NormalizeHeader(k) == key {
			return valueMap[k], true
		}
	}
	return "", false
}

// listChoices writes the allowed values for an error message, at most
// maxListed of them.
func listChoices(choices []string) string {
	if len(choices) == 0 {
		return "(no choices)"
	}
	if len(choices) <= maxListed {
		return strings.Join(choices, ", ")
	}
	return fmt.Sprintf("%s … (%d more)", strings.Join(choices[:maxListed], ", "), len(choices)-maxListed)
}
