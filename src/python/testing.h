// omendb._core.FaultInjectionEnv: the storage layer's fault-injecting Env over the real file
// system, for OmenDB's own Python tests (python/omendb/_testing.py), not for users.
#pragma once

#include <nanobind/nanobind.h>

namespace omendb::python {

// Adds the class to `m`.
void bind_testing(nanobind::module_& m);

}  // namespace omendb::python
