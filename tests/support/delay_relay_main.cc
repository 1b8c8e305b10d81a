// tearline-delay-relay: a TCP relay that delays each chunk, in both directions, by a fixed delay
// with jitter (DelayLine). The multi-host test (deploy/multihost.sh) uses it for its latency fault
// where the kernel has no `sch_netem`: the nodes connect to the relay, which connects to the
// broker. A test tool, never installed.
//
//   tearline-delay-relay --listen 10.1.2.1:7401 --connect 10.1.2.1:7400 --delay-ms 100
//                        --jitter-ms 20 [--max-bytes 1048576] [--max-connections 64]
//
// One poll loop, non-blocking sockets. Each connection holds two bounded DelayLines; a socket is
// read only while its line has room, so memory stays bounded by max_connections * 2 * max_bytes.
// A connection ends when either side closes or fails (what is already held for the other side is
// still delivered) or when the upstream cannot be reached. SIGTERM/SIGINT end the relay.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "delay_line.h"
#include "tearline/base/clock.h"

namespace {

using tearline::Clock;
using tearline::SystemClock;
using tearline::testing::DelayLine;
using tearline::testing::DelayLineOptions;

volatile std::sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

std::optional<sockaddr_in> ParseAddress(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos) return std::nullopt;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  if (inet_pton(AF_INET, text.substr(0, colon).c_str(), &addr.sin_addr) != 1) return std::nullopt;
  const int port = std::atoi(text.substr(colon + 1).c_str());
  if (port <= 0 || port > 65535) return std::nullopt;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  return addr;
}

void SetNonBlocking(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

// One relayed connection: side 0 is the client, side 1 the upstream. line[i] holds what side i
// sent, waiting to be written to side 1 - i.
struct Pair {
  std::array<int, 2> fd{-1, -1};
  std::array<std::unique_ptr<DelayLine>, 2> line;
  std::array<bool, 2> eof{false, false};
  bool connecting = true;
  bool dead = false;

  ~Pair() {
    for (int f : fd)
      if (f >= 0) close(f);
  }
  // Finished: failed, or a side closed and everything it sent has been passed on.
  bool Done() const {
    if (dead) return true;
    for (std::size_t i = 0; i < 2; ++i)
      if (eof[i] && line[i]->Held() == 0) return true;
    return false;
  }
};

int Listen(const sockaddr_in& addr) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 || listen(fd, 64) != 0) {
    std::perror("tearline-delay-relay: listen");
    std::exit(1);
  }
  SetNonBlocking(fd);
  return fd;
}

std::unique_ptr<Pair> Accept(int listener, const sockaddr_in& upstream, const Clock& clock,
                             const DelayLineOptions& options, std::uint64_t seed) {
  const int client = accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (client < 0) return nullptr;
  auto pair = std::make_unique<Pair>();
  pair->fd[0] = client;
  pair->fd[1] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  const int one = 1;
  for (int f : pair->fd) setsockopt(f, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  for (std::size_t i = 0; i < 2; ++i)
    pair->line[i] = std::make_unique<DelayLine>(clock, options, seed + i);
  if (connect(pair->fd[1], reinterpret_cast<const sockaddr*>(&upstream), sizeof upstream) != 0 &&
      errno != EINPROGRESS) {
    pair->dead = true;
  }
  return pair;
}

// Reads what side `i` sent (while its line has room) and writes what is due to the other side.
void Service(Pair& p, std::size_t i, short revents) {
  if (revents & (POLLERR | POLLNVAL)) {
    p.dead = true;
    return;
  }
  if (i == 1 && p.connecting && (revents & (POLLOUT | POLLHUP))) {
    int error = 0;
    socklen_t len = sizeof error;
    getsockopt(p.fd[1], SOL_SOCKET, SO_ERROR, &error, &len);
    if (error != 0) {
      p.dead = true;
      return;
    }
    p.connecting = false;
  }
  if ((revents & (POLLIN | POLLHUP)) && !p.eof[i] && p.line[i]->Room() > 0) {
    char buf[16384];
    const std::size_t want = std::min(sizeof buf, p.line[i]->Room());
    const ssize_t n = read(p.fd[i], buf, want);
    if (n > 0) {
      p.line[i]->Push(std::string_view(buf, static_cast<std::size_t>(n)));
    } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
      p.eof[i] = true;
    }
  }
}

void Flush(Pair& p) {
  if (p.connecting) return;
  for (std::size_t i = 0; i < 2; ++i) {
    while (!p.dead) {
      const std::string_view due = p.line[i]->Due();
      if (due.empty()) break;
      const ssize_t n = send(p.fd[1 - i], due.data(), due.size(), MSG_NOSIGNAL);
      if (n > 0) {
        p.line[i]->Consume(static_cast<std::size_t>(n));
      } else {
        if (n < 0 && errno != EAGAIN && errno != EINTR) p.dead = true;
        break;
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"TCP relay delaying each chunk (a latency fault for tests)"};
  std::string listen_at;
  std::string connect_to;
  int delay_ms = 100;
  int jitter_ms = 20;
  std::size_t max_bytes = 1 << 20;
  std::size_t max_connections = 64;
  app.add_option("--listen", listen_at, "ADDRESS:PORT to accept on")->required();
  app.add_option("--connect", connect_to, "ADDRESS:PORT to relay to")->required();
  app.add_option("--delay-ms", delay_ms, "Delay of each chunk, each direction")
      ->check(CLI::Range(0, 10000));
  app.add_option("--jitter-ms", jitter_ms, "Uniform jitter around the delay")
      ->check(CLI::Range(0, 10000));
  app.add_option("--max-bytes", max_bytes, "Bytes held per direction of a connection")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 28));
  app.add_option("--max-connections", max_connections, "Connections relayed at once")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1024}));
  CLI11_PARSE(app, argc, argv);
  const auto listen_addr = ParseAddress(listen_at);
  const auto upstream = ParseAddress(connect_to);
  if (!listen_addr || !upstream) {
    std::fprintf(stderr, "tearline-delay-relay: addresses are IPv4 ADDRESS:PORT\n");
    return 2;
  }
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGINT, OnSignal);
  const Clock& clock = SystemClock::Get();
  DelayLineOptions options;
  options.delay = std::chrono::milliseconds(delay_ms);
  options.jitter = std::chrono::milliseconds(jitter_ms);
  options.max_bytes = max_bytes;

  const int listener = Listen(*listen_addr);
  std::printf("event=relay_listening listen=%s connect=%s delay_ms=%d jitter_ms=%d\n",
              listen_at.c_str(), connect_to.c_str(), delay_ms, jitter_ms);
  std::fflush(stdout);
  std::list<std::unique_ptr<Pair>> pairs;
  std::uint64_t seed = 1;
  std::uint64_t accepted = 0;
  while (!g_stop) {
    std::vector<pollfd> fds;
    std::vector<std::pair<Pair*, std::size_t>> owners;
    fds.push_back({listener, static_cast<short>(pairs.size() < max_connections ? POLLIN : 0), 0});
    owners.emplace_back(nullptr, std::size_t{0});
    auto wake = clock.Now() + std::chrono::seconds(1);
    for (auto& p : pairs) {
      for (std::size_t i = 0; i < 2; ++i) {
        short events = 0;
        if (!p->eof[i] && p->line[i]->Room() > 0 && !(i == 1 && p->connecting)) events |= POLLIN;
        if ((i == 1 && p->connecting) || !p->line[1 - i]->Due().empty()) events |= POLLOUT;
        fds.push_back({p->fd[i], events, 0});
        owners.emplace_back(p.get(), i);
        if (auto due = p->line[i]->NextDue()) wake = std::min(wake, *due);
      }
    }
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(wake - clock.Now());
    const int timeout_ms = static_cast<int>(std::clamp<std::int64_t>(wait.count() + 1, 0, 1000));
    if (poll(fds.data(), fds.size(), timeout_ms) < 0 && errno != EINTR) break;
    if (fds[0].revents & POLLIN) {
      if (auto p = Accept(listener, *upstream, clock, options, seed)) {
        pairs.push_back(std::move(p));
        seed += 2;
        ++accepted;
      }
    }
    for (std::size_t k = 1; k < fds.size(); ++k) {
      if (fds[k].revents != 0) Service(*owners[k].first, owners[k].second, fds[k].revents);
    }
    for (auto& p : pairs) Flush(*p);
    pairs.remove_if([](const std::unique_ptr<Pair>& p) { return p->Done(); });
  }
  close(listener);
  std::printf("event=relay_stopped connections=%llu\n", static_cast<unsigned long long>(accepted));
  return 0;
}
