// A hostile but authenticated node for the broker's limit tests: frames of every body a node can
// send (and some it cannot), an Error frame whose message is megabytes of control characters,
// and a flood that sends them as fast as the socket takes them while reading nothing back.
//
// Ownership: the functions return values; Flood uses the caller's WireClient.
// Thread-safety: one thread at a time per WireClient.
#ifndef TEARLINE_TESTS_SUPPORT_HOSTILE_LIMITS_H_
#define TEARLINE_TESTS_SUPPORT_HOSTILE_LIMITS_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "wire_client.h"

namespace tearline::testing {

// One frame of every body a node may send to the broker (Hello naming `node_id`,
// DirectoryRequest, Submit of a garbage report, Ack with a bad signature, Ping, Error,
// CheckpointRequest, Cosignature, ProofRequest, TrackRequest), a body only the broker sends
// (Welcome), and bytes that decode as no frame at all.
std::vector<std::vector<std::uint8_t>> EveryKindOfFrame(const std::string& node_id);

// An Error frame whose message is `bytes` long: newlines, escape sequences, a right-to-left
// override and invalid UTF-8, repeated.
std::vector<std::uint8_t> HugeErrorFrame(std::size_t bytes);

struct FloodStats {
  std::size_t sent = 0;
  std::chrono::milliseconds elapsed{0};
};
// Sends `total` frames, cycling through `frames`, without reading any answer.
FloodStats Flood(WireClient& client, const std::vector<std::vector<std::uint8_t>>& frames,
                 std::size_t total);

}  // namespace tearline::testing

#endif  // TEARLINE_TESTS_SUPPORT_HOSTILE_LIMITS_H_
