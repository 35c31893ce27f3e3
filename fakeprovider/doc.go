// Package fakeprovider is the system under test of the lab: a fake regify
// provider that behaves the way the seed guide says a regify provider behaves
// (rotating session cookies, two tenants on one provider, sessions and
// messages in a possibly replicated database, a redundant clearing
// connection), and a fake clearing service that records every transaction.
//
// The HTTP API is specified in docs/CONTRACTS.md.
//
// # Exactly-once clearing
//
// A send (POST /messages) is acknowledged with 201 or 200 only after the
// message is stored AND cleared. The provider:
//
//  1. inserts the message if its (tenant, id) is absent (a retry finds the
//     stored row instead of writing a second one);
//  2. if the stored row is already marked cleared, answers at once without
//     clearing again (this is what makes a retried send after a lost
//     acknowledgement safe);
//  3. otherwise clears it with the first clearing endpoint that answers 2xx
//     within Config.ClearingTimeout, failing over in order, and then marks
//     the row cleared.
//
// Concurrent sends of one id on one provider are serialised, so they clear
// once. If every endpoint fails the send gets 503 and the message stays
// stored but uncleared; the client's retry clears it. A duplicate clearing is
// therefore possible only when a clearing endpoint recorded a transaction but
// its answer was lost (connection killed or timed out after the record), when
// the store fails between clearing and marking, or when the same id is sent
// to two providers at the same moment. Checkers should treat a count of 2 as
// a finding, not as impossible.
package fakeprovider
