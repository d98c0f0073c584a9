// Package mailer sends the queued emails: it claims sends from the store,
// personalises their template for the contact, adds the tracked links, the
// open pixel and the unsubscribe link (and RFC 8058 one-click headers),
// sends the message over SMTP and records the outcome — sent, retried later,
// or bounced, which suppresses the address.
package mailer

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/mail"
	"strings"
	"sync"
	"time"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/email"
	"github.com/leadcycle/leadcycle/tracking"
)

// Store is what the mailer needs of the store.
type Store interface {
	Emails() leadcycle.EmailStore
	Schema(ctx context.Context, entity string) (leadcycle.Schema, error)
}

// Mailer sends queued emails.
type Mailer struct {
	Store  Store
	Sender email.Sender
	// Signer signs the open, click, unsubscribe and confirmation tokens.
	Signer *tracking.Signer
	// PublicURL is where recipients reach this server
	// (https://crm.example.com): the links of every message start with it.
	PublicURL string
	// From is the sender of templates that name none; ReturnPath the
	// envelope sender (bounces go there), From's address when empty.
	From       mail.Address
	ReturnPath string
	Logger     *slog.Logger
	// Batch is how many sends are claimed at a time (default 50); Lease how
	// long they are held (default 5 minutes); Idle the pause when nothing is
	// due (default 1 s).
	Batch int
	Lease time.Duration
	Idle  time.Duration

	mu        sync.Mutex
	templates map[leadcycle.ID]compiledTemplate
}

type compiledTemplate struct {
	updated time.Time
	c       *email.Compiled
}

// Run sends due emails until ctx ends.
func (m *Mailer) Run(ctx context.Context) {
	idle := m.Idle
	if idle <= 0 {
		idle = time.Second
	}
	for ctx.Err() == nil {
		n, err := m.SendDue(ctx)
		if err != nil && ctx.Err() == nil {
			m.log().Warn("send emails", slog.String("error", err.Error()))
		}
		if n == 0 || err != nil {
			select {
			case <-ctx.Done():
			case <-time.After(idle):
			}
		}
	}
}

func (m *Mailer) log() *slog.Logger {
	if m.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return m.Logger
}

// SendDue makes one pass: it claims a batch of due sends and sends them, and
// returns how many it attempted.
func (m *Mailer) SendDue(ctx context.Context) (int, error) {
	batch, lease := m.Batch, m.Lease
	if batch <= 0 {
		batch = 50
	}
	if lease <= 0 {
		lease = 5 * time.Minute
	}
	sends, err := m.Store.Emails().ClaimSends(ctx, batch, lease)
	if err != nil {
		return 0, err
	}
	for i := range sends {
		if err := m.send(ctx, &sends[i]); err != nil {
			return i, err
		}
	}
	return len(sends), nil
}

// send sends one email and records the outcome; it returns an error only
// when the outcome could not be recorded.
func (m *Mailer) send(ctx context.Context, ec *leadcycle.EmailContext) error {
	emails := m.Store.Emails()
	msg, messageID, err := m.Compose(ctx, ec)
	if err != nil {
		// A template that no longer renders (a custom field deleted)
		// will not render on a retry either.
		return emails.MarkFailed(ctx, ec.Send.ID, false, "could not build the message: "+err.Error(), time.Hour)
	}
	from := m.ReturnPath
	if from == "" {
		from = m.sender(ec.Template).Address
	}
	err = m.Sender.Send(ctx, from, ec.Send.ToEmail, msg)
	switch {
	case err == nil:
		return emails.MarkSent(ctx, ec.Send.ID, messageID)
	case email.IsPermanent(err):
		m.log().Info("email bounced", slog.String("send", ec.Send.ID.String()), slog.String("error", err.Error()))
		return emails.MarkFailed(ctx, ec.Send.ID, true, err.Error(), 0)
	default:
		if ctx.Err() != nil {
			return nil // shutting down: the lease runs out and it is sent later
		}
		retry := time.Minute << min(ec.Send.Attempts, 6)
		m.log().Warn("email not sent, will retry", slog.String("send", ec.Send.ID.String()), slog.Duration("in", retry), slog.String("error", err.Error()))
		return emails.MarkFailed(ctx, ec.Send.ID, false, err.Error(), retry)
	}
}

func (m *Mailer) sender(t leadcycle.EmailTemplate) mail.Address {
	if t.FromEmail != "" {
		return mail.Address{Name: t.FromName, Address: t.FromEmail}
	}
	from := m.From
	if t.FromName != "" {
		from.Name = t.FromName
	}
	return from
}

// Compose builds the message of a send and returns it with its Message-ID.
func (m *Mailer) Compose(ctx context.Context, ec *leadcycle.EmailContext) ([]byte, string, error) {
	from := m.sender(ec.Template)
	if from.Address == "" {
		return nil, "", fmt.Errorf("the template has no sender address and no default sender is configured")
	}
	r, links, err := m.Render(ctx, ec)
	if err != nil {
		return nil, "", err
	}
	messageID := newMessageID(ec.Send.ID, from.Address)
	headers := map[string]string{}
	if ec.Template.ReplyTo != "" {
		headers["Reply-To"] = ec.Template.ReplyTo
	}
	headers["X-Leadcycle-Send"] = ec.Send.ID.String()
	to := mail.Address{Name: strings.TrimSpace(ec.Contact.FirstName + " " + ec.Contact.LastName), Address: ec.Send.ToEmail}
	raw, err := email.Build(email.Message{From: from, To: to, Subject: r.Subject, HTML: r.HTML, Text: r.Text,
		UnsubscribeURL: links.UnsubscribeURL, MessageID: messageID, Headers: headers}, time.Now())
	if err != nil {
		return nil, "", err
	}
	return raw, messageID, nil
}

// Render personalises the template of a send for its contact, with the
// tracked links, open pixel and unsubscribe link the message will carry.
func (m *Mailer) Render(ctx context.Context, ec *leadcycle.EmailContext) (email.Rendered, email.Links, error) {
	c, err := m.compiled(ctx, ec.Template)
	if err != nil {
		return email.Rendered{}, email.Links{}, err
	}
	from := m.sender(ec.Template)
	emailID := ec.Template.ID.String()
	contact := ec.Contact
	base := strings.TrimRight(m.PublicURL, "/")
	unsub, err := m.Signer.UnsubscribeToken(contact.ID, emailID)
	if err != nil {
		return email.Rendered{}, email.Links{}, err
	}
	links := email.Links{UnsubscribeURL: base + "/u/" + unsub}
	data := recipientData(ec, from)
	confirmPrefix := base + "/consent/"
	if ec.Send.Confirm != "" {
		tok, err := m.Signer.ConfirmToken(contact.ID, ec.Send.Confirm)
		if err != nil {
			return email.Rendered{}, email.Links{}, err
		}
		data["consent"] = map[string]string{"confirm_url": confirmPrefix + tok}
	}
	// Opens and clicks are tracked only for contacts who consented to
	// tracking.
	if contact.Consent.Tracking == leadcycle.ConsentGranted {
		open, err := m.Signer.OpenToken(contact.ID, emailID, ec.Send.LeadID)
		if err != nil {
			return email.Rendered{}, email.Links{}, err
		}
		links.OpenPixelURL = base + "/o/" + open
		links.Track = func(u string) string {
			if strings.HasPrefix(u, confirmPrefix) || strings.HasPrefix(u, base+"/u/") {
				return u
			}
			tok, err := m.Signer.ClickToken(contact.ID, emailID, ec.Send.LeadID, u)
			if err != nil {
				return u // too long to sign: left untracked
			}
			return base + "/c/" + tok
		}
	}
	r, err := c.Render(data, links)
	return r, links, err
}

func newMessageID(send leadcycle.ID, from string) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	domain := "leadcycle.invalid"
	if i := strings.LastIndexByte(from, '@'); i >= 0 && i+1 < len(from) {
		domain = from[i+1:]
	}
	return "<" + send.String() + "." + hex.EncodeToString(b[:]) + "@" + domain + ">"
}

// compiled parses a template once per version.
func (m *Mailer) compiled(ctx context.Context, t leadcycle.EmailTemplate) (*email.Compiled, error) {
	m.mu.Lock()
	ct, ok := m.templates[t.ID]
	m.mu.Unlock()
	if ok && ct.updated.Equal(t.UpdatedAt) {
		return ct.c, nil
	}
	fields := email.DefaultFields()
	for _, entity := range []string{"contact", "account", "lead"} {
		schema, err := m.Store.Schema(ctx, entity)
		if err != nil {
			return nil, err
		}
		for _, f := range schema {
			fields.Add(entity, "custom."+f.Name)
		}
	}
	c, err := email.ParseWith(email.Template{Subject: t.Subject, HTML: t.HTML, Text: t.Text}, fields)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	if m.templates == nil {
		m.templates = map[leadcycle.ID]compiledTemplate{}
	}
	m.templates[t.ID] = compiledTemplate{updated: t.UpdatedAt, c: c}
	m.mu.Unlock()
	return c, nil
}

// recipientData is what the placeholders of one send are filled with.
func recipientData(ec *leadcycle.EmailContext, from mail.Address) email.Data {
	c := ec.Contact
	contact := map[string]string{"first_name": c.FirstName, "last_name": c.LastName, "email": c.Email, "phone": c.Phone, "job_title": c.JobTitle}
	addCustom(contact, c.Custom)
	data := email.Data{"contact": contact, "sender": {"name": from.Name, "email": from.Address}}
	if a := ec.Account; a != nil {
		account := map[string]string{"name": a.Name, "website": a.Website, "domain": a.Domain, "industry": a.Industry, "country": a.Country}
		addCustom(account, a.Custom)
		data["account"] = account
	}
	if l := ec.Lead; l != nil {
		lead := map[string]string{"topic": l.Topic, "description": l.Description, "need": l.Need, "status": l.Status, "source": l.Source, "campaign": l.Campaign, "stage": l.Stage}
		addCustom(lead, l.Custom)
		data["lead"] = lead
	}
	return data
}

func addCustom(m map[string]string, custom leadcycle.Custom) {
	for name := range custom {
		m["custom."+name] = custom.Text(name)
	}
}

// Preview renders a template for a contact as the message would read, with
// links that do nothing: no tracking, no pixel, and an unsubscribe link
// that unsubscribes no one.
func (m *Mailer) Preview(ctx context.Context, ec *leadcycle.EmailContext) (email.Rendered, error) {
	c, err := m.compiled(ctx, ec.Template)
	if err != nil {
		return email.Rendered{}, err
	}
	data := recipientData(ec, m.sender(ec.Template))
	base := strings.TrimRight(m.PublicURL, "/")
	if ec.Send.Confirm != "" {
		data["consent"] = map[string]string{"confirm_url": base + "/consent/preview"}
	}
	return c.Render(data, email.Links{UnsubscribeURL: base + "/u/preview"})
}
