// RegistrationDb with a fake clock: keys outlive their producers, ephemeral keys, wildcards,
// inactivity filtering and tombstones (NSQ-REFERENCE §7.1, §7.4).
#include "lookupd/registration_db.h"

#include <doctest/doctest.h>

#include "tests/unit/fake_clock.h"
#include "tests/unit/lookupd/fake_peer.h"

namespace nsq::lookupd {
namespace {

using nsq::testing::FakeClock;
using testing::MakePeer;

const Registration kClient{"client", "", ""};
const Registration kTopicT{"topic", "t", ""};
const Registration kChannelTC{"channel", "t", "c"};

std::vector<std::string> Ids(const std::vector<Producer>& producers) {
  std::vector<std::string> ids;
  for (const Producer& p : producers) ids.push_back(p.peer->id);
  return ids;
}

std::vector<std::string> Keys(const std::vector<Registration>& registrations) {
  std::vector<std::string> keys;
  for (const Registration& r : registrations) keys.push_back(r.ToString());
  return keys;
}

struct Fixture {
  FakeClock clock;
  RegistrationDb db{&clock};

  void Identify(const std::string& id, const std::string& address) {
    db.AddPeer(MakePeer(id, address));
    db.AddProducer(kClient, id);
  }
};

TEST_CASE_FIXTURE(Fixture, "a producer is added once per key and found by its key") {
  Identify("1.1.1.1:1", "a");
  CHECK(db.AddProducer(kTopicT, "1.1.1.1:1"));
  CHECK_FALSE(db.AddProducer(kTopicT, "1.1.1.1:1"));
  CHECK(Ids(db.FindProducers("topic", "t", "")) == std::vector<std::string>{"1.1.1.1:1"});
  CHECK(db.FindProducers("topic", "other", "").empty());
  CHECK(Keys(db.LookupRegistrations("1.1.1.1:1")) ==
        std::vector<std::string>{"client::", "topic:t:"});
}

TEST_CASE_FIXTURE(Fixture, "removing a producer keeps its key") {
  Identify("p1", "a");
  Identify("p2", "b");
  db.AddProducer(kTopicT, "p1");
  db.AddProducer(kTopicT, "p2");
  CHECK(db.RemoveProducer(kTopicT, "p1") == std::pair<bool, size_t>{true, 1});
  CHECK(db.RemoveProducer(kTopicT, "p1") == std::pair<bool, size_t>{false, 1});
  CHECK(db.RemoveProducer(kTopicT, "p2") == std::pair<bool, size_t>{true, 0});
  CHECK(Keys(db.FindRegistrations("topic", "t", "")) == std::vector<std::string>{"topic:t:"});
  CHECK(db.RemoveProducer({"topic", "nosuch", ""}, "p1") == std::pair<bool, size_t>{false, 0});
}

TEST_CASE_FIXTURE(Fixture, "a peer that leaves is removed from every key but the keys stay") {
  Identify("p1", "a");
  db.AddProducer(kChannelTC, "p1");
  db.AddProducer(kTopicT, "p1");
  CHECK(Keys(db.RemovePeer("p1")) ==
        std::vector<std::string>{"channel:t:c", "client::", "topic:t:"});
  CHECK(db.FindPeer("p1") == nullptr);
  CHECK(db.FindProducers("topic", "t", "").empty());
  CHECK(Keys(db.FindRegistrations("channel", "t", "*")) == std::vector<std::string>{"channel:t:c"});
  CHECK(Keys(db.FindRegistrations("topic", "*", "")) == std::vector<std::string>{"topic:t:"});
}

TEST_CASE_FIXTURE(Fixture, "wildcards match any key or subkey and producers are listed once") {
  Identify("p1", "a");
  Identify("p2", "b");
  db.AddProducer({"channel", "t", "c1"}, "p1");
  db.AddProducer({"channel", "t", "c2"}, "p1");
  db.AddProducer({"channel", "t", "c2"}, "p2");
  db.AddProducer({"channel", "u", "c3"}, "p2");
  db.AddRegistration({"channel", "t", "empty"});
  CHECK(Keys(db.FindRegistrations("channel", "t", "*")) ==
        std::vector<std::string>{"channel:t:c1", "channel:t:c2", "channel:t:empty"});
  CHECK(Keys(db.FindRegistrations("channel", "*", "*")).size() == 4);
  CHECK(Ids(db.FindProducers("channel", "t", "*")) == std::vector<std::string>{"p1", "p2"});
  CHECK(Ids(db.FindProducers("channel", "*", "c3")) == std::vector<std::string>{"p2"});
}

TEST_CASE_FIXTURE(Fixture, "registrations created without producers can be removed") {
  db.AddRegistration(kTopicT);
  db.AddRegistration(kTopicT);
  CHECK(db.FindRegistrations("topic", "t", "").size() == 1);
  CHECK(db.FindProducers("topic", "t", "").empty());
  db.RemoveRegistration(kTopicT);
  CHECK(db.FindRegistrations("topic", "t", "").empty());
}

TEST_CASE_FIXTURE(Fixture, "a producer silent for longer than the inactive timeout is filtered") {
  const absl::Duration timeout = absl::Seconds(300);
  Identify("p1", "a");
  Identify("p2", "b");
  clock.Advance(absl::Seconds(200));
  db.TouchPeer("p2");  // PING
  clock.Advance(absl::Seconds(100));
  // Exactly the timeout is still active (upstream drops only "older than").
  CHECK(Ids(db.FilterByActive(db.FindProducers("client", "", ""), timeout, absl::Seconds(45))) ==
        std::vector<std::string>{"p1", "p2"});
  clock.Advance(absl::Nanoseconds(1));
  CHECK(Ids(db.FilterByActive(db.FindProducers("client", "", ""), timeout, absl::Seconds(45))) ==
        std::vector<std::string>{"p2"});
  // Filtering does not remove anything.
  CHECK(db.FindProducers("client", "", "").size() == 2);
  db.TouchPeer("nosuch");
}

TEST_CASE_FIXTURE(Fixture, "a tombstone hides one producer of one topic for its lifetime") {
  const absl::Duration lifetime = absl::Seconds(45);
  Identify("p1", "a");
  Identify("p2", "b");
  for (const char* id : {"p1", "p2"}) {
    db.AddProducer(kTopicT, id);
    db.AddProducer({"topic", "u", ""}, id);
  }
  CHECK(db.TombstoneTopicProducer("t", "a:4151") == 1);
  CHECK(db.TombstoneTopicProducer("t", "a:9999") == 0);
  const auto active = [&](const char* topic) {
    return Ids(
        db.FilterByActive(db.FindProducers("topic", topic, ""), absl::Seconds(300), lifetime));
  };
  CHECK(active("t") == std::vector<std::string>{"p2"});
  CHECK(active("u") == std::vector<std::string>{"p1", "p2"});
  // A lifetime of 0 ignores tombstones (what /nodes uses).
  CHECK(db.FilterByActive(db.FindProducers("topic", "t", ""), absl::Seconds(300),
                          absl::ZeroDuration())
            .size() == 2);

  clock.Advance(absl::Seconds(44));
  CHECK(active("t") == std::vector<std::string>{"p2"});
  clock.Advance(absl::Seconds(1));
  CHECK(active("t") == std::vector<std::string>{"p1", "p2"});
  CHECK(db.FindProducers("topic", "t", "")[0].tombstoned);
}

TEST_CASE_FIXTURE(Fixture, "a producer that re-registers after leaving is not tombstoned") {
  Identify("p1", "a");
  db.AddProducer(kTopicT, "p1");
  db.TombstoneTopicProducer("t", "a:4151");
  db.RemoveProducer(kTopicT, "p1");
  db.AddProducer(kTopicT, "p1");
  CHECK_FALSE(db.FindProducers("topic", "t", "")[0].tombstoned);
}

TEST_CASE_FIXTURE(Fixture, "IDENTIFY again under the same id refreshes the peer") {
  Identify("p1", "a");
  clock.Advance(absl::Seconds(10));
  db.AddPeer(MakePeer("p1", "renamed"));
  REQUIRE(db.FindPeer("p1") != nullptr);
  CHECK(db.FindPeer("p1")->info.broadcast_address == "renamed");
  CHECK(db.FindPeer("p1")->last_update_ns == clock.NowNs());
}

}  // namespace
}  // namespace nsq::lookupd
