package webhook_test

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/leadcycle/leadcycle/webhook"
)

// The Standard Webhooks test vector, as in the Svix libraries' tests
// (svix-webhooks, php/tests/WebhookTest.php testSignFunctionWorks). Checked
// by hand with:
//
//	printf '%s' 'msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.{"test": 2432232314}' |
//	  openssl dgst -sha256 -binary -mac HMAC \
//	    -macopt hexkey:$(printf MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw | base64 -d | xxd -p -c 256) |
//	  base64
const (
	vectorSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vectorID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vectorTimestamp = 1614265330
	vectorBody      = `{"test": 2432232314}`
	vectorSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func vectorHeader(sig string) http.Header {
	h := http.Header{}
	h.Set(webhook.HeaderID, vectorID)
	h.Set(webhook.HeaderTimestamp, "1614265330")
	h.Set(webhook.HeaderSignature, sig)
	return h
}

func TestSignMatchesTheStandardWebhooksVector(t *testing.T) {
	ts := time.Unix(vectorTimestamp, 0)
	got, err := webhook.Sign(vectorSecret, vectorID, ts, []byte(vectorBody))
	if err != nil || got != vectorSignature {
		t.Fatalf("Sign = %q, %v; want %q", got, err, vectorSignature)
	}
	// The prefix is optional, as in the reference implementations.
	if got, _ := webhook.Sign(strings.TrimPrefix(vectorSecret, "whsec_"), vectorID, ts, []byte(vectorBody)); got != vectorSignature {
		t.Errorf("without the prefix: %q", got)
	}
	// Sub-second precision does not change the signed timestamp.
	if got, _ := webhook.Sign(vectorSecret, vectorID, ts.Add(999*time.Millisecond), []byte(vectorBody)); got != vectorSignature {
		t.Errorf("with milliseconds: %q", got)
	}
	for _, bad := range []string{"", "whsec_", "whsec_not base64!"} {
		if _, err := webhook.Sign(bad, vectorID, ts, nil); !errors.Is(err, webhook.ErrSecret) {
			t.Errorf("Sign with secret %q: %v", bad, err)
		}
	}
}

func TestVerify(t *testing.T) {
	now := time.Unix(vectorTimestamp, 0)
	body := []byte(vectorBody)
	if err := webhook.Verify(vectorSecret, vectorHeader(vectorSignature), body, now, 0); err != nil {
		t.Fatalf("the vector does not verify: %v", err)
	}
	// Any of several signatures may match (key rotation); other versions are
	// ignored.
	several := "v1,bm9wZQ== v1a,c29tZXRoaW5n " + vectorSignature + " v1,"
	if err := webhook.Verify(vectorSecret, vectorHeader(several), body, now, 0); err != nil {
		t.Errorf("several signatures: %v", err)
	}
	within := now.Add(4 * time.Minute)
	if err := webhook.Verify(vectorSecret, vectorHeader(vectorSignature), body, within, 0); err != nil {
		t.Errorf("4 minutes later with the default tolerance: %v", err)
	}

	cases := []struct {
		name   string
		secret string
		h      http.Header
		body   string
		now    time.Time
		tol    time.Duration
		want   error
	}{
		{"tampered body", vectorSecret, vectorHeader(vectorSignature), `{"test": 2432232315}`, now, 0, webhook.ErrSignature},
		{"another secret", "whsec_" + base64.StdEncoding.EncodeToString([]byte("another secret of enough bytes!!")), vectorHeader(vectorSignature), vectorBody, now, 0, webhook.ErrSignature},
		{"only other versions", vectorSecret, vectorHeader("v2," + strings.TrimPrefix(vectorSignature, "v1,")), vectorBody, now, 0, webhook.ErrSignature},
		{"too old", vectorSecret, vectorHeader(vectorSignature), vectorBody, now.Add(6 * time.Minute), 0, webhook.ErrTimestamp},
		{"too new", vectorSecret, vectorHeader(vectorSignature), vectorBody, now.Add(-6 * time.Minute), 0, webhook.ErrTimestamp},
		{"outside a custom tolerance", vectorSecret, vectorHeader(vectorSignature), vectorBody, now.Add(time.Minute), 30 * time.Second, webhook.ErrTimestamp},
		{"no headers", vectorSecret, http.Header{}, vectorBody, now, 0, webhook.ErrMissingHeaders},
		{"bad secret", "whsec_%%%", vectorHeader(vectorSignature), vectorBody, now, 0, webhook.ErrSecret},
		{"timestamp not a number", vectorSecret, func() http.Header {
			h := vectorHeader(vectorSignature)
			h.Set(webhook.HeaderTimestamp, "1614265330.5")
			return h
		}(), vectorBody, now, 0, webhook.ErrTimestamp},
		{"signed id changed", vectorSecret, func() http.Header {
			h := vectorHeader(vectorSignature)
			h.Set(webhook.HeaderID, "msg_other")
			return h
		}(), vectorBody, now, 0, webhook.ErrSignature},
	}
	for _, c := range cases {
		if err := webhook.Verify(c.secret, c.h, []byte(c.body), c.now, c.tol); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}

func TestNewSecret(t *testing.T) {
	a, b := webhook.NewSecret(), webhook.NewSecret()
	if a == b {
		t.Fatal("two secrets are equal")
	}
	for _, s := range []string{a, b} {
		key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, webhook.SecretPrefix))
		if !strings.HasPrefix(s, webhook.SecretPrefix) || err != nil || len(key) < 24 || len(key) > 64 {
			t.Errorf("secret %q: %d bytes, %v", s, len(key), err)
		}
	}
	now := time.Now()
	sig, err := webhook.Sign(a, "msg_1", now, []byte("{}"))
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set(webhook.HeaderID, "msg_1")
	h.Set(webhook.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	h.Set(webhook.HeaderSignature, sig)
	if err := webhook.Verify(a, h, []byte("{}"), now, 0); err != nil {
		t.Errorf("round trip: %v", err)
	}
	if err := webhook.Verify(b, h, []byte("{}"), now, 0); !errors.Is(err, webhook.ErrSignature) {
		t.Errorf("verified with another secret: %v", err)
	}
}

func TestBackoff(t *testing.T) {
	want := []time.Duration{0, 5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour}
	for attempt, d := range want {
		got, ok := webhook.Backoff(attempt)
		if !ok || got != d {
			t.Errorf("Backoff(%d) = %s, %v; want %s", attempt, got, ok, d)
		}
	}
	if _, ok := webhook.Backoff(webhook.MaxAttempts); ok {
		t.Errorf("Backoff(%d) retries", webhook.MaxAttempts)
	}
	if len(webhook.DefaultSchedule)+1 != webhook.MaxAttempts {
		t.Errorf("MaxAttempts %d does not match the schedule", webhook.MaxAttempts)
	}
}
