#include "tearline/broker/authenticator.h"

#include <spdlog/spdlog.h>

#include <mutex>
#include <shared_mutex>
#include <string>
#include <utility>

namespace tearline::broker {

Authenticator::Authenticator(const Directory& directory, const TrustStore& trust,
                             const Clock& clock, Auditor& auditor, std::uint32_t max_connections,
                             std::function<bool()> try_reserve_session, const IdentityWatch* watch)
    : directory_(directory),
      trust_(trust),
      clock_(clock),
      auditor_(auditor),
      max_connections_(max_connections),
      try_reserve_session_(std::move(try_reserve_session)),
      watch_(watch),
      refusal_records_(clock, {.per_second = 1, .burst = 1, .max_keys = 4096}) {}

Result<std::string> Authenticator::Authenticate(const std::array<std::uint8_t, 32>& client_key,
                                                const std::string& peer_address) {
  std::shared_lock<std::shared_mutex> reading;
  if (watch_ != nullptr) reading = std::shared_lock(watch_->mutex());
  const Certificate* node = directory_.FindByTransportKey(client_key);
  if (node == nullptr && watch_ != nullptr) node = watch_->FindWithdrawn(client_key);
  Status why;
  std::string node_id;
  const Certificate* retired =
      node == nullptr ? directory_.FindRetiredByTransportKey(client_key) : nullptr;
  if (node != nullptr) {
    why = trust_.VerifyCertificate(*node, clock_.UnixNow());
    node_id = node->node_id();
  } else if (retired != nullptr) {
    // A key rotated away: named by the certificate's own reason when it was revoked or expired
    // since, else as retired (its overlap ended).
    why = trust_.VerifyCertificate(*retired, clock_.UnixNow());
    if (why.ok()) {
      why = Unauthenticated("AUTH_KEY_RETIRED",
                            "client transport key belongs to certificate serial " +
                                std::to_string(retired->fields().serial) + " of node '" +
                                retired->node_id() +
                                "', which a newer certificate replaced and whose rotation "
                                "overlap has ended; the node must use its current keys");
    }
  } else {
    why = Unauthenticated("AUTH_UNKNOWN_KEY",
                          "client transport key is not in the coalition directory");
  }
  if (reading.owns_lock()) reading.unlock();
  // Last, so only a client that would otherwise be admitted takes a slot.
  if (why.ok() && !try_reserve_session_()) {
    why = Status(Code::kResourceExhausted, "CONNECTION_LIMIT",
                 "the broker already serves " + std::to_string(max_connections_) +
                     " sessions (max_connections)");
  }
  if (why.ok()) return node_id;
  if (const auto record = refusal_records_.Take(peer_address); record.allowed) {
    (void)auditor_.Durable(
        auditor_.ConnectionRefused(peer_address, client_key, why, record.suppressed));
    spdlog::warn("event=connection_refused peer={} reason={}", peer_address, why.reason());
  }
  return why;
}

}  // namespace tearline::broker
