#include "tearline/tlog/checkpoint.h"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <limits>
#include <utility>

#include "tearline/base/encoding.h"
#include "tearline/base/text_util.h"
#include "tearline/crypto/secure_memory.h"

namespace tearline {
namespace {

constexpr std::string_view kEmDashSpace = "\xE2\x80\x94 ";  // U+2014 then U+0020.
constexpr std::string_view kCosignatureHeader = "cosignature/v1\n";
constexpr std::uint64_t kMaxTimestamp =
    static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
constexpr std::size_t kKeyIdSize = 4;
constexpr std::size_t kTimestampSize = 8;
constexpr std::size_t kCosignaturePayloadSize = kTimestampSize + kSignatureSize;

Status Malformed(std::string reason, std::string message) {
  return InvalidArgument(std::move(reason), std::move(message));
}

// Decodes one UTF-8 sequence at text[i], advancing i. Rejects overlong forms, surrogates and
// code points above U+10FFFF.
bool NextCodePoint(std::string_view text, std::size_t& i, char32_t& cp) {
  const auto byte = [&](std::size_t k) { return static_cast<std::uint8_t>(text[k]); };
  const std::uint8_t b0 = byte(i);
  std::size_t len = 0;
  char32_t min = 0;
  if (b0 < 0x80) {
    cp = b0;
    ++i;
    return true;
  } else if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    cp = b0 & 0x1FU;
    min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    cp = b0 & 0x0FU;
    min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    cp = b0 & 0x07U;
    min = 0x10000;
  } else {
    return false;
  }
  if (text.size() - i < len) return false;
  for (std::size_t k = 1; k < len; ++k) {
    const std::uint8_t b = byte(i + k);
    if ((b & 0xC0) != 0x80) return false;
    cp = (cp << 6) | (b & 0x3FU);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
  i += len;
  return true;
}

// Unicode White_Space (what the reference implementation's unicode.IsSpace rejects in names).
bool IsUnicodeSpace(char32_t cp) {
  switch (cp) {
    case 0x09:
    case 0x0A:
    case 0x0B:
    case 0x0C:
    case 0x0D:
    case 0x20:
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

// Valid UTF-8 with no control characters below U+0020, except newline when `allow_newline`.
bool IsCleanText(std::string_view text, bool allow_newline) {
  std::size_t i = 0;
  while (i < text.size()) {
    char32_t cp = 0;
    if (!NextCodePoint(text, i, cp)) return false;
    if (cp < 0x20 && !(allow_newline && cp == U'\n')) return false;
  }
  return true;
}

Status CheckKeyName(std::string_view name) {
  if (name.empty()) return Malformed("NOTE_BAD_KEY_NAME", "a key name must not be empty");
  if (name.size() > kMaxNoteKeyNameSize) {
    return Malformed("NOTE_BAD_KEY_NAME", "the key name is longer than " +
                                              std::to_string(kMaxNoteKeyNameSize) + " bytes");
  }
  std::size_t i = 0;
  while (i < name.size()) {
    char32_t cp = 0;
    if (!NextCodePoint(name, i, cp)) {
      return Malformed("NOTE_BAD_KEY_NAME", "the key name is not valid UTF-8");
    }
    if (cp < 0x20 || cp == U'+' || IsUnicodeSpace(cp)) {
      return Malformed("NOTE_BAD_KEY_NAME", "the key name '" + internal::Printable(name) +
                                                "' holds a space, '+' or control character");
    }
  }
  return Status::Ok();
}

// Text that can be signed: non-empty, clean, ending in a newline.
Status CheckNoteText(std::string_view text) {
  if (text.empty() || text.back() != '\n') {
    return Malformed("NOTE_MALFORMED", "a note text must be non-empty and end in a newline");
  }
  if (text.size() > kMaxSignedNoteSize) {
    return Status(Code::kResourceExhausted, "NOTE_TOO_LARGE",
                  "the note text is larger than " + std::to_string(kMaxSignedNoteSize) + " bytes");
  }
  if (!IsCleanText(text, /*allow_newline=*/true)) {
    return Malformed("NOTE_BAD_ENCODING",
                     "a note must be UTF-8 without control characters other than newline");
  }
  return Status::Ok();
}

std::uint32_t ReadBe32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

void AppendBe32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    out.push_back(static_cast<std::uint8_t>(v >> shift));
  }
}

std::uint64_t ReadBe64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (std::size_t k = 0; k < 8; ++k) v = (v << 8) | p[k];
  return v;
}

void AppendBe64(std::vector<std::uint8_t>& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    out.push_back(static_cast<std::uint8_t>(v >> shift));
  }
}

std::span<const std::uint8_t> Bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::string HexId(std::uint32_t id) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(8, '0');
  for (std::size_t k = 0; k < 8; ++k) {
    out[7 - k] = kDigits[(id >> (4 * k)) & 0xFU];
  }
  return out;
}

std::optional<std::uint32_t> ParseHexId(std::string_view text) {
  if (text.size() != 8) return std::nullopt;
  std::uint32_t v = 0;
  for (char c : text) {
    std::uint32_t d = 0;
    if (c >= '0' && c <= '9') {
      d = static_cast<std::uint32_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      d = static_cast<std::uint32_t>(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
      d = static_cast<std::uint32_t>(c - 'A' + 10);
    } else {
      return std::nullopt;
    }
    v = (v << 4) | d;
  }
  return v;
}

std::string SignatureLine(std::string_view name, std::span<const std::uint8_t> payload) {
  std::string line(kEmDashSpace);
  line.append(name);
  line.push_back(' ');
  line.append(Base64Encode(payload));
  line.push_back('\n');
  return line;
}

// Parses "— <name> <base64>" (no newline).
Result<NoteSignature> ParseSignatureLine(std::string_view line) {
  if (!line.starts_with(kEmDashSpace)) {
    return Malformed("NOTE_MALFORMED", "a signature line must start with an em dash and a space");
  }
  std::string_view rest = line.substr(kEmDashSpace.size());
  const std::size_t space = rest.find(' ');
  if (space == std::string_view::npos || rest.find(' ', space + 1) != std::string_view::npos) {
    return Malformed("NOTE_MALFORMED",
                     "a signature line must hold a key name and a signature separated by one "
                     "space");
  }
  NoteSignature sig;
  const std::string_view name = rest.substr(0, space);
  TEARLINE_RETURN_IF_ERROR(CheckKeyName(name));
  auto decoded = Base64Decode(rest.substr(space + 1));
  if (!decoded.ok()) {
    return Malformed("NOTE_MALFORMED", "the signature of key '" + internal::Printable(name) +
                                           "' is not canonical base64");
  }
  if (decoded->size() <= kKeyIdSize) {
    return Malformed("NOTE_MALFORMED", "the signature of key '" + internal::Printable(name) +
                                           "' is too short to hold a key id and a signature");
  }
  sig.name = std::string(name);
  sig.key_id = ReadBe32(decoded->data());
  sig.signature.assign(decoded->begin() + kKeyIdSize, decoded->end());
  return sig;
}

Status CheckLine(std::string_view line, const char* what) {
  if (line.empty()) {
    return Malformed("CHECKPOINT_MALFORMED", std::string("the ") + what + " line is empty");
  }
  if (!IsCleanText(line, /*allow_newline=*/false)) {
    return Malformed(
        "CHECKPOINT_MALFORMED",
        std::string("the ") + what + " line must be UTF-8 without newlines or control characters");
  }
  return Status::Ok();
}

// The key id must be the one the spec derives from name, type and key; a struct built by hand
// with another id would otherwise silently never match any signature.
Status CheckVerifierKey(const NoteVerifierKey& key) {
  TEARLINE_RETURN_IF_ERROR(CheckKeyName(key.name));
  if (key.type != NoteKeyType::kEd25519 && key.type != NoteKeyType::kCosignatureV1) {
    return Malformed("NOTE_BAD_VERIFIER_KEY",
                     "unsupported signature type for key '" + internal::Printable(key.name) + "'");
  }
  if (NoteKeyId(key.name, key.type, key.public_key) != key.key_id) {
    return Malformed("NOTE_BAD_VERIFIER_KEY", "the key id of key '" +
                                                  internal::Printable(key.name) +
                                                  "' does not match its name and public key");
  }
  return Status::Ok();
}

Status CheckSigningKey(const SigningKeyPair& key) {
  // libsodium's secret key is seed || public key: refuse a pair whose halves disagree, since the
  // published key id is derived from the public half.
  if (key.secret_key.size() != kSigningSecretKeySize ||
      !std::equal(key.public_key.begin(), key.public_key.end(),
                  key.secret_key.data() + (kSigningSecretKeySize - kPublicKeySize))) {
    return InvalidArgument("KEY_INVALID", "the Ed25519 signing key pair is malformed");
  }
  return Status::Ok();
}

Result<Signature> SignBytes(const SigningKeyPair& key, std::string_view message) {
  TEARLINE_RETURN_IF_ERROR(InitCrypto());
  TEARLINE_RETURN_IF_ERROR(CheckSigningKey(key));
  Signature sig{};
  if (crypto_sign_detached(sig.data(), nullptr, Bytes(message).data(), message.size(),
                           key.secret_key.data()) != 0) {
    return Internal("SIGN_FAILED", "crypto_sign_detached failed");
  }
  return sig;
}

bool VerifyBytes(const PublicKey& key, std::string_view message,
                 std::span<const std::uint8_t> sig) {
  return sig.size() == kSignatureSize &&
         crypto_sign_verify_detached(sig.data(), Bytes(message).data(), message.size(),
                                     key.data()) == 0;
}

// Verifies one decoded signature by `key` over `text`; returns the cosignature timestamp, if any.
Result<std::optional<std::uint64_t>> VerifyOne(const NoteVerifierKey& key, std::string_view text,
                                               std::span<const std::uint8_t> sig) {
  const auto bad = [&] {
    return Unauthenticated("NOTE_BAD_SIGNATURE", "the signature by key '" +
                                                     internal::Printable(key.name) + "' (" +
                                                     HexId(key.key_id) + ") does not verify");
  };
  if (key.type == NoteKeyType::kEd25519) {
    if (!VerifyBytes(key.public_key, text, sig)) return bad();
    return std::optional<std::uint64_t>();
  }
  if (sig.size() != kCosignaturePayloadSize) return bad();
  const std::uint64_t timestamp = ReadBe64(sig.data());
  if (timestamp > kMaxTimestamp) return bad();
  if (!VerifyBytes(key.public_key, CosignatureMessage(text, timestamp),
                   sig.subspan(kTimestampSize))) {
    return bad();
  }
  return std::optional<std::uint64_t>(timestamp);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Checkpoints

Result<std::string> FormatCheckpointBody(const Checkpoint& checkpoint) {
  TEARLINE_RETURN_IF_ERROR(CheckLine(checkpoint.origin, "origin"));
  if (checkpoint.extensions.size() > kMaxCheckpointExtensionLines) {
    return Malformed(
        "CHECKPOINT_MALFORMED",
        "more than " + std::to_string(kMaxCheckpointExtensionLines) + " extension lines");
  }
  for (const std::string& line : checkpoint.extensions) {
    TEARLINE_RETURN_IF_ERROR(CheckLine(line, "extension"));
  }
  std::string out = checkpoint.origin;
  out.push_back('\n');
  out.append(std::to_string(checkpoint.tree_size));
  out.push_back('\n');
  out.append(Base64Encode(checkpoint.root_hash));
  out.push_back('\n');
  for (const std::string& line : checkpoint.extensions) {
    out.append(line);
    out.push_back('\n');
  }
  return out;
}

Result<Checkpoint> ParseCheckpointBody(std::string_view text) {
  if (text.size() > kMaxSignedNoteSize) {
    return Malformed("CHECKPOINT_MALFORMED", "the checkpoint is too large");
  }
  if (text.empty() || text.back() != '\n') {
    return Malformed("CHECKPOINT_MALFORMED", "a checkpoint must end in a newline");
  }
  std::vector<std::string_view> lines;
  for (std::size_t start = 0; start < text.size();) {
    const std::size_t nl = text.find('\n', start);
    lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
    if (lines.size() > 3 + kMaxCheckpointExtensionLines) {
      return Malformed(
          "CHECKPOINT_MALFORMED",
          "more than " + std::to_string(kMaxCheckpointExtensionLines) + " extension lines");
    }
  }
  if (lines.size() < 3) {
    return Malformed("CHECKPOINT_MALFORMED",
                     "a checkpoint needs origin, tree size and root hash lines");
  }
  TEARLINE_RETURN_IF_ERROR(CheckLine(lines[0], "origin"));
  TEARLINE_RETURN_IF_ERROR(CheckLine(lines[1], "tree size"));
  TEARLINE_RETURN_IF_ERROR(CheckLine(lines[2], "root hash"));
  for (std::size_t k = 3; k < lines.size(); ++k) {
    TEARLINE_RETURN_IF_ERROR(CheckLine(lines[k], "extension"));
  }

  Checkpoint cp;
  cp.origin = std::string(lines[0]);

  const std::string_view size = lines[1];
  const bool digits_only =
      std::all_of(size.begin(), size.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!digits_only || (size.size() > 1 && size[0] == '0')) {
    return Malformed("CHECKPOINT_MALFORMED",
                     "the tree size must be a decimal number without leading zeros");
  }
  const auto [ptr, ec] = std::from_chars(size.data(), size.data() + size.size(), cp.tree_size);
  if (ec != std::errc() || ptr != size.data() + size.size()) {
    return Malformed("CHECKPOINT_MALFORMED", "the tree size does not fit in 64 bits");
  }

  auto root = Base64Decode(lines[2]);
  if (!root.ok() || root->size() != kMerkleHashSize) {
    return Malformed("CHECKPOINT_MALFORMED",
                     "the root hash must be canonical base64 of exactly 32 bytes");
  }
  std::copy(root->begin(), root->end(), cp.root_hash.begin());
  for (std::size_t k = 3; k < lines.size(); ++k) cp.extensions.emplace_back(lines[k]);
  return cp;
}

// ---------------------------------------------------------------------------------------------
// Keys

std::uint32_t NoteKeyId(std::string_view name, NoteKeyType type, const PublicKey& public_key) {
  static_cast<void>(InitCrypto().ok());  // SHA-256 does not depend on it; see merkle.cc.
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  crypto_hash_sha256_update(&state, Bytes(name).data(), name.size());
  const std::array<std::uint8_t, 2> separator = {0x0A, static_cast<std::uint8_t>(type)};
  crypto_hash_sha256_update(&state, separator.data(), separator.size());
  crypto_hash_sha256_update(&state, public_key.data(), public_key.size());
  std::array<std::uint8_t, crypto_hash_sha256_BYTES> digest;
  crypto_hash_sha256_final(&state, digest.data());
  return ReadBe32(digest.data());
}

Result<NoteVerifierKey> MakeNoteVerifierKey(std::string_view name, NoteKeyType type,
                                            const PublicKey& public_key) {
  TEARLINE_RETURN_IF_ERROR(CheckKeyName(name));
  NoteVerifierKey key;
  key.name = std::string(name);
  key.type = type;
  key.public_key = public_key;
  key.key_id = NoteKeyId(name, type, public_key);
  TEARLINE_RETURN_IF_ERROR(CheckVerifierKey(key));
  return key;
}

std::string FormatNoteVerifierKey(const NoteVerifierKey& key) {
  std::vector<std::uint8_t> material;
  material.reserve(1 + kPublicKeySize);
  material.push_back(static_cast<std::uint8_t>(key.type));
  material.insert(material.end(), key.public_key.begin(), key.public_key.end());
  return key.name + "+" + HexId(key.key_id) + "+" + Base64Encode(material);
}

Result<NoteVerifierKey> ParseNoteVerifierKey(std::string_view text) {
  const auto bad = [](std::string message) {
    return Malformed("NOTE_BAD_VERIFIER_KEY", std::move(message));
  };
  if (text.size() > kMaxNoteKeyNameSize + 64) return bad("the verifier key is too long");
  // The name cannot contain '+', so the first two '+' delimit it and the id; the base64 key
  // material after them may itself contain '+'.
  const std::size_t plus1 = text.find('+');
  if (plus1 == std::string_view::npos) return bad("a verifier key is name+id+key");
  const std::string_view name = text.substr(0, plus1);
  TEARLINE_RETURN_IF_ERROR(CheckKeyName(name));
  const std::size_t plus2 = text.find('+', plus1 + 1);
  if (plus2 == std::string_view::npos) return bad("a verifier key is name+id+key");
  const auto id = ParseHexId(text.substr(plus1 + 1, plus2 - plus1 - 1));
  if (!id) return bad("the key id must be 8 hexadecimal digits");
  auto material = Base64Decode(text.substr(plus2 + 1));
  if (!material.ok()) return bad("the key material is not canonical base64");
  if (material->size() != 1 + kPublicKeySize) {
    return bad("the key material must be a type byte and a 32-byte Ed25519 key");
  }
  const std::uint8_t type = (*material)[0];
  if (type != static_cast<std::uint8_t>(NoteKeyType::kEd25519) &&
      type != static_cast<std::uint8_t>(NoteKeyType::kCosignatureV1)) {
    return bad("unsupported signature type " + std::to_string(type));
  }
  NoteVerifierKey key;
  key.name = std::string(name);
  key.type = static_cast<NoteKeyType>(type);
  std::copy(material->begin() + 1, material->end(), key.public_key.begin());
  key.key_id = *id;
  if (NoteKeyId(key.name, key.type, key.public_key) != key.key_id) {
    return bad("the key id does not match the name and public key");
  }
  return key;
}

// ---------------------------------------------------------------------------------------------
// Signed notes

Result<SignedNote> ParseSignedNote(std::string_view note) {
  if (note.size() > kMaxSignedNoteSize) {
    return Status(
        Code::kResourceExhausted, "NOTE_TOO_LARGE",
        "the signed note is larger than " + std::to_string(kMaxSignedNoteSize) + " bytes");
  }
  if (!IsCleanText(note, /*allow_newline=*/true)) {
    return Malformed("NOTE_BAD_ENCODING",
                     "a note must be UTF-8 without control characters other than newline");
  }
  if (note.empty() || note.back() != '\n') {
    return Malformed("NOTE_MALFORMED", "a signed note must end in a newline");
  }
  // The text ends at the last blank line; signature lines never hold a blank line.
  const std::size_t blank = note.rfind("\n\n");
  if (blank == std::string_view::npos) {
    return Malformed("NOTE_MALFORMED", "no blank line separates the text from the signatures");
  }
  SignedNote out;
  out.text = std::string(note.substr(0, blank + 1));
  const std::string_view block = note.substr(blank + 2);
  if (block.empty()) return Malformed("NOTE_MALFORMED", "the note has no signature lines");
  const auto lines = static_cast<std::size_t>(std::count(block.begin(), block.end(), '\n'));
  if (lines > kMaxNoteSignatures) {
    return Status(Code::kResourceExhausted, "NOTE_TOO_MANY_SIGNATURES",
                  "the note has more than " + std::to_string(kMaxNoteSignatures) + " signatures");
  }
  for (std::size_t start = 0; start < block.size();) {
    const std::size_t nl = block.find('\n', start);
    TEARLINE_ASSIGN_OR_RETURN(NoteSignature sig,
                              ParseSignatureLine(block.substr(start, nl - start)));
    out.signatures.push_back(std::move(sig));
    start = nl + 1;
  }
  return out;
}

Result<std::string> FormatSignedNote(const SignedNote& note) {
  TEARLINE_RETURN_IF_ERROR(CheckNoteText(note.text));
  if (note.signatures.empty() || note.signatures.size() > kMaxNoteSignatures) {
    return Malformed("NOTE_MALFORMED", "a signed note needs 1 to " +
                                           std::to_string(kMaxNoteSignatures) + " signatures");
  }
  std::string out = note.text;
  out.push_back('\n');
  for (const NoteSignature& sig : note.signatures) {
    TEARLINE_RETURN_IF_ERROR(CheckKeyName(sig.name));
    if (sig.signature.empty()) return Malformed("NOTE_MALFORMED", "an empty signature");
    std::vector<std::uint8_t> payload;
    payload.reserve(kKeyIdSize + sig.signature.size());
    AppendBe32(payload, sig.key_id);
    payload.insert(payload.end(), sig.signature.begin(), sig.signature.end());
    out.append(SignatureLine(sig.name, payload));
  }
  if (out.size() > kMaxSignedNoteSize) {
    return Status(Code::kResourceExhausted, "NOTE_TOO_LARGE", "the signed note is too large");
  }
  return out;
}

Result<VerifiedNote> VerifySignedNote(std::string_view note,
                                      std::span<const NoteVerifierKey> known_keys) {
  TEARLINE_RETURN_IF_ERROR(InitCrypto());
  for (std::size_t a = 0; a < known_keys.size(); ++a) {
    TEARLINE_RETURN_IF_ERROR(CheckVerifierKey(known_keys[a]));
    for (std::size_t b = 0; b < a; ++b) {
      if (known_keys[a].name == known_keys[b].name &&
          known_keys[a].key_id == known_keys[b].key_id) {
        return Malformed("NOTE_BAD_VERIFIER_KEY", "two known keys share the name '" +
                                                      internal::Printable(known_keys[a].name) +
                                                      "' and key id " +
                                                      HexId(known_keys[a].key_id));
      }
    }
  }
  TEARLINE_ASSIGN_OR_RETURN(SignedNote parsed, ParseSignedNote(note));

  VerifiedNote out;
  std::vector<bool> seen(known_keys.size(), false);
  for (const NoteSignature& sig : parsed.signatures) {
    const auto it = std::find_if(known_keys.begin(), known_keys.end(), [&](const auto& k) {
      return k.name == sig.name && k.key_id == sig.key_id;
    });
    if (it == known_keys.end()) continue;  // Unknown signer: ignored, as the spec requires.
    const auto index = static_cast<std::size_t>(it - known_keys.begin());
    if (seen[index]) {
      return Unauthenticated("NOTE_DUPLICATE_SIGNATURE", "key '" + internal::Printable(sig.name) +
                                                             "' (" + HexId(sig.key_id) +
                                                             ") signed the note twice");
    }
    seen[index] = true;
    TEARLINE_ASSIGN_OR_RETURN(std::optional<std::uint64_t> timestamp,
                              VerifyOne(*it, parsed.text, sig.signature));
    out.signatures.push_back(VerifiedSignature{*it, timestamp});
  }
  if (out.signatures.empty()) {
    return Unauthenticated("NOTE_UNVERIFIED", "the note carries no signature by a known key");
  }
  out.text = std::move(parsed.text);
  return out;
}

Result<std::string> SignNoteLine(std::string_view text, std::string_view name,
                                 const SigningKeyPair& key) {
  TEARLINE_RETURN_IF_ERROR(CheckKeyName(name));
  TEARLINE_RETURN_IF_ERROR(CheckNoteText(text));
  TEARLINE_ASSIGN_OR_RETURN(Signature sig, SignBytes(key, text));
  std::vector<std::uint8_t> payload;
  payload.reserve(kKeyIdSize + kSignatureSize);
  AppendBe32(payload, NoteKeyId(name, NoteKeyType::kEd25519, key.public_key));
  payload.insert(payload.end(), sig.begin(), sig.end());
  return SignatureLine(name, payload);
}

Result<std::string> SignCheckpoint(const Checkpoint& checkpoint, std::string_view log_name,
                                   const SigningKeyPair& log_key) {
  TEARLINE_ASSIGN_OR_RETURN(std::string body, FormatCheckpointBody(checkpoint));
  TEARLINE_ASSIGN_OR_RETURN(std::string line, SignNoteLine(body, log_name, log_key));
  return body + "\n" + line;
}

Result<OpenedCheckpoint> OpenCheckpoint(std::string_view note, std::string_view expected_origin,
                                        const NoteVerifierKey& log_key,
                                        std::span<const NoteVerifierKey> extra_keys) {
  std::vector<NoteVerifierKey> keys;
  keys.reserve(1 + extra_keys.size());
  keys.push_back(log_key);
  keys.insert(keys.end(), extra_keys.begin(), extra_keys.end());
  TEARLINE_ASSIGN_OR_RETURN(VerifiedNote verified, VerifySignedNote(note, keys));
  const bool log_signed = std::any_of(verified.signatures.begin(), verified.signatures.end(),
                                      [&](const VerifiedSignature& s) { return s.key == log_key; });
  if (!log_signed) {
    return Unauthenticated("NOTE_UNVERIFIED", "the checkpoint is not signed by the log key '" +
                                                  internal::Printable(log_key.name) + "'");
  }
  TEARLINE_ASSIGN_OR_RETURN(Checkpoint checkpoint, ParseCheckpointBody(verified.text));
  if (checkpoint.origin != expected_origin) {
    return Unauthenticated("CHECKPOINT_ORIGIN_MISMATCH",
                           "the checkpoint is for log '" + internal::Printable(checkpoint.origin) +
                               "', expected '" + internal::Printable(expected_origin) + "'");
  }
  return OpenedCheckpoint{std::move(checkpoint), std::move(verified.text),
                          std::move(verified.signatures)};
}

// ---------------------------------------------------------------------------------------------
// Cosignatures

std::string CosignatureMessage(std::string_view checkpoint_text, std::uint64_t timestamp) {
  std::string out(kCosignatureHeader);
  out.append("time ");
  out.append(std::to_string(timestamp));
  out.push_back('\n');
  out.append(checkpoint_text);
  return out;
}

Result<std::string> Cosign(const Checkpoint& checkpoint, std::string_view witness_name,
                           const SigningKeyPair& witness_key, std::uint64_t timestamp) {
  if (timestamp > kMaxTimestamp) {
    return InvalidArgument("COSIGNATURE_BAD_TIMESTAMP",
                           "a cosignature timestamp must not exceed "
                           "2^63 - 1");
  }
  TEARLINE_RETURN_IF_ERROR(CheckKeyName(witness_name));
  TEARLINE_ASSIGN_OR_RETURN(std::string body, FormatCheckpointBody(checkpoint));
  TEARLINE_ASSIGN_OR_RETURN(Signature sig,
                            SignBytes(witness_key, CosignatureMessage(body, timestamp)));
  std::vector<std::uint8_t> payload;
  payload.reserve(kKeyIdSize + kCosignaturePayloadSize);
  AppendBe32(payload, NoteKeyId(witness_name, NoteKeyType::kCosignatureV1, witness_key.public_key));
  AppendBe64(payload, timestamp);
  payload.insert(payload.end(), sig.begin(), sig.end());
  return SignatureLine(witness_name, payload);
}

Result<std::uint64_t> VerifyCosignature(const Checkpoint& checkpoint,
                                        std::string_view signature_line,
                                        const NoteVerifierKey& witness_key) {
  TEARLINE_RETURN_IF_ERROR(InitCrypto());
  TEARLINE_RETURN_IF_ERROR(CheckVerifierKey(witness_key));
  if (witness_key.type != NoteKeyType::kCosignatureV1) {
    return Malformed("NOTE_BAD_VERIFIER_KEY",
                     "a cosignature must be checked with a cosignature/v1 (type 0x04) key");
  }
  if (signature_line.ends_with('\n')) signature_line.remove_suffix(1);
  if (signature_line.size() > kMaxNoteKeyNameSize + 256 ||
      !IsCleanText(signature_line, /*allow_newline=*/false)) {
    return Malformed("NOTE_MALFORMED", "the cosignature line is too long or not clean UTF-8");
  }
  TEARLINE_ASSIGN_OR_RETURN(NoteSignature sig, ParseSignatureLine(signature_line));
  if (sig.name != witness_key.name || sig.key_id != witness_key.key_id) {
    return Unauthenticated("NOTE_UNVERIFIED", "the cosignature is not by witness key '" +
                                                  internal::Printable(witness_key.name) + "'");
  }
  TEARLINE_ASSIGN_OR_RETURN(std::string body, FormatCheckpointBody(checkpoint));
  TEARLINE_ASSIGN_OR_RETURN(std::optional<std::uint64_t> timestamp,
                            VerifyOne(witness_key, body, sig.signature));
  return *timestamp;
}

}  // namespace tearline
