// redis_to_nsq against go-workers' layout (fixtures written as go-workers writes, per
// ../shared/REDIS-QUEUES.md A2): its queues, its goretry set (with the namespace inside each
// member's "queue"), its schedule, and the in-progress lists of stopped workers.
#include <doctest/doctest.h>

#include <algorithm>
#include <set>

#include "absl/strings/match.h"
#include "nsq/jobs.h"
#include "tests/integration/integration_util.h"
#include "tests/integration/redis_to_nsq/tool_util.h"
#include "tests/testutil/go_workers_fixture.h"
#include "tests/testutil/wait_for.h"

namespace nsq::testutil {
namespace {

std::vector<std::string> Sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

TEST_CASE("go-workers queues, retries, schedule and adopted in-progress lists all arrive") {
  auto redis = StartRedis();
  auto nsqd = StartNsqd();
  const std::string ns = "prod";
  auto queued = EnqueueGoWorkers(*redis, ns, "gw", "SendMail", R"([1,"a"])", 40, {.retry = true});
  NSQ_REQUIRE_OK(queued);
  auto taken = InProgressGoWorkers(*redis, ns, "gw", "worker-1", 5);
  NSQ_REQUIRE_OK(taken);
  const double now = GoWorkersNow();
  auto retries = RetryGoWorkers(*redis, ns, "gw", "SendMail", R"([2])", 4, now - 1);
  NSQ_REQUIRE_OK(retries);
  auto later = ScheduleGoWorkers(*redis, ns, "gw", "SendMail", R"([3])", 3, now + 2);
  NSQ_REQUIRE_OK(later);
  const std::vector<std::string> queue_order = OldestFirst(*redis, "prod:queue:gw");
  const std::vector<std::string> in_progress =
      OldestFirst(*redis, "prod:queue:gw:worker-1:inprogress");
  TopicReader reader(*nsqd, "gw");

  ToolRun run = RunTool({"--redis-url", redis->url(), NsqdFlag(*nsqd), "--namespace=prod",
                         "--include-scheduled", "--include-retry", "--adopt-in-progress"});
  CHECK_MESSAGE(run.status.exit_code == 0, run.output);
  CHECK_MESSAGE(absl::StrContains(run.output, "format go-workers (found prod:goretry"),
                run.output);

  const size_t total = queued->size() + taken->size() + retries->size() + later->size();
  std::vector<std::string> bodies = Bodies(reader.Read(total));
  CHECK(reader.NothingMore(std::chrono::milliseconds(300)));
  // Per queue, the in-progress jobs were taken first, so they come first; then the queue, in
  // the order go-workers' fetchers would have taken it (the right end first). The sets are
  // drained by another thread at the same time, so their entries may come in between.
  std::vector<std::string> from_lists;
  std::vector<std::string> from_sets;
  const std::set<std::string> list_jobs = [&] {
    std::set<std::string> jobs(queue_order.begin(), queue_order.end());
    jobs.insert(in_progress.begin(), in_progress.end());
    return jobs;
  }();
  for (const std::string& body : bodies) {
    (list_jobs.contains(body) ? from_lists : from_sets).push_back(body);
  }
  std::vector<std::string> list_order = in_progress;
  list_order.insert(list_order.end(), queue_order.begin(), queue_order.end());
  CHECK(from_lists == list_order);
  std::vector<std::string> set_jobs = *retries;
  set_jobs.insert(set_jobs.end(), later->begin(), later->end());
  CHECK(Sorted(from_sets) == Sorted(set_jobs));
  CHECK(redis->Strings({"KEYS", "prod:queue:*"}).empty());
  CHECK(redis->Integer({"ZCARD", "prod:goretry"}) == 0);
  CHECK(redis->Integer({"ZCARD", "prod:schedule"}) == 0);
  CHECK(MigratorKeys(*redis).empty());
}

TEST_CASE("in-progress lists stay unless adopted, and the summary says why") {
  auto redis = StartRedis();
  auto nsqd = StartNsqd();
  NSQ_REQUIRE_OK(EnqueueGoWorkers(*redis, "", "gw", "Job", "[]", 3));
  NSQ_REQUIRE_OK(InProgressGoWorkers(*redis, "", "gw", "host-9", 2));
  ToolRun run = RunTool({"--redis-url", redis->url(), NsqdFlag(*nsqd), "--format=go-workers"});
  CHECK_MESSAGE(run.status.exit_code == 0, run.output);
  CHECK(redis->Integer({"LLEN", "queue:gw:host-9:inprogress"}) == 2);
  CHECK_MESSAGE(absl::StrContains(run.output, "not moved: queue:gw:host-9:inprogress (2)"),
                run.output);
  CHECK_MESSAGE(absl::StrContains(run.output, "--adopt-in-progress"), run.output);
  TopicReader reader(*nsqd, "gw");
  reader.Read(3);
}

TEST_CASE("nsq::jobs runs migrated go-workers jobs; one without retry is not retried") {
  auto redis = StartRedis();
  auto nsqd = StartNsqd();
  auto queued = EnqueueGoWorkers(*redis, "", "gwjobs", "Resize", R"([640,480])", 10);
  NSQ_REQUIRE_OK(queued);
  ToolRun run = RunTool({"--redis-url", redis->url(), NsqdFlag(*nsqd)});
  REQUIRE_MESSAGE(run.status.exit_code == 0, run.output);
  std::atomic<int> ran{0};
  jobs::WorkerOptions options;
  options.nsqd_tcp_addresses = {"127.0.0.1:" + std::to_string(nsqd->tcp_port())};
  jobs::Worker worker("gwjobs", options);
  worker.Register("Resize", [&](const jobs::Job& job) {
    CHECK(job.args_json == "[640,480]");
    ++ran;
    return absl::OkStatus();
  });
  NSQ_REQUIRE_OK(worker.Start(2));
  CHECK(WaitFor([&] { return ran.load() == 10; }, std::chrono::seconds(15)));
}

}  // namespace
}  // namespace nsq::testutil
