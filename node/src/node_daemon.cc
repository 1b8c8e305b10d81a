#include "tearline/node/node_daemon.h"

#include <fcntl.h>
#include <sodium.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <deque>
#include <filesystem>
#include <fstream>
#include <list>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "tearline/base/encoding.h"
#include "tearline/base/file_util.h"
#include "tearline/crypto/key_file.h"
#include "tearline/crypto/keys.h"
#include "tearline/crypto/secure_memory.h"
#include "tearline/envelope/envelope.h"
#include "tearline/identity/certificate.h"
#include "tearline/identity/directory.h"
#include "tearline/identity/revocation.h"
#include "tearline/identity/trust_store.h"
#include "tearline/labels/label.h"
#include "tearline/labels/policy.h"
#include "tearline/labels/release.h"
#include "tearline/node/control_protocol.h"
#include "tearline/node/inbox_store.h"
#include "tearline/node/outbox_store.h"
#include "tearline/node/proof_check.h"
#include "tearline/tlog/checkpoint.h"
#include "tearline/tlog/merkle.h"
#include "tearline/wire/wire.h"

namespace tearline::node {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kMaxPollInterval{100};
constexpr milliseconds kDirectoryRefresh{60000};
// Ask for the broker's latest audit checkpoint every this many heartbeats.
constexpr int kCheckpointEveryHeartbeats = 4;
constexpr int kMissedHeartbeatsForLoss = 3;
constexpr std::size_t kMaxStashedDelivers = 256;
constexpr std::size_t kMaxPendingSends = 64;
constexpr std::size_t kMaxMessagesPerWakeup = 64;
// An outbox report without a final answer is resubmitted after this many heartbeats (and at
// once after every Welcome).
constexpr int kResubmitEveryHeartbeats = 8;
// Outbox reports (re)submitted per loop iteration, so a long outbox cannot starve the loop.
constexpr std::size_t kMaxResubmitsPerTick = 16;
constexpr std::size_t kMaxPendingQueries = 64;
// How long the daemon waits for the broker's answers to track/prove (the CLI waits longer).
constexpr milliseconds kQueryDeadline{8000};
constexpr std::size_t kMaxProofsPerQuery = 256;
// Lifetime given to sealed reports: the broker keeps undelivered copies at most this long.
constexpr std::int64_t kReportLifetimeSeconds = 7 * 24 * 3600;

std::int64_t NowUnix() { return static_cast<std::int64_t>(std::time(nullptr)); }

template <typename Vec>
std::span<const std::uint8_t> FbBytes(const Vec* v) {
  if (v == nullptr) return {};
  return {v->data(), v->size()};
}

std::string FbString(const flatbuffers::String* s) { return s == nullptr ? "" : s->str(); }

std::optional<PublicKey> KeyFromHex(std::string_view hex) {
  PublicKey key{};
  std::size_t len = 0;
  if (hex.size() != 2 * key.size() ||
      sodium_hex2bin(key.data(), key.size(), hex.data(), hex.size(), nullptr, &len, nullptr) != 0 ||
      len != key.size()) {
    return std::nullopt;
  }
  return key;
}

void Wipe(std::string& s) {
  if (!s.empty()) sodium_memzero(s.data(), s.size());
}
void Wipe(std::vector<std::uint8_t>& v) {
  if (!v.empty()) sodium_memzero(v.data(), v.size());
}

Status BrokerUnavailable(const std::string& endpoint, const std::string& detail) {
  return Status(Code::kUnavailable, "BROKER_UNAVAILABLE",
                "the broker at " + endpoint + " is not reachable (" + detail +
                    "); the report was NOT sent. Retry when `tearline-node status` shows "
                    "connected");
}

// kAwaitReply: sealed and kept in the outbox; answered when the broker's final reply for the
// report id arrives, or with "pending" at the deadline.
struct PendingSend {
  enum class Stage { kAwaitDirectory, kAwaitReply };
  Stage stage = Stage::kAwaitDirectory;
  std::string client;  // Control socket routing id.
  ControlRequest request;
  Clock::time_point deadline;
  std::string report_id_hex;
  std::string banner;
};

// A sealed report in the outbox, awaiting the broker's final answer.
struct OutboxItem {
  std::string banner;
  std::int64_t expires_unix = 0;
  std::int64_t submitted_unix = 0;
  bool due = true;  // Submit at the next opportunity.
  Clock::time_point last_submit{};
  int deferrals = 0;  // Transient refusals so far: each doubles the resubmission interval.
};

// A track or prove request from the CLI, waiting for the broker.
struct PendingQuery {
  ControlOp op = ControlOp::kTrack;
  std::string client;
  Clock::time_point deadline;
  std::string report_id_hex;
  std::uint64_t track_rid = 0;
  // prove: request id -> index into result.items.
  std::map<std::uint64_t, std::size_t> proof_rids;
  ProveResult result;
};

struct StashedDeliver {
  std::uint64_t request_id = 0;
  std::vector<std::uint8_t> report;
};

}  // namespace

struct NodeDaemon::Impl {
  NodeConfig config;
  std::shared_ptr<const Policy> policy;
  std::optional<TrustStore> trust;
  IdentityKeys keys;
  std::optional<Certificate> own_cert;
  std::optional<Certificate> broker_cert;
  int clearance = 0;
  std::optional<InboxStore> inbox;
  std::optional<OutboxStore> outbox;
  std::optional<SentStore> sent;
  std::map<std::string, OutboxItem> outbox_items;    // By report id hex.
  std::map<std::uint64_t, std::string> submit_rids;  // Submit request id -> report id hex.
  std::list<PendingQuery> queries;
  int lock_fd = -1;

  zmq::context_t ctx{1};
  std::optional<zmq::socket_t> broker;
  std::optional<zmq::socket_t> control;
  // PAIR end of zmq_socket_monitor on the broker socket: transport events (connection up or
  // down, CURVE handshake refused) so the session reacts at once and the operator sees why.
  std::optional<zmq::socket_t> monitor;
  std::string transport = "connecting";
  std::string transport_failure;  // Last handshake failure; cleared by a successful handshake.

  // Session.
  bool welcomed = false;
  bool ever_welcomed = false;
  std::uint64_t reconnects = 0;
  std::string broker_id;
  milliseconds heartbeat{1000};
  std::optional<Clock::time_point> last_rx;
  Clock::time_point last_hello{};
  Clock::time_point last_ping{};
  Clock::time_point last_directory_request{};
  std::uint64_t last_ping_id = 0;
  std::uint64_t next_request_id = 1;
  Clock::time_point started = Clock::now();

  Directory directory;
  bool have_directory = false;

  // Witness state: the latest audit checkpoint this node verified and cosigned. Every newer one
  // must be proven consistent with it, so a broker that rewrites or forks its log is caught.
  std::uint64_t witnessed_size = 0;
  Hash witnessed_root{};
  Clock::time_point last_checkpoint_request{};
  std::string witness_alarm;  // Non-empty once an inconsistent checkpoint was seen.
  std::list<PendingSend> sends;
  std::deque<StashedDeliver> stashed;

  ~Impl() {
    if (lock_fd >= 0) ::close(lock_fd);
  }

  // --- start-up -------------------------------------------------------------------------------

  Status Load() {
    TEARLINE_RETURN_IF_ERROR(InitCrypto());
    auto pol =
        Policy::LoadFile(config.policy.empty() ? DefaultPolicyPath() : config.policy.string());
    if (!pol.ok()) return pol.status().WithContext("policy");
    policy = std::make_shared<const Policy>(std::move(pol).value());
    auto ts = TrustStore::LoadFromCaDir(config.ca_dir, policy);
    if (!ts.ok()) return ts.status().WithContext("ca_dir " + config.ca_dir.string());
    trust.emplace(std::move(ts).value());
    auto k = ReadIdentitySecret(config.secret);
    if (!k.ok()) return k.status().WithContext("secret " + config.secret.string());
    keys = std::move(k).value();
    const std::int64_t now = NowUnix();

    auto own = ReadCertificateFile(config.certificate.string());
    if (!own.ok()) return own.status().WithContext("certificate " + config.certificate.string());
    Status v = trust->VerifyCertificate(*own, now);
    if (!v.ok()) return v.WithContext("own certificate " + config.certificate.string());
    const auto& f = own->fields();
    if (own->role() != CertRole::kNode) {
      return InvalidArgument("NODE_CERT_ROLE", "own certificate " + config.certificate.string() +
                                                   " is a " + std::string(RoleName(own->role())) +
                                                   " certificate; a node needs role node");
    }
    if (f.node_id != config.id) {
      return InvalidArgument("NODE_CERT_MISMATCH",
                             "own certificate " + config.certificate.string() + " is for node '" +
                                 f.node_id + "' but the configuration says id = '" + config.id +
                                 "'");
    }
    if (f.signing_key != keys.signing.public_key ||
        f.encryption_key != keys.encryption.public_key ||
        f.transport_key != keys.transport.public_key) {
      return InvalidArgument("NODE_KEY_MISMATCH", "secret file " + config.secret.string() +
                                                      " does not hold the keys certified by " +
                                                      config.certificate.string());
    }
    auto level = policy->FindLevel(f.clearance);
    if (!level) {
      return InvalidArgument("NODE_CERT_CLEARANCE", "own certificate clearance '" + f.clearance +
                                                        "' is not in the policy");
    }
    clearance = *level;
    own_cert.emplace(std::move(own).value());

    auto bc = ReadCertificateFile(config.broker_certificate.string());
    if (!bc.ok()) {
      return bc.status().WithContext("broker_certificate " + config.broker_certificate.string());
    }
    v = trust->VerifyCertificate(*bc, now);
    if (!v.ok()) return v.WithContext("broker certificate " + config.broker_certificate.string());
    if (bc->role() != CertRole::kBroker) {
      return InvalidArgument("BROKER_CERT_ROLE", "broker_certificate " +
                                                     config.broker_certificate.string() +
                                                     " is not a broker certificate");
    }
    broker_cert.emplace(std::move(bc).value());
    heartbeat = milliseconds(config.heartbeat_ms);

    // Data directory: owner-only, locked against a second daemon (binding the ipc endpoint
    // would silently take the socket file over from a running one).
    std::error_code ec;
    std::filesystem::create_directories(config.data_dir, ec);
    if (ec) {
      return IoError("NODE_DATA_DIR",
                     "cannot create data_dir " + config.data_dir.string() + ": " + ec.message());
    }
    std::filesystem::permissions(config.data_dir, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::replace, ec);
    if (ec) {
      return IoError("NODE_DATA_DIR",
                     "cannot chmod 700 data_dir " + config.data_dir.string() + ": " + ec.message());
    }
    const auto lock_path = config.data_dir / "node.lock";
    lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock_fd < 0) {
      return IoError("NODE_DATA_DIR",
                     "cannot open " + lock_path.string() + ": " + std::strerror(errno));
    }
    if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
      return Status(
          Code::kAlreadyExists, "NODE_ALREADY_RUNNING",
          "another tearline-node daemon is running with data_dir " + config.data_dir.string());
    }
    auto in = InboxStore::Open(config.data_dir);
    if (!in.ok()) return in.status();
    inbox.emplace(std::move(in).value());
    auto ob = OutboxStore::Open(config.data_dir);
    if (!ob.ok()) return ob.status();
    outbox.emplace(std::move(ob).value());
    auto st = SentStore::Open(config.data_dir);
    if (!st.ok()) return st.status();
    sent.emplace(std::move(st).value());
    LoadOutbox();
    LoadWitnessState();
    return Status::Ok();
  }

  Status OpenSockets() {
    try {
      broker.emplace(ctx, zmq::socket_type::dealer);
      auto& b = *broker;
      b.set(zmq::sockopt::linger, 0);
      b.set(zmq::sockopt::immediate, 1);
      b.set(zmq::sockopt::reconnect_ivl, 100);
      b.set(zmq::sockopt::reconnect_ivl_max, 5000);
      b.set(zmq::sockopt::maxmsgsize, static_cast<std::int64_t>(kMaxFrameBytes));
      b.set(zmq::sockopt::heartbeat_ivl, static_cast<int>(heartbeat.count()));
      b.set(zmq::sockopt::heartbeat_timeout,
            static_cast<int>(heartbeat.count()) * kMissedHeartbeatsForLoss);
      const auto& server_key = broker_cert->fields().transport_key;
      b.set(zmq::sockopt::curve_serverkey, zmq::const_buffer(server_key.data(), server_key.size()));
      b.set(zmq::sockopt::curve_publickey,
            zmq::const_buffer(keys.transport.public_key.data(), keys.transport.public_key.size()));
      b.set(zmq::sockopt::curve_secretkey,
            zmq::const_buffer(keys.transport.secret_key.data(), keys.transport.secret_key.size()));
      const std::string monitor_endpoint = "inproc://tearline-node-broker-monitor";
      if (zmq_socket_monitor(b.handle(), monitor_endpoint.c_str(),
                             ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED |
                                 ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                                 ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                                 ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) != 0) {
        throw zmq::error_t();
      }
      monitor.emplace(ctx, zmq::socket_type::pair);
      monitor->set(zmq::sockopt::linger, 0);
      monitor->connect(monitor_endpoint);
      b.connect(config.broker_endpoint);
    } catch (const zmq::error_t& e) {
      return Status(
          Code::kInvalidArgument, "BROKER_CONNECT_FAILED",
          "cannot set up the broker connection to " + config.broker_endpoint + ": " + e.what());
    }
    try {
      control.emplace(ctx, zmq::socket_type::router);
      auto& c = *control;
      c.set(zmq::sockopt::linger, 0);
      c.set(zmq::sockopt::router_mandatory, 1);
      c.set(zmq::sockopt::maxmsgsize, static_cast<std::int64_t>(kMaxControlMessageBytes));
      // The 0700 data directory already keeps others out; the umask closes the window before
      // the chmod below.
      const mode_t old = ::umask(0077);
      try {
        c.bind(config.ControlEndpoint());
      } catch (...) {
        ::umask(old);
        throw;
      }
      ::umask(old);
      const auto sock_path = config.data_dir / "control.sock";
      if (::chmod(sock_path.c_str(), 0600) != 0) {
        return IoError("CONTROL_BIND_FAILED",
                       "cannot chmod 600 " + sock_path.string() + ": " + std::strerror(errno));
      }
    } catch (const zmq::error_t& e) {
      return IoError("CONTROL_BIND_FAILED",
                     "cannot bind " + config.ControlEndpoint() + ": " + e.what());
    }
    return Status::Ok();
  }

  // --- broker side ----------------------------------------------------------------------------

  // False when no connection can take the frame now (ZMQ_IMMEDIATE) or zmq refused it.
  bool SendToBroker(const std::vector<std::uint8_t>& frame) {
    try {
      auto r =
          broker->send(zmq::const_buffer(frame.data(), frame.size()), zmq::send_flags::dontwait);
      return r.has_value();
    } catch (const zmq::error_t& e) {
      spdlog::warn("event=broker_send_failed error=\"{}\"", e.what());
      return false;
    }
  }

  std::uint64_t NewRequestId() { return next_request_id++; }

  void SendHello(Clock::time_point now) {
    last_hello = now;
    if (SendToBroker(EncodeHello(NewRequestId(), config.id))) {
      spdlog::debug("event=hello_sent broker={}", config.broker_endpoint);
    }
  }

  bool RequestDirectory(Clock::time_point now) {
    last_directory_request = now;
    return SendToBroker(EncodeDirectoryRequest(NewRequestId()));
  }

  void SessionLost(const char* why) {
    if (!welcomed) return;
    welcomed = false;
    spdlog::warn("event=broker_session_lost broker={} reason={}", config.broker_endpoint, why);
    // Sends still waiting for the directory: seal them for the directory verified earlier and
    // keep them in the outbox (as a send started without a session would be); without one they
    // never leave the node, and the analyst is told so now.
    if (have_directory) (void)RecheckDirectory();
    for (auto it = sends.begin(); it != sends.end();) {
      if (it->stage != PendingSend::Stage::kAwaitDirectory) {
        ++it;
        continue;
      }
      Status s = have_directory ? SealAndSubmit(*it)
                                : BrokerUnavailable(config.broker_endpoint, "connection lost");
      if (s.ok()) {
        ++it;
      } else {
        Reply(it->client, EncodeErrorResponse(s));
        it = EraseSend(it);
      }
    }
  }

  void OnMonitorEvent() {
    std::vector<zmq::message_t> parts;
    if (!zmq::recv_multipart(*monitor, std::back_inserter(parts), zmq::recv_flags::dontwait) ||
        parts.size() != 2 || parts[0].size() < sizeof(std::uint16_t)) {
      return;
    }
    std::uint16_t event = 0;
    std::memcpy(&event, parts[0].data(), sizeof(event));
    switch (event) {
      case ZMQ_EVENT_CONNECTED:
        transport = "tcp connected, handshaking";
        spdlog::debug("event=broker_tcp_connected broker={}", config.broker_endpoint);
        break;
      case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
        transport = "connected";
        transport_failure.clear();
        spdlog::info("event=broker_transport_up broker={}", config.broker_endpoint);
        // Greet at once instead of waiting for the next timer tick.
        if (!welcomed) SendHello(Clock::now());
        break;
      case ZMQ_EVENT_DISCONNECTED:
        transport = "disconnected, reconnecting";
        spdlog::warn("event=broker_transport_down broker={}", config.broker_endpoint);
        SessionLost("connection closed");
        break;
      case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
        transport_failure = "the broker refused this node's key (authentication failed); retrying";
        spdlog::error("event=broker_auth_failed broker={}", config.broker_endpoint);
        break;
      case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
      case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
        transport_failure =
            "CURVE handshake failed (is broker_certificate the broker's?); retrying";
        spdlog::error("event=broker_handshake_failed broker={}", config.broker_endpoint);
        break;
      default:
        break;
    }
  }

  void Timers(Clock::time_point now) {
    if (welcomed && last_rx && now - *last_rx > heartbeat * kMissedHeartbeatsForLoss) {
      SessionLost("no frame for 3 heartbeat intervals");
    }
    if (!welcomed) {
      if (now - last_hello >= heartbeat) SendHello(now);
    } else {
      if (now - last_ping >= heartbeat) {
        last_ping = now;
        last_ping_id = NewRequestId();
        (void)SendToBroker(EncodePing(last_ping_id, randombytes_random()));
      }
      if (now - last_directory_request >= kDirectoryRefresh) (void)RequestDirectory(now);
      if (now - last_checkpoint_request >= heartbeat * kCheckpointEveryHeartbeats) {
        last_checkpoint_request = now;
        (void)SendToBroker(EncodeCheckpointRequest(NewRequestId(), witnessed_size));
      }
    }
    for (auto it = sends.begin(); it != sends.end();) {
      if (now < it->deadline) {
        ++it;
        continue;
      }
      if (it->stage == PendingSend::Stage::kAwaitDirectory) {
        Status s = BrokerUnavailable(config.broker_endpoint, "no directory reply in time");
        spdlog::warn("event=send_timeout reason={}", s.reason());
        Reply(it->client, EncodeErrorResponse(s));
      } else {
        spdlog::warn(
            "event=send_pending report={} detail=\"no final answer in time; kept in the "
            "outbox\"",
            it->report_id_hex);
        Reply(it->client,
              EncodeSendResponse(PendingResult(*it, welcomed ? "the broker did not answer in time"
                                                             : "the broker is not reachable")));
      }
      it = EraseSend(it);
    }
    ResubmitOutbox(now);
    QueryTimeouts(now);
  }

  SendResult PendingResult(const PendingSend& p, const std::string& why) {
    SendResult r;
    r.report_id_hex = p.report_id_hex;
    r.banner = p.banner;
    r.pending = true;
    r.detail = why + "; report " + p.report_id_hex +
               " is kept in the outbox and will be resent automatically with the same id (the "
               "broker stores an id once, so it is never delivered twice)";
    return r;
  }

  std::list<PendingSend>::iterator EraseSend(std::list<PendingSend>::iterator it) {
    for (auto& p : it->request.portions) Wipe(p.content);
    return sends.erase(it);
  }

  void OnBrokerMessage(const zmq::message_t& msg) {
    std::vector<std::uint8_t> aligned;
    std::span<const std::uint8_t> bytes =
        AlignedForDecode({static_cast<const std::uint8_t*>(msg.data()), msg.size()}, aligned);
    auto decoded = DecodeFrame(bytes);
    if (!decoded.ok()) {
      spdlog::warn("event=broker_frame_rejected reason={} bytes={}", decoded.status().reason(),
                   msg.size());
      return;
    }
    const schema::Frame* frame = *decoded;
    last_rx = Clock::now();
    const std::uint64_t rid = frame->request_id();
    switch (frame->body_type()) {
      case schema::Body::Welcome: {
        const auto* w = frame->body_as_Welcome();
        broker_id = FbString(w->broker_id());
        const std::uint32_t hb = w->heartbeat_interval_ms();
        if (hb >= 100 && hb <= 60000) heartbeat = milliseconds(hb);
        if (!welcomed) {
          if (ever_welcomed) ++reconnects;
          ever_welcomed = true;
          welcomed = true;
          spdlog::info("event=broker_welcome broker_id={} heartbeat_ms={} reconnects={}", broker_id,
                       heartbeat.count(), reconnects);
        }
        last_ping = Clock::now();
        (void)RequestDirectory(Clock::now());
        // A new session: every outbox report is resubmitted (same bytes, same id).
        for (auto& [id, item] : outbox_items) item.due = true;
        submit_rids.clear();
        ResubmitOutbox(Clock::now());
        break;
      }
      case schema::Body::Pong:
        break;
      case schema::Body::CheckpointReply:
        OnCheckpointReply(*frame->body_as_CheckpointReply());
        break;
      case schema::Body::Directory:
        OnDirectory(*frame->body_as_Directory());
        break;
      case schema::Body::SubmitReply:
        OnSubmitReply(rid, *frame->body_as_SubmitReply());
        break;
      case schema::Body::TrackReply:
        OnTrackReply(rid, *frame->body_as_TrackReply());
        break;
      case schema::Body::ProofReply:
        OnProofReply(rid, *frame->body_as_ProofReply());
        break;
      case schema::Body::Deliver: {
        const auto* d = frame->body_as_Deliver();
        auto report = FbBytes(d->report());
        HandleDeliver(rid, std::vector<std::uint8_t>(report.begin(), report.end()), false);
        break;
      }
      case schema::Body::Error: {
        const auto* e = frame->body_as_Error();
        const std::string reason = FbString(e->reason());
        spdlog::warn("event=broker_error request={} reason={} message=\"{}\"", rid, reason,
                     FbString(e->message()));
        if (auto it = submit_rids.find(rid); it != submit_rids.end()) {
          const std::string id = it->second;
          submit_rids.erase(it);
          SubmitReplyInfo info;
          info.accepted = false;
          info.error_reason = reason.empty() ? "BROKER_ERROR" : reason;
          info.error_message = FbString(e->message());
          OnSubmitAnswer(id, std::move(info));
        }
        OnQueryError(rid, reason.empty() ? "BROKER_ERROR" : reason, FbString(e->message()));
        // The broker does not know this session (e.g. it restarted): greet it again.
        if (rid == last_ping_id || reason.rfind("AUTH_", 0) == 0 || reason == "NOT_WELCOMED" ||
            reason == "HELLO_REQUIRED") {
          SessionLost(reason.c_str());
        }
        break;
      }
      default:
        spdlog::warn("event=broker_frame_unexpected type={}",
                     schema::EnumNameBody(frame->body_type()));
        break;
    }
  }

  std::filesystem::path WitnessFile() const { return config.data_dir / "witness" / "checkpoint"; }

  void LoadWitnessState() {
    std::ifstream in(WitnessFile(), std::ios::binary);
    if (!in) return;
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string note = ss.str();
    auto cp = ParseCheckpointBody(note.substr(0, note.find("\n\n") + 1));
    if (cp.ok()) {
      witnessed_size = cp->tree_size;
      witnessed_root = cp->root_hash;
    }
  }

  void WitnessAlarm(const std::string& why) {
    witness_alarm = why;
    spdlog::critical("event=audit_log_inconsistent broker_id={} detail=\"{}\"", broker_id, why);
  }

  void OnCheckpointReply(const schema::CheckpointReply& r) {
    if (!broker_cert) return;
    const std::string origin = "tearline/audit/" + broker_cert->node_id();
    auto key =
        MakeNoteVerifierKey(origin, NoteKeyType::kEd25519, broker_cert->fields().signing_key);
    if (!key.ok()) return;
    const std::string note = FbString(r.note());
    auto opened = OpenCheckpoint(note, origin, *key);
    if (!opened.ok()) {
      WitnessAlarm("checkpoint signature does not verify: " + opened.status().ToString());
      return;
    }
    const Checkpoint& cp = opened->checkpoint;
    if (r.old_size() != witnessed_size) return;  // Stale reply to an older request.
    if (cp.tree_size < witnessed_size) {
      WitnessAlarm("broker presented a checkpoint of size " + std::to_string(cp.tree_size) +
                   " after this node cosigned size " + std::to_string(witnessed_size));
      return;
    }
    if (cp.tree_size == witnessed_size && witnessed_size > 0) {
      if (cp.root_hash != witnessed_root) {
        WitnessAlarm("two different roots signed for size " + std::to_string(cp.tree_size));
      }
      return;  // Nothing new to cosign.
    }
    if (witnessed_size > 0) {
      auto proof_bytes = FbBytes(r.proof());
      std::vector<Hash> proof;
      if (proof_bytes.size() % 32 != 0) {
        WitnessAlarm("malformed consistency proof");
        return;
      }
      for (std::size_t i = 0; i < proof_bytes.size(); i += 32) {
        Hash h{};
        std::copy_n(proof_bytes.begin() + static_cast<std::ptrdiff_t>(i), 32, h.begin());
        proof.push_back(h);
      }
      Status st =
          VerifyConsistency(witnessed_size, cp.tree_size, witnessed_root, cp.root_hash, proof);
      if (!st.ok()) {
        WitnessAlarm("checkpoint " + std::to_string(cp.tree_size) +
                     " is not consistent with the cosigned checkpoint " +
                     std::to_string(witnessed_size) + ": " + st.ToString());
        return;
      }
    }
    auto line = Cosign(cp, config.id, keys.signing, static_cast<std::uint64_t>(NowUnix()));
    if (!line.ok()) {
      spdlog::error("event=cosign_failed reason={}", line.status().reason());
      return;
    }
    std::error_code ec;
    std::filesystem::create_directories(WitnessFile().parent_path(), ec);
    const std::string stored = note;
    if (Status st = WriteFileAtomic(
            WitnessFile(), {reinterpret_cast<const std::uint8_t*>(stored.data()), stored.size()},
            0600);
        !st.ok()) {
      spdlog::error("event=witness_store_failed reason={}", st.reason());
      return;
    }
    witnessed_size = cp.tree_size;
    witnessed_root = cp.root_hash;
    std::string text = *line;
    while (!text.empty() && text.back() == '\n') text.pop_back();
    (void)SendToBroker(EncodeCosignature(NewRequestId(), cp.tree_size, text));
    spdlog::info("event=checkpoint_cosigned size={}", cp.tree_size);
  }

  void OnDirectory(const schema::Directory& d) {
    const std::int64_t now = NowUnix();
    auto rl_view = FbBytes(d.revocation_list());
    // Copied out of the frame: the nested buffer is parsed in place and needs alignment.
    const std::vector<std::uint8_t> rl(rl_view.begin(), rl_view.end());
    if (!rl.empty()) {
      auto list = RevocationList::Decode(rl);
      if (!list.ok()) {
        spdlog::warn("event=revocation_list_rejected reason={}", list.status().reason());
      } else if (!trust->revocations() || list->sequence() > trust->revocations()->sequence()) {
        Status s = trust->UpdateRevocations(std::move(list).value());
        if (!s.ok()) {
          spdlog::warn("event=revocation_list_rejected reason={}", s.reason());
        } else {
          spdlog::info("event=revocation_list_updated sequence={}",
                       trust->revocations()->sequence());
          // The operator must know at once if this node or its broker has been revoked.
          for (const Certificate* c : {&*own_cert, &*broker_cert}) {
            Status v = trust->VerifyCertificate(*c, now);
            if (!v.ok()) {
              spdlog::error("event=certificate_no_longer_valid node={} reason={}", c->node_id(),
                            v.reason());
            }
          }
        }
      }
    }
    std::vector<std::vector<std::uint8_t>> blobs;
    if (d.certificates() != nullptr) {
      for (const auto* c : *d.certificates()) {
        if (c == nullptr || blobs.size() >= kMaxDirectoryEntries) continue;
        auto b = FbBytes(c->bytes());
        blobs.emplace_back(b.begin(), b.end());
      }
    }
    std::vector<Status> rejected;
    directory = Directory::Build(blobs, *trust, now, &rejected);
    have_directory = true;
    for (const auto& s : rejected) {
      spdlog::warn("event=directory_certificate_rejected reason={}", s.reason());
    }
    spdlog::info("event=directory_updated nodes={} rejected={}", directory.nodes().size(),
                 rejected.size());
    // Sends waiting for a fresh directory can be sealed now.
    for (auto it = sends.begin(); it != sends.end();) {
      if (it->stage != PendingSend::Stage::kAwaitDirectory) {
        ++it;
        continue;
      }
      Status s = SealAndSubmit(*it);
      if (!s.ok()) {
        Reply(it->client, EncodeErrorResponse(s));
        it = EraseSend(it);
      } else {
        ++it;
      }
    }
    std::deque<StashedDeliver> retry;
    retry.swap(stashed);
    for (auto& sd : retry) HandleDeliver(sd.request_id, std::move(sd.report), true);
  }

  // --- outbox ---------------------------------------------------------------------------------

  // Banner of a sealed report of this node, from its signed portion labels.
  std::string BannerOf(const ReportView& view) {
    std::vector<Label> labels;
    for (const auto& p : view.portions) {
      auto l = ParseMarking(p.label, *policy);
      if (!l.ok()) return "";
      labels.push_back(l->label);
    }
    auto rolled = Rollup(labels, *policy);
    return rolled.ok() ? FormatBanner(*rolled, *policy) : "";
  }

  // Reads the outbox at start-up: reports sealed before a crash or stop are resubmitted, with
  // the same bytes, after the first Welcome.
  void LoadOutbox() {
    auto ids = outbox->List();
    if (!ids.ok()) {
      spdlog::error("event=outbox_unreadable reason={} detail=\"{}\"", ids.status().reason(),
                    ids.status().message());
      return;
    }
    const std::int64_t now = NowUnix();
    for (const auto& id : *ids) {
      auto bytes = outbox->Get(id);
      if (!bytes.ok()) {
        spdlog::error("event=outbox_entry_unreadable report={} reason={}", id,
                      bytes.status().reason());
        continue;
      }
      auto view = InspectReport(*bytes, keys.signing.public_key);
      if (!view.ok() || ReportIdHex(view->report_id) != id) {
        spdlog::error("event=outbox_entry_invalid report={} reason={}", id,
                      view.ok() ? "OUTBOX_ID_MISMATCH" : view.status().reason());
        continue;
      }
      if (view->expires_unix <= now) {
        DropExpired(id, view->expires_unix);
        continue;
      }
      OutboxItem item;
      item.banner = BannerOf(*view);
      item.expires_unix = view->expires_unix;
      item.submitted_unix = view->created_unix;
      outbox_items[id] = std::move(item);
    }
    if (!outbox_items.empty()) {
      spdlog::info("event=outbox_loaded reports={}", outbox_items.size());
    }
  }

  void DropExpired(const std::string& id, std::int64_t expires_unix) {
    spdlog::warn(
        "event=outbox_report_expired report={} expired_unix={} detail=\"dropped unsent: "
        "the report expired before the broker confirmed it\"",
        id, expires_unix);
    if (Status s = outbox->Remove(id); !s.ok()) {
      spdlog::error("event=outbox_remove_failed report={} reason={}", id, s.reason());
    }
    outbox_items.erase(id);
  }

  // Submits one outbox report (the exact stored bytes). False when it could not be handed over.
  bool SubmitFromOutbox(const std::string& id, OutboxItem& item, Clock::time_point now) {
    item.due = false;
    item.last_submit = now;
    auto bytes = outbox->Get(id);
    if (!bytes.ok()) {
      spdlog::error("event=outbox_entry_unreadable report={} reason={}", id,
                    bytes.status().reason());
      return false;
    }
    const std::uint64_t rid = NewRequestId();
    if (!SendToBroker(EncodeSubmit(rid, *bytes))) {
      item.due = true;
      return false;
    }
    submit_rids[rid] = id;
    spdlog::info("event=report_submit_sent report={} request={}", id, rid);
    return true;
  }

  // Resubmits due outbox reports, and those without an answer for a while.
  void ResubmitOutbox(Clock::time_point now) {
    if (!welcomed || outbox_items.empty()) return;
    const std::int64_t now_unix = NowUnix();
    std::size_t done = 0;
    for (auto it = outbox_items.begin(); it != outbox_items.end() && done < kMaxResubmitsPerTick;) {
      auto& [id, item] = *it;
      if (item.expires_unix <= now_unix) {
        const std::string gone = id;
        const std::int64_t expired = item.expires_unix;
        ++it;
        FinishPendingSend(gone, std::nullopt,
                          Status(Code::kExpired, "REPORT_EXPIRED",
                                 "report " + gone +
                                     " expired before the broker confirmed it; it was dropped "
                                     "from the outbox and NOT delivered"));
        DropExpired(gone, expired);
        continue;
      }
      const auto interval =
          heartbeat * kResubmitEveryHeartbeats * (1 << std::min(item.deferrals, 6));
      if (item.due || now - item.last_submit >= interval) {
        if (!SubmitFromOutbox(id, item, now)) break;  // No connection: retry later.
        ++done;
      }
      ++it;
    }
  }

  // Answers the CLI waiting for report `id` (if any) with the final result or error.
  void FinishPendingSend(const std::string& id, std::optional<SendResult> result,
                         const Status& error) {
    for (auto it = sends.begin(); it != sends.end(); ++it) {
      if (it->stage != PendingSend::Stage::kAwaitReply || it->report_id_hex != id) continue;
      Reply(it->client, result ? EncodeSendResponse(*result) : EncodeErrorResponse(error));
      EraseSend(it);
      return;
    }
  }

  // A final or transient answer (SubmitReply, or an Error frame with `error_reason`) for the
  // outbox report `id`.
  void OnSubmitAnswer(const std::string& id, SubmitReplyInfo info) {
    auto item = outbox_items.find(id);
    if (item == outbox_items.end()) {
      // Already final (an earlier submit of the same bytes was answered first).
      spdlog::debug("event=submit_reply_for_settled_report report={}", id);
      return;
    }
    if (!info.accepted && IsTransientSubmitFailure(info.error_reason)) {
      spdlog::warn(
          "event=submit_deferred report={} reason={} detail=\"kept in the outbox; will "
          "resubmit with the same id\"",
          id, info.error_reason);
      item->second.last_submit = Clock::now();
      ++item->second.deferrals;
      // The analyst learns at once why, instead of waiting for the timeout.
      for (auto it = sends.begin(); it != sends.end(); ++it) {
        if (it->stage != PendingSend::Stage::kAwaitReply || it->report_id_hex != id) continue;
        Reply(it->client, EncodeSendResponse(PendingResult(*it, "the broker cannot take it now (" +
                                                                    info.error_reason + ": " +
                                                                    info.error_message + ")")));
        EraseSend(it);
        break;
      }
      return;
    }
    SentRecord rec;
    rec.report_id_hex = id;
    rec.banner = item->second.banner;
    rec.accepted = info.accepted;
    rec.duplicate = info.duplicate;
    rec.error_reason = info.accepted ? "" : info.error_reason;
    rec.error_message = info.accepted ? "" : info.error_message;
    rec.submitted_unix = item->second.submitted_unix;
    rec.replied_unix = NowUnix();
    rec.outcomes = info.outcomes;
    // The record first, then the outbox copy: a crash in between costs one more (duplicate)
    // submission, never a lost answer.
    if (Status st = sent->Put(rec); !st.ok()) {
      spdlog::error("event=sent_record_store_failed report={} reason={} detail=\"{}\"", id,
                    st.reason(), st.message());
    } else if (Status rm = outbox->Remove(id); !rm.ok()) {
      spdlog::error("event=outbox_remove_failed report={} reason={}", id, rm.reason());
    }
    outbox_items.erase(item);
    if (!info.accepted) {
      const std::string reason = info.error_reason.empty() ? "BROKER_REJECTED" : info.error_reason;
      spdlog::warn("event=submit_rejected report={} reason={}", id, reason);
      FinishPendingSend(id, std::nullopt,
                        Status(Code::kPermissionDenied, reason,
                               "the broker rejected report " + id + ": " + info.error_message +
                                   "; nothing was delivered"));
      return;
    }
    SendResult r;
    r.report_id_hex = id;
    r.banner = rec.banner;
    r.duplicate = info.duplicate;
    r.outcomes = std::move(info.outcomes);
    std::size_t delivered = 0;
    for (const auto& o : r.outcomes) {
      if (o.state != schema::DeliveryState::Denied) ++delivered;
    }
    spdlog::info(
        "event=submit_accepted report={} recipients={} delivered_or_queued={} duplicate={}", id,
        r.outcomes.size(), delivered, r.duplicate);
    FinishPendingSend(id, std::move(r), Status::Ok());
  }

  void OnSubmitReply(std::uint64_t rid, const schema::SubmitReply& reply) {
    SubmitReplyInfo info = ToSubmitReplyInfo(reply);
    std::string id;
    if (auto it = submit_rids.find(rid); it != submit_rids.end()) {
      id = it->second;
      submit_rids.erase(it);
    } else if (info.report_id.size() == kReportIdBytes) {
      ReportId rep{};
      std::copy(info.report_id.begin(), info.report_id.end(), rep.begin());
      id = ReportIdHex(rep);
    }
    if (id.empty()) {
      spdlog::warn("event=submit_reply_unmatched request={}", rid);
      return;
    }
    OnSubmitAnswer(id, std::move(info));
  }

  Status SealAndSubmit(PendingSend& p) {
    const auto& me = own_cert->fields();
    SealInput in;
    in.originator = config.id;
    in.originator_nation = me.nation;
    in.created_unix = NowUnix();
    in.expires_unix = in.created_unix + kReportLifetimeSeconds;
    in.intended_nations = p.request.to;
    std::vector<Recipient> decide_for;
    for (const auto& nation : p.request.to) {
      for (const Certificate* c : directory.NodesOfNation(nation)) {
        if (c->node_id() == config.id) continue;
        SealRecipient r;
        r.node_id = c->node_id();
        r.nation = c->fields().nation;
        auto lvl = policy->FindLevel(c->fields().clearance);
        if (!lvl) continue;  // Trust store checked it; be safe anyway.
        r.clearance = *lvl;
        r.enc_public_key = c->fields().encryption_key;
        in.recipients.push_back(r);
        decide_for.push_back(Recipient{r.nation, r.clearance, me.nation});
      }
    }
    for (std::size_t i = 0; i < p.request.portions.size(); ++i) {
      auto& src = p.request.portions[i];
      auto marking = ParseMarking(src.marking, *policy);
      if (!marking.ok()) return marking.status().WithContext("portion " + std::to_string(i + 1));
      SealPortion sp;
      sp.marking = src.marking;
      sp.plaintext = src.content;
      std::vector<std::string> to;
      for (std::size_t r = 0; r < in.recipients.size(); ++r) {
        auto d = DecideRelease(marking->label, decide_for[r], *policy);
        if (!d.ok()) return d.status().WithContext("portion " + std::to_string(i + 1));
        if (d->release) to.push_back(in.recipients[r].node_id);
      }
      sp.recipients = std::move(to);
      in.portions.push_back(std::move(sp));
    }
    auto sealed = Seal(in, keys.signing.secret_key, *policy);
    for (auto& sp : in.portions) Wipe(sp.plaintext);
    for (auto& src : p.request.portions) Wipe(src.content);
    if (!sealed.ok()) return sealed.status().WithContext("sealing failed (indices from 0)");
    p.report_id_hex = ReportIdHex(sealed->report_id);
    p.banner = sealed->banner;
    // Durable before the first Submit: from here on the report is resubmitted, with these exact
    // bytes, until the broker's answer is final, also across a crash of this daemon.
    if (Status st = outbox->Put(p.report_id_hex, sealed->bytes); !st.ok()) {
      return Status(Code::kUnavailable, st.reason(),
                    "cannot keep the sealed report in the outbox (" + st.message() +
                        "); the report was NOT sent");
    }
    OutboxItem& item = outbox_items[p.report_id_hex];
    item.banner = p.banner;
    item.expires_unix = in.expires_unix;
    item.submitted_unix = in.created_unix;
    p.stage = PendingSend::Stage::kAwaitReply;
    spdlog::info("event=report_sealed report={} portions={} recipients={} bytes={}",
                 p.report_id_hex, in.portions.size(), in.recipients.size(), sealed->bytes.size());
    if (welcomed && SubmitFromOutbox(p.report_id_hex, item, Clock::now())) {
      spdlog::info("event=report_submitted report={}", p.report_id_hex);
    } else {
      spdlog::warn(
          "event=report_kept_in_outbox report={} detail=\"no broker session; will "
          "submit after the next Welcome\"",
          p.report_id_hex);
    }
    return Status::Ok();
  }

  void SendBrokerError(std::uint64_t rid, const Status& s) {
    (void)SendToBroker(EncodeError(rid, s));
  }

  void HandleDeliver(std::uint64_t rid, std::vector<std::uint8_t> report, bool after_refresh) {
    auto origin = PeekOriginator(report);
    if (!origin.ok()) {
      spdlog::warn("event=deliver_rejected request={} reason={}", rid, origin.status().reason());
      SendBrokerError(rid, origin.status());
      return;
    }
    const Certificate* oc = directory.FindNode(*origin);
    if (oc == nullptr) {
      if (!after_refresh && stashed.size() < kMaxStashedDelivers) {
        // The originator may be newer than our directory: refresh and retry once.
        stashed.push_back({rid, std::move(report)});
        (void)RequestDirectory(Clock::now());
        return;
      }
      Status s = Unauthenticated(
          "ORIGINATOR_UNKNOWN",
          "originator '" + *origin + "' has no verified certificate in this node's directory");
      spdlog::warn("event=deliver_rejected request={} originator={} reason={}", rid, *origin,
                   s.reason());
      SendBrokerError(rid, s);
      return;
    }
    Status s = OpenVerifyStore(report, *oc, rid);
    if (!s.ok()) {
      spdlog::warn("event=deliver_rejected request={} originator={} reason={} detail=\"{}\"", rid,
                   *origin, s.reason(), s.message());
      SendBrokerError(rid, s);
    }
  }

  Status SendAck(std::uint64_t rid, const ReportId& report_id) {
    auto sig = SignWithDomain(keys.signing, kAckDomain, AckMessage(report_id, config.id));
    if (!sig.ok()) return sig.status();
    if (!SendToBroker(EncodeAck(rid, report_id, *sig))) {
      // Stored but not acknowledged: the broker re-sends after the next Welcome and the
      // duplicate is acknowledged then.
      spdlog::warn("event=ack_not_sent report={}", ReportIdHex(report_id));
    }
    return Status::Ok();
  }

  Status OpenVerifyStore(const std::vector<std::uint8_t>& report, const Certificate& oc,
                         std::uint64_t rid) {
    const auto& me = own_cert->fields();
    // Exactly once: a copy the broker sends again (it had not seen the Ack before a restart or
    // a lost connection) is acknowledged again without being stored twice. The originator's
    // signature is checked first, so only a genuine report id is acknowledged; the stored copy
    // was fully verified on receipt, so an expiry since then does not block the Ack.
    if (auto view = InspectReport(report, oc.fields().signing_key); view.ok()) {
      const std::string hex = ReportIdHex(view->report_id);
      if (inbox->Contains(hex)) {
        TEARLINE_RETURN_IF_ERROR(SendAck(rid, view->report_id));
        spdlog::info("event=report_received report={} originator={} stored=duplicate", hex,
                     view->originator);
        return Status::Ok();
      }
    }
    RecipientIdentity id{config.id, me.nation, clearance, me.encryption_key,
                         keys.encryption.secret_key};
    const std::int64_t now = NowUnix();
    TEARLINE_ASSIGN_OR_RETURN(OpenedReport opened,
                              Open(report, id, oc.fields().signing_key, *policy, now));
    if (opened.originator != oc.node_id() || opened.originator_nation != oc.fields().nation) {
      return Unauthenticated("ORIGINATOR_NATION_MISMATCH",
                             "report claims nation " + opened.originator_nation +
                                 " but the originator's certificate says " + oc.fields().nation);
    }
    // Defence in depth: decide again here, with this node's own policy, nation and clearance,
    // independently of what Open, the broker and the originator decided.
    InboxEntry e;
    for (const auto& p : opened.portions) {
      auto label = ParseLabel(p.label, *policy);
      if (!label.ok()) {
        return InvalidArgument("NODE_LABEL_INVALID",
                               "portion index " + std::to_string(p.index) +
                                   " label does not parse: " + label.status().reason());
      }
      auto d =
          DecideRelease(*label, Recipient{me.nation, clearance, opened.originator_nation}, *policy);
      if (!d.ok()) return d.status();
      if (!d->release) {
        return PermissionDenied(
            "NODE_LABEL_NOT_RELEASABLE",
            "portion index " + std::to_string(p.index) + " (" + p.label +
                ") is not releasable to this node: " + std::string(DenyReasonName(d->reason)));
      }
      e.portions.push_back({p.index, p.label});
    }
    e.report_id_hex = ReportIdHex(opened.report_id);
    e.banner = opened.banner;
    e.originator = opened.originator;
    e.originator_nation = opened.originator_nation;
    e.created_unix = opened.created_unix;
    e.expires_unix = opened.expires_unix;
    e.received_unix = now;
    e.portion_count = opened.portion_count;
    e.originator_signing_key_hex = ToHex(oc.fields().signing_key);
    e.originator_cert_fingerprint_hex = oc.FingerprintHex();
    // Durable (files and directory fsync'd) before the Ack leaves: an acknowledged report is
    // never lost, and a crash before the Ack only causes a re-delivery, acknowledged above.
    TEARLINE_ASSIGN_OR_RETURN(bool stored, inbox->Store(e, report));
    TEARLINE_RETURN_IF_ERROR(SendAck(rid, opened.report_id));
    spdlog::info("event=report_received report={} originator={} portions={}/{} banner=\"{}\" {}",
                 e.report_id_hex, e.originator, e.portions.size(), e.portion_count, e.banner,
                 stored ? "stored=new" : "stored=duplicate");
    return Status::Ok();
  }

  // --- control side ---------------------------------------------------------------------------

  void Reply(const std::string& client, std::string payload) {
    try {
      zmq::message_t id(client.data(), client.size());
      control->send(id, zmq::send_flags::sndmore);
      control->send(zmq::buffer(payload), zmq::send_flags::none);
    } catch (const zmq::error_t& e) {
      spdlog::warn("event=control_reply_failed error=\"{}\"", e.what());
    }
    Wipe(payload);  // May hold report content (read).
  }

  void OnControlMessage(std::vector<zmq::message_t>& parts) {
    if (parts.size() != 2) {
      spdlog::warn("event=control_message_rejected parts={}", parts.size());
      return;
    }
    const std::string client = parts[0].to_string();
    auto req = DecodeControlRequest(parts[1].to_string_view());
    if (parts[1].size() > 0) sodium_memzero(parts[1].data(), parts[1].size());
    if (!req.ok()) {
      Reply(client, EncodeErrorResponse(req.status()));
      return;
    }
    switch (req->op) {
      case ControlOp::kStatus:
        Reply(client, EncodeStatusResponse(MakeStatus()));
        return;
      case ControlOp::kInbox: {
        std::size_t skipped = 0;
        auto list = inbox->List(&skipped);
        if (skipped > 0) spdlog::warn("event=inbox_entries_unreadable count={}", skipped);
        Reply(client, list.ok() ? EncodeInboxResponse(*list) : EncodeErrorResponse(list.status()));
        return;
      }
      case ControlOp::kRead: {
        auto r = ReadReport(req->id);
        if (!r.ok()) {
          Reply(client, EncodeErrorResponse(r.status()));
          return;
        }
        std::string payload = EncodeReadResponse(*r);
        for (auto& p : r->portions) Wipe(p.content);
        spdlog::info("event=report_read report={} portions={}", r->entry.report_id_hex,
                     r->portions.size());
        Reply(client, std::move(payload));
        return;
      }
      case ControlOp::kSend:
        StartSend(client, std::move(req).value());
        return;
      case ControlOp::kTrack:
        StartTrack(client, *req);
        return;
      case ControlOp::kProve:
        StartProve(client, *req);
        return;
    }
  }

  Result<ReadResult> ReadReport(const std::string& id) {
    TEARLINE_ASSIGN_OR_RETURN(InboxEntry e, inbox->Find(id));
    TEARLINE_ASSIGN_OR_RETURN(auto bytes, inbox->ReadReport(e.report_id_hex));
    auto key = KeyFromHex(e.originator_signing_key_hex);
    if (!key) return InvalidArgument("INBOX_CORRUPT", "stored originator key is not valid hex");
    const auto& me = own_cert->fields();
    RecipientIdentity rid{config.id, me.nation, clearance, me.encryption_key,
                          keys.encryption.secret_key};
    // Verified on receipt; re-opened with the receipt time so an expired report stays readable.
    TEARLINE_ASSIGN_OR_RETURN(OpenedReport opened,
                              Open(bytes, rid, *key, *policy, e.received_unix));
    if (ReportIdHex(opened.report_id) != e.report_id_hex) {
      return InvalidArgument("INBOX_CORRUPT", "stored report does not match its metadata");
    }
    ReadResult r;
    r.entry = std::move(e);
    for (auto& p : opened.portions) {
      ReadPortion rp;
      rp.index = p.index;
      rp.label = p.label;
      rp.content.assign(p.plaintext.data(), p.plaintext.data() + p.plaintext.size());
      r.portions.push_back(std::move(rp));
    }
    return r;
  }

  void StartSend(const std::string& client, ControlRequest req) {
    auto refuse = [&](const Status& s) {
      for (auto& p : req.portions) Wipe(p.content);
      Reply(client, EncodeErrorResponse(s));
    };
    // The CLI checked all of this already; the daemon does not rely on it.
    for (auto& n : req.to) {
      for (char& c : n) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      if (!policy->IsNation(n)) {
        return refuse(InvalidArgument("SEND_UNKNOWN_NATION",
                                      "recipient '" + n + "' is not a nation of the policy"));
      }
    }
    if (req.portions.size() > kMaxPortions) {
      return refuse(InvalidArgument("SEND_TOO_MANY_PORTIONS",
                                    "at most " + std::to_string(kMaxPortions) + " portions"));
    }
    for (std::size_t i = 0; i < req.portions.size(); ++i) {
      auto m = ParseMarking(req.portions[i].marking, *policy);
      if (!m.ok()) {
        return refuse(InvalidArgument("SEND_PORTION_UNMARKED",
                                      "portion " + std::to_string(i + 1) +
                                          " has no valid marking: " + m.status().ToString() +
                                          "; nothing was sent; mark it, e.g. (S//REL TO " +
                                          own_cert->fields().nation + ", ...)"));
      }
      if (req.portions[i].content.empty()) {
        return refuse(InvalidArgument("SEND_PORTION_EMPTY",
                                      "portion " + std::to_string(i + 1) + " is empty"));
      }
    }
    if (!welcomed && !have_directory) {
      return refuse(BrokerUnavailable(config.broker_endpoint,
                                      ever_welcomed ? "session lost" : "never connected"));
    }
    if (sends.size() >= kMaxPendingSends) {
      return refuse(Status(Code::kResourceExhausted, "NODE_BUSY",
                           "too many sends in progress; the report was NOT sent, retry shortly"));
    }
    PendingSend p;
    p.client = client;
    p.deadline = Clock::now() + milliseconds(req.timeout_ms);
    p.request = std::move(req);
    if (!welcomed) {
      // No broker session, but certificates verified during an earlier one: seal for them now
      // (each is verified again at this moment) and keep the report in the outbox; it is
      // submitted after the next Welcome.
      Status s = RecheckDirectory();
      if (s.ok()) s = SealAndSubmit(p);
      if (!s.ok()) {
        for (auto& portion : p.request.portions) Wipe(portion.content);
        Reply(client, EncodeErrorResponse(s));
        return;
      }
      sends.push_back(std::move(p));
      return;
    }
    if (!RequestDirectory(Clock::now())) {
      for (auto& portion : p.request.portions) Wipe(portion.content);
      Reply(client,
            EncodeErrorResponse(BrokerUnavailable(config.broker_endpoint, "no connection")));
      return;
    }
    sends.push_back(std::move(p));
  }

  Status RecheckDirectory() {
    std::vector<Status> rejected;
    directory = Directory::Build(directory.EncodedCertificates(), *trust, NowUnix(), &rejected);
    for (const auto& st : rejected) {
      spdlog::warn("event=directory_certificate_rejected reason={}", st.reason());
    }
    return Status::Ok();
  }

  // --- track and prove ------------------------------------------------------------------------

  // A full report id from an id or unique prefix, among the reports this node sent (outbox and
  // sent records) and, when `include_inbox`, received.
  Result<std::string> ResolveReportId(const std::string& raw, bool include_inbox) {
    std::string id = raw;
    for (char& c : id) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (id.size() < 4 || id.size() > 32 ||
        id.find_first_not_of("0123456789abcdef") != std::string::npos) {
      return InvalidArgument("REPORT_BAD_ID",
                             "a report id is 32 hex characters (a unique prefix of at least 4 "
                             "characters is accepted)");
    }
    std::set<std::string> candidates;
    auto consider = [&](const std::vector<std::string>& ids) {
      for (const auto& c : ids) {
        if (c.rfind(id, 0) == 0) candidates.insert(c);
      }
    };
    if (auto l = sent->List(); l.ok()) consider(*l);
    for (const auto& [c, item] : outbox_items) consider({c});
    if (include_inbox) {
      if (auto l = inbox->List(); l.ok()) {
        std::vector<std::string> ids;
        for (const auto& e : *l) ids.push_back(e.report_id_hex);
        consider(ids);
      }
    }
    if (candidates.size() > 1) {
      return InvalidArgument("REPORT_AMBIGUOUS_ID",
                             "report id prefix " + id + " matches more than one report");
    }
    if (candidates.empty()) {
      if (id.size() == 32) return id;  // Unknown locally; the broker may still know it.
      return NotFound("REPORT_NOT_FOUND", "no report " + id + "... was sent or received here");
    }
    return *candidates.begin();
  }

  static std::vector<std::uint8_t> IdBytes(const std::string& hex) {
    std::vector<std::uint8_t> out(kReportIdBytes);
    std::size_t len = 0;
    if (sodium_hex2bin(out.data(), out.size(), hex.data(), hex.size(), nullptr, &len, nullptr) !=
            0 ||
        len != out.size()) {
      return {};
    }
    return out;
  }

  bool QueryCapacity(const std::string& client) {
    if (queries.size() < kMaxPendingQueries) return true;
    Reply(client, EncodeErrorResponse(Status(Code::kResourceExhausted, "NODE_BUSY",
                                             "too many track/prove requests in progress; retry "
                                             "shortly")));
    return false;
  }

  void StartTrack(const std::string& client, const ControlRequest& req) {
    auto id = ResolveReportId(req.id, /*include_inbox=*/false);
    if (!id.ok()) return Reply(client, EncodeErrorResponse(id.status()));
    if (!welcomed) {
      return Reply(client,
                   EncodeErrorResponse(Status(Code::kUnavailable, "BROKER_UNAVAILABLE",
                                              "the broker at " + config.broker_endpoint +
                                                  " is not reachable; only it knows what became "
                                                  "of report " +
                                                  *id + ". Retry when connected")));
    }
    if (!QueryCapacity(client)) return;
    PendingQuery q;
    q.op = ControlOp::kTrack;
    q.client = client;
    q.deadline = Clock::now() + kQueryDeadline;
    q.report_id_hex = *id;
    q.track_rid = NewRequestId();
    if (!SendToBroker(EncodeTrackRequest(q.track_rid, IdBytes(*id)))) {
      return Reply(client,
                   EncodeErrorResponse(BrokerUnavailable(config.broker_endpoint, "no connection")));
    }
    queries.push_back(std::move(q));
  }

  static std::string OutcomeDescription(const RecipientOutcomeInfo& o) {
    const std::string who = o.node_id.empty() ? o.nation : o.node_id;
    switch (o.state) {
      case schema::DeliveryState::Delivered:
        return "delivered to " + who;
      case schema::DeliveryState::Queued:
        return "queued for " + who;
      default:
        return "denied to " + who;
    }
  }

  void StartProve(const std::string& client, const ControlRequest& req) {
    auto id = ResolveReportId(req.id, /*include_inbox=*/true);
    if (!id.ok()) return Reply(client, EncodeErrorResponse(id.status()));
    PendingQuery q;
    q.op = ControlOp::kProve;
    q.client = client;
    q.deadline = Clock::now() + kQueryDeadline;
    q.report_id_hex = *id;
    q.result.report_id_hex = *id;
    std::set<std::uint64_t> seen;
    if (req.seq) {
      ProofItem item;
      item.seq = *req.seq;
      item.description = "record " + std::to_string(*req.seq);
      q.result.items.push_back(item);
    } else if (auto rec = sent->Get(*id); rec.ok()) {
      for (const auto& o : rec->outcomes) {
        if (o.record_seq == 0 || !seen.insert(o.record_seq).second) continue;
        if (q.result.items.size() >= kMaxProofsPerQuery) break;
        ProofItem item;
        item.seq = o.record_seq;
        item.description = OutcomeDescription(o);
        q.result.items.push_back(item);
      }
      if (q.result.items.empty()) {
        q.result.note = rec->accepted ? "the broker's answer for report " + *id +
                                            " named no audit record; nothing to prove"
                                      : "the broker rejected report " + *id + " (" +
                                            rec->error_reason + "); no audit record to prove";
      }
    } else if (outbox_items.count(*id) != 0) {
      q.result.note = "report " + *id +
                      " is still in the outbox (no final answer from the broker yet), so no "
                      "audit record number is known";
    } else if (inbox->Contains(*id)) {
      q.result.note = "report " + *id +
                      " was received by this node; the broker does not tell recipients which "
                      "audit records concern it, so no record number is known (give one with "
                      "--seq N)";
    } else {
      q.result.note = "report " + *id + " is not known to this node";
    }
    if (q.result.items.empty()) return Reply(client, EncodeProveResponse(q.result));
    if (!welcomed) {
      return Reply(client,
                   EncodeErrorResponse(Status(Code::kUnavailable, "BROKER_UNAVAILABLE",
                                              "the broker at " + config.broker_endpoint +
                                                  " is not reachable; it serves the proofs. "
                                                  "Retry when connected")));
    }
    if (!QueryCapacity(client)) return;
    for (std::size_t i = 0; i < q.result.items.size(); ++i) {
      const std::uint64_t rid = NewRequestId();
      if (!SendToBroker(EncodeProofRequest(rid, q.result.items[i].seq))) {
        return Reply(client, EncodeErrorResponse(
                                 BrokerUnavailable(config.broker_endpoint, "no connection")));
      }
      q.proof_rids[rid] = i;
    }
    queries.push_back(std::move(q));
  }

  std::list<PendingQuery>::iterator FindQuery(std::uint64_t rid) {
    return std::find_if(queries.begin(), queries.end(), [&](const PendingQuery& q) {
      return (q.op == ControlOp::kTrack && q.track_rid == rid) || q.proof_rids.count(rid) != 0;
    });
  }

  void OnTrackReply(std::uint64_t rid, const schema::TrackReply& reply) {
    auto q = FindQuery(rid);
    if (q == queries.end() || q->op != ControlOp::kTrack) {
      spdlog::warn("event=track_reply_unmatched request={}", rid);
      return;
    }
    TrackReplyInfo info = ToTrackReplyInfo(reply);
    TrackResult r;
    r.report_id_hex = q->report_id_hex;
    r.recipients = std::move(info.recipients);
    Reply(q->client, EncodeTrackResponse(r));
    queries.erase(q);
  }

  void MaybeFinishProve(std::list<PendingQuery>::iterator q) {
    if (!q->proof_rids.empty()) return;
    std::size_t ok = 0;
    for (const auto& i : q->result.items) ok += i.verified ? 1 : 0;
    spdlog::info("event=proofs_checked report={} verified={} failed={}", q->report_id_hex, ok,
                 q->result.items.size() - ok);
    Reply(q->client, EncodeProveResponse(q->result));
    queries.erase(q);
  }

  void OnProofReply(std::uint64_t rid, const schema::ProofReply& reply) {
    auto q = FindQuery(rid);
    if (q == queries.end() || q->op != ControlOp::kProve) {
      spdlog::warn("event=proof_reply_unmatched request={}", rid);
      return;
    }
    ProofItem& item = q->result.items[q->proof_rids[rid]];
    q->proof_rids.erase(rid);
    RecordProof p;
    p.note = FbString(reply.note());
    p.seq = reply.seq();
    p.record = FbString(reply.record());
    auto pb = FbBytes(reply.proof());
    p.proof.assign(pb.begin(), pb.end());
    // The record must name the report asked about, also for an explicit --seq.
    auto v = VerifyRecordProof(p, item.seq, q->report_id_hex, broker_cert->node_id(),
                               broker_cert->fields().signing_key);
    if (!v.ok()) {
      item.verified = false;
      item.reason = v.status().reason();
      item.message = v.status().message();
      spdlog::error("event=proof_failed report={} seq={} reason={} detail=\"{}\"", q->report_id_hex,
                    item.seq, item.reason, item.message);
      MaybeFinishProve(q);
      return;
    }
    item.description = v->description;
    item.checkpoint_size = v->checkpoint_size;
    item.signer = broker_cert->node_id();
    // The witness state: the proof's checkpoint must not contradict the one this node cosigned.
    if (witnessed_size == 0) {
      item.verified = true;
      item.message = "this node has not witnessed a checkpoint yet";
    } else if (v->checkpoint_size == witnessed_size) {
      item.verified = v->checkpoint_root == witnessed_root;
      if (item.verified) {
        item.message = "it is the checkpoint this node witnessed";
      } else {
        item.reason = "PROOF_CHECKPOINT_FORK";
        item.message =
            "the broker signed two different roots for size " + std::to_string(witnessed_size);
        WitnessAlarm(item.message);
      }
    } else if (v->checkpoint_size > witnessed_size) {
      item.verified = true;
      item.message = "newer than the checkpoint this node witnessed (size " +
                     std::to_string(witnessed_size) +
                     "); the next witness round proves the two consistent";
    } else {
      item.verified = true;
      item.message = "older than the checkpoint this node witnessed (size " +
                     std::to_string(witnessed_size) + "); consistency with it not re-checked";
    }
    MaybeFinishProve(q);
  }

  // An Error frame from the broker that may answer a track or proof request.
  void OnQueryError(std::uint64_t rid, const std::string& reason, const std::string& message) {
    auto q = FindQuery(rid);
    if (q == queries.end()) return;
    if (q->op == ControlOp::kTrack) {
      const Code code = reason == "TRACK_UNKNOWN_REPORT" ? Code::kNotFound
                        : reason == "TRACK_FORBIDDEN"    ? Code::kPermissionDenied
                                                         : Code::kUnavailable;
      Reply(q->client, EncodeErrorResponse(Status(code, reason, "the broker says: " + message)));
      queries.erase(q);
      return;
    }
    ProofItem& item = q->result.items[q->proof_rids[rid]];
    q->proof_rids.erase(rid);
    item.verified = false;
    item.reason = reason;
    item.message = "the broker refused the proof: " + message;
    MaybeFinishProve(q);
  }

  void QueryTimeouts(Clock::time_point now) {
    for (auto it = queries.begin(); it != queries.end();) {
      if (now < it->deadline) {
        ++it;
        continue;
      }
      auto next = std::next(it);
      if (it->op == ControlOp::kTrack) {
        Reply(it->client, EncodeErrorResponse(Status(Code::kUnavailable, "BROKER_NO_REPLY",
                                                     "the broker did not answer the track "
                                                     "request in time")));
        queries.erase(it);
      } else {
        for (auto& [rid, index] : it->proof_rids) {
          auto& item = it->result.items[index];
          item.verified = false;
          item.reason = "BROKER_NO_REPLY";
          item.message = "the broker did not answer the proof request in time";
        }
        it->proof_rids.clear();
        MaybeFinishProve(it);
      }
      it = next;
    }
  }

  StatusResult MakeStatus() {
    StatusResult s;
    const auto& f = own_cert->fields();
    s.node_id = config.id;
    s.nation = f.nation;
    s.clearance = f.clearance;
    s.broker_endpoint = config.broker_endpoint;
    s.broker_id = broker_id;
    s.connected = welcomed;
    s.transport = transport_failure.empty() ? transport : transport_failure;
    const auto now = Clock::now();
    s.last_broker_frame_ms_ago =
        last_rx ? std::chrono::duration_cast<milliseconds>(now - *last_rx).count() : -1;
    s.reconnects = reconnects;
    s.directory_nodes = directory.nodes().size();
    std::error_code ec;
    std::uint64_t count = 0;
    for (const auto& de : std::filesystem::directory_iterator(inbox->dir(), ec)) {
      if (de.path().extension() == ".json") ++count;
    }
    s.inbox_reports = count;
    s.pending_sends = sends.size();
    s.outbox_reports = outbox_items.size();
    s.uptime_s = std::chrono::duration_cast<std::chrono::seconds>(now - started).count();
    return s;
  }

  // --- loop -----------------------------------------------------------------------------------

  Status Loop(const std::atomic<bool>& stop) {
    spdlog::info("event=node_started node={} nation={} clearance={} broker={} control={}",
                 config.id, own_cert->fields().nation, own_cert->fields().clearance,
                 config.broker_endpoint, config.ControlEndpoint());
    last_hello = Clock::now() - heartbeat;  // Greet at once.
    while (!stop.load()) {
      Timers(Clock::now());
      zmq::pollitem_t items[] = {{broker->handle(), 0, ZMQ_POLLIN, 0},
                                 {control->handle(), 0, ZMQ_POLLIN, 0},
                                 {monitor->handle(), 0, ZMQ_POLLIN, 0}};
      try {
        zmq::poll(items, 3, kMaxPollInterval);
      } catch (const zmq::error_t& e) {
        if (e.num() == EINTR) continue;  // A signal: re-check the stop flag.
        return Internal("NODE_POLL_FAILED", std::string("zmq poll failed: ") + e.what());
      }
      if ((items[0].revents & ZMQ_POLLIN) != 0) {
        for (std::size_t i = 0; i < kMaxMessagesPerWakeup; ++i) {
          zmq::message_t msg;
          try {
            if (!broker->recv(msg, zmq::recv_flags::dontwait)) break;
          } catch (const zmq::error_t& e) {
            spdlog::warn("event=broker_recv_failed error=\"{}\"", e.what());
            break;
          }
          try {
            OnBrokerMessage(msg);
          } catch (const zmq::error_t&) {
            throw;
          } catch (const std::exception& e) {
            // One bad frame must not take the node down; nothing is acknowledged for it.
            spdlog::error("event=broker_frame_internal_error error=\"{}\"", e.what());
          }
        }
      }
      if ((items[2].revents & ZMQ_POLLIN) != 0) {
        for (std::size_t i = 0; i < kMaxMessagesPerWakeup; ++i) {
          zmq::pollitem_t more{monitor->handle(), 0, ZMQ_POLLIN, 0};
          zmq::poll(&more, 1, milliseconds(0));
          if ((more.revents & ZMQ_POLLIN) == 0) break;
          OnMonitorEvent();
        }
      }
      if ((items[1].revents & ZMQ_POLLIN) != 0) {
        for (std::size_t i = 0; i < kMaxMessagesPerWakeup; ++i) {
          std::vector<zmq::message_t> parts;
          try {
            if (!zmq::recv_multipart(*control, std::back_inserter(parts),
                                     zmq::recv_flags::dontwait)) {
              break;
            }
          } catch (const zmq::error_t& e) {
            spdlog::warn("event=control_recv_failed error=\"{}\"", e.what());
            break;
          }
          try {
            OnControlMessage(parts);
          } catch (const zmq::error_t&) {
            throw;
          } catch (const std::exception& e) {
            spdlog::error("event=control_internal_error error=\"{}\"", e.what());
            if (parts.size() == 2) {
              Reply(parts[0].to_string(),
                    EncodeErrorResponse(
                        Internal("INTERNAL",
                                 "the node daemon failed to handle the "
                                 "request; check `tearline-node status` before retrying")));
            }
          }
        }
      }
    }
    spdlog::info("event=node_stopping pending_sends={}", sends.size());
    for (auto it = sends.begin(); it != sends.end();) {
      if (it->stage == PendingSend::Stage::kAwaitReply) {
        Reply(it->client,
              EncodeSendResponse(PendingResult(
                  *it, "the node daemon stopped before the broker confirmed the report")));
      } else {
        Reply(it->client,
              EncodeErrorResponse(Status(Code::kUnavailable, "NODE_STOPPING",
                                         "the node daemon stopped; the report was NOT sent")));
      }
      it = EraseSend(it);
    }
    for (auto& q : queries) {
      Reply(q.client, EncodeErrorResponse(Status(Code::kUnavailable, "NODE_STOPPING",
                                                 "the node daemon stopped before the broker "
                                                 "answered")));
    }
    queries.clear();
    return Status::Ok();
  }

  void CloseSockets() {
    if (control) {
      control->close();
      control.reset();
      std::error_code ec;
      std::filesystem::remove(config.data_dir / "control.sock", ec);
    }
    if (monitor) {
      if (broker) (void)zmq_socket_monitor(broker->handle(), nullptr, 0);
      monitor->close();
      monitor.reset();
    }
    if (broker) {
      broker->close();
      broker.reset();
    }
  }
};

NodeDaemon::NodeDaemon(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

NodeDaemon::~NodeDaemon() {
  if (impl_) {
    try {
      impl_->CloseSockets();
    } catch (const zmq::error_t&) {
      // Destructors must not throw; the sockets are gone either way.
    }
  }
}

Result<std::unique_ptr<NodeDaemon>> NodeDaemon::Create(const NodeConfig& config) {
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  TEARLINE_RETURN_IF_ERROR(impl->Load());
  return std::unique_ptr<NodeDaemon>(new NodeDaemon(std::move(impl)));
}

Status NodeDaemon::Run(const std::atomic<bool>& stop) {
  TEARLINE_RETURN_IF_ERROR(impl_->OpenSockets());
  Status s;
  try {
    s = impl_->Loop(stop);
  } catch (const zmq::error_t& e) {
    s = Internal("NODE_ZMQ_ERROR", e.what());
  }
  try {
    impl_->CloseSockets();
  } catch (const zmq::error_t& e) {
    if (s.ok()) s = Internal("NODE_ZMQ_ERROR", e.what());
  }
  spdlog::info("event=node_stopped");
  return s;
}

}  // namespace tearline::node
