// redis_to_nsq when things go wrong or the operator is watching: kill -9 of the tool over and
// over, nsqd dying mid-run, producers still pushing (--follow), --dry-run, bad payloads and bad
// flags, unreachable servers, and the progress display on and off a terminal.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <random>
#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "tests/integration/integration_util.h"
#include "tests/integration/redis_to_nsq/tool_util.h"
#include "tests/testutil/listening_socket.h"
#include "tests/testutil/sidekiq_fixture.h"
#include "tests/testutil/test_lookupd.h"
#include "tests/testutil/wait_for.h"
#include "tools/redis_to_nsq/job_payload.h"

namespace nsq::testutil {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

void Enqueue(TestRedis& redis, const std::string& queue, int count) {
  NSQ_REQUIRE_OK(RunSidekiqFixture({"--redis-url", redis.url(), "--mode", "enqueue", "--queue",
                                    queue, "--count", std::to_string(count), "--quiet"}));
}

// A loopback port nothing listens on now.
uint16_t FreePort() {
  auto probe = std::make_unique<ListeningSocket>();
  return probe->port();  // released when `probe` goes
}

// What arrived in `topic` against what was in Redis: REQUIREs that every job arrived (all
// that nsqd holds are read, duplicates included) and returns the number of duplicates.
int64_t DuplicatesAfterAllArrived(const TestNsqd& nsqd, const std::string& topic,
                                  const std::vector<std::string>& jobs) {
  const int64_t published = TopicStat(nsqd, topic, "depth");
  TopicReader reader(nsqd, topic);
  std::vector<std::string> bodies = Bodies(reader.Read(static_cast<size_t>(published), seconds(60)));
  std::multiset<std::string> arrived(bodies.begin(), bodies.end());
  int64_t lost = 0;
  for (const std::string& job : jobs) lost += arrived.contains(job) ? 0 : 1;
  REQUIRE_MESSAGE(lost == 0, lost, " of ", jobs.size(), " jobs never arrived");
  return published - static_cast<int64_t>(jobs.size());
}

TEST_CASE("kill -9 of the tool at random moments loses nothing; duplicates stay within a batch "
          "per crash") {
  auto redis = StartRedis();
  auto nsqd = StartNsqd({"--mem-queue-size=0", "--sync-every=1"});
  constexpr int kJobs = 100000;
  constexpr int kBatch = 500;
  constexpr int kCrashes = 20;
  Enqueue(*redis, "crashy", kJobs);
  const std::vector<std::string> jobs = OldestFirst(*redis, "queue:crashy");
  REQUIRE(jobs.size() == kJobs);

  // Slowed to 20k jobs/s so that 20 kills land before the queue is empty; a kill then often
  // finds a batch claimed and waiting for its turn.
  const std::vector<std::string> args = {"--redis-url", redis->url(), NsqdFlag(*nsqd), "--batch",
                                         std::to_string(kBatch), "--id", "crashy", "--rate",
                                         "20000"};
  std::mt19937 random(20261204);
  int crashes = 0;
  for (; crashes < kCrashes; ++crashes) {
    if (redis->Integer({"LLEN", "queue:crashy"}) == 0) break;
    std::unique_ptr<Process> tool = StartTool(args);
    // Somewhere between "still starting" and "in the middle of a batch".
    std::this_thread::sleep_for(milliseconds(std::uniform_int_distribution<int>(20, 250)(random)));
    tool->Kill();
  }
  ToolRun last = RunTool(args);
  CHECK_MESSAGE(last.status.exit_code == 0, last.output);
  CHECK(redis->Integer({"LLEN", "queue:crashy"}) == 0);
  CHECK(MigratorKeys(*redis, "*nsqmig:proc*").empty());

  const int64_t duplicates = DuplicatesAfterAllArrived(*nsqd, "crashy", jobs);
  MESSAGE(crashes, " crashes, ", kJobs, " jobs, 0 lost, ", duplicates, " duplicates");
  CHECK(crashes == kCrashes);
  CHECK(duplicates <= static_cast<int64_t>(crashes) * kBatch);
}

TEST_CASE("nsqd killed and restarted mid-run: the tool waits, resumes, and loses nothing") {
  auto redis = StartRedis();
  const std::string port = std::to_string(FreePort());
  auto nsqd = StartNsqd({"--mem-queue-size=0", "--sync-every=1",
                         "--tcp-address=127.0.0.1:" + port});
  constexpr int kJobs = 20000;
  Enqueue(*redis, "steady", kJobs);
  const std::vector<std::string> jobs = OldestFirst(*redis, "queue:steady");
  // Slowed down, so that nsqd dies in the middle.
  std::unique_ptr<Process> tool =
      StartTool({"--redis-url", redis->url(), "--nsqd-tcp-address=127.0.0.1:" + port, "--rate",
                 "5000", "--batch", "200"});
  REQUIRE(WaitFor([&] { return TopicStat(*nsqd, "steady", "message_count") > 2000; }, seconds(20)));
  nsqd->Kill9();
  REQUIRE(tool->WaitForOutput("retrying until it works", seconds(20)).has_value());
  NSQ_REQUIRE_OK(nsqd->Restart());
  REQUIRE(tool->WaitForOutput("works again", seconds(20)).has_value());
  std::optional<ExitStatus> status = tool->Wait(seconds(60));
  REQUIRE(status.has_value());
  CHECK_MESSAGE(status->exit_code == 0, tool->Tail(20));

  DuplicatesAfterAllArrived(*nsqd, "steady", jobs);
}

TEST_CASE("--follow moves what producers keep pushing, and SIGTERM exits 0 with Redis empty") {
  auto redis = StartRedis();
  auto nsqd = StartNsqd();
  TopicReader reader(*nsqd, "live");
  std::unique_ptr<Process> tool =
      StartTool({"--redis-url", redis->url(), NsqdFlag(*nsqd), "--follow", "--queues=live"});
  REQUIRE(tool->WaitForOutput("topic map", seconds(10)).has_value());
  auto producer = SidekiqFixtureProcess::Start({"--redis-url", redis->url(), "--mode",
                                                "push-loop", "--queue", "live", "--seconds", "3",
                                                "--rate", "300"});
  NSQ_REQUIRE_OK(producer);
  absl::StatusOr<FixtureResult> pushed = (*producer)->Wait(seconds(30));
  NSQ_REQUIRE_OK(pushed);
  REQUIRE(pushed->count > 100);
  // Everything pushed arrives while the tool keeps running.
  std::vector<std::string> bodies = Bodies(reader.Read(static_cast<size_t>(pushed->count)));
  CHECK(redis->Integer({"LLEN", "queue:live"}) == 0);
  REQUIRE(tool->Running());
  REQUIRE(tool->Signal(SIGTERM));
  std::optional<ExitStatus> status = tool->Wait(seconds(10));
  REQUIRE(status.has_value());
  CHECK_MESSAGE(status->exit_code == 0, tool->Tail(20));
  std::set<std::string> jids;
  for (const std::string& body : bodies) jids.insert(redis_to_nsq::InspectJob(body).jid);
  CHECK(jids.size() == static_cast<size_t>(pushed->count));
}

TEST_CASE("--dry-run reports and leaves every Redis key byte-identical") {
  auto redis = StartRedis();
  Enqueue(*redis, "default", 50);
  NSQ_REQUIRE_OK(RunSidekiqFixture({"--redis-url", redis->url(), "--mode", "schedule", "--queue",
                                    "default", "--count", "5", "--in", "600"}));
  NSQ_REQUIRE_OK(RunSidekiqFixture({"--redis-url", redis->url(), "--mode", "fail", "--queue",
                                    "flaky", "--count", "2"}));
  redis->Integer({"RPUSH", "queue:default", std::string(2 << 20, 'x')});  // too big: reported
  absl::StatusOr<RedisSnapshot> before = redis->Snapshot();
  NSQ_REQUIRE_OK(before);
  ToolRun run = RunTool({"--redis-url", redis->url(), "--dry-run", "--include-scheduled",
                         "--horizon=5m"});
  CHECK_MESSAGE(run.status.exit_code == 0, run.output);
  absl::StatusOr<RedisSnapshot> after = redis->Snapshot();
  NSQ_REQUIRE_OK(after);
  CHECK_MESSAGE(*before == *after, DescribeSnapshotDiff(*before, *after));
  for (const char* expected :
       {"queue:default (queue): 51 jobs -> topic default", "sample: {", "would quarantine 1",
        "schedule (scheduled): 5 entries", "0 due within the horizon (5m), 5 later stay in Redis",
        "retry (retry): 2 entries; skipped: not selected (--include-retry)", "default -> default"}) {
    CHECK_MESSAGE(absl::StrContains(run.output, expected), expected, "\n", run.output);
  }
}

TEST_CASE("payloads: non-JSON and binary are forwarded as they are, --strict and oversized ones "
          "are quarantined") {
  auto redis = StartRedis();
  auto nsqd = StartNsqd();
  std::string binary;
  for (int i = 0; i < 256; ++i) binary.push_back(static_cast<char>(i));
  const std::string big(2 << 20, 'b');  // over nsqd's 1 MiB --max-msg-size
  for (const std::string& job : {std::string("not json at all"), binary, big,
                                 std::string(R"({"class":"W","args":[],"queue":"odd"})")}) {
    redis->Integer({"LPUSH", "queue:odd", job});
  }
  redis->Integer({"SADD", "queues", "odd"});
  ToolRun run = RunTool({"--redis-url", redis->url(), NsqdFlag(*nsqd)});
  CHECK_MESSAGE(run.status.exit_code == 3, run.output);  // one was quarantined
  CHECK_MESSAGE(absl::StrContains(run.output, "over nsqd's --max-msg-size"), run.output);
  TopicReader reader(*nsqd, "odd");
  CHECK(Bodies(reader.Read(3)) ==
        std::vector<std::string>{"not json at all", binary,
                                 R"({"class":"W","args":[],"queue":"odd"})"});
  CHECK(redis->Strings({"LRANGE", "nsqmig:quarantine:queue:odd", "0", "-1"}) ==
        std::vector<std::string>{big});

  redis->Integer({"LPUSH", "queue:odd", "still not json", R"({"ok":1})"});
  ToolRun strict = RunTool({"--redis-url", redis->url(), NsqdFlag(*nsqd), "--strict"});
  CHECK_MESSAGE(strict.status.exit_code == 3, strict.output);
  CHECK(redis->Integer({"LLEN", "nsqmig:quarantine:queue:odd"}) == 2);
  CHECK(Bodies(reader.Read(1)) == std::vector<std::string>{R"({"ok":1})"});
}

TEST_CASE("bad setups fail at once with one line that names the problem") {
  auto nsqd = StartNsqd();
  const std::string nowhere = std::to_string(FreePort());
  ToolRun no_redis = RunTool({"--redis-url=redis://127.0.0.1:" + nowhere + "/0", NsqdFlag(*nsqd)});
  CHECK(no_redis.status.exit_code == 1);
  CHECK_MESSAGE(absl::StrContains(no_redis.output, "cannot connect to Redis at redis://127.0.0.1:" +
                                                       nowhere + "/0"),
                no_redis.output);

  auto locked = StartRedis({"--requirepass", "right"});
  ToolRun wrong = RunTool({"--redis-url=redis://:wrong@127.0.0.1:" +
                               std::to_string(locked->port()) + "/0",
                           NsqdFlag(*nsqd)});
  CHECK(wrong.status.exit_code == 1);
  CHECK_MESSAGE(absl::StrContains(wrong.output, "refused the credentials"), wrong.output);
  ToolRun none = RunTool({"--redis-url=redis://127.0.0.1:" + std::to_string(locked->port()) + "/0",
                          NsqdFlag(*nsqd)});
  CHECK(none.status.exit_code == 1);
  CHECK_MESSAGE(absl::StrContains(none.output, "needs a password"), none.output);

  auto redis = StartRedis();
  ToolRun no_nsqd =
      RunTool({"--redis-url", redis->url(), "--nsqd-tcp-address=127.0.0.1:" + nowhere});
  CHECK(no_nsqd.status.exit_code == 1);
  CHECK_MESSAGE(absl::StrContains(no_nsqd.output, "cannot connect to nsqd at 127.0.0.1:" + nowhere),
                no_nsqd.output);

  ToolRun format = RunTool({"--redis-url", redis->url(), NsqdFlag(*nsqd), "--format=resque"});
  CHECK(format.status.exit_code == 2);
  CHECK_MESSAGE(absl::StrContains(format.output, "--format"), format.output);

  Enqueue(*redis, "a b", 1);
  Enqueue(*redis, "a_b", 1);
  ToolRun clash = RunTool({"--redis-url", redis->url(), NsqdFlag(*nsqd)});
  CHECK(clash.status.exit_code == 2);
  CHECK_MESSAGE(absl::StrContains(clash.output, "--merge"), clash.output);
  CHECK(redis->Integer({"LLEN", "queue:a b"}) == 1);  // nothing moved
  ToolRun merged = RunTool({"--redis-url", redis->url(), NsqdFlag(*nsqd), "--merge"});
  CHECK_MESSAGE(merged.status.exit_code == 0, merged.output);
  CHECK(TopicStat(*nsqd, "a_b", "depth") == 2);
}

TEST_CASE("Redis restarting mid-run: the tool waits, resumes, and loses nothing") {
  // An append-only file that is synced at every write keeps the data through a kill -9.
  auto redis = StartRedis({"--appendonly", "yes", "--appendfsync", "always"});
  auto nsqd = StartNsqd({"--mem-queue-size=0", "--sync-every=1"});
  constexpr int kJobs = 10000;
  Enqueue(*redis, "kept", kJobs);
  const std::vector<std::string> jobs = OldestFirst(*redis, "queue:kept");
  std::unique_ptr<Process> tool = StartTool(
      {"--redis-url", redis->url(), NsqdFlag(*nsqd), "--rate", "4000", "--batch", "100"});
  REQUIRE(WaitFor([&] { return TopicStat(*nsqd, "kept", "message_count") > 1000; }, seconds(20)));
  redis->Kill9();
  REQUIRE(tool->WaitForOutput("retrying until it works", seconds(20)).has_value());
  NSQ_REQUIRE_OK(redis->Restart());
  std::optional<ExitStatus> status = tool->Wait(seconds(60));
  REQUIRE(status.has_value());
  CHECK_MESSAGE(status->exit_code == 0, tool->Tail(20));
  CHECK(tool->WaitForOutput("works again", seconds(1)).has_value());
  DuplicatesAfterAllArrived(*nsqd, "kept", jobs);
}

TEST_CASE("a Redis without LMOVE gets RPOPLPUSH; one without Lua is refused; unix:// works") {
  // rename-command removes a command as an old server would lack it.
  auto old = StartRedis({"--rename-command", "LMOVE", "LMOVE_hidden", "--rename-command",
                         "BLMOVE", "BLMOVE_hidden"});
  auto nsqd = StartNsqd();
  Enqueue(*old, "oldie", 50);
  const std::vector<std::string> jobs = OldestFirst(*old, "queue:oldie");
  ToolRun run = RunTool({"--redis-url=unix://" + old->unix_socket(), NsqdFlag(*nsqd)});
  CHECK_MESSAGE(run.status.exit_code == 0, run.output);
  CHECK_MESSAGE(absl::StrContains(run.output, "moving jobs with RPOPLPUSH/BRPOPLPUSH"),
                run.output);
  TopicReader reader(*nsqd, "oldie");
  CHECK(Bodies(reader.Read(jobs.size())) == jobs);

  auto no_lua = StartRedis({"--rename-command", "EVALSHA", "EVALSHA_hidden"});
  Enqueue(*no_lua, "stuck", 3);
  ToolRun refused = RunTool({"--redis-url", no_lua->url(), NsqdFlag(*nsqd)});
  CHECK(refused.status.exit_code == 1);
  CHECK_MESSAGE(absl::StrContains(refused.output, "has no Lua scripting"), refused.output);
  CHECK(no_lua->Integer({"LLEN", "queue:stuck"}) == 3);
}

TEST_CASE("--lookupd-http-address publishes to an nsqd that lookupd knows") {
  auto lookupd = TestLookupd::Start();
  NSQ_REQUIRE_OK(lookupd);
  auto nsqd = StartNsqd({"--lookupd-tcp-address=" + (*lookupd)->tcp_address(),
                         "--broadcast-address=127.0.0.1"});
  REQUIRE(WaitFor(
      [&] {
        auto nodes = HttpGet((*lookupd)->http_port(), "/nodes");
        return nodes.ok() && absl::StrContains(nodes->body, "\"tcp_port\"");
      },
      seconds(10)));
  auto redis = StartRedis();
  Enqueue(*redis, "found", 10);
  ToolRun run = RunTool({"--redis-url", redis->url(),
                         "--lookupd-http-address=127.0.0.1:" +
                             std::to_string((*lookupd)->http_port())});
  CHECK_MESSAGE(run.status.exit_code == 0, run.output);
  CHECK(TopicStat(*nsqd, "found", "depth") == 10);
}

// Runs the tool on a pseudo-terminal; returns everything it wrote there.
std::string RunOnTerminal(std::vector<std::string> args) {
  int master = -1;
  winsize size{40, 200, 0, 0};
  pid_t pid = forkpty(&master, nullptr, nullptr, &size);
  REQUIRE(pid >= 0);
  if (pid == 0) {
    std::vector<char*> argv;
    std::string path = ToolPath();
    argv.push_back(path.data());
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    execv(path.c_str(), argv.data());
    _exit(127);
  }
  std::string output;
  char buffer[4096];
  for (;;) {
    pollfd p{master, POLLIN, 0};
    if (poll(&p, 1, 60000) <= 0) break;
    ssize_t n = read(master, buffer, sizeof(buffer));
    if (n <= 0) break;  // EIO once the child is gone
    output.append(buffer, static_cast<size_t>(n));
  }
  close(master);
  int status = 0;
  waitpid(pid, &status, 0);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  return output;
}

TEST_CASE("on a terminal the progress lines are redrawn in place; elsewhere they are log lines") {
  auto redis = StartRedis();
  auto nsqd = StartNsqd();
  Enqueue(*redis, "shown", 1500);
  // 1500 jobs at 1000/s: a second and a half of redraws.
  std::string screen = RunOnTerminal({"--redis-url", redis->url(), NsqdFlag(*nsqd), "--rate",
                                      "1000", "--batch", "100"});
  CHECK_MESSAGE(absl::StrContains(screen, "\x1b[1A"), screen);  // back up over the block
  CHECK_MESSAGE(absl::StrContains(screen, "\x1b[2K"), screen);  // and clear each line
  CHECK_MESSAGE(absl::StrContains(screen, "queue:shown"), screen);
  CHECK_MESSAGE(absl::StrContains(screen, "-> shown"), screen);
  CHECK_MESSAGE(absl::StrContains(screen, "remaining"), screen);
  CHECK_MESSAGE(absl::StrContains(screen, "ETA done"), screen);
  CHECK_MESSAGE(absl::StrContains(screen, "moved 1500 jobs"), screen);

  Enqueue(*redis, "logged", 3000);
  // Not a terminal: a log line every 5 s, so this run lasts 6 s.
  ToolRun logged = RunTool({"--redis-url", redis->url(), NsqdFlag(*nsqd), "--rate", "500",
                            "--batch", "100", "--queues=logged"});
  CHECK(logged.status.exit_code == 0);
  CHECK_MESSAGE(absl::StrContains(logged.output, "INFO: progress: queue:logged"), logged.output);
  CHECK_FALSE(absl::StrContains(logged.output, "\x1b["));
}

}  // namespace
}  // namespace nsq::testutil
