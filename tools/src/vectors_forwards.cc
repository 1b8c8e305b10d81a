// forwards/: a forward (TLFW, what ForwardSubmit carries) of a report the fixed coalition sealed,
// the result of opening it as each node, and one negative vector per verification step.
#include <algorithm>
#include <string>
#include <utility>

#include "tearline/crypto/random_source.h"
#include "tearline/envelope/envelope.h"
#include "tearline/envelope/forward.h"
#include "vectors_common.h"
#include "vectors_report_parts.h"

namespace tearline::tools::vectors {
namespace {

constexpr std::int64_t kCreated = kNow - 7200;
constexpr std::int64_t kExpires = kNow + 86400;

RecipientIdentity Me(const Identity& id, const Policy& policy) {
  return RecipientIdentity{id.name, id.nation, policy.FindLevel(id.clearance),
                           id.encryption->public_key, id.encryption->secret_key};
}

std::string Verdict(const Status& st) { return st.ok() ? "OK" : st.reason(); }

Json Opening(const Coalition& c, const Bytes& forward, const Identity& as) {
  Json j = {{"recipient", RecipientJson(as, c.policy)}};
  auto opened = OpenForward(forward, Me(as, c.policy), c.Member("usa-1").signing.public_key,
                            c.Member("gbr-1").signing.public_key, c.policy, kNow);
  j["expect"] = Verdict(opened.ok() ? Status::Ok() : opened.status());
  if (!opened.ok()) return j;
  Json portions = Json::array();
  for (const OpenedPortion& p : opened->report.portions) {
    portions.push_back(
        {{"index", p.index}, {"label", p.label}, {"plaintext_hex", Hex(p.plaintext.span())}});
  }
  j["portions"] = portions;
  j["banner"] = opened->report.banner;
  return j;
}

struct Case {
  std::string name;
  std::string description;
  std::string step;
  Bytes forward;
  std::string recipient = "jpn-1";
  std::string forwarder_key_of = "gbr-1";
  std::int64_t at = kNow;
  std::string expect;
};

Status EmitCase(const Coalition& c, const Emit& emit, const Case& k) {
  const Identity& as = c.Member(k.recipient);
  const PublicKey& fwd_key = c.Member(k.forwarder_key_of).signing.public_key;
  auto opened = OpenForward(k.forward, Me(as, c.policy), c.Member("usa-1").signing.public_key,
                            fwd_key, c.policy, k.at);
  const std::string got = Verdict(opened.ok() ? Status::Ok() : opened.status());
  if (got != k.expect) {
    return Internal("VECTORS_GENERATE",
                    "forward " + k.name + ": expected " + k.expect + ", got " + got);
  }
  Json j = {{"kind", "forward_rejection"},
            {"description", k.description},
            {"step", k.step},
            {"policy", "coalition/policy.json"},
            {"forward_hex", Hex(k.forward)},
            {"originator_sign_public_key_hex", Hex(c.Member("usa-1").signing.public_key)},
            {"forwarder_sign_public_key_hex", Hex(fwd_key)},
            {"recipient", RecipientJson(as, c.policy)},
            {"open_at", k.at},
            {"expect", k.expect}};
  emit("forwards/reject_" + k.name + ".json", std::move(j));
  return Status::Ok();
}

Result<Bytes> Forward(const Coalition& c, const Bytes& copy, std::vector<std::uint32_t> portions,
                      const std::string& seed_name) {
  const Identity& gbr = c.Member("gbr-1");
  const Identity& jpn = c.Member("jpn-1");
  SeededRandom random(Seed(seed_name, "random"));
  ForwardInput in;
  in.forwarder = gbr.name;
  in.forwarder_nation = gbr.nation;
  in.target_nation = "JPN";
  in.created_unix = kNow - 60;
  in.portions = std::move(portions);
  in.targets.push_back({jpn.name, jpn.encryption->public_key});
  in.random = &random;
  TEARLINE_ASSIGN_OR_RETURN(SealedForward f,
                            SealForward(copy, in, Me(gbr, c.policy), gbr.signing.secret_key));
  return f.bytes;
}

}  // namespace

Status ForwardVectors(const Coalition& c, const Emit& emit) {
  const Identity& usa = c.Member("usa-1");
  const Identity& gbr = c.Member("gbr-1");
  SeededRandom random(Seed("report-for-forward", "random"));
  SealInput in;
  in.originator = usa.name;
  in.originator_nation = usa.nation;
  in.created_unix = kCreated;
  in.expires_unix = kExpires;
  in.intended_nations = {"GBR"};
  in.recipients = {
      {gbr.name, gbr.nation, c.policy.FindLevel(gbr.clearance), gbr.encryption->public_key}};
  in.portions.push_back({"(C//REL TO USA, GBR, JPN)", BytesOf("golf: may go on to JPN"), {}});
  in.portions.push_back({"(S//REL TO USA, GBR)", BytesOf("hotel: stays with GBR"), {}});
  in.random = &random;
  TEARLINE_ASSIGN_OR_RETURN(SealedReport sealed, Seal(in, usa.signing.secret_key, c.policy));
  TEARLINE_ASSIGN_OR_RETURN(Bytes forward, Forward(c, sealed.bytes, {0}, "forward-jpn"));
  TEARLINE_ASSIGN_OR_RETURN(
      ForwardView view, InspectForward(forward, usa.signing.public_key, gbr.signing.public_key));
  Json openings = Json::array();
  for (const char* node : {"usa-1", "gbr-1", "jpn-1"}) {
    openings.push_back(Opening(c, forward, c.Member(node)));
  }
  Json grant = {{"forward_id_hex", Hex(view.forward_id)},
                {"report_id_hex", Hex(view.report_id)},
                {"forwarder", view.forwarder},
                {"forwarder_nation", view.forwarder_nation},
                {"target_nation", view.target_nation},
                {"created_unix", view.created_unix},
                {"portions", view.portions}};
  Json j = {{"kind", "forward"},
            {"description",
             "gbr-1 forwards portion 0 of usa-1's report to JPN (jpn-1); the grant is signed by "
             "gbr-1, the nested report still by usa-1"},
            {"policy", "coalition/policy.json"},
            {"report_hex", Hex(sealed.bytes)},
            {"forward_hex", Hex(forward)},
            {"originator_sign_public_key_hex", Hex(usa.signing.public_key)},
            {"forwarder_sign_public_key_hex", Hex(gbr.signing.public_key)},
            {"grant", grant},
            {"open_at", kNow},
            {"openings", openings}};
  emit("forwards/forward.json", std::move(j));

  const ForwardParts parts = SplitForward(forward);
  std::vector<Case> cases;
  auto add = [&](std::string name, std::string description, std::string step, Bytes bytes,
                 std::string expect) {
    Case k;
    k.name = std::move(name);
    k.description = std::move(description);
    k.step = std::move(step);
    k.forward = std::move(bytes);
    k.expect = std::move(expect);
    cases.push_back(std::move(k));
    return &cases.back();
  };
  add("truncated", "the first 40 bytes of the forward", "structure",
      Bytes(forward.begin(), forward.begin() + 40), "ENVELOPE_MALFORMED");
  {
    ForwardParts p = parts;
    p.signature[0] ^= 0x01;
    add("bad_grant_signature", "one bit of the grant signature flipped", "grant signature",
        JoinForward(p), "ENVELOPE_BAD_SIGNATURE");
  }
  add("wrong_forwarder_key", "the grant verified under usa-1's key instead of gbr-1's",
      "grant signature", forward, "ENVELOPE_BAD_SIGNATURE")
      ->forwarder_key_of = "usa-1";
  {
    ForwardParts p = parts;
    GrantParts g = ReadGrant(p.grant);
    g.version = 2;
    p.grant = WriteGrant(g);
    TEARLINE_RETURN_IF_ERROR(SignGrant(p, gbr.signing));
    add("grant_version", "a grant of version 2, correctly signed", "version", JoinForward(p),
        "ENVELOPE_VERSION");
  }
  {
    ForwardParts p = parts;
    GrantParts g = ReadGrant(p.grant);
    g.wraps.push_back(g.wraps.front());
    g.wraps.back().index = 1;
    p.grant = WriteGrant(g);
    TEARLINE_RETURN_IF_ERROR(SignGrant(p, gbr.signing));
    add("wrap_not_granted", "a key wrap for portion 1, which the grant does not forward",
        "grant fields", JoinForward(p), "ENVELOPE_MALFORMED");
  }
  {
    ForwardParts p = parts;
    GrantParts g = ReadGrant(p.grant);
    g.report_id[0] ^= 0xff;
    p.grant = WriteGrant(g);
    TEARLINE_RETURN_IF_ERROR(SignGrant(p, gbr.signing));
    add("grant_other_report", "the grant names another report id (correctly signed)",
        "grant names the report", JoinForward(p), "FORWARD_REPORT_MISMATCH");
  }
  {
    ForwardParts p = parts;
    p.report = sealed.bytes;  // Portion 1's body too, which the grant does not forward.
    add("body_not_granted", "the nested report carries portion 1, which the grant does not forward",
        "every body granted", JoinForward(p), "FORWARD_REPORT_MISMATCH");
  }
  {
    ForwardParts p = parts;
    ReportParts r = SplitReport(p.report);
    r.signature[0] ^= 0x01;
    p.report = JoinReport(r);
    add("nested_bad_signature", "one bit of the nested report's header signature flipped",
        "nested report", JoinForward(p), "ENVELOPE_BAD_SIGNATURE");
  }
  {
    ForwardParts p = parts;
    ReportParts r = SplitReport(p.report);
    r.bodies[0].second.back() ^= 0x01;
    p.report = JoinReport(r);
    add("nested_tampered_body", "one bit of the nested portion body flipped", "nested report",
        JoinForward(p), "ENVELOPE_COMMITMENT_MISMATCH");
  }
  {
    TEARLINE_ASSIGN_OR_RETURN(Bytes wrong, Forward(c, sealed.bytes, {1}, "forward-jpn-secret"));
    add("label_not_releasable",
        "gbr-1 forwards portion 1, (S//REL TO USA, GBR), to jpn-1: the recipient decides release "
        "under the originator's label and refuses",
        "release", std::move(wrong), "ENVELOPE_LABEL_NOT_RELEASABLE");
  }
  add("expired", "opened one second after the nested report expires", "validity window", forward,
      "ENVELOPE_EXPIRED")
      ->at = kExpires + 1;
  add("not_a_recipient", "usa-1 opens a forward whose grant seals nothing for it", "recipient",
      forward, "ENVELOPE_NOT_A_RECIPIENT")
      ->recipient = "usa-1";
  for (const Case& k : cases) TEARLINE_RETURN_IF_ERROR(EmitCase(c, emit, k));
  return Status::Ok();
}

}  // namespace tearline::tools::vectors
