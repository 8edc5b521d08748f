// Conn: one protocol V2 connection to nsqd, shared by Producer and Consumer. Internal; this
// header includes Asio and is never installed.
//
// Lifecycle: Start() dials, sends the magic and IDENTIFY (feature negotiation, with the
// tls_v1 / snappy / deflate the Config asks for), then per nsqd's reply: the TLS handshake and
// nsqd's OK over TLS; compression both ways and nsqd's OK inside it; AUTH when nsqd requires it.
// Then it calls on_ready and runs a reader and a writer coroutine, whose bytes go through the
// compressor and TLS when those are on (the plain path reads and writes the socket directly).
// Heartbeats are answered with NOP here; every other frame goes to on_frame, and on_read_end
// (when set) runs once the frames of one read have been handed out, before the next read.
//
// Output: queued bytes are a list of pieces; the writer sends them in chunks of at most
// kWriteChunk bytes (gathered, no copy), each chunk bounded by write_timeout, so a long
// backlog is not one write racing one deadline. Big owned pieces (SendOwned) are written from
// where they are, small ones are appended to the last piece.
// on_closed runs exactly once (posted, never from inside another callback), after a failed
// handshake or when the connection ends for any reason. All methods and callbacks run on the
// owner's io thread; the owner keeps a shared_ptr while it cares, the coroutines keep another.
#pragma once

#include <array>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "client/src/address.h"
#include "common/protocol/frame.h"
#include "common/protocol/identify.h"
#include "common/protocol/stream_codec.h"
#include "nsq/config.h"

// Kept out of this header: OpenSSL's and Asio SSL's headers are only in conn.cc and tls.cc.
namespace boost::asio::ssl {
class context;
template <typename Stream>
class stream;
}  // namespace boost::asio::ssl

namespace nsq::client::internal {

// The status for an error frame "E_CODE text": the code picks the status code, the message is
// the whole frame text.
absl::Status StatusFromErrorFrame(std::string_view data);

// True for the error codes after which nsqd keeps the connection open.
bool IsNonFatalError(std::string_view data);

// The IDENTIFY this client sends with `config` (feature negotiation on).
protocol::IdentifyRequest IdentifyRequestFor(const Config& config);

class Conn : public std::enable_shared_from_this<Conn> {
 public:
  struct Callbacks {
    std::function<void(const protocol::IdentifyResponse&)> on_ready;
    std::function<void(protocol::Frame&)> on_frame;
    std::function<void(const absl::Status&)> on_closed;
    std::function<void()> on_read_end;
  };

  // The most the writer hands to one write (and one write_timeout).
  static constexpr size_t kWriteChunk = 256 * 1024;
  // SendOwned keeps a piece this big as it is instead of copying it.
  static constexpr size_t kOwnedPieceMin = 16 * 1024;

  // `tls_context` (from MakeClientTlsContext) is required when config.tls_v1 is set.
  Conn(boost::asio::any_io_executor executor, std::string address, const Config& config,
       std::shared_ptr<boost::asio::ssl::context> tls_context, Callbacks callbacks);
  ~Conn();

  void Start();
  // Queues bytes for the writer (sent in order, batched).
  void Send(std::string_view bytes);
  // The same, taking the bytes over: a big piece is written from where it is.
  void SendOwned(std::string&& bytes);
  // Bytes queued and not yet written.
  size_t queued_bytes() const { return queued_bytes_; }
  // Closes once everything queued has been written.
  void CloseAfterFlush();
  // Closes now; on_closed gets `why`.
  void Close(absl::Status why);

  const std::string& address() const { return address_; }
  bool closed() const { return closed_; }

 private:
  static boost::asio::awaitable<void> Run(std::shared_ptr<Conn> self);
  static boost::asio::awaitable<void> Writer(std::shared_ptr<Conn> self);
  // Plain connections past the handshake: closes the connection when nothing was read for
  // read_timeout. One timer armed per read_timeout instead of one per read (each re-arm was a
  // timerfd_settime, and the read a parallel group).
  static boost::asio::awaitable<void> ReadWatchdog(std::shared_ptr<Conn> self);
  using TlsStream = boost::asio::ssl::stream<boost::asio::ip::tcp::socket&>;

  boost::asio::awaitable<absl::Status> Handshake();
  boost::asio::awaitable<absl::Status> UpgradeTls(const std::string& host);
  absl::Status StartCompression(const protocol::IdentifyResponse& negotiated);
  boost::asio::awaitable<absl::Status> Authenticate();
  boost::asio::awaitable<void> ReadLoop();
  // The next frame, from the decoder or from the stream (through TLS and decompression).
  boost::asio::awaitable<absl::Status> ReadFrame(protocol::Frame* out);
  // Exactly one frame, reading nothing past it: during the handshake, what follows a frame may
  // belong to a TLS or compressed stream that has not started yet. The decoder must be empty.
  boost::asio::awaitable<absl::Status> ReadHandshakeFrame(protocol::Frame* out);
  // Reads exactly `size` bytes from the socket or TLS, bounded by read_timeout.
  boost::asio::awaitable<absl::Status> ReadExactly(char* data, size_t size);
  // Compresses (when on) and writes everything, bounded by write_timeout.
  boost::asio::awaitable<absl::Status> WriteAll(const std::string& bytes);
  // Writes the first at most kWriteChunk queued bytes (one write_timeout) and drops them from
  // the queue.
  boost::asio::awaitable<absl::Status> WriteChunk();
  // Fills gather_ with the first at most kWriteChunk queued bytes; returns how many.
  size_t GatherChunk();
  // Drops `bytes` written bytes from the front of the queue.
  void DropWritten(size_t bytes);
  // Wakes the idle writer for bytes just queued. On a plain connection it posts one
  // WriteQueuedNow per loop turn instead (see there).
  void WakeWriter();
  // Plain connections: writes what is queued at once with a non-blocking write from the loop,
  // without resuming the writer coroutine (no write timer to arm and cancel); the writer is
  // woken only for what the socket did not take.
  void WriteQueuedNow();
  absl::Status ReadError(const boost::system::error_code& error) const;

  std::string address_;
  const Config config_;
  std::shared_ptr<boost::asio::ssl::context> tls_context_;
  Callbacks callbacks_;
  boost::asio::ip::tcp::socket socket_;
  std::unique_ptr<TlsStream> tls_;  // set by the TLS upgrade; reads and writes go through it
  std::unique_ptr<protocol::StreamCompressor> compressor_;      // with snappy or deflate
  std::unique_ptr<protocol::StreamDecompressor> decompressor_;  // with snappy or deflate
  const char* compression_ = "";                                // "snappy", "deflate"
  std::string plain_;       // decompressed input on its way to the decoder
  std::string compressed_;  // compressed output on its way to the stream
  boost::asio::steady_timer read_timer_;
  boost::asio::steady_timer write_timer_;
  boost::asio::steady_timer wake_;
  protocol::FrameDecoder decoder_;
  std::array<char, 64 * 1024> read_buffer_;
  // Queued output. Pieces [0, locked_pieces_) are being written: nothing is appended to them.
  std::deque<std::string> out_;
  size_t out_offset_ = 0;  // bytes of out_.front() already written
  size_t locked_pieces_ = 0;
  size_t queued_bytes_ = 0;
  bool tail_open_ = false;  // out_.back() takes appended bytes (it is not a big owned piece)
  std::vector<boost::asio::const_buffer> gather_;  // scratch of WriteChunk
  std::string flat_;                               // scratch: a chunk for TLS or compression
  bool closed_ = false;
  bool close_after_flush_ = false;
  bool writer_waiting_ = false;  // the writer sleeps on wake_ until WakeWriter cancels it
  bool write_now_posted_ = false;  // a WriteQueuedNow is posted
  bool in_read_loop_ = false;  // past the handshake: ReadFrame calls on_read_end
  bool read_watchdog_ = false;  // ReadWatchdog runs; plain reads are not raced with a timer
  std::chrono::steady_clock::time_point last_read_;  // when the last read completed
};

}  // namespace nsq::client::internal
