// The on-disk states a power cut may leave, rebuilt from the file operations a RecordingEnv
// recorded (src/storage/recording_env.h). Used by tests/cpp/db/crash_states_test.cpp.
//
// CrashSpace replays the operations one by one over a model of the disk: per file its durable
// bytes (as of its last sync) and its current bytes; per directory its durable entries (as of its
// last sync_dir) and the entry changes made since. Before any operation, for_each_state() builds
// states a power cut at that moment may leave, under this model:
//  - Bytes: what a file held at its last WritableFile::sync() survives. Each 4 KiB block (file
//    offsets k*4096 on) that changed since may hold its new bytes or not; a block that did not get
//    them holds the old bytes, or zeros past the old end. The file's size is the old one, the new
//    one, or (for a file that grew) the end of the blocks persisted so far.
//  - Entries: a creation, removal or rename not yet followed by sync_dir() of the directory
//    holding the entry (for a rename, the target's) may have persisted or not, each on its own.
//    An entry whose parent directory's entry did not persist is gone with it.
// Not modelled: damage to synced bytes (a power cut does not do that), an fsync() of a file making
// its new directory entry durable too (ext4 does; portable code cannot count on it), renames of
// directories (the database never renames one; replaying one fails the test).
//
// Which states are built at each point ("Crash-state exploration" in docs/format.md):
//  - enumerated: four baselines (every unsynced change dropped; every one kept; file bytes kept
//    but entry changes dropped; the reverse), and around the first two, one thing changed at a
//    time: each changed file in each of its enumerated forms (old, new, cut back to the bytes it
//    shares with the old, size-only: new size and zeros, and every block-granular prefix up to
//    CrashBudget::max_prefixes), and each directory with every subset of its pending changes
//    (up to CrashBudget::max_subset_ops changes; beyond that each prefix and, with
//    CrashBudget::single_changes, each "all but one" and each "only one"). A file with more
//    changed blocks than max_prefixes gets that many prefixes drawn at random (the shortest and
//    the longest always);
//  - sampled (seeded): CrashBudget::samples states where every changed file takes a random form,
//    sampled forms included (CrashBudget::sampled_forms per file: a random subset of its blocks
//    persisted, and prefixes at 512-byte-sector granularity), and every directory a random
//    subset of its pending changes.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "storage/recording_env.h"

namespace omendb::testing {

// A file tree: relative path -> bytes, or nothing for a directory. Sorted, so a directory comes
// before everything in it.
using FileTree = std::map<std::string, std::optional<std::vector<std::byte>>>;

// Creates `root` (which must not exist) holding `tree`.
inline void write_tree(const FileTree& tree, const std::filesystem::path& root) {
  std::filesystem::create_directories(root);
  for (const auto& [name, bytes] : tree) {
    if (!bytes) {
      std::filesystem::create_directory(root / name);
      continue;
    }
    std::ofstream out(root / name, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes->data()),
              static_cast<std::streamsize>(bytes->size()));
    if (!out.good()) ADD_FAILURE() << "writing " << (root / name);
  }
}

// A 64-bit FNV-1a digest of `tree`: equal trees, equal keys. Cost: one pass over its bytes.
inline std::uint64_t tree_key(const FileTree& tree) {
  std::uint64_t hash = 14695981039346656037ull;
  const auto mix = [&hash](const void* data, std::size_t size) {
    const auto* bytes = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < size; ++i) hash = (hash ^ bytes[i]) * 1099511628211ull;
  };
  for (const auto& [name, bytes] : tree) {
    mix(name.data(), name.size() + 1);  // the NUL ends the name
    const std::uint64_t size = bytes ? bytes->size() : ~std::uint64_t{0};
    mix(&size, sizeof size);
    if (bytes) mix(bytes->data(), bytes->size());
  }
  return hash;
}

// How many states for_each_state() builds at a point.
struct CrashBudget {
  std::size_t max_prefixes = 16;   // block prefixes of a file enumerated; beyond, that many drawn
  std::size_t max_subset_ops = 4;  // pending changes of a directory whose subsets are enumerated
  bool single_changes = true;      // beyond that: also each "all but one" and each "only one"
  std::size_t samples = 4;         // random states
  std::size_t sampled_forms = 2;   // random forms (block subsets, sector prefixes) per file
};

class CrashSpace {
 public:
  static constexpr std::uint64_t kBlock = 4096;
  static constexpr std::uint64_t kSector = 512;

  // Starts from `initial` under `root`, all of it durable. Operations must name paths under root.
  CrashSpace(std::filesystem::path root, const FileTree& initial) : root_(std::move(root)) {
    for (const auto& [name, bytes] : initial) {
      const std::size_t inode = new_inode(!bytes.has_value());
      if (bytes) inodes_[inode].durable = inodes_[inode].current = *bytes;
      durable_[name] = current_[name] = inode;
    }
  }

  // Carries out `op` on the model. Cost: O(bytes it writes), or O(file) for a sync.
  void apply(const storage::FileOp& op) {
    using Kind = storage::FileOp::Kind;
    const std::string name = relative(op.path);
    switch (op.kind) {
      case Kind::kCreateFile:
      case Kind::kCreateDir: {
        const std::size_t inode = new_inode(op.kind == Kind::kCreateDir);
        current_[name] = inode;
        pending_.push_back({EntryChange::kLink, parent(name), name, "", inode});
        return;
      }
      case Kind::kTruncate:
        file_at(name).current.resize(op.size);
        return;
      case Kind::kAppend: {
        std::vector<std::byte>& bytes = file_at(name).current;
        bytes.resize(std::max<std::size_t>(bytes.size(), op.size + op.data.size()));
        std::copy(op.data.begin(), op.data.end(),
                  bytes.begin() + static_cast<std::ptrdiff_t>(op.size));
        return;
      }
      case Kind::kSync:
        file_at(name).durable = file_at(name).current;
        return;
      case Kind::kRemoveFile:
      case Kind::kRemoveDir: {
        const std::size_t inode = inode_at(name);
        current_.erase(name);
        pending_.push_back({EntryChange::kUnlink, parent(name), name, "", inode});
        return;
      }
      case Kind::kRename: {
        const std::size_t inode = inode_at(name);
        if (inodes_[inode].dir) ADD_FAILURE() << "renaming a directory is not modelled: " << name;
        const std::string target = relative(op.target);
        current_.erase(name);
        current_[target] = inode;
        pending_.push_back({EntryChange::kRename, parent(target), name, target, inode});
        return;
      }
      case Kind::kSyncDir: {
        std::erase_if(pending_, [&](const EntryChange& change) {
          if (change.dir != name) return false;
          carry_out(change, durable_);
          return true;
        });
        return;
      }
    }
  }

  // Calls visit(tree, label) for each state a power cut now may leave, as the top of this file
  // says (the same tree may come more than once: callers deduplicate by tree_key). `random` draws
  // the sampled forms and states. Cost: building each tree (the size of the files).
  template <class Visit>
  void for_each_state(const CrashBudget& budget, std::mt19937_64& random, Visit&& visit) const {
    std::vector<ChangedFile> files;
    for (std::size_t inode = 0; inode < inodes_.size(); ++inode) {
      const Inode& file = inodes_[inode];
      if (file.dir || file.durable == file.current || !maybe_reachable(inode)) continue;
      files.push_back(forms_of(inode, budget, random));
    }
    std::vector<PendingDir> dirs;
    for (std::size_t i = 0; i < pending_.size(); ++i) {
      auto found = std::find_if(dirs.begin(), dirs.end(),
                                [&](const PendingDir& d) { return d.dir == pending_[i].dir; });
      if (found == dirs.end()) found = dirs.insert(dirs.end(), PendingDir{pending_[i].dir, {}});
      found->changes.push_back(i);
    }

    // One state: file i in form forms[i], directory j keeping the changes in kept[j].
    struct Choice {
      std::vector<std::size_t> forms;
      std::vector<std::vector<bool>> kept;
    };
    const auto baseline = [&](bool new_bytes, bool new_entries) {
      Choice choice;
      choice.forms.assign(files.size(), new_bytes ? kNewForm : kOldForm);
      for (const PendingDir& dir : dirs) choice.kept.emplace_back(dir.changes.size(), new_entries);
      return choice;
    };
    const auto emit = [&](const Choice& choice) {
      visit(build(files, dirs, choice.forms, choice.kept),
            describe(files, dirs, choice.forms, choice.kept));
    };

    const Choice dropped = baseline(false, false);
    const Choice kept = baseline(true, true);
    emit(dropped);
    emit(kept);
    emit(baseline(true, false));
    emit(baseline(false, true));
    for (const Choice& base : {kept, dropped}) {
      for (std::size_t i = 0; i < files.size(); ++i) {
        for (std::size_t form = 0; form < files[i].enumerated; ++form) {
          if (form == base.forms[i]) continue;
          Choice choice = base;
          choice.forms[i] = form;
          emit(choice);
        }
      }
      for (std::size_t j = 0; j < dirs.size(); ++j) {
        for (const std::vector<bool>& subset : subsets(dirs[j].changes.size(), budget)) {
          if (subset == base.kept[j]) continue;
          Choice choice = base;
          choice.kept[j] = subset;
          emit(choice);
        }
      }
    }
    for (std::size_t sample = 0; sample < budget.samples; ++sample) {
      Choice choice;
      for (const ChangedFile& file : files) {
        choice.forms.push_back(
            std::uniform_int_distribution<std::size_t>(0, file.forms.size() - 1)(random));
      }
      for (const PendingDir& dir : dirs) {
        std::vector<bool> subset;
        for (std::size_t k = 0; k < dir.changes.size(); ++k) subset.push_back(random() % 2 == 1);
        choice.kept.push_back(std::move(subset));
      }
      emit(choice);
    }
  }

 private:
  struct Inode {
    bool dir = false;
    std::vector<std::byte> durable;  // as of the last sync
    std::vector<std::byte> current;
  };
  // A directory entry change not yet made durable by sync_dir.
  struct EntryChange {
    enum Kind { kLink, kUnlink, kRename };
    Kind kind;
    std::string dir;     // the directory whose sync_dir makes it durable
    std::string name;    // the entry created or removed; for a rename, the old name
    std::string target;  // for a rename: the new name
    std::size_t inode;
  };
  // A form a changed file may take after the crash: `size` bytes, where block b (of `block`
  // bytes) holds the new bytes when kept[b - first] and the old ones (zeros past the old end)
  // otherwise.
  struct Form {
    std::string label;
    std::uint64_t size = 0;
    std::uint64_t block = kBlock;
    std::uint64_t first = 0;
    std::vector<bool> kept;
  };
  struct ChangedFile {
    std::size_t inode;
    std::vector<Form> forms;  // [kOldForm], [kNewForm], then the others; the first
                              // `enumerated` are enumerated, the rest sampled
    std::size_t enumerated = 0;
  };
  static constexpr std::size_t kOldForm = 0;
  static constexpr std::size_t kNewForm = 1;
  struct PendingDir {
    std::string dir;
    std::vector<std::size_t> changes;  // indexes into pending_, oldest first
  };

  std::size_t new_inode(bool dir) {
    inodes_.push_back(Inode{dir, {}, {}});
    return inodes_.size() - 1;
  }

  // `path` relative to the root: "" for the root itself.
  std::string relative(const std::filesystem::path& path) const {
    const std::filesystem::path name = path.lexically_normal().lexically_relative(root_);
    if (name.empty() || name.begin()->string() == "..") {
      ADD_FAILURE() << path << " is not under " << root_;
    }
    return name == "." ? std::string() : name.string();
  }

  static std::string parent(const std::string& name) {
    return std::filesystem::path(name).parent_path().string();
  }

  std::size_t inode_at(const std::string& name) {
    auto found = current_.find(name);
    if (found != current_.end()) return found->second;
    ADD_FAILURE() << "no file " << name << " in the model";
    current_[name] = new_inode(false);  // keeps the replay going; the test has failed
    return current_[name];
  }
  Inode& file_at(const std::string& name) { return inodes_[inode_at(name)]; }

  static void carry_out(const EntryChange& change, std::map<std::string, std::size_t>& entries) {
    const auto unlink = [&](const std::string& name) {
      auto found = entries.find(name);
      if (found != entries.end() && found->second == change.inode) entries.erase(found);
    };
    switch (change.kind) {
      case EntryChange::kLink:
        entries[change.name] = change.inode;
        return;
      case EntryChange::kUnlink:
        unlink(change.name);
        return;
      case EntryChange::kRename:
        unlink(change.name);
        entries[change.target] = change.inode;
        return;
    }
  }

  // Whether some state can reach `inode` (it is durable somewhere or a pending change names it).
  bool maybe_reachable(std::size_t inode) const {
    for (const auto& [name, id] : durable_) {
      if (id == inode) return true;
    }
    return std::any_of(pending_.begin(), pending_.end(),
                       [inode](const EntryChange& change) { return change.inode == inode; });
  }

  // The forms `inode`'s bytes may take: enumerated ones first, then sampled ones.
  ChangedFile forms_of(std::size_t inode, const CrashBudget& budget,
                       std::mt19937_64& random) const {
    const std::vector<std::byte>& old_bytes = inodes_[inode].durable;
    const std::vector<std::byte>& new_bytes = inodes_[inode].current;
    const std::uint64_t shared =
        std::mismatch(old_bytes.begin(), old_bytes.end(), new_bytes.begin(), new_bytes.end())
            .first -
        old_bytes.begin();
    ChangedFile file{inode, {}, 0};
    const auto add = [&](std::string label, std::uint64_t size, std::uint64_t block,
                         std::size_t kept_blocks, std::vector<bool> kept) {
      const std::uint64_t first = shared / block;
      if (kept.empty()) kept.assign(kept_blocks, true);
      file.forms.push_back(Form{std::move(label), size, block, first, std::move(kept)});
    };
    const auto blocks = [&](std::uint64_t block) {
      return (new_bytes.size() + block - 1) / block - shared / block;
    };
    const std::uint64_t count = new_bytes.size() > shared ? blocks(kBlock) : 0;
    add("old", old_bytes.size(), kBlock, 0, std::vector<bool>(1, false));
    add("new", new_bytes.size(), kBlock, count, {});
    if (count > 0) {
      if (shared < old_bytes.size()) add("cut", shared, kBlock, 0, std::vector<bool>(1, false));
      add("size-only", new_bytes.size(), kBlock, 0, std::vector<bool>(count, false));
      std::vector<std::uint64_t> prefixes;
      for (std::uint64_t k = 1; k < count; ++k) prefixes.push_back(k);
      const std::size_t keep = std::max<std::size_t>(budget.max_prefixes, 2);
      if (prefixes.size() > keep) {
        std::shuffle(prefixes.begin() + 1, prefixes.end() - 1, random);  // keep the first, last
        prefixes.erase(prefixes.begin() + static_cast<std::ptrdiff_t>(keep) - 1,
                       prefixes.end() - 1);
        std::sort(prefixes.begin(), prefixes.end());
      }
      for (const std::uint64_t k : prefixes) {
        add(prefix_label("prefix", k, count), prefix_size(shared, k, kBlock, new_bytes.size()),
            kBlock, k, {});
      }
    }
    file.enumerated = file.forms.size();
    const std::uint64_t sectors = new_bytes.size() > shared ? blocks(kSector) : 0;
    for (std::size_t i = 0; i < budget.sampled_forms; ++i) {
      if (i % 2 == 0 && count > 2) {
        std::vector<bool> kept(count);
        for (std::size_t b = 0; b < count; ++b) kept[b] = random() % 2 == 1;
        std::string label = "blocks ";
        for (std::size_t b = 0; b < count; ++b) label += kept[b] ? '1' : '0';
        add(std::move(label), new_bytes.size(), kBlock, 0, std::move(kept));
      } else if (sectors > 1) {
        const std::uint64_t k =
            std::uniform_int_distribution<std::uint64_t>(1, sectors - 1)(random);
        add(prefix_label("sector prefix", k, sectors),
            prefix_size(shared, k, kSector, new_bytes.size()), kSector, k, {});
      }
    }
    return file;
  }

  static std::string prefix_label(const char* what, std::uint64_t k, std::uint64_t of) {
    std::string label(what);
    label.append(" ").append(std::to_string(k)).append("/").append(std::to_string(of));
    return label;
  }

  // The size of a file that grew from `shared` bytes when its first k changed blocks persisted.
  static std::uint64_t prefix_size(std::uint64_t shared, std::uint64_t k, std::uint64_t block,
                                   std::uint64_t new_size) {
    return std::min(new_size, (shared / block + k) * block);
  }

  // The subsets of n pending changes enumerated: all of them when n <= budget.max_subset_ops,
  // else each prefix (and with budget.single_changes each "all but one" and each "only one").
  static std::vector<std::vector<bool>> subsets(std::size_t n, const CrashBudget& budget) {
    std::vector<std::vector<bool>> out;
    if (n <= budget.max_subset_ops) {
      for (std::uint64_t mask = 0; mask < (std::uint64_t{1} << n); ++mask) {
        std::vector<bool>& subset = out.emplace_back(n);
        for (std::size_t k = 0; k < n; ++k) subset[k] = (mask >> k) & 1;
      }
      return out;
    }
    for (std::size_t k = 0; k <= n; ++k) {
      std::vector<bool>& prefix = out.emplace_back(n, false);
      std::fill(prefix.begin(), prefix.begin() + static_cast<std::ptrdiff_t>(k), true);
    }
    for (std::size_t k = 0; k < n && budget.single_changes; ++k) {
      out.emplace_back(n, true)[k] = false;
      out.emplace_back(n, false)[k] = true;
    }
    return out;
  }

  // The bytes of `file` in `form`.
  std::vector<std::byte> bytes_of(const ChangedFile& file, const Form& form) const {
    const Inode& inode = inodes_[file.inode];
    std::vector<std::byte> out(
        inode.durable.begin(),
        inode.durable.begin() +
            static_cast<std::ptrdiff_t>(std::min<std::uint64_t>(form.size, inode.durable.size())));
    out.resize(form.size);
    for (std::size_t b = 0; b < form.kept.size(); ++b) {
      if (!form.kept[b]) continue;
      const std::uint64_t begin = (form.first + b) * form.block;
      const std::uint64_t end = std::min(begin + form.block, form.size);
      for (std::uint64_t x = begin; x < end; ++x) {
        out[x] = x < inode.current.size() ? inode.current[x] : std::byte{0};
      }
    }
    return out;
  }

  // The tree of one state.
  FileTree build(const std::vector<ChangedFile>& files, const std::vector<PendingDir>& dirs,
                 const std::vector<std::size_t>& forms,
                 const std::vector<std::vector<bool>>& kept) const {
    std::set<std::size_t> chosen;
    for (std::size_t j = 0; j < dirs.size(); ++j) {
      for (std::size_t k = 0; k < dirs[j].changes.size(); ++k) {
        if (kept[j][k]) chosen.insert(dirs[j].changes[k]);
      }
    }
    std::map<std::string, std::size_t> entries = durable_;
    for (const std::size_t i : chosen) carry_out(pending_[i], entries);  // in the order made
    std::map<std::size_t, std::size_t> form_of;
    for (std::size_t i = 0; i < files.size(); ++i) form_of[files[i].inode] = i;
    FileTree tree;
    for (const auto& [name, inode] : entries) {
      if (!reachable(name, entries)) continue;
      if (inodes_[inode].dir) {
        tree.emplace(name, std::nullopt);
      } else if (auto found = form_of.find(inode); found != form_of.end()) {
        const ChangedFile& file = files[found->second];
        tree.emplace(name, bytes_of(file, file.forms[forms[found->second]]));
      } else {
        tree.emplace(name, inodes_[inode].current);  // unchanged since its last sync
      }
    }
    return tree;
  }

  // Whether every directory above `name` is in `entries`, as a directory.
  bool reachable(const std::string& name, const std::map<std::string, std::size_t>& entries) const {
    for (std::filesystem::path dir = std::filesystem::path(name).parent_path(); !dir.empty();
         dir = dir.parent_path()) {
      auto found = entries.find(dir.string());
      if (found == entries.end() || !inodes_[found->second].dir) return false;
    }
    return true;
  }

  // "<file>: <form>; <dir>/: kept {+new -removed mv old>new} dropped {...}; ..." for the
  // unsynced things of a state.
  std::string describe(const std::vector<ChangedFile>& files, const std::vector<PendingDir>& dirs,
                       const std::vector<std::size_t>& forms,
                       const std::vector<std::vector<bool>>& kept) const {
    std::string out;
    for (std::size_t i = 0; i < files.size(); ++i) {
      out.append(name_of(files[i].inode)).append(": ").append(files[i].forms[forms[i]].label);
      out.append("; ");
    }
    for (std::size_t j = 0; j < dirs.size(); ++j) {
      out.append(dirs[j].dir.empty() ? "/" : dirs[j].dir + "/");
      for (const bool persisted : {true, false}) {
        out.append(persisted ? ": kept {" : " dropped {");
        for (std::size_t k = 0; k < kept[j].size(); ++k) {
          if (kept[j][k] != persisted) continue;
          const EntryChange& change = pending_[dirs[j].changes[k]];
          const auto base = [](const std::string& path) {
            return std::filesystem::path(path).filename().string();
          };
          out.append(change.kind == EntryChange::kLink     ? " +"
                     : change.kind == EntryChange::kUnlink ? " -"
                                                           : " mv ");
          out.append(base(change.name));
          if (change.kind == EntryChange::kRename) out.append(">").append(base(change.target));
        }
        out.append(" }");
      }
      out.append("; ");
    }
    return out.empty() ? "nothing unsynced" : out;
  }

  // A name `inode` has (now, else durably).
  std::string name_of(std::size_t inode) const {
    for (const auto* entries : {&current_, &durable_}) {
      for (const auto& [name, id] : *entries) {
        if (id == inode) return name;
      }
    }
    return "(unnamed)";
  }

  std::filesystem::path root_;
  std::vector<Inode> inodes_;
  std::map<std::string, std::size_t> durable_;  // entries as of their directories' last sync_dir
  std::map<std::string, std::size_t> current_;  // entries now
  std::vector<EntryChange> pending_;            // oldest first
};

}  // namespace omendb::testing
