// nsq_bench: NSQ's bench_writer and bench_reader in one binary, for measuring our nsqd (or
// Go's), plus the same two over our C++ client library. See tools/README.md.
//
//   nsq_bench writer --nsqd-tcp-address=127.0.0.1:4150 --runfor=10s --batch-size=200
//   nsq_bench reader --topic=sub_bench --channel=ch --rdy=2500
//   nsq_bench client-writer --batch-size=1 --async --pipeline=64
//   nsq_bench client-reader --topic=sub_bench --channel=ch --rdy=2500
//   nsq_bench idle --connections=10000 --runfor=2m
//   nsq_bench latency --rate=50000 --runfor=10s
#include <cstdio>

#include "absl/status/statusor.h"
#include "tools/bench/bench_flags.h"
#include "tools/bench/bench_run.h"
#include "tools/bench/client_reader.h"
#include "tools/bench/client_writer.h"
#include "tools/bench/idle.h"
#include "tools/bench/latency.h"
#include "tools/bench/reader.h"
#include "tools/bench/writer.h"

int main(int argc, char** argv) {
  using nsq::bench::BenchOptions;
  absl::StatusOr<BenchOptions> options = nsq::bench::ParseBenchFlags(argc, argv);
  if (!options.ok()) {
    std::fprintf(stderr, "nsq_bench: %s\n%s\n", std::string(options.status().message()).c_str(),
                 "usage: nsq_bench writer|reader|client-writer|client-reader|idle|latency "
                 "[flags]; "
                 "--help lists them");
    return 2;
  }
  if (options->show_help) {
    std::printf("%s", nsq::bench::BenchUsage().c_str());
    return 0;
  }

  if (options->mode == nsq::bench::BenchMode::kIdle ||
      options->mode == nsq::bench::BenchMode::kLatency) {
    absl::Status status = options->mode == nsq::bench::BenchMode::kIdle
                              ? nsq::bench::RunIdle(*options)
                              : nsq::bench::RunLatency(*options);
    if (!status.ok()) {
      std::fprintf(stderr, "nsq_bench: %s\n", std::string(status.message()).c_str());
      return 1;
    }
    return 0;
  }

  absl::StatusOr<nsq::bench::BenchResult> result;
  switch (options->mode) {
    case nsq::bench::BenchMode::kWriter:
      result = nsq::bench::RunWriter(*options);
      break;
    case nsq::bench::BenchMode::kReader:
      result = nsq::bench::RunReader(*options);
      break;
    case nsq::bench::BenchMode::kClientWriter:
      result = nsq::bench::RunClientWriter(*options);
      break;
    case nsq::bench::BenchMode::kClientReader:
      result = nsq::bench::RunClientReader(*options);
      break;
    case nsq::bench::BenchMode::kIdle:
    case nsq::bench::BenchMode::kLatency:
      break;  // handled above
  }
  if (!result.ok()) {
    std::fprintf(stderr, "nsq_bench: %s\n", std::string(result.status().message()).c_str());
    return 1;
  }
  nsq::bench::PrintResult(*options, *result);
  return 0;
}
