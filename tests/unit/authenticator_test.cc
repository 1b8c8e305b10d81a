#include "tearline/broker/authenticator.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <nlohmann/json.hpp>

#include "mini_coalition.h"
#include "tearline/audit/audit_log.h"
#include "tearline/base/clock.h"
#include "test_support.h"

namespace tearline::broker {
namespace {

using testing::MiniCoalition;
using testing::TempDir;

class AuthenticatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto log = AuditLog::Open(dir_ / "audit");
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    log_ = std::move(log).value();
    auditor_ = std::make_unique<Auditor>(*log_, nullptr);
    auth_ = std::make_unique<Authenticator>(coalition_.directory(), coalition_.trust(), clock_,
                                            *auditor_, 2, [this] { return sessions_.load() < 2; });
  }

  std::array<std::uint8_t, 32> KeyOf(const std::string& node) const {
    return coalition_.keys(node).transport.public_key;
  }
  std::vector<nlohmann::json> Refusals() const {
    std::vector<nlohmann::json> out;
    for (std::uint64_t i = 0; i < log_->size(); ++i) {
      auto j = nlohmann::json::parse(*log_->Record(i));
      if (j["type"] == "connection_refused") out.push_back(j);
    }
    return out;
  }

  FakeClock clock_{1'800'000'000};
  MiniCoalition coalition_{1'800'000'000};
  TempDir dir_;
  std::unique_ptr<AuditLog> log_;
  std::unique_ptr<Auditor> auditor_;
  std::atomic<std::uint32_t> sessions_{0};
  std::unique_ptr<Authenticator> auth_;
};

TEST_F(AuthenticatorTest, KnownKeyWithValidCertificateIsServedAsItsNode) {
  auto who = auth_->Authenticate(KeyOf("gbr-1"), "10.0.0.1");
  ASSERT_TRUE(who.ok()) << who.status().ToString();
  EXPECT_EQ(*who, "gbr-1");
  EXPECT_TRUE(Refusals().empty());
}

TEST_F(AuthenticatorTest, UnknownKeyIsRefusedAndAudited) {
  std::array<std::uint8_t, 32> stranger{};
  stranger.fill(7);
  auto who = auth_->Authenticate(stranger, "10.0.0.9");
  ASSERT_FALSE(who.ok());
  EXPECT_EQ(who.status().reason(), "AUTH_UNKNOWN_KEY");
  const auto refusals = Refusals();
  ASSERT_EQ(refusals.size(), 1u);
  EXPECT_EQ(refusals[0]["peer_address"], "10.0.0.9");
  EXPECT_EQ(refusals[0]["reason"], "AUTH_UNKNOWN_KEY");
}

TEST_F(AuthenticatorTest, ExpiredCertificateIsRefused) {
  clock_.SetUnix(1'800'000'000 + 2 * 365 * 86400);
  auto who = auth_->Authenticate(KeyOf("gbr-1"), "10.0.0.1");
  ASSERT_FALSE(who.ok());
  EXPECT_NE(who.status().reason().find("CERT_"), std::string::npos) << who.status().ToString();
}

TEST_F(AuthenticatorTest, ConnectionLimit) {
  sessions_ = 2;
  auto who = auth_->Authenticate(KeyOf("gbr-1"), "10.0.0.1");
  ASSERT_FALSE(who.ok());
  EXPECT_EQ(who.status().reason(), "CONNECTION_LIMIT");
  sessions_ = 1;
  EXPECT_TRUE(auth_->Authenticate(KeyOf("gbr-1"), "10.0.0.1").ok());
}

TEST_F(AuthenticatorTest, RefusalsAreAuditedOncePerAddressPerSecond) {
  std::array<std::uint8_t, 32> stranger{};
  for (int i = 0; i < 5; ++i) {
    EXPECT_FALSE(auth_->Authenticate(stranger, "10.0.0.9").ok());
    clock_.Advance(std::chrono::milliseconds(100));
  }
  EXPECT_FALSE(auth_->Authenticate(stranger, "10.0.0.10").ok());  // Another address: own budget.
  EXPECT_EQ(Refusals().size(), 2u);
  clock_.Advance(std::chrono::milliseconds(500));  // 1 s after the first record.
  EXPECT_FALSE(auth_->Authenticate(stranger, "10.0.0.9").ok());
  const auto refusals = Refusals();
  ASSERT_EQ(refusals.size(), 3u);
  EXPECT_EQ(refusals[0]["suppressed"], 0);
  EXPECT_EQ(refusals[2]["peer_address"], "10.0.0.9");
  EXPECT_EQ(refusals[2]["suppressed"], 4);
}

}  // namespace
}  // namespace tearline::broker
