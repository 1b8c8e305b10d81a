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
// Event loop (Run), single-threaded; both ZeroMQ sockets belong to the thread calling Run:
//   - zmq::poll on the broker DEALER and the control ROUTER with a timeout of at most 100 ms, so
//     the `stop` flag (set by a signal handler) is seen within that time;
//   - session timers: Hello every heartbeat interval until a Welcome arrives; then Ping every
//     interval; no frame from the broker for 3 intervals means the session is lost and Hello
//     starts again. TCP reconnection is ZeroMQ's (ZMQ_RECONNECT_IVL 100 ms doubling to 5 s);
//     ZMQ_IMMEDIATE keeps frames from queueing on a connection that does not exist, so a
//     refused send is known at once and reported as BROKER_UNAVAILABLE, never silently queued;
//   - the directory is fetched after each Welcome, every 60 s, and before each send (so a send
//     wraps keys only for nodes whose certificates this node verified just now);
//   - each pending send has a deadline (the CLI's --timeout); past it the analyst is told the
//     report is pending, with its id;
//   - outbox: a sealed report is written durably to DATA_DIR/outbox before its first Submit and
//     kept until the broker's answer is final (accepted, also as a duplicate, or a definitive
//     rejection; see IsTransientSubmitFailure); the same bytes are resubmitted after every
//     Welcome and every 8 heartbeats without an answer (doubling after each transient refusal,
//     up to 64 times), and the outbox is read at start-up.
//     Expired reports are dropped with a log line. Final answers go to DATA_DIR/sent/ID.json.
//     Without a broker session but with a directory verified earlier, a send is sealed for
//     those certificates (re-verified now) and waits in the outbox;
//   - track/prove: TrackRequest / ProofRequest to the broker, answered to the CLI when the
//     replies arrive or after 8 s; every ProofReply is verified here (see proof_check.h) and its
//     checkpoint compared with the witnessed one.
// Inbound Deliver: originator certificate from the verified directory, Open (signature, window,
// commitments, local release check, decryption), an explicit second label check for this
// node's nation and clearance, originator nation checked against its certificate, durable
// store, then a signed Ack (a copy of a report id already stored is acknowledged again after its
// signature verifies, never stored twice). Failures are logged by reason (never content) and
// answered with an Error frame, without an Ack.
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
