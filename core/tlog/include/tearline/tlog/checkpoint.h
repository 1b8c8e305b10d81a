// Signed tree heads of the audit log in the C2SP formats: signed notes (c2sp.org/signed-note),
// checkpoints (c2sp.org/tlog-checkpoint) and Ed25519 witness cosignatures
// (c2sp.org/tlog-cosignature, cosignature/v1).
//
// Signed note:   <text, ending in "\n"> "\n" then one or more lines
//                "— <key name> <base64(4-byte big-endian key id || signature)>\n"
//                (em dash U+2014, space). The text is everything before the last blank line,
//                including its final newline.
// Checkpoint:    text = "<origin>\n<tree size, decimal>\n<base64(32-byte root)>\n" followed by
//                optional non-empty extension lines.
// Key id:        first 4 bytes of SHA-256(key name || 0x0A || type || 32-byte public key), type
//                0x01 for plain Ed25519 note signatures, 0x04 for cosignature/v1.
// Ed25519 (0x01) signature: plain Ed25519 over the note text bytes (no domain prefix: the format
//                is an interoperable standard, and the key id commits to the signature type).
// Cosignature (0x04): payload = key id || 8-byte big-endian timestamp || Ed25519 signature over
//                "cosignature/v1\ntime <timestamp>\n" || checkpoint text.
// Verifier key:  "<name>+<key id as 8 lower-case hex digits>+<base64(type || public key)>".
//
// Every parser here treats its input as hostile: sizes are capped first, then the structure is
// checked strictly (UTF-8, no control characters but newline, canonical base64, canonical
// decimal), then signatures. Errors carry stable reasons (see each function).
//
// Thread-safety: all functions are pure (no shared state); safe to call concurrently.
#ifndef TEARLINE_CHECKPOINT_H_
#define TEARLINE_CHECKPOINT_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tearline/base/status.h"
#include "tearline/crypto/keys.h"
#include "tearline/tlog/merkle.h"

namespace tearline {

// Caps on hostile input. The spec requires accepting at least 16 signatures per note.
inline constexpr std::size_t kMaxSignedNoteSize = 64 * 1024;
inline constexpr std::size_t kMaxNoteSignatures = 64;
inline constexpr std::size_t kMaxNoteKeyNameSize = 256;
inline constexpr std::size_t kMaxCheckpointExtensionLines = 16;

// Signature type bytes (c2sp.org/signed-note).
enum class NoteKeyType : std::uint8_t {
  kEd25519 = 0x01,        // Ed25519 over the note text.
  kCosignatureV1 = 0x04,  // Timestamped Ed25519 witness cosignature.
};

// ----- Checkpoints -----------------------------------------------------------------------------

struct Checkpoint {
  std::string origin;                   // Log identity, e.g. "tearline.example/audit/broker-1".
  std::uint64_t tree_size = 0;          // Number of leaves.
  Hash root_hash{};                     // RFC 6962 root at tree_size.
  std::vector<std::string> extensions;  // Opaque, non-empty lines; normally none.

  friend bool operator==(const Checkpoint&, const Checkpoint&) = default;
};

// The checkpoint's note text. Reason CHECKPOINT_MALFORMED when the origin is empty, an origin or
// extension line is empty or holds a newline or other control character or invalid UTF-8, or
// there are more than kMaxCheckpointExtensionLines extensions.
Result<std::string> FormatCheckpointBody(const Checkpoint& checkpoint);

// Strict inverse of FormatCheckpointBody. Reason CHECKPOINT_MALFORMED (fewer than three lines, a
// missing final newline, an empty line, a size with a sign, leading zero or overflow, a root that
// is not canonical base64 of exactly 32 bytes, too many extension lines, bad UTF-8).
Result<Checkpoint> ParseCheckpointBody(std::string_view text);

// ----- Keys ------------------------------------------------------------------------------------

// A public key a note may be verified with.
struct NoteVerifierKey {
  std::string name;
  NoteKeyType type = NoteKeyType::kEd25519;
  std::uint32_t key_id = 0;
  PublicKey public_key{};

  friend bool operator==(const NoteVerifierKey&, const NoteVerifierKey&) = default;
};

// SHA-256(name || 0x0A || type || public_key)[:4] as a big-endian integer.
std::uint32_t NoteKeyId(std::string_view name, NoteKeyType type, const PublicKey& public_key);

// Builds a verifier key, computing its key id. Reason NOTE_BAD_KEY_NAME when the name is empty,
// longer than kMaxNoteKeyNameSize, not UTF-8, or holds a control character, a Unicode space or
// '+'.
Result<NoteVerifierKey> MakeNoteVerifierKey(std::string_view name, NoteKeyType type,
                                            const PublicKey& public_key);

// "<name>+<8 hex digits>+<base64(type || public key)>".
std::string FormatNoteVerifierKey(const NoteVerifierKey& key);

// Strict parse of the format above: the name must be valid (NOTE_BAD_KEY_NAME), the key id
// exactly 8 lower- or upper-case hex digits that equal the id computed from the rest, the key
// canonical base64 of one known type byte (0x01 or 0x04) plus 32 bytes. Reason
// NOTE_BAD_VERIFIER_KEY otherwise.
Result<NoteVerifierKey> ParseNoteVerifierKey(std::string_view text);

// ----- Signed notes ----------------------------------------------------------------------------

// One signature line, decoded but not verified.
struct NoteSignature {
  std::string name;
  std::uint32_t key_id = 0;
  std::vector<std::uint8_t> signature;  // The bytes after the key id.

  friend bool operator==(const NoteSignature&, const NoteSignature&) = default;
};

struct SignedNote {
  std::string text;  // Includes its final newline.
  std::vector<NoteSignature> signatures;
};

// Splits a signed note into text and signature lines, checking structure only.
// Reasons: NOTE_TOO_LARGE (over kMaxSignedNoteSize), NOTE_TOO_MANY_SIGNATURES (over
// kMaxNoteSignatures), NOTE_BAD_ENCODING (invalid UTF-8 or a control character other than
// newline), NOTE_MALFORMED (no final newline, no blank line before the signatures, a signature
// line without the em dash prefix, without exactly one space between name and signature, or
// whose signature is not canonical base64 of at least 5 bytes), NOTE_BAD_KEY_NAME.
Result<SignedNote> ParseSignedNote(std::string_view note);

// The text, a blank line, then one line per signature. Reason NOTE_MALFORMED when the text is
// empty, does not end in a newline or holds control characters; NOTE_BAD_KEY_NAME.
Result<std::string> FormatSignedNote(const SignedNote& note);

// A signature by `key` that verified.
struct VerifiedSignature {
  NoteVerifierKey key;
  std::optional<std::uint64_t> timestamp;  // Set for cosignature/v1 signatures.
};

struct VerifiedNote {
  std::string text;
  std::vector<VerifiedSignature> signatures;  // In note order; at least one.
};

// Parses `note` (see ParseSignedNote) and verifies it against `known_keys`, following the spec:
// a signature whose (name, key id) matches no known key is ignored; one that matches must verify
// or the whole note is rejected (NOTE_BAD_SIGNATURE); two signatures by the same known key are
// rejected (NOTE_DUPLICATE_SIGNATURE); if no known key signed, NOTE_UNVERIFIED. Two known keys
// with the same name and key id are a configuration error (NOTE_BAD_VERIFIER_KEY).
// Cosignature/v1 timestamps above 2^63 - 1 are rejected (NOTE_BAD_SIGNATURE).
Result<VerifiedNote> VerifySignedNote(std::string_view note,
                                      std::span<const NoteVerifierKey> known_keys);

// The signature line "— <name> <base64(key id || Ed25519 signature over text)>\n" for a plain
// Ed25519 note signature. Reasons: NOTE_BAD_KEY_NAME, NOTE_MALFORMED (text empty or not ending in
// a newline), KEY_INVALID (the key pair is malformed).
Result<std::string> SignNoteLine(std::string_view text, std::string_view name,
                                 const SigningKeyPair& key);

// A complete signed checkpoint: body, blank line, the log's signature line.
Result<std::string> SignCheckpoint(const Checkpoint& checkpoint, std::string_view log_name,
                                   const SigningKeyPair& log_key);

// A checkpoint whose note verified.
struct OpenedCheckpoint {
  Checkpoint checkpoint;
  std::string text;                           // The exact signed body.
  std::vector<VerifiedSignature> signatures;  // Includes the log's own.
};

// Verifies a signed checkpoint: the note must carry a valid signature by `log_key` (other known
// keys in `extra_keys`, e.g. witnesses, are verified too and reported back; unknown signatures
// are ignored), and the body's origin must equal `expected_origin`.
// Reasons: those of VerifySignedNote and ParseCheckpointBody; NOTE_UNVERIFIED when the log's
// signature is missing; CHECKPOINT_ORIGIN_MISMATCH.
Result<OpenedCheckpoint> OpenCheckpoint(std::string_view note, std::string_view expected_origin,
                                        const NoteVerifierKey& log_key,
                                        std::span<const NoteVerifierKey> extra_keys = {});

// ----- Cosignatures (c2sp.org/tlog-cosignature, cosignature/v1) --------------------------------

// "cosignature/v1\ntime <timestamp>\n" || checkpoint text: the exact bytes a witness signs.
std::string CosignatureMessage(std::string_view checkpoint_text, std::uint64_t timestamp);

// A witness's cosignature line over `checkpoint` at unix time `timestamp`:
// "— <witness name> <base64(key id(0x04) || timestamp BE64 || signature)>\n". Append it to the
// signed checkpoint. Reasons: COSIGNATURE_BAD_TIMESTAMP (above 2^63 - 1), NOTE_BAD_KEY_NAME,
// CHECKPOINT_MALFORMED, KEY_INVALID.
Result<std::string> Cosign(const Checkpoint& checkpoint, std::string_view witness_name,
                           const SigningKeyPair& witness_key, std::uint64_t timestamp);

// Verifies one cosignature line (as produced by Cosign, with or without its final newline)
// over `checkpoint` by `witness_key` (which must be of type kCosignatureV1); returns the signed
// timestamp. Reasons: NOTE_MALFORMED (line syntax), NOTE_BAD_VERIFIER_KEY (wrong key type),
// NOTE_UNVERIFIED (name or key id differ from the key's), NOTE_BAD_SIGNATURE,
// CHECKPOINT_MALFORMED.
Result<std::uint64_t> VerifyCosignature(const Checkpoint& checkpoint,
                                        std::string_view signature_line,
                                        const NoteVerifierKey& witness_key);

}  // namespace tearline

#endif  // TEARLINE_CHECKPOINT_H_
