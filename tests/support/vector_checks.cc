#include "vector_checks.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <span>
#include <vector>

#include "tearline/audit/audit_records.h"
#include "tearline/audit/audit_verify.h"
#include "tearline/base/encoding.h"
#include "tearline/crypto/secure_memory.h"
#include "tearline/envelope/envelope.h"
#include "tearline/envelope/forward.h"
#include "tearline/identity/certificate.h"
#include "tearline/identity/revocation.h"
#include "tearline/labels/label.h"
#include "tearline/labels/release.h"
#include "test_support.h"

namespace tearline::testing {
namespace {

using Json = nlohmann::json;
using Bytes = std::vector<std::uint8_t>;

Bytes Unhex(const Json& j) {
  auto b = FromHex(j.get<std::string>());
  EXPECT_TRUE(b.ok()) << j;
  return b.ok() ? *b : Bytes{};
}

std::string Verdict(const Status& st) { return st.ok() ? "OK" : st.reason(); }

// A recipient as a vector states it: ids, nation, clearance rank (-1: unchecked) and raw keys.
struct Me {
  std::string node_id;
  std::string nation;
  std::optional<int> clearance;
  std::array<std::uint8_t, kEncPublicKeyBytes> enc_pk{};
  SecretBytes enc_sk;
  RecipientIdentity Identity() const {
    return RecipientIdentity{node_id, nation, clearance, enc_pk, enc_sk};
  }
};

Me MeOf(const Json& r) {
  Me me;
  me.node_id = r["node_id"].get<std::string>();
  me.nation = r["nation"].get<std::string>();
  const int rank = r["clearance_rank"].get<int>();
  if (rank >= 0) me.clearance = rank;
  const Bytes pk = Unhex(r["enc_public_key_hex"]);
  EXPECT_EQ(pk.size(), me.enc_pk.size());
  std::copy_n(pk.begin(), std::min(pk.size(), me.enc_pk.size()), me.enc_pk.begin());
  auto sk = SecretBytes::CopyOf(Unhex(r["enc_secret_key_hex"]));
  EXPECT_TRUE(sk.ok());
  if (sk.ok()) me.enc_sk = std::move(sk).value();
  return me;
}

// The opened portions as a vector writes them.
Json PortionsJson(const std::vector<OpenedPortion>& portions) {
  Json out = Json::array();
  for (const OpenedPortion& p : portions) {
    out.push_back(
        {{"index", p.index}, {"label", p.label}, {"plaintext_hex", ToHex(p.plaintext.span())}});
  }
  return out;
}

void CheckWithheld(const Json& v, const Policy& policy) {
  const std::string onation = v["input"]["originator_nation"].get<std::string>();
  for (const Json& w : v["withheld_by_sender"]) {
    SCOPED_TRACE(w.dump());
    auto label = ParseLabel(w["label"].get<std::string>(), policy);
    ASSERT_TRUE(label.ok());
    // The recipient's nation and clearance come from its entry in the openings.
    const Json* who = nullptr;
    for (const Json& o : v["openings"]) {
      if (o["recipient"]["node_id"] == w["node_id"]) who = &o["recipient"];
    }
    ASSERT_NE(who, nullptr);
    const int rank = (*who)["clearance_rank"].get<int>();
    auto d = DecideRelease(*label,
                           Recipient{(*who)["nation"].get<std::string>(),
                                     rank >= 0 ? std::optional<int>(rank) : std::nullopt, onation},
                           policy);
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d->release, w["released_by_policy"].get<bool>());
    EXPECT_EQ(std::string(DenyReasonName(d->reason)), w["reason"].get<std::string>());
  }
}

}  // namespace

void CheckPolicyVector(const Json& v) {
  const std::string text = v["toml"].get<std::string>();
  auto policy = Policy::Parse(text, "policy");
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  EXPECT_EQ(Sha256Hex(text), v["sha256_hex"].get<std::string>());
  EXPECT_EQ(policy->digest_hex(), v["sha256_hex"].get<std::string>());
  EXPECT_EQ(policy->name(), v["name"].get<std::string>());
  EXPECT_EQ(policy->version(), v["version"].get<std::string>());
}

void CheckSealedReportVector(const Json& v, const VectorContext& ctx) {
  const Bytes report = Unhex(v["report_hex"]);
  const Bytes originator = Unhex(v["originator_sign_public_key_hex"]);
  // What a broker sees: the signed header and the labels of the portions in this copy.
  auto view = InspectReport(report, originator);
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  EXPECT_EQ(ReportIdHex(view->report_id), v["report_id_hex"].get<std::string>());
  EXPECT_EQ(view->originator, v["input"]["originator"].get<std::string>());
  EXPECT_EQ(view->created_unix, v["input"]["created_unix"].get<std::int64_t>());
  EXPECT_EQ(view->expires_unix, v["input"]["expires_unix"].get<std::int64_t>());
  EXPECT_EQ(Json(view->intended_nations), v["input"]["intended_nations"]);
  EXPECT_EQ(view->portion_count, v["portion_labels"].size());
  for (const PortionView& p : view->portions) {
    EXPECT_EQ(p.label, v["portion_labels"][p.index].get<std::string>());
  }
  for (const Json& o : v["openings"]) {
    SCOPED_TRACE(o["recipient"]["node_id"].get<std::string>());
    const Me me = MeOf(o["recipient"]);
    auto opened =
        Open(report, me.Identity(), originator, *ctx.policy, v["open_at"].get<std::int64_t>());
    ASSERT_EQ(Verdict(opened.ok() ? Status::Ok() : opened.status()),
              o["expect"].get<std::string>());
    if (!opened.ok()) continue;
    EXPECT_EQ(opened->banner, o["banner"].get<std::string>());
    EXPECT_EQ(PortionsJson(opened->portions), o["portions"]);
    EXPECT_EQ(Json(opened->not_addressed), o["not_addressed"]);
  }
  CheckWithheld(v, *ctx.policy);
}

void CheckReportRejectionVector(const Json& v, const VectorContext& ctx) {
  const Me me = MeOf(v["recipient"]);
  auto opened =
      Open(Unhex(v["report_hex"]), me.Identity(), Unhex(v["originator_sign_public_key_hex"]),
           *ctx.policy, v["open_at"].get<std::int64_t>());
  ASSERT_FALSE(opened.ok()) << "a negative vector opened";
  EXPECT_EQ(opened.status().reason(), v["expect"].get<std::string>()) << opened.status().ToString();
}

void CheckForwardVector(const Json& v, const VectorContext& ctx) {
  const Bytes forward = Unhex(v["forward_hex"]);
  const Bytes originator = Unhex(v["originator_sign_public_key_hex"]);
  const Bytes forwarder = Unhex(v["forwarder_sign_public_key_hex"]);
  EXPECT_TRUE(IsForward(forward));
  auto view = InspectForward(forward, originator, forwarder);
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  const Json& g = v["grant"];
  EXPECT_EQ(ReportIdHex(view->forward_id), g["forward_id_hex"].get<std::string>());
  EXPECT_EQ(ReportIdHex(view->report_id), g["report_id_hex"].get<std::string>());
  EXPECT_EQ(view->forwarder, g["forwarder"].get<std::string>());
  EXPECT_EQ(view->forwarder_nation, g["forwarder_nation"].get<std::string>());
  EXPECT_EQ(view->target_nation, g["target_nation"].get<std::string>());
  EXPECT_EQ(view->created_unix, g["created_unix"].get<std::int64_t>());
  EXPECT_EQ(Json(view->portions), g["portions"]);
  // The nested report is the originator's, byte for byte in header and signature.
  auto original = InspectReport(Unhex(v["report_hex"]), originator);
  ASSERT_TRUE(original.ok()) << original.status().ToString();
  EXPECT_EQ(original->report_id, view->report_id);
  for (const Json& o : v["openings"]) {
    SCOPED_TRACE(o["recipient"]["node_id"].get<std::string>());
    const Me me = MeOf(o["recipient"]);
    auto opened = OpenForward(forward, me.Identity(), originator, forwarder, *ctx.policy,
                              v["open_at"].get<std::int64_t>());
    ASSERT_EQ(Verdict(opened.ok() ? Status::Ok() : opened.status()),
              o["expect"].get<std::string>());
    if (!opened.ok()) continue;
    EXPECT_EQ(opened->report.banner, o["banner"].get<std::string>());
    EXPECT_EQ(PortionsJson(opened->report.portions), o["portions"]);
  }
}

void CheckForwardRejectionVector(const Json& v, const VectorContext& ctx) {
  const Me me = MeOf(v["recipient"]);
  auto opened = OpenForward(
      Unhex(v["forward_hex"]), me.Identity(), Unhex(v["originator_sign_public_key_hex"]),
      Unhex(v["forwarder_sign_public_key_hex"]), *ctx.policy, v["open_at"].get<std::int64_t>());
  ASSERT_FALSE(opened.ok()) << "a negative vector opened";
  EXPECT_EQ(opened.status().reason(), v["expect"].get<std::string>()) << opened.status().ToString();
}

void CheckRevocationVector(const Json& v, const VectorContext& ctx) {
  TrustStore trust = *ctx.trust;
  const std::string held_hex = v["held_list_hex"].get<std::string>();
  if (!held_hex.empty()) {
    auto held = RevocationList::Decode(Unhex(v["held_list_hex"]));
    ASSERT_TRUE(held.ok()) << held.status().ToString();
    ASSERT_TRUE(trust.UpdateRevocations(std::move(held).value()).ok());
  }
  auto list = RevocationList::Decode(Unhex(v["list_hex"]));
  const Status st = list.ok() ? trust.UpdateRevocations(*list) : list.status();
  EXPECT_EQ(Verdict(st), v["expect"].get<std::string>()) << st.ToString();
  if (!st.ok()) return;
  EXPECT_EQ(list->sequence(), v["sequence"].get<std::uint64_t>());
  EXPECT_EQ(list->issued_at(), v["issued_at"].get<std::int64_t>());
  ASSERT_EQ(list->entries().size(), v["entries"].size());
  for (std::size_t i = 0; i < list->entries().size(); ++i) {
    const RevocationEntry& e = list->entries()[i];
    EXPECT_EQ(e.node_id, v["entries"][i]["node_id"].get<std::string>());
    EXPECT_EQ(e.serial, v["entries"][i]["serial"].get<std::uint64_t>());
    // A revoked coalition certificate no longer verifies.
    const auto it = ctx.files->find("coalition/" + e.node_id + ".json");
    if (it == ctx.files->end()) continue;
    const Json id = Json::parse(it->second);
    auto cert = trust.VerifyCertificateBytes(Unhex(id["certificate_hex"]),
                                             id["verify_at"].get<std::int64_t>());
    ASSERT_FALSE(cert.ok());
    EXPECT_EQ(cert.status().reason(), "CERT_REVOKED");
  }
}

void CheckAuditDirectoryVector(const Json& v) {
  TempDir tmp;
  const std::filesystem::path dir = tmp / "audit";
  for (const auto& [name, b64] : v["files"].items()) {
    auto content = Base64Decode(b64.get<std::string>());
    ASSERT_TRUE(content.ok()) << name;
    const std::filesystem::path path = dir / name;
    std::filesystem::create_directories(path.parent_path());
    WriteText(path, std::string(content->begin(), content->end()));
  }
  AuditVerifyOptions options;
  options.dir = dir;
  options.min_witnesses = v["min_witnesses"].get<std::uint64_t>();
  const std::string ca_b64 = v["ca_root_cert_b64"].get<std::string>();
  if (!ca_b64.empty()) {
    auto root = Base64Decode(ca_b64);
    ASSERT_TRUE(root.ok());
    std::filesystem::create_directories(tmp / "ca");
    WriteText(tmp / "ca" / "root.cert", std::string(root->begin(), root->end()));
    options.ca_dir = tmp / "ca";
  }
  const AuditVerifyResult result = VerifyAuditDirectory(options);
  EXPECT_EQ(result.ok() ? std::string("OK") : result.failure->reason,
            v["expect"].get<std::string>())
      << (result.ok() ? AuditVerdict(result) : result.failure->ToString());
}

}  // namespace tearline::testing
