#include "common/http/http_client.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/url/parse.hpp>
#include <chrono>

#include "absl/strings/str_format.h"

namespace nsq::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

struct Request {
  std::string method;
  std::string host;
  std::string port;
  std::string target;  // path and query
  bool https = false;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  FetchOptions options;
};

absl::StatusOr<Request> Parse(std::string method, const std::string& url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return absl::InvalidArgumentError(absl::StrFormat("bad URL %s", url));
  Request request;
  request.method = std::move(method);
  const std::string scheme(parsed->scheme());
  if (scheme != "http" && scheme != "https") {
    return absl::InvalidArgumentError(absl::StrFormat("unsupported URL scheme in %s", url));
  }
  request.https = scheme == "https";
  request.host = parsed->host_address();
  request.port = parsed->has_port() ? std::string(parsed->port()) : (request.https ? "443" : "80");
  request.target = std::string(parsed->encoded_path());
  if (request.target.empty()) request.target = "/";
  if (parsed->has_query()) request.target += "?" + std::string(parsed->encoded_query());
  return request;
}

// Sends the request over `stream` (connected, handshake done) and reads the answer.
template <class Stream>
asio::awaitable<absl::StatusOr<FetchResponse>> Exchange(Stream& stream, beast::tcp_stream& lowest,
                                                        const Request& request,
                                                        std::chrono::steady_clock::time_point end) {
  bhttp::request<bhttp::string_body> message;
  message.method_string(request.method);
  message.target(request.target);
  message.version(11);
  message.set(bhttp::field::host, request.host);
  message.set(bhttp::field::connection, "close");
  for (const auto& [name, value] : request.headers) message.set(name, value);
  message.body() = request.body;
  message.prepare_payload();
  lowest.expires_at(end);
  auto [write_ec, written] = co_await bhttp::async_write(stream, message, kUseTuple);
  if (write_ec) co_return absl::UnavailableError(write_ec.message());
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(request.options.max_body_size);
  parser.header_limit(64 * 1024);
  auto [read_ec, read] = co_await bhttp::async_read(stream, buffer, parser, kUseTuple);
  if (read_ec == beast::error::timeout) co_return absl::DeadlineExceededError("request timed out");
  if (read_ec == bhttp::error::body_limit) {
    co_return absl::ResourceExhaustedError("response body too large");
  }
  if (read_ec) co_return absl::UnavailableError(read_ec.message());
  FetchResponse response;
  response.status = static_cast<int>(parser.get().result_int());
  response.body = std::move(parser.get().body());
  co_return response;
}

asio::awaitable<absl::StatusOr<FetchResponse>> Fetch(Request request) {
  auto executor = co_await asio::this_coro::executor;
  const auto start = std::chrono::steady_clock::now();
  const auto end = start + absl::ToChronoNanoseconds(request.options.request_timeout);
  const auto connect_end =
      std::min(end, start + absl::ToChronoNanoseconds(request.options.connect_timeout));
  tcp::resolver resolver(executor);
  auto [resolve_ec, endpoints] = co_await resolver.async_resolve(request.host, request.port, kUseTuple);
  if (resolve_ec) co_return absl::UnavailableError(resolve_ec.message());
  beast::tcp_stream tcp_stream(executor);
  tcp_stream.expires_at(connect_end);
  auto [connect_ec, endpoint] = co_await tcp_stream.async_connect(endpoints, kUseTuple);
  if (connect_ec == beast::error::timeout) co_return absl::DeadlineExceededError("connect timed out");
  if (connect_ec) co_return absl::UnavailableError(connect_ec.message());
  if (!request.https) co_return co_await Exchange(tcp_stream, tcp_stream, request, end);

  if (!request.options.tls) co_return absl::InvalidArgumentError("https:// without a TLS context");
  beast::ssl_stream<beast::tcp_stream> tls(std::move(tcp_stream), *request.options.tls);
  // Server name for SNI and for verifying the certificate against the host.
  SSL_set_tlsext_host_name(tls.native_handle(), request.host.c_str());
  SSL_set1_host(tls.native_handle(), request.host.c_str());
  beast::get_lowest_layer(tls).expires_at(end);
  auto [handshake_ec] = co_await tls.async_handshake(asio::ssl::stream_base::client, kUseTuple);
  if (handshake_ec) {
    co_return absl::UnavailableError(absl::StrFormat("TLS: %s", handshake_ec.message()));
  }
  co_return co_await Exchange(tls, beast::get_lowest_layer(tls), request, end);
}

}  // namespace

void HttpFetch(boost::asio::io_context* io, std::string method, std::string url,
               std::string body, std::vector<std::pair<std::string, std::string>> headers,
               const FetchOptions& options,
               std::function<void(absl::StatusOr<FetchResponse>)> done) {
  absl::StatusOr<Request> request = Parse(std::move(method), url);
  if (!request.ok()) {
    asio::post(*io, [done = std::move(done), status = request.status()] { done(status); });
    return;
  }
  request->body = std::move(body);
  request->headers = std::move(headers);
  request->options = options;
  asio::co_spawn(*io, Fetch(std::move(*request)),
                 [done = std::move(done)](std::exception_ptr error,
                                          absl::StatusOr<FetchResponse> response) {
                   if (error) {
                     done(absl::InternalError("HTTP request failed"));
                   } else {
                     done(std::move(response));
                   }
                 });
}

}  // namespace nsq::http
