#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine with Rust: installs what the tests need
# (PostgreSQL 15 + PostGIS 3 through scripts/dev-db.sh, cargo-nextest when missing), starts the
# private PostGIS cluster unless DATABASE_URL is set, and runs every test against it.
#
#   scripts/test.sh                 # everything
#   scripts/test.sh -E 'test(import)'   # extra arguments go to cargo nextest
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export DATABASE_URL="${DATABASE_URL:-$(scripts/dev-db.sh start | tail -n 1)}"
echo "test database server: $DATABASE_URL" >&2

if ! cargo nextest --version >/dev/null 2>&1; then
  echo "installing cargo-nextest" >&2
  cargo install --locked cargo-nextest
fi

# Tests read ../shared/testdata when it is there (CI has it); they need a real PostGIS always.
cargo nextest run --workspace --no-fail-fast "$@"
