// DirectoryCache: the node's view of the coalition's certificates, as served by the broker and
// verified here (a certificate the broker serves is never taken on trust).
//
//   - Request() asks the broker now (after each Welcome, before each send, for a Deliver from
//     an originator not yet known, and on the broker's DirectoryChanged notice); Tick()
//     refreshes every 60 s while welcomed;
//   - OnDirectory() offers the served revocation list to the RevocationFloor, which installs a
//     newer one into the trust store and persists it (and says at once when this node's or its
//     broker's certificate is no longer valid) and refuses an older one than the newest ever
//     accepted (REVOCATION_ROLLBACK, logged); then it verifies every certificate under the list
//     in force at the current time and replaces the directory. A directory served with an older
//     list is still used, verified under the newer list the node holds: it cannot bring a
//     revoked certificate back, and refusing it would only stall sends until the broker
//     catches up;
//   - Recheck() verifies the cached certificates again now (revocations, expiry), for sealing
//     without a broker session;
//   - cached sends (FollowChangeNotices, the daemon's mode): the broker announces every change
//     of its directory while a session lasts (DirectoryChanged on a revocation or expiry; a
//     broker restart means a new Welcome), so a directory received in the current session stays
//     current() until the next notice (OnChangeNotice) or session change (OnSessionChange), and
//     a send is sealed for it at once instead of fetching and verifying the whole directory
//     again. EnsureCurrent() verifies again only when a cached certificate's not_after has
//     passed. A notice makes the cache not current at once: no send is sealed for a directory
//     older than a revocation push;
//   - a served directory identical (same bytes, same revocation list in force) to one verified
//     less than kDirectoryRefresh ago is not verified again: verification costs once per change.
// Logs: event=directory_updated, directory_certificate_rejected, revocation_list_updated,
// revocation_list_rejected, certificate_no_longer_valid.
//
// Ownership: references the Clock, the trust store and floor (updated here), the two
// certificates and the channel, all owned by the daemon. Thread-safety: the daemon's loop thread
// only.
#ifndef TEARLINE_NODE_DIRECTORY_CACHE_H_
#define TEARLINE_NODE_DIRECTORY_CACHE_H_

#include <array>
#include <chrono>
#include <cstdint>
#include <vector>

#include "tearline/base/clock.h"
#include "tearline/identity/certificate.h"
#include "tearline/identity/directory.h"
#include "tearline/identity/revocation_floor.h"
#include "tearline/identity/trust_store.h"
#include "tearline/node/broker_channel.h"

namespace tearline::node {

inline constexpr std::chrono::milliseconds kDirectoryRefresh{60000};

// A Directory frame's content, copied out of the frame.
struct DirectoryUpdate {
  std::vector<std::vector<std::uint8_t>> certificates;  // Encoded, at most kMaxDirectoryEntries.
  std::vector<std::uint8_t> revocation_list;            // Encoded; empty when none was sent.
};

class DirectoryCache {
 public:
  DirectoryCache(const Clock& clock, TrustStore& trust, RevocationFloor& floor,
                 const Certificate& own_cert, const Certificate& broker_cert,
                 BrokerChannel& broker);

  // Sends a DirectoryRequest now. False when no connection took it.
  bool Request();
  void Tick();
  void OnDirectory(const DirectoryUpdate& update);
  void Recheck();

  // Cached sends (see above); off by default: every send fetches a fresh directory.
  void FollowChangeNotices(bool on) { follow_notices_ = on; }
  // The broker announced a change: not current until the next directory; asks for it now.
  void OnChangeNotice();
  // A session began or ended: not current until a directory arrives in the new session.
  void OnSessionChange() { current_ = false; }
  // True when sends may be sealed for the cached directory without asking the broker.
  bool current() const { return follow_notices_ && current_; }
  // Verifies the cached certificates again if one of them has expired since the last check.
  void EnsureCurrent();

  const Directory& directory() const { return directory_; }
  // True once a directory was received (it may be empty).
  bool have_directory() const { return have_directory_; }
  // Directory verifications so far (every certificate's signature checked).
  std::uint64_t verifications() const { return verifications_; }

 private:
  void UpdateRevocations(const std::vector<std::uint8_t>& encoded);
  // Returns the number of certificates rejected.
  std::size_t Verify(const std::vector<std::vector<std::uint8_t>>& certificates);

  const Clock& clock_;
  TrustStore& trust_;
  RevocationFloor& floor_;
  const Certificate& own_cert_;
  const Certificate& broker_cert_;
  BrokerChannel& broker_;
  Directory directory_;
  bool have_directory_ = false;
  Clock::TimePoint last_request_{};
  bool follow_notices_ = false;
  bool current_ = false;
  std::uint64_t verifications_ = 0;
  // What was verified last: digest of the served certificates and revocation list, the list's
  // sequence in force then, when, and the earliest not_after among the accepted certificates.
  std::array<std::uint8_t, 32> verified_digest_{};
  std::uint64_t verified_sequence_ = 0;
  Clock::TimePoint verified_at_{};
  std::int64_t earliest_not_after_ = 0;
};

}  // namespace tearline::node

#endif  // TEARLINE_NODE_DIRECTORY_CACHE_H_
