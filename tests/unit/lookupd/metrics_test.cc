// nsqlookupd's GET /metrics over a RegistrationDb with a fake clock: the page parses with the
// strict Prometheus reader and counts producers, topics, channels and live tombstones; built a
// slice at a time, it counts the same.
#include <doctest/doctest.h>

#include <deque>
#include <functional>
#include <optional>
#include <string>

#include "lookupd/http_api.h"
#include "tests/testutil/prometheus_parser.h"
#include "tests/unit/fake_clock.h"
#include "tests/unit/lookupd/fake_peer.h"

namespace nsq::lookupd {
namespace {

using nsq::testing::FakeClock;
using testing::MakePeer;
using testutil::PromPage;

constexpr int64_t kStart = 1'700'000'000'000'000'000;  // Unix ns

struct Fixture {
  Fixture() { clock.Set(kStart); }

  FakeClock clock;
  RegistrationDb db{&clock};
  LookupdOptions options;
  std::deque<std::function<void()>> deferred;
  // Made after the clock is set: its construction is the daemon's start.
  std::optional<LookupdHttpApi> api;

  void MakeApi(SliceLimits limits = {}) {
    api.emplace(&db, &options, "1.3.0",
                [this](std::function<void()> work) { deferred.push_back(std::move(work)); },
                limits);
  }

  void Register(const std::string& id, const std::string& topic, const std::string& channel) {
    if (db.FindPeer(id) == nullptr) {
      db.AddPeer(MakePeer(id, "node-" + id));
      db.AddProducer({"client", "", ""}, id);
    }
    db.AddProducer({"topic", topic, ""}, id);
    if (!channel.empty()) db.AddProducer({"channel", topic, channel}, id);
  }

  // GET /metrics through HandleAsync, running the deferred slices; the page parsed.
  PromPage Scrape(int* slices = nullptr) {
    http::HttpRequest request;
    request.method = "GET";
    request.target = "/metrics";
    std::optional<http::HttpResponse> answer;
    api->HandleAsync(request, [&](http::HttpResponse response) { answer = std::move(response); });
    int turns = 1;
    while (!deferred.empty()) {
      std::function<void()> work = std::move(deferred.front());
      deferred.pop_front();
      work();
      ++turns;
    }
    if (slices != nullptr) *slices = turns;
    REQUIRE(answer.has_value());
    REQUIRE(answer->status == 200);
    REQUIRE(answer->headers.size() == 1);
    CHECK(answer->headers[0].second == "text/plain; version=0.0.4; charset=utf-8");
    absl::StatusOr<PromPage> page = testutil::ParsePrometheusText(answer->body);
    REQUIRE_MESSAGE(page.ok(), page.status().ToString(), "\n", answer->body);
    return *page;
  }
};

TEST_CASE_FIXTURE(Fixture, "/metrics counts producers, topics, channels and live tombstones") {
  MakeApi();
  options.tombstone_lifetime = absl::Seconds(10);
  Register("p1", "orders", "billing");
  Register("p1", "orders", "audit");
  Register("p1", "users", "");
  Register("p2", "orders", "billing");
  db.AddRegistration({"topic", "empty", ""});  // POST /topic/create: a topic, no producer
  clock.Advance(absl::Seconds(30));
  REQUIRE(db.TombstoneTopicProducer("orders", "node-p1:4151") == 1);

  const PromPage page = Scrape();
  CHECK(page.Value("nsq_info", {{"version", "1.3.0"}, {"daemon", "nsqlookupd"}}) == 1);
  CHECK(page.Value("nsq_lookupd_producers") == 2);
  CHECK(page.Value("nsq_lookupd_topics") == 3);
  CHECK(page.Value("nsq_lookupd_channels") == 2);
  CHECK(page.Value("nsq_lookupd_topic_producers") == 3);  // orders: p1, p2; users: p1
  CHECK(page.Value("nsq_lookupd_tombstones") == 1);
  CHECK(page.Find("nsq_lookupd_topics")->type == "gauge");
  CHECK(page.Value("nsq_uptime_seconds") == 30);
  CHECK(page.Value("process_start_time_seconds") == kStart / 1'000'000'000);
  CHECK(page.Value("process_open_fds").value_or(0) > 0);

  // The tombstone lapses after --tombstone-lifetime; a vanished nsqd leaves its keys.
  clock.Advance(absl::Seconds(10));
  (void)db.RemovePeer("p2");
  const PromPage later = Scrape();
  CHECK(later.Value("nsq_lookupd_tombstones") == 0);
  CHECK(later.Value("nsq_lookupd_producers") == 1);
  CHECK(later.Value("nsq_lookupd_topics") == 3);
  CHECK(later.Value("nsq_lookupd_topic_producers") == 2);
}

TEST_CASE_FIXTURE(Fixture, "/metrics built over several turns of the loop counts the same") {
  for (int i = 0; i < 30; ++i) {
    Register("p1", "topic" + std::to_string(i), "c");
    if (i % 3 == 0) Register("p2", "topic" + std::to_string(i), "");
  }
  MakeApi({.max_entries = 4, .max_time = absl::InfiniteDuration()});
  int slices = 0;
  const PromPage sliced = Scrape(&slices);
  CHECK(slices > 10);
  MakeApi();
  const PromPage whole = Scrape(&slices);
  CHECK(slices == 1);
  for (const char* name : {"nsq_lookupd_producers", "nsq_lookupd_topics", "nsq_lookupd_channels",
                           "nsq_lookupd_topic_producers", "nsq_lookupd_tombstones"}) {
    CAPTURE(name);
    CHECK(sliced.Value(name) == whole.Value(name));
  }
  CHECK(whole.Value("nsq_lookupd_topics") == 30);
  CHECK(whole.Value("nsq_lookupd_channels") == 30);
  CHECK(whole.Value("nsq_lookupd_topic_producers") == 40);
}

}  // namespace
}  // namespace nsq::lookupd
