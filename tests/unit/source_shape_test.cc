// The shape the architecture step promised (docs/ARCHITECTURE.md): the daemons are assembled from
// small units, so no source file of broker/ or node/ grows past 400 lines. Checked here because
// such a limit, once only remembered, erodes one merge at a time.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace {

constexpr std::size_t kMaxLines = 400;

std::size_t CountLines(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::size_t lines = 0;
  for (std::string line; std::getline(in, line);) ++lines;
  return lines;
}

TEST(SourceShapeTest, NoBrokerOrNodeSourceFileIsOver400Lines) {
  const std::filesystem::path root = TEARLINE_SOURCE_DIR;
  std::size_t checked = 0;
  for (const char* dir : {"broker", "node"}) {
    for (const auto& entry : std::filesystem::recursive_directory_iterator(root / dir)) {
      if (!entry.is_regular_file() || entry.path().extension() != ".cc") continue;
      ++checked;
      const std::size_t lines = CountLines(entry.path());
      EXPECT_LE(lines, kMaxLines) << std::filesystem::relative(entry.path(), root).string()
                                  << " has " << lines
                                  << " lines: move a responsibility out into its own unit";
    }
  }
  EXPECT_GT(checked, 20u) << "the source tree was not found under " << root;
}

}  // namespace
