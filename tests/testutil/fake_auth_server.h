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
// With a certificate and key it serves HTTPS instead (nsqd then takes
// "https://<address>/auth"), for the path where nsqd verifies the auth server against
// --tls-root-ca-file.
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
  // HTTPS with this PEM certificate and key (e.g. TestCerts' server pair).
  FakeAuthServer(Answer answer, const std::string& cert_file, const std::string& key_file);
  ~FakeAuthServer();
  FakeAuthServer(const FakeAuthServer&) = delete;
  FakeAuthServer& operator=(const FakeAuthServer&) = delete;

  // "127.0.0.1:<port>", as --auth-http-address takes it (plain HTTP).
  std::string address() const;
  // "https://127.0.0.1:<port>/auth", for the HTTPS server.
  std::string https_url() const;
  // Every request so far, in arrival order.
  std::vector<Request> requests();

 private:
  // Binds a free loopback port and starts the serving thread.
  void Listen();
  void Serve();
  // One connection's request; `ssl` when serving HTTPS (an SSL*, kept out of this header).
  std::string ReadRequest(int conn, void* ssl);

  Answer answer_;
  void* tls_context_ = nullptr;  // SSL_CTX*, with a certificate
  int fd_ = -1;
  uint16_t port_ = 0;
  std::mutex mu_;
  std::vector<Request> requests_;  // guarded by mu_
  std::thread thread_;
};

}  // namespace nsq::testutil
