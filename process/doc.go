// Package process runs lead business processes (SPEC §5): the timeline of
// stages a lead goes through from generation to sales acceptance. It is
// pure: it reads no database and keeps no state beyond compiled processes,
// which are safe for concurrent use.
//
// Default returns the shipped "Lead to opportunity marketing sales process".
// Compile checks a process definition (leadcycle.Process.Validate, then
// every stage field against the known record fields and every expression
// against the scoring package's environment) and returns a Compiled process
// that decides where a lead goes:
//
//   - OnTrigger, when an event fires (a lead is first scored, marked
//     telesales ready, accepted by telesales, marked sales ready...): the
//     first transition on that trigger from the lead's stage whose condition
//     and target entry condition hold;
//   - OnChange, after any change to the lead, its contact or its account: the
//     same for transitions on "condition";
//   - Complete, when a user completes the lead's stage: the required fields
//     must be set, then the first branch whose condition holds (or the
//     following stage) is next, provided its entry condition holds.
//
// Expressions (entry conditions, branch conditions and transition
// conditions) see lead.*, contact.*, account.* and now exactly as scoring
// conditions do (see package scoring).
//
// Stage fields name record fields: lead.<field>, contact.<field> and
// account.<field> for the JSON fields of leadcycle.Lead, Contact and Account
// (but id, created_at, updated_at, scores and custom), and
// lead.custom.<name>, contact.custom.<name> and account.custom.<name> for
// the custom fields declared for the installation. A required field is
// missing when it is false (flags), blank (texts), nil (optional values),
// empty (lists) or, for a custom field, absent, null, blank or false; a
// field of a contact or account the lead does not have is missing.
package process
