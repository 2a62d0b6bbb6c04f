// Runs a fuzz target's LLVMFuzzerTestOneInput on files, without libFuzzer, so that every ordinary
// build (GCC, with or without sanitizers) replays the seed corpus and the kept crash inputs as the
// ctest tests fuzz_<target>.
//
// Usage: <target>_regression PATH...
// A directory stands for the files in it, in name order; a path that does not exist holds no
// inputs (a target may have no kept crash inputs yet). Exits 1 when no input was found at all or
// a file cannot be read; a failing input aborts the process (or trips a sanitizer), and the last
// "running" line names it.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <vector>

#include "support/check.h"
#include "support/files.h"

namespace {

namespace fs = std::filesystem;

// The input files `path` stands for, in name order.
std::vector<fs::path> inputs_of(const fs::path& path) {
  std::vector<fs::path> files;
  if (fs::is_regular_file(path)) files.push_back(path);
  if (fs::is_directory(path)) {
    for (const fs::directory_entry& entry : fs::directory_iterator(path)) {
      if (entry.is_regular_file()) files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

// Runs every input named on the command line through the target.
int main(int argc, char** argv) {
  std::size_t ran = 0;
  for (int i = 1; i < argc; ++i) {
    for (const fs::path& file : inputs_of(argv[i])) {
      omendb::Result<std::vector<std::byte>> bytes = omendb::fuzz::read_file(file);
      if (!bytes.is_ok()) {
        std::fprintf(stderr, "%s\n", bytes.status().message().c_str());
        return 1;
      }
      std::fprintf(stderr, "running %s\n", file.c_str());
      const std::vector<std::byte>& input = bytes.value();
      LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(input.data()), input.size());
      ++ran;
    }
  }
  std::fprintf(stderr, "%zu inputs ran\n", ran);
  return ran == 0 ? 1 : 0;
}
