package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/leadcycle/leadcycle"
)

const apikeyUsage = `Usage:
  leadcycle apikey create --name NAME --role ROLE [--data DIR | --database URL]
  leadcycle apikey list [--data DIR | --database URL]
  leadcycle apikey revoke [--data DIR | --database URL] ID

Roles: admin, marketer, telesales, sales, sales_manager, readonly.
The new key is printed alone on the last line of "create"; only its hash is stored.
`

func cmdAPIKey(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	return dispatch(ctx, "apikey", apikeyUsage, map[string]command{"create": apikeyCreate, "list": apikeyList, "revoke": apikeyRevoke}, args, stdout, stderr, getenv)
}

func apikeyCreate(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fs, db := newDBFlagSet("apikey create", "apikey create --name NAME --role ROLE [--data DIR | --database URL]", stderr, getenv)
	name := fs.String("name", "", "a name that says who or what uses the key (required)")
	role := fs.String("role", "", "admin, marketer, telesales, sales, sales_manager or readonly (required)")
	if err := parse(fs, args); err != nil {
		return err
	}
	secret, prefix := leadcycle.NewAPIKeySecret()
	key := &leadcycle.APIKey{Name: *name, Role: *role, Prefix: prefix, Hash: leadcycle.HashAPIKey(secret)}
	if err := key.Validate(); err != nil {
		return flagErrors(stderr, "apikey create", err)
	}
	store, err := db.open(ctx, nil)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.APIKeys().CreateAPIKey(ctx, key); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Created API key %s (%q, role %s) in %s.\nIt is shown only once; store it safely:\n%s\n", key.ID, key.Name, key.Role, db.describe(), secret)
	return nil
}

func apikeyList(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fs, db := newDBFlagSet("apikey list", "apikey list [--data DIR | --database URL]", stderr, getenv)
	if err := parse(fs, args); err != nil {
		return err
	}
	store, err := db.open(ctx, nil)
	if err != nil {
		return err
	}
	defer store.Close()
	keys, err := store.APIKeys().ListAPIKeys(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tROLE\tPREFIX\tCREATED\tLAST USED\tSTATUS")
	for _, k := range keys {
		status := "active"
		if k.RevokedAt != nil {
			status = "revoked " + k.RevokedAt.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s…\t%s\t%s\t%s\n", k.ID, k.Name, k.Role, k.Prefix, k.CreatedAt.Format(time.RFC3339), fmtTime(k.LastUsedAt), status)
	}
	return tw.Flush()
}

func fmtTime(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return t.Format(time.RFC3339)
}

func apikeyRevoke(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fs, db := newDBFlagSet("apikey revoke", "apikey revoke [--data DIR | --database URL] ID", stderr, getenv)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "leadcycle apikey revoke: give the id of one key (see leadcycle apikey list)")
		return errUsage
	}
	id, ok := leadcycle.ParseID(fs.Arg(0))
	if !ok {
		fmt.Fprintf(stderr, "leadcycle apikey revoke: %q is not a key id (see leadcycle apikey list)\n", fs.Arg(0))
		return errUsage
	}
	store, err := db.open(ctx, nil)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.APIKeys().RevokeAPIKey(ctx, id); err != nil {
		if leadcycle.ErrorCode(err) == leadcycle.ENotFound {
			return fmt.Errorf("%s", leadcycle.ErrorMessage(err))
		}
		return err
	}
	fmt.Fprintf(stdout, "Revoked API key %s.\n", id)
	return nil
}

// flagErrors prints a validation error as one line per flag at fault and
// returns errUsage.
func flagErrors(stderr io.Writer, command string, err error) error {
	for _, f := range leadcycle.ErrorFields(err) {
		fmt.Fprintf(stderr, "leadcycle %s: --%s %s\n", command, f.Field, f.Message)
	}
	return errUsage
}
