#include "tearline/node/control_client.h"

#include <sys/stat.h>

#include <zmq.hpp>

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
  try {
    zmq::context_t ctx(1);
    zmq::socket_t sock(ctx, zmq::socket_type::dealer);
    sock.set(zmq::sockopt::linger, 0);
    // Queue only on a completed connection: a stale socket file then fails the send quickly.
    sock.set(zmq::sockopt::immediate, 1);
    sock.set(zmq::sockopt::sndtimeo, 1000);
    sock.set(zmq::sockopt::maxmsgsize, static_cast<std::int64_t>(kMaxControlMessageBytes));
    sock.connect(config.ControlEndpoint());
    auto sent = sock.send(zmq::buffer(request), zmq::send_flags::none);
    if (!sent) return NotRunning(config, "nothing accepts connections on it");
    zmq::pollitem_t item{sock.handle(), 0, ZMQ_POLLIN, 0};
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        return Status(Code::kUnavailable, "NODE_NO_RESPONSE",
                      "the node daemon did not answer within " +
                          std::to_string(timeout.count() / 1000) + " s");
      }
      try {
        zmq::poll(&item, 1, left);
      } catch (const zmq::error_t& e) {
        if (e.num() == EINTR) continue;
        throw;
      }
      if ((item.revents & ZMQ_POLLIN) != 0) break;
    }
    zmq::message_t reply;
    if (!sock.recv(reply, zmq::recv_flags::dontwait)) {
      return Status(Code::kUnavailable, "NODE_NO_RESPONSE", "the node daemon sent no answer");
    }
    return reply.to_string();
  } catch (const zmq::error_t& e) {
    return Status(Code::kUnavailable, "NODE_NOT_RUNNING",
                  "control socket " + socket_path.string() + ": " + e.what());
  }
}

}  // namespace tearline::node
