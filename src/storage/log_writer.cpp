#include "storage/log_writer.h"

#include <array>
#include <string>
#include <utility>

#include "storage/crc32c.h"
#include "storage/log_format.h"

namespace omendb::storage {
namespace {

namespace fs = std::filesystem;

// Payloads up to this size are copied behind their header and written with one call.
constexpr std::size_t kCopyLimit = 64 * 1024;

// The directory holding `path`'s entry.
fs::path parent_dir(const fs::path& path) {
  return path.has_parent_path() ? path.parent_path() : fs::path(".");
}

// Stores `value` little-endian at out[offset, offset + sizeof value).
template <class T>
void put_le(std::span<std::byte> out, std::size_t offset, T value) {
  for (std::size_t i = 0; i < sizeof value; ++i) {
    out[offset + i] = static_cast<std::byte>(value >> (8 * i));
  }
}

// The file header of a new log.
std::array<std::byte, log::kFileHeaderSize> file_header() {
  std::array<std::byte, log::kFileHeaderSize> header{};
  for (std::size_t i = 0; i < log::kMagic.size(); ++i) {
    header[i] = static_cast<std::byte>(log::kMagic[i]);
  }
  put_le(header, log::kVersionOffset, log::kFormatVersion);
  const std::uint32_t crc = crc32c(std::span(header).first(log::kFileHeaderCrcOffset));
  put_le(header, log::kFileHeaderCrcOffset, crc32c_mask(crc));
  return header;
}

// The record header of a record.
std::array<std::byte, log::kRecordHeaderSize> record_header(std::uint64_t lsn, std::uint32_t type,
                                                            std::span<const std::byte> payload) {
  std::array<std::byte, log::kRecordHeaderSize> header{};
  put_le(header, log::kPayloadCrcOffset, crc32c_mask(crc32c(payload)));
  put_le(header, log::kLsnOffset, lsn);
  put_le(header, log::kLengthOffset, static_cast<std::uint32_t>(payload.size()));
  put_le(header, log::kTypeOffset, type);
  const std::uint32_t crc = crc32c(std::span(header).subspan(log::kPayloadCrcOffset));
  put_le(header, log::kHeaderCrcOffset, crc32c_mask(crc));
  return header;
}

}  // namespace

LogWriter::LogWriter(Env& env, fs::path path, std::unique_ptr<WritableFile> file,
                     std::uint64_t size, std::uint64_t last_lsn)
    : env_(&env),
      path_(std::move(path)),
      file_(std::move(file)),
      size_(size),
      last_lsn_(last_lsn) {}

Result<LogWriter> LogWriter::create(Env& env, fs::path path) {
  Result<std::unique_ptr<WritableFile>> file = env.new_writable_file(path);
  if (!file.is_ok()) return file.status();
  Status status = file.value()->append(file_header());
  if (status.is_ok()) status = file.value()->sync();
  if (status.is_ok()) status = env.sync_dir(parent_dir(path));
  if (!status.is_ok()) {
    static_cast<void>(file.value()->close());
    static_cast<void>(env.remove_file(path));  // best effort: the error to report is `status`
    return status;
  }
  return LogWriter(env, std::move(path), std::move(file.value()), log::kFileHeaderSize, 0);
}

Result<LogWriter> LogWriter::open(Env& env, fs::path path, std::uint64_t valid_end,
                                  std::uint64_t last_lsn) {
  if (valid_end < log::kFileHeaderSize) return create(env, std::move(path));
  Result<std::uint64_t> size = env.file_size(path);
  if (!size.is_ok()) return size.status();
  if (size.value() < valid_end) {
    return Status(StatusCode::kCorruption,
                  "log " + path.string() + " has " + std::to_string(size.value()) +
                      " bytes, fewer than its " + std::to_string(valid_end) + " good bytes");
  }
  const bool cut = size.value() > valid_end;
  if (cut) {
    if (Status status = env.truncate_file(path, valid_end); !status.is_ok()) return status;
  }
  Result<std::unique_ptr<WritableFile>> file = env.new_appendable_file(path);
  if (!file.is_ok()) return file.status();
  if (cut) {
    if (Status status = file.value()->sync(); !status.is_ok()) return status;
  }
  return LogWriter(env, std::move(path), std::move(file.value()), valid_end, last_lsn);
}

Status LogWriter::usable() const {
  if (!broken_.is_ok()) return broken_;
  if (!file_) return {StatusCode::kClosed, "log " + path_.string() + " is closed"};
  return Status::ok();
}

Status LogWriter::append(std::uint64_t lsn, std::uint32_t type, std::span<const std::byte> payload,
                         SyncMode mode) {
  if (Status status = usable(); !status.is_ok()) return status;
  if (lsn <= last_lsn_) {
    return Status::invalid_argument("log record LSN " + std::to_string(lsn) +
                                    " does not exceed the last LSN " + std::to_string(last_lsn_));
  }
  if (payload.size() > log::kMaxPayloadSize) {
    return Status::invalid_argument("log record payload of " + std::to_string(payload.size()) +
                                    " bytes exceeds the limit of " +
                                    std::to_string(log::kMaxPayloadSize));
  }
  if (Status status = write_record(lsn, type, payload); !status.is_ok()) {
    cut_back(status);
    return status;
  }
  if (mode == SyncMode::kFull) {
    if (Status status = file_->sync(); !status.is_ok()) {
      cut_back(status);  // the record was not acknowledged: recovery must not replay it
      if (broken_.is_ok()) {
        broken_ = Status(StatusCode::kIoError, "log " + path_.string() +
                                                   " is unusable after a failed sync (" +
                                                   status.message() + "); reopen it");
      }
      return status;
    }
  }
  size_ += log::kRecordHeaderSize + payload.size();
  last_lsn_ = lsn;
  return Status::ok();
}

Status LogWriter::write_record(std::uint64_t lsn, std::uint32_t type,
                               std::span<const std::byte> payload) {
  const std::array<std::byte, log::kRecordHeaderSize> header = record_header(lsn, type, payload);
  if (payload.size() > kCopyLimit) {
    if (Status status = file_->append(header); !status.is_ok()) return status;
    return file_->append(payload);
  }
  scratch_.assign(header.begin(), header.end());
  scratch_.insert(scratch_.end(), payload.begin(), payload.end());
  return file_->append(scratch_);
}

void LogWriter::cut_back(const Status& cause) {
  // The descriptor goes either way, so a failed close changes nothing; the cut is what counts.
  static_cast<void>(file_->close());
  file_.reset();
  Status status = env_->truncate_file(path_, size_);
  if (status.is_ok()) {
    Result<std::unique_ptr<WritableFile>> file = env_->new_appendable_file(path_);
    if (file.is_ok() && file.value()->size() == size_) {
      file_ = std::move(file.value());
    } else {
      status = file.is_ok() ? Status(StatusCode::kIoError,
                                     "reopen " + path_.string() + ": unexpected size after the cut")
                            : file.status();
    }
  }
  if (!status.is_ok()) {
    broken_ = Status(StatusCode::kIoError,
                     "log " + path_.string() + " could not be cut back after a failed append (" +
                         cause.message() + "): " + status.message() + "; reopen it");
  }
}

Status LogWriter::sync() {
  if (Status status = usable(); !status.is_ok()) return status;
  Status status = file_->sync();
  if (!status.is_ok()) {
    broken_ = Status(StatusCode::kIoError, "log " + path_.string() +
                                               " is unusable after a failed sync (" +
                                               status.message() + "); reopen it");
  }
  return status;
}

Status LogWriter::close() {
  if (!file_) return Status::ok();
  Status status = file_->close();
  file_.reset();
  return status;
}

}  // namespace omendb::storage
