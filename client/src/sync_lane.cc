#include "client/src/sync_lane.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "client/src/address.h"
#include "client/src/conn.h"
#include "client/src/log.h"
#include "common/protocol/command.h"
#include "common/protocol/identify.h"

namespace nsq::client::internal {

namespace {

// Milliseconds left until `deadline` for poll(), at least 0.
int MillisLeft(std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

// Waits for `events` on `fd` until `deadline`: OK, DeadlineExceeded or the poll error.
absl::Status Await(int fd, short events, std::chrono::steady_clock::time_point deadline,
                   const std::string& what) {
  while (true) {
    pollfd p{fd, events, 0};
    const int n = poll(&p, 1, MillisLeft(deadline));
    if (n > 0) return absl::OkStatus();
    if (n == 0) return absl::DeadlineExceededError(absl::StrCat(what, ": timed out"));
    if (errno != EINTR) return absl::UnavailableError(absl::StrCat(what, ": ", strerror(errno)));
  }
}

void SetTimeout(int fd, int option, std::chrono::milliseconds timeout) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  setsockopt(fd, SOL_SOCKET, option, &tv, sizeof(tv));
}

}  // namespace

SyncLane::SyncLane(const Config& config, NodeHealth* health) : config_(config), health_(health) {}

SyncLane::~SyncLane() { Close(); }

void SyncLane::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  address_.clear();
  decoder_ = protocol::FrameDecoder();
}

absl::Status SyncLane::Connect(const std::string& address) {
  Close();
  CLIENT_LOG(config_, LogLevel::kDebug, "(%s) producer connecting (caller-thread lane)", address);
  absl::StatusOr<std::pair<std::string, std::string>> host_port = SplitAddress(address);
  if (!host_port.ok()) return host_port.status();
  const std::string host = host_port->first.empty() ? "127.0.0.1" : host_port->first;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(host.c_str(), host_port->second.c_str(), &hints, &found); rc != 0) {
    return absl::UnavailableError(absl::StrCat("resolve ", address, ": ", gai_strerror(rc)));
  }
  const Clock::time_point deadline = Clock::now() + config_.dial_timeout;
  absl::Status status = absl::UnavailableError(absl::StrCat("dial ", address, ": no address"));
  for (addrinfo* ai = found; ai != nullptr && fd_ < 0; ai = ai->ai_next) {
    const int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
      status = absl::UnavailableError(absl::StrCat("dial ", address, ": ", strerror(errno)));
      ::close(fd);
      continue;
    }
    status = Await(fd, POLLOUT, deadline, absl::StrCat("dial ", address));
    int error = 0;
    socklen_t size = sizeof(error);
    if (status.ok() && getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) == 0 && error != 0) {
      status = absl::UnavailableError(absl::StrCat("dial ", address, ": ", strerror(error)));
    }
    if (!status.ok()) {
      ::close(fd);
      continue;
    }
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    // Blocking from here, bounded by socket timeouts: a round trip is then one send and one
    // recv, with no poll in between.
    SetTimeout(fd, SO_SNDTIMEO, config_.write_timeout);
    SetTimeout(fd, SO_RCVTIMEO, config_.read_timeout);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    fd_ = fd;
  }
  freeaddrinfo(found);
  if (fd_ < 0) return status;
  address_ = address;

  protocol::IdentifyRequest identify = IdentifyRequestFor(config_);
  identify.heartbeat_interval = -1;  // nobody reads the lane between calls
  std::string hello(protocol::kMagicV2);
  protocol::EncodeIdentify(protocol::EncodeIdentifyRequest(identify), &hello);
  std::vector<iovec> pieces{iovec{hello.data(), hello.size()}};
  size_t written = 0;
  status = WriteAll(pieces, Clock::now() + config_.write_timeout, &written);
  protocol::Frame frame;
  if (status.ok()) status = ReadFrame(&frame, Clock::now() + config_.read_timeout);
  if (status.ok() && frame.type == protocol::FrameType::kError) {
    status = StatusFromErrorFrame(frame.data);
  }
  if (status.ok() && frame.data != protocol::kOk) {
    absl::StatusOr<protocol::IdentifyResponse> negotiated =
        protocol::ParseIdentifyResponse(frame.data);
    if (!negotiated.ok()) {
      status = absl::InternalError(
          absl::StrCat("IDENTIFY reply: ", std::string(negotiated.status().message())));
    } else if (negotiated->auth_required) {
      // The lane is only used without auth_secret (the usual path sends AUTH).
      status = absl::PermissionDeniedError(
          absl::StrCat("nsqd ", address, " requires AUTH but auth_secret is empty"));
    }
  }
  if (!status.ok()) {
    Close();
    return status;
  }
  last_answer_ = Clock::now();
  return status;
}

bool SyncLane::StillOpen() {
  // Nothing is due on an idle lane: anything readable means closed (or garbage, as bad).
  char byte;
  const ssize_t n = recv(fd_, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

absl::Status SyncLane::WriteAll(std::vector<iovec>& pieces, Clock::time_point deadline,
                                size_t* written) {
  size_t first = 0;
  while (first < pieces.size()) {
    if (pieces[first].iov_len == 0) {
      ++first;
      continue;
    }
    msghdr message{};
    message.msg_iov = pieces.data() + first;
    message.msg_iovlen = std::min<size_t>(pieces.size() - first, IOV_MAX);
    ssize_t n = sendmsg(fd_, &message, MSG_NOSIGNAL);
    if (n > 0) {
      *written += static_cast<size_t>(n);
      while (n > 0) {  // drop what went out
        iovec& piece = pieces[first];
        const size_t take = std::min(static_cast<size_t>(n), piece.iov_len);
        piece.iov_base = static_cast<char*>(piece.iov_base) + take;
        piece.iov_len -= take;
        n -= static_cast<ssize_t>(take);
        if (piece.iov_len == 0) ++first;
      }
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      // SO_SNDTIMEO ran out (the call's deadline bounds the retries).
      if (Clock::now() >= deadline) {
        return absl::DeadlineExceededError(absl::StrCat("write to ", address_, ": timed out"));
      }
      continue;
    }
    return absl::UnavailableError(absl::StrCat("write to ", address_, ": ", strerror(errno)));
  }
  return absl::OkStatus();
}

absl::Status SyncLane::ReadFrame(protocol::Frame* frame, Clock::time_point deadline) {
  char buffer[4096];
  while (!decoder_.Next(frame)) {
    if (!decoder_.status().ok()) {
      return absl::DataLossError(
          absl::StrCat("bad frame from nsqd: ", std::string(decoder_.status().message())));
    }
    const ssize_t n = recv(fd_, buffer, sizeof(buffer), 0);
    if (n > 0) {
      decoder_.Feed(std::string_view(buffer, static_cast<size_t>(n)));
      continue;
    }
    if (n == 0) return absl::UnavailableError(absl::StrCat("read from ", address_, ": closed"));
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      return absl::UnavailableError(absl::StrCat("read from ", address_, ": ", strerror(errno)));
    }
    // SO_RCVTIMEO ran out.
    if (Clock::now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("no data from ", address_, " within read_timeout"));
    }
  }
  return absl::OkStatus();
}

bool SyncLane::ConnectedTo(const std::string& address, bool* dialled) {
  if (fd_ >= 0 && address_ != address) Close();  // the producer moved to another nsqd
  if (fd_ >= 0 && Clock::now() - last_answer_ > kTrustAnswerFor && !StillOpen()) {
    Close();
    health_->Lost(address, absl::UnavailableError("closed by nsqd"));
  }
  if (dialled != nullptr) *dialled = fd_ < 0;
  if (fd_ >= 0) return true;
  if (!health_->MayDial(address)) return false;
  if (absl::Status status = Connect(address); !status.ok()) {
    health_->DialFailed(address, status);
    return false;
  }
  health_->Connected(address);
  return true;
}

SyncLane::Outcome SyncLane::Nop(const std::string& address) {
  bool dialled = false;
  if (!ConnectedTo(address, &dialled)) return Outcome{};
  // As on the usual path, a connection just made is answer enough.
  if (dialled) return Outcome{true, absl::OkStatus()};
  std::string nop;
  protocol::EncodeNop(&nop);
  std::vector<iovec> pieces{iovec{nop.data(), nop.size()}};
  size_t written = 0;
  if (!WriteAll(pieces, Clock::now() + config_.write_timeout, &written).ok()) {
    Close();
    return Outcome{};  // a NOP publishes nothing: the usual path may try it again
  }
  return Outcome{true, absl::OkStatus()};
}

SyncLane::Outcome SyncLane::RoundTrip(const std::string& address, std::string_view command) {
  one_piece_.assign(1, iovec{const_cast<char*>(command.data()), command.size()});
  return RoundTrip(address, one_piece_);
}

SyncLane::Outcome SyncLane::RoundTrip(const std::string& address, std::vector<iovec>& pieces) {
  if (!ConnectedTo(address)) return Outcome{};
  size_t written = 0;
  absl::Status status = WriteAll(pieces, Clock::now() + config_.write_timeout, &written);
  if (!status.ok() && written == 0) {
    Close();
    health_->Lost(address, status);
    return Outcome{};  // nothing went out: the usual path may send it
  }
  protocol::Frame frame;
  if (status.ok()) status = ReadFrame(&frame, Clock::now() + config_.read_timeout);
  if (!status.ok()) {
    Close();
    health_->Lost(address, status);
    return Outcome{true, absl::UnavailableError(absl::StrCat(
                             "connection to ", address, " lost before its reply: ",
                             status.ToString()))};
  }
  last_answer_ = Clock::now();
  if (frame.type == protocol::FrameType::kError) {
    status = StatusFromErrorFrame(frame.data);
    if (!IsNonFatalError(frame.data)) Close();  // nsqd closes after a fatal error
    return Outcome{true, status};
  }
  if (frame.data != protocol::kOk) {
    Close();
    return Outcome{true, absl::InternalError(absl::StrCat("unexpected reply from ", address, ": ",
                                                          frame.data.substr(0, 100)))};
  }
  return Outcome{true, absl::OkStatus()};
}

}  // namespace nsq::client::internal
