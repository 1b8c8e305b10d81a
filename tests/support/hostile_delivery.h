// Hostile recipients for the broker's delivery path, over raw wire connections (WireClient):
// - HostileRecipient answers every Deliver the way a test chooses: refuse it (naming the report
//   id, or only echoing the Deliver's request id as an older node does), acknowledge it with a
//   valid signature, or ignore it; it counts the Deliver frames it got per report id.
// - ConnectSlowReader: a connection that completed Hello/Welcome and then reads nothing, with a
//   one-message receive queue and a small kernel buffer, so what the broker sends backs up into
//   the broker; KeepAlive() pings so the broker keeps the session.
// - ProcessRssBytes: a process's resident set (VmRSS of /proc/<pid>/status).
//
// Ownership: HostileRecipient references its WireClient (which must outlive it).
// Thread-safety: one thread at a time.
#ifndef TEARLINE_TESTS_SUPPORT_HOSTILE_DELIVERY_H_
#define TEARLINE_TESTS_SUPPORT_HOSTILE_DELIVERY_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "tearline/crypto/keys.h"
#include "wire_client.h"

namespace tearline::testing {

class HostileRecipient {
 public:
  using Ms = std::chrono::milliseconds;
  enum class Answer { kRefuse, kRefuseByRequestId, kAck, kIgnore };
  // Picks the answer to a Deliver of `report_id_hex`.
  using Choose = std::function<Answer(const std::string& report_id_hex)>;

  // `originator_signing_key` verifies the delivered copies (to read their report ids);
  // refusals carry `refusal_reason`.
  HostileRecipient(WireClient& client, std::string node_id, const IdentityKeys& keys,
                   std::vector<std::uint8_t> originator_signing_key, std::string refusal_reason);

  // Reads and answers frames until `done()` holds (checked after every frame and every 50 ms)
  // or `timeout` passes; true when done() held.
  bool ServeUntil(const Choose& choose, const std::function<bool()>& done, Ms timeout);
  // Deliver frames received for a report so far.
  int Deliveries(const std::string& report_id_hex) const;

 private:
  void Reply(const Choose& choose, std::uint64_t request_id, std::span<const std::uint8_t> report);

  WireClient& client_;
  std::string node_id_;
  const IdentityKeys& keys_;
  std::vector<std::uint8_t> originator_key_;
  std::string reason_;
  std::map<std::string, int> deliveries_;
};

// Connects as `id`, completes Hello/Welcome, then never reads again (see the file comment).
std::unique_ptr<WireClient> ConnectSlowReader(net::Context& ctx, const std::string& endpoint,
                                              const Certificate& broker, const std::string& id,
                                              const IdentityKeys& keys);
// Sends a Ping so the broker sees the slow reader alive (its answers are never read).
void KeepAlive(WireClient& client);

// VmRSS of process `pid` in bytes (0 when it cannot be read).
std::uint64_t ProcessRssBytes(int pid);

}  // namespace tearline::testing

#endif  // TEARLINE_TESTS_SUPPORT_HOSTILE_DELIVERY_H_
