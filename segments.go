package leadcycle

import (
	"context"
	"regexp"
	"strings"
	"time"
)

// Segment kinds: a dynamic segment holds the contacts its query matches, kept
// up to date as data changes; a static segment holds the contacts added to it.
const (
	SegmentDynamic = "dynamic"
	SegmentStatic  = "static"
)

// SegmentKinds lists the segment kinds.
var SegmentKinds = []string{SegmentDynamic, SegmentStatic}

// Segment events written to the outbox when a contact enters or leaves a
// segment (by its query, or by being added to or removed from a static one).
const (
	EventSegmentEntered = "segment.entered"
	EventSegmentExited  = "segment.exited"
)

// Segment is a group of contacts.
type Segment struct {
	ID ID `json:"id"`
	// Key names the segment in queries (in_segment("webinar-2026")); it
	// defaults to one made from the name.
	Key         string `json:"key"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Kind        string `json:"kind"`
	// Query is the expression a dynamic segment's contacts match (package
	// scoring compiles it); static segments have none.
	Query string `json:"query"`
	// MemberCount is the number of contacts in the segment (read-only).
	MemberCount int64     `json:"member_count"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// segmentKeyPattern: lower-case letters, digits, underscores and hyphens,
// starting with a letter or digit.
var segmentKeyPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// ValidSegmentKey reports whether s can be a segment key.
func ValidSegmentKey(s string) bool { return segmentKeyPattern.MatchString(s) }

// Normalize trims text and fills defaults.
func (s *Segment) Normalize() {
	s.Name = strings.TrimSpace(s.Name)
	s.Key = strings.TrimSpace(s.Key)
	s.Description = strings.TrimSpace(s.Description)
	s.Query = strings.TrimSpace(s.Query)
	if s.Key == "" {
		s.Key = Slugify(s.Name)
	}
	if s.Kind == "" {
		s.Kind = SegmentDynamic
		if s.Query == "" {
			s.Kind = SegmentStatic
		}
	}
}

// Validate checks everything but the query, which needs the field schema and
// the other segments (package scoring compiles and type-checks it).
func (s *Segment) Validate() error {
	var v validator
	v.required("name", s.Name)
	v.maxLen("name", s.Name, 200)
	v.maxLen("description", s.Description, 5000)
	if !ValidSegmentKey(s.Key) {
		v.add("key", "must be a key: a lower-case letter or digit, then letters, digits, underscores or hyphens (at most 63)")
	}
	v.oneOf("kind", s.Kind, SegmentKinds)
	v.maxLen("query", s.Query, 4000)
	switch {
	case s.Kind == SegmentDynamic && s.Query == "":
		v.add("query", "is required for a dynamic segment")
	case s.Kind == SegmentStatic && s.Query != "":
		v.add("query", "a static segment has no query (its contacts are added to it)")
	}
	return v.Err()
}

// SegmentMember is one contact of a segment.
type SegmentMember struct {
	ContactID ID     `json:"contact_id"`
	Email     string `json:"email"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	// Since is when the contact entered the segment.
	Since time.Time `json:"since"`
}

// SegmentPreview is what a query would hold now, without saving it.
type SegmentPreview struct {
	Count int64 `json:"count"`
	// Sample holds the first contacts (by id) the query matches.
	Sample []Contact `json:"sample"`
}

// MembersChange reports a change to a static segment's list.
type MembersChange struct {
	// Changed counts the contacts added or removed; Unchanged those that
	// already were (or were not) members.
	Changed   int `json:"changed"`
	Unchanged int `json:"unchanged"`
	// NotFound lists the emails or ids given that match no contact.
	NotFound []string `json:"not_found"`
}

// SegmentStore keeps segment membership.
type SegmentStore interface {
	// Members lists the contacts of a segment, by contact id.
	Members(ctx context.Context, segmentID ID, q ListQuery) (Page[SegmentMember], error)
	// Preview evaluates a query now and returns its count and a sample of
	// sample contacts; nothing is stored. A faulty query is an EInvalid
	// error on the field "query".
	Preview(ctx context.Context, query string, sample int) (*SegmentPreview, error)
	// AddMembers adds contacts to a static segment; RemoveMembers takes
	// them out. Each change writes a segment event. Contacts are given by id
	// or, in emails, by address.
	AddMembers(ctx context.Context, segmentID ID, contactIDs []ID, emails []string) (*MembersChange, error)
	RemoveMembers(ctx context.Context, segmentID ID, contactIDs []ID, emails []string) (*MembersChange, error)
	// ProcessDue re-evaluates up to max contacts whose data changed (or
	// whose windows moved) against every dynamic segment, writing the
	// entered and exited events; it returns how many it looked at. Safe to
	// call from several processes at once.
	ProcessDue(ctx context.Context, max int) (int, error)
}
