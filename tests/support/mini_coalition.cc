#include "mini_coalition.h"

#include <gtest/gtest.h>

#include <cstdlib>

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

MiniCoalition::MiniCoalition(std::int64_t now_unix)
    : MiniCoalition(now_unix,
                    {{"usa-1", "USA", "TOP SECRET"},
                     {"gbr-1", "GBR", "SECRET"},
                     {"gbr-2", "GBR", "CONFIDENTIAL"},
                     {"jpn-1", "JPN", "SECRET"}},
                    365 * 86400) {}

MiniCoalition::MiniCoalition(std::int64_t now_unix, const std::vector<Member>& members,
                             std::int64_t valid_seconds)
    : now_unix_(now_unix), valid_seconds_(valid_seconds) {
  if (!InitCrypto().ok()) std::abort();
  policy_ = std::make_shared<const Policy>(CoalitionPolicy());
  root_keys_ = std::make_unique<SigningKeyPair>(Must(GenerateSigningKeyPair(), "root keys"));
  CertificateFields rf;
  rf.serial = next_serial_++;
  rf.role = CertRole::kRoot;
  rf.node_id = std::string(kRootNodeId);
  rf.not_before = now_unix - 10;
  rf.not_after = now_unix + valid_seconds;
  rf.signing_key = root_keys_->public_key;
  root_cert_.emplace(Must(IssueCertificate(*root_keys_, rf), "root certificate"));
  trust_ = std::make_unique<TrustStore>(NewTrust());
  for (const Member& m : members) Issue(m.id, m.nation, m.clearance, m.role);
}

TrustStore MiniCoalition::NewTrust() const {
  return Must(TrustStore::Create(*root_cert_, policy_), "trust store");
}

void MiniCoalition::Issue(const std::string& id, const std::string& nation,
                          const std::string& clearance, CertRole role) {
  IdentityKeys keys = Must(GenerateIdentityKeys(), "member keys");
  CertificateFields f;
  f.serial = next_serial_++;
  f.role = role;
  f.node_id = id;
  f.nation = nation;
  f.clearance = clearance;
  f.not_before = now_unix_ - 10;
  f.not_after = now_unix_ + valid_seconds_;
  f.signing_key = keys.signing.public_key;
  f.encryption_key = keys.encryption.public_key;
  f.transport_key = keys.transport.public_key;
  Certificate cert = Must(IssueCertificate(*root_keys_, f), "member certificate");
  members_.insert_or_assign(id, Entry{std::move(keys), std::move(cert)});
  if (role != CertRole::kNode) return;
  std::vector<Status> rejected;
  directory_ = Directory::Build(NodeCertificates(), *trust_, now_unix_, &rejected);
  if (!rejected.empty()) {
    ADD_FAILURE() << "directory rejected " << rejected.front().ToString();
    std::abort();
  }
}

std::vector<std::vector<std::uint8_t>> MiniCoalition::NodeCertificates() const {
  std::vector<std::vector<std::uint8_t>> out;
  for (const auto& [id, m] : members_) {
    if (m.cert.role() == CertRole::kNode) out.push_back(m.cert.encoded());
  }
  return out;
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
  return Must(tearline::Seal(in, members_.at(originator).keys.signing.secret_key, *policy_),
              "seal");
}

Signature MiniCoalition::AckSignature(const std::string& node_id, const ReportId& report_id) const {
  return Must(
      SignWithDomain(members_.at(node_id).keys.signing, kAckDomain, AckMessage(report_id, node_id)),
      "ack signature");
}

}  // namespace tearline::testing
