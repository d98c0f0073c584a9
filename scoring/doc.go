// Package scoring compiles and evaluates lead scoring models (SPEC §4). It is
// pure: it reads no database and keeps no state beyond compiled models, which
// are safe for concurrent use.
//
// # Expressions
//
// Conditions, a model's applies_to and a behaviour's where are expressions in
// the expr language (github.com/expr-lang/expr) that must be true or false.
// Compile type-checks them against the installation's custom fields, so a
// misspelt field, a comparison of a text with a number or an expression that
// is not true or false is reported when the model is saved, naming the rule,
// the problem and the line:column.
//
// Conditions, applies_to and standalone conditions (CompileCondition, which
// business processes use) see:
//
//   - contact: id, first_name, last_name, email, email_domain (the part after
//     the @), phone, job_title, account_id, owner_id, origin,
//     consent_commercial_email, consent_tracking (texts; ids are decimal
//     texts, "" when empty), created_at, updated_at (times) and custom.<name>.
//   - account: id, name, website, domain, industry, country (texts),
//     employees (an integer, 0 when unknown), revenue (a number, 0 when
//     unknown), created_at and custom.<name>.
//   - lead: id, topic, description, purchase_timeframe, purchase_process,
//     need, contact_id, account_id, status, status_reason, source, form_id,
//     event_id, journey_id, campaign, process_id, stage, owner_id (texts),
//     budget_amount (a number, 0 when unknown), telesales_ready,
//     telesales_accepted, sales_ready, sales_accepted (true or false),
//     created_at and custom.<name>.
//   - now: the time of the evaluation (expr's builtin now() is disabled so
//     that scores follow the engine's clock).
//
// Custom fields have the type of their definition: text and choice fields are
// texts, number fields numbers, bool fields true or false, and date fields
// times (midnight UTC of the stored YYYY-MM-DD). A missing value, a missing
// contact or a missing account reads as the zero value: "", 0, false or the
// zero time, so account.industry == "Retail" is false for a lead without an
// account.
//
// A behaviour's where sees the interaction:
//
//   - type and occurred_at;
//   - lead_id (the interaction's lead, else its lead_id property), form_id,
//     email_id, event_id, url and referrer: texts taken from the properties
//     of the same name, "" when absent; ids stored as JSON numbers read as
//     decimal texts, so form_id == "12" holds for 12 and "12" alike;
//   - properties: every property, for anything else (properties.device);
//   - now.
//
// The properties interactions carry today: form_submitted has form_id,
// submission_id and, when given, company; linkedin_form_submitted has
// form_id, submission_id, connection_id, sponsored_account and, when known,
// form_urn, form_name, campaign and creative; page_view has url, referrer,
// title, visitor_id and device; email_sent, email_delivered and email_opened
// have email_id, and lead_id when the email was sent for a lead;
// email_clicked adds url; event_registered and event_attended have event_id
// and status. Interactions posted through the API carry whatever properties
// the caller gave (the benchmark data adds form_name, event_name and
// utm_medium, for instance).
//
// An expression that fails while it runs (say properties.duration > 10 on an
// interaction without a duration) counts as false.
//
// # Scores
//
// A model scores a lead when it applies (its applies_to holds, or is empty)
// and the lead is scorable: a contact model needs the lead's contact; an
// account model scores account-based leads, which have an account and no
// contact (a lead with a contact is that contact's lead). The score is the sum of the points of the
// rules that hold; the grade is the model's grade holding the score.
//
// A rule holds when all its conditions and all its behaviours hold, and then
// adds its points. A behaviour counts the interactions that match it: of its
// type, for which where holds, and inside its window. With window_days N an
// interaction is inside while it is less than N×24 hours old (one exactly N
// days old is out; one that occurred after now is 0 days old and in). With
// since and until it is inside when since <= occurred_at < until, either bound
// being optional. Without both it is always inside. The frequencies hold when
// the count is: at_least_once ≥ 1, at_least ≥ count, none = 0, and each_time
// ≥ 1; a rule with an each_time behaviour adds its points once per interaction
// that behaviour counts.
//
// With a half-life of h days, behavioural points decay: an interaction of age
// a is worth 0.5^(a/h) of its points. An at_least_once behaviour takes the
// factor of its newest match, an at_least N behaviour that of its N-th newest
// match, a none behaviour 1; a rule with several behaviours takes the smallest
// of their factors. A rule with an each_time behaviour adds, for each of that
// behaviour's matches, its points times the smaller of the match's factor and
// the other behaviours' smallest factor. Each rule's contribution is rounded
// to the nearest integer (halves away from zero) and the score is the sum of
// the rounded contributions.
//
// The explanation lists the rules that hold, in model order, even those whose
// decayed points round to 0, with their points, their number of matches (the
// sum over their behaviours) and the ids of the matching interactions, most
// recent first, at most 20.
//
// # When scores change
//
// Result.NextChange is the earliest instant after now at which the score may
// change without new data, for the store to rescore then: when the match that
// keeps a behaviour holding leaves its window (the oldest match for each_time,
// the newest for at_least_once and none, the N-th newest for at_least N), when
// a future interaction's time comes, when a since or until bound passes, and,
// for decaying rules adding points, after a sixteenth of the half-life (at
// least an hour). It may be earlier than needed, never later; conditions that
// compare fields with now are not followed (the periodic refresh catches
// them).
//
// # Segment queries
//
// CompileSegment compiles the query of a dynamic segment (SPEC §6), an
// expression of the same language over one contact: the contact's fields
// above, bare or under contact; account; any, all, none and count over leads
// (the lead's fields with a leading dot, and .score("model_key")) and over
// interactions (.type, .occurred_at, .lead_id, .form_id, .email_id,
// .event_id, .url, .referrer), with an optional window as the last argument
// (14d); in_segment("key"); days_ago(n); date("…"). Only what storage can
// also compute in SQL is accepted; the checked query is both a program run
// on one contact in memory (SegmentQuery.Matches) and a tree (SegExpr) that
// storage translates into SQL.
package scoring
