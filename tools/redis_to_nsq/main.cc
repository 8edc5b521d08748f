// redis_to_nsq: moves Sidekiq and go-workers job queues from Redis to NSQ topics, losing
// nothing. See docs/migration.md.
#include <csignal>
#include <cstdio>

#include "tools/redis_to_nsq/migrator.h"
#include "tools/redis_to_nsq/options.h"

int main(int argc, char** argv) {
  // A Redis or nsqd connection that drops mid-write must be an error to retry, not the end.
  std::signal(SIGPIPE, SIG_IGN);
  absl::StatusOr<nsq::redis_to_nsq::CommandLine> command_line =
      nsq::redis_to_nsq::ParseCommandLine(argc, argv);
  if (!command_line.ok()) {
    std::fprintf(stderr, "redis_to_nsq: %s\n", std::string(command_line.status().message()).c_str());
    return 2;
  }
  if (command_line->show_help) {
    std::fputs(command_line->help_text.c_str(), stdout);
    return 0;
  }
  if (command_line->show_version) {
    std::printf("redis_to_nsq v%s\n", NSQ_VERSION);
    return 0;
  }
  return nsq::redis_to_nsq::RunMigration(command_line->options);
}
