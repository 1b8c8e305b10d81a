// tearline_consumer POLICY: loads a coalition policy and parses one marking with it, using only
// the installed headers and tearline::core. Prints "policy NAME label ok HEX" and exits 0.
#include <cstdint>
#include <iostream>
#include <vector>

#include "tearline/base/encoding.h"
#include "tearline/labels/label.h"
#include "tearline/labels/policy.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: tearline_consumer POLICY\n";
    return 2;
  }
  auto policy = tearline::Policy::LoadFile(argv[1]);
  if (!policy.ok()) {
    std::cerr << policy.status().ToString() << "\n";
    return 1;
  }
  auto label = tearline::ParseLabel("(S//REL TO USA, GBR)", *policy);
  if (!label.ok()) {
    std::cerr << label.status().ToString() << "\n";
    return 1;
  }
  const std::vector<std::uint8_t> bytes = {0x7e, 0xa1};
  std::cout << "policy " << policy->name() << " label ok " << tearline::ToHex(bytes) << "\n";
  return 0;
}
