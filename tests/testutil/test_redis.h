// TestRedis: a throwaway redis-server for one test, on a free loopback port and a Unix socket in
// a fresh temporary directory, with a small synchronous command API (the migrator's own
// RedisClient underneath, so tests and tool talk to Redis the same way).
//
//   auto redis = TestRedis::Start();                    // or Start({"--requirepass", "secret"})
//   REQUIRE(redis.ok());
//   (*redis)->Command({"RPUSH", "queue:default", payload});
//   CHECK((*redis)->Integer({"LLEN", "queue:default"}) == 1);
//   auto before = (*redis)->Snapshot();                 // every key: type, TTL, DUMP bytes
//   run the tool against (*redis)->url() ...
//   CHECK(*(*redis)->Snapshot() == *before);
//
// The server runs with --save '' --appendonly no: nothing ever reaches the disk, so Restart()
// and Kill9() lose every key. That keeps a test's Redis state exactly what the test wrote; a
// test that needs data to survive a restart has to write it again (or pass its own
// persistence flags through `extra_args`, e.g. {"--appendonly", "yes"}).
//
// The binary is redis-server from PATH (or /usr/bin/redis-server); the environment variable
// REDIS_SERVER overrides it. Set NSQ_TEST_ECHO=1 to copy the server's log lines to the test's
// stderr; the log is also kept in the temp dir while the TestRedis lives.
//
// Lifecycle: the TestRedis owns the process, the temp dir and one client connection. The
// destructor closes the connection, kills the server (SIGKILL) and removes the directory; it
// prints the tail of the server's log if it had died on its own.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tests/testutil/process.h"
#include "tests/testutil/temp_dir.h"
#include "tools/redis_to_nsq/redis_client.h"

namespace nsq::testutil {

// One RESP2 reply: nil, integer, string, status or array (ToString() renders it for messages).
// There is no error type: an error reply comes back as a failed status (see Command()).
using RedisValue = redis_to_nsq::RedisReply;

// What Snapshot() returns: key → "<type> <ttl> " followed by the key's DUMP bytes, where <ttl>
// is "persistent" or "expiring" (the sign of PTTL: the remaining time itself always changes).
using RedisSnapshot = std::map<std::string, std::string>;

// A readable account of how two snapshots differ (keys only in one of them, keys whose type,
// TTL or content changed), for CHECK_MESSAGE(a == b, DescribeSnapshotDiff(a, b)). Empty when
// they are equal.
std::string DescribeSnapshotDiff(const RedisSnapshot& before, const RedisSnapshot& after);

class TestRedis {
 public:
  // Starts redis-server with --port <free> --bind 127.0.0.1 --unixsocket <temp>/redis.sock
  // --unixsocketperm 700 --save '' --appendonly no --dir <temp> --daemonize no, then
  // `extra_args` (which may override any of those), waits for "Ready to accept connections" and
  // answers a PING. Redis cannot listen on port 0, so the port is one the kernel just handed out
  // and released; if another process takes it first the start is retried on a new one.
  // A "--requirepass", "<password>" pair in `extra_args` is remembered: Command() logs in.
  static absl::StatusOr<std::unique_ptr<TestRedis>> Start(std::vector<std::string> extra_args = {});

  // The redis-server executable to run (see the file comment).
  static std::string BinaryPath();

  ~TestRedis();
  TestRedis(const TestRedis&) = delete;
  TestRedis& operator=(const TestRedis&) = delete;

  uint16_t port() const { return port_; }
  const std::string& unix_socket() const { return unix_socket_; }
  // "redis://127.0.0.1:<port>/<db>" (no password in it; see password()).
  std::string url(int db = 0) const;
  // The --requirepass value, empty when there is none.
  const std::string& password() const { return password_; }
  // The temp dir (--dir): where a test may put files of its own for the lifetime of the server.
  const std::string& dir() const { return dir_->path(); }
  Process& process() { return *process_; }

  // SIGTERM and wait for the exit. Returns the exit code; an error if it did not exit within
  // `deadline` (it is then killed) or was killed by a signal.
  absl::StatusOr<int> Stop(std::chrono::milliseconds deadline = std::chrono::seconds(15));
  // SIGKILL and reap.
  void Kill9();
  // Stops it if running (SIGTERM), then starts it again with the same port, socket, directory
  // and arguments. The data set is empty afterwards (nothing is saved, see the file comment).
  absl::Status Restart();
  // True while the server process has not been seen to end.
  bool Running();

  // Sends one command (argv[0] is the command name) on this TestRedis's connection, after
  // SELECTing `db`, and returns the reply. Binary-safe: arguments and replies may hold any
  // bytes. Failures are RedisClient's: FailedPrecondition carrying Redis's text for an error
  // reply ("WRONGTYPE ...", "ERR ..."; the connection stays usable), Unavailable when the
  // connection failed (refused, closed, timed out after 30 s; the next call reconnects),
  // PermissionDenied when AUTH was refused. The connection is opened on first use and again
  // after Restart()/Kill9()/Stop(), and logs in with password() when there is one. Prefer the
  // `db` argument to sending SELECT.
  absl::StatusOr<RedisValue> Command(const std::vector<std::string>& argv, int db = 0);
  // Several commands in one round trip (sent together, then one reply read for each), on the
  // same terms as Command(); an error reply to any of them fails the whole call with the first
  // error (the other commands still ran). For tests that write many elements or keys.
  absl::StatusOr<std::vector<RedisValue>> Pipeline(
      const std::vector<std::vector<std::string>>& commands, int db = 0);

  // Shorthands for tests, reading as the value they expect. They do not return a Status: when
  // the command fails or the reply has another type they throw std::runtime_error naming the
  // command and the reply, which doctest reports as a failure of the running test case (the
  // other test cases still run, and destructors clean up).
  //
  // An integer reply (LLEN, ZCARD, SADD, DEL, ...).
  int64_t Integer(const std::vector<std::string>& argv, int db = 0);
  // An array of strings (LRANGE, SMEMBERS, ZRANGE ... WITHSCORES, KEYS); a nil reply is an
  // empty vector, a single string reply a vector of one.
  std::vector<std::string> Strings(const std::vector<std::string>& argv, int db = 0);

  // Every key of `db` (found with SCAN) mapped to its TYPE, the sign of its PTTL and its DUMP
  // bytes, so a test can assert that a run left the database byte-for-byte as it was. DUMP is
  // the serialized value, internal encoding included: equal snapshots mean equal content, but
  // equal content written by a different sequence of commands (e.g. a list emptied and
  // refilled, a set that grew past its small encoding) may DUMP differently.
  absl::StatusOr<RedisSnapshot> Snapshot(int db = 0);

 private:
  TestRedis() = default;
  absl::Status Launch();
  absl::Status Connect();
  void Disconnect();

  std::unique_ptr<TempDir> dir_;
  std::vector<std::string> extra_args_;
  std::string password_;
  std::string unix_socket_;
  std::unique_ptr<Process> process_;
  uint16_t port_ = 0;
  int launches_ = 0;
  bool stopped_on_purpose_ = false;

  // The connection Command() uses; null until needed and after the server was stopped.
  std::unique_ptr<redis_to_nsq::RedisClient> client_;
  int selected_db_ = 0;  // -1: unknown (a failed pipeline held a SELECT), SELECT again
};

}  // namespace nsq::testutil
