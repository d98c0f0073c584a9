package web

import (
	"log/slog"
	"net/http"

	"github.com/leadcycle/leadcycle"
)

// API keys over the API, for admins: list them (never their hashes), make
// one (its secret is in the answer, once; only the hash is stored) and
// revoke one, which stops it at once on this server.

const apiKeysBase = "/api/v1/api-keys"

// apiKeyWritable are the fields a client sets.
var apiKeyWritable = []string{"name", "role"}

func (s *Server) registerAPIKeys() {
	// Neither permission is in the policy: only admins hold them.
	read, write := leadcycle.Perm("api-keys", leadcycle.ActionRead), leadcycle.Perm("api-keys", leadcycle.ActionWrite)
	s.handle("GET", apiKeysBase, read, s.listAPIKeys)
	s.handle("POST", apiKeysBase, write, s.createAPIKey)
	s.handle("DELETE", apiKeysBase+"/{id}", write, s.revokeAPIKey)
}

// newAPIKey is the answer of a create: the key and its secret.
type newAPIKey struct {
	leadcycle.APIKey
	Secret string `json:"secret"`
}

func (s *Server) listAPIKeys(w http.ResponseWriter, r *http.Request) {
	keys, err := s.store.APIKeys().ListAPIKeys(r.Context())
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, leadcycle.Page[leadcycle.APIKey]{Items: keys})
}

func (s *Server) createAPIKey(w http.ResponseWriter, r *http.Request) {
	fields, err := s.readObject(w, r)
	if err == nil {
		err = onlyFields(fields, "an API key", apiKeyWritable...)
	}
	var k leadcycle.APIKey
	if err == nil {
		err = decodeFields(fields, &k, "API key")
	}
	if err == nil {
		err = k.Validate()
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	secret, prefix := leadcycle.NewAPIKeySecret()
	k.Prefix, k.Hash = prefix, leadcycle.HashAPIKey(secret)
	if err := s.store.APIKeys().CreateAPIKey(r.Context(), &k); err != nil {
		writeError(w, r, err)
		return
	}
	logger(r.Context()).Info("api key created", slog.String("key", k.ID.String()), slog.String("role", k.Role), slog.String("by", actorOf(r)))
	writeJSON(w, http.StatusCreated, newAPIKey{APIKey: k, Secret: secret})
}

func (s *Server) revokeAPIKey(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err == nil {
		err = s.store.APIKeys().RevokeAPIKey(r.Context(), id)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	s.keys.forget(id)
	logger(r.Context()).Info("api key revoked", slog.String("key", id.String()), slog.String("by", actorOf(r)))
	w.WriteHeader(http.StatusNoContent)
}
