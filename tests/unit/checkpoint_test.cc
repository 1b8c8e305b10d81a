// Tests for signed notes, checkpoints and cosignatures: known answers from the reference
// implementation's published example (golang.org/x/mod/sumdb/note) and verifier keys, round
// trips, tampering, wrong keys and strict rejection of malformed input with typed reasons.
#include "tearline/tlog/checkpoint.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <cstdint>
#include <string>
#include <vector>

#include "tearline/base/encoding.h"
#include "tearline/crypto/keys.h"
#include "tearline/crypto/secure_memory.h"
#include "tearline/tlog/merkle.h"

namespace tearline {
namespace {

using Bytes = std::vector<std::uint8_t>;

const std::string kDash = "\xE2\x80\x94 ";

// Deterministic key pair from a 32-byte seed (Ed25519 signing is deterministic, so signatures
// made with it are known answers).
SigningKeyPair KeyFromSeed(const std::uint8_t* seed) {
  EXPECT_TRUE(InitCrypto().ok());
  PublicKey pk{};
  auto secret = SecretBytes::Allocate(kSigningSecretKeySize);
  EXPECT_TRUE(secret.ok());
  EXPECT_EQ(crypto_sign_seed_keypair(pk.data(), secret->data(), seed), 0);
  auto pair = SigningKeyPairFromSecret(std::move(secret).value());
  EXPECT_TRUE(pair.ok());
  return std::move(pair).value();
}

SigningKeyPair FreshKey() {
  auto k = GenerateSigningKeyPair();
  EXPECT_TRUE(k.ok());
  return std::move(k).value();
}

NoteVerifierKey VerifierFor(const std::string& name, const SigningKeyPair& key,
                            NoteKeyType type = NoteKeyType::kEd25519) {
  auto v = MakeNoteVerifierKey(name, type, key.public_key);
  EXPECT_TRUE(v.ok()) << v.status().ToString();
  return v.ok() ? *v : NoteVerifierKey{};
}

Checkpoint SampleCheckpoint(std::uint64_t size = 20852163) {
  Checkpoint cp;
  cp.origin = "tearline.example/audit/broker-1";
  cp.tree_size = size;
  cp.root_hash = LeafHash(Bytes{1, 2, 3});
  return cp;
}

// --- Known answers ---------------------------------------------------------------------------

// The signed-note example published with the reference implementation (sumdb/note): its signer
// key "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALV..." is type 0x01 followed by this seed.
constexpr char kPeterSeedB64[] = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
constexpr char kPeterVkey[] = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
constexpr char kPeterText[] =
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n";
constexpr char kPeterSig[] =
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=";

TEST(CheckpointTest, ReferenceNoteKnownAnswer) {
  auto seed = Base64Decode(kPeterSeedB64);
  ASSERT_TRUE(seed.ok());
  ASSERT_EQ(seed->size(), 33U);
  ASSERT_EQ((*seed)[0], 0x01);
  const SigningKeyPair key = KeyFromSeed(seed->data() + 1);

  const NoteVerifierKey vkey = VerifierFor("PeterNeumann", key);
  EXPECT_EQ(vkey.key_id, 0xc74f20a3U);
  EXPECT_EQ(FormatNoteVerifierKey(vkey), kPeterVkey);
  auto parsed = ParseNoteVerifierKey(kPeterVkey);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(*parsed, vkey);

  auto line = SignNoteLine(kPeterText, "PeterNeumann", key);
  ASSERT_TRUE(line.ok()) << line.status().ToString();
  EXPECT_EQ(*line, kDash + "PeterNeumann " + kPeterSig + "\n");

  const std::string note = std::string(kPeterText) + "\n" + *line;
  const NoteVerifierKey keys[] = {*parsed};
  auto verified = VerifySignedNote(note, keys);
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_EQ(verified->text, kPeterText);
  ASSERT_EQ(verified->signatures.size(), 1U);
  EXPECT_FALSE(verified->signatures[0].timestamp.has_value());
}

// The worked example of the audit documentation (docs/AUDIT.md): fixed seeds, so every byte is
// a known answer and the documentation cannot drift from the code.
TEST(CheckpointTest, AuditDocumentationWorkedExample) {
  std::uint8_t log_seed[32];
  std::uint8_t witness_seed[32];
  for (std::uint8_t i = 0; i < 32; ++i) {
    log_seed[i] = i;
    witness_seed[i] = static_cast<std::uint8_t>(0x20 + i);
  }
  const SigningKeyPair log = KeyFromSeed(log_seed);
  const SigningKeyPair witness = KeyFromSeed(witness_seed);
  MerkleTree tree;
  for (const std::string entry : {"entry-0", "entry-1", "entry-2"}) {
    tree.Append(LeafHash(Bytes(entry.begin(), entry.end())));
  }
  const Checkpoint cp{"tearline.example/audit", 3, tree.Root(), {}};
  const std::string body =
      "tearline.example/audit\n3\npkvybgkSj2/i/m+LLYyAHhZrV8BHp82bK4Ceepai8cs=\n";
  EXPECT_EQ(*FormatCheckpointBody(cp), body);
  EXPECT_EQ(
      *SignCheckpoint(cp, "tearline.example/audit", log),
      body + "\n" + kDash +
          "tearline.example/audit AqaNnCNPNBZlW5TdQS0D3T/zYVibft0u/ox2dA43yvgZQmXspxjbDs4BKOBJFR"
          "wCGwyU7CZduuM4grFT9/MJutrhzA8=\n");
  EXPECT_EQ(
      *Cosign(cp, "witness.tearline.example/gbr", witness, 1764000000),
      kDash +
          "witness.tearline.example/gbr siOnTQAAAABpJIEAQaZ2y00zppXBHOdMDVzHK3oYVlzoBYoGz2Wy7KA6"
          "SXB2DdcFAA0ZJ4RXXOZ/ug7bzGAt5Il6wFI3U0RLfQsWAQ==\n");
  EXPECT_EQ(FormatNoteVerifierKey(VerifierFor("tearline.example/audit", log)),
            "tearline.example/audit+02a68d9c+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4");
  EXPECT_EQ(FormatNoteVerifierKey(
                VerifierFor("witness.tearline.example/gbr", witness, NoteKeyType::kCosignatureV1)),
            "witness.tearline.example/gbr+b223a74d+BCmsuuFBvMrwsi4alNNNC8c2HlJtC/4SyJeUvJMilm3X");
}

TEST(CheckpointTest, PublishedVerifierKeysParse) {
  // Verifier keys from the reference implementations' tests: an Ed25519 key whose base64 holds a
  // '+', a cosignature/v1 (type 0x04) key, and a second Ed25519 key. Parsing checks the key id,
  // so these are key-id known answers for both signature types.
  for (const char* text : {"TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6",
                           "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2",
                           "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"}) {
    auto key = ParseNoteVerifierKey(text);
    ASSERT_TRUE(key.ok()) << text << ": " << key.status().ToString();
    EXPECT_EQ(FormatNoteVerifierKey(*key), text);
  }
  EXPECT_EQ(
      ParseNoteVerifierKey("remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2")
          ->type,
      NoteKeyType::kCosignatureV1);
  // Upper-case hex ids are accepted (the reference parser accepts them); output is lower case.
  EXPECT_TRUE(
      ParseNoteVerifierKey("PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
          .ok());
}

TEST(CheckpointTest, MalformedVerifierKeysRejected) {
  const std::string good = kPeterVkey;
  for (const std::string& text : {
           std::string(""),
           std::string("PeterNeumann"),
           std::string("PeterNeumann+c74f20a3"),
           std::string("+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"),
           std::string("PeterNeumann+00000000+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"),
           std::string("PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"),
           std::string("PeterNeumann+c74f20g3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"),
           std::string("Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"),
           std::string("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T"),
           std::string("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW="),
           std::string("PeterNeumann+c74f20a3+Apc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"),
           std::string("rekor.sigstore.dev+12345678+AwEB"),
           good + "AA==",
       }) {
    auto key = ParseNoteVerifierKey(text);
    EXPECT_FALSE(key.ok()) << text;
    if (!key.ok()) {
      const std::string& r = key.status().reason();
      EXPECT_TRUE(r == "NOTE_BAD_VERIFIER_KEY" || r == "NOTE_BAD_KEY_NAME") << text << ": " << r;
    }
  }
}

TEST(CheckpointTest, CosignatureMessageMatchesSpecExample) {
  const std::string body =
      "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
  EXPECT_EQ(CosignatureMessage(body, 1679315147), "cosignature/v1\ntime 1679315147\n" + body);
  auto cp = ParseCheckpointBody(body);
  ASSERT_TRUE(cp.ok()) << cp.status().ToString();
  EXPECT_EQ(cp->origin, "example.com/behind-the-sofa");
  EXPECT_EQ(cp->tree_size, 20852163U);
  EXPECT_EQ(*FormatCheckpointBody(*cp), body);
}

// --- Checkpoint bodies -----------------------------------------------------------------------

TEST(CheckpointTest, BodyRoundTrip) {
  Checkpoint cp = SampleCheckpoint();
  auto body = FormatCheckpointBody(cp);
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(*body, cp.origin + "\n20852163\n" + Base64Encode(cp.root_hash) + "\n");
  EXPECT_EQ(*ParseCheckpointBody(*body), cp);

  cp.extensions = {"ext one", "— two"};
  cp.tree_size = 0;
  body = FormatCheckpointBody(cp);
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(*ParseCheckpointBody(*body), cp);

  cp.tree_size = UINT64_MAX;
  EXPECT_EQ(ParseCheckpointBody(*FormatCheckpointBody(cp))->tree_size, UINT64_MAX);

  Checkpoint bad = SampleCheckpoint();
  bad.origin = "";
  EXPECT_EQ(FormatCheckpointBody(bad).status().reason(), "CHECKPOINT_MALFORMED");
  bad.origin = "two\nlines";
  EXPECT_EQ(FormatCheckpointBody(bad).status().reason(), "CHECKPOINT_MALFORMED");
  bad = SampleCheckpoint();
  bad.extensions = {""};
  EXPECT_EQ(FormatCheckpointBody(bad).status().reason(), "CHECKPOINT_MALFORMED");
}

TEST(CheckpointTest, MalformedBodiesRejected) {
  const std::string root = Base64Encode(SampleCheckpoint().root_hash);
  // Same 32 bytes, but the last character's two unused low bits set: non-canonical.
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string loose_root = root;
  loose_root[42] = kAlphabet[kAlphabet.find(root[42]) ^ 1U];
  std::string too_many_extensions = "o\n5\n" + root + "\n";
  for (std::size_t i = 0; i <= kMaxCheckpointExtensionLines; ++i) too_many_extensions += "x\n";
  const std::vector<std::string> bodies = {
      std::string(""),
      "o\n5\n" + root,                            // No final newline.
      "o\n5\n",                                   // Two lines.
      "\n5\n" + root + "\n",                      // Empty origin.
      "o\n05\n" + root + "\n",                    // Leading zero.
      "o\n+5\n" + root + "\n",                    // Sign.
      "o\n-5\n" + root + "\n",                    // Sign.
      "o\n 5\n" + root + "\n",                    // Space.
      "o\n\n" + root + "\n",                      // Empty size.
      "o\n18446744073709551616\n" + root + "\n",  // 2^64.
      "o\n5\n" + root.substr(0, 40) + "\n",       // Not 32 bytes.
      "o\n5\nAAAA\n",                             // 3 bytes.
      "o\n5\n" + loose_root + "\n",               // Non-canonical padding bits.
      "o\n5\n" + root + "\n\n",                   // Empty extension line.
      "o\n5\n" + root + "\nx\r\n",                // Control character.
      "o\xff\n5\n" + root + "\n",                 // Invalid UTF-8.
      too_many_extensions,
  };
  for (const std::string& text : bodies) {
    auto cp = ParseCheckpointBody(text);
    EXPECT_FALSE(cp.ok()) << text;
    if (!cp.ok()) {
      EXPECT_EQ(cp.status().reason(), "CHECKPOINT_MALFORMED") << text;
    }
  }
}

// --- Signed checkpoints ----------------------------------------------------------------------

TEST(CheckpointTest, SignedCheckpointRoundTrip) {
  const SigningKeyPair log = FreshKey();
  const Checkpoint cp = SampleCheckpoint();
  auto note = SignCheckpoint(cp, cp.origin, log);
  ASSERT_TRUE(note.ok()) << note.status().ToString();
  const NoteVerifierKey log_key = VerifierFor(cp.origin, log);

  auto opened = OpenCheckpoint(*note, cp.origin, log_key);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(opened->checkpoint, cp);
  EXPECT_EQ(opened->text, *FormatCheckpointBody(cp));
  ASSERT_EQ(opened->signatures.size(), 1U);
  EXPECT_EQ(opened->signatures[0].key, log_key);

  // The parsed form re-formats to exactly the same bytes.
  auto parsed = ParseSignedNote(*note);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*FormatSignedNote(*parsed), *note);
  // Through the verifier-key text form too.
  auto reparsed_key = ParseNoteVerifierKey(FormatNoteVerifierKey(log_key));
  ASSERT_TRUE(reparsed_key.ok());
  EXPECT_TRUE(OpenCheckpoint(*note, cp.origin, *reparsed_key).ok());

  EXPECT_EQ(OpenCheckpoint(*note, "tearline.example/other", log_key).status().reason(),
            "CHECKPOINT_ORIGIN_MISMATCH");
}

TEST(CheckpointTest, EverySingleBitFlipIsRejected) {
  const SigningKeyPair log = FreshKey();
  const Checkpoint cp = SampleCheckpoint();
  const std::string note = *SignCheckpoint(cp, cp.origin, log);
  const NoteVerifierKey keys[] = {VerifierFor(cp.origin, log)};
  for (std::size_t i = 0; i < note.size(); ++i) {
    for (unsigned bit : {0x01U, 0x20U, 0x80U}) {
      std::string tampered = note;
      tampered[i] = static_cast<char>(static_cast<unsigned char>(tampered[i]) ^ bit);
      EXPECT_FALSE(VerifySignedNote(tampered, keys).ok()) << "byte " << i << " bit " << bit;
    }
  }
}

TEST(CheckpointTest, TamperedBodyOrSignatureFailsWithTypedReason) {
  const SigningKeyPair log = FreshKey();
  const Checkpoint cp = SampleCheckpoint();
  const std::string note = *SignCheckpoint(cp, cp.origin, log);
  const NoteVerifierKey keys[] = {VerifierFor(cp.origin, log)};

  std::string body_changed = note;
  body_changed[body_changed.find("20852163")] = '3';  // A different tree size.
  EXPECT_EQ(VerifySignedNote(body_changed, keys).status().reason(), "NOTE_BAD_SIGNATURE");

  // Replace the signature bytes (keeping the key id) with a signature over other text.
  auto parsed = ParseSignedNote(note);
  ASSERT_TRUE(parsed.ok());
  auto other = ParseSignedNote(*SignCheckpoint(SampleCheckpoint(7), cp.origin, log));
  ASSERT_TRUE(other.ok());
  parsed->signatures[0].signature = other->signatures[0].signature;
  EXPECT_EQ(VerifySignedNote(*FormatSignedNote(*parsed), keys).status().reason(),
            "NOTE_BAD_SIGNATURE");
  // A truncated signature from a known key is a bad signature, not an ignored one.
  parsed->signatures[0].signature.resize(63);
  EXPECT_EQ(VerifySignedNote(*FormatSignedNote(*parsed), keys).status().reason(),
            "NOTE_BAD_SIGNATURE");
}

TEST(CheckpointTest, WrongAndUnknownKeys) {
  const SigningKeyPair log = FreshKey();
  const SigningKeyPair impostor = FreshKey();
  const Checkpoint cp = SampleCheckpoint();
  const std::string note = *SignCheckpoint(cp, cp.origin, log);

  // Same name, different key: its key id differs, so the log's signature is unknown to it.
  const NoteVerifierKey wrong[] = {VerifierFor(cp.origin, impostor)};
  EXPECT_EQ(VerifySignedNote(note, wrong).status().reason(), "NOTE_UNVERIFIED");
  EXPECT_EQ(OpenCheckpoint(note, cp.origin, wrong[0]).status().reason(), "NOTE_UNVERIFIED");
  // The right key under another name.
  const NoteVerifierKey renamed[] = {VerifierFor("someone.else", log)};
  EXPECT_EQ(VerifySignedNote(note, renamed).status().reason(), "NOTE_UNVERIFIED");
  // No keys at all.
  EXPECT_EQ(VerifySignedNote(note, {}).status().reason(), "NOTE_UNVERIFIED");

  // A known key with a forged key id is a configuration error, not a silent mismatch.
  NoteVerifierKey forged = VerifierFor(cp.origin, impostor);
  forged.key_id = VerifierFor(cp.origin, log).key_id;
  const NoteVerifierKey forged_set[] = {forged};
  EXPECT_EQ(VerifySignedNote(note, forged_set).status().reason(), "NOTE_BAD_VERIFIER_KEY");
  // Two known keys with the same name and id.
  const NoteVerifierKey twice[] = {VerifierFor(cp.origin, log), VerifierFor(cp.origin, log)};
  EXPECT_EQ(VerifySignedNote(note, twice).status().reason(), "NOTE_BAD_VERIFIER_KEY");

  // An extra signature by an unknown key is ignored; the known one still verifies.
  const std::string body = *FormatCheckpointBody(cp);
  const std::string with_unknown = note + *SignNoteLine(body, "stranger.example", impostor);
  const NoteVerifierKey right[] = {VerifierFor(cp.origin, log)};
  auto verified = VerifySignedNote(with_unknown, right);
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_EQ(verified->signatures.size(), 1U);

  // The same known key signing twice is rejected.
  const std::string duplicated = note + *SignNoteLine(body, cp.origin, log);
  EXPECT_EQ(VerifySignedNote(duplicated, right).status().reason(), "NOTE_DUPLICATE_SIGNATURE");
}

TEST(CheckpointTest, MalformedNotesRejectedWithTypedReasons) {
  const SigningKeyPair log = FreshKey();
  const std::string body = *FormatCheckpointBody(SampleCheckpoint());
  const std::string line = *SignNoteLine(body, "log.example", log);
  const std::string b64 = line.substr(line.rfind(' ') + 1, line.size() - line.rfind(' ') - 2);
  struct Case {
    std::string note;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {"", "NOTE_MALFORMED"},
      {body + "\n" + line.substr(0, line.size() - 1), "NOTE_MALFORMED"},  // No final newline.
      {body + line, "NOTE_MALFORMED"},                                    // No blank line.
      {body + "\n", "NOTE_MALFORMED"},                                    // No signatures.
      {body + "\n" + line + "\n", "NOTE_MALFORMED"},                      // Trailing blank line.
      {body + "\n- log.example " + b64 + "\n", "NOTE_MALFORMED"},         // Hyphen, not em dash.
      {body + "\n" + kDash + "log.example  " + b64 + "\n", "NOTE_MALFORMED"},     // Two spaces.
      {body + "\n" + kDash + "log.example\n", "NOTE_MALFORMED"},                  // No signature.
      {body + "\n" + kDash + " " + b64 + "\n", "NOTE_BAD_KEY_NAME"},              // Empty name.
      {body + "\n" + kDash + "log+x " + b64 + "\n", "NOTE_BAD_KEY_NAME"},         // '+' in name.
      {body + "\n" + kDash + "log\xC2\xA0x " + b64 + "\n", "NOTE_BAD_KEY_NAME"},  // NBSP.
      {body + "\n" + kDash + "log.example " + b64.substr(1) + "\n", "NOTE_MALFORMED"},
      {body + "\n" + kDash + "log.example AAAAAA==\n", "NOTE_MALFORMED"},  // Only 4 bytes.
      {body + "\n" + line.substr(0, line.size() - 1) + "\r\n", "NOTE_BAD_ENCODING"},
      {"x\xC0\xAF\n\n" + line, "NOTE_BAD_ENCODING"},      // Overlong UTF-8.
      {"x\xED\xA0\x80\n\n" + line, "NOTE_BAD_ENCODING"},  // Surrogate.
      {"tab\there\n\n" + line, "NOTE_BAD_ENCODING"},
      {std::string(kMaxSignedNoteSize, 'a') + "\n\n" + line, "NOTE_TOO_LARGE"},
  };
  const NoteVerifierKey keys[] = {VerifierFor("log.example", log)};
  for (const Case& c : cases) {
    auto parsed = ParseSignedNote(c.note);
    EXPECT_FALSE(parsed.ok()) << c.note;
    if (!parsed.ok()) {
      EXPECT_EQ(parsed.status().reason(), c.reason) << c.note;
    }
    auto verified = VerifySignedNote(c.note, keys);
    EXPECT_FALSE(verified.ok()) << c.note;
    if (!verified.ok()) {
      EXPECT_EQ(verified.status().reason(), c.reason) << c.note;
    }
  }

  std::string many = body + "\n";
  for (std::size_t i = 0; i <= kMaxNoteSignatures; ++i) many += line;
  EXPECT_EQ(ParseSignedNote(many).status().reason(), "NOTE_TOO_MANY_SIGNATURES");
  // At least 16 signatures must be accepted (the spec's floor).
  std::string sixteen = body + "\n";
  for (int i = 0; i < 16; ++i) {
    sixteen += *SignNoteLine(body, "signer" + std::to_string(i) + ".example", log);
  }
  auto ok16 = ParseSignedNote(sixteen);
  ASSERT_TRUE(ok16.ok()) << ok16.status().ToString();
  EXPECT_EQ(ok16->signatures.size(), 16U);

  // Text may itself contain blank lines: the last blank line is the separator.
  const std::string text = "first\n\nthird\n";
  const std::string note = text + "\n" + *SignNoteLine(text, "log.example", log);
  auto verified = VerifySignedNote(note, keys);
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_EQ(verified->text, text);

  EXPECT_EQ(SignNoteLine("no newline", "log.example", log).status().reason(), "NOTE_MALFORMED");
  EXPECT_EQ(SignNoteLine(text, "bad name", log).status().reason(), "NOTE_BAD_KEY_NAME");
}

// --- Cosignatures ----------------------------------------------------------------------------

TEST(CheckpointTest, CosignatureRoundTripAndLayout) {
  const SigningKeyPair log = FreshKey();
  const SigningKeyPair witness = FreshKey();
  const Checkpoint cp = SampleCheckpoint();
  const std::string witness_name = "witness.tearline.example/gbr";
  const std::uint64_t when = 1679315147;

  auto line = Cosign(cp, witness_name, witness, when);
  ASSERT_TRUE(line.ok()) << line.status().ToString();
  const NoteVerifierKey wkey = VerifierFor(witness_name, witness, NoteKeyType::kCosignatureV1);
  auto ts = VerifyCosignature(cp, *line, wkey);
  ASSERT_TRUE(ts.ok()) << ts.status().ToString();
  EXPECT_EQ(*ts, when);

  // Layout, checked independently of the verifier: key id (type 0x04) || BE64 time || signature
  // over "cosignature/v1\ntime <t>\n" || body.
  ASSERT_TRUE(line->starts_with(kDash + witness_name + " "));
  auto payload = Base64Decode(line->substr(kDash.size() + witness_name.size() + 1,
                                           line->size() - kDash.size() - witness_name.size() - 2));
  ASSERT_TRUE(payload.ok());
  ASSERT_EQ(payload->size(), 4U + 8U + 64U);
  const std::uint32_t id = NoteKeyId(witness_name, NoteKeyType::kCosignatureV1, witness.public_key);
  EXPECT_EQ((*payload)[0], static_cast<std::uint8_t>(id >> 24));
  EXPECT_EQ((*payload)[3], static_cast<std::uint8_t>(id));
  std::uint64_t stamped = 0;
  for (int k = 0; k < 8; ++k)
    stamped = (stamped << 8) | (*payload)[4 + static_cast<std::size_t>(k)];
  EXPECT_EQ(stamped, when);
  const std::string message = CosignatureMessage(*FormatCheckpointBody(cp), when);
  EXPECT_EQ(crypto_sign_verify_detached(payload->data() + 12,
                                        reinterpret_cast<const unsigned char*>(message.data()),
                                        message.size(), witness.public_key.data()),
            0);

  // Appended to the signed checkpoint, it verifies alongside the log's signature.
  const std::string note = *SignCheckpoint(cp, cp.origin, log) + *line;
  const NoteVerifierKey witnesses[] = {wkey};
  auto opened = OpenCheckpoint(note, cp.origin, VerifierFor(cp.origin, log), witnesses);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  ASSERT_EQ(opened->signatures.size(), 2U);
  EXPECT_EQ(opened->signatures[1].key, wkey);
  EXPECT_EQ(opened->signatures[1].timestamp, when);

  // A note carrying only the cosignature is not a checkpoint signed by the log.
  const std::string body = *FormatCheckpointBody(cp);
  EXPECT_EQ(OpenCheckpoint(body + "\n" + *line, cp.origin, VerifierFor(cp.origin, log), witnesses)
                .status()
                .reason(),
            "NOTE_UNVERIFIED");
}

TEST(CheckpointTest, CosignatureTamperAndMisuse) {
  const SigningKeyPair witness = FreshKey();
  const Checkpoint cp = SampleCheckpoint();
  const std::string name = "witness.tearline.example/jpn";
  const NoteVerifierKey wkey = VerifierFor(name, witness, NoteKeyType::kCosignatureV1);
  const std::string line = *Cosign(cp, name, witness, 1700000000);

  // Other checkpoint (split view): a different size or root.
  EXPECT_EQ(VerifyCosignature(SampleCheckpoint(20852164), line, wkey).status().reason(),
            "NOTE_BAD_SIGNATURE");
  Checkpoint other_root = cp;
  other_root.root_hash[0] ^= 1;
  EXPECT_EQ(VerifyCosignature(other_root, line, wkey).status().reason(), "NOTE_BAD_SIGNATURE");

  // A changed timestamp (rewrite the 8 timestamp bytes, keep id and signature).
  const std::size_t at = kDash.size() + name.size() + 1;
  auto payload = Base64Decode(line.substr(at, line.size() - at - 1));
  ASSERT_TRUE(payload.ok());
  (*payload)[11] ^= 0x01;
  EXPECT_EQ(VerifyCosignature(cp, kDash + name + " " + Base64Encode(*payload) + "\n", wkey)
                .status()
                .reason(),
            "NOTE_BAD_SIGNATURE");
  // Timestamp above 2^63 - 1.
  (*payload)[11] ^= 0x01;
  (*payload)[4] = 0x80;
  EXPECT_EQ(VerifyCosignature(cp, kDash + name + " " + Base64Encode(*payload) + "\n", wkey)
                .status()
                .reason(),
            "NOTE_BAD_SIGNATURE");
  EXPECT_EQ(Cosign(cp, name, witness, std::uint64_t{1} << 63).status().reason(),
            "COSIGNATURE_BAD_TIMESTAMP");

  // Wrong key type, wrong key, wrong name.
  EXPECT_EQ(VerifyCosignature(cp, line, VerifierFor(name, witness)).status().reason(),
            "NOTE_BAD_VERIFIER_KEY");
  EXPECT_EQ(VerifyCosignature(cp, line, VerifierFor(name, FreshKey(), NoteKeyType::kCosignatureV1))
                .status()
                .reason(),
            "NOTE_UNVERIFIED");
  EXPECT_EQ(
      VerifyCosignature(cp, line, VerifierFor("x.example", witness, NoteKeyType::kCosignatureV1))
          .status()
          .reason(),
      "NOTE_UNVERIFIED");
  EXPECT_EQ(VerifyCosignature(cp, "garbage", wkey).status().reason(), "NOTE_MALFORMED");

  // A plain (0x01) note signature by the same key is not a cosignature, and vice versa: the key
  // ids differ by signature type, so each verifier ignores the other's line.
  const std::string body = *FormatCheckpointBody(cp);
  const std::string plain = body + "\n" + *SignNoteLine(body, name, witness);
  const NoteVerifierKey cosig_only[] = {wkey};
  EXPECT_EQ(VerifySignedNote(plain, cosig_only).status().reason(), "NOTE_UNVERIFIED");
  const NoteVerifierKey plain_only[] = {VerifierFor(name, witness)};
  EXPECT_EQ(VerifySignedNote(body + "\n" + line, plain_only).status().reason(), "NOTE_UNVERIFIED");
}

TEST(CheckpointTest, Base64IsStrict) {
  EXPECT_EQ(Base64Encode(Bytes{}), "");
  EXPECT_EQ(Base64Encode(Bytes{'f', 'o', 'o', 'b'}), "Zm9vYg==");
  EXPECT_EQ(*Base64Decode("Zm9vYg=="), (Bytes{'f', 'o', 'o', 'b'}));
  for (const char* bad :
       {"Zm9vYg", "Zm9vYg=", "Zm9vYh==", "Zm9v Yg==", "Zm9vYg==\n", "Zm9v-g==", "Zm9vYg===", "="}) {
    EXPECT_EQ(Base64Decode(bad).status().reason(), "BASE64_INVALID") << bad;
  }
}

}  // namespace
}  // namespace tearline
