package tracking

import (
	"crypto/sha256"
	_ "embed" // the tracking script
	"encoding/hex"
)

// Script is the tracking script served at /t.js. It has no dependencies and
// tracks only with consent (see the comment at its top).
//
//go:embed t.js
var Script []byte

// ScriptETag is the strong ETag of Script.
var ScriptETag = func() string {
	sum := sha256.Sum256(Script)
	return `"` + hex.EncodeToString(sum[:12]) + `"`
}()
