// ClientSettings: what a connection negotiated in IDENTIFY, validated against nsqd's limits
// with nsqd's error texts. Pure: no sockets, unit-tested.
#pragma once

#include <cstdint>
#include <string>
#include <variant>

#include "common/protocol/errors.h"
#include "common/protocol/identify.h"
#include "nsqd/options.h"

namespace nsq::nsqd {

struct ClientSettings {
  int64_t heartbeat_interval_ms = 30000;  // 0: heartbeats disabled
  int64_t output_buffer_size = 16384;     // bytes; 1 means unbuffered
  int64_t output_buffer_timeout_ms = 250;  // 0: no flush timer
  int64_t sample_rate = 0;
  int64_t msg_timeout_ms = 60000;
  // The request's level if > 0, else 6, capped at --max-deflate-level (nsqd computes it so,
  // and reports it even when deflate is off).
  int64_t deflate_level = 6;

  // The defaults of a connection that never sent IDENTIFY.
  static ClientSettings Defaults(const NsqdOptions& options);
};

// What IDENTIFY with feature_negotiation turns on for the connection's byte stream: TLS, then
// one of snappy or deflate above it (NSQ-REFERENCE §1.7).
struct StreamUpgrades {
  bool tls = false;
  bool snappy = false;
  bool deflate = false;
  int64_t deflate_level = 6;

  bool any() const { return tls || snappy || deflate; }
  bool compressed() const { return snappy || deflate; }
};

// nsqd's rules: TLS only when nsqd has a certificate (`tls_available`), snappy/deflate only
// when --snappy/--deflate allow them, never both (fatal E_IDENTIFY_FAILED). `active` is what
// the connection already runs: an IDENTIFY sent after an upgrade negotiates nothing new.
std::variant<StreamUpgrades, protocol::ClientError> NegotiateUpgrades(
    const protocol::IdentifyRequest& request, const ClientSettings& settings,
    const NsqdOptions& options, bool tls_available, const StreamUpgrades& active);

// Applies an IDENTIFY request on top of `current`. Checks in nsqd's order: heartbeat, output
// buffer timeout, output buffer size, sample rate, msg timeout. Errors are fatal E_BAD_BODY.
std::variant<ClientSettings, protocol::ClientError> ApplyIdentify(
    const protocol::IdentifyRequest& request, const ClientSettings& current,
    const NsqdOptions& options);

// The JSON reply to an IDENTIFY with feature_negotiation; `stream` is what the connection runs
// once the upgrades are done.
protocol::IdentifyResponse MakeIdentifyResponse(const ClientSettings& settings,
                                                const NsqdOptions& options,
                                                const std::string& version,
                                                const StreamUpgrades& stream);

}  // namespace nsq::nsqd
