#include "tools/redis_to_nsq/key_layout.h"

#include <doctest/doctest.h>

#include <vector>

namespace nsq::redis_to_nsq {
namespace {

TEST_CASE("Sidekiq keys, with and without a namespace") {
  KeyLayout plain(Format::kSidekiq, "");
  CHECK(plain.Queue("default") == "queue:default");
  CHECK(plain.QueuesSet() == "queues");
  CHECK(plain.ScheduleSet() == "schedule");
  CHECK(plain.RetrySet() == "retry");
  CHECK(plain.DeadSet() == "dead");
  KeyLayout spaced(Format::kSidekiq, "myapp");
  CHECK(spaced.Queue("default") == "myapp:queue:default");
  CHECK(spaced.RetrySet() == "myapp:retry");
  CHECK(KeyLayout(Format::kSidekiq, "myapp:").prefix() == "myapp:");
}

TEST_CASE("go-workers keys: goretry, no dead set, namespaced queue names in retries") {
  KeyLayout layout(Format::kGoWorkers, "prod");
  CHECK(layout.RetrySet() == "prod:goretry");
  CHECK(layout.DeadSet().empty());
  CHECK(layout.MemberQueue("prod:mail") == "mail");
  CHECK(layout.MemberQueue("mail") == "mail");
  CHECK(KeyLayout(Format::kSidekiq, "prod").MemberQueue("prod:mail") == "prod:mail");
}

TEST_CASE("list keys are told apart: queues and every kind of in-progress list") {
  KeyLayout layout(Format::kSidekiq, "ns");
  struct Case {
    const char* key;
    std::optional<SourceKind> kind;
    const char* queue;
  };
  for (const Case& c : std::vector<Case>{
           {"ns:queue:default", SourceKind::kQueue, "default"},
           {"ns:queue:a:b", SourceKind::kQueue, "a:b"},
           {"ns:queue:mail:worker-1:inprogress", SourceKind::kInProgress, "mail"},
           {"ns:queue:sq|host:12:abcdef|mail", SourceKind::kInProgress, "mail"},
           {"ns:queue:mail:working", SourceKind::kInProgress, "mail"},
           {"ns:working:queue:mail:host:12:abc", SourceKind::kInProgress, "mail"},
           {"ns:nsqmig:proc:default:queue:default", std::nullopt, ""},
           {"other:queue:default", std::nullopt, ""},
           {"ns:schedule", std::nullopt, ""},
           {"ns:queue:", std::nullopt, ""},
       }) {
    CAPTURE(c.key);
    std::optional<Source> source = layout.ClassifyList(c.key);
    REQUIRE(source.has_value() == c.kind.has_value());
    if (!source) continue;
    CHECK(source->kind == *c.kind);
    CHECK(source->queue == c.queue);
    CHECK(source->key == c.key);
  }
}

TEST_CASE("the migrator's own keys live under the same namespace") {
  KeyLayout layout(Format::kSidekiq, "ns");
  CHECK(layout.Processing("m1", "ns:queue:default") == "ns:nsqmig:proc:m1:queue:default");
  CHECK(layout.Quarantine("ns:schedule") == "ns:nsqmig:quarantine:schedule");
  CHECK(layout.Lock("m1") == "ns:nsqmig:lock:m1");
  // The processing key of a queue is never itself taken for a queue.
  CHECK_FALSE(layout.ClassifyList(layout.Processing("m1", "ns:queue:default")).has_value());
}

}  // namespace
}  // namespace nsq::redis_to_nsq
