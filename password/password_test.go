package password

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// testParams are the cheapest parameters that Verify accepts, to keep the
// tests fast.
var testParams = Params{Memory: 8 * 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// seq returns n bytes counting up from start.
func seq(start byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = start + byte(i)
	}
	return b
}

// b64 returns the unpadded standard base64 encoding of n counting bytes.
func b64(n int) string { return base64.RawStdEncoding.EncodeToString(seq(0, n)) }

func TestDefault(t *testing.T) {
	want := Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
	if Default != want {
		t.Fatalf("Default = %+v, want %+v", Default, want)
	}
	if err := Default.validate(); err != nil {
		t.Fatalf("Default is out of bounds: %v", err)
	}
}

// TestHashWithSaltKnownAnswer checks the PHC encoding against values that
// were computed once with the reference C implementation (libargon2,
// argon2id_hash_encoded), which is independent of golang.org/x/crypto.
func TestHashWithSaltKnownAnswer(t *testing.T) {
	tests := []struct {
		name     string
		password string
		salt     []byte
		p        Params
		want     string
	}{
		{
			name:     "test params",
			password: "correct horse battery staple",
			salt:     seq(0, 16),
			p:        testParams,
			want:     "$argon2id$v=19$m=8192,t=1,p=1$AAECAwQFBgcICQoLDA0ODw$mu73UxPlhfSSwzxeEtgumtJTt914Yy1Tfomc1O3deJw",
		},
		{
			name:     "non-ASCII password with spaces, 4 threads, short salt and key",
			password: " pässwörd ",
			salt:     seq(100, 8),
			p:        Params{Memory: 8 * 1024, Time: 3, Threads: 4, SaltLen: 8, KeyLen: 16},
			want:     "$argon2id$v=19$m=8192,t=3,p=4$ZGVmZ2hpams$QWcxb7XmKC9mOF1C+HOsAQ",
		},
		{
			name:     "Default",
			password: "correct horse battery staple",
			salt:     seq(0, 16),
			p:        Default,
			want:     "$argon2id$v=19$m=19456,t=2,p=1$AAECAwQFBgcICQoLDA0ODw$gYJZtjEAJqjg26xdLmknq8/bB7MiWPrE9hsYuA+SkIU",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := hashWithSalt(tt.password, tt.salt, tt.p)
			if got != tt.want {
				t.Fatalf("hashWithSalt = %q, want %q", got, tt.want)
			}
			ok, err := Verify(tt.password, tt.want)
			if err != nil || !ok {
				t.Fatalf("Verify(known answer) = %v, %v; want true, nil", ok, err)
			}
		})
	}
}

func TestHashVerifyRoundTrip(t *testing.T) {
	tests := []struct {
		name     string
		password string
		p        Params
	}{
		{"passphrase", "correct horse battery staple", testParams},
		{"leading and trailing spaces", "  spaces around  ", testParams},
		{"unicode", "contraseña segura 🔑", testParams},
		{"empty", "", testParams},
		{"long", strings.Repeat("abc", 400), testParams},
		{"small salt and key", "correct horse battery staple", Params{Memory: 8 * 1024, Time: 1, Threads: 2, SaltLen: 8, KeyLen: 16}},
		{"large salt and key", "correct horse battery staple", Params{Memory: 8 * 1024, Time: 2, Threads: 1, SaltLen: 64, KeyLen: 64}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			encoded, err := Hash(tt.password, tt.p)
			if err != nil {
				t.Fatalf("Hash: %v", err)
			}
			prefix := fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$", tt.p.Memory, tt.p.Time, tt.p.Threads)
			if !strings.HasPrefix(encoded, prefix) {
				t.Fatalf("Hash = %q, want prefix %q", encoded, prefix)
			}
			p, salt, key, err := parse(encoded)
			if err != nil {
				t.Fatalf("parse(Hash): %v", err)
			}
			if p != tt.p || len(salt) != int(tt.p.SaltLen) || len(key) != int(tt.p.KeyLen) {
				t.Fatalf("parse(Hash) = %+v with %d-byte salt and %d-byte key, want %+v", p, len(salt), len(key), tt.p)
			}
			ok, err := Verify(tt.password, encoded)
			if err != nil || !ok {
				t.Fatalf("Verify = %v, %v; want true, nil", ok, err)
			}
		})
	}
}

// TestHashDefault is the one round trip with the (slower) Default params.
func TestHashDefault(t *testing.T) {
	encoded, err := Hash("correct horse battery staple", Default)
	if err != nil {
		t.Fatal(err)
	}
	if prefix := "$argon2id$v=19$m=19456,t=2,p=1$"; !strings.HasPrefix(encoded, prefix) {
		t.Fatalf("Hash = %q, want prefix %q", encoded, prefix)
	}
	if ok, err := Verify("correct horse battery staple", encoded); err != nil || !ok {
		t.Fatalf("Verify = %v, %v; want true, nil", ok, err)
	}
	if NeedsRehash(encoded, Default) {
		t.Fatal("NeedsRehash(Hash(Default), Default) = true")
	}
}

func TestHashRandomSalt(t *testing.T) {
	a, err := Hash("correct horse battery staple", testParams)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Hash("correct horse battery staple", testParams)
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Fatalf("two hashes of the same password are equal: %q", a)
	}
}

func TestHashInvalidParams(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Params)
	}{
		{"zero", func(p *Params) { *p = Params{} }},
		{"memory too low", func(p *Params) { p.Memory = 8*1024 - 1 }},
		{"memory too high", func(p *Params) { p.Memory = 1024*1024 + 1 }},
		{"time zero", func(p *Params) { p.Time = 0 }},
		{"time too high", func(p *Params) { p.Time = 21 }},
		{"threads zero", func(p *Params) { p.Threads = 0 }},
		{"threads too high", func(p *Params) { p.Threads = 17 }},
		{"salt too short", func(p *Params) { p.SaltLen = 7 }},
		{"salt too long", func(p *Params) { p.SaltLen = 65 }},
		{"key too short", func(p *Params) { p.KeyLen = 15 }},
		{"key too long", func(p *Params) { p.KeyLen = 65 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := testParams
			tt.modify(&p)
			if got, err := Hash("correct horse battery staple", p); err == nil {
				t.Fatalf("Hash(%+v) = %q, want an error", p, got)
			}
		})
	}
}

func TestVerifyWrongPassword(t *testing.T) {
	const password = "Correct horse battery staple"
	encoded, err := Hash(password, testParams)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		password string
	}{
		{"different", "something else entirely"},
		{"empty", ""},
		{"case changed", "correct horse battery staple"},
		{"trailing space", password + " "},
		{"leading space", " " + password},
		{"truncated", password[:len(password)-1]},
		{"trailing NUL", password + "\x00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, err := Verify(tt.password, encoded)
			if err != nil {
				t.Fatalf("Verify: unexpected error %v", err)
			}
			if ok {
				t.Fatalf("Verify(%q) = true, want false", tt.password)
			}
		})
	}
}

// validHash is a well-formed hash with testParams (see the known answers);
// the cases in TestVerifyInvalidHash are built from its parts.
const (
	validHash = "$argon2id$v=19$m=8192,t=1,p=1$" + validSalt + "$" + validKey
	validSalt = "AAECAwQFBgcICQoLDA0ODw"
	validKey  = "mu73UxPlhfSSwzxeEtgumtJTt914Yy1Tfomc1O3deJw"
)

// phc assembles a PHC string from its fields.
func phc(alg, version, params, salt, key string) string {
	return "$" + alg + "$" + version + "$" + params + "$" + salt + "$" + key
}

func TestVerifyInvalidHash(t *testing.T) {
	const (
		alg    = "argon2id"
		ver    = "v=19"
		params = "m=8192,t=1,p=1"
	)
	// The base must verify, so that each case below fails only because of
	// its own change.
	if ok, err := Verify("correct horse battery staple", phc(alg, ver, params, validSalt, validKey)); err != nil || !ok {
		t.Fatalf("Verify(base) = %v, %v; want true, nil", ok, err)
	}
	tests := []struct {
		name    string
		encoded string
	}{
		// Structure.
		{"empty", ""},
		{"plain text", "correct horse battery staple"},
		{"no leading dollar", validHash[1:]},
		{"text before", "x" + validHash},
		{"trailing dollar", validHash + "$"},
		{"extra field", validHash + "$AAAA"},
		{"trailing newline", validHash + "\n"},
		{"missing version field", "$argon2id$" + params + "$" + validSalt + "$" + validKey},
		{"missing hash field", "$argon2id$" + ver + "$" + params + "$" + validSalt},
		{"too long", phc(alg, ver, params, validSalt, validKey+strings.Repeat("A", 300))},

		// Algorithm.
		{"argon2i", phc("argon2i", ver, params, validSalt, validKey)},
		{"argon2d", phc("argon2d", ver, params, validSalt, validKey)},
		{"upper case", phc("ARGON2ID", ver, params, validSalt, validKey)},
		{"bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{"scrypt", phc("scrypt", "ln=16,r=8,p=1", "aM15713r3Xsvxbi31lqr1Q", validKey, "")},

		// Version.
		{"version 16", phc(alg, "v=16", params, validSalt, validKey)},
		{"version 20", phc(alg, "v=20", params, validSalt, validKey)},
		{"version leading zero", phc(alg, "v=019", params, validSalt, validKey)},
		{"version sign", phc(alg, "v=+19", params, validSalt, validKey)},
		{"version empty", phc(alg, "v=", params, validSalt, validKey)},
		{"version hex", phc(alg, "v=0x13", params, validSalt, validKey)},
		{"version space", phc(alg, "v=19 ", params, validSalt, validKey)},
		{"version wrong key", phc(alg, "x=19", params, validSalt, validKey)},

		// Parameter syntax.
		{"params empty", phc(alg, ver, "", validSalt, validKey)},
		{"params missing p", phc(alg, ver, "m=8192,t=1", validSalt, validKey)},
		{"params reordered", phc(alg, ver, "t=1,m=8192,p=1", validSalt, validKey)},
		{"params extra", phc(alg, ver, "m=8192,t=1,p=1,keyid=abc", validSalt, validKey)},
		{"params duplicate", phc(alg, ver, "m=8192,m=8192,p=1", validSalt, validKey)},
		{"params space", phc(alg, ver, "m=8192, t=1, p=1", validSalt, validKey)},
		{"params upper case", phc(alg, ver, "M=8192,T=1,P=1", validSalt, validKey)},
		{"params negative", phc(alg, ver, "m=-8192,t=1,p=1", validSalt, validKey)},
		{"params plus sign", phc(alg, ver, "m=+8192,t=1,p=1", validSalt, validKey)},
		{"params leading zero", phc(alg, ver, "m=08192,t=1,p=1", validSalt, validKey)},
		{"params empty value", phc(alg, ver, "m=,t=1,p=1", validSalt, validKey)},
		{"params hex", phc(alg, ver, "m=0x2000,t=1,p=1", validSalt, validKey)},
		{"params uint32 overflow", phc(alg, ver, "m=4294975488,t=1,p=1", validSalt, validKey)},

		// Parameter bounds.
		{"memory too low", phc(alg, ver, "m=8191,t=1,p=1", validSalt, validKey)},
		{"memory zero", phc(alg, ver, "m=0,t=1,p=1", validSalt, validKey)},
		{"memory too high", phc(alg, ver, "m=1048577,t=1,p=1", validSalt, validKey)},
		{"memory max uint32", phc(alg, ver, "m=4294967295,t=1,p=1", validSalt, validKey)},
		{"time zero", phc(alg, ver, "m=8192,t=0,p=1", validSalt, validKey)},
		{"time too high", phc(alg, ver, "m=8192,t=21,p=1", validSalt, validKey)},
		{"time max uint32", phc(alg, ver, "m=8192,t=4294967295,p=1", validSalt, validKey)},
		{"threads zero", phc(alg, ver, "m=8192,t=1,p=0", validSalt, validKey)},
		{"threads too high", phc(alg, ver, "m=8192,t=1,p=17", validSalt, validKey)},
		{"threads wrap to 1 as uint8", phc(alg, ver, "m=8192,t=1,p=257", validSalt, validKey)},

		// Salt.
		{"salt empty", phc(alg, ver, params, "", validKey)},
		{"salt too short", phc(alg, ver, params, b64(7), validKey)},
		{"salt too long", phc(alg, ver, params, b64(65), validKey)},
		{"salt padded", phc(alg, ver, params, validSalt+"==", validKey)},
		{"salt invalid character", phc(alg, ver, params, "AAECAwQFBgcICQoLDA0OD!", validKey)},
		{"salt URL alphabet", phc(alg, ver, params, "-_ECAwQFBgcICQoLDA0ODw", validKey)},
		{"salt non-canonical trailing bits", phc(alg, ver, params, "AAECAwQFBgcICQoLDA0ODx", validKey)},
		{"salt embedded newline", phc(alg, ver, params, "AAECAwQFBgcI\nCQoLDA0ODw", validKey)},
		{"salt embedded carriage return", phc(alg, ver, params, "AAECAwQFBgcI\rCQoLDA0ODw", validKey)},
		{"salt impossible length", phc(alg, ver, params, validSalt+"AAA", validKey)},

		// Hash.
		{"hash empty", phc(alg, ver, params, validSalt, "")},
		{"hash too short", phc(alg, ver, params, validSalt, b64(15))},
		{"hash too long", phc(alg, ver, params, validSalt, b64(65))},
		{"hash padded", phc(alg, ver, params, validSalt, validKey+"=")},
		{"hash invalid character", phc(alg, ver, params, validSalt, "mu73UxPlhfSSwzxeEtgumtJTt914Yy1Tfomc1O3de*w")},
		{"hash non-canonical trailing bits", phc(alg, ver, params, validSalt, "mu73UxPlhfSSwzxeEtgumtJTt914Yy1Tfomc1O3deJx")},
		{"hash embedded newline", phc(alg, ver, params, validSalt, "mu73UxPlhfSSwzxeEtgumtJT\nt914Yy1Tfomc1O3deJw")},
		{"hash space", phc(alg, ver, params, validSalt, " "+validKey)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, err := Verify("correct horse battery staple", tt.encoded)
			if err == nil {
				t.Fatalf("Verify(%q) = %v, nil; want an error", tt.encoded, ok)
			}
			if !errors.Is(err, ErrInvalidHash) {
				t.Errorf("Verify error %v does not wrap ErrInvalidHash", err)
			}
			if ok {
				t.Errorf("Verify(%q) = true with error %v", tt.encoded, err)
			}
			if !NeedsRehash(tt.encoded, testParams) {
				t.Errorf("NeedsRehash(%q) = false for an invalid hash", tt.encoded)
			}
		})
	}
}

// TestParseBounds checks that the bounds themselves are accepted. It only
// parses, since verifying with 1 GiB of memory would be slow.
func TestParseBounds(t *testing.T) {
	tests := []struct {
		name    string
		encoded string
		want    Params
	}{
		{"lower bounds", phc("argon2id", "v=19", "m=8192,t=1,p=1", b64(8), b64(16)),
			Params{Memory: 8192, Time: 1, Threads: 1, SaltLen: 8, KeyLen: 16}},
		{"upper bounds", phc("argon2id", "v=19", "m=1048576,t=20,p=16", b64(64), b64(64)),
			Params{Memory: 1048576, Time: 20, Threads: 16, SaltLen: 64, KeyLen: 64}},
		{"valid hash", validHash, testParams},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, _, err := parse(tt.encoded)
			if err != nil {
				t.Fatalf("parse(%q): %v", tt.encoded, err)
			}
			if got != tt.want {
				t.Fatalf("parse(%q) = %+v, want %+v", tt.encoded, got, tt.want)
			}
		})
	}
}

func TestNeedsRehash(t *testing.T) {
	// encode builds hashes without the cost of argon2: NeedsRehash only
	// looks at the parameters and lengths.
	with := func(p Params) string { return encode(p, seq(0, int(p.SaltLen)), seq(0, int(p.KeyLen))) }
	modified := func(modify func(*Params)) string {
		p := testParams
		modify(&p)
		return with(p)
	}
	hashed, err := Hash("correct horse battery staple", testParams)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		encoded string
		p       Params
		want    bool
	}{
		{"same params", with(testParams), testParams, false},
		{"same params from Hash", hashed, testParams, false},
		{"same Default", with(Default), Default, false},
		{"test params against Default", hashed, Default, true},
		{"Default against test params", with(Default), testParams, true},
		{"memory differs", modified(func(p *Params) { p.Memory = 16 * 1024 }), testParams, true},
		{"time differs", modified(func(p *Params) { p.Time = 2 }), testParams, true},
		{"threads differ", modified(func(p *Params) { p.Threads = 2 }), testParams, true},
		{"salt length differs", modified(func(p *Params) { p.SaltLen = 8 }), testParams, true},
		{"key length differs", modified(func(p *Params) { p.KeyLen = 64 }), testParams, true},
		{"invalid hash", "not a hash", testParams, true},
		{"empty hash", "", testParams, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NeedsRehash(tt.encoded, tt.p); got != tt.want {
				t.Fatalf("NeedsRehash(%q, %+v) = %v, want %v", tt.encoded, tt.p, got, tt.want)
			}
		})
	}
}

// FuzzParse checks that parse never panics and accepts only the canonical
// encoding of parameters within bounds.
func FuzzParse(f *testing.F) {
	f.Add(validHash)
	f.Add(phc("argon2id", "v=19", "m=1048576,t=20,p=16", b64(64), b64(64)))
	f.Add(phc("argon2id", "v=19", "m=08192,t=1,p=1", validSalt, validKey))
	f.Add(phc("argon2id", "v=19", "m=8192,t=1,p=257", validSalt, validKey))
	f.Add(phc("argon2id", "v=19", "m=8192,t=1,p=1", "AAECAwQFBgcI\nCQoLDA0ODw", validKey))
	f.Add("$argon2i$v=19$m=8192,t=1,p=1$" + validSalt + "$" + validKey)
	f.Fuzz(func(t *testing.T, encoded string) {
		p, salt, key, err := parse(encoded)
		if err != nil {
			if !errors.Is(err, ErrInvalidHash) {
				t.Fatalf("parse error %v does not wrap ErrInvalidHash", err)
			}
			return
		}
		if err := p.validate(); err != nil {
			t.Fatalf("parse(%q) accepted out-of-bounds params: %v", encoded, err)
		}
		if again := encode(p, salt, key); again != encoded {
			t.Fatalf("parse(%q) accepted a non-canonical encoding of %q", encoded, again)
		}
	})
}
