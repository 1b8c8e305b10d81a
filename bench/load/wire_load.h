// Broker-only load: in-process nodes that speak the real wire protocol over CURVE to the real
// tearline-broker, replaying reports sealed before the clock starts, so the run measures the
// broker and not the sealing, opening or storing a node daemon does. Every benchmark node both
// submits (reports addressed to the next `recipients` nodes) and receives: on each Deliver it
// sends the acknowledgement (signed before the run too) at once.
//
// Latency of a copy: from the moment its Submit was handed to the socket to the moment the
// recipient's socket returned the Deliver. With queue_depth > 0, a first phase queues that many
// copies for node 0 while it is offline, then connects it and times the drain.
//
// `on_main_phase` runs on the calling thread just before the main phase starts (after any
// queue drain), so the caller can start its measurement window there.
// Thread-safety: RunBrokerOnly blocks the caller; it runs one thread per node and updates
// `live` from them.
#ifndef TEARLINE_BENCH_LOAD_WIRE_LOAD_H_
#define TEARLINE_BENCH_LOAD_WIRE_LOAD_H_

#include <functional>

#include "cluster.h"
#include "load_plan.h"
#include "tearline/base/status.h"

namespace tearline::bench {

// The cluster's broker must be running; its nodes' daemons are not used.
// Errors: BENCH_SETUP (keys, sealing, connecting), BENCH_PROC.
Result<LoadOutcome> RunBrokerOnly(Cluster& cluster, const LoadPlan& plan, LiveCounters& live,
                                  const std::function<void()>& on_main_phase);

}  // namespace tearline::bench

#endif  // TEARLINE_BENCH_LOAD_WIRE_LOAD_H_
