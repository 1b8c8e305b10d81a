#include "tearline/identity/certificate.h"

#include <flatbuffers/flatbuffers.h>
#include <sodium.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <system_error>
#include <utility>

#include "signed_container.h"
#include "tearline/base/encoding.h"
#include "tearline/schemas/certificate_generated.h"

namespace tearline {
namespace {

constexpr char kBodyIdentifier[] = "TLCB";
constexpr identity_internal::SignedContainerFormat kFormat{"TLCT", kBodyIdentifier, "certificate"};

Status Malformed(const std::string& why) {
  return InvalidArgument("CERT_MALFORMED", "certificate is malformed: " + why);
}

bool IsTrigraph(std::string_view s) {
  if (s.size() != 3) return false;
  for (char c : s) {
    if (c < 'A' || c > 'Z') return false;
  }
  return true;
}

bool IsPrintableName(std::string_view s, std::size_t max) {
  if (s.empty() || s.size() > max) return false;
  for (char c : s) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return s.front() != ' ' && s.back() != ' ';
}

bool IsZero(const PublicKey& k) {
  for (std::uint8_t b : k) {
    if (b != 0) return false;
  }
  return true;
}

// Structural rules shared by issuing and decoding. Returns the first violated rule as text.
std::optional<std::string> FieldProblem(const CertificateFields& f, const PublicKey& issuer) {
  if (!ValidateNodeId(f.node_id).ok()) return "node id must match [a-z0-9-]{1,64}";
  if (f.not_before >= f.not_after) return "validity window is empty (not_before >= not_after)";
  if (f.serial == 0) return "serial must not be zero";
  if (f.role == CertRole::kRoot) {
    if (f.node_id != kRootNodeId) return "the root certificate's node id must be \"root\"";
    if (!f.nation.empty() || !f.clearance.empty()) return "the root has no nation or clearance";
    if (!IsZero(f.encryption_key) || !IsZero(f.transport_key)) {
      return "the root has no encryption or transport key";
    }
    if (f.signing_key != issuer) return "the root certificate must be self-signed";
    return std::nullopt;
  }
  if (f.role != CertRole::kBroker && f.role != CertRole::kNode) return "unknown role";
  if (f.node_id == kRootNodeId) return "node id \"root\" is reserved for the root";
  if (!IsTrigraph(f.nation)) return "nation must be a trigraph [A-Z]{3}";
  if (!IsPrintableName(f.clearance, kMaxClearanceLength)) {
    return "clearance must be 1..64 printable characters";
  }
  return std::nullopt;
}

std::vector<std::uint8_t> EncodeBody(const CertificateFields& f, const PublicKey& issuer) {
  flatbuffers::FlatBufferBuilder fbb(512);
  const auto key = [&fbb](const PublicKey& k) { return fbb.CreateVector(k.data(), k.size()); };
  const bool root = f.role == CertRole::kRoot;
  const auto node_id = fbb.CreateString(f.node_id);
  const auto nation = root ? 0 : fbb.CreateString(f.nation);
  const auto clearance = root ? 0 : fbb.CreateString(f.clearance);
  const auto signing = key(f.signing_key);
  const auto encryption = root ? 0 : key(f.encryption_key);
  const auto transport = root ? 0 : key(f.transport_key);
  const auto issuer_key = key(issuer);
  const auto body = schema::CreateCertificateBody(
      fbb, kCertificateVersion, f.serial, static_cast<schema::CertRole>(f.role), node_id,
      flatbuffers::Offset<flatbuffers::String>(nation),
      flatbuffers::Offset<flatbuffers::String>(clearance), f.not_before, f.not_after, signing,
      flatbuffers::Offset<flatbuffers::Vector<std::uint8_t>>(encryption),
      flatbuffers::Offset<flatbuffers::Vector<std::uint8_t>>(transport), issuer_key);
  fbb.Finish(body, kBodyIdentifier);
  return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
}

std::vector<std::uint8_t> EncodeOuter(std::span<const std::uint8_t> body, const Signature& sig) {
  return identity_internal::EncodeSignedContainer(body, sig, kFormat, schema::CreateCertificate);
}

bool CopyKey(const flatbuffers::Vector<std::uint8_t>* v, PublicKey& out) {
  if (v == nullptr || v->size() != kPublicKeySize) return false;
  std::memcpy(out.data(), v->data(), kPublicKeySize);
  return true;
}

}  // namespace

std::string_view RoleName(CertRole role) {
  switch (role) {
    case CertRole::kRoot:
      return "root";
    case CertRole::kBroker:
      return "broker";
    case CertRole::kNode:
      return "node";
  }
  return "unknown";
}

std::optional<CertRole> ParseRole(std::string_view name) {
  if (name == "root") return CertRole::kRoot;
  if (name == "broker") return CertRole::kBroker;
  if (name == "node") return CertRole::kNode;
  return std::nullopt;
}

Status ValidateNodeId(std::string_view node_id) {
  bool ok = !node_id.empty() && node_id.size() <= kMaxNodeIdLength;
  for (char c : node_id) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) ok = false;
  }
  if (!ok) {
    std::string shown(node_id.substr(0, 80));
    for (char& c : shown) {
      if (c < 0x20 || c > 0x7e) c = '?';
    }
    return InvalidArgument("NODE_ID_INVALID", "node id \"" + shown +
                                                  "\" is invalid: use 1 to 64 characters from "
                                                  "a-z, 0-9 and '-'");
  }
  return Status::Ok();
}

Result<Certificate> Certificate::Decode(std::span<const std::uint8_t> bytes) {
  if (bytes.size() > kMaxCertificateSize) {
    return Status(Code::kResourceExhausted, "CERT_TOO_LARGE",
                  "certificate of " + std::to_string(bytes.size()) + " bytes exceeds the " +
                      std::to_string(kMaxCertificateSize) + "-byte limit");
  }
  Certificate cert;
  identity_internal::SignedParts parts;
  if (auto problem =
          identity_internal::SplitSignedContainer<schema::Certificate, schema::CertificateBody>(
              bytes, kFormat, parts)) {
    return Malformed(*problem);
  }
  const auto* b = flatbuffers::GetRoot<schema::CertificateBody>(parts.body.data());
  if (b->version() != kCertificateVersion) {
    return Malformed("unsupported version " + std::to_string(b->version()));
  }
  CertificateFields& f = cert.fields_;
  const auto role = static_cast<std::uint8_t>(b->role());
  if (role > static_cast<std::uint8_t>(CertRole::kNode)) return Malformed("unknown role");
  f.role = static_cast<CertRole>(role);
  f.serial = b->serial();
  if (b->node_id() == nullptr) return Malformed("node id missing");
  f.node_id = b->node_id()->str();
  if (b->nation() != nullptr) f.nation = b->nation()->str();
  if (b->clearance() != nullptr) f.clearance = b->clearance()->str();
  f.not_before = b->not_before();
  f.not_after = b->not_after();
  if (!CopyKey(b->signing_key(), f.signing_key)) return Malformed("signing key is not 32 bytes");
  if (!CopyKey(b->issuer_key(), cert.issuer_key_)) return Malformed("issuer key is not 32 bytes");
  if (f.role == CertRole::kRoot) {
    if (b->encryption_key() != nullptr || b->transport_key() != nullptr) {
      return Malformed("the root has no encryption or transport key");
    }
    if (b->nation() != nullptr || b->clearance() != nullptr) {
      return Malformed("the root has no nation or clearance");
    }
  } else {
    if (!CopyKey(b->encryption_key(), f.encryption_key)) {
      return Malformed("encryption key is not 32 bytes");
    }
    if (!CopyKey(b->transport_key(), f.transport_key)) {
      return Malformed("transport key is not 32 bytes");
    }
  }
  if (auto problem = FieldProblem(f, cert.issuer_key_)) return Malformed(*problem);
  if (!identity_internal::IsCanonicalSignedContainer(parts, kFormat, schema::CreateCertificate)) {
    return Malformed("outer encoding is not canonical");
  }
  cert.encoded_ = std::move(parts.encoded);
  cert.body_ = std::move(parts.body);
  cert.signature_ = parts.signature;
  return cert;
}

std::array<std::uint8_t, 32> Certificate::Fingerprint() const {
  std::array<std::uint8_t, 32> out{};
  crypto_hash_sha256(out.data(), encoded_.data(), encoded_.size());
  return out;
}

std::string Certificate::FingerprintHex() const { return ToHex(Fingerprint()); }

bool Certificate::SignatureVerifiesWith(const PublicKey& issuer) const {
  return VerifyWithDomain(issuer, kCertificateDomain, body_, signature_);
}

Result<Certificate> IssueCertificate(const SigningKeyPair& issuer,
                                     const CertificateFields& fields) {
  if (auto problem = FieldProblem(fields, issuer.public_key)) {
    return InvalidArgument("CERT_INVALID_FIELDS", "cannot issue certificate: " + *problem);
  }
  const std::vector<std::uint8_t> body = EncodeBody(fields, issuer.public_key);
  TEARLINE_ASSIGN_OR_RETURN(const Signature sig, SignWithDomain(issuer, kCertificateDomain, body));
  const std::vector<std::uint8_t> encoded = EncodeOuter(body, sig);
  // Round-trip through Decode so an issued certificate is, by construction, one Decode accepts.
  auto cert = Certificate::Decode(encoded);
  if (!cert.ok()) {
    return Internal("CERT_ENCODE",
                    "issued certificate does not decode: " + cert.status().ToString());
  }
  if (!cert->SignatureVerifiesWith(issuer.public_key)) {
    return Internal("CERT_ENCODE", "issued certificate does not verify");
  }
  return cert;
}

Result<std::vector<std::uint8_t>> ReadFileCapped(const std::string& path, std::size_t max_size,
                                                 std::string_view reason_prefix) {
  const std::string prefix(reason_prefix);
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status)) {
    return NotFound(prefix + "_NOT_FOUND", path + " does not exist");
  }
  if (!std::filesystem::is_regular_file(status)) {
    return IoError(prefix + "_READ", path + " is not a regular file");
  }
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return IoError(prefix + "_READ", "cannot read " + path + ": " + ec.message());
  if (size > max_size) {
    return Status(Code::kResourceExhausted, prefix + "_TOO_LARGE",
                  path + " is " + std::to_string(size) + " bytes, more than the " +
                      std::to_string(max_size) + "-byte limit");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError(prefix + "_READ", "cannot open " + path);
  // Read at most max_size + 1 bytes so a file growing under us is still caught.
  std::vector<std::uint8_t> data(max_size + 1);
  in.read(reinterpret_cast<char*>(data.data()), static_cast<std::streamsize>(data.size()));
  if (in.bad()) return IoError(prefix + "_READ", "cannot read " + path);
  const auto got = static_cast<std::size_t>(in.gcount());
  if (got > max_size) {
    return Status(Code::kResourceExhausted, prefix + "_TOO_LARGE",
                  path + " is larger than the " + std::to_string(max_size) + "-byte limit");
  }
  data.resize(got);
  return data;
}

Result<Certificate> ReadCertificateFile(const std::string& path) {
  TEARLINE_ASSIGN_OR_RETURN(std::vector<std::uint8_t> bytes,
                            ReadFileCapped(path, kMaxCertificateSize, "CERT_FILE"));
  auto cert = Certificate::Decode(bytes);
  if (!cert.ok()) return cert.status().WithContext(path);
  return cert;
}

std::string FormatUnixTime(std::int64_t unix_seconds) {
  const auto t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) return std::to_string(unix_seconds);
  char buf[64];
  if (std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
    return std::to_string(unix_seconds);
  }
  return buf;
}

}  // namespace tearline
