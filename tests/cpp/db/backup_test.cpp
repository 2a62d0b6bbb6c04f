// Database::backup: copies of writers, read-only handles and in-memory databases that open with
// every record; the destination rules; backups taken while writes and checkpoints go on; and
// failed or crashed backups, which leave no copy behind.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "db/database_test_util.h"
#include "omendb/database.h"
#include "storage/fault_injection_env.h"

namespace omendb {
namespace {

using namespace database_test;  // NOLINT(google-build-using-namespace)

constexpr std::string_view kPartialSuffix = ".omendb-partial";

fs::path partial_of(const fs::path& path) { return fs::path(path).concat(kPartialSuffix); }

// Two collections (one quantized), a checkpoint, then upserts, deletes and adds in the log only.
void fill(Database& db, Model& docs_model, Model& codes_model) {
  auto docs = collection_of(db);
  CollectionOptions quantized = options_with(kDim);
  quantized.quantization = Quantization::kSq8;
  auto codes = db.create_collection("codes", quantized).value();
  add_records(*docs, docs_model, "a", 200, 1);
  add_records(*codes, codes_model, "c", 150, 2);
  ASSERT_TRUE(db.checkpoint().is_ok());
  add_records(*docs, docs_model, "a", 40, 3, /*upsert=*/true);
  remove_records(*docs, docs_model, {"a3", "a150"});
  add_records(*docs, docs_model, "b", 30, 4);
  add_records(*codes, codes_model, "d", 20, 5);
}

// The copy at `path` holds exactly the two models, takes writes and keeps them across a reopen.
void expect_copy(const fs::path& path, const Model& docs_model, const Model& codes_model) {
  ASSERT_FALSE(fs::exists(partial_of(path)));
  Model docs_after = docs_model;
  {
    auto copy = open_at(path);
    ASSERT_NE(copy, nullptr);
    EXPECT_EQ(copy->collection_names().value(), (std::vector<std::string>{"codes", "docs"}));
    expect_matches(*copy->get_collection("codes").value(), codes_model);
    auto docs = copy->get_collection("docs").value();
    expect_matches(*docs, docs_model);
    add_records(*docs, docs_after, "after", 5, 9);
  }
  auto reopened = open_at(path);
  expect_matches(*reopened->get_collection("docs").value(), docs_after);
}

TEST(Backup, CopiesAWriterWithItsLogTail) {
  TempDir dir;
  Model docs_model, codes_model;
  auto db = open_at(dir / "db");
  fill(*db, docs_model, codes_model);
  ASSERT_TRUE(db->backup((dir / "copy").string()).is_ok());
  expect_copy(dir / "copy", docs_model, codes_model);
  // The source goes on as before.
  auto docs = db->get_collection("docs").value();
  add_records(*docs, docs_model, "later", 10, 6);
  expect_matches(*docs, docs_model);
  ASSERT_TRUE(db->close().is_ok());
  expect_matches(*collection_of(*open_at(dir / "db")), docs_model);
}

TEST(Backup, CopiesAReadOnlyHandleAsTheWriterCommittedIt) {
  TempDir dir;
  Model docs_model, codes_model;
  auto writer = open_at(dir / "db");
  fill(*writer, docs_model, codes_model);
  auto reader = open_at(dir / "db", read_only_options());
  // Committed after the reader opened and not yet refreshed: the copy holds it all the same.
  add_records(*writer->get_collection("docs").value(), docs_model, "e", 25, 7);
  ASSERT_TRUE(reader->backup((dir / "copy").string()).is_ok());
  expect_copy(dir / "copy", docs_model, codes_model);
}

TEST(Backup, WritesAnInMemoryDatabaseToAFolder) {
  TempDir dir;
  Model docs_model, codes_model;
  auto db = Database::open(":memory:", DatabaseOptions{}).value();
  fill(*db, docs_model, codes_model);
  const fs::path nested = dir / "backups" / "today" / "copy";  // parents are created
  ASSERT_TRUE(db->backup(nested.string()).is_ok());
  expect_copy(nested, docs_model, codes_model);
  ASSERT_TRUE(db->backup((dir / "empty-collections").string()).is_ok());
}

TEST(Backup, RefusesADestinationInUseAndAClosedDatabase) {
  TempDir dir;
  auto db = open_at(dir / "db");
  Model model;
  add_records(*collection_of(*db), model, "a", 10, 1);

  fs::create_directories(dir / "full");
  std::ofstream(dir / "full" / "keep.txt") << "not ours";
  std::ofstream(dir / "file") << "a file";
  for (const fs::path& bad : {dir / "full", dir / "file", dir / "db", dir / "db" / "inside",
                              dir / "db" / "collections" / "docs" / "x", fs::path(":memory:")}) {
    const Status status = db->backup(bad.string());
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(status.message().find("backup"), std::string::npos) << status.message();
  }
  EXPECT_EQ(db->backup("").code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(fs::exists(dir / "full" / "keep.txt"));
  EXPECT_FALSE(fs::exists(dir / "db" / "inside"));

  // An empty folder is fine, "copy/" means "copy", and a partial folder left by a failed backup
  // to the same path goes.
  fs::create_directories(dir / "empty");
  ASSERT_TRUE(db->backup((dir / "empty").string()).is_ok());
  expect_matches(*collection_of(*open_at(dir / "empty")), model);
  fs::create_directories(partial_of(dir / "slash") / "collections" / "old");
  std::ofstream(partial_of(dir / "slash") / "wal-7") << "left by a crash";
  ASSERT_TRUE(db->backup((dir / "slash").string() + "/").is_ok());
  EXPECT_FALSE(fs::exists(partial_of(dir / "slash")));
  expect_matches(*collection_of(*open_at(dir / "slash")), model);
  EXPECT_EQ(db->backup((dir / "slash").string()).code(), StatusCode::kInvalidArgument);

  ASSERT_TRUE(db->close().is_ok());
  EXPECT_EQ(db->backup((dir / "after-close").string()).code(), StatusCode::kClosed);
}

// Backups taken while a thread writes batches (and the log's size triggers checkpoints) each hold
// the first k batches, k between the batches acknowledged before the backup and those begun
// before it returned.
TEST(Backup, EachCopyTakenDuringConcurrentWritesIsOneAcknowledgedState) {
  TempDir dir;
  DatabaseOptions options;
  options.checkpoint_log_bytes = 4 << 10;  // a checkpoint every dozen batches
  auto db = open_at(dir / "db", options);
  auto docs = collection_of(*db);
  constexpr std::size_t kBatch = 7;
  constexpr int kCopies = 20;
  std::vector<Model> batches;
  for (std::size_t i = 0; i < 400; ++i) {
    Model batch;
    std::mt19937 random(static_cast<std::uint32_t>(i));
    std::normal_distribution<float> normal;
    for (std::size_t j = 0; j < kBatch; ++j) {
      std::vector<float> row(kDim);
      for (float& x : row) x = normal(random);
      batch[numbered(numbered("b", i) + "_", j)] = {row, Metadata{}};
    }
    batches.push_back(std::move(batch));
  }
  std::atomic<std::size_t> begun{0}, acknowledged{0};
  std::thread writer([&] {
    for (const Model& batch : batches) {
      begun.fetch_add(1);
      std::vector<std::string_view> ids;
      std::vector<float> vectors;
      for (const auto& [id, record] : batch) {
        ids.push_back(id);
        vectors.insert(vectors.end(), record.first.begin(), record.first.end());
      }
      ASSERT_TRUE(docs->add({.ids = ids, .vectors = vectors, .metadata = {}}).is_ok());
      acknowledged.fetch_add(1);
    }
  });
  std::vector<std::pair<std::size_t, std::size_t>> bounds;
  for (int copy = 0; copy < kCopies; ++copy) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    const std::size_t least = acknowledged.load();
    ASSERT_TRUE(db->backup((dir / numbered("copy", copy)).string()).is_ok());
    bounds.emplace_back(least, begun.load());
  }
  writer.join();
  for (int copy = 0; copy < kCopies; ++copy) {
    auto opened = open_at(dir / numbered("copy", copy));
    auto copied = opened->get_collection("docs").value();
    ASSERT_EQ(copied->size() % kBatch, 0u);
    const std::size_t k = copied->size() / kBatch;
    EXPECT_GE(k, bounds[copy].first) << copy;
    EXPECT_LE(k, bounds[copy].second) << copy;
    Model model;
    for (std::size_t i = 0; i < k; ++i) model.insert(batches[i].begin(), batches[i].end());
    expect_matches(*copied, model);
  }
}

class BackupFaults : public ::testing::Test {
 protected:
  static constexpr std::array kOps = {storage::FaultOp::kCreate, storage::FaultOp::kAppend,
                                      storage::FaultOp::kSync,   storage::FaultOp::kSyncDir,
                                      storage::FaultOp::kRename};

  void SetUp() override {
    DatabaseOptions options;
    options.env = &env_;
    db_ = open_at(dir_ / "db", options);
    fill(*db_, docs_model_, codes_model_);
    const storage::FaultInjectionEnv& env = env_;
    for (std::size_t i = 0; i < kOps.size(); ++i) before_[i] = env.calls(kOps[i]);
    ASSERT_TRUE(db_->backup((dir_ / "clean").string()).is_ok());
    for (std::size_t i = 0; i < kOps.size(); ++i) calls_[i] = env.calls(kOps[i]) - before_[i];
    expect_copy(dir_ / "clean", docs_model_, codes_model_);
  }

  TempDir dir_;
  storage::FaultInjectionEnv env_{storage::Env::posix()};
  std::unique_ptr<Database> db_;
  Model docs_model_, codes_model_;
  std::array<std::uint64_t, kOps.size()> before_{}, calls_{};
};

// Each call a backup makes, failing in turn: the backup fails, leaves neither the copy nor the
// partial folder, and the database goes on; the next backup works.
TEST_F(BackupFaults, EveryFailedCallLeavesNoCopy) {
  for (std::size_t i = 0; i < kOps.size(); ++i) {
    ASSERT_GT(calls_[i], 0u) << "op " << i;
    for (std::uint64_t n = 1; n <= calls_[i]; ++n) {
      const fs::path copy = dir_ / numbered(numbered("copy", i) + "_", n);
      env_.fail_nth(kOps[i], n);
      const Status status = db_->backup(copy.string());
      env_.clear_faults();
      EXPECT_EQ(status.code(), StatusCode::kIoError) << "op " << i << " call " << n;
      EXPECT_FALSE(fs::exists(copy)) << "op " << i << " call " << n;
      EXPECT_FALSE(fs::exists(partial_of(copy))) << "op " << i << " call " << n;
    }
  }
  add_records(*db_->get_collection("docs").value(), docs_model_, "more", 5, 8);
  ASSERT_TRUE(db_->backup((dir_ / "last").string()).is_ok());
  expect_copy(dir_ / "last", docs_model_, codes_model_);
}

// A power cut at each point of a backup (every call of one kind from the n-th on fails, as in a
// crashed process, then unsynced data is lost): the copy does not exist, or it opens with every
// record. A partial folder left behind does not open as a database unless it is whole.
TEST_F(BackupFaults, APowerCutAtAnyPointLeavesNoDamagedCopy) {
  std::size_t copies = 0;
  for (std::size_t i = 0; i < kOps.size(); ++i) {
    for (std::uint64_t n = 1; n <= calls_[i]; ++n) {
      const fs::path copy = dir_ / numbered(numbered("cut", i) + "_", n);
      for (const storage::FaultOp op : kOps) env_.fail_nth(op, op == kOps[i] ? n : 1 << 30, true);
      (void)db_->backup(copy.string());
      ASSERT_TRUE(env_.drop_unsynced_data().is_ok());
      env_.clear_faults();
      if (fs::exists(copy)) {
        expect_copy(copy, docs_model_, codes_model_);
        ++copies;
      }
      if (fs::exists(partial_of(copy))) {
        auto opened = Database::open(partial_of(copy).string(), read_only_options());
        if (opened.is_ok()) {
          expect_matches(*opened.value()->get_collection("docs").value(), docs_model_);
        } else {
          EXPECT_TRUE(opened.status().code() == StatusCode::kNotFound ||
                      opened.status().code() == StatusCode::kCorruption)
              << opened.status().message();
        }
      }
    }
  }
  // A power cut once the backup has returned keeps the copy whole.
  ASSERT_TRUE(db_->backup((dir_ / "kept").string()).is_ok());
  ASSERT_TRUE(env_.drop_unsynced_data().is_ok());
  expect_copy(dir_ / "kept", docs_model_, codes_model_);
  EXPECT_EQ(copies, 0u);  // each cut above lands before the copy's entry is durable
}

}  // namespace
}  // namespace omendb
