#include "tearline/broker/zap_handler.h"

#include <spdlog/spdlog.h>

#include <cstring>
#include <vector>

namespace tearline::broker {

Result<std::unique_ptr<ZapHandler>> ZapHandler::Start(zmq::context_t& ctx,
                                                      Authenticate authenticate) {
  try {
    zmq::socket_t socket(ctx, zmq::socket_type::rep);
    socket.set(zmq::sockopt::linger, 0);
    socket.bind(kZapEndpoint);
    return std::unique_ptr<ZapHandler>(new ZapHandler(std::move(socket), std::move(authenticate)));
  } catch (const zmq::error_t& e) {
    return Internal("ZAP_BIND", std::string("cannot bind the ZAP handler: ") + e.what());
  }
}

ZapHandler::ZapHandler(zmq::socket_t socket, Authenticate authenticate)
    : socket_(std::move(socket)), authenticate_(std::move(authenticate)) {
  worker_ = std::thread([this] { Loop(); });
}

ZapHandler::~ZapHandler() { Stop(); }

void ZapHandler::Stop() {
  stop_.store(true);
  if (worker_.joinable()) worker_.join();
  socket_.close();
}

void ZapHandler::Loop() {
  while (!stop_.load()) {
    try {
      zmq::pollitem_t items[] = {{socket_.handle(), 0, ZMQ_POLLIN, 0}};
      zmq::poll(items, 1, std::chrono::milliseconds(100));
      if ((items[0].revents & ZMQ_POLLIN) == 0) continue;
      std::vector<zmq::message_t> frames;
      while (true) {
        zmq::message_t m;
        if (!socket_.recv(m, zmq::recv_flags::none)) break;
        bool more = m.more();
        frames.push_back(std::move(m));
        if (!more) break;
      }
      // RFC 27 request: version, request id, domain, address, identity, mechanism, credentials.
      std::string request_id = frames.size() > 1 ? frames[1].to_string() : "";
      std::string status_code = "400";
      std::string status_text = "malformed ZAP request";
      std::string user_id;
      if (frames.size() >= 7 && frames[0].to_string() == "1.0" &&
          frames[5].to_string() == "CURVE" && frames[6].size() == 32 &&
          frames[2].to_string() == kZapDomain) {
        std::array<std::uint8_t, 32> key{};
        std::memcpy(key.data(), frames[6].data(), 32);
        auto who = authenticate_(key, frames[3].to_string());
        if (who.ok()) {
          status_code = "200";
          status_text = "OK";
          user_id = *who;
        } else {
          status_text = who.status().reason();
        }
      } else if (frames.size() >= 6 && frames[5].to_string() != "CURVE") {
        status_text = "only CURVE clients are served";
      }
      socket_.send(zmq::buffer(std::string_view("1.0")), zmq::send_flags::sndmore);
      socket_.send(zmq::buffer(request_id), zmq::send_flags::sndmore);
      socket_.send(zmq::buffer(status_code), zmq::send_flags::sndmore);
      socket_.send(zmq::buffer(status_text), zmq::send_flags::sndmore);
      socket_.send(zmq::buffer(user_id), zmq::send_flags::sndmore);
      socket_.send(zmq::message_t(), zmq::send_flags::none);
    } catch (const zmq::error_t& e) {
      if (e.num() == ETERM) return;
      spdlog::error("zap: {}", e.what());
    }
  }
}

}  // namespace tearline::broker
