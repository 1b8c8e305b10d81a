// Authenticator: the decision behind the ZAP callback, i.e. whether a CURVE client may open a
// session. A client is admitted when its transport key belongs to a node of the coalition
// directory, that node's certificate still verifies (not expired, not revoked) and a session
// slot is free (`try_reserve_session` reserves one, see SessionSlots; max_connections). A refusal
// is audited (connection_refused), but at most once per peer address per second, with the count of
// refusals not written, so a flood of handshakes cannot fill the disk.
//
// A certificate revoked or expired while the broker runs has been withdrawn from the directory by
// the IdentityWatch; its key is still recognised, so the refusal names the certificate reason
// (CERT_REVOKED, CERT_EXPIRED) rather than AUTH_UNKNOWN_KEY. During a key rotation the previous
// certificate's key is admitted until its overlap ends (key_rotation.h); after that it is refused
// AUTH_KEY_RETIRED.
//
// Ownership: holds references to the directory, trust store, clock and auditor (all must outlive
// it) and, when given, the IdentityWatch; `try_reserve_session` reserves a session slot when one
// is free.
// Thread-safety: Authenticate() may be called from any thread (the ZAP thread) concurrently with
// the broker's Run() thread: the directory and trust store are only read (under the watch's shared
// lock when a watch is given, since the Run() thread updates them), the auditor and the refusal
// throttle are internally locked, and `try_reserve_session` must be thread-safe.
#ifndef TEARLINE_BROKER_AUTHENTICATOR_H_
#define TEARLINE_BROKER_AUTHENTICATOR_H_

#include <array>
#include <cstdint>
#include <functional>
#include <string>

#include "tearline/base/clock.h"
#include "tearline/base/status.h"
#include "tearline/broker/auditor.h"
#include "tearline/broker/identity_watch.h"
#include "tearline/broker/rate_limiter.h"
#include "tearline/identity/directory.h"
#include "tearline/identity/trust_store.h"

namespace tearline::broker {

class Authenticator {
 public:
  Authenticator(const Directory& directory, const TrustStore& trust, const Clock& clock,
                Auditor& auditor, std::uint32_t max_connections,
                std::function<bool()> try_reserve_session, const IdentityWatch* watch = nullptr);
  Authenticator(const Authenticator&) = delete;
  Authenticator& operator=(const Authenticator&) = delete;

  // The node id to serve the client as, or why not: AUTH_UNKNOWN_KEY, AUTH_KEY_RETIRED, the
  // certificate's verification error (CERT_*), CONNECTION_LIMIT.
  Result<std::string> Authenticate(const std::array<std::uint8_t, 32>& client_key,
                                   const std::string& peer_address);

 private:
  const Directory& directory_;
  const TrustStore& trust_;
  const Clock& clock_;
  Auditor& auditor_;
  const std::uint32_t max_connections_;
  std::function<bool()> try_reserve_session_;
  const IdentityWatch* watch_;
  RateLimiter refusal_records_;  // One connection_refused record per address per second.
};

}  // namespace tearline::broker

#endif  // TEARLINE_BROKER_AUTHENTICATOR_H_
