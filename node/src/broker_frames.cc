#include "tearline/node/broker_frames.h"

#include <cstdint>
#include <string>
#include <vector>

namespace tearline::node {
namespace {

template <typename Vec>
std::vector<std::uint8_t> Copy(const Vec* v) {
  if (v == nullptr) return {};
  return {v->data(), v->data() + v->size()};
}

std::string Str(const flatbuffers::String* s) { return s == nullptr ? "" : s->str(); }

}  // namespace

DirectoryUpdate ToDirectoryUpdate(const schema::Directory& d) {
  DirectoryUpdate update;
  update.revocation_list = Copy(d.revocation_list());
  if (d.certificates() != nullptr) {
    for (const auto* c : *d.certificates()) {
      if (c == nullptr || update.certificates.size() >= kMaxDirectoryEntries) continue;
      update.certificates.push_back(Copy(c->bytes()));
    }
  }
  return update;
}

CheckpointAnswer ToCheckpointAnswer(const schema::CheckpointReply& r) {
  return {Str(r.note()), r.old_size(), Copy(r.proof())};
}

RecordProof ToRecordProof(const schema::ProofReply& r) {
  RecordProof p;
  p.note = Str(r.note());
  p.seq = r.seq();
  p.record = Str(r.record());
  p.proof = Copy(r.proof());
  return p;
}

}  // namespace tearline::node
