#include "common/config/flag_set.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "tests/unit/config/test_files.h"

namespace nsq::config {
namespace {

using testing::Argv;
using testing::TempFile;

// A flag set over one variable of every type, with NSQ-like names and defaults.
struct Fixture {
  bool deflate = true;
  bool verbose = false;
  int64_t mem_queue_size = 10000;
  int64_t node_id = 7;
  std::string tcp_address = "0.0.0.0:4150";
  std::string https_address = "0.0.0.0:4152";
  std::string tls_required = "false";
  absl::Duration msg_timeout = absl::Seconds(60);
  std::vector<std::string> lookupds;
  std::vector<double> percentiles;
  std::string config_path;
  FlagSet flags{"nsqd"};

  Fixture() {
    flags.AddConfigFile("config", &config_path, "path to config file");
    flags.AddBool("deflate", &deflate, "enable deflate");
    flags.AddBool("verbose", &verbose, "deprecated").CommandLineOnly();
    flags.AddInt("mem-queue-size", &mem_queue_size, "messages in memory");
    flags.AddInt("node-id", &node_id, "node id").ConfigKey("id");
    flags.AddString("tcp-address", &tcp_address, "TCP listener");
    flags.AddString("https-address", &https_address, "HTTPS listener");
    flags.AddString("tls-required", &tls_required, "require TLS").ImplicitValue("true");
    flags.AddDuration("msg-timeout", &msg_timeout, "message timeout");
    flags.AddStringList("lookupd-tcp-address", &lookupds, "lookupd address")
        .ConfigKey("nsqlookupd_tcp_addresses");
    flags.AddFloatList("e2e-processing-latency-percentile", &percentiles, "percentiles")
        .ConfigKey("e2e_processing_latency_percentiles");
  }

  absl::StatusOr<ParseResult> Parse(std::initializer_list<std::string> args) {
    Argv argv(args);
    return flags.Parse(argv.argc(), argv.argv());
  }

  // The error message of a parse that must fail.
  std::string ParseError(std::initializer_list<std::string> args) {
    absl::StatusOr<ParseResult> result = Parse(args);
    REQUIRE_FALSE(result.ok());
    return std::string(result.status().message());
  }
};

TEST_CASE("Without arguments every option keeps its default") {
  Fixture f;
  absl::StatusOr<ParseResult> result = f.Parse({});
  REQUIRE(result.ok());
  CHECK_FALSE(result->help_requested);
  CHECK(result->config_file.empty());
  CHECK(f.deflate);
  CHECK(f.mem_queue_size == 10000);
  CHECK(f.tcp_address == "0.0.0.0:4150");
  CHECK(f.msg_timeout == absl::Seconds(60));
  CHECK(f.lookupds.empty());
  CHECK_FALSE(f.flags.IsSetOnCommandLine("mem-queue-size"));
}

TEST_CASE("A value may follow '=' or come as the next argument, after one or two dashes") {
  Fixture f;
  REQUIRE(f.Parse({"--mem-queue-size=5", "--tcp-address", "127.0.0.1:1", "-msg-timeout=2s",
                   "-node-id", "9"})
              .ok());
  CHECK(f.mem_queue_size == 5);
  CHECK(f.tcp_address == "127.0.0.1:1");
  CHECK(f.msg_timeout == absl::Seconds(2));
  CHECK(f.node_id == 9);
  CHECK(f.flags.IsSetOnCommandLine("mem-queue-size"));
  CHECK(f.flags.IsSetOnCommandLine("node-id"));
  CHECK_FALSE(f.flags.IsSetOnCommandLine("deflate"));
}

TEST_CASE("The last occurrence of a scalar flag wins") {
  Fixture f;
  REQUIRE(f.Parse({"--mem-queue-size=5", "--mem-queue-size=6"}).ok());
  CHECK(f.mem_queue_size == 6);
}

TEST_CASE("A boolean flag is bare or takes =value, never the next argument") {
  Fixture f;
  REQUIRE(f.Parse({"--verbose", "--deflate=false"}).ok());
  CHECK(f.verbose);
  CHECK_FALSE(f.deflate);

  Fixture g;
  REQUIRE(g.Parse({"--deflate=0", "--verbose=T"}).ok());
  CHECK_FALSE(g.deflate);
  CHECK(g.verbose);

  Fixture h;
  CHECK(h.ParseError({"--deflate", "false"}) ==
        "unexpected argument \"false\" (flags are written --name=value)");
  CHECK(h.ParseError({"--deflate=yes"}) ==
        "invalid value \"yes\" for flag --deflate: \"yes\" is not a boolean");
}

TEST_CASE("An empty string value is accepted") {
  Fixture f;
  REQUIRE(f.Parse({"--https-address="}).ok());
  CHECK(f.https_address.empty());

  Fixture g;
  REQUIRE(g.Parse({"--https-address", ""}).ok());
  CHECK(g.https_address.empty());
}

TEST_CASE("As in Go, a flag's value may start with a dash") {
  Fixture f;
  REQUIRE(f.Parse({"--tcp-address", "--mem-queue-size=5"}).ok());
  CHECK(f.tcp_address == "--mem-queue-size=5");
  CHECK(f.mem_queue_size == 10000);
}

TEST_CASE("A flag with an implicit value uses it when bare and takes =value otherwise") {
  Fixture f;
  REQUIRE(f.Parse({"--tls-required"}).ok());
  CHECK(f.tls_required == "true");

  Fixture g;
  REQUIRE(g.Parse({"--tls-required=tcp-https"}).ok());
  CHECK(g.tls_required == "tcp-https");
}

TEST_CASE("A list flag may be repeated and each occurrence appends") {
  Fixture f;
  REQUIRE(f.Parse({"--lookupd-tcp-address", "a:4160", "--lookupd-tcp-address=b:4160"}).ok());
  CHECK(f.lookupds == std::vector<std::string>{"a:4160", "b:4160"});
}

TEST_CASE("A string list keeps commas; a float list splits on them") {
  Fixture f;
  REQUIRE(f.Parse({"--lookupd-tcp-address=a,b", "--e2e-processing-latency-percentile=1.0,0.99",
                   "--e2e-processing-latency-percentile", "0.5"})
              .ok());
  CHECK(f.lookupds == std::vector<std::string>{"a,b"});
  CHECK(f.percentiles == std::vector<double>{1.0, 0.99, 0.5});
  CHECK(f.ParseError({"--e2e-processing-latency-percentile=0.9,x"}) ==
        "invalid value \"0.9,x\" for flag --e2e-processing-latency-percentile: \"x\" is not a "
        "number");
}

TEST_CASE("Bad integers are errors that name the flag") {
  Fixture f;
  CHECK(f.ParseError({"--mem-queue-size=12x"}) ==
        "invalid value \"12x\" for flag --mem-queue-size: \"12x\" is not a decimal integer");
  CHECK(f.ParseError({"--mem-queue-size="}).find("not a decimal integer") != std::string::npos);
  CHECK(f.ParseError({"--mem-queue-size=99999999999999999999"}).find("out of range") !=
        std::string::npos);
  CHECK(f.ParseError({"--mem-queue-size=1.5"}).find("--mem-queue-size") != std::string::npos);

  Fixture g;
  REQUIRE(g.Parse({"--mem-queue-size=-3", "--node-id=+4"}).ok());
  CHECK(g.mem_queue_size == -3);
  CHECK(g.node_id == 4);
}

TEST_CASE("Bad durations are errors that name the flag") {
  Fixture f;
  CHECK(f.ParseError({"--msg-timeout=60"}) ==
        "invalid value \"60\" for flag --msg-timeout: missing unit in duration \"60\" (write e.g. "
        "60s, 250ms or 1h30m)");
  CHECK(f.ParseError({"--msg-timeout=5x"}) ==
        "invalid value \"5x\" for flag --msg-timeout: unknown unit \"x\" in duration \"5x\"");
  CHECK(f.ParseError({"--msg-timeout=abc"}).find("invalid duration") != std::string::npos);
}

TEST_CASE("Unknown flags, bad syntax, missing values and stray arguments are errors") {
  Fixture f;
  CHECK(f.ParseError({"--nope=1"}) == "flag provided but not defined: --nope");
  CHECK(f.ParseError({"-nope"}) == "flag provided but not defined: --nope");
  CHECK(f.ParseError({"---deflate"}) == "bad flag syntax: ---deflate");
  CHECK(f.ParseError({"--=1"}) == "bad flag syntax: --=1");
  CHECK(f.ParseError({"--tcp-address"}) == "flag needs an argument: --tcp-address");
  CHECK(f.ParseError({"extra"}) ==
        "unexpected argument \"extra\" (flags are written --name=value)");
  CHECK(f.ParseError({"--", "extra"}) ==
        "unexpected argument \"extra\" (flags are written --name=value)");
}

TEST_CASE("'--' alone ends the flags") {
  Fixture f;
  REQUIRE(f.Parse({"--mem-queue-size=1", "--"}).ok());
  CHECK(f.mem_queue_size == 1);
}

TEST_CASE("--help and -h ask for the usage, which lists every flag with its default") {
  for (std::string arg : {"--help", "-h", "-help", "--h"}) {
    Fixture f;
    absl::StatusOr<ParseResult> result = f.Parse({"--mem-queue-size=1", arg, "--nope"});
    REQUIRE(result.ok());
    CHECK(result->help_requested);
  }
  Fixture f;
  std::string usage = f.flags.Usage();
  CHECK(usage.rfind("Usage of nsqd:\n", 0) == 0);
  CHECK(usage.find("  --mem-queue-size int\n        messages in memory (default 10000)\n") !=
        std::string::npos);
  CHECK(usage.find("  --msg-timeout duration\n        message timeout (default 1m)\n") !=
        std::string::npos);
  CHECK(usage.find("  --tcp-address string\n        TCP listener (default \"0.0.0.0:4150\")\n") !=
        std::string::npos);
  CHECK(usage.find("  --verbose\n        deprecated\n") != std::string::npos);
  CHECK(usage.find("--lookupd-tcp-address value") != std::string::npos);
  // Sorted by name.
  CHECK(usage.find("--config") < usage.find("--deflate"));
  CHECK(usage.find("--deflate") < usage.find("--tcp-address"));
}

TEST_CASE("Go durations parse with every unit, fractions, signs and several components") {
  struct Case {
    const char* text;
    absl::Duration want;
  };
  for (const Case& c : std::vector<Case>{
           {"60s", absl::Seconds(60)},
           {"250ms", absl::Milliseconds(250)},
           {"1h30m", absl::Minutes(90)},
           {"1.5s", absl::Milliseconds(1500)},
           {"100us", absl::Microseconds(100)},
           {"100\xC2\xB5s", absl::Microseconds(100)},
           {"100\xCE\xBCs", absl::Microseconds(100)},
           {"7ns", absl::Nanoseconds(7)},
           {"15m", absl::Minutes(15)},
           {"0", absl::ZeroDuration()},
           {"-0", absl::ZeroDuration()},
           {"0s", absl::ZeroDuration()},
           {"-1.5h", -absl::Minutes(90)},
           {"+5s", absl::Seconds(5)},
           {".5s", absl::Milliseconds(500)},
           {"1.s", absl::Seconds(1)},
           {"1h1m1s1ms1us1ns", absl::Hours(1) + absl::Minutes(1) + absl::Seconds(1) +
                                   absl::Milliseconds(1) + absl::Microseconds(1) +
                                   absl::Nanoseconds(1)},
           {"0.000000001s", absl::Nanoseconds(1)},
           {"1.0000000001s", absl::Seconds(1)},
           {"9223372036854775807ns", absl::Nanoseconds(INT64_MAX)},
       }) {
    CAPTURE(c.text);
    absl::StatusOr<absl::Duration> got = ParseGoDuration(c.text);
    REQUIRE(got.ok());
    CHECK(*got == c.want);
  }
}

TEST_CASE("Go durations reject bare numbers, unknown units, junk and overflow") {
  for (const char* text : {"", "60", "1.5", "s", ".s", ".", "-", "5x", "5 s", "1d", "abc", "5s5",
                           "9223372036854775808ns", "2562048h", "99999999999999999999s"}) {
    CAPTURE(text);
    CHECK_FALSE(ParseGoDuration(text).ok());
  }
}

TEST_CASE("Go durations format as Go's time.Duration.String") {
  struct Case {
    absl::Duration duration;
    const char* want;
  };
  for (const Case& c : std::vector<Case>{
           {absl::ZeroDuration(), "0s"},
           {absl::Nanoseconds(10), "10ns"},
           {absl::Microseconds(250), "250\xC2\xB5s"},
           {absl::Nanoseconds(1500), "1.5\xC2\xB5s"},
           {absl::Milliseconds(1) + absl::Microseconds(500), "1.5ms"},
           {absl::Seconds(1), "1s"},
           {absl::Milliseconds(10001), "10.001s"},
           {absl::Minutes(90), "1h30m0s"},
           {absl::Hours(1) + absl::Minutes(2) + absl::Milliseconds(3500), "1h2m3.5s"},
           {-absl::Milliseconds(1500), "-1.5s"},
       }) {
    CAPTURE(c.want);
    CHECK(FormatGoDuration(c.duration) == c.want);
    // And back.
    CHECK(*ParseGoDuration(FormatGoDuration(c.duration)) == c.duration);
  }
}

TEST_CASE("Booleans parse as Go's strconv.ParseBool") {
  for (const char* text : {"1", "t", "T", "TRUE", "true", "True"}) CHECK(*ParseGoBool(text));
  for (const char* text : {"0", "f", "F", "FALSE", "false", "False"})
    CHECK_FALSE(*ParseGoBool(text));
  for (const char* text : {"", "yes", "tRUE", "2"}) CHECK_FALSE(ParseGoBool(text).ok());
}

TEST_CASE("The config file sets options by config key and reports unknown keys") {
  TempFile file(R"(
mem_queue_size = 5
id = 12
tcp_address = "127.0.0.1:9999"
deflate = false
msg_timeout = "1m30s"
nsqlookupd_tcp_addresses = ["127.0.0.1:4160", "127.0.0.1:4161"]
e2e_processing_latency_percentiles = [1.0, 0.99, 1]
unknown_key = "whatever"
verbose = true
config = "other.toml"
)");
  Fixture f;
  absl::StatusOr<ParseResult> result = f.Parse({"--config", file.path()});
  REQUIRE(result.ok());
  CHECK(result->config_file == file.path());
  CHECK(f.config_path == file.path());
  CHECK(f.mem_queue_size == 5);
  CHECK(f.node_id == 12);
  CHECK(f.tcp_address == "127.0.0.1:9999");
  CHECK_FALSE(f.deflate);
  CHECK(f.msg_timeout == absl::Seconds(90));
  CHECK(f.lookupds == std::vector<std::string>{"127.0.0.1:4160", "127.0.0.1:4161"});
  CHECK(f.percentiles == std::vector<double>{1.0, 0.99, 1.0});
  // Command-line-only flags have no config key, so their names are unknown keys too.
  CHECK(result->ignored_config_keys ==
        std::vector<std::string>{"config", "unknown_key", "verbose"});
  CHECK_FALSE(f.verbose);
}

TEST_CASE("An explicit flag beats the config file, which beats the default") {
  TempFile file(R"(
mem_queue_size = 5
msg_timeout = "10s"
nsqlookupd_tcp_addresses = ["from-file:4160"]
)");
  Fixture f;
  REQUIRE(f.Parse({"--mem-queue-size=6", "--config=" + file.path(), "--lookupd-tcp-address=a",
                   "--lookupd-tcp-address=b"})
              .ok());
  CHECK(f.mem_queue_size == 6);                             // flag, given before --config
  CHECK(f.msg_timeout == absl::Seconds(10));                // file
  CHECK(f.tcp_address == "0.0.0.0:4150");                   // default
  CHECK(f.lookupds == std::vector<std::string>{"a", "b"});  // flags replace the file's list

  Fixture g;
  REQUIRE(g.Parse({"--config", file.path()}).ok());
  CHECK(g.lookupds == std::vector<std::string>{"from-file:4160"});
}

TEST_CASE("The config file accepts go-options' conversions") {
  TempFile file(R"(
mem_queue_size = "42"
deflate = "false"
msg_timeout = 1500
nsqlookupd_tcp_addresses = "a:1, b:2"
e2e_processing_latency_percentiles = "0.5, 0.25"
tls_required = true
)");
  Fixture f;
  REQUIRE(f.Parse({"--config", file.path()}).ok());
  CHECK(f.mem_queue_size == 42);
  CHECK_FALSE(f.deflate);
  CHECK(f.msg_timeout == absl::Milliseconds(1500));  // integers are milliseconds
  CHECK(f.lookupds == std::vector<std::string>{"a:1", "b:2"});
  CHECK(f.percentiles == std::vector<double>{0.5, 0.25});
  CHECK(f.tls_required == "true");
}

TEST_CASE("A config value of the wrong type is an error naming the key") {
  struct Case {
    const char* toml;
    const char* message;
  };
  for (const Case& c : std::vector<Case>{
           {"mem_queue_size = 1.5", "key mem_queue_size: expected an integer, got a float"},
           {"mem_queue_size = \"x\"", "key mem_queue_size: \"x\" is not a decimal integer"},
           {"deflate = 1", "key deflate: expected a boolean, got an integer"},
           {"tcp_address = 4150", "key tcp_address: expected a string, got an integer"},
           {"tcp_address = true", "key tcp_address: expected a string, got a boolean"},
           {"tls_required = 1", "key tls_required: expected a string or a boolean, got an integer"},
           {"msg_timeout = \"60\"", "key msg_timeout: missing unit in duration \"60\""},
           {"msg_timeout = 1.5",
            "key msg_timeout: expected a duration string such as \"60s\", got "
            "a float"},
           {"nsqlookupd_tcp_addresses = [1]",
            "key nsqlookupd_tcp_addresses: expected an array of strings, got an integer"},
           {"nsqlookupd_tcp_addresses = 3",
            "key nsqlookupd_tcp_addresses: expected an array of strings, got an integer"},
           {"e2e_processing_latency_percentiles = [\"x\"]",
            "key e2e_processing_latency_percentiles: expected an array of numbers, got a string"},
           {"[id]\nx = 1", "key id: expected an integer, got a table"},
       }) {
    CAPTURE(c.toml);
    TempFile file(c.toml);
    Fixture f;
    std::string error = f.ParseError({"--config", file.path()});
    CHECK(error.rfind("config file \"" + file.path() + "\": ", 0) == 0);
    CHECK(error.find(c.message) != std::string::npos);
  }
}

TEST_CASE("An unreadable or invalid config file is an error naming the file") {
  Fixture f;
  CHECK(f.ParseError({"--config=/nonexistent/nsqd.toml"}) ==
        "cannot read config file \"/nonexistent/nsqd.toml\": No such file or directory");

  TempFile file("mem_queue_size = = 5\n");
  std::string error = f.ParseError({"--config", file.path()});
  CHECK(error.rfind("invalid config file \"" + file.path() + "\": line 1", 0) == 0);
}

TEST_CASE("A bad value in the config file is reported even when a flag overrides it") {
  TempFile file("mem_queue_size = \"lots\"\n");
  Fixture f;
  CHECK(f.ParseError({"--config", file.path(), "--mem-queue-size=1"}).find("key mem_queue_size") !=
        std::string::npos);
}

TEST_CASE("Values render as JSON by config key, as Go's encoding/json renders them") {
  Fixture f;
  REQUIRE(f.Parse({"--tcp-address=a\"<b>", "--lookupd-tcp-address=x:1",
                   "--e2e-processing-latency-percentile=1.0,0.99"})
              .ok());
  CHECK(f.flags.ValueJson("deflate") == "true");
  CHECK(f.flags.ValueJson("mem_queue_size") == "10000");
  CHECK(f.flags.ValueJson("id") == "7");
  CHECK(f.flags.ValueJson("tcp_address") == "\"a\\\"\\u003cb\\u003e\"");
  CHECK(f.flags.ValueJson("msg_timeout") == "60000000000");
  CHECK(f.flags.ValueJson("nsqlookupd_tcp_addresses") == "[\"x:1\"]");
  CHECK(f.flags.ValueJson("e2e_processing_latency_percentiles") == "[1,0.99]");

  CHECK_FALSE(f.flags.ValueJson("node_id").has_value());  // its key is "id"
  CHECK_FALSE(f.flags.ValueJson("verbose").has_value());  // command line only
  CHECK_FALSE(f.flags.ValueJson("config").has_value());
  CHECK_FALSE(f.flags.ValueJson("nope").has_value());
}

TEST_CASE("An empty list renders as an empty JSON array") {
  Fixture f;
  CHECK(f.flags.ValueJson("nsqlookupd_tcp_addresses") == "[]");
  CHECK(f.flags.ValueJson("e2e_processing_latency_percentiles") == "[]");
}

TEST_CASE("ConfigKeys lists the config keys of all file-settable options, sorted") {
  Fixture f;
  CHECK(f.flags.ConfigKeys() ==
        std::vector<std::string>{"deflate", "e2e_processing_latency_percentiles", "https_address",
                                 "id", "mem_queue_size", "msg_timeout", "nsqlookupd_tcp_addresses",
                                 "tcp_address", "tls_required"});
}

}  // namespace
}  // namespace nsq::config
