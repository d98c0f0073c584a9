package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/linkedin"
	"github.com/leadcycle/leadcycle/store/sqldb"
)

const linkedinUsage = `Usage:
  leadcycle linkedin sync [--connection ID] [--data DIR | --database URL]
  leadcycle linkedin connections [--data DIR | --database URL]

"sync" reads new LinkedIn Lead Gen Form responses and captures them as contacts,
leads and interactions: one connection, or every enabled one. "connections"
lists the saved connections. Connections are created and changed through the
API (/api/v1/linkedin-connections). Tokens are encrypted with the key in
LEADCYCLE_SECRET_KEY; use the same key as the server.
`

func cmdLinkedIn(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	return dispatch(ctx, "linkedin", linkedinUsage, map[string]command{"sync": linkedinSync, "connections": linkedinConnections}, args, stdout, stderr, getenv)
}

// newLinkedInService opens the service on store, sealing with the
// environment's key and capturing through the store.
func newLinkedInService(store *sqldb.Store, stderr io.Writer, getenv env) (*linkedin.Service, error) {
	sealer, err := linkedin.SealerFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	var capturer leadcycle.Capturer = store
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return linkedin.NewService(store.LinkedIn(), capturer, linkedin.Options{Sealer: sealer, Records: store, Logger: log}), nil
}

func linkedinSync(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fs, db := newDBFlagSet("linkedin sync", "linkedin sync [--connection ID] [--data DIR | --database URL]", stderr, getenv)
	connection := fs.String("connection", "", "id of the connection to sync (default: every enabled connection)")
	if err := parse(fs, args); err != nil {
		return err
	}
	var only leadcycle.ID
	if *connection != "" {
		var ok bool
		if only, ok = leadcycle.ParseID(*connection); !ok {
			fmt.Fprintf(stderr, "leadcycle linkedin sync: --connection %q is not a connection id (see leadcycle linkedin connections)\n", *connection)
			return errUsage
		}
	}
	store, err := db.open(ctx, nil)
	if err != nil {
		return err
	}
	defer store.Close()
	svc, err := newLinkedInService(store, stderr, getenv)
	if err != nil {
		return err
	}
	var conns []linkedin.Connection
	if only != 0 {
		c, err := svc.Get(ctx, only)
		if err != nil {
			return fmt.Errorf("%s", leadcycle.ErrorMessage(err))
		}
		conns = []linkedin.Connection{*c}
	} else {
		all, err := svc.List(ctx)
		if err != nil {
			return err
		}
		for _, c := range all {
			if c.Enabled && (c.HasToken || c.HasRefreshToken) {
				conns = append(conns, c)
			}
		}
		if len(conns) == 0 {
			fmt.Fprintln(stdout, "No enabled LinkedIn connection with a token to sync (create one with POST /api/v1/linkedin-connections).")
			return nil
		}
	}
	failed := 0
	for _, c := range conns {
		run, err := svc.Sync(ctx, c.ID, linkedin.TriggerCLI)
		switch {
		case err != nil && run == nil && leadcycle.ErrorCode(err) == leadcycle.EConflict:
			fmt.Fprintf(stdout, "Connection %s (%s): skipped, a sync is already running.\n", c.ID, c.Name)
			continue
		case err != nil && run == nil:
			failed++
			fmt.Fprintf(stdout, "Connection %s (%s): failed: %s\n", c.ID, c.Name, leadcycle.ErrorMessage(err))
			continue
		case err != nil:
			fmt.Fprintf(stderr, "leadcycle linkedin sync: %v\n", err)
		}
		s := run.Stats
		fmt.Fprintf(stdout, "Connection %s (%s): %s: fetched %d, contacts created %d, leads created %d, matched %d, skipped %d, errors %d.\n",
			c.ID, c.Name, run.Status, s.Fetched, s.ContactsCreated, s.LeadsCreated, s.Matched, s.Skipped, s.Errors)
		if run.Status != linkedin.RunSucceeded {
			failed++
			fmt.Fprintf(stdout, "  %s\n", run.Error)
		}
		for _, f := range run.Failures {
			fmt.Fprintf(stdout, "  response %s: %s\n", f.SubmissionID, f.Message)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d LinkedIn syncs failed", failed, len(conns))
	}
	return nil
}

func linkedinConnections(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fs, db := newDBFlagSet("linkedin connections", "linkedin connections [--data DIR | --database URL]", stderr, getenv)
	if err := parse(fs, args); err != nil {
		return err
	}
	store, err := db.open(ctx, nil)
	if err != nil {
		return err
	}
	defer store.Close()
	conns, err := store.LinkedIn().Connections(ctx)
	if err != nil {
		return err
	}
	if len(conns) == 0 {
		fmt.Fprintln(stdout, "No LinkedIn connections (create one with POST /api/v1/linkedin-connections).")
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tACCOUNT\tENABLED\tEVERY\tTOKEN\tLAST SYNC\tCURSOR\tLAST ERROR")
	for _, c := range conns {
		token := "none"
		switch {
		case c.HasToken && c.HasRefreshToken:
			token = "set, refreshable"
		case c.HasToken:
			token = "set"
		}
		lastErr := c.LastError
		if len(lastErr) > 80 {
			lastErr = lastErr[:80] + "…"
		}
		if lastErr == "" {
			lastErr = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.ID, c.Name, strings.TrimPrefix(c.SponsoredAccount, "urn:li:sponsoredAccount:"),
			strconv.FormatBool(c.Enabled), c.Interval().String(), token, fmtTime(c.LastSyncAt), fmtCursor(c.Cursor), lastErr)
	}
	return tw.Flush()
}

func fmtCursor(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Format(time.RFC3339)
}

// startLinkedInScheduler syncs the LinkedIn connections on their intervals
// until stop is called; stop cancels the syncs in progress and waits for them
// to record themselves. Every node may run one: a lease in the database keeps
// each connection to one sync at a time.
func startLinkedInScheduler(store *sqldb.Store, log *slog.Logger, getenv env) (stop func(), err error) {
	sealer, err := linkedin.SealerFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	if !sealer.Encrypts() {
		log.Info("LinkedIn tokens are stored unencrypted; set " + linkedin.EnvSecretKey + " to encrypt them")
	}
	svc := linkedin.NewService(store.LinkedIn(), store, linkedin.Options{Sealer: sealer, Records: store, Logger: log})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { linkedin.NewScheduler(svc).Run(ctx); close(done) }()
	return func() { cancel(); <-done }, nil
}
