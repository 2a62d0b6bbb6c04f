// The write-ahead log under injected faults and simulated crashes: every failed call leaves the
// log as it was before the call, and every acknowledged record survives what its mode promises.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "storage/fault_injection_env.h"
#include "storage/log_format.h"
#include "storage/log_reader.h"
#include "storage/log_writer.h"
#include "test_files.h"

namespace omendb::storage {
namespace {

using testing::TempDir;

class LogFaultTest : public ::testing::Test {
 protected:
  LogWriter create() {
    Result<LogWriter> writer = LogWriter::create(env_, path_);
    EXPECT_TRUE(writer.is_ok()) << writer.status().message();
    return std::move(writer.value());
  }

  // Payload of the record with LSN `lsn`: `size` bytes derived from the LSN.
  static std::vector<std::byte> payload(std::uint64_t lsn, std::size_t size = 100) {
    std::vector<std::byte> bytes(size);
    for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<std::byte>(lsn * 31 + i);
    return bytes;
  }

  // The LSNs of the good records of the log, checking each payload; fails the test on an error.
  std::vector<std::uint64_t> read_lsns(std::size_t payload_size = 100) {
    std::vector<std::uint64_t> lsns;
    Result<LogReader> reader = LogReader::open(env_, path_);
    EXPECT_TRUE(reader.is_ok()) << reader.status().message();
    if (!reader.is_ok()) return lsns;
    LogRecord record;
    while (true) {
      Result<bool> more = reader.value().next(record);
      EXPECT_TRUE(more.is_ok()) << more.status().message();
      if (!more.is_ok() || !more.value()) break;
      EXPECT_TRUE(record.payload == payload(record.lsn, payload_size)) << "LSN " << record.lsn;
      lsns.push_back(record.lsn);
    }
    return lsns;
  }

  static std::vector<std::uint64_t> lsns_up_to(std::uint64_t last) {
    std::vector<std::uint64_t> lsns;
    for (std::uint64_t lsn = 1; lsn <= last; ++lsn) lsns.push_back(lsn);
    return lsns;
  }

  TempDir dir_;
  std::filesystem::path path_ = dir_ / "wal";
  FaultInjectionEnv env_{Env::posix()};
};

TEST_F(LogFaultTest, FailingSyncFailsTheAppendLeavesNoRecordAndBreaksTheWriter) {
  LogWriter writer = create();
  for (std::uint64_t lsn = 1; lsn <= 3; ++lsn) {
    ASSERT_TRUE(writer.append(lsn, 1, payload(lsn), SyncMode::kFull).is_ok());
  }
  env_.fail_nth(FaultOp::kSync, 1);
  EXPECT_EQ(writer.append(4, 1, payload(4), SyncMode::kFull).code(), StatusCode::kIoError);
  EXPECT_EQ(writer.size(), log::kFileHeaderSize + 3 * (log::kRecordHeaderSize + 100));
  EXPECT_EQ(env_.file_size(path_).value(), writer.size()) << "the unacknowledged record is gone";
  Status broken = writer.append(4, 1, payload(4), SyncMode::kFull);
  EXPECT_EQ(broken.code(), StatusCode::kIoError);
  EXPECT_NE(broken.message().find("failed sync"), std::string::npos) << broken.message();
  EXPECT_EQ(writer.sync().code(), StatusCode::kIoError);
  ASSERT_TRUE(writer.close().is_ok());
  EXPECT_EQ(read_lsns(), lsns_up_to(3));

  // Reopened, the log goes on after its acknowledged records.
  Result<LogWriter> reopened = LogWriter::open(env_, path_, writer.size(), 3);
  ASSERT_TRUE(reopened.is_ok());
  ASSERT_TRUE(reopened.value().append(4, 1, payload(4), SyncMode::kFull).is_ok());
  EXPECT_EQ(read_lsns(), lsns_up_to(4));
}

TEST_F(LogFaultTest, FailingSyncOfNormalRecordsBreaksTheWriter) {
  LogWriter writer = create();
  ASSERT_TRUE(writer.append(1, 1, payload(1), SyncMode::kNormal).is_ok());
  env_.fail_nth(FaultOp::kSync, 1);
  EXPECT_EQ(writer.sync().code(), StatusCode::kIoError);
  EXPECT_EQ(writer.append(2, 1, payload(2), SyncMode::kNormal).code(), StatusCode::kIoError);
}

TEST_F(LogFaultTest, FailingAppendWritesNothingAndTheWriterGoesOn) {
  LogWriter writer = create();
  ASSERT_TRUE(writer.append(1, 1, payload(1), SyncMode::kFull).is_ok());
  env_.fail_nth(FaultOp::kAppend, 1);
  EXPECT_EQ(writer.append(2, 1, payload(2), SyncMode::kFull).code(), StatusCode::kIoError);
  EXPECT_EQ(writer.last_lsn(), 1u);
  ASSERT_TRUE(writer.append(2, 1, payload(2), SyncMode::kFull).is_ok());
  EXPECT_EQ(read_lsns(), lsns_up_to(2));
}

TEST_F(LogFaultTest, FullDiskMidRecordLeavesExactlyTheAcknowledgedRecords) {
  const std::uint64_t record = log::kRecordHeaderSize + 100;
  for (std::uint64_t budget = 0; budget <= 3 * record; ++budget) {
    SCOPED_TRACE("space left " + std::to_string(budget));
    LogWriter writer = create();
    env_.set_space_left(budget);
    std::uint64_t lsn = 1;
    Status status;
    for (; lsn <= 4; ++lsn) {
      status = writer.append(lsn, 1, payload(lsn), SyncMode::kOff);
      if (!status.is_ok()) break;
    }
    ASSERT_EQ(status.code(), StatusCode::kIoError);
    const std::uint64_t acknowledged = lsn - 1;
    EXPECT_EQ(acknowledged, budget / record);
    EXPECT_EQ(env_.file_size(path_).value(), writer.size()) << "the partial record is cut off";
    EXPECT_EQ(read_lsns(), lsns_up_to(acknowledged));

    env_.clear_faults();
    ASSERT_TRUE(writer.append(lsn, 1, payload(lsn), SyncMode::kOff).is_ok())
        << "the writer goes on once there is space";
    ASSERT_TRUE(writer.close().is_ok());
    EXPECT_EQ(read_lsns(), lsns_up_to(lsn));
  }
}

TEST_F(LogFaultTest, FullDiskBetweenTheHeaderAndTheBodyOfALargeRecord) {
  const std::size_t size = 200 * 1024;  // written in two appends: header, then payload
  for (const std::uint64_t budget : {0ul, 10ul, 24ul, 1000ul}) {
    LogWriter writer = create();
    ASSERT_TRUE(writer.append(1, 1, payload(1, size), SyncMode::kFull).is_ok());
    env_.set_space_left(budget);
    EXPECT_EQ(writer.append(2, 1, payload(2, size), SyncMode::kFull).code(), StatusCode::kIoError);
    env_.clear_faults();
    ASSERT_TRUE(writer.close().is_ok());
    EXPECT_EQ(read_lsns(size), lsns_up_to(1));
  }
}

TEST_F(LogFaultTest, FailedCutBackBreaksTheWriterAndTheReaderDropsTheTornRecord) {
  LogWriter writer = create();
  ASSERT_TRUE(writer.append(1, 1, payload(1), SyncMode::kFull).is_ok());
  env_.set_space_left(50);
  env_.fail_nth(FaultOp::kTruncate, 1);
  EXPECT_EQ(writer.append(2, 1, payload(2), SyncMode::kFull).code(), StatusCode::kIoError);
  env_.clear_faults();
  Status broken = writer.append(2, 1, payload(2), SyncMode::kFull);
  EXPECT_EQ(broken.code(), StatusCode::kIoError);
  EXPECT_NE(broken.message().find("cut back"), std::string::npos) << broken.message();
  EXPECT_GT(env_.file_size(path_).value(), writer.size()) << "50 bytes of record 2 remain";
  EXPECT_EQ(read_lsns(), lsns_up_to(1));
}

TEST_F(LogFaultTest, FailedCreationReportsTheError) {
  env_.fail_nth(FaultOp::kCreate, 1);
  EXPECT_EQ(LogWriter::create(env_, path_).status().code(), StatusCode::kIoError);
  for (const FaultOp op : {FaultOp::kAppend, FaultOp::kSync, FaultOp::kSyncDir}) {
    env_.fail_nth(op, 1);
    EXPECT_EQ(LogWriter::create(env_, path_).status().code(), StatusCode::kIoError);
    EXPECT_FALSE(env_.file_exists(path_).value()) << "the half-made log is removed";
  }
}

TEST_F(LogFaultTest, CrashKeepsEveryRecordAcknowledgedWithFullSync) {
  LogWriter writer = create();
  for (std::uint64_t lsn = 1; lsn <= 20; ++lsn) {
    ASSERT_TRUE(writer.append(lsn, 1, payload(lsn), SyncMode::kFull).is_ok());
    if (lsn % 5 == 0) {
      ASSERT_TRUE(env_.drop_unsynced_data().is_ok());
      EXPECT_EQ(read_lsns(), lsns_up_to(lsn));
      Result<LogWriter> reopened = LogWriter::open(env_, path_, writer.size(), lsn);
      ASSERT_TRUE(reopened.is_ok()) << reopened.status().message();
      writer = std::move(reopened.value());
    }
  }
}

TEST_F(LogFaultTest, CrashLosesNormalRecordsAfterTheLastSync) {
  LogWriter writer = create();
  for (std::uint64_t lsn = 1; lsn <= 3; ++lsn) {
    ASSERT_TRUE(writer.append(lsn, 1, payload(lsn), SyncMode::kFull).is_ok());
  }
  for (std::uint64_t lsn = 4; lsn <= 6; ++lsn) {
    ASSERT_TRUE(writer.append(lsn, 1, payload(lsn), SyncMode::kNormal).is_ok());
  }
  ASSERT_TRUE(writer.sync().is_ok());
  for (std::uint64_t lsn = 7; lsn <= 9; ++lsn) {
    ASSERT_TRUE(writer.append(lsn, 1, payload(lsn), SyncMode::kOff).is_ok());
  }
  EXPECT_EQ(read_lsns(), lsns_up_to(9)) << "before the crash the OS has them all";
  ASSERT_TRUE(env_.drop_unsynced_data().is_ok());
  EXPECT_EQ(read_lsns(), lsns_up_to(6));
}

TEST_F(LogFaultTest, CrashBeforeTheLogWasCreatedLeavesNoLog) {
  ASSERT_TRUE(env_.create_dir(dir_ / "db").is_ok());
  path_ = dir_ / "db" / "wal";
  LogWriter writer = create();
  ASSERT_TRUE(writer.append(1, 1, payload(1), SyncMode::kFull).is_ok());
  ASSERT_TRUE(env_.drop_unsynced_data().is_ok());
  EXPECT_FALSE(env_.file_exists(dir_ / "db").value()) << "db's own entry was never synced";
}

}  // namespace
}  // namespace omendb::storage
