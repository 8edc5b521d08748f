// FakeAuthServer: a minimal HTTP/1.x auth server for nsqd's --auth-http-address (NSQ-REFERENCE
// §2.3, §10), on a free loopback port. It answers each request (one per connection, GET with
// the parameters in the query or POST with them as JSON arrays) with `answer(secret)` and
// records every request.
//
//   FakeAuthServer server([](const std::string& secret) -> std::pair<int, std::string> {
//     if (secret != "good") return {403, R"({"message":"no"})"};
//     return {200, R"({"ttl":3600,"identity":"good","authorizations":[{"topic":".*",)"
//                  R"("channels":[".*"],"permissions":["subscribe","publish"]}]})"};
//   });
//   StartNsqd({"--auth-http-address=" + server.address()});
//
// Lifecycle: the constructor binds and starts one serving thread; the destructor stops it.
// `answer` runs on that thread. POSIX sockets only. Aborts the test binary when it cannot
// listen (nothing about AUTH can be tested then).
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace nsq::testutil {

class FakeAuthServer {
 public:
  struct Request {
    std::string method;
    std::string target;
    std::string body;
  };
  // The HTTP status and JSON body for a secret.
  using Answer = std::function<std::pair<int, std::string>(const std::string& secret)>;

  explicit FakeAuthServer(Answer answer);
  ~FakeAuthServer();
  FakeAuthServer(const FakeAuthServer&) = delete;
  FakeAuthServer& operator=(const FakeAuthServer&) = delete;

  // "127.0.0.1:<port>", as --auth-http-address takes it.
  std::string address() const;
  // Every request so far, in arrival order.
  std::vector<Request> requests();

 private:
  void Serve();

  Answer answer_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::mutex mu_;
  std::vector<Request> requests_;  // guarded by mu_
  std::thread thread_;
};

}  // namespace nsq::testutil
