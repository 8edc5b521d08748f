// nsqd's command line: --version, bad flags, startup validation, --config precedence and
// signals (NSQ-REFERENCE §5).
#include <doctest/doctest.h>
#include <signal.h>

#include <boost/json.hpp>
#include <fstream>
#include <string>
#include <vector>

#include "common/protocol/frame.h"
#include "tests/integration/integration_util.h"
#include "tests/testutil/listening_socket.h"
#include "tests/testutil/process.h"
#include "tests/testutil/temp_dir.h"

namespace nsq::testutil {
namespace {

struct Outcome {
  ExitStatus status;
  std::string output;
};

// Runs nsqd with `args` (ports 0 and a temp data dir unless `args` says otherwise) and
// REQUIREs that it exits within 10 s.
Outcome RunToExit(std::vector<std::string> args, bool add_defaults = true) {
  TempDir dir("nsqd-flags");
  Process::Options options;
  options.argv = {TestNsqd::BinaryPath()};
  if (add_defaults) {
    options.argv.insert(
        options.argv.end(),
        {"--tcp-address=127.0.0.1:0", "--http-address=127.0.0.1:0", "--data-path=" + dir.path()});
  }
  options.argv.insert(options.argv.end(), args.begin(), args.end());
  auto process = Process::Start(std::move(options));
  NSQ_REQUIRE_OK(process);
  std::optional<ExitStatus> status = (*process)->Wait(10s);
  REQUIRE_MESSAGE(status.has_value(), "nsqd did not exit; output:\n", (*process)->Output());
  (*process)->WaitForOutputEnd(2s);  // the last lines may still be in the pipe
  return Outcome{*status, (*process)->Output()};
}

boost::json::object NegotiatedSettings(const TestNsqd& nsqd) {
  auto conn = ConnectV2(nsqd);
  NSQ_REQUIRE_OK(conn->Identify(R"({"feature_negotiation":true})"));
  absl::StatusOr<protocol::Frame> frame = conn->ReadFrame();
  NSQ_REQUIRE_OK(frame);
  REQUIRE(frame->type == protocol::FrameType::kResponse);
  boost::json::value reply = ParseJson(frame->data);
  REQUIRE(reply.is_object());
  return reply.get_object();
}

TEST_CASE("nsqd --version prints its version and exits 0") {
  Outcome out = RunToExit({"--version"}, /*add_defaults=*/false);
  CHECK(out.status.exited());
  CHECK(out.status.exit_code == 0);
  CHECK_MESSAGE(out.output.find("1.3.0") != std::string::npos, out.output);
  CHECK_MESSAGE(out.output.rfind("nsqd v1.3.0", 0) == 0, out.output);
}

TEST_CASE("nsqd --help prints the flags and exits 0") {
  Outcome out = RunToExit({"--help"}, /*add_defaults=*/false);
  CHECK(out.status.exit_code == 0);
  CHECK_MESSAGE(out.output.find("tcp-address") != std::string::npos, out.output);
  CHECK_MESSAGE(out.output.find("max-rdy-count") != std::string::npos, out.output);
}

TEST_CASE("an unknown flag exits 1 with a message naming it") {
  Outcome out = RunToExit({"--no-such-flag=1"});
  CHECK(out.status.exited());
  CHECK(out.status.exit_code == 1);
  CHECK_MESSAGE(out.output.find("no-such-flag") != std::string::npos, out.output);
}

TEST_CASE("a malformed flag value is refused with a message naming the flag") {
  for (std::string flag : {"--mem-queue-size=abc", "--msg-timeout=soon", "--snappy=maybe"}) {
    INFO(flag);
    Outcome out = RunToExit({flag});
    CHECK(out.status.exited());
    CHECK(out.status.exit_code != 0);
    CHECK_MESSAGE(out.output.find(flag.substr(2, flag.find('=') - 2)) != std::string::npos,
                  out.output);
  }
}

TEST_CASE("out-of-range settings stop nsqd at startup") {
  for (std::string flag : {"--node-id=1024", "--max-deflate-level=10", "--max-deflate-level=0",
                           "--log-level=chatty", "--e2e-processing-latency-percentile=1.5"}) {
    INFO(flag);
    Outcome out = RunToExit({flag});
    CHECK(out.status.exited());
    CHECK(out.status.exit_code != 0);
  }
}

TEST_CASE("a TCP address that is already taken stops nsqd with an error") {
  ListeningSocket busy;
  // After the defaults, so it wins (as in Go, the last value of a flag counts); the default
  // data path keeps the store out of the working directory.
  Outcome out = RunToExit({"--tcp-address=127.0.0.1:" + std::to_string(busy.port())});
  CHECK(out.status.exited());
  CHECK(out.status.exit_code != 0);
}

TEST_CASE("a second nsqd on the same data path does not start") {
  auto first = StartNsqd();
  Outcome out = RunToExit({"--tcp-address=127.0.0.1:0", "--http-address=127.0.0.1:0",
                           "--data-path=" + first->data_path()},
                          /*add_defaults=*/false);
  CHECK(out.status.exited());
  CHECK(out.status.exit_code != 0);
  // The first one is unharmed.
  Publish(*first, "still_mine", "x");
}

TEST_CASE("SIGTERM and SIGINT shut nsqd down cleanly with exit code 0") {
  for (int signal : {SIGTERM, SIGINT}) {
    INFO("signal ", signal);
    auto nsqd = StartNsqd();
    Publish(*nsqd, "before_signal", "x");
    REQUIRE(nsqd->process().Signal(signal));
    std::optional<ExitStatus> status = nsqd->process().Wait(15s);
    REQUIRE(status.has_value());
    CHECK(status->exited());
    CHECK(status->exit_code == 0);
  }
}

TEST_CASE("compatibility flags are accepted and the broadcast address is reported") {
  auto nsqd = StartNsqd({"--log-level=debug", "--broadcast-address=node.example",
                         "--sync-every=100", "--sync-timeout=1s", "--max-bytes-per-file=104857600",
                         "--queue-scan-worker-pool-max=4", "--statsd-prefix=nsq.%s",
                         "--max-channel-consumers=0", "--node-id=7", "--verbose"});
  absl::StatusOr<HttpResponse> info = HttpGet(nsqd->http_port(), "/info");
  NSQ_REQUIRE_OK(info);
  REQUIRE(info->status == 200);
  CHECK(ParseJson(info->body).at("broadcast_address") == "node.example");
}

TEST_CASE("--config sets options and explicit flags override it") {
  TempDir dir("nsqd-config");
  const std::string config = dir.File("nsqd.cfg");
  {
    std::ofstream out(config);
    out << "max_rdy_count = 42\n"
        << "msg_timeout = \"2s\"\n"
        << "max_msg_timeout = \"30s\"\n";
  }
  {
    auto nsqd = StartNsqd({"--config=" + config});
    boost::json::object settings = NegotiatedSettings(*nsqd);
    CHECK(settings["max_rdy_count"] == 42);
    CHECK(settings["msg_timeout"] == 2000);
    CHECK(settings["max_msg_timeout"] == 30000);
  }
  {
    auto nsqd = StartNsqd({"--config=" + config, "--max-rdy-count=7"});
    boost::json::object settings = NegotiatedSettings(*nsqd);
    CHECK(settings["max_rdy_count"] == 7);
    CHECK(settings["msg_timeout"] == 2000);
  }
}

TEST_CASE("an unreadable or invalid --config file stops nsqd") {
  TempDir dir("nsqd-config");
  const std::string broken = dir.File("broken.cfg");
  {
    std::ofstream out(broken);
    out << "max_rdy_count = = 3\n";
  }
  for (std::string flag : {"--config=" + dir.File("missing.cfg"), "--config=" + broken}) {
    INFO(flag);
    Outcome out = RunToExit({flag});
    CHECK(out.status.exited());
    CHECK(out.status.exit_code != 0);
  }
}

}  // namespace
}  // namespace nsq::testutil
