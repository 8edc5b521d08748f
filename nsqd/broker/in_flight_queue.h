// InFlightQueue: the messages a channel delivered and has not seen FIN/REQ/timeout for,
// indexed by id (FIN/REQ/TOUCH) and ordered by deadline (timeouts). Removal by id is O(log n)
// and leaves nothing behind, so memory follows the in-flight count, not the delivery rate.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/container/node_hash_map.h"
#include "common/protocol/message.h"

namespace nsq::nsqd {

class Consumer;

class InFlightQueue {
 public:
  struct Entry {
    protocol::Message message;
    Consumer* owner = nullptr;
    int64_t delivered_at_ns = 0;
    int64_t deadline_ns = 0;
    size_t heap_index = 0;
  };

  // Adds a message; false when an entry with the same id is already in flight.
  bool Push(protocol::Message message, Consumer* owner, int64_t now_ns, int64_t deadline_ns);
  Entry* Find(const protocol::MessageId& id);
  // Removes and returns the entry.
  std::optional<Entry> Remove(const protocol::MessageId& id);
  // Moves an entry's deadline (TOUCH).
  void UpdateDeadline(Entry* entry, int64_t deadline_ns);
  // Removes and returns the entry with the earliest deadline if it is <= now.
  std::optional<Entry> PopExpired(int64_t now_ns);
  // The earliest deadline, if any.
  std::optional<int64_t> NextDeadline() const;
  // Removes every entry owned by `owner`, in deadline order.
  std::vector<Entry> RemoveOwnedBy(const Consumer* owner);
  std::vector<Entry> Clear();
  // Every entry, oldest delivery first (ids break ties): what a shutdown persists.
  std::vector<const Entry*> ByDeliveryTime() const;

  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }

 private:
  void SiftUp(size_t i);
  void SiftDown(size_t i);
  void Swap(size_t a, size_t b);
  void EraseFromHeap(size_t i);

  // A heap slot keeps its entry's deadline next to the pointer, so sifting compares within the
  // heap's own array instead of following a pointer into the map for every comparison.
  struct Slot {
    int64_t deadline_ns;
    Entry* entry;
  };

  absl::node_hash_map<protocol::MessageId, Entry> entries_;
  std::vector<Slot> heap_;
};

}  // namespace nsq::nsqd
