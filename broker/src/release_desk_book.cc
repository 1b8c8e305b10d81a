// ReleaseDesk: what it keeps across restarts (the report store's release tables) and what it
// owes nodes (notices and decided statuses not yet delivered). See release_desk.h.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "tearline/broker/release_desk.h"
#include "tearline/wire/wire.h"

namespace tearline::broker {

Status ReleaseDesk::Restore() {
  TEARLINE_ASSIGN_OR_RETURN(auto released, store_.ReleasedPortions());
  for (const ReleasedTo& p : released) {
    released_[PortionKey(p.report_id, p.portion)].insert(p.nation);
  }
  TEARLINE_ASSIGN_OR_RETURN(auto stored, store_.Releases());
  for (const StoredRelease& r : stored) {
    std::vector<std::uint8_t> notice_storage, status_storage;
    auto notice_frame = DecodeFrame(AlignedForDecode(r.notice, notice_storage));
    auto status_frame = DecodeFrame(AlignedForDecode(r.status, status_storage));
    Result<ReleaseNoticeInfo> notice = InvalidArgument("RELEASE_MALFORMED", "not a notice");
    Result<ReleaseStatusInfo> status = InvalidArgument("RELEASE_MALFORMED", "not a status");
    if (notice_frame.ok() && (*notice_frame)->body_type() == schema::Body::ReleaseNotice) {
      notice = ToReleaseNoticeInfo(*(*notice_frame)->body_as_ReleaseNotice());
    }
    if (status_frame.ok() && (*status_frame)->body_type() == schema::Body::ReleaseStatus) {
      status = ToReleaseStatusInfo(*(*status_frame)->body_as_ReleaseStatus());
    }
    if (!notice.ok() || !status.ok()) {
      spdlog::warn("event=release_restore_skipped request={} reason={}", r.request_id,
                   (notice.ok() ? status.status() : notice.status()).reason());
      continue;
    }
    Entry e;
    e.notice = std::move(notice).value();
    e.status = std::move(status).value();
    e.originator = r.originator;
    e.originator_nation = r.originator_nation;
    e.originator_told = r.originator_told;
    e.requester_told = r.requester_told;
    e.order = r.order;
    next_order_ = std::max(next_order_, r.order + 1);
    requests_.insert_or_assign(r.request_id, std::move(e));
  }
  if (!requests_.empty()) {
    spdlog::info("event=release_requests_restored requests={} released_portions={}",
                 requests_.size(), released.size());
  }
  return Status::Ok();
}

Status ReleaseDesk::Persist(const std::string& hex, const Entry& e) {
  StoredRelease r;
  r.request_id = hex;
  r.order = e.order;
  r.originator = e.originator;
  r.originator_nation = e.originator_nation;
  r.notice = EncodeReleaseNotice(e.notice);
  r.status = EncodeReleaseStatus(0, e.status);
  r.originator_told = e.originator_told;
  r.requester_told = e.requester_told;
  Status st = store_.PutRelease(r);
  if (!st.ok()) {
    spdlog::error("event=release_store_failed request={} reason={} detail=\"{}\"", hex, st.reason(),
                  st.message());
  }
  return st;
}

std::vector<ReleaseFrame> ReleaseDesk::Owed(const std::string& node_id) const {
  std::vector<ReleaseFrame> frames;
  for (const auto& [hex, e] : requests_) {
    if (e.originator == node_id && e.status.state == "pending" && !e.originator_told) {
      frames.push_back(NoticeFrame(hex, e));
    }
    if (e.notice.requester == node_id && e.status.state != "pending" && !e.requester_told) {
      frames.push_back(StatusFrame(hex, e));
    }
  }
  return frames;
}

void ReleaseDesk::Sent(const ReleaseFrame& frame) {
  if (!frame.tracked) return;
  auto it = requests_.find(frame.request_hex);
  if (it == requests_.end()) return;
  bool& told = frame.notice ? it->second.originator_told : it->second.requester_told;
  if (told) return;
  told = true;
  (void)Persist(it->first, it->second);  // Failure: the frame is offered again after a restart.
}

void ReleaseDesk::Unsent(const ReleaseFrame& frame) {
  if (!frame.tracked) return;
  auto it = requests_.find(frame.request_hex);
  if (it == requests_.end()) return;
  bool& told = frame.notice ? it->second.originator_told : it->second.requester_told;
  if (!told) return;
  told = false;
  (void)Persist(it->first, it->second);
}

void ReleaseDesk::Send(ReleaseEffects effects, DeliveryQueues& queues, FrameSender& sender) {
  for (const Delivery& d : effects.deliveries) queues.Send(d.node_id, d.report_id_hex, d.copy);
  for (const ReleaseFrame& f : effects.frames) {
    if (!f.tracked) {
      sender.SendTo(f.node_id, f.frame);
    } else if (sender.SendTracked(f.node_id, f.frame, [this, f] { Unsent(f); })) {
      Sent(f);
    }
  }
}

}  // namespace tearline::broker
