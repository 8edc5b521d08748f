// What a clean shutdown keeps (NSQ-REFERENCE §6.2, §6.3): queued and in-flight messages,
// topics, channels and their paused flags come back after a restart on the same data path.
#include <doctest/doctest.h>

#include <set>
#include <string>

#include "tests/integration/integration_util.h"

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
