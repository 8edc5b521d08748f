// CRC-32C (Castagnoli), the checksum the snappy framing format puts in every data chunk.
//
// It lives in nsq_protocol rather than next to Crc32Ieee in common/util/hash.h because
// nsq_common links nsq_protocol; the codec needing nsq_common would make a cycle.
// Table-driven software: the chunks are at most 64 KiB and snappy itself costs more.
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

}  // namespace nsq::protocol
