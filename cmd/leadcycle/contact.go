package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/leadcycle/leadcycle"
)

const contactUsage = `Usage:
  leadcycle contact export-data --id ID [--out FILE] [--data DIR | --database URL]
  leadcycle contact erase --id ID --reason TEXT [--data DIR | --database URL]

"export-data" writes everything stored about a contact as one JSON document,
to standard output or to --out. "erase" deletes the contact and everything
stored about it in one transaction (its opportunities stay, without the link)
and prints what went. Both are written to the audit log (GET /api/v1/audit-log);
so is the reason of an erasure, which must not contain the contact's email,
phone or name.
`

func cmdContact(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	return dispatch(ctx, "contact", contactUsage, map[string]command{"export-data": contactExportData, "erase": contactErase}, args, stdout, stderr, getenv)
}

// contactID parses the --id flag of a contact subcommand.
func contactID(sub, value string, stderr io.Writer) (leadcycle.ID, error) {
	id, ok := leadcycle.ParseID(value)
	if !ok {
		fmt.Fprintf(stderr, "leadcycle contact %s: --id %q is not a contact id\n", sub, value)
		return 0, errUsage
	}
	return id, nil
}

// cliActor names the command line, and the user running it, in the audit
// log.
func cliActor(ctx context.Context, getenv env) context.Context {
	actor := "command line"
	if u := getenv("USER"); u != "" {
		actor += " (" + u + ")"
	}
	return leadcycle.WithActor(ctx, actor)
}

func contactExportData(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fs, db := newDBFlagSet("contact export-data", "contact export-data --id ID [--out FILE] [--data DIR | --database URL]", stderr, getenv)
	idFlag := fs.String("id", "", "id of the contact (required)")
	out := fs.String("out", "", "file to write the export to (default: standard output)")
	if err := parse(fs, args); err != nil {
		return err
	}
	id, err := contactID("export-data", *idFlag, stderr)
	if err != nil {
		return err
	}
	store, err := db.open(ctx, nil)
	if err != nil {
		return err
	}
	defer store.Close()
	export := func(w io.Writer) error {
		return store.PersonalData().ExportPersonalData(cliActor(ctx, getenv), id, leadcycle.NewJSONPersonalData(w))
	}
	if *out == "" {
		bw := bufio.NewWriter(stdout)
		return errors.Join(export(bw), bw.Flush())
	}
	return writeFileAtomically(*out, export)
}

// writeFileAtomically writes a file through a temporary one beside it, so
// that a failed export never leaves a partial file under the name asked for.
func writeFileAtomically(path string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".export-*")
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	err = errors.Join(write(bw), bw.Flush(), f.Close()) // CreateTemp makes it 0600
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

func contactErase(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fs, db := newDBFlagSet("contact erase", "contact erase --id ID --reason TEXT [--data DIR | --database URL]", stderr, getenv)
	idFlag := fs.String("id", "", "id of the contact (required)")
	reason := fs.String("reason", "", "why the contact is erased, for the audit log (required, at most 1000 characters, no personal data)")
	if err := parse(fs, args); err != nil {
		return err
	}
	id, err := contactID("erase", *idFlag, stderr)
	if err != nil {
		return err
	}
	if err := leadcycle.CheckErasureReason(*reason, nil); err != nil {
		fmt.Fprintf(stderr, "leadcycle contact erase: --reason %s\n", leadcycle.ErrorFields(err)[0].Message)
		return errUsage
	}
	store, err := db.open(ctx, nil)
	if err != nil {
		return err
	}
	defer store.Close()
	rep, err := store.PersonalData().EraseContact(cliActor(ctx, getenv), id, *reason)
	if err != nil {
		return err
	}
	printErasure(stdout, rep)
	return nil
}

// printErasure prints an erasure report: the audit entry, then the rows
// deleted and kept per kind.
func printErasure(w io.Writer, rep *leadcycle.ErasureReport) {
	fmt.Fprintf(w, "Erased contact %s (audit log entry %s).\n", rep.ContactID, rep.AuditEntryID)
	for _, part := range []struct {
		title  string
		counts map[string]int64
	}{{"Deleted", rep.Deleted}, {"Kept without the link to the contact", rep.Unlinked}} {
		fmt.Fprintf(w, "%s:\n", part.title)
		for _, k := range slices.Sorted(maps.Keys(part.counts)) {
			fmt.Fprintf(w, "  %-22s %d\n", k, part.counts[k])
		}
	}
	fmt.Fprintf(w, "Account-based leads queued for rescoring: %d\n", rep.Rescored)
}
