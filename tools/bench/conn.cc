#include "tools/bench/conn.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_format.h"
#include "common/protocol/command.h"

namespace nsq::bench {
namespace {

// One read() can bring in hundreds of messages; a large buffer keeps syscalls per message low.
constexpr size_t kReadBufferSize = 1 << 20;
// How often a blocked read or write looks at the stop flag.
constexpr int kPollSliceMs = 50;

absl::Status ErrnoError(std::string_view what) {
  return absl::UnavailableError(absl::StrFormat("%s: %s", what, std::strerror(errno)));
}

}  // namespace

absl::Status NsqdError(std::string_view frame_text) {
  return absl::FailedPreconditionError(absl::StrFormat("nsqd error: %s", frame_text));
}

absl::StatusOr<std::unique_ptr<BenchConn>> BenchConn::Connect(std::string_view address,
                                                              const std::atomic<bool>* stop) {
  size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrFormat("bad address \"%s\"", address));
  }
  std::string host(address.substr(0, colon));
  std::string port(address.substr(colon + 1));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }

  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return absl::UnavailableError(absl::StrFormat("resolve %s: %s", address, gai_strerror(rc)));
  }
  int fd = -1;
  absl::Status last_error = absl::UnavailableError(absl::StrFormat("no address for %s", address));
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd < 0) {
      last_error = ErrnoError("socket");
      continue;
    }
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) break;
    last_error = ErrnoError(absl::StrFormat("connect %s", address));
    close(fd);
    fd = -1;
  }
  freeaddrinfo(found);
  if (fd < 0) return last_error;

  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  // A send timeout turns a write stuck on a peer that stopped reading into a chance to look
  // at the stop flag.
  timeval send_timeout{.tv_sec = 0, .tv_usec = kPollSliceMs * 1000};
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof(send_timeout));
  return std::unique_ptr<BenchConn>(new BenchConn(fd, stop));
}

BenchConn::BenchConn(int fd, const std::atomic<bool>* stop)
    : fd_(fd), stop_(stop), read_buffer_(new char[kReadBufferSize]) {}

BenchConn::~BenchConn() { close(fd_); }

absl::Status BenchConn::Handshake(std::string_view identify_json) {
  std::string out(protocol::kMagicV2);
  protocol::EncodeIdentify(identify_json, &out);
  if (absl::Status status = Write(out); !status.ok()) return status;
  protocol::Frame frame;
  if (absl::Status status = ReadResponse(&frame); !status.ok()) return status;
  if (frame.data != protocol::kOk) {
    return absl::FailedPreconditionError(
        absl::StrFormat("IDENTIFY: expected OK, got \"%s\"", frame.data));
  }
  return absl::OkStatus();
}

absl::Status BenchConn::Write(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (stop_->load(std::memory_order_relaxed)) return absl::CancelledError("stopped");
      continue;
    }
    return ErrnoError("write");
  }
  return absl::OkStatus();
}

absl::Status BenchConn::Fill() {
  while (true) {
    if (stop_->load(std::memory_order_relaxed)) return absl::CancelledError("stopped");
    pollfd pfd{.fd = fd_, .events = POLLIN, .revents = 0};
    int ready = poll(&pfd, 1, kPollSliceMs);
    if (ready < 0 && errno != EINTR) return ErrnoError("poll");
    if (ready <= 0) continue;
    ssize_t n = read(fd_, read_buffer_.get(), kReadBufferSize);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError("read");
    if (n == 0) return absl::UnavailableError("connection closed by nsqd");
    decoder_.Feed(std::string_view(read_buffer_.get(), static_cast<size_t>(n)));
    return absl::OkStatus();
  }
}

bool BenchConn::NextBufferedFrame(protocol::Frame* frame) { return decoder_.Next(frame); }

absl::Status BenchConn::ReadFrame(protocol::Frame* frame) {
  while (!decoder_.Next(frame)) {
    if (!decoder_.status().ok()) {
      return absl::DataLossError(absl::StrFormat("bad frame: %s", decoder_.status().message()));
    }
    if (absl::Status status = Fill(); !status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status BenchConn::ReadResponse(protocol::Frame* frame) {
  while (true) {
    if (absl::Status status = ReadFrame(frame); !status.ok()) return status;
    if (frame->type == protocol::FrameType::kError) return NsqdError(frame->data);
    if (frame->type == protocol::FrameType::kMessage) {
      return absl::FailedPreconditionError("unexpected message frame while awaiting a response");
    }
    if (frame->data != protocol::kHeartbeat) return absl::OkStatus();
    std::string nop;
    protocol::EncodeNop(&nop);
    if (absl::Status status = Write(nop); !status.ok()) return status;
  }
}

}  // namespace nsq::bench
