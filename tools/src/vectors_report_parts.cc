#include "vectors_report_parts.h"

#include <sodium.h>

#include <string_view>

#include "tearline/schemas/envelope_generated.h"

namespace tearline::tools::vectors {
namespace {

using namespace std::string_view_literals;

Bytes ToBytes(const flatbuffers::Vector<std::uint8_t>* v) {
  return v == nullptr ? Bytes{} : Bytes(v->data(), v->data() + v->size());
}

std::string Str(const flatbuffers::String* s) { return s == nullptr ? "" : s->str(); }

Bytes Finished(const flatbuffers::FlatBufferBuilder& fbb) {
  return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
}

BodyParts::Wrap ReadWrap(const schema::KeyWrap* w) {
  return {Str(w->recipient()), ToBytes(w->key_fingerprint()), ToBytes(w->sealed_key())};
}

flatbuffers::Offset<schema::KeyWrap> WriteWrap(flatbuffers::FlatBufferBuilder& fbb,
                                               const BodyParts::Wrap& w) {
  // Each child is created in its own statement: argument evaluation order is unspecified, and
  // the bytes must not depend on the compiler.
  const auto recipient = fbb.CreateString(w.recipient);
  const auto fingerprint = fbb.CreateVector(w.fingerprint);
  const auto sealed = fbb.CreateVector(w.sealed);
  return schema::CreateKeyWrap(fbb, recipient, fingerprint, sealed);
}

}  // namespace

ReportParts SplitReport(const Bytes& report) {
  const auto* r = flatbuffers::GetRoot<schema::Report>(report.data());
  ReportParts p;
  p.header = ToBytes(r->header());
  p.signature = ToBytes(r->signature());
  if (r->portions() != nullptr) {
    for (const auto* e : *r->portions()) p.bodies.emplace_back(e->index(), ToBytes(e->body()));
  }
  return p;
}

Bytes JoinReport(const ReportParts& p) {
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<flatbuffers::Offset<schema::PortionEnvelope>> envs;
  for (const auto& [index, body] : p.bodies) {
    fbb.ForceVectorAlignment(body.size(), 1, 8);
    const auto b = fbb.CreateVector(body);
    envs.push_back(schema::CreatePortionEnvelope(fbb, index, b));
  }
  const auto envs_vec = fbb.CreateVector(envs);
  const auto sig = fbb.CreateVector(p.signature);
  fbb.ForceVectorAlignment(p.header.size(), 1, 8);
  const auto hdr = fbb.CreateVector(p.header);
  fbb.Finish(schema::CreateReport(fbb, hdr, sig, envs_vec), "TLRP");
  return Finished(fbb);
}

HeaderParts ReadHeader(const Bytes& header) {
  const auto* h = flatbuffers::GetRoot<schema::ReportHeader>(header.data());
  HeaderParts f;
  f.version = h->version();
  f.report_id = ToBytes(h->report_id());
  f.originator = Str(h->originator());
  f.originator_nation = Str(h->originator_nation());
  f.created = h->created_unix();
  f.expires = h->expires_unix();
  f.portion_count = h->portion_count();
  if (h->commitments() != nullptr) {
    for (const auto* c : *h->commitments()) {
      std::array<std::uint8_t, 32> d{};
      std::copy(c->bytes()->begin(), c->bytes()->end(), d.begin());
      f.commitments.push_back(d);
    }
  }
  if (h->intended_nations() != nullptr) {
    for (const auto* n : *h->intended_nations()) f.nations.push_back(n->str());
  }
  return f;
}

Bytes WriteHeader(const HeaderParts& f) {
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<flatbuffers::Offset<flatbuffers::String>> nations;
  for (const auto& n : f.nations) nations.push_back(fbb.CreateString(n));
  std::vector<schema::Digest256> commitments;
  for (const auto& c : f.commitments) {
    commitments.emplace_back(flatbuffers::span<const std::uint8_t, 32>(c.data(), c.size()));
  }
  const auto nations_vec = fbb.CreateVector(nations);
  const auto commit_vec = fbb.CreateVectorOfStructs(commitments.data(), commitments.size());
  const auto origin_nat = fbb.CreateString(f.originator_nation);
  const auto origin = fbb.CreateString(f.originator);
  const auto id = fbb.CreateVector(f.report_id);
  schema::ReportHeaderBuilder h(fbb);
  h.add_version(f.version);
  h.add_report_id(id);
  h.add_originator(origin);
  h.add_originator_nation(origin_nat);
  h.add_created_unix(f.created);
  h.add_expires_unix(f.expires);
  h.add_portion_count(f.portion_count);
  h.add_commitments(commit_vec);
  h.add_intended_nations(nations_vec);
  fbb.Finish(h.Finish(), "TLRH");
  return Finished(fbb);
}

BodyParts ReadBody(const Bytes& body) {
  const auto* b = flatbuffers::GetRoot<schema::PortionBody>(body.data());
  BodyParts f;
  f.index = b->index();
  f.label = Str(b->label());
  f.salt = ToBytes(b->salt());
  f.nonce = ToBytes(b->nonce());
  f.ciphertext = ToBytes(b->ciphertext());
  if (b->wraps() != nullptr) {
    for (const auto* w : *b->wraps()) f.wraps.push_back(ReadWrap(w));
  }
  return f;
}

Bytes WriteBody(const BodyParts& f) {
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<flatbuffers::Offset<schema::KeyWrap>> wraps;
  for (const auto& w : f.wraps) wraps.push_back(WriteWrap(fbb, w));
  const auto wraps_vec = fbb.CreateVector(wraps);
  const auto ct = fbb.CreateVector(f.ciphertext);
  const auto label = fbb.CreateString(f.label);
  const auto salt = fbb.CreateVector(f.salt);
  const auto nonce = fbb.CreateVector(f.nonce);
  schema::PortionBodyBuilder b(fbb);
  b.add_index(f.index);
  b.add_label(label);
  b.add_salt(salt);
  b.add_nonce(nonce);
  b.add_ciphertext(ct);
  b.add_wraps(wraps_vec);
  fbb.Finish(b.Finish(), "TLPB");
  return Finished(fbb);
}

std::array<std::uint8_t, 32> CommitmentOf(const Bytes& body) {
  static constexpr std::string_view kDomain = "tearline/v1/portion-commitment\0"sv;
  std::array<std::uint8_t, 32> d{};
  crypto_hash_sha256_state st;
  crypto_hash_sha256_init(&st);
  crypto_hash_sha256_update(&st, reinterpret_cast<const unsigned char*>(kDomain.data()),
                            kDomain.size());
  crypto_hash_sha256_update(&st, body.data(), body.size());
  crypto_hash_sha256_final(&st, d.data());
  return d;
}

Status ResignHeader(ReportParts& parts, const SigningKeyPair& originator) {
  TEARLINE_ASSIGN_OR_RETURN(Signature sig,
                            SignWithDomain(originator, "tearline/v1/report-header", parts.header));
  parts.signature.assign(sig.begin(), sig.end());
  return Status::Ok();
}

Status RecommitAndResign(ReportParts& parts, const SigningKeyPair& originator) {
  HeaderParts h = ReadHeader(parts.header);
  for (const auto& [index, body] : parts.bodies) {
    if (index < h.commitments.size()) h.commitments[index] = CommitmentOf(body);
  }
  parts.header = WriteHeader(h);
  return ResignHeader(parts, originator);
}

ForwardParts SplitForward(const Bytes& forward) {
  const auto* f = flatbuffers::GetRoot<schema::Forward>(forward.data());
  return {ToBytes(f->report()), ToBytes(f->grant()), ToBytes(f->signature())};
}

Bytes JoinForward(const ForwardParts& p) {
  flatbuffers::FlatBufferBuilder fbb;
  const auto r = fbb.CreateVector(p.report);
  const auto g = fbb.CreateVector(p.grant);
  const auto s = fbb.CreateVector(p.signature);
  fbb.Finish(schema::CreateForward(fbb, r, g, s), "TLFW");
  return Finished(fbb);
}

GrantParts ReadGrant(const Bytes& grant) {
  const auto* g = flatbuffers::GetRoot<schema::ForwardGrant>(grant.data());
  GrantParts f;
  f.version = g->version();
  f.forward_id = ToBytes(g->forward_id());
  f.report_id = ToBytes(g->report_id());
  f.forwarder = Str(g->forwarder());
  f.forwarder_nation = Str(g->forwarder_nation());
  f.target_nation = Str(g->target_nation());
  f.created = g->created_unix();
  if (g->portions() != nullptr) f.portions.assign(g->portions()->begin(), g->portions()->end());
  if (g->wraps() != nullptr) {
    for (const auto* w : *g->wraps()) f.wraps.push_back({w->index(), ReadWrap(w->wrap())});
  }
  return f;
}

Bytes WriteGrant(const GrantParts& f) {
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<flatbuffers::Offset<schema::ForwardWrap>> wraps;
  for (const auto& w : f.wraps) {
    const auto kw = WriteWrap(fbb, w.wrap);
    wraps.push_back(schema::CreateForwardWrap(fbb, w.index, kw));
  }
  const auto forward_id = fbb.CreateVector(f.forward_id);
  const auto report_id = fbb.CreateVector(f.report_id);
  const auto forwarder = fbb.CreateString(f.forwarder);
  const auto forwarder_nation = fbb.CreateString(f.forwarder_nation);
  const auto target_nation = fbb.CreateString(f.target_nation);
  const auto portions = fbb.CreateVector(f.portions);
  const auto wraps_vec = fbb.CreateVector(wraps);
  const auto grant =
      schema::CreateForwardGrant(fbb, f.version, forward_id, report_id, forwarder, forwarder_nation,
                                 target_nation, f.created, portions, wraps_vec);
  fbb.Finish(grant, "TLFG");
  return Finished(fbb);
}

Status SignGrant(ForwardParts& parts, const SigningKeyPair& forwarder) {
  TEARLINE_ASSIGN_OR_RETURN(Signature sig,
                            SignWithDomain(forwarder, "tearline/v1/forward-grant", parts.grant));
  parts.signature.assign(sig.begin(), sig.end());
  return Status::Ok();
}

}  // namespace tearline::tools::vectors
