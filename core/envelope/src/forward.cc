#include "tearline/envelope/forward.h"

#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <set>
#include <string_view>
#include <utility>

#include "envelope_codec.h"

namespace tearline {
namespace {

namespace ei = envelope_internal;
using namespace std::string_view_literals;

constexpr std::string_view kGrantSignatureDomain = "tearline/v1/forward-grant\0"sv;
constexpr const char* kForwardIdentifier = "TLFW";
constexpr const char* kGrantIdentifier = "TLFG";

Status Malformed(std::string message) {
  return InvalidArgument("ENVELOPE_MALFORMED", "forward: " + std::move(message));
}

flatbuffers::Verifier::Options Options(std::uint32_t max_tables) {
  flatbuffers::Verifier::Options opts;
  opts.max_depth = ei::kMaxDepth;
  opts.max_tables = max_tables;
  opts.check_alignment = true;
  opts.check_nested_flatbuffers = false;
  return opts;
}

std::vector<std::uint8_t> GrantMessage(std::span<const std::uint8_t> grant) {
  std::vector<std::uint8_t> msg(kGrantSignatureDomain.size() + grant.size());
  std::memcpy(msg.data(), kGrantSignatureDomain.data(), kGrantSignatureDomain.size());
  if (!grant.empty()) {
    std::memcpy(msg.data() + kGrantSignatureDomain.size(), grant.data(), grant.size());
  }
  return msg;
}

// A structurally verified Forward and its grant; pointers refer into the owned storage.
struct DecodedForward {
  std::vector<std::uint8_t> storage;
  std::vector<std::uint8_t> grant_storage;
  const schema::Forward* forward = nullptr;
  const schema::ForwardGrant* grant = nullptr;
  std::span<const std::uint8_t> report;
  std::span<const std::uint8_t> grant_bytes;
  std::span<const std::uint8_t> signature;
  ForwardInfo info;
};

Result<DecodedForward> DecodeForward(std::span<const std::uint8_t> bytes) {
  TEARLINE_RETURN_IF_ERROR(InitCrypto());
  if (bytes.size() > kMaxReportBytes + kMaxGrantBytes) {
    return Status(Code::kResourceExhausted, "ENVELOPE_TOO_LARGE",
                  "forward of " + std::to_string(bytes.size()) + " bytes exceeds the limit");
  }
  DecodedForward out;
  out.storage.assign(bytes.begin(), bytes.end());  // Aligned, and the spans stay valid on move.
  const std::uint8_t* b = out.storage.data();
  if (out.storage.size() < 8 || !flatbuffers::BufferHasIdentifier(b, kForwardIdentifier)) {
    return Malformed("missing identifier TLFW");
  }
  flatbuffers::Verifier v(b, out.storage.size(), Options(1));
  if (!v.VerifyBuffer<schema::Forward>(kForwardIdentifier)) {
    return Malformed("structure failed FlatBuffers verification");
  }
  out.forward = flatbuffers::GetRoot<schema::Forward>(b);
  out.report = ei::Bytes(out.forward->report());
  out.grant_bytes = ei::Bytes(out.forward->grant());
  out.signature = ei::Bytes(out.forward->signature());
  if (out.report.empty()) return Malformed("no report");
  if (out.signature.size() != ei::kSignatureBytes) return Malformed("signature is not 64 bytes");
  if (out.grant_bytes.empty() || out.grant_bytes.size() > kMaxGrantBytes) {
    return Malformed("grant missing or larger than " + std::to_string(kMaxGrantBytes) + " bytes");
  }
  out.grant_storage.assign(out.grant_bytes.begin(), out.grant_bytes.end());
  const std::uint8_t* g = out.grant_storage.data();
  if (out.grant_storage.size() < 8 || !flatbuffers::BufferHasIdentifier(g, kGrantIdentifier)) {
    return Malformed("grant is not a Tearline forward grant");
  }
  flatbuffers::Verifier gv(g, out.grant_storage.size(),
                           Options(static_cast<std::uint32_t>(1 + 2 * kMaxForwardWraps)));
  if (!gv.VerifyBuffer<schema::ForwardGrant>(kGrantIdentifier)) {
    return Malformed("grant structure failed FlatBuffers verification");
  }
  const schema::ForwardGrant* grant = flatbuffers::GetRoot<schema::ForwardGrant>(g);
  out.grant = grant;
  if (grant->version() != kForwardVersion) {
    return InvalidArgument("ENVELOPE_VERSION",
                           "forward grant version " + std::to_string(grant->version()) +
                               ", this node understands " + std::to_string(kForwardVersion));
  }
  ForwardInfo& info = out.info;
  const auto fid = ei::Bytes(grant->forward_id());
  const auto rid = ei::Bytes(grant->report_id());
  if (fid.size() != kReportIdBytes || rid.size() != kReportIdBytes) {
    return Malformed("forward id or report id is not 16 bytes");
  }
  std::copy(fid.begin(), fid.end(), info.forward_id.begin());
  std::copy(rid.begin(), rid.end(), info.report_id.begin());
  info.forwarder = std::string(ei::View(grant->forwarder()));
  info.forwarder_nation = std::string(ei::View(grant->forwarder_nation()));
  info.target_nation = std::string(ei::View(grant->target_nation()));
  if (!ei::IsValidNodeId(info.forwarder)) return Malformed("forwarder node id is invalid");
  if (!ei::IsValidNationCode(info.forwarder_nation) || !ei::IsValidNationCode(info.target_nation)) {
    return Malformed("forwarder or target nation is invalid");
  }
  info.created_unix = grant->created_unix();
  if (grant->portions() == nullptr || grant->portions()->size() == 0 ||
      grant->portions()->size() > kMaxPortions) {
    return Malformed("grant must name 1 to " + std::to_string(kMaxPortions) + " portions");
  }
  for (std::uint32_t i : *grant->portions()) {
    if (i >= kMaxPortions || (!info.portions.empty() && i <= info.portions.back())) {
      return Malformed("granted portions are not strictly increasing valid indices");
    }
    info.portions.push_back(i);
  }
  if (grant->wraps() == nullptr || grant->wraps()->size() == 0 ||
      grant->wraps()->size() > kMaxForwardWraps) {
    return Malformed("grant must carry 1 to " + std::to_string(kMaxForwardWraps) + " key wraps");
  }
  std::set<std::pair<std::uint32_t, std::string_view>> seen;
  for (const schema::ForwardWrap* w : *grant->wraps()) {
    const schema::KeyWrap* k = w->wrap();
    if (k == nullptr || !ei::IsValidNodeId(ei::View(k->recipient())) ||
        ei::Bytes(k->key_fingerprint()).size() != kKeyFingerprintBytes ||
        ei::Bytes(k->sealed_key()).size() != ei::kSealedKeyBytes) {
      return Malformed("a key wrap is incomplete");
    }
    if (!std::binary_search(info.portions.begin(), info.portions.end(), w->index())) {
      return Malformed("a key wrap names a portion the grant does not forward");
    }
    if (!seen.insert({w->index(), ei::View(k->recipient())}).second) {
      return Malformed("two key wraps for the same portion and node");
    }
  }
  return out;
}

Status VerifyGrantSignature(const DecodedForward& f, std::span<const std::uint8_t> pk) {
  if (pk.size() != crypto_sign_PUBLICKEYBYTES) {
    return InvalidArgument("ENVELOPE_BAD_KEY", "forwarder signing key is not 32 bytes");
  }
  const auto msg = GrantMessage(f.grant_bytes);
  if (crypto_sign_verify_detached(f.signature.data(), msg.data(), msg.size(), pk.data()) != 0) {
    return Unauthenticated("ENVELOPE_BAD_SIGNATURE",
                           "the forward grant's signature does not verify under the key of "
                           "forwarder " +
                               f.info.forwarder);
  }
  return Status::Ok();
}

std::vector<ei::GrantedKey> GrantedKeys(const DecodedForward& f) {
  std::vector<ei::GrantedKey> keys;
  for (const schema::ForwardWrap* w : *f.grant->wraps()) {
    const schema::KeyWrap* k = w->wrap();
    keys.push_back({w->index(), ei::View(k->recipient()), ei::Bytes(k->key_fingerprint()),
                    ei::Bytes(k->sealed_key())});
  }
  return keys;
}

// The checks both the broker and a recipient make; the nested report's view is returned.
Result<ReportView> VerifyForward(const DecodedForward& f,
                                 std::span<const std::uint8_t> originator_sign_pk,
                                 std::span<const std::uint8_t> forwarder_sign_pk) {
  TEARLINE_RETURN_IF_ERROR(VerifyGrantSignature(f, forwarder_sign_pk));
  TEARLINE_ASSIGN_OR_RETURN(ReportView view, InspectReport(f.report, originator_sign_pk));
  if (view.report_id != f.info.report_id) {
    return InvalidArgument("FORWARD_REPORT_MISMATCH",
                           "the forward grant names report " + ReportIdHex(f.info.report_id) +
                               " but carries report " + ReportIdHex(view.report_id));
  }
  for (const PortionView& p : view.portions) {
    if (!std::binary_search(f.info.portions.begin(), f.info.portions.end(), p.index)) {
      return InvalidArgument("FORWARD_REPORT_MISMATCH", "the forward carries portion " +
                                                            std::to_string(p.index) +
                                                            ", which its grant does not forward");
    }
  }
  return view;
}

flatbuffers::DetachedBuffer BuildForward(std::span<const std::uint8_t> report,
                                         std::span<const std::uint8_t> grant,
                                         std::span<const std::uint8_t> signature) {
  flatbuffers::FlatBufferBuilder fbb(report.size() + grant.size() + 256);
  const auto r = fbb.CreateVector(report.data(), report.size());
  const auto g = fbb.CreateVector(grant.data(), grant.size());
  const auto s = fbb.CreateVector(signature.data(), signature.size());
  fbb.Finish(schema::CreateForward(fbb, r, g, s), kForwardIdentifier);
  return fbb.Release();
}

std::vector<std::uint8_t> ToVector(const flatbuffers::DetachedBuffer& b) {
  return {b.data(), b.data() + b.size()};
}

}  // namespace

bool IsForward(std::span<const std::uint8_t> bytes) {
  return bytes.size() >= 8 && flatbuffers::BufferHasIdentifier(bytes.data(), kForwardIdentifier);
}

Result<SealedForward> SealForward(std::span<const std::uint8_t> copy, const ForwardInput& in,
                                  const RecipientIdentity& me, const SecretBytes& sign_sk) {
  TEARLINE_RETURN_IF_ERROR(InitCrypto());
  if (sign_sk.size() != crypto_sign_SECRETKEYBYTES ||
      me.enc_secret_key.size() != crypto_box_SECRETKEYBYTES) {
    return InvalidArgument("ENVELOPE_BAD_KEY", "forwarder keys have the wrong size");
  }
  std::vector<std::uint32_t> portions = in.portions;
  std::sort(portions.begin(), portions.end());
  portions.erase(std::unique(portions.begin(), portions.end()), portions.end());
  if (portions.empty() || in.targets.empty() ||
      in.targets.size() * portions.size() > kMaxForwardWraps || !ei::IsValidNodeId(in.forwarder) ||
      !ei::IsValidNationCode(in.forwarder_nation) || !ei::IsValidNationCode(in.target_nation)) {
    return InvalidArgument("ENVELOPE_BAD_INPUT",
                           "a forward needs a valid forwarder, nations, 1 or more portions and "
                           "target nodes (at most " +
                               std::to_string(kMaxForwardWraps) + " key wraps)");
  }
  std::set<std::string> distinct;
  for (const ForwardTarget& t : in.targets) {
    if (!ei::IsValidNodeId(t.node_id) || !distinct.insert(t.node_id).second) {
      return InvalidArgument("ENVELOPE_BAD_INPUT", "target node ids must be valid and distinct");
    }
  }
  TEARLINE_ASSIGN_OR_RETURN(ei::DecodedReport dec, ei::DecodeHeader(copy));
  TEARLINE_RETURN_IF_ERROR(ei::DecodePortions(dec));
  RandomSource& random = in.random != nullptr ? *in.random : OsRandom();
  ForwardId forward_id{};
  if (in.forward_id.has_value()) {
    forward_id = *in.forward_id;
  } else {
    random.Fill(forward_id);
  }

  flatbuffers::FlatBufferBuilder fbb(1024);
  std::vector<flatbuffers::Offset<schema::ForwardWrap>> wraps;
  for (std::uint32_t index : portions) {
    const auto found = std::find_if(dec.portions.begin(), dec.portions.end(),
                                    [&](const ei::DecodedPortion& p) { return p.index == index; });
    if (found == dec.portions.end()) {
      return NotFound("ENVELOPE_NO_SUCH_PORTION",
                      "portion " + std::to_string(index) + " is not in this node's copy");
    }
    const schema::KeyWrap* mine = nullptr;
    if (found->body->wraps() != nullptr) {
      for (const schema::KeyWrap* w : *found->body->wraps()) {
        if (ei::View(w->recipient()) == me.node_id) mine = w;
      }
    }
    if (mine == nullptr) {
      return PermissionDenied("ENVELOPE_NOT_A_RECIPIENT",
                              "portion " + std::to_string(index) + " is not addressed to " +
                                  me.node_id + ", so it cannot be forwarded from here");
    }
    TEARLINE_ASSIGN_OR_RETURN(SecretBytes key, SecretBytes::Allocate(ei::kContentKeyBytes));
    const auto sealed = ei::Bytes(mine->sealed_key());
    if (crypto_box_seal_open(key.data(), sealed.data(), sealed.size(), me.enc_public_key.data(),
                             me.enc_secret_key.data()) != 0) {
      return Unauthenticated(
          "ENVELOPE_DECRYPT_FAILED",
          "portion " + std::to_string(index) + ": this node's key does not unwrap the content key");
    }
    for (const ForwardTarget& t : in.targets) {
      std::array<std::uint8_t, ei::kSealedKeyBytes> out{};
      if (!ei::SealKey(random, key.span(), t.enc_public_key, out)) {
        return InvalidArgument("ENVELOPE_BAD_KEY", "cannot seal for " + t.node_id);
      }
      const KeyFingerprint fp = EncKeyFingerprint(t.enc_public_key);
      // One child per statement: the bytes must not depend on argument evaluation order.
      const auto recipient = fbb.CreateString(t.node_id);
      const auto fingerprint = fbb.CreateVector(fp.data(), fp.size());
      const auto sealed_vec = fbb.CreateVector(out.data(), out.size());
      const auto kw = schema::CreateKeyWrap(fbb, recipient, fingerprint, sealed_vec);
      wraps.push_back(schema::CreateForwardWrap(fbb, index, kw));
    }
  }
  const auto forward_id_vec = fbb.CreateVector(forward_id.data(), forward_id.size());
  const auto report_id_vec = fbb.CreateVector(dec.report_id.data(), dec.report_id.size());
  const auto forwarder = fbb.CreateString(in.forwarder);
  const auto forwarder_nation = fbb.CreateString(in.forwarder_nation);
  const auto target_nation = fbb.CreateString(in.target_nation);
  const auto portions_vec = fbb.CreateVector(portions);
  const auto wraps_vec = fbb.CreateVector(wraps);
  const auto grant = schema::CreateForwardGrant(fbb, kForwardVersion, forward_id_vec, report_id_vec,
                                                forwarder, forwarder_nation, target_nation,
                                                in.created_unix, portions_vec, wraps_vec);
  fbb.Finish(grant, kGrantIdentifier);
  const std::span<const std::uint8_t> grant_bytes(fbb.GetBufferPointer(), fbb.GetSize());
  const auto msg = GrantMessage(grant_bytes);
  std::array<std::uint8_t, crypto_sign_BYTES> sig{};
  crypto_sign_detached(sig.data(), nullptr, msg.data(), msg.size(), sign_sk.data());
  TEARLINE_ASSIGN_OR_RETURN(auto report, SelectPortions(copy, portions));
  SealedForward out;
  out.forward_id = forward_id;
  out.bytes = ToVector(BuildForward(report, grant_bytes, sig));
  return out;
}

Result<ForwardParties> PeekForward(std::span<const std::uint8_t> forward) {
  TEARLINE_ASSIGN_OR_RETURN(DecodedForward f, DecodeForward(forward));
  TEARLINE_ASSIGN_OR_RETURN(std::string originator, PeekOriginator(f.report));
  return ForwardParties{std::move(originator), f.info.forwarder};
}

Result<ForwardView> InspectForward(std::span<const std::uint8_t> forward,
                                   std::span<const std::uint8_t> originator_sign_pk,
                                   std::span<const std::uint8_t> forwarder_sign_pk) {
  TEARLINE_ASSIGN_OR_RETURN(DecodedForward f, DecodeForward(forward));
  TEARLINE_ASSIGN_OR_RETURN(ReportView report,
                            VerifyForward(f, originator_sign_pk, forwarder_sign_pk));
  for (PortionView& p : report.portions) {
    p.recipients.clear();
    p.fingerprints.clear();
    for (const schema::ForwardWrap* w : *f.grant->wraps()) {
      if (w->index() != p.index) continue;
      p.recipients.emplace_back(ei::View(w->wrap()->recipient()));
      KeyFingerprint fp{};
      const auto src = ei::Bytes(w->wrap()->key_fingerprint());
      std::copy(src.begin(), src.end(), fp.begin());
      p.fingerprints.push_back(fp);
    }
  }
  ForwardView view;
  static_cast<ForwardInfo&>(view) = f.info;
  view.report = std::move(report);
  view.forward_bytes = forward.size();
  return view;
}

Result<std::vector<std::uint8_t>> SelectForwardPortions(std::span<const std::uint8_t> forward,
                                                        std::span<const std::uint32_t> indices) {
  TEARLINE_ASSIGN_OR_RETURN(DecodedForward f, DecodeForward(forward));
  TEARLINE_ASSIGN_OR_RETURN(auto report, SelectPortions(f.report, indices));
  return ToVector(BuildForward(report, f.grant_bytes, f.signature));
}

Result<OpenedForward> OpenForward(std::span<const std::uint8_t> forward,
                                  const RecipientIdentity& me,
                                  std::span<const std::uint8_t> originator_sign_pk,
                                  std::span<const std::uint8_t> forwarder_sign_pk,
                                  const Policy& policy, std::int64_t now_unix) {
  TEARLINE_ASSIGN_OR_RETURN(DecodedForward f, DecodeForward(forward));
  TEARLINE_RETURN_IF_ERROR(VerifyForward(f, originator_sign_pk, forwarder_sign_pk).status());
  const std::vector<ei::GrantedKey> keys = GrantedKeys(f);
  TEARLINE_ASSIGN_OR_RETURN(OpenedReport report, ei::OpenWithKeys(f.report, me, originator_sign_pk,
                                                                  policy, now_unix, &keys));
  OpenedForward out;
  static_cast<ForwardInfo&>(out) = f.info;
  out.report = std::move(report);
  return out;
}

}  // namespace tearline
