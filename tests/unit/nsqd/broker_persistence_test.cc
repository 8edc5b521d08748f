// BrokerPersistence over a real RocksDB in a temp dir: topology writes happen off the caller's
// thread, and a failing disk marks nsqd unhealthy until a write succeeds again.
#include "nsqd/broker_persistence.h"

#include <doctest/doctest.h>


#include "nsqd/storage/fault_injector.h"
#include "nsqd/storage/store.h"
#include "tests/testutil/temp_dir.h"
#include "tests/unit/nsqd/fake_env.h"
#include "tests/unit/nsqd/post_queue.h"

namespace nsq::nsqd {
namespace {

TEST_CASE("a failing store write makes nsqd unhealthy until a write succeeds again") {
  testutil::TempDir dir("persistence");
  auto faults = std::make_shared<storage::FaultInjector>();
  storage::StoreOptions options;
  options.fault_injector = faults;
  testing::PostQueue loop;
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
