// redis_to_nsq against real Sidekiq jobs (made by Sidekiq's own Ruby code, through
// tests/redis/sidekiq_fixture.rb) in a real redis-server, moved into a real nsqd: bodies byte
// for byte, queue order, namespaces, ActiveJob, the scheduled / retry / dead sets, and
// nsq::jobs running what arrived.
#include <doctest/doctest.h>

#include <atomic>
#include <map>
#include <set>

#include "absl/strings/match.h"
#include "nsq/jobs.h"
#include "tests/integration/integration_util.h"
#include "tests/integration/redis_to_nsq/tool_util.h"
#include "tests/testutil/sidekiq_fixture.h"
#include "tests/testutil/wait_for.h"
#include "tools/redis_to_nsq/job_payload.h"

namespace nsq::testutil {
namespace {

// Runs the Sidekiq fixture; REQUIREs that it worked.
std::vector<FixtureJob> Sidekiq(TestRedis& redis, std::vector<std::string> args,
                                const std::string& ns = "") {
  args.insert(args.begin(), {"--redis-url", redis.url()});
  if (!ns.empty()) args.insert(args.end(), {"--namespace", ns});
  auto jobs = RunSidekiqFixture(std::move(args));
  NSQ_REQUIRE_OK(jobs);
  return std::move(*jobs);
}

std::string Prefix(const std::string& ns) { return ns.empty() ? "" : ns + ":"; }

TEST_CASE("every Sidekiq job moves byte for byte, oldest first, with and without a namespace") {
  for (std::string ns : {"", "myapp"}) {
    CAPTURE(ns);
    auto redis = StartRedis();
    auto nsqd = StartNsqd();
    Sidekiq(*redis, {"--mode", "enqueue", "--queue", "default", "--count", "300"}, ns);
    Sidekiq(*redis, {"--mode", "enqueue", "--queue", "mail", "--count", "40", "--batch", "0"}, ns);
    Sidekiq(*redis, {"--mode", "activejob", "--queue", "mailers", "--count", "20"}, ns);
    const std::string p = Prefix(ns);
    std::map<std::string, std::vector<std::string>> expected;
    for (const std::string queue : {"default", "mail", "mailers"}) {
      expected[queue] = OldestFirst(*redis, p + "queue:" + queue);
    }

    std::vector<std::string> args = {"--redis-url", redis->url(), NsqdFlag(*nsqd), "--batch",
                                     "64"};
    if (!ns.empty()) args.push_back("--namespace=" + ns);
    ToolRun run = RunTool(args);
    CHECK_MESSAGE(run.status.exit_code == 0, run.output);
    CHECK_MESSAGE(absl::StrContains(run.output, "format sidekiq"), run.output);
    CHECK_MESSAGE(absl::StrContains(run.output, "default -> default"), run.output);

    for (const auto& [queue, jobs] : expected) {
      CAPTURE(queue);
      REQUIRE(jobs.size() > 0);
      TopicReader reader(*nsqd, queue);
      CHECK(Bodies(reader.Read(jobs.size())) == jobs);
      CHECK(reader.NothingMore(std::chrono::milliseconds(200)));
      CHECK(redis->Integer({"LLEN", p + "queue:" + queue}) == 0);
    }
    // Nothing of the migrator's is left behind: every batch was acknowledged.
    CHECK(MigratorKeys(*redis).empty());
  }
}

TEST_CASE("nsq::jobs runs migrated Sidekiq and ActiveJob jobs as registered") {
  auto redis = StartRedis();
  auto nsqd = StartNsqd();
  std::vector<FixtureJob> plain =
      Sidekiq(*redis, {"--mode", "enqueue", "--queue", "work", "--count", "25"});
  std::vector<FixtureJob> wrapped =
      Sidekiq(*redis, {"--mode", "activejob", "--queue", "work", "--count", "5"});
  ToolRun run = RunTool({"--redis-url", redis->url(), NsqdFlag(*nsqd)});
  REQUIRE_MESSAGE(run.status.exit_code == 0, run.output);

  std::mutex mu;
  std::set<std::string> ran;
  std::vector<std::string> args;
  jobs::WorkerOptions options;
  options.nsqd_tcp_addresses = {"127.0.0.1:" + std::to_string(nsqd->tcp_port())};
  jobs::Worker worker("work", options);
  worker.Register("MigrationTestWorker", [&](const jobs::Job& job) {
    std::lock_guard<std::mutex> lock(mu);
    ran.insert(job.jid);
    args.push_back(job.args_json);
    return absl::OkStatus();
  });
  worker.Register("ActiveJob::QueueAdapters::SidekiqAdapter::JobWrapper",
                  [&](const jobs::Job& job) {
                    std::lock_guard<std::mutex> lock(mu);
                    ran.insert(job.jid);
                    return absl::OkStatus();
                  });
  NSQ_REQUIRE_OK(worker.Start(4));
  REQUIRE(WaitFor(
      [&] {
        std::lock_guard<std::mutex> lock(mu);
        return ran.size() == plain.size() + wrapped.size();
      },
      std::chrono::seconds(20)));
  worker.Stop();
  for (const FixtureJob& job : plain) CHECK(ran.contains(job.jid));
  for (const FixtureJob& job : wrapped) CHECK(ran.contains(job.jid));
  // Sidekiq's args arrive as they were: ["job", i].
  CHECK(std::find(args.begin(), args.end(), R"(["job",7])") != args.end());
}

TEST_CASE("scheduled and retry sets: due jobs at once, later ones on time, far ones stay") {
  auto redis = StartRedis();
  auto nsqd = StartNsqd();
  // Due now: ActiveJob puts even a past wait into the schedule set.
  std::vector<FixtureJob> due =
      Sidekiq(*redis, {"--mode", "activejob", "--queue", "timed", "--count", "3", "--in", "-30"});
  std::vector<FixtureJob> soon =
      Sidekiq(*redis, {"--mode", "schedule", "--queue", "timed", "--count", "4", "--in", "3"});
  std::vector<FixtureJob> far =
      Sidekiq(*redis, {"--mode", "schedule", "--queue", "timed", "--count", "2", "--in", "3600"});
  // Real failures: retry entries 15-24 s ahead, beyond the 10 s max delay given below.
  std::vector<FixtureJob> failed =
      Sidekiq(*redis, {"--mode", "fail", "--queue", "flaky", "--count", "3"});
  const std::vector<std::string> far_members = redis->Strings({"ZRANGEBYSCORE", "schedule",
                                                               "(1e12", "+inf"});
  TopicReader reader(*nsqd, "timed");  // subscribed before, to see when each arrives

  ToolRun run = RunTool({"--redis-url", redis->url(), NsqdFlag(*nsqd), "--include-scheduled",
                         "--include-retry", "--max-req-timeout=10s"});
  // Entries beyond the 10 s that nsqd can defer stay in Redis: a partial run.
  CHECK_MESSAGE(run.status.exit_code == 3, run.output);
  CHECK(redis->Integer({"ZCARD", "schedule"}) == 2);
  CHECK(redis->Integer({"ZCARD", "retry"}) == 3);
  CHECK_MESSAGE(absl::StrContains(run.output, "5 left in Redis"), run.output);

  std::vector<Received> received = reader.Read(due.size() + soon.size());
  std::map<std::string, double> arrived;
  for (const Received& r : received) {
    arrived[redis_to_nsq::InspectJob(r.message.body.view()).jid] = r.arrived;
  }
  for (const FixtureJob& job : due) CHECK(arrived.contains(job.jid));
  for (const FixtureJob& job : soon) {
    CAPTURE(job.jid);
    REQUIRE(arrived.contains(job.jid));
    REQUIRE(job.at.has_value());
    // Not before its time (a little slack for clock reading), and not much after.
    CHECK(arrived[job.jid] >= *job.at - 0.05);
    CHECK(arrived[job.jid] <= *job.at + 5);
  }
  CHECK(reader.NothingMore(std::chrono::milliseconds(300)));
  CHECK(MigratorKeys(*redis, "*nsqmig:proc*").empty());
}

TEST_CASE("the retry set moves once due, keeping each job's retry history; dead jobs go to .dead") {
  auto redis = StartRedis();
  auto nsqd = StartNsqd();
  std::vector<FixtureJob> failed =
      Sidekiq(*redis, {"--mode", "fail", "--queue", "flaky", "--count", "3"});
  std::vector<FixtureJob> dead =
      Sidekiq(*redis, {"--mode", "dead", "--queue", "doomed", "--count", "2"});
  const std::vector<std::string> retry_members = redis->Strings({"ZRANGE", "retry", "0", "-1"});
  const std::vector<std::string> dead_members = redis->Strings({"ZRANGE", "dead", "0", "-1"});
  // Sidekiq schedules a first retry 15-24 s ahead; as if that time had mostly passed, they are
  // due in 2 s (the members, byte for byte, are Sidekiq's).
  const double soon = NowUnixNanos() / 1e9 + 2;
  for (const std::string& member : retry_members) {
    redis->Integer({"ZADD", "retry", "XX", "CH", std::to_string(soon), member});
  }
  TopicReader flaky(*nsqd, "flaky");
  TopicReader morgue(*nsqd, "doomed.dead");
  ToolRun run = RunTool({"--redis-url", redis->url(), NsqdFlag(*nsqd), "--include-retry",
                         "--include-dead"});
  CHECK_MESSAGE(run.status.exit_code == 0, run.output);
  CHECK_MESSAGE(absl::StrContains(run.output, "dead jobs: doomed.dead"), run.output);
  // They arrive when due, deferred by nsqd (DPUB).
  std::vector<Received> arrivals = flaky.Read(retry_members.size());
  for (const Received& r : arrivals) CHECK(r.arrived >= soon - 0.05);
  std::vector<std::string> retried = Bodies(arrivals);
  std::sort(retried.begin(), retried.end());
  std::vector<std::string> want = retry_members;
  std::sort(want.begin(), want.end());
  CHECK(retried == want);
  for (const std::string& body : retried) CHECK(absl::StrContains(body, "\"retry_count\":0"));
  std::vector<std::string> buried = Bodies(morgue.Read(dead_members.size()));
  std::sort(buried.begin(), buried.end());
  std::vector<std::string> want_dead = dead_members;
  std::sort(want_dead.begin(), want_dead.end());
  CHECK(buried == want_dead);
}

}  // namespace
}  // namespace nsq::testutil
