// Fuzzes the JSON documents a peer controls: IDENTIFY from a client (ParseIdentifyRequest),
// nsqd's IDENTIFY reply (ParseIdentifyResponse), an nsqd's IDENTIFY to lookupd
// (ParseLookupPeerInfo) and an auth server's answer (ParseAuthResponse, then
// AuthState::Allowed with a topic and channel cut from the input). What parses must re-encode
// to a document that parses to the same value.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/protocol/identify.h"
#include "common/protocol/lookup_v1.h"
#include "fuzz/fuzz_util.h"
#include "nsqd/auth/auth_state.h"

namespace {

// Up to 64 bytes of the input, nsqd's longest name.
std::string_view NameFrom(std::string_view input, nsq::fuzz::Splitter& splitter) {
  if (input.empty()) return {};
  const size_t start = splitter.Next() % input.size();
  return input.substr(start, splitter.Next() % 65);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nsq::fuzz;
  namespace protocol = nsq::protocol;
  const std::string_view input = AsView(data, size);
  Splitter splitter(input);

  if (auto request = protocol::ParseIdentifyRequest(input); request.ok()) {
    const std::string encoded = protocol::EncodeIdentifyRequest(*request);
    auto again = protocol::ParseIdentifyRequest(encoded);
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(protocol::EncodeIdentifyRequest(*again) == encoded);
  }

  if (auto response = protocol::ParseIdentifyResponse(input); response.ok()) {
    const std::string encoded = protocol::EncodeIdentifyResponse(*response);
    auto again = protocol::ParseIdentifyResponse(encoded);
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(protocol::EncodeIdentifyResponse(*again) == encoded);
  }

  if (auto peer = protocol::ParseLookupPeerInfo(input); peer.ok()) {
    auto again = protocol::ParseLookupPeerInfo(protocol::EncodeLookupPeerInfo(*peer));
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(*again == *peer);
  }

  if (auto state = nsq::nsqd::ParseAuthResponse(input); state.ok()) {
    FUZZ_CHECK(state->ttl_ns > 0);
    const std::string_view topic = NameFrom(input, splitter);
    const std::string_view channel = NameFrom(input, splitter);
    (void)state->Allowed(nsq::nsqd::AuthState::kSubscribe, topic, channel);
    (void)state->Allowed(nsq::nsqd::AuthState::kPublish, topic, "");
  }
  return 0;
}
