#include "hostile_limits.h"

#include <array>

#include "tearline/base/status.h"
#include "tearline/wire/wire.h"

namespace tearline::testing {

std::vector<std::vector<std::uint8_t>> EveryKindOfFrame(const std::string& node_id) {
  const std::array<std::uint8_t, 16> report_id{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
  const std::array<std::uint8_t, 64> bad_signature{};
  const std::vector<std::uint8_t> garbage_report(200, 0x33);
  return {
      EncodeHello(1, node_id),
      EncodeDirectoryRequest(2),
      EncodeSubmit(3, garbage_report),
      EncodeAck(4, report_id, bad_signature),
      EncodePing(5, 42),
      EncodeError(6, Status(Code::kInvalidArgument, "HOSTILE", "not a real refusal")),
      EncodeCheckpointRequest(7, 0),
      EncodeCosignature(8, 1, "— hostile 0000 not-a-cosignature"),
      EncodeProofRequest(9, 0),
      EncodeTrackRequest(10, report_id),
      EncodeWelcome(11, "not-the-broker", 0, 1000),
      std::vector<std::uint8_t>(64, 0x5a),
  };
}

std::vector<std::uint8_t> HugeErrorFrame(std::size_t bytes) {
  static constexpr char kPiece[] = "line\n\x1b[2J\xe2\x80\xae\xff\xfe spoof ";
  std::string message;
  message.reserve(bytes + sizeof kPiece);
  while (message.size() < bytes) message += kPiece;
  message.resize(bytes);
  return EncodeError(
      1, Status(Code::kInvalidArgument, "HOSTILE_" + std::string(4096, 'R'), std::move(message)));
}

FloodStats Flood(WireClient& client, const std::vector<std::vector<std::uint8_t>>& frames,
                 std::size_t total) {
  FloodStats stats;
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < total; ++i) {
    client.Send(frames[i % frames.size()]);
    ++stats.sent;
  }
  stats.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  return stats;
}

}  // namespace tearline::testing
