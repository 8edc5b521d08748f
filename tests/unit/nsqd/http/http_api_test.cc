// HttpApi::Handle over a real Broker: every endpoint's status codes, messages, headers and
// the /stats document, as nsqd answers them (NSQ-REFERENCE.md §4, §15).
#include "nsqd/http/http_api.h"

#include <doctest/doctest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "common/http/v1_api.h"
#include "nsqd/broker/broker.h"
#include "nsqd/broker/consumer.h"
#include "nsqd/http/stats_format.h"
#include "tests/unit/nsqd/fake_env.h"

namespace nsq::nsqd {
namespace {

namespace json = boost::json;

constexpr int64_t kNow = 1'700'000'100'000'000'000;  // Unix ns
constexpr int64_t kStartTime = 1'700'000'000;        // Unix s, 100 s before kNow

// A subscriber that never takes messages; /stats lists it under its channel.
class StatsOnlyConsumer final : public Consumer {
 public:
  explicit StatsOnlyConsumer(ClientStats stats) : stats_(std::move(stats)) {}
  bool ReadyForMessage() const override { return false; }
  int64_t SampleRate() const override { return 0; }
  int64_t MsgTimeoutNs() const override { return 60'000'000'000; }
  void DeliverMessage(const protocol::Message&) override {}
  void MessageTimedOut() override {}
  void InFlightReset() override {}
  void ChannelClosing() override {}
  ClientStats Stats() const override { return stats_; }

 private:
  ClientStats stats_;
};

class FakeProducer final : public ClientConnection {
 public:
  explicit FakeProducer(ClientStats stats) : stats_(std::move(stats)) {}
  ClientStats Stats() const override { return stats_; }
  bool IsProducer() const override { return true; }
  void CloseConnection() override {}
  void CloseConnectionNow() override {}

 private:
  ClientStats stats_;
};

std::optional<std::string> Header(const HttpResponse& response, std::string_view name) {
  for (const auto& [key, value] : response.headers) {
    if (key == name) return value;
  }
  return std::nullopt;
}

std::string ErrorMessage(const HttpResponse& response) {
  const json::value body = json::parse(response.body);
  return std::string(body.at("message").as_string());
}

struct ApiFixture {
  ApiFixture() {
    env.options.max_msg_size = 100;
    env.options.max_body_size = 1000;
    env.options.max_req_timeout = absl::Seconds(10);
    env.clock.Set(kNow);
    broker = std::make_unique<Broker>(env.context);
    info.version = "1.3.0";
    info.hostname = "host.example";
    info.broadcast_address = "broadcast.example";
    info.tcp_port = 4150;
    info.http_port = 4151;
    info.start_time = kStartTime;
    info.config_value_json = [this](const std::string& key) -> std::optional<std::string> {
      auto it = config.find(key);
      if (it == config.end()) return std::nullopt;
      return it->second;
    };
    info.set_config_value = [this](const std::string& key, const std::string& body, int* status,
                                   std::string* message) -> std::optional<std::string> {
      if (key != "log_level") {
        *status = 400;
        *message = "INVALID_OPTION";
        return std::nullopt;
      }
      if (body != "debug") {
        *status = 400;
        *message = "INVALID_VALUE";
        return std::nullopt;
      }
      config["log_level"] = "1";
      return config["log_level"];
    };
    brokers = std::make_unique<SingleBroker>(broker.get());
    api = std::make_unique<HttpApi>(brokers.get(), &info);
  }

  HttpResponse Call(std::string method, std::string target, std::string body = "") {
    HttpRequest request;
    request.method = std::move(method);
    request.target = std::move(target);
    request.content_length = body.size();
    request.body = std::move(body);
    return api->Handle(request);
  }
  HttpResponse Get(std::string target) { return Call("GET", std::move(target)); }
  HttpResponse Post(std::string target, std::string body = "") {
    return Call("POST", std::move(target), std::move(body));
  }
  json::value StatsJson(std::string query = "") {
    HttpResponse response = Get("/stats?format=json" + query);
    REQUIRE(response.status == 200);
    return json::parse(response.body);
  }

  // The clock stays at kNow and timers never fire: no test here waits for a timeout.
  testing::FakeEnv env;
  std::unique_ptr<Broker> broker;
  std::unique_ptr<SingleBroker> brokers;
  NodeInfo info;
  std::map<std::string, std::string> config = {{"nsqlookupd_tcp_addresses", "[]"}};
  std::unique_ptr<HttpApi> api;
};

void CheckJsonError(const HttpResponse& response, int status, std::string_view message) {
  CHECK(response.status == status);
  CHECK(ErrorMessage(response) == message);
  CHECK(Header(response, "Content-Type") == "application/json; charset=utf-8");
  CHECK(Header(response, "X-NSQ-Content-Type") == "nsq; version=1.0");
}

void CheckOkText(const HttpResponse& response) {
  CHECK(response.status == 200);
  CHECK(response.body == "OK");
  CHECK(Header(response, "Content-Type") == "text/plain; charset=utf-8");
  CHECK(Header(response, "X-NSQ-Content-Type") == "nsq; version=1.0");
}

void CheckEmptyOk(const HttpResponse& response) {
  CHECK(response.status == 200);
  CHECK(response.body.empty());
  CHECK_FALSE(Header(response, "Content-Type").has_value());
  CHECK(Header(response, "X-NSQ-Content-Type") == "nsq; version=1.0");
}

std::string BigEndian32(uint32_t v) {
  std::string out(4, '\0');
  out[0] = static_cast<char>(v >> 24);
  out[1] = static_cast<char>(v >> 16);
  out[2] = static_cast<char>(v >> 8);
  out[3] = static_cast<char>(v);
  return out;
}

std::string BinaryMpub(const std::vector<std::string>& messages) {
  std::string body = BigEndian32(static_cast<uint32_t>(messages.size()));
  for (const std::string& m : messages) body += BigEndian32(static_cast<uint32_t>(m.size())) + m;
  return body;
}

uint64_t TopicMessageCount(ApiFixture& f, const std::string& topic) {
  Topic* t = f.broker->FindTopic(topic);
  REQUIRE(t != nullptr);
  return t->Stats("", false).message_count;
}

TEST_CASE("GET /ping answers plain OK without the X-NSQ header") {
  ApiFixture f;
  HttpResponse response = f.Get("/ping");
  CHECK(response.status == 200);
  CHECK(response.body == "OK");
  CHECK(Header(response, "Content-Type") == "text/plain; charset=utf-8");
  CHECK_FALSE(Header(response, "X-NSQ-Content-Type").has_value());
}

TEST_CASE("GET /ping answers 500 NOK with the storage error while unhealthy") {
  ApiFixture f;
  f.info.health_error = [] { return std::string("disk full"); };
  HttpResponse response = f.Get("/ping");
  CHECK(response.status == 500);
  CHECK(response.body == "NOK - disk full");
  CHECK(f.StatsJson().at("health") == "NOK - disk full");
}

TEST_CASE("a target with an empty query and a fragment has no params and is served") {
  // Boost.URL 1.81 read past the end of such a target (boostorg/url#864).
  for (const char* raw : {"/stats?#", "?#", "/ping?#x"}) {
    std::optional<http::Target> target = http::ParseTarget(raw);
    REQUIRE(target.has_value());
    CHECK(target->params.empty());
  }
  ApiFixture f;
  CHECK(f.Get("/ping?#").status == 200);
}

TEST_CASE("an unknown path is 404 NOT_FOUND, including the removed pre-1.0 endpoints") {
  ApiFixture f;
  CheckJsonError(f.Get("/nosuch"), 404, "NOT_FOUND");
  CheckJsonError(f.Post("/put?topic=t", "x"), 404, "NOT_FOUND");
  CheckJsonError(f.Post("/mput?topic=t", "x"), 404, "NOT_FOUND");
  CheckJsonError(f.Post("/create_topic?topic=t"), 404, "NOT_FOUND");
  CheckJsonError(f.Get("/ping/"), 404, "NOT_FOUND");
  CheckJsonError(f.Get("/config/"), 404, "NOT_FOUND");
  CheckJsonError(f.Get("/config/a/b"), 404, "NOT_FOUND");
}

TEST_CASE("a known path with the wrong method is 405 METHOD_NOT_ALLOWED with Allow") {
  ApiFixture f;
  HttpResponse response = f.Post("/stats");
  CheckJsonError(response, 405, "METHOD_NOT_ALLOWED");
  CHECK(Header(response, "Allow") == "GET, OPTIONS");
  CheckJsonError(f.Get("/pub?topic=t"), 405, "METHOD_NOT_ALLOWED");
  CheckJsonError(f.Call("DELETE", "/topic/delete?topic=t"), 405, "METHOD_NOT_ALLOWED");
  CHECK(Header(f.Post("/config/log_level"), "Allow") == "GET, OPTIONS, PUT");
  CHECK(f.broker->FindTopic("t") == nullptr);
}

TEST_CASE("OPTIONS lists the allowed methods") {
  ApiFixture f;
  HttpResponse response = f.Call("OPTIONS", "/pub");
  CHECK(response.status == 200);
  CHECK(response.body.empty());
  CHECK(Header(response, "Allow") == "OPTIONS, POST");
}

TEST_CASE("a target that does not parse is 400 INVALID_REQUEST") {
  ApiFixture f;
  CheckJsonError(f.Post("/pub?topic=%zz", "x"), 400, "INVALID_REQUEST");
}

TEST_CASE("GET /info reports the node and durations in nanoseconds") {
  ApiFixture f;
  f.env.options.topology_zone = "zone-a";
  HttpResponse response = f.Get("/info");
  CHECK(response.status == 200);
  CHECK(Header(response, "Content-Type") == "application/json; charset=utf-8");
  CHECK(Header(response, "X-NSQ-Content-Type") == "nsq; version=1.0");
  const json::object info = json::parse(response.body).as_object();
  CHECK(info.at("version") == "1.3.0");
  CHECK(info.at("broadcast_address") == "broadcast.example");
  CHECK(info.at("hostname") == "host.example");
  CHECK(info.at("http_port") == 4151);
  CHECK(info.at("tcp_port") == 4150);
  CHECK(info.at("start_time") == kStartTime);
  CHECK(info.at("max_heartbeat_interval") == 60'000'000'000);
  CHECK(info.at("max_output_buffer_size") == 65536);
  CHECK(info.at("max_output_buffer_timeout") == 30'000'000'000);
  CHECK(info.at("max_deflate_level") == 6);
  CHECK(info.at("topology_zone") == "zone-a");
  CHECK(info.at("topology_region") == "");
  CHECK(info.size() == 12);
}

TEST_CASE("POST /pub queues the body and answers OK") {
  ApiFixture f;
  CheckOkText(f.Post("/pub?topic=test", "hello"));
  CHECK(TopicMessageCount(f, "test") == 1);
  CHECK(f.broker->FindTopic("test")->depth() == 1);
  CHECK(f.broker->FindTopic("test")->Stats("", false).message_bytes == 5);
}

TEST_CASE("POST /pub size limits: exactly max-msg-size passes, one more is 413 MSG_TOO_BIG") {
  ApiFixture f;
  CheckOkText(f.Post("/pub?topic=t", std::string(100, 'x')));
  CheckJsonError(f.Post("/pub?topic=t", std::string(101, 'x')), 413, "MSG_TOO_BIG");
  CHECK(TopicMessageCount(f, "t") == 1);
}

TEST_CASE("CheckBeforeBody refuses a declared length over the limit before the body is read") {
  ApiFixture f;
  HttpRequest pub{"POST", "/pub?topic=t", "", 101};
  std::optional<HttpResponse> early = f.api->CheckBeforeBody(pub);
  REQUIRE(early.has_value());
  CheckJsonError(*early, 413, "MSG_TOO_BIG");
  CHECK(f.broker->FindTopic("t") == nullptr);

  HttpRequest mpub{"POST", "/mpub?topic=t", "", 1001};
  early = f.api->CheckBeforeBody(mpub);
  REQUIRE(early.has_value());
  CheckJsonError(*early, 413, "BODY_TOO_BIG");

  CHECK_FALSE(f.api->CheckBeforeBody({"POST", "/pub?topic=t", "", 100}).has_value());
  CHECK_FALSE(f.api->CheckBeforeBody({"POST", "/mpub?topic=t", "", 1000}).has_value());
  CHECK_FALSE(f.api->CheckBeforeBody({"POST", "/topic/create?topic=t", "", 5000}).has_value());
  CHECK_FALSE(f.api->CheckBeforeBody({"POST", "/pub?topic=t", "", std::nullopt}).has_value());
  CHECK(f.api->MaxRequestBodySize() == 1000);
}

TEST_CASE("BodyTooLarge names the limit each endpoint reports") {
  ApiFixture f;
  CheckJsonError(f.api->BodyTooLarge({"POST", "/pub?topic=t", "", {}}), 413, "MSG_TOO_BIG");
  CheckJsonError(f.api->BodyTooLarge({"POST", "/mpub?topic=t", "", {}}), 413, "BODY_TOO_BIG");
  CheckJsonError(f.api->BodyTooLarge({"PUT", "/config/log_level", "", {}}), 413, "INVALID_VALUE");
}

TEST_CASE("POST /pub with an empty body is 400 MSG_EMPTY and creates nothing") {
  ApiFixture f;
  CheckJsonError(f.Post("/pub?topic=t", ""), 400, "MSG_EMPTY");
  CHECK(f.broker->FindTopic("t") == nullptr);
}

TEST_CASE("POST /pub topic errors: missing, empty and invalid names") {
  ApiFixture f;
  CheckJsonError(f.Post("/pub", "x"), 400, "MISSING_ARG_TOPIC");
  CheckJsonError(f.Post("/pub?topic=", "x"), 400, "INVALID_TOPIC");
  CheckJsonError(f.Post("/pub?topic=a:b", "x"), 400, "INVALID_TOPIC");
  CheckJsonError(f.Post("/pub?topic=" + std::string(65, 'a'), "x"), 400, "INVALID_TOPIC");
  CHECK(f.broker->Topics().empty());
}

TEST_CASE("query parameters are percent-decoded and the first of a repeated key wins") {
  ApiFixture f;
  CheckOkText(f.Post("/pub?topic=te%73t&topic=other", "x"));
  CHECK(f.broker->FindTopic("test") != nullptr);
  CHECK(f.broker->FindTopic("other") == nullptr);
  CheckOkText(f.Post("/pub?topic=eph%23ephemeral", "x"));
  CHECK(f.broker->FindTopic("eph#ephemeral") != nullptr);
}

TEST_CASE("POST /pub?defer= defers the message in every channel") {
  ApiFixture f;
  CheckEmptyOk(f.Post("/topic/create?topic=t"));
  CheckEmptyOk(f.Post("/channel/create?topic=t&channel=c"));
  CheckOkText(f.Post("/pub?topic=t&defer=5000", "later"));
  Channel* channel = f.broker->FindTopic("t")->FindChannel("c");
  CHECK(channel->deferred_count() == 1);
  CHECK(channel->depth() == 0);
  // The bound is inclusive and a leading + is accepted, as Go's ParseInt does.
  CheckOkText(f.Post("/pub?topic=t&defer=10000", "x"));
  CheckOkText(f.Post("/pub?topic=t&defer=%2B7", "x"));
  CheckOkText(f.Post("/pub?topic=t&defer=0", "now"));
  CHECK(channel->deferred_count() == 3);
  CHECK(channel->depth() == 1);
}

TEST_CASE("POST /pub with a bad defer is 400 INVALID_DEFER after creating the topic") {
  ApiFixture f;
  for (const char* defer : {"-1", "abc", "10001", "", "1.5", "+-1", "99999999999999999999"}) {
    CAPTURE(defer);
    CheckJsonError(f.Post(std::string("/pub?topic=t&defer=") + defer, "x"), 400, "INVALID_DEFER");
  }
  REQUIRE(f.broker->FindTopic("t") != nullptr);
  CHECK(TopicMessageCount(f, "t") == 0);
}

TEST_CASE("POST /pub answers 500 INTERNAL_ERROR when the memory queue refuses the message") {
  ApiFixture f;
  f.env.options.mem_queue_size = 1;
  CheckOkText(f.Post("/pub?topic=t", "one"));
  CheckJsonError(f.Post("/pub?topic=t", "two"), 500, "INTERNAL_ERROR");
  CHECK(TopicMessageCount(f, "t") == 1);
}

TEST_CASE("publishing while the broker exits is 503 EXITING") {
  ApiFixture f;
  f.broker->Close([] {});
  CheckJsonError(f.Post("/pub?topic=t", "x"), 503, "EXITING");
  CheckJsonError(f.Post("/mpub?topic=t", "x\ny"), 503, "EXITING");
}

TEST_CASE("POST /mpub text mode: one message per line, empty lines skipped, \\r kept") {
  ApiFixture f;
  CheckEmptyOk(f.Post("/topic/create?topic=t"));
  CheckEmptyOk(f.Post("/channel/create?topic=t&channel=c"));
  CheckOkText(f.Post("/mpub?topic=t", "a\nb\n\nc\r\n"));
  CHECK(TopicMessageCount(f, "t") == 3);
  CHECK(f.broker->FindTopic("t")->Stats("", false).message_bytes == 4);  // a, b, c\r
  CHECK(f.broker->FindTopic("t")->FindChannel("c")->depth() == 3);
}

TEST_CASE("POST /mpub of only empty lines answers OK and queues nothing") {
  ApiFixture f;
  CheckOkText(f.Post("/mpub?topic=t", "\n\n"));
  CHECK(TopicMessageCount(f, "t") == 0);
}

TEST_CASE("POST /mpub text mode size errors") {
  ApiFixture f;
  CheckJsonError(f.Post("/mpub?topic=t", "ok\n" + std::string(101, 'x')), 413, "MSG_TOO_BIG");
  CheckOkText(f.Post("/mpub?topic=t", std::string(100, 'x')));
  CheckJsonError(f.Post("/mpub?topic=t", std::string(1001, '\n')), 413, "BODY_TOO_BIG");
  CHECK(TopicMessageCount(f, "t") == 1);
}

TEST_CASE("POST /mpub topic errors") {
  ApiFixture f;
  CheckJsonError(f.Post("/mpub", "x"), 400, "MISSING_ARG_TOPIC");
  CheckJsonError(f.Post("/mpub?topic=bad/name", "x"), 400, "INVALID_TOPIC");
}

TEST_CASE("POST /mpub binary mode publishes each framed message") {
  ApiFixture f;
  CheckOkText(f.Post("/mpub?topic=t&binary=true", BinaryMpub({"one", "two\nlines"})));
  CHECK(TopicMessageCount(f, "t") == 2);
  CHECK(f.broker->FindTopic("t")->Stats("", false).message_bytes == 12);
  CheckOkText(f.Post("/mpub?topic=t&binary=1", BinaryMpub({"x"})));
  CHECK(TopicMessageCount(f, "t") == 3);
}

TEST_CASE("POST /mpub with a non-boolean binary value means binary; false and 0 mean text") {
  ApiFixture f;
  CheckOkText(f.Post("/mpub?topic=t&binary=yes", BinaryMpub({"abc"})));
  CHECK(f.broker->FindTopic("t")->Stats("", false).message_bytes == 3);
  CheckOkText(f.Post("/mpub?topic=u&binary=false", "a\nb"));
  CheckOkText(f.Post("/mpub?topic=u&binary=0", "c"));
  CHECK(TopicMessageCount(f, "u") == 3);
}

TEST_CASE("POST /mpub binary errors are 413 BAD_BODY or BAD_MESSAGE and queue nothing") {
  ApiFixture f;
  const std::string mpub = "/mpub?topic=t&binary=true";
  CheckJsonError(f.Post(mpub, "ab"), 413, "BAD_BODY");
  CheckJsonError(f.Post(mpub, BigEndian32(0)), 413, "BAD_BODY");
  CheckJsonError(f.Post(mpub, BigEndian32(0xffffffff)), 413, "BAD_BODY");
  CheckJsonError(f.Post(mpub, BigEndian32(200)), 413, "BAD_BODY");  // > (1000-4)/5
  CheckJsonError(f.Post(mpub, BigEndian32(2) + BigEndian32(1) + "a"), 413, "BAD_MESSAGE");
  CheckJsonError(f.Post(mpub, BigEndian32(1) + BigEndian32(0)), 413, "BAD_MESSAGE");
  CheckJsonError(f.Post(mpub, BigEndian32(1) + BigEndian32(5) + "abc"), 413, "BAD_MESSAGE");
  CheckJsonError(f.Post(mpub, BinaryMpub({"ok", std::string(101, 'x')})), 413, "BAD_MESSAGE");
  CHECK(TopicMessageCount(f, "t") == 0);
}

TEST_CASE("POST /topic/create answers an empty 200 and validates the name") {
  ApiFixture f;
  CheckEmptyOk(f.Post("/topic/create?topic=t"));
  CHECK(f.broker->FindTopic("t") != nullptr);
  CheckEmptyOk(f.Post("/topic/create?topic=t"));
  CheckJsonError(f.Post("/topic/create"), 400, "MISSING_ARG_TOPIC");
  CheckJsonError(f.Post("/topic/create?topic=a*b"), 400, "INVALID_TOPIC");
}

TEST_CASE("POST /topic/delete removes the topic; unknown or invalid names are 404") {
  ApiFixture f;
  CheckEmptyOk(f.Post("/topic/create?topic=t"));
  CheckEmptyOk(f.Post("/topic/delete?topic=t"));
  CHECK(f.broker->FindTopic("t") == nullptr);
  CheckJsonError(f.Post("/topic/delete?topic=t"), 404, "TOPIC_NOT_FOUND");
  CheckJsonError(f.Post("/topic/delete?topic=a*b"), 404, "TOPIC_NOT_FOUND");
  CheckJsonError(f.Post("/topic/delete"), 400, "MISSING_ARG_TOPIC");
}

TEST_CASE("POST /topic/empty drops the topic's queue") {
  ApiFixture f;
  CheckOkText(f.Post("/mpub?topic=t", "a\nb"));
  CHECK(f.broker->FindTopic("t")->depth() == 2);
  CheckEmptyOk(f.Post("/topic/empty?topic=t"));
  CHECK(f.broker->FindTopic("t")->depth() == 0);
  CheckJsonError(f.Post("/topic/empty"), 400, "MISSING_ARG_TOPIC");
  CheckJsonError(f.Post("/topic/empty?topic=a*b"), 400, "INVALID_TOPIC");
  CheckJsonError(f.Post("/topic/empty?topic=nosuch"), 404, "TOPIC_NOT_FOUND");
}

TEST_CASE("POST /topic/pause and /topic/unpause flip the paused flag") {
  ApiFixture f;
  CheckEmptyOk(f.Post("/topic/create?topic=t"));
  CheckEmptyOk(f.Post("/topic/pause?topic=t"));
  CHECK(f.broker->FindTopic("t")->paused());
  CHECK(f.StatsJson().at("topics").at(0).at("paused") == true);
  CheckEmptyOk(f.Post("/topic/unpause?topic=t"));
  CHECK_FALSE(f.broker->FindTopic("t")->paused());
  CheckJsonError(f.Post("/topic/pause"), 400, "MISSING_ARG_TOPIC");
  CheckJsonError(f.Post("/topic/pause?topic=nosuch"), 404, "TOPIC_NOT_FOUND");
  CheckJsonError(f.Post("/topic/unpause?topic=a*b"), 404, "TOPIC_NOT_FOUND");
}

TEST_CASE("channel endpoints check their arguments in nsqd's order and wording") {
  ApiFixture f;
  for (const char* action : {"create", "delete", "empty", "pause", "unpause"}) {
    CAPTURE(action);
    const std::string path = std::string("/channel/") + action;
    CheckJsonError(f.Post(path + "?channel=c"), 400, "MISSING_ARG_TOPIC");
    CheckJsonError(f.Post(path + "?topic=a*b&channel=c"), 400, "INVALID_ARG_TOPIC");
    CheckJsonError(f.Post(path + "?topic=t"), 400, "MISSING_ARG_CHANNEL");
    CheckJsonError(f.Post(path + "?topic=t&channel=a*b"), 400, "INVALID_ARG_CHANNEL");
    CheckJsonError(f.Post(path + "?topic=t&channel=c"), 404, "TOPIC_NOT_FOUND");
  }
  CHECK(f.broker->Topics().empty());
}

TEST_CASE("POST /channel/create needs an existing topic and creates the channel") {
  ApiFixture f;
  CheckEmptyOk(f.Post("/topic/create?topic=t"));
  CheckEmptyOk(f.Post("/channel/create?topic=t&channel=c"));
  CHECK(f.broker->FindTopic("t")->FindChannel("c") != nullptr);
  CheckEmptyOk(f.Post("/channel/create?topic=t&channel=c"));
}

TEST_CASE("POST /channel/delete removes the channel; an unknown one is 404") {
  ApiFixture f;
  CheckEmptyOk(f.Post("/topic/create?topic=t"));
  CheckJsonError(f.Post("/channel/delete?topic=t&channel=c"), 404, "CHANNEL_NOT_FOUND");
  CheckEmptyOk(f.Post("/channel/create?topic=t&channel=c"));
  CheckEmptyOk(f.Post("/channel/delete?topic=t&channel=c"));
  CHECK(f.broker->FindTopic("t")->FindChannel("c") == nullptr);
}

TEST_CASE("POST /channel/empty drops the channel's messages") {
  ApiFixture f;
  CheckEmptyOk(f.Post("/topic/create?topic=t"));
  CheckJsonError(f.Post("/channel/empty?topic=t&channel=c"), 404, "CHANNEL_NOT_FOUND");
  CheckEmptyOk(f.Post("/channel/create?topic=t&channel=c"));
  CheckOkText(f.Post("/mpub?topic=t", "a\nb"));
  CheckOkText(f.Post("/pub?topic=t&defer=1000", "d"));
  Channel* channel = f.broker->FindTopic("t")->FindChannel("c");
  CHECK(channel->depth() == 2);
  CheckEmptyOk(f.Post("/channel/empty?topic=t&channel=c"));
  CHECK(channel->depth() == 0);
  CHECK(channel->deferred_count() == 0);
}

TEST_CASE("POST /channel/pause and /channel/unpause flip the channel's paused flag") {
  ApiFixture f;
  CheckEmptyOk(f.Post("/topic/create?topic=t"));
  CheckJsonError(f.Post("/channel/pause?topic=t&channel=c"), 404, "CHANNEL_NOT_FOUND");
  CheckEmptyOk(f.Post("/channel/create?topic=t&channel=c"));
  CheckEmptyOk(f.Post("/channel/pause?topic=t&channel=c"));
  CHECK(f.broker->FindTopic("t")->FindChannel("c")->paused());
  CHECK(f.StatsJson().at("topics").at(0).at("channels").at(0).at("paused") == true);
  CheckEmptyOk(f.Post("/channel/unpause?topic=t&channel=c"));
  CHECK_FALSE(f.broker->FindTopic("t")->FindChannel("c")->paused());
}

TEST_CASE("GET /config/:opt returns the option's JSON; an unknown one is 400 INVALID_OPTION") {
  ApiFixture f;
  HttpResponse response = f.Get("/config/nsqlookupd_tcp_addresses");
  CHECK(response.status == 200);
  CHECK(response.body == "[]");
  CHECK(Header(response, "Content-Type") == "application/json; charset=utf-8");
  CHECK(Header(response, "X-NSQ-Content-Type") == "nsq; version=1.0");
  CheckJsonError(f.Get("/config/nosuch"), 400, "INVALID_OPTION");
}

TEST_CASE("PUT /config/:opt checks the body, then lets the node apply the value") {
  ApiFixture f;
  CheckJsonError(f.Call("PUT", "/config/log_level", ""), 413, "INVALID_VALUE");
  CheckJsonError(f.Call("PUT", "/config/log_level", std::string(101, 'x')), 413, "INVALID_VALUE");
  CheckJsonError(f.Call("PUT", "/config/log_level", "bad"), 400, "INVALID_VALUE");
  CheckJsonError(f.Call("PUT", "/config/max_msg_size", "5"), 400, "INVALID_OPTION");
  HttpResponse response = f.Call("PUT", "/config/log_level", "debug");
  CHECK(response.status == 200);
  CHECK(response.body == "1");
  CHECK(Header(response, "Content-Type") == "application/json; charset=utf-8");
  CHECK(f.Get("/config/log_level").body == "1");
}

TEST_CASE("GET /stats?format=json on an empty node has [] topics and null producers") {
  ApiFixture f;
  HttpResponse response = f.Get("/stats?format=json");
  CHECK(response.status == 200);
  CHECK(Header(response, "Content-Type") == "application/json; charset=utf-8");
  CHECK(Header(response, "X-NSQ-Content-Type") == "nsq; version=1.0");
  const json::object stats = json::parse(response.body).as_object();
  CHECK(stats.at("version") == "1.3.0");
  CHECK(stats.at("health") == "OK");
  CHECK(stats.at("start_time") == kStartTime);
  CHECK(stats.at("topics").is_array());
  CHECK(stats.at("topics").as_array().empty());
  CHECK(stats.at("producers").is_null());
  const json::object& memory = stats.at("memory").as_object();
  for (const char* key : {"heap_objects", "heap_idle_bytes", "heap_in_use_bytes",
                          "heap_released_bytes", "gc_pause_usec_100", "gc_pause_usec_99",
                          "gc_pause_usec_95", "next_gc_bytes", "gc_total_runs"}) {
    CAPTURE(key);
    CHECK(memory.contains(key));
  }
  // The figures themselves depend on the allocator (zeros under sanitizers).
  CHECK(memory.at("heap_in_use_bytes").is_number());
}

TEST_CASE("GET /stats JSON topic and channel objects carry nsqd's fields") {
  ApiFixture f;
  CheckEmptyOk(f.Post("/topic/create?topic=t"));
  CheckEmptyOk(f.Post("/channel/create?topic=t&channel=c"));
  CheckOkText(f.Post("/mpub?topic=t", "ab\ncd"));
  CheckOkText(f.Post("/pub?topic=t&defer=1000", "later"));
  const json::object topic = f.StatsJson().at("topics").at(0).as_object();
  CHECK(topic.at("topic_name") == "t");
  CHECK(topic.at("depth") == 0);
  CHECK(topic.at("backend_depth") == 0);
  CHECK(topic.at("message_count") == 3);
  CHECK(topic.at("message_bytes") == 9);
  CHECK(topic.at("paused") == false);
  CHECK(json::serialize(topic.at("e2e_processing_latency")) == R"({"count":0,"percentiles":null})");
  const json::object channel = topic.at("channels").at(0).as_object();
  CHECK(channel.at("channel_name") == "c");
  CHECK(channel.at("depth") == 2);
  CHECK(channel.at("backend_depth") == 0);
  CHECK(channel.at("in_flight_count") == 0);
  CHECK(channel.at("deferred_count") == 1);
  CHECK(channel.at("message_count") == 3);
  CHECK(channel.at("requeue_count") == 0);
  CHECK(channel.at("timeout_count") == 0);
  CHECK(channel.at("client_count") == 0);
  CHECK(channel.at("clients").is_array());
  CHECK(channel.at("clients").as_array().empty());
  CHECK(channel.at("paused") == false);
  CHECK(json::serialize(channel.at("e2e_processing_latency")) ==
        R"({"count":0,"percentiles":null})");
}

TEST_CASE("GET /stats topics are sorted by name and a topic without channels has []") {
  ApiFixture f;
  CheckEmptyOk(f.Post("/topic/create?topic=zeta"));
  CheckEmptyOk(f.Post("/topic/create?topic=alpha"));
  const json::array topics = f.StatsJson().at("topics").as_array();
  REQUIRE(topics.size() == 2);
  CHECK(topics.at(0).at("topic_name") == "alpha");
  CHECK(topics.at(1).at("topic_name") == "zeta");
  CHECK(topics.at(0).at("channels").as_array().empty());
}

TEST_CASE("GET /stats filters: unknown topic gives null, unknown channel gives []") {
  ApiFixture f;
  CheckEmptyOk(f.Post("/topic/create?topic=t"));
  CheckEmptyOk(f.Post("/topic/create?topic=u"));
  CheckEmptyOk(f.Post("/channel/create?topic=t&channel=c"));
  CheckEmptyOk(f.Post("/channel/create?topic=t&channel=d"));
  CHECK(f.StatsJson("&topic=nosuch").at("topics").is_null());
  CHECK(f.StatsJson("&topic=t&channel=nosuch").at("topics").as_array().empty());
  const json::array one = f.StatsJson("&topic=t").at("topics").as_array();
  REQUIRE(one.size() == 1);
  CHECK(one.at(0).at("channels").as_array().size() == 2);
  const json::array filtered = f.StatsJson("&topic=t&channel=d").at("topics").as_array();
  REQUIRE(filtered.size() == 1);
  REQUIRE(filtered.at(0).at("channels").as_array().size() == 1);
  CHECK(filtered.at(0).at("channels").at(0).at("channel_name") == "d");
  // A channel filter alone keeps only the topics that have that channel.
  const json::array by_channel = f.StatsJson("&channel=c").at("topics").as_array();
  REQUIRE(by_channel.size() == 1);
  CHECK(by_channel.at(0).at("topic_name") == "t");
}

TEST_CASE("GET /stats include_mem=false leaves memory out; other values keep it") {
  ApiFixture f;
  CHECK_FALSE(f.StatsJson("&include_mem=false").as_object().contains("memory"));
  CHECK_FALSE(f.StatsJson("&include_mem=0").as_object().contains("memory"));
  CHECK(f.StatsJson("&include_mem=true").as_object().contains("memory"));
  CHECK(f.StatsJson("&include_mem=maybe").as_object().contains("memory"));
}

ClientStats SampleConsumerStats() {
  ClientStats c;
  c.client_id = "worker-1";
  c.hostname = "worker.example";
  c.user_agent = "nsqjs/0.13.0";
  c.remote_address = "10.0.0.7:51234";
  c.state = 3;
  c.ready_count = 5;
  c.in_flight_count = 2;
  c.message_count = 10;
  c.finish_count = 8;
  c.requeue_count = 1;
  c.connect_ts = kStartTime + 40;
  c.sample_rate = 0;
  c.topology_zone = "zone-a";
  return c;
}

ClientStats SampleProducerStats() {
  ClientStats p;
  p.client_id = "pub";
  p.hostname = "pub.example";
  p.user_agent = "go-nsq/1.1.0";
  p.remote_address = "10.0.0.8:40000";
  p.connect_ts = kStartTime;
  p.authed = true;
  p.auth_identity = "svc";
  p.pub_counts = {{"t", 42}};
  return p;
}

TEST_CASE("GET /stats client objects carry every field; omitempty ones only when set") {
  ApiFixture f;
  CheckEmptyOk(f.Post("/topic/create?topic=t"));
  CheckEmptyOk(f.Post("/channel/create?topic=t&channel=c"));
  StatsOnlyConsumer consumer(SampleConsumerStats());
  REQUIRE(f.broker->FindTopic("t")->FindChannel("c")->AddConsumer(&consumer).ok());
  FakeProducer producer(SampleProducerStats());
  f.broker->RegisterClient(&producer);

  const json::object stats = f.StatsJson().as_object();
  const json::object& channel = stats.at("topics").at(0).at("channels").at(0).as_object();
  CHECK(channel.at("client_count") == 1);
  const json::object client = channel.at("clients").at(0).as_object();
  CHECK(client.at("client_id") == "worker-1");
  CHECK(client.at("hostname") == "worker.example");
  CHECK(client.at("version") == "V2");
  CHECK(client.at("remote_address") == "10.0.0.7:51234");
  CHECK(client.at("state") == 3);
  CHECK(client.at("ready_count") == 5);
  CHECK(client.at("in_flight_count") == 2);
  CHECK(client.at("message_count") == 10);
  CHECK(client.at("finish_count") == 8);
  CHECK(client.at("requeue_count") == 1);
  CHECK(client.at("connect_ts") == kStartTime + 40);
  CHECK(client.at("sample_rate") == 0);
  CHECK(client.at("deflate") == false);
  CHECK(client.at("snappy") == false);
  CHECK(client.at("user_agent") == "nsqjs/0.13.0");
  CHECK(client.at("tls") == false);
  CHECK(client.at("tls_cipher_suite") == "");
  CHECK(client.at("tls_version") == "");
  CHECK(client.at("tls_negotiated_protocol") == "");
  CHECK(client.at("tls_negotiated_protocol_is_mutual") == false);
  CHECK(client.at("topology_zone") == "zone-a");
  CHECK(client.at("topology_region") == "");
  CHECK_FALSE(client.contains("authed"));
  CHECK_FALSE(client.contains("auth_identity"));
  CHECK_FALSE(client.contains("auth_identity_url"));
  CHECK_FALSE(client.contains("pub_counts"));

  const json::array& producers = stats.at("producers").as_array();
  REQUIRE(producers.size() == 1);
  const json::object& p = producers.at(0).as_object();
  CHECK(p.at("client_id") == "pub");
  CHECK(p.at("authed") == true);
  CHECK(p.at("auth_identity") == "svc");
  CHECK_FALSE(p.contains("auth_identity_url"));
  CHECK(json::serialize(p.at("pub_counts")) == R"([{"topic":"t","count":42}])");

  f.broker->UnregisterClient(&producer);
  f.broker->FindTopic("t")->FindChannel("c")->RemoveConsumer(&consumer);
}

TEST_CASE("GET /stats include_clients=false gives null clients and null producers") {
  ApiFixture f;
  CheckEmptyOk(f.Post("/topic/create?topic=t"));
  CheckEmptyOk(f.Post("/channel/create?topic=t&channel=c"));
  StatsOnlyConsumer consumer(SampleConsumerStats());
  REQUIRE(f.broker->FindTopic("t")->FindChannel("c")->AddConsumer(&consumer).ok());
  FakeProducer producer(SampleProducerStats());
  f.broker->RegisterClient(&producer);

  for (const char* value : {"false", "0"}) {
    CAPTURE(value);
    const json::object stats = f.StatsJson(std::string("&include_clients=") + value).as_object();
    const json::object& channel = stats.at("topics").at(0).at("channels").at(0).as_object();
    CHECK(channel.at("clients").is_null());
    CHECK(channel.at("client_count") == 1);
    CHECK(stats.at("producers").is_null());
  }
  const json::object stats = f.StatsJson("&include_clients=whatever").as_object();
  CHECK(stats.at("topics").at(0).at("channels").at(0).at("clients").as_array().size() == 1);
  CHECK(stats.at("producers").as_array().size() == 1);

  f.broker->UnregisterClient(&producer);
  f.broker->FindTopic("t")->FindChannel("c")->RemoveConsumer(&consumer);
}

TEST_CASE("GET /stats without format=json is nsqd's text page") {
  ApiFixture f;
  HttpResponse empty = f.Get("/stats?include_mem=false");
  CHECK(empty.status == 200);
  CHECK(Header(empty, "Content-Type") == "text/plain; charset=utf-8");
  CHECK(Header(empty, "X-NSQ-Content-Type") == "nsq; version=1.0");
  CHECK(empty.body.rfind("nsqd v1.3.0 (built w/", 0) == 0);
  CHECK(empty.body.find("\nuptime 1m40s\n") != std::string::npos);
  CHECK(empty.body.find("\nHealth: OK\n") != std::string::npos);
  CHECK(empty.body.find("Memory:") == std::string::npos);
  CHECK(empty.body.find("\nTopics: None\n") != std::string::npos);
  CHECK(empty.body.find("\nProducers: None\n") != std::string::npos);

  CheckEmptyOk(f.Post("/topic/create?topic=t"));
  CheckEmptyOk(f.Post("/channel/create?topic=t&channel=c"));
  CheckEmptyOk(f.Post("/channel/pause?topic=t&channel=c"));
  CheckOkText(f.Post("/pub?topic=t", "x"));
  StatsOnlyConsumer consumer(SampleConsumerStats());
  REQUIRE(f.broker->FindTopic("t")->FindChannel("c")->AddConsumer(&consumer).ok());
  FakeProducer producer(SampleProducerStats());
  f.broker->RegisterClient(&producer);

  const std::string text = f.Get("/stats?format=text").body;
  CAPTURE(text);
  CHECK(text.find("\nMemory:\n   heap_objects") != std::string::npos);
  CHECK(text.find("\nTopics:\n   [t              ] depth: 0     be-depth: 0     msgs: 1") !=
        std::string::npos);
  CHECK(text.find("   *P [c                        ] depth: 1     be-depth: 0     inflt: 0") !=
        std::string::npos);
  CHECK(text.find("        [V2 worker.example:51234 nsqjs/0.13.0] state: 3 inflt: 2    rdy: 5"
                  "    fin: 8        re-q: 1        msgs: 10       connected: 1m0s\n") !=
        std::string::npos);
  CHECK(text.find("\nProducers:\n   [V2 pub.example:40000 go-nsq/1.1.0] msgs: 42       "
                  "topics: t=42 connected: 1m40s\n") != std::string::npos);

  f.broker->UnregisterClient(&producer);
  f.broker->FindTopic("t")->FindChannel("c")->RemoveConsumer(&consumer);
}

TEST_CASE("Go duration formatting of whole seconds") {
  CHECK(GoDurationSeconds(0) == "0s");
  CHECK(GoDurationSeconds(59) == "59s");
  CHECK(GoDurationSeconds(60) == "1m0s");
  CHECK(GoDurationSeconds(3600) == "1h0m0s");
  CHECK(GoDurationSeconds(3 * 3600 + 2 * 60 + 1) == "3h2m1s");
  CHECK(GoDurationSeconds(-5) == "-5s");
}

}  // namespace
}  // namespace nsq::nsqd
