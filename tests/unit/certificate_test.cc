#include "tearline/identity/certificate.h"

#include <flatbuffers/flatbuffers.h>
#include <gtest/gtest.h>
#include <sodium.h>

#include <cstring>
#include <string>
#include <vector>

#include "tearline/base/encoding.h"
#include "tearline/schemas/certificate_generated.h"

namespace tearline {
namespace {

constexpr std::int64_t kNow = 1'800'000'000;

CertificateFields NodeFields(const IdentityKeys& keys) {
  CertificateFields f;
  f.serial = 7;
  f.role = CertRole::kNode;
  f.node_id = "usa-1";
  f.nation = "USA";
  f.clearance = "TOP SECRET";
  f.not_before = kNow - 10;
  f.not_after = kNow + 86400;
  f.signing_key = keys.signing.public_key;
  f.encryption_key = keys.encryption.public_key;
  f.transport_key = keys.transport.public_key;
  return f;
}

struct Fixture {
  SigningKeyPair root;
  IdentityKeys node;
  Certificate cert;
};

Fixture Make() {
  auto root = GenerateSigningKeyPair();
  auto node = GenerateIdentityKeys();
  EXPECT_TRUE(root.ok() && node.ok());
  auto cert = IssueCertificate(*root, NodeFields(*node));
  EXPECT_TRUE(cert.ok()) << cert.status().ToString();
  return {std::move(root).value(), std::move(node).value(), std::move(cert).value()};
}

TEST(CertificateTest, IssueDecodeRoundTrip) {
  Fixture fx = Make();
  auto decoded = Certificate::Decode(fx.cert.encoded());
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  const CertificateFields want = NodeFields(fx.node);
  const CertificateFields& got = decoded->fields();
  EXPECT_EQ(got.serial, want.serial);
  EXPECT_EQ(got.role, CertRole::kNode);
  EXPECT_EQ(got.node_id, "usa-1");
  EXPECT_EQ(got.nation, "USA");
  EXPECT_EQ(got.clearance, "TOP SECRET");
  EXPECT_EQ(got.not_before, want.not_before);
  EXPECT_EQ(got.not_after, want.not_after);
  EXPECT_EQ(got.signing_key, want.signing_key);
  EXPECT_EQ(got.encryption_key, want.encryption_key);
  EXPECT_EQ(got.transport_key, want.transport_key);
  EXPECT_EQ(decoded->issuer_key(), fx.root.public_key);
  EXPECT_EQ(decoded->encoded(), fx.cert.encoded());
  EXPECT_TRUE(decoded->SignatureVerifiesWith(fx.root.public_key));
  EXPECT_LE(fx.cert.encoded().size(), kMaxCertificateSize);
}

TEST(CertificateTest, SignatureCoversDomainAndExactBodyBytes) {
  Fixture fx = Make();
  std::vector<std::uint8_t> msg(kCertificateDomain.begin(), kCertificateDomain.end());
  msg.push_back(0);
  msg.insert(msg.end(), fx.cert.body().begin(), fx.cert.body().end());
  EXPECT_EQ(0, crypto_sign_verify_detached(fx.cert.signature().data(), msg.data(), msg.size(),
                                           fx.root.public_key.data()));
  // The body is the nested buffer carried in the file, byte for byte.
  const auto* outer = flatbuffers::GetRoot<schema::Certificate>(fx.cert.encoded().data());
  ASSERT_EQ(outer->body()->size(), fx.cert.body().size());
  EXPECT_EQ(0, std::memcmp(outer->body()->data(), fx.cert.body().data(), fx.cert.body().size()));
  // The nested body is 8-byte aligned within the file.
  EXPECT_EQ((outer->body()->data() - fx.cert.encoded().data()) % 8, 0);
}

// The documented canonical layout (docs/PROTOCOL.md, "Certificate file"), byte for byte.
TEST(CertificateTest, OuterLayoutMatchesSpecification) {
  Fixture fx = Make();
  const std::vector<std::uint8_t>& f = fx.cert.encoded();
  const std::vector<std::uint8_t>& body = fx.cert.body();
  const std::uint8_t prefix[36] = {20, 0, 0, 0, 'T', 'L', 'C', 'T', 0, 0, 0, 0, 8, 0, 12, 0, 4, 0,
                                   8,  0, 8, 0, 0,   0,   76,  0,   0, 0, 4, 0, 0, 0, 64, 0, 0, 0};
  ASSERT_GE(f.size(), 104u);
  EXPECT_EQ(0, std::memcmp(f.data(), prefix, sizeof prefix));
  EXPECT_EQ(0, std::memcmp(f.data() + 36, fx.cert.signature().data(), 64));
  const std::uint32_t b = static_cast<std::uint32_t>(body.size());
  const std::uint8_t len[4] = {static_cast<std::uint8_t>(b), static_cast<std::uint8_t>(b >> 8),
                               static_cast<std::uint8_t>(b >> 16),
                               static_cast<std::uint8_t>(b >> 24)};
  EXPECT_EQ(0, std::memcmp(f.data() + 100, len, 4));
  EXPECT_EQ(0, std::memcmp(f.data() + 104, body.data(), body.size()));
  EXPECT_EQ(f.size() % 8, 0u);
  ASSERT_GE(f.size(), 104 + body.size());
  EXPECT_LT(f.size() - 104 - body.size(), 8u);
  for (std::size_t i = 104 + body.size(); i < f.size(); ++i) EXPECT_EQ(f[i], 0) << i;
  // The body carries its own identifier.
  EXPECT_EQ(0, std::memcmp(body.data() + 4, "TLCB", 4));
}

TEST(CertificateTest, FingerprintIsSha256OfFileBytes) {
  Fixture fx = Make();
  std::array<std::uint8_t, 32> want{};
  crypto_hash_sha256(want.data(), fx.cert.encoded().data(), fx.cert.encoded().size());
  EXPECT_EQ(fx.cert.Fingerprint(), want);
  EXPECT_EQ(fx.cert.FingerprintHex(), ToHex(want));
}

TEST(CertificateTest, RootCertificateIsSelfSignedWithoutNodeKeys) {
  auto root = GenerateSigningKeyPair();
  ASSERT_TRUE(root.ok());
  CertificateFields f;
  f.serial = 1;
  f.role = CertRole::kRoot;
  f.node_id = "root";
  f.not_before = kNow;
  f.not_after = kNow + 1;
  f.signing_key = root->public_key;
  auto cert = IssueCertificate(*root, f);
  ASSERT_TRUE(cert.ok()) << cert.status().ToString();
  EXPECT_EQ(cert->issuer_key(), root->public_key);
  EXPECT_EQ(cert->fields().encryption_key, PublicKey{});
  EXPECT_TRUE(cert->fields().nation.empty());

  auto other = GenerateSigningKeyPair();
  ASSERT_TRUE(other.ok());
  f.signing_key = other->public_key;  // Not self-signed.
  auto bad = IssueCertificate(*root, f);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().reason(), "CERT_INVALID_FIELDS");
}

TEST(CertificateTest, IssueRejectsInvalidFields) {
  Fixture fx = Make();
  const auto expect_invalid = [&](CertificateFields f, const char* what) {
    auto cert = IssueCertificate(fx.root, f);
    ASSERT_FALSE(cert.ok()) << what;
    EXPECT_EQ(cert.status().reason(), "CERT_INVALID_FIELDS") << what;
  };
  CertificateFields f = NodeFields(fx.node);
  f.node_id = "USA-1";
  expect_invalid(f, "upper case id");
  f.node_id = "../etc";
  expect_invalid(f, "path id");
  f.node_id = "";
  expect_invalid(f, "empty id");
  f.node_id = std::string(65, 'a');
  expect_invalid(f, "long id");
  f.node_id = "root";
  expect_invalid(f, "reserved id");
  f = NodeFields(fx.node);
  f.nation = "usa";
  expect_invalid(f, "lower-case nation");
  f.nation = "USAX";
  expect_invalid(f, "four-letter nation");
  f = NodeFields(fx.node);
  f.clearance = "";
  expect_invalid(f, "empty clearance");
  f.clearance = "SECRET\n";
  expect_invalid(f, "control character");
  f = NodeFields(fx.node);
  f.not_after = f.not_before;
  expect_invalid(f, "empty window");
  f = NodeFields(fx.node);
  f.serial = 0;
  expect_invalid(f, "zero serial");
  f = NodeFields(fx.node);
  f.role = CertRole::kRoot;
  expect_invalid(f, "root role for a node");
}

TEST(CertificateTest, FlippingAnyByteNeverYieldsAValidCertificate) {
  Fixture fx = Make();
  const std::vector<std::uint8_t> good = fx.cert.encoded();
  for (std::uint8_t mask : {std::uint8_t{0x01}, std::uint8_t{0x80}, std::uint8_t{0xff}}) {
    for (std::size_t i = 0; i < good.size(); ++i) {
      std::vector<std::uint8_t> bad = good;
      bad[i] ^= mask;
      auto decoded = Certificate::Decode(bad);
      if (!decoded.ok()) {
        EXPECT_EQ(decoded.status().reason(), "CERT_MALFORMED");
        continue;
      }
      // Anything that still decodes must fail the signature under the real root.
      EXPECT_FALSE(decoded->issuer_key() == fx.root.public_key &&
                   decoded->SignatureVerifiesWith(fx.root.public_key))
          << "byte " << i << " mask " << int{mask};
    }
  }
}

TEST(CertificateTest, TruncationAndSizeLimit) {
  Fixture fx = Make();
  const std::vector<std::uint8_t>& good = fx.cert.encoded();
  for (std::size_t n = 0; n < good.size(); ++n) {
    EXPECT_FALSE(Certificate::Decode(std::span(good.data(), n)).ok()) << n;
  }
  std::vector<std::uint8_t> padded = good;
  padded.push_back(0);
  EXPECT_FALSE(Certificate::Decode(padded).ok());
  std::vector<std::uint8_t> huge(kMaxCertificateSize + 1, 0);
  auto too_big = Certificate::Decode(huge);
  ASSERT_FALSE(too_big.ok());
  EXPECT_EQ(too_big.status().reason(), "CERT_TOO_LARGE");
}

TEST(CertificateTest, NonCanonicalOuterLayoutIsRejected) {
  Fixture fx = Make();
  // Same body and signature, vectors laid out in the other order: a valid FlatBuffer whose
  // signature still verifies, but not the canonical file.
  flatbuffers::FlatBufferBuilder fbb;
  const auto sig = fbb.CreateVector(fx.cert.signature().data(), fx.cert.signature().size());
  fbb.ForceVectorAlignment(fx.cert.body().size(), 1, 8);
  const auto body = fbb.CreateVector(fx.cert.body().data(), fx.cert.body().size());
  fbb.Finish(schema::CreateCertificate(fbb, body, sig), "TLCT");
  std::vector<std::uint8_t> other(fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize());
  ASSERT_NE(other, fx.cert.encoded());
  auto decoded = Certificate::Decode(other);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().reason(), "CERT_MALFORMED");
}

TEST(CertificateTest, RejectsBodyWithWrongKeySizeEvenIfSigned) {
  Fixture fx = Make();
  flatbuffers::FlatBufferBuilder body_fbb;
  const std::uint8_t short_key[16] = {};
  auto body = schema::CreateCertificateBody(
      body_fbb, 1, 9, schema::CertRole::Node, body_fbb.CreateString("n"),
      body_fbb.CreateString("USA"), body_fbb.CreateString("SECRET"), kNow, kNow + 1,
      body_fbb.CreateVector(short_key, 16), body_fbb.CreateVector(short_key, 16),
      body_fbb.CreateVector(short_key, 16),
      body_fbb.CreateVector(fx.root.public_key.data(), fx.root.public_key.size()));
  body_fbb.Finish(body, "TLCB");
  std::vector<std::uint8_t> body_bytes(body_fbb.GetBufferPointer(),
                                       body_fbb.GetBufferPointer() + body_fbb.GetSize());
  auto sig = SignWithDomain(fx.root, kCertificateDomain, body_bytes);
  ASSERT_TRUE(sig.ok());
  flatbuffers::FlatBufferBuilder fbb;
  fbb.ForceVectorAlignment(body_bytes.size(), 1, 8);
  const auto bv = fbb.CreateVector(body_bytes.data(), body_bytes.size());
  const auto sv = fbb.CreateVector(sig->data(), sig->size());
  fbb.Finish(schema::CreateCertificate(fbb, bv, sv), "TLCT");
  auto decoded = Certificate::Decode(
      std::span(fbb.GetBufferPointer(), static_cast<std::size_t>(fbb.GetSize())));
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().reason(), "CERT_MALFORMED");
}

TEST(CertificateTest, NodeIdValidation) {
  EXPECT_TRUE(ValidateNodeId("a").ok());
  EXPECT_TRUE(ValidateNodeId("usa-node-01").ok());
  EXPECT_TRUE(ValidateNodeId(std::string(64, 'z')).ok());
  for (const char* bad : {"", "A", "a_b", "a.b", "a/b", "..", "a b", "é"}) {
    Status st = ValidateNodeId(bad);
    EXPECT_EQ(st.reason(), "NODE_ID_INVALID") << bad;
  }
  EXPECT_FALSE(ValidateNodeId(std::string(65, 'a')).ok());
  EXPECT_FALSE(ValidateNodeId(std::string_view("a\0b", 3)).ok());
}

TEST(CertificateTest, RoleNames) {
  for (CertRole r : {CertRole::kRoot, CertRole::kBroker, CertRole::kNode}) {
    EXPECT_EQ(ParseRole(RoleName(r)), r);
  }
  EXPECT_FALSE(ParseRole("admin").has_value());
}

TEST(CertificateTest, FormatUnixTime) {
  EXPECT_EQ(FormatUnixTime(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatUnixTime(1'800'000'000), "2027-01-15T08:00:00Z");
}

}  // namespace
}  // namespace tearline
