// Runs a fuzz target's LLVMFuzzerTestOneInput over saved inputs, without
// libFuzzer: the seed corpus and the crashes kept as regressions
// (tests/fuzz/corpus/TARGET/) become an ordinary test of every build tree,
// compiled by g++, under the sanitizers in build-asan/. Searching for new
// inputs stays with scripts/fuzz (clang, libFuzzer).
//
//   fuzz_TARGET_replay PATH...    PATH: an input file or a directory of them
//
// A target reports a finding by aborting (a sanitizer, a broken invariant),
// so reaching the end means every input passed. Exit status: 0 all ran,
// 1 no input found, 2 unreadable path.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

namespace fs = std::filesystem;

// The inputs under each path, each directory's files in name order so that
// a failure names the same input on every run.
bool collect(const fs::path& path, std::vector<fs::path>& inputs) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(path, ec)) {
      if (entry.is_regular_file()) files.push_back(entry.path());
    }
    if (ec) return false;
    std::sort(files.begin(), files.end());
    inputs.insert(inputs.end(), files.begin(), files.end());
    return true;
  }
  if (fs::is_regular_file(path, ec)) {
    inputs.push_back(path);
    return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<fs::path> inputs;
  for (int i = 1; i < argc; ++i) {
    if (!collect(argv[i], inputs)) {
      std::cerr << argv[0] << ": cannot read " << argv[i] << "\n";
      return 2;
    }
  }
  if (inputs.empty()) {
    std::cerr << argv[0] << ": no inputs (usage: " << argv[0] << " FILE|DIR...)\n";
    return 1;
  }
  for (const auto& input : inputs) {
    std::ifstream in(input, std::ios::binary);
    const std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    if (!in && !in.eof()) {
      std::cerr << argv[0] << ": cannot read " << input.string() << "\n";
      return 2;
    }
    // Printed first: when the target aborts, the last line names the input.
    std::cout << input.filename().string() << " (" << bytes.size() << " bytes)" << std::endl;
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  }
  std::cout << inputs.size() << " inputs passed\n";
  return 0;
}
