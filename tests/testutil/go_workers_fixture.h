// go-workers (github.com/jrallison/go-workers) state in a TestRedis, written byte for byte as
// that library writes it. go-workers is Go and not packaged in Debian, so unlike the Sidekiq
// fixture these functions re-create its writes from its source (summarised in
// /work/shared/REDIS-QUEUES.md, section A2):
//
//   NS = namespace + ":" (empty without a namespace)
//   NSqueues                         set     queue names, SADD by Enqueue*
//   NSqueue:NAME                     list    RPUSH by Enqueue (fetchers BRPOPLPUSH the right end)
//   NSschedule                       zset    EnqueueIn/EnqueueAt: score = at, member keeps "at"
//   NSgoretry                        zset    the retry middleware: score = retry time
//   NSqueue:NAME:<process>:inprogress list   BRPOPLPUSH destination of the fetcher
//
//   auto bodies = EnqueueGoWorkers(*redis, "prod", "emails", "SendEmail", R"(["a",1])", 3);
//   REQUIRE(bodies.ok());   // the 3 payloads, in the order a go-workers fetcher takes them
//
// Each function returns the payloads it wrote, exact bytes, in the order go-workers itself would
// consume them, so a test can check that NSQ received byte-identical bodies:
// - a queue list: go-workers RPUSHes and its fetcher BRPOPLPUSHes from the right as well, so
//   under backlog it is LIFO: the last job written comes out first (go-workers issue #102);
// - an in-progress list: a restarted fetcher re-delivers it with LRANGE 0 -1, head first, i.e.
//   the job LPUSHed last first (the fetcher LPUSHes as it takes jobs);
// - schedule/goretry: the poller takes the lowest score first (ZRANGEBYSCORE ... LIMIT 0 1);
//   Redis orders equal scores by member bytes.
//
// Payloads are Go's encoding/json output: an enqueued job has the fields of go-workers'
// EnqueueData struct in declaration order, `queue,class,args,jid,enqueued_at[,retry],at`;
// floats are Go's shortest round-trip rendering (1796410392.3394227), timestamps are
// float64(UnixNano)/1e9 and always have a fraction here. A goretry member is a re-encoded map
// (simplejson), so its keys are sorted. `args_json` is embedded as given: pass it as Go
// would marshal it (compact, object keys sorted, <, > and & as \u003c \u003e \u0026), or a
// retry member would not be what go-workers writes. It must be valid JSON.
//
// Each function writes only what its comment says: a job that really went through go-workers'
// Enqueue also left NAME in NSqueues (EnqueueGoWorkers does that SADD; the others do not).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "tests/testutil/test_redis.h"

namespace nsq::testutil {

struct GoWorkersOptions {
  int db = 0;
  // EnqueueOptions.Retry: "retry":true in the payload; omitted when false (Go's omitempty), in
  // which case go-workers drops a failing job instead of retrying it. Enqueue, Schedule and
  // InProgress only: RetryGoWorkers members always have "retry":true.
  bool retry = false;
  // RetryGoWorkers: the panic value go-workers stores as "error_message".
  std::string error_message = "intentional fixture failure";
  // RetryGoWorkers: "retry_count" of the members. 0 = failed once (the member has "failed_at");
  // N > 0 = failed N+1 times (it also has "retried_at").
  int retry_count = 0;
  // InProgressGoWorkers, which takes no class and args of its own.
  std::string job_class = "GoWorkersTestJob";
  std::string args_json = "[]";
};

// go-workers' Enqueue: `count` jobs RPUSHed to NSqueue:<queue>, and <queue> SADDed to NSqueues.
// Each payload has "at" = its enqueue time, as Enqueue writes for immediate jobs.
absl::StatusOr<std::vector<std::string>> EnqueueGoWorkers(TestRedis& redis, std::string_view ns,
                                                          std::string_view queue,
                                                          std::string_view job_class,
                                                          std::string_view args_json, int count,
                                                          const GoWorkersOptions& options = {});

// go-workers' EnqueueAt(at): `count` jobs ZADDed to NSschedule with score `at` (epoch seconds)
// and the same "at" in the member. go-workers only does this when `at` is in the future (it
// pushes to the queue otherwise); a due or past `at` here stands for a job that fell due while
// no poller ran.
absl::StatusOr<std::vector<std::string>> ScheduleGoWorkers(
    TestRedis& redis, std::string_view ns, std::string_view queue, std::string_view job_class,
    std::string_view args_json, int count, double at, const GoWorkersOptions& options = {});

// Jobs (enqueued with retry: true) that panicked in a worker: `count` members ZADDed to
// NSgoretry with score `retry_at`, as the retry middleware writes them: sorted keys, "queue" =
// the manager's queue name NS+<queue> (e.g. "prod:myqueue"), "error_message", "failed_at" as a
// "2006-01-02 15:04:05 UTC" string, "retry_count", "retry":true. go-workers' own score would be
// now + 15..44 s for a first failure.
absl::StatusOr<std::vector<std::string>> RetryGoWorkers(
    TestRedis& redis, std::string_view ns, std::string_view queue, std::string_view job_class,
    std::string_view args_json, int count, double retry_at, const GoWorkersOptions& options = {});

// Jobs a fetcher with process id `process_id` took and had not acknowledged when it stopped:
// `count` enqueue-format payloads (options.job_class/args_json) LPUSHed to
// NSqueue:<queue>:<process_id>:inprogress. Only a go-workers started again with the same
// process id ever recovers them.
absl::StatusOr<std::vector<std::string>> InProgressGoWorkers(TestRedis& redis, std::string_view ns,
                                                             std::string_view queue,
                                                             std::string_view process_id, int count,
                                                             const GoWorkersOptions& options = {});

// The building blocks, for tests that assemble payloads of their own.
//
// float64(time.Now().UnixNano()) / 1e9, nudged by a microsecond if that has no fraction.
double GoWorkersNow();
// A float64 as Go's encoding/json writes it: shortest round-trip digits, no exponent in the
// range of timestamps.
std::string GoJsonFloat(double value);
// A string as Go's encoding/json writes it (quotes included): \" \\ \n \r \t, other control
// characters and <, >, &, U+2028, U+2029 as \u00XX / \u2028, invalid UTF-8 as \ufffd.
std::string GoJsonString(std::string_view text);

}  // namespace nsq::testutil
