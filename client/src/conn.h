// Conn: one protocol V2 connection to nsqd, shared by Producer and Consumer. Internal; this
// header includes Asio and is never installed.
//
// Lifecycle: Start() dials, sends the magic and IDENTIFY (feature negotiation; no TLS or
// compression), AUTH when nsqd requires it, then calls on_ready and runs a reader and a writer
// coroutine. Heartbeats are answered with NOP here; every other frame goes to on_frame.
// on_closed runs exactly once (posted, never from inside another callback), after a failed
// handshake or when the connection ends for any reason. All methods and callbacks run on the
// owner's io thread; the owner keeps a shared_ptr while it cares, the coroutines keep another.
#pragma once

#include <array>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/protocol/frame.h"
#include "common/protocol/identify.h"
#include "nsq/config.h"

namespace nsq::client::internal {

// "host:port" or "[v6]:port" → host, port text. InvalidArgument when malformed.
absl::StatusOr<std::pair<std::string, std::string>> SplitAddress(const std::string& address);

// The status for an error frame "E_CODE text": the code picks the status code, the message is
// the whole frame text.
absl::Status StatusFromErrorFrame(std::string_view data);

// True for the error codes after which nsqd keeps the connection open.
bool IsNonFatalError(std::string_view data);

class Conn : public std::enable_shared_from_this<Conn> {
 public:
  struct Callbacks {
    std::function<void(const protocol::IdentifyResponse&)> on_ready;
    std::function<void(protocol::Frame&)> on_frame;
    std::function<void(const absl::Status&)> on_closed;
  };

  Conn(boost::asio::any_io_executor executor, std::string address, const Config& config,
       Callbacks callbacks);

  void Start();
  // Queues bytes for the writer (sent in order, batched).
  void Send(std::string_view bytes);
  // Closes once everything queued has been written.
  void CloseAfterFlush();
  // Closes now; on_closed gets `why`.
  void Close(absl::Status why);

  const std::string& address() const { return address_; }
  bool closed() const { return closed_; }

 private:
  static boost::asio::awaitable<void> Run(std::shared_ptr<Conn> self);
  static boost::asio::awaitable<void> Writer(std::shared_ptr<Conn> self);
  boost::asio::awaitable<absl::Status> Handshake();
  boost::asio::awaitable<void> ReadLoop();
  boost::asio::awaitable<absl::Status> ReadFrame(protocol::Frame* out);
  boost::asio::awaitable<absl::Status> WriteAll(const std::string& bytes);

  std::string address_;
  const Config config_;
  Callbacks callbacks_;
  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer read_timer_;
  boost::asio::steady_timer write_timer_;
  boost::asio::steady_timer wake_;
  protocol::FrameDecoder decoder_;
  std::array<char, 64 * 1024> read_buffer_;
  std::string out_;
  bool closed_ = false;
  bool close_after_flush_ = false;
  bool writer_waiting_ = false;  // the writer sleeps on wake_ until Send() cancels it
};

}  // namespace nsq::client::internal
