// What nsqd does when its store fails: a write that cannot reach the disk is refused to the
// publisher (TCP: a fatal E_PUB_FAILED / E_MPUB_FAILED / E_DPUB_FAILED; HTTP: 500) while nsqd
// keeps running and serving what it had accepted; a corrupt store stops the start-up with a
// message that says what to do.
//
// The "full disk" is RLIMIT_FSIZE on the nsqd process (TestNsqd::LaunchOptions): nsqd ignores
// SIGXFSZ, so a write past the limit fails with EFBIG. RocksDB's WAL grows with every write,
// so publishes of big bodies start failing once it reaches the limit.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tests/integration/integration_util.h"
#include "tests/testutil/process.h"

namespace nsq::testutil {
namespace {

const std::vector<std::string> kDurableFlags = {"--mem-queue-size=0", "--sync-every=1"};

// Big enough that the WAL reaches the limit after a few dozen writes, small enough that the
// limit leaves room for RocksDB's start-up files (LOG, MANIFEST, OPTIONS).
constexpr uint64_t kFileSizeLimit = 4 << 20;
constexpr size_t kBodySize = 64 << 10;
// Publishes tried before giving up on seeing a failure: several times the limit.
constexpr int kMaxPublishes = 400;

// A 64 KiB body that starts with `name`, no newline (for /mpub), poorly compressible so
// RocksDB cannot shrink it much when it flushes.
std::string BigBody(std::string_view name) {
  std::string body = std::string(name) + ":";
  uint64_t x = std::hash<std::string_view>{}(name) | 1;
  while (body.size() < kBodySize) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    body.push_back(static_cast<char>('a' + x % 26));
  }
  return body;
}

// Frame data as text for messages: the head of a big body is enough.
std::string Head(std::string_view data) { return std::string(data.substr(0, 80)); }

// Sends commands built by `send(i)` on one connection, one at a time, until an answer is not
// OK. Bodies answered OK go to `acknowledged`. Returns the error frame's text, or nullopt (and
// fails the check) when no publish failed within kMaxPublishes or the answer was no error.
std::optional<std::string> PublishUntilRefused(
    RawConn& conn, const std::function<std::vector<std::string>(int)>& send,
    std::vector<std::string>* acknowledged) {
  for (int i = 0; i < kMaxPublishes; ++i) {
    std::vector<std::string> bodies = send(i);
    absl::StatusOr<protocol::Frame> answer = conn.ReadFrame(10s);
    if (!answer.ok()) {
      FAIL_CHECK("publish ", i, ": no answer: ", answer.status().ToString());
      return std::nullopt;
    }
    if (answer->type == protocol::FrameType::kResponse && answer->data == "OK") {
      acknowledged->insert(acknowledged->end(), bodies.begin(), bodies.end());
      continue;
    }
    if (answer->type == protocol::FrameType::kError) {
      MESSAGE("publish ", i, " refused: ", Head(answer->data));
      return answer->data;
    }
    FAIL_CHECK("publish ", i, ": unexpected ", DescribeFrame(*answer));
    return std::nullopt;
  }
  FAIL_CHECK("no publish failed in ", kMaxPublishes, " tries of ", kBodySize,
             " bytes with RLIMIT_FSIZE ", kFileSizeLimit);
  return std::nullopt;
}

// POSTs bodies built by `body(i)` to `target` until the answer is not 200; returns that
// answer. Bodies answered 200 go to `acknowledged`.
std::optional<HttpResponse> HttpPublishUntilRefused(
    const TestNsqd& nsqd, std::string_view target,
    const std::function<std::vector<std::string>(int)>& bodies_of,
    std::vector<std::string>* acknowledged) {
  for (int i = 0; i < kMaxPublishes; ++i) {
    std::vector<std::string> bodies = bodies_of(i);
    absl::StatusOr<HttpResponse> r =
        HttpPost(nsqd.http_port(), target, absl::StrJoin(bodies, "\n"));
    if (!r.ok()) {
      FAIL_CHECK("POST ", std::string(target), " ", i, ": ", r.status().ToString());
      return std::nullopt;
    }
    if (r->status == 200) {
      acknowledged->insert(acknowledged->end(), bodies.begin(), bodies.end());
      continue;
    }
    MESSAGE("POST ", std::string(target), " ", i, " refused: ", r->status, " ", Head(r->body));
    return *r;
  }
  FAIL_CHECK("no POST ", std::string(target), " failed in ", kMaxPublishes, " tries");
  return std::nullopt;
}

// Right after a refused write nsqd is still up: the process runs and /ping answers 500
// "NOK - <error>" (the store reopens only before its next write, so it is still failing).
void CheckStillServing(TestNsqd& nsqd) {
  CHECK(nsqd.process().Running());
  absl::StatusOr<HttpResponse> ping = HttpGet(nsqd.http_port(), "/ping");
  NSQ_REQUIRE_OK(ping);
  CHECK(ping->status == 500);
  CHECK_MESSAGE(absl::StartsWith(ping->body, "NOK - "), ping->body);
}

TEST_CASE("when the disk refuses a write, publishers get E_*_FAILED or 500 and nsqd serves on") {
  TestNsqd::LaunchOptions launch;
  launch.max_file_size_bytes = kFileSizeLimit;
  absl::StatusOr<std::unique_ptr<TestNsqd>> started = TestNsqd::Start(kDurableFlags, launch);
  NSQ_REQUIRE_OK(started);
  TestNsqd& nsqd = **started;
  constexpr std::string_view kTopic = "full";
  // The channel exists before the first publish, so it holds every accepted message.
  Subscribe(nsqd, kTopic, "ch", 0);
  std::vector<std::string> acknowledged;

  // PUB: fatal E_PUB_FAILED, the connection is closed, nsqd logs an error and stays up.
  {
    auto conn = ConnectV2(nsqd);
    std::optional<std::string> error = PublishUntilRefused(
        *conn,
        [&](int i) {
          std::vector<std::string> bodies = {BigBody(absl::StrCat("pub", i))};
          NSQ_REQUIRE_OK(conn->Pub(kTopic, bodies[0]));
          return bodies;
        },
        &acknowledged);
    REQUIRE(error.has_value());
    CHECK_MESSAGE(absl::StartsWith(*error, "E_PUB_FAILED PUB failed"), *error);
    CHECK(conn->IsClosedByPeer());
    CHECK(nsqd.process().WaitForOutput(" ERROR: ", 5s).has_value());
    CheckStillServing(nsqd);
  }
  // MPUB: the same with its own code. Each phase below first refills the WAL: the store
  // reopened RocksDB after the failure (the disk probe works: the limit is per file) and the
  // new WAL starts empty, so writes resume.
  {
    const size_t acknowledged_before = acknowledged.size();
    auto conn = ConnectV2(nsqd);
    std::optional<std::string> error = PublishUntilRefused(
        *conn,
        [&](int i) {
          std::vector<std::string> bodies;
          for (int j = 0; j < 4; ++j) bodies.push_back(BigBody(absl::StrCat("mpub", i, "-", j)));
          NSQ_REQUIRE_OK(conn->Mpub(kTopic, bodies));
          return bodies;
        },
        &acknowledged);
    REQUIRE(error.has_value());
    CHECK_MESSAGE(absl::StartsWith(*error, "E_MPUB_FAILED MPUB failed"), *error);
    CHECK(conn->IsClosedByPeer());
    CHECK_MESSAGE(acknowledged.size() > acknowledged_before, "writes did not resume");
    CheckStillServing(nsqd);
  }
  // DPUB: the same again. (Deferred bodies are not delivered below: they are due in an hour.)
  {
    auto conn = ConnectV2(nsqd);
    std::vector<std::string> deferred;
    std::optional<std::string> error = PublishUntilRefused(
        *conn,
        [&](int i) {
          std::vector<std::string> bodies = {BigBody(absl::StrCat("dpub", i))};
          NSQ_REQUIRE_OK(conn->Dpub(kTopic, 3'600'000, bodies[0]));
          return bodies;
        },
        &deferred);
    REQUIRE(error.has_value());
    CHECK_MESSAGE(absl::StartsWith(*error, "E_DPUB_FAILED DPUB failed"), *error);
    CHECK(conn->IsClosedByPeer());
    CHECK_MESSAGE(!deferred.empty(), "writes did not resume");
    CheckStillServing(nsqd);
  }
  // HTTP /pub and /mpub: 500.
  {
    std::optional<HttpResponse> refused = HttpPublishUntilRefused(
        nsqd, "/pub?topic=full",
        [](int i) { return std::vector<std::string>{BigBody(absl::StrCat("http", i))}; },
        &acknowledged);
    REQUIRE(refused.has_value());
    CHECK(refused->status == 500);
    refused = HttpPublishUntilRefused(
        nsqd, "/mpub?topic=full",
        [](int i) {
          return std::vector<std::string>{BigBody(absl::StrCat("httpm", i, "-0")),
                                          BigBody(absl::StrCat("httpm", i, "-1"))};
        },
        &acknowledged);
    REQUIRE(refused.has_value());
    CHECK(refused->status == 500);
    CheckStillServing(nsqd);
  }
  // A small publish fits in the next WAL; once a write succeeds nsqd reports healthy again.
  Publish(nsqd, kTopic, "small");
  acknowledged.push_back("small");
  absl::StatusOr<HttpResponse> ping = HttpGet(nsqd.http_port(), "/ping");
  NSQ_REQUIRE_OK(ping);
  CHECK(ping->status == 200);
  CHECK(ping->body == "OK");

  // Everything acknowledged before (and between) the failures is delivered.
  MESSAGE("acknowledged before the failures: ", acknowledged.size());
  const std::set<std::string> expected(acknowledged.begin(), acknowledged.end());
  auto consumer = Subscribe(nsqd, kTopic, "ch", 100);
  consumer->set_heartbeat_policy(HeartbeatPolicy::kAnswer);
  std::set<std::string> received;
  while (!std::includes(received.begin(), received.end(), expected.begin(), expected.end())) {
    absl::StatusOr<protocol::Message> message = consumer->ReadMessage(5s);
    if (!message.ok()) {
      FAIL_CHECK("received ", received.size(), " distinct bodies, expected ", expected.size(),
                 " acknowledged ones: ", message.status().ToString());
      break;
    }
    received.insert(std::string(message->body.view()));
    NSQ_REQUIRE_OK(consumer->Fin(message->id.view()));
  }
  CHECK(nsqd.process().Running());
}

// Overwrites `path` with bytes RocksDB cannot parse, keeping nothing of the old content.
void OverwriteWithGarbage(const std::string& path) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  REQUIRE_MESSAGE(out.good(), "cannot write ", path);
  out << std::string(200, '\x5a') << "not a rocksdb file";
}

// The first file in `dir` whose name starts with `prefix`.
std::string FindFile(const std::string& dir, std::string_view prefix) {
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().filename().string().starts_with(prefix)) return entry.path().string();
  }
  FAIL("no ", std::string(prefix), "* file in ", dir);
  return "";
}

TEST_CASE("a corrupt store refuses to start with a message that says what to do") {
  auto nsqd = StartNsqd();
  PublishMany(*nsqd, "kept", {"k0", "k1"});
  absl::StatusOr<int> code = nsqd->Stop();
  NSQ_REQUIRE_OK(code);
  REQUIRE(*code == 0);

  std::string corrupted;
  SUBCASE("CURRENT") { corrupted = nsqd->data_path() + "/CURRENT"; }
  SUBCASE("MANIFEST") { corrupted = FindFile(nsqd->data_path(), "MANIFEST-"); }
  OverwriteWithGarbage(corrupted);
  MESSAGE("overwrote ", corrupted);

  Process::Options options;
  options.argv = {TestNsqd::BinaryPath(), "--tcp-address=127.0.0.1:0", "--http-address=127.0.0.1:0",
                  "--data-path=" + nsqd->data_path()};
  auto started = Process::Start(options);
  NSQ_REQUIRE_OK(started);
  Process& process = **started;
  std::optional<ExitStatus> status = process.Wait(10s);
  REQUIRE_MESSAGE(status.has_value(), "nsqd started on a corrupt store:\n", process.Tail(20));
  CHECK(status->exited());
  CHECK(status->exit_code != 0);
  // The child is reaped; its last lines may still be in the pipe.
  CHECK(process.WaitForOutputEnd(5s));
  const std::string output = process.Output();
  INFO("nsqd said:\n", output);
  CHECK(absl::StrContains(output, "is corrupt"));
  CHECK(absl::StrContains(output, "restore it from a backup"));
  CHECK(absl::StrContains(output, "--data-path"));
}

}  // namespace
}  // namespace nsq::testutil
