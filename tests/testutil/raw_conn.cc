#include "tests/testutil/raw_conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/protocol/command.h"

namespace nsq::testutil {
namespace {

using Clock = std::chrono::steady_clock;

// Debian's abseil has its own string_view type, not an alias of std::string_view; absl
// string functions need this explicit conversion.
absl::string_view Av(std::string_view s) { return absl::string_view(s.data(), s.size()); }

constexpr uint32_t kMaxFrameSize = 64u << 20;

uint32_t ReadBigEndian32(std::string_view bytes) {
  return (uint32_t{static_cast<uint8_t>(bytes[0])} << 24) |
         (uint32_t{static_cast<uint8_t>(bytes[1])} << 16) |
         (uint32_t{static_cast<uint8_t>(bytes[2])} << 8) | uint32_t{static_cast<uint8_t>(bytes[3])};
}

std::string Shorten(std::string_view bytes) {
  constexpr size_t kMax = 200;
  std::string out = absl::CHexEscape(Av(bytes.substr(0, kMax)));
  if (bytes.size() > kMax) absl::StrAppend(&out, "...(", bytes.size(), " bytes)");
  return out;
}

}  // namespace

std::string DescribeFrame(const protocol::Frame& frame) {
  switch (frame.type) {
    case protocol::FrameType::kResponse:
      return absl::StrCat("response \"", Shorten(frame.data), "\"");
    case protocol::FrameType::kError:
      return absl::StrCat("error \"", Shorten(frame.data), "\"");
    case protocol::FrameType::kMessage: {
      absl::StatusOr<protocol::Message> message = protocol::DecodeMessage(frame.data);
      if (!message.ok()) return absl::StrCat("undecodable message \"", Shorten(frame.data), "\"");
      return absl::StrCat("message id=", Av(message->id.view()), " attempts=", message->attempts,
                          " body=\"", Shorten(message->body.view()), "\"");
    }
  }
  return absl::StrCat("frame of type ", static_cast<int>(frame.type));
}

absl::StatusOr<std::unique_ptr<RawConn>> RawConn::Connect(uint16_t port,
                                                         int receive_buffer_bytes) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
  // Before connect, so the advertised window follows it.
  if (receive_buffer_bytes > 0) {
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer_bytes, sizeof(receive_buffer_bytes));
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int rc;
  do {
    rc = connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address));
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    int error = errno;
    close(fd);
    return absl::UnavailableError(
        absl::StrCat("connect to 127.0.0.1:", port, ": ", std::strerror(error)));
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  // A peer that stops reading must fail a send, not hang the test.
  timeval send_timeout{.tv_sec = 10, .tv_usec = 0};
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof(send_timeout));
  return std::unique_ptr<RawConn>(new RawConn(fd));
}

RawConn::~RawConn() { Close(); }

uint16_t RawConn::LocalPort() const {
  sockaddr_in address{};
  socklen_t size = sizeof(address);
  if (fd_ < 0 || getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &size) != 0) return 0;
  return ntohs(address.sin_port);
}

void RawConn::Close() {
  if (ssl_ != nullptr) SSL_free(ssl_);
  if (ssl_ctx_ != nullptr) SSL_CTX_free(ssl_ctx_);
  ssl_ = nullptr;
  ssl_ctx_ = nullptr;
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

namespace {

std::string SslErrors() {
  std::string text;
  while (unsigned long code = ERR_get_error()) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof(buffer));
    absl::StrAppend(&text, text.empty() ? "" : "; ", buffer);
  }
  return text.empty() ? "no OpenSSL error" : text;
}

// Waits until `fd` is readable (or writable) or `until` passes.
absl::Status WaitFd(int fd, short events, std::chrono::steady_clock::time_point until) {
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    pollfd p{fd, events, 0};
    int ready = poll(&p, 1, static_cast<int>(std::max<int64_t>(0, left.count())));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return absl::InternalError(absl::StrCat("poll: ", std::strerror(errno)));
    if (ready == 0) return absl::DeadlineExceededError("timed out waiting for data");
    return absl::OkStatus();
  }
}

}  // namespace

absl::Status RawConn::StartTls(const TlsOptions& options, Millis timeout) {
  if (!buffer_.empty()) return absl::FailedPreconditionError("unread bytes before the handshake");
  ssl_ctx_ = SSL_CTX_new(TLS_client_method());
  if (!options.ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ssl_ctx_, options.ca_file.c_str(), nullptr) != 1) {
      return absl::InvalidArgumentError(SslErrors());
    }
    SSL_CTX_set_verify(ssl_ctx_, SSL_VERIFY_PEER, nullptr);
  }
  if (!options.cert_file.empty() &&
      (SSL_CTX_use_certificate_file(ssl_ctx_, options.cert_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
       SSL_CTX_use_PrivateKey_file(ssl_ctx_, options.key_file.c_str(), SSL_FILETYPE_PEM) != 1)) {
    return absl::InvalidArgumentError(SslErrors());
  }
  if (options.max_version == "tls1.2") SSL_CTX_set_max_proto_version(ssl_ctx_, TLS1_2_VERSION);
  if (options.max_version == "tls1.1") SSL_CTX_set_max_proto_version(ssl_ctx_, TLS1_1_VERSION);
  ssl_ = SSL_new(ssl_ctx_);
  SSL_set_fd(ssl_, fd_);
  SSL_set_tlsext_host_name(ssl_, options.server_name.c_str());
  if (!options.ca_file.empty()) SSL_set1_host(ssl_, options.server_name.c_str());
  const auto until = Clock::now() + timeout;
  while (true) {
    const int rc = SSL_connect(ssl_);
    if (rc == 1) return absl::OkStatus();
    const int error = SSL_get_error(ssl_, rc);
    if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
      absl::Status waited = WaitFd(fd_, error == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, until);
      if (!waited.ok()) return waited;
      continue;
    }
    return absl::UnavailableError(absl::StrCat("TLS handshake: ", SslErrors()));
  }
}

std::string RawConn::TlsVersion() const { return ssl_ != nullptr ? SSL_get_version(ssl_) : ""; }

void RawConn::EnableCompression(std::unique_ptr<protocol::StreamCompressor> compressor,
                                std::unique_ptr<protocol::StreamDecompressor> decompressor) {
  compressor_ = std::move(compressor);
  decompressor_ = std::move(decompressor);
  // What already arrived past the last frame read is the start of the compressed stream.
  std::string raw;
  raw.swap(buffer_);
  decompressor_->Feed(raw);
  while (true) {
    absl::StatusOr<size_t> got = decompressor_->Read(1 << 20, &buffer_);
    if (!got.ok() || *got == 0) break;
  }
}

void RawConn::ShutdownWrite() {
  if (fd_ >= 0) shutdown(fd_, SHUT_WR);
}

absl::Status RawConn::Send(std::string_view bytes) {
  if (fd_ < 0) return absl::FailedPreconditionError("connection closed locally");
  if (compressor_) {
    std::string compressed;
    absl::Status status = compressor_->Write(bytes, &compressed);
    if (!status.ok()) return status;
    return SendWire(compressed);
  }
  return SendWire(bytes);
}

absl::Status RawConn::SendWire(std::string_view bytes) {
  if (ssl_ != nullptr) {
    while (!bytes.empty()) {
      const int n = SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size()));
      if (n <= 0) return absl::UnavailableError(absl::StrCat("TLS send: ", SslErrors()));
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return absl::OkStatus();
  }
  while (!bytes.empty()) {
    // MSG_NOSIGNAL: a peer that closed must fail the send, not kill the test with SIGPIPE.
    ssize_t n = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::UnavailableError(absl::StrCat("send: ", std::strerror(errno)));
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::Status RawConn::SendMagic() { return Send(protocol::kMagicV2); }

absl::Status RawConn::Identify(std::string_view json) {
  std::string out;
  protocol::EncodeIdentify(json, &out);
  return Send(out);
}

absl::Status RawConn::Auth(std::string_view secret) {
  std::string out;
  protocol::EncodeAuth(secret, &out);
  return Send(out);
}

absl::Status RawConn::Sub(std::string_view topic, std::string_view channel) {
  std::string out;
  protocol::EncodeSub(topic, channel, &out);
  return Send(out);
}

absl::Status RawConn::Pub(std::string_view topic, std::string_view body) {
  std::string out;
  protocol::EncodePub(topic, body, &out);
  return Send(out);
}

absl::Status RawConn::Mpub(std::string_view topic, const std::vector<std::string>& bodies) {
  std::vector<std::string_view> views(bodies.begin(), bodies.end());
  std::string out;
  protocol::EncodeMpub(topic, views, &out);
  return Send(out);
}

absl::Status RawConn::Dpub(std::string_view topic, int64_t defer_ms, std::string_view body) {
  std::string out;
  protocol::EncodeDpub(topic, defer_ms, body, &out);
  return Send(out);
}

absl::Status RawConn::Rdy(int64_t count) {
  std::string out;
  protocol::EncodeRdy(count, &out);
  return Send(out);
}

absl::Status RawConn::Fin(std::string_view id) {
  std::string out;
  protocol::EncodeFin(id, &out);
  return Send(out);
}

absl::Status RawConn::Req(std::string_view id, int64_t delay_ms) {
  std::string out;
  protocol::EncodeReq(id, delay_ms, &out);
  return Send(out);
}

absl::Status RawConn::Touch(std::string_view id) {
  std::string out;
  protocol::EncodeTouch(id, &out);
  return Send(out);
}

absl::Status RawConn::Cls() {
  std::string out;
  protocol::EncodeCls(&out);
  return Send(out);
}

absl::Status RawConn::Nop() {
  std::string out;
  protocol::EncodeNop(&out);
  return Send(out);
}

absl::Status RawConn::Fill(Clock::time_point until) {
  if (closed_) return absl::UnavailableError(absl::StrCat("closed by peer (", closed_reason_, ")"));
  if (fd_ < 0) return absl::FailedPreconditionError("connection closed locally");
  while (true) {
    absl::StatusOr<std::string> wire = ReceiveWire(until);
    if (!wire.ok()) return wire.status();
    if (!decompressor_) {
      buffer_.append(*wire);
      return absl::OkStatus();
    }
    decompressor_->Feed(*wire);
    const size_t before = buffer_.size();
    while (true) {
      absl::StatusOr<size_t> got = decompressor_->Read(1 << 20, &buffer_);
      if (!got.ok()) return absl::DataLossError(absl::StrCat("decompressing: ", got.status().message()));
      if (*got == 0) break;
    }
    if (buffer_.size() > before) return absl::OkStatus();
    // A compressed chunk is not complete yet: read more.
  }
}

absl::StatusOr<std::string> RawConn::ReceiveWire(Clock::time_point until) {
  if (ssl_ != nullptr) {
    while (true) {
      if (SSL_pending(ssl_) == 0) {
        absl::Status waited = WaitFd(fd_, POLLIN, until);
        if (!waited.ok()) return waited;
      }
      char chunk[65536];
      const int n = SSL_read(ssl_, chunk, sizeof(chunk));
      if (n > 0) return std::string(chunk, static_cast<size_t>(n));
      const int error = SSL_get_error(ssl_, n);
      if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) continue;
      closed_ = true;
      closed_reason_ = error == SSL_ERROR_ZERO_RETURN ? "TLS close" : "EOF";
      return absl::UnavailableError(absl::StrCat("closed by peer (", closed_reason_, ")"));
    }
  }
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
    pollfd p{fd_, POLLIN, 0};
    int ready = poll(&p, 1, static_cast<int>(std::max<int64_t>(0, left.count())));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return absl::InternalError(absl::StrCat("poll: ", std::strerror(errno)));
    if (ready == 0) return absl::DeadlineExceededError("timed out waiting for data");
    char chunk[65536];
    ssize_t n = recv(fd_, chunk, sizeof(chunk), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n > 0) return std::string(chunk, static_cast<size_t>(n));
    closed_ = true;
    closed_reason_ = n == 0 ? "EOF" : std::strerror(errno);
    return absl::UnavailableError(absl::StrCat("closed by peer (", closed_reason_, ")"));
  }
}

absl::StatusOr<std::string> RawConn::ReadRaw(size_t n, Millis timeout) {
  const auto until = Clock::now() + timeout;
  while (buffer_.size() < n) {
    absl::Status status = Fill(until);
    if (!status.ok()) {
      return absl::Status(status.code(), absl::StrCat(status.message(), " after ", buffer_.size(),
                                                      " of ", n, " bytes"));
    }
  }
  std::string out = buffer_.substr(0, n);
  buffer_.erase(0, n);
  return out;
}

absl::StatusOr<protocol::Frame> RawConn::ReadOneFrame(Clock::time_point until) {
  while (buffer_.size() < 4) {
    absl::Status status = Fill(until);
    if (!status.ok()) return status;
  }
  const uint32_t size = ReadBigEndian32(buffer_);
  if (size < 4 || size > kMaxFrameSize) {
    return absl::DataLossError(absl::StrCat("frame size field ", size, " is out of range"));
  }
  while (buffer_.size() < 4 + size) {
    absl::Status status = Fill(until);
    if (!status.ok()) return status;
  }
  // Feed the decoder exactly one frame so that ReadRaw can still take the bytes after it.
  decoder_.Feed(std::string_view(buffer_).substr(0, 4 + size));
  buffer_.erase(0, 4 + size);
  protocol::Frame frame;
  if (!decoder_.Next(&frame)) {
    return absl::DataLossError(absl::StrCat("undecodable frame: ", decoder_.status().ToString()));
  }
  return frame;
}

absl::StatusOr<protocol::Frame> RawConn::ReadFrame(Millis timeout) {
  const auto until = Clock::now() + timeout;
  while (true) {
    absl::StatusOr<protocol::Frame> frame = ReadOneFrame(until);
    if (!frame.ok()) return frame;
    const bool heartbeat =
        frame->type == protocol::FrameType::kResponse && frame->data == protocol::kHeartbeat;
    if (!heartbeat || heartbeat_policy_ == HeartbeatPolicy::kReturn) return frame;
    ++heartbeats_seen_;
    if (heartbeat_policy_ == HeartbeatPolicy::kAnswer) {
      absl::Status status = Nop();
      if (!status.ok()) return status;
    }
  }
}

absl::StatusOr<protocol::Message> RawConn::ReadMessage(Millis timeout) {
  absl::StatusOr<protocol::Frame> frame = ReadFrame(timeout);
  if (!frame.ok()) {
    return absl::Status(frame.status().code(),
                        absl::StrCat("expected a message: ", frame.status().message()));
  }
  if (frame->type != protocol::FrameType::kMessage) {
    return absl::FailedPreconditionError(
        absl::StrCat("expected a message, got ", DescribeFrame(*frame)));
  }
  return protocol::DecodeMessage(frame->data);
}

absl::Status RawConn::ExpectResponse(std::string_view data, Millis timeout) {
  absl::StatusOr<protocol::Frame> frame = ReadFrame(timeout);
  if (!frame.ok()) {
    return absl::Status(frame.status().code(), absl::StrCat("expected response \"", Av(data),
                                                            "\": ", frame.status().message()));
  }
  if (frame->type != protocol::FrameType::kResponse || frame->data != data) {
    return absl::FailedPreconditionError(
        absl::StrCat("expected response \"", Av(data), "\", got ", DescribeFrame(*frame)));
  }
  return absl::OkStatus();
}

absl::Status RawConn::ExpectError(std::string_view text, Millis timeout) {
  absl::StatusOr<protocol::Frame> frame = ReadFrame(timeout);
  if (!frame.ok()) {
    return absl::Status(frame.status().code(), absl::StrCat("expected error \"", Av(text),
                                                            "\": ", frame.status().message()));
  }
  if (frame->type != protocol::FrameType::kError || frame->data != text) {
    return absl::FailedPreconditionError(
        absl::StrCat("expected error \"", Av(text), "\", got ", DescribeFrame(*frame)));
  }
  return absl::OkStatus();
}

absl::Status RawConn::ExpectNoFrame(Millis wait) {
  absl::StatusOr<protocol::Frame> frame = ReadFrame(wait);
  if (frame.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("expected nothing for ", wait.count(), " ms, got ", DescribeFrame(*frame)));
  }
  if (absl::IsDeadlineExceeded(frame.status())) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat("expected nothing for ", wait.count(), " ms, got: ", frame.status().message()));
}

bool RawConn::IsClosedByPeer(Millis timeout) {
  const auto until = Clock::now() + timeout;
  while (true) {
    absl::Status status = Fill(until);
    if (absl::IsUnavailable(status)) return true;
    if (!status.ok()) return false;
  }
}

absl::StatusOr<std::string> RawConn::ReadUntilClosed(Millis timeout) {
  if (!IsClosedByPeer(timeout)) {
    return absl::DeadlineExceededError(absl::StrCat("peer did not close within ", timeout.count(),
                                                    " ms; received \"", Shorten(buffer_), "\""));
  }
  std::string out = std::move(buffer_);
  buffer_.clear();
  return out;
}

absl::StatusOr<std::string> RawConn::ReadAvailable(Millis timeout) {
  if (buffer_.empty()) {
    absl::Status status = Fill(Clock::now() + timeout);
    if (!status.ok()) return status;
  }
  std::string out = std::move(buffer_);
  buffer_.clear();
  return out;
}

}  // namespace nsq::testutil
