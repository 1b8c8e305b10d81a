// ControlServer: the analyst CLI's requests on the node's local control socket, decoded and
// dispatched. The daemon owns the socket; this unit sees each received message as its parts
// and answers through a ControlReplier:
//   - a message that is not [client id, request] is dropped (event=control_message_rejected);
//   - a request that does not decode is answered with its error (CONTROL_MALFORMED, ...);
//   - status, inbox and read are answered at once from the handler; send, track, prove and forward
//   are
//     handed to the handler with the client id and answered later by the unit serving them;
//   - an exception while handling is logged (event=control_internal_error) and answered with
//     INTERNAL, so one bad request never stops the daemon or leaves the CLI waiting.
// Read responses hold report plaintext: it is wiped once encoded.
//
// Ownership: references the handler and the replier. Thread-safety: the daemon's loop thread.
#ifndef TEARLINE_NODE_CONTROL_SERVER_H_
#define TEARLINE_NODE_CONTROL_SERVER_H_

#include <string>
#include <string_view>
#include <vector>

#include "tearline/base/status.h"
#include "tearline/node/broker_channel.h"
#include "tearline/node/control_protocol.h"

namespace tearline::node {

class ControlHandler {
 public:
  virtual ~ControlHandler() = default;
  virtual StatusResult GetStatus() = 0;
  virtual Result<std::vector<InboxEntry>> ListInbox() = 0;
  virtual Result<ReadResult> ReadReport(const std::string& id) = 0;
  virtual void StartSend(const std::string& client, ControlRequest request) = 0;
  virtual void StartTrack(const std::string& client, const ControlRequest& request) = 0;
  virtual void StartProve(const std::string& client, const ControlRequest& request) = 0;
  virtual void StartForward(const std::string& client, const ControlRequest& request) = 0;
  // The release workflow; answered later by the unit serving it.
  virtual void StartRelease(const std::string& client, ControlRequest request) = 0;
};

class ControlServer {
 public:
  ControlServer(ControlHandler& handler, ControlReplier& replier);

  // One message from the control socket: `parts` as received (ROUTER: [client id, request]).
  void OnMessage(const std::vector<std::string_view>& parts);

 private:
  void Dispatch(const std::string& client, std::string_view payload);

  ControlHandler& handler_;
  ControlReplier& replier_;
};

}  // namespace tearline::node

#endif  // TEARLINE_NODE_CONTROL_SERVER_H_
