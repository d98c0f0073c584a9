package storetest

import (
	"testing"
	"time"

	"github.com/leadcycle/leadcycle"
)

var apiKeyTests = []test{
	{"lifecycle", func(t *testing.T, e *env) {
		keys := e.s.APIKeys()
		list := func() []leadcycle.APIKey {
			t.Helper()
			ks, err := keys.ListAPIKeys(e.ctx)
			if err != nil {
				t.Fatalf("list api keys: %v", err)
			}
			return ks
		}
		if ks := list(); ks == nil || len(ks) != 0 {
			t.Errorf("keys of a new store = %#v, want an empty slice", ks)
		}

		e.clock.Advance(time.Minute)
		t0 := e.clock.Now()
		secret, prefix := leadcycle.NewAPIKeySecret()
		k1 := &leadcycle.APIKey{Name: "ci", Role: leadcycle.RoleAdmin, Prefix: prefix, Hash: leadcycle.HashAPIKey(secret)}
		if err := keys.CreateAPIKey(e.ctx, k1); err != nil {
			t.Fatal(err)
		}
		want1 := leadcycle.APIKey{ID: k1.ID, Name: "ci", Role: leadcycle.RoleAdmin, Prefix: prefix, Hash: leadcycle.HashAPIKey(secret), CreatedAt: t0}
		diff(t, "created key", want1, *k1)
		got, err := keys.APIKeyByHash(e.ctx, leadcycle.HashAPIKey(secret))
		if err != nil {
			t.Fatalf("key by hash: %v", err)
		}
		diff(t, "key by hash", want1, *got)
		_, err = keys.APIKeyByHash(e.ctx, leadcycle.HashAPIKey(secret+"x"))
		wantErr(t, err, leadcycle.ENotFound)
		_, err = keys.APIKeyByHash(e.ctx, secret) // the secret itself is not stored
		wantErr(t, err, leadcycle.ENotFound)

		e.clock.Advance(time.Minute)
		k2, secret2 := MustCreateAPIKey(t, e.ctx, e.s, "reader", leadcycle.RoleReadonly)
		want2 := *k2
		if !want2.CreatedAt.Equal(e.clock.Now()) || k2.ID == k1.ID {
			t.Errorf("second key: %+v", k2)
		}
		diff(t, "keys", []leadcycle.APIKey{want1, want2}, list())

		// Invalid keys are refused and not stored.
		for _, c := range []struct {
			k      leadcycle.APIKey
			fields []string
		}{
			{leadcycle.APIKey{Name: "x", Role: "root", Hash: leadcycle.HashAPIKey("a")}, []string{"role"}},
			{leadcycle.APIKey{Name: " ", Role: leadcycle.RoleSales, Hash: leadcycle.HashAPIKey("b")}, []string{"name"}},
		} {
			wantErr(t, keys.CreateAPIKey(e.ctx, &c.k), leadcycle.EInvalid, c.fields...)
		}
		if err := keys.CreateAPIKey(e.ctx, &leadcycle.APIKey{Name: "x", Role: leadcycle.RoleSales, Hash: "short"}); err == nil {
			t.Error("key with a hash that is not a SHA-256 digest was accepted")
		}
		if err := keys.CreateAPIKey(e.ctx, &leadcycle.APIKey{Name: "dup", Role: leadcycle.RoleSales, Hash: leadcycle.HashAPIKey(secret)}); err == nil {
			t.Error("key with the hash of another key was accepted")
		}
		diff(t, "keys after refused creates", []leadcycle.APIKey{want1, want2}, list())

		// Touch records the last use.
		used := time.Date(2026, 3, 20, 8, 0, 0, 123456000, time.UTC)
		if err := keys.TouchAPIKey(e.ctx, k1.ID, used); err != nil {
			t.Fatalf("touch: %v", err)
		}
		want1.LastUsedAt = &used
		got, err = keys.APIKeyByHash(e.ctx, leadcycle.HashAPIKey(secret))
		if err != nil {
			t.Fatal(err)
		}
		diff(t, "touched key", want1, *got)
		diff(t, "keys after touch", []leadcycle.APIKey{want1, want2}, list())

		// Revoking stops the lookup but keeps the key listed.
		e.clock.Advance(time.Hour)
		revoked := e.clock.Now()
		if err := keys.RevokeAPIKey(e.ctx, k1.ID); err != nil {
			t.Fatalf("revoke: %v", err)
		}
		_, err = keys.APIKeyByHash(e.ctx, leadcycle.HashAPIKey(secret))
		wantErr(t, err, leadcycle.ENotFound)
		want1.RevokedAt = &revoked
		diff(t, "keys after revoke", []leadcycle.APIKey{want1, want2}, list())
		e.clock.Advance(time.Hour)
		wantErr(t, keys.RevokeAPIKey(e.ctx, k1.ID), leadcycle.ENotFound)
		wantErr(t, keys.RevokeAPIKey(e.ctx, missingID), leadcycle.ENotFound)
		diff(t, "keys after revoking twice", []leadcycle.APIKey{want1, want2}, list())

		got, err = keys.APIKeyByHash(e.ctx, leadcycle.HashAPIKey(secret2))
		if err != nil {
			t.Fatalf("other key after revoke: %v", err)
		}
		diff(t, "other key", want2, *got)
	}},
}
