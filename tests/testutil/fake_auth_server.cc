#include "tests/testutil/fake_auth_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <openssl/ssl.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_format.h"

namespace nsq::testutil {

namespace {

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "FakeAuthServer: %s: %s\n", what, std::strerror(errno));
  std::abort();
}

// The secret of a request: the `secret` query parameter (GET) or the first element of the
// `secret` array in the JSON body (POST). Empty when it is missing.
std::string SecretOf(const FakeAuthServer::Request& request) {
  if (request.method == "GET") {
    const size_t at = request.target.find("secret=");
    if (at == std::string::npos) return "";
    const size_t end = request.target.find('&', at);
    return request.target.substr(at + 7, end == std::string::npos ? end : end - at - 7);
  }
  boost::system::error_code ec;
  const boost::json::value body = boost::json::parse(request.body, ec);
  if (ec || !body.is_object()) return "";
  const boost::json::value* secret = body.as_object().if_contains("secret");
  if (secret == nullptr || !secret->is_array() || secret->as_array().empty() ||
      !secret->as_array()[0].is_string()) {
    return "";
  }
  return std::string(secret->as_array()[0].as_string());
}

}  // namespace

FakeAuthServer::FakeAuthServer(Answer answer) : answer_(std::move(answer)) { Listen(); }

FakeAuthServer::FakeAuthServer(Answer answer, const std::string& cert_file,
                               const std::string& key_file)
    : answer_(std::move(answer)) {
  SSL_CTX* context = SSL_CTX_new(TLS_server_method());
  if (context == nullptr ||
      SSL_CTX_use_certificate_chain_file(context, cert_file.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(context, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    Die("loading the certificate");
  }
  tls_context_ = context;
  Listen();
}

void FakeAuthServer::Listen() {
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) Die("socket");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  if (bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) Die("bind");
  if (listen(fd_, 16) != 0) Die("listen");
  if (getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) Die("getsockname");
  port_ = ntohs(address.sin_port);
  thread_ = std::thread([this] { Serve(); });
}

FakeAuthServer::~FakeAuthServer() {
  shutdown(fd_, SHUT_RDWR);  // wakes accept()
  thread_.join();
  close(fd_);
  SSL_CTX_free(static_cast<SSL_CTX*>(tls_context_));
}

std::string FakeAuthServer::address() const { return absl::StrFormat("127.0.0.1:%d", port_); }

std::string FakeAuthServer::https_url() const {
  return absl::StrFormat("https://127.0.0.1:%d/auth", port_);
}

std::vector<FakeAuthServer::Request> FakeAuthServer::requests() {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

void FakeAuthServer::Serve() {
  for (;;) {
    const int conn = accept(fd_, nullptr, nullptr);
    if (conn < 0) return;
    SSL* ssl = nullptr;
    if (tls_context_ != nullptr) {
      ssl = SSL_new(static_cast<SSL_CTX*>(tls_context_));
      SSL_set_fd(ssl, conn);
      if (SSL_accept(ssl) != 1) {  // a client that does not trust us hangs up here
        SSL_free(ssl);
        close(conn);
        continue;
      }
    }
    const std::string data = ReadRequest(conn, ssl);
    const size_t header_end = data.find("\r\n\r\n");
    if (header_end != std::string::npos) {
      Request request;
      request.method = data.substr(0, data.find(' '));
      const size_t target_start = request.method.size() + 1;
      request.target = data.substr(target_start, data.find(' ', target_start) - target_start);
      request.body = data.substr(header_end + 4);
      const std::string secret = SecretOf(request);
      {
        std::lock_guard<std::mutex> lock(mu_);
        requests_.push_back(request);
      }
      const auto [status, body] = answer_(secret);
      const std::string response = absl::StrFormat(
          "HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
          "Connection: close\r\n\r\n%s",
          status, body.size(), body);
      if (ssl != nullptr) {
        SSL_write(ssl, response.data(), static_cast<int>(response.size()));
        SSL_shutdown(ssl);
      } else {
        (void)!write(conn, response.data(), response.size());
      }
    }
    if (ssl != nullptr) SSL_free(ssl);
    close(conn);
  }
}

std::string FakeAuthServer::ReadRequest(int conn, void* ssl) {
  std::string data;
  char buffer[4096];
  while (true) {
    const ssize_t n = ssl != nullptr
                          ? SSL_read(static_cast<SSL*>(ssl), buffer, sizeof(buffer))
                          : read(conn, buffer, sizeof(buffer));
    if (n <= 0) return data;
    data.append(buffer, static_cast<size_t>(n));
    const size_t header_end = data.find("\r\n\r\n");
    if (header_end == std::string::npos) continue;
    size_t length = 0;
    const size_t field = data.find("Content-Length: ");
    if (field != std::string::npos && field < header_end) {
      length = std::strtoul(data.c_str() + field + 16, nullptr, 10);
    }
    if (data.size() >= header_end + 4 + length) return data.substr(0, header_end + 4 + length);
  }
}

}  // namespace nsq::testutil
