// A blocking TCP connection to nsqd speaking protocol V2, for the benchmark threads: connect
// (TCP_NODELAY), write whole buffers, read into a large buffer and hand back decoded frames.
//
//   absl::StatusOr<std::unique_ptr<BenchConn>> conn = BenchConn::Connect("127.0.0.1:4150", &stop);
//   (*conn)->Handshake(R"({"client_id":"bench"})");
//   (*conn)->Write(bytes);
//   Frame frame;
//   (*conn)->ReadFrame(&frame);   // blocks; gives up when `stop` turns true
//
// One thread owns a BenchConn. Reads wait in short poll() slices so a shared stop flag (set by
// another thread, e.g. when the run is over or failed) ends a blocked read promptly.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/protocol/frame.h"

namespace nsq::bench {

class BenchConn {
 public:
  // Connects to "host:port". `stop` must outlive the connection.
  static absl::StatusOr<std::unique_ptr<BenchConn>> Connect(std::string_view address,
                                                            const std::atomic<bool>* stop);
  ~BenchConn();
  BenchConn(const BenchConn&) = delete;
  BenchConn& operator=(const BenchConn&) = delete;

  // Sends the magic and an IDENTIFY with `identify_json`, and waits for its "OK".
  absl::Status Handshake(std::string_view identify_json);

  // Writes all of `bytes`.
  absl::Status Write(std::string_view bytes);

  // Returns the next frame, reading from the socket only when no complete frame is buffered.
  // kCancelled when the stop flag turned true while waiting; an error when the stream breaks.
  absl::Status ReadFrame(protocol::Frame* frame);

  // Like ReadFrame, but first returns any buffered frame without blocking: false when none is
  // complete (lets a caller batch its answers to everything one read() brought in).
  bool NextBufferedFrame(protocol::Frame* frame);

  // The socket, for a caller that polls many connections from one thread.
  int fd() const { return fd_; }

  // Reads the next non-heartbeat response (answering heartbeats with NOP). Error frames from
  // nsqd become a FailedPrecondition status carrying the frame text.
  absl::Status ReadResponse(protocol::Frame* frame);

 private:
  BenchConn(int fd, const std::atomic<bool>* stop);
  // Waits for readable data and feeds one read() into the decoder.
  absl::Status Fill();

  int fd_;
  const std::atomic<bool>* stop_;
  protocol::FrameDecoder decoder_;
  std::unique_ptr<char[]> read_buffer_;
};

// The status ReadResponse returns for an error frame: "nsqd error: <frame text>".
absl::Status NsqdError(std::string_view frame_text);

}  // namespace nsq::bench
