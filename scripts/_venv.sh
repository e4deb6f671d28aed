# Sourced by scripts/run and scripts/test: make .venv and install the package into it.
# $1 is the pip extra to install ("" for the service alone, "test" for the test tools).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
extra="${1:-}"
target="."
[ -n "$extra" ] && target=".[$extra]"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e "$target"
