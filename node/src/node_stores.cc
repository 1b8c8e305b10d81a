#include "tearline/node/node_stores.h"

#include <utility>

namespace tearline::node {

Result<NodeStores> OpenNodeStores(const NodeConfig& config) {
  auto in = InboxStore::Open(config.data_dir, {config.max_inbox_reports, config.max_inbox_bytes});
  if (!in.ok()) return in.status();
  auto ob = OutboxStore::Open(config.data_dir);
  if (!ob.ok()) return ob.status();
  auto st = SentStore::Open(config.data_dir);
  if (!st.ok()) return st.status();
  TEARLINE_ASSIGN_OR_RETURN(ReleaseSources sources, ReleaseSources::Open(config.data_dir));
  auto gc = GroupCommit::Open({in->dir(), ob->dir(), st->dir(), sources.dir()});
  if (!gc.ok()) return gc.status();
  TEARLINE_ASSIGN_OR_RETURN(ReleaseBook book, ReleaseBook::Open(config.data_dir));
  return NodeStores{std::move(in).value(), std::move(ob).value(), std::move(st).value(),
                    std::move(gc).value(), std::move(book),       std::move(sources)};
}

}  // namespace tearline::node
