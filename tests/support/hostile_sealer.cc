#include "hostile_sealer.h"

#include <sodium.h>

#include <string_view>

#include "envelope_codec.h"
#include "tearline/schemas/envelope_generated.h"

namespace tearline::testing {
namespace {

// The envelope's own encoding rules (associated data, commitments, the signed message), so the
// hostile reports differ from honest ones only in what a test chooses.
using envelope_internal::CommitmentOf;
using envelope_internal::PortionAd;
using envelope_internal::SignatureMessage;

std::vector<std::uint8_t> Body(const HostileReport& in, const ReportId& id, std::uint32_t index) {
  std::array<std::uint8_t, crypto_aead_xchacha20poly1305_ietf_KEYBYTES> key{};
  std::array<std::uint8_t, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES> nonce{};
  std::array<std::uint8_t, 32> salt{};
  crypto_aead_xchacha20poly1305_ietf_keygen(key.data());
  randombytes_buf(nonce.data(), nonce.size());
  randombytes_buf(salt.data(), salt.size());
  const std::string& label = in.labels[index];
  const std::vector<std::uint8_t> plaintext(in.content_bytes, std::uint8_t('h'));
  const std::vector<std::uint8_t> ad = PortionAd(id, in.originator, index, label);
  std::vector<std::uint8_t> ct(plaintext.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES);
  unsigned long long ct_len = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(ct.data(), &ct_len, plaintext.data(), plaintext.size(),
                                             ad.data(), ad.size(), nullptr, nonce.data(),
                                             key.data());
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<flatbuffers::Offset<schema::KeyWrap>> wraps;
  for (const HostileRecipient& r : in.recipients) {
    std::array<std::uint8_t, crypto_box_SEALBYTES + 32> sealed{};
    crypto_box_seal(sealed.data(), key.data(), key.size(), r.enc_public_key.data());
    const KeyFingerprint fp = EncKeyFingerprint(r.enc_public_key);
    wraps.push_back(schema::CreateKeyWrap(fbb, fbb.CreateString(r.node_id),
                                          fbb.CreateVector(fp.data(), fp.size()),
                                          fbb.CreateVector(sealed.data(), sealed.size())));
  }
  const auto body = schema::CreatePortionBody(
      fbb, index, fbb.CreateString(label), fbb.CreateVector(salt.data(), salt.size()),
      fbb.CreateVector(nonce.data(), nonce.size()), fbb.CreateVector(ct), fbb.CreateVector(wraps));
  fbb.Finish(body, "TLPB");
  return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
}

}  // namespace

HostileRecipient RecipientOf(const Certificate& cert) {
  return {cert.node_id(), cert.fields().encryption_key};
}

std::vector<std::uint8_t> HostileSeal(const HostileReport& in, const SecretBytes& sign_sk) {
  if (sodium_init() < 0) return {};
  ReportId id{};
  if (in.report_id) {
    id = *in.report_id;
  } else {
    randombytes_buf(id.data(), id.size());
  }
  std::vector<std::vector<std::uint8_t>> bodies;
  std::vector<schema::Digest256> commitments;
  for (std::uint32_t i = 0; i < in.labels.size(); ++i) {
    bodies.push_back(Body(in, id, i));
    const auto c = CommitmentOf(bodies.back());
    commitments.emplace_back(flatbuffers::span<const std::uint8_t, 32>(c.data(), c.size()));
  }

  flatbuffers::FlatBufferBuilder hb;
  std::vector<flatbuffers::Offset<flatbuffers::String>> nations;
  for (const std::string& n : in.intended_nations) nations.push_back(hb.CreateString(n));
  const auto header = schema::CreateReportHeader(
      hb, kEnvelopeVersion, hb.CreateVector(id.data(), id.size()), hb.CreateString(in.originator),
      hb.CreateString(in.originator_nation), in.created_unix, in.expires_unix,
      static_cast<std::uint32_t>(in.labels.size()),
      hb.CreateVectorOfStructs(commitments.data(), commitments.size()), hb.CreateVector(nations));
  hb.Finish(header, "TLRH");
  const std::vector<std::uint8_t> header_bytes(hb.GetBufferPointer(),
                                               hb.GetBufferPointer() + hb.GetSize());

  const std::vector<std::uint8_t> msg = SignatureMessage(header_bytes);
  std::array<std::uint8_t, crypto_sign_BYTES> sig{};
  crypto_sign_detached(sig.data(), nullptr, msg.data(), msg.size(), sign_sk.data());

  flatbuffers::FlatBufferBuilder fbb;
  std::vector<flatbuffers::Offset<schema::PortionEnvelope>> envs;
  for (std::uint32_t i = 0; i < bodies.size(); ++i) {
    // Nested buffers are 8-byte aligned so readers may use them in place, as Seal() does.
    fbb.ForceVectorAlignment(bodies[i].size(), 1, 8);
    const auto body = fbb.CreateVector(bodies[i]);
    envs.push_back(schema::CreatePortionEnvelope(fbb, i, body));
  }
  const auto envs_vec = fbb.CreateVector(envs);
  const auto sig_vec = fbb.CreateVector(sig.data(), sig.size());
  fbb.ForceVectorAlignment(header_bytes.size(), 1, 8);
  const auto hdr_vec = fbb.CreateVector(header_bytes);
  fbb.Finish(schema::CreateReport(fbb, hdr_vec, sig_vec, envs_vec), "TLRP");
  return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
}

}  // namespace tearline::testing
