// Broker configuration, read from a small TOML file:
//
//   [broker]
//   id = "broker"                       # broker certificate's node id
//   endpoint = "tcp://127.0.0.1:0"      # port 0: pick an ephemeral port (see endpoint_file)
//   certificate = "certs/broker.cert"   # relative paths are relative to the config file
//   secret = "certs/broker.secret"      # mode 0600
//   ca_dir = "certs/ca"                 # root.cert (+ revoked.list, re-read while running)
//   directory = "certs/nodes"           # *.cert of every coalition node
//   data_dir = "data/broker"            # audit log, reports.db, endpoint, revocation floor;
//                                       # owner-only (0700/0600), fixed at start
//   head_file = "data/broker.head"      # optional; default "<data_dir>.head": the last signed
//                                       # audit checkpoint, kept outside data_dir so that a
//                                       # restored older audit directory is refused at start
//   policy = "coalition.toml"           # optional; default: the shipped policy
//   heartbeat_ms = 1000                 # optional
//   max_frame_bytes = 16842752          # optional, capped at the protocol maximum
//   checkpoint_every = 1024             # optional: sign an audit checkpoint every N records
//   checkpoint_interval_ms = 2000       # optional: ...or after this long when records were added
//                                       # (node requests never make the broker sign sooner)
//   max_queue_per_node = 10000          # optional: pending (unacknowledged) copies per recipient
//   max_queue_per_sender_per_recipient = 1000  # optional: one sender's share of that queue
//   max_store_bytes = 1073741824        # optional: report store size cap (database + WAL)
//   min_free_bytes = 16777216           # optional: refuse new reports below this free space
//   max_store_bytes_per_node = 134217728  # optional: bytes of one sender's pending copies
//   rate_per_node = 100                 # optional: submits per second per node (burst 2x);
//                                       #   announced in Welcome, nodes pace to it
//   max_connections = 256               # optional: live authenticated sessions
//   frame_rate_per_node = 400           # optional: frames of any kind per second per node
//                                       #   (burst 2x); excess is dropped, RATE_LIMITED
//   delivery_window = 256               # optional: copies in flight (unacknowledged) per recipient
//   delivery_window_bytes = 16777216    # optional: ...and their bytes (one copy always fits)
//   max_delivery_refusals = 3           # optional: permanent refusals before a copy is `failed`
//   redeliver_after_ms = 5000           # optional: re-send / retry wait (doubles per attempt)
//   submit_backlog_per_node = 1024      # optional: submissions of one node waiting to be
//                                       #   processed; beyond, BROKER_BUSY with retry_after_ms
//   submit_backlog_bytes = 67108864     # optional: bytes of all waiting submissions
//   max_release_requests_per_node = 16  # optional: undecided release requests per node
//   metrics_file = "/var/lib/prometheus/node-exporter/tearline_broker.prom"
//                                       # optional; default none: the metrics page in the
//                                       #   Prometheus text format, replaced atomically (for
//                                       #   node_exporter's textfile collector; mode 0644)
//   metrics_interval = 15               # optional: seconds between two writes of the page
//   rotation_overlap = 604800           # optional: seconds (default 7 days) a node's previous
//                                       #   certificate stays in force for authentication after
//                                       #   a newer one's not_before (key rotation; it ends
//                                       #   sooner if the old one expires or is revoked); 0: none.
//                                       #   New *.cert files in `directory` are picked up while
//                                       #   the broker runs
//
// Thread-safety: plain value.
#ifndef TEARLINE_BROKER_BROKER_CONFIG_H_
#define TEARLINE_BROKER_BROKER_CONFIG_H_

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include "tearline/base/status.h"

namespace tearline::broker {

struct BrokerConfig {
  std::string id = "broker";
  std::string endpoint = "tcp://127.0.0.1:0";
  std::filesystem::path certificate;
  std::filesystem::path secret;
  std::filesystem::path ca_dir;
  std::filesystem::path directory;
  std::filesystem::path data_dir;
  std::filesystem::path policy;  // Empty: DefaultPolicyPath().
  // The last audit checkpoint signed, outside data_dir (AuditLog's rollback guard). Empty:
  // "<data_dir>.head", so that neither a restored audit directory nor a restored data_dir
  // carries it back.
  std::filesystem::path head_file;
  std::uint32_t heartbeat_ms = 1000;
  std::size_t max_frame_bytes = 0;  // 0: the protocol maximum.
  // A recipient with this many pending (queued or delivered, unacknowledged) copies gets a
  // QUEUE_FULL denial for new reports; other recipients are unaffected.
  std::size_t max_queue_per_node = 10000;
  // One sender's share of a recipient's queue: with 1000 of 10000, a node that floods (or a
  // recipient that never acknowledges one sender) still leaves 9000 places to everyone else.
  // Beyond it the recipient is denied SENDER_QUEUE_QUOTA for that sender's new reports.
  std::size_t max_queue_per_sender_per_recipient = 1000;
  // New reports are refused with STORAGE_FULL when the report store (database file + WAL)
  // exceeds max_store_bytes, or when the file system holding data_dir has less than
  // min_free_bytes available. max_store_bytes is also the store's hard cap.
  std::uint64_t max_store_bytes = std::uint64_t{1} << 30;
  std::uint64_t min_free_bytes = std::uint64_t{16} << 20;
  // One sender's share of the store: its pending (unacknowledged) copies may hold at most this
  // many bytes; a report that would exceed it is refused SENDER_STORE_QUOTA. Keep it well below
  // max_store_bytes (default an eighth) so one node cannot bring the others to STORAGE_FULL.
  std::uint64_t max_store_bytes_per_node = std::uint64_t{128} << 20;
  // Submits per second per node (token bucket, burst twice the rate); excess is RATE_LIMITED.
  // Announced in Welcome so nodes pace their outbox to it: a burst of 1,000 reports from one
  // node drains in about 10 s. Keep it at most half of frame_rate_per_node (a sending node
  // also acknowledges, pings and cosigns).
  std::uint32_t rate_per_node = 100;
  // Live authenticated sessions; ZAP refuses further handshakes with CONNECTION_LIMIT.
  std::uint32_t max_connections = 256;
  // Frames of any kind per second per node (token bucket, burst twice the rate), checked before
  // any other work; frames over it are dropped, one refusal a second answered RATE_LIMITED.
  std::uint32_t frame_rate_per_node = 400;
  // A signed audit checkpoint is written after this many new records, or after this interval
  // when anything was appended, and at shutdown. Witnesses cosign on their own cadence (every 4
  // heartbeats), so under load the count only sets how many notes are signed and synced between
  // two cosignatures; the interval bounds how long a record waits for one (AUDIT.md).
  std::uint64_t checkpoint_every = 1024;
  std::uint32_t checkpoint_interval_ms = 2000;
  // At most delivery_window copies (and delivery_window_bytes) per recipient are in flight; the
  // rest wait in the report store, so a recipient that does not read costs one window of memory.
  // The ROUTER's per-peer send high-water mark is delivery_window + one read batch + 64
  // frames (see unit_options.h).
  // 256: a queue drains at the recipient's pace (window / round trip of a commit group), over
  // 2,000 copies/s on a 2-core machine; 32 held it near 600. delivery_window_bytes bounds memory.
  std::size_t delivery_window = 256;
  std::uint64_t delivery_window_bytes = std::uint64_t{16} << 20;
  // A copy its recipient refuses this many times for a permanent reason is given up (`failed`).
  std::uint32_t max_delivery_refusals = 3;
  // An unacknowledged or refused copy is tried again after this long, doubling per attempt.
  std::uint32_t redeliver_after_ms = 5000;
  // Submissions received and not yet processed (SubmitBacklog): at most this many per node and
  // this many bytes in all; beyond, a submission is answered BROKER_BUSY with a retry-after hint.
  // Every other frame is served before them, so a burst never delays acknowledgements.
  std::size_t submit_backlog_per_node = 1024;
  std::uint64_t submit_backlog_bytes = std::uint64_t{64} << 20;
  // Undecided release requests one node may have open (a request flood is refused with
  // RELEASE_REQUEST_LIMIT beyond it).
  std::size_t max_release_requests_per_node = 16;
  // The metrics page (BrokerMetrics), rewritten every metrics_interval seconds. Empty: none.
  std::filesystem::path metrics_file;
  std::uint32_t metrics_interval = 15;
  // Key rotation (key_rotation.h): how long after a new certificate's not_before the previous
  // certificate of that node id is still admitted. Default: a week.
  std::int64_t rotation_overlap = 7 * 24 * 3600;

  // The file where the broker writes the endpoint it actually bound (for port 0).
  std::filesystem::path EndpointFile() const { return data_dir / "endpoint"; }
  std::filesystem::path HeadFile() const {
    if (!head_file.empty()) return head_file;
    std::filesystem::path dir = data_dir;
    if (!dir.has_filename()) dir = dir.parent_path();  // "data/broker/" -> "data/broker".
    return dir.string() + ".head";
  }
};

// Errors: CONFIG_NOT_FOUND, CONFIG_INVALID (with file:line and cause).
Result<BrokerConfig> LoadBrokerConfig(const std::filesystem::path& path);

}  // namespace tearline::broker

#endif  // TEARLINE_BROKER_BROKER_CONFIG_H_
