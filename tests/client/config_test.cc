// Config defaults and validation, and what the client does with bad arguments before any I/O.
#include "nsq/config.h"

#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "nsq/consumer.h"
#include "nsq/lookupd.h"
#include "nsq/producer.h"

namespace nsq::client {
namespace {

using namespace std::chrono_literals;

std::string ErrorOf(const Config& config) {
  absl::Status status = config.Validate();
  CHECK(absl::IsInvalidArgument(status));
  return std::string(status.message());
}

TEST_CASE("The default Config is valid and carries go-nsq's defaults") {
  Config config;
  CHECK(config.Validate().ok());
  CHECK(config.dial_timeout == 1s);
  CHECK(config.read_timeout == 60s);
  CHECK(config.write_timeout == 1s);
  CHECK(config.lookupd_poll_interval == 60s);
  CHECK(config.lookupd_poll_jitter == doctest::Approx(0.3));
  CHECK(config.max_requeue_delay == 15min);
  CHECK(config.default_requeue_delay == 90s);
  CHECK(config.backoff_multiplier == 1s);
  CHECK(config.max_backoff_duration == 2min);
  CHECK(config.max_attempts == 5);
  CHECK(config.max_in_flight == 1);
  CHECK(config.heartbeat_interval == 30s);
  CHECK(config.output_buffer_size == 16384);
  CHECK(config.output_buffer_timeout == 250ms);
  CHECK(config.msg_timeout == 0ms);
  CHECK(config.sample_rate == 0);
  CHECK(config.user_agent == std::string("nsq-cpp/") + Version());
  CHECK(!config.hostname.empty());
  CHECK(config.client_id.find('.') == std::string::npos);
  CHECK(config.hostname.rfind(config.client_id, 0) == 0);
}

TEST_CASE("Validate names the option that is out of range") {
  Config config;
  SUBCASE("max_in_flight") {
    config.max_in_flight = -1;
    CHECK(ErrorOf(config).find("max_in_flight = -1") != std::string::npos);
  }
  SUBCASE("sample_rate") {
    config.sample_rate = 100;
    CHECK(ErrorOf(config).find("sample_rate = 100 is out of range [0, 99]") != std::string::npos);
  }
  SUBCASE("max_attempts") {
    config.max_attempts = 70000;
    CHECK(ErrorOf(config).find("max_attempts") != std::string::npos);
  }
  SUBCASE("read_timeout") {
    config.read_timeout = 50ms;
    CHECK(ErrorOf(config).find("read_timeout = 50ms") != std::string::npos);
  }
  SUBCASE("lookupd_poll_jitter") {
    config.lookupd_poll_jitter = 1.5;
    CHECK(ErrorOf(config).find("lookupd_poll_jitter") != std::string::npos);
  }
  SUBCASE("a heartbeat not shorter than read_timeout") {
    config.heartbeat_interval = 60s;
    CHECK(ErrorOf(config).find("must be less than read_timeout") != std::string::npos);
  }
  SUBCASE("a heartbeat below one second") {
    config.heartbeat_interval = 500ms;
    CHECK(ErrorOf(config).find("heartbeat_interval") != std::string::npos);
  }
  SUBCASE("dial_timeout") {
    config.dial_timeout = 0ms;
    CHECK(ErrorOf(config).find("dial_timeout = 0ms is out of range (must be >= 1ms)") !=
          std::string::npos);
  }
  SUBCASE("deflate_level") {
    config.deflate_level = 10;
    CHECK(ErrorOf(config).find("deflate_level = 10 is out of range [1, 9]") != std::string::npos);
  }
  SUBCASE("snappy and deflate together, as go-nsq") {
    config.snappy = true;
    config.deflate = true;
    CHECK(ErrorOf(config).find("snappy and deflate") != std::string::npos);
  }
  SUBCASE("tls_config.min_version") {
    config.tls_config.min_version = "ssl3";
    CHECK(ErrorOf(config).find("tls_config.min_version = \"ssl3\"") != std::string::npos);
  }
  SUBCASE("a client certificate without its key") {
    config.tls_config.cert_file = "client.pem";
    CHECK(ErrorOf(config).find("cert_file and tls_config.key_file") != std::string::npos);
  }
}

TEST_CASE("TLS, snappy and deflate are off by default; TLS verifies nsqd from TLS 1.2 on") {
  Config config;
  CHECK(!config.tls_v1);
  CHECK(!config.snappy);
  CHECK(!config.deflate);
  CHECK(config.deflate_level == 6);
  CHECK(config.tls_config.ca_file.empty());
  CHECK(!config.tls_config.insecure_skip_verify);
  CHECK(config.tls_config.server_name.empty());
  CHECK(config.tls_config.min_version == "tls1.2");
  for (const char* version : {"tls1.0", "tls1.1", "tls1.2", "tls1.3"}) {
    config.tls_config.min_version = version;
    CHECK(config.Validate().ok());
  }
}

TEST_CASE("TLS files that cannot be loaded fail the Producer and Consumer before any I/O") {
  Config config;
  config.tls_v1 = true;
  config.tls_config.ca_file = "/nonexistent/ca.pem";
  Producer producer("127.0.0.1:4150", config);
  CHECK(absl::IsInvalidArgument(producer.status()));
  CHECK(
      std::string(producer.status().message()).find("tls_config.ca_file \"/nonexistent/ca.pem\"") !=
      std::string::npos);

  config.tls_config.ca_file.clear();
  config.tls_config.cert_file = "/nonexistent/client.pem";
  config.tls_config.key_file = "/nonexistent/client.key";
  Consumer consumer("t", "c", config);
  consumer.SetHandler([](Message&) { return absl::OkStatus(); });
  absl::Status status = consumer.ConnectToNsqd("127.0.0.1:4150");
  CHECK(absl::IsInvalidArgument(status));
  CHECK(std::string(status.message()).find("tls_config.cert_file") != std::string::npos);
}

TEST_CASE("Heartbeats may be disabled with -1") {
  Config config;
  config.heartbeat_interval = -1ms;
  CHECK(config.Validate().ok());
}

TEST_CASE("A Producer with a bad address or Config fails every command with that error") {
  Producer bad_address("no-port-here", Config());
  CHECK(absl::IsInvalidArgument(bad_address.status()));
  CHECK(absl::IsInvalidArgument(bad_address.Publish("t", "x")));

  Config config;
  config.max_in_flight = -5;
  Producer bad_config("127.0.0.1:4150", config);
  absl::Status status = bad_config.Publish("t", "x");
  CHECK(absl::IsInvalidArgument(status));
  CHECK(std::string(status.message()).find("max_in_flight") != std::string::npos);
}

TEST_CASE("A Consumer refuses to connect without a handler, with bad names, or after Stop") {
  Consumer consumer("t", "c", Config());
  CHECK(absl::IsFailedPrecondition(consumer.ConnectToNsqd("127.0.0.1:1")));
  consumer.SetHandler([](Message&) { return absl::OkStatus(); });
  CHECK(absl::IsInvalidArgument(consumer.ConnectToNsqd("nonsense")));
  CHECK(absl::IsInvalidArgument(consumer.ConnectToNsqLookupd("also:nonsense")));
  consumer.Stop();
  CHECK(absl::IsFailedPrecondition(consumer.ConnectToNsqd("127.0.0.1:1")));

  Consumer bad_topic("a topic", "c", Config());
  bad_topic.SetHandler([](Message&) { return absl::OkStatus(); });
  absl::Status status = bad_topic.ConnectToNsqd("127.0.0.1:1");
  CHECK(absl::IsInvalidArgument(status));
  CHECK(std::string(status.message()).find("topic name \"a topic\"") != std::string::npos);
}

TEST_CASE("Addresses are checked at the call: nsqd host:port; lookupd host:port or http:// URL") {
  Consumer consumer("t", "c", Config());
  consumer.SetHandler([](Message&) { return absl::OkStatus(); });
  for (const char* good : {"127.0.0.1:4161", "http://127.0.0.1:4162", "http://127.0.0.1:4163/",
                           "http://localhost:4161/lookup", "[::1]:4161", ":4164"}) {
    CHECK_MESSAGE(consumer.ConnectToNsqLookupd(good).ok(), good);
  }
  for (const char* bad : {"https://127.0.0.1:4161", "ftp://127.0.0.1:4161", "http://",
                          "http://127.0.0.1", "127.0.0.1", "127.0.0.1:4161/lookup",
                          "http://127.0.0.1:4161/lookup?topic=x", "http://127.0.0.1:99999",
                          "host name:4161", "::1:4161", "127.0.0.1:0"}) {
    const absl::Status status = consumer.ConnectToNsqLookupd(bad);
    CHECK_MESSAGE(absl::IsInvalidArgument(status), bad, " → ", status.ToString());
    CHECK_MESSAGE(absl::StrContains(status.message(), bad), status.ToString());
  }
  for (const char* bad : {"http://127.0.0.1:4150", "127.0.0.1", "127.0.0.1:65536", "a b:4150"}) {
    const absl::Status status = consumer.ConnectToNsqd(bad);
    CHECK_MESSAGE(absl::IsInvalidArgument(status), bad, " → ", status.ToString());
    CHECK_MESSAGE(absl::IsInvalidArgument(Producer(bad, Config()).status()), bad);
  }
  CHECK(absl::IsInvalidArgument(
      Producer(std::vector<std::string>{"127.0.0.1:4150", "bad"}, Config()).status()));
  CHECK(absl::IsInvalidArgument(Producer(std::vector<std::string>{}, Config()).status()));
  CHECK(absl::IsInvalidArgument(LookupTopicProducers("https://127.0.0.1:4161", "t").status()));
  consumer.Stop();
}

}  // namespace
}  // namespace nsq::client
