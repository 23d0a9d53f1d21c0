// How mfcd hands freed memory back to the system. glibc keeps what a
// program frees for its next allocations; after a burst (a crowd of
// clients, a reader that fell behind, a big reload) that is megabytes of
// RSS a router never gets back, so mfcd trims at the moments it knows a
// burst has ended and, as a backstop, whenever the heap holds much free.
#pragma once

#include <cstddef>

namespace mfcd {

// Once, before anything is allocated: keep big blocks in mappings of their
// own, which go back to the system as they are freed.
void keep_big_buffers_apart();

// Hands every free page of the heap back to the system.
void trim_heap();

// Free heap below the top of the heap, in bytes: what only trim_heap()
// gives back (glibc returns a free top itself). 0 where unknown.
size_t heap_slack_bytes();

}  // namespace mfcd
