package main

import (
	"flag"
	"fmt"
	"net/mail"
	"net/url"
	"strconv"
	"time"

	"github.com/leadcycle/leadcycle/email"
	"github.com/leadcycle/leadcycle/web"
)

// mailFlags are serve's SMTP settings.
type mailFlags struct {
	host, tlsMode, user, password, from, returnPath, publicURL *string
	port                                                       *int
	rate                                                       *float64
}

func addMailFlags(fs *flag.FlagSet, getenv env) *mailFlags {
	envInt := func(k string) int { n, _ := strconv.Atoi(getenv(k)); return n }
	envFloat := func(k string, def float64) float64 {
		if v, err := strconv.ParseFloat(getenv(k), 64); err == nil {
			return v
		}
		return def
	}
	or := func(k, def string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return def
	}
	return &mailFlags{
		host:       fs.String("smtp-host", getenv("LEADCYCLE_SMTP_HOST"), "SMTP server that sends email (env LEADCYCLE_SMTP_HOST); none sends no email"),
		port:       fs.Int("smtp-port", envInt("LEADCYCLE_SMTP_PORT"), "SMTP port (env LEADCYCLE_SMTP_PORT; default 587, 465 with --smtp-tls tls, 25 with none)"),
		tlsMode:    fs.String("smtp-tls", or("LEADCYCLE_SMTP_TLS", email.TLSStartTLS), "SMTP TLS: starttls, tls or none (env LEADCYCLE_SMTP_TLS)"),
		user:       fs.String("smtp-user", getenv("LEADCYCLE_SMTP_USER"), "SMTP user name (env LEADCYCLE_SMTP_USER)"),
		password:   fs.String("smtp-password", getenv("LEADCYCLE_SMTP_PASSWORD"), "SMTP password (better: env LEADCYCLE_SMTP_PASSWORD)"),
		from:       fs.String("smtp-from", getenv("LEADCYCLE_SMTP_FROM"), "sender of templates that name none, e.g. 'Acme <news@acme.example>' (env LEADCYCLE_SMTP_FROM)"),
		returnPath: fs.String("smtp-return-path", getenv("LEADCYCLE_SMTP_RETURN_PATH"), "envelope sender where bounces go (env LEADCYCLE_SMTP_RETURN_PATH; default the sender)"),
		rate:       fs.Float64("smtp-rate", envFloat("LEADCYCLE_SMTP_RATE", 10), "emails per second at most (env LEADCYCLE_SMTP_RATE)"),
		publicURL:  fs.String("public-url", getenv("LEADCYCLE_PUBLIC_URL"), "where recipients reach this server, e.g. https://crm.acme.example: links in emails start with it (env LEADCYCLE_PUBLIC_URL)"),
	}
}

// options returns the mailer's options, nil without an SMTP host.
func (f *mailFlags) options() (*web.MailOptions, error) {
	if *f.host == "" {
		return nil, nil
	}
	u, err := url.Parse(*f.publicURL)
	if *f.publicURL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--public-url: give the http(s) address recipients reach this server at; the links of every email start with it")
	}
	var from mail.Address
	if *f.from != "" {
		a, err := mail.ParseAddress(*f.from)
		if err != nil {
			return nil, fmt.Errorf("--smtp-from: %q is not an address: %v", *f.from, err)
		}
		from = *a
	}
	sender, err := email.NewSMTPSender(email.SMTPConfig{Host: *f.host, Port: *f.port, TLS: *f.tlsMode, Username: *f.user, Password: *f.password,
		RatePerSecond: *f.rate, Timeout: 30 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("smtp: %w", err)
	}
	return &web.MailOptions{Sender: sender, PublicURL: *f.publicURL, From: from, ReturnPath: *f.returnPath}, nil
}
