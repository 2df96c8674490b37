#!/usr/bin/env bash
# The docs-site example against the package of this commit: pack it, install the tarball
# offline (the package has no dependencies to fetch), type-check the site against the shipped
# types, build it, and run its Playwright test. `--packed` skips the package's build (prepack)
# when the tree was just built from this commit, as .ci/run does after `npm test`.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/../.."
pack=(npm pack --pack-destination "$here")
if [ "${1:-}" = "--packed" ]; then
  for f in dist/embed/iostack-scenario.js dist/node/iostack.js dist/pkg/playwright.js dist/_headers; do
    [ -f "$f" ] || { echo "ci.sh --packed: $f is missing: run 'npm run build' first" >&2; exit 2; }
  done
  pack+=(--ignore-scripts)
fi
rm -f "$here"/iostack-lab-*.tgz
"${pack[@]}"        # npm prints the tarball's contents and size
cd "$here"
rm -rf node_modules dist test-results
npm install --offline --no-save --no-package-lock --no-audit --no-fund ./iostack-lab-*.tgz
npm run check
npm run build
npm test
