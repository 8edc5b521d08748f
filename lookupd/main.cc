// nsqlookupd: NSQ's discovery daemon. Flags and behaviour follow NSQ's nsqlookupd.
#include <cstdio>

#include "common/log/logger.h"
#include "lookupd/lookupd.h"
#include "lookupd/lookupd_flags.h"

int main(int argc, char** argv) {
  auto command_line = nsq::lookupd::ParseLookupdCommandLine(argc, argv);
  if (!command_line.ok()) {
    std::fprintf(stderr, "nsqlookupd: %s\n", std::string(command_line.status().message()).c_str());
    return 1;
  }
  if (command_line->show_help) {
    std::fputs(command_line->help_text.c_str(), stdout);
    return 0;
  }
  if (command_line->show_version) {
    std::printf("nsqlookupd v%s (built w/g++ %d.%d.%d)\n", nsq::lookupd::LookupdVersion(), __GNUC__,
                __GNUC_MINOR__, __GNUC_PATCHLEVEL__);
    return 0;
  }
  const nsq::lookupd::LookupdOptions& options = command_line->options;
  nsq::log::Level level = nsq::log::Level::kInfo;
  nsq::log::ParseLevel(options.log_level, &level);
  nsq::log::Init(options.log_prefix, level);
  NSQ_LOG_INFO("nsqlookupd v%s (built w/g++ %d.%d.%d)", nsq::lookupd::LookupdVersion(), __GNUC__,
               __GNUC_MINOR__, __GNUC_PATCHLEVEL__);
  for (const std::string& key : command_line->ignored_config_keys) {
    NSQ_LOG_WARN("config file: unknown option %s ignored", key);
  }

  auto lookupd = nsq::lookupd::Lookupd::Create(options);
  if (!lookupd.ok()) {
    NSQ_LOG_FATAL("failed to start nsqlookupd - %s", lookupd.status().message());
    return 1;
  }
  (*lookupd)->Run();
  return 0;
}
