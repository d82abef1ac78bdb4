#!/usr/bin/env bash
# Static analysis of the project's own code (core/ net/ storage/ actors/ app/ config/; not tests,
# tools or third-party headers) with cppcheck, at zero findings. Run by ctest as
# deploy.static_analysis and by `bash tools/dev.sh test`.
#
#   bash tools/static_analysis.sh        exit 0: no findings; 1: findings (listed); 77: no cppcheck
#
# Why cppcheck and not clang-tidy: cppcheck needs no compile database and no system headers, so a
# whole pass is ~5 s of CPU (measured on the CI machine, 2 cores, 2026-12); clang-tidy re-parses
# CAF/Poco/Boost headers for each of ~90 translation units (minutes). Checked classes: error,
# warning (undefined behaviour, bugs), portability and performance. `style` is left out on purpose:
# ~120 findings, three quarters of them "use an STL algorithm" advice -- taste, not defects.
#
# Suppressions: inline `// cppcheck-suppress ID` on the line above, with a comment saying why;
# tools/cppcheck-suppressions.txt only for what cannot be inline (with the reason there).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v cppcheck >/dev/null; then
  echo "SKIP: cppcheck not installed (apt-get install cppcheck; bash tools/dev.sh deps)"
  exit 77
fi
echo "$(cppcheck --version) on core/ net/ storage/ actors/ app/ config/"
# missingIncludeSystem: system headers are deliberately not parsed (speed; their code is not ours).
cppcheck --quiet --std=c++20 --language=c++ -j"${JOBS:-2}" \
  --enable=warning,portability,performance \
  --inline-suppr --suppress=missingIncludeSystem \
  --suppressions-list=tools/cppcheck-suppressions.txt \
  -I . --error-exitcode=1 \
  --template='{file}:{line}: {severity} [{id}] {message}' \
  core/ net/ storage/ actors/ app/ config/
echo "static analysis: no findings"
