#include "tearline/node/pending_sends.h"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <utility>

namespace tearline::node {
namespace {

void WipeRequest(ControlRequest& request) {
  for (auto& p : request.portions) {
    if (!p.content.empty()) sodium_memzero(p.content.data(), p.content.size());
  }
}

}  // namespace

Status BrokerUnavailable(const std::string& endpoint, const std::string& detail) {
  return Status(Code::kUnavailable, "BROKER_UNAVAILABLE",
                "the broker at " + endpoint + " is not reachable (" + detail +
                    "); the report was NOT sent. Retry when `tearline-node status` shows "
                    "connected");
}

PendingSends::PendingSends(const Clock& clock, std::string broker_endpoint, const Sealer& sealer,
                           DirectoryCache& directory, Outbox& outbox, BrokerChannel& broker,
                           ControlReplier& replier)
    : clock_(clock),
      endpoint_(std::move(broker_endpoint)),
      sealer_(sealer),
      directory_(directory),
      outbox_(outbox),
      broker_(broker),
      replier_(replier) {}

void PendingSends::Refuse(const std::string& client, ControlRequest& request,
                          const Status& status) {
  WipeRequest(request);
  replier_.Reply(client, EncodeErrorResponse(status));
}

PendingSends::Iter PendingSends::Erase(Iter it) {
  WipeRequest(it->request);
  return sends_.erase(it);
}

SendResult PendingSends::Pending(const Send& send, const std::string& why) const {
  SendResult r;
  r.report_id_hex = send.report_id_hex;
  r.banner = send.banner;
  r.pending = true;
  r.detail = why + "; report " + send.report_id_hex +
             " is kept in the outbox and will be resent automatically with the same id (the "
             "broker stores an id once, so it is never delivered twice)";
  return r;
}

void PendingSends::Start(const std::string& client, ControlRequest req, bool ever_welcomed) {
  if (Status s = sealer_.Validate(req); !s.ok()) return Refuse(client, req, s);
  if (!broker_.welcomed() && !directory_.have_directory()) {
    return Refuse(client, req,
                  BrokerUnavailable(endpoint_, ever_welcomed ? "session lost" : "never connected"));
  }
  if (sends_.size() >= kMaxPendingSends) {
    return Refuse(client, req,
                  Status(Code::kResourceExhausted, "NODE_BUSY",
                         "too many sends in progress; the report was NOT sent, retry shortly"));
  }
  Send p;
  p.client = client;
  p.deadline = clock_.Now() + std::chrono::milliseconds(req.timeout_ms);
  p.request = std::move(req);
  if (!broker_.welcomed()) {
    // No broker session, but certificates verified during an earlier one: seal for them now
    // (each is verified again at this moment) and keep the report in the outbox; it is
    // submitted after the next Welcome.
    directory_.Recheck();
    if (Status s = SealAndSubmit(p); !s.ok()) return Refuse(client, p.request, s);
    sends_.push_back(std::move(p));
    return;
  }
  if (directory_.current()) {
    // Verified in this session and no change announced since: no fetch, no re-verification.
    directory_.EnsureCurrent();
    if (Status s = SealAndSubmit(p); !s.ok()) return Refuse(client, p.request, s);
    sends_.push_back(std::move(p));
    return;
  }
  if (!directory_.Request()) {
    return Refuse(client, p.request, BrokerUnavailable(endpoint_, "no connection"));
  }
  sends_.push_back(std::move(p));
}

Status PendingSends::SealAndSubmit(Send& p) {
  TEARLINE_ASSIGN_OR_RETURN(SealedForOutbox sealed,
                            sealer_.Seal(p.request, directory_.directory()));
  p.report_id_hex = sealed.report_id_hex;
  p.banner = sealed.meta.banner;
  // Durable before the first Submit: from here on the report is resubmitted, with these exact
  // bytes, until the broker's answer is final, also across a crash of this daemon.
  if (Status st = outbox_.Add(p.report_id_hex, sealed.bytes, sealed.meta); !st.ok()) {
    return Status(Code::kUnavailable, st.reason(),
                  "cannot keep the sealed report in the outbox (" + st.message() +
                      "); the report was NOT sent");
  }
  p.sealed = true;
  spdlog::info("event=report_sealed report={} portions={} recipients={} bytes={}", p.report_id_hex,
               sealed.portions, sealed.recipients, sealed.bytes.size());
  if (outbox_.SubmitNow(p.report_id_hex)) {
    spdlog::info("event=report_submitted report={}", p.report_id_hex);
  } else {
    spdlog::warn(
        "event=report_kept_in_outbox report={} detail=\"no broker session; will "
        "submit after the next Welcome\"",
        p.report_id_hex);
  }
  return Status::Ok();
}

void PendingSends::SealWaiting(bool have_directory) {
  for (auto it = sends_.begin(); it != sends_.end();) {
    if (it->sealed) {
      ++it;
      continue;
    }
    Status s =
        have_directory ? SealAndSubmit(*it) : BrokerUnavailable(endpoint_, "connection lost");
    if (s.ok()) {
      ++it;
    } else {
      replier_.Reply(it->client, EncodeErrorResponse(s));
      it = Erase(it);
    }
  }
}

void PendingSends::OnDirectoryUpdated() { SealWaiting(true); }

void PendingSends::OnSessionLost() {
  // Sends still waiting for the directory: seal them for the directory verified earlier and
  // keep them in the outbox (as a send started without a session would be); without one they
  // never leave the node, and the analyst is told so now.
  if (directory_.have_directory()) directory_.Recheck();
  SealWaiting(directory_.have_directory());
}

void PendingSends::Tick() {
  const auto now = clock_.Now();
  for (auto it = sends_.begin(); it != sends_.end();) {
    if (now < it->deadline) {
      ++it;
      continue;
    }
    if (!it->sealed) {
      Status s = BrokerUnavailable(endpoint_, "no directory reply in time");
      spdlog::warn("event=send_timeout reason={}", s.reason());
      replier_.Reply(it->client, EncodeErrorResponse(s));
    } else {
      spdlog::warn(
          "event=send_pending report={} detail=\"no final answer in time; kept in the "
          "outbox\"",
          it->report_id_hex);
      replier_.Reply(it->client, EncodeSendResponse(Pending(
                                     *it, broker_.welcomed() ? "the broker did not answer in time"
                                                             : "the broker is not reachable")));
    }
    it = Erase(it);
  }
}

void PendingSends::StopAll() {
  for (auto it = sends_.begin(); it != sends_.end();) {
    if (it->sealed) {
      replier_.Reply(it->client,
                     EncodeSendResponse(Pending(
                         *it, "the node daemon stopped before the broker confirmed the report")));
    } else {
      replier_.Reply(it->client,
                     EncodeErrorResponse(Status(Code::kUnavailable, "NODE_STOPPING",
                                                "the node daemon stopped; the report was NOT "
                                                "sent")));
    }
    it = Erase(it);
  }
}

void PendingSends::OnOutboxFinal(const std::string& id, std::optional<SendResult> result,
                                 const Status& error) {
  for (auto it = sends_.begin(); it != sends_.end(); ++it) {
    if (!it->sealed || it->report_id_hex != id) continue;
    replier_.Reply(it->client, result ? EncodeSendResponse(*result) : EncodeErrorResponse(error));
    Erase(it);
    return;
  }
}

void PendingSends::OnOutboxDeferred(const std::string& id, const std::string& why) {
  // The analyst learns at once why, instead of waiting for the timeout.
  for (auto it = sends_.begin(); it != sends_.end(); ++it) {
    if (!it->sealed || it->report_id_hex != id) continue;
    replier_.Reply(it->client, EncodeSendResponse(Pending(*it, why)));
    Erase(it);
    return;
  }
}

}  // namespace tearline::node
