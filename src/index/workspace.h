// Scratch memory of one search or insert: reused across calls so the hot paths never allocate once
// warm.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "collections/top_k.h"
#include "collections/visited_set.h"
#include "index/candidate_list.h"
#include "quant/sq8.h"

namespace omendb {

struct Workspace {
  VisitedSet visited;
  CandidateList candidates;              // the ef nearest found by a graph search
  TopK results;                          // the k nearest found by a scan
  std::vector<std::uint32_t> links;      // a copied neighbour list
  std::vector<std::uint32_t> unvisited;  // the not yet visited part of it
  std::vector<Neighbor> sorted;          // results, nearest first
  std::vector<Neighbor> selected;        // neighbours chosen by the heuristic
  std::vector<std::vector<Neighbor>> selected_by_level;  // an insert's choice on each level
  std::vector<Neighbor> pruned;          // a full list plus a new link, nearest first
  std::vector<Neighbor> kept;            // what the heuristic keeps of `pruned`
  std::vector<std::uint32_t> ids;        // a list being written
  std::vector<std::uint32_t> around;     // a second list: of a deleted node, or of a bridge node
  std::vector<std::uint32_t> matched;    // matching nodes found around one node (filtered search)
  std::vector<std::uint32_t> bridges;    // its non-matching neighbours (filtered search)
  std::vector<float> query;              // a prepared copy of the query
  std::vector<float> row;                // a row read out of a mapped file (re-rank)
  quant::Sq8Query code_query;            // the query quantized (quantized indexes)
  quant::Sq8Query list_owner;            // a node whose list is pruned, as a code query
  std::vector<quant::Sq8Query> kept_queries;  // the heuristic's kept nodes, as code queries

  // Sizes the buffers for lists of up to `max_degree` ids and queries of `dim` floats.
  void prepare(std::size_t max_degree, std::size_t dim) {
    if (links.size() < max_degree) {
      links.resize(max_degree);
      unvisited.resize(max_degree);
      around.resize(max_degree);
    }
    if (query.size() < dim) {
      query.resize(dim);
      row.resize(dim);
    }
  }
};

// Hands out workspaces to concurrent callers; each is returned on release and reused.
class WorkspacePool {
 public:
  // A workspace for the caller's exclusive use until release(). Cost: a mutex; allocates only when
  // more threads than ever before hold one at once.
  std::unique_ptr<Workspace> acquire() {
    std::lock_guard guard(mutex_);
    if (free_.empty()) return std::make_unique<Workspace>();
    std::unique_ptr<Workspace> ws = std::move(free_.back());
    free_.pop_back();
    return ws;
  }
  void release(std::unique_ptr<Workspace> ws) {
    std::lock_guard guard(mutex_);
    free_.push_back(std::move(ws));
  }

 private:
  std::mutex mutex_;
  std::vector<std::unique_ptr<Workspace>> free_;
};

// Returns a workspace to its pool at scope exit.
class WorkspaceLease {
 public:
  explicit WorkspaceLease(WorkspacePool& pool) : pool_(pool), ws_(pool.acquire()) {}
  ~WorkspaceLease() { pool_.release(std::move(ws_)); }
  WorkspaceLease(const WorkspaceLease&) = delete;
  WorkspaceLease& operator=(const WorkspaceLease&) = delete;
  Workspace& operator*() noexcept { return *ws_; }

 private:
  WorkspacePool& pool_;
  std::unique_ptr<Workspace> ws_;
};

// One workspace per thread of a parallel loop, each prepared for lists of up to `max_degree` ids
// and queries of `dim` floats, taken from a pool and returned to it at scope exit.
class ThreadWorkspaces {
 public:
  ThreadWorkspaces(WorkspacePool& pool, std::size_t threads, std::size_t max_degree,
                   std::size_t dim)
      : pool_(pool), workspaces_(threads) {
    for (auto& ws : workspaces_) {
      ws = pool_.acquire();
      ws->prepare(max_degree, dim);
    }
  }
  ~ThreadWorkspaces() {
    for (auto& ws : workspaces_) pool_.release(std::move(ws));
  }
  ThreadWorkspaces(const ThreadWorkspaces&) = delete;
  ThreadWorkspaces& operator=(const ThreadWorkspaces&) = delete;
  // The workspace of loop thread `thread` (in [0, threads)).
  Workspace& operator[](std::size_t thread) noexcept { return *workspaces_[thread]; }

 private:
  WorkspacePool& pool_;
  std::vector<std::unique_ptr<Workspace>> workspaces_;
};

}  // namespace omendb
