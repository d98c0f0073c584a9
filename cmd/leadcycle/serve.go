package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/leadcycle/leadcycle/store/sqldb"
	"github.com/leadcycle/leadcycle/web"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer, getenv env) error {
	fs, db := newDBFlagSet("serve", "serve [--addr HOST:PORT] [--data DIR | --database URL]", stderr, getenv)
	defAddr := getenv("LEADCYCLE_ADDR")
	if defAddr == "" {
		defAddr = "127.0.0.1:8080"
	}
	addr := fs.String("addr", defAddr, "address to listen on (env LEADCYCLE_ADDR)")
	logFormat := fs.String("log-format", "json", "log format: json or text")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn or error")
	maxBody := fs.Int64("max-body", 1<<20, "largest accepted request body, in bytes")
	maxImport := fs.Int64("import-max-bytes", 1<<30, "largest accepted import upload, in bytes")
	secureCookies := fs.Bool("secure-cookies", false, "mark session cookies Secure even on plain HTTP (the server sits behind a TLS proxy)")
	spool := fs.String("spool", "", "directory for submissions the database cannot take (default: DATA/spool, or ./leadcycle-spool with --database)")
	freeMail := fs.String("free-mail-domains", "", "comma-separated extra free mail domains, never linked to accounts by domain")
	shutdownTimeout := fs.Duration("shutdown-timeout", 30*time.Second, "how long in-flight requests may take to finish on SIGINT/SIGTERM")
	hookPrivate := fs.Bool("webhook-allow-private", false, "let webhooks call private and loopback addresses (refused by default)")
	retention := fs.Duration("event-retention", 30*24*time.Hour, "how long handled events and finished webhook deliveries are kept (0 keeps them)")
	hookHosts := fs.String("webhook-allow-hosts", "", "comma-separated hosts (or host:port) webhooks may call even when they resolve to private or loopback addresses")
	mailFlags := addMailFlags(fs, getenv)
	if err := parse(fs, args); err != nil {
		return err
	}
	mailOpts, err := mailFlags.options()
	if err != nil {
		return err
	}
	log, err := newLogger(stderr, *logFormat, *logLevel)
	if err != nil {
		return err
	}
	store, err := db.open(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err := store.Close(); err != nil {
			log.Error("close database", slog.String("error", err.Error()))
		}
		log.Info("database closed")
	}()
	stopLinkedIn, err := startLinkedInScheduler(store, log, getenv)
	if err != nil {
		return err
	}
	defer stopLinkedIn()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(collectors.NewDBStatsCollector(store.W, "writer"))
	if store.R != store.W {
		reg.MustRegister(collectors.NewDBStatsCollector(store.R, "reader"))
	}
	if *spool == "" {
		*spool = filepath.Join(db.data, "spool")
		if db.database != "" {
			*spool = "./leadcycle-spool"
		}
	}
	if *freeMail != "" {
		store.SetFreeMailDomains(append(slices.Clone(sqldb.DefaultFreeMailDomains), strings.Split(*freeMail, ",")...))
	}
	handler := web.NewServer(store, web.Options{Logger: log, Registry: reg, Version: versionString(), MaxBodyBytes: *maxBody, MaxImportBytes: *maxImport, SecureCookies: *secureCookies, SpoolDir: *spool,
		WebhookAllowPrivate: *hookPrivate, WebhookAllowHosts: splitList(*hookHosts), EventRetention: *retention, Mail: mailOpts})
	if mailOpts == nil {
		log.Info("email is not sent: no --smtp-host (journey emails stay queued)")
	}
	workers, stopWorkers := context.WithCancel(context.Background())
	workersDone := make(chan struct{})
	go func() { handler.RunWorkers(workers); close(workersDone) }()
	defer func() { stopWorkers(); <-workersDone }()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("listening", slog.String("addr", "http://"+ln.Addr().String()), slog.String("database", db.describe()), slog.String("version", versionString()))

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests")
	sctx, cancel := context.WithTimeout(context.Background(), *shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %q is not one of debug, info, warn, error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	default:
		return nil, fmt.Errorf("--log-format: %q is not json or text", format)
	}
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
