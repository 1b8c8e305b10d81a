#include "vectors_common.h"

#include <sodium.h>

#include <utility>

#include "tearline/base/encoding.h"

namespace tearline::tools::vectors {
namespace {

Result<SigningKeyPair> SigningFromSeed(const std::array<std::uint8_t, 32>& seed) {
  std::array<std::uint8_t, crypto_sign_PUBLICKEYBYTES> pk{};
  TEARLINE_ASSIGN_OR_RETURN(SecretBytes sk, SecretBytes::Allocate(crypto_sign_SECRETKEYBYTES));
  crypto_sign_seed_keypair(pk.data(), sk.data(), seed.data());
  return SigningKeyPairFromSecret(std::move(sk));
}

Result<BoxKeyPair> BoxFromSeed(const std::array<std::uint8_t, 32>& seed) {
  TEARLINE_ASSIGN_OR_RETURN(SecretBytes sk, SecretBytes::CopyOf(seed));
  return BoxKeyPairFromSecret(std::move(sk));
}

// Small on purpose: the nations of the coalition's nodes and a few more for REL TO lists, one
// group, and the usual five levels.
constexpr std::string_view kPolicyText = R"([policy]
name = "tearline-vectors"
version = "1"
max_expiry_days = 366

[[classification]]
name = "UNCLASSIFIED"
abbrev = "U"

[[classification]]
name = "RESTRICTED"
abbrev = "R"

[[classification]]
name = "CONFIDENTIAL"
abbrev = "C"

[[classification]]
name = "SECRET"
abbrev = "S"

[[classification]]
name = "TOP SECRET"
abbrev = "TS"

[marking]
listed_first = ["USA"]

[nations]
AUS = "Australia"
CAN = "Canada"
GBR = "United Kingdom"
JPN = "Japan"
KOR = "Republic of Korea"
NZL = "New Zealand"
USA = "United States"

[groups.FVEY]
title = "Five Eyes"
members = ["USA", "AUS", "CAN", "GBR", "NZL"]
)";

}  // namespace

std::string Hex(std::span<const std::uint8_t> b) { return ToHex(b); }
std::string Base64Of(std::span<const std::uint8_t> b) { return Base64Encode(b); }
Bytes BytesOf(std::string_view text) { return Bytes(text.begin(), text.end()); }

std::array<std::uint8_t, 32> Seed(std::string_view name, std::string_view purpose) {
  const std::string input = "tearline/vectors/v1 " + std::string(name) + " " + std::string(purpose);
  std::array<std::uint8_t, 32> seed{};
  crypto_hash_sha256(seed.data(), reinterpret_cast<const unsigned char*>(input.data()),
                     input.size());
  return seed;
}

const Identity& Coalition::Member(std::string_view name) const {
  for (const Identity& m : members) {
    if (m.name == name) return m;
  }
  return members.front();
}

Result<Identity> MakeIdentity(std::string name, CertRole role, std::string nation,
                              std::string clearance, std::uint64_t serial) {
  Identity id;
  id.name = std::move(name);
  id.role = role;
  id.nation = std::move(nation);
  id.clearance = std::move(clearance);
  id.serial = serial;
  TEARLINE_ASSIGN_OR_RETURN(id.signing, SigningFromSeed(Seed(id.name, "signing")));
  if (role != CertRole::kRoot) {
    TEARLINE_ASSIGN_OR_RETURN(id.encryption, BoxFromSeed(Seed(id.name, "encryption")));
    TEARLINE_ASSIGN_OR_RETURN(id.transport, BoxFromSeed(Seed(id.name, "transport")));
  }
  return id;
}

CertificateFields FieldsOf(const Identity& id) {
  CertificateFields f;
  f.serial = id.serial;
  f.role = id.role;
  f.node_id = id.role == CertRole::kRoot ? "root" : id.name;
  f.nation = id.nation;
  f.clearance = id.clearance;
  f.not_before = kNotBefore;
  f.not_after = kNotAfter;
  f.signing_key = id.signing.public_key;
  if (id.encryption) f.encryption_key = id.encryption->public_key;
  if (id.transport) f.transport_key = id.transport->public_key;
  return f;
}

Result<Coalition> MakeCoalition() {
  Coalition c;
  TEARLINE_ASSIGN_OR_RETURN(c.policy, Policy::Parse(kPolicyText, "coalition/policy.json"));
  TEARLINE_ASSIGN_OR_RETURN(c.root, MakeIdentity("root", CertRole::kRoot, "", "", 1));
  TEARLINE_ASSIGN_OR_RETURN(c.root.cert, IssueCertificate(c.root.signing, FieldsOf(c.root)));
  struct Spec {
    const char* name;
    CertRole role;
    const char* nation;
    const char* clearance;
  };
  std::uint64_t serial = 2;
  for (const Spec& s : {Spec{"broker-1", CertRole::kBroker, "USA", "TOP SECRET"},
                        Spec{"usa-1", CertRole::kNode, "USA", "SECRET"},
                        Spec{"gbr-1", CertRole::kNode, "GBR", "SECRET"},
                        Spec{"jpn-1", CertRole::kNode, "JPN", "CONFIDENTIAL"}}) {
    TEARLINE_ASSIGN_OR_RETURN(Identity id,
                              MakeIdentity(s.name, s.role, s.nation, s.clearance, serial++));
    TEARLINE_ASSIGN_OR_RETURN(id.cert, IssueCertificate(c.root.signing, FieldsOf(id)));
    c.members.push_back(std::move(id));
  }
  return c;
}

std::string_view PolicyText() { return kPolicyText; }

Json RecipientJson(const Identity& id, const Policy& policy) {
  const std::optional<int> rank = policy.FindLevel(id.clearance);
  return {{"node_id", id.name},
          {"nation", id.nation},
          {"clearance", id.clearance},
          {"clearance_rank", rank.value_or(-1)},
          {"enc_public_key_hex", Hex(id.encryption->public_key)},
          {"enc_secret_key_hex", Hex(id.encryption->secret_key.span())}};
}

Status PolicyVectors(const Coalition& c, const Emit& emit) {
  std::array<std::uint8_t, 32> digest{};
  crypto_hash_sha256(digest.data(), reinterpret_cast<const unsigned char*>(kPolicyText.data()),
                     kPolicyText.size());
  Json j = {
      {"kind", "policy"},
      {"description", "the release policy every label in the vectors is decided under (TOML text)"},
      {"toml", std::string(kPolicyText)},
      {"sha256_hex", Hex(digest)},
      {"name", c.policy.name()},
      {"version", c.policy.version()}};
  emit("coalition/policy.json", std::move(j));
  return Status::Ok();
}

}  // namespace tearline::tools::vectors
