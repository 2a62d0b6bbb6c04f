#include "python/testing.h"

#include <nanobind/stl/string.h>

#include <cerrno>
#include <string>

#include "python/convert.h"
#include "storage/fault_injection_env.h"

namespace omendb::python {
namespace {

using storage::FaultInjectionEnv;
using storage::FaultOp;
using namespace nb::literals;

FaultOp to_fault_op(const std::string& name) {
  if (name == "create") return FaultOp::kCreate;
  if (name == "append") return FaultOp::kAppend;
  if (name == "sync") return FaultOp::kSync;
  if (name == "sync_dir") return FaultOp::kSyncDir;
  if (name == "rename") return FaultOp::kRename;
  if (name == "remove") return FaultOp::kRemove;
  if (name == "truncate") return FaultOp::kTruncate;
  throw StatusError{Status::invalid_argument("op must be 'create', 'append', 'sync', 'sync_dir', "
                                             "'rename', 'remove' or 'truncate', got '" +
                                             name + "'")};
}

int to_error_number(const std::string& name) {
  if (name == "EIO") return EIO;
  if (name == "ENOSPC") return ENOSPC;
  throw StatusError{
      Status::invalid_argument("error must be 'EIO' or 'ENOSPC', got '" + name + "'")};
}

}  // namespace

void bind_testing(nb::module_& m) {
  nb::class_<FaultInjectionEnv>(m, "FaultInjectionEnv",
                                "The real file system, with chosen operations made to fail "
                                "(src/storage/fault_injection_env.h). For OmenDB's tests.")
      .def("__init__",
           [](FaultInjectionEnv* env) { new (env) FaultInjectionEnv(storage::Env::posix()); })
      .def(
          "fail_nth",
          [](FaultInjectionEnv& env, const std::string& op, std::uint64_t n, bool and_later,
             const std::string& error) {
            env.fail_nth(to_fault_op(op), n, and_later, to_error_number(error));
          },
          "op"_a, "n"_a, "and_later"_a, "error"_a)
      .def("set_space_left", &FaultInjectionEnv::set_space_left, "bytes"_a)
      .def("clear_faults", &FaultInjectionEnv::clear_faults)
      .def(
          "calls",
          [](const FaultInjectionEnv& env, const std::string& op) {
            return env.calls(to_fault_op(op));
          },
          "op"_a);
}

}  // namespace omendb::python
