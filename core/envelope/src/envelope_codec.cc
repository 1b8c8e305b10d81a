#include "envelope_codec.h"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <bitset>
#include <cstring>
#include <utility>

#include "tearline/crypto/secure_memory.h"

namespace tearline::envelope_internal {
namespace {

Status Malformed(std::string message) {
  return InvalidArgument("ENVELOPE_MALFORMED", std::move(message));
}

void AppendU32Be(std::vector<std::uint8_t>& out, std::uint32_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 24));
  out.push_back(static_cast<std::uint8_t>(v >> 16));
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}

void Append(std::vector<std::uint8_t>& out, std::string_view s) {
  out.insert(out.end(), s.begin(), s.end());
}

flatbuffers::Verifier::Options VerifierOptions(std::uint32_t max_tables) {
  flatbuffers::Verifier::Options opts;
  opts.max_depth = kMaxDepth;
  opts.max_tables = max_tables;
  opts.check_alignment = true;
  // Nested buffers are plain [ubyte] here and verified explicitly with their own limits.
  opts.check_nested_flatbuffers = false;
  return opts;
}

bool IsAligned(const std::uint8_t* p, std::size_t alignment) {
  return reinterpret_cast<std::uintptr_t>(p) % alignment == 0;
}

}  // namespace

bool IsValidNodeId(std::string_view id) {
  if (id.empty() || id.size() > kMaxNodeIdBytes) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == ':' || c == '-';
  });
}

bool IsValidNationCode(std::string_view nation) {
  if (nation.empty() || nation.size() > kMaxNationBytes) return false;
  return std::all_of(nation.begin(), nation.end(),
                     [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); });
}

bool IsValidLabelText(std::string_view label) {
  if (label.empty() || label.size() > kMaxLabelBytes) return false;
  return std::all_of(label.begin(), label.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
}

Digest Sha256(std::span<const std::uint8_t> data) {
  Digest out{};
  crypto_hash_sha256(out.data(), data.data(), data.size());
  return out;
}

Digest CommitmentOf(std::span<const std::uint8_t> body) {
  crypto_hash_sha256_state st;
  crypto_hash_sha256_init(&st);
  crypto_hash_sha256_update(&st, reinterpret_cast<const unsigned char*>(kCommitmentDomain.data()),
                            kCommitmentDomain.size());
  crypto_hash_sha256_update(&st, body.data(), body.size());
  Digest out{};
  crypto_hash_sha256_final(&st, out.data());
  return out;
}

std::vector<std::uint8_t> SignatureMessage(std::span<const std::uint8_t> header) {
  std::vector<std::uint8_t> msg;
  msg.reserve(kHeaderSignatureDomain.size() + header.size());
  Append(msg, kHeaderSignatureDomain);
  msg.insert(msg.end(), header.begin(), header.end());
  return msg;
}

std::vector<std::uint8_t> PortionAd(const ReportId& report_id, std::string_view originator,
                                    std::uint32_t index, std::string_view label) {
  std::vector<std::uint8_t> ad;
  ad.reserve(kPortionAdDomain.size() + report_id.size() + 12 + originator.size() + label.size());
  Append(ad, kPortionAdDomain);
  ad.insert(ad.end(), report_id.begin(), report_id.end());
  AppendU32Be(ad, static_cast<std::uint32_t>(originator.size()));
  Append(ad, originator);
  AppendU32Be(ad, index);
  AppendU32Be(ad, static_cast<std::uint32_t>(label.size()));
  Append(ad, label);
  return ad;
}

std::string_view View(const flatbuffers::String* s) {
  if (s == nullptr) return {};
  return {s->c_str(), s->size()};
}

std::span<const std::uint8_t> Bytes(const flatbuffers::Vector<std::uint8_t>* v) {
  if (v == nullptr) return {};
  return {v->data(), v->size()};
}

Result<DecodedReport> DecodeOuter(std::span<const std::uint8_t> bytes) {
  TEARLINE_RETURN_IF_ERROR(InitCrypto());
  if (bytes.size() > kMaxReportBytes) {
    return Status(Code::kResourceExhausted, "ENVELOPE_TOO_LARGE",
                  "report of " + std::to_string(bytes.size()) + " bytes exceeds the limit of " +
                      std::to_string(kMaxReportBytes));
  }
  DecodedReport out;
  std::span<const std::uint8_t> buf = bytes;
  // FlatBuffers reads scalars in place; keep them naturally aligned (8 covers int64).
  if (!IsAligned(bytes.data(), 8)) {
    out.storage.assign(bytes.begin(), bytes.end());
    buf = out.storage;
  }
  if (buf.size() < 8 || !flatbuffers::BufferHasIdentifier(buf.data(), kReportIdentifier)) {
    return Malformed("not a Tearline report (missing identifier " + std::string(kReportIdentifier) +
                     ")");
  }
  flatbuffers::Verifier verifier(buf.data(), buf.size(), VerifierOptions(kMaxReportTables));
  if (!verifier.VerifyBuffer<schema::Report>(kReportIdentifier)) {
    return Malformed("report structure failed FlatBuffers verification");
  }
  out.report = flatbuffers::GetRoot<schema::Report>(buf.data());
  out.header_bytes = Bytes(out.report->header());
  out.signature = Bytes(out.report->signature());
  if (out.header_bytes.empty()) return Malformed("report has no header");
  if (out.signature.size() != kSignatureBytes) return Malformed("signature is not 64 bytes");
  if (out.report->portions() == nullptr || out.report->portions()->size() == 0) {
    return Malformed("report carries no portion");
  }
  if (out.report->portions()->size() > kMaxPortions) {
    return Malformed("report carries more than " + std::to_string(kMaxPortions) + " portions");
  }
  return out;
}

Result<DecodedReport> DecodeHeader(std::span<const std::uint8_t> bytes) {
  TEARLINE_ASSIGN_OR_RETURN(DecodedReport out, DecodeOuter(bytes));
  if (out.header_bytes.size() > kMaxHeaderBytes) {
    return Malformed("header exceeds " + std::to_string(kMaxHeaderBytes) + " bytes");
  }
  // The nested buffer sits at a 4-aligned offset only; copy it to aligned storage.
  out.header_storage.assign(out.header_bytes.begin(), out.header_bytes.end());
  const std::uint8_t* h = out.header_storage.data();
  const std::size_t h_size = out.header_storage.size();
  if (h_size < 8 || !flatbuffers::BufferHasIdentifier(h, kHeaderIdentifier)) {
    return Malformed("header is not a Tearline report header");
  }
  flatbuffers::Verifier verifier(h, h_size, VerifierOptions(kMaxHeaderTables));
  if (!verifier.VerifyBuffer<schema::ReportHeader>(kHeaderIdentifier)) {
    return Malformed("header structure failed FlatBuffers verification");
  }
  const schema::ReportHeader* hdr = flatbuffers::GetRoot<schema::ReportHeader>(h);
  out.header = hdr;
  // Version first, so that a future format is reported as such, not as a bad signature.
  if (hdr->version() != kEnvelopeVersion) {
    return InvalidArgument("ENVELOPE_VERSION", "report uses envelope version " +
                                                   std::to_string(hdr->version()) +
                                                   ", this node understands version " +
                                                   std::to_string(kEnvelopeVersion));
  }
  auto id = Bytes(hdr->report_id());
  if (id.size() != kReportIdBytes) return Malformed("report id is not 16 bytes");
  std::copy(id.begin(), id.end(), out.report_id.begin());
  if (!IsValidNodeId(View(hdr->originator()))) return Malformed("originator node id is invalid");
  out.originator = std::string(View(hdr->originator()));
  if (!IsValidNationCode(View(hdr->originator_nation()))) {
    return Malformed("originator nation is invalid");
  }
  out.originator_nation = std::string(View(hdr->originator_nation()));
  out.created_unix = hdr->created_unix();
  out.expires_unix = hdr->expires_unix();
  if (out.created_unix > out.expires_unix) return Malformed("report expires before it is created");
  out.portion_count = hdr->portion_count();
  if (out.portion_count == 0 || out.portion_count > kMaxPortions) {
    return Malformed("portion count " + std::to_string(out.portion_count) + " out of range");
  }
  if (hdr->commitments() == nullptr || hdr->commitments()->size() != out.portion_count) {
    return Malformed("header does not carry one commitment per portion");
  }
  if (hdr->intended_nations() != nullptr) {
    if (hdr->intended_nations()->size() > kMaxIntendedNations) {
      return Malformed("too many intended nations");
    }
    for (const flatbuffers::String* n : *hdr->intended_nations()) {
      if (!IsValidNationCode(View(n))) return Malformed("intended nation is invalid");
      out.intended_nations.emplace_back(View(n));
    }
  }
  if (out.report->portions()->size() > out.portion_count) {
    return Malformed("report carries more portions than its header declares");
  }
  return out;
}

Status VerifySignature(const DecodedReport& report,
                       std::span<const std::uint8_t> originator_sign_pk) {
  if (originator_sign_pk.size() != crypto_sign_PUBLICKEYBYTES) {
    return InvalidArgument("ENVELOPE_BAD_KEY", "originator signing key is not 32 bytes");
  }
  const std::vector<std::uint8_t> msg = SignatureMessage(report.header_bytes);
  if (crypto_sign_verify_detached(report.signature.data(), msg.data(), msg.size(),
                                  originator_sign_pk.data()) != 0) {
    return Unauthenticated("ENVELOPE_BAD_SIGNATURE",
                           "the report header is not signed by the originator's key (originator "
                           "claims to be '" +
                               report.originator + "')");
  }
  return Status::Ok();
}

namespace {

Status CheckBody(const schema::PortionBody& body, std::uint32_t index) {
  const std::string where = "portion " + std::to_string(index) + ": ";
  if (body.index() != index) {
    return InvalidArgument("ENVELOPE_PORTION_INDEX",
                           where + "body says it is portion " + std::to_string(body.index()));
  }
  if (!IsValidLabelText(View(body.label())))
    return Malformed(where + "label is missing or invalid");
  if (Bytes(body.salt()).size() != kSaltBytes) return Malformed(where + "salt is not 32 bytes");
  if (Bytes(body.nonce()).size() != kNonceBytes) return Malformed(where + "nonce is not 24 bytes");
  if (Bytes(body.ciphertext()).size() <= kAeadTagBytes) {
    return Malformed(where + "ciphertext is too short");
  }
  const auto* wraps = body.wraps();
  if (wraps != nullptr) {
    if (wraps->size() > kMaxRecipientsPerPortion) return Malformed(where + "too many key wraps");
    std::vector<std::string_view> seen;
    seen.reserve(wraps->size());
    for (const schema::KeyWrap* w : *wraps) {
      if (!IsValidNodeId(View(w->recipient()))) {
        return Malformed(where + "key wrap names an invalid node id");
      }
      if (Bytes(w->key_fingerprint()).size() != kKeyFingerprintBytes) {
        return Malformed(where + "key fingerprint is not 16 bytes");
      }
      if (Bytes(w->sealed_key()).size() != kSealedKeyBytes) {
        return Malformed(where + "sealed key is not 80 bytes");
      }
      seen.push_back(View(w->recipient()));
    }
    std::sort(seen.begin(), seen.end());
    if (std::adjacent_find(seen.begin(), seen.end()) != seen.end()) {
      return Malformed(where + "two key wraps for the same recipient");
    }
  }
  if (const auto* sources = body.sources(); sources != nullptr) {
    if (sources->size() > kMaxSourcesPerPortion) return Malformed(where + "too many sources");
    for (const schema::PortionSource* src : *sources) {
      if (Bytes(src->report_id()).size() != kReportIdBytes) {
        return Malformed(where + "source report id is not 16 bytes");
      }
      if (!IsValidNationCode(View(src->nation()))) {
        return Malformed(where + "source names an invalid nation");
      }
    }
  }
  if (body.override_reason() != nullptr) {
    const std::string_view why = View(body.override_reason());
    if (why.size() > kMaxOverrideReasonBytes || !IsValidLabelText(why)) {
      return Malformed(where + "provenance override reason is empty, too long or not printable");
    }
  }
  return Status::Ok();
}

}  // namespace

PortionProvenance ReadProvenance(const schema::PortionBody& body) {
  PortionProvenance out;
  if (const auto* sources = body.sources(); sources != nullptr) {
    for (const schema::PortionSource* src : *sources) {
      ProvenanceSource ps;
      const auto id = Bytes(src->report_id());
      std::copy(id.begin(), id.end(), ps.report_id.begin());
      ps.portion = src->portion();
      ps.nation = std::string(View(src->nation()));
      out.sources.push_back(std::move(ps));
    }
  }
  out.override_reason = std::string(View(body.override_reason()));
  return out;
}

Status DecodePortions(DecodedReport& report) {
  const auto* hdr_commitments = report.header->commitments();
  std::bitset<kMaxPortions> seen;
  std::int64_t previous = -1;
  report.portions.clear();
  for (const schema::PortionEnvelope* env : *report.report->portions()) {
    const std::uint32_t index = env->index();
    if (index >= report.portion_count) {
      return InvalidArgument("ENVELOPE_PORTION_INDEX", "portion " + std::to_string(index) +
                                                           " is beyond the " +
                                                           std::to_string(report.portion_count) +
                                                           " portions the header declares");
    }
    if (seen.test(index)) {
      return InvalidArgument("ENVELOPE_DUPLICATE_PORTION",
                             "portion " + std::to_string(index) + " appears twice");
    }
    if (static_cast<std::int64_t>(index) < previous) {
      return InvalidArgument("ENVELOPE_PORTION_INDEX", "portions are not in increasing order");
    }
    seen.set(index);
    previous = index;

    DecodedPortion p;
    p.index = index;
    p.body_bytes = Bytes(env->body());
    // Hash before parsing: only bodies the originator signed reach the body Verifier.
    const Digest c = CommitmentOf(p.body_bytes);
    const auto* expected = hdr_commitments->Get(index)->bytes();
    if (sodium_memcmp(c.data(), expected->data(), c.size()) != 0) {
      return Unauthenticated("ENVELOPE_COMMITMENT_MISMATCH",
                             "portion " + std::to_string(index) +
                                 " does not match the originator's signed commitment");
    }
    if (p.body_bytes.size() < 8 ||
        !flatbuffers::BufferHasIdentifier(p.body_bytes.data(), kBodyIdentifier)) {
      return Malformed("portion " + std::to_string(index) + ": body is not a portion body");
    }
    // Bodies hold only 4-byte scalars and offsets; the outer Verifier already checked that the
    // vector lies at a 4-aligned offset of an 8-aligned buffer.
    flatbuffers::Verifier verifier(p.body_bytes.data(), p.body_bytes.size(),
                                   VerifierOptions(kMaxBodyTables));
    if (!verifier.VerifyBuffer<schema::PortionBody>(kBodyIdentifier)) {
      return Malformed("portion " + std::to_string(index) +
                       ": body structure failed FlatBuffers verification");
    }
    p.body = flatbuffers::GetRoot<schema::PortionBody>(p.body_bytes.data());
    TEARLINE_RETURN_IF_ERROR(CheckBody(*p.body, index));
    report.portions.push_back(p);
  }
  return Status::Ok();
}

Result<DecodedReport> DecodeVerified(std::span<const std::uint8_t> bytes,
                                     std::span<const std::uint8_t> originator_sign_pk) {
  TEARLINE_ASSIGN_OR_RETURN(DecodedReport out, DecodeHeader(bytes));
  TEARLINE_RETURN_IF_ERROR(VerifySignature(out, originator_sign_pk));
  TEARLINE_RETURN_IF_ERROR(DecodePortions(out));
  return out;
}

bool SealKey(RandomSource& random, std::span<const std::uint8_t> key,
             std::span<const std::uint8_t, kEncPublicKeyBytes> recipient_pk,
             std::span<std::uint8_t, kSealedKeyBytes> out) {
  static_assert(kSealedKeyBytes ==
                crypto_box_PUBLICKEYBYTES + kContentKeyBytes + crypto_box_MACBYTES);
  if (key.size() != kContentKeyBytes) return false;
  std::array<std::uint8_t, crypto_box_SEEDBYTES> seed{};
  std::array<std::uint8_t, crypto_box_SECRETKEYBYTES> esk{};
  std::uint8_t* epk = out.data();
  random.Fill(seed);
  crypto_box_seed_keypair(epk, esk.data(), seed.data());
  sodium_memzero(seed.data(), seed.size());
  // The nonce of crypto_box_seal: BLAKE2b-192(epk || recipient public key).
  std::array<std::uint8_t, crypto_box_NONCEBYTES> nonce{};
  crypto_generichash_state st;
  crypto_generichash_init(&st, nullptr, 0, nonce.size());
  crypto_generichash_update(&st, epk, crypto_box_PUBLICKEYBYTES);
  crypto_generichash_update(&st, recipient_pk.data(), recipient_pk.size());
  crypto_generichash_final(&st, nonce.data(), nonce.size());
  const int rc = crypto_box_easy(out.data() + crypto_box_PUBLICKEYBYTES, key.data(), key.size(),
                                 nonce.data(), recipient_pk.data(), esk.data());
  sodium_memzero(esk.data(), esk.size());
  return rc == 0;
}

}  // namespace tearline::envelope_internal
