#include "nsqd/shard/shard_set.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <pthread.h>

#include <cassert>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace nsq::nsqd {
namespace {

namespace asio = boost::asio;
using WorkGuard = asio::executor_work_guard<asio::io_context::executor_type>;

thread_local int t_current_shard = -1;

// The tasks one shard has for each other shard during the current turn of its loop. Owned by
// the sending shard's thread; `scheduled` says a flush is already queued on its loop.
struct Outbox {
  std::vector<ShardSet::Task> deferred;           // run first, on this shard
  std::vector<std::vector<ShardSet::Task>> to;  // indexed by target shard
  bool scheduled = false;
};

}  // namespace

struct ShardSet::Impl {
  std::chrono::microseconds busy_poll{0};
  struct Shard {
    asio::io_context* io = nullptr;
    std::unique_ptr<asio::io_context> owned;  // shards 1 .. N-1
    std::optional<WorkGuard> keep_running;    // until Stop
    std::thread thread;
    Outbox outbox;  // touched only on this shard's thread
  };
  std::vector<Shard> shards;

  // Queues Flush at the end of `from`'s current turn, once.
  void ScheduleFlush(int from) {
    Outbox& outbox = shards[static_cast<size_t>(from)].outbox;
    if (outbox.scheduled) return;
    outbox.scheduled = true;
    // Runs after the handlers already queued on this loop: the end of the current turn.
    asio::post(*shards[static_cast<size_t>(from)].io, [this, from] { Flush(from); });
  }

  // Runs the deferred tasks, then hands each target the tasks gathered for it during this
  // turn, one post per target.
  void Flush(int from) {
    Outbox& outbox = shards[static_cast<size_t>(from)].outbox;
    // Deferred tasks may Post (handed over below) or Defer again (for the next flush).
    std::vector<Task> deferred = std::move(outbox.deferred);
    outbox.deferred.clear();  // moved from: make it empty again
    for (Task& task : deferred) std::move(task)();
    outbox.scheduled = false;
    for (size_t to = 0; to < outbox.to.size(); ++to) {
      if (outbox.to[to].empty()) continue;
      asio::post(*shards[to].io, [batch = std::move(outbox.to[to])]() mutable {
        for (Task& task : batch) std::move(task)();
      });
      outbox.to[to].clear();  // moved from: make it empty again
    }
    if (!outbox.deferred.empty()) ScheduleFlush(from);
  }
};

ShardSet::ShardSet(asio::io_context* main, int count, std::chrono::microseconds busy_poll)
    : impl_(std::make_unique<Impl>()) {
  assert(count >= 1);
  impl_->busy_poll = busy_poll;
  impl_->shards.resize(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) {
    Impl::Shard& shard = impl_->shards[static_cast<size_t>(i)];
    if (i == 0) {
      shard.io = main;
    } else {
      shard.owned = std::make_unique<asio::io_context>(1);
      shard.io = shard.owned.get();
      shard.keep_running.emplace(shard.io->get_executor());
    }
    shard.outbox.to.resize(static_cast<size_t>(count));
  }
}

ShardSet::~ShardSet() { Stop(); }

int ShardSet::size() const { return static_cast<int>(impl_->shards.size()); }

asio::io_context* ShardSet::io(int shard) const {
  return impl_->shards[static_cast<size_t>(shard)].io;
}

int ShardSet::Current() { return t_current_shard; }

void ShardSet::MarkMainThread() { t_current_shard = 0; }

void ShardSet::Start() {
  for (size_t i = 1; i < impl_->shards.size(); ++i) {
    Impl::Shard& shard = impl_->shards[i];
    if (shard.thread.joinable()) continue;
    // A handler that throws ends the process (std::terminate), as it would on shard 0.
    shard.thread = std::thread([io = shard.io, index = static_cast<int>(i), this] {
      t_current_shard = index;
      // "shard-<n>" in top -H, perf and /proc/<pid>/task/<tid>/comm.
      pthread_setname_np(pthread_self(), ("shard-" + std::to_string(index)).c_str());
      RunLoop(*io, impl_->busy_poll);
    });
  }
}

void ShardSet::RunMain() {
  MarkMainThread();
  RunLoop(*impl_->shards[0].io, impl_->busy_poll);
}

void ShardSet::RunLoop(asio::io_context& io, std::chrono::microseconds busy_poll) {
  if (busy_poll.count() <= 0) {
    io.run();
    return;
  }
  using Clock = std::chrono::steady_clock;
  Clock::time_point poll_until = Clock::now() + busy_poll;
  for (;;) {
    if (io.poll() > 0) {
      poll_until = Clock::now() + busy_poll;
      continue;
    }
    if (io.stopped()) return;  // out of work
    if (Clock::now() < poll_until) {
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
      continue;
    }
    // Idle for the whole window: sleep until something happens.
    if (io.run_one() == 0) return;
    poll_until = Clock::now() + busy_poll;
  }
}

void ShardSet::Stop() {
  for (size_t i = 1; i < impl_->shards.size(); ++i) {
    Impl::Shard& shard = impl_->shards[i];
    shard.keep_running.reset();
    if (shard.thread.joinable()) shard.thread.join();
  }
}

void ShardSet::Post(int to, Task task) {
  const int from = t_current_shard;
  assert(from >= 0 && from < size());
  impl_->shards[static_cast<size_t>(from)].outbox.to[static_cast<size_t>(to)].push_back(
      std::move(task));
  impl_->ScheduleFlush(from);
}

void ShardSet::Defer(Task task) {
  const int from = t_current_shard;
  assert(from >= 0 && from < size());
  impl_->shards[static_cast<size_t>(from)].outbox.deferred.push_back(std::move(task));
  impl_->ScheduleFlush(from);
}

}  // namespace nsq::nsqd
