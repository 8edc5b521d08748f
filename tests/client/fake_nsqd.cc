#include "tests/client/fake_nsqd.h"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/protocol/big_endian.h"

namespace nsq::client::testing {

namespace {

std::string OkFrame() {
  std::string frame(10, '\0');
  protocol::StoreBigEndian32(frame.data(), 6);  // type + "OK"
  protocol::StoreBigEndian32(frame.data() + 4, 0);
  frame.replace(8, 2, "OK");
  return frame;
}

bool SendAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Bytes of one complete command at the start of `in`: 0 when more is needed; messages in it.
size_t CommandSize(std::string_view in, int64_t* messages) {
  const size_t newline = in.find('\n');
  if (newline == std::string_view::npos) return 0;
  const std::string_view line = in.substr(0, newline);
  *messages = 0;
  if (line == "NOP") return newline + 1;
  if (in.size() < newline + 5) return 0;
  const size_t size = protocol::LoadBigEndian32(in.data() + newline + 1);
  if (in.size() < newline + 5 + size) return 0;
  if (line.rfind("MPUB ", 0) == 0) {
    *messages = protocol::LoadBigEndian32(in.data() + newline + 5);
  } else if (line.rfind("PUB ", 0) == 0 || line.rfind("DPUB ", 0) == 0) {
    *messages = 1;
  }
  return newline + 5 + size;
}

}  // namespace

FakeNsqd::FakeNsqd(Options options) : options_(options) {
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(listen_fd_ >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
  REQUIRE(listen(listen_fd_, 8) == 0);
  socklen_t length = sizeof(address);
  REQUIRE(getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length) == 0);
  port_ = ntohs(address.sin_port);
  thread_ = std::thread([this] { Serve(); });
}

FakeNsqd::~FakeNsqd() {
  stop_ = true;
  DropConnection();
  thread_.join();
  close(listen_fd_);
}

std::string FakeNsqd::address() const { return absl::StrCat("127.0.0.1:", port_); }

void FakeNsqd::DropConnection() {
  std::lock_guard<std::mutex> lock(mu_);
  if (conn_fd_ >= 0) shutdown(conn_fd_, SHUT_RDWR);
}

void FakeNsqd::Serve() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (poll(&p, 1, 20) <= 0) continue;  // wakes up to notice stop_
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    {
      std::lock_guard<std::mutex> lock(mu_);
      conn_fd_ = fd;
    }
    ++connections_;
    ServeConnection(fd);
    {
      std::lock_guard<std::mutex> lock(mu_);
      conn_fd_ = -1;
    }
    close(fd);
  }
}

void FakeNsqd::ServeConnection(int fd) {
  using Clock = std::chrono::steady_clock;
  const std::string ok = OkFrame();
  std::string in;
  bool identified = false;
  std::vector<char> buffer(64 * 1024);
  const Clock::time_point start = Clock::now();
  int64_t total = 0;
  while (!stop_) {
    size_t want = buffer.size();
    if (options_.read_bytes_per_second > 0) {
      // Pace: no more than the rate allows since the connection began.
      want = std::min<size_t>(want, static_cast<size_t>(options_.read_bytes_per_second / 50));
      const auto due = start + std::chrono::microseconds(total * 1000000 /
                                                         options_.read_bytes_per_second);
      if (due > Clock::now()) std::this_thread::sleep_until(due);
    }
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 20) <= 0) continue;
    const ssize_t n = recv(fd, buffer.data(), want, 0);
    if (n <= 0) return;
    total += n;
    in.append(buffer.data(), static_cast<size_t>(n));
    if (!identified) {
      // "  V2" then IDENTIFY\n[size][json]
      const size_t newline = in.find('\n');
      if (newline == std::string::npos || in.size() < newline + 5) continue;
      const size_t size = protocol::LoadBigEndian32(in.data() + newline + 1);
      if (in.size() < newline + 5 + size) continue;
      in.erase(0, newline + 5 + size);
      identified = true;
      if (!SendAll(fd, ok)) return;
    }
    std::string replies;
    size_t used = 0;
    while (true) {
      int64_t messages = 0;
      const size_t size = CommandSize(std::string_view(in).substr(used), &messages);
      if (size == 0) break;
      used += size;
      if (messages == 0) {
        ++nops_;
        continue;
      }
      ++commands_;
      messages_ += messages;
      if (options_.answer) replies += ok;
    }
    in.erase(0, used);
    if (!replies.empty() && !SendAll(fd, replies)) return;
  }
}

}  // namespace nsq::client::testing
