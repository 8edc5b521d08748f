// LookupdHttpApi::Handle over a RegistrationDb with a fake clock: every endpoint's status
// codes, messages, headers and JSON shapes, as nsqlookupd answers them (NSQ-REFERENCE §7.3,
// upstream nsqlookupd/http_test.go and nsqlookupd_test.go).
#include "lookupd/http_api.h"

#include <doctest/doctest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <string>

#include "tests/unit/fake_clock.h"
#include "tests/unit/lookupd/fake_peer.h"

namespace nsq::lookupd {
namespace {

namespace json = boost::json;
using http::HttpRequest;
using http::HttpResponse;
using nsq::testing::FakeClock;
using testing::MakePeer;

std::optional<std::string> Header(const HttpResponse& response, std::string_view name) {
  for (const auto& [key, value] : response.headers) {
    if (key == name) return value;
  }
  return std::nullopt;
}

struct Fixture {
  FakeClock clock;
  RegistrationDb db{&clock};
  LookupdOptions options;
  LookupdHttpApi api{&db, &options, "1.3.0"};

  HttpResponse Call(std::string method, std::string target) {
    HttpRequest request;
    request.method = std::move(method);
    request.target = std::move(target);
    return api.Handle(request);
  }
  HttpResponse Get(std::string target) { return Call("GET", std::move(target)); }
  HttpResponse Post(std::string target) { return Call("POST", std::move(target)); }
  std::string Body(std::string target) {
    HttpResponse response = Get(std::move(target));
    CHECK(response.status == 200);
    return response.body;
  }

  // What the TCP server does for IDENTIFY + REGISTER topic [channel].
  void Register(const std::string& id, const std::string& address, const std::string& topic,
                const std::string& channel = "") {
    if (db.FindPeer(id) == nullptr) {
      db.AddPeer(MakePeer(id, address));
      db.AddProducer({"client", "", ""}, id);
    }
    if (!channel.empty()) db.AddProducer({"channel", topic, channel}, id);
    db.AddProducer({"topic", topic, ""}, id);
  }
};

std::string ErrorOf(const HttpResponse& response) {
  return std::string(json::parse(response.body).at("message").as_string());
}

TEST_CASE_FIXTURE(Fixture, "/ping is plain OK and /info reports the version in the V1 envelope") {
  HttpResponse ping = Get("/ping");
  CHECK(ping.status == 200);
  CHECK(ping.body == "OK");
  CHECK_FALSE(Header(ping, "X-NSQ-Content-Type"));
  HttpResponse info = Get("/info");
  CHECK(info.body == R"({"version":"1.3.0"})");
  CHECK(Header(info, "X-NSQ-Content-Type") == "nsq; version=1.0");
  CHECK(Header(info, "Content-Type") == "application/json; charset=utf-8");
}

TEST_CASE_FIXTURE(Fixture, "an empty lookupd lists nothing, with [] and never null") {
  CHECK(Body("/topics") == R"({"topics":[]})");
  CHECK(Body("/nodes") == R"({"producers":[]})");
  CHECK(Body("/channels?topic=t") == R"({"channels":[]})");
  CHECK(Body("/debug") == "{}");
}

TEST_CASE_FIXTURE(Fixture, "a registered producer shows in /lookup, /topics, /channels, /nodes") {
  Register("127.0.0.1:5000", "node1", "t", "c");
  Register("127.0.0.1:5000", "node1", "u");
  CHECK(Body("/lookup?topic=t") ==
        R"({"channels":["c"],"producers":[{"remote_address":"127.0.0.1:5000",)"
        R"("hostname":"node1.host","broadcast_address":"node1","tcp_port":4150,)"
        R"("http_port":4151,"version":"1.3.0","topology_zone":"","topology_region":""}]})");
  CHECK(Body("/topics") == R"({"topics":["t","u"]})");
  CHECK(Body("/channels?topic=t") == R"({"channels":["c"]})");
  CHECK(Body("/nodes") ==
        R"({"producers":[{"remote_address":"127.0.0.1:5000","hostname":"node1.host",)"
        R"("broadcast_address":"node1","tcp_port":4150,"http_port":4151,"version":"1.3.0",)"
        R"("topology_zone":"","topology_region":"","tombstones":[false,false],)"
        R"("topics":["t","u"]}]})");
}

TEST_CASE_FIXTURE(Fixture, "/lookup and /channels check their parameters as upstream") {
  CHECK(Get("/lookup").status == 400);
  CHECK(ErrorOf(Get("/lookup")) == "MISSING_ARG_TOPIC");
  CHECK(Get("/lookup?topic=nosuch").status == 404);
  CHECK(ErrorOf(Get("/lookup?topic=nosuch")) == "TOPIC_NOT_FOUND");
  CHECK(ErrorOf(Get("/lookup?topic=")) == "TOPIC_NOT_FOUND");
  CHECK(ErrorOf(Get("/channels")) == "MISSING_ARG_TOPIC");
  // /channels does not validate the name.
  CHECK(Body("/channels?topic=bad!name") == R"({"channels":[]})");
}

TEST_CASE_FIXTURE(Fixture, "after a producer leaves, its topic and channels stay listed") {
  Register("p1", "node1", "t", "c");
  db.RemovePeer("p1");
  CHECK(Body("/lookup?topic=t") == R"({"channels":["c"],"producers":[]})");
  CHECK(Body("/topics") == R"({"topics":["t"]})");
  CHECK(Body("/nodes") == R"({"producers":[]})");
}

TEST_CASE_FIXTURE(Fixture, "inactive producers disappear from /lookup and /nodes") {
  options.inactive_producer_timeout = absl::Seconds(1);
  Register("p1", "node1", "t");
  clock.Advance(absl::Seconds(2));
  CHECK(Body("/lookup?topic=t") == R"({"channels":[],"producers":[]})");
  CHECK(Body("/nodes") == R"({"producers":[]})");
  db.TouchPeer("p1");
  CHECK(json::parse(Body("/nodes")).at("producers").as_array().size() == 1);
}

TEST_CASE_FIXTURE(Fixture, "a tombstone hides the node from /lookup but /nodes flags it") {
  options.tombstone_lifetime = absl::Seconds(10);
  Register("p1", "node1", "t");
  Register("p1", "node1", "u");
  Register("p2", "node2", "t");
  CHECK(Post("/topic/tombstone?topic=t&node=node1:4151").status == 200);
  const json::value lookup = json::parse(Body("/lookup?topic=t"));
  REQUIRE(lookup.at("producers").as_array().size() == 1);
  CHECK(lookup.at("producers").at(0).at("broadcast_address") == "node2");
  const json::value nodes = json::parse(Body("/nodes"));
  REQUIRE(nodes.at("producers").as_array().size() == 2);
  CHECK(json::serialize(nodes.at("producers").at(0).at("tombstones")) == "[true,false]");
  CHECK(json::serialize(nodes.at("producers").at(1).at("tombstones")) == "[false]");

  clock.Advance(absl::Seconds(10));
  CHECK(json::parse(Body("/lookup?topic=t")).at("producers").as_array().size() == 2);
  CHECK(json::serialize(json::parse(Body("/nodes")).at("producers").at(0).at("tombstones")) ==
        "[false,false]");
}

TEST_CASE_FIXTURE(Fixture, "/topic/tombstone needs topic and node, and matches nothing quietly") {
  CHECK(ErrorOf(Post("/topic/tombstone?node=a:1")) == "MISSING_ARG_TOPIC");
  CHECK(ErrorOf(Post("/topic/tombstone?topic=t")) == "MISSING_ARG_NODE");
  HttpResponse response = Post("/topic/tombstone?topic=t&node=nosuch:1");
  CHECK(response.status == 200);
  CHECK(response.body.empty());
}

TEST_CASE_FIXTURE(Fixture, "topics and channels are created and deleted over HTTP") {
  HttpResponse created = Post("/topic/create?topic=t");
  CHECK(created.status == 200);
  CHECK(created.body.empty());
  CHECK(Header(created, "X-NSQ-Content-Type") == "nsq; version=1.0");
  CHECK_FALSE(Header(created, "Content-Type"));
  CHECK(Body("/lookup?topic=t") == R"({"channels":[],"producers":[]})");

  CHECK(Post("/channel/create?topic=u&channel=c").status == 200);
  CHECK(Body("/topics") == R"({"topics":["t","u"]})");
  CHECK(Body("/channels?topic=u") == R"({"channels":["c"]})");

  CHECK(Post("/channel/delete?topic=u&channel=c").status == 200);
  CHECK(Body("/channels?topic=u") == R"({"channels":[]})");
  CHECK(Post("/channel/delete?topic=u&channel=c").status == 404);
  CHECK(ErrorOf(Post("/channel/delete?topic=u&channel=c")) == "CHANNEL_NOT_FOUND");

  Register("p1", "node1", "u", "c2");
  CHECK(Post("/topic/delete?topic=u").status == 200);
  CHECK(Body("/topics") == R"({"topics":["t"]})");
  CHECK(Body("/channels?topic=u") == R"({"channels":[]})");
  CHECK(ErrorOf(Get("/lookup?topic=u")) == "TOPIC_NOT_FOUND");
  // Deleting what does not exist is still 200.
  CHECK(Post("/topic/delete?topic=nosuch").status == 200);
}

TEST_CASE_FIXTURE(Fixture, "create and delete validate their parameters") {
  CHECK(ErrorOf(Post("/topic/create")) == "MISSING_ARG_TOPIC");
  CHECK(ErrorOf(Post("/topic/create?topic=bad!")) == "INVALID_ARG_TOPIC");
  CHECK(ErrorOf(Post("/topic/delete")) == "MISSING_ARG_TOPIC");
  for (const char* path : {"/channel/create", "/channel/delete"}) {
    CAPTURE(path);
    const std::string p(path);
    CHECK(ErrorOf(Post(p)) == "MISSING_ARG_TOPIC");
    CHECK(ErrorOf(Post(p + "?topic=bad!")) == "INVALID_ARG_TOPIC");
    CHECK(ErrorOf(Post(p + "?topic=t")) == "MISSING_ARG_CHANNEL");
    CHECK(ErrorOf(Post(p + "?topic=t&channel=bad!")) == "INVALID_ARG_CHANNEL");
    CHECK(Post(p + "?topic=t&channel=bad!").status == 400);
  }
}

TEST_CASE_FIXTURE(Fixture, "/debug lists every producer of every key with sorted fields") {
  Register("p1", "node1", "t");
  db.AddRegistration({"topic", "empty", ""});
  const json::value debug = json::parse(Body("/debug"));
  CHECK(debug.as_object().size() == 2);  // keys without producers are left out
  const json::value& entry = debug.at("topic:t:").at(0);
  CHECK(entry.at("id") == "p1");
  CHECK(entry.at("last_update") == clock.NowNs());
  CHECK(entry.at("tombstoned") == false);
  CHECK(entry.at("tombstoned_at") == -6795364578871345152);
  std::vector<std::string> keys;
  for (const auto& member : entry.as_object()) keys.emplace_back(member.key());
  CHECK(keys == std::vector<std::string>{"broadcast_address", "hostname", "http_port", "id",
                                         "last_update", "tcp_port", "tombstoned", "tombstoned_at",
                                         "topology_region", "topology_zone", "version"});
  CHECK(debug.as_object().contains("client::"));
}

TEST_CASE_FIXTURE(Fixture, "unknown paths are 404 and wrong methods 405 with Allow") {
  HttpResponse missing = Get("/nosuch");
  CHECK(missing.status == 404);
  CHECK(ErrorOf(missing) == "NOT_FOUND");
  HttpResponse wrong = Post("/lookup?topic=t");
  CHECK(wrong.status == 405);
  CHECK(ErrorOf(wrong) == "METHOD_NOT_ALLOWED");
  CHECK(Header(wrong, "Allow") == "GET, OPTIONS");
  CHECK(Get("/topic/create?topic=t").status == 405);
  HttpResponse options_response = Call("OPTIONS", "/topic/create");
  CHECK(options_response.status == 200);
  CHECK(Header(options_response, "Allow") == "OPTIONS, POST");
}

TEST_CASE_FIXTURE(Fixture, "an oversized body is refused with 413") {
  CHECK(api.BodyTooLarge(HttpRequest{}).status == 413);
  CHECK(api.MaxRequestBodySize() == LookupdHttpApi::kMaxBodySize);
}

}  // namespace
}  // namespace nsq::lookupd
