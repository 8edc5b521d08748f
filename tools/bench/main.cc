// nsq_bench: NSQ's bench_writer and bench_reader in one binary, for measuring our nsqd (or
// Go's). See tools/README.md.
//
//   nsq_bench writer --nsqd-tcp-address=127.0.0.1:4150 --runfor=10s --batch-size=200
//   nsq_bench reader --topic=sub_bench --channel=ch --rdy=2500
#include <cstdio>

#include "absl/status/statusor.h"
#include "tools/bench/bench_flags.h"
#include "tools/bench/bench_run.h"
#include "tools/bench/reader.h"
#include "tools/bench/writer.h"

int main(int argc, char** argv) {
  using nsq::bench::BenchOptions;
  absl::StatusOr<BenchOptions> options = nsq::bench::ParseBenchFlags(argc, argv);
  if (!options.ok()) {
    std::fprintf(stderr, "nsq_bench: %s\n%s\n", std::string(options.status().message()).c_str(),
                 "usage: nsq_bench writer|reader [flags]; --help lists them");
    return 2;
  }
  if (options->show_help) {
    std::printf("%s", nsq::bench::BenchUsage().c_str());
    return 0;
  }

  absl::StatusOr<nsq::bench::BenchResult> result = options->mode == nsq::bench::BenchMode::kWriter
                                                       ? nsq::bench::RunWriter(*options)
                                                       : nsq::bench::RunReader(*options);
  if (!result.ok()) {
    std::fprintf(stderr, "nsq_bench: %s\n", std::string(result.status().message()).c_str());
    return 1;
  }
  nsq::bench::PrintResult(*options, *result);
  return 0;
}
