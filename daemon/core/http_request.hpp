// The little HTTP the metrics listener speaks: it reads one request head,
// answers it and closes (Connection: close), for HTTP/1.0 and HTTP/1.1.
// Pure, so that every way a request can be wrong is tested without a
// socket; service/metrics_http.cpp does the I/O.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace mfcd::core {

// Where a request head ends: the offset just past its blank line, or npos
// while it is incomplete. A bare "\n\n" ends it too (lenient, as most
// servers are).
size_t http_head_end(std::string_view data);

enum class HttpVerdict {
  metrics,             // GET /metrics
  not_found,           // another path
  method_not_allowed,  // /metrics with another method
  bad_request,         // not an HTTP/1.0 or HTTP/1.1 request line
  too_large,           // no end of head within the size limit
};

// What to do with the head (up to its blank line).
HttpVerdict judge_http_request(std::string_view head);

// A whole response with Content-Length and Connection: close; `body` is
// left out for HEAD-like answers by passing it empty.
std::string http_response(int status, std::string_view content_type, std::string_view body);

// The response for a verdict other than `metrics`: a short text body.
std::string http_error_response(HttpVerdict verdict);

}  // namespace mfcd::core
