// Body: an immutable, reference-counted message body.
//
// A published message is stored once and shared by every channel of its topic (and by the
// write path and, later, the store); copying a Body copies one pointer and bumps a counter.
// The bytes and the counter live in a single allocation, which matters when a million
// messages wait in memory.
//
//   Body b = Body::Copy("hello");
//   Body c = b;                      // same bytes, refcount 2
//   std::string_view v = c.view();
#pragma once

#include <atomic>
#include <cstdint>
#include <string_view>
#include <vector>

namespace nsq::protocol {

class Body {
 public:
  Body() = default;
  static Body Copy(std::string_view bytes);

  Body(const Body& other) noexcept;
  // A moved-from Body is empty.
  Body(Body&& other) noexcept;
  Body& operator=(const Body& other) noexcept;
  Body& operator=(Body&& other) noexcept;
  ~Body();

  std::string_view view() const;
  size_t size() const;
  bool empty() const { return size() == 0; }
  // How many Body handles share these bytes (for tests and memory accounting); 0 for an empty
  // Body, which owns no storage.
  uint32_t use_count() const;

 private:
  struct Block;
  explicit Body(Block* block) : block_(block) {}
  void Release();

  Block* block_ = nullptr;
};

// The bytes of each body, in order (for what takes views, such as EncodeMpub).
std::vector<std::string_view> ViewsOf(const std::vector<Body>& bodies);

}  // namespace nsq::protocol
