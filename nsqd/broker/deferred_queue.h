// DeferredQueue: messages waiting for a due time (DPUB and delayed REQ), earliest first.
// Ties keep insertion order.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "common/protocol/message.h"

namespace nsq::nsqd {

class DeferredQueue {
 public:
  void Push(protocol::Message message, int64_t due_ns);
  // Removes and returns the earliest message if it is due at `now_ns`.
  std::optional<protocol::Message> PopDue(int64_t now_ns);
  std::optional<int64_t> NextDue() const;
  std::vector<protocol::Message> Clear();
  // Every message with its due time, earliest first (shutdown persistence).
  std::vector<std::pair<int64_t, protocol::Message>> Items() const;

  size_t size() const { return heap_.size(); }
  bool empty() const { return heap_.empty(); }

 private:
  struct Item {
    int64_t due_ns;
    uint64_t sequence;
    protocol::Message message;
  };
  static bool Later(const Item& a, const Item& b);

  std::vector<Item> heap_;
  uint64_t next_sequence_ = 0;
};

}  // namespace nsq::nsqd
