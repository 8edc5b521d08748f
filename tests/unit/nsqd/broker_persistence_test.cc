// BrokerPersistence over a real RocksDB in a temp dir: topology writes happen off the caller's
// thread, and a failing disk marks nsqd unhealthy until a write succeeds again.
#include "nsqd/broker_persistence.h"

#include <doctest/doctest.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <vector>

#include "nsqd/storage/fault_injector.h"
#include "nsqd/storage/store.h"
#include "tests/testutil/temp_dir.h"
#include "tests/unit/nsqd/fake_env.h"

namespace nsq::nsqd {
namespace {

// The event loop's post(): the store's writer thread hands completions here; the test runs
// them on its own thread, as the loop would.
class PostQueue {
 public:
  std::function<void(std::function<void()>)> Poster() {
    return [this](std::function<void()> fn) {
      std::lock_guard lock(mu_);
      queue_.push_back(std::move(fn));
      cv_.notify_all();
    };
  }
  // Runs the next posted completion; false if none came within the deadline.
  bool RunNext(std::chrono::milliseconds deadline = std::chrono::seconds(10)) {
    std::function<void()> fn;
    {
      std::unique_lock lock(mu_);
      if (!cv_.wait_for(lock, deadline, [&] { return !queue_.empty(); })) return false;
      fn = std::move(queue_.front());
      queue_.erase(queue_.begin());
    }
    fn();
    return true;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::function<void()>> queue_;
};

TEST_CASE("a failing store write makes nsqd unhealthy until a write succeeds again") {
  testutil::TempDir dir("persistence");
  auto faults = std::make_shared<storage::FaultInjector>();
  storage::StoreOptions options;
  options.fault_injector = faults;
  PostQueue loop;
  auto persistence = BrokerPersistence::Open(dir.path(), loop.Poster(), {}, options);
  REQUIRE(persistence.ok());
  testing::FakeEnv env;
  env.context.store = (*persistence)->broker_store();
  Broker broker(env.context);
  REQUIRE((*persistence)->Restore(&broker).ok());
  broker.AddListener(persistence->get());

  broker.GetOrCreateTopic("first");
  REQUIRE(loop.RunNext());
  CHECK((*persistence)->health_error().empty());

  faults->FailWrites(storage::FaultKind::kIoError);
  broker.GetOrCreateTopic("second");
  REQUIRE(loop.RunNext());
  CHECK_FALSE((*persistence)->health_error().empty());

  faults->Heal();
  broker.GetOrCreateTopic("third");
  REQUIRE(loop.RunNext());
  CHECK((*persistence)->health_error().empty());
}

}  // namespace
}  // namespace nsq::nsqd
