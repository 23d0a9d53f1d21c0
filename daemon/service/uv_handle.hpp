// The owner of one libuv handle, used for every handle in mfcd. libuv may
// touch a handle until its close callback has run, so the handle lives on
// the heap and is freed in that callback, never by the owner's destructor
// (CMake's cmUVHandlePtr explains the same). Closing is idempotent; a
// moved-from owner owns nothing.
#pragma once

#include <uv.h>

#include <utility>

namespace mfcd {

template <typename T>
class UvHandle {
 public:
  UvHandle() = default;
  ~UvHandle() { close(); }
  UvHandle(const UvHandle&) = delete;
  UvHandle& operator=(const UvHandle&) = delete;
  UvHandle(UvHandle&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
  UvHandle& operator=(UvHandle&& other) noexcept {
    if (this != &other) {
      close();
      handle_ = std::exchange(other.handle_, nullptr);
    }
    return *this;
  }

  // Allocates the handle and runs `init(loop, handle, args...)` (uv_timer_init,
  // uv_poll_init, ...); `data` goes into handle->data for the callbacks.
  // Returns libuv's status; on failure nothing is owned.
  template <typename Init, typename... Args>
  int init(Init init_fn, uv_loop_t* loop, void* data, Args&&... args) {
    close();
    auto* handle = new T{};
    const int rc = init_fn(loop, handle, std::forward<Args>(args)...);
    if (rc != 0) {
      delete handle;
      return rc;
    }
    handle->data = data;
    handle_ = handle;
    return 0;
  }

  // Starts closing; the memory goes in the close callback.
  void close() {
    if (!handle_) return;
    auto* h = reinterpret_cast<uv_handle_t*>(std::exchange(handle_, nullptr));
    uv_close(h, [](uv_handle_t* closed) { delete reinterpret_cast<T*>(closed); });
  }

  T* get() const { return handle_; }
  explicit operator bool() const { return handle_ != nullptr; }

 private:
  T* handle_ = nullptr;
};

// The read buffers of uv_read_start: one heap block per read, which the
// read callback frees with delete[] once it has used the bytes.
inline void alloc_read_buffer(uv_handle_t*, size_t suggested, uv_buf_t* buf) {
  buf->base = new char[suggested];
  buf->len = suggested;
}

}  // namespace mfcd
