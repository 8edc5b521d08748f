#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <string_view>

#include "nsqd/storage/store.h"

namespace {

// `nsqd_storage_tests --open-store=<path>`: opens a store and prints the result. The
// second-opener test runs this in a child process, because RocksDB's LOCK is a file lock
// that only another process truly contends for.
int OpenStoreAndExit(const char* path) {
  auto store = nsq::nsqd::storage::Store::Open(path);
  std::printf("open: %s\n", store.ok() ? "OK" : store.status().ToString().c_str());
  std::fflush(stdout);
  return store.ok() ? 0 : 3;
}

}  // namespace

int main(int argc, char** argv) {
  constexpr std::string_view kOpenFlag = "--open-store=";
  if (argc == 2 && std::string_view(argv[1]).starts_with(kOpenFlag)) {
    return OpenStoreAndExit(argv[1] + kOpenFlag.size());
  }
  return doctest::Context(argc, argv).run();
}
