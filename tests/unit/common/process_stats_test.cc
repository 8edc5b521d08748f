#include "common/util/process_stats.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <vector>

namespace nsq::util {
namespace {

TEST_CASE("process figures come from /proc/self: RSS grows with touched memory, fds are counted") {
  const ProcessStats before = ReadProcessStats();
  CHECK(before.resident_bytes > 0);
  CHECK(before.virtual_bytes >= before.resident_bytes);
  CHECK(before.open_fds >= 3);  // stdin, stdout, stderr at least
  CHECK(before.max_fds >= before.open_fds);

  std::vector<char> touched(64 << 20, 1);  // 64 MiB written: resident
  int fds[4];
  for (int& fd : fds) fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  const ProcessStats after = ReadProcessStats();
  CHECK(after.resident_bytes >= before.resident_bytes + (60 << 20));
  CHECK(after.open_fds == before.open_fds + 4);
  for (int fd : fds) close(fd);
  CHECK(touched[touched.size() - 1] == 1);
}

TEST_CASE("CPU time accrues while the process computes") {
  const double before = ReadProcessStats().cpu_seconds;
  volatile uint64_t sink = 0;
  while (ReadProcessStats().cpu_seconds < before + 0.05) {
    for (int i = 0; i < 1000000; ++i) sink = sink + static_cast<uint64_t>(i);
  }
  CHECK(ReadProcessStats().cpu_seconds >= before + 0.05);
}

TEST_CASE("the heap figures follow allocations") {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // The sanitizer's allocator replaces glibc's, whose mallinfo2 then reports nothing.
  return;
#endif
  const HeapStats before = ReadHeapStats();
  std::vector<char> block(8 << 20, 1);
  const HeapStats after = ReadHeapStats();
  CHECK(after.in_use_bytes >= before.in_use_bytes + (8 << 20));
  CHECK(block[0] == 1);
}

}  // namespace
}  // namespace nsq::util
