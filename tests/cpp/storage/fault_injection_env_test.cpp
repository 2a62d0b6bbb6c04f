// The fault-injecting Env itself: injected failures, the full disk and the crash model.
#include "storage/fault_injection_env.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "test_files.h"

namespace omendb::storage {
namespace {

using testing::read_bytes;
using testing::TempDir;
using testing::to_bytes;
using testing::write_bytes;

class FaultInjectionEnvTest : public ::testing::Test {
 protected:
  // Opens `name` for writing through the fault env.
  std::unique_ptr<WritableFile> open(const std::string& name, bool truncate = true) {
    Result<std::unique_ptr<WritableFile>> file =
        truncate ? env_.new_writable_file(dir_ / name) : env_.new_appendable_file(dir_ / name);
    EXPECT_TRUE(file.is_ok()) << file.status().message();
    return file.is_ok() ? std::move(file.value()) : nullptr;
  }

  // Writes `text` to a new file `name`, syncs it and its directory entry: durable.
  void write_durable(const std::string& name, std::string_view text) {
    std::unique_ptr<WritableFile> file = open(name);
    ASSERT_TRUE(file->append(to_bytes(text)).is_ok());
    ASSERT_TRUE(file->sync().is_ok());
    ASSERT_TRUE(file->close().is_ok());
    ASSERT_TRUE(env_.sync_dir(dir_.path()).is_ok());
  }

  bool exists(const std::string& name) { return Env::posix().file_exists(dir_ / name).value(); }
  std::vector<std::byte> contents(const std::string& name) { return read_bytes(dir_ / name); }

  TempDir dir_;
  FaultInjectionEnv env_{Env::posix()};
};

TEST_F(FaultInjectionEnvTest, FailNthFailsExactlyThatCallOrThatCallAndLaterOnes) {
  std::unique_ptr<WritableFile> file = open("f");
  env_.fail_nth(FaultOp::kAppend, 2);
  EXPECT_TRUE(file->append(to_bytes("a")).is_ok());
  Status failed = file->append(to_bytes("b"));
  EXPECT_EQ(failed.code(), StatusCode::kIoError);
  EXPECT_NE(failed.message().find("injected"), std::string::npos) << failed.message();
  EXPECT_TRUE(file->append(to_bytes("c")).is_ok());
  EXPECT_EQ(contents("f"), to_bytes("ac")) << "a failed append writes nothing";
  EXPECT_EQ(env_.calls(FaultOp::kAppend), 3u);

  env_.fail_nth(FaultOp::kAppend, 1, /*and_later=*/true);
  EXPECT_FALSE(file->append(to_bytes("d")).is_ok());
  EXPECT_FALSE(file->append(to_bytes("e")).is_ok());
  env_.clear_faults();
  EXPECT_TRUE(file->append(to_bytes("f")).is_ok());
  EXPECT_EQ(contents("f"), to_bytes("acf"));
}

TEST_F(FaultInjectionEnvTest, EveryKindOfOperationCanFail) {
  write_durable("a", "x");
  env_.fail_nth(FaultOp::kCreate, 1);
  EXPECT_EQ(env_.new_writable_file(dir_ / "new").status().code(), StatusCode::kIoError);
  EXPECT_FALSE(exists("new"));
  env_.fail_nth(FaultOp::kCreate, 1);
  EXPECT_EQ(env_.create_dir(dir_ / "sub").code(), StatusCode::kIoError);
  EXPECT_FALSE(exists("sub"));
  env_.fail_nth(FaultOp::kRename, 1);
  EXPECT_EQ(env_.rename_file(dir_ / "a", dir_ / "b").code(), StatusCode::kIoError);
  EXPECT_TRUE(exists("a"));
  EXPECT_FALSE(exists("b"));
  env_.fail_nth(FaultOp::kRemove, 1);
  EXPECT_EQ(env_.remove_file(dir_ / "a").code(), StatusCode::kIoError);
  EXPECT_TRUE(exists("a"));
  env_.fail_nth(FaultOp::kTruncate, 1);
  EXPECT_EQ(env_.truncate_file(dir_ / "a", 0).code(), StatusCode::kIoError);
  EXPECT_EQ(contents("a"), to_bytes("x"));
  env_.fail_nth(FaultOp::kSyncDir, 1);
  EXPECT_EQ(env_.sync_dir(dir_.path()).code(), StatusCode::kIoError);
  std::unique_ptr<WritableFile> file = open("a", /*truncate=*/false);
  env_.fail_nth(FaultOp::kSync, 1);
  EXPECT_EQ(file->sync().code(), StatusCode::kIoError);
  EXPECT_TRUE(file->sync().is_ok());
}

TEST_F(FaultInjectionEnvTest, FullDiskWritesThePrefixThatFitsThenNothing) {
  std::unique_ptr<WritableFile> file = open("f");
  env_.set_space_left(10);
  EXPECT_TRUE(file->append(to_bytes("012345")).is_ok());
  Status full = file->append(to_bytes("6789abcd"));
  EXPECT_EQ(full.code(), StatusCode::kIoError);
  EXPECT_NE(full.message().find("No space left"), std::string::npos);
  EXPECT_EQ(contents("f"), to_bytes("0123456789")) << "a short write";
  EXPECT_EQ(file->size(), 10u);
  EXPECT_FALSE(file->append(to_bytes("e")).is_ok());
  EXPECT_EQ(contents("f").size(), 10u);
  env_.clear_faults();
  EXPECT_TRUE(file->append(to_bytes("e")).is_ok());
}

TEST_F(FaultInjectionEnvTest, CrashCutsFilesToTheirLastSyncAndOldHandlesFail) {
  write_durable("f", "");
  std::unique_ptr<WritableFile> file = open("f", /*truncate=*/false);
  ASSERT_TRUE(file->append(to_bytes("abc")).is_ok());
  ASSERT_TRUE(file->sync().is_ok());
  ASSERT_TRUE(file->append(to_bytes("def")).is_ok());
  EXPECT_EQ(contents("f"), to_bytes("abcdef"));
  ASSERT_TRUE(env_.drop_unsynced_data().is_ok());
  EXPECT_EQ(contents("f"), to_bytes("abc"));
  EXPECT_EQ(file->append(to_bytes("g")).code(), StatusCode::kIoError);
  EXPECT_EQ(file->sync().code(), StatusCode::kIoError);
  EXPECT_EQ(contents("f"), to_bytes("abc"));
  EXPECT_TRUE(file->close().is_ok());

  std::unique_ptr<WritableFile> again = open("f", /*truncate=*/false);
  EXPECT_EQ(again->size(), 3u);
  ASSERT_TRUE(again->append(to_bytes("x")).is_ok());
  ASSERT_TRUE(env_.drop_unsynced_data().is_ok());
  EXPECT_EQ(contents("f"), to_bytes("abc")) << "what was there when opened counts as durable";
}

TEST_F(FaultInjectionEnvTest, CrashUndoesCreationsNotFollowedBySyncDir) {
  std::unique_ptr<WritableFile> file = open("f");
  ASSERT_TRUE(file->append(to_bytes("data")).is_ok());
  ASSERT_TRUE(file->sync().is_ok());
  ASSERT_TRUE(env_.create_dir(dir_ / "sub").is_ok());
  ASSERT_TRUE(env_.drop_unsynced_data().is_ok());
  EXPECT_FALSE(exists("f")) << "synced data, but the directory entry never was";
  EXPECT_FALSE(exists("sub"));

  write_durable("g", "data");
  ASSERT_TRUE(env_.drop_unsynced_data().is_ok());
  EXPECT_EQ(contents("g"), to_bytes("data"));
}

TEST_F(FaultInjectionEnvTest, CrashUndoesADirectoryWithEverythingInIt) {
  const auto sub = dir_ / "sub";
  ASSERT_TRUE(env_.create_dir(sub).is_ok());
  std::unique_ptr<WritableFile> file = open("sub/f");
  ASSERT_TRUE(file->append(to_bytes("x")).is_ok());
  ASSERT_TRUE(file->sync().is_ok());
  ASSERT_TRUE(env_.sync_dir(sub).is_ok());  // f's entry is durable in sub, sub's is not
  ASSERT_TRUE(env_.drop_unsynced_data().is_ok());
  EXPECT_FALSE(exists("sub"));
}

TEST_F(FaultInjectionEnvTest, CrashUndoesARenameOverAFileAndBringsItsBytesBack) {
  write_durable("MANIFEST", "old");
  std::unique_ptr<WritableFile> temp = open("MANIFEST.tmp");
  ASSERT_TRUE(temp->append(to_bytes("new")).is_ok());
  ASSERT_TRUE(temp->sync().is_ok());
  ASSERT_TRUE(env_.rename_file(dir_ / "MANIFEST.tmp", dir_ / "MANIFEST").is_ok());
  EXPECT_EQ(contents("MANIFEST"), to_bytes("new"));
  ASSERT_TRUE(env_.drop_unsynced_data().is_ok());
  EXPECT_EQ(contents("MANIFEST"), to_bytes("old"));
  EXPECT_FALSE(exists("MANIFEST.tmp")) << "its creation was not durable either";

  write_durable("MANIFEST.tmp", "new");
  ASSERT_TRUE(env_.rename_file(dir_ / "MANIFEST.tmp", dir_ / "MANIFEST").is_ok());
  ASSERT_TRUE(env_.drop_unsynced_data().is_ok());
  EXPECT_EQ(contents("MANIFEST"), to_bytes("old"));
  EXPECT_EQ(contents("MANIFEST.tmp"), to_bytes("new"));

  ASSERT_TRUE(env_.rename_file(dir_ / "MANIFEST.tmp", dir_ / "MANIFEST").is_ok());
  ASSERT_TRUE(env_.sync_dir(dir_.path()).is_ok());
  ASSERT_TRUE(env_.drop_unsynced_data().is_ok());
  EXPECT_EQ(contents("MANIFEST"), to_bytes("new"));
  EXPECT_FALSE(exists("MANIFEST.tmp"));
}

TEST_F(FaultInjectionEnvTest, RenamedUnsyncedFileLosesItsDataUnderEitherName) {
  write_durable("MANIFEST", "old");
  write_durable("MANIFEST.tmp", "");
  std::unique_ptr<WritableFile> temp = open("MANIFEST.tmp", /*truncate=*/false);
  ASSERT_TRUE(temp->append(to_bytes("new")).is_ok());  // the bug: no sync before the rename
  ASSERT_TRUE(env_.rename_file(dir_ / "MANIFEST.tmp", dir_ / "MANIFEST").is_ok());
  ASSERT_TRUE(env_.sync_dir(dir_.path()).is_ok());
  ASSERT_TRUE(env_.drop_unsynced_data().is_ok());
  EXPECT_TRUE(contents("MANIFEST").empty());
}

TEST_F(FaultInjectionEnvTest, CrashUndoesARemoval) {
  write_durable("f", "keep me");
  ASSERT_TRUE(env_.remove_file(dir_ / "f").is_ok());
  EXPECT_FALSE(exists("f"));
  ASSERT_TRUE(env_.drop_unsynced_data().is_ok());
  EXPECT_EQ(contents("f"), to_bytes("keep me"));

  ASSERT_TRUE(env_.remove_file(dir_ / "f").is_ok());
  ASSERT_TRUE(env_.sync_dir(dir_.path()).is_ok());
  ASSERT_TRUE(env_.drop_unsynced_data().is_ok());
  EXPECT_FALSE(exists("f"));
}

TEST_F(FaultInjectionEnvTest, TruncationLowersTheSyncedSize) {
  write_durable("f", "abcdef");
  ASSERT_TRUE(env_.truncate_file(dir_ / "f", 2).is_ok());
  std::unique_ptr<WritableFile> file = open("f", /*truncate=*/false);
  ASSERT_TRUE(file->append(to_bytes("XY")).is_ok());
  ASSERT_TRUE(env_.drop_unsynced_data().is_ok());
  EXPECT_EQ(contents("f"), to_bytes("ab"));
}

TEST_F(FaultInjectionEnvTest, FilesNeverWrittenThroughItAreLeftAlone) {
  write_bytes(dir_ / "outside", to_bytes("unsynced but not ours"));
  ASSERT_TRUE(env_.drop_unsynced_data().is_ok());
  EXPECT_EQ(contents("outside"), to_bytes("unsynced but not ours"));
}

}  // namespace
}  // namespace omendb::storage
