// The Redis side of the redis_to_nsq test harness (tests/testutil): TestRedis, the Sidekiq
// fixture and the go-workers writers. A harness bug must show up here, not as a mysterious
// migration failure.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <regex>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "tests/integration/integration_util.h"
#include "tests/testutil/go_workers_fixture.h"
#include "tests/testutil/raw_conn.h"
#include "tests/testutil/sidekiq_fixture.h"
#include "tests/testutil/test_redis.h"
#include "tests/testutil/wait_for.h"

namespace nsq::testutil {
namespace {

std::unique_ptr<TestRedis> StartRedis(std::vector<std::string> args = {}) {
  absl::StatusOr<std::unique_ptr<TestRedis>> redis = TestRedis::Start(std::move(args));
  NSQ_REQUIRE_OK(redis);
  return std::move(*redis);
}

RedisValue MustCommand(TestRedis& redis, const std::vector<std::string>& argv, int db = 0) {
  absl::StatusOr<RedisValue> reply = redis.Command(argv, db);
  NSQ_REQUIRE_OK(reply);
  return *reply;
}

RedisSnapshot MustSnapshot(TestRedis& redis, int db = 0) {
  absl::StatusOr<RedisSnapshot> snapshot = redis.Snapshot(db);
  NSQ_REQUIRE_OK(snapshot);
  return *snapshot;
}

// The top-level keys of a JSON object, in the order they appear in the text.
std::vector<std::string> KeysInOrder(const std::string& json) {
  // boost::json::object keeps insertion order, which is the order of the text.
  boost::json::value value = boost::json::parse(json);
  std::vector<std::string> keys;
  for (const auto& entry : value.as_object()) keys.emplace_back(entry.key());
  return keys;
}

bool IsJid(const std::string& text) { return std::regex_match(text, std::regex("[0-9a-f]{24}")); }

TEST_CASE("TestRedis starts on a free port and a Unix socket in its temp dir") {
  auto redis = StartRedis();
  CHECK(redis->port() != 0);
  CHECK(redis->Running());
  CHECK(redis->url() == absl::StrCat("redis://127.0.0.1:", redis->port(), "/0"));
  CHECK(redis->url(3) == absl::StrCat("redis://127.0.0.1:", redis->port(), "/3"));
  CHECK(redis->unix_socket() == redis->dir() + "/redis.sock");
  struct stat st;
  REQUIRE(stat(redis->unix_socket().c_str(), &st) == 0);
  CHECK(S_ISSOCK(st.st_mode));
  CHECK((st.st_mode & 0777) == 0700);
  // Nothing is persisted: no save points, no AOF.
  CHECK(redis->Strings({"CONFIG", "GET", "save"}) == std::vector<std::string>{"save", ""});
  CHECK(redis->Strings({"CONFIG", "GET", "appendonly"}) ==
        std::vector<std::string>{"appendonly", "no"});
  CHECK(redis->Integer({"DBSIZE"}) == 0);

  // Two servers at once get different ports and directories.
  auto other = StartRedis();
  CHECK(other->port() != redis->port());
  CHECK(other->dir() != redis->dir());
}

TEST_CASE("Command is binary-safe and reports every reply type") {
  auto redis = StartRedis();
  const std::string key("bin\0key", 7);
  const std::string value("a\0b\r\n\xff\x00z", 8);
  CHECK(MustCommand(*redis, {"SET", key, value}).type == RedisValue::Type::kStatus);
  RedisValue got = MustCommand(*redis, {"GET", key});
  CHECK(got.type == RedisValue::Type::kString);
  CHECK(got.str == value);
  CHECK(got.str.size() == 8);
  CHECK(MustCommand(*redis, {"GET", "missing"}).is_nil());
  CHECK(MustCommand(*redis, {"STRLEN", key}).integer == 8);

  CHECK(redis->Integer({"RPUSH", "list", value, "", "plain"}) == 3);
  CHECK(redis->Strings({"LRANGE", "list", "0", "-1"}) ==
        std::vector<std::string>{value, "", "plain"});
  RedisValue array = MustCommand(*redis, {"LRANGE", "list", "0", "-1"});
  REQUIRE(array.type == RedisValue::Type::kArray);
  CHECK(array.elements.size() == 3);

  // A Redis error reply is a FailedPrecondition status carrying Redis's text (RedisClient's
  // convention); the connection stays usable.
  absl::StatusOr<RedisValue> error = redis->Command({"LPUSH", key, "x"});
  REQUIRE(!error.ok());
  CHECK(absl::IsFailedPrecondition(error.status()));
  CHECK(error.status().message().rfind("WRONGTYPE", 0) == 0);
  CHECK(MustCommand(*redis, {"PING"}).str == "PONG");
  CHECK(!redis->Command({}).ok());

  // ToString() renders replies for failure messages.
  CHECK(MustCommand(*redis, {"PING"}).ToString() == "+PONG");
  CHECK(MustCommand(*redis, {"GET", "missing"}).ToString() == "nil");
  CHECK(MustCommand(*redis, {"LRANGE", "list", "2", "2"}).ToString() == "[\"plain\"]");
  CHECK(MustCommand(*redis, {"STRLEN", key}).ToString() == absl::StrCat(value.size()));

  // The shorthands throw (a doctest failure of the running test) on the wrong reply type.
  CHECK_THROWS_AS(redis->Integer({"GET", key}), std::runtime_error);
  CHECK_THROWS_AS(redis->Strings({"LPUSH", key, "x"}), std::runtime_error);
  CHECK(redis->Strings({"GET", "missing"}).empty());

  // Databases are separate, and a test's own SELECT does not confuse the `db` argument.
  CHECK(redis->Integer({"RPUSH", "list", "in db 5"}, 5) == 1);
  CHECK(redis->Integer({"LLEN", "list"}) == 3);
  CHECK(MustCommand(*redis, {"SELECT", "5"}).type == RedisValue::Type::kStatus);
  CHECK(redis->Integer({"LLEN", "list"}, 0) == 3);
  CHECK(redis->Integer({"LLEN", "list"}, 5) == 1);

  // Pipelines answer in order.
  absl::StatusOr<std::vector<RedisValue>> replies =
      redis->Pipeline({{"INCR", "n"}, {"INCR", "n"}, {"GET", "n"}});
  NSQ_REQUIRE_OK(replies);
  REQUIRE(replies->size() == 3);
  CHECK((*replies)[1].integer == 2);
  CHECK((*replies)[2].str == "2");

  // An error reply fails the whole pipeline; the commands around it still ran.
  absl::StatusOr<std::vector<RedisValue>> failed =
      redis->Pipeline({{"INCR", "n"}, {"LPUSH", key, "x"}, {"INCR", "n"}});
  REQUIRE(!failed.ok());
  CHECK(absl::IsFailedPrecondition(failed.status()));
  CHECK(redis->Strings({"GET", "n"}) == std::vector<std::string>{"4"});

  // ... and when it held a SELECT, the `db` argument is still honoured afterwards.
  CHECK(!redis->Pipeline({{"SELECT", "5"}, {"GET", "list"}}).ok());
  CHECK(redis->Integer({"LLEN", "list"}, 0) == 3);
}

TEST_CASE("Snapshot is equal for an untouched db and names what changed") {
  auto redis = StartRedis();
  const std::string binary_key("k\0\xfe", 3);
  REQUIRE(redis->Integer({"RPUSH", "queue:default", "a", "b", "c"}) == 3);
  REQUIRE(redis->Integer({"SADD", "queues", "default", "mailers"}) == 2);
  REQUIRE(redis->Integer({"ZADD", "schedule", "1796413992.4853022", "job"}) == 1);
  REQUIRE(redis->Integer({"HSET", "h", "f", std::string("v\0", 2)}) == 1);
  REQUIRE(MustCommand(*redis, {"SET", binary_key, "x"}).type == RedisValue::Type::kStatus);
  REQUIRE(MustCommand(*redis, {"SET", "lock", "1", "PX", "600000"}).type ==
          RedisValue::Type::kStatus);
  REQUIRE(redis->Integer({"RPUSH", "other-db", "x"}, 1) == 1);

  RedisSnapshot before = MustSnapshot(*redis);
  CHECK(before.size() == 6);  // db 1 is not part of db 0's snapshot
  CHECK(before.count(binary_key) == 1);
  CHECK(before["queue:default"].rfind("list persistent ", 0) == 0);
  CHECK(before["lock"].rfind("string expiring ", 0) == 0);
  CHECK(before["schedule"].rfind("zset persistent ", 0) == 0);
  RedisSnapshot again = MustSnapshot(*redis);
  CHECK(again == before);
  CHECK(DescribeSnapshotDiff(before, again).empty());

  // Same length, one element different: the DUMP bytes differ.
  REQUIRE(MustCommand(*redis, {"LSET", "queue:default", "1", "B"}).type ==
          RedisValue::Type::kStatus);
  REQUIRE(redis->Integer({"DEL", "lock"}) == 1);
  REQUIRE(redis->Integer({"SADD", "new", "x"}) == 1);
  RedisSnapshot after = MustSnapshot(*redis);
  CHECK(after != before);
  const std::string diff = DescribeSnapshotDiff(before, after);
  CHECK_MESSAGE(diff.find("changed: queue:default") != std::string::npos, diff);
  CHECK_MESSAGE(diff.find("removed: lock") != std::string::npos, diff);
  CHECK_MESSAGE(diff.find("added: new") != std::string::npos, diff);
  CHECK_MESSAGE(diff.find("schedule") == std::string::npos, diff);

  // Put back, the content DUMPs as before (the TTL's sign counts, not its value) ...
  REQUIRE(MustCommand(*redis, {"LSET", "queue:default", "1", "b"}).type ==
          RedisValue::Type::kStatus);
  REQUIRE(redis->Integer({"DEL", "new"}) == 1);
  REQUIRE(MustCommand(*redis, {"SET", "lock", "1", "PX", "600000"}).type ==
          RedisValue::Type::kStatus);
  CHECK(MustSnapshot(*redis) == before);
  // ... and a TTL that appears changes it although the value did not.
  REQUIRE(redis->Integer({"EXPIRE", "queues", "1000"}) == 1);
  CHECK(DescribeSnapshotDiff(before, MustSnapshot(*redis)).find("changed: queues") !=
        std::string::npos);

  CHECK(MustSnapshot(*redis, 1).size() == 1);
  CHECK(MustSnapshot(*redis, 2).empty());
}

TEST_CASE("Restart keeps the port and loses the data; Kill9 and Stop end the server") {
  auto redis = StartRedis();
  const uint16_t port = redis->port();
  REQUIRE(redis->Integer({"RPUSH", "queue:default", "job"}) == 1);
  NSQ_REQUIRE_OK(redis->Restart());
  CHECK(redis->Running());
  CHECK(redis->port() == port);
  CHECK(redis->Integer({"EXISTS", "queue:default"}) == 0);  // nothing was saved

  redis->Kill9();
  CHECK(!redis->Running());
  absl::StatusOr<RedisValue> refused = redis->Command({"PING"});
  CHECK(!refused.ok());
  NSQ_REQUIRE_OK(redis->Restart());
  CHECK(redis->port() == port);
  CHECK(MustCommand(*redis, {"PING"}).str == "PONG");

  absl::StatusOr<int> code = redis->Stop();
  NSQ_REQUIRE_OK(code);
  CHECK(*code == 0);
  CHECK(!redis->Running());
}

TEST_CASE("A --requirepass server: Command logs in, an anonymous client is refused") {
  auto redis = StartRedis({"--requirepass", "s3cret"});
  CHECK(redis->password() == "s3cret");
  CHECK(MustCommand(*redis, {"PING"}).str == "PONG");
  CHECK(redis->Integer({"RPUSH", "queue:default", "job"}, 2) == 1);

  auto anonymous = RawConn::Connect(redis->port());
  NSQ_REQUIRE_OK(anonymous);
  NSQ_REQUIRE_OK((*anonymous)->Send("PING\r\n"));
  absl::StatusOr<std::string> answer = (*anonymous)->ReadAvailable();
  NSQ_REQUIRE_OK(answer);
  CHECK(answer->rfind("-NOAUTH", 0) == 0);

  // After a restart the new connection logs in again.
  NSQ_REQUIRE_OK(redis->Restart());
  CHECK(redis->Integer({"DBSIZE"}, 2) == 0);
}

TEST_CASE("The Sidekiq fixture enqueues real jobs, with and without a namespace") {
  auto redis = StartRedis();
  for (std::string ns : {"", "myapp"}) {
    CAPTURE(ns);
    std::vector<std::string> args = {"--redis-url", redis->url(), "--mode",  "enqueue",
                                     "--queue",     "default",    "--count", "3"};
    if (!ns.empty()) args.insert(args.end(), {"--namespace", ns});
    absl::StatusOr<std::vector<FixtureJob>> jobs = RunSidekiqFixture(args);
    NSQ_REQUIRE_OK(jobs);
    REQUIRE(jobs->size() == 3);
    const std::string prefix = ns.empty() ? "" : ns + ":";
    std::vector<std::string> stored =
        redis->Strings({"LRANGE", prefix + "queue:default", "0", "-1"});
    REQUIRE(stored.size() == 3);
    CHECK(redis->Integer({"SISMEMBER", prefix + "queues", "default"}) == 1);
    for (size_t i = 0; i < jobs->size(); ++i) {
      const FixtureJob& job = (*jobs)[i];
      CHECK(IsJid(job.jid));
      CHECK(job.queue == "default");
      CHECK(job.kind == "immediate");
      CHECK(!job.at.has_value());
      // Sidekiq LPUSHes: the first job created is the last element (the next one out).
      boost::json::value payload = boost::json::parse(stored[stored.size() - 1 - i]);
      CHECK(payload.at("jid").as_string() == job.jid);
      CHECK(payload.at("class").as_string() == "MigrationTestWorker");
      CHECK(payload.at("args").at(1).as_int64() == static_cast<int64_t>(i));
    }
  }
  // Both layouts side by side in one db.
  CHECK(redis->Integer({"LLEN", "queue:default"}) == 3);
  CHECK(redis->Integer({"LLEN", "myapp:queue:default"}) == 3);
}

TEST_CASE("The Sidekiq fixture schedules jobs and reports its errors readably") {
  auto redis = StartRedis();
  absl::StatusOr<std::vector<FixtureJob>> jobs =
      RunSidekiqFixture({"--redis-url", redis->url(), "--mode", "schedule", "--queue", "later",
                         "--count", "2", "--in", "3600"});
  NSQ_REQUIRE_OK(jobs);
  REQUIRE(jobs->size() == 2);
  for (const FixtureJob& job : *jobs) {
    CHECK(job.kind == "scheduled");
    REQUIRE(job.at.has_value());
    CHECK(*job.at > GoWorkersNow() + 3500);
  }
  // Each job's "at" is exactly the score Redis holds.
  std::vector<std::string> zset = redis->Strings({"ZRANGE", "schedule", "0", "-1", "WITHSCORES"});
  REQUIRE(zset.size() == 4);
  for (size_t i = 0; i < zset.size(); i += 2) {
    const std::string jid(boost::json::parse(zset[i]).at("jid").as_string());
    auto job =
        std::find_if(jobs->begin(), jobs->end(), [&](const FixtureJob& j) { return j.jid == jid; });
    REQUIRE(job != jobs->end());
    CHECK(*job->at == std::stod(zset[i + 1]));
  }

  // A missing option: the script exits 1 and explains on stderr.
  absl::StatusOr<std::vector<FixtureJob>> bad =
      RunSidekiqFixture({"--redis-url", redis->url(), "--mode", "enqueue"});
  REQUIRE(!bad.ok());
  CHECK_MESSAGE(bad.status().message().find("missing --queue") != std::string_view::npos,
                bad.status().ToString());
}

TEST_CASE("The Sidekiq push-loop runs in the background until SIGTERM and says how many") {
  auto redis = StartRedis();
  auto loop = SidekiqFixtureProcess::Start({"--redis-url", redis->url(), "--mode", "push-loop",
                                            "--queue", "live", "--seconds", "60", "--rate", "100"});
  NSQ_REQUIRE_OK(loop);
  REQUIRE(WaitFor([&] { return redis->Integer({"LLEN", "queue:live"}) >= 5; }, 20s));
  CHECK((*loop)->process().Running());
  absl::StatusOr<FixtureResult> result = (*loop)->Stop();
  NSQ_REQUIRE_OK(result);
  CHECK(result->count >= 5);
  CHECK(static_cast<int64_t>(result->jobs.size()) == result->count);
  CHECK(redis->Integer({"LLEN", "queue:live"}) == result->count);
}

TEST_CASE("The go-workers writers produce its keys and payloads byte for byte") {
  auto redis = StartRedis();
  const std::regex enqueued(
      R"(\{"queue":"emails","class":"SendEmail","args":\["a",1\],"jid":"[0-9a-f]{24}",)"
      R"("enqueued_at":[0-9]{10}\.[0-9]+,"at":[0-9]{10}\.[0-9]+\})");

  SUBCASE("namespace prod") {
    auto bodies = EnqueueGoWorkers(*redis, "prod", "emails", "SendEmail", R"(["a",1])", 3);
    NSQ_REQUIRE_OK(bodies);
    REQUIRE(bodies->size() == 3);
    for (const std::string& body : *bodies) CHECK_MESSAGE(std::regex_match(body, enqueued), body);
    CHECK(redis->Strings({"SMEMBERS", "prod:queues"}) == std::vector<std::string>{"emails"});
    // RPUSH, and the fetcher takes the right end: the returned order is the list reversed.
    std::vector<std::string> list = redis->Strings({"LRANGE", "prod:queue:emails", "0", "-1"});
    std::reverse(list.begin(), list.end());
    CHECK(list == *bodies);
    CHECK(redis->Integer({"EXISTS", "queue:emails"}) == 0);

    const double at = GoWorkersNow() + 600;
    auto scheduled = ScheduleGoWorkers(*redis, "prod", "emails", "SendEmail", R"(["s"])", 2, at,
                                       {.retry = true});
    NSQ_REQUIRE_OK(scheduled);
    std::vector<std::string> zset =
        redis->Strings({"ZRANGE", "prod:schedule", "0", "-1", "WITHSCORES"});
    REQUIRE(zset.size() == 4);
    CHECK(zset[0] == (*scheduled)[0]);
    CHECK(zset[2] == (*scheduled)[1]);
    CHECK(std::stod(zset[1]) == at);
    CHECK(KeysInOrder(zset[0]) ==
          std::vector<std::string>{"queue", "class", "args", "jid", "enqueued_at", "retry", "at"});
    // (Compared as text: Boost.JSON 1.81 may round the last bit of a parsed double.)
    CHECK(zset[0].find(absl::StrCat("\"at\":", GoJsonFloat(at), "}")) != std::string::npos);

    const double retry_at = GoWorkersNow() - 5;  // already due
    auto retries = RetryGoWorkers(*redis, "prod", "emails", "SendEmail", R"(["r"])", 2, retry_at,
                                  {.error_message = "boom <&>"});
    NSQ_REQUIRE_OK(retries);
    std::vector<std::string> members = redis->Strings({"ZRANGE", "prod:goretry", "0", "-1"});
    CHECK(members == *retries);
    CHECK(redis->Integer({"EXISTS", "goretry"}) == 0);
    CHECK(redis->Integer({"EXISTS", "prod:retry"}) == 0);
    const std::string& member = members[0];
    CHECK(KeysInOrder(member) == std::vector<std::string>{"args", "at", "class", "enqueued_at",
                                                          "error_message", "failed_at", "jid",
                                                          "queue", "retry", "retry_count"});
    boost::json::value parsed = boost::json::parse(member);
    CHECK(parsed.at("queue").as_string() == "prod:emails");
    CHECK(parsed.at("retry").as_bool());
    CHECK(parsed.at("retry_count").as_int64() == 0);
    CHECK(parsed.at("error_message").as_string() == "boom <&>");
    CHECK(member.find(R"("error_message":"boom \u003c\u0026\u003e")") != std::string::npos);
    CHECK(std::regex_match(std::string(parsed.at("failed_at").as_string()),
                           std::regex(R"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC)")));
    CHECK(std::stod(redis->Strings({"ZSCORE", "prod:goretry", member})[0]) == retry_at);

    auto again = RetryGoWorkers(*redis, "prod", "emails", "SendEmail", "[]", 1, retry_at,
                                {.retry_count = 2});
    NSQ_REQUIRE_OK(again);
    CHECK(KeysInOrder((*again)[0]) == std::vector<std::string>{"args", "at", "class", "enqueued_at",
                                                               "error_message", "failed_at", "jid",
                                                               "queue", "retried_at", "retry",
                                                               "retry_count"});

    auto inprogress = InProgressGoWorkers(*redis, "prod", "emails", "host-1", 3);
    NSQ_REQUIRE_OK(inprogress);
    CHECK(redis->Strings({"LRANGE", "prod:queue:emails:host-1:inprogress", "0", "-1"}) ==
          *inprogress);
    CHECK(KeysInOrder((*inprogress)[0]) ==
          std::vector<std::string>{"queue", "class", "args", "jid", "enqueued_at", "at"});
    CHECK(boost::json::parse((*inprogress)[0]).at("class").as_string() == "GoWorkersTestJob");

    std::vector<std::string> keys = redis->Strings({"KEYS", "*"});
    std::sort(keys.begin(), keys.end());
    CHECK(keys == std::vector<std::string>{"prod:goretry", "prod:queue:emails",
                                           "prod:queue:emails:host-1:inprogress", "prod:queues",
                                           "prod:schedule"});
  }

  SUBCASE("no namespace, another db") {
    GoWorkersOptions options;
    options.db = 4;
    auto bodies = EnqueueGoWorkers(*redis, "", "emails", "SendEmail", R"(["a",1])", 2, options);
    NSQ_REQUIRE_OK(bodies);
    CHECK(redis->Integer({"LLEN", "queue:emails"}, 4) == 2);
    CHECK(redis->Integer({"SISMEMBER", "queues", "emails"}, 4) == 1);
    auto retries = RetryGoWorkers(*redis, "", "emails", "SendEmail", "[]", 1, 1.5, options);
    NSQ_REQUIRE_OK(retries);
    CHECK(boost::json::parse((*retries)[0]).at("queue").as_string() == "emails");
    CHECK(redis->Integer({"ZCARD", "goretry"}, 4) == 1);
    auto inprogress = InProgressGoWorkers(*redis, "", "emails", "p", 1, options);
    NSQ_REQUIRE_OK(inprogress);
    CHECK(redis->Integer({"LLEN", "queue:emails:p:inprogress"}, 4) == 1);
    CHECK(redis->Integer({"DBSIZE"}) == 0);
  }

  SUBCASE("bad arguments") {
    CHECK(!EnqueueGoWorkers(*redis, "prod:", "q", "C", "[]", 1).ok());
    CHECK(!EnqueueGoWorkers(*redis, "prod", "q", "C", "[oops", 1).ok());
    CHECK(!InProgressGoWorkers(*redis, "", "q", "", 1).ok());
    CHECK(redis->Integer({"DBSIZE"}) == 0);
  }
}

TEST_CASE("Go's JSON encoding of floats and strings") {
  CHECK(GoJsonFloat(1796410392.3394227) == "1796410392.3394227");
  CHECK(GoJsonFloat(0.5) == "0.5");
  CHECK(GoJsonFloat(3) == "3");
  CHECK(GoJsonFloat(1e21) == "1e+21");
  CHECK(GoJsonFloat(1e-7) == "1e-7");
  CHECK(GoJsonFloat(-2.5e-10) == "-2.5e-10");
  const double now = GoWorkersNow();
  CHECK(GoJsonFloat(now).find('.') != std::string::npos);
  CHECK(std::stod(GoJsonFloat(now)) == now);

  CHECK(GoJsonString("plain") == R"("plain")");
  CHECK(GoJsonString("q\"b\\") == R"("q\"b\\")");
  CHECK(GoJsonString("a\nb\tc\r") == R"("a\nb\tc\r")");
  CHECK(GoJsonString(std::string("\x01\x1f\x7f", 3)) == "\"\\u0001\\u001f\x7f\"");
  CHECK(GoJsonString("<a&b>") == R"("\u003ca\u0026b\u003e")");
  CHECK(GoJsonString("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80") ==
        "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
  CHECK(GoJsonString("\xe2\x80\xa8\xe2\x80\xa9") == R"("\u2028\u2029")");
  CHECK(GoJsonString("x\xffy\xc3") == R"("x\ufffdy\ufffd")");
  CHECK(GoJsonString("\xed\xa0\x80") == R"("\ufffd\ufffd\ufffd")");  // a surrogate
  CHECK(GoJsonString("\xc0\xaf") == R"("\ufffd\ufffd")");            // overlong
}

}  // namespace
}  // namespace nsq::testutil
