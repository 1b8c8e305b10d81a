// UnitOptions: each broker unit's options as a BrokerConfig sets them, in one place, so that the
// broker's start-up only wires units together. Values the configuration does not name keep the
// units' own defaults, except where a comment below derives them from another key.
//
// Thread-safety: pure functions.
#ifndef TEARLINE_BROKER_UNIT_OPTIONS_H_
#define TEARLINE_BROKER_UNIT_OPTIONS_H_

#include <chrono>

#include "tearline/broker/broker_config.h"
#include "tearline/broker/delivery_queues.h"
#include "tearline/broker/log_service.h"
#include "tearline/broker/release_desk.h"
#include "tearline/broker/report_store.h"
#include "tearline/broker/router_socket.h"
#include "tearline/broker/submit_backlog.h"
#include "tearline/broker/submit_pipeline.h"

namespace tearline::broker {

ReportStoreOptions ReportStoreOptionsFor(const BrokerConfig& config);
LogServiceOptions LogServiceOptionsFor(const BrokerConfig& config);
// Messages up to kMaxFrameBytes plus 1 MiB (larger ones drop the peer); per peer, the delivery
// window plus room for replies, so ZeroMQ never queues a non-reading peer's frames without
// bound (a full pipe refuses the send; the copy waits).
RouterOptions RouterOptionsFor(const BrokerConfig& config);
SubmitOptions SubmitOptionsFor(const BrokerConfig& config);
// How long a client that authenticated keeps its reserved session slot before its first frame:
// three heartbeats, at least a second.
std::chrono::milliseconds ClaimWindowFor(const BrokerConfig& config);
DeliveryOptions DeliveryOptionsFor(const BrokerConfig& config);
// A turn's submissions take a tenth of a heartbeat (5 to 50 ms) beyond the one in progress.
SubmitBacklogOptions SubmitBacklogOptionsFor(const BrokerConfig& config);
// The desk remembers at most 4096 requests (undecided and decided) in all.
ReleaseDeskOptions ReleaseDeskOptionsFor(const BrokerConfig& config);

}  // namespace tearline::broker

#endif  // TEARLINE_BROKER_UNIT_OPTIONS_H_
