package gen

import (
	"context"
	"fmt"

	"github.com/leadcycle/leadcycle/store/sqldb"
)

// Generated leads use forms 1–10 and two events a month from 2022 on; they
// must exist, as leads reference them.
const (
	contextForms  = 10
	contextEvents = 6 * 24
)

var generatedFormNames = []string{
	"Contact us", "Request a quote", "Ebook: lead scoring", "Newsletter sign-up", "Demo request",
	"Webinar sign-up", "Pricing enquiry", "Partner programme", "Solicitude de información", "索取產品資料",
}

const generatedFormFields = `[{"name":"email","label":"Email","type":"email","target":"contact.email","required":true,"choices":[]},` +
	`{"name":"first_name","label":"First name","type":"text","target":"contact.first_name","required":false,"choices":[]},` +
	`{"name":"last_name","label":"Last name","type":"text","target":"contact.last_name","required":false,"choices":[]}]`

// ensureContext creates the forms and events the generated leads point at,
// keeping any that already exist.
func ensureContext(ctx context.Context, db *sqldb.DB) error {
	now := Reference().UnixMicro()
	for id := 1; id <= contextForms; id++ {
		_, err := db.W.ExecContext(ctx, db.Q(`INSERT INTO forms (id, name, fields, consents, mode, submit_label, thank_you_message, created_at, updated_at)
			VALUES (?, ?, ?, '[]', 'contacts_and_leads', 'Send', 'Thank you.', ?, ?) ON CONFLICT (id) DO NOTHING`),
			id, generatedFormNames[id-1], generatedFormFields, now, now)
		if err != nil {
			return fmt.Errorf("generate: form %d: %w", id, err)
		}
	}
	for id := 1; id <= contextEvents; id++ {
		_, err := db.W.ExecContext(ctx, db.Q(`INSERT INTO events (id, name, created_at, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`),
			id, eventName(int64(id)), now, now)
		if err != nil {
			return fmt.Errorf("generate: event %d: %w", id, err)
		}
	}
	if db.Dialect.Name == "postgres" {
		for _, t := range []string{"forms", "events"} {
			if _, err := db.W.ExecContext(ctx, fmt.Sprintf("SELECT setval(pg_get_serial_sequence('%s', 'id'), (SELECT MAX(id) FROM %s))", t, t)); err != nil {
				return fmt.Errorf("generate: sequence of %s: %w", t, err)
			}
		}
	}
	return nil
}
