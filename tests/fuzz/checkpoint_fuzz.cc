// libFuzzer target: signed-note, checkpoint and verifier-key parsers, and note verification.
//
// Input layout: verifier key strings, one per line, then a NUL byte, then the signed note. Two
// fixed keys (deterministic seeds) are always known too, so the corpus can reach the
// signature-verification paths with real signatures.
// Properties checked beyond "no crash": every failure carries a reason and a message; anything
// that parses re-formats to exactly the input (one spelling per value, so signed bytes cannot be
// malleated); a parsed verifier key re-parses to the same key.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "tearline/tlog/checkpoint.h"

namespace {

void CheckFailure(const tearline::Status& status) {
  if (status.ok() || status.reason().empty() || status.message().empty()) std::abort();
}

std::vector<tearline::NoteVerifierKey> FixedKeys() {
  std::vector<tearline::NoteVerifierKey> keys;
  tearline::PublicKey pk{};
  for (std::size_t i = 0; i < pk.size(); ++i) pk[i] = static_cast<std::uint8_t>(i * 7 + 1);
  // Any 32 bytes serve as a verifier key for exercising the paths (verification just fails).
  auto a = tearline::MakeNoteVerifierKey("log.example", tearline::NoteKeyType::kEd25519, pk);
  auto b =
      tearline::MakeNoteVerifierKey("witness.example", tearline::NoteKeyType::kCosignatureV1, pk);
  if (!a.ok() || !b.ok()) std::abort();
  keys.push_back(*a);
  keys.push_back(*b);
  return keys;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::vector<tearline::NoteVerifierKey> kFixed = FixedKeys();
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t nul = input.find('\0');
  const std::string_view key_block = nul == std::string_view::npos ? "" : input.substr(0, nul);
  const std::string_view note = nul == std::string_view::npos ? input : input.substr(nul + 1);

  std::vector<tearline::NoteVerifierKey> keys = kFixed;
  for (std::size_t start = 0; start <= key_block.size() && !key_block.empty();) {
    const std::size_t nl = key_block.find('\n', start);
    const std::string_view line =
        key_block.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    auto key = tearline::ParseNoteVerifierKey(line);
    if (key.ok()) {
      auto again = tearline::ParseNoteVerifierKey(tearline::FormatNoteVerifierKey(*key));
      if (!again.ok() || !(*again == *key)) std::abort();
      if (keys.size() < 8) keys.push_back(*key);
    } else {
      CheckFailure(key.status());
    }
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }

  auto parsed = tearline::ParseSignedNote(note);
  if (parsed.ok()) {
    auto formatted = tearline::FormatSignedNote(*parsed);
    if (!formatted.ok() || *formatted != note) std::abort();
    auto body = tearline::ParseCheckpointBody(parsed->text);
    if (body.ok()) {
      auto again = tearline::FormatCheckpointBody(*body);
      if (!again.ok() || *again != parsed->text) std::abort();
    } else {
      CheckFailure(body.status());
    }
  } else {
    CheckFailure(parsed.status());
  }

  auto verified = tearline::VerifySignedNote(note, keys);
  if (verified.ok()) {
    if (verified->signatures.empty() || !parsed.ok() || verified->text != parsed->text) {
      std::abort();
    }
  } else {
    CheckFailure(verified.status());
  }
  auto opened = tearline::OpenCheckpoint(note, "log.example", kFixed[0], keys);
  if (!opened.ok()) CheckFailure(opened.status());
  return 0;
}
