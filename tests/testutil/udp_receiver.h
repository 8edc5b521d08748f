// UdpReceiver: a UDP socket on 127.0.0.1 with a kernel-chosen port that keeps every datagram
// it is sent, for tests of what a daemon pushes over UDP (nsqd's statsd packets).
//
//   UdpReceiver statsd;
//   Start nsqd with --statsd-address=127.0.0.1:<statsd.port()>
//   std::optional<std::string> packet = statsd.Receive(5s);   // nullopt when none came in time
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace nsq::testutil {

class UdpReceiver {
 public:
  // Binds; aborts the test binary if the kernel refuses (nothing else can run). The receive
  // buffer is 4 MiB, so a burst of packets is kept until the test reads it.
  UdpReceiver();
  ~UdpReceiver();
  UdpReceiver(const UdpReceiver&) = delete;
  UdpReceiver& operator=(const UdpReceiver&) = delete;

  uint16_t port() const { return port_; }

  // The next datagram, waiting up to `timeout`; nullopt when none arrives in time.
  std::optional<std::string> Receive(std::chrono::milliseconds timeout);

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

}  // namespace nsq::testutil
