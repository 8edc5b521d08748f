// RawConn: a blocking protocol-V2 TCP client for tests, byte-exact and with no cleverness: it
// sends exactly what the test asks (through the encoders of common/protocol/command.h, or raw
// bytes) and decodes what nsqd answers into frames.
//
//   auto conn = RawConn::Connect(nsqd.tcp_port());
//   REQUIRE(conn.ok());
//   RawConn& c = **conn;
//   c.SendMagic();
//   c.Pub("test", "hello");
//   CHECK(c.ExpectOk().ok());
//   c.Send("ASDF\n");
//   CHECK(c.ExpectError("E_INVALID invalid command ASDF").ok());
//   CHECK(c.IsClosedByPeer());
//
// Every read takes a timeout (default 5 s): a broker that does not answer fails the test
// instead of hanging it. Errors come back as absl::Status with a message fit for a test log
// (e.g. what frame arrived instead of the expected one). Not thread-safe: one test thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/protocol/frame.h"
#include "common/protocol/stream_codec.h"
#include "common/protocol/message.h"

struct ssl_ctx_st;
struct ssl_st;

namespace nsq::testutil {

// What ReadFrame does with a `_heartbeat_` response.
enum class HeartbeatPolicy {
  kReturn,  // hand it to the caller like any other frame (default: tests see every byte)
  kSkip,    // drop it and keep reading
  kAnswer,  // send NOP, drop it and keep reading (what real clients do)
};

class RawConn {
 public:
  using Millis = std::chrono::milliseconds;
  static constexpr Millis kDefaultTimeout{5000};

  // Connects to 127.0.0.1:port. Nothing is sent (not even the magic). A receive buffer size
  // (SO_RCVBUF) caps what the kernel takes in for a test that stops reading.
  static absl::StatusOr<std::unique_ptr<RawConn>> Connect(uint16_t port,
                                                          int receive_buffer_bytes = 0);

  ~RawConn();
  RawConn(const RawConn&) = delete;
  RawConn& operator=(const RawConn&) = delete;

  void set_heartbeat_policy(HeartbeatPolicy policy) { heartbeat_policy_ = policy; }
  // How many heartbeats ReadFrame skipped or answered so far.
  int heartbeats_seen() const { return heartbeats_seen_; }

  // Writes all of `bytes` (one send loop; the kernel may still split it on the wire).
  absl::Status Send(std::string_view bytes);

  // Protocol helpers: each sends one encoded command and reads nothing.
  absl::Status SendMagic();
  absl::Status Identify(std::string_view json);
  absl::Status Auth(std::string_view secret);
  absl::Status Sub(std::string_view topic, std::string_view channel);
  absl::Status Pub(std::string_view topic, std::string_view body);
  absl::Status Mpub(std::string_view topic, const std::vector<std::string>& bodies);
  absl::Status Dpub(std::string_view topic, int64_t defer_ms, std::string_view body);
  absl::Status Rdy(int64_t count);
  absl::Status Fin(std::string_view id);
  absl::Status Req(std::string_view id, int64_t delay_ms);
  absl::Status Touch(std::string_view id);
  absl::Status Cls();
  absl::Status Nop();

  // Exactly `n` bytes as received (frames not decoded). Shares the receive buffer with
  // ReadFrame, so both can be mixed.
  absl::StatusOr<std::string> ReadRaw(size_t n, Millis timeout = kDefaultTimeout);
  // The next frame, subject to the heartbeat policy. DeadlineExceeded when nothing complete
  // arrives in time, Unavailable when the peer closed, DataLoss for a malformed frame.
  absl::StatusOr<protocol::Frame> ReadFrame(Millis timeout = kDefaultTimeout);
  // The next frame, which must be a message (type 2); it is decoded.
  absl::StatusOr<protocol::Message> ReadMessage(Millis timeout = kDefaultTimeout);

  // The next frame must be a response (type 0) with exactly this data.
  absl::Status ExpectResponse(std::string_view data, Millis timeout = kDefaultTimeout);
  absl::Status ExpectOk(Millis timeout = kDefaultTimeout) { return ExpectResponse("OK", timeout); }
  // The next frame must be an error (type 1) whose data is exactly `text` ("E_CODE description").
  absl::Status ExpectError(std::string_view text, Millis timeout = kDefaultTimeout);
  // OK when no frame arrives for `wait` (the connection may not close either); else says what
  // came. Used to check that something does not happen (no delivery while paused, ...).
  absl::Status ExpectNoFrame(Millis wait);

  // True when the server closes the connection (EOF or reset) within `timeout`. Bytes that
  // arrive first are kept for later reads.
  bool IsClosedByPeer(Millis timeout = kDefaultTimeout);
  // Everything received until the peer closes (including bytes already buffered).
  absl::StatusOr<std::string> ReadUntilClosed(Millis timeout = kDefaultTimeout);
  // Whatever is buffered or arrives next (at least one byte), waiting up to `timeout`.
  // Unavailable once the peer has closed and nothing is left.
  absl::StatusOr<std::string> ReadAvailable(Millis timeout = kDefaultTimeout);

  // This end's port (0 once closed): how the server's side of the connection is found in
  // /proc/net/tcp.
  uint16_t LocalPort() const;

  // Half-close (no more sends) and full close. Close is also done by the destructor.
  void ShutdownWrite();
  void Close();

  // Stream upgrades, as a client does them after IDENTIFY negotiated them (see nsqd's upgrade
  // sequence): StartTls performs the TLS handshake on this connection (blocking, with the
  // timeout); EnableCompression makes every later send compressed and every read decompressed.
  // Bytes already received but not read are taken as part of the new stream.
  struct TlsOptions {
    std::string ca_file;      // verify the server against it; empty: no verification
    std::string cert_file;    // a client certificate to present (with key_file)
    std::string key_file;
    std::string server_name = "127.0.0.1";
    std::string max_version;  // "tls1.2": offer nothing newer; empty: the library's newest
  };
  absl::Status StartTls(const TlsOptions& options, Millis timeout = kDefaultTimeout);
  // The negotiated protocol version ("TLSv1.3"), empty before StartTls.
  std::string TlsVersion() const;
  void EnableCompression(std::unique_ptr<protocol::StreamCompressor> compressor,
                         std::unique_ptr<protocol::StreamDecompressor> decompressor);
  // Bytes exactly as they go on the wire, bypassing compression (garbage tests).
  absl::Status SendWire(std::string_view bytes);

 private:
  explicit RawConn(int fd) : fd_(fd) {}
  // Reads what is available (waiting up to `until`) into buffer_. DeadlineExceeded on timeout,
  // Unavailable on EOF/reset (and sets closed_).
  absl::Status Fill(std::chrono::steady_clock::time_point until);
  absl::StatusOr<protocol::Frame> ReadOneFrame(std::chrono::steady_clock::time_point until);

  // Reads what the wire has (waiting up to `until`), through TLS when it is on.
  absl::StatusOr<std::string> ReceiveWire(std::chrono::steady_clock::time_point until);

  int fd_;
  ssl_ctx_st* ssl_ctx_ = nullptr;
  ssl_st* ssl_ = nullptr;
  std::unique_ptr<protocol::StreamCompressor> compressor_;
  std::unique_ptr<protocol::StreamDecompressor> decompressor_;
  bool closed_ = false;        // the peer closed (EOF or reset seen)
  std::string closed_reason_;  // "EOF" or the errno text
  std::string buffer_;         // received, not yet consumed
  protocol::FrameDecoder decoder_;
  HeartbeatPolicy heartbeat_policy_ = HeartbeatPolicy::kReturn;
  int heartbeats_seen_ = 0;
};

// A readable description of a frame for test messages: `error "E_INVALID ..."`,
// `response "OK"`, `message id=... attempts=1 body="..."`.
std::string DescribeFrame(const protocol::Frame& frame);

}  // namespace nsq::testutil
