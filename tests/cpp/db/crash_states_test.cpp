// Crash-state exploration: seeded workloads run over a RecordingEnv; then, at every sync point
// (before each WritableFile::sync and sync_dir, and after the last operation), the states a power
// cut may leave there (tests/cpp/support/crash_states.h) are built in a folder, opened with
// Database::open over the real Env, and checked against a model of what the workload wrote:
// every call acknowledged before the cut is there, the call in flight is there whole or not at all,
// nothing else is, the collections answer searches and filters, and the database takes a write,
// checkpoints and reopens with it. Some recovered states are explored again (a power cut during
// recovery and the write after it). docs/format.md, "Crash-state exploration", has the method and
// the numbers.
//
// CI runs a few short workloads with a small budget; OMENDB_CRASH_STATES_FULL=1 runs more and
// longer ones with a larger budget. OMENDB_CRASH_STATES_KEEP=<folder> copies every failing state
// there, to be opened by hand.
#include "support/crash_states.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "db/crash_workload.h"
#include "omendb/database.h"
#include "storage/recording_env.h"

namespace omendb::crash_test {
namespace {

using testing::CrashBudget;
using testing::CrashSpace;
using testing::FileTree;

bool full_mode() {
  const char* full = std::getenv("OMENDB_CRASH_STATES_FULL");
  return full != nullptr && std::string_view(full) == "1";
}

// A fresh folder for the test's files, removed with them at the end. tmpfs (/dev/shm) when there
// is one: the states are built by the test, not by the file system, so its fsyncs buy nothing.
class ScratchDir {
 public:
  ScratchDir() {
    std::string base = "/tmp";
    if (const char* tmp = std::getenv("TMPDIR"); tmp != nullptr && *tmp != '\0') base = tmp;
    if (::access("/dev/shm", W_OK) == 0) base = "/dev/shm";
    std::string pattern = base + "/omendb-crash-states-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp " << pattern;
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// --- checking one state

// What opening a state gave.
struct Outcome {
  std::string error;  // an open error or a wrong answer; empty when all went well
  DbImage image;      // what it held
  // The recovery, the probe write and the close after it, as a recording of their own (paths
  // under the folder the state was opened in).
  Recording recovery;
};

constexpr std::string_view kProbeId = "probe";

// The probe write: a record added to the first collection (to a new "probe" collection when there
// is none).
struct Probe {
  std::string collection;
  bool create = false;
  CollectionOptions options;
  std::vector<float> vector;
};

Probe probe_for(const DbImage& image) {
  Probe probe;
  if (image.empty()) {
    probe.collection = "probe";
    probe.create = true;
    probe.options.dim = 2;
  } else {
    probe.collection = image.begin()->first;
    probe.options.dim = image.begin()->second.dim;
  }
  probe.vector.assign(probe.options.dim, 0.25f);
  return probe;
}

// Opens the database at root/db as recovery does and reads it back; then (with `probe`) adds one
// record, closes it (a checkpoint) and checks that a reopen holds exactly that, recording the
// recovery, the write and the close through a RecordingEnv.
Outcome open_state(const fs::path& root, const fs::path& db, const IdUniverse& universe,
                   bool probe) {
  Outcome outcome;
  storage::RecordingEnv env(storage::Env::posix());
  DatabaseOptions options;
  options.threads = 1;
  options.env = &env;
  auto opened = Database::open((root / db).string(), options);
  if (!opened.is_ok()) {
    outcome.error = "open: " + opened.status().message();
    return outcome;
  }
  std::unique_ptr<Database> database = std::move(opened).value();
  outcome.image = read_image(*database, universe, outcome.error);
  if (!probe || !outcome.error.empty()) return outcome;

  Recording& recovery = outcome.recovery;
  recovery.root = root;
  recovery.db = db;
  recovery.versions.push_back(outcome.image);
  recovery.calls.push_back({0, env.operation_count(), 0, "recovery"});
  const Probe p = probe_for(outcome.image);
  // Runs `body` as the next call of the recording; `next` is the model after it.
  const auto call = [&](const std::string& what, auto body, DbImage next) {
    const std::size_t begin = env.operation_count();
    const Status status = body();
    recovery.versions.push_back(std::move(next));
    recovery.calls.push_back({begin, env.operation_count(), recovery.versions.size() - 1, what});
    return status;
  };
  DbImage next = outcome.image;
  Status status;
  if (p.create) {
    next[p.collection] = CollectionImage{p.options.dim, p.options.quantization, {}};
    status = call(
        "create " + p.collection,
        [&] { return database->create_collection(p.collection, p.options).status(); }, next);
  }
  next[p.collection].records[std::string(kProbeId)] = {p.vector, {}};
  const std::string_view id = kProbeId;
  if (status.is_ok()) {
    status = call(
        "probe write",
        [&] {
          Result<std::shared_ptr<Collection>> collection = database->get_collection(p.collection);
          if (!collection.is_ok()) return collection.status();
          return collection.value()->add({.ids = {&id, 1}, .vectors = p.vector, .metadata = {}});
        },
        next);
  }
  if (status.is_ok()) status = call("close", [&] { return database->close(); }, next);
  recovery.ops = env.take_operations();
  recovery.universe = universe;
  recovery.universe[p.collection].insert(std::string(kProbeId));
  if (!status.is_ok()) {
    outcome.error = "probe write: " + status.message();
    return outcome;
  }
  DatabaseOptions plain;
  plain.threads = 1;
  auto reopened = Database::open((root / db).string(), plain);
  if (!reopened.is_ok()) {
    outcome.error = "reopen after the probe write: " + reopened.status().message();
    return outcome;
  }
  std::string problems;
  const DbImage after = read_image(*reopened.value(), recovery.universe, problems);
  if (!problems.empty()) outcome.error = "after the probe write: " + problems;
  if (after != next) outcome.error += "after the probe write: " + difference(after, next);
  (void)reopened.value()->close();
  return outcome;
}

// --- exploring the states of a recording

struct Stats {
  std::size_t sync_points = 0;
  std::size_t states = 0;              // built, duplicates included
  std::size_t distinct = 0;            // opened
  std::size_t writing_recoveries = 0;  // distinct states whose recovery changed the files
  std::size_t second_level_runs = 0;
  std::size_t second_level_states = 0;  // built, duplicates included
  std::size_t failures = 0;
  bool report = true;  // failures fail the test; else they are only counted
};

// Which model versions a state may hold when the cut came before operation `at`: the one after the
// last call acknowledged by then, and the one after the call in flight, if any.
std::vector<std::size_t> acceptable(const std::vector<Call>& calls, std::size_t at) {
  std::vector<std::size_t> versions{0};
  for (const Call& call : calls) {
    if (call.end <= at) {
      versions[0] = call.version;
    } else if (call.begin <= at) {
      versions.push_back(call.version);
    }
  }
  return versions;
}

// How much an Explorer builds.
struct Plan {
  CrashBudget budget;              // states per sync point of the recording
  CrashBudget recovery_budget;     // states per sync point of a recovery explored again
  std::size_t recovery_every = 0;  // explore every n-th recovery that writes; 0: none
};

// Explores the power cuts of one recording: of a workload (level 1: each new state is opened with
// the probe write, and some have the power cuts of their recovery and probe write explored too)
// or of such a recovery (level 2: states are only opened and checked).
class Explorer {
 public:
  Explorer(const Recording& recording, const WorkloadSpec& spec, const Plan& plan,
           const fs::path& scratch, std::string context, Stats& stats)
      : recording_(recording),
        spec_(spec),
        plan_(plan),
        scratch_(scratch),
        context_(std::move(context)),
        stats_(stats) {
    if (const char* keep = std::getenv("OMENDB_CRASH_STATES_KEEP"); keep != nullptr && *keep) {
      keep_ = keep;
    }
    for (std::size_t v = 0; v < recording.versions.size(); ++v) {
      canonical_.push_back(v);
      for (std::size_t u = 0; u < v; ++u) {
        if (recording.versions[u] == recording.versions[v]) {
          canonical_[v] = u;
          break;
        }
      }
    }
  }

  // Builds and checks the states at every sync point, up to kMaxFailures failures.
  void explore(const FileTree& initial) {
    CrashSpace space(recording_.root, initial);
    std::mt19937_64 random(spec_.seed * 1000003ull + initial.size());
    const std::vector<storage::FileOp>& ops = recording_.ops;
    for (std::size_t at = 0; at <= ops.size() && stats_.failures < kMaxFailures; ++at) {
      const bool sync_point = at == ops.size() || ops[at].kind == storage::FileOp::Kind::kSync ||
                              ops[at].kind == storage::FileOp::Kind::kSyncDir;
      if (sync_point) {
        if (level_one()) ++stats_.sync_points;
        const std::vector<std::size_t> allowed = acceptable(recording_.calls, at);
        space.for_each_state(plan_.budget, random,
                             [&](const FileTree& tree, const std::string& label) {
                               check(tree, at, allowed, label);
                             });
      }
      if (at < ops.size()) space.apply(ops[at]);
    }
  }

 private:
  static constexpr std::size_t kMaxFailures = 5;
  static constexpr std::size_t kNoVersion = ~std::size_t{0};

  struct Verdict {
    std::string error;
    std::size_t version = kNoVersion;  // the canonical model version the state held
  };

  bool level_one() const { return context_.empty(); }

  // "before op <n> (<kind> <path>) during '<call>'".
  std::string where(std::size_t at) const {
    const std::vector<storage::FileOp>& ops = recording_.ops;
    if (at == ops.size()) return "after the last operation";
    const storage::FileOp& op = ops[at];
    std::string call;
    for (const Call& c : recording_.calls) {
      if (c.begin <= at && at < c.end) call = " during '" + c.what + "'";
    }
    const char* kind = op.kind == storage::FileOp::Kind::kSync ? "sync " : "sync_dir ";
    return "before op " + std::to_string(at) + " of " + std::to_string(ops.size()) + " (" + kind +
           op.path.lexically_relative(recording_.root).string() + ")" + call;
  }

  void check(const FileTree& tree, std::size_t at, const std::vector<std::size_t>& allowed,
             const std::string& label) {
    if (stats_.failures >= kMaxFailures) return;
    ++(level_one() ? stats_.states : stats_.second_level_states);
    const std::uint64_t key = testing::tree_key(tree);
    auto cached = verdicts_.find(key);
    if (cached == verdicts_.end()) {
      if (level_one()) ++stats_.distinct;
      cached = verdicts_.emplace(key, verify(tree, at, label)).first;
    }
    const Verdict& verdict = cached->second;
    std::string problem = verdict.error;
    bool held = false;
    for (const std::size_t v : allowed) held |= canonical_[v] == verdict.version;
    if (problem.empty() && !held) {
      const fs::path root = scratch_ / (level_one() ? "again" : "again2");
      fs::remove_all(root);
      testing::write_tree(tree, root);
      const Outcome again = open_state(root, recording_.db, recording_.universe, false);
      fs::remove_all(root);
      problem =
          "holds the wrong records: " + difference(again.image, recording_.versions[allowed[0]]) +
          "(against the state after the last acknowledged call)";
    }
    if (problem.empty()) return;
    ++stats_.failures;
    std::string kept;
    if (!keep_.empty()) {
      const fs::path copy = keep_ / (spec_.name + "-" + std::to_string(key));
      fs::remove_all(copy);
      testing::write_tree(tree, copy);
      kept = "\n  state copied to " + copy.string();
    }
    if (!stats_.report) return;
    ADD_FAILURE() << spec_.name << " (seed " << spec_.seed << "): " << context_ << "power cut "
                  << where(at) << "\n  state: " << label << "\n  " << problem << kept;
  }

  // Opens a new state: which model version it holds, or what went wrong.
  Verdict verify(const FileTree& tree, std::size_t at, const std::string& label) {
    const fs::path root = scratch_ / (level_one() ? "state" : "state2");
    fs::remove_all(root);
    testing::write_tree(tree, root);
    const Outcome outcome = open_state(root, recording_.db, recording_.universe, level_one());
    fs::remove_all(root);
    Verdict verdict{outcome.error, kNoVersion};
    for (std::size_t v = 0; v < recording_.versions.size(); ++v) {
      if (recording_.versions[v] == outcome.image) {
        verdict.version = canonical_[v];
        break;
      }
    }
    // Recoveries that write (cut a torn tail, create the database), beyond taking the lock and
    // removing leftovers, are the ones worth crashing in.
    const Recording& recovery = outcome.recovery;
    const auto writes = [](const storage::FileOp& op) {
      return op.kind != storage::FileOp::Kind::kRemoveFile &&
             op.kind != storage::FileOp::Kind::kRemoveDir && op.path.filename() != "LOCK";
    };
    const bool recovery_writes =
        !recovery.calls.empty() &&
        std::any_of(recovery.ops.begin(),
                    recovery.ops.begin() + static_cast<std::ptrdiff_t>(recovery.calls[0].end),
                    writes);
    if (level_one() && recovery_writes) ++stats_.writing_recoveries;
    if (level_one() && verdict.error.empty() && recovery_writes && plan_.recovery_every > 0 &&
        stats_.writing_recoveries % plan_.recovery_every == 0) {
      ++stats_.second_level_runs;
      const Plan recovery_plan{plan_.recovery_budget, plan_.recovery_budget, 0};
      Explorer(outcome.recovery, spec_, recovery_plan, scratch_,
               "after a power cut " + where(at) + " leaving {" + label + "}, a ", stats_)
          .explore(tree);
    }
    return verdict;
  }

  const Recording& recording_;
  const WorkloadSpec& spec_;
  Plan plan_;
  fs::path scratch_;
  std::string context_;  // empty at level 1; what led to this recording at level 2
  Stats& stats_;
  fs::path keep_;
  std::vector<std::size_t> canonical_;  // version -> the first version equal to it
  std::unordered_map<std::uint64_t, Verdict> verdicts_;
};

// --- the tests

// The CI workloads, then the ones only the full mode runs (the others skip them, so ctest knows
// every name whatever the mode).
std::vector<WorkloadSpec> workloads() {
  std::vector<WorkloadSpec> specs = {
      {"explicit_checkpoints", 1, 24},
      {"automatic_checkpoints", 2, 24, 6 << 10},
      {"nested_folder", 3, 16, 12 << 10, true},
      {"automatic_compaction", 4, 8, 64 << 10, false, true},
  };
  for (std::uint32_t seed = 5; seed <= 20; ++seed) {
    WorkloadSpec spec{"seed" + std::to_string(seed), seed, 48};
    if (seed % 2 == 0) spec.checkpoint_log_bytes = (4 + seed) << 10;
    spec.nested = seed % 3 == 0;
    spec.bulk = seed % 8 == 0;
    spec.full_only = true;
    specs.push_back(spec);
  }
  return specs;
}

// What each mode builds (the fields: CrashBudget). Level 2 (a recovery explored again) always
// gets the CI budget.
Plan plan(bool full) {
  CrashBudget small;
  small.max_prefixes = 8;
  small.max_subset_ops = 3;
  small.single_changes = false;
  small.samples = 2;
  small.sampled_forms = 2;
  if (!full) return Plan{small, small, 8};
  CrashBudget large;
  large.max_prefixes = std::numeric_limits<std::size_t>::max();
  large.max_subset_ops = 6;
  large.single_changes = true;
  large.samples = 16;
  large.sampled_forms = 4;
  return Plan{large, small, 3};
}

class CrashStates : public ::testing::TestWithParam<WorkloadSpec> {};

TEST_P(CrashStates, EveryPowerCutKeepsWhatWasAcknowledged) {
  const WorkloadSpec& spec = GetParam();
  const bool full = full_mode();
  if (spec.full_only && !full) GTEST_SKIP() << "runs with OMENDB_CRASH_STATES_FULL=1";
  const auto start = std::chrono::steady_clock::now();
  ScratchDir scratch;
  const Recording recording = WorkloadRunner(spec, scratch.path() / "work").run();
  ASSERT_FALSE(::testing::Test::HasFailure());
  Stats stats;
  Explorer(recording, spec, plan(full), scratch.path(), "", stats).explore({});
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "[crash states] %s: %zu calls, %zu file operations, %zu sync points, %zu states built, "
      "%zu distinct opened; %zu recoveries that write, %zu explored again (%zu states); %.1f s\n",
      spec.name.c_str(), recording.calls.size(), recording.ops.size(), stats.sync_points,
      stats.states, stats.distinct, stats.writing_recoveries, stats.second_level_runs,
      stats.second_level_states, seconds);
  EXPECT_EQ(stats.failures, 0u);
}

// `recording` without the operations `drop` picks, its calls renumbered to match.
template <class Drop>
Recording without(const Recording& recording, Drop drop) {
  Recording out = recording;
  out.ops.clear();
  std::vector<std::size_t> new_index;  // old op index -> new one
  for (const storage::FileOp& op : recording.ops) {
    new_index.push_back(out.ops.size());
    if (!drop(op)) out.ops.push_back(op);
  }
  new_index.push_back(out.ops.size());
  for (Call& call : out.calls) {
    call.begin = new_index[call.begin];
    call.end = new_index[call.end];
  }
  return out;
}

// The exploration finds what it is there to find: taken out of a recording, the log's syncs or
// the folder syncs after each manifest rename let power cuts lose acknowledged writes.
TEST(CrashStates, FindsTheLossOfAMissingSync) {
  ScratchDir scratch;
  const WorkloadSpec spec{"missing_sync", 1, 12};
  const Recording recording = WorkloadRunner(spec, scratch.path() / "work").run();
  ASSERT_FALSE(::testing::Test::HasFailure());
  const auto failures = [&](const Recording& mutated) {
    Stats stats;
    stats.report = false;
    Explorer(mutated, spec, Plan{plan(false).budget, {}, 0}, scratch.path(), "", stats).explore({});
    return stats.failures;
  };
  EXPECT_GT(failures(without(recording,
                             [](const storage::FileOp& op) {
                               return op.kind == storage::FileOp::Kind::kSync &&
                                      op.path.filename().string().starts_with("wal-");
                             })),
            0u);
  bool after_rename = false;
  EXPECT_GT(failures(without(recording,
                             [&](const storage::FileOp& op) {
                               const bool drop =
                                   after_rename && op.kind == storage::FileOp::Kind::kSyncDir;
                               after_rename = op.kind == storage::FileOp::Kind::kRename;
                               return drop;
                             })),
            0u);
  Stats unchanged;
  Explorer(recording, spec, Plan{plan(false).budget, {}, 0}, scratch.path(), "", unchanged)
      .explore({});
  EXPECT_EQ(unchanged.failures, 0u);
}

INSTANTIATE_TEST_SUITE_P(Workloads, CrashStates, ::testing::ValuesIn(workloads()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace omendb::crash_test
