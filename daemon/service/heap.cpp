#include "service/heap.hpp"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace mfcd {

// glibc raises its mmap threshold each time a big block is freed: after
// one large listing, later big replies and config buffers come from the
// heap, and the pages that they leave behind between live blocks stay
// resident after a hostile client is gone. Fixed thresholds keep blocks of
// 128 KiB and more in mappings of their own, returned to the system when
// freed, and trim the heap's free top beyond 128 KiB.
void keep_big_buffers_apart() {
#if defined(__GLIBC__)
  ::mallopt(M_MMAP_THRESHOLD, 128 * 1024);
  ::mallopt(M_TRIM_THRESHOLD, 128 * 1024);
#endif
}

void trim_heap() {
#if defined(__GLIBC__)
  ::malloc_trim(0);
#endif
}

size_t heap_slack_bytes() {
#if defined(__GLIBC__)
  // fordblks counts all free heap, keepcost the free top among it.
  const struct mallinfo2 info = ::mallinfo2();
  return info.fordblks > info.keepcost ? info.fordblks - info.keepcost : 0;
#else
  return 0;
#endif
}

}  // namespace mfcd
