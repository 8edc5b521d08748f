#include "nsqd/storage/sync_policy.h"

#include <doctest/doctest.h>

namespace nsq::nsqd::storage {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'700'000'000);

TEST_CASE("sync-every asks for a sync once that many messages are unsynced") {
  SyncTracker tracker({.sync_every = 10, .sync_timeout = absl::ZeroDuration()});
  CHECK_FALSE(tracker.ShouldSync(9));
  CHECK(tracker.ShouldSync(10));
  tracker.RecordUnsynced(9, kT0);
  CHECK_FALSE(tracker.ShouldSync(0));
  CHECK(tracker.ShouldSync(1));
  tracker.RecordSynced();
  CHECK_FALSE(tracker.ShouldSync(9));
  CHECK(tracker.unsynced_messages() == 0);
}

TEST_CASE("sync-every 1 syncs every write that carries a message") {
  SyncTracker tracker({.sync_every = 1, .sync_timeout = absl::ZeroDuration()});
  CHECK(tracker.ShouldSync(1));
  CHECK_FALSE(tracker.ShouldSync(0));
}

TEST_CASE("sync-every 0 never syncs by count") {
  SyncTracker tracker({.sync_every = 0, .sync_timeout = absl::Seconds(2)});
  tracker.RecordUnsynced(1'000'000, kT0);
  CHECK_FALSE(tracker.ShouldSync(1'000'000));
}

TEST_CASE("sync-timeout sets a deadline from the oldest unsynced write") {
  SyncTracker tracker({.sync_every = 0, .sync_timeout = absl::Seconds(2)});
  CHECK(tracker.SyncDeadline() == absl::InfiniteFuture());
  CHECK_FALSE(tracker.dirty());
  tracker.RecordUnsynced(0, kT0);  // a delete-only write dirties the WAL too
  tracker.RecordUnsynced(3, kT0 + absl::Seconds(1));
  CHECK(tracker.dirty());
  CHECK(tracker.SyncDeadline() == kT0 + absl::Seconds(2));
  tracker.RecordSynced();
  CHECK(tracker.SyncDeadline() == absl::InfiniteFuture());
  tracker.RecordUnsynced(1, kT0 + absl::Seconds(5));
  CHECK(tracker.SyncDeadline() == kT0 + absl::Seconds(7));
}

TEST_CASE("a zero sync-timeout never sets a deadline") {
  SyncTracker tracker({.sync_every = 5, .sync_timeout = absl::ZeroDuration()});
  tracker.RecordUnsynced(1, kT0);
  CHECK(tracker.SyncDeadline() == absl::InfiniteFuture());
}

}  // namespace
}  // namespace nsq::nsqd::storage
