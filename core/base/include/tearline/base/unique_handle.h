// UniqueHandle: sole ownership of a handle from a C library that is released by one plain
// function (sqlite3_close_v2, sqlite3_finalize, ...), so each such handle does not need its own
// hand-written RAII class with the same destructor and move members.
//
//   using Db = UniqueHandle<sqlite3, &sqlite3_close_v2>;
//   Db db(raw);  // sqlite3_close_v2(raw) runs once, when db (or whoever it moved to) goes away.
//
// It is std::unique_ptr with a deleter that calls `Release`: move-only, get()/reset()/release()
// as usual, and `Release` is never called with nullptr. A result the release function returns
// (an error code) is ignored: there is nothing a destructor could do with it.
// Thread-safety: as std::unique_ptr (one owner; the handle's own rules apply to its use).
#ifndef TEARLINE_BASE_UNIQUE_HANDLE_H_
#define TEARLINE_BASE_UNIQUE_HANDLE_H_

#include <memory>

namespace tearline {

// Deleter calling `Release(handle)`; stateless, so a UniqueHandle is the size of a pointer.
template <auto Release>
struct ReleaseWith {
  template <typename T>
  void operator()(T* handle) const noexcept {
    static_cast<void>(Release(handle));
  }
};

template <typename T, auto Release>
using UniqueHandle = std::unique_ptr<T, ReleaseWith<Release>>;

}  // namespace tearline

#endif  // TEARLINE_BASE_UNIQUE_HANDLE_H_
