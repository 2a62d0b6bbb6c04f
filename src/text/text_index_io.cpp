// TextIndex::save and TextIndex::restore: the image of text_index.h.
#include <algorithm>
#include <cstring>
#include <limits>
#include <string_view>
#include <utility>

#include "storage/byte_io.h"
#include "text/analyzer.h"
#include "text/text_index.h"

namespace omendb::text {
namespace {

using storage::ByteWriter;

constexpr std::size_t kPieceBytes = std::size_t{1} << 20;
// The fewest bytes a term takes: length, one byte of text, posting count, one block header.
constexpr std::size_t kMinTermBytes = 4 + 1 + 4 + kBlockHeaderBytes;
constexpr std::uint64_t kMaxSlots = std::uint64_t{1} << 32;

// Collects the image and hands it to the sink in pieces of about kPieceBytes.
class PieceWriter {
 public:
  explicit PieceWriter(const TextIndex::ByteSink& sink) : sink_(sink) {}

  std::vector<std::byte>& buffer() noexcept { return buffer_; }
  // Hands the buffer to the sink once it holds a piece.
  void flush_if_full() {
    if (buffer_.size() >= kPieceBytes) flush();
  }
  void flush() {
    if (!buffer_.empty()) sink_(buffer_);
    buffer_.clear();
  }

 private:
  const TextIndex::ByteSink& sink_;
  std::vector<std::byte> buffer_;
};

// Writes one term's live postings: full blocks, then the tail as plain pairs.
void write_postings(const PostingList& live, std::vector<std::byte>& out) {
  ByteWriter writer(out);
  writer.put_u32(static_cast<std::uint32_t>(live.size()));
  for (std::size_t block = 0; block < live.full_blocks(); ++block) {
    const std::span<const std::byte> bytes = live.block_bytes(block);
    out.insert(out.end(), bytes.begin(), bytes.end());
  }
  for (const Posting& posting : live.tail()) {
    writer.put_u32(posting.slot);
    writer.put_u32(posting.tf);
  }
}

// Reads the image front to back; every read checks the bytes left and consumes nothing when
// they are too few.
class ImageReader {
 public:
  explicit ImageReader(std::span<const std::byte> bytes) noexcept : bytes_(bytes) {}

  std::size_t offset() const noexcept { return offset_; }
  std::size_t remaining() const noexcept { return bytes_.size() - offset_; }
  // The bytes not read yet.
  std::span<const std::byte> rest() const noexcept { return bytes_.subspan(offset_); }

  template <class T>
  [[nodiscard]] bool get(T& out) noexcept {
    if (sizeof out > remaining()) return false;
    std::memcpy(&out, bytes_.data() + offset_, sizeof out);
    offset_ += sizeof out;
    return true;
  }
  // A u32 length, then that many bytes, as a view into the image.
  [[nodiscard]] bool get_string(std::string_view& out) noexcept {
    std::uint32_t size = 0;
    if (sizeof size > remaining()) return false;
    std::memcpy(&size, bytes_.data() + offset_, sizeof size);
    if (size > remaining() - sizeof size) return false;
    out = std::string_view(reinterpret_cast<const char*>(bytes_.data() + offset_ + sizeof size),
                           size);
    offset_ += sizeof size + size;
    return true;
  }
  // Precondition: size <= remaining().
  void skip(std::size_t size) noexcept { offset_ += size; }

 private:
  std::span<const std::byte> bytes_;
  std::size_t offset_ = 0;
};

Status corrupt(std::string_view what, std::size_t offset) {
  return {StatusCode::kCorruption,
          "text index: " + std::string(what) + " at byte " + std::to_string(offset)};
}

}  // namespace

void TextIndex::save(const ByteSink& sink) const {
  PieceWriter pieces(sink);
  std::vector<std::byte>& out = pieces.buffer();
  ByteWriter writer(out);
  std::vector<std::pair<std::string_view, std::uint32_t>> sorted;
  for (const auto& [text, id] : ids_) {
    if (terms_[id].live_documents != 0) sorted.emplace_back(text, id);
  }
  std::sort(sorted.begin(), sorted.end());

  out.insert(out.end(), reinterpret_cast<const std::byte*>(kTextIndexMagic.data()),
             reinterpret_cast<const std::byte*>(kTextIndexMagic.data() + kTextIndexMagic.size()));
  writer.put_u32(kTextIndexFormatVersion);
  writer.put_u64(slot_count());
  writer.put_u32(static_cast<std::uint32_t>(sorted.size()));
  for (std::uint64_t slot = 0; slot < slot_count(); ++slot) {
    writer.put_u32(is_live(static_cast<std::uint32_t>(slot)) ? doc_length_[slot] : 0);
    pieces.flush_if_full();
  }
  for (const std::uint64_t word : live_) {
    writer.put_u64(word);
    pieces.flush_if_full();
  }
  std::uint32_t slots[kBlockPostings];
  std::uint32_t tfs[kBlockPostings];
  for (const auto& [text, id] : sorted) {
    writer.put_string(text);
    const Term& term = terms_[id];
    if (term.live_documents == term.postings.size()) {
      write_postings(term.postings, out);
    } else {  // re-pack without the dead postings
      PostingList live;
      for (std::size_t block = 0; block < term.postings.block_count(); ++block) {
        const std::size_t count = term.postings.decode(block, slots, tfs);
        for (std::size_t i = 0; i < count; ++i) {
          if (is_live(slots[i])) live.append(slots[i], tfs[i], doc_length_[slots[i]]);
        }
      }
      write_postings(live, out);
    }
    pieces.flush_if_full();
  }
  pieces.flush();
}

Result<TextIndex> TextIndex::restore(std::span<const std::byte> bytes) {
  ImageReader in(bytes);
  if (bytes.size() < kTextIndexHeaderBytes ||
      !std::equal(kTextIndexMagic.begin(), kTextIndexMagic.end(),
                  reinterpret_cast<const char*>(bytes.data()))) {
    return corrupt("bad magic", 0);
  }
  std::uint64_t magic = 0;
  std::uint32_t version = 0;
  std::uint64_t slots = 0;
  std::uint32_t term_count = 0;
  (void)in.get(magic);
  (void)in.get(version);
  if (version != kTextIndexFormatVersion) return corrupt("unknown format version", 8);
  (void)in.get(slots);
  (void)in.get(term_count);
  const std::uint64_t words = (slots + 63) / 64;
  if (slots > kMaxSlots || slots * 4 + words * 8 > in.remaining()) {
    return corrupt("slot count larger than the image", 12);
  }
  if (term_count > (in.remaining() - slots * 4 - words * 8) / kMinTermBytes) {
    return corrupt("term count larger than the image", 20);
  }

  TextIndex index;
  index.grow_slots(slots);
  for (std::uint64_t slot = 0; slot < slots; ++slot) (void)in.get(index.doc_length_[slot]);
  const std::size_t live_offset = in.offset();
  for (std::uint64_t& word : index.live_) (void)in.get(word);
  if (slots % 64 != 0 && (index.live_.back() >> (slots % 64)) != 0) {
    return corrupt("live bit past the last slot", live_offset + (words - 1) * 8);
  }
  std::vector<std::uint64_t> tf_sums(slots, 0);
  for (std::uint64_t slot = 0; slot < slots; ++slot) {
    if (index.is_live(static_cast<std::uint32_t>(slot))) {
      ++index.live_count_;
      index.total_length_ += index.doc_length_[slot];
    } else if (index.doc_length_[slot] != 0) {
      return corrupt("length of a slot that is not live", kTextIndexHeaderBytes + slot * 4);
    }
  }

  std::string previous;
  std::uint32_t block_slots[kBlockPostings];
  std::uint32_t block_tfs[kBlockPostings];
  index.terms_.reserve(term_count);
  for (std::uint32_t t = 0; t < term_count; ++t) {
    const std::size_t term_offset = in.offset();
    std::string_view text;
    if (!in.get_string(text)) return corrupt("truncated term", term_offset);
    if (text.empty() || text.size() > kMaxTermBytes) return corrupt("term length", term_offset);
    if (t != 0 && !(previous < text)) return corrupt("terms out of order", term_offset);
    previous.assign(text);
    std::uint32_t count = 0;
    if (!in.get(count)) return corrupt("truncated posting count", in.offset());
    const std::uint64_t full = count / kBlockPostings;
    const std::uint64_t tail = count % kBlockPostings;
    if (count == 0 || full * kBlockHeaderBytes + tail * 8 > in.remaining()) {
      return corrupt("posting count", in.offset() - 4);
    }
    Term term;
    std::uint64_t next_slot = 0;
    // Checks and appends one decoded posting; false when it breaks a rule of the image.
    const auto take = [&](std::uint32_t slot, std::uint32_t tf) {
      if (slot < next_slot || slot >= slots || tf == 0 || !index.is_live(slot)) return false;
      next_slot = std::uint64_t{slot} + 1;
      tf_sums[slot] += tf;
      if (tf_sums[slot] > index.doc_length_[slot]) return false;
      term.postings.append(slot, tf, index.doc_length_[slot]);
      ++term.live_documents;
      return true;
    };
    for (std::uint64_t block = 0; block < full; ++block) {
      const std::size_t block_offset = in.offset();
      const std::size_t size =
          decode_block(in.rest(), kBlockPostings, next_slot, block_slots, block_tfs);
      if (size == 0) return corrupt("bad posting block", block_offset);
      for (std::size_t i = 0; i < kBlockPostings; ++i) {
        if (!take(block_slots[i], block_tfs[i])) return corrupt("bad posting", block_offset);
      }
      in.skip(size);
    }
    for (std::uint64_t i = 0; i < tail; ++i) {
      const std::size_t posting_offset = in.offset();
      std::uint32_t slot = 0;
      std::uint32_t tf = 0;
      if (!in.get(slot) || !in.get(tf)) return corrupt("truncated posting", posting_offset);
      if (!take(slot, tf)) return corrupt("bad posting", posting_offset);
    }
    index.ids_.emplace(std::string(text), static_cast<std::uint32_t>(index.terms_.size()));
    index.terms_.push_back(std::move(term));
  }
  if (in.remaining() != 0) return corrupt("bytes after the last term", in.offset());
  for (std::uint64_t slot = 0; slot < slots; ++slot) {
    if (tf_sums[slot] != index.doc_length_[slot]) {
      return corrupt("slot length differs from its postings", kTextIndexHeaderBytes + slot * 4);
    }
  }
  return index;
}

}  // namespace omendb::text
