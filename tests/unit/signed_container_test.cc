// The two-level signed container layout shared by certificates and revocation lists, tested on
// hand-made containers (certificate_test and revocation_test cover the containers themselves).
#include "signed_container.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "tearline/schemas/certificate_generated.h"

namespace tearline::identity_internal {
namespace {

constexpr SignedContainerFormat kFormat{"TLCT", "TLCB", "certificate"};

std::vector<std::uint8_t> Body(std::uint64_t serial = 7) {
  flatbuffers::FlatBufferBuilder fbb;
  const auto node_id = fbb.CreateString("usa-1");
  schema::CertificateBodyBuilder b(fbb);
  b.add_version(1);
  b.add_serial(serial);
  b.add_node_id(node_id);
  fbb.Finish(b.Finish(), "TLCB");
  return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
}

Signature Sig(std::uint8_t fill) {
  Signature s;
  s.fill(fill);
  return s;
}

// An outer table built without the canonical alignment and field order.
std::vector<std::uint8_t> HandMadeOuter(const std::vector<std::uint8_t>& body,
                                        const std::vector<std::uint8_t>& sig,
                                        const char* identifier = "TLCT") {
  flatbuffers::FlatBufferBuilder fbb;
  const auto sig_vec = fbb.CreateVector(sig);
  const auto body_vec = fbb.CreateVector(body);
  fbb.Finish(schema::CreateCertificate(fbb, body_vec, sig_vec), identifier);
  return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
}

std::optional<std::string> Split(std::span<const std::uint8_t> bytes, SignedParts& parts) {
  return SplitSignedContainer<schema::Certificate, schema::CertificateBody>(bytes, kFormat, parts);
}

TEST(SignedContainerTest, EncodedContainerSplitsBackIntoItsParts) {
  const auto body = Body();
  const auto encoded = EncodeSignedContainer(body, Sig(0x5a), kFormat, schema::CreateCertificate);
  SignedParts parts;
  ASSERT_EQ(Split(encoded, parts), std::nullopt);
  EXPECT_EQ(parts.encoded, encoded);
  EXPECT_EQ(parts.body, body);
  EXPECT_EQ(parts.signature, Sig(0x5a));
  EXPECT_TRUE(IsCanonicalSignedContainer(parts, kFormat, schema::CreateCertificate));
  // The nested body is usable in place.
  EXPECT_EQ(flatbuffers::GetRoot<schema::CertificateBody>(parts.body.data())->serial(), 7u);
}

TEST(SignedContainerTest, EncodingIsDeterministic) {
  EXPECT_EQ(EncodeSignedContainer(Body(), Sig(1), kFormat, schema::CreateCertificate),
            EncodeSignedContainer(Body(), Sig(1), kFormat, schema::CreateCertificate));
  EXPECT_NE(EncodeSignedContainer(Body(), Sig(1), kFormat, schema::CreateCertificate),
            EncodeSignedContainer(Body(), Sig(2), kFormat, schema::CreateCertificate));
}

TEST(SignedContainerTest, GarbageIsNotAContainerAndTheMessageNamesTheKind) {
  SignedParts parts;
  const std::vector<std::uint8_t> garbage(40, 0xab);
  auto problem = Split(garbage, parts);
  ASSERT_TRUE(problem.has_value());
  EXPECT_EQ(*problem, "not a Tearline certificate (FlatBuffers verification failed)");
  EXPECT_TRUE(Split({}, parts).has_value());
  const std::vector<std::uint8_t> tiny(4, 0);
  EXPECT_TRUE(Split(tiny, parts).has_value());
}

TEST(SignedContainerTest, WrongOuterIdentifierIsRefused) {
  const auto sig = Sig(3);
  SignedParts parts;
  auto problem = Split(HandMadeOuter(Body(), {sig.begin(), sig.end()}, "TLRL"), parts);
  ASSERT_TRUE(problem.has_value());
  EXPECT_NE(problem->find("not a Tearline certificate"), std::string::npos);
}

TEST(SignedContainerTest, SignatureMustBe64Bytes) {
  SignedParts parts;
  auto problem = Split(HandMadeOuter(Body(), std::vector<std::uint8_t>(63, 1)), parts);
  ASSERT_TRUE(problem.has_value());
  EXPECT_EQ(*problem, "signature is not 64 bytes");
}

TEST(SignedContainerTest, BodyMustBeAVerifiedBodyFlatBuffer) {
  const auto sig = Sig(4);
  SignedParts parts;
  auto garbage =
      Split(HandMadeOuter(std::vector<std::uint8_t>(32, 0xff), {sig.begin(), sig.end()}), parts);
  ASSERT_TRUE(garbage.has_value());
  EXPECT_EQ(*garbage, "body failed FlatBuffers verification");
  // A well-formed FlatBuffer with another identifier is not this container's body either.
  auto body = Body();
  body[4] = 'X';
  auto wrong_id = Split(HandMadeOuter(body, {sig.begin(), sig.end()}), parts);
  ASSERT_TRUE(wrong_id.has_value());
  EXPECT_EQ(*wrong_id, "body failed FlatBuffers verification");
}

TEST(SignedContainerTest, OtherLayoutsOfTheSamePartsAreNotCanonical) {
  const auto sig = Sig(9);
  const auto hand_made = HandMadeOuter(Body(), {sig.begin(), sig.end()});
  SignedParts parts;
  ASSERT_EQ(Split(hand_made, parts), std::nullopt);
  EXPECT_EQ(parts.body, Body());
  EXPECT_FALSE(IsCanonicalSignedContainer(parts, kFormat, schema::CreateCertificate));
}

TEST(SignedContainerTest, BodyTableBudgetIsTheFormats) {
  SignedContainerFormat no_tables = kFormat;
  no_tables.body_max_tables = 0;
  const auto encoded = EncodeSignedContainer(Body(), Sig(6), kFormat, schema::CreateCertificate);
  SignedParts parts;
  auto problem =
      SplitSignedContainer<schema::Certificate, schema::CertificateBody>(encoded, no_tables, parts);
  ASSERT_TRUE(problem.has_value());
  EXPECT_EQ(*problem, "body failed FlatBuffers verification");
}

}  // namespace
}  // namespace tearline::identity_internal
