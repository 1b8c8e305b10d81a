// UnitOptions: what one BrokerConfig sets in each unit the broker assembles. The figures derived
// from several settings (a high-water mark from the window and the read batch, a backlog turn
// from the heartbeat, a session claim window) are stated and tested here once, so the daemon
// only wires units together.
//
// Thread-safety: pure functions.
#ifndef TEARLINE_BROKER_UNIT_OPTIONS_H_
#define TEARLINE_BROKER_UNIT_OPTIONS_H_

#include "tearline/base/clock.h"
#include "tearline/broker/broker_config.h"
#include "tearline/broker/broker_metrics.h"
#include "tearline/broker/commit_group.h"
#include "tearline/broker/delivery_queues.h"
#include "tearline/broker/log_service.h"
#include "tearline/broker/release_desk.h"
#include "tearline/broker/report_store.h"
#include "tearline/broker/router_socket.h"
#include "tearline/broker/submit_backlog.h"
#include "tearline/broker/submit_pipeline.h"

namespace tearline::broker {

// Quotas, rate and free-space floor of the submit path.
SubmitOptions SubmitOptionsFrom(const BrokerConfig& config);

// Delivery windows, refusal limit and redelivery interval.
DeliveryOptions DeliveryOptionsFrom(const BrokerConfig& config);

// Checkpoint cadence.
LogServiceOptions LogServiceOptionsFrom(const BrokerConfig& config);

// The metrics page's file and interval.
MetricsOptions MetricsOptionsFrom(const BrokerConfig& config);

// Parked submissions: per node and total bounds; a turn serves at most 64 and takes a tenth of a
// heartbeat (clamped to 5..50 ms), so a busy broker still answers pings well within one.
SubmitBacklogOptions SubmitBacklogOptionsFrom(const BrokerConfig& config);

// The ROUTER socket. Per peer, ZeroMQ queues at most the delivery window plus a reply to each
// frame of one read batch (a commit group sends them together) plus slack: it never queues a
// non-reading peer's frames without bound (a full pipe refuses the send; the copy waits), yet
// never refuses a reading peer's replies. `read_batch`: frames the loop reads per wake-up.
RouterOptions RouterOptionsFrom(const BrokerConfig& config, int read_batch);

// How long a commit group may stay open and how many bytes of frames it may hold: a quarter of a
// heartbeat (at most 50 ms), and the delivery window's bytes (at least 1 MiB).
CommitGroup::Limits CommitGroupLimitsFrom(const BrokerConfig& config);

// The report store's size cap.
ReportStoreOptions ReportStoreOptionsFrom(const BrokerConfig& config);

// Release requests: undecided ones per node from the configuration; the desk remembers at most
// 4096 requests (undecided and decided) in all.
ReleaseDeskOptions ReleaseDeskOptionsFrom(const BrokerConfig& config);

// How long a client that authenticated keeps its reserved session slot before its first frame:
// three heartbeats, at least one second.
Clock::Duration ClaimWindowFrom(const BrokerConfig& config);

}  // namespace tearline::broker

#endif  // TEARLINE_BROKER_UNIT_OPTIONS_H_
