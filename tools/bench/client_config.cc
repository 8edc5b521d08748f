#include "tools/bench/client_config.h"

namespace nsq::bench {

client::Config ClientConfigFor(const BenchOptions& options) {
  client::Config config;
  config.log_level = client::LogLevel::kWarning;
  config.tls_v1 = options.tls;
  config.tls_config.ca_file = options.tls_ca_file;
  config.tls_config.insecure_skip_verify = options.tls && options.tls_ca_file.empty();
  config.snappy = options.snappy;
  config.deflate = options.deflate;
  config.sync_publish_on_caller_thread = options.caller_thread;
  return config;
}

}  // namespace nsq::bench
