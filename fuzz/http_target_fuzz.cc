// Fuzzes what an HTTP client controls before a handler runs: the request target
// (common/http/v1_api.h ParseTarget, then TopicArg and TopicChannelArgs on the result) and the
// header block, through Boost.Beast's request_parser with the server's 64 KiB header limit
// (common/http/http_server.cc), fed in random splits; the target of a parsed header goes
// through ParseTarget as the server does.
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/http/v1_api.h"
#include "common/protocol/names.h"
#include "fuzz/fuzz_util.h"

namespace {

namespace beast = boost::beast;
namespace http = beast::http;

constexpr uint32_t kHeaderLimit = 64 * 1024;  // as http_server.cc
constexpr uint64_t kBodyLimit = 4096;

void CheckTarget(std::string_view raw) {
  const std::optional<nsq::http::Target> target = nsq::http::ParseTarget(raw);
  if (!target) return;
  std::string topic;
  std::string channel;
  if (!nsq::http::TopicArg(*target, &topic)) {
    FUZZ_CHECK(target->Get("topic") != nullptr && *target->Get("topic") == topic);
  }
  if (!nsq::http::TopicChannelArgs(*target, &topic, &channel)) {
    FUZZ_CHECK(nsq::protocol::IsValidTopicName(topic));
    FUZZ_CHECK(nsq::protocol::IsValidChannelName(channel));
  }
  // The first value of a repeated key wins.
  for (const auto& [key, value] : target->params) {
    const std::string* first = target->Get(key);
    FUZZ_CHECK(first != nullptr);
  }
}

// Feeds `pieces` to a request parser the way a connection's read buffer does: what the parser
// did not consume stays buffered and is offered again with the next piece.
void ParseRequest(const std::vector<std::string_view>& pieces) {
  http::request_parser<http::string_body> parser;
  parser.header_limit(kHeaderLimit);
  parser.body_limit(kBodyLimit);
  parser.eager(true);
  std::string buffered;
  for (std::string_view piece : pieces) {
    buffered.append(piece);
    while (!buffered.empty() && !parser.is_done()) {
      beast::error_code ec;
      const size_t used = parser.put(boost::asio::buffer(buffered.data(), buffered.size()), ec);
      FUZZ_CHECK(used <= buffered.size());
      buffered.erase(0, used);
      if (ec == http::error::need_more) break;
      if (ec) return;
      if (used == 0) break;
    }
    if (parser.is_header_done()) break;
  }
  if (!parser.is_header_done()) return;
  const auto& header = parser.get();
  (void)header.keep_alive();
  (void)header.version();
  (void)parser.content_length();
  (void)header[http::field::expect];
  (void)header.method_string();
  CheckTarget(header.target());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nsq::fuzz;
  const std::string_view input = AsView(data, size);
  Splitter splitter(input);

  CheckTarget(input);
  ParseRequest({input});
  ParseRequest(splitter.Pieces(input, 17));

  // A header block whose line ends are bare LF (Go accepts them; the server rewrites them to
  // CRLF for Beast): the same bytes with CRLF.
  std::string crlf;
  for (size_t i = 0; i < input.size(); ++i) {
    if (input[i] == '\n' && (i == 0 || input[i - 1] != '\r')) crlf.push_back('\r');
    crlf.push_back(input[i]);
  }
  ParseRequest(splitter.Pieces(crlf, 64));
  return 0;
}
