// /nodes, /topics and /debug built a slice at a time (LookupdHttpApi::HandleAsync with a
// deferral queue the test runs by hand): the database changes between slices, the API stops or
// is destroyed mid-answer, and slices are cut by entries or by time.
#include <doctest/doctest.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "lookupd/http_api.h"
#include "tests/unit/fake_clock.h"
#include "tests/unit/lookupd/fake_peer.h"

namespace nsq::lookupd {
namespace {

namespace json = boost::json;
using http::HttpRequest;
using http::HttpResponse;
using nsq::testing::FakeClock;
using testing::MakePeer;

std::string TopicName(int i) { return absl::StrFormat("t%03d", i); }

struct Fixture {
  FakeClock clock;
  RegistrationDb db{&clock};
  LookupdOptions options;
  std::deque<std::function<void()>> deferred;
  std::unique_ptr<LookupdHttpApi> api;
  std::optional<HttpResponse> answer;
  int answers = 0;

  // One entry per slice unless told otherwise.
  explicit Fixture(SliceLimits limits = {1, absl::InfiniteDuration()}) { MakeApi(limits); }

  void MakeApi(SliceLimits limits) {
    api = std::make_unique<LookupdHttpApi>(
        &db, &options, "1.3.0", [this](std::function<void()> work) { deferred.push_back(work); },
        limits);
  }

  void Register(const std::string& id, const std::string& topic) {
    if (db.FindPeer(id) == nullptr) {
      db.AddPeer(MakePeer(id, "node-" + id));
      db.AddProducer({"client", "", ""}, id);
    }
    db.AddProducer({"topic", topic, ""}, id);
  }

  void Start(const std::string& target) {
    HttpRequest request;
    request.method = "GET";
    request.target = target;
    answer.reset();
    api->HandleAsync(request, [this](HttpResponse response) {
      answer = std::move(response);
      ++answers;
    });
  }
  // Runs one deferred slice; false when none was queued.
  bool Step() {
    if (deferred.empty()) return false;
    std::function<void()> work = std::move(deferred.front());
    deferred.pop_front();
    work();
    return true;
  }
  void Finish() {
    while (Step()) {
    }
    REQUIRE(answer.has_value());
  }
  std::string Now(const std::string& target) {
    HttpRequest request;
    request.method = "GET";
    request.target = target;
    return api->Handle(request).body;
  }
};

// topics of each node of a /nodes answer, by remote_address; checks the arrays are parallel.
std::map<std::string, std::vector<std::string>> NodeTopics(const std::string& body) {
  std::map<std::string, std::vector<std::string>> nodes;
  const json::value document = json::parse(body);
  for (const json::value& node : document.at("producers").as_array()) {
    const json::array& topics = node.at("topics").as_array();
    CHECK(node.at("tombstones").as_array().size() == topics.size());
    std::vector<std::string>& names = nodes[std::string(node.at("remote_address").as_string())];
    for (const json::value& topic : topics) names.emplace_back(topic.as_string());
  }
  return nodes;
}

TEST_CASE_FIXTURE(Fixture, "a big answer is built over several turns and equals the one-go one") {
  for (int i = 0; i < 20; ++i) {
    Register("p1", TopicName(i));
    if (i % 2 == 0) Register("p2", TopicName(i));
  }
  for (const char* target : {"/nodes", "/topics", "/debug"}) {
    CAPTURE(target);
    Start(target);
    CHECK_FALSE(answer.has_value());
    CHECK(api->answers_in_progress() == 1);
    int slices = 1;
    while (Step()) ++slices;
    REQUIRE(answer.has_value());
    CHECK(slices > 10);
    CHECK(api->answers_in_progress() == 0);
    CHECK(answer->status == 200);
    CHECK(answer->body == Now(target));
  }
}

TEST_CASE_FIXTURE(Fixture, "a small answer is given at once, without a deferred slice") {
  MakeApi({});
  Register("p1", "t");
  Start("/nodes");
  REQUIRE(answer.has_value());
  CHECK(deferred.empty());
  CHECK(api->answers_in_progress() == 0);
  CHECK(answer->body == Now("/nodes"));
}

TEST_CASE_FIXTURE(Fixture, "topics registered during a walk show if they sort after its cursor") {
  for (int i = 10; i < 30; ++i) Register("p1", TopicName(i));
  Start("/nodes");
  for (int i = 0; i < 6; ++i) Step();  // the walk is past t010..t014, not at t029
  Register("p1", TopicName(0));        // behind the cursor
  Register("p1", TopicName(99));       // ahead of it
  db.RemoveProducer({"topic", TopicName(29), ""}, "p1");  // ahead, gone before it is reached
  Finish();
  const std::vector<std::string> topics = NodeTopics(answer->body).at("p1");
  CHECK(topics.size() == 20);
  CHECK(topics.front() == TopicName(10));
  CHECK(topics.back() == TopicName(99));
  CHECK(std::find(topics.begin(), topics.end(), TopicName(29)) == topics.end());
  // The next request sees everything.
  CHECK(NodeTopics(Now("/nodes")).at("p1").front() == TopicName(0));
}

TEST_CASE_FIXTURE(Fixture, "a node that disconnects during the walk is left out whole") {
  for (int i = 0; i < 10; ++i) {
    Register("p1", TopicName(i));
    Register("p2", TopicName(i));
  }
  Register("p3", "late");
  Start("/nodes");
  for (int i = 0; i < 4; ++i) Step();  // in the middle of p1's topics
  db.RemovePeer("p1");
  Register("p4", "new");  // identified after the request started: not listed
  Finish();
  const auto nodes = NodeTopics(answer->body);
  CHECK(nodes.size() == 2);
  CHECK(nodes.at("p2").size() == 10);
  CHECK(nodes.at("p3") == std::vector<std::string>{"late"});
}

TEST_CASE_FIXTURE(Fixture, "random changes between slices leave every answer well formed") {
  std::mt19937 rng(7);
  const auto pick = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
  const std::vector<std::string> ids{"p0", "p1", "p2"};
  for (int i = 0; i < 40; ++i) Register(ids[pick(3)], TopicName(pick(60)));
  for (int round = 0; round < 40; ++round) {
    CAPTURE(round);
    const char* target = round % 3 == 0 ? "/nodes" : round % 3 == 1 ? "/topics" : "/debug";
    std::map<std::string, std::set<std::string>> ever;  // what each peer had at some point
    for (const std::string& id : ids) {
      for (const Registration& r : db.LookupRegistrations(id)) ever[id].insert(r.key);
    }
    Start(target);
    while (!answer.has_value()) {
      switch (pick(6)) {
        case 0: {
          const std::string id = ids[pick(3)];
          const std::string topic = TopicName(pick(60));
          Register(id, topic);
          ever[id].insert(topic);
          break;
        }
        case 1:
          db.RemoveProducer({"topic", TopicName(pick(60)), ""}, ids[pick(3)]);
          break;
        case 2:
          if (pick(4) == 0) db.RemovePeer(ids[pick(3)]);
          break;
        case 3:
          db.RemoveRegistration({"topic", TopicName(pick(60)), ""});
          break;
        case 4:
          db.TombstoneTopicProducer(TopicName(pick(60)), "node-p1:4151");
          break;
        default:
          break;
      }
      REQUIRE(Step());
    }
    REQUIRE(answer->status == 200);
    const json::value document = json::parse(answer->body);  // throws if malformed
    if (std::string(target) == "/nodes") {
      for (const auto& [id, topics] : NodeTopics(answer->body)) {
        CHECK(std::is_sorted(topics.begin(), topics.end()));
        CHECK(std::adjacent_find(topics.begin(), topics.end()) == topics.end());
        for (const std::string& topic : topics) CHECK(ever[id].contains(topic));
      }
    } else if (std::string(target) == "/topics") {
      std::vector<std::string> topics;
      for (const json::value& t : document.at("topics").as_array()) {
        topics.emplace_back(t.as_string());
      }
      CHECK(std::is_sorted(topics.begin(), topics.end()));
      CHECK(std::adjacent_find(topics.begin(), topics.end()) == topics.end());
    }
    // Once nothing changes, the answer is exact again.
    Start(target);
    Finish();
    CHECK(answer->body == Now(target));
  }
}

TEST_CASE_FIXTURE(Fixture, "Stop abandons the answers being built and refuses new big ones") {
  for (int i = 0; i < 10; ++i) Register("p1", TopicName(i));
  Start("/nodes");
  Step();
  REQUIRE_FALSE(answer.has_value());
  api->Stop();
  REQUIRE(answer.has_value());
  CHECK(answer->status == 503);
  CHECK(answer->body == R"({"message":"EXITING"})");
  CHECK(api->answers_in_progress() == 0);
  while (Step()) {
  }
  CHECK(answers == 1);  // the queued slice did nothing
  Start("/nodes");
  CHECK(answer->status == 503);
  Start("/ping");
  CHECK(answer->body == "OK");
}

TEST_CASE_FIXTURE(Fixture, "a slice still queued when the API is destroyed does nothing") {
  for (int i = 0; i < 10; ++i) Register("p1", TopicName(i));
  Start("/debug");
  REQUIRE(deferred.size() == 1);
  api.reset();
  while (Step()) {
  }
  CHECK(answers == 0);
}

TEST_CASE_FIXTURE(Fixture, "a slice out of time still makes progress and the answer completes") {
  MakeApi({1 << 20, absl::ZeroDuration()});
  for (int i = 0; i < 500; ++i) Register("p1", TopicName(i));
  Start("/nodes");
  int slices = 1;
  while (Step()) ++slices;
  REQUIRE(answer.has_value());
  CHECK(slices > 2);  // cut by time: the first clock check is after 64 entries
  CHECK(answer->body == Now("/nodes"));
}

TEST_CASE_FIXTURE(Fixture, "without a deferral function every answer is given at once") {
  LookupdHttpApi direct(&db, &options, "1.3.0");
  for (int i = 0; i < 100; ++i) Register("p1", TopicName(i));
  HttpRequest request;
  request.method = "GET";
  request.target = "/nodes";
  std::optional<HttpResponse> got;
  direct.HandleAsync(request, [&](HttpResponse response) { got = std::move(response); });
  REQUIRE(got.has_value());
  CHECK(got->body == Now("/nodes"));
}

}  // namespace
}  // namespace nsq::lookupd
