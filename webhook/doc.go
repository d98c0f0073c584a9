// Package webhook delivers outbox events to webhook subscriptions, following
// Standard Webhooks (https://www.standardwebhooks.com/), the scheme Svix
// publishes, so that receivers can verify them with any of its libraries.
//
// # Signing
//
// Every subscription has a secret: "whsec_" followed by the base64 of 24 to
// 64 random bytes (NewSecret). A delivery is a POST of a JSON body
//
//	{"id": "msg_<event id>", "type": "lead.created", "timestamp": "<RFC 3339>", "data": {...}}
//
// with three headers: webhook-id (the message id, "msg_" and the event's id,
// the same on every retry, for receivers to drop duplicates),
// webhook-timestamp (Unix seconds of the attempt) and webhook-signature, a
// space-separated list of "v1,<base64 signature>" where the signature is the
// HMAC-SHA256, keyed with the secret's decoded bytes, of
// "<webhook-id>.<webhook-timestamp>.<body>" (Sign). Receivers check a
// signature and that the timestamp is recent (Verify) before trusting the
// body.
//
// # Retries
//
// A 2xx answer delivers the message. Anything else is a failed attempt:
// another status (redirects are not followed), no answer within the timeout,
// a refused address. Failed attempts are retried on the Standard
// Webhooks/Svix schedule (Backoff): 5 seconds, 5 minutes, 30 minutes, 2
// hours, 5 hours, 10 hours and 10 hours after the failures, MaxAttempts
// attempts in all; then the delivery is failed and can be retried by hand.
// The store leases claimed deliveries, so several nodes can run a Worker.
//
// # The address guard
//
// Webhook URLs are chosen by users, so a Guard keeps the server from being
// used to call what only it can reach: loopback, private (RFC 1918,
// fc00::/7), link-local (including the 169.254.169.254 metadata service),
// CGNAT, unspecified, multicast and broadcast addresses, IPv4-mapped and
// NAT64 forms of those, and "localhost" names. CheckURL resolves a URL's host
// when a webhook is saved; the Client re-checks every address it connects to,
// so that a name that resolved to a public address then cannot be rebound to
// a private one (DNS rebinding), and it neither uses a proxy from the
// environment nor follows redirects. Servers that deliver to their own
// network on purpose set AllowPrivate or list hosts in AllowHosts.
package webhook
