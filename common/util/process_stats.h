// The running process's own figures, for /metrics, statsd and /stats: resident memory and CPU
// from /proc/self, open descriptors from /proc/self/fd, and the allocator's heap from glibc's
// mallinfo2. Each reader is a few system calls; any of them may be called on an event loop at
// scrape or push intervals (mallinfo2 locks every malloc arena briefly, so it is kept out of
// the per-second scrape: ReadHeapStats is separate).
//
//   ProcessStats p = ReadProcessStats();
//   p.resident_bytes;   // 0 when /proc could not be read
#pragma once

#include <cstdint>

namespace nsq::util {

struct ProcessStats {
  uint64_t resident_bytes = 0;  // RSS: /proc/self/statm resident pages × page size
  uint64_t virtual_bytes = 0;   // /proc/self/statm size × page size
  uint64_t open_fds = 0;        // entries of /proc/self/fd
  uint64_t max_fds = 0;         // RLIMIT_NOFILE soft limit
  double cpu_seconds = 0;       // user + system time (/proc/self/stat)
};

// Zeros for what cannot be read (not Linux, no /proc).
ProcessStats ReadProcessStats();

// The allocator's view (glibc mallinfo2; zeros elsewhere).
struct HeapStats {
  uint64_t in_use_bytes = 0;  // allocated: arena bytes in use + mmapped chunks
  uint64_t idle_bytes = 0;    // free bytes held by the allocator in its arenas
};

HeapStats ReadHeapStats();

}  // namespace nsq::util
