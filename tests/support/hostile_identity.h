// A node whose identity the coalition withdrew (certificate revoked or expired) that keeps
// talking to the real broker over a real CURVE session, for the integration tests of revocation
// and expiry while the broker runs; plus the observation helpers those tests share.
//
// Thread-safety: one thread at a time per WireClient.
#ifndef TEARLINE_TESTS_SUPPORT_HOSTILE_IDENTITY_H_
#define TEARLINE_TESTS_SUPPORT_HOSTILE_IDENTITY_H_

#include <chrono>
#include <cstddef>
#include <string>

#include "coalition.h"
#include "wire_client.h"

namespace tearline::testing {

struct Refusal {
  std::string reason;  // Reason of the Error frame; "" when none came before the deadline.
  std::chrono::milliseconds after{0};
  std::size_t frames_sent = 0;
};

// Keeps sending Pings on an established session (one every 50 ms) until the broker answers one
// with an Error frame, or `deadline` passes.
Refusal PingUntilRefused(WireClient& client, std::chrono::milliseconds deadline);

// Sends `count` Pings as fast as the socket takes them, then drains what came back; returns the
// number of Error frames received.
std::size_t FloodPings(WireClient& client, int count);

// Opens a new CURVE session with `keys` and says Hello as `id`: true when no Welcome arrives
// within `wait` (the broker refused the handshake or the session).
bool NewSessionRefused(net::Context& ctx, const std::string& endpoint, const Certificate& broker,
                       const IdentityKeys& keys, const std::string& id,
                       std::chrono::milliseconds wait = std::chrono::milliseconds(1500));

// The number of nodes in `id`'s directory (`tearline-node status`), or -1 if it did not answer.
int DirectoryNodes(Coalition& c, const std::string& id);

}  // namespace tearline::testing

#endif  // TEARLINE_TESTS_SUPPORT_HOSTILE_IDENTITY_H_
