// A node's wire connection without the daemon (the network layer's CURVE DEALER with real keys), so
// integration tests can send exactly the frames they want to the real broker and read its answers;
// and BrokerWireTest, the fixture of tests that talk to a Coalition's real broker that way.
//
// Ownership: owns its socket; the context must outlive it. Thread-safety: one thread at a time.
#ifndef TEARLINE_TESTS_SUPPORT_WIRE_CLIENT_H_
#define TEARLINE_TESTS_SUPPORT_WIRE_CLIENT_H_

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "coalition.h"
#include "tearline/crypto/key_file.h"
#include "tearline/crypto/keys.h"
#include "tearline/envelope/envelope.h"
#include "tearline/identity/certificate.h"
#include "tearline/net/socket.h"
#include "tearline/wire/wire.h"

namespace tearline::testing {

class WireClient {
 public:
  using Ms = std::chrono::milliseconds;

  // `receive_hwm` / `receive_buffer_bytes`: see net::CurveClientOptions (a slow reader).
  WireClient(net::Context& ctx, const std::string& endpoint, const Certificate& broker,
             const IdentityKeys& keys, int receive_hwm = 1000, int receive_buffer_bytes = -1);
  WireClient(const WireClient&) = delete;
  WireClient& operator=(const WireClient&) = delete;

  void Send(const std::vector<std::uint8_t>& frame);
  // Sends without waiting: false when the connection's queue is full (a flooding client).
  bool TrySend(const std::vector<std::uint8_t>& frame);
  // Sends waiting at most the socket's send timeout (5 s) for a connection to take the frame;
  // false when none did (e.g. the broker refused the handshake). No test failure by itself.
  bool SendWithin(const std::vector<std::uint8_t>& frame);
  // Next frame within `timeout`, or empty.
  std::vector<std::uint8_t> Recv(Ms timeout = Ms(10000));
  // Next frame of `type` within `timeout`, skipping others (Pong, Deliver, ...), or nullopt.
  std::optional<std::vector<std::uint8_t>> Expect(schema::Body type, Ms timeout = Ms(10000));
  // Reason of the next Error frame ("" if none arrives).
  std::string ExpectErrorReason(Ms timeout = Ms(10000));
  // Reason of the next refusal: an Error frame, or a SubmitReply that did not accept. "" if none.
  std::string ExpectRefusalReason(Ms timeout = Ms(5000));

 private:
  net::Socket socket_;
};

// A Coalition (CA, certificates; the test starts the broker) and what a test needs to speak the
// wire protocol to its broker as any of its nodes.
class BrokerWireTest : public ::testing::Test {
 protected:
  // Starts the broker (with `extra_config` lines) and loads its certificate for Connect().
  void StartBroker(const std::string& extra_config = "");
  // The secret keys and the certificate tearline-certs issued for node `id`.
  IdentityKeys Keys(const std::string& id);
  Certificate Cert(const std::string& id);
  // Node `id` as a recipient to seal for (nation, clearance and key from its certificate).
  SealRecipient Recipient(const std::string& id);
  // A connection as `id` with `keys` that has completed Hello/Welcome (a failure if no Welcome).
  std::unique_ptr<WireClient> Connect(const std::string& id, const IdentityKeys& keys);
  // Submits `report` and returns the broker's SubmitReply (a failure, and {}, if none comes).
  SubmitReplyInfo Submit(WireClient& client, const std::vector<std::uint8_t>& report,
                         std::uint64_t request_id = 77);

  Coalition c_;
  net::Context ctx_;
  std::unique_ptr<Certificate> broker_cert_;  // Set by StartBroker().
};

}  // namespace tearline::testing

#endif  // TEARLINE_TESTS_SUPPORT_WIRE_CLIENT_H_
