#include "tearline/node/control_client.h"

#include <sys/stat.h>

#include "tearline/net/socket.h"
#include "tearline/node/control_protocol.h"

namespace tearline::node {
namespace {

Status NotRunning(const NodeConfig& config, const std::string& why) {
  return Status(Code::kUnavailable, "NODE_NOT_RUNNING",
                "no node daemon answers on " + (config.data_dir / "control.sock").string() + " (" +
                    why + "); start it with `tearline-node run --config FILE`");
}

}  // namespace

Result<std::string> CallControl(const NodeConfig& config, const std::string& request,
                                std::chrono::milliseconds timeout) {
  if (request.size() > kMaxControlMessageBytes) {
    return Status(Code::kResourceExhausted, "CONTROL_TOO_LARGE",
                  "request larger than " + std::to_string(kMaxControlMessageBytes) + " bytes");
  }
  const auto socket_path = config.data_dir / "control.sock";
  struct stat st {};
  if (::stat(socket_path.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode)) {
    return NotRunning(config, "control socket missing");
  }
  net::Context ctx;
  // Sends wait at most 1 s for the connection: a stale socket file then fails quickly.
  auto sock =
      net::ConnectLocalDealer(ctx, socket_path, static_cast<std::int64_t>(kMaxControlMessageBytes),
                              std::chrono::milliseconds(1000));
  if (!sock.ok()) {
    return Status(Code::kUnavailable, "NODE_NOT_RUNNING",
                  "control socket " + socket_path.string() + ": " + sock.status().message());
  }
  if (sock->SendWaiting(request) != net::SendResult::kSent) {
    return NotRunning(config, "nothing accepts connections on it");
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return Status(
          Code::kUnavailable, "NODE_NO_RESPONSE",
          "the node daemon did not answer within " + std::to_string(timeout.count() / 1000) + " s");
    }
    // False on a timeout or a signal: the deadline decides.
    if (sock->WaitReadable(left)) break;
  }
  auto reply = sock->TryReceive();
  if (!reply || reply->empty()) {
    return Status(Code::kUnavailable, "NODE_NO_RESPONSE", "the node daemon sent no answer");
  }
  return reply->front().str();
}

}  // namespace tearline::node
