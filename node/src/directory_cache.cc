#include "tearline/node/directory_cache.h"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <utility>

#include "tearline/identity/revocation.h"
#include "tearline/wire/wire.h"

namespace tearline::node {

DirectoryCache::DirectoryCache(const Clock& clock, TrustStore& trust, RevocationFloor& floor,
                               const Certificate& own_cert, const Certificate& broker_cert,
                               BrokerChannel& broker)
    : clock_(clock),
      trust_(trust),
      floor_(floor),
      own_cert_(own_cert),
      broker_cert_(broker_cert),
      broker_(broker) {}

bool DirectoryCache::Request() {
  last_request_ = clock_.Now();
  return broker_.Send(EncodeDirectoryRequest(broker_.NewRequestId()));
}

void DirectoryCache::Tick() {
  if (broker_.welcomed() && clock_.Now() - last_request_ >= kDirectoryRefresh) (void)Request();
}

void DirectoryCache::UpdateRevocations(const std::vector<std::uint8_t>& encoded) {
  auto list = RevocationList::Decode(encoded);
  if (!list.ok()) {
    spdlog::warn("event=revocation_list_rejected reason={}", list.status().reason());
    return;
  }
  const std::uint64_t sequence = list->sequence();
  auto applied = floor_.Offer(std::move(list).value(), trust_);
  if (!applied.ok()) {
    spdlog::warn("event=revocation_list_rejected reason={} sequence={} kept={}",
                 applied.status().reason(), sequence, floor_.highest());
    // FILE_WRITE: in force although not persisted; go on to check the own certificates.
    if (applied.status().reason() != "FILE_WRITE") return;
  } else if (!*applied) {
    return;
  }
  spdlog::info("event=revocation_list_updated sequence={}", trust_.revocations()->sequence());
  // The operator must know at once if this node or its broker has been revoked.
  for (const Certificate* c : {&own_cert_, &broker_cert_}) {
    Status v = trust_.VerifyCertificate(*c, clock_.UnixNow());
    if (!v.ok()) {
      spdlog::error("event=certificate_no_longer_valid node={} reason={}", c->node_id(),
                    v.reason());
    }
  }
}

namespace {

std::array<std::uint8_t, 32> DigestOf(const DirectoryUpdate& update) {
  crypto_generichash_state st;
  crypto_generichash_init(&st, nullptr, 0, 32);
  for (const auto& c : update.certificates) {
    const std::uint64_t n = c.size();  // Length-prefixed: no two lists hash alike.
    crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(&n), sizeof n);
    crypto_generichash_update(&st, c.data(), c.size());
  }
  const std::uint64_t n = update.revocation_list.size();
  crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(&n), sizeof n);
  crypto_generichash_update(&st, update.revocation_list.data(), update.revocation_list.size());
  std::array<std::uint8_t, 32> out{};
  crypto_generichash_final(&st, out.data(), out.size());
  return out;
}

std::uint64_t SequenceInForce(const TrustStore& trust) {
  return trust.revocations() == nullptr ? 0 : trust.revocations()->sequence();
}

}  // namespace

void DirectoryCache::OnChangeNotice() {
  current_ = false;
  (void)Request();
}

void DirectoryCache::OnDirectory(const DirectoryUpdate& update) {
  if (!update.revocation_list.empty()) UpdateRevocations(update.revocation_list);
  const auto digest = DigestOf(update);
  const bool same = have_directory_ && digest == verified_digest_ &&
                    SequenceInForce(trust_) == verified_sequence_ &&
                    clock_.Now() - verified_at_ < kDirectoryRefresh;
  if (same) {
    EnsureCurrent();  // Only an expiry since then can change what verified.
  } else {
    const std::size_t rejected = Verify(update.certificates);
    verified_digest_ = digest;
    spdlog::info("event=directory_updated nodes={} rejected={}", directory_.nodes().size(),
                 rejected);
  }
  have_directory_ = true;
  current_ = true;
}

std::size_t DirectoryCache::Verify(const std::vector<std::vector<std::uint8_t>>& certificates) {
  std::vector<Status> rejected;
  const std::int64_t now = clock_.UnixNow();
  directory_ = Directory::Build(certificates, trust_, now, &rejected);
  ++verifications_;
  verified_sequence_ = SequenceInForce(trust_);
  verified_at_ = clock_.Now();
  earliest_not_after_ = 0;
  for (const auto& [id, cert] : directory_.nodes()) {
    const std::int64_t na = cert.fields().not_after;
    if (earliest_not_after_ == 0 || na < earliest_not_after_) earliest_not_after_ = na;
  }
  for (const auto& s : rejected) {
    spdlog::warn("event=directory_certificate_rejected reason={}", s.reason());
  }
  return rejected.size();
}

void DirectoryCache::EnsureCurrent() {
  if (earliest_not_after_ != 0 && clock_.UnixNow() >= earliest_not_after_) Recheck();
}

void DirectoryCache::Recheck() { (void)Verify(directory_.EncodedCertificates()); }

}  // namespace tearline::node
