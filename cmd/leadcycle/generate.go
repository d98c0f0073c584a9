package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/leadcycle/leadcycle/internal/gen"
)

func cmdGenerate(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fs, db := newDBFlagSet("generate", "generate --contacts N --interactions M [--seed S] [--data DIR | --database URL]", stderr, getenv)
	contacts := fs.Int("contacts", 1000, "number of contacts to create (accounts, leads and more follow from it)")
	interactions := fs.Int("interactions", 10000, "number of interactions to create")
	seed := fs.Uint64("seed", 1, "random seed; the same seed and sizes give the same data")
	quiet := fs.Bool("quiet", false, "do not print progress")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *contacts < 1 || *interactions < 0 {
		fmt.Fprintln(stderr, "leadcycle generate: --contacts must be at least 1 and --interactions at least 0")
		return errUsage
	}
	store, err := db.open(ctx, nil)
	if err != nil {
		return err
	}
	defer store.Close()
	start := time.Now()
	last := time.Time{}
	opts := gen.Options{Contacts: *contacts, Interactions: *interactions, Seed: *seed}
	if !*quiet {
		opts.Progress = func(stage string, done, total int) {
			if time.Since(last) < time.Second && done != total {
				return
			}
			last = time.Now()
			fmt.Fprintf(stderr, "%-13s %10d / %d\n", stage, done, total)
		}
	}
	stats, err := gen.Run(ctx, store.DB, opts)
	if err != nil {
		return err
	}
	// Bulk loading bypasses the repositories, so the matching keys are
	// computed afterwards in one pass.
	keysStart := time.Now()
	if err := store.RebuildMatchKeys(ctx); err != nil {
		return err
	}
	if !*quiet {
		fmt.Fprintf(stderr, "match keys    rebuilt in %s\n", time.Since(keysStart).Round(time.Millisecond))
	}
	fmt.Fprintf(stdout, "Generated into %s in %s:\n%v\n", db.describe(), time.Since(start).Round(time.Millisecond), stats)
	return nil
}
