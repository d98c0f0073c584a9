package linkedintest

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/leadcycle/leadcycle"
)

// Capturer is a fake leadcycle.Capturer: idempotent on (Source, ExternalID),
// contacts matched by email, one lead per contact and topic, one interaction
// per capture. It keeps every input it was given.
type Capturer struct {
	mu       sync.Mutex
	results  map[string]leadcycle.CaptureResult
	contacts map[string]leadcycle.ID // email → id
	leads    map[string]leadcycle.ID // email + topic → id
	next     int64

	// Inputs are the captures asked, repeats included.
	Inputs []leadcycle.CaptureInput
	// Interactions counts the interactions recorded.
	Interactions int
	// Fail, if set, is asked first; an error it returns is returned.
	Fail func(in leadcycle.CaptureInput) error
}

var _ leadcycle.Capturer = (*Capturer)(nil)

// NewCapturer returns an empty fake.
func NewCapturer() *Capturer {
	return &Capturer{results: map[string]leadcycle.CaptureResult{}, contacts: map[string]leadcycle.ID{}, leads: map[string]leadcycle.ID{}}
}

// Capture implements leadcycle.Capturer.
func (c *Capturer) Capture(ctx context.Context, in leadcycle.CaptureInput) (leadcycle.CaptureResult, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.Inputs = append(c.Inputs, in)
	if err := ctx.Err(); err != nil {
		return leadcycle.CaptureResult{}, err
	}
	if c.Fail != nil {
		if err := c.Fail(in); err != nil {
			return leadcycle.CaptureResult{}, err
		}
	}
	key := in.Source + "\x00" + in.ExternalID
	if r, ok := c.results[key]; ok && in.ExternalID != "" {
		r.Repeated = true
		return r, nil
	}
	email := leadcycle.NormalizeEmail(in.Contact.Email)
	if email == "" || !leadcycle.ValidEmail(email) {
		return leadcycle.CaptureResult{}, leadcycle.FieldErrorf(leadcycle.EInvalid, "email", "is not a valid email address")
	}
	res := leadcycle.CaptureResult{CapturedAt: time.Now().UTC(), Explanation: []string{}}
	id, ok := c.contacts[email]
	if !ok {
		c.next++
		id = leadcycle.ID(c.next)
		c.contacts[email] = id
		res.ContactCreated = true
	}
	res.ContactID = leadcycle.IDPtr(id)
	if in.Lead != nil {
		lk := email + "\x00" + strings.ToLower(in.Lead.Topic)
		lid, ok := c.leads[lk]
		if !ok {
			c.next++
			lid = leadcycle.ID(c.next)
			c.leads[lk] = lid
			res.LeadCreated = true
		}
		res.LeadID = leadcycle.IDPtr(lid)
	}
	if in.Interaction != nil {
		c.next++
		c.Interactions++
		res.InteractionID = leadcycle.IDPtr(leadcycle.ID(c.next))
	}
	if in.ExternalID != "" {
		c.results[key] = res
	}
	return res, nil
}

// Contacts returns how many distinct contacts were created.
func (c *Capturer) Contacts() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.contacts)
}

// Calls returns how many captures were asked.
func (c *Capturer) Calls() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.Inputs)
}

// InteractionCount returns how many interactions were recorded.
func (c *Capturer) InteractionCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.Interactions
}

// Last returns the last input.
func (c *Capturer) Last() leadcycle.CaptureInput {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.Inputs[len(c.Inputs)-1]
}
