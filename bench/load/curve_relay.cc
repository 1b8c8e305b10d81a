#include "curve_relay.h"

#include <sodium.h>

#include <array>
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

namespace tearline::bench {
namespace {

struct KeyPair {
  std::array<std::uint8_t, 32> pub{};
  std::array<std::uint8_t, 32> sec{};
};

KeyPair NewKeys() {
  KeyPair k;
  crypto_box_keypair(k.pub.data(), k.sec.data());
  return k;
}

zmq::socket_t Client(zmq::context_t& ctx, const std::string& endpoint, const KeyPair& server,
                     const std::string& id) {
  const KeyPair mine = NewKeys();
  zmq::socket_t s(ctx, zmq::socket_type::dealer);
  s.set(zmq::sockopt::routing_id, id);
  s.set(zmq::sockopt::curve_serverkey, zmq::const_buffer(server.pub.data(), server.pub.size()));
  s.set(zmq::sockopt::curve_publickey, zmq::const_buffer(mine.pub.data(), mine.pub.size()));
  s.set(zmq::sockopt::curve_secretkey, zmq::const_buffer(mine.sec.data(), mine.sec.size()));
  s.set(zmq::sockopt::linger, 0);
  s.connect(endpoint);
  return s;
}

}  // namespace

Result<RelayResult> RelayRate(std::size_t size, int pairs, std::uint64_t messages) {
  if (sodium_init() < 0 || pairs < 1) return Internal("BENCH_RELAY", "bad relay setup");
  const std::uint64_t per = messages / static_cast<std::uint64_t>(pairs);
  try {
    zmq::context_t ctx(2);
    const KeyPair server = NewKeys();
    zmq::socket_t router(ctx, zmq::socket_type::router);
    router.set(zmq::sockopt::curve_server, 1);
    router.set(zmq::sockopt::curve_secretkey,
               zmq::const_buffer(server.sec.data(), server.sec.size()));
    router.set(zmq::sockopt::linger, 0);
    // A full receiver pipe must hold the relay back, not drop the message (a plain ROUTER drops).
    router.set(zmq::sockopt::router_mandatory, 1);
    router.bind("tcp://127.0.0.1:0");
    const std::string endpoint = router.get(zmq::sockopt::last_endpoint);

    std::vector<zmq::socket_t> receivers;
    for (int i = 0; i < pairs; ++i) {
      receivers.push_back(Client(ctx, endpoint, server, "r" + std::to_string(i)));
      receivers.back().send(zmq::str_buffer("hi"), zmq::send_flags::none);
    }
    // The relay learns each receiver from its greeting before any traffic flows.
    for (int i = 0; i < pairs; ++i) {
      zmq::message_t from, greeting;
      if (!router.recv(from, zmq::recv_flags::none) ||
          !router.recv(greeting, zmq::recv_flags::none)) {
        return Internal("BENCH_RELAY", "no greeting");
      }
    }
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> received{0};
    std::thread relay([&] {
      try {
        router.set(zmq::sockopt::rcvtimeo, 100);
        const std::uint64_t total = per * static_cast<std::uint64_t>(pairs);
        for (std::uint64_t moved = 0; moved < total && !stop.load();) {
          zmq::message_t from, body;
          if (!router.recv(from, zmq::recv_flags::none)) continue;
          if (!router.recv(body, zmq::recv_flags::none)) continue;
          std::string to = from.to_string();
          to[0] = 'r';
          router.send(zmq::buffer(to), zmq::send_flags::sndmore);
          router.send(body, zmq::send_flags::none);
          ++moved;
        }
      } catch (const zmq::error_t&) {
        // The receivers time out and the count tells the caller the relay failed.
      }
    });
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    std::vector<zmq::socket_t> senders;
    for (int i = 0; i < pairs; ++i) {
      senders.push_back(Client(ctx, endpoint, server, "s" + std::to_string(i)));
    }
    for (int i = 0; i < pairs; ++i) {
      threads.emplace_back([&, i] {
        std::vector<std::uint8_t> payload(size, 0x5a);
        for (std::uint64_t k = 0; k < per; ++k) {
          senders[static_cast<std::size_t>(i)].send(zmq::buffer(payload), zmq::send_flags::none);
        }
      });
      threads.emplace_back([&, i] {
        auto& s = receivers[static_cast<std::size_t>(i)];
        s.set(zmq::sockopt::rcvtimeo, 10000);
        zmq::message_t m;
        for (std::uint64_t k = 0; k < per; ++k) {
          if (!s.recv(m, zmq::recv_flags::none)) break;
          received.fetch_add(1);
        }
      });
    }
    for (auto& t : threads) t.join();
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    stop = true;
    relay.join();
    if (received.load() != per * static_cast<std::uint64_t>(pairs)) {
      return Internal("BENCH_RELAY", "the relay lost messages");
    }
    RelayResult r;
    const double total = static_cast<double>(received.load());
    r.msgs_per_s = total / seconds;
    r.mib_per_s = total * static_cast<double>(size) / seconds / (1024.0 * 1024.0);
    return r;
  } catch (const zmq::error_t& e) {
    return Internal("BENCH_RELAY", std::string("ZeroMQ: ") + e.what());
  }
}

}  // namespace tearline::bench
