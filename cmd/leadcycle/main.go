// Command leadcycle is the lead lifecycle engine: one binary that serves the
// API on an embedded SQLite database or on PostgreSQL, runs migrations,
// manages API keys and generates synthetic data.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/leadcycle/leadcycle/internal/gctune"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/store/postgres"
	"github.com/leadcycle/leadcycle/store/sqldb"
	"github.com/leadcycle/leadcycle/store/sqlite"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = ""

func main() {
	gctune.Apply(os.Getenv)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// env gives the command its environment, so tests can pass their own.
type env func(string) string

const usage = `leadcycle — the lead lifecycle engine

Usage:
  leadcycle <command> [flags]

Commands:
  serve      serve the API (embedded SQLite in --data, or PostgreSQL with --database)
  migrate    apply database migrations and exit
  apikey     create, list or revoke API keys
  generate   load deterministic synthetic data
  user       create users who log in to the web application, or set their password
  import     import contacts, accounts or leads from a CSV or XLSX file
  export     export contacts, accounts or leads to CSV or XLSX
  linkedin   sync LinkedIn Lead Gen Forms responses now, or list the connections
  contact    export everything stored about a contact, or erase it (GDPR)
  version    print the version

Run "leadcycle <command> --help" for a command's flags.
`

// run executes the command line and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = cmdServe(ctx, args[1:], stdout, stderr, getenv)
	case "migrate":
		err = cmdMigrate(ctx, args[1:], stdout, stderr, getenv)
	case "apikey":
		err = cmdAPIKey(ctx, args[1:], stdout, stderr, getenv)
	case "generate":
		err = cmdGenerate(ctx, args[1:], stdout, stderr, getenv)
	case "user":
		err = cmdUser(ctx, args[1:], stdout, stderr, getenv)
	case "import":
		err = cmdImport(ctx, args[1:], stdout, stderr, getenv)
	case "export":
		err = cmdExport(ctx, args[1:], stdout, stderr, getenv)
	case "linkedin":
		err = cmdLinkedIn(ctx, args[1:], stdout, stderr, getenv)
	case "contact":
		err = cmdContact(ctx, args[1:], stdout, stderr, getenv)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "leadcycle", versionString())
		return 0
	case "help", "--help", "-help", "-h":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "leadcycle: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	default:
		fmt.Fprintln(stderr, "leadcycle:", err)
		return 1
	}
}

// errUsage marks an error already explained to the user by the flag package.
var errUsage = errors.New("usage")

func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// dbFlags are the flags that choose the database, shared by every command.
type dbFlags struct {
	data     string
	database string
}

func (d *dbFlags) register(fs *flag.FlagSet, getenv env) {
	defData := getenv("LEADCYCLE_DATA")
	if defData == "" {
		defData = "./leadcycle-data"
	}
	fs.StringVar(&d.data, "data", defData, "directory of the embedded SQLite database (env LEADCYCLE_DATA)")
	fs.StringVar(&d.database, "database", getenv("LEADCYCLE_DATABASE_URL"), "PostgreSQL URL, postgres://… (env LEADCYCLE_DATABASE_URL); overrides --data")
}

func (d *dbFlags) describe() string {
	if d.database != "" {
		return "postgres"
	}
	return "sqlite:" + d.data + " (" + sqlite.Driver + ")"
}

// open opens and migrates the chosen database.
func (d *dbFlags) open(ctx context.Context, clock leadcycle.Clock) (*sqldb.Store, error) {
	if d.database != "" {
		return postgres.Open(ctx, d.database, clock)
	}
	return sqlite.Open(ctx, d.data, clock)
}

// parse parses args with fs, turning flag errors into errUsage.
func parse(fs *flag.FlagSet, args []string) error {
	err := fs.Parse(args)
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return err
	}
	return errUsage
}

// newDBFlagSet is newFlagSet with the flags that choose the database.
func newDBFlagSet(name, synopsis string, stderr io.Writer, getenv env) (*flag.FlagSet, *dbFlags) {
	fs := newFlagSet(name, synopsis, stderr)
	db := &dbFlags{}
	db.register(fs, getenv)
	return fs, db
}

func newFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: leadcycle %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

func cmdMigrate(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fs, db := newDBFlagSet("migrate", "migrate [--data DIR | --database URL]", stderr, getenv)
	if err := parse(fs, args); err != nil {
		return err
	}
	var applied []string
	var err error
	if db.database != "" {
		applied, err = postgres.Migrate(ctx, db.database)
	} else {
		applied, err = sqlite.Migrate(ctx, db.data)
	}
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintf(stdout, "%s: up to date\n", db.describe())
	}
	for _, v := range applied {
		fmt.Fprintf(stdout, "%s: applied %s\n", db.describe(), v)
	}
	return nil
}

// command is a subcommand's entry point.
type command func(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error

// dispatch runs the subcommand named by args[0] of a command group such as
// "apikey", printing the group's usage for --help or an unknown name.
func dispatch(ctx context.Context, group, usage string, subs map[string]command, args []string, stdout, stderr io.Writer, getenv env) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	if args[0] == "--help" || args[0] == "-h" || args[0] == "-help" {
		fmt.Fprint(stdout, usage)
		return nil
	}
	sub, ok := subs[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "leadcycle %s: unknown subcommand %q\n\n%s", group, args[0], usage)
		return errUsage
	}
	return sub(ctx, args[1:], stdout, stderr, getenv)
}
