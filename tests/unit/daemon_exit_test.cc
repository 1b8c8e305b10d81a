#include "tearline/cli/daemon_exit.h"

#include <gtest/gtest.h>

namespace tearline::cli {
namespace {

TEST(DaemonExitTest, ConfigurationFileErrorsAreExConfig) {
  EXPECT_EQ(StartupExitCode(NotFound("CONFIG_NOT_FOUND", "x.toml: no such file")), kExitConfig);
  EXPECT_EQ(StartupExitCode(InvalidArgument("CONFIG_INVALID", "x.toml:3: unknown key")),
            kExitConfig);
  EXPECT_EQ(StartupExitCode(Status(Code::kResourceExhausted, "CONFIG_TOO_LARGE", "x.toml")),
            kExitConfig);
  EXPECT_EQ(kExitConfig, 78);
}

// Refusals about the state or the files a configuration names keep the documented status 2:
// restarting will not help, and scripts already rely on it.
TEST(DaemonExitTest, OtherStartupRefusalsAreInvalid) {
  EXPECT_EQ(StartupExitCode(PermissionDenied("KEY_FILE_PERMISSIONS", "mode 0640")), kExitInvalid);
  EXPECT_EQ(StartupExitCode(Unauthenticated("AUDIT_ROLLBACK", "older log")), kExitInvalid);
  EXPECT_EQ(StartupExitCode(IoError("AUDIT_OPEN", "EIO")), kExitInvalid);
}

TEST(DaemonExitTest, RunFailuresSayIoOrSoftware) {
  EXPECT_EQ(RunExitCode(Status::Ok()), kExitOk);
  EXPECT_EQ(RunExitCode(IoError("AUDIT_WRITE", "No space left on device")), kExitIoError);
  EXPECT_EQ(RunExitCode(Status(Code::kResourceExhausted, "STORAGE_FULL", "disk")), kExitIoError);
  EXPECT_EQ(RunExitCode(Internal("AUDIT_SIGN", "bug")), kExitSoftware);
  EXPECT_EQ(RunExitCode(InvalidArgument("AUDIT_RECORD", "refused")), kExitSoftware);
  EXPECT_EQ(kExitIoError, 74);
  EXPECT_EQ(kExitSoftware, 70);
}

TEST(DaemonExitTest, OnlyConfigReaderReasonsAreConfigFileErrors) {
  EXPECT_TRUE(IsConfigFileError(InvalidArgument("CONFIG_INVALID", "")));
  EXPECT_FALSE(IsConfigFileError(InvalidArgument("CONFIG_INVALIDATED", "")));
  EXPECT_FALSE(IsConfigFileError(Status::Ok()));
}

}  // namespace
}  // namespace tearline::cli
