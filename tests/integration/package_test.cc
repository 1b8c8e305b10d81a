// The installed forms of Tearline, built from this build tree:
//   - `cmake --install` into a scratch prefix lays out the standard tree, and a separate project
//     (tests/consumer) finds it with find_package(Tearline), links tearline::core and runs;
//   - the systemd units pass `systemd-analyze verify` against the installed programs;
//   - cpack makes the three Debian packages with their dependencies and maintainer scripts, and
//     the demo's first scenario runs from the files unpacked out of them (dpkg-deb -x).
// A missing tool (compiler, systemd-analyze, dpkg-deb) skips its test with the reason; CI
// installs them all (deploy/install-deps.sh).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "test_support.h"

namespace tearline {
namespace {

using testing::ProcessResult;
using testing::ReadFile;
using testing::RunProcess;
using testing::SourcePath;
using testing::TempDir;

namespace fs = std::filesystem;

// Packaging is the same under a sanitizer; CI runs these in the normal stage only.
class PackageTest : public ::testing::Test {
 protected:
  void SetUp() override {
#ifdef TEARLINE_PACKAGE_TEST_SKIP
    GTEST_SKIP() << "sanitizer build: the installed-tree tests run in the normal build only";
#endif
  }
};

// The absolute path of `program` on PATH, or "" (RunProcess does not search PATH).
std::string Which(const std::string& program) {
  auto r = RunProcess({"/bin/sh", "-c", "command -v " + program}, std::chrono::seconds(5));
  std::string path = r.exit_code == 0 ? r.out : "";
  while (!path.empty() && path.back() == '\n') path.pop_back();
  return path;
}
bool Have(const std::string& program) { return !Which(program).empty(); }

ProcessResult Sh(const std::string& script,
                 std::chrono::seconds timeout = std::chrono::seconds(120)) {
  return RunProcess({"/bin/bash", "-c", "set -eo pipefail; " + script}, timeout);
}

std::string Q(const fs::path& p) { return "'" + p.string() + "'"; }

// One install per test process: each test that needs the tree shares it.
const fs::path& InstallPrefix() {
  static TempDir* dir = new TempDir();
  static const fs::path prefix = [] {
    const fs::path p = dir->path() / "prefix";
    auto r = RunProcess(
        {TEARLINE_CMAKE_COMMAND, "--install", TEARLINE_BINARY_DIR, "--prefix", p.string()},
        std::chrono::seconds(120));
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    return p;
  }();
  return prefix;
}

TEST_F(PackageTest, InstallLaysOutTheStandardTree) {
  const fs::path& prefix = InstallPrefix();
  for (const char* file :
       {"bin/tearline-broker", "bin/tearline-node", "bin/tearline-certs", "bin/tearline-label",
        "bin/tearline-audit", "bin/tearline-admin", "share/tearline/policy/coalition.toml",
        "share/tearline/examples/broker.toml", "share/tearline/examples/node.toml",
        "lib/systemd/system/tearline-broker.service", "lib/systemd/system/tearline-node@.service",
        "share/man/man1/tearline-broker.1.gz", "share/man/man1/tearline-node.1.gz",
        "include/tearline/base/status.h", "include/tearline/labels/policy.h",
        "include/tearline/schemas/wire_generated.h", "lib/cmake/Tearline/TearlineConfig.cmake",
        "lib/cmake/Tearline/TearlineTargets.cmake"}) {
    EXPECT_TRUE(fs::exists(prefix / file)) << file;
  }
  // The installed tools find the installed policy without being told (no TEARLINE_POLICY).
  auto label =
      RunProcess({"/usr/bin/env", "-u", "TEARLINE_POLICY", (prefix / "bin/tearline-label").string(),
                  "parse", "(S//REL TO USA, GBR)"});
  EXPECT_EQ(label.exit_code, 0) << label.out << label.err;
  // Man pages are the programs' --help text.
  auto man = Sh("gzip -dc " + Q(prefix / "share/man/man1/tearline-broker.1.gz"));
  EXPECT_NE(man.out.find("--check-config"), std::string::npos) << man.out;
}

TEST_F(PackageTest, AnotherProjectBuildsAgainstTheCMakePackage) {
  if (!fs::exists(TEARLINE_CXX_COMPILER) && !Have(TEARLINE_CXX_COMPILER))
    GTEST_SKIP() << "no C++ compiler " << TEARLINE_CXX_COMPILER;
  const fs::path& prefix = InstallPrefix();
  TempDir build;
  // Built one by one: GCC 12 reports a false -Warray-bounds on a braced list of these strings.
  std::vector<std::string> configure;
  configure.emplace_back(TEARLINE_CMAKE_COMMAND);
  configure.emplace_back("-S");
  configure.push_back(SourcePath("tests/consumer").string());
  configure.emplace_back("-B");
  configure.push_back(build.path().string());
  configure.emplace_back("-DCMAKE_BUILD_TYPE=Release");
  configure.push_back("-DCMAKE_PREFIX_PATH=" + prefix.string());
  configure.emplace_back("-DCMAKE_CXX_COMPILER=" TEARLINE_CXX_COMPILER);
  if (Have("ccache")) configure.push_back("-DCMAKE_CXX_COMPILER_LAUNCHER=ccache");
  auto c = RunProcess(configure, std::chrono::seconds(120));
  ASSERT_EQ(c.exit_code, 0) << c.out << c.err;
  auto b = RunProcess({TEARLINE_CMAKE_COMMAND, "--build", build.path().string()},
                      std::chrono::seconds(180));
  ASSERT_EQ(b.exit_code, 0) << b.out << b.err;
  auto run = RunProcess({(build.path() / "tearline_consumer").string(),
                         (prefix / "share/tearline/policy/coalition.toml").string()});
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_NE(run.out.find("label ok 7ea1"), std::string::npos) << run.out;
}

TEST_F(PackageTest, SystemdUnitsVerify) {
  if (!Have("systemd-analyze")) GTEST_SKIP() << "systemd-analyze is not installed";
  const fs::path& prefix = InstallPrefix();
  TempDir units;
  // The units name /usr/bin; verify them against the programs of this install.
  for (const std::string unit : {"tearline-broker.service", "tearline-node@.service"}) {
    std::string text = ReadFile(prefix / "lib/systemd/system" / unit);
    for (std::size_t at; (at = text.find("/usr/bin/")) != std::string::npos;) {
      text.replace(at, 9, (prefix / "bin").string() + "/");
    }
    const std::string name =
        unit == "tearline-node@.service" ? "tearline-node@usa-1.service" : unit;
    testing::WriteText(units.path() / name, text);
    auto v =
        RunProcess({Which("systemd-analyze"), "verify", "--man=no", (units.path() / name).string()},
                   std::chrono::seconds(60));
    EXPECT_EQ(v.exit_code, 0) << unit << ": " << v.out << v.err;
    EXPECT_EQ(v.err.find(name + ":"), std::string::npos) << "systemd-analyze complains: " << v.err;
  }
}

TEST_F(PackageTest, DebianPackagesRunTheDemoFromTheInstalledFiles) {
  for (const char* tool : {"dpkg-deb", "dpkg-shlibdeps", "python3"}) {
    if (!Have(tool)) GTEST_SKIP() << tool << " is not installed (deploy/install-deps.sh adds it)";
  }
  TempDir work;
  const fs::path pkgs = work.path() / "pkgs";
  auto cpack =
      RunProcess({TEARLINE_CPACK_COMMAND, "-G", "DEB", "--config",
                  std::string(TEARLINE_BINARY_DIR) + "/CPackConfig.cmake", "-B", pkgs.string()},
                 std::chrono::seconds(240));
  ASSERT_EQ(cpack.exit_code, 0) << cpack.out << cpack.err;
  std::vector<fs::path> debs;
  for (const auto& e : fs::directory_iterator(pkgs)) {
    if (e.path().extension() == ".deb") debs.push_back(e.path());
  }
  ASSERT_EQ(debs.size(), 3u) << cpack.out;
  std::string names;
  for (const auto& deb : debs) {
    auto f = RunProcess({Which("dpkg-deb"), "-f", deb.string(), "Package", "Depends"});
    ASSERT_EQ(f.exit_code, 0) << f.err;
    names += f.out;
    const bool daemon = f.out.find("Package: tearline-tools") == std::string::npos;
    // dpkg-shlibdeps found the shared libraries; daemons need the tools package and adduser.
    EXPECT_NE(f.out.find("libc6"), std::string::npos) << f.out;
    if (daemon) {
      EXPECT_NE(f.out.find("tearline-tools (= "), std::string::npos) << f.out;
      EXPECT_NE(f.out.find("adduser"), std::string::npos) << f.out;
      auto postinst = Sh("dpkg-deb -I " + Q(deb) + " postinst");
      EXPECT_NE(postinst.out.find("adduser --system"), std::string::npos) << postinst.out;
    }
    auto x = RunProcess({Which("dpkg-deb"), "-x", deb.string(), (work.path() / "root").string()});
    ASSERT_EQ(x.exit_code, 0) << x.err;
  }
  for (const char* name : {"tearline-broker", "tearline-node", "tearline-tools"}) {
    EXPECT_NE(names.find(std::string("Package: ") + name + "\n"), std::string::npos) << names;
  }
  // The demo's first scenario with the unpacked programs; they find the unpacked policy.
  auto demo =
      RunProcess({"/usr/bin/env", "-u", "TEARLINE_POLICY",
                  "TEARLINE_DEMO_BIN=" + (work.path() / "root/usr/bin").string(),
                  "TEARLINE_DEMO_DIR=" + (work.path() / "demo").string(),
                  "TEARLINE_DEMO_SCENARIOS=1", "/bin/bash", SourcePath("deploy/demo.sh").string()},
                 std::chrono::seconds(90));
  EXPECT_EQ(demo.exit_code, 0) << demo.out << demo.err;
  EXPECT_NE(demo.out.find("every expectation of scenario 1 held"), std::string::npos) << demo.out;
}

}  // namespace
}  // namespace tearline
