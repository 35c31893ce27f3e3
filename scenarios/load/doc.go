// Package load drives the simulated users of a run with vegeta and records
// every exchange in the run's history.
//
// # Users
//
// Each simulated user has its own source IP (one *http.Transport per user,
// dialling from that address), its own cookie jar and its own deterministic
// plan: a math/rand/v2 source seeded by (Config.Seed, user index) decides
// which operation comes next (login, inbox, send, read, logout). User i
// belongs to domain i % len(Domains), so the users alternate between the
// tenants. Message ids are client-chosen ("<seed>-<user>-<n>"); a send that
// was not acknowledged is retried with the same id, so retries are
// idempotent on the provider.
//
// # One request per user at a time
//
// regify rotates the session cookie on every response and revokes the
// session when an outdated token comes back. A user with two requests in
// flight would therefore log itself out. vegeta's model is the opposite: a
// pool of workers calls one shared Targeter and one shared http.Client, and
// the Targeter never sees a response. The two are reconciled like this:
//
//   - Arrivals follow the schedule across users. vegeta paces the hits
//     (Rate) and bounds them (Duration; MaxRequests via the Pacer); arrival
//     i is due at the start plus i/Rate and belongs to a user drawn at
//     random from the seed among all users, busy or not (a fixed rotation
//     would line up with a round-robin balancer and make it look sticky).
//   - Each user serves its arrivals one at a time, in order (turns): the
//     Targeter waits for the user's turn, asks its plan for the next step,
//     and marks the request with the user's index in the
//     X-Regify-Verify-User header. A user stuck in a slow request does not
//     hold up the other users' arrivals; its own next arrival waits, and the
//     request records when it was due (history.Request.Scheduled), so the
//     wait counts as latency (Request.Waited: coordinated omission
//     corrected, as wrk2 and HdrHistogram do). Enough workers are allowed
//     for every arrival due within a request's timeout, so the schedule
//     itself never slows down.
//   - The client's RoundTripper routes the request by that header (and strips
//     it) to the user's own transport, presents the newest regify_session
//     token from the user's jar, stores the token the response sets, reads
//     the body, records the history.Request (it sees both req and resp, which
//     vegeta's Result does not carry), advances the user's state (a 401 means
//     log in again, an acknowledged send is remembered for reads) and only
//     then ends the user's turn. The turn's lock is the happens-before edge
//     for the user's state, so the state needs no lock of its own.
//   - When Duration is up, arrivals still waiting for a busy user are
//     dropped, so the run ends on time; Config.Arrivals receives how many
//     were offered and dropped (offered and achieved load side by side).
//
// The http.Client never follows redirects: the plain-http listener is checked
// by ProbeRedirect, and the TLS listeners by ProbeTLS.
//
// # Bounds
//
// Run stops by itself after Duration or MaxRequests hits, whichever comes
// first; cancelling ctx stops issuing at once and aborts requests in flight.
// Each request is bounded by Timeout.
package load
