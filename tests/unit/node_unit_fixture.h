// Shared by the node daemon's unit tests: the in-process coalition (tests/support's
// MiniCoalition from a broker alone) with the node identity it yields, and recording fakes of the
// narrow interfaces the units act through (BrokerChannel, ControlReplier).
#ifndef TEARLINE_TESTS_UNIT_NODE_UNIT_FIXTURE_H_
#define TEARLINE_TESTS_UNIT_NODE_UNIT_FIXTURE_H_

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mini_coalition.h"
#include "tearline/crypto/keys.h"
#include "tearline/crypto/secure_memory.h"
#include "tearline/identity/certificate.h"
#include "tearline/identity/trust_store.h"
#include "tearline/node/broker_channel.h"
#include "tearline/node/node_identity.h"
#include "tearline/wire/wire.h"
#include "test_support.h"

namespace tearline::node::unit {

// The shared in-process coalition, starting from a broker alone (tests Issue() their nodes) with
// certificates valid for one day, plus the identity a node daemon would load.
class TestCoalition : public tearline::testing::MiniCoalition {
 public:
  explicit TestCoalition(std::int64_t now)
      : MiniCoalition(now, {{"broker", "USA", "TOP SECRET", CertRole::kBroker}}, 86400) {}

  // The identity a node daemon would load for `id`.
  NodeIdentity Identity(const std::string& id) const {
    NodeIdentity n;
    n.node_id = id;
    n.policy = shared_policy();
    n.trust.emplace(NewTrust());
    n.revocation_floor.emplace(RevocationFloor::Open({}, *n.trust).value());  // In memory.
    n.keys = CopyKeys(keys(id));
    n.own_cert.emplace(cert(id));
    n.broker_cert.emplace(cert("broker"));
    n.clearance = *policy().FindLevel(cert(id).fields().clearance);
    return n;
  }

 private:
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
