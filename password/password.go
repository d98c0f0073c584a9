// Package password hashes and checks user passwords with argon2id.
//
// Hashes are stored as PHC strings, for example
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>
//
// where salt and hash are unpadded standard base64. Hash creates such a
// string, Verify checks a password against it, NeedsRehash tells a login
// handler when a stored hash should be upgraded to the current parameters,
// and Check validates a new password before it is hashed.
//
// Passwords are hashed exactly as given: callers must not trim, normalize or
// otherwise alter them, neither when hashing nor when verifying, or users
// whose passwords begin or end with spaces could no longer log in.
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are the argon2id cost parameters.
type Params struct {
	// Memory is the memory cost in KiB.
	Memory uint32
	// Time is the number of passes over the memory.
	Time uint32
	// Threads is the degree of parallelism.
	Threads uint8
	// SaltLen is the length of the random salt in bytes.
	SaltLen uint32
	// KeyLen is the length of the derived key in bytes.
	KeyLen uint32
}

// Default is OWASP's recommended argon2id configuration (m=19456 KiB, t=2,
// p=1) with a 16-byte salt and a 32-byte key. It is meant to be treated as a
// constant: pass it to Hash and NeedsRehash, and do not modify it.
var Default = Params{
	Memory:  19456,
	Time:    2,
	Threads: 1,
	SaltLen: 16,
	KeyLen:  32,
}

// ErrInvalidHash is wrapped by the errors that Verify returns for an encoded
// hash that cannot be parsed or whose parameters are out of bounds.
var ErrInvalidHash = errors.New("password: invalid hash")

// Bounds on the parameters that Hash accepts and that a stored hash may use.
// They keep a tampered database row from making the server burn memory or
// CPU.
const (
	minMemory  = 8 * 1024    // 8 MiB in KiB
	maxMemory  = 1024 * 1024 // 1 GiB in KiB
	minTime    = 1
	maxTime    = 20
	minThreads = 1
	maxThreads = 16
	minSaltLen = 8
	maxSaltLen = 64
	minKeyLen  = 16
	maxKeyLen  = 64

	// maxEncodedLen is well above the longest valid encoding (about 210
	// bytes), so that longer input is refused before it is split.
	maxEncodedLen = 256
)

// validate reports whether p lies within the accepted bounds.
func (p Params) validate() error {
	switch {
	case p.Memory < minMemory || p.Memory > maxMemory:
		return fmt.Errorf("memory %d KiB is outside %d..%d", p.Memory, minMemory, maxMemory)
	case p.Time < minTime || p.Time > maxTime:
		return fmt.Errorf("time %d is outside %d..%d", p.Time, minTime, maxTime)
	case p.Threads < minThreads || p.Threads > maxThreads:
		return fmt.Errorf("threads %d is outside %d..%d", p.Threads, minThreads, maxThreads)
	case p.SaltLen < minSaltLen || p.SaltLen > maxSaltLen:
		return fmt.Errorf("salt length %d is outside %d..%d", p.SaltLen, minSaltLen, maxSaltLen)
	case p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen:
		return fmt.Errorf("key length %d is outside %d..%d", p.KeyLen, minKeyLen, maxKeyLen)
	}
	return nil
}

// Hash returns the PHC string
// "$argon2id$v=19$m=<memory>,t=<time>,p=<threads>$<salt>$<hash>" of password,
// hashed with the parameters p and a random salt from crypto/rand. The salt
// and hash are encoded as unpadded standard base64. The password is hashed
// as given; callers must not trim it. Hash returns an error if p is outside
// the bounds that Verify accepts.
func Hash(password string, p Params) (string, error) {
	if err := p.validate(); err != nil {
		return "", fmt.Errorf("password: invalid params: %w", err)
	}
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password: reading random salt: %w", err)
	}
	return hashWithSalt(password, salt, p), nil
}

// hashWithSalt returns the PHC string of password hashed with the given salt
// and the parameters p; p.SaltLen is ignored in favour of len(salt). The
// caller must have validated p.
func hashWithSalt(password string, salt []byte, p Params) string {
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return encode(p, salt, key)
}

// encode formats a PHC string.
func encode(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt),
		base64.RawStdEncoding.EncodeToString(key))
}

// Verify reports whether password matches the encoded hash, comparing the
// derived keys in constant time. The password is used as given; callers
// must not trim it. Verify returns an error, wrapping ErrInvalidHash, only
// when encoded cannot be parsed or its parameters are out of bounds; a wrong
// password yields false and a nil error.
func Verify(password, encoded string) (bool, error) {
	p, salt, key, err := parse(encoded)
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// NeedsRehash reports whether the encoded hash uses other parameters than p
// (memory, time, threads, salt length or key length), so that a login
// handler can rehash the password it has just verified. It also reports
// true for a hash that cannot be parsed.
func NeedsRehash(encoded string, p Params) bool {
	got, _, _, err := parse(encoded)
	return err != nil || got != p
}

// parse strictly decodes a PHC argon2id string. It accepts only the exact
// form that Hash produces: algorithm argon2id, version 19, the parameters
// m, t and p in that order with canonical decimal values within bounds, and
// canonical unpadded standard base64 salt and hash of bounded length. The
// returned Params have SaltLen and KeyLen set from the decoded lengths.
// Error messages never include the encoded value itself.
func parse(encoded string) (p Params, salt, key []byte, err error) {
	fail := func(format string, args ...any) (Params, []byte, []byte, error) {
		return Params{}, nil, nil, fmt.Errorf("%w: "+format, append([]any{ErrInvalidHash}, args...)...)
	}
	if len(encoded) > maxEncodedLen {
		return fail("longer than %d bytes", maxEncodedLen)
	}
	fields := strings.Split(encoded, "$")
	if len(fields) != 6 || fields[0] != "" {
		return fail("not a PHC string with 5 fields")
	}
	if fields[1] != "argon2id" {
		return fail("unsupported algorithm")
	}
	version, ok := strings.CutPrefix(fields[2], "v=")
	if !ok {
		return fail("missing version")
	}
	if v, err := parseUint(version); err != nil || v != argon2.Version {
		return fail("unsupported version")
	}

	params := strings.Split(fields[3], ",")
	if len(params) != 3 {
		return fail("want parameters m, t and p")
	}
	var values [3]uint32
	for i, name := range [3]string{"m", "t", "p"} {
		s, ok := strings.CutPrefix(params[i], name+"=")
		if !ok {
			return fail("want parameters m, t and p")
		}
		v, err := parseUint(s)
		if err != nil {
			return fail("parameter %s: %v", name, err)
		}
		values[i] = v
	}
	if values[2] > maxThreads {
		return fail("threads %d is outside %d..%d", values[2], minThreads, maxThreads)
	}
	p = Params{Memory: values[0], Time: values[1], Threads: uint8(values[2])}

	if salt, err = decodeBase64(fields[4]); err != nil {
		return fail("salt: %v", err)
	}
	if key, err = decodeBase64(fields[5]); err != nil {
		return fail("hash: %v", err)
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	if err := p.validate(); err != nil {
		return fail("%v", err)
	}
	return p, salt, key, nil
}

// parseUint parses a canonical decimal uint32: digits only, no sign, and no
// leading zeros.
func parseUint(s string) (uint32, error) {
	if s == "" {
		return 0, errors.New("empty number")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, errors.New("not a decimal number")
		}
	}
	if len(s) > 1 && s[0] == '0' {
		return 0, errors.New("leading zero")
	}
	v, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, errors.New("number out of range")
	}
	return uint32(v), nil
}

// decodeBase64 decodes canonical unpadded standard base64. The decoder in
// encoding/base64 skips newlines and, without Strict, tolerates nonzero
// trailing bits; requiring the input to equal the re-encoding of its
// decoded bytes refuses both, as well as padding and other characters.
func decodeBase64(s string) ([]byte, error) {
	b, err := base64.RawStdEncoding.Strict().DecodeString(s)
	if err != nil || base64.RawStdEncoding.EncodeToString(b) != s {
		return nil, errors.New("malformed base64")
	}
	return b, nil
}
