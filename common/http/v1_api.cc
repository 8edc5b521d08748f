#include "common/http/v1_api.h"

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include "absl/strings/str_join.h"
#include "common/protocol/names.h"

namespace nsq::http {
namespace {

constexpr std::string_view kNsqContentTypeHeader = "X-NSQ-Content-Type";
constexpr std::string_view kNsqContentTypeValue = "nsq; version=1.0";

}  // namespace

HttpResponse V1Response(int status) {
  HttpResponse response;
  response.status = status;
  response.headers.emplace_back(kNsqContentTypeHeader, kNsqContentTypeValue);
  return response;
}

HttpResponse JsonError(int status, std::string_view message) {
  HttpResponse response = V1Response(status);
  response.headers.emplace_back("Content-Type", kJsonContentType);
  boost::json::object body;
  body["message"] = message;
  response.body = boost::json::serialize(body);
  return response;
}

HttpResponse JsonOk(std::string json) {
  HttpResponse response = V1Response(200);
  response.headers.emplace_back("Content-Type", kJsonContentType);
  response.body = std::move(json);
  return response;
}

HttpResponse TextOk(std::string text) {
  HttpResponse response = V1Response(200);
  response.headers.emplace_back("Content-Type", kTextContentType);
  response.body = std::move(text);
  return response;
}

HttpResponse EmptyOk() { return V1Response(200); }

HttpResponse PlainText(int status, std::string text) {
  HttpResponse response;
  response.status = status;
  response.headers.emplace_back("Content-Type", kTextContentType);
  response.body = std::move(text);
  return response;
}

const std::string* Target::Get(std::string_view key) const {
  for (const auto& [k, v] : params) {
    if (k == key) return &v;
  }
  return nullptr;
}

std::optional<Target> ParseTarget(std::string_view raw) {
  auto parsed = boost::urls::parse_uri_reference(raw);
  if (!parsed) return std::nullopt;
  const boost::urls::url_view url = *parsed;
  Target target;
  target.path = url.path();
  // Boost.URL 1.81 reads an empty query followed by a fragment ("/stats?#") as two params and
  // iterates past the end of the target on the second (boostorg/url#864; found by
  // fuzz/http_target_fuzz). An empty query has no named params, so it is skipped.
  if (url.encoded_query().empty()) return target;
  for (const boost::urls::param& p : url.params()) {
    target.params.emplace_back(p.key, p.value);
  }
  return target;
}

std::optional<HttpResponse> TopicArg(const Target& target, std::string* topic) {
  const std::string* value = target.Get("topic");
  if (value == nullptr) return JsonError(400, "MISSING_ARG_TOPIC");
  *topic = *value;
  return std::nullopt;
}

std::optional<HttpResponse> TopicChannelArgs(const Target& target, std::string* topic,
                                             std::string* channel) {
  const std::string* topic_name = target.Get("topic");
  if (topic_name == nullptr) return JsonError(400, "MISSING_ARG_TOPIC");
  if (!protocol::IsValidTopicName(*topic_name)) return JsonError(400, "INVALID_ARG_TOPIC");
  const std::string* channel_name = target.Get("channel");
  if (channel_name == nullptr) return JsonError(400, "MISSING_ARG_CHANNEL");
  if (!protocol::IsValidChannelName(*channel_name)) return JsonError(400, "INVALID_ARG_CHANNEL");
  *topic = *topic_name;
  *channel = *channel_name;
  return std::nullopt;
}

HttpResponse NoRouteResponse(std::string_view method, std::vector<std::string> allowed) {
  if (allowed.empty()) return JsonError(404, "NOT_FOUND");
  allowed.push_back("OPTIONS");
  std::sort(allowed.begin(), allowed.end());
  HttpResponse response;
  if (method != "OPTIONS") response = JsonError(405, "METHOD_NOT_ALLOWED");
  response.headers.emplace_back("Allow", absl::StrJoin(allowed, ", "));
  return response;
}

}  // namespace nsq::http
