#include "nsqd/auth/authenticator.h"

#include <boost/asio/ssl/context.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include <algorithm>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/http/http_client.h"
#include "common/log/logger.h"
#include "common/net/tls_context.h"

namespace nsq::nsqd {
namespace {

constexpr size_t kMaxAnswer = 1 << 20;

std::string Encode(const std::string& text) {
  return boost::urls::encode(text, boost::urls::unreserved_chars);
}

// nsqd's parameters, in the order it sends them.
std::vector<std::pair<std::string, std::string>> Parameters(const AuthQuery& query) {
  return {{"common_name", query.common_name},
          {"remote_ip", query.remote_ip},
          {"secret", query.secret},
          {"tls", query.tls ? "true" : "false"}};
}

// An address with "://" is the whole URL; otherwise nsqd asks http://<address>/auth.
std::string BaseUrl(const std::string& address) {
  if (address.find("://") != std::string::npos) return address;
  return absl::StrFormat("http://%s/auth", address);
}

}  // namespace

struct HttpAuthenticator::Attempt {
  AuthQuery query;
  std::vector<std::string> order;
  size_t next = 0;
  std::vector<std::string> errors;
  std::function<void(absl::StatusOr<AuthState>)> done;
};

HttpAuthenticator::HttpAuthenticator(boost::asio::io_context* io, const NsqdOptions& options,
                                     std::shared_ptr<boost::asio::ssl::context> tls)
    : io_(io),
      addresses_(options.auth_http_addresses),
      post_(options.auth_http_request_method == "post"),
      connect_timeout_(options.http_client_connect_timeout),
      request_timeout_(options.http_client_request_timeout),
      tls_(std::move(tls)) {}

HttpAuthenticator::~HttpAuthenticator() = default;

absl::StatusOr<std::shared_ptr<boost::asio::ssl::context>> HttpAuthenticator::ClientTlsContext(
    const NsqdOptions& options) {
  return net::MakeTlsClientContext(options.tls_root_ca_file, options.tls_min_version);
}

void HttpAuthenticator::Query(const AuthQuery& query,
                              std::function<void(absl::StatusOr<AuthState>)> done) {
  auto attempt = std::make_shared<Attempt>();
  attempt->query = query;
  attempt->order = addresses_;
  std::shuffle(attempt->order.begin(), attempt->order.end(), random_);
  attempt->done = std::move(done);
  TryNext(std::move(attempt));
}

void HttpAuthenticator::TryNext(std::shared_ptr<Attempt> attempt) {
  if (attempt->next == attempt->order.size()) {
    attempt->done(absl::UnavailableError(absl::StrJoin(attempt->errors, "; ")));
    return;
  }
  const std::string address = attempt->order[attempt->next++];
  std::string url = BaseUrl(address);
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers = {
      {"Accept", "application/vnd.nsq; version=1.0"}};
  if (post_) {
    // nsqd posts url.Values as JSON: every value is an array of strings.
    boost::json::object object;
    for (const auto& [name, value] : Parameters(attempt->query)) {
      object[name] = boost::json::array{boost::json::string(value)};
    }
    body = boost::json::serialize(object);
    headers.emplace_back("Content-Type", "application/json");
  } else {
    std::vector<std::string> pairs;
    for (const auto& [name, value] : Parameters(attempt->query)) {
      pairs.push_back(absl::StrFormat("%s=%s", name, Encode(value)));
    }
    url += (url.find('?') == std::string::npos ? "?" : "&") + absl::StrJoin(pairs, "&");
  }
  http::FetchOptions options;
  options.connect_timeout = connect_timeout_;
  options.request_timeout = request_timeout_;
  options.max_body_size = kMaxAnswer;
  options.tls = tls_;
  http::HttpFetch(
      io_, post_ ? "POST" : "GET", url, std::move(body), std::move(headers), options,
      [this, attempt, address](absl::StatusOr<http::FetchResponse> response) {
        if (!response.ok()) {
          attempt->errors.push_back(absl::StrFormat("%s: %s", address, response.status().message()));
        } else if (response->status != 200) {
          attempt->errors.push_back(absl::StrFormat("%s: HTTP %d", address, response->status));
        } else {
          absl::StatusOr<AuthState> state = ParseAuthResponse(response->body);
          if (state.ok()) {
            attempt->done(std::move(state));
            return;
          }
          attempt->errors.push_back(absl::StrFormat("%s: %s", address, state.status().message()));
        }
        TryNext(attempt);
      });
}

}  // namespace nsq::nsqd
