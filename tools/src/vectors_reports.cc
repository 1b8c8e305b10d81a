// sealed_reports/: reports sealed by the fixed coalition with a seeded RandomSource, the result of
// opening each as every node, and one negative vector per verification step of Open.
#include <sodium.h>

#include <algorithm>
#include <string>
#include <utility>

#include "tearline/crypto/random_source.h"
#include "tearline/envelope/envelope.h"
#include "tearline/labels/label.h"
#include "tearline/labels/release.h"
#include "vectors_common.h"
#include "vectors_report_parts.h"

namespace tearline::tools::vectors {
namespace {

constexpr std::int64_t kCreated = kNow - 3600;
constexpr std::int64_t kExpires = kNow + 86400;

Status Mismatch(const std::string& what, const std::string& got) {
  return Internal("VECTORS_GENERATE", what + ": expected outcome not produced (got " + got + ")");
}

// What a recipient identity in a vector is, as Open takes it.
struct Opener {
  std::string node_id;
  std::string nation;
  std::optional<int> clearance;
  std::array<std::uint8_t, kEncPublicKeyBytes> enc_pk{};
  const SecretBytes* enc_sk = nullptr;
  Json json;
};

Opener OpenerOf(const Identity& id, const Policy& policy) {
  return {id.name,
          id.nation,
          policy.FindLevel(id.clearance),
          id.encryption->public_key,
          &id.encryption->secret_key,
          RecipientJson(id, policy)};
}

Result<OpenedReport> OpenAs(const Bytes& report, const Opener& o, const PublicKey& originator,
                            const Policy& policy, std::int64_t at) {
  return Open(report, RecipientIdentity{o.node_id, o.nation, o.clearance, o.enc_pk, *o.enc_sk},
              originator, policy, at);
}

// The expected result of opening `report` as `o`: the portions that open (with their content),
// those present but not addressed, or the refusal's reason.
Json Opening(const Bytes& report, const Opener& o, const PublicKey& originator,
             const Policy& policy) {
  Json j = {{"recipient", o.json}};
  auto opened = OpenAs(report, o, originator, policy, kNow);
  if (!opened.ok()) {
    j["expect"] = opened.status().reason();
    return j;
  }
  j["expect"] = "OK";
  j["banner"] = opened->banner;
  Json portions = Json::array();
  for (const OpenedPortion& p : opened->portions) {
    portions.push_back(
        {{"index", p.index}, {"label", p.label}, {"plaintext_hex", Hex(p.plaintext.span())}});
  }
  j["portions"] = portions;
  j["not_addressed"] = opened->not_addressed;
  return j;
}

struct Sealed {
  Bytes bytes;
  SealedReport report;
  Json input;
};

// Seals `in` for usa-1 with the RandomSource seeded from `name`, and describes the input.
Result<Sealed> SealNamed(const Coalition& c, const std::string& name, SealInput in) {
  const Identity& usa = c.Member("usa-1");
  const auto seed = Seed(name, "random");
  SeededRandom random(seed);
  in.random = &random;
  TEARLINE_ASSIGN_OR_RETURN(SealedReport sealed, Seal(in, usa.signing.secret_key, c.policy));
  Json portions = Json::array();
  for (const SealPortion& p : in.portions) {
    Json pj = {{"marking", p.marking}, {"plaintext_hex", Hex(p.plaintext)}};
    if (p.recipients) pj["recipients"] = *p.recipients;
    portions.push_back(std::move(pj));
  }
  Json recipients = Json::array();
  for (const SealRecipient& r : in.recipients) recipients.push_back(r.node_id);
  Json input = {{"originator", in.originator},
                {"originator_nation", in.originator_nation},
                {"created_unix", in.created_unix},
                {"expires_unix", in.expires_unix},
                {"intended_nations", in.intended_nations},
                {"recipients", recipients},
                {"portions", portions},
                {"random_seed_hex", Hex(seed)}};
  Bytes bytes = sealed.bytes;
  return Sealed{std::move(bytes), std::move(sealed), std::move(input)};
}

SealRecipient RecipientOf(const Identity& id, const Policy& policy) {
  return {id.name, id.nation, policy.FindLevel(id.clearance), id.encryption->public_key};
}

// Why the sender wrapped no key for a recipient: DecideRelease's verdict on the signed label
// (a denial and its reason, or a release when the sender chose explicit recipients).
Result<Json> Withheld(const Coalition& c, const SealedReport& sealed,
                      const std::string& originator_nation, const std::vector<std::string>& nodes) {
  Json out = Json::array();
  for (const std::string& node : nodes) {
    const Identity& id = c.Member(node);
    const auto rp = std::find_if(sealed.recipients.begin(), sealed.recipients.end(),
                                 [&](const RecipientPortions& r) { return r.node_id == node; });
    for (std::uint32_t i = 0; i < sealed.portion_labels.size(); ++i) {
      if (rp != sealed.recipients.end() &&
          std::find(rp->portions.begin(), rp->portions.end(), i) != rp->portions.end()) {
        continue;
      }
      TEARLINE_ASSIGN_OR_RETURN(Label label, ParseLabel(sealed.portion_labels[i], c.policy));
      TEARLINE_ASSIGN_OR_RETURN(
          ReleaseDecision d,
          DecideRelease(label,
                        Recipient{id.nation, c.policy.FindLevel(id.clearance), originator_nation},
                        c.policy));
      // Released by the policy yet not wrapped: the sender named other recipients.
      out.push_back({{"node_id", node},
                     {"index", i},
                     {"label", sealed.portion_labels[i]},
                     {"released_by_policy", d.release},
                     {"reason", std::string(DenyReasonName(d.reason))}});
    }
  }
  return out;
}

Status EmitSealed(const Coalition& c, const Emit& emit, const std::string& name,
                  const std::string& description, const Sealed& s, const Bytes& copy) {
  const Identity& usa = c.Member("usa-1");
  Json openings = Json::array();
  for (const char* node : {"usa-1", "gbr-1", "jpn-1"}) {
    openings.push_back(
        Opening(copy, OpenerOf(c.Member(node), c.policy), usa.signing.public_key, c.policy));
  }
  TEARLINE_ASSIGN_OR_RETURN(
      Json withheld,
      Withheld(c, s.report, s.input["originator_nation"].get<std::string>(), {"gbr-1", "jpn-1"}));
  Json j = {{"kind", "sealed_report"},
            {"description", description},
            {"policy", "coalition/policy.json"},
            {"originator_sign_public_key_hex", Hex(usa.signing.public_key)},
            {"input", s.input},
            {"report_id_hex", Hex(s.report.report_id)},
            {"banner", s.report.banner},
            {"portion_labels", s.report.portion_labels},
            {"withheld_by_sender", withheld},
            {"report_hex", Hex(copy)},
            {"open_at", kNow},
            {"openings", openings}};
  emit("sealed_reports/" + name + ".json", std::move(j));
  return Status::Ok();
}

struct Rejection {
  std::string name;
  std::string description;
  std::string step;  // The verification step, as docs/PROTOCOL.md names it.
  Bytes report;
  Opener opener;
  Bytes originator_key;
  std::int64_t at = kNow;
  std::string expect;
};

Status EmitRejection(const Coalition& c, const Emit& emit, const Rejection& r) {
  auto opened = Open(r.report,
                     RecipientIdentity{r.opener.node_id, r.opener.nation, r.opener.clearance,
                                       r.opener.enc_pk, *r.opener.enc_sk},
                     r.originator_key, c.policy, r.at);
  const std::string got = opened.ok() ? "OK" : opened.status().reason();
  if (got != r.expect) return Mismatch(r.name, opened.ok() ? got : opened.status().ToString());
  Json j = {{"kind", "report_rejection"},
            {"description", r.description},
            {"step", r.step},
            {"policy", "coalition/policy.json"},
            {"report_hex", Hex(r.report)},
            {"originator_sign_public_key_hex", Hex(r.originator_key)},
            {"recipient", r.opener.json},
            {"open_at", r.at},
            {"expect", r.expect}};
  emit("sealed_reports/reject_" + r.name + ".json", std::move(j));
  return Status::Ok();
}

Bytes FlipByteAt(Bytes b, std::size_t at) {
  b.at(at) ^= 0x01;
  return b;
}

// Offset of `needle` inside `hay` (the generator only looks for bytes it knows are there).
std::size_t Find(const Bytes& hay, const Bytes& needle) {
  const auto it = std::search(hay.begin(), hay.end(), needle.begin(), needle.end());
  return static_cast<std::size_t>(it - hay.begin());
}

Status Rejections(const Coalition& c, const Emit& emit, const Sealed& base) {
  const Identity& usa = c.Member("usa-1");
  const Identity& gbr = c.Member("gbr-1");
  const Identity& jpn = c.Member("jpn-1");
  const Bytes usa_pk(usa.signing.public_key.begin(), usa.signing.public_key.end());
  const Opener gbr_opener = OpenerOf(gbr, c.policy);
  auto rejection = [&](std::string name, std::string description, std::string step, Bytes report,
                       std::string expect) {
    return Rejection{std::move(name),
                     std::move(description),
                     std::move(step),
                     std::move(report),
                     gbr_opener,
                     usa_pk,
                     kNow,
                     std::move(expect)};
  };
  const ReportParts parts = SplitReport(base.bytes);
  std::vector<Rejection> all;

  all.push_back(rejection("truncated", "the first 40 bytes of the report", "structure",
                          Bytes(base.bytes.begin(), base.bytes.begin() + 40),
                          "ENVELOPE_MALFORMED"));
  {
    HeaderParts h = ReadHeader(parts.header);
    h.version = 2;
    ReportParts p = parts;
    p.header = WriteHeader(h);
    TEARLINE_RETURN_IF_ERROR(ResignHeader(p, usa.signing));
    all.push_back(rejection("version", "a header of version 2, correctly signed", "version",
                            JoinReport(p), "ENVELOPE_VERSION"));
  }
  {
    ReportParts p = parts;
    p.signature[0] ^= 0x01;
    all.push_back(rejection("bad_signature", "one bit of the header signature flipped", "signature",
                            JoinReport(p), "ENVELOPE_BAD_SIGNATURE"));
  }
  {
    HeaderParts h = ReadHeader(parts.header);
    h.expires += 86400;
    ReportParts p = parts;
    p.header = WriteHeader(h);
    all.push_back(rejection("tampered_header",
                            "expires_unix moved a day later after signing (signature kept)",
                            "signature", JoinReport(p), "ENVELOPE_BAD_SIGNATURE"));
  }
  {
    Rejection r = rejection("wrong_originator_key",
                            "verified under gbr-1's signing key instead of the originator's",
                            "signature", base.bytes, "ENVELOPE_BAD_SIGNATURE");
    r.originator_key.assign(gbr.signing.public_key.begin(), gbr.signing.public_key.end());
    all.push_back(std::move(r));
  }
  {
    Rejection r = rejection("short_originator_key", "an originator signing key of 31 bytes",
                            "signature", base.bytes, "ENVELOPE_BAD_KEY");
    r.originator_key.pop_back();
    all.push_back(std::move(r));
  }
  {
    Rejection r = rejection("expired", "opened one second after expires_unix", "validity window",
                            base.bytes, "ENVELOPE_EXPIRED");
    r.at = kExpires + 1;
    all.push_back(std::move(r));
  }
  {
    Rejection r =
        rejection("not_yet_valid", "opened more than the 300 s clock skew before created_unix",
                  "validity window", base.bytes, "ENVELOPE_NOT_YET_VALID");
    r.at = kCreated - kMaxClockSkewSeconds - 1;
    all.push_back(std::move(r));
  }
  {
    ReportParts p = parts;
    p.bodies.emplace_back(5, p.bodies.back().second);
    all.push_back(rejection("too_many_envelopes",
                            "six portion envelopes where the header declares five", "structure",
                            JoinReport(p), "ENVELOPE_MALFORMED"));
  }
  {
    ReportParts p = parts;
    p.bodies.back().first = 7;
    all.push_back(rejection("portion_index",
                            "the last envelope's index set to 7, beyond portion_count (5)",
                            "portion index", JoinReport(p), "ENVELOPE_PORTION_INDEX"));
  }
  {
    ReportParts p = parts;
    p.bodies[1] = p.bodies[0];
    all.push_back(rejection("duplicate_portion",
                            "the envelope of portion 0 in place of portion 1 (index 0 twice)",
                            "portion order", JoinReport(p), "ENVELOPE_DUPLICATE_PORTION"));
  }
  {
    ReportParts p = parts;
    BodyParts b = ReadBody(p.bodies[0].second);
    const std::size_t at = Find(p.bodies[0].second, b.ciphertext);
    p.bodies[0].second = FlipByteAt(p.bodies[0].second, at);
    all.push_back(rejection("tampered_body", "one ciphertext bit of portion 0 flipped",
                            "commitment", JoinReport(p), "ENVELOPE_COMMITMENT_MISMATCH"));
  }
  {
    ReportParts p = parts;
    std::swap(p.bodies[0].second, p.bodies[1].second);
    all.push_back(rejection("swapped_bodies",
                            "the bodies of portions 0 and 1 exchanged under their envelopes",
                            "commitment", JoinReport(p), "ENVELOPE_COMMITMENT_MISMATCH"));
  }
  {
    ReportParts p = parts;
    BodyParts b = ReadBody(p.bodies[0].second);
    b.index = 1;
    p.bodies[0].second = WriteBody(b);
    TEARLINE_RETURN_IF_ERROR(RecommitAndResign(p, usa.signing));
    all.push_back(rejection("body_index",
                            "portion 0's body claims index 1 (re-committed and re-signed)",
                            "body fields", JoinReport(p), "ENVELOPE_PORTION_INDEX"));
  }
  {
    Rejection r = rejection("key_mismatch",
                            "gbr-1 configured with another encryption public key than the one "
                            "its wraps name (fingerprint differs)",
                            "key fingerprint", base.bytes, "ENVELOPE_KEY_MISMATCH");
    r.opener.enc_pk = jpn.encryption->public_key;
    r.opener.json["enc_public_key_hex"] = Hex(jpn.encryption->public_key);
    all.push_back(std::move(r));
  }
  // Portion 0 signed again by the originator under another label (commitments recomputed).
  auto relabelled = [&](const std::string& label) -> Result<Bytes> {
    ReportParts p = parts;
    BodyParts b = ReadBody(p.bodies[0].second);
    b.label = label;
    p.bodies[0].second = WriteBody(b);
    TEARLINE_RETURN_IF_ERROR(RecommitAndResign(p, usa.signing));
    return JoinReport(p);
  };
  {
    TEARLINE_ASSIGN_OR_RETURN(Bytes report, relabelled("(S//REL TO USA, GBR"));
    all.push_back(rejection("bad_label",
                            "portion 0 signed with a label that does not parse (no closing "
                            "parenthesis)",
                            "label", std::move(report), "ENVELOPE_BAD_LABEL"));
  }
  {
    TEARLINE_ASSIGN_OR_RETURN(Bytes report, relabelled("(S//NF)"));
    all.push_back(rejection("label_not_releasable",
                            "portion 0 signed as (S//NF) yet wrapped for gbr-1: the recipient "
                            "decides release again",
                            "release", std::move(report), "ENVELOPE_LABEL_NOT_RELEASABLE"));
  }
  {
    TEARLINE_ASSIGN_OR_RETURN(Bytes report, relabelled("(S//REL TO USA, GBR)"));
    all.push_back(rejection("label_rebound",
                            "portion 0 re-signed under another releasable label: the AEAD "
                            "associated data binds the label",
                            "decrypt", std::move(report), "ENVELOPE_DECRYPT_FAILED"));
  }
  {
    Rejection r = rejection("wrong_secret_key",
                            "gbr-1's public key with jpn-1's secret key: the wrap does not open",
                            "unwrap", base.bytes, "ENVELOPE_DECRYPT_FAILED");
    r.opener.enc_sk = &jpn.encryption->secret_key;
    r.opener.json["enc_secret_key_hex"] = Hex(jpn.encryption->secret_key.span());
    all.push_back(std::move(r));
  }
  {
    Rejection r = rejection("not_a_recipient", "usa-1 opens a report with no wrap for it",
                            "recipient", base.bytes, "ENVELOPE_NOT_A_RECIPIENT");
    r.opener = OpenerOf(usa, c.policy);
    all.push_back(std::move(r));
  }
  for (const Rejection& r : all) TEARLINE_RETURN_IF_ERROR(EmitRejection(c, emit, r));
  return Status::Ok();
}

}  // namespace

Status SealedReportVectors(const Coalition& c, const Emit& emit) {
  const Identity& usa = c.Member("usa-1");
  SealInput in;
  in.originator = usa.name;
  in.originator_nation = usa.nation;
  in.created_unix = kCreated;
  in.expires_unix = kExpires;
  in.intended_nations = {"GBR", "JPN"};
  in.recipients = {RecipientOf(c.Member("gbr-1"), c.policy),
                   RecipientOf(c.Member("jpn-1"), c.policy)};
  in.portions.push_back({"CONFIDENTIAL//REL TO GBR, USA", BytesOf("alpha: for GBR"), std::nullopt});
  in.portions.push_back(
      {"(C//REL TO USA, GBR, JPN)", BytesOf("bravo: for GBR and JPN"), std::nullopt});
  in.portions.push_back({"(U)", BytesOf("charlie: unclassified"), std::nullopt});
  in.portions.push_back({"(S//NF)", BytesOf("delta: no foreign nationals"), std::nullopt});
  in.portions.push_back(
      {"(S//REL TO USA, GBR, JPN)", BytesOf("echo: above jpn-1's clearance"), std::nullopt});
  TEARLINE_ASSIGN_OR_RETURN(Sealed mixed, SealNamed(c, "report-mixed", in));
  TEARLINE_RETURN_IF_ERROR(EmitSealed(
      c, emit, "mixed",
      "usa-1 seals five portions for gbr-1 and jpn-1; each opens what its label, nation and "
      "clearance allow (the full copy, as sealed)",
      mixed, mixed.bytes));
  const std::vector<std::uint32_t> for_jpn = {1, 2};
  TEARLINE_ASSIGN_OR_RETURN(Bytes jpn_copy, SelectPortions(mixed.bytes, for_jpn));
  TEARLINE_RETURN_IF_ERROR(EmitSealed(
      c, emit, "mixed_copy_for_jpn",
      "the copy of 'mixed' a broker delivers to jpn-1 (portions 1 and 2 only): header and "
      "signature unchanged, still verifies",
      mixed, jpn_copy));

  SealInput only;
  only.originator = usa.name;
  only.originator_nation = usa.nation;
  only.created_unix = kCreated;
  only.expires_unix = kExpires;
  only.intended_nations = {"GBR"};
  only.recipients = {RecipientOf(c.Member("gbr-1"), c.policy),
                     RecipientOf(c.Member("jpn-1"), c.policy)};
  only.portions.push_back({"(C//REL TO USA, GBR, JPN)", BytesOf("foxtrot: gbr-1 only"),
                           std::vector<std::string>{"gbr-1"}});
  TEARLINE_ASSIGN_OR_RETURN(Sealed explicit_recipients, SealNamed(c, "report-explicit", only));
  TEARLINE_RETURN_IF_ERROR(EmitSealed(
      c, emit, "explicit_recipients",
      "a portion releasable to JPN that the sender wraps for gbr-1 only (explicit recipients): "
      "jpn-1 holds no wrap",
      explicit_recipients, explicit_recipients.bytes));
  return Rejections(c, emit, mixed);
}

}  // namespace tearline::tools::vectors
