#include "tearline/node/control_server.h"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <exception>
#include <utility>

namespace tearline::node {

ControlServer::ControlServer(ControlHandler& handler, ControlReplier& replier)
    : handler_(handler), replier_(replier) {}

void ControlServer::OnMessage(const std::vector<std::string_view>& parts) {
  if (parts.size() != 2) {
    spdlog::warn("event=control_message_rejected parts={}", parts.size());
    return;
  }
  const std::string client(parts[0]);
  try {
    Dispatch(client, parts[1]);
  } catch (const std::exception& e) {
    spdlog::error("event=control_internal_error error=\"{}\"", e.what());
    replier_.Reply(
        client, EncodeErrorResponse(Internal("INTERNAL",
                                             "the node daemon failed to handle the request; check "
                                             "`tearline-node status` before retrying")));
  }
}

void ControlServer::Dispatch(const std::string& client, std::string_view payload) {
  auto req = DecodeControlRequest(payload);
  if (!req.ok()) {
    replier_.Reply(client, EncodeErrorResponse(req.status()));
    return;
  }
  switch (req->op) {
    case ControlOp::kStatus:
      replier_.Reply(client, EncodeStatusResponse(handler_.GetStatus()));
      return;
    case ControlOp::kInbox: {
      auto list = handler_.ListInbox();
      replier_.Reply(client,
                     list.ok() ? EncodeInboxResponse(*list) : EncodeErrorResponse(list.status()));
      return;
    }
    case ControlOp::kRead: {
      auto r = handler_.ReadReport(req->id);
      if (!r.ok()) {
        replier_.Reply(client, EncodeErrorResponse(r.status()));
        return;
      }
      std::string payload_out = EncodeReadResponse(*r);
      for (auto& p : r->portions) {
        if (!p.content.empty()) sodium_memzero(p.content.data(), p.content.size());
      }
      spdlog::info("event=report_read report={} portions={}", r->entry.report_id_hex,
                   r->portions.size());
      replier_.Reply(client, std::move(payload_out));
      return;
    }
    case ControlOp::kSend:
      handler_.StartSend(client, std::move(req).value());
      return;
    case ControlOp::kTrack:
      handler_.StartTrack(client, *req);
      return;
    case ControlOp::kProve:
      handler_.StartProve(client, *req);
      return;
    case ControlOp::kForward:
      handler_.StartForward(client, *req);
      return;
    case ControlOp::kRelease:
      handler_.StartRelease(client, std::move(req).value());
      return;
  }
}

}  // namespace tearline::node
