#include "tearline/node/directory_cache.h"

#include <spdlog/spdlog.h>

#include <utility>

#include "tearline/identity/revocation.h"
#include "tearline/wire/wire.h"

namespace tearline::node {

DirectoryCache::DirectoryCache(const Clock& clock, TrustStore& trust, const Certificate& own_cert,
                               const Certificate& broker_cert, BrokerChannel& broker)
    : clock_(clock),
      trust_(trust),
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
  if (trust_.revocations() && list->sequence() <= trust_.revocations()->sequence()) return;
  Status s = trust_.UpdateRevocations(std::move(list).value());
  if (!s.ok()) {
    spdlog::warn("event=revocation_list_rejected reason={}", s.reason());
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
