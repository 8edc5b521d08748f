#include "nsqd/storage/store.h"

#include <doctest/doctest.h>

#include <chrono>
#include <fstream>
#include <string>

#include "tests/testutil/process.h"
#include "tests/testutil/temp_dir.h"
#include "tests/unit/nsqd/storage/store_test_util.h"

namespace nsq::nsqd::storage {
namespace {

using testing::AppendNumbered;
using testing::OpenStore;
using testutil::TempDir;

bool Contains(absl::string_view haystack, std::string_view needle) {
  return std::string_view(haystack.data(), haystack.size()).find(needle) != std::string::npos;
}

TEST_CASE("opening a new path creates the store") {
  TempDir dir("store");
  auto store = OpenStore(dir.File("nested/db"));
  CHECK(store->path() == dir.File("nested/db"));
  CHECK(store->KnownQueueIds().empty());
}

TEST_CASE("a missing store is NotFound when create_if_missing is off") {
  TempDir dir("store");
  StoreOptions options;
  options.create_if_missing = false;
  absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(dir.File("db"), options);
  CHECK(store.status().code() == absl::StatusCode::kNotFound);
}

TEST_CASE("a second Store on the same path in this process is refused with a clear message") {
  TempDir dir("store");
  auto first = OpenStore(dir.File("db"));
  absl::StatusOr<std::unique_ptr<Store>> second = Store::Open(dir.File("db"));
  REQUIRE_FALSE(second.ok());
  CHECK(second.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(Contains(second.status().message(), "in use by another nsqd"));
  CHECK(Contains(second.status().message(), dir.File("db")));
  CHECK(Contains(second.status().message(), "--data-path"));
}

TEST_CASE("a second process opening the same path is refused with a clear message") {
  TempDir dir("store");
  auto first = OpenStore(dir.File("db"));
  testutil::Process::Options options;
  options.argv = {"/proc/self/exe", "--open-store=" + dir.File("db")};
  auto child = testutil::Process::Start(std::move(options));
  REQUIRE(child.ok());
  auto line = (*child)->WaitForOutput("open:", std::chrono::seconds(20));
  REQUIRE(line.has_value());
  CHECK(Contains(*line, "FAILED_PRECONDITION"));
  CHECK(Contains(*line, "in use by another nsqd"));

  // Once the first store is closed, the path opens again.
  first.reset();
  auto reopened = OpenStore(dir.File("db"));
  CHECK(reopened != nullptr);
}

TEST_CASE("a corrupt store is refused with DataLoss and what to do about it") {
  TempDir dir("store");
  {
    auto store = OpenStore(dir.File("db"));
    AppendNumbered(*store, store->AllocateQueueId(), 0, 10);
  }
  {
    // CURRENT names the live MANIFEST; garbage there is the classic unreadable database.
    std::ofstream current(dir.File("db/CURRENT"), std::ios::trunc);
    current << "garbage";
  }
  absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(dir.File("db"));
  REQUIRE_FALSE(store.ok());
  CHECK(store.status().code() == absl::StatusCode::kDataLoss);
  CHECK(Contains(store.status().message(), "corrupt"));
  CHECK(Contains(store.status().message(), "--data-path pointing elsewhere"));
}

TEST_CASE("ApproximateSize grows with what is written") {
  TempDir dir("store");
  auto store = OpenStore(dir.File("db"));
  const uint64_t empty = store->ApproximateSize();
  AppendNumbered(*store, store->AllocateQueueId(), 0, 2000, 100, 200);
  CHECK(store->ApproximateSize() > empty + 2000 * 200);
}

}  // namespace
}  // namespace nsq::nsqd::storage
