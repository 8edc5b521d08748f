// ListeningSocket: a TCP listener on 127.0.0.1 with a kernel-chosen port, held open for the
// lifetime of the object. Tests use it to make an address busy (nsqd must then fail to start)
// or as a peer that accepts connections and never answers.
//
//   ListeningSocket busy;
//   Start nsqd with --tcp-address=127.0.0.1:<busy.port()>  → nsqd exits with an error
#pragma once

#include <cstdint>

namespace nsq::testutil {

class ListeningSocket {
 public:
  // Binds and listens; aborts the test binary if the kernel refuses (nothing else can run).
  ListeningSocket();
  ~ListeningSocket();
  ListeningSocket(const ListeningSocket&) = delete;
  ListeningSocket& operator=(const ListeningSocket&) = delete;

  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

}  // namespace nsq::testutil
