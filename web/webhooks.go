package web

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/webhook"
)

// Webhooks: subscriptions to events, signed per Standard Webhooks and sent
// from the outbox with retries. A subscription's secret is shown once, when
// it is created or rotated, and stored sealed; URLs that resolve to private
// or loopback addresses are refused unless the server allows them.

const webhooksBase = "/api/v1/webhooks"

func (s *Server) registerWebhooks() {
	read, write := leadcycle.Perm("webhooks", leadcycle.ActionRead), leadcycle.Perm("webhooks", leadcycle.ActionWrite)
	s.handle("GET", webhooksBase, read, s.listWebhooks)
	s.handle("POST", webhooksBase, write, s.createWebhook)
	s.handle("GET", webhooksBase+"/{id}", read, s.getWebhook)
	s.handle("PATCH", webhooksBase+"/{id}", write, s.updateWebhook)
	s.handle("DELETE", webhooksBase+"/{id}", leadcycle.Perm("webhooks", leadcycle.ActionDelete), resource[leadcycle.Webhook]{name: "webhooks", repo: s.store.Webhooks}.delete)
	s.handle("POST", webhooksBase+"/{id}/rotate-secret", write, s.rotateWebhookSecret)
	s.handle("GET", webhooksBase+"/{id}/deliveries", read, pageOf(s.store.WebhookDeliveries().Deliveries))
	s.handle("POST", webhooksBase+"/{id}/deliveries/{delivery}/retry", write, s.retryDelivery)
}

// webhookWritable are the fields a client sets.
var webhookWritable = []string{"name", "url", "description", "events", "active"}

// hideSecret blanks the stored (sealed) secret of a webhook before it is shown.
func hideSecret(h *leadcycle.Webhook) *leadcycle.Webhook {
	h.Secret = ""
	return h
}

func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request) {
	q, err := parsePageQuery(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	page, err := s.store.Webhooks().List(r.Context(), q)
	if err != nil {
		writeError(w, r, err)
		return
	}
	for i := range page.Items {
		hideSecret(&page.Items[i])
	}
	writeJSON(w, http.StatusOK, page)
}

func (s *Server) getWebhook(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	h, err := s.store.Webhooks().Get(r.Context(), id)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, hideSecret(h))
}

// checkWebhookURL refuses addresses the server may not call.
func (s *Server) checkWebhookURL(ctx context.Context, url string) error {
	if err := s.webhookGuard.CheckURL(ctx, url); err != nil {
		msg := strings.TrimPrefix(err.Error(), "url: ")
		return leadcycle.FieldErrorf(leadcycle.EInvalid, "url", "%s", msg)
	}
	return nil
}

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request) {
	fields, err := s.readObject(w, r)
	if err == nil {
		err = onlyFields(fields, "a webhook", webhookWritable...)
	}
	h := leadcycle.Webhook{Active: true}
	if err == nil {
		err = decodeFields(fields, &h, "webhook")
	}
	if err == nil {
		h.Normalize()
		err = h.Validate()
	}
	if err == nil {
		err = s.checkWebhookURL(r.Context(), h.URL)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	secret := webhook.NewSecret()
	if h.Secret, err = s.sealer.Seal(secret); err != nil {
		writeError(w, r, err)
		return
	}
	if err := s.store.Webhooks().Create(r.Context(), &h); err != nil {
		writeError(w, r, err)
		return
	}
	h.Secret = secret
	w.Header().Set("Location", webhooksBase+"/"+h.ID.String())
	writeJSON(w, http.StatusCreated, h)
}

func (s *Server) updateWebhook(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	patch, err := s.readObject(w, r)
	if err == nil {
		err = onlyFields(patch, "a webhook", webhookWritable...)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	apply := applyPatch[leadcycle.Webhook](patch, "webhook")
	h, err := s.store.Webhooks().Update(r.Context(), id, func(cur *leadcycle.Webhook) error {
		sealed := cur.Secret
		if err := apply(cur); err != nil {
			return err
		}
		cur.Secret = sealed
		cur.Normalize()
		if err := cur.Validate(); err != nil {
			return err
		}
		return s.checkWebhookURL(r.Context(), cur.URL)
	})
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, hideSecret(h))
}

func (s *Server) rotateWebhookSecret(w http.ResponseWriter, r *http.Request) {
	id, _, err := s.readAction(w, r, "a rotate-secret request")
	if err != nil {
		writeError(w, r, err)
		return
	}
	secret := webhook.NewSecret()
	sealed, err := s.sealer.Seal(secret)
	if err != nil {
		writeError(w, r, err)
		return
	}
	h, err := s.store.Webhooks().Update(r.Context(), id, func(cur *leadcycle.Webhook) error { cur.Secret = sealed; return nil })
	if err != nil {
		writeError(w, r, err)
		return
	}
	h.Secret = secret
	writeJSON(w, http.StatusOK, h)
}

func (s *Server) retryDelivery(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	did, ok := leadcycle.ParseID(r.PathValue("delivery"))
	if !ok {
		writeError(w, r, leadcycle.Errorf(leadcycle.ENotFound, "no delivery with id %q", r.PathValue("delivery")))
		return
	}
	if _, _, err := s.readAction(w, r, "a retry request"); err != nil {
		writeError(w, r, err)
		return
	}
	d, err := s.store.WebhookDeliveries().RetryDelivery(r.Context(), id, did)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

// WebhookWorker returns the worker that sends the outbox's events to the
// webhooks (RunWorkers runs it; tests drive it with RunOnce).
func (s *Server) WebhookWorker() *webhook.Worker {
	return &webhook.Worker{Store: s.store.WebhookDeliveries(), Client: s.webhookGuard.Client(10 * time.Second), Open: s.sealer.Open,
		Clock: s.clock, Log: s.log, Interval: 500 * time.Millisecond, Lease: time.Minute}
}
