// The conformance vectors in tests/vectors/: every committed file is checked with the public
// decoders and verifiers (independently of the generator, which states inputs; this test decodes
// bytes), and the generator must reproduce the committed files byte for byte.
#include "tearline/tools/conformance_vectors.h"

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "tearline/base/encoding.h"
#include "tearline/crypto/key_file.h"
#include "tearline/identity/certificate.h"
#include "tearline/identity/trust_store.h"
#include "tearline/labels/policy.h"
#include "tearline/tlog/checkpoint.h"
#include "tearline/wire/release_frames.h"
#include "tearline/wire/wire.h"
#include "test_support.h"
#include "vector_checks.h"

namespace tearline {
namespace {

using Json = nlohmann::json;
namespace fs = std::filesystem;

fs::path VectorsDir() { return testing::SourcePath("tests/vectors"); }

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::map<std::string, std::string> CommittedFiles() {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(VectorsDir())) {
    if (!e.is_regular_file() || e.path().extension() != ".json") continue;
    out[fs::relative(e.path(), VectorsDir()).generic_string()] = Slurp(e.path());
  }
  return out;
}

std::vector<std::uint8_t> Unhex(const Json& j) {
  auto b = FromHex(j.get<std::string>());
  EXPECT_TRUE(b.ok()) << j;
  return b.ok() ? *b : std::vector<std::uint8_t>{};
}

std::string Hex(const flatbuffers::Vector<std::uint8_t>* v) {
  return v == nullptr ? "" : ToHex({v->data(), v->size()});
}
std::string Str(const flatbuffers::String* s) { return s == nullptr ? "" : s->str(); }

// The decoded fields of a frame body, named as in schemas/wire.fbs (bytes as *_hex).
Json DecodedFields(const schema::Frame& f) {
  switch (f.body_type()) {
    case schema::Body::Hello: {
      const auto* b = f.body_as_Hello();
      return {{"protocol_version", b->protocol_version()}, {"node_id", Str(b->node_id())}};
    }
    case schema::Body::Welcome: {
      const auto* b = f.body_as_Welcome();
      return {{"protocol_version", b->protocol_version()},
              {"broker_id", Str(b->broker_id())},
              {"server_time_unix", b->server_time_unix()},
              {"heartbeat_interval_ms", b->heartbeat_interval_ms()},
              {"submit_rate_per_node", b->submit_rate_per_node()}};
    }
    case schema::Body::DirectoryRequest:
      return Json::object();
    case schema::Body::Directory: {
      const auto* b = f.body_as_Directory();
      Json certs = Json::array();
      if (b->certificates() != nullptr) {
        for (const auto* c : *b->certificates()) certs.push_back(Hex(c->bytes()));
      }
      return {{"certificates_hex", certs}, {"revocation_list_hex", Hex(b->revocation_list())}};
    }
    case schema::Body::Submit:
      return {{"report_hex", Hex(f.body_as_Submit()->report())}};
    case schema::Body::ForwardSubmit:
      return {{"forward_hex", Hex(f.body_as_ForwardSubmit()->forward())}};
    case schema::Body::Deliver:
      return {{"report_hex", Hex(f.body_as_Deliver()->report())}};
    case schema::Body::SubmitReply: {
      const auto* b = f.body_as_SubmitReply();
      Json outcomes = Json::array();
      if (b->outcomes() != nullptr) {
        for (const auto* o : *b->outcomes()) {
          Json portions = Json::array();
          if (o->portions() != nullptr) {
            for (auto p : *o->portions()) portions.push_back(p);
          }
          Json denials = Json::array();
          if (o->denials() != nullptr) {
            for (const auto* d : *o->denials()) {
              denials.push_back({{"index", d->index()},
                                 {"label", Str(d->label())},
                                 {"reason", Str(d->reason())},
                                 {"explanation", Str(d->explanation())}});
            }
          }
          outcomes.push_back({{"nation", Str(o->nation())},
                              {"node_id", Str(o->node_id())},
                              {"state", schema::EnumNameDeliveryState(o->state())},
                              {"portions", portions},
                              {"denials", denials},
                              {"reason", Str(o->reason())},
                              {"explanation", Str(o->explanation())},
                              {"record_seq", o->record_seq()}});
        }
      }
      Json j = {{"report_id_hex", Hex(b->report_id())},
                {"accepted", b->accepted()},
                {"duplicate", b->duplicate()},
                {"outcomes", outcomes}};
      if (b->error() != nullptr) {
        j["error"] = {{"reason", Str(b->error()->reason())},
                      {"message", Str(b->error()->message())},
                      {"retry_after_ms", b->error()->retry_after_ms()}};
      }
      return j;
    }
    case schema::Body::Ack: {
      const auto* b = f.body_as_Ack();
      return {{"report_id_hex", Hex(b->report_id())}, {"signature_hex", Hex(b->signature())}};
    }
    case schema::Body::Ping:
      return {{"nonce", f.body_as_Ping()->nonce()}};
    case schema::Body::Pong:
      return {{"nonce", f.body_as_Pong()->nonce()}};
    case schema::Body::Error: {
      const auto* b = f.body_as_Error();
      Json j = {{"reason", Str(b->reason())}, {"message", Str(b->message())}};
      if (b->report_id() != nullptr) j["report_id_hex"] = Hex(b->report_id());
      if (b->retry_after_ms() != 0) j["retry_after_ms"] = b->retry_after_ms();
      return j;
    }
    case schema::Body::CheckpointRequest:
      return {{"old_size", f.body_as_CheckpointRequest()->old_size()}};
    case schema::Body::CheckpointReply: {
      const auto* b = f.body_as_CheckpointReply();
      return {
          {"note", Str(b->note())}, {"old_size", b->old_size()}, {"proof_hex", Hex(b->proof())}};
    }
    case schema::Body::Cosignature: {
      const auto* b = f.body_as_Cosignature();
      return {{"size", b->size()}, {"line", Str(b->line())}};
    }
    case schema::Body::ProofRequest:
      return {{"seq", f.body_as_ProofRequest()->seq()}};
    case schema::Body::ProofReply: {
      const auto* b = f.body_as_ProofReply();
      return {{"note", Str(b->note())},
              {"seq", b->seq()},
              {"record", Str(b->record())},
              {"proof_hex", Hex(b->proof())}};
    }
    case schema::Body::TrackRequest:
      return {{"report_id_hex", Hex(f.body_as_TrackRequest()->report_id())}};
    case schema::Body::TrackReply: {
      const auto* b = f.body_as_TrackReply();
      Json recipients = Json::array();
      if (b->recipients() != nullptr) {
        for (const auto* r : *b->recipients()) {
          recipients.push_back({{"node_id", Str(r->node_id())},
                                {"nation", Str(r->nation())},
                                {"state", Str(r->state())},
                                {"reason", Str(r->reason())},
                                {"updated_unix", r->updated_unix()},
                                {"record_seq", r->record_seq()}});
        }
      }
      return {{"report_id_hex", Hex(b->report_id())}, {"recipients", recipients}};
    }
    case schema::Body::DirectoryChanged:
      return {{"revocation_sequence", f.body_as_DirectoryChanged()->revocation_sequence()}};
    case schema::Body::ReleaseRequest: {
      const auto* b = f.body_as_ReleaseRequest();
      return {{"request_id_hex", Hex(b->request_id())},
              {"report_id_hex", Hex(b->report_id())},
              {"portion", b->portion()},
              {"to_nation", Str(b->to_nation())},
              {"why", Str(b->why())}};
    }
    case schema::Body::ReleaseNotice: {
      const auto* b = f.body_as_ReleaseNotice();
      return {{"request_id_hex", Hex(b->request_id())},
              {"report_id_hex", Hex(b->report_id())},
              {"portion", b->portion()},
              {"to_nation", Str(b->to_nation())},
              {"why", Str(b->why())},
              {"requester", Str(b->requester())},
              {"requester_nation", Str(b->requester_nation())},
              {"requested_unix", b->requested_unix()}};
    }
    case schema::Body::ReleaseDecision: {
      const auto* b = f.body_as_ReleaseDecision();
      return {{"decision_hex", Hex(b->decision())},
              {"signature_hex", Hex(b->signature())},
              {"report_hex", Hex(b->report())}};
    }
    case schema::Body::ReleaseStatus: {
      const auto* b = f.body_as_ReleaseStatus();
      return {{"request_id_hex", Hex(b->request_id())},
              {"report_id_hex", Hex(b->report_id())},
              {"portion", b->portion()},
              {"to_nation", Str(b->to_nation())},
              {"state", Str(b->state())},
              {"reason", Str(b->reason())},
              {"explanation", Str(b->explanation())},
              {"label", Str(b->label())},
              {"release_report_id_hex", Hex(b->release_report_id())},
              {"sanitised", b->sanitised()},
              {"rule", Str(b->rule())},
              {"requester", Str(b->requester())},
              {"originator", Str(b->originator())},
              {"requested_unix", b->requested_unix()},
              {"decided_unix", b->decided_unix()},
              {"record_seq", b->record_seq()}};
    }
    default:
      return {{"unknown_body", schema::EnumNameBody(f.body_type())}};
  }
}

class VectorChecker {
 public:
  explicit VectorChecker(std::map<std::string, std::string> files) : files_(std::move(files)) {
    const Json root = Json::parse(files_.at("coalition/root.json"));
    auto cert = Certificate::Decode(Unhex(root["certificate_hex"]));
    EXPECT_TRUE(cert.ok());
    auto trust = TrustStore::Create(*cert, nullptr);
    EXPECT_TRUE(trust.ok());
    trust_ = std::make_unique<TrustStore>(std::move(trust).value());
    const Json policy = Json::parse(files_.at("coalition/policy.json"));
    auto parsed = Policy::Parse(policy["toml"].get<std::string>(), "coalition/policy.json");
    EXPECT_TRUE(parsed.ok());
    policy_ = std::make_unique<Policy>(std::move(parsed).value());
    ctx_ = {policy_.get(), trust_.get(), &files_};
  }

  // Checks one vector; returns its kind.
  std::string Check(const std::string& path, const Json& v) {
    SCOPED_TRACE(path);
    EXPECT_TRUE(v.contains("description") && !v["description"].get<std::string>().empty());
    const std::string kind = v.value("kind", "");
    if (kind == "identity") CheckIdentity(v);
    if (kind == "certificate_verification") CheckCertificate(v);
    if (kind == "wire_frame") CheckFrame(v);
    if (kind == "checkpoint") CheckCheckpoint(v);
    if (kind == "cosignature") CheckCosignature(v);
    if (kind == "policy") testing::CheckPolicyVector(v);
    if (kind == "sealed_report") testing::CheckSealedReportVector(v, ctx_);
    if (kind == "report_rejection") testing::CheckReportRejectionVector(v, ctx_);
    if (kind == "forward") testing::CheckForwardVector(v, ctx_);
    if (kind == "forward_rejection") testing::CheckForwardRejectionVector(v, ctx_);
    if (kind == "revocation_list") testing::CheckRevocationVector(v, ctx_);
    if (kind == "audit_directory") testing::CheckAuditDirectoryVector(v);
    return kind;
  }

 private:
  std::string Verdict(const Status& st) { return st.ok() ? "OK" : st.reason(); }

  void CheckIdentity(const Json& v) {
    const auto bytes = Unhex(v["certificate_hex"]);
    auto cert = trust_->VerifyCertificateBytes(bytes, v["verify_at"].get<std::int64_t>());
    ASSERT_TRUE(cert.ok()) << cert.status().ToString();
    EXPECT_EQ(v["expect"].get<std::string>(), "OK");
    EXPECT_EQ(ToHex(cert->body()), v["certificate_body_hex"].get<std::string>());
    EXPECT_EQ(cert->FingerprintHex(), v["fingerprint_hex"].get<std::string>());
    const Json& f = v["fields"];
    EXPECT_EQ(cert->fields().serial, f["serial"].get<std::uint64_t>());
    EXPECT_EQ(RoleName(cert->role()), f["role"].get<std::string>());
    EXPECT_EQ(cert->node_id(), f["node_id"].get<std::string>());
    EXPECT_EQ(cert->fields().not_before, f["not_before"].get<std::int64_t>());
    EXPECT_EQ(cert->fields().not_after, f["not_after"].get<std::int64_t>());
    EXPECT_EQ(ToHex(cert->fields().signing_key), f["signing_key_hex"].get<std::string>());
    // The secret key file loads and its keys are the certificate's.
    testing::TempDir dir;
    const fs::path file = dir / "k.secret";
    {
      const auto secret = Unhex(v["secret_file_hex"]);
      std::ofstream(file, std::ios::binary)
          .write(reinterpret_cast<const char*>(secret.data()),
                 static_cast<std::streamsize>(secret.size()));
      ::chmod(file.c_str(), 0600);
    }
    if (cert->role() == CertRole::kRoot) {
      auto key = ReadRootSecret(file);
      ASSERT_TRUE(key.ok()) << key.status().ToString();
      EXPECT_EQ(key->public_key, cert->fields().signing_key);
    } else {
      EXPECT_EQ(cert->fields().nation, f["nation"].get<std::string>());
      EXPECT_EQ(cert->fields().clearance, f["clearance"].get<std::string>());
      EXPECT_EQ(ToHex(cert->fields().encryption_key), f["encryption_key_hex"].get<std::string>());
      EXPECT_EQ(ToHex(cert->fields().transport_key), f["transport_key_hex"].get<std::string>());
      auto keys = ReadIdentitySecret(file);
      ASSERT_TRUE(keys.ok()) << keys.status().ToString();
      EXPECT_EQ(keys->signing.public_key, cert->fields().signing_key);
      EXPECT_EQ(keys->encryption.public_key, cert->fields().encryption_key);
      EXPECT_EQ(keys->transport.public_key, cert->fields().transport_key);
    }
  }

  void CheckCertificate(const Json& v) {
    auto cert = trust_->VerifyCertificateBytes(Unhex(v["certificate_hex"]),
                                               v["verify_at"].get<std::int64_t>());
    EXPECT_EQ(Verdict(cert.ok() ? Status::Ok() : cert.status()), v["expect"].get<std::string>());
  }

  void CheckFrame(const Json& v) {
    const auto bytes = Unhex(v["frame_hex"]);
    std::vector<std::uint8_t> storage;
    auto frame = DecodeFrame(AlignedForDecode(bytes, storage));
    ASSERT_TRUE(frame.ok()) << frame.status().ToString();
    EXPECT_EQ((*frame)->version(), v["version"].get<std::uint16_t>());
    EXPECT_EQ((*frame)->request_id(), v["request_id"].get<std::uint64_t>());
    EXPECT_EQ(PeekRequestId(bytes), v["request_id"].get<std::uint64_t>());
    EXPECT_EQ(std::string(schema::EnumNameBody((*frame)->body_type())),
              v["body_type"].get<std::string>());
    EXPECT_EQ(DecodedFields(**frame), v["fields"]);
    if ((*frame)->body_type() == schema::Body::ReleaseDecision) CheckReleaseDecision(**frame);
  }

  // The originator's signature covers the exact TLRD bytes, and they decode.
  void CheckReleaseDecision(const schema::Frame& f) {
    const auto* d = f.body_as_ReleaseDecision();
    ASSERT_NE(d->decision(), nullptr);
    const std::span<const std::uint8_t> body(d->decision()->data(), d->decision()->size());
    auto decoded = DecodeReleaseDecisionBody(body);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    const Json usa = Json::parse(files_.at("coalition/usa-1.json"));
    const auto key_bytes = Unhex(usa["fields"]["signing_key_hex"]);
    PublicKey key{};
    ASSERT_EQ(key_bytes.size(), key.size());
    std::copy(key_bytes.begin(), key_bytes.end(), key.begin());
    ASSERT_NE(d->signature(), nullptr);
    EXPECT_TRUE(VerifyWithDomain(key, kReleaseDecisionDomain, body,
                                 {d->signature()->data(), d->signature()->size()}));
  }

  void CheckCheckpoint(const Json& v) {
    auto key = ParseNoteVerifierKey(v["log_key"].get<std::string>());
    ASSERT_TRUE(key.ok());
    auto opened =
        OpenCheckpoint(v["note"].get<std::string>(), v["expected_origin"].get<std::string>(), *key);
    EXPECT_EQ(Verdict(opened.ok() ? Status::Ok() : opened.status()),
              v["expect"].get<std::string>());
    if (opened.ok()) {
      EXPECT_EQ(opened->checkpoint.tree_size, v["tree_size"].get<std::uint64_t>());
      EXPECT_EQ(ToHex(opened->checkpoint.root_hash), v["root_hash_hex"].get<std::string>());
    }
  }

  void CheckCosignature(const Json& v) {
    auto key = ParseNoteVerifierKey(v["witness_key"].get<std::string>());
    ASSERT_TRUE(key.ok());
    auto checkpoint = ParseCheckpointBody(v["checkpoint_text"].get<std::string>());
    ASSERT_TRUE(checkpoint.ok());
    auto ts = VerifyCosignature(*checkpoint, v["line"].get<std::string>(), *key);
    EXPECT_EQ(Verdict(ts.ok() ? Status::Ok() : ts.status()), v["expect"].get<std::string>());
    if (ts.ok()) {
      EXPECT_EQ(*ts, v["timestamp"].get<std::uint64_t>());
    }
  }

  std::map<std::string, std::string> files_;
  std::unique_ptr<TrustStore> trust_;
  std::unique_ptr<Policy> policy_;
  testing::VectorContext ctx_;
};

TEST(ConformanceVectorsTest, EveryCommittedVectorChecks) {
  const auto files = CommittedFiles();
  ASSERT_FALSE(files.empty()) << "no vectors under " << VectorsDir();
  VectorChecker checker(files);
  std::map<std::string, int> by_kind;
  std::set<std::string> frame_types;
  for (const auto& [path, text] : files) {
    const Json v = Json::parse(text);
    ++by_kind[checker.Check(path, v)];
    if (v.value("kind", "") == "wire_frame") frame_types.insert(v["body_type"].get<std::string>());
  }
  EXPECT_EQ(by_kind.count(""), 0u) << "a vector without a known kind";
  // Every frame type of the wire schema has a vector.
  for (auto type : schema::EnumValuesBody()) {
    if (type == schema::Body::NONE) continue;
    EXPECT_TRUE(frame_types.contains(schema::EnumNameBody(type))) << schema::EnumNameBody(type);
  }
  std::cout << "[ vectors  ] checked " << files.size() << " conformance vectors:";
  for (const auto& [kind, n] : by_kind) std::cout << " " << kind << "=" << n;
  std::cout << "\n";
  ::testing::Test::RecordProperty("vectors_checked", static_cast<int>(files.size()));
}

// The committed files are exactly what the generator writes: regenerate with
// `tearline-vectors tests/vectors` after a deliberate change, and review the diff.
TEST(ConformanceVectorsTest, TheGeneratorReproducesTheCommittedFilesByteForByte) {
  auto generated = tools::GenerateVectors();
  ASSERT_TRUE(generated.ok()) << generated.status().ToString();
  const auto committed = CommittedFiles();
  std::set<std::string> paths;
  for (const tools::VectorFile& f : *generated) {
    paths.insert(f.path);
    auto it = committed.find(f.path);
    ASSERT_NE(it, committed.end()) << f.path << " is generated but not committed";
    EXPECT_EQ(it->second, f.text) << f.path << " differs from what the generator writes";
  }
  for (const auto& [path, text] : committed) {
    EXPECT_TRUE(paths.contains(path)) << path << " is committed but no longer generated";
  }
  // Deterministic: a second run gives the same bytes.
  auto again = tools::GenerateVectors();
  ASSERT_TRUE(again.ok());
  ASSERT_EQ(again->size(), generated->size());
  for (std::size_t i = 0; i < again->size(); ++i) {
    EXPECT_EQ((*again)[i].text, (*generated)[i].text) << (*again)[i].path;
  }
}

// The checker can fail: a vector whose expectation is altered is caught.
TEST(ConformanceVectorsTest, AnAlteredVectorFails) {
  auto files = CommittedFiles();
  ASSERT_TRUE(files.contains("wire/ping.json"));
  Json ping = Json::parse(files.at("wire/ping.json"));
  ping["fields"]["nonce"] = 43;
  VectorChecker checker(files);
  ::testing::TestPartResultArray failures;
  {
    ::testing::ScopedFakeTestPartResultReporter reporter(
        ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &failures);
    // The failures below are the point of this test: they are intercepted, not reported.
    checker.Check("wire/ping.json", ping);
  }
  EXPECT_GE(failures.size(), 1);
  EXPECT_TRUE(failures.GetTestPartResult(0).failed());
}

// The checks of the newer kinds can fail too: an opening with other content, a rejection with
// another reason, a revocation verdict and an audit verdict that are not the verifier's are each
// caught.
TEST(ConformanceVectorsTest, AlteredReportForwardRevocationAndAuditVectorsFail) {
  const auto files = CommittedFiles();
  VectorChecker checker(files);
  auto altered = [&](const std::string& path, const std::function<void(Json&)>& change) {
    SCOPED_TRACE(path);
    ASSERT_TRUE(files.contains(path));
    Json v = Json::parse(files.at(path));
    change(v);
    ::testing::TestPartResultArray failures;
    {
      ::testing::ScopedFakeTestPartResultReporter reporter(
          ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &failures);
      checker.Check(path, v);
    }
    EXPECT_GE(failures.size(), 1);
  };
  altered("sealed_reports/mixed.json",
          [](Json& v) { v["openings"][1]["portions"][0]["plaintext_hex"] = "00"; });
  altered("sealed_reports/mixed.json",
          [](Json& v) { v["withheld_by_sender"][0]["reason"] = "NOT_RELEASABLE"; });
  altered("sealed_reports/reject_tampered_body.json",
          [](Json& v) { v["expect"] = "ENVELOPE_BAD_SIGNATURE"; });
  altered("forwards/forward.json", [](Json& v) { v["grant"]["target_nation"] = "GBR"; });
  altered("forwards/reject_body_not_granted.json",
          [](Json& v) { v["expect"] = "ENVELOPE_MALFORMED"; });
  altered("revocation_lists/stale_older.json", [](Json& v) { v["expect"] = "OK"; });
  altered("audit_directories/good.json", [](Json& v) { v["min_witnesses"] = 3; });
  altered("audit_directories/torn_tail.json", [](Json& v) { v["expect"] = "OK"; });
}

}  // namespace
}  // namespace tearline
