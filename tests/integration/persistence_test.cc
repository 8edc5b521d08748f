// What a clean shutdown keeps (NSQ-REFERENCE §6.2, §6.3): queued and in-flight messages,
// topics, channels and their paused flags come back after a restart on the same data path.
#include <doctest/doctest.h>

#include <set>
#include <string>

#include "tests/integration/integration_util.h"
#include "tests/testutil/process.h"

namespace nsq::testutil {
namespace {

TEST_CASE("messages queued and in flight at a clean shutdown are delivered after a restart") {
  auto nsqd = StartNsqd();
  {
    auto consumer = Subscribe(*nsqd, "durable", "ch", 2);
    PublishMany(*nsqd, "durable", {"d0", "d1", "d2", "d3", "d4"});
    MustReadMessage(*consumer);  // two in flight, three queued in the channel
    MustReadMessage(*consumer);
    absl::StatusOr<int> code = nsqd->Stop();
    NSQ_REQUIRE_OK(code);
    REQUIRE(*code == 0);
  }
  NSQ_REQUIRE_OK(nsqd->Restart());
  auto consumer = Subscribe(*nsqd, "durable", "ch", 10);
  std::set<std::string> bodies;
  int redeliveries = 0;
  for (int i = 0; i < 5; ++i) {
    protocol::Message m = MustReadMessage(*consumer);
    bodies.insert(std::string(m.body.view()));
    if (m.attempts == 2) ++redeliveries;  // the two that were in flight keep their attempt
    NSQ_REQUIRE_OK(consumer->Fin(m.id.view()));
  }
  CHECK(bodies == std::set<std::string>{"d0", "d1", "d2", "d3", "d4"});
  CHECK(redeliveries == 2);
  NSQ_CHECK_OK(consumer->ExpectNoFrame(300ms));
}

TEST_CASE("topics, channels and pause flags survive a clean restart") {
  auto nsqd = StartNsqd();
  for (const char* target : {"/topic/create?topic=kept", "/channel/create?topic=kept&channel=c1",
                             "/channel/pause?topic=kept&channel=c1"}) {
    absl::StatusOr<HttpResponse> r = HttpPost(nsqd->http_port(), target);
    NSQ_REQUIRE_OK(r);
    REQUIRE(r->status == 200);
  }
  NSQ_REQUIRE_OK(nsqd->Restart());
  boost::json::value stats = GetStats(*nsqd);
  const boost::json::object* channel = FindChannel(stats, "kept", "c1");
  REQUIRE(channel != nullptr);
  CHECK(channel->at("paused") == true);
}

}  // namespace
}  // namespace nsq::testutil

namespace nsq::testutil {
namespace {

TEST_CASE("a deferred message keeps its due time across a restart: not before, not lost") {
  auto nsqd = StartNsqd();
  auto consumer = Subscribe(*nsqd, "later", "ch", 1);
  auto producer = ConnectV2(*nsqd);
  const int64_t published_at = NowUnixNanos();
  NSQ_REQUIRE_OK(producer->Send("DPUB later 3000\n" + SizedBody("due")));
  NSQ_REQUIRE_OK(producer->ExpectOk());
  producer.reset();
  consumer.reset();
  NSQ_REQUIRE_OK(nsqd->Restart());
  auto after = Subscribe(*nsqd, "later", "ch", 1);
  protocol::Message m = MustReadMessage(*after, 10s);
  CHECK(std::string(m.body.view()) == "due");
  // Go nsqd would deliver it at once after the restart; the delay must still hold.
  CHECK(NowUnixNanos() - published_at >= 2'900'000'000);
}

TEST_CASE("a topic without channels keeps its messages across a restart") {
  auto nsqd = StartNsqd();
  PublishMany(*nsqd, "waiting", {"w0", "w1"});
  NSQ_REQUIRE_OK(nsqd->Restart());
  CHECK(TopicStat(*nsqd, "waiting", "depth") == 2);
  auto consumer = Subscribe(*nsqd, "waiting", "first", 5);
  CHECK(std::string(MustReadMessage(*consumer).body.view()) == "w0");
  CHECK(std::string(MustReadMessage(*consumer).body.view()) == "w1");
}

TEST_CASE("ephemeral topics and channels are not persisted") {
  auto nsqd = StartNsqd();
  Publish(*nsqd, "gone#ephemeral", "x");
  NSQ_REQUIRE_OK(HttpPost(nsqd->http_port(), "/topic/create?topic=stays"));
  NSQ_REQUIRE_OK(HttpPost(nsqd->http_port(), "/channel/create?topic=stays&channel=tmp%23ephemeral"));
  NSQ_REQUIRE_OK(nsqd->Restart());
  CHECK(TopicStat(*nsqd, "gone#ephemeral", "depth") == -1);
  CHECK(TopicStat(*nsqd, "stays", "depth") == 0);
  CHECK(FindChannel(GetStats(*nsqd), "stays", "tmp#ephemeral") == nullptr);
}

TEST_CASE("a deleted topic does not come back after a restart") {
  auto nsqd = StartNsqd();
  Publish(*nsqd, "doomed", "x");
  NSQ_REQUIRE_OK(HttpPost(nsqd->http_port(), "/topic/delete?topic=doomed"));
  NSQ_REQUIRE_OK(nsqd->Restart());
  CHECK(TopicStat(*nsqd, "doomed", "depth") == -1);
}

TEST_CASE("a second nsqd on the same data path refuses to start with a clear message") {
  auto nsqd = StartNsqd();
  Process::Options options;
  options.argv = {TestNsqd::BinaryPath(), "--tcp-address=127.0.0.1:0",
                  "--http-address=127.0.0.1:0", "--data-path=" + nsqd->data_path()};
  auto second = Process::Start(options);
  NSQ_REQUIRE_OK(second);
  std::optional<ExitStatus> status = (*second)->Wait(10s);
  REQUIRE(status.has_value());
  CHECK(status->exited());
  CHECK(status->exit_code == 1);
  CHECK((*second)->Output().find("in use by another nsqd") != std::string::npos);
}

}  // namespace
}  // namespace nsq::testutil
