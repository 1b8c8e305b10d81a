// Counts the broker's `acknowledged` audit records (docs/AUDIT.md) by reading the new part of its
// log.jsonl on each poll: how the harness learns that the broker has durably recorded an
// acknowledgement, without any hook in the broker.
//
// Thread-safety: one thread at a time.
#ifndef TEARLINE_BENCH_LOAD_AUDIT_WATCH_H_
#define TEARLINE_BENCH_LOAD_AUDIT_WATCH_H_

#include <cstdint>
#include <filesystem>
#include <string>

namespace tearline::bench {

class AuditWatch {
 public:
  explicit AuditWatch(std::filesystem::path broker_data_dir);
  // Reads what was appended since the last call; returns the acknowledgements counted so far.
  std::uint64_t Poll();
  std::uint64_t acknowledged() const { return acknowledged_; }

 private:
  std::filesystem::path log_;
  std::uint64_t offset_ = 0;
  std::string partial_;  // A line not yet terminated at the last read.
  std::uint64_t acknowledged_ = 0;
};

}  // namespace tearline::bench

#endif  // TEARLINE_BENCH_LOAD_AUDIT_WATCH_H_
