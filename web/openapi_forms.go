package web

// OpenAPI of forms: the double opt-in fields.

func init() {
	for k, d := range map[string]string{
		"Form.double_opt_in": "When true, a ticked commercial_email consent box leaves the contact's commercial email consent pending (a contact who has already granted it stays granted) " +
			"and queues the confirmation email; the consent becomes granted when the contact follows its link. Needs confirmation_email_id and a commercial_email consent box.",
		"Form.confirmation_email_id": "The email template sent to confirm a double opt-in: a transactional template whose HTML or text contains {{consent.confirm_url}}. " +
			"Required when double_opt_in is true.",
	} {
		fieldDescriptions[k] = d
	}
}
