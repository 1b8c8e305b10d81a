// The transport baseline: a bare ZeroMQ CURVE ROUTER that relays each message from a sender
// DEALER to its receiver DEALER, on 127.0.0.1, in process, with no Tearline code on the path.
// This file is the bench library's only ZeroMQ user (as core/net is Tearline's).
//
// Thread-safety: RelayRate blocks the caller and runs its own threads.
#ifndef TEARLINE_BENCH_LOAD_CURVE_RELAY_H_
#define TEARLINE_BENCH_LOAD_CURVE_RELAY_H_

#include <cstddef>
#include <cstdint>

#include "tearline/base/status.h"

namespace tearline::bench {

struct RelayResult {
  double msgs_per_s = 0;
  double mib_per_s = 0;
};

// `pairs` senders each send `messages / pairs` messages of `size` bytes through the relay to
// their own receiver. Errors: BENCH_RELAY when ZeroMQ refuses the setup.
Result<RelayResult> RelayRate(std::size_t size, int pairs, std::uint64_t messages);

}  // namespace tearline::bench

#endif  // TEARLINE_BENCH_LOAD_CURVE_RELAY_H_
