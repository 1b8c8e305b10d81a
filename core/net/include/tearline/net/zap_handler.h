// ZapHandler: the ZeroMQ Authentication Protocol (RFC 27) endpoint for CURVE clients, in the
// spirit of czmq's zauth.
//
// libzmq lets a CURVE server accept *any* client key unless a ZAP handler is bound at
// inproc://zeromq.zap.01 in the same context, so a server starts this before it binds its CURVE
// socket. Every request is answered: 200 with the returned id as User-Id (read back with
// Part::user_id()) when the callback accepts the client's long-term public key, 400 otherwise
// (the client gets no service). Requests for another domain or mechanism are refused.
//
// Ownership: owns its REP socket and worker thread; the socket is bound in Start() and used only
// by the worker afterwards. The Context must outlive the handler.
// Thread-safety: the callback runs on the worker thread and must be thread-safe with respect to
// the rest of the program. Stop() (or the destructor) joins the worker.
#ifndef TEARLINE_NET_ZAP_HANDLER_H_
#define TEARLINE_NET_ZAP_HANDLER_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "tearline/base/status.h"
#include "tearline/net/socket.h"

namespace tearline::net {

inline constexpr const char* kZapEndpoint = "inproc://zeromq.zap.01";

class ZapHandler {
 public:
  // Returns the id to use as User-Id, or an error whose reason is sent as the status text.
  using Authenticate = std::function<Result<std::string>(
      const std::array<std::uint8_t, 32>& client_key, const std::string& peer_address)>;

  // Errors: NET_ZAP_BIND.
  static Result<std::unique_ptr<ZapHandler>> Start(Context& ctx, Authenticate authenticate);
  ~ZapHandler();
  ZapHandler(const ZapHandler&) = delete;
  ZapHandler& operator=(const ZapHandler&) = delete;

  void Stop();

 private:
  ZapHandler(Socket socket, Authenticate authenticate);
  void Loop();
  void Answer(const std::vector<Part>& request);

  Socket socket_;
  Authenticate authenticate_;
  std::atomic<bool> stop_{false};
  std::thread worker_;
};

}  // namespace tearline::net

#endif  // TEARLINE_NET_ZAP_HANDLER_H_
