#include "hostile_identity.h"

#include <regex>
#include <vector>

namespace tearline::testing {

using Ms = std::chrono::milliseconds;

Refusal PingUntilRefused(WireClient& client, Ms deadline) {
  Refusal r;
  const auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < deadline) {
    client.Send(EncodePing(900 + r.frames_sent, r.frames_sent));
    ++r.frames_sent;
    // Skip Pongs (and anything else) until this Ping's window is over.
    const auto window_end = std::chrono::steady_clock::now() + Ms(50);
    while (std::chrono::steady_clock::now() < window_end) {
      auto bytes = client.Recv(
          std::chrono::duration_cast<Ms>(window_end - std::chrono::steady_clock::now()));
      if (bytes.empty()) continue;
      std::vector<std::uint8_t> storage;
      auto frame = DecodeFrame(AlignedForDecode(bytes, storage));
      if (!frame.ok() || (*frame)->body_type() != schema::Body::Error) continue;
      const auto* reason = (*frame)->body_as_Error()->reason();
      r.reason = reason ? reason->str() : "";
      r.after = std::chrono::duration_cast<Ms>(std::chrono::steady_clock::now() - start);
      return r;
    }
  }
  r.after = deadline;
  return r;
}

std::size_t FloodPings(WireClient& client, int count) {
  for (std::uint64_t i = 0; i < static_cast<std::uint64_t>(count); ++i) {
    client.Send(EncodePing(5000 + i, i));
  }
  std::size_t errors = 0;
  for (;;) {
    auto bytes = client.Recv(Ms(300));
    if (bytes.empty()) break;
    std::vector<std::uint8_t> storage;
    auto frame = DecodeFrame(AlignedForDecode(bytes, storage));
    if (frame.ok() && (*frame)->body_type() == schema::Body::Error) ++errors;
  }
  return errors;
}

bool NewSessionRefused(net::Context& ctx, const std::string& endpoint, const Certificate& broker,
                       const IdentityKeys& keys, const std::string& id, Ms wait) {
  WireClient client(ctx, endpoint, broker, keys);
  // A handshake the broker refuses may leave no connection to take the Hello: that is a
  // refusal too (the send gives up after the socket's send timeout instead of hanging).
  if (!client.SendWithin(EncodeHello(1, id))) return true;
  return !client.Expect(schema::Body::Welcome, wait).has_value();
}

int DirectoryNodes(Coalition& c, const std::string& id) {
  auto status = c.NodeCli(id, "status", {}, std::chrono::seconds(5));
  std::smatch m;
  static const std::regex kDirectory("directory ([0-9]+) nodes");
  if (status.exit_code != 0 || !std::regex_search(status.out, m, kDirectory)) return -1;
  return std::stoi(m[1].str());
}

}  // namespace tearline::testing
