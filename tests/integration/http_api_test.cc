// nsqd's HTTP API against the real binary: status codes, bodies and headers of every endpoint
// of NSQ-REFERENCE §4, including the quirks clients and tools rely on (§4.4, §15).
#include <doctest/doctest.h>

#include <boost/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "common/protocol/frame.h"
#include "tests/integration/integration_util.h"

namespace nsq::testutil {
namespace {

using namespace std::string_literals;

constexpr std::string_view kV1Header = "nsq; version=1.0";
constexpr std::string_view kJsonType = "application/json; charset=utf-8";

absl::StatusOr<HttpResponse> Request(const TestNsqd& nsqd, std::string_view method,
                                     std::string_view target, std::string_view body = "") {
  return HttpRequest(nsqd.http_port(), method, target, body);
}

// The response must be `status` with the JSON error body {"message":"<message>"}.
void CheckApiError(const TestNsqd& nsqd, std::string_view method, std::string_view target,
                   std::string_view body, int status, std::string_view message) {
  INFO(std::string(method), " ", std::string(target));
  absl::StatusOr<HttpResponse> r = Request(nsqd, method, target, body);
  NSQ_REQUIRE_OK(r);
  CHECK(r->status == status);
  CHECK(r->body == "{\"message\":\"" + std::string(message) + "\"}");
  CHECK(r->Header("X-NSQ-Content-Type") == std::string(kV1Header));
  CHECK(r->Header("Content-Type") == std::string(kJsonType));
}

// A 200 with an empty body and the V1 header (topic/channel admin endpoints).
void CheckEmptyOk(const TestNsqd& nsqd, std::string_view target) {
  INFO("POST ", std::string(target));
  absl::StatusOr<HttpResponse> r = Request(nsqd, "POST", target);
  NSQ_REQUIRE_OK(r);
  CHECK(r->status == 200);
  CHECK(r->body == "");
  CHECK(r->Header("X-NSQ-Content-Type") == std::string(kV1Header));
  CHECK(!r->Header("Content-Type").has_value());  // observed on the reference (§15)
}

void CheckPubOk(const TestNsqd& nsqd, std::string_view target, std::string_view body) {
  INFO("POST ", std::string(target));
  absl::StatusOr<HttpResponse> r = Request(nsqd, "POST", target, body);
  NSQ_REQUIRE_OK(r);
  CHECK(r->status == 200);
  CHECK(r->body == "OK");
  CHECK(r->Header("X-NSQ-Content-Type") == std::string(kV1Header));
}

// A field of a topic's (or a channel's) stats, or null when the object or field is missing.
boost::json::value TopicField(const TestNsqd& nsqd, std::string_view topic,
                              std::string_view field) {
  boost::json::value stats = GetStats(nsqd);
  const boost::json::object* object = FindTopic(stats, topic);
  const boost::json::value* value = object == nullptr ? nullptr : object->if_contains(field);
  return value == nullptr ? boost::json::value() : *value;
}
boost::json::value ChannelField(const TestNsqd& nsqd, std::string_view topic,
                                std::string_view channel, std::string_view field) {
  boost::json::value stats = GetStats(nsqd);
  const boost::json::object* object = FindChannel(stats, topic, channel);
  const boost::json::value* value = object == nullptr ? nullptr : object->if_contains(field);
  return value == nullptr ? boost::json::value() : *value;
}

std::string BinaryMpub(const std::vector<std::string>& messages) {
  std::string body = Be32(static_cast<int64_t>(messages.size()));
  for (const std::string& m : messages) body += SizedBody(m);
  return body;
}

// --- /ping, /info, routing -------------------------------------------------------------------

TEST_CASE("GET /ping answers 200 OK") {
  auto nsqd = StartNsqd();
  absl::StatusOr<HttpResponse> r = HttpGet(nsqd->http_port(), "/ping");
  NSQ_REQUIRE_OK(r);
  CHECK(r->status == 200);
  CHECK(r->body == "OK");
}

TEST_CASE("GET /info reports version, ports and limits (durations in nanoseconds)") {
  auto nsqd = StartNsqd({"--broadcast-address=broadcast.example"});
  absl::StatusOr<HttpResponse> r = HttpGet(nsqd->http_port(), "/info");
  NSQ_REQUIRE_OK(r);
  REQUIRE(r->status == 200);
  CHECK(r->Header("Content-Type") == std::string(kJsonType));
  CHECK(r->Header("X-NSQ-Content-Type") == std::string(kV1Header));
  boost::json::value info = ParseJson(r->body);
  REQUIRE(info.is_object());
  boost::json::object& o = info.get_object();
  CHECK(o["version"] == "1.3.0");
  CHECK(o["broadcast_address"] == "broadcast.example");
  CHECK(o["hostname"].is_string());
  CHECK(o["tcp_port"] == nsqd->tcp_port());
  CHECK(o["http_port"] == nsqd->http_port());
  const int64_t now = NowUnixNanos() / 1'000'000'000;
  REQUIRE(o["start_time"].is_int64());
  CHECK(o["start_time"].get_int64() <= now + 1);
  CHECK(o["start_time"].get_int64() >= now - 120);
  CHECK(o["max_heartbeat_interval"] == 60000000000);
  CHECK(o["max_output_buffer_size"] == 65536);
  CHECK(o["max_output_buffer_timeout"] == 30000000000);
  CHECK(o["max_deflate_level"] == 6);
  CHECK(o["topology_zone"] == "");
  CHECK(o["topology_region"] == "");
}

TEST_CASE("unknown paths are 404 NOT_FOUND and wrong methods 405 METHOD_NOT_ALLOWED") {
  auto nsqd = StartNsqd();
  CheckApiError(*nsqd, "GET", "/nosuch", "", 404, "NOT_FOUND");
  CheckApiError(*nsqd, "GET", "/put?topic=t", "", 404, "NOT_FOUND");  // removed in 1.0
  CheckApiError(*nsqd, "POST", "/stats", "", 405, "METHOD_NOT_ALLOWED");
  CheckApiError(*nsqd, "GET", "/pub?topic=t", "", 405, "METHOD_NOT_ALLOWED");
  CheckApiError(*nsqd, "GET", "/topic/create?topic=t", "", 405, "METHOD_NOT_ALLOWED");
}

TEST_CASE("the protocol V2 magic sent to the HTTP port gets an HTTP 400 and a close") {
  auto nsqd = StartNsqd();
  auto conn = RawConn::Connect(nsqd->http_port());
  NSQ_REQUIRE_OK(conn);
  NSQ_REQUIRE_OK((*conn)->Send("  V2IDENTIFY\n" + SizedBody("{}")));
  absl::StatusOr<std::string> reply = (*conn)->ReadUntilClosed(5s);
  NSQ_REQUIRE_OK(reply);
  CHECK(reply->rfind("HTTP/1.1 400", 0) == 0);
}

// --- /pub ------------------------------------------------------------------------------------

TEST_CASE("POST /pub queues one message that a subscriber receives") {
  auto nsqd = StartNsqd();
  auto consumer = Subscribe(*nsqd, "http_pub", "ch", 1);
  CheckPubOk(*nsqd, "/pub?topic=http_pub", "over http");
  protocol::Message m = MustReadMessage(*consumer);
  CHECK(m.body.view() == "over http");
  CHECK(m.attempts == 1);
  // Bytes are opaque: NUL and newlines included.
  CheckPubOk(*nsqd, "/pub?topic=http_pub", "a\0b\nc"s);
  NSQ_REQUIRE_OK(consumer->Fin(m.id.view()));
  CHECK(MustReadMessage(*consumer).body.view() == "a\0b\nc"s);
}

TEST_CASE("POST /pub errors have upstream's status codes and messages") {
  auto nsqd = StartNsqd({"--max-msg-size=100"});
  CheckApiError(*nsqd, "POST", "/pub?topic=t", "", 400, "MSG_EMPTY");
  CheckApiError(*nsqd, "POST", "/pub", "x", 400, "MISSING_ARG_TOPIC");
  CheckApiError(*nsqd, "POST", "/pub?topic=", "x", 400, "INVALID_TOPIC");
  CheckApiError(*nsqd, "POST", "/pub?topic=bad!", "x", 400, "INVALID_TOPIC");
  CheckApiError(*nsqd, "POST", "/pub?topic=t", std::string(101, 'x'), 413, "MSG_TOO_BIG");
  CheckApiError(*nsqd, "POST", "/pub?topic=t&defer=abc", "x", 400, "INVALID_DEFER");
  CheckApiError(*nsqd, "POST", "/pub?topic=t&defer=-1", "x", 400, "INVALID_DEFER");
  CheckApiError(*nsqd, "POST", "/pub?topic=t&defer=3600001", "x", 400, "INVALID_DEFER");
  CheckPubOk(*nsqd, "/pub?topic=t", std::string(100, 'x'));  // exactly the limit
  CheckPubOk(*nsqd, "/pub?topic=t&defer=3600000", "x");      // the bound is inclusive
  CHECK(TopicStat(*nsqd, "t", "message_count") == 2);
}

TEST_CASE("POST /pub with defer delivers the message after the delay") {
  auto nsqd = StartNsqd();
  auto consumer = Subscribe(*nsqd, "http_defer", "ch", 1);
  const auto sent = std::chrono::steady_clock::now();
  CheckPubOk(*nsqd, "/pub?topic=http_defer&defer=1200", "later");
  CHECK(WaitFor([&] { return ChannelStat(*nsqd, "http_defer", "ch", "deferred_count") == 1; }, 1s));
  protocol::Message m = MustReadMessage(*consumer, 6s);
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - sent);
  CHECK(m.body.view() == "later");
  CHECK(elapsed.count() >= 1000);
}

TEST_CASE("HTTP publishes do not make a producer in /stats") {
  auto nsqd = StartNsqd();
  CheckPubOk(*nsqd, "/pub?topic=no_producer", "x");
  boost::json::value stats = GetStats(*nsqd);
  CHECK(stats.at("producers").is_null());
}

// --- /mpub -----------------------------------------------------------------------------------

TEST_CASE("POST /mpub in text mode queues one message per non-empty line") {
  auto nsqd = StartNsqd();
  auto consumer = Subscribe(*nsqd, "mpub_text", "ch", 10);
  CheckPubOk(*nsqd, "/mpub?topic=mpub_text", "a\n\nb\nc\n");
  CheckPubOk(*nsqd, "/mpub?topic=mpub_text", "no trailing\nnewline");
  CheckPubOk(*nsqd, "/mpub?topic=mpub_text&binary=false", "cr\r\n");  // \r is kept
  std::multiset<std::string> bodies;
  for (int i = 0; i < 6; ++i) bodies.insert(std::string(MustReadMessage(*consumer).body.view()));
  CHECK(bodies == std::multiset<std::string>{"a", "b", "c", "no trailing", "newline", "cr\r"});
  NSQ_CHECK_OK(consumer->ExpectNoFrame(200ms));
}

TEST_CASE("POST /mpub with only empty lines answers OK and queues nothing") {
  auto nsqd = StartNsqd();
  CheckPubOk(*nsqd, "/mpub?topic=mpub_empty", "\n\n\n");
  CHECK(TopicStat(*nsqd, "mpub_empty", "message_count") <= 0);
}

TEST_CASE("POST /mpub in binary mode takes [count] then [size][bytes] per message") {
  auto nsqd = StartNsqd();
  auto consumer = Subscribe(*nsqd, "mpub_binary", "ch", 10);
  CheckPubOk(*nsqd, "/mpub?topic=mpub_binary&binary=true", BinaryMpub({"a", "b\nc"}));
  CheckPubOk(*nsqd, "/mpub?topic=mpub_binary&binary=1", BinaryMpub({"d"}));
  // Any value other than true/1/false/0 also means binary (deprecated upstream, still honoured).
  CheckPubOk(*nsqd, "/mpub?topic=mpub_binary&binary=yes", BinaryMpub({"e\0"s}));
  std::multiset<std::string> bodies;
  for (int i = 0; i < 4; ++i) bodies.insert(std::string(MustReadMessage(*consumer).body.view()));
  CHECK(bodies == std::multiset<std::string>{"a", "b\nc", "d", "e\0"s});
}

TEST_CASE("POST /mpub errors have upstream's status codes and messages") {
  auto nsqd = StartNsqd({"--max-msg-size=100", "--max-body-size=1000"});
  CheckApiError(*nsqd, "POST", "/mpub", "x", 400, "MISSING_ARG_TOPIC");
  CheckApiError(*nsqd, "POST", "/mpub?topic=bad!", "x", 400, "INVALID_TOPIC");
  CheckApiError(*nsqd, "POST", "/mpub?topic=t", std::string(1001, 'x'), 413, "BODY_TOO_BIG");
  CheckApiError(*nsqd, "POST", "/mpub?topic=t", "ok\n" + std::string(101, 'x'), 413, "MSG_TOO_BIG");
  CheckApiError(*nsqd, "POST", "/mpub?topic=t&binary=true", Be32(0), 413, "BAD_BODY");
  CheckApiError(*nsqd, "POST", "/mpub?topic=t&binary=true", BinaryMpub({"a", ""}), 413,
                "BAD_MESSAGE");
  CheckApiError(*nsqd, "POST", "/mpub?topic=t&binary=true",
                BinaryMpub({"a", std::string(101, 'x')}), 413, "BAD_MESSAGE");
  CHECK(TopicStat(*nsqd, "t", "message_count") <= 0);
}

// --- /stats ----------------------------------------------------------------------------------

TEST_CASE("GET /stats on an empty server has no topics and null producers") {
  auto nsqd = StartNsqd();
  absl::StatusOr<HttpResponse> r = HttpGet(nsqd->http_port(), "/stats?format=json");
  NSQ_REQUIRE_OK(r);
  REQUIRE(r->status == 200);
  CHECK(r->Header("Content-Type") == std::string(kJsonType));
  boost::json::value stats = ParseJson(r->body);
  REQUIRE(stats.is_object());
  CHECK(stats.at("version") == "1.3.0");
  CHECK(stats.at("health") == "OK");
  CHECK(stats.at("start_time").is_int64());
  CHECK(stats.at("topics").is_array());
  CHECK(stats.at("topics").get_array().empty());
  CHECK(stats.at("producers").is_null());
  CHECK(stats.at("memory").is_object());
}

TEST_CASE("GET /stats describes topics, channels and clients with upstream's fields") {
  auto nsqd = StartNsqd();
  auto consumer = Subscribe(*nsqd, "stats_topic", "ch", 5,
                            R"({"client_id":"stats-client","hostname":"stats-host",)"
                            R"("user_agent":"harness/1.0"})");
  PublishMany(*nsqd, "stats_topic", {"12345", "123"});
  protocol::Message m = MustReadMessage(*consumer);
  MustReadMessage(*consumer);
  NSQ_REQUIRE_OK(consumer->Fin(m.id.view()));
  CHECK(
      WaitFor([&] { return ChannelStat(*nsqd, "stats_topic", "ch", "in_flight_count") == 1; }, 5s));

  boost::json::value stats = GetStats(*nsqd);
  const boost::json::object* topic = FindTopic(stats, "stats_topic");
  REQUIRE(topic != nullptr);
  for (const char* field : {"topic_name", "channels", "depth", "backend_depth", "message_count",
                            "message_bytes", "paused", "e2e_processing_latency"}) {
    CHECK_MESSAGE(topic->contains(field), field);
  }
  CHECK(topic->at("message_count") == 2);
  CHECK(topic->at("message_bytes") == 8);
  CHECK(topic->at("depth") == 0);
  CHECK(topic->at("paused") == false);

  const boost::json::object* channel = FindChannel(stats, "stats_topic", "ch");
  REQUIRE(channel != nullptr);
  for (const char* field : {"channel_name", "depth", "backend_depth", "in_flight_count",
                            "deferred_count", "message_count", "requeue_count", "timeout_count",
                            "client_count", "clients", "paused", "e2e_processing_latency"}) {
    CHECK_MESSAGE(channel->contains(field), field);
  }
  CHECK(channel->at("message_count") == 2);
  CHECK(channel->at("in_flight_count") == 1);
  CHECK(channel->at("client_count") == 1);
  REQUIRE(channel->at("clients").is_array());
  REQUIRE(channel->at("clients").get_array().size() == 1);
  const boost::json::object& client = channel->at("clients").get_array()[0].get_object();
  CHECK(client.at("client_id") == "stats-client");
  CHECK(client.at("hostname") == "stats-host");
  CHECK(client.at("user_agent") == "harness/1.0");
  CHECK(client.at("version") == "V2");
  REQUIRE(client.at("remote_address").is_string());
  CHECK(std::string(client.at("remote_address").get_string()).rfind("127.0.0.1:", 0) == 0);
  CHECK(client.at("state") == 3);
  CHECK(client.at("ready_count") == 5);
  CHECK(client.at("in_flight_count") == 1);
  CHECK(client.at("message_count") == 2);
  CHECK(client.at("finish_count") == 1);
  CHECK(client.at("requeue_count") == 0);
  for (const char* field :
       {"connect_ts", "sample_rate", "deflate", "snappy", "tls", "tls_cipher_suite", "tls_version",
        "tls_negotiated_protocol", "tls_negotiated_protocol_is_mutual"}) {
    CHECK_MESSAGE(client.contains(field), field);
  }
  CHECK(client.at("tls") == false);
}

TEST_CASE("GET /stats lists a TCP publisher among the producers with its pub count") {
  auto nsqd = StartNsqd();
  auto producer = ConnectV2(*nsqd);
  NSQ_REQUIRE_OK(producer->Identify(R"({"client_id":"the-producer"})"));
  NSQ_REQUIRE_OK(producer->ExpectOk());
  NSQ_REQUIRE_OK(producer->Pub("produced", "a"));
  NSQ_REQUIRE_OK(producer->Pub("produced", "b"));
  NSQ_REQUIRE_OK(producer->ExpectOk());
  NSQ_REQUIRE_OK(producer->ExpectOk());
  boost::json::value stats = GetStats(*nsqd);
  REQUIRE(stats.at("producers").is_array());
  REQUIRE(stats.at("producers").get_array().size() == 1);
  const boost::json::object& p = stats.at("producers").get_array()[0].get_object();
  CHECK(p.at("client_id") == "the-producer");
  CHECK(p.at("state") == 0);
  REQUIRE(p.contains("pub_counts"));
  CHECK(p.at("pub_counts") == ParseJson(R"([{"topic":"produced","count":2}])"));
}

TEST_CASE("GET /stats?topic=X gives each client's publish count to X alone") {
  auto nsqd = StartNsqd();
  // One connection that publishes to two topics and consumes a third.
  auto client = Subscribe(*nsqd, "watched", "ch", 0);
  NSQ_REQUIRE_OK(client->Pub("one", "a"));
  NSQ_REQUIRE_OK(client->Pub("two", "b"));
  NSQ_REQUIRE_OK(client->Pub("two", "c"));
  NSQ_REQUIRE_OK(client->ExpectOk());
  NSQ_REQUIRE_OK(client->ExpectOk());
  NSQ_REQUIRE_OK(client->ExpectOk());

  const boost::json::value all = GetStats(*nsqd);
  const boost::json::array& producers = all.at("producers").as_array();
  REQUIRE(producers.size() == 1);
  CHECK(producers[0].at("pub_counts").as_array().size() == 2);

  const boost::json::value two = GetStats(*nsqd, "topic=two");
  CHECK(two.at("producers").as_array()[0].at("pub_counts") ==
        ParseJson(R"([{"topic":"two","count":2}])"));
  // The same connection listed as the consumer of "watched": nothing published there.
  const boost::json::value watched = GetStats(*nsqd, "topic=watched");
  const boost::json::object* channel = FindChannel(watched, "watched", "ch");
  REQUIRE(channel != nullptr);
  const boost::json::object& consumer = channel->at("clients").as_array()[0].as_object();
  CHECK_FALSE(consumer.contains("pub_counts"));
}

TEST_CASE("GET /stats filters: unknown topic gives null topics, unknown channel gives []") {
  auto nsqd = StartNsqd();
  PublishMany(*nsqd, "filtered", {"x"});
  for (const char* target :
       {"/channel/create?topic=filtered&channel=c1", "/channel/create?topic=filtered&channel=c2",
        "/topic/create?topic=other"}) {
    CheckEmptyOk(*nsqd, target);
  }
  CHECK(GetStats(*nsqd, "topic=nosuch").at("topics").is_null());

  boost::json::value no_channel = GetStats(*nsqd, "topic=filtered&channel=nosuch");
  REQUIRE(no_channel.at("topics").is_array());
  CHECK(no_channel.at("topics").get_array().empty());

  boost::json::value one_topic = GetStats(*nsqd, "topic=filtered");
  REQUIRE(one_topic.at("topics").is_array());
  CHECK(one_topic.at("topics").get_array().size() == 1);

  // A channel filter keeps only topics that have that channel, with only that channel.
  boost::json::value one_channel = GetStats(*nsqd, "channel=c1");
  REQUIRE(one_channel.at("topics").is_array());
  REQUIRE(one_channel.at("topics").get_array().size() == 1);
  const boost::json::object& t = one_channel.at("topics").get_array()[0].get_object();
  CHECK(t.at("topic_name") == "filtered");
  REQUIRE(t.at("channels").get_array().size() == 1);
  CHECK(t.at("channels").get_array()[0].at("channel_name") == "c1");

  // Topics are sorted by name, channels too; a topic without channels has [].
  boost::json::value all = GetStats(*nsqd);
  const auto& topics = all.at("topics").get_array();
  REQUIRE(topics.size() == 2);
  CHECK(topics[0].at("topic_name") == "filtered");
  CHECK(topics[1].at("topic_name") == "other");
  CHECK(topics[1].at("channels").is_array());
  CHECK(topics[1].at("channels").get_array().empty());
  const auto& channels = topics[0].at("channels").get_array();
  REQUIRE(channels.size() == 2);
  CHECK(channels[0].at("channel_name") == "c1");
  CHECK(channels[1].at("channel_name") == "c2");
}

TEST_CASE(
    "GET /stats include_clients=false nulls clients and producers, include_mem drops memory") {
  auto nsqd = StartNsqd();
  auto consumer = Subscribe(*nsqd, "no_clients", "ch", 0);
  NSQ_REQUIRE_OK(consumer->Pub("no_clients", "x"));  // the consumer is also a producer
  NSQ_REQUIRE_OK(consumer->ExpectOk());

  boost::json::value with = GetStats(*nsqd);
  CHECK(with.at("producers").is_array());
  const boost::json::object* channel = FindChannel(with, "no_clients", "ch");
  REQUIRE(channel != nullptr);
  CHECK(channel->at("clients").get_array().size() == 1);

  boost::json::value without = GetStats(*nsqd, "include_clients=false&include_mem=false");
  CHECK(without.at("producers").is_null());
  channel = FindChannel(without, "no_clients", "ch");
  REQUIRE(channel != nullptr);
  CHECK(channel->at("clients").is_null());
  CHECK(channel->at("client_count") == 1);
  CHECK(!without.get_object().contains("memory"));
}

TEST_CASE("GET /stats without format=json is the text report") {
  auto nsqd = StartNsqd();
  absl::StatusOr<HttpResponse> empty = HttpGet(nsqd->http_port(), "/stats");
  NSQ_REQUIRE_OK(empty);
  REQUIRE(empty->status == 200);
  CHECK(empty->body.rfind("nsqd v1.3.0 (built w/", 0) == 0);
  CHECK(empty->body.find("Health: OK") != std::string::npos);
  CHECK(empty->body.find("Topics: None") != std::string::npos);
  CHECK(empty->body.find("Producers: None") != std::string::npos);

  PublishMany(*nsqd, "text_topic", {"x"});
  CheckEmptyOk(*nsqd, "/channel/create?topic=text_topic&channel=text_channel");
  absl::StatusOr<HttpResponse> r = HttpGet(nsqd->http_port(), "/stats?format=text");
  NSQ_REQUIRE_OK(r);
  REQUIRE(r->status == 200);
  CHECK(r->body.find("[text_topic") != std::string::npos);
  CHECK(r->body.find("[text_channel") != std::string::npos);
  CHECK(r->body.find("depth:") != std::string::npos);
}

// --- /topic/* and /channel/* -----------------------------------------------------------------

TEST_CASE("POST /topic/create makes a topic; bad or missing names are 400") {
  auto nsqd = StartNsqd();
  CheckEmptyOk(*nsqd, "/topic/create?topic=created");
  CheckEmptyOk(*nsqd, "/topic/create?topic=created");  // idempotent
  boost::json::value stats = GetStats(*nsqd);
  const boost::json::object* topic = FindTopic(stats, "created");
  REQUIRE(topic != nullptr);
  CHECK(topic->at("channels").get_array().empty());
  CheckApiError(*nsqd, "POST", "/topic/create", "", 400, "MISSING_ARG_TOPIC");
  CheckApiError(*nsqd, "POST", "/topic/create?topic=bad!", "", 400, "INVALID_TOPIC");
}

TEST_CASE("POST /topic/delete removes the topic and disconnects its consumers") {
  auto nsqd = StartNsqd();
  auto consumer = Subscribe(*nsqd, "doomed", "ch", 1);
  CheckApiError(*nsqd, "POST", "/topic/delete?topic=nosuch", "", 404, "TOPIC_NOT_FOUND");
  CheckApiError(*nsqd, "POST", "/topic/delete", "", 400, "MISSING_ARG_TOPIC");
  CheckEmptyOk(*nsqd, "/topic/delete?topic=doomed");
  CHECK(consumer->IsClosedByPeer(3s));
  boost::json::value stats = GetStats(*nsqd);
  CHECK(FindTopic(stats, "doomed") == nullptr);
}

TEST_CASE("POST /topic/empty drops the topic's queued messages") {
  auto nsqd = StartNsqd();
  PublishMany(*nsqd, "full_topic", {"a", "b", "c"});
  CHECK(TopicStat(*nsqd, "full_topic", "depth") == 3);
  CheckEmptyOk(*nsqd, "/topic/empty?topic=full_topic");
  CHECK(TopicStat(*nsqd, "full_topic", "depth") == 0);
  CheckApiError(*nsqd, "POST", "/topic/empty?topic=nosuch", "", 404, "TOPIC_NOT_FOUND");
  CheckApiError(*nsqd, "POST", "/topic/empty", "", 400, "MISSING_ARG_TOPIC");
}

TEST_CASE("POST /topic/pause and /topic/unpause flip the paused flag") {
  auto nsqd = StartNsqd();
  CheckEmptyOk(*nsqd, "/topic/create?topic=pausable");
  CheckEmptyOk(*nsqd, "/topic/pause?topic=pausable");
  CHECK(TopicField(*nsqd, "pausable", "paused") == true);
  CheckEmptyOk(*nsqd, "/topic/unpause?topic=pausable");
  CHECK(TopicField(*nsqd, "pausable", "paused") == false);
  CheckApiError(*nsqd, "POST", "/topic/pause?topic=nosuch", "", 404, "TOPIC_NOT_FOUND");
  CheckApiError(*nsqd, "POST", "/topic/unpause?topic=nosuch", "", 404, "TOPIC_NOT_FOUND");
  CheckApiError(*nsqd, "POST", "/topic/pause", "", 400, "MISSING_ARG_TOPIC");
}

TEST_CASE("POST /channel/create needs an existing topic and valid names") {
  auto nsqd = StartNsqd();
  CheckApiError(*nsqd, "POST", "/channel/create?topic=nosuch&channel=c", "", 404,
                "TOPIC_NOT_FOUND");
  CheckEmptyOk(*nsqd, "/topic/create?topic=host");
  CheckEmptyOk(*nsqd, "/channel/create?topic=host&channel=c");
  CHECK(FindChannel(GetStats(*nsqd), "host", "c") != nullptr);
  CheckApiError(*nsqd, "POST", "/channel/create?channel=c", "", 400, "MISSING_ARG_TOPIC");
  CheckApiError(*nsqd, "POST", "/channel/create?topic=bad!&channel=c", "", 400,
                "INVALID_ARG_TOPIC");
  CheckApiError(*nsqd, "POST", "/channel/create?topic=host", "", 400, "MISSING_ARG_CHANNEL");
  CheckApiError(*nsqd, "POST", "/channel/create?topic=host&channel=bad!", "", 400,
                "INVALID_ARG_CHANNEL");
}

TEST_CASE("POST /channel/delete removes the channel and disconnects its consumers") {
  auto nsqd = StartNsqd();
  auto consumer = Subscribe(*nsqd, "chan_delete", "ch", 1);
  CheckApiError(*nsqd, "POST", "/channel/delete?topic=chan_delete&channel=nosuch", "", 404,
                "CHANNEL_NOT_FOUND");
  CheckApiError(*nsqd, "POST", "/channel/delete?topic=nosuch&channel=ch", "", 404,
                "TOPIC_NOT_FOUND");
  CheckEmptyOk(*nsqd, "/channel/delete?topic=chan_delete&channel=ch");
  CHECK(consumer->IsClosedByPeer(3s));
  CHECK(FindChannel(GetStats(*nsqd), "chan_delete", "ch") == nullptr);
  CHECK(FindTopic(GetStats(*nsqd), "chan_delete") != nullptr);  // the topic stays
}

TEST_CASE("POST /channel/empty drops queued, in-flight and deferred messages") {
  auto nsqd = StartNsqd();
  auto consumer = Subscribe(*nsqd, "chan_empty", "ch", 1);
  PublishMany(*nsqd, "chan_empty", {"a", "b", "c"});
  protocol::Message in_flight = MustReadMessage(*consumer);
  auto producer = ConnectV2(*nsqd);
  NSQ_REQUIRE_OK(producer->Dpub("chan_empty", 60000, "deferred"));
  NSQ_REQUIRE_OK(producer->ExpectOk());
  CHECK(WaitFor([&] { return ChannelStat(*nsqd, "chan_empty", "ch", "deferred_count") == 1; }, 2s));
  CHECK(ChannelStat(*nsqd, "chan_empty", "ch", "depth") == 2);

  CheckEmptyOk(*nsqd, "/channel/empty?topic=chan_empty&channel=ch");
  boost::json::value stats = GetStats(*nsqd);
  const boost::json::object* channel = FindChannel(stats, "chan_empty", "ch");
  REQUIRE(channel != nullptr);
  CHECK(channel->at("depth") == 0);
  CHECK(channel->at("in_flight_count") == 0);
  CHECK(channel->at("deferred_count") == 0);
  // The emptied in-flight message can no longer be finished.
  NSQ_REQUIRE_OK(consumer->Fin(in_flight.id.view()));
  NSQ_CHECK_OK(consumer->ExpectError("E_FIN_FAILED FIN " + std::string(in_flight.id.view()) +
                                     " failed ID not in flight"));
  CheckApiError(*nsqd, "POST", "/channel/empty?topic=chan_empty&channel=nosuch", "", 404,
                "CHANNEL_NOT_FOUND");
}

TEST_CASE("POST /channel/pause and /channel/unpause flip the paused flag") {
  auto nsqd = StartNsqd();
  CheckEmptyOk(*nsqd, "/topic/create?topic=chan_pause");
  CheckEmptyOk(*nsqd, "/channel/create?topic=chan_pause&channel=c");
  CheckEmptyOk(*nsqd, "/channel/pause?topic=chan_pause&channel=c");
  CHECK(ChannelField(*nsqd, "chan_pause", "c", "paused") == true);
  CheckEmptyOk(*nsqd, "/channel/unpause?topic=chan_pause&channel=c");
  CHECK(ChannelField(*nsqd, "chan_pause", "c", "paused") == false);
  CheckApiError(*nsqd, "POST", "/channel/pause?topic=chan_pause&channel=nosuch", "", 404,
                "CHANNEL_NOT_FOUND");
  CheckApiError(*nsqd, "POST", "/channel/unpause?topic=chan_pause&channel=nosuch", "", 404,
                "CHANNEL_NOT_FOUND");
  CheckApiError(*nsqd, "POST", "/channel/pause?topic=chan_pause", "", 400, "MISSING_ARG_CHANNEL");
}

// --- /config ---------------------------------------------------------------------------------

TEST_CASE("GET and PUT /config/:opt") {
  auto nsqd = StartNsqd();
  absl::StatusOr<HttpResponse> r = HttpGet(nsqd->http_port(), "/config/nsqlookupd_tcp_addresses");
  NSQ_REQUIRE_OK(r);
  CHECK(r->status == 200);
  CHECK(r->body == "[]");

  r = HttpPut(nsqd->http_port(), "/config/nsqlookupd_tcp_addresses", "[]");
  NSQ_REQUIRE_OK(r);
  CHECK(r->status == 200);
  CHECK(r->body == "[]");

  r = HttpPut(nsqd->http_port(), "/config/log_level", "info");
  NSQ_REQUIRE_OK(r);
  CHECK(r->status == 200);

  CheckApiError(*nsqd, "GET", "/config/no_such_option", "", 400, "INVALID_OPTION");
  CheckApiError(*nsqd, "PUT", "/config/log_level", "bad", 400, "INVALID_VALUE");
  CheckApiError(*nsqd, "PUT", "/config/max_msg_size", "5", 400, "INVALID_OPTION");
}

}  // namespace
}  // namespace nsq::testutil
