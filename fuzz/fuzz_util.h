// Helpers shared by the libFuzzer targets in this folder: deterministic "random" splits of the
// input (so a push-fed decoder sees the same bytes in many different pieces) and a check that
// crashes the run with a message when an invariant breaks.
//
//   Splitter splitter(data);                       // seeded from the bytes themselves
//   for (std::string_view piece : splitter.Pieces(data, 16)) decoder.Feed(piece);
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

namespace nsq::fuzz {

// A broken invariant is a finding: print it and abort, which libFuzzer reports as a crash.
#define FUZZ_CHECK(condition)                                                                 \
  do {                                                                                        \
    if (!(condition)) {                                                                       \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, __LINE__, #condition); \
      std::abort();                                                                           \
    }                                                                                         \
  } while (0)

inline std::string_view AsView(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// A small PRNG seeded from a hash of the input: the splits change whenever the input does, and
// a crash input reproduces exactly.
class Splitter {
 public:
  explicit Splitter(std::string_view input) {
    uint64_t hash = 1469598103934665603ull;  // FNV-1a
    for (unsigned char c : input) hash = (hash ^ c) * 1099511628211ull;
    state_ = hash | 1;
  }

  uint64_t Next() {
    state_ ^= state_ << 13;
    state_ ^= state_ >> 7;
    state_ ^= state_ << 17;
    return state_;
  }

  // A number in [1, max]; small values are as likely as large ones in log scale.
  size_t Size(size_t max) {
    size_t bound = size_t{1} << (Next() % 64 % (BitWidth(max) + 1));
    if (bound > max) bound = max;
    return 1 + Next() % bound;
  }

  // Cuts `input` into pieces of at most `max_piece` bytes (some empty: a read of 0 bytes must
  // be harmless too).
  std::vector<std::string_view> Pieces(std::string_view input, size_t max_piece) {
    std::vector<std::string_view> pieces;
    while (!input.empty()) {
      if (Next() % 16 == 0) pieces.push_back(input.substr(0, 0));
      const size_t n = Size(max_piece);
      pieces.push_back(input.substr(0, n));
      input.remove_prefix(pieces.back().size());
    }
    return pieces;
  }

 private:
  static size_t BitWidth(size_t v) {
    size_t bits = 0;
    while (v != 0) {
      ++bits;
      v >>= 1;
    }
    return bits;
  }

  uint64_t state_;
};

}  // namespace nsq::fuzz
