// Conformance vectors (tests/vectors/): known-answer files another implementation of the protocol
// tests itself against, in the spirit of the C2SP and Wycheproof vectors. Every file is a small
// JSON object with a one-line `description`, a `kind`, and hex (or text) fields.
//
// GenerateVectors builds all of them from fixed seeds and fixed times: the same code always
// yields the same bytes (Ed25519 signatures are deterministic; sealing draws its content keys,
// nonces, salts and wrap ephemeral keys from a SeededRandom, never from the OS), so the committed
// files can be checked to be exactly what this generator writes. Each group of vectors is one
// function in the generator's table (conformance_vectors.cc; the larger kinds in vectors_*.cc);
// a new group is a new entry there. A negative vector is only written when the verifier gives
// the reason the generator states for it (VECTORS_GENERATE otherwise).
//
// Key material: each identity's keys come from 32-byte seeds, seed = SHA-256("tearline/vectors/v1
// " || name || " " || purpose) with purpose "signing", "encryption" or "transport"; the Ed25519
// secret key is seed || public key (RFC 8032), the X25519 secret key is the seed itself. These
// keys are public test data: never use them for anything else.
//
// Thread-safety: pure functions (libsodium must be usable; InitCrypto is called).
#ifndef TEARLINE_TOOLS_CONFORMANCE_VECTORS_H_
#define TEARLINE_TOOLS_CONFORMANCE_VECTORS_H_

#include <filesystem>
#include <string>
#include <vector>

#include "tearline/base/status.h"

namespace tearline::tools {

struct VectorFile {
  std::string path;  // Relative to the vectors directory, e.g. "wire/hello.json".
  std::string text;  // The exact file content (pretty-printed JSON, sorted keys, final newline).
};

// Every vector, in a stable order. Errors: those of the crypto and encoding calls (not expected).
[[nodiscard]] Result<std::vector<VectorFile>> GenerateVectors();

// Writes every vector below `dir` (creating subdirectories), replacing files of the same name.
// Errors: VECTORS_WRITE (IoError) naming the file.
[[nodiscard]] Status WriteVectors(const std::filesystem::path& dir);

}  // namespace tearline::tools

#endif  // TEARLINE_TOOLS_CONFORMANCE_VECTORS_H_
