// HttpApi: nsqd's HTTP endpoints as plain request -> response functions over the brokers, with
// nsqd's status codes, bodies, headers and JSON field names. An endpoint about one topic runs
// on the shard that owns it; /stats and /metrics gather every shard's. No sockets here: the shared
// common/http/http_server.h moves bytes with Boost.Beast and calls Handle(); unit tests call
// Handle() directly.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/http/http_message.h"
#include "nsqd/broker/broker_set.h"
#include "nsqd/http/metrics_format.h"

namespace nsq::nsqd {

using http::HttpRequest;
using http::HttpResponse;

// What /info and /stats report about this node, and how to read/change configuration.
struct NodeInfo {
  std::string version;  // "1.3.0"
  std::string hostname;
  std::string broadcast_address;
  int tcp_port = 0;
  int http_port = 0;
  int64_t start_time = 0;  // Unix seconds
  // The last storage error while unhealthy, empty while healthy (/ping answers 500
  // "NOK - <error>", /stats reports it). Unset means always healthy.
  std::function<std::string()> health_error;
  // JSON value of a config key (GET /config/:opt); nullopt when unknown.
  std::function<std::optional<std::string>(const std::string& key)> config_value_json;
  // PUT /config/:opt for the keys nsqd allows (log_level, nsqlookupd_tcp_addresses): returns
  // the new JSON value, or nullopt with *status/ *message set for the error reply.
  std::function<std::optional<std::string>(const std::string& key, const std::string& body,
                                           int* status, std::string* message)>
      set_config_value;
  // GET /metrics: adds what the API cannot see (the store's figures, statsd's counters) to a
  // page that has the broker's. Unset: the page has only the broker and the process.
  std::function<void(MetricsPage*)> fill_metrics;
};

class HttpApi final : public http::HttpHandler {
 public:
  HttpApi(BrokerSet* brokers, NodeInfo* info) : brokers_(brokers), info_(info) {}

  // Only requests with a Content-Length above this need the body refused before reading it:
  // the server asks here first (413 MSG_TOO_BIG / BODY_TOO_BIG).
  std::optional<HttpResponse> CheckBeforeBody(const HttpRequest& request) const override;
  // Publishes answer when the store has committed them, and requests go to other shards
  // (HandleAsync). Handle() is the synchronous form for callers with one broker without a
  // store (unit tests), where every answer is immediate.
  HttpResponse Handle(const HttpRequest& request) override;
  void HandleAsync(const HttpRequest& request,
                   std::function<void(HttpResponse)> reply) override;

  // The largest body any endpoint accepts (max of --max-body-size and --max-msg-size): the
  // server refuses to buffer more than this.
  int64_t MaxRequestBodySize() const override;
  // The 413 answer for a body that turned out larger than MaxRequestBodySize() while being
  // read (chunked uploads announce no length): what the endpoint says for an oversized body.
  HttpResponse BodyTooLarge(const HttpRequest& request) const override;

 private:
  BrokerSet* brokers_;
  NodeInfo* info_;
};

}  // namespace nsq::nsqd
