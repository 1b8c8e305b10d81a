#include "tearline/identity/trust_store.h"

#include <flatbuffers/flatbuffers.h>
#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <vector>

#include "tearline/schemas/certificate_generated.h"
#include "test_support.h"

namespace tearline {
namespace {

namespace fs = std::filesystem;
using ::tearline::testing::CoalitionPolicy;
using ::tearline::testing::TempDir;

constexpr std::int64_t kNow = 1'800'000'000;
constexpr std::int64_t kDay = 86400;

Certificate MakeRoot(const SigningKeyPair& key, std::int64_t not_after = kNow + 365 * kDay) {
  CertificateFields f;
  f.serial = 1;
  f.role = CertRole::kRoot;
  f.node_id = "root";
  f.not_before = kNow - kDay;
  f.not_after = not_after;
  f.signing_key = key.public_key;
  auto cert = IssueCertificate(key, f);
  EXPECT_TRUE(cert.ok()) << cert.status().ToString();
  return std::move(cert).value();
}

Certificate MakeNode(const SigningKeyPair& root, std::uint64_t serial, std::string nation = "USA",
                     std::string clearance = "SECRET", std::int64_t not_before = kNow - 10,
                     std::int64_t not_after = kNow + 30 * kDay) {
  auto keys = GenerateIdentityKeys();
  EXPECT_TRUE(keys.ok());
  CertificateFields f;
  f.serial = serial;
  f.role = CertRole::kNode;
  f.node_id = "usa-1";
  f.nation = std::move(nation);
  f.clearance = std::move(clearance);
  f.not_before = not_before;
  f.not_after = not_after;
  f.signing_key = keys->signing.public_key;
  f.encryption_key = keys->encryption.public_key;
  f.transport_key = keys->transport.public_key;
  auto cert = IssueCertificate(root, f);
  EXPECT_TRUE(cert.ok()) << cert.status().ToString();
  return std::move(cert).value();
}

// Re-wraps `body` with `sig` in the canonical outer layout.
std::vector<std::uint8_t> Wrap(const std::vector<std::uint8_t>& body, const Signature& sig) {
  flatbuffers::FlatBufferBuilder fbb;
  fbb.ForceVectorAlignment(body.size(), 1, 8);
  const auto bv = fbb.CreateVector(body.data(), body.size());
  const auto sv = fbb.CreateVector(sig.data(), sig.size());
  fbb.Finish(schema::CreateCertificate(fbb, bv, sv), "TLCT");
  return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
}

void WriteFile(const fs::path& p, const std::vector<std::uint8_t>& data) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

class TrustStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto key = GenerateSigningKeyPair();
    ASSERT_TRUE(key.ok());
    root_key_ = std::move(key).value();
    auto store =
        TrustStore::Create(MakeRoot(root_key_), std::make_shared<const Policy>(CoalitionPolicy()));
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_.emplace(std::move(store).value());
  }

  SigningKeyPair root_key_;
  std::optional<TrustStore> store_;
};

TEST_F(TrustStoreTest, AcceptsValidCertificateAndTheRootItself) {
  Certificate cert = MakeNode(root_key_, 2);
  Status st = store_->VerifyCertificate(cert, kNow);
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_TRUE(store_->VerifyCertificate(store_->root(), kNow).ok());
  auto via_bytes = store_->VerifyCertificateBytes(cert.encoded(), kNow);
  ASSERT_TRUE(via_bytes.ok());
  EXPECT_EQ(via_bytes->node_id(), "usa-1");
}

TEST_F(TrustStoreTest, RejectsExpiredAndNotYetValid) {
  Certificate cert = MakeNode(root_key_, 2, "USA", "SECRET", kNow, kNow + kDay);
  EXPECT_TRUE(store_->VerifyCertificate(cert, kNow).ok());
  EXPECT_TRUE(store_->VerifyCertificate(cert, kNow + kDay - 1).ok());
  Status expired = store_->VerifyCertificate(cert, kNow + kDay);
  EXPECT_EQ(expired.reason(), "CERT_EXPIRED");
  EXPECT_EQ(expired.code(), Code::kExpired);
  EXPECT_EQ(store_->VerifyCertificate(cert, kNow - 1).reason(), "CERT_NOT_YET_VALID");
}

TEST_F(TrustStoreTest, ExpiredRootInvalidatesEverything) {
  auto key = GenerateSigningKeyPair();
  ASSERT_TRUE(key.ok());
  auto store = TrustStore::Create(MakeRoot(*key, kNow + kDay), nullptr);
  ASSERT_TRUE(store.ok());
  Certificate cert = MakeNode(*key, 2, "USA", "SECRET", kNow, kNow + 10 * kDay);
  EXPECT_TRUE(store->VerifyCertificate(cert, kNow).ok());
  EXPECT_EQ(store->VerifyCertificate(cert, kNow + 2 * kDay).reason(), "CERT_EXPIRED");
}

TEST_F(TrustStoreTest, RejectsRevokedSerialOnly) {
  Certificate old_cert = MakeNode(root_key_, 2);
  Certificate new_cert = MakeNode(root_key_, 3);
  auto list = RevocationList::Issue(root_key_, 1, kNow, {{"usa-1", 2}});
  ASSERT_TRUE(list.ok());
  ASSERT_TRUE(store_->UpdateRevocations(std::move(list).value()).ok());
  Status st = store_->VerifyCertificate(old_cert, kNow);
  EXPECT_EQ(st.reason(), "CERT_REVOKED");
  EXPECT_TRUE(store_->VerifyCertificate(new_cert, kNow).ok());
}

TEST_F(TrustStoreTest, RejectsCertificateFromAnotherRoot) {
  auto other = GenerateSigningKeyPair();
  ASSERT_TRUE(other.ok());
  Certificate foreign = MakeNode(*other, 2);
  EXPECT_EQ(store_->VerifyCertificate(foreign, kNow).reason(), "CERT_WRONG_ROOT");
  // Another root certificate is not ours either.
  EXPECT_EQ(store_->VerifyCertificate(MakeRoot(*other), kNow).reason(), "CERT_WRONG_ROOT");
}

TEST_F(TrustStoreTest, RejectsCertificateClaimingOurRootButSignedByAnother) {
  auto other = GenerateSigningKeyPair();
  ASSERT_TRUE(other.ok());
  Certificate genuine = MakeNode(root_key_, 2);
  auto forged_sig = SignWithDomain(*other, kCertificateDomain, genuine.body());
  ASSERT_TRUE(forged_sig.ok());
  auto forged = Certificate::Decode(Wrap(genuine.body(), *forged_sig));
  ASSERT_TRUE(forged.ok()) << forged.status().ToString();
  EXPECT_EQ(forged->issuer_key(), root_key_.public_key);
  Status st = store_->VerifyCertificate(*forged, kNow);
  EXPECT_EQ(st.reason(), "CERT_BAD_SIGNATURE");
  EXPECT_EQ(st.code(), Code::kUnauthenticated);
}

TEST_F(TrustStoreTest, FlippingAnyByteNeverVerifies) {
  Certificate cert = MakeNode(root_key_, 2);
  const std::vector<std::uint8_t> good = cert.encoded();
  for (std::size_t i = 0; i < good.size(); ++i) {
    std::vector<std::uint8_t> bad = good;
    bad[i] ^= 0xff;
    auto result = store_->VerifyCertificateBytes(bad, kNow);
    EXPECT_FALSE(result.ok()) << "byte " << i;
  }
}

TEST_F(TrustStoreTest, PolicyChecksNationAndLevel) {
  Certificate bad_nation = MakeNode(root_key_, 2, "ZZZ");
  EXPECT_EQ(store_->VerifyCertificate(bad_nation, kNow).reason(), "CERT_UNKNOWN_NATION");
  Certificate bad_level = MakeNode(root_key_, 3, "USA", "COSMIC");
  EXPECT_EQ(store_->VerifyCertificate(bad_level, kNow).reason(), "CERT_UNKNOWN_LEVEL");
  // Without a policy only the cryptographic checks apply.
  auto no_policy = TrustStore::Create(store_->root(), nullptr);
  ASSERT_TRUE(no_policy.ok());
  EXPECT_TRUE(no_policy->VerifyCertificate(bad_nation, kNow).ok());
}

TEST_F(TrustStoreTest, RevocationUpdatesMustBeSignedAndNewer) {
  auto two = RevocationList::Issue(root_key_, 2, kNow, {{"usa-1", 2}});
  ASSERT_TRUE(two.ok());
  ASSERT_TRUE(store_->UpdateRevocations(std::move(two).value()).ok());

  auto same = RevocationList::Issue(root_key_, 2, kNow, {});
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(store_->UpdateRevocations(std::move(same).value()).reason(), "REVOCATION_STALE");
  auto older = RevocationList::Issue(root_key_, 1, kNow, {});
  ASSERT_TRUE(older.ok());
  EXPECT_EQ(store_->UpdateRevocations(std::move(older).value()).reason(), "REVOCATION_STALE");

  auto other = GenerateSigningKeyPair();
  ASSERT_TRUE(other.ok());
  auto foreign = RevocationList::Issue(*other, 9, kNow, {});
  ASSERT_TRUE(foreign.ok());
  EXPECT_EQ(store_->UpdateRevocations(std::move(foreign).value()).reason(),
            "REVOCATION_WRONG_ROOT");

  // Claims our root as issuer but is signed by another key.
  SigningKeyPair impostor;
  impostor.public_key = root_key_.public_key;
  auto secret = SecretBytes::CopyOf(other->secret_key.span());
  ASSERT_TRUE(secret.ok());
  impostor.secret_key = std::move(secret).value();
  auto forged = RevocationList::Issue(impostor, 10, kNow, {});
  ASSERT_TRUE(forged.ok());
  EXPECT_EQ(store_->UpdateRevocations(std::move(forged).value()).reason(),
            "REVOCATION_BAD_SIGNATURE");

  // Rejected lists left the accepted one in place.
  ASSERT_NE(store_->revocations(), nullptr);
  EXPECT_EQ(store_->revocations()->sequence(), 2u);
  EXPECT_EQ(store_->VerifyCertificate(MakeNode(root_key_, 2), kNow).reason(), "CERT_REVOKED");
}

TEST_F(TrustStoreTest, CreateRequiresSelfSignedRoot) {
  auto store = TrustStore::Create(MakeNode(root_key_, 2), nullptr);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().reason(), "TRUST_ROOT_INVALID");
}

TEST_F(TrustStoreTest, LoadFromCaDir) {
  TempDir dir;
  auto missing = TrustStore::LoadFromCaDir(dir.path(), nullptr);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().reason(), "CERT_FILE_NOT_FOUND");

  WriteFile(dir / "root.cert", store_->root().encoded());
  auto loaded = TrustStore::LoadFromCaDir(dir.path(), nullptr);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->revocations(), nullptr);
  Certificate cert = MakeNode(root_key_, 4);
  EXPECT_TRUE(loaded->VerifyCertificate(cert, kNow).ok());

  auto list = RevocationList::Issue(root_key_, 1, kNow, {{"usa-1", 4}});
  ASSERT_TRUE(list.ok());
  WriteFile(dir / "revoked.list", list->encoded());
  loaded = TrustStore::LoadFromCaDir(dir.path(), nullptr);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->VerifyCertificate(cert, kNow).reason(), "CERT_REVOKED");

  auto other = GenerateSigningKeyPair();
  ASSERT_TRUE(other.ok());
  auto foreign = RevocationList::Issue(*other, 2, kNow, {});
  ASSERT_TRUE(foreign.ok());
  WriteFile(dir / "revoked.list", foreign->encoded());
  auto refused = TrustStore::LoadFromCaDir(dir.path(), nullptr);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().reason(), "REVOCATION_WRONG_ROOT");

  WriteFile(dir / "revoked.list", {1, 2, 3});
  EXPECT_EQ(TrustStore::LoadFromCaDir(dir.path(), nullptr).status().reason(),
            "REVOCATION_MALFORMED");
}

}  // namespace
}  // namespace tearline
