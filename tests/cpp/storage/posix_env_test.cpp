#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "storage/env.h"
#include "test_files.h"

namespace omendb::storage {
namespace {

using testing::read_bytes;
using testing::TempDir;
using testing::to_bytes;
using testing::write_bytes;

Env& env() { return Env::posix(); }

// Writes `text` into a new file at `path` through the Env.
void write_file(const std::filesystem::path& path, std::string_view text) {
  Result<std::unique_ptr<WritableFile>> file = env().new_writable_file(path);
  ASSERT_TRUE(file.is_ok()) << file.status().message();
  ASSERT_TRUE(file.value()->append(to_bytes(text)).is_ok());
  ASSERT_TRUE(file.value()->sync().is_ok());
  ASSERT_TRUE(file.value()->close().is_ok());
}

TEST(PosixEnv, WritableFileWritesAppendsAndTruncates) {
  TempDir dir;
  const auto path = dir / "file";
  write_file(path, "hello");
  EXPECT_EQ(read_bytes(path), to_bytes("hello"));

  Result<std::unique_ptr<WritableFile>> appendable = env().new_appendable_file(path);
  ASSERT_TRUE(appendable.is_ok());
  EXPECT_EQ(appendable.value()->size(), 5u);
  ASSERT_TRUE(appendable.value()->append(to_bytes(", world")).is_ok());
  EXPECT_EQ(appendable.value()->size(), 12u);
  ASSERT_TRUE(appendable.value()->close().is_ok());
  EXPECT_TRUE(appendable.value()->close().is_ok()) << "close is idempotent";
  EXPECT_EQ(read_bytes(path), to_bytes("hello, world"));

  Status closed = appendable.value()->append(to_bytes("!"));
  EXPECT_EQ(closed.code(), StatusCode::kIoError);
  EXPECT_EQ(appendable.value()->sync().code(), StatusCode::kIoError);

  Result<std::unique_ptr<WritableFile>> fresh = env().new_writable_file(path);
  ASSERT_TRUE(fresh.is_ok());
  EXPECT_EQ(fresh.value()->size(), 0u);
  EXPECT_TRUE(read_bytes(path).empty()) << "new_writable_file truncates";
}

TEST(PosixEnv, LargeAppendArrivesWhole) {
  TempDir dir;
  std::vector<std::byte> data(3 << 20);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::byte>(i * 7 + i / 251);
  Result<std::unique_ptr<WritableFile>> file = env().new_writable_file(dir / "big");
  ASSERT_TRUE(file.is_ok());
  ASSERT_TRUE(file.value()->append(data).is_ok());
  ASSERT_TRUE(file.value()->close().is_ok());
  EXPECT_EQ(read_bytes(dir / "big"), data);
}

TEST(PosixEnv, RandomAccessReadsAtOffsetsAndStopsAtTheEnd) {
  TempDir dir;
  write_file(dir / "file", "0123456789");
  Result<std::unique_ptr<RandomAccessFile>> file = env().new_random_access_file(dir / "file");
  ASSERT_TRUE(file.is_ok());
  EXPECT_EQ(file.value()->size(), 10u);
  std::vector<std::byte> out(4);
  std::size_t bytes_read = 0;
  ASSERT_TRUE(file.value()->read(3, out, bytes_read).is_ok());
  EXPECT_EQ(bytes_read, 4u);
  EXPECT_EQ(out, to_bytes("3456"));
  ASSERT_TRUE(file.value()->read(8, out, bytes_read).is_ok());
  EXPECT_EQ(bytes_read, 2u);
  ASSERT_TRUE(file.value()->read(20, out, bytes_read).is_ok());
  EXPECT_EQ(bytes_read, 0u);
}

TEST(PosixEnv, MapFileShowsTheBytesAndAnEmptyFileMapsEmpty) {
  TempDir dir;
  write_file(dir / "file", "mapped bytes");
  Result<std::unique_ptr<MappedFile>> mapped = env().map_file(dir / "file");
  ASSERT_TRUE(mapped.is_ok());
  const std::span<const std::byte> bytes = mapped.value()->bytes();
  EXPECT_EQ(std::vector<std::byte>(bytes.begin(), bytes.end()), to_bytes("mapped bytes"));

  write_file(dir / "empty", "");
  Result<std::unique_ptr<MappedFile>> empty = env().map_file(dir / "empty");
  ASSERT_TRUE(empty.is_ok()) << empty.status().message();
  EXPECT_TRUE(empty.value()->bytes().empty());
}

// copy_out reads any range of a mapped file (within a page, across page boundaries, up to the
// end) as the mapping shows it.
TEST(PosixEnv, MappedFileCopiesOutAnyRange) {
  TempDir dir;
  std::string text(3 * 4096 + 100, '\0');
  for (std::size_t i = 0; i < text.size(); ++i) text[i] = static_cast<char>('a' + i * 7 % 26);
  write_file(dir / "file", text);
  Result<std::unique_ptr<MappedFile>> mapped = env().map_file(dir / "file");
  ASSERT_TRUE(mapped.is_ok()) << mapped.status().message();
  mapped.value()->release_resident_pages();
  const std::span<const std::byte> bytes = mapped.value()->bytes();
  const std::pair<std::size_t, std::size_t> ranges[] = {
      {0, 10}, {4090, 20}, {100, 8192}, {text.size() - 100, 100}, {5, 0}};
  for (const auto& [offset, length] : ranges) {
    std::vector<std::byte> out(length);
    mapped.value()->copy_out(offset, out);
    EXPECT_TRUE(
        std::equal(out.begin(), out.end(), bytes.begin() + static_cast<std::ptrdiff_t>(offset)))
        << offset << " + " << length;
  }
}

TEST(PosixEnv, DirectoryOperations) {
  TempDir dir;
  const auto sub = dir / "sub";
  ASSERT_TRUE(env().create_dir(sub).is_ok());
  EXPECT_TRUE(env().create_dir(sub).is_ok()) << "an existing directory is fine";
  write_file(sub / "b", "2");
  write_file(sub / "a", "1");
  write_file(sub / "c", "333");
  Result<std::vector<std::string>> names = env().list_dir(sub);
  ASSERT_TRUE(names.is_ok());
  EXPECT_EQ(names.value(), (std::vector<std::string>{"a", "b", "c"}));

  EXPECT_TRUE(env().file_exists(sub / "a").value());
  EXPECT_FALSE(env().file_exists(sub / "missing").value());
  EXPECT_FALSE(env().file_exists(sub / "a" / "below-a-file").value());
  EXPECT_EQ(env().file_size(sub / "c").value(), 3u);

  ASSERT_TRUE(env().rename_file(sub / "c", sub / "a").is_ok());
  EXPECT_EQ(read_bytes(sub / "a"), to_bytes("333")) << "rename replaces the target";
  EXPECT_FALSE(env().file_exists(sub / "c").value());
  ASSERT_TRUE(env().truncate_file(sub / "a", 1).is_ok());
  EXPECT_EQ(read_bytes(sub / "a"), to_bytes("3"));
  EXPECT_TRUE(env().sync_dir(sub).is_ok());

  EXPECT_EQ(env().remove_dir(sub).code(), StatusCode::kIoError) << "not empty";
  ASSERT_TRUE(env().remove_file(sub / "a").is_ok());
  ASSERT_TRUE(env().remove_file(sub / "b").is_ok());
  ASSERT_TRUE(env().remove_dir(sub).is_ok());
  EXPECT_FALSE(env().file_exists(sub).value());

  write_file(dir / "plain", "x");
  EXPECT_EQ(env().create_dir(dir / "plain").code(), StatusCode::kIoError)
      << "a file is not a directory";
}

TEST(PosixEnv, ErrorsNameTheOperationThePathAndTheReason) {
  TempDir dir;
  const auto missing = dir / "missing";
  Result<std::unique_ptr<RandomAccessFile>> file = env().new_random_access_file(missing);
  ASSERT_EQ(file.status().code(), StatusCode::kIoError);
  EXPECT_EQ(file.status().message(), "open " + missing.string() + ": No such file or directory");

  Status remove = env().remove_file(missing);
  EXPECT_EQ(remove.code(), StatusCode::kIoError);
  EXPECT_NE(remove.message().find("unlink " + missing.string()), std::string::npos);
  Status rename = env().rename_file(missing, dir / "b");
  EXPECT_NE(rename.message().find(missing.string()), std::string::npos);
  EXPECT_EQ(env().file_size(missing).status().code(), StatusCode::kIoError);
  EXPECT_EQ(env().list_dir(missing).status().code(), StatusCode::kIoError);
  EXPECT_EQ(env().map_file(missing).status().code(), StatusCode::kIoError);
  EXPECT_EQ(env().truncate_file(missing, 0).code(), StatusCode::kIoError);
  EXPECT_EQ(env().sync_dir(missing).code(), StatusCode::kIoError);
  EXPECT_EQ(env().new_writable_file(missing / "below").status().code(), StatusCode::kIoError);
}

TEST(PosixEnv, LocksConflictBetweenLockObjects) {
  TempDir dir;
  const auto path = dir / "LOCK";
  {
    Result<std::unique_ptr<FileLock>> writer = env().lock_file(path, LockMode::kExclusive);
    ASSERT_TRUE(writer.is_ok()) << writer.status().message();
    Result<std::unique_ptr<FileLock>> second = env().lock_file(path, LockMode::kExclusive);
    ASSERT_EQ(second.status().code(), StatusCode::kLocked);
    EXPECT_NE(second.status().message().find(path.string()), std::string::npos)
        << second.status().message();
    EXPECT_EQ(env().lock_file(path, LockMode::kShared).status().code(), StatusCode::kLocked);
  }
  {
    Result<std::unique_ptr<FileLock>> reader1 = env().lock_file(path, LockMode::kShared);
    Result<std::unique_ptr<FileLock>> reader2 = env().lock_file(path, LockMode::kShared);
    ASSERT_TRUE(reader1.is_ok());
    ASSERT_TRUE(reader2.is_ok()) << "readers share";
    EXPECT_EQ(env().lock_file(path, LockMode::kExclusive).status().code(), StatusCode::kLocked);
  }
  EXPECT_TRUE(env().lock_file(path, LockMode::kExclusive).is_ok()) << "released on destruction";
}

// Forks a child that tries to take a `mode` lock on `path`; returns its exit code: 0 locked out,
// 1 lock taken, 2 other error.
int lock_in_child(const std::filesystem::path& path, LockMode mode) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    Result<std::unique_ptr<FileLock>> lock = Env::posix().lock_file(path, mode);
    const StatusCode code = lock.status().code();
    ::_exit(code == StatusCode::kLocked ? 0 : code == StatusCode::kOk ? 1 : 2);
  }
  int status = 0;
  if (pid < 0 || ::waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

TEST(PosixEnv, LocksConflictAcrossProcesses) {
  TempDir dir;
  const auto path = dir / "LOCK";
  {
    Result<std::unique_ptr<FileLock>> writer = env().lock_file(path, LockMode::kExclusive);
    ASSERT_TRUE(writer.is_ok());
    EXPECT_EQ(lock_in_child(path, LockMode::kExclusive), 0);
    EXPECT_EQ(lock_in_child(path, LockMode::kShared), 0);
  }
  EXPECT_EQ(lock_in_child(path, LockMode::kExclusive), 1);
  {
    Result<std::unique_ptr<FileLock>> reader = env().lock_file(path, LockMode::kShared);
    ASSERT_TRUE(reader.is_ok());
    EXPECT_EQ(lock_in_child(path, LockMode::kShared), 1);
    EXPECT_EQ(lock_in_child(path, LockMode::kExclusive), 0);
  }

  // A child holds the lock; this process is locked out until the child exits.
  int ready[2];
  int done[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(done), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    Result<std::unique_ptr<FileLock>> lock = Env::posix().lock_file(path, LockMode::kExclusive);
    const char byte = lock.is_ok() ? '1' : '0';
    char ignored = 0;
    const bool ok = ::write(ready[1], &byte, 1) == 1 && ::read(done[0], &ignored, 1) >= 0;
    ::_exit(ok ? 0 : 1);
  }
  char child_locked = 0;
  ASSERT_EQ(::read(ready[0], &child_locked, 1), 1);
  ASSERT_EQ(child_locked, '1');
  Result<std::unique_ptr<FileLock>> blocked = env().lock_file(path, LockMode::kExclusive);
  EXPECT_EQ(blocked.status().code(), StatusCode::kLocked) << blocked.status().message();
  ASSERT_EQ(::write(done[1], "x", 1), 1);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  for (int fd : {ready[0], ready[1], done[0], done[1]}) ::close(fd);
  EXPECT_TRUE(env().lock_file(path, LockMode::kExclusive).is_ok()) << "released when it exited";
}

}  // namespace
}  // namespace omendb::storage
