// End-to-end load through the real node daemons: each sending node gets `in_flight` analyst
// connections to its control socket, each sending one report at a time (`op: send`, so the
// daemon seals, routes through the broker and answers with the broker's outcomes); recipients'
// daemons open, store and acknowledge as they always do. Latency of a copy: from handing the
// send request to the control socket to the rename of the report into the recipient's inbox
// (inbox_watch.h). Reports go to the nations of the next `recipients` nodes.
//
// With queue_depth > 0, a first phase stops node 0's daemon, sends that many reports to its
// nation from node 1, restarts node 0 and times until all of them are in its inbox.
//
// `on_main_phase` runs on the calling thread just before the main phase starts (after any
// queue drain), so the caller can start its measurement window there.
// Thread-safety: RunEndToEnd blocks the caller; it runs its own threads.
#ifndef TEARLINE_BENCH_LOAD_NODE_LOAD_H_
#define TEARLINE_BENCH_LOAD_NODE_LOAD_H_

#include <functional>

#include "cluster.h"
#include "load_plan.h"
#include "tearline/base/status.h"

namespace tearline::bench {

// The cluster's broker and every node's daemon must be running.
// Errors: BENCH_SETUP, BENCH_INOTIFY.
Result<LoadOutcome> RunEndToEnd(Cluster& cluster, const LoadPlan& plan, LiveCounters& live,
                                const std::function<void()>& on_main_phase);

}  // namespace tearline::bench

#endif  // TEARLINE_BENCH_LOAD_NODE_LOAD_H_
