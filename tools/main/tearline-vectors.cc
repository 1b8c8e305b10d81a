// tearline-vectors DIR: writes the conformance vectors (tools/include/tearline/tools/
// conformance_vectors.h) below DIR; `tearline-vectors tests/vectors` regenerates the committed
// files, which tests check byte for byte.
#include <exception>
#include <iostream>

#include "tearline/tools/conformance_vectors.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: tearline-vectors DIR\n";
    return 2;
  }
  try {
    const tearline::Status st = tearline::tools::WriteVectors(argv[1]);
    if (!st.ok()) {
      std::cerr << "tearline-vectors: error: " << st.ToString() << "\n";
      return 1;
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "tearline-vectors: error: INTERNAL: " << e.what() << "\n";
    return 2;
  }
}
