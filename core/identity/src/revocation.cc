#include "tearline/identity/revocation.h"

#include <flatbuffers/flatbuffers.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "signed_container.h"
#include "tearline/identity/certificate.h"
#include "tearline/schemas/certificate_generated.h"

namespace tearline {
namespace {

constexpr char kBodyIdentifier[] = "TLRB";
constexpr identity_internal::SignedContainerFormat kFormat{
    "TLRL", kBodyIdentifier, "revocation list",
    static_cast<flatbuffers::uoffset_t>(kMaxRevocationEntries + 2)};

Status Malformed(const std::string& why) {
  return InvalidArgument("REVOCATION_MALFORMED", "revocation list is malformed: " + why);
}

std::vector<std::uint8_t> EncodeBody(std::uint64_t sequence, std::int64_t issued_at,
                                     const PublicKey& issuer,
                                     const std::vector<RevocationEntry>& entries) {
  flatbuffers::FlatBufferBuilder fbb(256 + entries.size() * 48);
  std::vector<flatbuffers::Offset<schema::RevocationEntry>> offsets;
  offsets.reserve(entries.size());
  for (const RevocationEntry& e : entries) {
    offsets.push_back(schema::CreateRevocationEntry(fbb, fbb.CreateString(e.node_id), e.serial));
  }
  const auto entries_vec = fbb.CreateVector(offsets);
  const auto issuer_vec = fbb.CreateVector(issuer.data(), issuer.size());
  fbb.Finish(schema::CreateRevocationListBody(fbb, kRevocationListVersion, sequence, issued_at,
                                              issuer_vec, entries_vec),
             kBodyIdentifier);
  return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
}

std::vector<std::uint8_t> EncodeOuter(std::span<const std::uint8_t> body, const Signature& sig) {
  return identity_internal::EncodeSignedContainer(body, sig, kFormat, schema::CreateRevocationList);
}

}  // namespace

Result<RevocationList> RevocationList::Issue(const SigningKeyPair& root, std::uint64_t sequence,
                                             std::int64_t issued_at,
                                             std::vector<RevocationEntry> entries) {
  std::sort(entries.begin(), entries.end());
  entries.erase(std::unique(entries.begin(), entries.end()), entries.end());
  if (entries.size() > kMaxRevocationEntries) {
    return InvalidArgument("REVOCATION_INVALID_FIELDS", "too many revocation entries");
  }
  for (const RevocationEntry& e : entries) {
    if (!ValidateNodeId(e.node_id).ok() || e.serial == 0) {
      return InvalidArgument("REVOCATION_INVALID_FIELDS",
                             "revocation entries need a valid node id and a non-zero serial");
    }
  }
  if (sequence == 0) {
    return InvalidArgument("REVOCATION_INVALID_FIELDS", "sequence numbers start at 1");
  }
  const std::vector<std::uint8_t> body = EncodeBody(sequence, issued_at, root.public_key, entries);
  TEARLINE_ASSIGN_OR_RETURN(const Signature sig, SignWithDomain(root, kRevocationDomain, body));
  auto list = Decode(EncodeOuter(body, sig));
  if (!list.ok()) {
    return Internal("REVOCATION_ENCODE",
                    "issued list does not decode: " + list.status().ToString());
  }
  return list;
}

Result<RevocationList> RevocationList::Decode(std::span<const std::uint8_t> bytes) {
  if (bytes.size() > kMaxRevocationListSize) {
    return Status(Code::kResourceExhausted, "REVOCATION_TOO_LARGE",
                  "revocation list exceeds the size limit");
  }
  RevocationList list;
  identity_internal::SignedParts parts;
  if (auto problem = identity_internal::SplitSignedContainer<schema::RevocationList,
                                                             schema::RevocationListBody>(
          bytes, kFormat, parts)) {
    return Malformed(*problem);
  }
  const auto* b = flatbuffers::GetRoot<schema::RevocationListBody>(parts.body.data());
  if (b->version() != kRevocationListVersion) {
    return Malformed("unsupported version " + std::to_string(b->version()));
  }
  list.sequence_ = b->sequence();
  list.issued_at_ = b->issued_at();
  if (list.sequence_ == 0) return Malformed("sequence must not be zero");
  if (b->issuer_key() == nullptr || b->issuer_key()->size() != kPublicKeySize) {
    return Malformed("issuer key is not 32 bytes");
  }
  std::memcpy(list.issuer_key_.data(), b->issuer_key()->data(), kPublicKeySize);
  if (b->entries() != nullptr) {
    if (b->entries()->size() > kMaxRevocationEntries) return Malformed("too many entries");
    list.entries_.reserve(b->entries()->size());
    for (const auto* e : *b->entries()) {
      if (e == nullptr || e->node_id() == nullptr) return Malformed("entry without node id");
      RevocationEntry entry{e->node_id()->str(), e->serial()};
      if (!ValidateNodeId(entry.node_id).ok() || entry.serial == 0) {
        return Malformed("entry with an invalid node id or zero serial");
      }
      if (!list.entries_.empty() && !(list.entries_.back() < entry)) {
        return Malformed("entries are not sorted and unique");
      }
      list.entries_.push_back(std::move(entry));
    }
  }
  if (!identity_internal::IsCanonicalSignedContainer(parts, kFormat,
                                                     schema::CreateRevocationList)) {
    return Malformed("outer encoding is not canonical");
  }
  list.encoded_ = std::move(parts.encoded);
  list.body_ = std::move(parts.body);
  list.signature_ = parts.signature;
  return list;
}

bool RevocationList::IsRevoked(std::string_view node_id, std::uint64_t serial) const {
  const RevocationEntry key{std::string(node_id), serial};
  return std::binary_search(entries_.begin(), entries_.end(), key);
}

bool RevocationList::SignatureVerifiesWith(const PublicKey& root) const {
  return VerifyWithDomain(root, kRevocationDomain, body_, signature_);
}

Result<RevocationList> ReadRevocationListFile(const std::string& path) {
  TEARLINE_ASSIGN_OR_RETURN(std::vector<std::uint8_t> bytes,
                            ReadFileCapped(path, kMaxRevocationListSize, "REVOCATION_FILE"));
  auto list = RevocationList::Decode(bytes);
  if (!list.ok()) return list.status().WithContext(path);
  return list;
}

}  // namespace tearline
