// Database on disk: reopening (from snapshots and from the log), the write lock, read-only handles
// and refresh(), checkpoints, injected I/O failures and simulated power failures.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <random>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "db/database_test_util.h"
#include "omendb/database.h"
#include "storage/fault_injection_env.h"

namespace omendb {
namespace {

namespace fs = std::filesystem;
using namespace database_test;  // NOLINT(google-build-using-namespace)

std::vector<std::string> log_files(const fs::path& folder) {
  std::vector<std::string> logs;
  for (const auto& entry : fs::directory_iterator(folder)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with("wal-")) logs.push_back(name);
  }
  return logs;
}

TEST(DurableDatabase, ReopenAfterCloseKeepsEveryRecord) {
  TempDir dir;
  const fs::path folder = dir / "db";
  Model model;
  {
    auto db = open_at(folder);
    auto docs = collection_of(*db);
    add_records(*docs, model, "a", 300, 1);
    add_records(*docs, model, "a", 50, 2, /*upsert=*/true);
    remove_records(*docs, model, {"a3", "a7", "a100", "a299"});
    ASSERT_TRUE(db->close().is_ok());
  }
  auto db = open_at(folder);
  auto names = db->collection_names();
  ASSERT_EQ(names.value(), std::vector<std::string>{"docs"});
  auto docs = db->get_collection("docs");
  ASSERT_TRUE(docs.is_ok());
  expect_matches(*docs.value(), model);
  // The log is empty after the checkpoint on close, and writing goes on.
  add_records(*docs.value(), model, "b", 20, 3);
  expect_matches(*docs.value(), model);
}

TEST(DurableDatabase, ReopenAfterACrashReplaysTheLog) {
  TempDir dir;
  const fs::path folder = dir / "db";
  Model model;
  auto db = open_at(folder);
  auto docs = collection_of(*db);
  add_records(*docs, model, "a", 200, 1);
  ASSERT_TRUE(db->checkpoint().is_ok());
  add_records(*docs, model, "b", 100, 2);  // only in the log
  add_records(*docs, model, "a", 10, 3, /*upsert=*/true);
  remove_records(*docs, model, {"a50", "b5"});
  auto other = collection_of(*db, "other");
  Model other_model;
  add_records(*other, other_model, "x", 30, 4);
  const fs::path crashed = crash_copy(folder, dir, "crashed");

  auto reopened = open_at(crashed);
  expect_matches(*collection_of(*reopened), model);
  expect_matches(*collection_of(*reopened, "other"), other_model);
}

TEST(DurableDatabase, DropAndRecreateSurviveReplayAndCheckpoint) {
  TempDir dir;
  const fs::path folder = dir / "db";
  auto db = open_at(folder);
  Model model;
  add_records(*collection_of(*db), model, "a", 20, 1);
  ASSERT_TRUE(db->checkpoint().is_ok());
  ASSERT_TRUE(db->drop_collection("docs").is_ok());
  auto recreated = db->create_collection("docs", options_with(3));
  ASSERT_TRUE(recreated.is_ok());
  const fs::path crashed = crash_copy(folder, dir, "crashed");
  {
    auto reopened = open_at(crashed);
    auto docs = reopened->get_collection("docs");
    ASSERT_TRUE(docs.is_ok());
    EXPECT_EQ(docs.value()->options().dim, 3u);
    EXPECT_EQ(docs.value()->size(), 0u);
  }
  ASSERT_TRUE(db->close().is_ok());
  auto reopened = open_at(folder);
  EXPECT_EQ(reopened->get_collection("docs").value()->options().dim, 3u);
}

// Deleting every record empties the graph (entry level -1 with slots left); replacing them moves
// the entry point below deleted nodes. Both must checkpoint, reopen and take inserts.
TEST(DurableDatabase, EverythingDeletedOrReplacedSurvivesACheckpoint) {
  TempDir dir;
  const fs::path folder = dir / "db";
  Model model;
  {
    auto db = open_at(folder);
    auto docs = collection_of(*db);
    add_records(*docs, model, "a", 300, 1);
    std::vector<std::string> all;
    for (const auto& [id, record] : model) all.push_back(id);
    remove_records(*docs, model, all);
    ASSERT_TRUE(db->checkpoint().is_ok());
    add_records(*docs, model, "b", 300, 2);
    add_records(*docs, model, "b", 300, 3, /*upsert=*/true);
  }
  auto db = open_at(folder);
  auto docs = collection_of(*db);
  expect_matches(*docs, model);
  add_records(*docs, model, "c", 50, 4);
  expect_matches(*docs, model);
}

TEST(DurableDatabase, AMissingManifestIsCorruptionNotANewDatabase) {
  TempDir dir;
  const fs::path folder = dir / "db";
  {
    auto db = open_at(folder);
    Model model;
    add_records(*collection_of(*db), model, "a", 10, 1);
  }
  fs::remove(folder / "MANIFEST");
  const auto files_before = std::distance(fs::recursive_directory_iterator(folder),
                                          fs::recursive_directory_iterator());
  auto opened = Database::open(folder.string(), DatabaseOptions{});
  ASSERT_EQ(opened.status().code(), StatusCode::kCorruption);
  EXPECT_NE(opened.status().message().find("no MANIFEST"), std::string::npos);
  EXPECT_EQ(std::distance(fs::recursive_directory_iterator(folder),
                          fs::recursive_directory_iterator()),
            files_before);

  // A first open that crashed before its manifest left only an empty log: a new database.
  const fs::path fresh = dir / "fresh";
  {
    auto db = open_at(fresh);
  }
  for (const auto& entry : fs::directory_iterator(fresh / "collections")) fs::remove_all(entry);
  fs::remove(fresh / "MANIFEST");
  for (const std::string& log : log_files(fresh)) fs::resize_file(fresh / log, 16);
  EXPECT_TRUE(Database::open(fresh.string(), DatabaseOptions{}).is_ok());
}

TEST(DurableDatabase, ASecondWriterIsLockedOut) {
  TempDir dir;
  auto db = open_at(dir / "db");
  auto second = Database::open((dir / "db").string(), DatabaseOptions{});
  ASSERT_EQ(second.status().code(), StatusCode::kLocked);
  EXPECT_NE(second.status().message().find("read_only"), std::string::npos);
  ASSERT_TRUE(db->close().is_ok());
  EXPECT_TRUE(Database::open((dir / "db").string(), DatabaseOptions{}).is_ok());
}

TEST(DurableDatabase, ReadOnlyNeedsAnExistingDatabaseAndRefusesWrites) {
  TempDir dir;
  EXPECT_EQ(Database::open((dir / "none").string(), read_only_options()).status().code(),
            StatusCode::kNotFound);
  Model model;
  {
    auto db = open_at(dir / "db");
    add_records(*collection_of(*db), model, "a", 10, 1);
  }
  auto reader = open_at(dir / "db", read_only_options());
  auto docs = reader->get_collection("docs").value();
  expect_matches(*docs, model);
  const std::string_view id = "new";
  const std::vector<float> vector(kDim, 1.0f);
  EXPECT_EQ(docs->add({.ids = {&id, 1}, .vectors = vector, .metadata = {}}).code(),
            StatusCode::kReadOnly);
  EXPECT_EQ(docs->remove({&id, 1}).status().code(), StatusCode::kReadOnly);
  EXPECT_EQ(docs->compact().status().code(), StatusCode::kReadOnly);
  EXPECT_EQ(reader->create_collection("other", options_with()).status().code(),
            StatusCode::kReadOnly);
  EXPECT_EQ(reader->drop_collection("docs").code(), StatusCode::kReadOnly);
  EXPECT_EQ(reader->checkpoint().code(), StatusCode::kReadOnly);
  expect_matches(*docs, model);
}

TEST(DurableDatabase, ReadersSeeTheWriterAfterRefresh) {
  TempDir dir;
  const fs::path folder = dir / "db";
  auto writer = open_at(folder);
  Model model;
  auto docs = collection_of(*writer);
  add_records(*docs, model, "a", 50, 1);

  auto reader = open_at(folder, read_only_options());
  auto seen = reader->get_collection("docs").value();
  expect_matches(*seen, model);

  // New log records.
  add_records(*docs, model, "b", 30, 2);
  remove_records(*docs, model, {"a1"});
  auto other = collection_of(*writer, "other");
  EXPECT_EQ(seen->size(), 50u);
  ASSERT_TRUE(reader->refresh().is_ok());
  expect_matches(*seen, model);
  EXPECT_TRUE(reader->get_collection("other").is_ok());

  // A checkpoint replaces the log the reader was following; the handle stays valid.
  ASSERT_TRUE(writer->checkpoint().is_ok());
  add_records(*docs, model, "c", 10, 3);
  ASSERT_TRUE(writer->drop_collection("other").is_ok());
  ASSERT_TRUE(reader->refresh().is_ok());
  expect_matches(*seen, model);
  EXPECT_EQ(reader->get_collection("other").status().code(), StatusCode::kNotFound);
}

TEST(DurableDatabase, AutomaticCheckpointsKeepTheLogSmall) {
  TempDir dir;
  const fs::path folder = dir / "db";
  DatabaseOptions options;
  options.checkpoint_log_bytes = 4096;
  Model model;
  {
    auto db = open_at(folder, options);
    auto docs = collection_of(*db);
    for (std::uint32_t round = 0; round < 10; ++round) {
      add_records(*docs, model, numbered("r", round) + "_", 40, round);
    }
    const std::vector<std::string> logs = log_files(folder);
    ASSERT_EQ(logs.size(), 1u);
    EXPECT_NE(logs[0], "wal-1");  // rotated by a checkpoint
    EXPECT_LT(fs::file_size(folder / logs[0]), 2 * options.checkpoint_log_bytes);
    const fs::path crashed = crash_copy(folder, dir, "crashed");
    expect_matches(*collection_of(*open_at(crashed)), model);
  }
  expect_matches(*collection_of(*open_at(folder)), model);
}

TEST(DurableDatabase, CompactionReclaimsDiskAtTheNextCheckpoint) {
  TempDir dir;
  const fs::path folder = dir / "db";
  auto db = open_at(folder);
  auto docs = collection_of(*db);
  Model model;
  add_records(*docs, model, "a", 2000, 1);
  ASSERT_TRUE(db->checkpoint().is_ok());
  const auto folder_bytes = [&] {
    std::uintmax_t bytes = 0;
    for (const auto& entry : fs::recursive_directory_iterator(folder / "collections")) {
      if (entry.is_regular_file()) bytes += entry.file_size();
    }
    return bytes;
  };
  const std::uintmax_t before = folder_bytes();
  std::vector<std::string> gone;
  for (std::size_t i = 0; i < 1500; ++i) gone.push_back(numbered("a", i));
  remove_records(*docs, model, gone);  // past a quarter: compacts by itself
  ASSERT_TRUE(db->checkpoint().is_ok());
  EXPECT_LT(folder_bytes(), before / 2);
  ASSERT_TRUE(db->close().is_ok());
  expect_matches(*collection_of(*open_at(folder)), model);
}

TEST(DurableDatabase, TornLogTailIsCutOff) {
  TempDir dir;
  const fs::path folder = dir / "db";
  Model model;
  fs::path crashed;
  {
    auto db = open_at(folder);
    add_records(*collection_of(*db), model, "a", 40, 1);
    crashed = crash_copy(folder, dir, "crashed");
  }
  const fs::path log = crashed / log_files(crashed).at(0);
  const std::uintmax_t good_size = fs::file_size(log);
  std::vector<std::byte> bytes = storage::testing::read_bytes(log);
  bytes.resize(bytes.size() + 37, std::byte{0x5a});  // half a record from a crashed write
  storage::testing::write_bytes(log, bytes);
  {
    auto db = open_at(crashed);
    expect_matches(*collection_of(*db), model);
    EXPECT_EQ(fs::file_size(log), good_size);
    add_records(*collection_of(*db), model, "b", 5, 2);
  }
  expect_matches(*collection_of(*open_at(crashed)), model);
}

TEST(DurableDatabase, DamagedFilesGiveCorruption) {
  TempDir dir;
  const fs::path folder = dir / "db";
  {
    auto db = open_at(folder);
    Model model;
    add_records(*collection_of(*db), model, "a", 100, 1);
    ASSERT_TRUE(db->checkpoint().is_ok());
    add_records(*collection_of(*db), model, "b", 10, 2);
    add_records(*collection_of(*db), model, "c", 10, 3);
    const fs::path crashed = crash_copy(folder, dir, "crashed");
  }
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir / "crashed")) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  ASSERT_GE(files.size(), 3u);
  for (const fs::path& file : files) {
    const std::vector<std::byte> original = storage::testing::read_bytes(file);
    for (const std::size_t at : {std::size_t{0}, original.size() / 3, original.size() / 2}) {
      if (original.empty()) continue;
      std::vector<std::byte> damaged = original;
      damaged[at] ^= std::byte{0x10};
      storage::testing::write_bytes(file, damaged);
      auto opened = Database::open((dir / "crashed").string(), DatabaseOptions{});
      EXPECT_EQ(opened.status().code(), StatusCode::kCorruption)
          << file << " byte " << at << ": " << opened.status().message();
      storage::testing::write_bytes(file, original);
    }
  }
  EXPECT_TRUE(Database::open((dir / "crashed").string(), DatabaseOptions{}).is_ok());
}

// Searches, writes to two collections (sharing the log), checkpoints and a reader's refreshes, all
// at once. Run under TSan in CI (its name matches the "Concurrent" filter).
TEST(DurableDatabaseConcurrent, SearchesWritesCheckpointsAndRefreshesTogether) {
  TempDir dir;
  const fs::path folder = dir / "db";
  DatabaseOptions options;
  options.checkpoint_log_bytes = 16 << 10;  // automatic checkpoints during the run
  auto db = open_at(folder, options);
  Model first_model;
  Model second_model;
  auto first = collection_of(*db, "first");
  auto second = collection_of(*db, "second");
  add_records(*first, first_model, "seed", 50, 1);
  auto reader = open_at(folder, read_only_options());

  std::atomic<bool> done{false};
  std::vector<std::thread> threads;
  threads.emplace_back([&] {
    for (std::uint32_t round = 0; round < 20; ++round) {
      add_records(*first, first_model, numbered("f", round) + "_", 20, round);
      if (round % 5 == 4) {
        EXPECT_TRUE(db->checkpoint().is_ok());
      }
    }
  });
  threads.emplace_back([&] {
    for (std::uint32_t round = 0; round < 20; ++round) {
      add_records(*second, second_model, numbered("s", round) + "_", 20, 100 + round);
    }
  });
  threads.emplace_back([&] {
    const std::vector<float> query(kDim, 0.5f);
    while (!done.load()) {
      SearchOptions search;
      search.k = 5;
      auto hits = first->search(query, search);
      ASSERT_TRUE(hits.is_ok());
      EXPECT_EQ(hits.value().size(), 5u);
    }
  });
  threads.emplace_back([&] {
    while (!done.load()) {
      EXPECT_TRUE(reader->refresh().is_ok());
    }
  });
  threads[0].join();
  threads[1].join();
  done.store(true);
  threads[2].join();
  threads[3].join();
  expect_matches(*first, first_model);
  expect_matches(*second, second_model);
  ASSERT_TRUE(reader->refresh().is_ok());
  expect_matches(*reader->get_collection("first").value(), first_model);
  expect_matches(*reader->get_collection("second").value(), second_model);
}

// Every failed write through a FaultInjectionEnv leaves the database as it was.
class DurableDatabaseFaults : public ::testing::Test {
 protected:
  std::unique_ptr<Database> open_faulty() {
    DatabaseOptions options;
    options.env = &env_;
    return open_at(folder_, options);
  }

  // The machine loses power: unsynced data is gone, and the crashed handle can write no more
  // (its close() on destruction fails instead of checkpointing after the crash).
  void power_failure() {
    ASSERT_TRUE(env_.drop_unsynced_data().is_ok());
    for (const storage::FaultOp op :
         {storage::FaultOp::kCreate, storage::FaultOp::kAppend, storage::FaultOp::kSync,
          storage::FaultOp::kSyncDir, storage::FaultOp::kRename, storage::FaultOp::kRemove,
          storage::FaultOp::kTruncate}) {
      env_.fail_nth(op, 1, /*and_later=*/true);
    }
  }

  TempDir dir_;
  fs::path folder_ = dir_ / "db";
  storage::FaultInjectionEnv env_{storage::Env::posix()};
};

TEST_F(DurableDatabaseFaults, AFailedLogSyncFailsTheWriteAndKeepsTheRest) {
  Model model;
  {
    auto db = open_faulty();
    auto docs = collection_of(*db);
    add_records(*docs, model, "a", 30, 1);
    env_.fail_nth(storage::FaultOp::kSync, 1);
    const std::string_view id = "lost";
    const std::vector<float> vector(kDim, 1.0f);
    EXPECT_EQ(docs->add({.ids = {&id, 1}, .vectors = vector, .metadata = {}}).code(),
              StatusCode::kIoError);
    expect_matches(*docs, model);
    // After a failed fsync the log refuses writes until the database is reopened.
    EXPECT_FALSE(docs->add({.ids = {&id, 1}, .vectors = vector, .metadata = {}}).is_ok());
  }
  expect_matches(*collection_of(*open_at(folder_)), model);
}

TEST_F(DurableDatabaseFaults, AFullDiskFailsTheWriteAndLaterWritesGoOn) {
  Model model;
  {
    auto db = open_faulty();
    auto docs = collection_of(*db);
    add_records(*docs, model, "a", 30, 1);
    env_.set_space_left(100);  // the next record is cut short (a short write), then ENOSPC
    std::vector<std::string> ids = {"x", "y"};
    const std::vector<std::string_view> views(ids.begin(), ids.end());
    const std::vector<float> vectors(2 * kDim, 1.0f);
    EXPECT_EQ(docs->add({.ids = views, .vectors = vectors, .metadata = {}}).code(),
              StatusCode::kIoError);
    EXPECT_EQ(db->checkpoint().code(), StatusCode::kIoError);
    expect_matches(*docs, model);
    env_.clear_faults();  // space freed
    add_records(*docs, model, "b", 10, 2);
    expect_matches(*docs, model);
  }
  expect_matches(*collection_of(*open_at(folder_)), model);
}

TEST_F(DurableDatabaseFaults, AFailedCheckpointKeepsTheDatabase) {
  Model model;
  auto db = open_faulty();
  auto docs = collection_of(*db);
  add_records(*docs, model, "a", 100, 1);
  // The manifest's rename fails too: the old manifest is live, so writes go on.
  for (const storage::FaultOp op : {storage::FaultOp::kAppend, storage::FaultOp::kSync,
                                    storage::FaultOp::kCreate, storage::FaultOp::kSyncDir,
                                    storage::FaultOp::kRename}) {
    env_.fail_nth(op, 1);
    EXPECT_FALSE(db->checkpoint().is_ok());
    env_.clear_faults();
    add_records(*docs, model, numbered("op", static_cast<std::size_t>(op)) + "_", 5, 2);
    expect_matches(*docs, model);
  }
  const fs::path crashed = crash_copy(folder_, dir_, "crashed");
  expect_matches(*collection_of(*open_at(crashed)), model);
  ASSERT_TRUE(db->checkpoint().is_ok());  // the leftovers of the failed ones go
  EXPECT_EQ(log_files(folder_).size(), 1u);
  ASSERT_TRUE(db->close().is_ok());
  expect_matches(*collection_of(*open_at(folder_)), model);
}

// After the manifest's rename, its directory sync fails: either manifest may be live after a
// crash, so writes stop (reads go on) until a reopen, which keeps everything acknowledged.
TEST_F(DurableDatabaseFaults, AFailedSyncAfterTheManifestRenameStopsWritesUntilReopen) {
  Model model;
  {
    auto db = open_faulty();
    auto docs = collection_of(*db);
    add_records(*docs, model, "a", 50, 1);
    const std::uint64_t before = env_.calls(storage::FaultOp::kSyncDir);
    ASSERT_TRUE(db->checkpoint().is_ok());
    const std::uint64_t per_checkpoint = env_.calls(storage::FaultOp::kSyncDir) - before;
    add_records(*docs, model, "b", 10, 2);
    env_.fail_nth(storage::FaultOp::kSyncDir, per_checkpoint);  // the manifest's, the last one
    EXPECT_EQ(db->checkpoint().code(), StatusCode::kIoError);
    env_.clear_faults();
    const std::string_view id = "refused";
    const std::vector<float> vector(kDim, 1.0f);
    EXPECT_EQ(docs->add({.ids = {&id, 1}, .vectors = vector, .metadata = {}}).code(),
              StatusCode::kIoError);
    expect_matches(*docs, model);
  }
  expect_matches(*collection_of(*open_at(folder_)), model);
}

TEST_F(DurableDatabaseFaults, PowerFailureKeepsEverySyncedWrite) {
  Model model;
  {
    auto db = open_faulty();
    auto docs = collection_of(*db);
    add_records(*docs, model, "a", 60, 1);
    ASSERT_TRUE(db->checkpoint().is_ok());
    add_records(*docs, model, "b", 20, 2);
    remove_records(*docs, model, {"a1", "b1"});
    power_failure();
  }
  expect_matches(*collection_of(*open_at(folder_)), model);
}

// open() creates missing parent folders; their entries must be durable too, or a power failure
// takes the whole database with them (found by the crash-state exploration, crash_states_test).
TEST_F(DurableDatabaseFaults, PowerFailureKeepsAFolderWhoseParentsOpenCreated) {
  const fs::path nested = dir_ / "a" / "b" / "db";
  Model model;
  {
    DatabaseOptions options;
    options.env = &env_;
    auto db = open_at(nested, options);
    add_records(*collection_of(*db), model, "a", 20, 1);
    power_failure();
  }
  ASSERT_TRUE(fs::exists(nested));
  expect_matches(*collection_of(*open_at(nested)), model);
}

TEST_F(DurableDatabaseFaults, PowerFailureInNormalModeLosesOnlyUnsyncedWrites) {
  Model synced;
  {
    DatabaseOptions options;
    options.env = &env_;
    options.sync = SyncMode::kNormal;
    auto db = open_at(folder_, options);
    auto docs = collection_of(*db);
    add_records(*docs, synced, "a", 60, 1);
    ASSERT_TRUE(db->checkpoint().is_ok());
    Model unsynced = synced;
    add_records(*docs, unsynced, "b", 20, 2);
    expect_matches(*docs, unsynced);
    power_failure();
  }
  expect_matches(*collection_of(*open_at(folder_)), synced);
}

}  // namespace
}  // namespace omendb
