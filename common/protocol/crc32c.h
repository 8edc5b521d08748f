// CRC-32C (Castagnoli), the checksum the snappy framing format puts in every data chunk.
//
// It lives in nsq_protocol rather than next to Crc32Ieee in common/util/hash.h because
// nsq_common links nsq_protocol; the codec needing nsq_common would make a cycle.
// On x86-64 CPUs with SSE4.2 (checked once at run time) it uses the crc32 instruction, 8 bytes
// at a time; elsewhere a byte table. The table version cost more than snappy itself: it was
// 55% of nsqd's CPU on a snappy publish run.
//
//   uint32_t crc = nsq::protocol::Crc32c("123456789");  // 0xE3069283
//   crc = nsq::protocol::Crc32c("more", crc);            // continues the checksum
#pragma once

#include <cstdint>
#include <string_view>

namespace nsq::protocol {

// CRC-32C of `data` (reflected polynomial 0x82F63B78, as Go's crc32.Castagnoli and SSE4.2's
// crc32 instruction). Pass a previous result as `crc` to continue a checksum over more data.
uint32_t Crc32c(std::string_view data, uint32_t crc = 0);

namespace internal {
// The byte-table version Crc32c falls back to; exposed so tests can hold both to one answer.
uint32_t Crc32cPortable(std::string_view data, uint32_t crc = 0);
}  // namespace internal

}  // namespace nsq::protocol
