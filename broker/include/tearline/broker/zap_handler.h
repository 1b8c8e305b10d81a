// ZapHandler: the ZeroMQ Authentication Protocol (RFC 27) endpoint for CURVE clients.
//
// libzmq lets a CURVE server accept *any* client key unless a ZAP handler is bound at
// inproc://zeromq.zap.01 in the same context, so the broker constructs this before it binds its
// ROUTER socket. Every request is answered: 200 with the node id as User-Id when the authenticate
// callback accepts the client's long-term public key, 400 otherwise (the client gets no service).
//
// Ownership: owns its REP socket and worker thread; the socket is bound in the constructor and
// used only by the worker afterwards. Thread-safety: the callback runs on the worker thread and
// must be thread-safe with respect to the rest of the program. Stop() (or the destructor) joins
// the worker; call it before the context is closed.
#ifndef TEARLINE_BROKER_ZAP_HANDLER_H_
#define TEARLINE_BROKER_ZAP_HANDLER_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <zmq.hpp>

#include "tearline/base/status.h"

namespace tearline::broker {

inline constexpr const char* kZapEndpoint = "inproc://zeromq.zap.01";
inline constexpr const char* kZapDomain = "tearline";

class ZapHandler {
 public:
  // Returns the node id to use as User-Id, or an error whose reason is logged by the callback.
  using Authenticate = std::function<Result<std::string>(
      const std::array<std::uint8_t, 32>& client_key, const std::string& peer_address)>;

  static Result<std::unique_ptr<ZapHandler>> Start(zmq::context_t& ctx, Authenticate authenticate);
  ~ZapHandler();
  ZapHandler(const ZapHandler&) = delete;
  ZapHandler& operator=(const ZapHandler&) = delete;

  void Stop();

 private:
  ZapHandler(zmq::socket_t socket, Authenticate authenticate);
  void Loop();

  zmq::socket_t socket_;
  Authenticate authenticate_;
  std::atomic<bool> stop_{false};
  std::thread worker_;
};

}  // namespace tearline::broker

#endif  // TEARLINE_BROKER_ZAP_HANDLER_H_
