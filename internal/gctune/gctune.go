// Package gctune sets the garbage collector's target for leadcycle's
// processes.
//
// leadcycle keeps little in memory between requests, but its bulk paths (an
// import batch of 20,000 rows, a rescore batch, an export) allocate a lot of
// short-lived memory. At Go's default target (GOGC=100) the collector then
// runs several times a second, and on a 2-core machine each cycle takes one
// of the two cores for its marking: a 1M-row import spent 21.6 s with the
// default and 19.5 s at 300 (bench/README.md, "Import and export at scale").
package gctune

import "runtime/debug"

// Percent is the collector's target used when the environment does not set
// GOGC: the heap may grow to Percent% above what was live after the last
// collection before the next one starts.
const Percent = 300

// Apply sets the collector's target to Percent unless getenv("GOGC") names
// one, and returns the target in force. A memory limit set with GOMEMLIMIT
// still applies: the collector runs sooner when the heap nears it.
func Apply(getenv func(string) string) int {
	if getenv("GOGC") != "" {
		old := debug.SetGCPercent(100)
		debug.SetGCPercent(old)
		return old
	}
	debug.SetGCPercent(Percent)
	return Percent
}
