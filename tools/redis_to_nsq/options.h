// redis_to_nsq's command line (flag names in NSQ's style, as to_nsq and nsq_to_file).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tools/redis_to_nsq/key_layout.h"
#include "tools/redis_to_nsq/redis_url.h"

namespace nsq::redis_to_nsq {

struct Options {
  RedisEndpoint redis;              // --redis-url
  std::string ns;                   // --namespace
  std::optional<Format> format;     // --format (nullopt: auto)
  std::vector<std::string> queues;  // --queues
  std::vector<std::string> nsqd_tcp_addresses;      // --nsqd-tcp-address
  std::vector<std::string> lookupd_http_addresses;  // --lookupd-http-address
  std::vector<std::string> topics;  // --topic queue=topic
  bool merge = false;
  bool include_scheduled = false;
  bool include_retry = false;
  bool include_dead = false;
  bool adopt_in_progress = false;
  absl::Duration max_req_timeout = absl::Hours(1);  // nsqd's
  absl::Duration horizon = absl::Hours(1);          // --horizon (default: max-req-timeout)
  bool follow = false;
  bool dry_run = false;
  bool strict = false;
  int64_t batch = 500;
  int64_t rate = 0;  // jobs/s, 0: unlimited
  std::string id = "default";
  int64_t max_msg_size = 1048576;   // nsqd's --max-msg-size
  int64_t max_body_size = 5242880;  // nsqd's --max-body-size
  std::string progress = "auto";    // auto | terminal | log
  std::string log_level = "info";
};

struct CommandLine {
  Options options;
  bool show_help = false;
  bool show_version = false;
  std::string help_text;
};

// Parses argv; an error is a usage error (exit code 2) whose message names the flag.
absl::StatusOr<CommandLine> ParseCommandLine(int argc, const char* const* argv);

}  // namespace nsq::redis_to_nsq
