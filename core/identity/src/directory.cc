#include "tearline/identity/directory.h"

#include <algorithm>
#include <limits>
#include <system_error>

#include "tearline/identity/key_rotation.h"

namespace tearline {

Directory Directory::Build(const std::vector<std::vector<std::uint8_t>>& blobs,
                           const TrustStore& trust, std::int64_t now_unix,
                           std::vector<Status>* rejected, std::int64_t rotation_overlap_seconds) {
  // Every root-signed node certificate takes part in the selection, verifying or not: a revoked
  // or expired intermediate serial must still end the overlap of the one before it.
  std::map<std::string, std::vector<Certificate>> by_id;
  std::map<std::string, std::vector<bool>> verifies;
  for (const auto& blob : blobs) {
    auto cert = Certificate::Decode(blob);
    Status ok = cert.ok() ? trust.VerifyCertificate(*cert, now_unix) : cert.status();
    if (!ok.ok() && rejected != nullptr) rejected->push_back(ok);
    if (!cert.ok() || cert->role() != CertRole::kNode) continue;
    if (!ok.ok() && (cert->issuer_key() != trust.root_key() ||
                     !cert->SignatureVerifiesWith(trust.root_key()))) {
      continue;
    }
    std::string id = cert->node_id();
    by_id[id].push_back(std::move(cert).value());
    verifies[id].push_back(ok.ok());
  }
  Directory dir;
  for (auto& [id, certs] : by_id) {
    std::vector<RotationCandidate> candidates;
    for (std::size_t i = 0; i < certs.size(); ++i) {
      candidates.push_back(RotationCandidate{&certs[i], verifies[id][i]});
    }
    const CertificatesInForce in_force =
        SelectInForce(candidates, now_unix, rotation_overlap_seconds);
    if (!in_force.current) continue;
    for (std::size_t i = 0; i < certs.size(); ++i) {
      if (i == *in_force.current || i == in_force.previous) continue;
      if (certs[i].fields().serial < certs[*in_force.current].fields().serial) {
        dir.retired_.push_back(certs[i]);
      }
    }
    if (in_force.previous) {
      dir.overlap_end_[id] =
          OverlapEnd(certs[*in_force.previous], certs[*in_force.current], rotation_overlap_seconds);
      dir.previous_.insert_or_assign(id, std::move(certs[*in_force.previous]));
    }
    dir.nodes_.insert_or_assign(id, std::move(certs[*in_force.current]));
  }
  return dir;
}

Result<Directory> Directory::LoadDir(const std::filesystem::path& dir, const TrustStore& trust,
                                     std::int64_t now_unix, std::vector<Status>* rejected,
                                     std::int64_t rotation_overlap_seconds) {
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
  return Build(blobs, trust, now_unix, rejected, rotation_overlap_seconds);
}

const Certificate* Directory::FindNode(std::string_view node_id) const {
  auto it = nodes_.find(std::string(node_id));
  return it == nodes_.end() ? nullptr : &it->second;
}

const Certificate* Directory::FindByTransportKey(const PublicKey& key) const {
  for (const auto& [id, cert] : nodes_) {
    if (cert.fields().transport_key == key) return &cert;
  }
  for (const auto& [id, cert] : previous_) {
    if (cert.fields().transport_key == key) return &cert;
  }
  return nullptr;
}

const Certificate* Directory::FindPrevious(std::string_view node_id) const {
  auto it = previous_.find(std::string(node_id));
  return it == previous_.end() ? nullptr : &it->second;
}

const Certificate* Directory::FindRetiredByTransportKey(const PublicKey& key) const {
  for (const Certificate& cert : retired_) {
    if (cert.fields().transport_key == key) return &cert;
  }
  return nullptr;
}

std::int64_t Directory::NextChangeAt() const {
  std::int64_t at = std::numeric_limits<std::int64_t>::max();
  for (const auto& [id, cert] : nodes_) at = std::min(at, cert.fields().not_after);
  for (const auto& [id, end] : overlap_end_) at = std::min(at, end);
  return at;
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

std::vector<std::vector<std::uint8_t>> Directory::AllEncodedCertificates() const {
  std::vector<std::vector<std::uint8_t>> out = EncodedCertificates();
  for (const auto& [id, cert] : previous_) out.push_back(cert.encoded());
  for (const Certificate& cert : retired_) out.push_back(cert.encoded());
  return out;
}

}  // namespace tearline
