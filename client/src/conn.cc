#include "client/src/conn.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/parse.hpp>
#include <algorithm>
#include <exception>
#include <tuple>
#include <variant>

#include "absl/strings/str_cat.h"
#include "client/src/log.h"
#include "client/src/tls.h"
#include "common/protocol/big_endian.h"
#include "common/protocol/command.h"
#include "common/protocol/errors.h"

namespace nsq::client::internal {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;

namespace {

constexpr auto kUseAwaitable = asio::as_tuple(asio::use_awaitable);

// What `io || timer` gives for a read or write: the I/O's (error, bytes) or the timer's (error).
using IoOrTimeout = std::variant<std::tuple<boost::system::error_code, size_t>,
                                 std::tuple<boost::system::error_code>>;

// The IDENTIFY reply, nsqd's OKs and the AUTH reply are small; a bigger frame there means the
// peer is not nsqd (or the stream is not what we think), and is not worth allocating for.
constexpr uint32_t kMaxHandshakeFrameSize = 1 << 20;

bool HasCode(std::string_view data, std::string_view code) {
  return data.size() >= code.size() && data.substr(0, code.size()) == code &&
         (data.size() == code.size() || data[code.size()] == ' ');
}

// OK, or why `io || timer` failed; *n gets the bytes transferred.
absl::Status IoOutcome(const IoOrTimeout& result, const char* what, const std::string& address,
                       size_t* n) {
  if (result.index() == 1) {
    return absl::DeadlineExceededError(absl::StrCat(what, " ", address, " timed out"));
  }
  const boost::system::error_code error = std::get<0>(std::get<0>(result));
  *n = std::get<1>(std::get<0>(result));
  if (error) return absl::UnavailableError(absl::StrCat(what, " ", address, ": ", error.message()));
  return absl::OkStatus();
}

// Config::local_addr ("ip", "ip:port", "[v6]:port") as an endpoint (port 0: any).
absl::StatusOr<tcp::endpoint> LocalEndpoint(const std::string& text) {
  std::string host = text;
  std::string port = "0";
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string::npos) return absl::InvalidArgumentError("bad local_addr " + text);
    host = text.substr(1, close - 1);
    if (close + 1 < text.size() && text[close + 1] == ':') port = text.substr(close + 2);
  } else if (const size_t colon = text.rfind(':');
             colon != std::string::npos && text.find(':') == colon) {
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  boost::system::error_code ec;
  const asio::ip::address address = asio::ip::make_address(host, ec);
  if (ec) return absl::InvalidArgumentError(absl::StrCat("bad local_addr ", text));
  return tcp::endpoint(address, static_cast<uint16_t>(std::atoi(port.c_str())));
}

}  // namespace

absl::Status StatusFromErrorFrame(std::string_view data) {
  const std::string text(data);
  if (HasCode(data, protocol::kBadTopic) || HasCode(data, protocol::kBadChannel) ||
      HasCode(data, protocol::kBadMessage) || HasCode(data, protocol::kBadBody) ||
      HasCode(data, protocol::kInvalid)) {
    return absl::InvalidArgumentError(text);
  }
  if (HasCode(data, protocol::kUnauthorized) || HasCode(data, protocol::kAuthFirst) ||
      HasCode(data, protocol::kAuthFailed) || HasCode(data, protocol::kAuthDisabled)) {
    return absl::PermissionDeniedError(text);
  }
  if (HasCode(data, protocol::kPubFailed) || HasCode(data, protocol::kMpubFailed) ||
      HasCode(data, protocol::kDpubFailed) || HasCode(data, protocol::kSubFailed)) {
    return absl::UnavailableError(text);
  }
  return absl::InternalError(text);
}

protocol::IdentifyRequest IdentifyRequestFor(const Config& config) {
  protocol::IdentifyRequest identify;
  identify.client_id = config.client_id;
  identify.hostname = config.hostname;
  identify.user_agent = config.user_agent;
  identify.feature_negotiation = true;
  identify.heartbeat_interval = config.heartbeat_interval.count();
  identify.output_buffer_size = config.output_buffer_size;
  identify.output_buffer_timeout = config.output_buffer_timeout.count();
  identify.sample_rate = config.sample_rate;
  identify.msg_timeout = config.msg_timeout.count();
  identify.tls_v1 = config.tls_v1;
  identify.snappy = config.snappy;
  identify.deflate = config.deflate;
  identify.deflate_level = config.deflate_level;
  return identify;
}

bool IsNonFatalError(std::string_view data) {
  return HasCode(data, protocol::kFinFailed) || HasCode(data, protocol::kReqFailed) ||
         HasCode(data, protocol::kTouchFailed);
}

Conn::Conn(asio::any_io_executor executor, std::string address, const Config& config,
           std::shared_ptr<asio::ssl::context> tls_context, Callbacks callbacks)
    : address_(std::move(address)),
      config_(config),
      tls_context_(std::move(tls_context)),
      callbacks_(std::move(callbacks)),
      socket_(executor),
      read_timer_(executor),
      write_timer_(executor),
      wake_(executor) {}

Conn::~Conn() = default;

void Conn::Start() {
  std::shared_ptr<Conn> self = shared_from_this();
  asio::co_spawn(socket_.get_executor(), Run(self), [self](std::exception_ptr error) {
    if (!error) return;
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      CLIENT_LOG(self->config_, LogLevel::kError, "(%s) connection coroutine failed: %s",
                 self->address_, e.what());
      self->Close(absl::InternalError(e.what()));
    }
  });
}

void Conn::Send(std::string_view bytes) {
  if (closed_ || bytes.empty()) return;
  // A growing last piece stays below a chunk or two, so appending never copies much.
  if (!tail_open_ || out_.size() <= locked_pieces_ || out_.back().size() >= kWriteChunk) {
    out_.emplace_back();
    tail_open_ = true;
  }
  out_.back().append(bytes);
  queued_bytes_ += bytes.size();
  WakeWriter();
}

void Conn::WakeWriter() {
  // A busy writer finds the bytes when its write completes; only a waiting one needs waking
  // (cancelling the timer costs a lock in the reactor, and a consumer sends a FIN per message).
  if (!writer_waiting_) return;
  if (tls_ != nullptr || compressor_ != nullptr) {
    wake_.cancel();
    return;
  }
  // Posted, so everything queued in this turn of the loop goes out in one write.
  if (write_now_posted_) return;
  write_now_posted_ = true;
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->WriteQueuedNow(); });
}

void Conn::WriteQueuedNow() {
  write_now_posted_ = false;
  if (closed_ || !writer_waiting_ || out_.empty()) return;
  const size_t bytes = GatherChunk();
  boost::system::error_code error;
  if (!socket_.non_blocking()) socket_.non_blocking(true, error);
  size_t written = error ? 0 : socket_.write_some(gather_, error);
  if (error == asio::error::would_block || error == asio::error::try_again) {
    error.clear();
    written = 0;
  }
  if (error) {
    Close(absl::UnavailableError(absl::StrCat("write to ", address_, ": ", error.message())));
    return;
  }
  queued_bytes_ -= written;
  DropWritten(written);
  // The rest (the socket's buffer is full, or more than one chunk) goes the writer's way,
  // under write_timeout.
  if (written < bytes || !out_.empty()) wake_.cancel();
}

void Conn::SendOwned(std::string&& bytes) {
  if (bytes.size() < kOwnedPieceMin) {
    Send(bytes);
    return;
  }
  if (closed_) return;
  queued_bytes_ += bytes.size();
  out_.push_back(std::move(bytes));
  tail_open_ = false;
  WakeWriter();
}

void Conn::CloseAfterFlush() {
  if (closed_) return;
  close_after_flush_ = true;
  wake_.cancel();
}

void Conn::Close(absl::Status why) {
  if (closed_) return;
  closed_ = true;
  boost::system::error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  read_timer_.cancel();
  write_timer_.cancel();
  wake_.cancel();
  // Posted so that the owner never sees its connection vanish inside one of its own calls.
  asio::post(socket_.get_executor(), [self = shared_from_this(), why = std::move(why)] {
    if (self->callbacks_.on_closed) self->callbacks_.on_closed(why);
  });
}

asio::awaitable<void> Conn::Run(std::shared_ptr<Conn> self) {
  absl::Status status = co_await self->Handshake();
  if (!status.ok()) {
    self->Close(std::move(status));
    co_return;
  }
  if (self->closed_) co_return;
  asio::co_spawn(self->socket_.get_executor(), Writer(self), [self](std::exception_ptr error) {
    if (error) self->Close(absl::InternalError("writer failed"));
  });
  if (self->tls_ == nullptr) {
    self->read_watchdog_ = true;
    self->last_read_ = std::chrono::steady_clock::now();
    asio::co_spawn(self->socket_.get_executor(), ReadWatchdog(self),
                   [self](std::exception_ptr error) {
                     if (error) self->Close(absl::InternalError("read watchdog failed"));
                   });
  }
  co_await self->ReadLoop();
}

asio::awaitable<absl::Status> Conn::Handshake() {
  absl::StatusOr<std::pair<std::string, std::string>> host_port = SplitAddress(address_);
  if (!host_port.ok()) co_return host_port.status();
  const std::string host = host_port->first;
  const std::string port = host_port->second;
  tcp::resolver resolver(socket_.get_executor());
  auto resolved = co_await resolver.async_resolve(host, port, kUseAwaitable);
  if (std::get<0>(resolved)) {
    co_return absl::UnavailableError(
        absl::StrCat("resolve ", address_, ": ", std::get<0>(resolved).message()));
  }
  const tcp::resolver::results_type endpoints = std::get<1>(resolved);
  write_timer_.expires_after(config_.dial_timeout);
  boost::system::error_code connect_error;
  if (config_.local_addr.empty()) {
    auto connected = co_await (asio::async_connect(socket_, endpoints, kUseAwaitable) ||
                               write_timer_.async_wait(kUseAwaitable));
    if (connected.index() == 1) {
      co_return absl::DeadlineExceededError(absl::StrCat("dial ", address_, ": timed out"));
    }
    connect_error = std::get<0>(std::get<0>(connected));
  } else {
    // From Config::local_addr: bind first, then connect to the first endpoint of its family
    // (async_connect over a range would reopen the socket and lose the binding).
    absl::StatusOr<tcp::endpoint> local = LocalEndpoint(config_.local_addr);
    if (!local.ok()) co_return local.status();
    tcp::endpoint remote;
    bool found = false;
    for (const auto& entry : endpoints) {
      if (entry.endpoint().protocol() == local->protocol()) {
        remote = entry.endpoint();
        found = true;
        break;
      }
    }
    if (!found) {
      co_return absl::UnavailableError(absl::StrCat(
          "dial ", address_, ": no address of the same family as local_addr ", config_.local_addr));
    }
    boost::system::error_code ec;
    socket_.open(local->protocol(), ec);
    if (!ec) socket_.bind(*local, ec);
    if (ec) {
      co_return absl::UnavailableError(
          absl::StrCat("bind to local_addr ", config_.local_addr, ": ", ec.message()));
    }
    auto connected = co_await (socket_.async_connect(remote, kUseAwaitable) ||
                               write_timer_.async_wait(kUseAwaitable));
    if (connected.index() == 1) {
      co_return absl::DeadlineExceededError(absl::StrCat("dial ", address_, ": timed out"));
    }
    connect_error = std::get<0>(std::get<0>(connected));
  }
  if (connect_error) {
    co_return absl::UnavailableError(
        absl::StrCat("dial ", address_, ": ", connect_error.message()));
  }
  if (closed_) co_return absl::CancelledError("closed");
  boost::system::error_code ignored;
  socket_.set_option(tcp::no_delay(true), ignored);

  std::string hello(protocol::kMagicV2);
  protocol::EncodeIdentify(protocol::EncodeIdentifyRequest(IdentifyRequestFor(config_)), &hello);
  absl::Status status = co_await WriteAll(hello);
  if (!status.ok()) co_return status;

  protocol::Frame frame;
  status = co_await ReadHandshakeFrame(&frame);
  if (!status.ok()) co_return status;
  if (frame.type == protocol::FrameType::kError) co_return StatusFromErrorFrame(frame.data);
  protocol::IdentifyResponse negotiated;
  if (frame.data != protocol::kOk) {
    absl::StatusOr<protocol::IdentifyResponse> parsed = protocol::ParseIdentifyResponse(frame.data);
    if (!parsed.ok()) {
      co_return absl::InternalError(
          absl::StrCat("IDENTIFY reply: ", std::string(parsed.status().message())));
    }
    negotiated = *parsed;
  }

  if (config_.tls_v1 && !negotiated.tls_v1) {
    // Going on in clear would hand the traffic (and the AUTH secret) to anyone who can strip
    // tls_v1 from the reply.
    co_return absl::UnavailableError(
        absl::StrCat("TLS with ", address_,
                     " failed: nsqd did not agree to tls_v1 (is it started with --tls-cert and "
                     "--tls-key?)"));
  }
  if (negotiated.tls_v1) {
    status = co_await UpgradeTls(host);
    if (!status.ok()) co_return status;
  }
  if (negotiated.snappy || negotiated.deflate) {
    status = StartCompression(negotiated);
    if (!status.ok()) co_return status;
    // nsqd's OK is the first thing in the compressed stream (and may have arrived already).
    status = co_await ReadFrame(&frame);
    if (!status.ok()) co_return status;
    if (frame.type == protocol::FrameType::kError) co_return StatusFromErrorFrame(frame.data);
    if (frame.data != protocol::kOk) {
      co_return absl::DataLossError(absl::StrCat(compression_, " stream from ", address_,
                                                 " did not start with OK: ", frame.data));
    }
    CLIENT_LOG(config_, LogLevel::kInfo, "(%s) upgraded to %s", address_, compression_);
  } else if (config_.snappy || config_.deflate) {
    CLIENT_LOG(config_, LogLevel::kInfo, "(%s) nsqd declined %s: not compressing", address_,
               config_.snappy ? "snappy" : "deflate");
  }

  if (negotiated.auth_required) {
    status = co_await Authenticate();
    if (!status.ok()) co_return status;
  }
  if (closed_) co_return absl::CancelledError("closed");
  if (callbacks_.on_ready) callbacks_.on_ready(negotiated);
  co_return absl::OkStatus();
}

asio::awaitable<absl::Status> Conn::UpgradeTls(const std::string& host) {
  if (tls_context_ == nullptr) {
    co_return absl::UnavailableError(
        absl::StrCat("TLS with ", address_, " failed: nsqd upgraded to TLS unasked"));
  }
  tls_ = std::make_unique<TlsStream>(socket_, *tls_context_);
  absl::Status status = PrepareClientTls(tls_->native_handle(), config_.tls_config, host);
  if (!status.ok()) co_return status;
  read_timer_.expires_after(config_.read_timeout);
  auto handshake = co_await (tls_->async_handshake(asio::ssl::stream_base::client, kUseAwaitable) ||
                             read_timer_.async_wait(kUseAwaitable));
  if (handshake.index() == 1) {
    co_return absl::UnavailableError(
        absl::StrCat("TLS handshake with ", address_, " failed: timed out (read_timeout)"));
  }
  const boost::system::error_code error = std::get<0>(std::get<0>(handshake));
  if (error) {
    co_return absl::UnavailableError(
        absl::StrCat("TLS handshake with ", address_,
                     " failed: ", DescribeTlsFailure(tls_->native_handle(), error.message())));
  }
  // With TLS 1.3 nsqd judges the client certificate after the client's side of the handshake
  // is done: a refusal shows up as an alert in place of this OK.
  protocol::Frame frame;
  status = co_await ReadHandshakeFrame(&frame);
  if (!status.ok()) {
    co_return absl::UnavailableError(absl::StrCat(
        "TLS with ", address_, " failed after the handshake: ", std::string(status.message())));
  }
  if (frame.type == protocol::FrameType::kError) co_return StatusFromErrorFrame(frame.data);
  if (frame.data != protocol::kOk) {
    co_return absl::DataLossError(
        absl::StrCat("TLS with ", address_, ": expected OK from nsqd, got ", frame.data));
  }
  CLIENT_LOG(config_, LogLevel::kInfo, "(%s) upgraded to TLS (%s)", address_,
             TlsVersion(tls_->native_handle()));
  co_return absl::OkStatus();
}

absl::Status Conn::StartCompression(const protocol::IdentifyResponse& negotiated) {
  if (negotiated.snappy) {
    compressor_ = protocol::NewSnappyCompressor();
    decompressor_ = protocol::NewSnappyDecompressor();
    compression_ = "snappy";
  } else {
    // Our own output at our level; nsqd compresses at the level it answered with.
    compressor_ = protocol::NewDeflateCompressor(config_.deflate_level);
    decompressor_ = protocol::NewDeflateDecompressor();
    compression_ = "deflate";
  }
  if (compressor_ == nullptr || decompressor_ == nullptr) {
    return absl::InternalError(absl::StrCat("cannot start ", compression_));
  }
  return absl::OkStatus();
}

asio::awaitable<absl::Status> Conn::Authenticate() {
  if (config_.auth_secret.empty()) {
    co_return absl::PermissionDeniedError(
        absl::StrCat("nsqd ", address_, " requires AUTH but auth_secret is empty"));
  }
  std::string auth;
  protocol::EncodeAuth(config_.auth_secret, &auth);
  absl::Status status = co_await WriteAll(auth);
  if (!status.ok()) co_return status;
  protocol::Frame frame;
  status = co_await ReadFrame(&frame);
  if (!status.ok()) co_return status;
  if (frame.type == protocol::FrameType::kError) co_return StatusFromErrorFrame(frame.data);
  // {"identity":"...","identity_url":"...","permission_count":N}
  boost::system::error_code ec;
  const boost::json::value reply = boost::json::parse(frame.data, ec);
  const boost::json::object* object = ec ? nullptr : reply.if_object();
  const boost::json::value* identity = object ? object->if_contains("identity") : nullptr;
  const boost::json::value* url = object ? object->if_contains("identity_url") : nullptr;
  const boost::json::value* count = object ? object->if_contains("permission_count") : nullptr;
  if (identity == nullptr || !identity->is_string() || (url != nullptr && !url->is_string()) ||
      count == nullptr || !count->is_int64()) {
    co_return absl::InternalError(
        absl::StrCat("AUTH reply from ", address_, " is not the expected JSON: ", frame.data));
  }
  CLIENT_LOG(config_, LogLevel::kInfo, "(%s) authenticated as \"%s\"%s with %d permissions",
             address_, std::string(identity->as_string()),
             url != nullptr && !url->as_string().empty()
                 ? absl::StrCat(" (", std::string(url->as_string()), ")")
                 : std::string(),
             count->as_int64());
  co_return absl::OkStatus();
}

asio::awaitable<void> Conn::ReadWatchdog(std::shared_ptr<Conn> self) {
  while (!self->closed_) {
    const std::chrono::steady_clock::time_point deadline =
        self->last_read_ + self->config_.read_timeout;
    if (std::chrono::steady_clock::now() >= deadline) {
      self->Close(absl::DeadlineExceededError(
          absl::StrCat("no data from ", self->address_, " within read_timeout")));
      co_return;
    }
    self->read_timer_.expires_at(deadline);
    auto waited = co_await self->read_timer_.async_wait(kUseAwaitable);
    (void)waited;
  }
}

asio::awaitable<void> Conn::ReadLoop() {
  in_read_loop_ = true;
  protocol::Frame frame;
  while (!closed_) {
    absl::Status status = co_await ReadFrame(&frame);
    if (!status.ok()) {
      Close(std::move(status));
      co_return;
    }
    if (frame.type == protocol::FrameType::kResponse && frame.data == protocol::kHeartbeat) {
      CLIENT_LOG(config_, LogLevel::kDebug, "(%s) heartbeat received", address_);
      std::string nop;
      protocol::EncodeNop(&nop);
      Send(nop);
      continue;
    }
    if (callbacks_.on_frame) callbacks_.on_frame(frame);
  }
}

asio::awaitable<void> Conn::Writer(std::shared_ptr<Conn> self) {
  while (!self->closed_) {
    if (self->out_.empty()) {
      if (self->close_after_flush_) {
        self->Close(absl::OkStatus());
        co_return;
      }
      self->wake_.expires_at(asio::steady_timer::time_point::max());
      self->writer_waiting_ = true;
      co_await self->wake_.async_wait(kUseAwaitable);
      self->writer_waiting_ = false;
      continue;
    }
    absl::Status status = co_await self->WriteChunk();
    if (!status.ok()) {
      self->Close(std::move(status));
      co_return;
    }
  }
}

size_t Conn::GatherChunk() {
  // Asio writes at most 64 buffers per system call; more would not help.
  constexpr size_t kMaxBuffers = 64;
  gather_.clear();
  size_t bytes = 0;
  size_t pieces = 0;
  for (; pieces < out_.size() && gather_.size() < kMaxBuffers && bytes < kWriteChunk; ++pieces) {
    std::string_view piece = out_[pieces];
    if (pieces == 0) piece.remove_prefix(out_offset_);
    const size_t take = std::min(piece.size(), kWriteChunk - bytes);
    gather_.push_back(asio::buffer(piece.data(), take));
    bytes += take;
  }
  locked_pieces_ = pieces;
  return bytes;
}

void Conn::DropWritten(size_t bytes) {
  locked_pieces_ = 0;
  while (bytes > 0) {
    const size_t left = out_.front().size() - out_offset_;
    if (bytes < left) {
      out_offset_ += bytes;
      break;
    }
    bytes -= left;
    out_.pop_front();
    out_offset_ = 0;
  }
  if (out_.empty()) tail_open_ = false;
}

asio::awaitable<absl::Status> Conn::WriteChunk() {
  const size_t bytes = GatherChunk();
  absl::Status status;
  if (tls_ == nullptr && compressor_ == nullptr) {
    write_timer_.expires_after(config_.write_timeout);
    auto result = co_await (asio::async_write(socket_, gather_, kUseAwaitable) ||
                            write_timer_.async_wait(kUseAwaitable));
    size_t n = 0;
    status = IoOutcome(result, "write to", address_, &n);
  } else {
    flat_.clear();
    for (const asio::const_buffer& buffer : gather_) {
      flat_.append(static_cast<const char*>(buffer.data()), buffer.size());
    }
    status = co_await WriteAll(flat_);
  }
  locked_pieces_ = 0;
  if (!status.ok()) co_return status;
  queued_bytes_ -= bytes;
  DropWritten(bytes);
  co_return absl::OkStatus();
}

absl::Status Conn::ReadError(const boost::system::error_code& error) const {
  return absl::UnavailableError(absl::StrCat("read from ", address_, ": ", error.message()));
}


asio::awaitable<absl::Status> Conn::ReadFrame(protocol::Frame* out) {
  while (true) {
    if (decoder_.Next(out)) co_return absl::OkStatus();
    if (!decoder_.status().ok()) {
      co_return absl::DataLossError(
          absl::StrCat("bad frame from nsqd: ", std::string(decoder_.status().message())));
    }
    if (closed_) co_return absl::CancelledError("closed");
    if (decompressor_ != nullptr) {
      // Decompressed in bounded pieces: a small read can expand a lot.
      absl::StatusOr<size_t> got = decompressor_->Read(read_buffer_.size(), &plain_);
      if (!got.ok()) {
        // The codec's message starts "corrupt snappy stream: ..." (or deflate).
        co_return absl::DataLossError(
            absl::StrCat(std::string(got.status().message()), " (from ", address_, ")"));
      }
      if (*got > 0) {
        decoder_.Feed(plain_);
        plain_.clear();
        continue;
      }
    }
    // Everything read so far has been handed out: the owner may act on the batch as a whole.
    if (in_read_loop_ && callbacks_.on_read_end) {
      callbacks_.on_read_end();
      if (closed_) co_return absl::CancelledError("closed");
    }
    auto buffer = asio::buffer(read_buffer_);
    size_t n = 0;
    if (read_watchdog_) {
      auto result = co_await socket_.async_read_some(buffer, kUseAwaitable);
      const boost::system::error_code error = std::get<0>(result);
      if (error) co_return ReadError(error);
      n = std::get<1>(result);
      last_read_ = std::chrono::steady_clock::now();
    } else if (tls_ == nullptr) {
      read_timer_.expires_after(config_.read_timeout);
      auto result = co_await (socket_.async_read_some(buffer, kUseAwaitable) ||
                              read_timer_.async_wait(kUseAwaitable));
      if (result.index() == 1) {
        co_return absl::DeadlineExceededError(
            absl::StrCat("no data from ", address_, " within read_timeout"));
      }
      const boost::system::error_code error = std::get<0>(std::get<0>(result));
      if (error) co_return ReadError(error);
      n = std::get<1>(std::get<0>(result));
    } else {
      read_timer_.expires_after(config_.read_timeout);
      auto result = co_await (tls_->async_read_some(buffer, kUseAwaitable) ||
                              read_timer_.async_wait(kUseAwaitable));
      if (result.index() == 1) {
        co_return absl::DeadlineExceededError(
            absl::StrCat("no data from ", address_, " within read_timeout"));
      }
      const boost::system::error_code error = std::get<0>(std::get<0>(result));
      if (error) co_return ReadError(error);
      n = std::get<1>(std::get<0>(result));
    }
    const std::string_view input(read_buffer_.data(), n);
    if (decompressor_ != nullptr) {
      decompressor_->Feed(input);
    } else {
      decoder_.Feed(input);
    }
  }
}

asio::awaitable<absl::Status> Conn::ReadExactly(char* data, size_t size) {
  read_timer_.expires_after(config_.read_timeout);
  auto buffer = asio::buffer(data, size);
  size_t n = 0;
  if (tls_ == nullptr) {
    auto result = co_await (asio::async_read(socket_, buffer, kUseAwaitable) ||
                            read_timer_.async_wait(kUseAwaitable));
    co_return IoOutcome(result, "read from", address_, &n);
  }
  auto result = co_await (asio::async_read(*tls_, buffer, kUseAwaitable) ||
                          read_timer_.async_wait(kUseAwaitable));
  co_return IoOutcome(result, "read from", address_, &n);
}

asio::awaitable<absl::Status> Conn::ReadHandshakeFrame(protocol::Frame* out) {
  // [size][type] first: every frame has both.
  std::string frame(8, '\0');
  absl::Status status = co_await ReadExactly(frame.data(), frame.size());
  if (!status.ok()) co_return status;
  const uint32_t size = protocol::LoadBigEndian32(frame.data());
  if (size < 4 || size > kMaxHandshakeFrameSize) {
    co_return absl::DataLossError(
        absl::StrCat("bad frame from ", address_, " during the handshake: size ", size));
  }
  frame.resize(4 + size);
  if (size > 4) {
    status = co_await ReadExactly(frame.data() + 8, size - 4);
    if (!status.ok()) co_return status;
  }
  protocol::FrameDecoder decoder(kMaxHandshakeFrameSize);
  decoder.Feed(frame);
  if (!decoder.Next(out)) {
    co_return absl::DataLossError(
        absl::StrCat("bad frame from ", address_, ": ", std::string(decoder.status().message())));
  }
  co_return absl::OkStatus();
}

asio::awaitable<absl::Status> Conn::WriteAll(const std::string& bytes) {
  const std::string* data = &bytes;
  if (compressor_ != nullptr) {
    compressed_.clear();
    absl::Status status = compressor_->Write(bytes, &compressed_);
    if (!status.ok()) {
      co_return absl::InternalError(
          absl::StrCat(compression_, " to ", address_, ": ", std::string(status.message())));
    }
    data = &compressed_;
  }
  write_timer_.expires_after(config_.write_timeout);
  auto buffer = asio::buffer(*data);
  size_t n = 0;
  if (tls_ == nullptr) {
    auto result = co_await (asio::async_write(socket_, buffer, kUseAwaitable) ||
                            write_timer_.async_wait(kUseAwaitable));
    co_return IoOutcome(result, "write to", address_, &n);
  }
  auto result = co_await (asio::async_write(*tls_, buffer, kUseAwaitable) ||
                          write_timer_.async_wait(kUseAwaitable));
  co_return IoOutcome(result, "write to", address_, &n);
}

}  // namespace nsq::client::internal
