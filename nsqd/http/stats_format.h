// Renders GET /stats the way nsqd does: the JSON document (format=json) with nsqd's field
// names and its null-versus-[] quirks, and the human-readable text page (the default).
// Internal to nsqd/http; pure functions over a BrokerStats snapshot.
//
//   StatsPage page{.version = "1.3.0", .start_time = 1700000000, .now_ns = NowNs(),
//                  .stats = &broker_stats, .include_clients = true};
//   std::string body = StatsJson(page);
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "nsqd/broker/broker.h"

namespace nsq::nsqd {

// nsqd reports Go runtime heap figures; we report the allocator's equivalents (glibc
// mallinfo2) and zeros for what has no equivalent (there is no garbage collector).
struct MemoryStats {
  uint64_t heap_objects = 0;
  uint64_t heap_idle_bytes = 0;
  uint64_t heap_in_use_bytes = 0;
  uint64_t heap_released_bytes = 0;
  uint64_t gc_pause_usec_100 = 0;
  uint64_t gc_pause_usec_99 = 0;
  uint64_t gc_pause_usec_95 = 0;
  uint64_t next_gc_bytes = 0;
  uint32_t gc_total_runs = 0;
};

MemoryStats ReadMemoryStats();

struct StatsPage {
  std::string version;
  std::string health = "OK";  // or "NOK - <error>"
  int64_t start_time = 0;     // Unix seconds
  int64_t now_ns = 0;         // Unix ns: uptime and each client's connected time
  const BrokerStats* stats = nullptr;
  // nsqd prints "clients": null and "producers": null when clients are excluded.
  bool include_clients = true;
  std::optional<MemoryStats> memory;  // absent: include_mem=false
};

std::string StatsJson(const StatsPage& page);
std::string StatsText(const StatsPage& page);

// Go's time.Duration formatting for whole seconds ("0s", "59s", "1m0s", "2h3m4s"), which the
// text page uses for uptime and connection ages.
std::string GoDurationSeconds(int64_t seconds);

}  // namespace nsq::nsqd
