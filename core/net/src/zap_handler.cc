#include "tearline/net/zap_handler.h"

#include <spdlog/spdlog.h>

#include <cstring>
#include <vector>

#include "zmq_internal.h"

namespace tearline::net {

Result<std::unique_ptr<ZapHandler>> ZapHandler::Start(Context& ctx, Authenticate authenticate) {
  try {
    Socket socket = SocketAccess::Make(ctx, zmq::socket_type::rep);
    SocketAccess::Native(socket).bind(kZapEndpoint);
    SocketAccess::SetEndpoint(socket, kZapEndpoint);
    return std::unique_ptr<ZapHandler>(new ZapHandler(std::move(socket), std::move(authenticate)));
  } catch (const zmq::error_t& e) {
    return Internal("NET_ZAP_BIND", std::string("cannot bind the ZAP handler: ") + e.what());
  }
}

ZapHandler::ZapHandler(Socket socket, Authenticate authenticate)
    : socket_(std::move(socket)), authenticate_(std::move(authenticate)) {
  worker_ = std::thread([this] { Loop(); });
}

ZapHandler::~ZapHandler() { Stop(); }

void ZapHandler::Stop() {
  stop_.store(true);
  if (worker_.joinable()) worker_.join();
  socket_.Close();
}

void ZapHandler::Loop() {
  while (!stop_.load()) {
    // A short wait so Stop() is noticed promptly.
    if (!socket_.WaitReadable(std::chrono::milliseconds(100))) continue;
    auto request = socket_.TryReceive();
    if (!request) continue;
    try {
      Answer(*request);
    } catch (const zmq::error_t& e) {
      if (e.num() == ETERM) return;
      spdlog::error("event=zap_error error=\"{}\"", e.what());
    }
  }
}

void ZapHandler::Answer(const std::vector<Part>& frames) {
  // RFC 27 request: version, request id, domain, address, identity, mechanism, credentials.
  const std::string request_id = frames.size() > 1 ? frames[1].str() : "";
  std::string status_code = "400";
  std::string status_text = "malformed ZAP request";
  std::string user_id;
  if (frames.size() >= 7 && frames[0].str() == "1.0" && frames[5].str() == "CURVE" &&
      frames[6].bytes().size() == 32 && frames[2].str() == kZapDomain) {
    std::array<std::uint8_t, 32> key{};
    std::memcpy(key.data(), frames[6].bytes().data(), key.size());
    auto who = authenticate_(key, frames[3].str());
    if (who.ok()) {
      status_code = "200";
      status_text = "OK";
      user_id = *who;
    } else {
      status_text = who.status().reason();
    }
  } else if (frames.size() >= 6 && frames[5].str() != "CURVE") {
    status_text = "only CURVE clients are served";
  }
  auto& s = SocketAccess::Native(socket_);
  s.send(zmq::buffer(std::string_view("1.0")), zmq::send_flags::sndmore);
  s.send(zmq::buffer(request_id), zmq::send_flags::sndmore);
  s.send(zmq::buffer(status_code), zmq::send_flags::sndmore);
  s.send(zmq::buffer(status_text), zmq::send_flags::sndmore);
  s.send(zmq::buffer(user_id), zmq::send_flags::sndmore);
  s.send(zmq::message_t(), zmq::send_flags::none);
}

}  // namespace tearline::net
