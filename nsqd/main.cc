// nsqd: an NSQ-compatible message broker. Flags and behaviour follow NSQ's nsqd.
#include <csignal>
#include <cstdio>

#include "common/log/logger.h"
#include "nsqd/nsqd.h"
#include "nsqd/nsqd_flags.h"

int main(int argc, char** argv) {
  auto command_line = nsq::nsqd::ParseNsqdCommandLine(argc, argv);
  if (!command_line.ok()) {
    std::fprintf(stderr, "nsqd: %s\n", std::string(command_line.status().message()).c_str());
    return 1;
  }
  if (command_line->show_help) {
    std::fputs(command_line->help_text.c_str(), stdout);
    return 0;
  }
  if (command_line->show_version) {
    std::printf("nsqd v%s (built w/g++ %d.%d.%d)\n", nsq::nsqd::NsqdVersion(), __GNUC__,
                __GNUC_MINOR__, __GNUC_PATCHLEVEL__);
    return 0;
  }
  const nsq::nsqd::NsqdOptions& options = command_line->options;
  if (absl::Status supported = nsq::nsqd::CheckSupported(options); !supported.ok()) {
    std::fprintf(stderr, "nsqd: %s\n", std::string(supported.message()).c_str());
    return 1;
  }
  nsq::log::Level level = nsq::log::Level::kInfo;
  nsq::log::ParseLevel(options.log_level, &level);
  nsq::log::Init(options.log_prefix, level);
  NSQ_LOG_INFO("nsqd v%s (built w/g++ %d.%d.%d)", nsq::nsqd::NsqdVersion(), __GNUC__,
               __GNUC_MINOR__, __GNUC_PATCHLEVEL__);
  NSQ_LOG_INFO("ID: %d", options.node_id);
  for (const std::string& key : command_line->ignored_config_keys) {
    NSQ_LOG_WARN("config file: unknown option %s ignored", key);
  }

  // A file growing past RLIMIT_FSIZE must fail that write (the publisher gets E_PUB_FAILED),
  // not kill the broker.
  std::signal(SIGXFSZ, SIG_IGN);

  auto nsqd = nsq::nsqd::Nsqd::Create(options);
  if (!nsqd.ok()) {
    NSQ_LOG_FATAL("failed to start nsqd - %s", nsqd.status().message());
    return 1;
  }
  (*nsqd)->Run();
  return 0;
}
