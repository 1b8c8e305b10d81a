#include "mini_coalition.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <tuple>

#include "tearline/identity/certificate.h"
#include "tearline/wire/wire.h"
#include "test_support.h"

namespace tearline::testing {
namespace {

template <typename T>
T Must(Result<T> r, const char* what) {
  if (!r.ok()) {
    ADD_FAILURE() << what << ": " << r.status().ToString();
    std::abort();
  }
  return std::move(r).value();
}

}  // namespace

MiniCoalition::MiniCoalition(std::int64_t now_unix) : now_unix_(now_unix) {
  if (!InitCrypto().ok()) std::abort();
  policy_ = std::make_shared<const Policy>(CoalitionPolicy());
  auto root_keys = Must(GenerateSigningKeyPair(), "root keys");
  CertificateFields rf;
  rf.serial = 1;
  rf.role = CertRole::kRoot;
  rf.node_id = std::string(kRootNodeId);
  rf.not_before = now_unix - 10;
  rf.not_after = now_unix + 365 * 86400;
  rf.signing_key = root_keys.public_key;
  auto root = Must(IssueCertificate(root_keys, rf), "root certificate");
  trust_ = std::make_unique<TrustStore>(Must(TrustStore::Create(root, policy_), "trust store"));
  std::vector<std::vector<std::uint8_t>> blobs;
  std::uint64_t serial = 2;
  for (auto [id, nation, clearance] :
       {std::tuple{"usa-1", "USA", "TOP SECRET"}, std::tuple{"gbr-1", "GBR", "SECRET"},
        std::tuple{"gbr-2", "GBR", "CONFIDENTIAL"}, std::tuple{"jpn-1", "JPN", "SECRET"}}) {
    auto keys = std::make_unique<IdentityKeys>(Must(GenerateIdentityKeys(), "node keys"));
    CertificateFields f;
    f.serial = serial++;
    f.role = CertRole::kNode;
    f.node_id = id;
    f.nation = nation;
    f.clearance = clearance;
    f.not_before = now_unix - 10;
    f.not_after = now_unix + 365 * 86400;
    f.signing_key = keys->signing.public_key;
    f.encryption_key = keys->encryption.public_key;
    f.transport_key = keys->transport.public_key;
    blobs.push_back(Must(IssueCertificate(root_keys, f), "node certificate").encoded());
    keys_[id] = std::move(keys);
  }
  std::vector<Status> rejected;
  directory_ = Directory::Build(blobs, *trust_, now_unix, &rejected);
  if (!rejected.empty() || directory_.nodes().size() != 4) std::abort();
}

SealedReport MiniCoalition::Seal(const std::string& originator,
                                 const std::vector<std::string>& markings,
                                 const std::vector<std::string>& intended_nations,
                                 std::int64_t expires_unix,
                                 std::optional<ReportId> report_id) const {
  SealInput in;
  in.report_id = report_id;
  in.originator = originator;
  in.originator_nation = directory_.FindNode(originator)->fields().nation;
  in.created_unix = now_unix_;
  in.expires_unix = expires_unix;
  for (const std::string& m : markings) {
    in.portions.push_back({m, std::vector<std::uint8_t>{'t', 'e', 'x', 't'}, std::nullopt});
  }
  for (const auto& [id, cert] : directory_.nodes()) {
    if (id == originator) continue;
    SealRecipient r;
    r.node_id = id;
    r.nation = cert.fields().nation;
    r.enc_public_key = cert.fields().encryption_key;
    in.recipients.push_back(r);
  }
  in.intended_nations = intended_nations;
  return Must(tearline::Seal(in, keys_.at(originator)->signing.secret_key, *policy_), "seal");
}

Signature MiniCoalition::AckSignature(const std::string& node_id, const ReportId& report_id) const {
  return Must(
      SignWithDomain(keys_.at(node_id)->signing, kAckDomain, AckMessage(report_id, node_id)),
      "ack signature");
}

}  // namespace tearline::testing
