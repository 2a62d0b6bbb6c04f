// The recording Env: every operation that changes the file system, in order, with its bytes.
#include "storage/recording_env.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "storage/fault_injection_env.h"
#include "test_files.h"

namespace omendb::storage {
namespace {

using Kind = FileOp::Kind;
using testing::read_bytes;
using testing::TempDir;
using testing::to_bytes;

TEST(RecordingEnv, RecordsEveryChangeInOrderAndPassesItThrough) {
  TempDir dir;
  RecordingEnv env(Env::posix());
  ASSERT_TRUE(env.create_dir(dir / "sub").is_ok());
  ASSERT_TRUE(env.create_dir(dir / "sub").is_ok());  // exists: nothing happens, nothing recorded
  {
    auto file = env.new_writable_file(dir / "a");
    ASSERT_TRUE(file.is_ok());
    ASSERT_TRUE(file.value()->append(to_bytes("hello")).is_ok());
    ASSERT_TRUE(file.value()->sync().is_ok());
    ASSERT_TRUE(file.value()->close().is_ok());
  }
  {
    auto file = env.new_appendable_file(dir / "a");  // exists: no creation, no truncation
    ASSERT_TRUE(file.is_ok());
    ASSERT_TRUE(file.value()->append(to_bytes("!")).is_ok());
  }
  ASSERT_TRUE(env.truncate_file(dir / "a", 2).is_ok());
  ASSERT_TRUE(env.new_writable_file(dir / "a").is_ok());  // exists: truncated to 0
  ASSERT_TRUE(env.rename_file(dir / "a", dir / "b").is_ok());
  ASSERT_TRUE(env.sync_dir(dir.path()).is_ok());
  ASSERT_TRUE(env.remove_file(dir / "b").is_ok());
  ASSERT_TRUE(env.remove_dir(dir / "sub").is_ok());
  ASSERT_TRUE(env.lock_file(dir / "LOCK", LockMode::kExclusive).is_ok());
  ASSERT_TRUE(env.file_exists(dir / "LOCK").value());      // reads are not recorded
  EXPECT_FALSE(env.remove_file(dir / "missing").is_ok());  // failed: not recorded

  const std::vector<FileOp> ops = env.take_operations();
  const std::vector<Kind> kinds = {Kind::kCreateDir,  Kind::kCreateFile, Kind::kAppend,
                                   Kind::kSync,       Kind::kAppend,     Kind::kTruncate,
                                   Kind::kTruncate,   Kind::kRename,     Kind::kSyncDir,
                                   Kind::kRemoveFile, Kind::kRemoveDir,  Kind::kCreateFile};
  ASSERT_EQ(ops.size(), kinds.size());
  for (std::size_t i = 0; i < ops.size(); ++i) EXPECT_EQ(ops[i].kind, kinds[i]) << "op " << i;
  EXPECT_EQ(ops[2].data, to_bytes("hello"));
  EXPECT_EQ(ops[2].size, 0u);
  EXPECT_EQ(ops[4].data, to_bytes("!"));
  EXPECT_EQ(ops[4].size, 5u) << "the offset the append wrote at";
  EXPECT_EQ(ops[5].size, 2u);
  EXPECT_EQ(ops[6].size, 0u);
  EXPECT_EQ(ops[7].path, dir / "a");
  EXPECT_EQ(ops[7].target, dir / "b");
  EXPECT_EQ(ops[11].path, dir / "LOCK");
  EXPECT_EQ(env.operation_count(), 0u) << "taken";
}

TEST(RecordingEnv, AFailedCallIsRecordedAsFarAsItChangedTheFiles) {
  TempDir dir;
  FaultInjectionEnv faulty(Env::posix());
  RecordingEnv env(faulty);
  auto file = env.new_writable_file(dir / "f");
  ASSERT_TRUE(file.is_ok());
  faulty.set_space_left(3);  // a full disk: the append writes "hel" and fails
  EXPECT_FALSE(file.value()->append(to_bytes("hello")).is_ok());
  EXPECT_FALSE(file.value()->append(to_bytes("more")).is_ok());  // writes nothing
  faulty.fail_nth(FaultOp::kSync, 1);
  EXPECT_FALSE(file.value()->sync().is_ok());
  const std::vector<FileOp> ops = env.take_operations();
  ASSERT_EQ(ops.size(), 2u);
  EXPECT_EQ(ops[0].kind, Kind::kCreateFile);
  EXPECT_EQ(ops[1].kind, Kind::kAppend);
  EXPECT_EQ(ops[1].data, to_bytes("hel"));
  EXPECT_EQ(read_bytes(dir / "f"), to_bytes("hel"));
}

}  // namespace
}  // namespace omendb::storage
