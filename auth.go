package leadcycle

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"slices"
	"strings"
	"time"
)

// Roles. An API key or user has exactly one.
const (
	RoleAdmin        = "admin"
	RoleMarketer     = "marketer"
	RoleTelesales    = "telesales"
	RoleSales        = "sales"
	RoleSalesManager = "sales_manager"
	RoleReadonly     = "readonly"
)

// Roles lists every role.
var Roles = []string{RoleAdmin, RoleMarketer, RoleTelesales, RoleSales, RoleSalesManager, RoleReadonly}

// ValidRole reports whether r is a known role.
func ValidRole(r string) bool { return slices.Contains(Roles, r) }

// Permission is what a route needs: a resource and an action, "leads:write".
type Permission string

// Permission actions.
const (
	ActionRead   = "read"
	ActionWrite  = "write"
	ActionDelete = "delete"
)

// Perm builds the permission for an action on a resource.
func Perm(resource, action string) Permission { return Permission(resource + ":" + action) }

var everyone = Roles

// policy lists, per permission, the roles that hold it. Admin holds all of
// them; a permission missing here is admin-only.
var policy = map[Permission][]string{
	// Every signed-in user sees their own dashboard and sets their language.
	"profile:read":  everyone,
	"profile:write": everyone,

	"contacts:read":              everyone,
	"contacts:write":             {RoleMarketer, RoleTelesales, RoleSales, RoleSalesManager},
	"contacts:delete":            {RoleMarketer, RoleSalesManager},
	"accounts:read":              everyone,
	"accounts:write":             {RoleMarketer, RoleTelesales, RoleSales, RoleSalesManager},
	"accounts:delete":            {RoleMarketer, RoleSalesManager},
	"leads:read":                 everyone,
	"leads:write":                {RoleMarketer, RoleTelesales, RoleSales, RoleSalesManager},
	"leads:delete":               {RoleMarketer, RoleSalesManager},
	"leads:read_all":             {RoleMarketer, RoleSalesManager, RoleReadonly},
	"leads:stage":                {RoleMarketer, RoleTelesales, RoleSales, RoleSalesManager},
	"leads:move":                 {RoleMarketer, RoleSalesManager},
	"leads:qualify":              {RoleSales, RoleSalesManager},
	"leads:disqualify":           {RoleMarketer, RoleTelesales, RoleSales, RoleSalesManager},
	"leads:reactivate":           {RoleMarketer, RoleSalesManager},
	"leads:mark_ready":           {RoleMarketer, RoleTelesales, RoleSalesManager},
	"leads:accept_telesales":     {RoleTelesales, RoleSalesManager},
	"leads:accept_sales":         {RoleSalesManager},
	"processes:read":             everyone,
	"processes:write":            {RoleMarketer, RoleSalesManager},
	"processes:delete":           {RoleMarketer, RoleSalesManager},
	"users:read":                 everyone,
	"queues:read":                everyone,
	"queues:write":               {RoleSalesManager},
	"tasks:assign":               {RoleSalesManager},
	"event-log:read":             {RoleMarketer},
	"webhooks:read":              {RoleMarketer},
	"opportunities:read":         everyone,
	"opportunities:write":        {RoleSales, RoleSalesManager},
	"opportunities:delete":       {RoleSalesManager},
	"interactions:read":          everyone,
	"interactions:write":         {RoleMarketer, RoleTelesales, RoleSales, RoleSalesManager},
	"tasks:read":                 everyone,
	"tasks:write":                {RoleMarketer, RoleTelesales, RoleSales, RoleSalesManager},
	"tasks:delete":               {RoleMarketer, RoleSalesManager},
	"fields:read":                everyone,
	"matching-strategies:read":   everyone,
	"matching-strategies:write":  {RoleMarketer},
	"matching-strategies:delete": {RoleMarketer},
	"forms:read":                 everyone,
	"forms:write":                {RoleMarketer},
	"forms:delete":               {RoleMarketer},
	"events:read":                everyone,
	"events:write":               {RoleMarketer, RoleTelesales, RoleSales, RoleSalesManager},
	"events:delete":              {RoleMarketer},
	"scoring-models:read":        everyone,
	"scoring-models:write":       {RoleMarketer},
	"scoring-models:delete":      {RoleMarketer},
	"scoring-models:publish":     {RoleMarketer},
	"tracking-sites:read":        {RoleMarketer},
	"linkedin-connections:read":  {RoleMarketer}, // delete is admin-only
	"linkedin-connections:write": {RoleMarketer},
	"imports:read":               {RoleMarketer, RoleSalesManager},
	"imports:write":              {RoleMarketer},
	"import-mappings:read":       {RoleMarketer, RoleSalesManager},
	"import-mappings:write":      {RoleMarketer},
	"import-mappings:delete":     {RoleMarketer},
	"segments:read":              everyone,
	"segments:write":             {RoleMarketer},
	"segments:delete":            {RoleMarketer},
	"journeys:read":              {RoleMarketer, RoleSalesManager, RoleReadonly},
	"journeys:write":             {RoleMarketer},
	"journeys:delete":            {RoleMarketer},
	"email-templates:read":       {RoleMarketer, RoleSalesManager, RoleReadonly},
	"email-templates:write":      {RoleMarketer},
	"email-templates:delete":     {RoleMarketer},
	"email-sends:read":           {RoleMarketer, RoleReadonly},
	"suppressions:read":          {RoleMarketer, RoleReadonly},
	"suppressions:write":         {RoleMarketer},
	"suppressions:delete":        {RoleMarketer},
	"contacts:export":            {RoleMarketer, RoleSalesManager},
	"accounts:export":            {RoleMarketer, RoleSalesManager},
	"leads:export":               {RoleMarketer, RoleSalesManager},

	// Personal data (GDPR): marketers may export what is stored about a
	// contact; erasing it and reading the audit log are for admins only.
	"contacts:export_personal_data": {RoleMarketer},
	"contacts:erase":                {},
	"audit-log:read":                {},
}

// Can reports whether role holds perm.
func Can(role string, perm Permission) bool {
	if role == RoleAdmin {
		return true
	}
	return slices.Contains(policy[perm], role)
}

// APIKey is a credential for the API. Only a hash of the secret is stored.
type APIKey struct {
	ID         ID         `json:"id"`
	Name       string     `json:"name"`
	Role       string     `json:"role"`
	Prefix     string     `json:"prefix"`
	Hash       string     `json:"-"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
}

// Validate checks the key's name and role.
func (k *APIKey) Validate() error {
	var v validator
	v.required("name", k.Name)
	v.maxLen("name", k.Name, 200)
	v.oneOf("role", k.Role, Roles)
	return v.Err()
}

// APIKeyPrefix starts every API key so that leaked keys are easy to spot.
const APIKeyPrefix = "lc_"

// NewAPIKeySecret returns a fresh random API key (160 bits of entropy) and the
// short prefix shown in listings.
func NewAPIKeySecret() (secret, prefix string) {
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	s := strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
	return APIKeyPrefix + s, APIKeyPrefix + s[:6]
}

// HashAPIKey returns the stored form of a key. Keys are long random secrets, so
// a plain SHA-256 is enough (no password stretching is needed).
func HashAPIKey(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}
