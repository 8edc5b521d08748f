// MessagePool: recycles the consumer's MessageStates, so that a message in steady state costs
// no allocation: the state, its strings' capacity and its shared_ptr control block all come back
// when the last Message handle for it is dropped. Internal; included by consumer.cc only.
//
//   MessagePool* pool = MessagePool::Create(/*max_free=*/4096);
//   std::shared_ptr<MessageState> state = pool->Acquire();   // io thread only
//   ...                                                      // any thread drops it: recycled
//   pool->Close();  // the owner is done; the pool frees itself once every state is back
//
// Threads: Acquire() belongs to one thread (the consumer's io thread); states come back on any
// thread. The io thread takes returned states in batches, so each side locks the mutex about
// once per message at most and rarely at the same time. Lifetime: Messages may outlive the
// consumer, so the pool deletes itself when it is closed and the last state has come back.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <new>
#include <utility>
#include <vector>

#include "client/src/message_state.h"

namespace nsq::client::internal {

class MessagePool {
 public:
  static MessagePool* Create(size_t max_free) { return new MessagePool(max_free); }

  MessagePool(const MessagePool&) = delete;
  MessagePool& operator=(const MessagePool&) = delete;

  // A state to fill in; its fields hold whatever the previous message left (strings keep their
  // capacity), except the response flags, which are reset. `responder` stays as it was set.
  std::shared_ptr<MessageState> Acquire() {
    if (cache_.empty()) {
      std::lock_guard<std::mutex> lock(mu_);
      cache_.swap(free_);
      if (cache_.empty()) {
        cache_.push_back(new Slot(this));
        ++slots_;
      }
    }
    Slot* slot = cache_.back();
    cache_.pop_back();
    slot->state.responded.store(false, std::memory_order_relaxed);
    slot->state.auto_response_disabled.store(false, std::memory_order_relaxed);
    return std::shared_ptr<MessageState>(&slot->state, NoDelete{}, SlotAllocator<char>{slot});
  }

  // The owner is done with the pool: no more Acquire().
  void Close() {
    bool last = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      closed_ = true;
      for (Slot* slot : free_) delete slot;
      for (Slot* slot : cache_) delete slot;
      slots_ -= free_.size() + cache_.size();
      free_.clear();
      cache_.clear();
      last = slots_ == 0;
    }
    if (last) delete this;
  }

 private:
  // A body this large is not kept for reuse: one big message should not pin its memory.
  static constexpr size_t kMaxKeptBody = 64 * 1024;
  // Room for the shared_ptr control block (pointer, deleter, allocator, two counts).
  static constexpr size_t kControlBlockSize = 64;

  struct Slot {
    explicit Slot(MessagePool* owner) : pool(owner) {}
    MessagePool* pool;
    MessageState state;
    alignas(std::max_align_t) unsigned char control_block[kControlBlockSize];
  };

  // The state lives in its slot: the control block's "delete" is a no-op, and returning the
  // control block's memory (the last thing shared_ptr does) returns the slot.
  struct NoDelete {
    void operator()(MessageState*) const {}
  };

  template <typename T>
  struct SlotAllocator {
    using value_type = T;
    Slot* slot;

    explicit SlotAllocator(Slot* s) : slot(s) {}
    template <typename U>
    SlotAllocator(const SlotAllocator<U>& other) : slot(other.slot) {}

    T* allocate(size_t n) {
      if (n * sizeof(T) <= kControlBlockSize && alignof(T) <= alignof(std::max_align_t)) {
        return reinterpret_cast<T*>(slot->control_block);
      }
      return static_cast<T*>(::operator new(n * sizeof(T)));  // another library's layout
    }
    void deallocate(T* p, size_t) {
      if (reinterpret_cast<unsigned char*>(p) != slot->control_block) ::operator delete(p);
      slot->pool->Release(slot);
    }
    template <typename U>
    bool operator==(const SlotAllocator<U>& other) const {
      return slot == other.slot;
    }
  };

  explicit MessagePool(size_t max_free) : max_free_(max_free) {}

  void Release(Slot* slot) {
    if (slot->state.body.capacity() > kMaxKeptBody) std::string().swap(slot->state.body);
    bool keep = false;
    bool last = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      keep = !closed_ && free_.size() < max_free_;
      if (keep) {
        free_.push_back(slot);
      } else {
        --slots_;
        last = closed_ && slots_ == 0;
      }
    }
    if (keep) return;
    delete slot;
    if (last) delete this;
  }

  const size_t max_free_;
  std::mutex mu_;
  std::vector<Slot*> free_;  // returned, guarded by mu_
  size_t slots_ = 0;         // slots in existence, guarded by mu_
  bool closed_ = false;      // guarded by mu_
  std::vector<Slot*> cache_;  // taken from free_; the Acquire() thread's own
};

}  // namespace nsq::client::internal
