#include "tearline/identity/revocation_floor.h"

#include <system_error>
#include <utility>

#include "tearline/base/file_util.h"

namespace tearline {

Result<RevocationFloor> RevocationFloor::Open(std::filesystem::path path, TrustStore& trust) {
  RevocationFloor floor(std::move(path));
  std::error_code ec;
  const bool exists = !floor.path_.empty() && std::filesystem::exists(floor.path_, ec);
  if (ec) {
    return IoError("REVOCATION_FILE_READ",
                   "cannot check " + floor.path_.string() + ": " + ec.message());
  }
  if (exists) {
    TEARLINE_ASSIGN_OR_RETURN(RevocationList kept, ReadRevocationListFile(floor.path_.string()));
    floor.highest_ = kept.sequence();
    const RevocationList* held = trust.revocations();
    if (held == nullptr || held->sequence() < kept.sequence()) {
      Status st = trust.UpdateRevocations(std::move(kept));
      if (!st.ok()) return st.WithContext(floor.path_.string());
    } else if (!kept.SignatureVerifiesWith(trust.root_key())) {
      return Unauthenticated(
          "REVOCATION_BAD_SIGNATURE",
          floor.path_.string() + ": the kept revocation list does not verify under the root");
    }
  }
  const RevocationList* held = trust.revocations();
  if (held != nullptr && held->sequence() > floor.highest_) {
    TEARLINE_RETURN_IF_ERROR(floor.Persist(*held));
  }
  return floor;
}

Result<bool> RevocationFloor::Offer(RevocationList list, TrustStore& trust) {
  if (list.sequence() < highest_) {
    return InvalidArgument("REVOCATION_ROLLBACK",
                           "revocation list sequence " + std::to_string(list.sequence()) +
                               " is older than sequence " + std::to_string(highest_) +
                               " accepted before; an older list never un-revokes a certificate");
  }
  if (list.sequence() == highest_) return false;
  TEARLINE_RETURN_IF_ERROR(trust.UpdateRevocations(std::move(list)));
  TEARLINE_RETURN_IF_ERROR(Persist(*trust.revocations()));
  return true;
}

Status RevocationFloor::Persist(const RevocationList& list) {
  // The sequence counts as accepted once the list is in force, even if the write fails below.
  highest_ = list.sequence();
  if (path_.empty()) return Status::Ok();
  std::error_code ec;
  const std::filesystem::path parent = path_.parent_path();
  if (!parent.empty() && !std::filesystem::exists(parent, ec)) {
    std::filesystem::create_directories(parent, ec);
    if (!ec) {
      std::filesystem::permissions(parent, std::filesystem::perms::owner_all,
                                   std::filesystem::perm_options::replace, ec);
    }
    if (ec) return IoError("FILE_WRITE", parent.string() + ": " + ec.message());
  }
  return WriteFileAtomic(path_, list.encoded(), 0600);
}

}  // namespace tearline
