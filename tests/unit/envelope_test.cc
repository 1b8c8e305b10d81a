// Round trip, sender-side checks and targeted attacks on the report envelope. Each attack test
// is named in docs/THREAT_MODEL.md next to the property it demonstrates.
#include "tearline/envelope/envelope.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "tearline/crypto/random_source.h"
#include "tearline/labels/release.h"
#include "tearline/schemas/envelope_generated.h"
#include "test_support.h"

namespace tearline {
namespace {

using testing::CoalitionPolicy;

constexpr std::int64_t kCreated = 1'800'000'000;
constexpr std::int64_t kExpires = kCreated + 86'400;
constexpr std::int64_t kNow = kCreated + 60;

struct SignKeys {
  std::array<std::uint8_t, 32> pk{};
  SecretBytes sk;
};

struct Node {
  std::string node_id;
  std::string nation;
  std::optional<int> clearance;
  std::array<std::uint8_t, 32> enc_pk{};
  SecretBytes enc_sk;

  RecipientIdentity Identity() const {
    return RecipientIdentity{node_id, nation, clearance, enc_pk, enc_sk};
  }
  SealRecipient AsRecipient() const { return SealRecipient{node_id, nation, clearance, enc_pk}; }
};

SignKeys MakeSignKeys() {
  SignKeys k;
  k.sk = std::move(SecretBytes::Allocate(crypto_sign_SECRETKEYBYTES)).value();
  crypto_sign_keypair(k.pk.data(), k.sk.data());
  return k;
}

Node MakeNode(std::string id, std::string nation, std::optional<int> clearance = std::nullopt) {
  Node n;
  n.node_id = std::move(id);
  n.nation = std::move(nation);
  n.clearance = clearance;
  n.enc_sk = std::move(SecretBytes::Allocate(crypto_box_SECRETKEYBYTES)).value();
  crypto_box_keypair(n.enc_pk.data(), n.enc_sk.data());
  return n;
}

std::vector<std::uint8_t> Text(std::string_view s) { return {s.begin(), s.end()}; }

std::string AsString(const SecretBytes& b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

class EnvelopeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(InitCrypto().ok());
    origin_ = MakeSignKeys();
    nodes_.push_back(MakeNode("usa-node", "USA", 4));
    nodes_.push_back(MakeNode("gbr-node", "GBR", 4));
    nodes_.push_back(MakeNode("jpn-node", "JPN", 3));
    nodes_.push_back(MakeNode("aus-node", "AUS", 4));
  }

  const Node& NodeNamed(std::string_view id) const {
    return *std::find_if(nodes_.begin(), nodes_.end(),
                         [&](const Node& n) { return n.node_id == id; });
  }

  SealInput Input() const {
    SealInput in;
    in.originator = "usa-node";
    in.originator_nation = "USA";
    in.created_unix = kCreated;
    in.expires_unix = kExpires;
    in.portions.push_back(
        {"(S//REL TO USA, GBR, JPN)", Text("alpha: shared with GBR and JPN"), {}});
    in.portions.push_back({"(S//REL TO USA, FVEY)", Text("bravo: five eyes only"), {}});
    in.portions.push_back({"(U)", Text("charlie: unclassified"), {}});
    in.portions.push_back({"(S//NF)", Text("delta: no foreign"), {}});
    for (const Node& n : nodes_) in.recipients.push_back(n.AsRecipient());
    in.intended_nations = {"GBR", "JPN", "AUS"};
    return in;
  }

  SealedReport SealOk(const SealInput& in) const {
    auto sealed = Seal(in, origin_.sk, CoalitionPolicy());
    EXPECT_TRUE(sealed.ok()) << sealed.status().ToString();
    if (!sealed.ok()) std::abort();
    return std::move(sealed).value();
  }

  Result<OpenedReport> OpenAs(std::span<const std::uint8_t> bytes, const Node& n,
                              std::int64_t now = kNow) const {
    return Open(bytes, n.Identity(), origin_.pk, CoalitionPolicy(), now);
  }

  SignKeys origin_;
  std::vector<Node> nodes_;
};

// --- Helpers to take a sealed report apart and put it back together, as a broker could. -----

struct Parts {
  std::vector<std::uint8_t> header;
  std::vector<std::uint8_t> signature;
  std::vector<std::pair<std::uint32_t, std::vector<std::uint8_t>>> bodies;
};

std::vector<std::uint8_t> ToVec(const flatbuffers::Vector<std::uint8_t>* v) {
  return v == nullptr ? std::vector<std::uint8_t>{}
                      : std::vector<std::uint8_t>(v->data(), v->data() + v->size());
}

Parts Split(const std::vector<std::uint8_t>& bytes) {
  const auto* r = flatbuffers::GetRoot<schema::Report>(bytes.data());
  Parts p;
  p.header = ToVec(r->header());
  p.signature = ToVec(r->signature());
  for (const auto* e : *r->portions()) p.bodies.emplace_back(e->index(), ToVec(e->body()));
  return p;
}

std::vector<std::uint8_t> Join(const Parts& p) {
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<flatbuffers::Offset<schema::PortionEnvelope>> envs;
  for (const auto& [index, body] : p.bodies) {
    envs.push_back(schema::CreatePortionEnvelope(fbb, index, fbb.CreateVector(body)));
  }
  const auto envs_vec = fbb.CreateVector(envs);
  const auto sig = fbb.CreateVector(p.signature);
  const auto hdr = fbb.CreateVector(p.header);
  fbb.Finish(schema::CreateReport(fbb, hdr, sig, envs_vec), "TLRP");
  return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
}

struct HeaderFields {
  std::uint16_t version = 0;
  std::vector<std::uint8_t> report_id;
  std::string originator;
  std::string originator_nation;
  std::int64_t created = 0;
  std::int64_t expires = 0;
  std::uint32_t portion_count = 0;
  std::vector<schema::Digest256> commitments;
  std::vector<std::string> nations;
};

HeaderFields ReadHeader(const std::vector<std::uint8_t>& header) {
  const auto* h = flatbuffers::GetRoot<schema::ReportHeader>(header.data());
  HeaderFields f;
  f.version = h->version();
  f.report_id = ToVec(h->report_id());
  f.originator = h->originator()->str();
  f.originator_nation = h->originator_nation()->str();
  f.created = h->created_unix();
  f.expires = h->expires_unix();
  f.portion_count = h->portion_count();
  for (const auto* c : *h->commitments()) f.commitments.push_back(*c);
  if (h->intended_nations() != nullptr) {
    for (const auto* n : *h->intended_nations()) f.nations.push_back(n->str());
  }
  return f;
}

std::vector<std::uint8_t> WriteHeader(const HeaderFields& f) {
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<flatbuffers::Offset<flatbuffers::String>> nations;
  for (const auto& n : f.nations) nations.push_back(fbb.CreateString(n));
  auto h = schema::CreateReportHeader(
      fbb, f.version, fbb.CreateVector(f.report_id), fbb.CreateString(f.originator),
      fbb.CreateString(f.originator_nation), f.created, f.expires, f.portion_count,
      fbb.CreateVectorOfStructs(f.commitments), fbb.CreateVector(nations));
  fbb.Finish(h, "TLRH");
  return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
}

schema::Digest256 Commit(const std::vector<std::uint8_t>& body) {
  static constexpr std::string_view kDomain{"tearline/v1/portion-commitment\0", 31};
  std::array<std::uint8_t, 32> d{};
  crypto_hash_sha256_state st;
  crypto_hash_sha256_init(&st);
  crypto_hash_sha256_update(&st, reinterpret_cast<const unsigned char*>(kDomain.data()),
                            kDomain.size());
  crypto_hash_sha256_update(&st, body.data(), body.size());
  crypto_hash_sha256_final(&st, d.data());
  return schema::Digest256(flatbuffers::span<const std::uint8_t, 32>(d.data(), 32));
}

std::vector<std::uint8_t> Sign(const std::vector<std::uint8_t>& header, const SecretBytes& sk) {
  static constexpr std::string_view kDomain{"tearline/v1/report-header\0", 26};
  std::vector<std::uint8_t> msg(kDomain.begin(), kDomain.end());
  msg.insert(msg.end(), header.begin(), header.end());
  std::vector<std::uint8_t> sig(64);
  crypto_sign_detached(sig.data(), nullptr, msg.data(), msg.size(), sk.data());
  return sig;
}

struct BodyFields {
  std::uint32_t index = 0;
  std::string label;
  std::vector<std::uint8_t> salt, nonce, ciphertext;
  struct Wrap {
    std::string recipient;
    std::vector<std::uint8_t> fingerprint, sealed;
  };
  std::vector<Wrap> wraps;
};

BodyFields ReadBody(const std::vector<std::uint8_t>& body) {
  const auto* b = flatbuffers::GetRoot<schema::PortionBody>(body.data());
  BodyFields f;
  f.index = b->index();
  f.label = b->label()->str();
  f.salt = ToVec(b->salt());
  f.nonce = ToVec(b->nonce());
  f.ciphertext = ToVec(b->ciphertext());
  for (const auto* w : *b->wraps()) {
    f.wraps.push_back({w->recipient()->str(), ToVec(w->key_fingerprint()), ToVec(w->sealed_key())});
  }
  return f;
}

std::vector<std::uint8_t> WriteBody(const BodyFields& f) {
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<flatbuffers::Offset<schema::KeyWrap>> wraps;
  for (const auto& w : f.wraps) {
    wraps.push_back(schema::CreateKeyWrap(fbb, fbb.CreateString(w.recipient),
                                          fbb.CreateVector(w.fingerprint),
                                          fbb.CreateVector(w.sealed)));
  }
  auto b = schema::CreatePortionBody(fbb, f.index, fbb.CreateString(f.label),
                                     fbb.CreateVector(f.salt), fbb.CreateVector(f.nonce),
                                     fbb.CreateVector(f.ciphertext), fbb.CreateVector(wraps));
  fbb.Finish(b, "TLPB");
  return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
}

// Re-commits every body and re-signs with the originator's key: models an attacker who could
// bypass the signature, to show the AEAD binding holds on its own.
void RecommitAndResign(Parts& p, const SecretBytes& sk) {
  HeaderFields h = ReadHeader(p.header);
  for (const auto& [index, body] : p.bodies) h.commitments[index] = Commit(body);
  p.header = WriteHeader(h);
  p.signature = Sign(p.header, sk);
}

std::vector<std::uint32_t> Indices(const OpenedReport& r) {
  std::vector<std::uint32_t> out;
  for (const auto& p : r.portions) out.push_back(p.index);
  return out;
}

// ---------------------------------------------------------------------------------------------

TEST_F(EnvelopeTest, RoundTripEachRecipientOpensExactlyItsReleasedPortions) {
  const SealInput in = Input();
  const SealedReport sealed = SealOk(in);
  EXPECT_EQ(sealed.banner, "SECRET//NOFORN");
  ASSERT_EQ(sealed.portion_labels.size(), 4u);
  EXPECT_EQ(sealed.portion_labels[0], "(S//REL TO USA, GBR, JPN)");

  const std::map<std::string, std::vector<std::uint32_t>> expected = {
      {"usa-node", {0, 1, 2, 3}},
      {"gbr-node", {0, 1, 2}},
      {"jpn-node", {0, 2}},
      {"aus-node", {1, 2}},
  };
  ASSERT_EQ(sealed.recipients.size(), nodes_.size());
  for (const RecipientPortions& rp : sealed.recipients) {
    EXPECT_EQ(rp.portions, expected.at(rp.node_id)) << rp.node_id;
    // What the broker delivers: only the released bodies.
    auto copy = SelectPortions(sealed.bytes, rp.portions);
    ASSERT_TRUE(copy.ok()) << copy.status().ToString();
    auto opened = OpenAs(*copy, NodeNamed(rp.node_id));
    ASSERT_TRUE(opened.ok()) << rp.node_id << ": " << opened.status().ToString();
    EXPECT_EQ(opened->report_id, sealed.report_id);
    EXPECT_EQ(opened->originator, "usa-node");
    EXPECT_EQ(opened->originator_nation, "USA");
    EXPECT_EQ(opened->created_unix, kCreated);
    EXPECT_EQ(opened->expires_unix, kExpires);
    EXPECT_EQ(opened->portion_count, 4u);
    EXPECT_TRUE(opened->not_addressed.empty());
    EXPECT_EQ(Indices(*opened), rp.portions);
    std::vector<Label> labels;
    for (const OpenedPortion& p : opened->portions) {
      const SealPortion& src = in.portions[p.index];
      EXPECT_EQ(p.label, sealed.portion_labels[p.index]);
      EXPECT_EQ(AsString(p.plaintext), std::string(src.plaintext.begin(), src.plaintext.end()));
      labels.push_back(p.parsed_label);
    }
    auto rolled = Rollup(labels, CoalitionPolicy());
    ASSERT_TRUE(rolled.ok());
    EXPECT_EQ(opened->banner, FormatBanner(*rolled, CoalitionPolicy()));
  }
}

TEST_F(EnvelopeTest, VisibleBannerRollsUpOnlyReceivedPortions) {
  const SealedReport sealed = SealOk(Input());
  const std::vector<std::uint32_t> jpn = {0, 2};
  auto copy = SelectPortions(sealed.bytes, jpn);
  ASSERT_TRUE(copy.ok());
  auto opened = OpenAs(*copy, NodeNamed("jpn-node"));
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(opened->banner, "SECRET//REL TO USA, GBR, JPN");
}

TEST_F(EnvelopeTest, FullCopyOpensAddressedPortionsAndListsTheRest) {
  const SealedReport sealed = SealOk(Input());
  auto opened = OpenAs(sealed.bytes, NodeNamed("jpn-node"));
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(Indices(*opened), (std::vector<std::uint32_t>{0, 2}));
  EXPECT_EQ(opened->not_addressed, (std::vector<std::uint32_t>{1, 3}));
}

TEST_F(EnvelopeTest, WithheldPortionLabelAndContentAreAbsentFromDeliveredCopy) {
  const SealedReport sealed = SealOk(Input());
  const std::vector<std::uint32_t> jpn = {0, 2};
  auto copy = SelectPortions(sealed.bytes, jpn);
  ASSERT_TRUE(copy.ok());
  const std::string bytes(copy->begin(), copy->end());
  EXPECT_EQ(bytes.find("(S//NF)"), std::string::npos);
  EXPECT_EQ(bytes.find("FVEY"), std::string::npos);
  // The full report does carry them (labels travel in clear for the broker).
  const std::string full(sealed.bytes.begin(), sealed.bytes.end());
  EXPECT_NE(full.find("(S//NF)"), std::string::npos);
  // Signature still verifies over the reduced copy.
  auto view = InspectReport(*copy, origin_.pk);
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  EXPECT_EQ(view->portions.size(), 2u);
}

TEST_F(EnvelopeTest, CommitmentsAreSaltedSoEqualBodiesDoNotMatch) {
  SealInput in = Input();
  ReportId id{};
  id.fill(7);
  in.report_id = id;
  const SealedReport a = SealOk(in);
  const SealedReport b = SealOk(in);
  const HeaderFields ha = ReadHeader(Split(a.bytes).header);
  const HeaderFields hb = ReadHeader(Split(b.bytes).header);
  for (std::size_t i = 0; i < ha.commitments.size(); ++i) {
    EXPECT_FALSE(std::equal(ha.commitments[i].bytes()->begin(), ha.commitments[i].bytes()->end(),
                            hb.commitments[i].bytes()->begin()));
  }
}

TEST_F(EnvelopeTest, InspectReportShowsBrokerFieldsWithoutKeys) {
  const SealedReport sealed = SealOk(Input());
  auto origin = PeekOriginator(sealed.bytes);
  ASSERT_TRUE(origin.ok());
  EXPECT_EQ(*origin, "usa-node");
  auto view = InspectReport(sealed.bytes, origin_.pk);
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  EXPECT_EQ(view->report_id, sealed.report_id);
  EXPECT_EQ(view->originator_nation, "USA");
  EXPECT_EQ(view->portion_count, 4u);
  EXPECT_EQ(view->intended_nations, (std::vector<std::string>{"GBR", "JPN", "AUS"}));
  ASSERT_EQ(view->portions.size(), 4u);
  EXPECT_EQ(view->portions[1].label, "(S//REL TO USA, FVEY)");
  EXPECT_EQ(view->portions[1].recipients,
            (std::vector<std::string>{"usa-node", "gbr-node", "aus-node"}));
  EXPECT_EQ(view->portions[1].fingerprints[1], EncKeyFingerprint(NodeNamed("gbr-node").enc_pk));
  EXPECT_EQ(view->portions[3].recipients, (std::vector<std::string>{"usa-node"}));
  EXPECT_EQ(view->portions[2].ciphertext_bytes, std::string("charlie: unclassified").size() + 16);
}

TEST_F(EnvelopeTest, SealRefusesPortionWithoutValidLabelAndNamesIt) {
  SealInput in = Input();
  in.portions[2].marking = "(S//REL TO XYZ)";
  auto sealed = Seal(in, origin_.sk, CoalitionPolicy());
  ASSERT_FALSE(sealed.ok());
  EXPECT_EQ(sealed.status().reason(), "LABEL_UNKNOWN_CODE");
  EXPECT_EQ(sealed.status().message().rfind("portion 2: ", 0), 0u) << sealed.status().message();

  in = Input();
  in.portions[1].marking = "";
  sealed = Seal(in, origin_.sk, CoalitionPolicy());
  ASSERT_FALSE(sealed.ok());
  EXPECT_EQ(sealed.status().message().rfind("portion 1: ", 0), 0u) << sealed.status().message();
}

TEST_F(EnvelopeTest, SealRefusesToWrapForRecipientTheLabelDoesNotRelease) {
  SealInput in = Input();
  in.portions[3].recipients = std::vector<std::string>{"usa-node", "gbr-node"};
  auto sealed = Seal(in, origin_.sk, CoalitionPolicy());
  ASSERT_FALSE(sealed.ok());
  EXPECT_EQ(sealed.status().reason(), "ENVELOPE_RELEASE_DENIED");
  EXPECT_NE(sealed.status().message().find("portion 3"), std::string::npos);
  EXPECT_NE(sealed.status().message().find("gbr-node"), std::string::npos);
  EXPECT_NE(sealed.status().message().find("NOFORN"), std::string::npos);

  in = Input();
  in.portions[0].recipients = std::vector<std::string>{"aus-node"};
  sealed = Seal(in, origin_.sk, CoalitionPolicy());
  ASSERT_FALSE(sealed.ok());
  EXPECT_EQ(sealed.status().reason(), "ENVELOPE_RELEASE_DENIED");
  EXPECT_NE(sealed.status().message().find("NOT_RELEASABLE"), std::string::npos);

  in = Input();
  in.portions[0].recipients = std::vector<std::string>{"nobody"};
  sealed = Seal(in, origin_.sk, CoalitionPolicy());
  ASSERT_FALSE(sealed.ok());
  EXPECT_EQ(sealed.status().reason(), "ENVELOPE_UNKNOWN_RECIPIENT");

  // An explicit list that is released is honoured exactly.
  in = Input();
  in.portions[0].recipients = std::vector<std::string>{"jpn-node"};
  const SealedReport ok = SealOk(in);
  EXPECT_EQ(ok.recipients[1].portions, (std::vector<std::uint32_t>{1, 2}));  // gbr-node
  EXPECT_EQ(ok.recipients[2].portions, (std::vector<std::uint32_t>{0, 2}));  // jpn-node
}

TEST_F(EnvelopeTest, SealRefusesAboveClearanceRecipient) {
  SealInput in = Input();
  in.recipients[2].clearance = 2;  // jpn-node: CONFIDENTIAL
  in.portions[0].recipients = std::vector<std::string>{"jpn-node"};
  auto sealed = Seal(in, origin_.sk, CoalitionPolicy());
  ASSERT_FALSE(sealed.ok());
  EXPECT_EQ(sealed.status().reason(), "ENVELOPE_RELEASE_DENIED");
  EXPECT_NE(sealed.status().message().find("ABOVE_CLEARANCE"), std::string::npos);
}

TEST_F(EnvelopeTest, SealRejectsBadInput) {
  auto reason = [&](const SealInput& in) {
    auto r = Seal(in, origin_.sk, CoalitionPolicy());
    return r.ok() ? std::string("OK") : r.status().reason();
  };
  SealInput in = Input();
  in.portions.clear();
  EXPECT_EQ(reason(in), "ENVELOPE_BAD_INPUT");
  in = Input();
  in.recipients.push_back(in.recipients[0]);
  EXPECT_EQ(reason(in), "ENVELOPE_BAD_INPUT");
  in = Input();
  in.expires_unix = in.created_unix - 1;
  EXPECT_EQ(reason(in), "ENVELOPE_BAD_INPUT");
  in = Input();
  in.originator = "bad node id";
  EXPECT_EQ(reason(in), "ENVELOPE_BAD_INPUT");
  in = Input();
  in.originator_nation = "XYZ";
  EXPECT_EQ(reason(in), "ENVELOPE_BAD_INPUT");
  in = Input();
  in.recipients[1].nation = "XYZ";
  EXPECT_EQ(reason(in), "ENVELOPE_BAD_INPUT");
  in = Input();
  in.portions[1].plaintext.clear();
  EXPECT_EQ(reason(in), "ENVELOPE_EMPTY_PORTION");
  in = Input();
  in.portions.resize(kMaxPortions + 1, {"(U)", Text("x"), {}});
  EXPECT_EQ(reason(in), "ENVELOPE_BAD_INPUT");
  in = Input();
  SecretBytes short_key = std::move(SecretBytes::Allocate(32)).value();
  auto r = Seal(in, short_key, CoalitionPolicy());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), "ENVELOPE_BAD_KEY");
}

TEST_F(EnvelopeTest, LargeReportRoundTrips) {
  SealInput in = Input();
  std::vector<std::uint8_t> big(std::size_t{1} << 20);
  randombytes_buf(big.data(), big.size());
  in.portions[1].plaintext = big;
  const SealedReport sealed = SealOk(in);
  auto opened = OpenAs(sealed.bytes, NodeNamed("aus-node"));
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  ASSERT_EQ(opened->portions.size(), 2u);
  ASSERT_EQ(opened->portions[0].plaintext.size(), big.size());
  EXPECT_TRUE(std::equal(big.begin(), big.end(), opened->portions[0].plaintext.data()));
}

TEST_F(EnvelopeTest, OversizeReportIsRefused) {
  SealInput in = Input();
  in.portions[0].plaintext.assign(kMaxReportBytes + 1, 0x41);
  auto sealed = Seal(in, origin_.sk, CoalitionPolicy());
  ASSERT_FALSE(sealed.ok());
  EXPECT_EQ(sealed.status().reason(), "ENVELOPE_TOO_LARGE");

  std::vector<std::uint8_t> huge(kMaxReportBytes + 1, 0);
  auto opened = OpenAs(huge, NodeNamed("gbr-node"));
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().reason(), "ENVELOPE_TOO_LARGE");
  EXPECT_EQ(opened.status().code(), Code::kResourceExhausted);
}

TEST_F(EnvelopeTest, GarbageIsMalformed) {
  const std::vector<std::vector<std::uint8_t>> inputs = {
      {}, {0x00}, Text("TLRP"), Text("not a flatbuffer at all, but long enough")};
  for (const auto& bytes : inputs) {
    auto opened = OpenAs(bytes, NodeNamed("gbr-node"));
    ASSERT_FALSE(opened.ok());
    EXPECT_EQ(opened.status().reason(), "ENVELOPE_MALFORMED");
    EXPECT_FALSE(PeekOriginator(bytes).ok());
    EXPECT_FALSE(InspectReport(bytes, origin_.pk).ok());
  }
}

TEST_F(EnvelopeTest, UnalignedInputIsAccepted) {
  const SealedReport sealed = SealOk(Input());
  std::vector<std::uint8_t> shifted(sealed.bytes.size() + 1);
  std::copy(sealed.bytes.begin(), sealed.bytes.end(), shifted.begin() + 1);
  auto opened = OpenAs(std::span<const std::uint8_t>(shifted).subspan(1), NodeNamed("gbr-node"));
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(opened->portions.size(), 3u);
}

TEST_F(EnvelopeTest, WrongOriginatorKeyIsBadSignature) {
  const SealedReport sealed = SealOk(Input());
  const SignKeys other = MakeSignKeys();
  auto opened =
      Open(sealed.bytes, NodeNamed("gbr-node").Identity(), other.pk, CoalitionPolicy(), kNow);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().reason(), "ENVELOPE_BAD_SIGNATURE");
  EXPECT_EQ(opened.status().code(), Code::kUnauthenticated);
  EXPECT_EQ(InspectReport(sealed.bytes, other.pk).status().reason(), "ENVELOPE_BAD_SIGNATURE");
}

TEST_F(EnvelopeTest, WrongRecipientKeyIsRejected) {
  const SealedReport sealed = SealOk(Input());
  // gbr-node opening with a different (e.g. rotated) key pair: the wrap names another key.
  Node impostor = MakeNode("gbr-node", "GBR", 4);
  auto opened = OpenAs(sealed.bytes, impostor);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().reason(), "ENVELOPE_KEY_MISMATCH");

  // Right public key, wrong secret key.
  const Node& gbr = NodeNamed("gbr-node");
  RecipientIdentity mixed{gbr.node_id, gbr.nation, gbr.clearance, gbr.enc_pk, impostor.enc_sk};
  opened = Open(sealed.bytes, mixed, origin_.pk, CoalitionPolicy(), kNow);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().reason(), "ENVELOPE_DECRYPT_FAILED");

  // A node the report was never addressed to.
  Node stranger = MakeNode("fra-node", "FRA", 4);
  opened = OpenAs(sealed.bytes, stranger);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().reason(), "ENVELOPE_NOT_A_RECIPIENT");
}

TEST_F(EnvelopeTest, ExpiredAndFutureReportsAreRejected) {
  const SealedReport sealed = SealOk(Input());
  auto opened = OpenAs(sealed.bytes, NodeNamed("gbr-node"), kExpires + 1);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().reason(), "ENVELOPE_EXPIRED");
  EXPECT_EQ(opened.status().code(), Code::kExpired);
  EXPECT_TRUE(OpenAs(sealed.bytes, NodeNamed("gbr-node"), kExpires).ok());
  opened = OpenAs(sealed.bytes, NodeNamed("gbr-node"), kCreated - kMaxClockSkewSeconds - 1);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().reason(), "ENVELOPE_NOT_YET_VALID");
}

TEST_F(EnvelopeTest, RecipientRechecksReleaseForItsOwnNationAndClearance) {
  const SealedReport sealed = SealOk(Input());
  // The gbr-node key, but configured as a JPN node: the FVEY portion is not for it.
  const Node& gbr = NodeNamed("gbr-node");
  RecipientIdentity as_jpn{gbr.node_id, "JPN", gbr.clearance, gbr.enc_pk, gbr.enc_sk};
  auto opened = Open(sealed.bytes, as_jpn, origin_.pk, CoalitionPolicy(), kNow);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().reason(), "ENVELOPE_LABEL_NOT_RELEASABLE");
  EXPECT_NE(opened.status().message().find("portion 1"), std::string::npos);

  RecipientIdentity low{gbr.node_id, gbr.nation, 2, gbr.enc_pk, gbr.enc_sk};
  opened = Open(sealed.bytes, low, origin_.pk, CoalitionPolicy(), kNow);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().reason(), "ENVELOPE_LABEL_NOT_RELEASABLE");
  EXPECT_NE(opened.status().message().find("ABOVE_CLEARANCE"), std::string::npos);
}

TEST_F(EnvelopeTest, LabelSwapIsRejected) {
  const SealedReport sealed = SealOk(Input());
  Parts p = Split(sealed.bytes);
  // Broker relabels the NOFORN portion as the unclassified one's label.
  BodyFields b3 = ReadBody(p.bodies[3].second);
  b3.label = ReadBody(p.bodies[2].second).label;
  p.bodies[3].second = WriteBody(b3);
  auto opened = OpenAs(Join(p), NodeNamed("usa-node"));
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().reason(), "ENVELOPE_COMMITMENT_MISMATCH");
  EXPECT_EQ(InspectReport(Join(p), origin_.pk).status().reason(), "ENVELOPE_COMMITMENT_MISMATCH");

  // Even with commitments and signature redone, the AEAD binding of the label holds.
  RecommitAndResign(p, origin_.sk);
  opened = OpenAs(Join(p), NodeNamed("usa-node"));
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().reason(), "ENVELOPE_DECRYPT_FAILED");
}

TEST_F(EnvelopeTest, PortionSwapWithinReportIsRejected) {
  const SealedReport sealed = SealOk(Input());
  Parts p = Split(sealed.bytes);
  std::swap(p.bodies[0].second, p.bodies[2].second);
  auto opened = OpenAs(Join(p), NodeNamed("gbr-node"));
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().reason(), "ENVELOPE_COMMITMENT_MISMATCH");

  // A reduced copy presenting portion 2's body as portion 0.
  p = Split(sealed.bytes);
  p.bodies = {{0, p.bodies[2].second}};
  opened = OpenAs(Join(p), NodeNamed("gbr-node"));
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().reason(), "ENVELOPE_COMMITMENT_MISMATCH");

  // Ciphertext moved to another portion's body, everything re-committed and re-signed: the
  // index and label in the AD still catch it.
  p = Split(sealed.bytes);
  BodyFields b0 = ReadBody(p.bodies[0].second);
  BodyFields b2 = ReadBody(p.bodies[2].second);
  std::swap(b0.ciphertext, b2.ciphertext);
  std::swap(b0.nonce, b2.nonce);
  std::swap(b0.wraps, b2.wraps);
  p.bodies[0].second = WriteBody(b0);
  p.bodies[2].second = WriteBody(b2);
  RecommitAndResign(p, origin_.sk);
  opened = OpenAs(Join(p), NodeNamed("gbr-node"));
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().reason(), "ENVELOPE_DECRYPT_FAILED");
}

TEST_F(EnvelopeTest, PortionSwapBetweenReportsIsRejected) {
  const SealedReport a = SealOk(Input());
  const SealedReport b = SealOk(Input());
  Parts pa = Split(a.bytes);
  const Parts pb = Split(b.bytes);
  pa.bodies[0].second = pb.bodies[0].second;
  auto opened = OpenAs(Join(pa), NodeNamed("jpn-node"));
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().reason(), "ENVELOPE_COMMITMENT_MISMATCH");

  // With the commitment forced to match, the report id in the AD still catches it.
  RecommitAndResign(pa, origin_.sk);
  opened = OpenAs(Join(pa), NodeNamed("jpn-node"));
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().reason(), "ENVELOPE_DECRYPT_FAILED");
}

TEST_F(EnvelopeTest, RecipientAdditionByBrokerIsRejected) {
  const SealedReport sealed = SealOk(Input());
  Parts p = Split(sealed.bytes);
  // The broker cannot know the content key, but tries to add a wrap for another node (here a
  // re-wrap of garbage for fra-node), e.g. to make it look addressed.
  Node fra = MakeNode("fra-node", "FRA", 4);
  BodyFields b0 = ReadBody(p.bodies[0].second);
  std::array<std::uint8_t, 32> fake_key{};
  randombytes_buf(fake_key.data(), fake_key.size());
  std::vector<std::uint8_t> sealed_key(80);
  crypto_box_seal(sealed_key.data(), fake_key.data(), fake_key.size(), fra.enc_pk.data());
  const KeyFingerprint fp = EncKeyFingerprint(fra.enc_pk);
  b0.wraps.push_back({"fra-node", {fp.begin(), fp.end()}, sealed_key});
  p.bodies[0].second = WriteBody(b0);
  const auto tampered = Join(p);
  auto opened = OpenAs(tampered, fra);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().reason(), "ENVELOPE_COMMITMENT_MISMATCH");
  EXPECT_EQ(OpenAs(tampered, NodeNamed("gbr-node")).status().reason(),
            "ENVELOPE_COMMITMENT_MISMATCH");
  EXPECT_EQ(InspectReport(tampered, origin_.pk).status().reason(), "ENVELOPE_COMMITMENT_MISMATCH");
}

TEST_F(EnvelopeTest, ReplayUnderAnotherIdIsRejected) {
  const SealedReport sealed = SealOk(Input());
  Parts p = Split(sealed.bytes);
  HeaderFields h = ReadHeader(p.header);
  h.report_id[0] ^= 0x01;
  p.header = WriteHeader(h);
  auto opened = OpenAs(Join(p), NodeNamed("gbr-node"));
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().reason(), "ENVELOPE_BAD_SIGNATURE");

  // Signed anew under the new id (bodies unchanged): the AD still names the old id.
  p.signature = Sign(p.header, origin_.sk);
  opened = OpenAs(Join(p), NodeNamed("gbr-node"));
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().reason(), "ENVELOPE_DECRYPT_FAILED");
}

TEST_F(EnvelopeTest, OriginatorChangeIsRejected) {
  const SealedReport sealed = SealOk(Input());
  Parts p = Split(sealed.bytes);
  HeaderFields h = ReadHeader(p.header);
  h.originator = "gbr-node";
  h.originator_nation = "GBR";
  p.header = WriteHeader(h);
  EXPECT_EQ(OpenAs(Join(p), NodeNamed("gbr-node")).status().reason(), "ENVELOPE_BAD_SIGNATURE");
  p.signature = Sign(p.header, origin_.sk);
  EXPECT_EQ(OpenAs(Join(p), NodeNamed("gbr-node")).status().reason(), "ENVELOPE_DECRYPT_FAILED");
}

TEST_F(EnvelopeTest, UnknownVersionIsReported) {
  const SealedReport sealed = SealOk(Input());
  Parts p = Split(sealed.bytes);
  HeaderFields h = ReadHeader(p.header);
  h.version = 2;
  p.header = WriteHeader(h);
  p.signature = Sign(p.header, origin_.sk);
  auto opened = OpenAs(Join(p), NodeNamed("gbr-node"));
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().reason(), "ENVELOPE_VERSION");
}

TEST_F(EnvelopeTest, DuplicateAndOutOfRangePortionsAreRejected) {
  const SealedReport sealed = SealOk(Input());
  Parts p = Split(sealed.bytes);
  Parts dup = p;
  dup.bodies.insert(dup.bodies.begin() + 1, dup.bodies[0]);
  dup.bodies.pop_back();
  EXPECT_EQ(OpenAs(Join(dup), NodeNamed("gbr-node")).status().reason(),
            "ENVELOPE_DUPLICATE_PORTION");

  Parts range = p;
  range.bodies[3].first = 4;
  EXPECT_EQ(OpenAs(Join(range), NodeNamed("gbr-node")).status().reason(), "ENVELOPE_PORTION_INDEX");

  Parts relabelled = p;
  relabelled.bodies.resize(1);
  relabelled.bodies[0].first = 1;  // body 0 presented as portion 1
  EXPECT_EQ(OpenAs(Join(relabelled), NodeNamed("gbr-node")).status().reason(),
            "ENVELOPE_COMMITMENT_MISMATCH");

  Parts none = p;
  none.bodies.clear();
  EXPECT_EQ(OpenAs(Join(none), NodeNamed("gbr-node")).status().reason(), "ENVELOPE_MALFORMED");
}

TEST_F(EnvelopeTest, SelectPortionsErrors) {
  const SealedReport sealed = SealOk(Input());
  EXPECT_EQ(SelectPortions(sealed.bytes, {}).status().reason(), "ENVELOPE_EMPTY_SELECTION");
  const std::vector<std::uint32_t> missing = {1, 9};
  EXPECT_EQ(SelectPortions(sealed.bytes, missing).status().reason(), "ENVELOPE_NO_SUCH_PORTION");
  const std::vector<std::uint32_t> one = {1};
  auto reduced = SelectPortions(sealed.bytes, one);
  ASSERT_TRUE(reduced.ok());
  const std::vector<std::uint32_t> zero = {0};
  EXPECT_EQ(SelectPortions(*reduced, zero).status().reason(), "ENVELOPE_NO_SUCH_PORTION");
  const std::vector<std::uint32_t> repeated = {2, 2, 0};
  auto twice = SelectPortions(sealed.bytes, repeated);
  ASSERT_TRUE(twice.ok());
  auto view = InspectReport(*twice, origin_.pk);
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  ASSERT_EQ(view->portions.size(), 2u);
  EXPECT_EQ(view->portions[0].index, 0u);
  EXPECT_EQ(view->portions[1].index, 2u);
}

// Decodes a sealed report with libsodium and the generated FlatBuffers code only, following
// docs/PROTOCOL.md step by step: keeps the document and the implementation in agreement.
TEST_F(EnvelopeTest, IndependentDecoderFollowingProtocolDocument) {
  const SealInput in = Input();
  const SealedReport sealed = SealOk(in);
  const auto& bytes = sealed.bytes;
  ASSERT_TRUE(flatbuffers::BufferHasIdentifier(bytes.data(), "TLRP"));
  flatbuffers::Verifier outer_verifier(bytes.data(), bytes.size());
  ASSERT_TRUE(outer_verifier.VerifyBuffer<schema::Report>("TLRP"));
  const auto* report = flatbuffers::GetRoot<schema::Report>(bytes.data());
  const std::vector<std::uint8_t> header = ToVec(report->header());
  flatbuffers::Verifier header_verifier(header.data(), header.size());
  ASSERT_TRUE(header_verifier.VerifyBuffer<schema::ReportHeader>("TLRH"));

  // Signature: Ed25519 over "tearline/v1/report-header" NUL || header.
  std::string sig_msg = std::string("tearline/v1/report-header") + '\0';
  sig_msg.append(header.begin(), header.end());
  ASSERT_EQ(report->signature()->size(), 64u);
  ASSERT_EQ(crypto_sign_verify_detached(report->signature()->data(),
                                        reinterpret_cast<const unsigned char*>(sig_msg.data()),
                                        sig_msg.size(), origin_.pk.data()),
            0);
  const auto* h = flatbuffers::GetRoot<schema::ReportHeader>(header.data());
  EXPECT_EQ(h->version(), 1);
  EXPECT_EQ(h->portion_count(), 4u);
  const std::vector<std::uint8_t> report_id = ToVec(h->report_id());
  ASSERT_EQ(report_id.size(), 16u);
  EXPECT_TRUE(std::equal(report_id.begin(), report_id.end(), sealed.report_id.begin()));

  const Node& jpn = NodeNamed("jpn-node");
  std::array<std::uint8_t, 32> pk_hash{};
  crypto_hash_sha256(pk_hash.data(), jpn.enc_pk.data(), jpn.enc_pk.size());
  for (const auto* env : *report->portions()) {
    const std::vector<std::uint8_t> body = ToVec(env->body());
    // Commitment: SHA-256("tearline/v1/portion-commitment" NUL || body).
    std::string commit_in = std::string("tearline/v1/portion-commitment") + '\0';
    commit_in.append(body.begin(), body.end());
    std::array<std::uint8_t, 32> commitment{};
    crypto_hash_sha256(commitment.data(), reinterpret_cast<const unsigned char*>(commit_in.data()),
                       commit_in.size());
    const auto* expected = h->commitments()->Get(env->index())->bytes();
    ASSERT_TRUE(std::equal(commitment.begin(), commitment.end(), expected->begin()));

    const BodyFields b = ReadBody(body);
    ASSERT_EQ(b.index, env->index());
    const auto wrap = std::find_if(b.wraps.begin(), b.wraps.end(), [](const BodyFields::Wrap& w) {
      return w.recipient == "jpn-node";
    });
    if (wrap == b.wraps.end()) continue;
    ASSERT_TRUE(std::equal(wrap->fingerprint.begin(), wrap->fingerprint.end(), pk_hash.begin()));
    ASSERT_EQ(wrap->sealed.size(), 80u);
    std::array<std::uint8_t, 32> key{};
    ASSERT_EQ(crypto_box_seal_open(key.data(), wrap->sealed.data(), wrap->sealed.size(),
                                   jpn.enc_pk.data(), jpn.enc_sk.data()),
              0);
    // AD: domain NUL || report_id || u32be(len originator) || originator || u32be(index) ||
    // u32be(len label) || label.
    auto u32be = [](std::uint32_t v) {
      return std::string{static_cast<char>(v >> 24), static_cast<char>((v >> 16) & 0xff),
                         static_cast<char>((v >> 8) & 0xff), static_cast<char>(v & 0xff)};
    };
    std::string ad = std::string("tearline/v1/portion-ad") + '\0';
    ad.append(report_id.begin(), report_id.end());
    ad += u32be(8) + "usa-node" + u32be(b.index);
    ad += u32be(static_cast<std::uint32_t>(b.label.size())) + b.label;
    std::vector<std::uint8_t> plain(b.ciphertext.size() - 16);
    unsigned long long plain_len = 0;
    ASSERT_EQ(crypto_aead_xchacha20poly1305_ietf_decrypt(
                  plain.data(), &plain_len, nullptr, b.ciphertext.data(), b.ciphertext.size(),
                  reinterpret_cast<const unsigned char*>(ad.data()), ad.size(), b.nonce.data(),
                  key.data()),
              0)
        << "portion " << b.index;
    EXPECT_EQ(plain, in.portions[b.index].plaintext);
    EXPECT_EQ(b.label, sealed.portion_labels[b.index]);
    EXPECT_EQ(b.salt.size(), 32u);
  }
}

TEST_F(EnvelopeTest, ReportIdIsRandomUnlessGiven) {
  const SealedReport a = SealOk(Input());
  const SealedReport b = SealOk(Input());
  EXPECT_NE(a.report_id, b.report_id);
  SealInput in = Input();
  ReportId id{};
  id.fill(0xab);
  in.report_id = id;
  EXPECT_EQ(SealOk(in).report_id, id);
  EXPECT_EQ(ReportIdHex(id), "abababababababababababababababab");
}

// Production sealing draws from the OS: two seals of the same input differ in every random field.
// A seeded source (conformance vectors only) makes sealing reproducible byte for byte, and the
// reproducible report still opens (its wraps are standard sealed boxes).
TEST_F(EnvelopeTest, SealingIsRandomByDefaultAndReproducibleWithASeededSource) {
  SealInput in = Input();
  const SealedReport a = SealOk(in);
  const SealedReport b = SealOk(in);
  EXPECT_NE(a.bytes, b.bytes);
  const auto pa = Split(a.bytes);
  const auto pb = Split(b.bytes);
  const BodyFields ba = ReadBody(pa.bodies[0].second);
  const BodyFields bb = ReadBody(pb.bodies[0].second);
  EXPECT_NE(ba.nonce, bb.nonce);
  EXPECT_NE(ba.salt, bb.salt);
  EXPECT_NE(ba.wraps[0].sealed, bb.wraps[0].sealed);

  std::array<std::uint8_t, 32> seed{};
  seed.fill(0x5e);
  SeededRandom r1(seed);
  SeededRandom r2(seed);
  in.random = &r1;
  const SealedReport c = SealOk(in);
  in.random = &r2;
  const SealedReport d = SealOk(in);
  EXPECT_EQ(c.bytes, d.bytes);
  EXPECT_EQ(c.report_id, d.report_id);
  auto opened = OpenAs(c.bytes, NodeNamed("gbr-node"));
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(AsString(opened->portions[0].plaintext), "alpha: shared with GBR and JPN");
}

}  // namespace
}  // namespace tearline
