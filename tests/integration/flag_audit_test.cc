// The flag audit: every flag that `nsqd --help` and `nsqlookupd --help` list either does what
// the Go daemon does with it — checked here by starting the daemon with a non-default value and
// observing the effect — or makes the daemon refuse to start with a message naming the flag.
// A flag that is accepted and silently ignored is a security defect (an operator who sets
// --tls-cert believes the traffic is encrypted), so a flag added to --help without an entry in
// these tables fails the test.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/protocol/lookup_v1.h"
#include "common/protocol/message.h"
#include "tests/integration/integration_util.h"
#include "tests/testutil/http_client.h"
#include "tests/testutil/listening_socket.h"
#include "tests/testutil/process.h"
#include "tests/testutil/test_certs.h"
#include "tests/testutil/temp_dir.h"
#include "tests/testutil/test_lookupd.h"
#include "tests/testutil/udp_receiver.h"
#include "tests/testutil/wait_for.h"

namespace nsq::testutil {
namespace {

// How a flag is accounted for.
enum class Verdict {
  kEffect,   // the check starts the daemon with the flag and observes what it does
  kRefused,  // the daemon exits 1 with a message that names the flag
  kInert,    // as in Go, the flag only matters together with another one, which is refused or
             // absent; `why` says which (the value is still parsed and validated)
};

struct FlagCase {
  std::string value;  // the whole argument, e.g. "--max-msg-size=10"
  Verdict verdict;
  std::string why;                     // kInert: what the flag depends on
  std::function<void(const std::string&)> check;  // kEffect: gets `value`
};

struct Ran {
  ExitStatus status;
  std::string output;
};

// Runs a daemon binary with `args` and REQUIREs that it exits within 10 s.
Ran RunToExit(const std::string& binary, std::vector<std::string> args) {
  Process::Options options;
  options.argv = {binary};
  options.argv.insert(options.argv.end(), args.begin(), args.end());
  auto process = Process::Start(std::move(options));
  NSQ_REQUIRE_OK(process);
  std::optional<ExitStatus> status = (*process)->Wait(10s);
  REQUIRE_MESSAGE(status.has_value(), "did not exit; output:\n", (*process)->Output());
  (*process)->WaitForOutputEnd(2s);
  return Ran{*status, (*process)->Output()};
}

// The flag names (without "--") that a daemon's --help lists.
std::set<std::string> FlagsInHelp(const std::string& binary) {
  Ran help = RunToExit(binary, {"--help"});
  REQUIRE(help.status.exit_code == 0);
  std::set<std::string> names;
  std::istringstream lines(help.output);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("  --", 0) != 0) continue;
    std::string name = line.substr(4);
    names.insert(name.substr(0, name.find(' ')));
  }
  REQUIRE(names.size() > 5);
  return names;
}

std::string FlagName(const std::string& value) {
  std::string name = value.substr(2);
  return name.substr(0, name.find('='));
}

// A loopback port nothing listens on right now (bound and released).
uint16_t FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
  REQUIRE(getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0);
  close(fd);
  return ntohs(address.sin_port);
}

bool Listening(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool connected = connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  close(fd);
  return connected;
}

// The event-loop threads of shards 1 .. N-1 of the nsqd process: its threads named "shard-<n>"
// (/proc/<pid>/task/<tid>/comm).
int ShardThreadCount(TestNsqd& nsqd) {
  const std::string tasks = "/proc/" + std::to_string(nsqd.process().pid()) + "/task";
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(tasks)) {
    std::ifstream comm(entry.path() / "comm");
    std::string name;
    std::getline(comm, name);
    if (name.rfind("shard-", 0) == 0) ++count;
  }
  return count;
}

// User + system CPU time of the nsqd process so far (/proc/<pid>/stat), in milliseconds.
int64_t CpuMillis(TestNsqd& nsqd) {
  std::ifstream stat("/proc/" + std::to_string(nsqd.process().pid()) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  // The fields after the command name (in parentheses, which may hold spaces).
  std::istringstream fields(text.substr(text.rfind(')') + 2));
  std::vector<std::string> values{std::istream_iterator<std::string>(fields), {}};
  REQUIRE(values.size() > 13);
  // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
  return (std::stoll(values[11]) + std::stoll(values[12])) * 1000 / sysconf(_SC_CLK_TCK);
}

// IDENTIFY with feature negotiation over a fresh connection: the JSON reply.
boost::json::object Negotiated(const TestNsqd& nsqd, std::string_view json = "{}") {
  auto conn = ConnectV2(nsqd);
  std::string body(json);
  body.insert(1, R"("feature_negotiation":true)" + std::string(json.size() > 2 ? "," : ""));
  NSQ_REQUIRE_OK(conn->Identify(body));
  absl::StatusOr<protocol::Frame> frame = conn->ReadFrame();
  NSQ_REQUIRE_OK(frame);
  REQUIRE_MESSAGE(frame->type == protocol::FrameType::kResponse, DescribeFrame(*frame));
  return ParseJson(frame->data).as_object();
}

// The first error frame a command gets on a fresh connection must start with `code`.
void ExpectErrorCode(const TestNsqd& nsqd, const std::function<void(RawConn&)>& send,
                     std::string_view code) {
  auto conn = ConnectV2(nsqd);
  send(*conn);
  absl::StatusOr<protocol::Frame> frame = conn->ReadFrame();
  NSQ_REQUIRE_OK(frame);
  CHECK_MESSAGE(frame->type == protocol::FrameType::kError, DescribeFrame(*frame));
  CHECK_MESSAGE(frame->data.rfind(code, 0) == 0, DescribeFrame(*frame));
}

// A stand-in nsqlookupd for the outbound HTTP timeouts: it speaks the V1 registration protocol
// on its TCP port and answers IDENTIFY with an HTTP port the test chooses (one that never
// answers), so nsqd's GET /channels for a new topic meets that port.
class FakeLookupd {
 public:
  explicit FakeLookupd(uint16_t http_port) : http_port_(http_port) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    REQUIRE(bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
    REQUIRE(listen(listen_fd_, 4) == 0);
    REQUIRE(getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length) == 0);
    tcp_port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~FakeLookupd() {
    shutdown(listen_fd_, SHUT_RDWR);
    if (conn_fd_ >= 0) shutdown(conn_fd_, SHUT_RDWR);
    thread_.join();
    close(listen_fd_);
    if (conn_fd_ >= 0) close(conn_fd_);
  }

  std::string tcp_address() const { return "127.0.0.1:" + std::to_string(tcp_port_); }

 private:
  void Serve() {
    conn_fd_ = accept(listen_fd_, nullptr, nullptr);
    if (conn_fd_ < 0) return;
    protocol::LookupRequestDecoder decoder;
    char buffer[4096];
    for (;;) {
      ssize_t n = read(conn_fd_, buffer, sizeof(buffer));
      if (n <= 0) return;
      std::string_view input(buffer, static_cast<size_t>(n));
      std::string out;
      while (!input.empty()) {
        size_t used = 0;
        auto result = decoder.Decode(input, &used);
        input.remove_prefix(used);
        if (result != protocol::LookupRequestDecoder::Result::kCommand) break;
        if (decoder.command().type == protocol::LookupCommandType::kIdentify) {
          protocol::LookupdInfo info;
          info.broadcast_address = "127.0.0.1";
          info.hostname = "fake";
          info.tcp_port = tcp_port_;
          info.http_port = http_port_;
          info.version = "1.3.0";
          protocol::AppendLookupResponse(protocol::EncodeLookupIdentifyResponse(info), &out);
        } else {
          protocol::AppendLookupResponse("OK", &out);
        }
      }
      if (!out.empty() && write(conn_fd_, out.data(), out.size()) < 0) return;
    }
  }

  uint16_t http_port_;
  uint16_t tcp_port_ = 0;
  int listen_fd_ = -1;
  int conn_fd_ = -1;
  std::thread thread_;
};

// A listening socket whose accept queue is full: a connect to it hangs (the kernel drops the
// SYN), which is what an unreachable host looks like to a client with a connect timeout.
class BlackHole {
 public:
  BlackHole() {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    REQUIRE(bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
    REQUIRE(listen(listen_fd_, 0) == 0);
    REQUIRE(getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length) == 0);
    port_ = ntohs(address.sin_port);
    filler_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(connect(filler_fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
  }
  ~BlackHole() {
    close(filler_fd_);
    close(listen_fd_);
  }
  uint16_t port() const { return port_; }

 private:
  int listen_fd_ = -1;
  int filler_fd_ = -1;
  uint16_t port_ = 0;
};

// nsqd registered with a FakeLookupd whose HTTP port is `http_port`; publishing to a new topic
// makes nsqd ask that port for the topic's channels. Returns once nsqd logged `line`, or fails
// if it did not within `within`.
void ExpectChannelQueryGivesUp(const std::string& flag, uint16_t http_port,
                               std::string_view line, std::chrono::milliseconds within) {
  FakeLookupd lookupd(http_port);
  auto nsqd = StartNsqd({flag, "--lookupd-tcp-address=" + lookupd.tcp_address()});
  // Registered: nsqd has read lookupd's IDENTIFY answer (with the HTTP port to ask).
  REQUIRE(nsqd->process().WaitForOutput("peer info", 5s).has_value());
  Publish(*nsqd, "audit_new_topic", "x");
  CHECK_MESSAGE(nsqd->process().WaitForOutput(line, within).has_value(),
                nsqd->process().Tail(10));
}

// The first statsd push that reports topic "audit" of an nsqd started with `flags` (plus
// --statsd-address and a 1 s interval unless `flags` set one), which has a message published
// to "audit" and to "audit_e#ephemeral": its packets. A push is sent at once, so it is the
// packets that arrive together. `nsqd_http_port` is set to the nsqd's HTTP port.
std::vector<std::string> StatsdPush(std::vector<std::string> flags,
                                    uint16_t* nsqd_http_port = nullptr) {
  UdpReceiver statsd;
  flags.push_back("--statsd-address=127.0.0.1:" + std::to_string(statsd.port()));
  const bool has_interval = std::any_of(flags.begin(), flags.end(), [](const std::string& f) {
    return f.rfind("--statsd-interval", 0) == 0;
  });
  if (!has_interval) flags.push_back("--statsd-interval=1s");
  auto nsqd = StartNsqd(flags);
  if (nsqd_http_port != nullptr) *nsqd_http_port = nsqd->http_port();
  Publish(*nsqd, "audit", "x");
  Publish(*nsqd, "audit_e#ephemeral", "x");
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    std::vector<std::string> push;
    for (std::optional<std::string> packet = statsd.Receive(5s); packet;
         packet = statsd.Receive(200ms)) {
      push.push_back(*packet);
    }
    for (const std::string& packet : push) {
      if (packet.find(".topic.audit.") != std::string::npos) return push;
    }
  }
  FAIL("no statsd push reported topic audit");
  return {};
}

bool AnyLineHas(const std::vector<std::string>& lines, std::string_view text) {
  return std::any_of(lines.begin(), lines.end(), [&](const std::string& line) {
    return line.find(text) != std::string::npos;
  });
}

// The lines of a push.
std::vector<std::string> StatsdLines(const std::vector<std::string>& packets) {
  std::vector<std::string> lines;
  for (const std::string& packet : packets) {
    std::istringstream in(packet);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
  }
  return lines;
}

// --- nsqd ------------------------------------------------------------------------------------

std::map<std::string, FlagCase> NsqdCases() {
  std::map<std::string, FlagCase> cases;
  auto effect = [&](std::string value, std::function<void(const std::string&)> check) {
    cases[FlagName(value)] = FlagCase{value, Verdict::kEffect, "", std::move(check)};
  };
  auto refused = [&](std::string value) {
    cases[FlagName(value)] = FlagCase{value, Verdict::kRefused, "", nullptr};
  };
  auto inert = [&](std::string value, std::string why) {
    cases[FlagName(value)] = FlagCase{value, Verdict::kInert, std::move(why), nullptr};
  };

  effect("--version", [](const std::string& flag) {
    Ran ran = RunToExit(TestNsqd::BinaryPath(), {flag});
    CHECK(ran.status.exit_code == 0);
    CHECK_MESSAGE(ran.output.rfind("nsqd v1.3.0", 0) == 0, ran.output);
  });
  effect("--config", [](const std::string& flag) {
    TempDir dir("audit-config");
    std::ofstream(dir.File("nsqd.cfg")) << "max_rdy_count = 42\n";
    auto nsqd = StartNsqd({flag + "=" + dir.File("nsqd.cfg")});
    CHECK(Negotiated(*nsqd)["max_rdy_count"] == 42);
  });
  effect("--log-level=debug", [](const std::string& flag) {
    auto nsqd = StartNsqd({flag});
    auto conn = ConnectV2(*nsqd);
    NSQ_REQUIRE_OK(conn->Nop());
    CHECK(nsqd->process().WaitForOutput("DEBUG: PROTOCOL(V2):", 5s).has_value());
    // And a higher level hides INFO lines: a failed start logs only its error.
    ListeningSocket busy;
    Ran quiet = RunToExit(TestNsqd::BinaryPath(),
                          {"--log-level=error", "--http-address=127.0.0.1:0",
                           "--tcp-address=127.0.0.1:" + std::to_string(busy.port())});
    CHECK(quiet.status.exit_code != 0);
    CHECK_MESSAGE(quiet.output.find("INFO") == std::string::npos, quiet.output);
    CHECK_MESSAGE(quiet.output.find("FATAL") != std::string::npos, quiet.output);
  });
  effect("--log-prefix=[audit] ", [](const std::string& flag) {
    auto nsqd = StartNsqd({flag});
    CHECK(nsqd->process().WaitForOutput(std::regex("^\\[audit\\] .*INFO"), 5s).has_value());
  });
  inert("--verbose", "deprecated in nsqd, where it has no effect either");
  inert("--worker-id", "deprecated in nsqd (use --node-id), where it has no effect either");
  effect("--node-id=7", [](const std::string& flag) {
    auto nsqd = StartNsqd({flag});
    auto consumer = Subscribe(*nsqd, "audit", "c", 1);
    Publish(*nsqd, "audit", "x");
    protocol::Message message = MustReadMessage(*consumer);
    const uint64_t raw = std::stoull(std::string(message.id.view()), nullptr, 16);
    CHECK(((raw >> 12) & 1023) == 7);
  });
  effect("--tcp-address", [](const std::string& flag) {
    const uint16_t port = FreePort();
    auto nsqd = StartNsqd({flag + "=127.0.0.1:" + std::to_string(port)});
    CHECK(nsqd->tcp_port() == port);
  });
  effect("--http-address", [](const std::string& flag) {
    const uint16_t port = FreePort();
    auto nsqd = StartNsqd({flag + "=127.0.0.1:" + std::to_string(port)});
    CHECK(nsqd->http_port() == port);
    CHECK(HttpGet(port, "/ping")->status == 200);
  });
  effect("--https-address", [](const std::string& flag) {
    // As in nsqd, the HTTPS listener opens only with a TLS certificate.
    const uint16_t port = FreePort();
    auto plain = StartNsqd({flag + "=127.0.0.1:" + std::to_string(port)});
    CHECK_FALSE(Listening(port));
    CertsDir dir;
    std::vector<std::string> flags = dir.certs().NsqdFlags();
    flags.push_back(flag + "=127.0.0.1:" + std::to_string(port));
    auto secure = StartNsqd(flags);
    CHECK(Listening(port));
  });
  effect("--broadcast-address=audit.example", [](const std::string& flag) {
    auto nsqd = StartNsqd({flag});
    CHECK(ParseJson(HttpGet(nsqd->http_port(), "/info")->body).at("broadcast_address") ==
          "audit.example");
  });
  // These five reach nsqlookupd: one start checks them together.
  auto registration = [](const std::string&) {
    auto lookupd = TestLookupd::Start();
    NSQ_REQUIRE_OK(lookupd);
    auto nsqd = StartNsqd({"--lookupd-tcp-address=" + (*lookupd)->tcp_address(),
                           "--broadcast-tcp-port=14150", "--broadcast-http-port=14151",
                           "--topology-region=eu", "--topology-zone=eu-1"});
    boost::json::object producer;
    REQUIRE(WaitFor(
        [&] {
          auto nodes = HttpGet((*lookupd)->http_port(), "/nodes");
          if (!nodes.ok() || nodes->status != 200) return false;
          const boost::json::value document = ParseJson(nodes->body);
          const auto& producers = document.at("producers").as_array();
          if (producers.empty()) return false;
          producer = producers[0].as_object();
          return true;
        },
        5s));
    CHECK(producer["tcp_port"] == 14150);
    CHECK(producer["http_port"] == 14151);
    CHECK(producer["topology_region"] == "eu");
    CHECK(producer["topology_zone"] == "eu-1");
  };
  effect("--lookupd-tcp-address", registration);
  effect("--broadcast-tcp-port", registration);
  effect("--broadcast-http-port", registration);
  effect("--topology-region", registration);
  effect("--topology-zone", registration);
  // AUTH (auth_test.cc checks it in depth): with auth servers, nothing before AUTH.
  effect("--auth-http-address=127.0.0.1:1", [](const std::string& flag) {
    ExpectErrorCode(*StartNsqd({flag}), [](RawConn& c) { (void)c.Pub("audit", "x"); },
                    "E_AUTH_FIRST AUTH required before PUB");
    ExpectErrorCode(*StartNsqd(), [](RawConn& c) { (void)c.Auth("s"); }, "E_AUTH_DISABLED");
  });
  inert("--auth-http-request-method=post",
        "--auth-http-address; auth_test.cc checks the POST nsqd then sends");
  effect("--http-client-connect-timeout=100ms", [](const std::string& flag) {
    BlackHole unreachable;  // the default (2 s) would not give up within 1.5 s
    ExpectChannelQueryGivesUp(flag, unreachable.port(), "connect timed out", 1500ms);
  });
  effect("--http-client-request-timeout=100ms", [](const std::string& flag) {
    ListeningSocket silent;  // accepts, never answers; the default (5 s) would take longer
    ExpectChannelQueryGivesUp(flag, silent.port(), "request timed out", 3s);
  });
  effect("--enable-experiment=topology-aware-consumption", [](const std::string& flag) {
    // A consumer in nsqd's zone is offered every message while it has room
    // (tcp_delivery_test.cc checks the zone / region / global order in depth).
    auto nsqd = StartNsqd({flag, "--topology-zone=z1"});
    auto elsewhere = Subscribe(*nsqd, "audit", "c", 10, R"({"topology_zone":"z2"})");
    auto local = Subscribe(*nsqd, "audit", "c", 10, R"({"topology_zone":"z1"})");
    PublishMany(*nsqd, "audit", {"a", "b", "c"});
    for (int i = 0; i < 3; ++i) MustReadMessage(*local);
    CHECK(ChannelStat(*nsqd, "audit", "c", "zone_local_msg_count") == 3);
    CHECK(ChannelStat(*nsqd, "audit", "c", "global_msg_count") == -1);  // omitted: 0
  });
  refused("--enable-experiment=not-an-experiment");
  effect("--data-path", [](const std::string& flag) {
    TempDir dir("audit-data");
    { auto nsqd = StartNsqd({flag + "=" + dir.path()}); }
    CHECK(std::ifstream(dir.path() + "/CURRENT").good());  // RocksDB's files are there
  });
  effect("--mem-queue-size=0", [](const std::string& flag) {
    auto nsqd = StartNsqd({flag});
    Publish(*nsqd, "audit", "x");
    CHECK(TopicStat(*nsqd, "audit", "backend_depth") == 1);
  });
  refused("--max-bytes-per-file=1000");
  effect("--sync-every=1", [](const std::string& flag) {
    auto nsqd = StartNsqd({flag});
    CHECK(nsqd->process().WaitForOutput("fsync every 1 messages", 5s).has_value());
  });
  effect("--sync-timeout=7s", [](const std::string& flag) {
    auto nsqd = StartNsqd({flag});
    CHECK(nsqd->process().WaitForOutput("or 7s after a write", 5s).has_value());
  });
  refused("--queue-scan-worker-pool-max=8");
  refused("--queue-scan-selection-count=30");
  effect("--msg-timeout=2s", [](const std::string& flag) {
    CHECK(Negotiated(*StartNsqd({flag}))["msg_timeout"] == 2000);
  });
  effect("--max-msg-timeout=30s", [](const std::string& flag) {
    CHECK(Negotiated(*StartNsqd({flag}))["max_msg_timeout"] == 30000);
  });
  effect("--max-msg-size=10", [](const std::string& flag) {
    ExpectErrorCode(*StartNsqd({flag}), [](RawConn& c) { (void)c.Pub("audit", "01234567890"); },
                    "E_BAD_MESSAGE");
  });
  effect("--max-body-size=100", [](const std::string& flag) {
    ExpectErrorCode(
        *StartNsqd({flag}),
        [](RawConn& c) { (void)c.Mpub("audit", std::vector<std::string>(2, std::string(60, 'x'))); },
        "E_BAD_BODY");
  });
  effect("--max-req-timeout=1s", [](const std::string& flag) {
    ExpectErrorCode(*StartNsqd({flag}), [](RawConn& c) { (void)c.Dpub("audit", 2000, "x"); },
                    "E_INVALID");
  });
  effect("--max-heartbeat-interval=2s", [](const std::string& flag) {
    ExpectErrorCode(*StartNsqd({flag}),
                    [](RawConn& c) { (void)c.Identify(R"({"heartbeat_interval":3000})"); },
                    "E_BAD_BODY");
  });
  effect("--max-rdy-count=42", [](const std::string& flag) {
    CHECK(Negotiated(*StartNsqd({flag}))["max_rdy_count"] == 42);
  });
  effect("--max-output-buffer-size=1000", [](const std::string& flag) {
    ExpectErrorCode(*StartNsqd({flag}),
                    [](RawConn& c) { (void)c.Identify(R"({"output_buffer_size":2000})"); },
                    "E_BAD_BODY");
  });
  effect("--max-output-buffer-timeout=1s", [](const std::string& flag) {
    ExpectErrorCode(*StartNsqd({flag}),
                    [](RawConn& c) { (void)c.Identify(R"({"output_buffer_timeout":2000})"); },
                    "E_BAD_BODY");
  });
  effect("--min-output-buffer-timeout=100ms", [](const std::string& flag) {
    ExpectErrorCode(*StartNsqd({flag}),
                    [](RawConn& c) { (void)c.Identify(R"({"output_buffer_timeout":50})"); },
                    "E_BAD_BODY");
  });
  effect("--output-buffer-timeout=100ms", [](const std::string& flag) {
    CHECK(Negotiated(*StartNsqd({flag}))["output_buffer_timeout"] == 100);
  });
  effect("--max-channel-consumers=1", [](const std::string& flag) {
    auto nsqd = StartNsqd({flag});
    auto first = Subscribe(*nsqd, "audit", "c", -1);
    ExpectErrorCode(*nsqd, [](RawConn& c) { (void)c.Sub("audit", "c"); },
                    "E_SUB_FAILED SUB failed consumers for audit:c exceeds limit of 1");
  });
  effect("--worker-threads=3", [](const std::string& flag) {
    // Two event-loop threads besides the main one (the suite itself runs under
    // NSQD_WORKER_THREADS=1 and 4, which checks that connections are served on them).
    auto one = StartNsqd({"--worker-threads=1"});
    auto three = StartNsqd({flag});
    // (The threads start, and name themselves, once nsqd is listening.)
    CHECK(WaitFor([&] { return ShardThreadCount(*three) == 2; }, 5s));
    CHECK(ShardThreadCount(*one) == 0);
    // Connections land on every shard in turn; each works.
    std::vector<std::unique_ptr<RawConn>> consumers;
    for (int i = 0; i < 3; ++i) consumers.push_back(Subscribe(*three, "audit", "c", 1));
    PublishMany(*three, "audit", {"a", "b", "c"});
    for (auto& consumer : consumers) MustReadMessage(*consumer);
  });
  effect("--busy-poll=400ms", [](const std::string& flag) {
    // After one publish the loop keeps polling for 400 ms: CPU time accrues while nsqd has
    // nothing to do.
    auto nsqd = StartNsqd({flag});
    Publish(*nsqd, "audit", "x");
    const int64_t before = CpuMillis(*nsqd);
    CHECK(WaitFor([&] { return CpuMillis(*nsqd) - before >= 150; }, 3s));
    // Without the flag every loop sleeps in the kernel once idle: over a second, four shards
    // with a subscriber each spend next to nothing (one spinning loop would spend ~1000 ms).
    auto idle = StartNsqd({"--worker-threads=4"});
    std::vector<std::unique_ptr<RawConn>> consumers;
    for (int i = 0; i < 4; ++i) consumers.push_back(Subscribe(*idle, "audit", "c", 1));
    Publish(*idle, "audit", "x");
    CHECK(WaitFor([&] { return ChannelStat(*idle, "audit", "c", "in_flight_count") == 1; }, 5s));
    const int64_t idle_before = CpuMillis(*idle);
    std::this_thread::sleep_for(1s);  // a window to measure over, not a wait for an event
    CHECK(CpuMillis(*idle) - idle_before < 100);
  });
  // statsd (statsd_test.cc checks the names and values after a workload in depth).
  effect("--statsd-address", [](const std::string&) {
    const std::vector<std::string> lines = StatsdLines(StatsdPush({}));
    CHECK(AnyLineHas(lines, ".topic.audit.message_count:1|c"));
    for (const std::string& line : lines) CHECK_MESSAGE(line.rfind("nsq.", 0) == 0, line);
  });
  effect("--statsd-prefix=audit.%s", [](const std::string& flag) {
    uint16_t http_port = 0;
    const std::vector<std::string> lines =
        StatsdLines(StatsdPush({flag, "--broadcast-address=flag.audit"}, &http_port));
    const std::string prefix = "audit.flag_audit_" + std::to_string(http_port) + ".";
    for (const std::string& line : lines) CHECK_MESSAGE(line.rfind(prefix, 0) == 0, line);
  });
  effect("--statsd-interval=300ms", [](const std::string& flag) {
    // Two pushes within 2 s (the default interval is a minute).
    UdpReceiver statsd;
    auto nsqd =
        StartNsqd({flag, "--statsd-address=127.0.0.1:" + std::to_string(statsd.port())});
    const auto start = std::chrono::steady_clock::now();
    int pushes = 0;
    while (pushes < 2 && std::chrono::steady_clock::now() - start < 2s) {
      std::optional<std::string> packet = statsd.Receive(500ms);
      if (packet && packet->find(".mem.resident_bytes:") != std::string::npos) ++pushes;
    }
    CHECK(pushes == 2);
  });
  effect("--statsd-mem-stats=false", [](const std::string& flag) {
    CHECK_FALSE(AnyLineHas(StatsdLines(StatsdPush({flag})), ".mem."));
    const std::vector<std::string> with = StatsdLines(StatsdPush({}));
    CHECK(AnyLineHas(with, ".mem.resident_bytes:"));
  });
  effect("--statsd-udp-packet-size=100", [](const std::string& flag) {
    const std::vector<std::string> packets = StatsdPush({flag});
    CHECK(packets.size() > 3);  // a push is some 1.5 KB
    for (const std::string& packet : packets) CHECK(packet.size() <= 100);
  });
  effect("--statsd-exclude-ephemeral", [](const std::string& flag) {
    CHECK_FALSE(AnyLineHas(StatsdLines(StatsdPush({flag})), "#ephemeral"));
    CHECK(AnyLineHas(StatsdLines(StatsdPush({})), ".topic.audit_e#ephemeral."));
  });
  // End-to-end latency (tcp_delivery_test.cc checks the values in depth).
  effect("--e2e-processing-latency-percentile=0.99", [](const std::string& flag) {
    auto nsqd = StartNsqd({flag});
    auto consumer = Subscribe(*nsqd, "audit", "c", 1);
    Publish(*nsqd, "audit", "x");
    NSQ_REQUIRE_OK(consumer->Fin(MustReadMessage(*consumer).id.view()));
    CHECK(WaitFor([&] { return ChannelStat(*nsqd, "audit", "c", "in_flight_count") == 0; }, 5s));
    const boost::json::value stats = GetStats(*nsqd, "topic=audit");
    const boost::json::object& latency =
        FindChannel(stats, "audit", "c")->at("e2e_processing_latency").as_object();
    CHECK(latency.at("count") == 1);
    CHECK(latency.at("percentiles").as_array().size() == 1);
  });
  effect("--e2e-processing-latency-window-time=400ms", [](const std::string& flag) {
    // A latency counts for one window at most: with 400 ms it is gone within 400 ms.
    auto nsqd = StartNsqd({"--e2e-processing-latency-percentile=0.99", flag});
    auto consumer = Subscribe(*nsqd, "audit", "c", 1);
    Publish(*nsqd, "audit", "x");
    NSQ_REQUIRE_OK(consumer->Fin(MustReadMessage(*consumer).id.view()));
    auto count = [&] {
      const boost::json::value stats = GetStats(*nsqd, "topic=audit");
      return FindChannel(stats, "audit", "c")
          ->at("e2e_processing_latency")
          .as_object()
          .at("count")
          .to_number<int64_t>();
    };
    CHECK(WaitFor([&] { return count() == 1; }, 5s));
    CHECK(WaitFor([&] { return count() == 0; }, 3s));
  });
  // TLS: the certificate turns the upgrade on; the others shape it (secure_wire_test.cc checks
  // each in depth).
  auto tls_upgrade = [](const std::string&) {
    CertsDir dir;
    auto nsqd = StartNsqd(dir.certs().NsqdFlags());
    CHECK(Negotiated(*nsqd, R"({"tls_v1":true})")["tls_v1"] == true);
  };
  effect("--tls-cert", tls_upgrade);
  effect("--tls-key", tls_upgrade);
  auto verified_clients = [](const std::string&) {
    CertsDir dir;
    std::vector<std::string> flags = dir.certs().NsqdFlags();
    flags.insert(flags.end(), {"--tls-root-ca-file=" + dir.certs().ca_cert,
                               "--tls-client-auth-policy=require-verify",
                               "--tls-required=tcp-https"});
    auto nsqd = StartNsqd(flags);
    auto conn = ConnectV2(*nsqd);
    NSQ_REQUIRE_OK(conn->Identify(R"({"feature_negotiation":true,"tls_v1":true})"));
    NSQ_REQUIRE_OK(conn->ReadFrame());
    RawConn::TlsOptions rogue;
    rogue.cert_file = dir.certs().rogue_cert;
    rogue.key_file = dir.certs().rogue_key;
    absl::Status started = conn->StartTls(rogue);
    if (started.ok()) started = conn->ExpectOk();
    CHECK_FALSE(started.ok());  // a certificate the CA did not sign
  };
  effect("--tls-root-ca-file", verified_clients);
  effect("--tls-client-auth-policy=require-verify", verified_clients);
  effect("--tls-required=true", [](const std::string& flag) {
    CertsDir dir;
    std::vector<std::string> flags = dir.certs().NsqdFlags();
    flags.push_back(flag);
    ExpectErrorCode(*StartNsqd(flags), [](RawConn& c) { (void)c.Pub("audit", "x"); },
                    "E_INVALID cannot PUB in current state (TLS required)");
  });
  effect("--tls-min-version=tls1.3", [](const std::string& flag) {
    CertsDir dir;
    std::vector<std::string> flags = dir.certs().NsqdFlags();
    flags.push_back(flag);
    auto nsqd = StartNsqd(flags);
    auto conn = ConnectV2(*nsqd);
    NSQ_REQUIRE_OK(conn->Identify(R"({"feature_negotiation":true,"tls_v1":true})"));
    NSQ_REQUIRE_OK(conn->ReadFrame());
    CHECK_FALSE(conn->StartTls({.max_version = "tls1.2"}).ok());
  });
  effect("--deflate=false", [](const std::string& flag) {
    CHECK(Negotiated(*StartNsqd({flag}), R"({"deflate":true})")["deflate"] == false);
    CHECK(Negotiated(*StartNsqd(), R"({"deflate":true})")["deflate"] == true);
  });
  effect("--snappy=false", [](const std::string& flag) {
    CHECK(Negotiated(*StartNsqd({flag}), R"({"snappy":true})")["snappy"] == false);
    CHECK(Negotiated(*StartNsqd(), R"({"snappy":true})")["snappy"] == true);
  });
  effect("--max-deflate-level=3", [](const std::string& flag) {
    boost::json::object reply = Negotiated(*StartNsqd({flag}), R"({"deflate":true,"deflate_level":9})");
    CHECK(reply["max_deflate_level"] == 3);
    CHECK(reply["deflate_level"] == 3);
  });
  return cases;
}

TEST_CASE("every nsqd flag in --help is accounted for, and every audited flag is in --help") {
  const std::set<std::string> in_help = FlagsInHelp(TestNsqd::BinaryPath());
  const std::map<std::string, FlagCase> cases = NsqdCases();
  for (const std::string& name : in_help) {
    CHECK_MESSAGE(cases.contains(name), "--", name, " has no entry in the flag audit");
  }
  for (const auto& [name, flag_case] : cases) {
    CHECK_MESSAGE(in_help.contains(name), "--", name, " is audited but not in --help");
  }
}

TEST_CASE("every nsqd flag whose feature is missing stops nsqd with a message naming it") {
  TempDir dir("audit-refused");
  for (const auto& [name, flag_case] : NsqdCases()) {
    if (flag_case.verdict != Verdict::kRefused) continue;
    CAPTURE(flag_case.value);
    Ran ran = RunToExit(TestNsqd::BinaryPath(),
                        {"--tcp-address=127.0.0.1:0", "--http-address=127.0.0.1:0",
                         "--data-path=" + dir.path(), flag_case.value});
    CHECK(ran.status.exit_code == 1);
    CHECK_MESSAGE(ran.output.find("--" + name) != std::string::npos, ran.output);
    // "not supported" / "no effect" (CheckSupported), or nsqd's own validation error.
    CHECK_MESSAGE((ran.output.find("not supported") != std::string::npos ||
                   ran.output.find("no effect") != std::string::npos ||
                   ran.output.find("cannot") != std::string::npos),
                  ran.output);
  }
}

TEST_CASE("every nsqd flag that depends on a refused or absent one is accepted, as in nsqd") {
  std::vector<std::string> flags;
  for (const auto& [name, flag_case] : NsqdCases()) {
    if (flag_case.verdict != Verdict::kInert) continue;
    INFO("--", name, " needs ", flag_case.why);
    flags.push_back(flag_case.value);
  }
  auto nsqd = StartNsqd(flags);
  Publish(*nsqd, "audit", "x");
}

TEST_CASE("every nsqd flag with an effect has it") {
  for (const auto& [name, flag_case] : NsqdCases()) {
    if (flag_case.verdict != Verdict::kEffect) continue;
    SUBCASE(name.c_str()) { flag_case.check(flag_case.value); }
  }
}

// --- nsqlookupd -----------------------------------------------------------------------------

// nsqlookupd's flags all work; the timing ones are covered where their behaviour is tested
// (tests/integration/lookupd/lookupd_test.cc), the rest here.
std::map<std::string, FlagCase> LookupdCases() {
  std::map<std::string, FlagCase> cases;
  auto effect = [&](std::string value, std::function<void(const std::string&)> check) {
    cases[FlagName(value)] = FlagCase{value, Verdict::kEffect, "", std::move(check)};
  };
  effect("--version", [](const std::string& flag) {
    Ran ran = RunToExit(TestLookupd::BinaryPath(), {flag});
    CHECK(ran.status.exit_code == 0);
    CHECK_MESSAGE(ran.output.rfind("nsqlookupd v1.3.0", 0) == 0, ran.output);
  });
  effect("--config", [](const std::string& flag) {
    TempDir dir("audit-lookupd-config");
    std::ofstream(dir.File("lookupd.cfg")) << "broadcast_address = \"from.config\"\n";
    auto lookupd = TestLookupd::Start({flag + "=" + dir.File("lookupd.cfg")});
    NSQ_REQUIRE_OK(lookupd);
    auto conn = RawConn::Connect((*lookupd)->tcp_port());
    NSQ_REQUIRE_OK(conn);
    protocol::LookupPeerInfo peer{"127.0.0.1", "h", 1, 2, "1.3.0", "", ""};
    NSQ_REQUIRE_OK((*conn)->Send(std::string(protocol::kMagicV1) +
                                 protocol::EncodeLookupIdentify(peer)));
    absl::StatusOr<std::string> reply = (*conn)->ReadRaw(4);
    NSQ_REQUIRE_OK(reply);
    const uint32_t size = ntohl(*reinterpret_cast<const uint32_t*>(reply->data()));
    absl::StatusOr<std::string> json = (*conn)->ReadRaw(size);
    NSQ_REQUIRE_OK(json);
    CHECK(ParseJson(*json).at("broadcast_address") == "from.config");
  });
  effect("--log-level=debug", [](const std::string& flag) {
    auto lookupd = TestLookupd::Start({flag});
    NSQ_REQUIRE_OK(lookupd);
    auto conn = RawConn::Connect((*lookupd)->tcp_port());
    NSQ_REQUIRE_OK(conn);
    protocol::LookupPeerInfo peer{"127.0.0.1", "h", 1, 2, "1.3.0", "", ""};
    NSQ_REQUIRE_OK((*conn)->Send(std::string(protocol::kMagicV1) +
                                 protocol::EncodeLookupIdentify(peer) + protocol::EncodeLookupPing()));
    CHECK((*lookupd)->process().WaitForOutput("pinged", 5s).has_value());
  });
  effect("--log-prefix=[audit] ", [](const std::string& flag) {
    auto lookupd = TestLookupd::Start({flag});
    NSQ_REQUIRE_OK(lookupd);
    CHECK((*lookupd)->process().WaitForOutput(std::regex("^\\[audit\\] .*INFO"), 5s).has_value());
  });
  cases["verbose"] =
      FlagCase{"--verbose", Verdict::kInert, "deprecated in nsqlookupd, no effect there either",
               nullptr};
  effect("--tcp-address", [](const std::string& flag) {
    const uint16_t port = FreePort();
    auto lookupd = TestLookupd::Start({flag + "=127.0.0.1:" + std::to_string(port)});
    NSQ_REQUIRE_OK(lookupd);
    CHECK((*lookupd)->tcp_port() == port);
  });
  effect("--http-address", [](const std::string& flag) {
    const uint16_t port = FreePort();
    auto lookupd = TestLookupd::Start({flag + "=127.0.0.1:" + std::to_string(port)});
    NSQ_REQUIRE_OK(lookupd);
    CHECK(HttpGet(port, "/ping")->status == 200);
  });
  // Their behaviour has its own tests in tests/integration/lookupd/lookupd_test.cc.
  auto covered = [&](std::string value, std::string where) {
    cases[FlagName(value)] = FlagCase{value, Verdict::kEffect, where, [](const std::string& flag) {
                                        auto lookupd = TestLookupd::Start({flag});
                                        NSQ_CHECK_OK(lookupd);
                                      }};
  };
  covered("--broadcast-address=lookup.example", "lookupd_test.cc: IDENTIFY reply");
  covered("--inactive-producer-timeout=1s", "lookupd_test.cc: inactive producers are hidden");
  covered("--tombstone-lifetime=1s", "lookupd_test.cc: tombstones expire");
  return cases;
}

TEST_CASE("every nsqlookupd flag in --help is accounted for and has its effect") {
  const std::set<std::string> in_help = FlagsInHelp(TestLookupd::BinaryPath());
  const std::map<std::string, FlagCase> cases = LookupdCases();
  for (const std::string& name : in_help) {
    CHECK_MESSAGE(cases.contains(name), "--", name, " has no entry in the flag audit");
  }
  for (const auto& [name, flag_case] : cases) {
    CHECK_MESSAGE(in_help.contains(name), "--", name, " is audited but not in --help");
    if (flag_case.verdict == Verdict::kEffect) {
      CAPTURE(flag_case.value);
      flag_case.check(flag_case.value);
    }
  }
}

}  // namespace
}  // namespace nsq::testutil
