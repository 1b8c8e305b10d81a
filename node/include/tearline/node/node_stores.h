// NodeStores: the durable stores a node daemon owns once its start-up checks passed (inbox,
// outbox, sent reports, sealed release sources) and the GroupCommit that makes their writes
// durable with one sync per loop wake-up, plus the release officer's book (written durably on
// its own, outside the group commit); the daemon's units hold references into them.
//
// Ownership: a plain aggregate of move-only stores. Thread-safety: the daemon's loop thread.
#ifndef TEARLINE_NODE_NODE_STORES_H_
#define TEARLINE_NODE_NODE_STORES_H_

#include "tearline/base/status.h"
#include "tearline/node/group_commit.h"
#include "tearline/node/inbox_store.h"
#include "tearline/node/node_config.h"
#include "tearline/node/outbox_store.h"
#include "tearline/node/release_book.h"
#include "tearline/node/release_sources.h"

namespace tearline::node {

struct NodeStores {
  InboxStore inbox;
  OutboxStore outbox;
  SentStore sent;
  GroupCommit commit;  // One sync per loop wake-up: inbox, outbox, sent, sources.
  ReleaseBook releases;
  ReleaseSources sources;
};

// Opens (creating as needed) every store under config.data_dir with the configured inbox limits.
// Errors: those of InboxStore::Open, OutboxStore::Open, SentStore::Open, GroupCommit::Open,
// ReleaseBook::Open and ReleaseSources::Open.
[[nodiscard]] Result<NodeStores> OpenNodeStores(const NodeConfig& config);

}  // namespace tearline::node

#endif  // TEARLINE_NODE_NODE_STORES_H_
