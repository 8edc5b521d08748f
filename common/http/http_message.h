// The request and response of the HTTP APIs (nsqd's and nsqlookupd's) as plain values, and the
// HttpHandler interface the shared Boost.Beast server (http_server.h) calls. No sockets here:
// an API implements HttpHandler, its unit tests call Handle() directly.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace nsq::http {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query, e.g. "/pub?topic=t&defer=100"
  std::string body;
  // The Content-Length header when the client sent one (checked before the body is read).
  std::optional<uint64_t> content_length;
};

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// What HttpServer serves. Called on the server's io_context thread only, one request at a time.
class HttpHandler {
 public:
  virtual ~HttpHandler() = default;

  // Judges a request from its headers alone, before the body is read: an answer here is sent
  // and the connection closed (e.g. a 413 for a declared length the endpoint refuses).
  virtual std::optional<HttpResponse> CheckBeforeBody(const HttpRequest& request) const {
    return std::nullopt;
  }
  virtual HttpResponse Handle(const HttpRequest& request) = 0;
  // What the server calls: answers through `reply` exactly once, at once or later on the same
  // thread (a publish answers once the store has committed it). By default: Handle().
  virtual void HandleAsync(const HttpRequest& request, std::function<void(HttpResponse)> reply) {
    reply(Handle(request));
  }

  // The largest body any endpoint accepts: the server refuses to buffer more than this.
  virtual int64_t MaxRequestBodySize() const = 0;
  // The 413 answer for a body larger than MaxRequestBodySize() (also found while reading a
  // chunked body, which announces no length).
  virtual HttpResponse BodyTooLarge(const HttpRequest& request) const = 0;
};

}  // namespace nsq::http
