// The JSON documents of IDENTIFY: what a client sends and what nsqd answers with
// feature_negotiation. Parsing and encoding only; validation against nsqd's limits is the
// daemon's (nsqd/client_settings.cc), because it depends on flags.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace nsq::protocol {

// Fields a client may send. Absent fields keep their zero value, which NSQ treats as "use the
// default". Unknown keys (short_id, long_id, ...) are ignored; a key with a value of the wrong
// type is an error (as Go's json.Unmarshal into the struct would be).
struct IdentifyRequest {
  std::string client_id;
  std::string hostname;
  std::string user_agent;
  bool feature_negotiation = false;
  int64_t heartbeat_interval = 0;     // ms; -1 disables
  int64_t output_buffer_size = 0;     // bytes; -1 unbuffered
  int64_t output_buffer_timeout = 0;  // ms; -1 disables the flush timer
  int64_t sample_rate = 0;            // 0..99
  int64_t msg_timeout = 0;            // ms
  bool tls_v1 = false;
  bool snappy = false;
  bool deflate = false;
  int64_t deflate_level = 0;
  std::string topology_region;
  std::string topology_zone;
};

absl::StatusOr<IdentifyRequest> ParseIdentifyRequest(std::string_view json);
std::string EncodeIdentifyRequest(const IdentifyRequest& request);

// nsqd's answer when feature_negotiation is true. Encoded with the fields in upstream's order.
struct IdentifyResponse {
  int64_t max_rdy_count = 2500;
  std::string version;
  int64_t max_msg_timeout = 900000;  // ms
  int64_t msg_timeout = 60000;       // ms
  bool tls_v1 = false;
  bool deflate = false;
  int64_t deflate_level = 6;
  int64_t max_deflate_level = 6;
  bool snappy = false;
  int64_t sample_rate = 0;
  bool auth_required = false;
  int64_t output_buffer_size = 16384;
  int64_t output_buffer_timeout = 250;  // ms
  std::string topology_region;
  std::string topology_zone;
};

std::string EncodeIdentifyResponse(const IdentifyResponse& response);
absl::StatusOr<IdentifyResponse> ParseIdentifyResponse(std::string_view json);

}  // namespace nsq::protocol
