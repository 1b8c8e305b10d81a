// NodeDaemon: the national node (`tearline-node run`). It holds the node's keys, keeps one
// CURVE-authenticated connection to the broker, verifies, re-checks and stores what arrives,
// acknowledges it, and serves the analyst CLI over a local control socket.
//
// Start-up (Create) refuses to run, with one Status naming the file and the fix, when: the
// configuration's policy, CA directory, secret file or certificates do not load; the node's own
// certificate does not verify under the trust store, is not a node certificate, names another
// node id, or does not match the keys in the secret file; the broker certificate does not verify
// or is not a broker certificate; the data directory cannot be created, or another daemon
// already holds its lock (NODE_ALREADY_RUNNING).
//
// Structure: the daemon owns the sockets (tearline::net) and one poll loop; everything else is
// done by units that take decoded inputs and the injected Clock and never touch a socket:
//   broker_link      the session: Hello until Welcome, Ping every heartbeat, loss after 3 quiet
//                    heartbeats or a transport disconnect (monitor events), status text;
//   directory_cache  directory requests (after each Welcome, every 60 s, on DirectoryChanged),
//                    verification once per change, revocation list updates; sends use the
//                    cached directory until the broker announces a change;
//   log_witness      audit checkpoints verified for consistency, cosigned, persisted;
//   outbox           sealed reports kept durably until the broker's answer is final, paced at
//                    the broker's announced rate (submit_pacer), resubmitted with the same bytes
//                    after every Welcome and every 8 heartbeats, doubling after each transient
//                    refusal but RATE_LIMITED, dropped at expiry;
//   group_commit     one sync per loop wake-up for the inbox, outbox and sent stores; Acks,
//                    first Submits and the analyst's answers wait for it;
//   sealer           a control `send` turned into a sealed report for the directory's recipients;
//   pending_sends    a send's life from request to the analyst's answer (deadline: --timeout);
//   receiver         Deliver verified, stored durably, acknowledged; read-back;
//   queries          track and prove (8 s deadline), every proof verified here;
//   release_officer  release requests: asked, recorded, decided (officer or standing
//                    authorisation), signed (release_book, release_sources);
//   control_server   control requests decoded and dispatched, errors answered.
// Loop (Run), single-threaded: the broker DEALER, its monitor and the control ROUTER
// (node_sockets) are polled
// (at most 100 ms, so the `stop` flag set by a signal handler is seen within that time) and the
// units' timers run every 50 ms. TCP reconnection is ZeroMQ's (100 ms doubling to 5 s); sends
// are refused at once when no connection is up (reported as BROKER_UNAVAILABLE, never silently
// queued). Units are described in their own headers.
//
// Logs: spdlog, one line per event, `event=NAME key=value ...`; never content or key material.
//
// Ownership: owns its keys (SecretBytes), sockets, inbox, outbox and data-directory lock.
// Thread-safety: Run must be called from one thread; `stop` may be set from any thread or a
// signal handler.
#ifndef TEARLINE_NODE_NODE_DAEMON_H_
#define TEARLINE_NODE_NODE_DAEMON_H_

#include <atomic>
#include <memory>

#include "tearline/base/clock.h"
#include "tearline/base/status.h"
#include "tearline/node/node_config.h"

namespace tearline::node {

class NodeDaemon {
 public:
  // `clock` (which must outlive the daemon) times the session, deadlines and retries, and
  // dates what the node signs and checks.
  static Result<std::unique_ptr<NodeDaemon>> Create(const NodeConfig& config,
                                                    const Clock& clock = SystemClock::Get());
  ~NodeDaemon();
  NodeDaemon(const NodeDaemon&) = delete;
  NodeDaemon& operator=(const NodeDaemon&) = delete;

  // Binds the control socket, connects to the broker and serves until `stop` is true. Returns
  // OK after a requested stop, or the error that made the loop give up (e.g. the control socket
  // cannot be bound: CONTROL_BIND_FAILED).
  Status Run(const std::atomic<bool>& stop);

  struct Impl;

 private:
  explicit NodeDaemon(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tearline::node

#endif  // TEARLINE_NODE_NODE_DAEMON_H_
