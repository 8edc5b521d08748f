#include "nsqd/tcp/tcp_server.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <malloc.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstring>
#include <exception>
#include <optional>

#include "absl/strings/str_cat.h"
#include "common/log/logger.h"
#include "common/net/listener.h"
#include "common/protocol/command_decoder.h"
#include "common/protocol/frame.h"
#include "common/protocol/stream_codec.h"
#include "nsqd/tcp/client_conn.h"
#include "nsqd/tcp/conn_port.h"
#include "nsqd/tcp/remote_conn.h"

namespace nsq::nsqd {

namespace asio = boost::asio;
using asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;
using namespace asio::experimental::awaitable_operators;
using TlsStream = asio::ssl::stream<tcp::socket&>;

namespace {

constexpr auto kUseAwaitable = asio::as_tuple(asio::use_awaitable);
constexpr size_t kReadChunk = 64 * 1024;
// A plain connection's own read buffer: a typical command (PUB of a few hundred bytes, FIN,
// RDY) fits, so the usual request is one read with no further system call. (Waiting for
// readability instead, to read straight into the shared buffer, costs an epoll_ctl per wait.)
constexpr size_t kSmallReadChunk = 512;
// A TLS record is at most 16 KiB: what a TLS connection reads into at a time.
constexpr size_t kTlsReadChunk = 16 * 1024;
// Write buffers larger than this are given back once a connection has been caught up for a
// heartbeat tick, so an idle connection does not keep the memory of its last burst (a busy one
// keeps them: freeing and growing them again on every write cost more than the writes).
constexpr size_t kIdleBufferKeep = 16 * 1024;

// The loop's one big read buffer. A plain connection reads into its own small buffer (below);
// when that comes back full, the rest waiting in the socket is read at once into this, behind
// it, and decoded before the connection waits again (a command cut in half waits in the
// decoder, sized to it), so an idle connection holds only the small buffer. One per thread:
// each event loop thread has its own.
std::string& SharedReadBuffer() {
  thread_local std::string buffer(kReadChunk, '\0');
  return buffer;
}

// The C library keeps freed memory for reuse; after many connections have gone (a flood of
// clients, a reconnect storm) it is handed back to the system, not kept at the peak.
void ConnectionClosed() {
  constexpr int kTrimEvery = 1024;
  thread_local int closed = 0;
  if (++closed % kTrimEvery == 0) malloc_trim(0);
}
// A connection whose unwritten output grows past this is not reading: stop reading its
// commands until it catches up, so a pipelining client cannot grow our memory without bound.
constexpr size_t kMaxPendingOutput = 1024 * 1024;
// nsqd gives a client this long to finish its TLS handshake.
constexpr auto kTlsHandshakeTimeout = std::chrono::seconds(5);

// The peer's address as logs and /stats show it ("0.0.0.0:0" once the peer has reset).
std::string RemoteOf(const tcp::socket& socket) {
  boost::system::error_code ec;
  return net::FormatEndpoint(socket.remote_endpoint(ec));
}

// A socket on its way to another shard's loop: released from one io_context (ReleaseSocket),
// adopted by the other's (AdoptSocket), in a task handed over with ShardSet::Post.
struct HandedSocket {
  int fd;
  tcp protocol;
  std::string remote;  // the peer's address, read when the socket was accepted
};

// Takes the descriptor out of `socket` (its pending operations are cancelled and it is no
// longer watched by this loop), to travel with the peer's address `remote`; on failure the
// socket is closed and nullopt returned.
std::optional<HandedSocket> ReleaseSocket(tcp::socket& socket, std::string remote) {
  boost::system::error_code ec;
  const tcp::endpoint local = socket.local_endpoint(ec);
  if (!ec) {
    const int fd = socket.release(ec);
    if (!ec) return HandedSocket{fd, local.protocol(), std::move(remote)};
  }
  socket.close(ec);
  return std::nullopt;
}

// The socket again, served by `io`; on failure the descriptor is closed and nullopt returned.
std::optional<tcp::socket> AdoptSocket(asio::io_context& io, int fd, tcp protocol) {
  tcp::socket socket(io);
  boost::system::error_code ec;
  socket.assign(protocol, fd, ec);
  if (ec) {
    ::close(fd);
    return std::nullopt;
  }
  return socket;
}

// Logs an exception that escaped a coroutine instead of swallowing it.
void LogIfFailed(std::exception_ptr error) { log::LogIfFailed(error, "TCP: connection coroutine"); }

// The session's ClientConn on the same loop: every call is direct.
class LocalConnPort final : public ConnPort {
 public:
  LocalConnPort(BrokerSet* brokers, Transport* transport, std::string remote_address,
                std::string version, Authenticator* auth)
      : conn_(brokers, transport, std::move(remote_address), std::move(version), auth) {}
  // A connection whose socket moved here from another shard (Session::MoveSocket).
  LocalConnPort(BrokerSet* brokers, Transport* transport, ClientConnHandover handover,
                Authenticator* auth)
      : conn_(brokers, transport, std::move(handover), auth) {
    // Moved here just as shutdown began: the broker's Close did not see this connection.
    if (brokers->local().closing()) conn_.CloseConnection();
  }

  bool Handle(protocol::Command&& command) override { return conn_.Handle(std::move(command)); }
  void DecodeFailed(const protocol::DecodeFailure& failure) override {
    conn_.DecodeFailed(failure);
  }
  bool Blocked() const override { return conn_.blocked(); }
  bool ReadPaused() const override {
    return conn_.pending_replies() >= kMaxPendingReplies || conn_.blocked();
  }
  void OutputWritten(size_t port_bytes, bool drained) override {
    if (drained) conn_.OutputDrained();
  }
  void InputEnded() override { conn_.CloseConnection(); }
  void Detach() override { conn_.Detach(); }

 private:
  ClientConn conn_;
};

// One TCP connection. Lives as long as one of its coroutines holds a shared_ptr to it.
class Session final : public PortSession, public std::enable_shared_from_this<Session> {
 public:
  // Made on the loop of shard `shard`, which serves the socket. `auths` has the
  // authenticator of each shard (empty without --auth-http-address).
  // `remote` is the peer's address, read when the socket was accepted (a socket handed over
  // from another loop may have been reset meanwhile).
  Session(tcp::socket socket, std::string remote, BrokerSet* brokers, ShardSet* shards, int shard,
          const std::vector<Authenticator*>* auths,
          std::shared_ptr<net::TlsServerContext> tls_context)
      : socket_(std::move(socket)),
        tls_context_(std::move(tls_context)),
        wake_(socket_.get_executor()),
        heartbeat_timer_(socket_.get_executor()),
        remote_(std::move(remote)),
        brokers_(brokers),
        shards_(shards),
        shard_(shard),
        auths_(auths),
        decoder_(LimitsFrom(brokers->local().options())),
        settings_(ClientSettings::Defaults(brokers->local().options())) {
    wake_.expires_at(SteadyClock::time_point::max());
  }

  // Starts the connection, with its ClientConn on this shard (until a SUB moves it).
  void Start(const std::string& version) {
    port_ = std::make_unique<LocalConnPort>(brokers_, this, remote_, version, AuthOf(shard_));
    NSQ_LOG_INFO("TCP: new client(%s)", remote_);
    // Reads happen only once the socket is readable; non-blocking makes a spurious wake-up a
    // would_block, not a stall.
    socket_.non_blocking(true, ignored_);
    SpawnCoroutines();
  }

  // Goes on with a connection whose socket moved here from another shard's session (see
  // MoveSocket): its ClientConn is made from `handover` and handles `command` (the SUB or
  // publish that moved it) first, then `unprocessed` (what the client sent after it), then
  // what the socket brings.
  void StartMoved(ClientConnHandover handover, protocol::Command command, std::string unprocessed,
                  SteadyClock::time_point last_read) {
    NSQ_LOG_DEBUG("TCP: client(%s) moved to shard %d", remote_, shard_);
    settings_ = handover.settings;
    port_ = std::make_unique<LocalConnPort>(brokers_, this, std::move(handover), AuthOf(shard_));
    magic_read_ = true;
    unprocessed_ = std::move(unprocessed);
    last_read_ = last_read;
    socket_.non_blocking(true, ignored_);
    if (port_->Handle(std::move(command))) port_->EndOfInput();
    SpawnCoroutines();
  }

  // Transport
  void SendFrame(protocol::FrameType type, std::string_view data) override {
    if (closed_) return;
    protocol::AppendFrame(type, data, &out_);
    flush_requested_ = true;
    Wake();
    // A reply that leaves the queue of publishes waiting for the store may lift back-pressure.
    if (read_resume_ && !ReadPaused()) read_resume_->cancel();
  }

  void SendMessage(const protocol::Message& message) override {
    if (closed_) return;
    protocol::AppendMessageFrame(message, &out_);
    MessagesQueued();
  }

  void SendPortBytes(std::string_view frames, bool urgent) override {
    if (closed_) return;
    out_.append(frames);
    port_bytes_pending_ += frames.size();
    if (urgent) {
      flush_requested_ = true;
      Wake();
    } else {
      MessagesQueued();
    }
  }

  // Message frames were appended to out_: they go out once the output buffer is full or its
  // timeout has passed, as the client asked in IDENTIFY.
  void MessagesQueued() {
    if (static_cast<int64_t>(out_.size()) >= settings_.output_buffer_size) {
      flush_requested_ = true;
      Wake();
    } else if (!flush_deadline_) {
      // Buffered: the flush timer bounds how long a message may wait for company.
      if (settings_.output_buffer_timeout_ms > 0) {
        flush_deadline_ =
            SteadyClock::now() + std::chrono::milliseconds(settings_.output_buffer_timeout_ms);
      } else {
        flush_requested_ = true;
      }
      Wake();
    }
  }

  void FlushSoon() override {
    flush_requested_ = true;
    Wake();
  }

  void ApplySettings(const ClientSettings& settings) override {
    settings_ = settings;
    heartbeat_timer_.cancel();  // re-arm with the new interval
  }

  void CloseAfterFlush() override {
    close_after_flush_ = true;
    flush_requested_ = true;
    Wake();
  }

  void CloseNow() override { Close(); }


  void StartUpgrades(const StreamUpgrades& upgrades) override { pending_upgrades_ = upgrades; }

  // The ClientConn that asked is inside one of its calls: the switch waits for the next turn
  // of the loop. Meanwhile the old ClientConn is blocked(), so input waits in unprocessed_.
  void MoveTo(size_t shard, ClientConnHandover handover, protocol::Command command) override {
    pending_move_.emplace(PendingMove{shard, std::move(handover), std::move(command)});
    asio::post(socket_.get_executor(), [self = shared_from_this()] { self->CompleteMove(); });
  }

  bool CanMoveSocket() const override {
    return !tls_ && !compressor_ && !decompressor_ && !pending_upgrades_;
  }

  void ResumeCommands() override {
    if (read_resume_) read_resume_->cancel();
  }

  net::TlsSessionInfo TlsInfo() const override {
    return tls_ ? net::DescribeTlsSession(tls_->native_handle()) : net::TlsSessionInfo{};
  }

  bool OutputBacklogged() const override {
    if (out_.size() + writing_bytes_ < kMessageOutputLimit) return false;
    turned_away_ = true;  // the writer says when it drains
    return true;
  }

 private:
  static protocol::DecoderLimits LimitsFrom(const NsqdOptions& options) {
    protocol::DecoderLimits limits;
    limits.max_msg_size = options.max_msg_size;
    limits.max_body_size = options.max_body_size;
    limits.max_req_timeout_ms = absl::ToInt64Milliseconds(options.max_req_timeout);
    return limits;
  }

  void SpawnCoroutines() {
    auto self = shared_from_this();
    asio::co_spawn(socket_.get_executor(), Reader(self), LogIfFailed);
    asio::co_spawn(socket_.get_executor(), Writer(self), LogIfFailed);
    asio::co_spawn(socket_.get_executor(), Heartbeat(self), LogIfFailed);
  }

  Authenticator* AuthOf(size_t shard) const {
    return auths_->empty() ? nullptr : (*auths_)[shard];
  }

  // The connection goes on on the shard of the topic it subscribes (or publishes) to. A plain
  // connection moves there whole (MoveSocket), so its deliveries, FIN/REQ/TOUCH and publishes
  // cost no hand-off at all; a TLS or compressed one (which moves only to subscribe) keeps its
  // stream here (OpenSSL's and zlib's state is not handed over mid-stream) and reaches its
  // ClientConn on that shard through a RemoteConnPort.
  void CompleteMove() {
    if (!pending_move_) return;
    if (closed_ || close_after_flush_) {
      pending_move_.reset();
      return;
    }
    if (CanMoveSocket()) {
      asio::co_spawn(socket_.get_executor(), MoveSocket(shared_from_this()), LogIfFailed);
      return;
    }
    PendingMove move = std::move(*pending_move_);
    pending_move_.reset();
    port_ = std::make_unique<RemoteConnPort>(shards_, shard_, static_cast<int>(move.shard), this,
                                             shared_from_this(), brokers_, AuthOf(move.shard),
                                             std::move(move.handover));
    port_->Handle(std::move(move.command));
    port_->EndOfInput();
    ResumeCommands();
  }

  // Hands the socket to the new shard's loop once what is queued for it has been written. The
  // reader is parked meanwhile (the old ClientConn is blocked(); input waits in unprocessed_,
  // the decoder holds no part of a command), so this session's coroutines end without touching
  // the socket and a session made on the new shard from the descriptor goes on where this one
  // stopped.
  static asio::awaitable<void> MoveSocket(std::shared_ptr<Session> self) {
    if (!co_await self->WaitForFlush()) co_return;
    if (self->close_after_flush_) co_return;
    PendingMove move = std::move(*self->pending_move_);
    self->pending_move_.reset();
    // From here on this session is over, but the socket is not closed: closed_ ends the
    // coroutines, which wake from their timers.
    self->closed_ = true;
    self->wake_.cancel();
    self->heartbeat_timer_.cancel();
    if (self->read_resume_) self->read_resume_->cancel();
    std::optional<HandedSocket> handed = ReleaseSocket(self->socket_, self->remote_);
    if (!handed) {
      NSQ_LOG_ERROR("client(%s) closed: its socket could not move to shard %d", self->remote_,
                    move.shard);
      co_return;
    }
    const int to = static_cast<int>(move.shard);
    self->shards_->Post(to, [handed = std::move(*handed), to, brokers = self->brokers_,
                             shards = self->shards_, auths = self->auths_,
                             tls = self->tls_context_, move = std::move(move),
                             unprocessed = std::move(self->unprocessed_),
                             last_read = self->last_read_]() mutable {
      std::optional<tcp::socket> socket = AdoptSocket(*shards->io(to), handed.fd, handed.protocol);
      if (!socket) return;
      auto session = std::make_shared<Session>(std::move(*socket), std::move(handed.remote),
                                                brokers, shards, to, auths, tls);
      session->StartMoved(std::move(move.handover), std::move(move.command), std::move(unprocessed),
                          last_read);
    });
  }

  void Wake() {
    if (in_reader_turn_) {
      wake_deferred_ = true;  // ProcessAndReply writes or wakes at the end of its turn
      return;
    }
    if (!writing_) wake_.cancel();
  }

  // Handles a chunk of plain input and writes the replies it produced from here, in the same
  // loop turn, instead of waking the writer coroutine for them: a request/reply round trip
  // costs one read and one write system call. (With TLS or compression the writer does it.)
  size_t ProcessAndReply(std::string_view input) {
    in_reader_turn_ = true;
    const size_t used = Process(input);
    in_reader_turn_ = false;
    if (!tls_ && !compressor_ && !writing_ && ShouldWrite()) WriteInline();
    if (wake_deferred_) {
      wake_deferred_ = false;
      if (!out_.empty() || close_after_flush_ || flushed_) Wake();
    }
    return used;
  }

  // One non-blocking write of what is pending; what the socket does not take now is left to
  // the writer coroutine.
  void WriteInline() {
    boost::system::error_code ec;
    const size_t written = socket_.write_some(asio::buffer(out_), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) return;
    if (ec) {
      Close();
      return;
    }
    out_.erase(0, written);
    if (!out_.empty()) {
      wrote_since_tick_ = true;
      return;
    }
    port_bytes_written_ += port_bytes_pending_;
    port_bytes_pending_ = 0;
    flush_requested_ = false;
    flush_deadline_.reset();
    WriteCompleted();
    if (read_resume_) read_resume_->cancel();
    ReportWritten();
  }

  // Tells the port what of its output has been written, and whether a delivery it was refused
  // (OutputBacklogged) may come now.
  void ReportWritten() {
    const bool drained = turned_away_ && !OutputBacklogged();
    if (drained) turned_away_ = false;
    if (drained || port_bytes_written_ > 0) port_->OutputWritten(port_bytes_written_, drained);
    port_bytes_written_ = 0;
  }

  // Back-pressure: too much output not yet written, or too many publishes waiting for the
  // store. Reading resumes when the writer drains or replies go out.
  bool ReadPaused() const {
    return out_.size() + writing_bytes_ > kMaxPendingOutput || port_->ReadPaused();
  }

  // Ends the connection now: leave the broker first so nothing is delivered to a dead socket.
  void Close() {
    if (closed_) return;
    closed_ = true;
    ConnectionClosed();
    NSQ_LOG_INFO("TCP: closing client(%s)", remote_);
    port_->Detach();
    boost::system::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
    wake_.cancel();
    heartbeat_timer_.cancel();
    if (read_resume_) read_resume_->cancel();
    if (flushed_) flushed_->cancel();
  }

  static asio::awaitable<void> Reader(std::shared_ptr<Session> self) {
    co_await self->ReadLoop();
  }
  static asio::awaitable<void> Writer(std::shared_ptr<Session> self) {
    co_await self->WriteLoop();
  }
  static asio::awaitable<void> Heartbeat(std::shared_ptr<Session> self) {
    co_await self->HeartbeatLoop();
  }

  asio::awaitable<void> ReadLoop() {
    if (!magic_read_) {
      char magic[4];
      auto [magic_ec, magic_n] =
          co_await asio::async_read(socket_, asio::buffer(magic), kUseAwaitable);
      if (magic_ec) {
        Close();
        co_return;
      }
      last_read_ = SteadyClock::now();
      if (std::string_view(magic, 4) != protocol::kMagicV2) {
        NSQ_LOG_ERROR("client(%s) bad protocol magic '%s'", remote_, std::string_view(magic, 4));
        // nsqd sends the bare code, without a description.
        SendFrame(protocol::FrameType::kError, protocol::kBadProtocol);
        CloseAfterFlush();
        co_return;
      }
      magic_read_ = true;
    }

    std::string tls_buffer;  // TLS: OpenSSL decrypts into it (allocated with the upgrade)
    std::string plain;       // decompressed input
    while (!closed_ && !close_after_flush_) {
      if (!co_await WaitWhileReadPaused()) co_return;
      if (pending_upgrades_ && unprocessed_.empty()) {
        // A remote port's IDENTIFY answer asked for the upgrade after its input was used up.
        if (!co_await Upgrade({})) co_return;
        continue;
      }
      if (!unprocessed_.empty()) {
        // Commands that arrived while the connection was blocked.
        std::string pending = std::move(unprocessed_);
        unprocessed_.clear();
        const size_t used = Process(pending);
        if (pending_upgrades_ && !co_await Upgrade(std::string_view(pending).substr(used))) {
          co_return;
        }
        continue;
      }
      boost::system::error_code ec;
      size_t n = 0;
      std::string* buffer = &SharedReadBuffer();
      if (tls_) {
        if (tls_buffer.empty()) tls_buffer.resize(kTlsReadChunk);
        buffer = &tls_buffer;
        auto [read_ec, read_n] =
            co_await tls_->async_read_some(asio::buffer(tls_buffer), kUseAwaitable);
        ec = read_ec;
        n = read_n;
      } else {
        auto [read_ec, read_n] =
            co_await socket_.async_read_some(asio::buffer(small_read_), kUseAwaitable);
        ec = read_ec;
        n = read_n;
        if (!ec && n == small_read_.size()) {
          // Full: more is probably waiting. Take it now (non-blocking) behind these bytes in
          // the shared buffer; a failure here shows on the next read.
          std::memcpy(buffer->data(), small_read_.data(), n);
          boost::system::error_code more_ec;
          n += socket_.read_some(asio::buffer(buffer->data() + n, buffer->size() - n), more_ec);
        } else if (!ec) {
          buffer = nullptr;  // the bytes are in small_read_
        }
      }
      if (ec) {
        if (ec != asio::error::eof && ec != asio::error::operation_aborted) {
          NSQ_LOG_DEBUG("client(%s) read error: %s", remote_, ec.message());
        }
        // A client that closed its side in the middle of a command still gets nsqd's error
        // ("PUB failed to read message body") before the connection closes.
        std::optional<protocol::ClientError> cut = decoder_.ErrorAtEndOfInput();
        if (ec == asio::error::eof && cut && !decompressor_) {
          port_->DecodeFailed(decoder_.Failure(*cut));
          co_return;
        }
        if (ec == asio::error::eof) {
          // Half-closed: what it sent still gets its answers, then the connection closes.
          port_->InputEnded();
          co_return;
        }
        Close();
        co_return;
      }
      last_read_ = SteadyClock::now();
      // Used up before the next co_await: the shared buffer is the next reader's.
      std::string_view input(buffer != nullptr ? buffer->data() : small_read_.data(), n);
      if (!decompressor_) {
        const size_t used = ProcessAndReply(input);
        if (pending_upgrades_ && !co_await Upgrade(input.substr(used))) co_return;
        continue;
      }
      // Compressed: decompress in bounded pieces, pausing like plain input does, so a small
      // compressed read cannot turn into unbounded work or memory at once.
      decompressor_->Feed(input);
      while (!closed_ && !close_after_flush_) {
        if (!co_await WaitWhileReadPaused()) co_return;
        if (!unprocessed_.empty()) {
          std::string pending = std::move(unprocessed_);
          unprocessed_.clear();
          Process(pending);
          continue;
        }
        plain.clear();
        absl::StatusOr<size_t> got = decompressor_->Read(kReadChunk, &plain);
        if (!got.ok()) {
          NSQ_LOG_ERROR("client(%s) corrupt compressed stream: %s", remote_, got.status().message());
          Close();
          co_return;
        }
        if (*got == 0) break;
        Process(plain);
      }
    }
  }

  // Decodes and handles the commands in `input`; returns the bytes used. Stops early when the
  // connection closes or an IDENTIFY asked for a stream upgrade (what follows belongs to the
  // upgraded stream). When a command blocks the connection (AUTH asking the auth server), the
  // rest waits in unprocessed_ until ResumeCommands.
  size_t Process(std::string_view input) {
    const size_t used = Decode(input);
    port_->EndOfInput();
    return used;
  }

  size_t Decode(std::string_view input) {
    size_t total = 0;
    while (!closed_ && !close_after_flush_ && !pending_upgrades_) {
      if (port_->Blocked()) {
        unprocessed_.append(input.substr(total));
        return input.size();
      }
      size_t used = 0;
      auto result = decoder_.Decode(input.substr(total), &used);
      total += used;
      if (result == protocol::CommandDecoder::Result::kNeedMore) break;
      if (result == protocol::CommandDecoder::Result::kError) {
        port_->DecodeFailed(decoder_.Failure());
        break;
      }
      if (!port_->Handle(std::move(decoder_.mutable_command()))) break;
    }
    return total;
  }

  // Back-pressure: waits until reading may go on. False when the connection closed meanwhile.
  asio::awaitable<bool> WaitWhileReadPaused() {
    while (ReadPaused() && !closed_) {
      read_resume_.emplace(socket_.get_executor());
      read_resume_->expires_at(SteadyClock::time_point::max());
      co_await read_resume_->async_wait(kUseAwaitable);
      read_resume_.reset();
    }
    co_return !closed_;
  }

  // nsqd's upgrade sequence after an IDENTIFY reply that negotiated TLS and/or compression: the
  // reply goes out in clear; the TLS handshake, then OK over TLS; then compression both ways and
  // an OK inside it. The writer is held meanwhile, so the OKs come first whatever else is
  // queued (a heartbeat). `leftover` is input that followed the IDENTIFY in the same read.
  asio::awaitable<bool> Upgrade(std::string_view leftover) {
    const StreamUpgrades upgrades = *pending_upgrades_;
    pending_upgrades_.reset();
    std::string pending_input(leftover);
    if (!co_await WaitForFlush()) co_return false;
    holding_writes_ = true;
    if (upgrades.tls) {
      if (!pending_input.empty() || !tls_context_) {
        // A client sends its ClientHello only after reading the reply: anything before it is
        // not part of a TLS stream.
        NSQ_LOG_ERROR("client(%s) sent data before the TLS handshake", remote_);
        Close();
        co_return false;
      }
      tls_ = std::make_unique<TlsStream>(socket_, tls_context_->native());
      asio::steady_timer deadline(socket_.get_executor());
      deadline.expires_after(kTlsHandshakeTimeout);
      auto handshake =
          co_await (tls_->async_handshake(asio::ssl::stream_base::server, kUseAwaitable) ||
                    deadline.async_wait(kUseAwaitable));
      if (handshake.index() == 1 || std::get<0>(std::get<0>(handshake))) {
        NSQ_LOG_ERROR("client(%s) TLS handshake failed: %s", remote_,
                      handshake.index() == 1 ? std::string("timed out")
                                             : std::get<0>(std::get<0>(handshake)).message());
        Close();
        co_return false;
      }
      port_->TlsEstablished(net::DescribeTlsSession(tls_->native_handle()));
      if (!co_await WriteNow(OkFrame())) co_return false;
    }
    if (upgrades.compressed()) {
      if (upgrades.snappy) {
        compressor_ = protocol::NewSnappyCompressor();
        decompressor_ = protocol::NewSnappyDecompressor();
      } else {
        compressor_ = protocol::NewDeflateCompressor(static_cast<int>(upgrades.deflate_level));
        decompressor_ = protocol::NewDeflateDecompressor();
      }
      std::string compressed;
      if (!compressor_->Write(OkFrame(), &compressed).ok()) {
        Close();
        co_return false;
      }
      if (!co_await WriteNow(compressed)) co_return false;
    }
    holding_writes_ = false;
    Wake();
    if (!pending_input.empty()) {
      // Only a compressed stream can follow at once (a client that pipelines its commands).
      std::string plain;
      decompressor_->Feed(pending_input);
      for (;;) {
        plain.clear();
        absl::StatusOr<size_t> got = decompressor_->Read(kReadChunk, &plain);
        if (!got.ok()) {
          Close();
          co_return false;
        }
        if (*got == 0) break;
        Process(plain);
      }
    }
    co_return !closed_;
  }

  static std::string OkFrame() {
    std::string frame;
    protocol::AppendFrame(protocol::FrameType::kResponse, protocol::kOk, &frame);
    return frame;
  }

  // Waits until everything queued so far has been written. False when the connection closed.
  asio::awaitable<bool> WaitForFlush() {
    while (!closed_ && (!out_.empty() || writing_)) {
      flushed_.emplace(socket_.get_executor());
      flushed_->expires_at(SteadyClock::time_point::max());
      FlushSoon();
      co_await flushed_->async_wait(kUseAwaitable);
      flushed_.reset();
    }
    co_return !closed_;
  }

  // Writes `bytes` through the current stream (TLS or not, not compressed) while the writer is
  // held. False (and closed) on an error.
  asio::awaitable<bool> WriteNow(const std::string& bytes) {
    boost::system::error_code ec;
    if (tls_) {
      auto [write_ec, n] = co_await asio::async_write(*tls_, asio::buffer(bytes), kUseAwaitable);
      ec = write_ec;
    } else {
      auto [write_ec, n] = co_await asio::async_write(socket_, asio::buffer(bytes), kUseAwaitable);
      ec = write_ec;
    }
    if (ec) Close();
    co_return !ec;
  }

  bool ShouldWrite() const {
    if (out_.empty() || holding_writes_) return false;
    if (flush_requested_ || close_after_flush_) return true;
    return flush_deadline_ && SteadyClock::now() >= *flush_deadline_;
  }

  asio::awaitable<void> WriteLoop() {
    std::string& writing = writing_buffer_;
    std::string& compressed = compressed_buffer_;
    while (!closed_) {
      if (ShouldWrite()) {
        writing.swap(out_);
        out_.clear();
        flush_requested_ = false;
        flush_deadline_.reset();
        writing_ = true;
        writing_bytes_ = writing.size();
        port_bytes_in_write_ = port_bytes_pending_;
        port_bytes_pending_ = 0;
        write_started_ = SteadyClock::now();
        const std::string* bytes = &writing;
        if (compressor_) {
          compressed.clear();
          if (!compressor_->Write(writing, &compressed).ok()) {
            Close();
            co_return;
          }
          bytes = &compressed;
        }
        boost::system::error_code ec;
        if (tls_) {
          auto [write_ec, n] = co_await asio::async_write(*tls_, asio::buffer(*bytes), kUseAwaitable);
          ec = write_ec;
        } else {
          auto [write_ec, n] = co_await asio::async_write(socket_, asio::buffer(*bytes), kUseAwaitable);
          ec = write_ec;
        }
        writing_ = false;
        writing_bytes_ = 0;
        writing.clear();
        port_bytes_written_ += port_bytes_in_write_;
        port_bytes_in_write_ = 0;
        WriteCompleted();
        if (read_resume_) read_resume_->cancel();
        if (ec) {
          Close();
          co_return;
        }
        ReportWritten();
        if (flushed_ && out_.empty()) flushed_->cancel();
        continue;
      }
      if (flushed_ && out_.empty()) flushed_->cancel();
      if (close_after_flush_) {
        Close();
        co_return;
      }
      wake_.expires_at(flush_deadline_ ? *flush_deadline_ : SteadyClock::time_point::max());
      co_await wake_.async_wait(kUseAwaitable);
    }
  }

  // Sends _heartbeat_ every interval to every connection and drops a client that has sent
  // nothing for two intervals (to the tick of its own timer), or whose pending write has not
  // completed within one.
  asio::awaitable<void> HeartbeatLoop() {
    SteadyClock::time_point next_beat = SteadyClock::now();
    bool rearm = true;  // the interval changed (or this is the start): beats count from now
    while (!closed_) {
      const int64_t interval_ms = settings_.heartbeat_interval_ms;
      if (interval_ms <= 0) {
        heartbeat_timer_.expires_at(SteadyClock::time_point::max());
        co_await heartbeat_timer_.async_wait(kUseAwaitable);
        rearm = true;
        continue;
      }
      const auto interval = std::chrono::milliseconds(interval_ms);
      if (rearm) next_beat = SteadyClock::now() + interval;
      rearm = false;
      // Wake for whichever comes first: the next heartbeat, or the moment the client has been
      // silent for two intervals (nsqd's read deadline, reset by every read). A write that
      // hangs is seen at the next of those wake-ups.
      heartbeat_timer_.expires_at(std::min(next_beat, last_read_ + 2 * interval));
      auto [ec] = co_await heartbeat_timer_.async_wait(kUseAwaitable);
      if (closed_) co_return;
      if (ec) {  // settings changed: re-arm
        rearm = true;
        continue;
      }
      const auto now = SteadyClock::now();
      ReleaseIdleBuffers();
      if (now - last_read_ >= 2 * interval) {
        NSQ_LOG_ERROR("client(%s) failed to read command - i/o timeout", remote_);
        Close();
        co_return;
      }
      if (writing_ && now - write_started_ >= interval) {
        NSQ_LOG_ERROR("client(%s) write timeout: not reading", remote_);
        Close();
        co_return;
      }
      if (now >= next_beat) {
        SendFrame(protocol::FrameType::kResponse, protocol::kHeartbeat);
        next_beat += interval;
        if (next_beat <= now) next_beat = now + interval;  // the loop ran late: do not burst
      }
    }
  }

  // At a heartbeat tick: a connection that wrote nothing since the previous tick and has
  // nothing pending gives back its big write buffers.
  void ReleaseIdleBuffers() {
    const bool idle = !wrote_since_tick_ && !writing_ && out_.empty();
    wrote_since_tick_ = false;
    if (idle) ReleaseBigBuffers();
  }

  // After a write: without heartbeats there are no ticks, so the buffers go as soon as the
  // connection has caught up.
  void WriteCompleted() {
    wrote_since_tick_ = true;
    if (settings_.heartbeat_interval_ms <= 0 && out_.empty()) ReleaseBigBuffers();
  }

  void ReleaseBigBuffers() {
    for (std::string* buffer : {&out_, &writing_buffer_, &compressed_buffer_}) {
      if (buffer->capacity() > kIdleBufferKeep) *buffer = std::string();
    }
  }

  boost::system::error_code ignored_;
  tcp::socket socket_;
  std::shared_ptr<net::TlsServerContext> tls_context_;  // null: nsqd has no TLS
  std::unique_ptr<TlsStream> tls_;                       // after the TLS upgrade
  std::unique_ptr<protocol::StreamCompressor> compressor_;      // after snappy/deflate
  std::unique_ptr<protocol::StreamDecompressor> decompressor_;
  std::optional<StreamUpgrades> pending_upgrades_;  // negotiated, not yet carried out
  // Input that arrived behind a command that blocked the connection (at most one read's worth:
  // nothing more is read while blocked).
  std::string unprocessed_;
  bool holding_writes_ = false;                     // the upgrade writes by itself
  std::optional<asio::steady_timer> flushed_;       // cancelled when out_ has been written
  asio::steady_timer wake_;
  asio::steady_timer heartbeat_timer_;
  std::optional<asio::steady_timer> read_resume_;
  std::string remote_;
  BrokerSet* brokers_;
  ShardSet* shards_;
  int shard_;  // the shard whose loop serves this socket
  const std::vector<Authenticator*>* auths_;
  std::unique_ptr<ConnPort> port_;
  struct PendingMove {
    size_t shard;
    ClientConnHandover handover;
    protocol::Command command;
  };
  std::optional<PendingMove> pending_move_;  // MoveTo asked, the move not yet made
  bool magic_read_ = false;  // the protocol magic has been read (here or on the shard before)
  protocol::CommandDecoder decoder_;
  ClientSettings settings_;

  std::string out_;
  std::string writing_buffer_;     // the writer's: what is being written
  std::string compressed_buffer_;  // the writer's: the same, compressed
  bool wrote_since_tick_ = false;  // a write completed since the last heartbeat tick
  bool flush_requested_ = false;
  std::optional<SteadyClock::time_point> flush_deadline_;
  bool writing_ = false;
  size_t writing_bytes_ = 0;
  // A delivery was refused because the output was backlogged (set by a const query).
  mutable bool turned_away_ = false;
  SteadyClock::time_point write_started_;
  SteadyClock::time_point last_read_ = SteadyClock::now();
  bool close_after_flush_ = false;
  bool closed_ = false;
  // Set while ProcessAndReply handles input: wake-ups of the writer wait for its end.
  bool in_reader_turn_ = false;
  bool wake_deferred_ = false;
  // Bytes of the remote port's output (not our heartbeats) in out_, in the write in progress,
  // and written since the last ReportWritten: the port's flow control counts them.
  size_t port_bytes_pending_ = 0;
  size_t port_bytes_in_write_ = 0;
  size_t port_bytes_written_ = 0;
  std::array<char, kSmallReadChunk> small_read_;
};

}  // namespace

struct TcpServer::Impl {
  Impl(asio::io_context* io, BrokerSet* brokers, std::string version,
       std::shared_ptr<net::TlsServerContext> tls, std::vector<Authenticator*> auths,
       ShardSet* shards)
      : io(io),
        brokers(brokers),
        version(std::move(version)),
        tls(std::move(tls)),
        auths(std::move(auths)),
        shards(shards),
        acceptor(*io) {}

  // Serves an accepted socket on the next shard in turn: on shard 0 here, on another shard by
  // handing it the socket's descriptor.
  void Serve(tcp::socket socket) {
    const int shard = next_shard++ % shards->size();
    if (shard == 0) {
      std::string remote = RemoteOf(socket);
      auto session = std::make_shared<Session>(std::move(socket), std::move(remote), brokers,
                                                shards, 0, &auths, tls);
      session->Start(version);
      return;
    }
    std::optional<HandedSocket> handed = ReleaseSocket(socket, RemoteOf(socket));
    if (!handed) return;  // already gone
    shards->Post(shard, [this, handed = std::move(*handed), shard]() mutable {
      std::optional<tcp::socket> moved = AdoptSocket(*shards->io(shard), handed.fd,
                                                     handed.protocol);
      if (!moved) return;
      auto session = std::make_shared<Session>(std::move(*moved), std::move(handed.remote),
                                                brokers, shards, shard, &auths, tls);
      session->Start(version);
    });
  }

  static asio::awaitable<void> AcceptLoop(Impl* impl) {
    while (impl->acceptor.is_open()) {
      auto [ec, socket] = co_await impl->acceptor.async_accept(kUseAwaitable);
      if (ec) {
        if (ec == asio::error::operation_aborted || !impl->acceptor.is_open()) co_return;
        NSQ_LOG_ERROR("TCP: accept error: %s", ec.message());
        continue;
      }
      if (impl->brokers->local().closing()) continue;
      net::ConfigureAccepted(socket);
      impl->Serve(std::move(socket));
    }
  }

  asio::io_context* io;
  BrokerSet* brokers;
  std::string version;
  std::shared_ptr<net::TlsServerContext> tls;
  std::vector<Authenticator*> auths;  // one per shard; empty without auth servers
  ShardSet* shards;
  int next_shard = 0;
  tcp::acceptor acceptor;
};

TcpServer::TcpServer(asio::io_context* io, BrokerSet* brokers, std::string version,
                     std::shared_ptr<net::TlsServerContext> tls,
                     std::vector<Authenticator*> auths, ShardSet* shards)
    : impl_(std::make_unique<Impl>(io, brokers, std::move(version), std::move(tls),
                                   std::move(auths), shards)) {}

TcpServer::~TcpServer() { Stop(); }

absl::StatusOr<int> TcpServer::Listen(const std::string& address) {
  absl::StatusOr<int> port = net::OpenListener(&impl_->acceptor, address, "TCP");
  if (!port.ok()) return port.status();
  asio::co_spawn(*impl_->io, Impl::AcceptLoop(impl_.get()), LogIfFailed);
  return *port;
}

void TcpServer::Stop() {
  boost::system::error_code ec;
  impl_->acceptor.close(ec);
}

}  // namespace nsq::nsqd
