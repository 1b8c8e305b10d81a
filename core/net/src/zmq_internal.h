// Internal to core/net: the ZeroMQ objects behind the opaque public types.
#ifndef TEARLINE_NET_SRC_ZMQ_INTERNAL_H_
#define TEARLINE_NET_SRC_ZMQ_INTERNAL_H_

#include <string>
#include <zmq.hpp>

#include "tearline/net/socket.h"

namespace tearline::net {

struct Context::Impl {
  zmq::context_t ctx;
};

struct Part::Impl {
  zmq::message_t msg;
};

struct Socket::Impl {
  zmq::socket_t socket;
  std::string endpoint;
};

// The layer's own access to the objects behind the opaque types.
struct SocketAccess {
  // A new socket of `type` with linger 0 (the endpoint is filled in by the factory).
  // Throws zmq::error_t; factories catch it.
  static Socket Make(Context& ctx, zmq::socket_type type);
  static zmq::socket_t& Native(Socket& socket) { return socket.impl_->socket; }
  static void SetEndpoint(Socket& socket, std::string endpoint) {
    socket.impl_->endpoint = std::move(endpoint);
  }
  static zmq::message_t& Message(Part& part) { return part.impl_->msg; }
};

}  // namespace tearline::net

#endif  // TEARLINE_NET_SRC_ZMQ_INTERNAL_H_
