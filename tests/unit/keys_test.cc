#include "tearline/crypto/keys.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "tearline/base/encoding.h"

namespace tearline {
namespace {

std::vector<std::uint8_t> Bytes(std::string_view s) { return {s.begin(), s.end()}; }

TEST(KeysTest, IdentityKeysAreThreeIndependentPairs) {
  auto keys = GenerateIdentityKeys();
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  EXPECT_EQ(keys->signing.secret_key.size(), kSigningSecretKeySize);
  EXPECT_EQ(keys->encryption.secret_key.size(), kBoxSecretKeySize);
  EXPECT_EQ(keys->transport.secret_key.size(), kBoxSecretKeySize);
  EXPECT_NE(keys->signing.public_key, keys->encryption.public_key);
  EXPECT_NE(keys->encryption.public_key, keys->transport.public_key);
  EXPECT_NE(keys->signing.public_key, keys->transport.public_key);
  // The two X25519 secrets are distinct draws, not copies of each other.
  EXPECT_NE(0, std::memcmp(keys->encryption.secret_key.data(), keys->transport.secret_key.data(),
                           kBoxSecretKeySize));
}

TEST(KeysTest, FreshKeysDifferEachTime) {
  std::set<PublicKey> seen;
  for (int i = 0; i < 16; ++i) {
    auto pair = GenerateSigningKeyPair();
    ASSERT_TRUE(pair.ok());
    EXPECT_TRUE(seen.insert(pair->public_key).second);
  }
}

TEST(KeysTest, BoxPublicKeyIsRecomputedFromSecret) {
  auto pair = GenerateEncryptionKeyPair();
  ASSERT_TRUE(pair.ok());
  auto copy = SecretBytes::CopyOf(pair->secret_key.span());
  ASSERT_TRUE(copy.ok());
  auto rebuilt = BoxKeyPairFromSecret(std::move(copy).value());
  ASSERT_TRUE(rebuilt.ok());
  EXPECT_EQ(rebuilt->public_key, pair->public_key);

  auto wrong = SecretBytes::Allocate(16);
  ASSERT_TRUE(wrong.ok());
  auto bad = BoxKeyPairFromSecret(std::move(wrong).value());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().reason(), "KEY_INVALID");
}

TEST(KeysTest, SigningKeyFromSecretChecksStoredPublicHalf) {
  auto pair = GenerateSigningKeyPair();
  ASSERT_TRUE(pair.ok());
  auto copy = SecretBytes::CopyOf(pair->secret_key.span());
  ASSERT_TRUE(copy.ok());
  auto rebuilt = SigningKeyPairFromSecret(std::move(copy).value());
  ASSERT_TRUE(rebuilt.ok());
  EXPECT_EQ(rebuilt->public_key, pair->public_key);

  auto tampered = SecretBytes::CopyOf(pair->secret_key.span());
  ASSERT_TRUE(tampered.ok());
  tampered->data()[40] ^= 0x01;  // Inside the stored public half.
  auto bad = SigningKeyPairFromSecret(std::move(tampered).value());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().reason(), "KEY_INVALID");
}

TEST(KeysTest, DomainSignatureVerifiesOnlyForSameDomainKeyAndMessage) {
  auto key = GenerateSigningKeyPair();
  auto other = GenerateSigningKeyPair();
  ASSERT_TRUE(key.ok() && other.ok());
  const auto msg = Bytes("body bytes");
  auto sig = SignWithDomain(*key, "tearline/v1/test", msg);
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(VerifyWithDomain(key->public_key, "tearline/v1/test", msg, *sig));
  EXPECT_FALSE(VerifyWithDomain(other->public_key, "tearline/v1/test", msg, *sig));
  EXPECT_FALSE(VerifyWithDomain(key->public_key, "tearline/v1/other", msg, *sig));
  EXPECT_FALSE(VerifyWithDomain(key->public_key, "tearline/v1/test", Bytes("body byteS"), *sig));
  EXPECT_FALSE(VerifyWithDomain(key->public_key, "tearline/v1/test", msg,
                                std::span<const std::uint8_t>(sig->data(), 63)));
  Signature flipped = *sig;
  flipped[10] ^= 0x80;
  EXPECT_FALSE(VerifyWithDomain(key->public_key, "tearline/v1/test", msg, flipped));
}

TEST(KeysTest, DomainIsNulTerminatedSoBoundariesCannotShift) {
  auto key = GenerateSigningKeyPair();
  ASSERT_TRUE(key.ok());
  auto sig = SignWithDomain(*key, "ab", Bytes("c"));
  ASSERT_TRUE(sig.ok());
  EXPECT_FALSE(VerifyWithDomain(key->public_key, "a", Bytes("bc"), *sig));
  EXPECT_FALSE(VerifyWithDomain(key->public_key, "abc", Bytes(""), *sig));
  // The signed message is exactly domain || 0x00 || message.
  std::vector<std::uint8_t> m = Bytes("ab");
  m.push_back(0);
  m.push_back('c');
  EXPECT_EQ(0,
            crypto_sign_verify_detached(sig->data(), m.data(), m.size(), key->public_key.data()));
}

TEST(KeysTest, ToHex) {
  const std::uint8_t bytes[] = {0x00, 0x0f, 0xa5, 0xff};
  EXPECT_EQ(ToHex(bytes), "000fa5ff");
  EXPECT_EQ(ToHex({}), "");
}

}  // namespace
}  // namespace tearline
