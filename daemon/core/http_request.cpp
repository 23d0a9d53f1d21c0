// See http_request.hpp. Only the request line is read: no header changes
// the answer, so the headers are skipped unparsed (their size is bounded by
// the listener's request limit).
#include "core/http_request.hpp"

#include <algorithm>

namespace mfcd::core {

namespace {

bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '!' || c == '~' || c == '*' || c == '+';
  });
}

std::string_view reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 431:
      return "Request Header Fields Too Large";
    default:
      return "Error";
  }
}

}  // namespace

size_t http_head_end(std::string_view data) {
  const size_t crlf = data.find("\r\n\r\n");
  const size_t lf = data.find("\n\n");
  if (crlf == std::string_view::npos && lf == std::string_view::npos) return std::string_view::npos;
  if (lf == std::string_view::npos || (crlf != std::string_view::npos && crlf < lf))
    return crlf + 4;
  return lf + 2;
}

HttpVerdict judge_http_request(std::string_view head) {
  std::string_view line = head.substr(0, head.find('\n'));
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  // METHOD SP TARGET SP VERSION, single spaces (RFC 9112 section 3).
  const size_t sp1 = line.find(' ');
  const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
    return HttpVerdict::bad_request;
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (!is_token(method) || target.empty() || target.front() != '/') return HttpVerdict::bad_request;
  if (version != "HTTP/1.0" && version != "HTTP/1.1") return HttpVerdict::bad_request;
  if (target.substr(0, target.find('?')) != "/metrics") return HttpVerdict::not_found;
  return method == "GET" ? HttpVerdict::metrics : HttpVerdict::method_not_allowed;
}

std::string http_response(int status, std::string_view content_type, std::string_view body) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason(status)) +
                    "\r\nContent-Type: " + std::string(content_type) +
                    "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  if (status == 405) out += "Allow: GET\r\n";
  out += "Connection: close\r\n\r\n";
  out += body;
  return out;
}

std::string http_error_response(HttpVerdict verdict) {
  constexpr std::string_view kText = "text/plain; charset=utf-8";
  switch (verdict) {
    case HttpVerdict::not_found:
      return http_response(404, kText, "not found: only /metrics is served\n");
    case HttpVerdict::method_not_allowed:
      return http_response(405, kText, "method not allowed: use GET\n");
    case HttpVerdict::too_large:
      return http_response(431, kText, "request head too large\n");
    case HttpVerdict::metrics:
    case HttpVerdict::bad_request:
      break;
  }
  return http_response(400, kText, "bad request\n");
}

}  // namespace mfcd::core
