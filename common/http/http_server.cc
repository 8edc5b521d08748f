#include "common/http/http_server.h"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <string_view>
#include <unordered_set>

#include "absl/strings/str_cat.h"
#include "common/log/logger.h"
#include "common/net/listener.h"
#include "common/net/tls_context.h"

namespace nsq::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
// After an error answer we read (and drop) what the client still sends, for at most this
// long, so that closing does not reset the connection before the client reads the answer.
constexpr std::chrono::seconds kLingerTimeout(2);
// An HTTPS client gets this long for its TLS handshake (as nsqd's V2 connections).
constexpr std::chrono::seconds kTlsHandshakeTimeout(5);
constexpr uint32_t kHeaderLimit = 64 * 1024;

// What Go's net/http answers to bytes that are not HTTP (e.g. the NSQ magic "  V2").
constexpr std::string_view kBadRequest =
    "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n"
    "Connection: close\r\n\r\n400 Bad Request";
constexpr std::string_view kHeaderTooLarge =
    "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: text/plain; charset=utf-8\r\n"
    "Connection: close\r\n\r\n431 Request Header Fields Too Large";
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
// Go's answer to a transfer coding it does not implement (it does not echo the coding back).
constexpr std::string_view kNotImplemented =
    "HTTP/1.1 501 Not Implemented\r\nContent-Type: text/plain; charset=utf-8\r\n"
    "Connection: close\r\n\r\nUnsupported transfer encoding";

void LogIfFailed(std::exception_ptr error) { log::LogIfFailed(error, "HTTP: connection task"); }

// Shared by the server and its coroutines: a coroutine may resume once more after Stop()
// (or after HttpServer is gone); it then sees `stopped` and ends without touching the handler.
struct ServerState {
  ServerState(asio::io_context* io, HttpHandler* handler, uint64_t body_limit,
              std::shared_ptr<net::TlsServerContext> tls, HttpServerTimeouts timeouts)
      : io(io),
        handler(handler),
        body_limit(body_limit),
        timeouts(timeouts),
        tls(std::move(tls)),
        acceptor(*io) {}

  asio::io_context* io;
  HttpHandler* handler;
  uint64_t body_limit;
  HttpServerTimeouts timeouts;
  std::shared_ptr<net::TlsServerContext> tls;  // HTTPS when set
  tcp::acceptor acceptor;
  bool stopped = false;
  std::unordered_set<beast::tcp_stream*> connections;  // their lowest layers, for Stop()
};

using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// One accepted socket, over plain TCP (Stream = beast::tcp_stream) or TLS (TlsStream). Owned
// by its Serve coroutine; registered in the state so Stop() can close it.
template <class Stream>
struct Connection {
  template <class... Args>
  Connection(std::shared_ptr<ServerState> state, Args&&... args)
      : stream(std::forward<Args>(args)...), state(std::move(state)) {
    this->state->connections.insert(&lowest());
  }
  ~Connection() { state->connections.erase(&lowest()); }

  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream); }

  Stream stream;
  beast::flat_buffer buffer;
  std::shared_ptr<ServerState> state;
};

// Half-closes, drains what the client still sends (briefly), then closes.
template <class Stream>
asio::awaitable<void> CloseGracefully(std::shared_ptr<Connection<Stream>> conn) {
  beast::error_code ignored;
  conn->lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
  conn->lowest().expires_after(kLingerTimeout);
  char sink[4096];
  for (;;) {
    auto [ec, n] = co_await conn->stream.async_read_some(asio::buffer(sink), kUseTuple);
    if (ec || conn->state->stopped) break;
  }
  conn->lowest().close();
}

template <class Stream>
asio::awaitable<bool> WriteRaw(std::shared_ptr<Connection<Stream>> conn, std::string_view bytes) {
  conn->lowest().expires_after(conn->state->timeouts.idle);
  auto [ec, n] = co_await asio::async_write(conn->stream, asio::buffer(bytes), kUseTuple);
  co_return !ec;
}

// Takes the response by value: its body (megabytes for a big /nodes or /stats) is moved into
// the message, not copied on the loop thread.
template <class Stream>
asio::awaitable<bool> WriteResponse(std::shared_ptr<Connection<Stream>> conn,
                                    HttpResponse response, unsigned version, bool keep_alive) {
  http::response<http::string_body> message;
  message.version(version);
  message.result(static_cast<unsigned>(response.status));
  for (const auto& [name, value] : response.headers) message.insert(name, value);
  message.body() = std::move(response.body);
  message.keep_alive(keep_alive);
  message.prepare_payload();
  conn->lowest().expires_after(conn->state->timeouts.idle);
  auto [ec, n] = co_await http::async_write(conn->stream, message, kUseTuple);
  co_return !ec;
}

// Where the header block in `data` ends (just past its empty line), or npos. Lines may end in
// CRLF or a bare LF, as Go's net/http accepts both.
size_t HeaderEnd(std::string_view data) {
  for (size_t at = data.find('\n'); at != std::string_view::npos; at = data.find('\n', at + 1)) {
    if (at + 1 < data.size() && data[at + 1] == '\n') return at + 2;
    if (at + 2 < data.size() && data[at + 1] == '\r' && data[at + 2] == '\n') return at + 3;
  }
  return std::string_view::npos;
}

// The header block with every bare LF made CRLF, for Beast's parser (which wants CRLF).
std::string WithCrlf(std::string_view header) {
  std::string out;
  out.reserve(header.size() + 16);
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == '\n' && (i == 0 || header[i - 1] != '\r')) out.push_back('\r');
    out.push_back(header[i]);
  }
  return out;
}

// False when `buffered` cannot be the start of a request: its method (the bytes before the
// first space) holds a byte that is not a token character. Garbage (the NSQ magic "  V2") is
// refused at once instead of waiting for a line end that may never come.
bool CouldStartRequest(std::string_view buffered) {
  for (size_t i = 0; i < buffered.size(); ++i) {
    const char c = buffered[i];
    if (c == ' ') return i > 0;  // an empty method is no method
    const bool token = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    if (!token) return false;
  }
  return true;
}

// Reads a request's header block into `parser` (what follows it stays in conn->buffer for the
// body): as http::async_read_header, but a header whose lines end in a bare LF is read too.
// The idle timeout runs until the request's first byte, the header timeout from then on.
template <class Stream>
asio::awaitable<beast::error_code> ReadHeader(std::shared_ptr<Connection<Stream>> conn,
                                               http::request_parser<http::string_body>& parser) {
  bool header_clock_started = false;
  for (;;) {
    if (!header_clock_started && conn->buffer.size() > 0) {
      conn->lowest().expires_after(conn->state->timeouts.header);
      header_clock_started = true;
    }
    const auto data = conn->buffer.data();
    const std::string_view buffered(static_cast<const char*>(data.data()), data.size());
    const size_t end = HeaderEnd(buffered);
    if (end != std::string_view::npos) {
      if (end > kHeaderLimit) co_return beast::error_code(http::error::header_limit);
      const std::string header = WithCrlf(buffered.substr(0, end));
      beast::error_code ec;
      const size_t used = parser.put(asio::buffer(header), ec);
      conn->buffer.consume(end);
      if (!ec && (used != header.size() || !parser.is_header_done())) {
        ec = http::error::bad_value;  // the parser stopped inside what ends the header block
      }
      co_return ec;
    }
    if (buffered.size() > kHeaderLimit) co_return beast::error_code(http::error::header_limit);
    if (!CouldStartRequest(buffered)) co_return beast::error_code(http::error::bad_method);
    auto [ec, n] = co_await conn->stream.async_read_some(conn->buffer.prepare(4096), kUseTuple);
    conn->buffer.commit(n);
    if (ec == asio::error::eof) {
      co_return beast::error_code(conn->buffer.size() == 0 ? http::error::end_of_stream
                                                           : http::error::partial_message);
    }
    if (ec) co_return ec;
  }
}

// How a request's Transfer-Encoding frames its body (RFC 9112 §6). Only a single "chunked" is
// understood, and only in HTTP/1.1; anything else must not be read as "no body", or the body's
// bytes would be parsed as the next request on the connection (request smuggling).
enum class TransferFraming { kNone, kChunked, kUnsupported, kFaulty };

TransferFraming FramingOf(const http::request_parser<http::string_body>::value_type& header) {
  size_t fields = 0;
  std::string_view value;
  for (const auto& field : header) {
    if (field.name() != http::field::transfer_encoding) continue;
    ++fields;
    value = std::string_view(field.value().data(), field.value().size());
  }
  if (fields == 0) return TransferFraming::kNone;
  // HTTP/1.0 has no transfer codings: RFC 9112 §6.1 says to treat the framing as faulty.
  if (header.version() < 11) return TransferFraming::kFaulty;
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  // As Go's net/http: one field whose whole value is "chunked"; "gzip", "chunked, chunked",
  // "identity" or a second field are not implemented.
  if (fields == 1 && beast::iequals(value, "chunked")) return TransferFraming::kChunked;
  return TransferFraming::kUnsupported;
}

// Answers a request that could not be parsed, as Go does, unless the client simply went
// away or timed out.
template <class Stream>
asio::awaitable<void> RejectMalformed(std::shared_ptr<Connection<Stream>> conn,
                                      beast::error_code ec) {
  if (ec.category() != http::make_error_code(http::error::end_of_stream).category() ||
      ec == http::error::end_of_stream || ec == http::error::partial_message) {
    conn->lowest().close();
    co_return;
  }
  const std::string_view answer = ec == http::error::header_limit ? kHeaderTooLarge : kBadRequest;
  if (co_await WriteRaw(conn, answer)) co_await CloseGracefully(conn);
  conn->lowest().close();
}

template <class Stream>
asio::awaitable<void> Serve(std::shared_ptr<Connection<Stream>> conn) {
  ServerState& state = *conn->state;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(kHeaderLimit);
    // The declared length is judged by the handler first (CheckBeforeBody), so the header read
    // must not fail on it.
    parser.body_limit(boost::none);
    conn->lowest().expires_after(conn->state->timeouts.idle);
    beast::error_code header_ec = co_await ReadHeader(conn, parser);
    if (state.stopped) co_return;
    if (header_ec) {
      co_await RejectMalformed(conn, header_ec);
      co_return;
    }

    const auto& header = parser.get();
    switch (FramingOf(header)) {
      case TransferFraming::kNone:
      case TransferFraming::kChunked:
        break;
      case TransferFraming::kUnsupported:
        if (co_await WriteRaw(conn, kNotImplemented)) co_await CloseGracefully(conn);
        co_return;
      case TransferFraming::kFaulty:
        if (co_await WriteRaw(conn, kBadRequest)) co_await CloseGracefully(conn);
        co_return;
    }
    const unsigned version = header.version() == 10 ? 10 : 11;
    const bool keep_alive = header.keep_alive();
    HttpRequest request;
    request.method = std::string(header.method_string());
    request.target = std::string(header.target());
    if (auto length = parser.content_length()) request.content_length = *length;

    std::optional<HttpResponse> refusal = state.handler->CheckBeforeBody(request);
    if (!refusal && request.content_length && *request.content_length > state.body_limit) {
      refusal = state.handler->BodyTooLarge(request);
    }
    if (refusal) {
      HttpResponse refused = std::move(*refusal);
      if (co_await WriteResponse(conn, std::move(refused), version, false)) {
        co_await CloseGracefully(conn);
      }
      co_return;
    }

    if (!parser.is_done()) {
      // Clients such as curl wait for this before sending a large body.
      if (beast::iequals(header[http::field::expect], "100-continue") &&
          !co_await WriteRaw(conn, kContinue)) {
        co_return;
      }
      parser.body_limit(state.body_limit);  // what a chunked body may add up to
      conn->lowest().expires_after(conn->state->timeouts.idle);
      auto [body_ec, body_bytes] =
          co_await http::async_read(conn->stream, conn->buffer, parser, kUseTuple);
      if (state.stopped) co_return;
      if (body_ec == http::error::body_limit) {
        HttpResponse too_large = state.handler->BodyTooLarge(request);
        if (co_await WriteResponse(conn, std::move(too_large), version, false)) {
          co_await CloseGracefully(conn);
        }
        co_return;
      }
      if (body_ec) {
        co_await RejectMalformed(conn, body_ec);
        co_return;
      }
    }
    request.body = std::move(parser.get().body());

    // The answer may come later (a publish waiting for the store): a timer that never expires
    // by itself is cancelled when it arrives. Shared, because the reply may outlive this frame.
    struct Pending {
      explicit Pending(asio::any_io_executor executor)
          : arrived(executor, asio::steady_timer::time_point::max()) {}
      std::optional<HttpResponse> response;
      asio::steady_timer arrived;
    };
    auto pending = std::make_shared<Pending>(conn->lowest().get_executor());
    state.handler->HandleAsync(request, [pending](HttpResponse response) {
      pending->response = std::move(response);
      pending->arrived.cancel();
    });
    if (!pending->response) {
      [[maybe_unused]] auto [wait_ec] = co_await pending->arrived.async_wait(kUseTuple);
      if (state.stopped || !pending->response) co_return;
    }
    HttpResponse response = std::move(*pending->response);
    if (!co_await WriteResponse(conn, std::move(response), version, keep_alive) || state.stopped) {
      co_return;
    }
    if (!keep_alive) {
      co_await CloseGracefully(conn);
      co_return;
    }
  }
}

// HTTPS: the TLS handshake, then the same request loop over the encrypted stream.
asio::awaitable<void> ServeTls(std::shared_ptr<Connection<TlsStream>> conn) {
  conn->lowest().expires_after(kTlsHandshakeTimeout);
  auto [ec] = co_await conn->stream.async_handshake(asio::ssl::stream_base::server, kUseTuple);
  if (conn->state->stopped) co_return;
  if (ec) {
    NSQ_LOG_DEBUG("HTTPS: TLS handshake failed - %s", ec.message());
    conn->lowest().close();
    co_return;
  }
  co_await Serve(std::move(conn));
}

asio::awaitable<void> AcceptLoop(std::shared_ptr<ServerState> state) {
  for (;;) {
    auto [ec, socket] = co_await state->acceptor.async_accept(kUseTuple);
    if (state->stopped || ec == asio::error::operation_aborted) co_return;
    if (ec) {
      // Typically out of file descriptors: back off instead of spinning.
      NSQ_LOG_ERROR("HTTP: accept failed - %s", ec.message());
      asio::steady_timer pause(*state->io, std::chrono::milliseconds(100));
      co_await pause.async_wait(kUseTuple);
      if (state->stopped) co_return;
      continue;
    }
    net::ConfigureAccepted(socket);
    if (state->tls) {
      auto conn = std::make_shared<Connection<TlsStream>>(state, std::move(socket),
                                                          state->tls->native());
      asio::co_spawn(*state->io, ServeTls(std::move(conn)), LogIfFailed);
    } else {
      auto conn = std::make_shared<Connection<beast::tcp_stream>>(state, std::move(socket));
      asio::co_spawn(*state->io, Serve(std::move(conn)), LogIfFailed);
    }
  }
}

// "host:port", "[v6]:port" or ":port" (all interfaces).
}  // namespace

struct HttpServer::Impl {
  std::shared_ptr<ServerState> state;
};

HttpServer::HttpServer(boost::asio::io_context* io, HttpHandler* handler, int64_t max_body_size,
                       std::shared_ptr<net::TlsServerContext> tls, HttpServerTimeouts timeouts)
    : impl_(std::make_unique<Impl>()) {
  const int64_t limit = std::max(max_body_size, handler->MaxRequestBodySize());
  impl_->state = std::make_shared<ServerState>(io, handler, static_cast<uint64_t>(limit),
                                               std::move(tls), timeouts);
}

HttpServer::~HttpServer() { Stop(); }

absl::StatusOr<int> HttpServer::Listen(const std::string& address) {
  ServerState& state = *impl_->state;
  if (state.acceptor.is_open()) return absl::FailedPreconditionError("HTTP: already listening");
  absl::StatusOr<int> port = net::OpenListener(&state.acceptor, address, state.tls ? "HTTPS" : "HTTP");
  if (!port.ok()) return port.status();
  asio::co_spawn(*state.io, AcceptLoop(impl_->state), LogIfFailed);
  return *port;
}

void HttpServer::Stop() {
  ServerState& state = *impl_->state;
  if (state.stopped) return;
  state.stopped = true;
  beast::error_code ignored;
  state.acceptor.close(ignored);
  // Closing cancels each connection's pending read or write; its coroutine then ends.
  const std::vector<beast::tcp_stream*> open(state.connections.begin(), state.connections.end());
  for (beast::tcp_stream* stream : open) stream->socket().close(ignored);
}

}  // namespace nsq::http
