#include "client/src/conn.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <exception>

#include "absl/strings/str_cat.h"
#include "client/src/log.h"
#include "common/protocol/command.h"
#include "common/protocol/errors.h"

namespace nsq::client::internal {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;

namespace {

constexpr auto kUseAwaitable = asio::as_tuple(asio::use_awaitable);

bool HasCode(std::string_view data, std::string_view code) {
  return data.size() >= code.size() && data.substr(0, code.size()) == code &&
         (data.size() == code.size() || data[code.size()] == ' ');
}

}  // namespace

absl::StatusOr<std::pair<std::string, std::string>> SplitAddress(const std::string& address) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon + 1 == address.size()) {
    return absl::InvalidArgumentError(absl::StrCat("address \"", address, "\" is not host:port"));
  }
  std::string host = address.substr(0, colon);
  std::string port = address.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) host = "127.0.0.1";
  for (char c : port) {
    if (c < '0' || c > '9') {
      return absl::InvalidArgumentError(absl::StrCat("address \"", address, "\" has a bad port"));
    }
  }
  return std::make_pair(std::move(host), std::move(port));
}

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

bool IsNonFatalError(std::string_view data) {
  return HasCode(data, protocol::kFinFailed) || HasCode(data, protocol::kReqFailed) ||
         HasCode(data, protocol::kTouchFailed);
}

Conn::Conn(asio::any_io_executor executor, std::string address, const Config& config,
           Callbacks callbacks)
    : address_(std::move(address)),
      config_(config),
      callbacks_(std::move(callbacks)),
      socket_(executor),
      read_timer_(executor),
      write_timer_(executor),
      wake_(executor) {}

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
  if (closed_) return;
  out_.append(bytes);
  // A busy writer finds the bytes when its write completes; only a waiting one needs waking
  // (cancelling the timer costs a lock in the reactor, and a consumer sends a FIN per message).
  if (writer_waiting_) wake_.cancel();
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
  auto connected = co_await (asio::async_connect(socket_, endpoints, kUseAwaitable) ||
                             write_timer_.async_wait(kUseAwaitable));
  if (connected.index() == 1) {
    co_return absl::DeadlineExceededError(absl::StrCat("dial ", address_, ": timed out"));
  }
  const boost::system::error_code connect_error = std::get<0>(std::get<0>(connected));
  if (connect_error) {
    co_return absl::UnavailableError(
        absl::StrCat("dial ", address_, ": ", connect_error.message()));
  }
  if (closed_) co_return absl::CancelledError("closed");
  boost::system::error_code ignored;
  socket_.set_option(tcp::no_delay(true), ignored);

  protocol::IdentifyRequest identify;
  identify.client_id = config_.client_id;
  identify.hostname = config_.hostname;
  identify.user_agent = config_.user_agent;
  identify.feature_negotiation = true;
  identify.heartbeat_interval = config_.heartbeat_interval.count();
  identify.output_buffer_size = config_.output_buffer_size;
  identify.output_buffer_timeout = config_.output_buffer_timeout.count();
  identify.sample_rate = config_.sample_rate;
  identify.msg_timeout = config_.msg_timeout.count();
  std::string hello(protocol::kMagicV2);
  protocol::EncodeIdentify(protocol::EncodeIdentifyRequest(identify), &hello);
  absl::Status status = co_await WriteAll(hello);
  if (!status.ok()) co_return status;

  protocol::Frame frame;
  status = co_await ReadFrame(&frame);
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

  if (negotiated.auth_required) {
    if (config_.auth_secret.empty()) {
      co_return absl::PermissionDeniedError("nsqd requires AUTH but auth_secret is empty");
    }
    std::string auth;
    protocol::EncodeAuth(config_.auth_secret, &auth);
    status = co_await WriteAll(auth);
    if (!status.ok()) co_return status;
    status = co_await ReadFrame(&frame);
    if (!status.ok()) co_return status;
    if (frame.type == protocol::FrameType::kError) co_return StatusFromErrorFrame(frame.data);
    CLIENT_LOG(config_, LogLevel::kInfo, "(%s) AUTH accepted: %s", address_, frame.data);
  }
  if (closed_) co_return absl::CancelledError("closed");
  if (callbacks_.on_ready) callbacks_.on_ready(negotiated);
  co_return absl::OkStatus();
}

asio::awaitable<void> Conn::ReadLoop() {
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
    std::string batch;
    batch.swap(self->out_);
    absl::Status status = co_await self->WriteAll(batch);
    if (!status.ok()) {
      self->Close(std::move(status));
      co_return;
    }
  }
}

asio::awaitable<absl::Status> Conn::ReadFrame(protocol::Frame* out) {
  while (true) {
    if (decoder_.Next(out)) co_return absl::OkStatus();
    if (!decoder_.status().ok()) {
      co_return absl::DataLossError(
          absl::StrCat("bad frame from nsqd: ", std::string(decoder_.status().message())));
    }
    if (closed_) co_return absl::CancelledError("closed");
    read_timer_.expires_after(config_.read_timeout);
    auto buffer = asio::buffer(read_buffer_);
    auto result = co_await (socket_.async_read_some(buffer, kUseAwaitable) ||
                            read_timer_.async_wait(kUseAwaitable));
    if (result.index() == 1) {
      co_return absl::DeadlineExceededError(
          absl::StrCat("no data from ", address_, " within read_timeout"));
    }
    const boost::system::error_code error = std::get<0>(std::get<0>(result));
    const size_t n = std::get<1>(std::get<0>(result));
    if (error) {
      co_return absl::UnavailableError(absl::StrCat("read from ", address_, ": ", error.message()));
    }
    decoder_.Feed(std::string_view(read_buffer_.data(), n));
  }
}

asio::awaitable<absl::Status> Conn::WriteAll(const std::string& bytes) {
  write_timer_.expires_after(config_.write_timeout);
  auto buffer = asio::buffer(bytes);
  auto result = co_await (asio::async_write(socket_, buffer, kUseAwaitable) ||
                          write_timer_.async_wait(kUseAwaitable));
  if (result.index() == 1) {
    co_return absl::DeadlineExceededError(absl::StrCat("write to ", address_, " timed out"));
  }
  const boost::system::error_code error = std::get<0>(std::get<0>(result));
  if (error) {
    co_return absl::UnavailableError(absl::StrCat("write to ", address_, ": ", error.message()));
  }
  co_return absl::OkStatus();
}

}  // namespace nsq::client::internal
