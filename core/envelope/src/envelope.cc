#include "tearline/envelope/envelope.h"

#include <sodium.h>

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "envelope_codec.h"
#include "tearline/labels/release.h"
#include "tearline/labels/release_plan.h"
#include "tearline/schemas/envelope_generated.h"

namespace tearline {

using envelope_internal::Bytes;
using envelope_internal::DecodedReport;
using envelope_internal::View;

namespace {

static_assert(kSignPublicKeyBytes == crypto_sign_PUBLICKEYBYTES);
static_assert(kSignSecretKeyBytes == crypto_sign_SECRETKEYBYTES);
static_assert(kEncPublicKeyBytes == crypto_box_PUBLICKEYBYTES);
static_assert(kEncSecretKeyBytes == crypto_box_SECRETKEYBYTES);
static_assert(envelope_internal::kSealedKeyBytes ==
              envelope_internal::kContentKeyBytes + crypto_box_SEALBYTES);
static_assert(envelope_internal::kContentKeyBytes == crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
static_assert(envelope_internal::kNonceBytes == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
static_assert(envelope_internal::kAeadTagBytes == crypto_aead_xchacha20poly1305_ietf_ABYTES);

Status BadInput(std::string message) {
  return InvalidArgument("ENVELOPE_BAD_INPUT", std::move(message));
}

std::string PortionWhere(std::size_t index) { return "portion " + std::to_string(index); }

struct PreparedPortion {
  Label label;
  std::string marking;                  // Canonical portion form.
  std::vector<std::size_t> recipients;  // Indices into SealInput::recipients.
};

Status ValidateSealInput(const SealInput& in, const SecretBytes& sign_sk, const Policy& policy) {
  using envelope_internal::IsValidNationCode;
  using envelope_internal::IsValidNodeId;
  if (sign_sk.size() != crypto_sign_SECRETKEYBYTES) {
    return InvalidArgument("ENVELOPE_BAD_KEY", "signing secret key is not 64 bytes");
  }
  if (!IsValidNodeId(in.originator)) {
    return BadInput("originator node id '" + in.originator + "' is invalid");
  }
  if (!IsValidNationCode(in.originator_nation) || !policy.IsNation(in.originator_nation)) {
    return BadInput("originator nation '" + in.originator_nation + "' is not in the policy");
  }
  if (in.created_unix > in.expires_unix) return BadInput("report expires before it is created");
  if (in.portions.empty() || in.portions.size() > kMaxPortions) {
    return BadInput("a report needs 1 to " + std::to_string(kMaxPortions) + " portions, not " +
                    std::to_string(in.portions.size()));
  }
  if (in.recipients.size() > kMaxRecipientsPerPortion) {
    return BadInput("more than " + std::to_string(kMaxRecipientsPerPortion) + " recipients");
  }
  std::set<std::string_view> ids;
  for (const SealRecipient& r : in.recipients) {
    if (!IsValidNodeId(r.node_id))
      return BadInput("recipient node id '" + r.node_id + "' is invalid");
    if (!ids.insert(r.node_id).second) {
      return BadInput("recipient '" + r.node_id + "' is listed twice");
    }
    if (!IsValidNationCode(r.nation) || !policy.IsNation(r.nation)) {
      return BadInput("recipient '" + r.node_id + "': nation '" + r.nation +
                      "' is not in the policy");
    }
  }
  if (in.intended_nations.size() > kMaxIntendedNations)
    return BadInput("too many intended nations");
  for (const std::string& n : in.intended_nations) {
    if (!IsValidNationCode(n) || !policy.IsNation(n)) {
      return BadInput("intended nation '" + n + "' is not in the policy");
    }
  }
  return Status::Ok();
}

Status ValidateProvenance(const PortionProvenance& prov, const std::string& where) {
  if (prov.sources.size() > kMaxSourcesPerPortion) {
    return BadInput(where + ": more than " + std::to_string(kMaxSourcesPerPortion) + " sources");
  }
  for (const ProvenanceSource& src : prov.sources) {
    if (!envelope_internal::IsValidNationCode(src.nation)) {
      return BadInput(where + ": source nation '" + src.nation + "' is invalid");
    }
  }
  if (!prov.override_reason.empty() &&
      (prov.override_reason.size() > kMaxOverrideReasonBytes ||
       !envelope_internal::IsValidLabelText(prov.override_reason))) {
    return BadInput(where + ": override reason must be 1 to " +
                    std::to_string(kMaxOverrideReasonBytes) + " printable ASCII characters");
  }
  return Status::Ok();
}

Result<std::vector<PreparedPortion>> PreparePortions(const SealInput& in, const Policy& policy) {
  std::vector<Recipient> who;
  who.reserve(in.recipients.size());
  for (const SealRecipient& rec : in.recipients) {
    who.push_back(Recipient{rec.nation, rec.clearance, in.originator_nation});
  }
  std::vector<PreparedPortion> out;
  out.reserve(in.portions.size());
  for (std::size_t i = 0; i < in.portions.size(); ++i) {
    const SealPortion& portion = in.portions[i];
    const std::string where = PortionWhere(i);
    auto label = ParseLabel(portion.marking, policy);
    if (!label.ok()) return label.status().WithContext(where);
    PreparedPortion p;
    p.label = std::move(label).value();
    p.marking = FormatPortion(p.label, policy);
    if (!envelope_internal::IsValidLabelText(p.marking)) {
      return InvalidArgument("ENVELOPE_LABEL_TOO_LONG",
                             where + ": marking exceeds " + std::to_string(kMaxLabelBytes) +
                                 " bytes or has non-printable characters");
    }
    if (portion.plaintext.empty()) {
      return InvalidArgument("ENVELOPE_EMPTY_PORTION", where + ": content is empty");
    }
    if (!in.provenance.empty()) {
      if (in.provenance.size() != in.portions.size()) {
        return BadInput("provenance is given for " + std::to_string(in.provenance.size()) +
                        " portions, not " + std::to_string(in.portions.size()));
      }
      if (Status s = ValidateProvenance(in.provenance[i], where); !s.ok()) return s;
    }
    // Planned one portion at a time so that a portion's own faults are reported before the
    // release rules' verdict on it, as callers have always seen them.
    const ReleasePlan plan = PlanRelease(std::span<const Label>(&p.label, 1), who, policy);
    // The verdict on this portion for recipient r: nullptr when released.
    auto withheld = [&](std::size_t r) -> const WithheldPortion* {
      const auto& w = plan.recipients[r].withheld;
      return w.empty() ? nullptr : &w.front();
    };
    auto undecidable = [&](std::size_t r, const WithheldPortion& w) {
      return w.error.WithContext(where + ": recipient " + in.recipients[r].node_id);
    };
    if (portion.recipients.has_value()) {
      std::set<std::size_t> chosen;
      for (const std::string& node : *portion.recipients) {
        auto it = std::find_if(in.recipients.begin(), in.recipients.end(),
                               [&](const SealRecipient& r) { return r.node_id == node; });
        if (it == in.recipients.end()) {
          return InvalidArgument("ENVELOPE_UNKNOWN_RECIPIENT",
                                 where + ": recipient " + node + " is not among the recipients");
        }
        const auto r = static_cast<std::size_t>(it - in.recipients.begin());
        if (const WithheldPortion* w = withheld(r); w != nullptr) {
          if (!w->error.ok()) return undecidable(r, *w);
          return PermissionDenied("ENVELOPE_RELEASE_DENIED",
                                  where + " " + p.marking + ": recipient " + node + " (" +
                                      it->nation + "): " + std::string(DenyReasonName(w->reason)) +
                                      ": " + w->explanation);
        }
        chosen.insert(r);
      }
      p.recipients.assign(chosen.begin(), chosen.end());
    } else {
      for (std::size_t r = 0; r < in.recipients.size(); ++r) {
        if (const WithheldPortion* w = withheld(r); w != nullptr) {
          if (!w->error.ok()) return undecidable(r, *w);
          continue;
        }
        p.recipients.push_back(r);
      }
    }
    out.push_back(std::move(p));
  }
  return out;
}

// Builds one PortionBody FlatBuffer: fresh content key, nonce and salt; AEAD with the portion
// AD; one crypto_box_seal wrap per recipient.
// Returned as the builder's own buffer: large bodies are not copied once more.
Result<flatbuffers::DetachedBuffer> BuildBody(const SealInput& in, const ReportId& report_id,
                                              std::uint32_t index, const PreparedPortion& p) {
  namespace ei = envelope_internal;
  RandomSource& random = in.random != nullptr ? *in.random : OsRandom();
  TEARLINE_ASSIGN_OR_RETURN(SecretBytes key, SecretBytes::Allocate(ei::kContentKeyBytes));
  random.Fill({key.data(), key.size()});
  std::array<std::uint8_t, ei::kNonceBytes> nonce{};
  std::array<std::uint8_t, ei::kSaltBytes> salt{};
  random.Fill(nonce);
  random.Fill(salt);

  const auto& plaintext = in.portions[index].plaintext;
  const std::vector<std::uint8_t> ad = ei::PortionAd(report_id, in.originator, index, p.marking);

  flatbuffers::FlatBufferBuilder fbb(plaintext.size() + 1024 + p.recipients.size() * 160);
  std::vector<flatbuffers::Offset<schema::KeyWrap>> wraps;
  wraps.reserve(p.recipients.size());
  for (std::size_t r : p.recipients) {
    const SealRecipient& rec = in.recipients[r];
    std::array<std::uint8_t, ei::kSealedKeyBytes> sealed{};
    if (!ei::SealKey(random, key.span(), rec.enc_public_key, sealed)) {
      return InvalidArgument("ENVELOPE_BAD_KEY", PortionWhere(index) + ": recipient " +
                                                     rec.node_id + ": encryption key rejected");
    }
    const KeyFingerprint fp = EncKeyFingerprint(rec.enc_public_key);
    // One child per statement: argument evaluation order is unspecified, and the same input
    // (a seeded RandomSource) must give the same bytes whichever compiler built this.
    const auto recipient = fbb.CreateString(rec.node_id);
    const auto fingerprint = fbb.CreateVector(fp.data(), fp.size());
    const auto sealed_vec = fbb.CreateVector(sealed.data(), sealed.size());
    wraps.push_back(schema::CreateKeyWrap(fbb, recipient, fingerprint, sealed_vec));
  }
  const auto wraps_vec = fbb.CreateVector(wraps);

  // Encrypt straight into the builder to avoid a second copy of large content.
  std::uint8_t* ct = nullptr;
  const std::size_t ct_len = plaintext.size() + ei::kAeadTagBytes;
  const auto ct_vec = fbb.CreateUninitializedVector(ct_len, 1, &ct);
  unsigned long long written = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &written, plaintext.data(), plaintext.size(),
                                             ad.data(), ad.size(), nullptr, nonce.data(),
                                             key.data());
  const auto label_str = fbb.CreateString(p.marking);
  const auto salt_vec = fbb.CreateVector(salt.data(), salt.size());
  const auto nonce_vec = fbb.CreateVector(nonce.data(), nonce.size());
  // Provenance fields are written only when present, so a portion that is not derived has the
  // same bytes as before provenance existed.
  static const PortionProvenance kNone;
  const PortionProvenance& prov = in.provenance.empty() ? kNone : in.provenance[index];
  flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<schema::PortionSource>>> sources_vec;
  if (!prov.sources.empty()) {
    std::vector<flatbuffers::Offset<schema::PortionSource>> sources;
    for (const ProvenanceSource& src : prov.sources) {
      const auto source_id = fbb.CreateVector(src.report_id.data(), src.report_id.size());
      const auto nation = fbb.CreateString(src.nation);
      sources.push_back(schema::CreatePortionSource(fbb, source_id, src.portion, nation));
    }
    sources_vec = fbb.CreateVector(sources);
  }
  flatbuffers::Offset<flatbuffers::String> override_str;
  if (!prov.override_reason.empty()) override_str = fbb.CreateString(prov.override_reason);
  schema::PortionBodyBuilder b(fbb);
  b.add_index(index);
  b.add_label(label_str);
  b.add_salt(salt_vec);
  b.add_nonce(nonce_vec);
  b.add_ciphertext(ct_vec);
  b.add_wraps(wraps_vec);
  if (!sources_vec.IsNull()) b.add_sources(sources_vec);
  if (!override_str.IsNull()) b.add_override_reason(override_str);
  fbb.Finish(b.Finish(), ei::kBodyIdentifier);
  return fbb.Release();
}

Status TooLarge(std::size_t size) {
  return Status(Code::kResourceExhausted, "ENVELOPE_TOO_LARGE",
                "sealed report would be " + std::to_string(size) + " bytes, above the limit of " +
                    std::to_string(kMaxReportBytes));
}

// Outer Report from exact header/signature bytes and body bytes. The nested vectors are forced
// to 8-byte alignment so a reader may use them in place.
std::vector<std::uint8_t> BuildReport(
    std::span<const std::uint8_t> header, std::span<const std::uint8_t> signature,
    const std::vector<std::pair<std::uint32_t, std::span<const std::uint8_t>>>& bodies) {
  std::size_t total = header.size() + signature.size() + 256;
  for (const auto& b : bodies) total += b.second.size() + 32;
  flatbuffers::FlatBufferBuilder fbb(total);
  std::vector<flatbuffers::Offset<schema::PortionEnvelope>> envs;
  envs.reserve(bodies.size());
  for (const auto& [index, bytes] : bodies) {
    fbb.ForceVectorAlignment(bytes.size(), 1, 8);
    const auto body = fbb.CreateVector(bytes.data(), bytes.size());
    envs.push_back(schema::CreatePortionEnvelope(fbb, index, body));
  }
  const auto envs_vec = fbb.CreateVector(envs);
  const auto sig_vec = fbb.CreateVector(signature.data(), signature.size());
  fbb.ForceVectorAlignment(header.size(), 1, 8);
  const auto hdr_vec = fbb.CreateVector(header.data(), header.size());
  fbb.Finish(schema::CreateReport(fbb, hdr_vec, sig_vec, envs_vec),
             envelope_internal::kReportIdentifier);
  return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
}

std::string DenyText(const ReleaseDecision& d) {
  return std::string(DenyReasonName(d.reason)) + ": " + d.explanation;
}

}  // namespace

std::string ReportIdHex(const ReportId& id) {
  std::array<char, kReportIdBytes * 2 + 1> hex{};
  sodium_bin2hex(hex.data(), hex.size(), id.data(), id.size());
  return std::string(hex.data(), kReportIdBytes * 2);
}

KeyFingerprint EncKeyFingerprint(std::span<const std::uint8_t, kEncPublicKeyBytes> enc_pk) {
  const Digest d = envelope_internal::Sha256(enc_pk);
  KeyFingerprint fp{};
  std::copy_n(d.begin(), fp.size(), fp.begin());
  return fp;
}

Result<SealedReport> Seal(const SealInput& input, const SecretBytes& sign_sk,
                          const Policy& policy) {
  namespace ei = envelope_internal;
  TEARLINE_RETURN_IF_ERROR(InitCrypto());
  TEARLINE_RETURN_IF_ERROR(ValidateSealInput(input, sign_sk, policy));
  TEARLINE_ASSIGN_OR_RETURN(std::vector<PreparedPortion> prepared, PreparePortions(input, policy));

  SealedReport out;
  if (input.report_id.has_value()) {
    out.report_id = *input.report_id;
  } else {
    (input.random != nullptr ? *input.random : OsRandom()).Fill(out.report_id);
  }

  std::size_t plaintext_total = 0;
  for (const SealPortion& p : input.portions) plaintext_total += p.plaintext.size();
  if (plaintext_total > kMaxReportBytes) return TooLarge(plaintext_total);

  std::vector<flatbuffers::DetachedBuffer> bodies;
  std::vector<schema::Digest256> commitments;
  bodies.reserve(prepared.size());
  for (std::size_t i = 0; i < prepared.size(); ++i) {
    const auto index = static_cast<std::uint32_t>(i);
    TEARLINE_ASSIGN_OR_RETURN(flatbuffers::DetachedBuffer body,
                              BuildBody(input, out.report_id, index, prepared[i]));
    const Digest c = ei::CommitmentOf({body.data(), body.size()});
    commitments.emplace_back(flatbuffers::span<const std::uint8_t, 32>(c.data(), c.size()));
    bodies.push_back(std::move(body));
  }

  // Header.
  flatbuffers::FlatBufferBuilder hb(1024);
  std::vector<flatbuffers::Offset<flatbuffers::String>> nations;
  for (const std::string& n : input.intended_nations) nations.push_back(hb.CreateString(n));
  const auto nations_vec = hb.CreateVector(nations);
  const auto commit_vec = hb.CreateVectorOfStructs(commitments.data(), commitments.size());
  const auto origin_nat = hb.CreateString(input.originator_nation);
  const auto origin = hb.CreateString(input.originator);
  const auto id_vec = hb.CreateVector(out.report_id.data(), out.report_id.size());
  schema::ReportHeaderBuilder h(hb);
  h.add_version(kEnvelopeVersion);
  h.add_report_id(id_vec);
  h.add_originator(origin);
  h.add_originator_nation(origin_nat);
  h.add_created_unix(input.created_unix);
  h.add_expires_unix(input.expires_unix);
  h.add_portion_count(static_cast<std::uint32_t>(prepared.size()));
  h.add_commitments(commit_vec);
  h.add_intended_nations(nations_vec);
  hb.Finish(h.Finish(), ei::kHeaderIdentifier);
  const std::span<const std::uint8_t> header(hb.GetBufferPointer(), hb.GetSize());

  // Signature over exactly the header bytes that travel.
  std::array<std::uint8_t, ei::kSignatureBytes> sig{};
  const std::vector<std::uint8_t> msg = ei::SignatureMessage(header);
  if (crypto_sign_detached(sig.data(), nullptr, msg.data(), msg.size(), sign_sk.data()) != 0) {
    return Internal("ENVELOPE_SIGN_FAILED", "Ed25519 signing failed");
  }

  std::vector<std::pair<std::uint32_t, std::span<const std::uint8_t>>> refs;
  for (std::size_t i = 0; i < bodies.size(); ++i) {
    refs.emplace_back(static_cast<std::uint32_t>(i),
                      std::span<const std::uint8_t>(bodies[i].data(), bodies[i].size()));
  }
  out.bytes = BuildReport(header, sig, refs);
  if (out.bytes.size() > kMaxReportBytes) return TooLarge(out.bytes.size());

  std::vector<Label> labels;
  for (const PreparedPortion& p : prepared) {
    labels.push_back(p.label);
    out.portion_labels.push_back(p.marking);
  }
  TEARLINE_ASSIGN_OR_RETURN(Label banner, Rollup(labels, policy));
  out.banner = FormatBanner(banner, policy);
  for (std::size_t r = 0; r < input.recipients.size(); ++r) {
    RecipientPortions rp{input.recipients[r].node_id, {}};
    for (std::size_t i = 0; i < prepared.size(); ++i) {
      const auto& rs = prepared[i].recipients;
      if (std::find(rs.begin(), rs.end(), r) != rs.end()) {
        rp.portions.push_back(static_cast<std::uint32_t>(i));
      }
    }
    out.recipients.push_back(std::move(rp));
  }
  return out;
}

Result<OpenedReport> Open(std::span<const std::uint8_t> report, const RecipientIdentity& me,
                          std::span<const std::uint8_t> originator_sign_pk, const Policy& policy,
                          std::int64_t now_unix) {
  return envelope_internal::OpenWithKeys(report, me, originator_sign_pk, policy, now_unix, nullptr);
}

Result<OpenedReport> envelope_internal::OpenWithKeys(
    std::span<const std::uint8_t> report, const RecipientIdentity& me,
    std::span<const std::uint8_t> originator_sign_pk, const Policy& policy, std::int64_t now_unix,
    const std::vector<GrantedKey>* granted) {
  namespace ei = envelope_internal;
  TEARLINE_RETURN_IF_ERROR(InitCrypto());
  if (me.enc_secret_key.size() != crypto_box_SECRETKEYBYTES) {
    return InvalidArgument("ENVELOPE_BAD_KEY", "recipient encryption secret key is not 32 bytes");
  }
  // Whether enc_secret_key matches enc_public_key is not re-derived here (a scalar
  // multiplication per report): key loading guarantees it, and a mismatch surfaces as
  // ENVELOPE_DECRYPT_FAILED below.
  TEARLINE_ASSIGN_OR_RETURN(DecodedReport dec, ei::DecodeHeader(report));
  TEARLINE_RETURN_IF_ERROR(ei::VerifySignature(dec, originator_sign_pk));
  if (now_unix > dec.expires_unix) {
    return Status(Code::kExpired, "ENVELOPE_EXPIRED",
                  "report " + ReportIdHex(dec.report_id) + " expired at " +
                      std::to_string(dec.expires_unix) + " (now " + std::to_string(now_unix) + ")");
  }
  if (dec.created_unix > now_unix && dec.created_unix - now_unix > kMaxClockSkewSeconds) {
    return Status(Code::kExpired, "ENVELOPE_NOT_YET_VALID",
                  "report " + ReportIdHex(dec.report_id) + " is dated in the future (" +
                      std::to_string(dec.created_unix) + ", now " + std::to_string(now_unix) + ")");
  }
  TEARLINE_RETURN_IF_ERROR(ei::DecodePortions(dec));

  OpenedReport out;
  static_cast<ReportHeaderInfo&>(out) = dec;

  const KeyFingerprint my_fp = EncKeyFingerprint(me.enc_public_key);
  const Recipient who{me.nation, me.clearance, dec.originator_nation};
  std::vector<Label> labels;
  for (const ei::DecodedPortion& p : dec.portions) {
    const schema::PortionBody& body = *p.body;
    const std::string where = PortionWhere(p.index);
    std::optional<ei::GrantedKey> mine;
    if (granted != nullptr) {
      for (const ei::GrantedKey& g : *granted) {
        if (g.index == p.index && g.recipient == me.node_id) mine = g;
      }
    } else if (body.wraps() != nullptr) {
      for (const schema::KeyWrap* w : *body.wraps()) {
        if (View(w->recipient()) == me.node_id) {
          mine = ei::GrantedKey{p.index, View(w->recipient()), Bytes(w->key_fingerprint()),
                                Bytes(w->sealed_key())};
        }
      }
    }
    if (!mine) {
      out.not_addressed.push_back(p.index);
      continue;
    }
    if (mine->fingerprint.size() != my_fp.size() ||
        sodium_memcmp(mine->fingerprint.data(), my_fp.data(), my_fp.size()) != 0) {
      return Unauthenticated("ENVELOPE_KEY_MISMATCH",
                             where + ": wrapped for another encryption key of node " + me.node_id +
                                 " (key rotated or wrong key configured)");
    }
    const std::string_view label_text = View(body.label());
    auto label = ParseLabel(label_text, policy);
    if (!label.ok()) {
      return InvalidArgument("ENVELOPE_BAD_LABEL",
                             where + ": signed label '" + std::string(label_text) +
                                 "' does not parse: " + label.status().ToString());
    }
    // Defence in depth: the originator and broker both decided; the recipient checks again.
    auto decision = DecideRelease(*label, who, policy);
    if (!decision.ok()) return decision.status().WithContext(where);
    if (!decision->release) {
      return PermissionDenied("ENVELOPE_LABEL_NOT_RELEASABLE",
                              where + " " + std::string(label_text) + " is not releasable to " +
                                  me.nation + ": " + DenyText(*decision));
    }

    TEARLINE_ASSIGN_OR_RETURN(SecretBytes key, SecretBytes::Allocate(ei::kContentKeyBytes));
    const auto sealed = mine->sealed_key;
    if (sealed.size() != ei::kSealedKeyBytes ||
        crypto_box_seal_open(key.data(), sealed.data(), sealed.size(), me.enc_public_key.data(),
                             me.enc_secret_key.data()) != 0) {
      return Unauthenticated("ENVELOPE_DECRYPT_FAILED",
                             where +
                                 ": the content key cannot be unwrapped with this node's "
                                 "secret key (does it match the configured public key?)");
    }
    const auto ct = Bytes(body.ciphertext());
    const std::vector<std::uint8_t> ad =
        ei::PortionAd(dec.report_id, dec.originator, p.index, label_text);
    TEARLINE_ASSIGN_OR_RETURN(SecretBytes plain,
                              SecretBytes::Allocate(ct.size() - ei::kAeadTagBytes));
    unsigned long long plain_len = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(plain.data(), &plain_len, nullptr, ct.data(),
                                                   ct.size(), ad.data(), ad.size(),
                                                   Bytes(body.nonce()).data(), key.data()) != 0) {
      return Unauthenticated("ENVELOPE_DECRYPT_FAILED",
                             where +
                                 ": ciphertext does not authenticate under its label and "
                                 "report binding");
    }
    labels.push_back(*label);
    out.portions.push_back(OpenedPortion{p.index, std::string(label_text), std::move(label).value(),
                                         std::move(plain), ei::ReadProvenance(body)});
  }
  if (out.portions.empty()) {
    return PermissionDenied("ENVELOPE_NOT_A_RECIPIENT",
                            "no portion of report " + ReportIdHex(dec.report_id) +
                                " in this copy is addressed to node " + me.node_id);
  }
  TEARLINE_ASSIGN_OR_RETURN(Label banner, Rollup(labels, policy));
  out.banner = FormatBanner(banner, policy);
  return out;
}

Result<std::string> PeekOriginator(std::span<const std::uint8_t> report) {
  TEARLINE_ASSIGN_OR_RETURN(DecodedReport dec, envelope_internal::DecodeHeader(report));
  return dec.originator;
}

namespace {

// What a broker may see of a report whose signature and commitments were verified.
ReportView ViewOf(const DecodedReport& dec, std::span<const std::uint8_t> report) {
  ReportView v;
  static_cast<ReportHeaderInfo&>(v) = dec;
  v.report_bytes = report.size();
  for (const envelope_internal::DecodedPortion& p : dec.portions) {
    PortionView pv;
    pv.index = p.index;
    pv.label = std::string(View(p.body->label()));
    if (p.body->wraps() != nullptr) {
      for (const schema::KeyWrap* w : *p.body->wraps()) {
        pv.recipients.emplace_back(View(w->recipient()));
        KeyFingerprint fp{};
        const auto src = Bytes(w->key_fingerprint());
        std::copy(src.begin(), src.end(), fp.begin());
        pv.fingerprints.push_back(fp);
      }
    }
    const auto ct = Bytes(p.body->ciphertext());
    pv.ciphertext_bytes = ct.size();
    pv.ciphertext_digest = envelope_internal::Sha256(ct);
    // DecodeVerified matched this body against the signed commitment: copy it, do not hash
    // the body a second time.
    const auto* signed_commitment = dec.header->commitments()->Get(p.index)->bytes();
    std::copy(signed_commitment->begin(), signed_commitment->end(), pv.commitment.begin());
    pv.body_bytes = p.body_bytes.size();
    pv.provenance = envelope_internal::ReadProvenance(*p.body);
    v.portions.push_back(std::move(pv));
  }
  return v;
}

}  // namespace

Result<ReportView> InspectReport(std::span<const std::uint8_t> report,
                                 std::span<const std::uint8_t> originator_sign_pk) {
  TEARLINE_ASSIGN_OR_RETURN(DecodedReport dec,
                            envelope_internal::DecodeVerified(report, originator_sign_pk));
  return ViewOf(dec, report);
}

Result<ReportView> InspectReport(std::span<const std::uint8_t> report,
                                 const OriginatorKeyLookup& key_for) {
  TEARLINE_ASSIGN_OR_RETURN(DecodedReport dec, envelope_internal::DecodeHeader(report));
  auto key = key_for(dec.originator);
  if (!key.ok()) return key.status();
  TEARLINE_RETURN_IF_ERROR(envelope_internal::VerifySignature(dec, *key));
  TEARLINE_RETURN_IF_ERROR(envelope_internal::DecodePortions(dec));
  return ViewOf(dec, report);
}

Result<std::vector<std::uint8_t>> SelectPortions(std::span<const std::uint8_t> report,
                                                 std::span<const std::uint32_t> indices) {
  if (indices.empty()) {
    return InvalidArgument("ENVELOPE_EMPTY_SELECTION", "no portion selected for delivery");
  }
  TEARLINE_ASSIGN_OR_RETURN(DecodedReport dec, envelope_internal::DecodeOuter(report));
  const std::set<std::uint32_t> wanted(indices.begin(), indices.end());
  std::set<std::uint32_t> found;
  std::vector<std::pair<std::uint32_t, std::span<const std::uint8_t>>> keep;
  for (const schema::PortionEnvelope* env : *dec.report->portions()) {
    if (wanted.contains(env->index()) && found.insert(env->index()).second) {
      keep.emplace_back(env->index(), Bytes(env->body()));
    }
  }
  for (std::uint32_t i : wanted) {
    if (!found.contains(i)) {
      return NotFound("ENVELOPE_NO_SUCH_PORTION",
                      "portion " + std::to_string(i) + " is not present in this report");
    }
  }
  return BuildReport(dec.header_bytes, dec.signature, keep);
}

}  // namespace tearline
