// The indexed RegistrationDb against ScanModel (the scan-everything database it replaced):
// explicit cases for each index path (add, remove, re-add, tombstone, expiry, keys deleted
// under their producers), then a randomized run with a fixed seed in which every answer of
// the database, and every HTTP answer built from it (at once and a slice at a time), must equal
// the model's.
#include <doctest/doctest.h>

#include <deque>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "lookupd/http_api.h"
#include "lookupd/registration_db.h"
#include "tests/unit/fake_clock.h"
#include "tests/unit/lookupd/fake_peer.h"
#include "tests/unit/lookupd/scan_model.h"

namespace nsq::lookupd {
namespace {

using nsq::testing::FakeClock;
using testing::MakePeer;
using testing::ScanModel;

std::vector<std::string> Keys(const std::vector<Registration>& registrations) {
  std::vector<std::string> keys;
  for (const Registration& r : registrations) keys.push_back(r.ToString());
  return keys;
}

// A producer as comparable text: peer id and tombstone state.
std::vector<std::string> Describe(const std::vector<Producer>& producers) {
  std::vector<std::string> out;
  for (const Producer& p : producers) {
    out.push_back(p.peer->id + (p.tombstoned ? "+" + std::to_string(p.tombstoned_at_ns) : ""));
  }
  return out;
}

// The topic keys of a peer as VisitPeerRegistrations walks them from `from`, with states.
std::vector<std::string> WalkPeer(const RegistrationDb& db, const std::string& id,
                                  std::string_view category, const Registration& from) {
  std::vector<std::string> out;
  db.VisitPeerRegistrations(id, category, from,
                            [&](const Registration& r, const RegistrationDb::ProducerState& s) {
                              out.push_back(r.ToString() + (s.tombstoned ? "+" : ""));
                              return true;
                            });
  return out;
}

// The same walk, computed by scanning the model.
std::vector<std::string> ScanPeer(const ScanModel& model, const std::string& id,
                                  std::string_view category, const Registration& from) {
  std::vector<std::string> out;
  for (const auto& [r, producers] : model.registrations()) {
    if (r < from || (category != "*" && r.category != category)) continue;
    auto it = producers.find(id);
    if (it != producers.end()) out.push_back(r.ToString() + (it->second.tombstoned ? "+" : ""));
  }
  return out;
}

struct Fixture {
  FakeClock clock;
  RegistrationDb db{&clock};
  ScanModel model{&clock};

  void AddPeer(const std::string& id, const std::string& address, int64_t http_port = 4151) {
    db.AddPeer(MakePeer(id, address, http_port));
    model.AddPeer(MakePeer(id, address, http_port));
  }
  void AddProducer(const Registration& r, const std::string& id) {
    CHECK(db.AddProducer(r, id) == model.AddProducer(r, id));
  }
  void RemoveProducer(const Registration& r, const std::string& id) {
    CHECK(db.RemoveProducer(r, id) == model.RemoveProducer(r, id));
  }
  void RemoveRegistration(const Registration& r) {
    db.RemoveRegistration(r);
    model.RemoveRegistration(r);
  }
  void RemovePeer(const std::string& id) {
    CHECK(Keys(db.RemovePeer(id)) == Keys(model.RemovePeer(id)));
  }
  // Every peer's index equals what a scan finds.
  void CheckPeers(const std::vector<std::string>& ids) {
    REQUIRE(db.registrations() == model.registrations());
    for (const std::string& id : ids) {
      CAPTURE(id);
      CHECK(Keys(db.LookupRegistrations(id)) == Keys(model.LookupRegistrations(id)));
      CHECK(WalkPeer(db, id, "*", {}) == ScanPeer(model, id, "*", {}));
    }
  }
};

const Registration kClient{"client", "", ""};

TEST_CASE_FIXTURE(Fixture, "a peer's index follows add, remove and re-add of its producers") {
  AddPeer("p1", "a");
  AddProducer(kClient, "p1");
  AddProducer({"topic", "t", ""}, "p1");
  AddProducer({"channel", "t", "c"}, "p1");
  AddProducer({"topic", "u", ""}, "p1");
  CheckPeers({"p1"});
  CHECK(WalkPeer(db, "p1", "topic", {"topic", "", ""}) ==
        std::vector<std::string>{"topic:t:", "topic:u:"});
  RemoveProducer({"topic", "t", ""}, "p1");
  CheckPeers({"p1"});
  CHECK(WalkPeer(db, "p1", "topic", {"topic", "", ""}) == std::vector<std::string>{"topic:u:"});
  AddProducer({"topic", "t", ""}, "p1");
  CheckPeers({"p1"});
  RemovePeer("p1");
  CheckPeers({"p1"});
  CHECK(db.LookupRegistrations("p1").empty());
  // The keys stay; a new connection under the same id starts with nothing.
  CHECK(db.FindRegistrations("topic", "*", "").size() == 2);
  AddPeer("p1", "a");
  CHECK(db.LookupRegistrations("p1").empty());
}

TEST_CASE_FIXTURE(Fixture, "deleting a key takes it out of every producer's index") {
  for (const char* id : {"p1", "p2"}) {
    AddPeer(id, id);
    AddProducer({"topic", "t", ""}, id);
    AddProducer({"channel", "t", "c"}, id);
  }
  RemoveRegistration({"channel", "t", "c"});
  CheckPeers({"p1", "p2"});
  CHECK(Keys(db.LookupRegistrations("p2")) == std::vector<std::string>{"topic:t:"});
  RemoveRegistration({"topic", "t", ""});
  CheckPeers({"p1", "p2"});
  CHECK(db.LookupRegistrations("p1").empty());
  // A producer of a deleted key can register it again.
  AddProducer({"topic", "t", ""}, "p1");
  CheckPeers({"p1", "p2"});
}

TEST_CASE_FIXTURE(Fixture, "a tombstone is seen through the peer's index and expires") {
  const absl::Duration lifetime = absl::Seconds(45);
  AddPeer("p1", "a");
  AddProducer({"topic", "t", ""}, "p1");
  AddProducer({"topic", "u", ""}, "p1");
  CHECK(db.TombstoneTopicProducer("t", "a:4151") == model.TombstoneTopicProducer("t", "a:4151"));
  CHECK(WalkPeer(db, "p1", "topic", {}) == std::vector<std::string>{"topic:t:+", "topic:u:"});
  const auto hidden = [&] {
    std::vector<bool> result;
    db.VisitPeerRegistrations("p1", "topic", {},
                              [&](const Registration&, const RegistrationDb::ProducerState& s) {
                                result.push_back(db.IsTombstoned(s, lifetime));
                                return true;
                              });
    return result;
  };
  CHECK(hidden() == std::vector<bool>{true, false});
  clock.Advance(lifetime - absl::Nanoseconds(1));
  CHECK(hidden() == std::vector<bool>{true, false});
  clock.Advance(absl::Nanoseconds(1));
  CHECK(hidden() == std::vector<bool>{false, false});
  // Unregistering drops the tombstone with the producer; registering again starts clean.
  RemoveProducer({"topic", "t", ""}, "p1");
  AddProducer({"topic", "t", ""}, "p1");
  CHECK(WalkPeer(db, "p1", "topic", {}) == std::vector<std::string>{"topic:t:", "topic:u:"});
  CheckPeers({"p1"});
}

TEST_CASE_FIXTURE(Fixture, "producers without a PeerInfo are indexed but never reported") {
  AddProducer({"topic", "t", ""}, "ghost");  // AddProducer does not check the peer
  CheckPeers({"ghost"});
  CHECK(db.FindProducers("topic", "t", "").empty());
  CHECK(Keys(db.LookupRegistrations("ghost")) == std::vector<std::string>{"topic:t:"});
  RemovePeer("ghost");
  CheckPeers({"ghost"});
}

TEST_CASE_FIXTURE(Fixture, "a walk resumed from Successor() continues right after its key") {
  AddPeer("p1", "a");
  for (const char* topic : {"t", "t0", "t.x", "u"}) AddProducer({"topic", topic, ""}, "p1");
  AddProducer({"channel", "t", "c"}, "p1");
  AddProducer(kClient, "p1");
  const Registration t{"topic", "t", ""};
  CHECK(WalkPeer(db, "p1", "topic", t.Successor()) ==
        std::vector<std::string>{"topic:t.x:", "topic:t0:", "topic:u:"});
  // A walk of one category never strays into another, whatever `from` says.
  CHECK(WalkPeer(db, "p1", "topic", {"channel", "zzz", ""}).size() == 4);
  CHECK(WalkPeer(db, "p1", "channel", {}) == std::vector<std::string>{"channel:t:c"});
  CHECK(WalkPeer(db, "nosuch", "topic", {}).empty());
  std::vector<std::string> topics;
  CHECK(db.VisitRegistrations("topic", t.Successor(), [&](const Registration& r, const auto&) {
    topics.push_back(r.key);
    return topics.size() < 2;
  }) == false);
  CHECK(topics == std::vector<std::string>{"t.x", "t0"});
}

// The randomized run. Small name pools make the operations collide: the same key registered
// by several peers, prefixes of one another ("t", "t0", "t.x"), keys deleted under producers.
struct RandomRun : Fixture {
  std::mt19937 rng{20261204};
  LookupdOptions options;
  std::deque<std::function<void()>> deferred;
  LookupdHttpApi api{&db, &options, "1.3.0"};
  const std::vector<std::string> ids{"p0", "p1", "p2", "p3", "p4"};
  const std::vector<std::string> topics{"t", "t0", "t.x", "u", "e#ephemeral", ""};
  const std::vector<std::string> channels{"c", "c0", "d#ephemeral", ""};

  RandomRun() {
    options.inactive_producer_timeout = absl::Seconds(30);
    options.tombstone_lifetime = absl::Seconds(10);
  }

  size_t Pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); }
  template <typename T>
  const T& PickFrom(const std::vector<T>& values) {
    return values[Pick(values.size())];
  }
  Registration RandomKey() {
    switch (Pick(8)) {
      case 0:
        return kClient;
      case 1:  // an odd key: a topic with a subkey, which /topics and /nodes must skip
        return {"topic", PickFrom(topics), PickFrom(channels)};
      case 2:
      case 3:
      case 4:
        return {"channel", PickFrom(topics), PickFrom(channels)};
      default:
        return {"topic", PickFrom(topics), ""};
    }
  }

  void RandomOperation() {
    const std::string& id = PickFrom(ids);
    switch (Pick(12)) {
      case 0:
        AddPeer(id, Pick(2) == 0 ? "n0" : "n1", 1 + static_cast<int64_t>(Pick(2)));
        break;
      case 1:
        db.TouchPeer(id);
        model.TouchPeer(id);
        break;
      case 2:
        if (Pick(3) == 0) RemovePeer(id);
        break;
      case 3: {
        const Registration r = RandomKey();
        db.AddRegistration(r);
        model.AddRegistration(r);
        break;
      }
      case 4:
        if (Pick(2) == 0) RemoveRegistration(RandomKey());
        break;
      case 5:
      case 6:
      case 7:
        AddProducer(RandomKey(), id);
        break;
      case 8:
        RemoveProducer(RandomKey(), id);
        break;
      case 9: {
        const std::string topic = Pick(4) == 0 ? "*" : PickFrom(topics);
        const std::string node = absl::StrCat(Pick(2) == 0 ? "n0" : "n1", ":", 1 + Pick(2));
        CHECK(db.TombstoneTopicProducer(topic, node) == model.TombstoneTopicProducer(topic, node));
        break;
      }
      default:
        clock.Advance(absl::Seconds(static_cast<int64_t>(Pick(8))));
        break;
    }
  }

  void CheckQueries() {
    CheckPeers(ids);
    for (const std::string& id : ids) {
      const PeerInfo* peer = db.FindPeer(id);
      const PeerInfo* expected = model.FindPeer(id);
      REQUIRE((peer == nullptr) == (expected == nullptr));
      if (peer != nullptr) CHECK(peer->last_update_ns == expected->last_update_ns);
      // A walk resumed anywhere equals the rest of the scan.
      const Registration from = RandomKey();
      CHECK(WalkPeer(db, id, "topic", from) == ScanPeer(model, id, "topic", from));
      CHECK(WalkPeer(db, id, "channel", from.Successor()) ==
            ScanPeer(model, id, "channel", from.Successor()));
    }
    std::vector<std::string> keys{"*", "nosuch"};
    keys.insert(keys.end(), topics.begin(), topics.end());
    std::vector<std::string> subkeys{"*", "nosuch"};
    subkeys.insert(subkeys.end(), channels.begin(), channels.end());
    for (const char* category : {"client", "topic", "channel"}) {
      for (const std::string& key : keys) {
        for (const std::string& subkey : subkeys) {
          CAPTURE(category);
          CAPTURE(key);
          CAPTURE(subkey);
          CHECK(Keys(db.FindRegistrations(category, key, subkey)) ==
                Keys(model.FindRegistrations(category, key, subkey)));
          CHECK(Describe(db.FindProducers(category, key, subkey)) ==
                Describe(model.FindProducers(category, key, subkey)));
          CHECK(Describe(db.FilterByActive(db.FindProducers(category, key, subkey),
                                           options.inactive_producer_timeout,
                                           options.tombstone_lifetime)) ==
                Describe(model.FilterByActive(model.FindProducers(category, key, subkey),
                                              options.inactive_producer_timeout,
                                              options.tombstone_lifetime)));
        }
      }
    }
  }

  std::string Get(const std::string& target, int* status = nullptr) {
    http::HttpRequest request;
    request.method = "GET";
    request.target = target;
    http::HttpResponse response = api.Handle(request);
    if (status != nullptr) *status = response.status;
    return response.body;
  }

  // The same request through HandleAsync, one entry per slice, nothing changing in between.
  std::string GetSliced(const std::string& target) {
    LookupdHttpApi sliced(
        &db, &options, "1.3.0", [this](std::function<void()> work) { deferred.push_back(work); },
        SliceLimits{1 + static_cast<int64_t>(Pick(3)), absl::InfiniteDuration()});
    http::HttpRequest request;
    request.method = "GET";
    request.target = target;
    std::optional<http::HttpResponse> answer;
    sliced.HandleAsync(request, [&](http::HttpResponse r) { answer = std::move(r); });
    while (!answer && !deferred.empty()) {
      std::function<void()> work = std::move(deferred.front());
      deferred.pop_front();
      work();
    }
    REQUIRE(answer.has_value());
    CHECK(deferred.empty());
    return answer->body;
  }

  void CheckAnswers() {
    CHECK(Get("/nodes") == model.Nodes(options));
    CHECK(Get("/topics") == model.Topics());
    CHECK(Get("/debug") == model.Debug());
    CHECK(GetSliced("/nodes") == model.Nodes(options));
    CHECK(GetSliced("/topics") == model.Topics());
    CHECK(GetSliced("/debug") == model.Debug());
    for (const std::string& topic : topics) {
      if (topic.empty() || topic.find('#') != std::string::npos) continue;  // not URL-safe
      int status = 0;
      const std::string lookup = Get("/lookup?topic=" + topic, &status);
      const std::string expected = model.Lookup(topic, options);
      CHECK(status == (expected.empty() ? 404 : 200));
      if (!expected.empty()) CHECK(lookup == expected);
      CHECK(Get("/channels?topic=" + topic) == model.Channels(topic));
    }
  }
};

TEST_CASE_FIXTURE(RandomRun, "random operations: every index answer equals a full scan's") {
  for (int i = 0; i < 3000; ++i) {
    CAPTURE(i);
    RandomOperation();
    CheckQueries();
    if (i % 10 == 0) CheckAnswers();
  }
  // The run went through the interesting states, not only empty ones.
  CHECK(db.registrations().size() > 10);
}

}  // namespace
}  // namespace nsq::lookupd
