#include "tests/testutil/listening_socket.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace nsq::testutil {

ListeningSocket::ListeningSocket() {
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = 0;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  if (fd_ < 0 || bind(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0 ||
      listen(fd_, 16) != 0 ||
      getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    std::fprintf(stderr, "ListeningSocket: %s\n", std::strerror(errno));
    std::abort();
  }
  port_ = ntohs(address.sin_port);
}

ListeningSocket::~ListeningSocket() {
  if (fd_ >= 0) close(fd_);
}

}  // namespace nsq::testutil
