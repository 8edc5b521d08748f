// LookupdOptions: every setting of nsqlookupd, with NSQ's defaults (NSQ-REFERENCE §5.3). The
// comment on each field names the flag (and TOML config key) that sets it; this struct doubles
// as the configuration reference.
#pragma once

#include <string>

#include "absl/time/time.h"

namespace nsq::lookupd {

struct LookupdOptions {
  // --log-level (log_level): debug, info, warn, error, fatal.
  std::string log_level = "info";
  // --log-prefix (log_prefix).
  std::string log_prefix = "[nsqlookupd] ";

  // --tcp-address (tcp_address): where nsqd nodes register (protocol V1).
  std::string tcp_address = "0.0.0.0:4160";
  // --http-address (http_address): the discovery API clients poll.
  std::string http_address = "0.0.0.0:4161";
  // --broadcast-address (broadcast_address): told to nsqd in the IDENTIFY reply; nsqd uses it
  // with our HTTP port to ask for a new topic's channels. Default: the hostname.
  std::string broadcast_address;

  // --inactive-producer-timeout (inactive_producer_timeout): a producer that has not sent
  // PING or IDENTIFY for longer is hidden from /lookup and /nodes (not removed).
  absl::Duration inactive_producer_timeout = absl::Seconds(300);
  // --tombstone-lifetime (tombstone_lifetime): how long POST /topic/tombstone hides a producer
  // of a topic from /lookup.
  absl::Duration tombstone_lifetime = absl::Seconds(45);
};

}  // namespace nsq::lookupd
