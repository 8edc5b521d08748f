#include "tools/redis_to_nsq/job_payload.h"

#include <doctest/doctest.h>

namespace nsq::redis_to_nsq {
namespace {

TEST_CASE("a Sidekiq 6 job: float seconds") {
  JobInfo job = InspectJob(
      R"({"retry":true,"queue":"default","args":["job",0],"class":"W","jid":"d7206435ae7a63e6d87e8577","created_at":1796410392.3392494,"enqueued_at":1796410392.3394227})");
  CHECK(job.json_object);
  CHECK(job.queue == "default");
  CHECK(job.jid == "d7206435ae7a63e6d87e8577");
  CHECK(*job.created_at == doctest::Approx(1796410392.3392494));
  CHECK(*QueuedSince(job) == doctest::Approx(1796410392.3394227));
  CHECK_FALSE(job.at);
}

TEST_CASE("a Sidekiq 8 job: integer milliseconds") {
  JobInfo job = InspectJob(R"({"queue":"q","created_at":1796410392339,"enqueued_at":1796410392400})");
  CHECK(*job.created_at == doctest::Approx(1796410392.339));
  CHECK(*job.enqueued_at == doctest::Approx(1796410392.4));
}

TEST_CASE("a go-workers job: \"at\", no created_at") {
  JobInfo job = InspectJob(
      R"({"queue":"prod:mail","class":"W","args":[],"jid":"ab","enqueued_at":1796410392.5,"at":1796410392.5})");
  CHECK(job.queue == "prod:mail");
  CHECK_FALSE(job.created_at);
  CHECK(*job.at == doctest::Approx(1796410392.5));
  CHECK(*QueuedSince(job) == doctest::Approx(1796410392.5));
}

TEST_CASE("anything else is not a job object") {
  for (const char* payload : {"", "not json", "[1,2]", "\"s\"", "{\"queue\":", "\xff\xfe"}) {
    CAPTURE(payload);
    JobInfo job = InspectJob(payload);
    CHECK_FALSE(job.json_object);
    CHECK(job.queue.empty());
  }
  JobInfo odd = InspectJob(R"({"queue":7,"jid":null,"enqueued_at":"yesterday"})");
  CHECK(odd.json_object);
  CHECK(odd.queue.empty());
  CHECK_FALSE(odd.enqueued_at);
}

}  // namespace
}  // namespace nsq::redis_to_nsq
