// The nsq::client::Config both client-* modes of nsq_bench run with: quiet logging, and the
// --tls / --snappy / --deflate choices of the command line.
#pragma once

#include "nsq/config.h"
#include "tools/bench/bench_flags.h"

namespace nsq::bench {

client::Config ClientConfigFor(const BenchOptions& options);

}  // namespace nsq::bench
