#include "nsqd/http/http_api.h"

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <charconv>
#include <memory>
#include <optional>
#include <string_view>

#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "common/http/v1_api.h"
#include "common/log/logger.h"
#include "common/protocol/body.h"
#include "common/protocol/names.h"
#include "common/util/process_stats.h"
#include "nsqd/http/stats_format.h"

namespace nsq::nsqd {
namespace {

using http::EmptyOk;
using http::JsonError;
using http::JsonOk;
using http::PlainText;
using http::Target;
using http::TextOk;

// Go's strconv.ParseInt(s, 10, 64): optional sign, decimal digits, no spaces, no overflow.
std::optional<int64_t> ParseGoInt(std::string_view text) {
  const bool plus = !text.empty() && text.front() == '+';
  if (plus) text.remove_prefix(1);
  if (text.empty() || (plus && text.front() == '-')) return std::nullopt;
  int64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

// nsqd's boolean query values; anything else (or absent) means the default, true.
bool ParseBoolParam(const std::string* value) {
  if (value == nullptr) return true;
  return !(*value == "false" || *value == "0");
}

uint32_t ReadBigEndian32(std::string_view bytes) {
  return static_cast<uint32_t>(static_cast<unsigned char>(bytes[0])) << 24 |
         static_cast<uint32_t>(static_cast<unsigned char>(bytes[1])) << 16 |
         static_cast<uint32_t>(static_cast<unsigned char>(bytes[2])) << 8 |
         static_cast<uint32_t>(static_cast<unsigned char>(bytes[3]));
}

// /mpub?binary=true: [int32 count] then count x [int32 size][bytes], validated like TCP MPUB.
// Returns the TCP error code without its "E_" prefix (which /mpub answers with 413).
std::optional<std::string_view> ParseBinaryMpub(std::string_view body, int64_t max_msg_size,
                                                int64_t max_body_size,
                                                std::vector<protocol::Body>* out) {
  if (body.size() < 4) return "BAD_BODY";
  const int32_t count = static_cast<int32_t>(ReadBigEndian32(body));
  body.remove_prefix(4);
  if (count <= 0 || count > (max_body_size - 4) / 5) return "BAD_BODY";
  out->reserve(static_cast<size_t>(count));
  for (int32_t i = 0; i < count; ++i) {
    if (body.size() < 4) return "BAD_MESSAGE";
    const int32_t size = static_cast<int32_t>(ReadBigEndian32(body));
    body.remove_prefix(4);
    if (size <= 0 || size > max_msg_size) return "BAD_MESSAGE";
    if (body.size() < static_cast<size_t>(size)) return "BAD_MESSAGE";
    out->push_back(protocol::Body::Copy(body.substr(0, static_cast<size_t>(size))));
    body.remove_prefix(static_cast<size_t>(size));
  }
  return std::nullopt;
}

// One request on its way through a handler.
struct Call {
  BrokerSet* brokers;
  // The broker of the shard the handler runs on: the topic's owner for the topic and channel
  // endpoints, the HTTP server's shard for the others.
  Broker* broker;
  NodeInfo* info;
  const HttpRequest& request;
  const Target& target;
  std::string_view path_arg;  // the :opt of /config/:opt
  // An endpoint that answers later (a publish) calls this and sets *answered_later; what it
  // returns is then ignored.
  const std::function<void(HttpResponse)>& reply;
  bool* answered_later;
};

using Handler = HttpResponse (*)(const Call&);

// ?topic=, a valid name, for the topic endpoints, which say INVALID_TOPIC.
std::optional<HttpResponse> TopicParam(const Call& call, std::string* topic) {
  if (auto error = http::TopicArg(call.target, topic)) return error;
  if (!protocol::IsValidTopicName(*topic)) return JsonError(400, "INVALID_TOPIC");
  return std::nullopt;
}

// ?topic= and ?channel= for the channel endpoints, which say INVALID_ARG_TOPIC (sic), and the
// topic, which must exist.
std::optional<HttpResponse> ExistingTopicAndChannel(const Call& call, Topic** topic,
                                                    std::string* channel) {
  std::string topic_name;
  if (auto error = http::TopicChannelArgs(call.target, &topic_name, channel)) return error;
  *topic = call.broker->FindTopic(topic_name);
  if (*topic == nullptr) return JsonError(404, "TOPIC_NOT_FOUND");
  return std::nullopt;
}

HttpResponse PublishResult(const absl::Status& status, std::string_view topic) {
  if (status.ok()) return TextOk("OK");
  // nsqd answers 503 EXITING when the topic is going away; a refused put (memory full) is
  // ours to report, as a server error.
  if (absl::IsUnavailable(status)) return JsonError(503, "EXITING");
  NSQ_LOG_WARN("HTTP: publish to %s failed - %s", topic, status.message());
  return JsonError(500, "INTERNAL_ERROR");
}

// Publishes and answers once the store has the messages (at once when they stay in memory).
HttpResponse PublishLater(const Call& call, Topic* topic, const std::vector<protocol::Body>& bodies,
                          int64_t defer_ns) {
  *call.answered_later = true;
  topic->Publish(bodies, defer_ns,
                 [reply = call.reply, topic_name = topic->name()](absl::Status status) {
                   reply(PublishResult(status, topic_name));
                 });
  return {};
}

std::string HealthText(const NodeInfo& info) {
  if (!info.health_error) return "OK";
  const std::string error = info.health_error();
  return error.empty() ? "OK" : "NOK - " + error;
}

HttpResponse DoPing(const Call& call) {
  const std::string health = HealthText(*call.info);
  return PlainText(health == "OK" ? 200 : 500, health);
}

HttpResponse DoInfo(const Call& call) {
  const NsqdOptions& options = call.broker->options();
  boost::json::object info;
  info["version"] = call.info->version;
  info["broadcast_address"] = call.info->broadcast_address;
  info["hostname"] = call.info->hostname;
  info["http_port"] = call.info->http_port;
  info["tcp_port"] = call.info->tcp_port;
  info["start_time"] = call.info->start_time;
  // Go durations marshal as nanosecond integers.
  info["max_heartbeat_interval"] = absl::ToInt64Nanoseconds(options.max_heartbeat_interval);
  info["max_output_buffer_size"] = options.max_output_buffer_size;
  info["max_output_buffer_timeout"] = absl::ToInt64Nanoseconds(options.max_output_buffer_timeout);
  info["max_deflate_level"] = options.max_deflate_level;
  info["topology_zone"] = options.topology_zone;
  info["topology_region"] = options.topology_region;
  return JsonOk(boost::json::serialize(info));
}

HttpResponse DoPub(const Call& call) {
  const NsqdOptions& options = call.broker->options();
  const std::string& body = call.request.body;
  if (static_cast<int64_t>(body.size()) > options.max_msg_size) {
    return JsonError(413, "MSG_TOO_BIG");
  }
  if (body.empty()) return JsonError(400, "MSG_EMPTY");
  std::string topic_name;
  if (auto error = TopicParam(call, &topic_name)) return *error;
  // As in nsqd the topic exists from here on, even if the defer value is then refused.
  Topic* topic = call.broker->GetOrCreateTopic(topic_name);

  int64_t defer_ns = 0;
  if (const std::string* defer = call.target.Get("defer")) {
    const std::optional<int64_t> defer_ms = ParseGoInt(*defer);
    const int64_t max_ms = absl::ToInt64Nanoseconds(options.max_req_timeout) / 1'000'000;
    if (!defer_ms || *defer_ms < 0 || *defer_ms > max_ms) return JsonError(400, "INVALID_DEFER");
    defer_ns = *defer_ms * 1'000'000;
  }
  return PublishLater(call, topic, {protocol::Body::Copy(body)}, defer_ns);
}

HttpResponse DoMpub(const Call& call) {
  const NsqdOptions& options = call.broker->options();
  const std::string& body = call.request.body;
  std::string topic_name;
  if (auto error = TopicParam(call, &topic_name)) return *error;
  Topic* topic = call.broker->GetOrCreateTopic(topic_name);

  // binary: absent, false or 0 = text; true or 1 = binary; any other value = binary too
  // (nsqd's deprecated spelling).
  bool binary = false;
  if (const std::string* mode = call.target.Get("binary")) {
    binary = !(*mode == "false" || *mode == "0");
    if (*mode != "true" && *mode != "1" && binary) {
      NSQ_LOG_WARN("deprecated value '%s' used for /mpub binary param", *mode);
    }
  }
  if (static_cast<int64_t>(body.size()) > options.max_body_size) {
    return JsonError(413, "BODY_TOO_BIG");
  }

  std::vector<protocol::Body> bodies;
  if (binary) {
    if (auto error = ParseBinaryMpub(body, options.max_msg_size, options.max_body_size, &bodies)) {
      return JsonError(413, *error);
    }
  } else {
    // One message per line; empty lines are skipped and '\r' is kept, as in nsqd.
    for (absl::string_view line : absl::StrSplit(body, '\n')) {
      if (line.empty()) continue;
      if (static_cast<int64_t>(line.size()) > options.max_msg_size) {
        return JsonError(413, "MSG_TOO_BIG");
      }
      bodies.push_back(protocol::Body::Copy(std::string_view(line.data(), line.size())));
    }
    // nsqd answers OK to a body of empty lines and queues nothing.
    if (bodies.empty()) return TextOk("OK");
  }
  return PublishLater(call, topic, bodies, 0);
}

HttpResponse DoStats(const Call& call) {
  const Target& target = call.target;
  const std::string* format = target.Get("format");
  const std::string* topic = target.Get("topic");
  const std::string* channel = target.Get("channel");
  const bool include_clients = ParseBoolParam(target.Get("include_clients"));
  const bool include_mem = ParseBoolParam(target.Get("include_mem"));
  const bool json = format != nullptr && *format == "json";

  *call.answered_later = true;
  GatherStats(*call.brokers, topic ? *topic : std::string(), channel ? *channel : std::string(),
              include_clients,
              [reply = call.reply, info = call.info, clock = call.broker->context()->clock,
               include_clients, include_mem, json](BrokerStats stats) {
                StatsPage page;
                page.version = info->version;
                page.health = HealthText(*info);
                page.start_time = info->start_time;
                page.now_ns = clock->NowNs();
                page.stats = &stats;
                page.include_clients = include_clients;
                if (include_mem) page.memory = ReadMemoryStats();
                reply(json ? JsonOk(StatsJson(page)) : TextOk(StatsText(page)));
              });
  return {};
}

// Prometheus's view: every topic and channel without their clients, the store, the process.
HttpResponse DoMetrics(const Call& call) {
  *call.answered_later = true;
  GatherStats(*call.brokers, std::string(), std::string(), false,
              [reply = call.reply, info = call.info,
               clock = call.broker->context()->clock](BrokerStats stats) {
                MetricsPage page;
                page.version = info->version;
                page.healthy = HealthText(*info) == "OK";
                page.start_time = info->start_time;
                page.now_ns = clock->NowNs();
                page.stats = &stats;
                page.process = util::ReadProcessStats();
                if (info->fill_metrics) info->fill_metrics(&page);
                reply(http::PrometheusResponse(MetricsText(page)));
              });
  return {};
}

HttpResponse DoTopicCreate(const Call& call) {
  std::string topic_name;
  if (auto error = TopicParam(call, &topic_name)) return *error;
  call.broker->GetOrCreateTopic(topic_name);
  return EmptyOk();
}

HttpResponse DoTopicDelete(const Call& call) {
  // nsqd does not validate the name here: an invalid one is simply not found.
  std::string topic_name;
  if (auto error = http::TopicArg(call.target, &topic_name)) return *error;
  if (!call.broker->DeleteTopic(topic_name).ok()) return JsonError(404, "TOPIC_NOT_FOUND");
  return EmptyOk();
}

HttpResponse DoTopicEmpty(const Call& call) {
  std::string topic_name;
  if (auto error = TopicParam(call, &topic_name)) return *error;
  Topic* topic = call.broker->FindTopic(topic_name);
  if (topic == nullptr) return JsonError(404, "TOPIC_NOT_FOUND");
  topic->Empty();
  return EmptyOk();
}

// Pause and unpause, which (as in nsqd) do not validate the name either.
HttpResponse PauseTopic(const Call& call, bool pause) {
  std::string topic_name;
  if (auto error = http::TopicArg(call.target, &topic_name)) return *error;
  Topic* topic = call.broker->FindTopic(topic_name);
  if (topic == nullptr) return JsonError(404, "TOPIC_NOT_FOUND");
  if (pause) {
    topic->Pause();
  } else {
    topic->Unpause();
  }
  return EmptyOk();
}

HttpResponse DoTopicPause(const Call& call) { return PauseTopic(call, true); }
HttpResponse DoTopicUnpause(const Call& call) { return PauseTopic(call, false); }

HttpResponse DoChannelCreate(const Call& call) {
  Topic* topic = nullptr;
  std::string channel_name;
  if (auto error = ExistingTopicAndChannel(call, &topic, &channel_name)) return *error;
  topic->GetOrCreateChannel(channel_name);
  return EmptyOk();
}

HttpResponse DoChannelDelete(const Call& call) {
  Topic* topic = nullptr;
  std::string channel_name;
  if (auto error = ExistingTopicAndChannel(call, &topic, &channel_name)) return *error;
  if (!topic->DeleteChannel(channel_name).ok()) return JsonError(404, "CHANNEL_NOT_FOUND");
  return EmptyOk();
}

// empty, pause and unpause of an existing channel.
template <void (Channel::*kAction)()>
HttpResponse OnExistingChannel(const Call& call) {
  Topic* topic = nullptr;
  std::string channel_name;
  if (auto error = ExistingTopicAndChannel(call, &topic, &channel_name)) return *error;
  Channel* channel = topic->FindChannel(channel_name);
  if (channel == nullptr) return JsonError(404, "CHANNEL_NOT_FOUND");
  (channel->*kAction)();
  return EmptyOk();
}

HttpResponse DoConfigGet(const Call& call) {
  std::optional<std::string> value;
  if (call.info->config_value_json)
    value = call.info->config_value_json(std::string(call.path_arg));
  if (!value) return JsonError(400, "INVALID_OPTION");
  return JsonOk(std::move(*value));
}

HttpResponse DoConfigPut(const Call& call) {
  const std::string& body = call.request.body;
  const int64_t max_msg_size = call.broker->options().max_msg_size;
  if (body.empty() || static_cast<int64_t>(body.size()) > max_msg_size) {
    return JsonError(413, "INVALID_VALUE");
  }
  if (!call.info->set_config_value) return JsonError(400, "INVALID_OPTION");
  int status = 400;
  std::string message = "INVALID_OPTION";
  std::optional<std::string> value =
      call.info->set_config_value(std::string(call.path_arg), body, &status, &message);
  if (!value) return JsonError(status, message);
  return JsonOk(std::move(*value));
}

using Route = http::Route<Handler>;

constexpr std::string_view kConfigPattern = "/config/:opt";

constexpr Route kRoutes[] = {
    {"/ping", "GET", DoPing},
    {"/info", "GET", DoInfo},
    {"/pub", "POST", DoPub},
    {"/mpub", "POST", DoMpub},
    {"/stats", "GET", DoStats},
    {"/metrics", "GET", DoMetrics},
    {"/topic/create", "POST", DoTopicCreate},
    {"/topic/delete", "POST", DoTopicDelete},
    {"/topic/empty", "POST", DoTopicEmpty},
    {"/topic/pause", "POST", DoTopicPause},
    {"/topic/unpause", "POST", DoTopicUnpause},
    {"/channel/create", "POST", DoChannelCreate},
    {"/channel/delete", "POST", DoChannelDelete},
    {"/channel/empty", "POST", OnExistingChannel<&Channel::Empty>},
    {"/channel/pause", "POST", OnExistingChannel<&Channel::Pause>},
    {"/channel/unpause", "POST", OnExistingChannel<&Channel::Unpause>},
    {kConfigPattern, "GET", DoConfigGet},
    {kConfigPattern, "PUT", DoConfigPut},
};

// The endpoints about one topic (?topic=), which run on the shard that owns it.
bool RunsOnTopicOwner(std::string_view pattern) {
  return pattern == "/pub" || pattern == "/mpub" || pattern.substr(0, 7) == "/topic/" ||
         pattern.substr(0, 9) == "/channel/";
}

// Maps a request path to its route pattern; /config/<opt> also yields <opt>.
std::string_view RoutePattern(std::string_view path, std::string_view* path_arg) {
  constexpr std::string_view kConfigPrefix = "/config/";
  if (path.substr(0, kConfigPrefix.size()) == kConfigPrefix) {
    std::string_view opt = path.substr(kConfigPrefix.size());
    if (opt.empty() || opt.find('/') != std::string_view::npos) return path;
    *path_arg = opt;
    return kConfigPattern;
  }
  return path;
}

}  // namespace

int64_t HttpApi::MaxRequestBodySize() const {
  const NsqdOptions& options = brokers_->local().options();
  return std::max(options.max_body_size, options.max_msg_size);
}

std::optional<HttpResponse> HttpApi::CheckBeforeBody(const HttpRequest& request) const {
  if (!request.content_length || request.method != "POST") return std::nullopt;
  const std::optional<Target> target = http::ParseTarget(request.target);
  if (!target) return std::nullopt;
  const NsqdOptions& options = brokers_->local().options();
  const auto length = static_cast<int64_t>(std::min<uint64_t>(*request.content_length, INT64_MAX));
  if (target->path == "/pub" && length > options.max_msg_size) {
    return JsonError(413, "MSG_TOO_BIG");
  }
  if (target->path == "/mpub" && length > options.max_body_size) {
    return JsonError(413, "BODY_TOO_BIG");
  }
  return std::nullopt;
}

HttpResponse HttpApi::BodyTooLarge(const HttpRequest& request) const {
  const std::optional<Target> target = http::ParseTarget(request.target);
  const std::string_view path = target ? std::string_view(target->path) : std::string_view();
  if (path == "/pub") return JsonError(413, "MSG_TOO_BIG");
  if (path.substr(0, 8) == "/config/") return JsonError(413, "INVALID_VALUE");
  return JsonError(413, "BODY_TOO_BIG");
}

void HttpApi::HandleAsync(const HttpRequest& request, std::function<void(HttpResponse)> reply) {
  if (auto early = CheckBeforeBody(request)) return reply(*early);
  const std::optional<Target> target = http::ParseTarget(request.target);
  if (!target) return reply(JsonError(400, "INVALID_REQUEST"));

  std::string_view path_arg;
  const std::string_view pattern = RoutePattern(target->path, &path_arg);
  HttpResponse refusal;
  const Route* route = http::FindRoute<Handler>(kRoutes, pattern, request.method, &refusal);
  if (route == nullptr) return reply(refusal);
  const std::string* topic = target->Get("topic");
  if (brokers_->size() > 1 && topic != nullptr && RunsOnTopicOwner(pattern)) {
    // Handled on the owner's loop; the answer comes back to this one, where the HTTP
    // connection lives. `reply` stays here: what it holds (the connection's timer) must not
    // be released on another loop, so the owner gets only its address.
    const size_t home = brokers_->current();
    auto* held_reply = new std::function<void(HttpResponse)>(std::move(reply));
    brokers_->OnOwner(*topic, [this, route, home, request, target = *target,
                               held_reply](Broker& broker) mutable {
      const std::function<void(HttpResponse)> answer = [this, home,
                                                        held_reply](HttpResponse response) {
        brokers_->Post(home, [held_reply, response = std::move(response)]() mutable {
          std::unique_ptr<std::function<void(HttpResponse)>> reply(held_reply);
          (*reply)(std::move(response));
        });
      };
      bool answered_later = false;
      HttpResponse response = route->handler(
          Call{brokers_, &broker, info_, request, target, {}, answer, &answered_later});
      if (!answered_later) answer(std::move(response));
    });
    return;
  }
  bool answered_later = false;
  HttpResponse response = route->handler(Call{brokers_, &brokers_->local(), info_, request,
                                              *target, path_arg, reply, &answered_later});
  if (!answered_later) reply(std::move(response));
}

HttpResponse HttpApi::Handle(const HttpRequest& request) {
  // Shared: a publish that does wait for a store would answer after this returns.
  auto answer = std::make_shared<std::optional<HttpResponse>>();
  HandleAsync(request, [answer](HttpResponse response) { *answer = std::move(response); });
  if (*answer) return std::move(**answer);
  return JsonError(500, "INTERNAL_ERROR");  // waiting for a store: use HandleAsync
}

}  // namespace nsq::nsqd
