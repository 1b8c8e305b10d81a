// DirectoryCache: the node's view of the coalition's certificates, as served by the broker and
// verified here (a certificate the broker serves is never taken on trust).
//
//   - Request() asks the broker now (after each Welcome, before each send, and for a Deliver
//     from an originator not yet known); Tick() refreshes every 60 s while welcomed;
//   - OnDirectory() installs a newer revocation list into the trust store (and says at once
//     when this node's or its broker's certificate is no longer valid), then verifies every
//     certificate at the current time and replaces the directory;
//   - Recheck() verifies the cached certificates again now (revocations, expiry), for sealing
//     without a broker session.
// Logs: event=directory_updated, directory_certificate_rejected, revocation_list_updated,
// revocation_list_rejected, certificate_no_longer_valid.
//
// Ownership: references the Clock, the trust store (updated here), the two certificates and the
// channel, all owned by the daemon. Thread-safety: the daemon's loop thread only.
#ifndef TEARLINE_NODE_DIRECTORY_CACHE_H_
#define TEARLINE_NODE_DIRECTORY_CACHE_H_

#include <chrono>
#include <cstdint>
#include <vector>

#include "tearline/base/clock.h"
#include "tearline/identity/certificate.h"
#include "tearline/identity/directory.h"
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
  DirectoryCache(const Clock& clock, TrustStore& trust, const Certificate& own_cert,
                 const Certificate& broker_cert, BrokerChannel& broker);

  // Sends a DirectoryRequest now. False when no connection took it.
  bool Request();
  void Tick();
  void OnDirectory(const DirectoryUpdate& update);
  void Recheck();

  const Directory& directory() const { return directory_; }
  // True once a directory was received (it may be empty).
  bool have_directory() const { return have_directory_; }

 private:
  void UpdateRevocations(const std::vector<std::uint8_t>& encoded);

  const Clock& clock_;
  TrustStore& trust_;
  const Certificate& own_cert_;
  const Certificate& broker_cert_;
  BrokerChannel& broker_;
  Directory directory_;
  bool have_directory_ = false;
  Clock::TimePoint last_request_{};
};

}  // namespace tearline::node

#endif  // TEARLINE_NODE_DIRECTORY_CACHE_H_
