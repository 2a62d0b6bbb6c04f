// The workloads of the crash-state exploration (crash_states_test.cpp): a model of what a
// database holds, read back through the API and compared, and seeded workloads run through a
// RecordingEnv with the model kept in step, call by call.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "filter/expression.h"
#include "omendb/database.h"
#include "storage/recording_env.h"

namespace omendb::crash_test {

namespace fs = std::filesystem;

// --- the model: what a database holds

struct StoredRecord {
  std::vector<float> vector;
  Metadata metadata;
  friend bool operator==(const StoredRecord&, const StoredRecord&) = default;
};

struct CollectionImage {
  std::size_t dim = 0;
  Quantization quantization = Quantization::kNone;
  std::map<std::string, StoredRecord> records;
  friend bool operator==(const CollectionImage&, const CollectionImage&) = default;
};

using DbImage = std::map<std::string, CollectionImage>;

// Every id a collection name ever held, over all of a workload's versions: what get() probes.
using IdUniverse = std::map<std::string, std::set<std::string>>;

inline void add_ids(const DbImage& image, IdUniverse& universe) {
  for (const auto& [name, collection] : image) {
    for (const auto& [id, record] : collection.records) universe[name].insert(id);
  }
}

inline const Value* field(const Metadata& metadata, std::string_view key) {
  for (const Field& f : metadata) {
    if (f.key == key) return &f.value;
  }
  return nullptr;
}

// Whether `metadata` has tag == `tag` (the filter the workloads delete and count by).
inline bool has_tag(const Metadata& metadata, const std::string& tag) {
  const Value* value = field(metadata, "tag");
  return value != nullptr && std::holds_alternative<std::string>(*value) &&
         std::get<std::string>(*value) == tag;
}

inline FilterExpr tag_filter(const std::string& tag) {
  FilterExpr filter;
  filter.op = FilterOp::kEq;
  filter.field = "tag";
  filter.operand = Value(tag);
  return filter;
}

// What the database at `db` holds, read through its API; problems with answers that disagree with
// the records go to `problems`. Cost: a get() of every id in `universe`, a few searches.
inline DbImage read_image(Database& db, const IdUniverse& universe, std::string& problems) {
  DbImage image;
  Result<std::vector<std::string>> names = db.collection_names();
  for (const std::string& name : names.value()) {
    std::shared_ptr<Collection> collection = db.get_collection(name).value();
    CollectionImage& stored = image[name];
    stored.dim = collection->options().dim;
    stored.quantization = collection->options().quantization;
    std::vector<std::string_view> ids;
    if (auto known = universe.find(name); known != universe.end()) {
      ids.assign(known->second.begin(), known->second.end());
    }
    Result<std::vector<std::optional<Record>>> got = collection->get(ids);
    if (!got.is_ok()) {
      problems += name + ": get: " + got.status().message() + "; ";
      continue;
    }
    for (std::optional<Record>& record : got.value()) {
      if (record) {
        stored.records[record->id] = {std::move(record->vector), std::move(record->metadata)};
      }
    }
    if (collection->size() != stored.records.size()) {
      problems += name + ": size() " + std::to_string(collection->size()) + " but " +
                  std::to_string(stored.records.size()) + " known records; ";
      stored.records["<unknown records>"] = {};
    }
    const std::string tag = "t1";
    const FilterExpr filter = tag_filter(tag);
    const std::size_t tagged = static_cast<std::size_t>(
        std::count_if(stored.records.begin(), stored.records.end(),
                      [&](const auto& entry) { return has_tag(entry.second.metadata, tag); }));
    Result<std::size_t> counted = collection->count(&filter);
    if (!counted.is_ok() || counted.value() != tagged) {
      problems += name + ": count(tag == t1) is not " + std::to_string(tagged) + "; ";
    }
    if (stored.records.empty() || stored.records.contains("<unknown records>")) continue;
    // A graph search for the first and the last record's own vector finds it.
    for (const auto* entry : {&*stored.records.begin(), &*stored.records.rbegin()}) {
      SearchOptions search;
      search.k = 1;
      Result<std::vector<Hit>> hits = collection->search(entry->second.vector, search);
      if (!hits.is_ok() || hits.value().size() != 1 || hits.value()[0].distance != 0.0f) {
        problems += name + ": a search for " + entry->first + "'s vector misses it; ";
      }
    }
  }
  return image;
}

// "<collection>: +id -id ~id" for the records of `got` that differ from `want`.
inline std::string difference(const DbImage& got, const DbImage& want) {
  std::string out;
  std::set<std::string> names;
  for (const auto& [name, c] : got) names.insert(name);
  for (const auto& [name, c] : want) names.insert(name);
  for (const std::string& name : names) {
    auto g = got.find(name);
    auto w = want.find(name);
    if (g == got.end() || w == want.end()) {
      out += (g == got.end() ? "missing collection " : "extra collection ") + name + "; ";
      continue;
    }
    if (g->second.dim != w->second.dim) out += name + ": dim differs; ";
    std::string records;
    for (const auto& [id, record] : g->second.records) {
      auto found = w->second.records.find(id);
      if (found == w->second.records.end()) {
        records += " +" + id;
      } else if (!(found->second == record)) {
        records += " ~" + id;
      }
    }
    for (const auto& [id, record] : w->second.records) {
      if (!g->second.records.contains(id)) records += " -" + id;
    }
    if (!records.empty()) out += name + ":" + records + "; ";
  }
  return out;
}

// --- workloads

struct WorkloadSpec {
  std::string name;
  std::uint32_t seed = 0;
  std::size_t steps = 0;
  std::uint64_t checkpoint_log_bytes = std::uint64_t{64} << 20;  // small: automatic checkpoints
  bool nested = false;  // the database lives in a folder whose parent open() creates
  bool bulk = false;  // starts with 1,100 records and deletes past a quarter: automatic compaction
  bool full_only = false;  // skipped unless OMENDB_CRASH_STATES_FULL=1
};

// gtest's name for a workload in failure messages.
inline void PrintTo(const WorkloadSpec& spec, std::ostream* out) { *out << spec.name; }

// One API call of a workload: the operations [begin, end) it made, and the model version after it.
struct Call {
  std::size_t begin = 0;
  std::size_t end = 0;
  std::size_t version = 0;
  std::string what;
};

// A workload as run: its file operations and the model of what each call left.
struct Recording {
  fs::path root;  // the operations' paths are under it
  fs::path db;    // the database folder, relative to root
  std::vector<storage::FileOp> ops;
  std::vector<DbImage> versions;  // [0]: empty
  std::vector<Call> calls;
  IdUniverse universe;
};

inline const CollectionOptions& options_of(const std::string& name, std::size_t generation) {
  static const CollectionOptions plain = [] {
    CollectionOptions o;
    o.dim = 8;
    o.m = 8;
    o.ef_construction = 32;
    o.quantization = Quantization::kNone;  // the float mode; "sq" below has codes
    return o;
  }();
  static const CollectionOptions plain_small = [] {
    CollectionOptions o = plain;
    o.dim = 4;
    return o;
  }();
  static const CollectionOptions quantized = [] {
    CollectionOptions o;
    o.dim = 12;
    o.m = 8;
    o.ef_construction = 32;
    o.quantization = Quantization::kSq8;
    return o;
  }();
  if (name == "sq") return quantized;
  return generation % 2 == 0 ? plain : plain_small;  // a recreated "plain" may change its dim
}

// Runs `spec` in `root` through a RecordingEnv, keeping the model in step.
class WorkloadRunner {
 public:
  WorkloadRunner(const WorkloadSpec& spec, const fs::path& root)
      : spec_(spec), random_(spec.seed), env_(storage::Env::posix()) {
    recording_.root = root;
    recording_.db = spec.nested ? fs::path("parent") / "db" : fs::path("db");
    recording_.versions.emplace_back();
    fs::create_directories(root);  // durable before the workload starts, as its parent is
  }

  Recording run() {
    DatabaseOptions options;
    options.threads = 1;
    options.checkpoint_log_bytes = spec_.checkpoint_log_bytes;
    options.env = &env_;
    call("open", [&] {
      auto opened = Database::open((recording_.root / recording_.db).string(), options);
      if (!opened.is_ok()) return opened.status();
      db_ = std::move(opened).value();
      return Status::ok();
    });
    if (!db_) return std::move(recording_);
    create("plain");
    if (spec_.bulk) {
      add("plain", 1100, false);
      delete_ids("plain", 300);
    }
    create("sq");
    for (std::size_t step = 0; step < spec_.steps; ++step) random_step();
    call("close", [&] { return db_->close(); });
    for (const DbImage& version : recording_.versions) add_ids(version, recording_.universe);
    recording_.ops = env_.take_operations();
    return std::move(recording_);
  }

 private:
  // Runs `body` as one call; `next`, when set, is the model after it.
  template <class Body>
  void call(std::string what, Body body, std::optional<DbImage> next = std::nullopt) {
    const std::size_t begin = env_.operation_count();
    const Status status = body();
    ASSERT_TRUE(status.is_ok()) << what << ": " << status.message();
    if (next) recording_.versions.push_back(std::move(*next));
    recording_.calls.push_back(
        {begin, env_.operation_count(), recording_.versions.size() - 1, std::move(what)});
  }

  DbImage& model() { return recording_.versions.back(); }

  std::shared_ptr<Collection> collection(const std::string& name) {
    return db_->get_collection(name).value();
  }

  void create(const std::string& name) {
    const CollectionOptions& options = options_of(name, generations_[name]++);
    DbImage next = model();
    next[name] = CollectionImage{options.dim, options.quantization, {}};
    call(
        "create " + name, [&] { return db_->create_collection(name, options).status(); },
        std::move(next));
  }

  void drop(const std::string& name) {
    DbImage next = model();
    next.erase(name);
    call("drop " + name, [&] { return db_->drop_collection(name); }, std::move(next));
  }

  // Metadata of the i-th record written: none, or some of tag, n, tags, x.
  Metadata metadata_for(std::uint64_t i) {
    if (i % 3 == 0) return {};
    Metadata fields;
    fields.push_back({"n", Value(static_cast<std::int64_t>(i))});
    fields.push_back({"tag", Value("t" + std::to_string(random_() % 4))});
    if (i % 7 == 0) fields.push_back({"tags", Value(std::vector<std::string>{"a", "b"})});
    if (i % 5 == 0) fields.push_back({"x", Value(static_cast<double>(i) / 8)});
    return fields;
  }

  // Adds `count` new records (upsert: about half of them replacing existing ones).
  void add(const std::string& name, std::size_t count, bool upsert) {
    const std::size_t dim = model().at(name).dim;
    std::vector<std::string> ids;
    std::vector<std::string> existing;
    for (const auto& [id, record] : model().at(name).records) existing.push_back(id);
    std::shuffle(existing.begin(), existing.end(), random_);
    for (std::size_t i = 0; i < count; ++i) {
      if (upsert && i % 2 == 0 && i / 2 < existing.size()) {
        ids.push_back(existing[i / 2]);
      } else {
        ids.push_back(name + "-" + std::to_string(next_id_++));
      }
    }
    std::normal_distribution<float> normal;
    std::vector<float> vectors(count * dim);
    for (float& x : vectors) x = normal(random_);
    std::vector<Metadata> metadata;
    for (std::size_t i = 0; i < count; ++i) metadata.push_back(metadata_for(next_id_ + i));
    DbImage next = model();
    for (std::size_t i = 0; i < count; ++i) {
      next.at(name).records[ids[i]] = {
          std::vector<float>(vectors.begin() + static_cast<std::ptrdiff_t>(i * dim),
                             vectors.begin() + static_cast<std::ptrdiff_t>((i + 1) * dim)),
          metadata[i]};
    }
    const std::vector<std::string_view> views(ids.begin(), ids.end());
    const RecordBatch batch{.ids = views, .vectors = vectors, .metadata = metadata};
    call(
        std::string(upsert ? "upsert " : "add ") + std::to_string(count) + " to " + name,
        [&] {
          std::shared_ptr<Collection> c = collection(name);
          return upsert ? c->upsert(batch) : c->add(batch);
        },
        std::move(next));
  }

  // Deletes up to `count` existing records by id, and one id that does not exist.
  void delete_ids(const std::string& name, std::size_t count) {
    std::vector<std::string> ids;
    for (const auto& [id, record] : model().at(name).records) ids.push_back(id);
    std::shuffle(ids.begin(), ids.end(), random_);
    ids.resize(std::min(count, ids.size()));
    ids.push_back("absent-" + std::to_string(next_id_++));
    DbImage next = model();
    for (const std::string& id : ids) next.at(name).records.erase(id);
    const std::vector<std::string_view> views(ids.begin(), ids.end());
    call(
        "delete " + std::to_string(ids.size()) + " ids from " + name,
        [&] { return collection(name)->remove(views).status(); }, std::move(next));
  }

  void delete_where(const std::string& name) {
    const std::string tag = "t" + std::to_string(random_() % 4);
    DbImage next = model();
    std::erase_if(next.at(name).records,
                  [&](const auto& entry) { return has_tag(entry.second.metadata, tag); });
    const FilterExpr filter = tag_filter(tag);
    call(
        "delete where tag == " + tag + " from " + name,
        [&] { return collection(name)->remove_where(filter).status(); }, std::move(next));
  }

  void random_step() {
    std::vector<std::string> present;
    std::vector<std::string> missing;
    for (const char* name : {"plain", "sq"}) {
      (model().contains(name) ? present : missing).push_back(name);
    }
    const auto pick = [&](const std::vector<std::string>& names) {
      return names[random_() % names.size()];
    };
    // Weights out of 24: create 3 (when a collection is missing; else add takes them), add 8,
    // upsert 4, delete ids 3, delete where 2, checkpoint 2, compact 1, drop 1.
    const std::uint32_t roll = random_() % 24;
    if (present.empty() || (!missing.empty() && roll < 3)) return create(pick(missing));
    const std::string name = pick(present);
    if (roll < 11) return add(name, 1 + random_() % 24, false);
    if (roll < 15) return add(name, 1 + random_() % 16, true);
    if (roll < 18) return delete_ids(name, 1 + random_() % 8);
    if (roll < 20) return delete_where(name);
    if (roll < 22) return call("checkpoint", [&] { return db_->checkpoint(); });
    if (roll < 23) {
      return call("compact " + name, [&] { return collection(name)->compact().status(); });
    }
    drop(name);
  }

  WorkloadSpec spec_;
  std::mt19937 random_;
  storage::RecordingEnv env_;
  std::unique_ptr<Database> db_;
  Recording recording_;
  std::map<std::string, std::size_t> generations_;
  std::uint64_t next_id_ = 0;
};

}  // namespace omendb::crash_test
