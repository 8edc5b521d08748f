#include "client/src/lookupd_query.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/parse.hpp>
#include <exception>
#include <optional>

#include "absl/strings/str_cat.h"
#include "client/src/conn.h"
#include "nsq/lookupd.h"

namespace nsq::client {
namespace internal {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;

namespace {

constexpr auto kUseAwaitable = asio::as_tuple(asio::use_awaitable);
constexpr size_t kMaxLookupdReply = 4 << 20;

// The producers of a /lookup or /nodes reply as "broadcast_address:tcp_port".
absl::StatusOr<std::vector<std::string>> ParseProducers(std::string_view body) {
  boost::system::error_code ec;
  boost::json::value json = boost::json::parse(body, ec);
  if (ec || !json.is_object()) return absl::DataLossError("reply is not a JSON object");
  const boost::json::object* root = &json.as_object();
  // Before 1.0, lookupd wrapped replies in {"status_code", "data"}.
  if (const boost::json::value* data = root->if_contains("data"); data && data->is_object()) {
    root = &data->as_object();
  }
  const boost::json::value* producers = root->if_contains("producers");
  if (producers == nullptr || !producers->is_array()) {
    return absl::DataLossError("reply has no producers array");
  }
  std::vector<std::string> found;
  for (const boost::json::value& item : producers->as_array()) {
    if (!item.is_object()) continue;
    const boost::json::object& producer = item.as_object();
    const boost::json::value* host_value = producer.if_contains("broadcast_address");
    if (host_value == nullptr || !host_value->is_string()) {
      host_value = producer.if_contains("hostname");
    }
    const boost::json::value* port_value = producer.if_contains("tcp_port");
    if (host_value == nullptr || !host_value->is_string() || port_value == nullptr ||
        !port_value->is_int64()) {
      continue;
    }
    const std::string producer_host(host_value->as_string().c_str());
    found.push_back(absl::StrCat(producer_host, ":", port_value->as_int64()));
  }
  return found;
}

}  // namespace

// GET over HTTP/1.0, so the body ends at EOF.
asio::awaitable<absl::StatusOr<std::vector<std::string>>> FetchProducers(std::string address,
                                                                         std::string topic) {
  absl::StatusOr<LookupdEndpoint> endpoint = ParseLookupdAddress(address);
  if (!endpoint.ok()) co_return endpoint.status();
  auto executor = co_await asio::this_coro::executor;
  tcp::resolver resolver(executor);
  tcp::socket socket(executor);
  asio::steady_timer timer(executor);
  const std::string host = endpoint->host;
  const std::string port = endpoint->port;
  auto resolved = co_await resolver.async_resolve(host, port, kUseAwaitable);
  if (std::get<0>(resolved)) {
    co_return absl::UnavailableError(std::get<0>(resolved).message());
  }
  const tcp::resolver::results_type endpoints = std::get<1>(resolved);
  // Topic names are [.a-zA-Z0-9_-] plus "#ephemeral": only '#' needs escaping.
  std::string path = "/nodes";
  if (!topic.empty()) {
    path = endpoint->lookup_path + "?topic=";
    for (char c : topic) path += c == '#' ? std::string("%23") : std::string(1, c);
  }
  const std::string request =
      absl::StrCat("GET ", path, " HTTP/1.0\r\nHost: ", endpoint->authority,
                   "\r\nAccept: application/vnd.nsq; version=1.0\r\n\r\n");
  std::string response;
  timer.expires_after(kLookupdTimeout);
  auto connected = co_await (asio::async_connect(socket, endpoints, kUseAwaitable) ||
                             timer.async_wait(kUseAwaitable));
  if (connected.index() == 1) co_return absl::DeadlineExceededError("connect timed out");
  if (std::get<0>(std::get<0>(connected))) {
    co_return absl::UnavailableError(std::get<0>(std::get<0>(connected)).message());
  }
  auto request_buffer = asio::buffer(request);
  auto written = co_await (asio::async_write(socket, request_buffer, kUseAwaitable) ||
                           timer.async_wait(kUseAwaitable));
  if (written.index() == 1) co_return absl::DeadlineExceededError("request timed out");
  auto response_buffer = asio::dynamic_buffer(response, kMaxLookupdReply);
  auto read = co_await (asio::async_read(socket, response_buffer, kUseAwaitable) ||
                        timer.async_wait(kUseAwaitable));
  if (read.index() == 1) co_return absl::DeadlineExceededError("response timed out");

  const size_t body_start = response.find("\r\n\r\n");
  if (response.rfind("HTTP/1.", 0) != 0 || response.size() < 12 ||
      body_start == std::string::npos) {
    co_return absl::DataLossError("malformed HTTP response");
  }
  const std::string status_code = response.substr(9, 3);
  if (status_code != "200") {
    co_return absl::NotFoundError(
        absl::StrCat("HTTP ", status_code, " ", response.substr(body_start + 4, 200)));
  }
  co_return ParseProducers(std::string_view(response).substr(body_start + 4));
}

namespace {

// Runs one FetchProducers on a private io_context and waits for it.
absl::StatusOr<std::vector<std::string>> FetchProducersNow(const std::string& address,
                                                           const std::string& topic) {
  asio::io_context io;
  std::optional<absl::StatusOr<std::vector<std::string>>> result;
  asio::co_spawn(io, FetchProducers(address, topic),
                 [&](std::exception_ptr error, absl::StatusOr<std::vector<std::string>> found) {
                   if (error) {
                     result = absl::InternalError("lookupd request failed");
                   } else {
                     result = std::move(found);
                   }
                 });
  io.run();
  return std::move(*result);
}

}  // namespace
}  // namespace internal

absl::StatusOr<std::vector<std::string>> LookupTopicProducers(
    const std::string& lookupd_http_address, const std::string& topic) {
  if (topic.empty()) return absl::InvalidArgumentError("empty topic");
  return internal::FetchProducersNow(lookupd_http_address, topic);
}

absl::StatusOr<std::vector<std::string>> LookupAllProducers(
    const std::string& lookupd_http_address) {
  return internal::FetchProducersNow(lookupd_http_address, "");
}

}  // namespace nsq::client
