// Shared by the node daemon's unit tests: an in-process coalition (a root, a broker and nodes
// with fresh keys and real certificates, valid around a given time) and recording fakes of the
// narrow interfaces the units act through (BrokerChannel, ControlReplier).
#ifndef TEARLINE_TESTS_UNIT_NODE_UNIT_FIXTURE_H_
#define TEARLINE_TESTS_UNIT_NODE_UNIT_FIXTURE_H_

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tearline/crypto/keys.h"
#include "tearline/crypto/secure_memory.h"
#include "tearline/identity/certificate.h"
#include "tearline/identity/trust_store.h"
#include "tearline/node/broker_channel.h"
#include "tearline/node/node_identity.h"
#include "tearline/wire/wire.h"
#include "test_support.h"

namespace tearline::node::unit {

class TestCoalition {
 public:
  explicit TestCoalition(std::int64_t now) : now_(now) {
    EXPECT_TRUE(InitCrypto().ok());
    auto root = GenerateSigningKeyPair();
    EXPECT_TRUE(root.ok());
    root_keys_ = std::make_unique<SigningKeyPair>(std::move(root).value());
    CertificateFields rf;
    rf.serial = next_serial_++;
    rf.role = CertRole::kRoot;
    rf.node_id = std::string(kRootNodeId);
    rf.not_before = now - 10;
    rf.not_after = now + 86400;
    rf.signing_key = root_keys_->public_key;
    auto cert = IssueCertificate(*root_keys_, rf);
    EXPECT_TRUE(cert.ok()) << cert.status().ToString();
    root_cert_.emplace(std::move(cert).value());
    policy_ = std::make_shared<const Policy>(tearline::testing::CoalitionPolicy());
    Issue("broker", "USA", "TOP SECRET", CertRole::kBroker);
  }

  void Issue(const std::string& id, const std::string& nation, const std::string& clearance,
             CertRole role = CertRole::kNode) {
    auto keys = GenerateIdentityKeys();
    ASSERT_TRUE(keys.ok());
    CertificateFields f;
    f.serial = next_serial_++;
    f.role = role;
    f.node_id = id;
    f.nation = nation;
    f.clearance = clearance;
    f.not_before = now_ - 10;
    f.not_after = now_ + 86400;
    f.signing_key = keys->signing.public_key;
    f.encryption_key = keys->encryption.public_key;
    f.transport_key = keys->transport.public_key;
    auto cert = IssueCertificate(*root_keys_, f);
    ASSERT_TRUE(cert.ok()) << cert.status().ToString();
    members_[id] = Member{std::move(keys).value(), std::move(cert).value()};
  }

  TrustStore Trust() const {
    auto trust = TrustStore::Create(*root_cert_, policy_);
    EXPECT_TRUE(trust.ok()) << trust.status().ToString();
    return std::move(trust).value();
  }

  // The identity a node daemon would load for `id`.
  NodeIdentity Identity(const std::string& id) const {
    NodeIdentity n;
    n.node_id = id;
    n.policy = policy_;
    n.trust.emplace(Trust());
    const Member& m = members_.at(id);
    n.keys = CopyKeys(m.keys);
    n.own_cert.emplace(m.cert);
    n.broker_cert.emplace(members_.at("broker").cert);
    n.clearance = *policy_->FindLevel(m.cert.fields().clearance);
    return n;
  }

  // Encoded certificates of every node (not the broker), as a Directory frame carries them.
  std::vector<std::vector<std::uint8_t>> NodeCertificates() const {
    std::vector<std::vector<std::uint8_t>> out;
    for (const auto& [id, m] : members_) {
      if (m.cert.role() == CertRole::kNode) out.push_back(m.cert.encoded());
    }
    return out;
  }

  const Certificate& Cert(const std::string& id) const { return members_.at(id).cert; }
  const IdentityKeys& Keys(const std::string& id) const { return members_.at(id).keys; }
  const Policy& policy() const { return *policy_; }
  const SigningKeyPair& root_keys() const { return *root_keys_; }

 private:
  struct Member {
    IdentityKeys keys;
    Certificate cert;
  };
  static IdentityKeys CopyKeys(const IdentityKeys& k) {
    auto copy = [](const SecretBytes& b) {
      auto c = SecretBytes::CopyOf({b.data(), b.size()});
      EXPECT_TRUE(c.ok());
      return std::move(c).value();
    };
    IdentityKeys c;
    c.signing.public_key = k.signing.public_key;
    c.signing.secret_key = copy(k.signing.secret_key);
    c.encryption.public_key = k.encryption.public_key;
    c.encryption.secret_key = copy(k.encryption.secret_key);
    c.transport.public_key = k.transport.public_key;
    c.transport.secret_key = copy(k.transport.secret_key);
    return c;
  }

  std::int64_t now_;
  std::uint64_t next_serial_ = 1;
  std::unique_ptr<SigningKeyPair> root_keys_;
  std::optional<Certificate> root_cert_;
  std::shared_ptr<const Policy> policy_;
  std::map<std::string, Member> members_;
};

// Records every frame; `connected` false makes sends fail as with no connection.
class RecordingBroker final : public BrokerChannel {
 public:
  std::uint64_t NewRequestId() override { return next_id++; }
  bool Send(std::span<const std::uint8_t> frame) override {
    if (!connected) return false;
    sent.emplace_back(frame.begin(), frame.end());
    return true;
  }
  bool welcomed() const override { return is_welcomed; }

  // Body types of the recorded frames, in order.
  std::vector<schema::Body> Types() const {
    std::vector<schema::Body> out;
    for (const auto& f : sent) {
      auto d = DecodeFrame(f);
      out.push_back(d.ok() ? (*d)->body_type() : schema::Body::NONE);
    }
    return out;
  }
  std::size_t Count(schema::Body type) const {
    std::size_t n = 0;
    for (auto t : Types()) n += t == type ? 1 : 0;
    return n;
  }
  const schema::Frame* Frame(std::size_t i) const {
    auto d = DecodeFrame(sent.at(i));
    return d.ok() ? *d : nullptr;
  }
  const schema::Frame* Last() const { return sent.empty() ? nullptr : Frame(sent.size() - 1); }

  bool is_welcomed = true;
  bool connected = true;
  std::uint64_t next_id = 1;
  std::vector<std::vector<std::uint8_t>> sent;
};

class RecordingReplier final : public ControlReplier {
 public:
  void Reply(const std::string& client, std::string payload) override {
    replies.emplace_back(client, std::move(payload));
  }
  std::vector<std::pair<std::string, std::string>> replies;
};

}  // namespace tearline::node::unit

#endif  // TEARLINE_TESTS_UNIT_NODE_UNIT_FIXTURE_H_
