#include "tearline/broker/identity_watch.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <system_error>
#include <utility>

#include "tearline/identity/key_rotation.h"
#include "tearline/identity/revocation.h"
#include "tearline/wire/wire.h"

namespace tearline::broker {

Result<std::unique_ptr<IdentityWatch>> IdentityWatch::Open(TrustStore& trust, Directory& directory,
                                                           const Clock& clock, Paths paths,
                                                           Rotation rotation) {
  TEARLINE_ASSIGN_OR_RETURN(RevocationFloor floor, RevocationFloor::Open(paths.floor, trust));
  std::unique_ptr<IdentityWatch> watch(new IdentityWatch(trust, directory, clock, std::move(paths),
                                                         std::move(rotation), std::move(floor)));
  // The list LoadFromCaDir read is the one on disk now: only a later change needs a look.
  (void)watch->ListFileChanged();
  if (!watch->rotation_.certificates.empty()) {
    // After the floor: the newest list ever accepted may revoke more than ca_dir's.
    (void)watch->CertificateFilesChanged();
    std::vector<Status> rejected;
    auto dir = Directory::LoadDir(watch->rotation_.certificates, trust, clock.UnixNow(), &rejected,
                                  watch->rotation_.overlap_seconds);
    if (!dir.ok()) return dir.status();
    directory = std::move(dir).value();
    for (const Status& s : rejected) {
      spdlog::warn("event=directory_certificate_skipped reason={} detail={}", s.reason(),
                   s.message());
    }
  }
  if (const RevocationList* held = trust.revocations()) {
    spdlog::info("event=revocation_list_in_force sequence={}", held->sequence());
  }
  return watch;
}

IdentityWatch::IdentityWatch(TrustStore& trust, Directory& directory, const Clock& clock,
                             Paths paths, Rotation rotation, RevocationFloor floor)
    : trust_(trust),
      directory_(directory),
      clock_(clock),
      paths_(std::move(paths)),
      rotation_(std::move(rotation)),
      floor_(std::move(floor)),
      refusals_(clock, {.per_second = 1, .burst = 1, .max_keys = 4096}) {}

bool IdentityWatch::ListFileChanged() {
  last_check_ = clock_.Now();
  std::error_code ec;
  const auto size = std::filesystem::file_size(paths_.revocation_list, ec);
  if (ec) return false;  // Absent (or unreadable): nothing new to apply; the held list stays.
  const auto mtime = std::filesystem::last_write_time(paths_.revocation_list, ec);
  if (ec) return false;
  const auto seen = std::make_pair(size, mtime);
  if (last_seen_ == seen) return false;
  last_seen_ = seen;
  return true;
}

bool IdentityWatch::CertificateFilesChanged() {
  std::vector<FileStamp> files;
  std::error_code ec;
  std::filesystem::directory_iterator it(rotation_.certificates, ec);
  if (ec) return false;  // Unlistable now: keep what is held, look again later.
  for (const auto& entry : it) {
    if (entry.path().extension() != ".cert") continue;
    const auto size = entry.file_size(ec);
    if (ec) continue;
    const auto mtime = entry.last_write_time(ec);
    if (ec) continue;
    files.emplace_back(entry.path().filename().string(), size, mtime);
  }
  std::sort(files.begin(), files.end());
  if (files == last_files_) return false;
  last_files_ = std::move(files);
  return true;
}

Directory IdentityWatch::Rebuild(std::int64_t now) const {
  if (!rotation_.certificates.empty()) {
    std::vector<Status> rejected;
    auto dir = Directory::LoadDir(rotation_.certificates, trust_, now, &rejected,
                                  rotation_.overlap_seconds);
    if (dir.ok()) {
      for (const Status& s : rejected) {
        spdlog::info("event=directory_certificate_skipped reason={}", s.reason());
      }
      return std::move(dir).value();
    }
    spdlog::warn("event=directory_unreadable reason={}", dir.status().reason());
  }
  return Directory::Build(directory_.AllEncodedCertificates(), trust_, now, nullptr,
                          rotation_.overlap_seconds);
}

void IdentityWatch::NoteAccepted(const Directory& next, Change& change) const {
  for (const auto& [id, cert] : next.nodes()) {
    const Certificate* held = directory_.FindNode(id);
    if (held != nullptr && held->encoded() == cert.encoded()) continue;
    CertificateAcceptedRecord a;
    a.node = id;
    a.serial = cert.fields().serial;
    a.fingerprint = cert.FingerprintHex();
    if (held != nullptr) a.previous_serial = held->fields().serial;
    if (const Certificate* previous = next.FindPrevious(id)) {
      a.previous_until = OverlapEnd(*previous, cert, rotation_.overlap_seconds);
    }
    spdlog::info("event=certificate_accepted node={} serial={} previous_serial={} overlap_until={}",
                 id, a.serial, a.previous_serial, a.previous_until);
    change.accepted.push_back(std::move(a));
  }
  auto serials = [](const Directory& d) {
    std::map<std::string, std::uint64_t> out;
    for (const auto& [id, cert] : d.previous()) out.emplace(id, cert.fields().serial);
    return out;
  };
  const auto before = serials(directory_);
  const auto after = serials(next);
  if (before == after) return;
  change.rotated = true;
  for (const auto& [id, serial] : before) {
    if (auto it = after.find(id); it == after.end() || it->second != serial) {
      spdlog::info("event=previous_key_retired node={} serial={}", id, serial);
    }
  }
}

IdentityWatch::Change IdentityWatch::Poll() {
  Change change;
  if (clock_.Now() - last_check_ < kRevocationCheck) return change;
  const std::int64_t now = clock_.UnixNow();
  std::optional<RevocationList> offered;
  if (ListFileChanged()) {
    auto list = ReadRevocationListFile(paths_.revocation_list.string());
    if (list.ok()) {
      offered = std::move(list).value();
    } else {
      // A list still being copied in is read again once its size or mtime changes.
      spdlog::warn("event=revocation_list_rejected reason={}", list.status().reason());
    }
  }
  const bool files_changed = !rotation_.certificates.empty() && CertificateFilesChanged();
  if (!offered && !files_changed && now < directory_.NextChangeAt()) return change;

  std::unique_lock lock(mu_);
  if (offered) {
    const std::uint64_t sequence = offered->sequence();
    auto applied = floor_.Offer(std::move(*offered), trust_);
    if (applied.ok()) {
      change.list_applied = *applied;
    } else {
      // REVOCATION_ROLLBACK and signature failures leave the held list in force; FILE_WRITE
      // means the list is in force but not persisted.
      spdlog::error("event=revocation_list_rejected reason={} sequence={} kept={}",
                    applied.status().reason(), sequence, floor_.highest());
      change.list_applied = applied.status().reason() == "FILE_WRITE";
    }
    if (change.list_applied) spdlog::info("event=revocation_list_updated sequence={}", sequence);
  }
  Directory next = Rebuild(now);
  for (const auto& [id, cert] : directory_.nodes()) {
    if (next.FindNode(id) != nullptr) continue;
    Status why = trust_.VerifyCertificate(cert, now);
    if (why.ok()) {
      why =
          Unauthenticated("CERT_NOT_IN_DIRECTORY", "the certificate of node '" + id + "' (serial " +
                                                       std::to_string(cert.fields().serial) +
                                                       ") was removed from the broker's directory");
    }
    spdlog::warn("event=certificate_withdrawn node={} serial={} reason={}", id,
                 cert.fields().serial, why.reason());
    withdrawn_.insert_or_assign(id, Withdrawn{cert, std::move(why)});
    change.withdrawn.push_back(id);
  }
  // A node withdrawn earlier and certified again (a new serial after a revocation) is served.
  for (const auto& [id, cert] : next.nodes()) withdrawn_.erase(id);
  NoteAccepted(next, change);
  directory_ = std::move(next);
  return change;
}

std::optional<IdentityWatch::Refusal> IdentityWatch::Screen(const std::string& node_id) {
  Status why;
  if (auto it = withdrawn_.find(node_id); it != withdrawn_.end()) {
    why = it->second.why;
  } else if (const Certificate* cert = directory_.FindNode(node_id);
             cert != nullptr && clock_.UnixNow() >= cert->fields().not_after) {
    // Expired since the last Poll: refused from this moment, withdrawn at the next Poll.
    why = Status(Code::kExpired, "CERT_EXPIRED",
                 "certificate '" + node_id + "' (serial " + std::to_string(cert->fields().serial) +
                     ") expired at " + FormatUnixTime(cert->fields().not_after));
  } else {
    return std::nullopt;
  }
  const RateLimiter::Decision take = refusals_.Take(node_id);
  return Refusal{std::move(why), take.allowed, take.suppressed};
}

const Certificate* IdentityWatch::FindWithdrawn(const PublicKey& transport_key) const {
  for (const auto& [id, w] : withdrawn_) {
    if (w.cert.fields().transport_key == transport_key) return &w.cert;
  }
  return nullptr;
}

std::vector<std::uint8_t> IdentityWatch::DirectoryReply(std::uint64_t request_id) const {
  const RevocationList* held = trust_.revocations();
  return EncodeDirectory(
      request_id, directory_.EncodedCertificates(),
      held ? std::span<const std::uint8_t>(held->encoded()) : std::span<const std::uint8_t>());
}

}  // namespace tearline::broker
