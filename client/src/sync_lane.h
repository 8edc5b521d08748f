// SyncLane: the Producer's connection for blocking calls, written and answered on the calling
// thread (Config::sync_publish_on_caller_thread). The I/O thread's path costs two thread
// hand-offs per round trip (caller → I/O thread → caller); here a publish is one write and one
// read. A producer that only makes blocking calls has only this connection; one that also
// publishes asynchronously has the I/O thread's too. Internal.
//
// Only plain connections (no TLS, compression, AUTH or local_addr), with heartbeats off in
// IDENTIFY (nobody reads the lane between calls). One caller at a time: the Producer holds its
// lane mutex around every call. A lane connection found closed before a command is written is
// replaced; a command that was written when the connection failed fails with Unavailable (it
// may or may not have been published), as on the I/O thread's path.
#pragma once

#include <sys/uio.h>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "common/protocol/frame.h"
#include "nsq/config.h"

namespace nsq::client::internal {

// What a lane asks and tells its producer about the nsqd it dials, so that both of a
// producer's connections share one backoff per nsqd and one log line per change of state.
class NodeHealth {
 public:
  virtual ~NodeHealth() = default;
  // False while `address` is backing off after a failed dial.
  virtual bool MayDial(const std::string& address) = 0;
  virtual void Connected(const std::string& address) = 0;
  virtual void DialFailed(const std::string& address, const absl::Status& why) = 0;
  // A connection that was up was found closed, or failed under a command.
  virtual void Lost(const std::string& address, const absl::Status& why) = 0;
};

class SyncLane {
 public:
  // `health` outlives the lane.
  SyncLane(const Config& config, NodeHealth* health);
  ~SyncLane();
  SyncLane(const SyncLane&) = delete;
  SyncLane& operator=(const SyncLane&) = delete;

  struct Outcome {
    // False: nothing was written (no connection could be made); the caller may use the I/O
    // thread's path instead.
    bool sent = false;
    // With sent: nsqd's answer (OK, its error frame as a status) or why the answer was lost.
    absl::Status status;
  };
  // Sends one encoded PUB/MPUB/DPUB to the nsqd at `address` (connecting first when needed)
  // and waits for its answer, within write_timeout and read_timeout.
  Outcome RoundTrip(const std::string& address, std::string_view command);
  // The same with the command in pieces, written with one gathered send (an MPUB's bodies
  // from where they are). `pieces` is consumed.
  Outcome RoundTrip(const std::string& address, std::vector<iovec>& pieces);

  // Ping: connects to `address` when not connected; on a live connection sends a NOP, as
  // go-nsq does (nsqd does not answer it). Not sent: no connection could be made or the NOP
  // could not be written.
  Outcome Nop(const std::string& address);

  // The nsqd the lane is connected to; empty while it is not.
  const std::string& address() const { return address_; }
  void Close();

 private:
  using Clock = std::chrono::steady_clock;
  // True when the lane is connected to `address` and nsqd has not closed it, connecting
  // first when needed and health_ allows it.
  // `dialled`, when given, says whether a new connection was made.
  bool ConnectedTo(const std::string& address, bool* dialled = nullptr);
  absl::Status Connect(const std::string& address);
  // False when the connection was closed by nsqd or holds something unexpected.
  bool StillOpen();
  // A lane answered this recently is taken to be open without asking the kernel (one system
  // call less per publish in a busy loop). The price: should nsqd close it within that time,
  // the next command fails as lost (it may or may not have been published) instead of going
  // to a new connection, as a command in flight at that moment would anyway.
  static constexpr std::chrono::milliseconds kTrustAnswerFor{1};
  absl::Status WriteAll(std::vector<iovec>& pieces, Clock::time_point deadline,
                        size_t* written);
  absl::Status ReadFrame(protocol::Frame* frame, Clock::time_point deadline);

  const Config config_;
  int fd_ = -1;
  std::string address_;
  Clock::time_point last_answer_{};
  std::vector<iovec> one_piece_;  // RoundTrip(address, command)'s scratch
  protocol::FrameDecoder decoder_;
  NodeHealth* const health_;
};

}  // namespace nsq::client::internal
