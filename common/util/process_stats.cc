#include "common/util/process_stats.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace nsq::util {
namespace {

// The whole of a small /proc file (read(2) into a buffer: no stdio locking, no iostreams).
std::string ReadSmallFile(const char* path) {
  std::string text;
  FILE* file = std::fopen(path, "re");
  if (file == nullptr) return text;
  char buffer[1024];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof(buffer), file)) > 0) text.append(buffer, n);
  std::fclose(file);
  return text;
}

}  // namespace

ProcessStats ReadProcessStats() {
  ProcessStats stats;
  const long page = sysconf(_SC_PAGESIZE);
  unsigned long long size_pages = 0;
  unsigned long long resident_pages = 0;
  const std::string statm = ReadSmallFile("/proc/self/statm");
  if (std::sscanf(statm.c_str(), "%llu %llu", &size_pages, &resident_pages) == 2 && page > 0) {
    stats.virtual_bytes = size_pages * static_cast<uint64_t>(page);
    stats.resident_bytes = resident_pages * static_cast<uint64_t>(page);
  }

  // utime and stime are fields 14 and 15; the command name (field 2) is in parentheses and may
  // hold spaces, so count from the last ')'.
  const std::string stat = ReadSmallFile("/proc/self/stat");
  const size_t paren = stat.rfind(')');
  const long ticks = sysconf(_SC_CLK_TCK);
  if (paren != std::string::npos && ticks > 0) {
    unsigned long long utime = 0;
    unsigned long long stime = 0;
    // After ") ": state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt
    // utime stime.
    if (std::sscanf(stat.c_str() + paren + 1,
                    " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime,
                    &stime) == 2) {
      stats.cpu_seconds = static_cast<double>(utime + stime) / static_cast<double>(ticks);
    }
  }

  if (DIR* dir = opendir("/proc/self/fd")) {
    uint64_t entries = 0;
    while (const dirent* entry = readdir(dir)) {
      if (entry->d_name[0] != '.') ++entries;
    }
    closedir(dir);
    // The directory's own descriptor was open while it was read.
    stats.open_fds = entries > 0 ? entries - 1 : 0;
  }

  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    stats.max_fds = limit.rlim_cur;
  }
  return stats;
}

HeapStats ReadHeapStats() {
  HeapStats heap;
#if defined(__GLIBC__)
  const struct mallinfo2 info = mallinfo2();
  heap.in_use_bytes = info.uordblks + info.hblkhd;
  heap.idle_bytes = info.fordblks;
#endif
  return heap;
}

}  // namespace nsq::util
