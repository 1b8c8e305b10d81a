// PendingSends: the analysts' `send` requests between the control socket and the broker's final
// answer. Sealing itself is the Sealer's; durability and resubmission are the Outbox's; this
// unit decides when a request is sealed and what the analyst is told:
//   - with a broker session and a directory that is current (DirectoryCache::current(): verified
//     in this session, no change announced since), a send is sealed at once for it;
//   - otherwise, with a session, a send first asks for a fresh directory (so keys are wrapped
//     only for certificates verified just now) and is sealed when it arrives (OnDirectoryUpdated);
//   - without a session but with a directory verified earlier, it is sealed at once for those
//     certificates (re-verified now) and waits in the outbox; with neither it is refused
//     (BROKER_UNAVAILABLE), as are sends still waiting for a directory when the session is lost
//     and no directory is known;
//   - a sealed send is answered with the broker's final answer (OnOutboxFinal), or "pending"
//     with its report id on a transient refusal, at its deadline (the CLI's --timeout) or when
//     the daemon stops; an unsealed one gets BROKER_UNAVAILABLE at its deadline;
//   - at most 64 sends are in progress (NODE_BUSY beyond).
// Plaintext is wiped as soon as a request is sealed, refused or dropped.
//
// Ownership: references the Clock and the units it drives (owned by the daemon).
// Thread-safety: the daemon's loop thread only.
#ifndef TEARLINE_NODE_PENDING_SENDS_H_
#define TEARLINE_NODE_PENDING_SENDS_H_

#include <cstddef>
#include <list>
#include <optional>
#include <string>

#include "tearline/base/clock.h"
#include "tearline/base/status.h"
#include "tearline/node/broker_channel.h"
#include "tearline/node/control_protocol.h"
#include "tearline/node/directory_cache.h"
#include "tearline/node/outbox.h"
#include "tearline/node/sealer.h"

namespace tearline::node {

inline constexpr std::size_t kMaxPendingSends = 64;

// BROKER_UNAVAILABLE: the report was not sent.
Status BrokerUnavailable(const std::string& endpoint, const std::string& detail);

class PendingSends final : public OutboxListener {
 public:
  PendingSends(const Clock& clock, std::string broker_endpoint, const Sealer& sealer,
               DirectoryCache& directory, Outbox& outbox, BrokerChannel& broker,
               ControlReplier& replier);

  // A decoded `send` request from control client `client`. `ever_welcomed` only words the
  // refusal when no broker was ever reached.
  void Start(const std::string& client, ControlRequest request, bool ever_welcomed);
  // A fresh directory arrived: seal every send waiting for it.
  void OnDirectoryUpdated();
  // The broker session ended: seal waiting sends for the earlier directory, or refuse them.
  void OnSessionLost();
  // Deadlines.
  void Tick();
  // The daemon stops: every waiting analyst is told.
  void StopAll();

  void OnOutboxFinal(const std::string& id, std::optional<SendResult> result,
                     const Status& error) override;
  void OnOutboxDeferred(const std::string& id, const std::string& why) override;

  std::size_t size() const { return sends_.size(); }

 private:
  struct Send {
    bool sealed = false;  // Else waiting for a directory.
    std::string client;
    ControlRequest request;
    Clock::TimePoint deadline;
    std::string report_id_hex;
    std::string banner;
  };
  using Iter = std::list<Send>::iterator;

  Status SealAndSubmit(Send& send);
  // Seals every send waiting for a directory; a failure answers and drops it.
  void SealWaiting(bool have_directory);
  SendResult Pending(const Send& send, const std::string& why) const;
  Iter Erase(Iter it);
  void Refuse(const std::string& client, ControlRequest& request, const Status& status);

  const Clock& clock_;
  std::string endpoint_;
  const Sealer& sealer_;
  DirectoryCache& directory_;
  Outbox& outbox_;
  BrokerChannel& broker_;
  ControlReplier& replier_;
  std::list<Send> sends_;
};

}  // namespace tearline::node

#endif  // TEARLINE_NODE_PENDING_SENDS_H_
