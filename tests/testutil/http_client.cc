#include "tests/testutil/http_client.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "tests/testutil/raw_conn.h"

namespace nsq::testutil {
namespace {

// Debian's abseil has its own string_view type, not an alias of std::string_view; absl
// string functions need this explicit conversion.
absl::string_view Av(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// Decodes a chunked body; false when it is malformed or incomplete.
bool Dechunk(std::string_view in, std::string* out) {
  while (true) {
    size_t eol = in.find("\r\n");
    if (eol == std::string_view::npos) return false;
    std::string_view size_text = in.substr(0, eol);
    size_text = size_text.substr(0, size_text.find(';'));  // drop chunk extensions
    uint64_t size = 0;
    if (!absl::SimpleHexAtoi(absl::StripAsciiWhitespace(Av(size_text)), &size)) return false;
    in.remove_prefix(eol + 2);
    if (size == 0) return true;  // trailers, if any, are ignored
    if (in.size() < size + 2) return false;
    out->append(in.substr(0, size));
    in.remove_prefix(size + 2);
  }
}

// The status line and headers (the text before the blank line).
absl::StatusOr<HttpResponse> ParseHead(std::string_view head) {
  std::vector<absl::string_view> lines = absl::StrSplit(Av(head), "\r\n");
  HttpResponse response;
  // Status line: HTTP/1.1 200 OK
  std::vector<absl::string_view> status_parts = absl::StrSplit(lines[0], absl::MaxSplits(' ', 2));
  if (status_parts.size() < 2 || !absl::StartsWith(status_parts[0], "HTTP/1.") ||
      !absl::SimpleAtoi(status_parts[1], &response.status)) {
    return absl::DataLossError(absl::StrCat("bad status line: ", lines[0]));
  }
  if (status_parts.size() == 3) response.reason = std::string(status_parts[2]);
  for (size_t i = 1; i < lines.size(); ++i) {
    size_t colon = lines[i].find(':');
    if (colon == absl::string_view::npos) {
      return absl::DataLossError(absl::StrCat("bad header line: ", lines[i]));
    }
    response.headers.emplace_back(
        std::string(lines[i].substr(0, colon)),
        std::string(absl::StripAsciiWhitespace(lines[i].substr(colon + 1))));
  }
  return response;
}

// True when `raw` holds a whole response according to its own framing. Without
// Content-Length or chunked encoding only the server's close ends it.
bool ResponseComplete(std::string_view raw) {
  size_t header_end = raw.find("\r\n\r\n");
  if (header_end == std::string_view::npos) return false;
  absl::StatusOr<HttpResponse> head = ParseHead(raw.substr(0, header_end));
  if (!head.ok()) return false;
  std::string_view body = raw.substr(header_end + 4);
  std::optional<std::string> encoding = head->Header("Transfer-Encoding");
  if (encoding.has_value() && absl::EqualsIgnoreCase(*encoding, "chunked")) {
    std::string ignored;
    return Dechunk(body, &ignored);
  }
  std::optional<std::string> length = head->Header("Content-Length");
  size_t n = 0;
  return length.has_value() && absl::SimpleAtoi(*length, &n) && body.size() >= n;
}

}  // namespace

std::optional<std::string> HttpResponse::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (absl::EqualsIgnoreCase(key, Av(name))) return value;
  }
  return std::nullopt;
}

absl::StatusOr<HttpResponse> ParseHttpResponse(std::string_view raw) {
  size_t header_end = raw.find("\r\n\r\n");
  if (header_end == std::string_view::npos) {
    return absl::DataLossError(absl::StrCat("no end of headers in: ", Av(raw.substr(0, 200))));
  }
  absl::StatusOr<HttpResponse> head = ParseHead(raw.substr(0, header_end));
  if (!head.ok()) return head.status();
  HttpResponse response = *std::move(head);
  std::string_view body = raw.substr(header_end + 4);
  std::optional<std::string> encoding = response.Header("Transfer-Encoding");
  std::optional<std::string> length = response.Header("Content-Length");
  if (encoding.has_value() && absl::EqualsIgnoreCase(*encoding, "chunked")) {
    if (!Dechunk(body, &response.body)) return absl::DataLossError("bad chunked body");
  } else if (length.has_value()) {
    size_t n = 0;
    if (!absl::SimpleAtoi(*length, &n)) return absl::DataLossError("bad Content-Length");
    if (body.size() < n) {
      return absl::DataLossError(
          absl::StrCat("body shorter than Content-Length: ", body.size(), " < ", n));
    }
    response.body = std::string(body.substr(0, n));
  } else {
    response.body = std::string(body);
  }
  return response;
}

absl::StatusOr<HttpResponse> HttpRequest(uint16_t port, std::string_view method,
                                         std::string_view target, std::string_view body,
                                         const HttpHeaders& extra_headers,
                                         std::chrono::milliseconds timeout) {
  absl::StatusOr<std::unique_ptr<RawConn>> conn = RawConn::Connect(port);
  if (!conn.ok()) return conn.status();
  std::string request =
      absl::StrCat(Av(method), " ", Av(target), " HTTP/1.1\r\nHost: 127.0.0.1:", port,
                   "\r\nConnection: close\r\n");
  for (const auto& [name, value] : extra_headers)
    absl::StrAppend(&request, name, ": ", value, "\r\n");
  if (!body.empty() || method == "POST" || method == "PUT") {
    absl::StrAppend(&request, "Content-Length: ", body.size(), "\r\n");
  }
  absl::StrAppend(&request, "\r\n", Av(body));
  absl::Status sent = (*conn)->Send(request);
  if (!sent.ok()) return sent;
  // The response ends when the server closes, or earlier when its Content-Length or chunked
  // framing says so (a server that ignores Connection: close must not cost a timeout).
  const auto until = std::chrono::steady_clock::now() + timeout;
  std::string raw;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    absl::StatusOr<std::string> more =
        (*conn)->ReadAvailable(std::max(left, std::chrono::milliseconds(0)));
    if (more.ok()) {
      raw += *more;
      if (ResponseComplete(raw)) break;
      continue;
    }
    if (absl::IsUnavailable(more.status()) && !raw.empty()) break;  // closed: that is the end
    return absl::Status(more.status().code(),
                        absl::StrCat(Av(method), " ", Av(target), ": ", more.status().message(),
                                     " (received ", raw.size(), " bytes)"));
  }
  return ParseHttpResponse(raw);
}

absl::StatusOr<HttpResponse> HttpGet(uint16_t port, std::string_view target) {
  return HttpRequest(port, "GET", target);
}

absl::StatusOr<HttpResponse> HttpPost(uint16_t port, std::string_view target,
                                      std::string_view body) {
  return HttpRequest(port, "POST", target, body);
}

absl::StatusOr<HttpResponse> HttpPut(uint16_t port, std::string_view target,
                                     std::string_view body) {
  return HttpRequest(port, "PUT", target, body);
}

}  // namespace nsq::testutil
