// IdentityWatch: revocation and certificate expiry take effect while the broker runs, and never
// roll back.
//
//   - Open() installs the newest revocation list the broker ever accepted (RevocationFloor in
//     the data dir) before the directory is built, so a restart on an older ca_dir/revoked.list
//     un-revokes nobody.
//   - Poll() (from housekeeping) checks ca_dir/revoked.list at most every kRevocationCheck: when
//     its size or mtime changed it reads the list and offers it to the floor (an older list is
//     refused, REVOCATION_ROLLBACK, and logged); and it notices certificates whose not_after has
//     passed. Every directory certificate that no longer verifies is withdrawn: removed from the
//     directory (so nothing is routed to it and its key no longer opens a session) and remembered
//     with the reason (CERT_REVOKED, CERT_EXPIRED).
//   - With a certificate directory (Rotation), Open() builds the directory from it and Poll()
//     looks at it as often as at the list: when a `*.cert` file appears, changes or goes, the
//     directory is rebuilt from the files. A node id's new serial is accepted at once as its
//     current certificate (Change::accepted; the broker audits `certificate_accepted`) and its
//     previous one stays in force for authentication until its rotation overlap ends
//     (key_rotation.h); at that moment Poll() rebuilds again and the previous key is retired.
//     A node whose file was removed is withdrawn (CERT_NOT_IN_DIRECTORY).
//   - Screen() runs for every inbound frame, before anything else looks at it: a frame from a
//     withdrawn node, or from a node whose certificate expired since the last Poll, is refused.
//     At most one refusal per node and second is to be recorded and answered (the rest are
//     counted as suppressed), so a revoked node that keeps sending cannot fill the audit log.
//
// Ownership: references the trust store and directory (owned by the broker, updated here) and
// the clock; owns the floor and the withdrawn certificates (at most the directory's size).
// Thread-safety: Open, Poll and Screen run on the broker's Run() thread, which is the only
// writer; other threads (the ZAP thread) must hold mutex() shared while they read the directory,
// the trust store or FindWithdrawn(). Poll holds it exclusively while it changes them.
#ifndef TEARLINE_BROKER_IDENTITY_WATCH_H_
#define TEARLINE_BROKER_IDENTITY_WATCH_H_

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <tuple>
#include <vector>

#include "tearline/audit/audit_record_types.h"
#include "tearline/base/clock.h"
#include "tearline/base/status.h"
#include "tearline/broker/rate_limiter.h"
#include "tearline/identity/directory.h"
#include "tearline/identity/revocation_floor.h"
#include "tearline/identity/trust_store.h"

namespace tearline::broker {

inline constexpr std::chrono::milliseconds kRevocationCheck{500};

// Where node certificates come from. Empty `certificates`: the caller builds the directory and
// Poll() rebuilds it only from what it holds (no overlap unless `overlap_seconds`).
struct IdentityWatchRotation {
  std::filesystem::path certificates;  // The broker's `directory` of *.cert files.
  std::int64_t overlap_seconds = 0;    // rotation_overlap (key_rotation.h).
};

class IdentityWatch {
 public:
  struct Paths {
    std::filesystem::path revocation_list;  // ca_dir/revoked.list (may be absent).
    std::filesystem::path floor;            // data_dir/revocation-floor.list
  };
  // Errors: RevocationFloor::Open's (a damaged floor file stops the start: fail closed).
  using Rotation = IdentityWatchRotation;
  // Errors: RevocationFloor::Open's (a damaged floor file stops the start: fail closed), and
  // Directory::LoadDir's when `rotation.certificates` cannot be listed.
  static Result<std::unique_ptr<IdentityWatch>> Open(TrustStore& trust, Directory& directory,
                                                     const Clock& clock, Paths paths,
                                                     Rotation rotation = {});
  IdentityWatch(const IdentityWatch&) = delete;
  IdentityWatch& operator=(const IdentityWatch&) = delete;

  struct Change {
    bool list_applied = false;           // A newer revocation list is now in force.
    std::vector<std::string> withdrawn;  // Node ids withdrawn from the directory just now.
    std::vector<CertificateAcceptedRecord> accepted;  // New current certificates, just now.
    bool rotated = false;                             // A previous key entered or left its overlap.
    bool any() const { return list_applied || !withdrawn.empty() || !accepted.empty() || rotated; }
  };
  Change Poll();

  struct Refusal {
    Status why;
    bool record = false;           // Audit and answer this one.
    std::uint64_t suppressed = 0;  // Refusals of this node not recorded since the last record.
  };
  // Nullopt when frames from `node_id` may be handled.
  std::optional<Refusal> Screen(const std::string& node_id);

  // The withdrawn certificate holding `transport_key`, or null. Hold mutex() shared.
  const Certificate* FindWithdrawn(const PublicKey& transport_key) const;
  std::shared_mutex& mutex() const { return mu_; }
  std::uint64_t sequence() const { return floor_.highest(); }
  // A Directory frame answering `request_id`: the certificates and the revocation list in force,
  // never the files as they are now (a restored older list must not reach nodes).
  std::vector<std::uint8_t> DirectoryReply(std::uint64_t request_id) const;

 private:
  IdentityWatch(TrustStore& trust, Directory& directory, const Clock& clock, Paths paths,
                Rotation rotation, RevocationFloor floor);
  // True when the list file changed since the last look (and the interval passed).
  bool ListFileChanged();
  // True when a *.cert file of the certificate directory appeared, changed or went.
  bool CertificateFilesChanged();
  // The directory as it should be at `now`: from the files when there are any, else from what
  // it holds.
  Directory Rebuild(std::int64_t now) const;
  void NoteAccepted(const Directory& next, Change& change) const;

  TrustStore& trust_;
  Directory& directory_;
  const Clock& clock_;
  const Paths paths_;
  const Rotation rotation_;
  RevocationFloor floor_;
  mutable std::shared_mutex mu_;
  struct Withdrawn {
    Certificate cert;
    Status why;
  };
  std::map<std::string, Withdrawn> withdrawn_;  // node id -> why
  Clock::TimePoint last_check_{};
  std::optional<std::pair<std::uintmax_t, std::filesystem::file_time_type>> last_seen_;
  using FileStamp = std::tuple<std::string, std::uintmax_t, std::filesystem::file_time_type>;
  std::vector<FileStamp> last_files_;
  RateLimiter refusals_;
};

}  // namespace tearline::broker

#endif  // TEARLINE_BROKER_IDENTITY_WATCH_H_
