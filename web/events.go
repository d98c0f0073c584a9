package web

import (
	"net/http"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/forms"
)

func (s *Server) openEvent(r *http.Request) (*leadcycle.Event, error) {
	id, err := pathID(r)
	if err != nil {
		return nil, err
	}
	return s.store.Events().Get(r.Context(), id)
}

// eventRegister is the public registration: the registrant is matched or
// created like a form submitter, gets a lead with the event as marketing
// context, and a place (or a waitlist place) at the event.
func (s *Server) eventRegister(w http.ResponseWriter, r *http.Request) {
	ev, err := s.openEvent(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	values, _, err := readPublicValues(w, r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if values[forms.HoneypotField] != "" {
		writeJSON(w, http.StatusOK, map[string]any{"status": leadcycle.RegistrationRegistered})
		return
	}
	var errs []leadcycle.FieldError
	email := leadcycle.NormalizeEmail(values["email"])
	if !leadcycle.ValidEmail(email) {
		errs = append(errs, leadcycle.FieldError{Field: "email", Message: "is required and must be a valid email address"})
	}
	contact := leadcycle.Contact{FirstName: values["first_name"], LastName: values["last_name"], Email: email, Phone: values["phone"], JobTitle: values["job_title"]}
	if forms.Truthy(values["consent_commercial_email"]) {
		contact.Consent.CommercialEmail = leadcycle.ConsentGranted
	}
	c := contact
	c.Normalize()
	if err := c.Validate(); err != nil {
		for _, f := range leadcycle.ErrorFields(err) {
			if f.Field != "email" {
				errs = append(errs, f)
			}
		}
	}
	if len(errs) > 0 {
		writeError(w, r, &leadcycle.Error{Code: leadcycle.EInvalid, Message: errs[0].Field + ": " + errs[0].Message, Fields: errs})
		return
	}
	topic := ev.LeadTopic
	if topic == "" {
		topic = ev.Name
	}
	in := leadcycle.CaptureInput{
		Source: leadcycle.SourceEvent, Contact: contact, VisitorID: values[forms.VisitorField],
		Lead: &leadcycle.Lead{Topic: topic, Campaign: ev.Campaign, EventID: leadcycle.IDPtr(ev.ID)},
	}
	if key := r.Header.Get("Idempotency-Key"); key != "" {
		in.ExternalID = "event:" + ev.ID.String() + ":" + key
	}
	if ev.ContactStrategyID != nil {
		in.ContactStrategyID = *ev.ContactStrategyID
	}
	if ev.LeadStrategyID != nil {
		in.LeadStrategyID = *ev.LeadStrategyID
	}
	if !ev.RegistrationOpen {
		writeError(w, r, leadcycle.Errorf(leadcycle.EConflict, "registration for %s is closed", ev.Name))
		return
	}
	res, err := s.store.Capture(r.Context(), in)
	if err != nil {
		writeError(w, r, err)
		return
	}
	reg, created, err := s.store.Registrations().Register(r.Context(), ev.ID, *res.ContactID, res.LeadID)
	if err != nil {
		writeError(w, r, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, map[string]any{"status": reg.Status, "registration": reg, "explanation": res.Explanation})
}

func (s *Server) eventRegistrations(w http.ResponseWriter, r *http.Request) {
	ev, err := s.openEvent(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	regs, err := s.store.Registrations().Registrations(r.Context(), ev.ID)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": regs, "next_cursor": ""})
}

// contactBody reads {"contact_id": "…"} from an API request.
func (s *Server) contactBody(w http.ResponseWriter, r *http.Request) (leadcycle.ID, *leadcycle.ID, error) {
	fields, err := s.readObject(w, r)
	if err != nil {
		return 0, nil, err
	}
	var body struct {
		ContactID leadcycle.ID  `json:"contact_id"`
		LeadID    *leadcycle.ID `json:"lead_id"`
	}
	if err := decodeFields(fields, &body, "registration"); err != nil {
		return 0, nil, err
	}
	if body.ContactID == 0 {
		return 0, nil, leadcycle.FieldErrorf(leadcycle.EInvalid, "contact_id", "is required")
	}
	if _, err := s.store.Contacts().Get(r.Context(), body.ContactID); err != nil {
		return 0, nil, leadcycle.FieldErrorf(leadcycle.EInvalid, "contact_id", "contact %s does not exist", body.ContactID)
	}
	return body.ContactID, body.LeadID, nil
}

func (s *Server) eventRegisterContact(w http.ResponseWriter, r *http.Request) {
	ev, err := s.openEvent(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	contact, lead, err := s.contactBody(w, r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	reg, created, err := s.store.Registrations().Register(r.Context(), ev.ID, contact, lead)
	if err != nil {
		writeError(w, r, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, reg)
}

func (s *Server) eventCheckIn(w http.ResponseWriter, r *http.Request) {
	ev, err := s.openEvent(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	contact, _, err := s.contactBody(w, r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	reg, err := s.store.Registrations().CheckIn(r.Context(), ev.ID, contact)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, reg)
}

func (s *Server) eventCancel(w http.ResponseWriter, r *http.Request) {
	ev, err := s.openEvent(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	contact, ok := leadcycle.ParseID(r.PathValue("contact_id"))
	if !ok {
		writeError(w, r, leadcycle.Errorf(leadcycle.ENotFound, "no registration for %q", r.PathValue("contact_id")))
		return
	}
	reg, err := s.store.Registrations().Cancel(r.Context(), ev.ID, contact)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, reg)
}
