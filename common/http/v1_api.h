// The building blocks NSQ's daemons share for their HTTP APIs ("V1" conventions, NSQ-REFERENCE
// §4.1): the response shapes (X-NSQ-Content-Type header, {"message":...} errors), the decoded
// request target and its topic/channel arguments, and the route table lookup with NSQ's 404 /
// 405 / OPTIONS answers.
//
//   constexpr Route<MyHandler> kRoutes[] = {{"/ping", "GET", DoPing}, ...};
//   std::optional<Target> target = ParseTarget(request.target);
//   if (!target) return JsonError(400, "INVALID_REQUEST");
//   HttpResponse refusal;
//   const auto* route = FindRoute<MyHandler>(kRoutes, target->path, request.method, &refusal);
//   if (route == nullptr) return refusal;
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/http/http_message.h"

namespace nsq::http {

inline constexpr std::string_view kJsonContentType = "application/json; charset=utf-8";
// Go sniffs "OK" and text pages as plain text.
inline constexpr std::string_view kTextContentType = "text/plain; charset=utf-8";

// An empty response carrying the X-NSQ-Content-Type header every V1 answer has.
HttpResponse V1Response(int status);
// {"message":"<message>"} with the status, as a V1 error.
HttpResponse JsonError(int status, std::string_view message);
// 200 with a JSON document (already serialized).
HttpResponse JsonOk(std::string json);
// 200 with a plain-text body, inside the V1 envelope.
HttpResponse TextOk(std::string text);
// Success without data: 200, empty body, no Content-Type.
HttpResponse EmptyOk();
// Outside the V1 envelope (/ping): no X-NSQ header, a text body.
HttpResponse PlainText(int status, std::string text);

// The decoded path and query of a request target. NSQ reads parameters from the query string
// only; when a key repeats, the first value wins.
struct Target {
  std::string path;
  std::vector<std::pair<std::string, std::string>> params;

  // The first value of `key`, nullptr when absent (an empty value is present).
  const std::string* Get(std::string_view key) const;
};

// nullopt when `raw` is not a valid URI reference.
std::optional<Target> ParseTarget(std::string_view raw);

// ?topic=, which must be present (400 MISSING_ARG_TOPIC); the name is not checked, because
// upstream's endpoints disagree on whether to and with which message.
std::optional<HttpResponse> TopicArg(const Target& target, std::string* topic);

// ?topic= and ?channel=, both valid names (upstream's http_api.GetTopicChannelArgs): 400
// MISSING_ARG_TOPIC, INVALID_ARG_TOPIC, MISSING_ARG_CHANNEL or INVALID_ARG_CHANNEL.
std::optional<HttpResponse> TopicChannelArgs(const Target& target, std::string* topic,
                                             std::string* channel);

// One row of an API's route table; Handler is the API's own handler type.
template <typename Handler>
struct Route {
  std::string_view path;
  std::string_view method;
  Handler handler;
};

// The answer when no route has this path and method: 404 NOT_FOUND when no route has the
// path; otherwise, as NSQ's router, OPTIONS gets 200 with an Allow header (outside the V1
// envelope) and any other method 405 METHOD_NOT_ALLOWED with Allow. `allowed` are the
// methods the path's routes have.
HttpResponse NoRouteResponse(std::string_view method, std::vector<std::string> allowed);

// The route for `path` and `method`, or nullptr with the answer in *refusal.
template <typename Handler>
const Route<Handler>* FindRoute(std::span<const Route<Handler>> routes, std::string_view path,
                                std::string_view method, HttpResponse* refusal) {
  std::vector<std::string> allowed;
  for (const Route<Handler>& route : routes) {
    if (route.path != path) continue;
    if (route.method == method) return &route;
    allowed.emplace_back(route.method);
  }
  *refusal = NoRouteResponse(method, std::move(allowed));
  return nullptr;
}

}  // namespace nsq::http
