// SyncLane: a Producer's second connection to nsqd, on which a blocking publish is written and
// answered on the calling thread (Config::sync_publish_on_caller_thread). The I/O thread's
// path costs two thread hand-offs per round trip (caller → I/O thread → caller); here a
// publish is one write and one read. Internal.
//
// Only plain connections (no TLS, compression, AUTH or local_addr), with heartbeats off in
// IDENTIFY (nobody reads the lane between calls). One caller at a time: the Producer holds its
// lane mutex around RoundTrip. A lane connection found closed before a command is written is
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

class SyncLane {
 public:
  explicit SyncLane(const Config& config);
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

  void Close();

 private:
  using Clock = std::chrono::steady_clock;
  absl::Status Connect(const std::string& address);
  // False when the connection was closed by nsqd or holds something unexpected.
  bool StillOpen();
  absl::Status WriteAll(std::vector<iovec>& pieces, Clock::time_point deadline,
                        size_t* written);
  absl::Status ReadFrame(protocol::Frame* frame, Clock::time_point deadline);

  const Config config_;
  int fd_ = -1;
  std::string address_;
  protocol::FrameDecoder decoder_;
  // No new connection is tried before this after one failed.
  Clock::time_point retry_at_{};
};

}  // namespace nsq::client::internal
