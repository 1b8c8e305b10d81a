// A node's wire connection without the daemon (a DEALER over CURVE with real keys), so
// integration tests can send exactly the frames they want to the real broker and read its answers.
//
// Ownership: owns its socket; the context must outlive it. Thread-safety: one thread at a time.
#ifndef TEARLINE_TESTS_SUPPORT_WIRE_CLIENT_H_
#define TEARLINE_TESTS_SUPPORT_WIRE_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "tearline/crypto/keys.h"
#include "tearline/identity/certificate.h"
#include "tearline/wire/wire.h"

namespace tearline::testing {

class WireClient {
 public:
  using Ms = std::chrono::milliseconds;

  WireClient(zmq::context_t& ctx, const std::string& endpoint, const Certificate& broker,
             const IdentityKeys& keys);
  WireClient(const WireClient&) = delete;
  WireClient& operator=(const WireClient&) = delete;

  void Send(const std::vector<std::uint8_t>& frame);
  // Next frame within `timeout`, or empty.
  std::vector<std::uint8_t> Recv(Ms timeout = Ms(10000));
  // Next frame of `type` within `timeout`, skipping others (Pong, Deliver, ...), or nullopt.
  std::optional<std::vector<std::uint8_t>> Expect(schema::Body type, Ms timeout = Ms(10000));
  // Reason of the next Error frame ("" if none arrives).
  std::string ExpectErrorReason(Ms timeout = Ms(10000));
  // Reason of the next refusal: an Error frame, or a SubmitReply that did not accept. "" if none.
  std::string ExpectRefusalReason(Ms timeout = Ms(5000));

 private:
  zmq::socket_t socket_;
};

}  // namespace tearline::testing

#endif  // TEARLINE_TESTS_SUPPORT_WIRE_CLIENT_H_
