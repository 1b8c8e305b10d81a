#include "tearline/node/directory_cache.h"

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

void DirectoryCache::OnDirectory(const DirectoryUpdate& update) {
  if (!update.revocation_list.empty()) UpdateRevocations(update.revocation_list);
  std::vector<Status> rejected;
  directory_ = Directory::Build(update.certificates, trust_, clock_.UnixNow(), &rejected);
  have_directory_ = true;
  for (const auto& s : rejected) {
    spdlog::warn("event=directory_certificate_rejected reason={}", s.reason());
  }
  spdlog::info("event=directory_updated nodes={} rejected={}", directory_.nodes().size(),
               rejected.size());
}

void DirectoryCache::Recheck() {
  std::vector<Status> rejected;
  directory_ =
      Directory::Build(directory_.EncodedCertificates(), trust_, clock_.UnixNow(), &rejected);
  for (const auto& st : rejected) {
    spdlog::warn("event=directory_certificate_rejected reason={}", st.reason());
  }
}

}  // namespace tearline::node
