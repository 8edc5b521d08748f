// The shared HttpServer (common/http) serving nsqd's HttpApi on a real io_context and loopback
// socket: keep-alive, the early 413, chunked bodies, 100-continue, the answer to non-HTTP
// bytes and Stop(). The loop runs on its own thread; the test talks to it through blocking
// sockets and touches the broker only after the loop has stopped.
#include "common/http/http_server.h"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "nsqd/broker/broker.h"
#include "nsqd/http/http_api.h"
#include "tests/unit/nsqd/fake_env.h"

namespace nsq::nsqd {
namespace {

using http::HttpServer;

using std::chrono::milliseconds;
constexpr milliseconds kTimeout(5000);

// A blocking loopback client that reads with a deadline.
class Socket {
 public:
  explicit Socket(int port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~Socket() { ::close(fd_); }

  bool connected() const { return connected_; }
  bool Send(std::string_view bytes) {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(bytes.size());
  }

  // Reads one response: the header block and a Content-Length body. nullopt on timeout or
  // when the connection ends first.
  std::optional<std::string> ReadResponse() {
    const auto deadline = std::chrono::steady_clock::now() + kTimeout;
    for (;;) {
      const size_t header_end = buffer_.find("\r\n\r\n");
      if (header_end != std::string::npos) {
        size_t length = 0;
        const size_t field = buffer_.find("Content-Length: ");
        if (field != std::string::npos && field < header_end) {
          length = std::stoul(buffer_.substr(field + 16));
        }
        // An interim 100 response has no body and is returned on its own.
        if (buffer_.rfind("HTTP/1.1 100", 0) == 0) length = 0;
        const size_t total = header_end + 4 + length;
        if (buffer_.size() >= total) {
          std::string response = buffer_.substr(0, total);
          buffer_.erase(0, total);
          return response;
        }
      }
      if (!ReadMore(deadline)) return std::nullopt;
    }
  }

  // Everything until the server closes the connection (nullopt on timeout).
  std::optional<std::string> ReadUntilClosed() {
    const auto deadline = std::chrono::steady_clock::now() + kTimeout;
    while (!closed_) {
      if (!ReadMore(deadline) && !closed_) return std::nullopt;
    }
    std::string all = std::move(buffer_);
    buffer_.clear();
    return all;
  }

 private:
  bool ReadMore(std::chrono::steady_clock::time_point deadline) {
    const auto left =
        std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd pfd{fd_, POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) return false;
    char chunk[4096];
    const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n <= 0) {
      closed_ = true;
      return false;
    }
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  int fd_;
  bool connected_ = false;
  bool closed_ = false;
  std::string buffer_;
};

std::string StatusLine(const std::string& response) {
  return response.substr(0, response.find("\r\n"));
}

std::string BodyOf(const std::string& response) {
  return response.substr(response.find("\r\n\r\n") + 4);
}

// nsqd's broker, API and HTTP server on a loop thread.
struct ServerFixture {
  explicit ServerFixture(http::HttpServerTimeouts timeouts = {}) {
    env.options.max_msg_size = 100;
    env.options.max_body_size = 1000;
    env.context.post = [this](std::function<void()> fn) { boost::asio::post(io, std::move(fn)); };
    broker = std::make_unique<Broker>(env.context);
    info.version = "1.3.0";
    brokers = std::make_unique<SingleBroker>(broker.get());
    api = std::make_unique<HttpApi>(brokers.get(), &info);
    server = std::make_unique<HttpServer>(&io, api.get(), env.options.max_body_size, nullptr,
                                          timeouts);
    absl::StatusOr<int> bound = server->Listen("127.0.0.1:0");
    REQUIRE(bound.ok());
    port = *bound;
    loop = std::thread([this] { io.run(); });
  }
  ~ServerFixture() { StopLoop(); }

  // Stops the server on its own thread, then lets the loop run dry and joins it.
  void StopLoop() {
    if (!loop.joinable()) return;
    boost::asio::post(io, [this] { server->Stop(); });
    work.reset();
    loop.join();
  }

  // Work is posted to the loop; the broker's clock stands still and its timers never fire (the
  // server's own timeouts run on the real clock).
  testing::FakeEnv env;
  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{io.get_executor()};
  std::unique_ptr<Broker> broker;
  std::unique_ptr<SingleBroker> brokers;
  NodeInfo info;
  std::unique_ptr<HttpApi> api;
  std::unique_ptr<HttpServer> server;
  int port = 0;
  std::thread loop;
};

TEST_CASE("the server answers several requests on one keep-alive connection") {
  ServerFixture f;
  CHECK(f.port > 0);
  Socket s(f.port);
  REQUIRE(s.connected());
  REQUIRE(s.Send("GET /ping HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::optional<std::string> ping = s.ReadResponse();
  REQUIRE(ping.has_value());
  CHECK(StatusLine(*ping) == "HTTP/1.1 200 OK");
  CHECK(BodyOf(*ping) == "OK");

  REQUIRE(
      s.Send("POST /pub?topic=t HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
             "POST /topic/create?topic=u HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"));
  std::optional<std::string> pub = s.ReadResponse();
  REQUIRE(pub.has_value());
  CHECK(StatusLine(*pub) == "HTTP/1.1 200 OK");
  CHECK(pub->find("X-NSQ-Content-Type: nsq; version=1.0\r\n") != std::string::npos);
  CHECK(BodyOf(*pub) == "OK");
  std::optional<std::string> create = s.ReadResponse();
  REQUIRE(create.has_value());
  CHECK(StatusLine(*create) == "HTTP/1.1 200 OK");
  CHECK(create->find("\r\nContent-Type:") == std::string::npos);

  f.StopLoop();
  REQUIRE(f.broker->FindTopic("t") != nullptr);
  CHECK(f.broker->FindTopic("t")->depth() == 1);
  CHECK(f.broker->FindTopic("u") != nullptr);
}

TEST_CASE("Connection: close gets its answer and then the connection ends") {
  ServerFixture f;
  Socket s(f.port);
  REQUIRE(s.Send("GET /nosuch HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  std::optional<std::string> all = s.ReadUntilClosed();
  REQUIRE(all.has_value());
  CHECK(StatusLine(*all) == "HTTP/1.1 404 Not Found");
  CHECK(BodyOf(*all) == R"({"message":"NOT_FOUND"})");
}

TEST_CASE("the NSQ magic sent to the HTTP port gets 400 Bad Request and a close") {
  ServerFixture f;
  Socket s(f.port);
  REQUIRE(s.Send("  V2"));
  std::optional<std::string> all = s.ReadUntilClosed();
  REQUIRE(all.has_value());
  CHECK(all->rfind("HTTP/1.1 400 Bad Request\r\n", 0) == 0);
}

TEST_CASE("an oversized Content-Length is refused with 413 before the body is sent") {
  ServerFixture f;
  Socket s(f.port);
  REQUIRE(s.Send("POST /pub?topic=t HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\n\r\n"));
  std::optional<std::string> response = s.ReadResponse();
  REQUIRE(response.has_value());
  CHECK(StatusLine(*response) == "HTTP/1.1 413 Payload Too Large");
  CHECK(BodyOf(*response) == R"({"message":"MSG_TOO_BIG"})");
  CHECK(s.ReadUntilClosed().has_value());

  Socket m(f.port);
  REQUIRE(m.Send("POST /mpub?topic=t HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\n\r\n"));
  response = m.ReadResponse();
  REQUIRE(response.has_value());
  CHECK(BodyOf(*response) == R"({"message":"BODY_TOO_BIG"})");

  f.StopLoop();
  CHECK(f.broker->FindTopic("t") == nullptr);
}

TEST_CASE("a chunked body is accepted up to the limit and refused with 413 past it") {
  ServerFixture f;
  Socket s(f.port);
  REQUIRE(
      s.Send("POST /mpub?topic=t HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
             "2\r\na\n\r\n1\r\nb\r\n0\r\n\r\n"));
  std::optional<std::string> ok = s.ReadResponse();
  REQUIRE(ok.has_value());
  CHECK(BodyOf(*ok) == "OK");

  const std::string big(600, 'x');
  REQUIRE(
      s.Send("POST /mpub?topic=t HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
             "258\r\n" +
             big + "\r\n258\r\n" + big + "\r\n0\r\n\r\n"));
  std::optional<std::string> refused = s.ReadResponse();
  REQUIRE(refused.has_value());
  CHECK(StatusLine(*refused) == "HTTP/1.1 413 Payload Too Large");
  CHECK(BodyOf(*refused) == R"({"message":"BODY_TOO_BIG"})");

  f.StopLoop();
  CHECK(f.broker->FindTopic("t")->depth() == 2);
}

TEST_CASE("an unsupported transfer coding is 501 and closes: its body is never a request") {
  // The smuggling probe: a body that is itself a request. Read as "no body", it would be
  // answered as a second request on the same connection.
  const std::string smuggled = "GET /info HTTP/1.1\r\nHost: x\r\n\r\n";
  for (std::string coding : {"gzip", "chunked, chunked", "xchunked", "identity", "gzip, chunked"}) {
    CAPTURE(coding);
    ServerFixture f;
    Socket s(f.port);
    REQUIRE(s.Send("POST /pub?topic=sm HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " + coding +
                   "\r\n\r\n" + smuggled));
    std::optional<std::string> answer = s.ReadUntilClosed();
    REQUIRE(answer.has_value());
    CHECK(StatusLine(*answer) == "HTTP/1.1 501 Not Implemented");
    CHECK(answer->find("Unsupported transfer encoding") != std::string::npos);
    CHECK(answer->find("200 OK") == std::string::npos);
    f.StopLoop();
    CHECK(f.broker->FindTopic("sm") == nullptr);
  }
}

TEST_CASE("two Transfer-Encoding fields are refused and close, even when each says chunked") {
  // Beast's parser refuses a repeated "chunked" while reading the header: 400 (Go says 501).
  ServerFixture f;
  Socket s(f.port);
  REQUIRE(s.Send("POST /pub?topic=sm HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                 "Transfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n"));
  std::optional<std::string> answer = s.ReadUntilClosed();
  REQUIRE(answer.has_value());
  CHECK(StatusLine(*answer) == "HTTP/1.1 400 Bad Request");
}

TEST_CASE("a chunked body on HTTP/1.0 is faulty framing: 400 and close") {
  ServerFixture f;
  Socket s(f.port);
  REQUIRE(s.Send("POST /pub?topic=sm HTTP/1.0\r\nConnection: keep-alive\r\n"
                 "Transfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n"
                 "GET /info HTTP/1.0\r\n\r\n"));
  std::optional<std::string> answer = s.ReadUntilClosed();
  REQUIRE(answer.has_value());
  CHECK(StatusLine(*answer) == "HTTP/1.1 400 Bad Request");
  CHECK(answer->find("200 OK") == std::string::npos);
  f.StopLoop();
  CHECK(f.broker->FindTopic("sm") == nullptr);
}

TEST_CASE("Transfer-Encoding together with Content-Length is 400 and closes") {
  ServerFixture f;
  Socket s(f.port);
  REQUIRE(s.Send("POST /pub?topic=sm HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
                 "Transfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n"));
  std::optional<std::string> answer = s.ReadUntilClosed();
  REQUIRE(answer.has_value());
  CHECK(StatusLine(*answer) == "HTTP/1.1 400 Bad Request");
}

TEST_CASE("a request whose lines end in a bare LF is served, as Go's net/http does") {
  ServerFixture f;
  Socket s(f.port);
  REQUIRE(s.Send("POST /pub?topic=lf HTTP/1.1\nHost: x\nContent-Length: 3\n\nabc"
                 "GET /ping HTTP/1.1\r\nHost: x\n\r\n"));
  std::optional<std::string> pub = s.ReadResponse();
  REQUIRE(pub.has_value());
  CHECK(StatusLine(*pub) == "HTTP/1.1 200 OK");
  std::optional<std::string> ping = s.ReadResponse();
  REQUIRE(ping.has_value());
  CHECK(StatusLine(*ping) == "HTTP/1.1 200 OK");
  f.StopLoop();
  CHECK(f.broker->FindTopic("lf")->depth() == 1);
}

TEST_CASE("Expect: 100-continue gets the interim answer before the body is sent") {
  ServerFixture f;
  Socket s(f.port);
  REQUIRE(
      s.Send("POST /pub?topic=t HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
             "Expect: 100-continue\r\n\r\n"));
  std::optional<std::string> interim = s.ReadResponse();
  REQUIRE(interim.has_value());
  CHECK(StatusLine(*interim) == "HTTP/1.1 100 Continue");
  REQUIRE(s.Send("abc"));
  std::optional<std::string> response = s.ReadResponse();
  REQUIRE(response.has_value());
  CHECK(BodyOf(*response) == "OK");
}

TEST_CASE("a header trickled in past the header timeout is cut; a silent connection is not") {
  ServerFixture f(http::HttpServerTimeouts{.idle = std::chrono::seconds(30),
                                           .header = milliseconds(200)});
  Socket silent(f.port);
  Socket slowloris(f.port);
  REQUIRE(silent.connected());
  REQUIRE(slowloris.Send("GET /ping HTTP/1.1\r\nHost: x\r\n"));  // never ends its header
  std::optional<std::string> cut = slowloris.ReadUntilClosed();
  REQUIRE(cut.has_value());  // closed well within kTimeout
  CHECK(cut->empty());       // without an answer, as for any client that timed out

  // The silent connection was open as long as the slowloris one and is still served: only the
  // idle timeout applies before a request's first byte.
  REQUIRE(silent.Send("GET /ping HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::optional<std::string> ping = silent.ReadResponse();
  REQUIRE(ping.has_value());
  CHECK(StatusLine(*ping) == "HTTP/1.1 200 OK");
}

TEST_CASE("a connection with no request within the idle timeout is closed") {
  ServerFixture f(http::HttpServerTimeouts{.idle = milliseconds(200), .header = milliseconds(200)});
  Socket s(f.port);
  REQUIRE(s.Send("GET /ping HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::optional<std::string> ping = s.ReadResponse();
  REQUIRE(ping.has_value());
  CHECK(StatusLine(*ping) == "HTTP/1.1 200 OK");
  std::optional<std::string> rest = s.ReadUntilClosed();  // keep-alive, then idle
  REQUIRE(rest.has_value());
  CHECK(rest->empty());
}

TEST_CASE("Stop closes idle connections and the listener") {
  ServerFixture f;
  Socket s(f.port);
  REQUIRE(s.Send("GET /ping HTTP/1.1\r\nHost: x\r\n\r\n"));
  REQUIRE(s.ReadResponse().has_value());
  f.StopLoop();  // returns only once every connection coroutine has ended
  CHECK(s.ReadUntilClosed().has_value());
  Socket late(f.port);
  CHECK_FALSE(late.connected());
}

TEST_CASE("Listen reports a bad address instead of throwing") {
  boost::asio::io_context io;
  testing::FakeEnv env;
  Broker broker(env.context);
  SingleBroker brokers(&broker);
  NodeInfo info;
  HttpApi api(&brokers, &info);
  HttpServer server(&io, &api, env.options.max_body_size);
  CHECK_FALSE(server.Listen("no-port").ok());
  CHECK_FALSE(server.Listen("127.0.0.1:99999").ok());
  CHECK_FALSE(server.Listen("203.0.113.1:0").ok());  // not a local address
  absl::StatusOr<int> bound = server.Listen("[::1]:0");
  if (bound.ok()) CHECK(*bound > 0);  // IPv6 loopback may be missing in containers
}

}  // namespace
}  // namespace nsq::nsqd
