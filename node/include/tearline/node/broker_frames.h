// Broker frames as the node daemon's units take them: the content of a decoded FlatBuffers
// frame body copied into plain values, so no unit depends on the generated code and every copy
// is aligned for the nested buffers parsed in place later (certificates, revocation list).
//
// Thread-safety: pure functions.
#ifndef TEARLINE_NODE_BROKER_FRAMES_H_
#define TEARLINE_NODE_BROKER_FRAMES_H_

#include "tearline/node/directory_cache.h"
#include "tearline/node/log_witness.h"
#include "tearline/node/proof_check.h"
#include "tearline/wire/wire.h"

namespace tearline::node {

// At most kMaxDirectoryEntries certificates are kept; null entries are skipped.
DirectoryUpdate ToDirectoryUpdate(const schema::Directory& directory);
CheckpointAnswer ToCheckpointAnswer(const schema::CheckpointReply& reply);
RecordProof ToRecordProof(const schema::ProofReply& reply);

}  // namespace tearline::node

#endif  // TEARLINE_NODE_BROKER_FRAMES_H_
