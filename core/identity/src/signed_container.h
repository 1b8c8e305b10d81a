// The identity layer's signed containers (certificates, revocation lists) share one two-level
// FlatBuffers layout: an outer table {body: [ubyte], signature: [ubyte]} whose body is itself a
// FlatBuffer with its own identifier, and whose signature covers exactly those body bytes.
// This internal unit owns that layout, so each container only describes its own body:
//   - EncodeSignedContainer writes the single canonical outer encoding;
//   - SplitSignedContainer verifies both levels within limits and copies the parts out;
//   - IsCanonicalSignedContainer tells whether decoded bytes are exactly what Encode writes
//     (so one container has one encoding, and its fingerprint one value).
// Problems are returned as text; each container wraps them in its own *_MALFORMED status.
// Thread-safety: stateless functions.
#ifndef TEARLINE_IDENTITY_SIGNED_CONTAINER_H_
#define TEARLINE_IDENTITY_SIGNED_CONTAINER_H_

#include <flatbuffers/flatbuffers.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tearline/crypto/keys.h"

namespace tearline::identity_internal {

// How one kind of container is identified and bounded.
struct SignedContainerFormat {
  const char* outer_identifier;  // 4-character FlatBuffers file identifier, e.g. "TLCT".
  const char* body_identifier;   // Of the nested body, e.g. "TLCB".
  std::string_view noun;         // For messages: "certificate", "revocation list".
  // Table budget of the body's verifier (its nesting depth is bounded at 4 like the outer's).
  flatbuffers::uoffset_t body_max_tables = 4;
};

// A decoded container. Each buffer is an own, suitably aligned copy: the Verifier checks
// alignment against real addresses, and the body holds 64-bit fields read in place.
struct SignedParts {
  std::vector<std::uint8_t> encoded;  // The container as given.
  std::vector<std::uint8_t> body;     // The nested body (verified as a `Body` FlatBuffer).
  Signature signature{};
};

// The canonical outer encoding of `body` and `sig`. `create` is the schema's
// CreateOUTER(fbb, body_vector, signature_vector).
template <typename Create>
std::vector<std::uint8_t> EncodeSignedContainer(std::span<const std::uint8_t> body,
                                                const Signature& sig,
                                                const SignedContainerFormat& format,
                                                Create create) {
  flatbuffers::FlatBufferBuilder fbb(body.size() + 128);
  // 8-byte alignment lets readers use the nested body in place (it holds 64-bit fields).
  fbb.ForceVectorAlignment(body.size(), sizeof(std::uint8_t), 8);
  const auto body_vec = fbb.CreateVector(body.data(), body.size());
  const auto sig_vec = fbb.CreateVector(sig.data(), sig.size());
  fbb.Finish(create(fbb, body_vec, sig_vec), format.outer_identifier);
  return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
}

// Verifies `bytes` as an `Outer` container whose body is a `Body` FlatBuffer and fills `out`.
// Returns the first problem, or nullopt. The caller checks the size cap first and the body's
// own fields afterwards; the signature is not checked here.
template <typename Outer, typename Body>
std::optional<std::string> SplitSignedContainer(std::span<const std::uint8_t> bytes,
                                                const SignedContainerFormat& format,
                                                SignedParts& out) {
  out.encoded.assign(bytes.begin(), bytes.end());
  {
    flatbuffers::Verifier::Options opts;
    opts.max_depth = 4;
    opts.max_tables = 4;
    opts.check_nested_flatbuffers = false;  // Verified below with the body's own limits.
    flatbuffers::Verifier verifier(out.encoded.data(), out.encoded.size(), opts);
    if (out.encoded.size() < 8 || !verifier.VerifyBuffer<Outer>(format.outer_identifier)) {
      return "not a Tearline " + std::string(format.noun) + " (FlatBuffers verification failed)";
    }
  }
  const auto* outer = flatbuffers::GetRoot<Outer>(out.encoded.data());
  if (outer->signature()->size() != kSignatureSize) return "signature is not 64 bytes";
  std::memcpy(out.signature.data(), outer->signature()->data(), kSignatureSize);
  out.body.assign(outer->body()->begin(), outer->body()->end());
  flatbuffers::Verifier::Options opts;
  opts.max_depth = 4;
  opts.max_tables = format.body_max_tables;
  flatbuffers::Verifier verifier(out.body.data(), out.body.size(), opts);
  if (out.body.size() < 8 || !verifier.VerifyBuffer<Body>(format.body_identifier)) {
    return "body failed FlatBuffers verification";
  }
  return std::nullopt;
}

// True when `parts.encoded` is exactly EncodeSignedContainer(parts.body, parts.signature).
template <typename Create>
bool IsCanonicalSignedContainer(const SignedParts& parts, const SignedContainerFormat& format,
                                Create create) {
  return EncodeSignedContainer(parts.body, parts.signature, format, create) == parts.encoded;
}

}  // namespace tearline::identity_internal

#endif  // TEARLINE_IDENTITY_SIGNED_CONTAINER_H_
