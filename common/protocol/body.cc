#include "common/protocol/body.h"

#include <cstring>
#include <new>

namespace nsq::protocol {

// The header of the single allocation; the bytes follow it directly (flexible-array style).
struct Body::Block {
  std::atomic<uint32_t> refs;
  size_t size;

  char* data() { return reinterpret_cast<char*>(this + 1); }
};

Body Body::Copy(std::string_view bytes) {
  // An empty body needs no storage; a default Body already views "".
  if (bytes.empty()) return Body();
  void* memory = ::operator new(sizeof(Block) + bytes.size());
  Block* block = new (memory) Block{{1}, bytes.size()};
  std::memcpy(block->data(), bytes.data(), bytes.size());
  return Body(block);
}

Body::Body(const Body& other) noexcept : block_(other.block_) {
  // Relaxed is enough: the new handle is made from one we already hold.
  if (block_ != nullptr) block_->refs.fetch_add(1, std::memory_order_relaxed);
}

Body::Body(Body&& other) noexcept : block_(other.block_) { other.block_ = nullptr; }

Body& Body::operator=(const Body& other) noexcept {
  if (block_ == other.block_) return *this;
  if (other.block_ != nullptr) other.block_->refs.fetch_add(1, std::memory_order_relaxed);
  Release();
  block_ = other.block_;
  return *this;
}

Body& Body::operator=(Body&& other) noexcept {
  if (this == &other) return *this;
  Release();
  block_ = other.block_;
  other.block_ = nullptr;
  return *this;
}

Body::~Body() { Release(); }

std::string_view Body::view() const {
  if (block_ == nullptr) return {};
  return {block_->data(), block_->size};
}

size_t Body::size() const { return block_ == nullptr ? 0 : block_->size; }

uint32_t Body::use_count() const {
  return block_ == nullptr ? 0 : block_->refs.load(std::memory_order_relaxed);
}

void Body::Release() {
  if (block_ == nullptr) return;
  // acq_rel: the last owner must see every other owner's reads finished before freeing.
  if (block_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    block_->~Block();
    ::operator delete(block_);
  }
  block_ = nullptr;
}

std::vector<std::string_view> ViewsOf(const std::vector<Body>& bodies) {
  std::vector<std::string_view> views;
  views.reserve(bodies.size());
  for (const Body& body : bodies) views.push_back(body.view());
  return views;
}

}  // namespace nsq::protocol
