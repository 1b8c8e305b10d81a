// RevocationFloor: the newest revocation list a daemon (broker or node) has ever accepted,
// persisted in its data directory, so that revocation never rolls back: neither a restart, nor
// an older revoked.list restored in the CA directory, nor an older list a broker serves can
// un-revoke a certificate.
//
// The file holds the list itself (its signed encoding, mode 0600), not only its sequence, so a
// restart restores the revocations and not merely the number: a daemon whose CA directory has
// an older list still refuses everything the newest accepted list revokes.
//
// Ownership: owns the file path and the persisted sequence; the TrustStore passed to Open and
// Offer is updated in place (the caller owns it). Thread-safety: none; callers serialise (the
// trust store needs exclusive access while it is updated anyway).
#ifndef TEARLINE_REVOCATION_FLOOR_H_
#define TEARLINE_REVOCATION_FLOOR_H_

#include <cstdint>
#include <filesystem>
#include <string_view>

#include "tearline/base/status.h"
#include "tearline/identity/revocation.h"
#include "tearline/identity/trust_store.h"

namespace tearline {

// The file name inside a daemon's data directory.
inline constexpr std::string_view kRevocationFloorFile = "revocation-floor.list";

class RevocationFloor {
 public:
  // Reads `path` if it exists and installs its list into `trust` when newer than the one `trust`
  // holds (from the CA directory); then, when `trust` holds a newer list than the file, writes it
  // (creating the parent directory, 0700). A file that exists but does not read, decode or
  // verify under trust's root is an error (fail closed: REVOCATION_FILE_*, REVOCATION_MALFORMED,
  // REVOCATION_WRONG_ROOT, REVOCATION_BAD_SIGNATURE, FILE_WRITE), never "nothing revoked".
  // An empty `path` keeps the floor in memory only (for tests and one-shot tools).
  static Result<RevocationFloor> Open(std::filesystem::path path, TrustStore& trust);

  // The highest sequence accepted so far (0: none).
  std::uint64_t highest() const { return highest_; }

  // Offers a list (from the CA directory or a broker). Returns true when it was newer and is now
  // in force in `trust` and persisted, false when its sequence equals the highest (nothing to
  // do). Errors: REVOCATION_ROLLBACK when its sequence is lower than the highest accepted
  // (trust unchanged); trust's signature checks (REVOCATION_WRONG_ROOT,
  // REVOCATION_BAD_SIGNATURE); FILE_WRITE when the list is in force but could not be persisted
  // (in force anyway: failing to revoke because the disk is full would fail open).
  Result<bool> Offer(RevocationList list, TrustStore& trust);

 private:
  explicit RevocationFloor(std::filesystem::path path) : path_(std::move(path)) {}
  Status Persist(const RevocationList& list);

  std::filesystem::path path_;
  std::uint64_t highest_ = 0;
};

}  // namespace tearline

#endif  // TEARLINE_REVOCATION_FLOOR_H_
