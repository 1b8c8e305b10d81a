#include "tearline/identity/key_rotation.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tearline/base/clock.h"
#include "tearline/crypto/keys.h"
#include "tearline/identity/certificate.h"
#include "tearline/identity/directory.h"
#include "tearline/identity/revocation.h"
#include "tearline/identity/trust_store.h"

namespace tearline {
namespace {

constexpr std::int64_t kStart = 1'800'000'000;
constexpr std::int64_t kDay = 86400;
constexpr std::int64_t kOverlap = 7 * kDay;

class KeyRotationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto root_key = GenerateSigningKeyPair();
    ASSERT_TRUE(root_key.ok());
    root_key_ = std::make_unique<SigningKeyPair>(std::move(root_key).value());
    CertificateFields f;
    f.serial = 1;
    f.role = CertRole::kRoot;
    f.node_id = "root";
    f.not_before = kStart - kDay;
    f.not_after = kStart + 365 * kDay;
    f.signing_key = root_key_->public_key;
    auto root = IssueCertificate(*root_key_, f);
    ASSERT_TRUE(root.ok());
    auto trust = TrustStore::Create(std::move(root).value(), nullptr);
    ASSERT_TRUE(trust.ok());
    trust_ = std::make_unique<TrustStore>(std::move(trust).value());
  }

  // A certificate of usa-1 with fresh keys, valid from `not_before` for `days` days.
  Certificate Issue(std::uint64_t serial, std::int64_t not_before, std::int64_t days = 90) {
    auto keys = GenerateIdentityKeys();
    EXPECT_TRUE(keys.ok());
    CertificateFields f;
    f.serial = serial;
    f.role = CertRole::kNode;
    f.node_id = "usa-1";
    f.nation = "USA";
    f.clearance = "SECRET";
    f.not_before = not_before;
    f.not_after = not_before + days * kDay;
    f.signing_key = keys->signing.public_key;
    f.encryption_key = keys->encryption.public_key;
    f.transport_key = keys->transport.public_key;
    auto cert = IssueCertificate(*root_key_, f);
    EXPECT_TRUE(cert.ok()) << cert.status().ToString();
    return std::move(cert).value();
  }

  // SelectInForce over `certs` as the trust store sees them at the clock's time.
  CertificatesInForce Select(const std::vector<Certificate>& certs) {
    std::vector<RotationCandidate> candidates;
    for (const Certificate& c : certs) {
      candidates.push_back(
          RotationCandidate{&c, trust_->VerifyCertificate(c, clock_.UnixNow()).ok()});
    }
    return SelectInForce(candidates, clock_.UnixNow(), kOverlap);
  }

  void Revoke(std::uint64_t sequence, std::vector<RevocationEntry> entries) {
    auto list = RevocationList::Issue(*root_key_, sequence, clock_.UnixNow(), std::move(entries));
    ASSERT_TRUE(list.ok());
    ASSERT_TRUE(trust_->UpdateRevocations(std::move(list).value()).ok());
  }

  void AdvanceDays(double days) {
    clock_.Advance(std::chrono::seconds(static_cast<std::int64_t>(days * kDay)));
  }

  FakeClock clock_{kStart};
  std::unique_ptr<SigningKeyPair> root_key_;
  std::unique_ptr<TrustStore> trust_;
};

TEST_F(KeyRotationTest, OverlapEndsAtTheEarlierOfExpiryAndTheConfiguredWindow) {
  const Certificate old_cert = Issue(1, kStart - 80 * kDay);  // Expires at kStart + 10 days.
  const Certificate new_cert = Issue(2, kStart);
  EXPECT_EQ(OverlapEnd(old_cert, new_cert, kOverlap), kStart + kOverlap);
  EXPECT_EQ(OverlapEnd(old_cert, new_cert, 30 * kDay), kStart + 10 * kDay);
  EXPECT_EQ(OverlapEnd(old_cert, new_cert, 0), kStart);
  EXPECT_EQ(OverlapEnd(old_cert, new_cert, INT64_MAX), kStart + 10 * kDay);
}

TEST_F(KeyRotationTest, AloneTheOnlyCertificateIsCurrent) {
  const std::vector<Certificate> certs = {Issue(1, kStart - kDay)};
  const CertificatesInForce s = Select(certs);
  EXPECT_EQ(s.current, 0u);
  EXPECT_FALSE(s.previous);
}

TEST_F(KeyRotationTest, BeforeTheNewCertificateIsValidTheOldOneAloneIsInForce) {
  const std::vector<Certificate> certs = {Issue(2, kStart + kDay), Issue(1, kStart - kDay)};
  const CertificatesInForce s = Select(certs);
  EXPECT_EQ(s.current, 1u);
  EXPECT_FALSE(s.previous);
  AdvanceDays(1);  // The new one starts: both are in force, the new one current.
  const CertificatesInForce t = Select(certs);
  EXPECT_EQ(t.current, 0u);
  EXPECT_EQ(t.previous, 1u);
}

TEST_F(KeyRotationTest, WithinTheOverlapBothAreInForceAndAfterItOnlyTheNewOne) {
  const std::vector<Certificate> certs = {Issue(1, kStart - kDay), Issue(2, kStart)};
  EXPECT_EQ(Select(certs).previous, 0u);
  AdvanceDays(6.9);
  EXPECT_EQ(Select(certs).previous, 0u);
  AdvanceDays(0.1);  // Exactly not_before + overlap: the window is half-open.
  const CertificatesInForce s = Select(certs);
  EXPECT_EQ(s.current, 1u);
  EXPECT_FALSE(s.previous);
}

TEST_F(KeyRotationTest, AnExpiredOldCertificateEndsTheOverlapEarly) {
  const std::vector<Certificate> certs = {Issue(1, kStart - 88 * kDay), Issue(2, kStart)};
  EXPECT_EQ(Select(certs).previous, 0u);
  AdvanceDays(2);  // The old one expires two days into a seven-day overlap.
  const CertificatesInForce s = Select(certs);
  EXPECT_EQ(s.current, 1u);
  EXPECT_FALSE(s.previous);
}

TEST_F(KeyRotationTest, RevokingTheOldSerialEndsTheOverlapAndKeepsTheNewOne) {
  const std::vector<Certificate> certs = {Issue(1, kStart - kDay), Issue(2, kStart)};
  Revoke(1, {RevocationEntry{"usa-1", 1}});
  const CertificatesInForce s = Select(certs);
  EXPECT_EQ(s.current, 1u);
  EXPECT_FALSE(s.previous);
}

TEST_F(KeyRotationTest, RevokingTheNewSerialFallsBackToTheOldOneAlone) {
  const std::vector<Certificate> certs = {Issue(1, kStart - kDay), Issue(2, kStart)};
  Revoke(1, {RevocationEntry{"usa-1", 2}});
  const CertificatesInForce s = Select(certs);
  EXPECT_EQ(s.current, 0u);
  EXPECT_FALSE(s.previous);
}

TEST_F(KeyRotationTest, TwoRotationsInARowKeepOnlyTheImmediatePredecessor) {
  const std::vector<Certificate> certs = {Issue(1, kStart - kDay), Issue(2, kStart),
                                          Issue(3, kStart + kDay)};
  AdvanceDays(1);  // Serial 3 starts one day into serial 2's overlap.
  const CertificatesInForce s = Select(certs);
  EXPECT_EQ(s.current, 2u);
  EXPECT_EQ(s.previous, 1u);  // Serial 1 is retired although its own window had days left.
  AdvanceDays(7);
  EXPECT_FALSE(Select(certs).previous);
}

TEST_F(KeyRotationTest, ARevokedIntermediateSerialNeverBringsAnOlderKeyBack) {
  const std::vector<Certificate> certs = {Issue(1, kStart - kDay), Issue(2, kStart),
                                          Issue(3, kStart)};
  Revoke(1, {RevocationEntry{"usa-1", 2}});
  const CertificatesInForce s = Select(certs);
  EXPECT_EQ(s.current, 2u);
  EXPECT_FALSE(s.previous);
}

TEST_F(KeyRotationTest, TheDirectoryServesTheNewCertificateAndAuthenticatesBoth) {
  const Certificate old_cert = Issue(1, kStart - kDay);
  const Certificate new_cert = Issue(2, kStart);
  const Directory dir = Directory::Build({old_cert.encoded(), new_cert.encoded()}, *trust_,
                                         clock_.UnixNow(), nullptr, kOverlap);
  ASSERT_NE(dir.FindNode("usa-1"), nullptr);
  EXPECT_EQ(dir.FindNode("usa-1")->fields().serial, 2u);
  ASSERT_NE(dir.FindPrevious("usa-1"), nullptr);
  EXPECT_EQ(dir.FindPrevious("usa-1")->fields().serial, 1u);
  EXPECT_EQ(dir.FindByTransportKey(old_cert.fields().transport_key)->fields().serial, 1u);
  EXPECT_EQ(dir.FindByTransportKey(new_cert.fields().transport_key)->fields().serial, 2u);
  EXPECT_EQ(dir.EncodedCertificates(), std::vector<std::vector<std::uint8_t>>{new_cert.encoded()});
  EXPECT_EQ(dir.NextChangeAt(), kStart + kOverlap);
  EXPECT_EQ(dir.FindRetiredByTransportKey(old_cert.fields().transport_key), nullptr);

  AdvanceDays(7);  // Rebuilt after the overlap, from everything it held.
  const Directory later =
      Directory::Build(dir.AllEncodedCertificates(), *trust_, clock_.UnixNow(), nullptr, kOverlap);
  EXPECT_EQ(later.FindNode("usa-1")->fields().serial, 2u);
  EXPECT_EQ(later.FindPrevious("usa-1"), nullptr);
  EXPECT_EQ(later.FindByTransportKey(old_cert.fields().transport_key), nullptr);
  ASSERT_NE(later.FindRetiredByTransportKey(old_cert.fields().transport_key), nullptr);
  EXPECT_EQ(later.NextChangeAt(), new_cert.fields().not_after);
}

TEST_F(KeyRotationTest, WithoutAnOverlapTheDirectoryKeepsTheNewestSerialOnly) {
  const Certificate old_cert = Issue(1, kStart - kDay);
  const Certificate new_cert = Issue(2, kStart);
  const Directory dir =
      Directory::Build({new_cert.encoded(), old_cert.encoded()}, *trust_, clock_.UnixNow());
  EXPECT_EQ(dir.FindNode("usa-1")->fields().serial, 2u);
  EXPECT_EQ(dir.FindPrevious("usa-1"), nullptr);
  EXPECT_EQ(dir.FindByTransportKey(old_cert.fields().transport_key), nullptr);
  EXPECT_NE(dir.FindRetiredByTransportKey(old_cert.fields().transport_key), nullptr);
}

}  // namespace
}  // namespace tearline
