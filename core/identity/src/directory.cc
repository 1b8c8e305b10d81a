#include "tearline/identity/directory.h"

#include <system_error>

namespace tearline {

Directory Directory::Build(const std::vector<std::vector<std::uint8_t>>& blobs,
                           const TrustStore& trust, std::int64_t now_unix,
                           std::vector<Status>* rejected) {
  Directory dir;
  for (const auto& blob : blobs) {
    auto cert = trust.VerifyCertificateBytes(blob, now_unix);
    if (!cert.ok()) {
      if (rejected != nullptr) rejected->push_back(cert.status());
      continue;
    }
    if (cert->role() != CertRole::kNode) continue;
    auto it = dir.nodes_.find(cert->node_id());
    if (it != dir.nodes_.end() && it->second.fields().serial >= cert->fields().serial) continue;
    std::string id = cert->node_id();
    dir.nodes_.insert_or_assign(std::move(id), std::move(cert).value());
  }
  return dir;
}

Result<Directory> Directory::LoadDir(const std::filesystem::path& dir, const TrustStore& trust,
                                     std::int64_t now_unix, std::vector<Status>* rejected) {
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) {
    return NotFound("DIRECTORY_NOT_FOUND",
                    dir.string() + ": cannot list certificate directory: " + ec.message());
  }
  std::vector<std::vector<std::uint8_t>> blobs;
  for (const auto& entry : it) {
    if (!entry.is_regular_file(ec) || entry.path().extension() != ".cert") continue;
    if (entry.path().filename() == kRootCertFile) continue;
    auto bytes = ReadFileCapped(entry.path().string(), kMaxCertificateSize, "CERT");
    if (!bytes.ok()) {
      if (rejected != nullptr) rejected->push_back(bytes.status());
      continue;
    }
    blobs.push_back(std::move(bytes).value());
  }
  return Build(blobs, trust, now_unix, rejected);
}

const Certificate* Directory::FindNode(std::string_view node_id) const {
  auto it = nodes_.find(std::string(node_id));
  return it == nodes_.end() ? nullptr : &it->second;
}

const Certificate* Directory::FindByTransportKey(const PublicKey& key) const {
  for (const auto& [id, cert] : nodes_) {
    if (cert.fields().transport_key == key) return &cert;
  }
  return nullptr;
}

std::vector<const Certificate*> Directory::NodesOfNation(std::string_view nation) const {
  std::vector<const Certificate*> out;
  for (const auto& [id, cert] : nodes_) {
    if (cert.fields().nation == nation) out.push_back(&cert);
  }
  return out;
}

std::vector<std::vector<std::uint8_t>> Directory::EncodedCertificates() const {
  std::vector<std::vector<std::uint8_t>> out;
  out.reserve(nodes_.size());
  for (const auto& [id, cert] : nodes_) out.push_back(cert.encoded());
  return out;
}

}  // namespace tearline
