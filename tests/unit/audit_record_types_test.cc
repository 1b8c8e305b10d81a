#include "tearline/audit/audit_record_types.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "tearline/audit/audit_log.h"
#include "tearline/audit/audit_records.h"
#include "test_support.h"

namespace tearline {
namespace {

using nlohmann::json;

const std::string kId = "0123456789abcdef0123456789abcdef";
const std::string kDigest(64, 'a');

// One record of each shape, with every optional member set, and the exact object the broker
// writes for it (known answers: a renamed key or a changed value type fails here).
struct KnownAnswer {
  const char* name;
  AnyAuditRecord record;
  const char* json;
  // Keys a record may lack and still decode (optional or descriptive members).
  std::set<std::string> may_lack;
};

std::vector<KnownAnswer> KnownAnswers() {
  AcceptedRecord accepted;
  accepted.report_id = kId;
  accepted.originator = "usa-node";
  accepted.originator_nation = "USA";
  accepted.intended_nations = std::vector<std::string>{"GBR", "FRA"};
  accepted.created = 1764000000;
  accepted.expires = 1764086400;
  accepted.report_bytes = 900;
  accepted.portions = {{0, "(S//REL TO USA, GBR)", std::string(64, 'b'), 300, {}, {}, {}},
                       {1, "(S//NF)", std::string(64, 'c'), 200, {}, {}, {}}};
  accepted.policy_sha256 = kDigest;

  ReleasedCopy copy;
  copy.report_id = kId;
  copy.originator = "usa-node";
  copy.originator_nation = "USA";
  copy.recipient = "gbr-node";
  copy.nation = "GBR";
  copy.clearance = "SECRET";
  copy.portions = {{0, "(S//REL TO USA, GBR)"}};

  return {
      {"broker_start",
       BrokerStartRecord{"broker-1", 3, 17},
       R"j({"broker":"broker-1","nodes":3,"torn_tail_bytes":17})j",
       {}},
      {"policy_loaded",
       PolicyLoadedRecord{"tearline-coalition", "2026.11", kDigest},
       R"j({"policy":"tearline-coalition","policy_sha256":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","policy_version":"2026.11"})j",
       {"policy", "policy_version"}},
      {"broker_stop", BrokerStopRecord{"broker-1"}, R"j({"broker":"broker-1"})j", {}},
      {"node_connected", NodeConnectedRecord{"usa-node"}, R"j({"node":"usa-node"})j", {}},
      {"connection_refused",
       ConnectionRefusedRecord{"127.0.0.1", "ee", "AUTH_UNKNOWN_KEY", "unknown key", 4},
       R"j({"client_key":"ee","explanation":"unknown key","peer_address":"127.0.0.1","reason":"AUTH_UNKNOWN_KEY","suppressed":4})j",
       {"suppressed"}},
      {"rejected_input",
       RejectedInputRecord{"usa-node", "RATE_LIMITED", "slow down", kId, 2},
       R"j({"explanation":"slow down","node":"usa-node","reason":"RATE_LIMITED","report_id":"0123456789abcdef0123456789abcdef","suppressed":2})j",
       {"report_id", "suppressed"}},
      {"accepted",
       accepted,
       R"j({"created":1764000000,"expires":1764086400,"intended_nations":["GBR","FRA"],"originator":"usa-node","originator_nation":"USA","policy_sha256":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","portions":[{"ciphertext_bytes":300,"ciphertext_sha256":"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","index":0,"label":"(S//REL TO USA, GBR)"},{"ciphertext_bytes":200,"ciphertext_sha256":"cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc","index":1,"label":"(S//NF)"}],"report_bytes":900,"report_id":"0123456789abcdef0123456789abcdef"})j",
       {"intended_nations", "created", "expires", "report_bytes"}},
      {"denied (portion)",
       DeniedRecord{kId, "usa-node", "gbr-node", "GBR", 1, "(S//NF)", "NOFORN", "not releasable"},
       R"j({"explanation":"not releasable","label":"(S//NF)","nation":"GBR","originator":"usa-node","portion":1,"reason":"NOFORN","recipient":"gbr-node","report_id":"0123456789abcdef0123456789abcdef"})j",
       {"originator", "portion", "label"}},
      {"denied (recipient)",
       DeniedRecord{kId, "usa-node", "", "JPN", std::nullopt, std::nullopt, "NO_NODE", "no node"},
       R"j({"explanation":"no node","nation":"JPN","originator":"usa-node","reason":"NO_NODE","recipient":"","report_id":"0123456789abcdef0123456789abcdef"})j",
       {"originator"}},
      {"delivered",
       DeliveredRecord{copy},
       R"j({"clearance":"SECRET","nation":"GBR","originator":"usa-node","originator_nation":"USA","portions":[{"index":0,"label":"(S//REL TO USA, GBR)"}],"recipient":"gbr-node","report_id":"0123456789abcdef0123456789abcdef"})j",
       {"originator", "originator_nation"}},
      {"delivered (from queue)",
       DeliveredFromQueueRecord{kId, "fra-node", {}},
       R"j({"from_queue":true,"recipient":"fra-node","report_id":"0123456789abcdef0123456789abcdef"})j",
       {}},
      {"queued",
       QueuedRecord{copy},
       R"j({"clearance":"SECRET","nation":"GBR","originator":"usa-node","originator_nation":"USA","portions":[{"index":0,"label":"(S//REL TO USA, GBR)"}],"recipient":"gbr-node","report_id":"0123456789abcdef0123456789abcdef"})j",
       {"originator", "originator_nation"}},
      {"acknowledged",
       AcknowledgedRecord{kId, "fra-node", "dd"},
       R"j({"recipient":"fra-node","report_id":"0123456789abcdef0123456789abcdef","signature":"dd"})j",
       {}},
      {"expired",
       ExpiredRecord{kId, "usa-node", "fra-node", "FRA", "REPORT_EXPIRED", "expired"},
       R"j({"explanation":"expired","nation":"FRA","originator":"usa-node","reason":"REPORT_EXPIRED","recipient":"fra-node","report_id":"0123456789abcdef0123456789abcdef"})j",
       {"originator"}},
      {"delivery_rejected_by_recipient",
       DeliveryRejectedByRecipientRecord{"gbr-node", "ENVELOPE_BAD", "cannot open"},
       R"j({"explanation":"cannot open","node":"gbr-node","reason":"ENVELOPE_BAD"})j",
       {}},
      {"failed",
       FailedRecord{kId, "usa-node", "fra-node", "FRA", "ENVELOPE_DECRYPT_FAILED", "gave up", 3},
       R"j({"explanation":"gave up","nation":"FRA","originator":"usa-node","reason":"ENVELOPE_DECRYPT_FAILED","recipient":"fra-node","refusals":3,"report_id":"0123456789abcdef0123456789abcdef"})j",
       {"originator"}},
      {"forwarded",
       ForwardedRecord{std::string(32, 'f'),
                       kId,
                       "usa-node",
                       "USA",
                       "gbr-node",
                       "GBR",
                       "AUS",
                       {{0, "(S//REL TO USA, AUS, GBR)", std::string(64, 'b'), 300, {}, {}, {}}},
                       kDigest},
       R"j({"forward_id":"ffffffffffffffffffffffffffffffff","forwarder":"gbr-node","forwarder_nation":"GBR","originator":"usa-node","originator_nation":"USA","policy_sha256":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","portions":[{"ciphertext_bytes":300,"ciphertext_sha256":"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","index":0,"label":"(S//REL TO USA, AUS, GBR)"}],"report_id":"0123456789abcdef0123456789abcdef","target_nation":"AUS"})j",
       {}},
      {"forward_refused",
       ForwardRefusedRecord{"kor-node", std::string(32, 'f'), kId, "AUS",
                            std::vector<std::uint32_t>{0}, "FORWARD_NOT_HELD", "never held"},
       R"j({"explanation":"never held","forward_id":"ffffffffffffffffffffffffffffffff","node":"kor-node","portions":[0],"reason":"FORWARD_NOT_HELD","report_id":"0123456789abcdef0123456789abcdef","target_nation":"AUS"})j",
       {"forward_id", "report_id", "target_nation", "portions"}},
      {"certificate_accepted",
       CertificateAcceptedRecord{"usa-node", 2, std::string(64, 'c'), 1, 1800604800},
       R"j({"fingerprint":"cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc","node":"usa-node","previous_serial":1,"previous_until":1800604800,"serial":2})j",
       {}},
  };
}

TEST(AuditRecordTypesTest, EncodingMatchesTheLoggedObjects) {
  for (const KnownAnswer& k : KnownAnswers()) {
    const json encoded = ToJson(k.record);
    EXPECT_EQ(encoded, json::parse(k.json)) << k.name;
    // Keys are written sorted, so the text is the literal itself.
    EXPECT_EQ(encoded.dump(), k.json) << k.name;
  }
}

// One decoder reused across records (as the verifier does) decodes each exactly as a fresh
// decode does: nothing of an earlier record of the same type (an optional member, a longer
// array, a half-decoded malformed record) survives into the next.
TEST(AuditRecordTypesTest, AReusedDecoderLeavesNothingOfEarlierRecords) {
  AuditRecordDecoder decoder;
  std::size_t compared = 0;
  for (int round = 0; round < 2; ++round) {
    for (const KnownAnswer& k : KnownAnswers()) {
      const std::string type(AuditRecordTypeName(k.record));
      const json full = json::parse(k.json);
      json lean = full;
      for (const std::string& key : k.may_lack) lean.erase(key);
      for (auto& [key, value] : lean.items()) {
        if (value.is_array() && value.size() > 1) value.erase(value.begin() + 1, value.end());
      }
      json broken = full;
      if (!broken.empty()) broken[broken.begin().key()] = nullptr;  // Wrong type for any member.
      for (const json* object : std::vector<const json*>{&full, &broken, &lean, &full}) {
        const AnyAuditRecord* reused = nullptr;
        const Status st = decoder.Decode(type, *object, reused);
        const auto fresh = DecodeAuditRecord(type, *object);
        ASSERT_EQ(st.ok(), fresh.ok()) << k.name << " " << object->dump();
        if (!fresh.ok()) {
          EXPECT_EQ(st.message(), fresh.status().message()) << k.name;
          continue;
        }
        ASSERT_NE(reused, nullptr);
        ASSERT_TRUE(*reused == *fresh) << k.name << " " << object->dump();
        ++compared;
      }
    }
  }
  EXPECT_GT(compared, 3 * KnownAnswers().size());
}

TEST(AuditRecordTypesTest, TypeNames) {
  for (const KnownAnswer& k : KnownAnswers()) {
    EXPECT_EQ(std::string(AuditRecordTypeName(k.record)),
              std::string(k.name).substr(0, std::string(k.name).find(' ')));
  }
  const std::vector<std::string_view> expected = {"broker_start",
                                                  "policy_loaded",
                                                  "broker_stop",
                                                  "node_connected",
                                                  "connection_refused",
                                                  "rejected_input",
                                                  "accepted",
                                                  "denied",
                                                  "delivered",
                                                  "queued",
                                                  "acknowledged",
                                                  "expired",
                                                  "delivery_rejected_by_recipient",
                                                  "failed",
                                                  "forwarded",
                                                  "forward_refused",
                                                  "release_requested",
                                                  "release_decided",
                                                  "release_auto_approved",
                                                  "release_sanitised",
                                                  "certificate_accepted"};
  EXPECT_EQ(std::vector<std::string_view>(kAuditRecordTypes.begin(), kAuditRecordTypes.end()),
            expected);
  for (std::string_view t : expected) EXPECT_TRUE(IsKnownAuditRecordType(t)) << t;
  EXPECT_FALSE(IsKnownAuditRecordType("deleted"));
  EXPECT_FALSE(IsKnownAuditRecordType(""));
}

TEST(AuditRecordTypesTest, EveryTypeRoundTrips) {
  for (const KnownAnswer& k : KnownAnswers()) {
    auto decoded = DecodeAuditRecord(AuditRecordTypeName(k.record), json::parse(k.json));
    ASSERT_TRUE(decoded.ok()) << k.name << ": " << decoded.status().ToString();
    EXPECT_EQ(*decoded, k.record) << k.name;
    EXPECT_EQ(ToJson(*decoded), json::parse(k.json)) << k.name;
  }
}

TEST(AuditRecordTypesTest, DecodesALoggedLineWithItsEnvelope) {
  std::optional<AuditLoadError> error;
  auto records = ParseAuditLog(
      R"j({"from_queue":true,"recipient":"fra-node","report_id":"0123456789abcdef0123456789abcdef","seq":0,"time":1764000000.5,"type":"delivered","added_later":1})j"
      "\n",
      error);
  ASSERT_FALSE(error.has_value()) << error->status.ToString();
  ASSERT_EQ(records.size(), 1u);
  auto decoded = DecodeAuditRecord(records[0]);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, AnyAuditRecord(DeliveredFromQueueRecord{kId, "fra-node", {}}));
  const AuditRecordKeys keys = KeysOf(*decoded);
  EXPECT_EQ(keys.report_id, kId);
  EXPECT_EQ(keys.recipient, "fra-node");
  EXPECT_FALSE(keys.nation.has_value());
}

TEST(AuditRecordTypesTest, MissingRequiredFieldsAreRefusedAndOptionalOnesAreNot) {
  for (const KnownAnswer& k : KnownAnswers()) {
    const json full = json::parse(k.json);
    for (const auto& [key, value] : full.items()) {
      json lacking = full;
      lacking.erase(key);
      auto decoded = DecodeAuditRecord(AuditRecordTypeName(k.record), lacking);
      if (k.may_lack.contains(key)) {
        EXPECT_TRUE(decoded.ok()) << k.name << " without " << key << ": "
                                  << decoded.status().ToString();
        continue;
      }
      ASSERT_FALSE(decoded.ok()) << k.name << " decoded without " << key;
      EXPECT_EQ(decoded.status().reason(), "AUDIT_RECORD_MALFORMED");
      if (key == DeliveredFromQueueRecord::kFromQueueKey) {
        // Without the flag it reads as a live delivery, which lacks nation, clearance, ...
        EXPECT_NE(decoded.status().message().find("\"nation\" is missing"), std::string::npos)
            << decoded.status().message();
        continue;
      }
      EXPECT_NE(decoded.status().message().find("\"" + key + "\" is missing"), std::string::npos)
          << decoded.status().message();
    }
  }
  // Inside arrays of objects too.
  json accepted = json::parse(KnownAnswers()[6].json);
  accepted["portions"][1].erase("label");
  auto decoded = DecodeAuditRecord("accepted", accepted);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().reason(), "AUDIT_RECORD_MALFORMED");
  EXPECT_NE(decoded.status().message().find("\"portions\"[1] field \"label\" is missing"),
            std::string::npos)
      << decoded.status().message();
}

TEST(AuditRecordTypesTest, MistypedFieldsAreRefused) {
  for (const KnownAnswer& k : KnownAnswers()) {
    const json full = json::parse(k.json);
    for (const auto& [key, value] : full.items()) {
      // A null is a wrong type even for an optional member, and so is the other kind of scalar.
      const json wrong_scalar = value.is_string() ? json(7) : json("7");
      for (const json& wrong : {json(nullptr), wrong_scalar, json::object()}) {
        json mistyped = full;
        mistyped[key] = wrong;
        auto decoded = DecodeAuditRecord(AuditRecordTypeName(k.record), mistyped);
        ASSERT_FALSE(decoded.ok()) << k.name << " with " << key << " = " << wrong.dump();
        EXPECT_EQ(decoded.status().reason(), "AUDIT_RECORD_MALFORMED");
        EXPECT_NE(decoded.status().message().find("\"" + key + "\" must be"), std::string::npos)
            << decoded.status().message();
      }
    }
  }
}

TEST(AuditRecordTypesTest, NumbersMustFitTheirMembers) {
  json denied = json::parse(KnownAnswers()[7].json);
  for (const json& bad : {json(-1), json(4294967296ull), json(1.5)}) {
    denied["portion"] = bad;
    auto decoded = DecodeAuditRecord("denied", denied);
    ASSERT_FALSE(decoded.ok()) << bad.dump();
    EXPECT_EQ(decoded.status().reason(), "AUDIT_RECORD_MALFORMED");
  }
  denied["portion"] = 4294967295ull;
  EXPECT_TRUE(DecodeAuditRecord("denied", denied).ok());

  json accepted = json::parse(KnownAnswers()[6].json);
  accepted["created"] = -5;  // Signed: a clock before 1970 is odd but representable.
  EXPECT_TRUE(DecodeAuditRecord("accepted", accepted).ok());
  accepted["created"] = 9223372036854775808ull;
  EXPECT_FALSE(DecodeAuditRecord("accepted", accepted).ok());
}

TEST(AuditRecordTypesTest, FromQueueMarksOnlyDeliveriesAndMustBeTrue) {
  json from_queue = json::parse(KnownAnswers()[10].json);
  from_queue["from_queue"] = false;
  auto decoded = DecodeAuditRecord("delivered", from_queue);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().reason(), "AUDIT_RECORD_MALFORMED");

  json queued = json::parse(KnownAnswers()[11].json);
  queued["from_queue"] = true;
  decoded = DecodeAuditRecord("queued", queued);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().reason(), "AUDIT_RECORD_MALFORMED");
}

TEST(AuditRecordTypesTest, UnknownTypesAndNonObjectsAreRefused) {
  auto unknown = DecodeAuditRecord("deleted", json::object());
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().reason(), "AUDIT_RECORD_UNKNOWN_TYPE");
  auto array = DecodeAuditRecord("broker_stop", json::array({"broker-1"}));
  ASSERT_FALSE(array.ok());
  EXPECT_EQ(array.status().reason(), "AUDIT_RECORD_MALFORMED");
}

// The typed write path produces the very line the field-by-field one did.
TEST(AuditRecordTypesTest, TypedAppendWritesTheSameLine) {
  testing::TempDir tmp;
  auto typed = AuditLog::Open(tmp.path() / "typed");
  auto untyped = AuditLog::Open(tmp.path() / "untyped");
  ASSERT_TRUE(typed.ok() && untyped.ok());
  for (const KnownAnswer& k : KnownAnswers()) {
    auto a = (*typed)->AppendBuffered(k.record);
    auto b = (*untyped)->AppendBuffered(AuditRecordTypeName(k.record), json::parse(k.json));
    ASSERT_TRUE(a.ok() && b.ok()) << k.name;
    ASSERT_EQ(*a, *b);
    json line_a = json::parse(*(*typed)->Record(*a));
    json line_b = json::parse(*(*untyped)->Record(*b));
    line_a.erase("time");  // The only field the two logs may differ in.
    line_b.erase("time");
    EXPECT_EQ(line_a.dump(), line_b.dump()) << k.name;
  }
  ASSERT_TRUE((*typed)->Sync().ok());
}

}  // namespace
}  // namespace tearline
