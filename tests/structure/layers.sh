#!/usr/bin/env bash
# The source tree's layers (src/README.md): no file includes a header of a
# higher layer, no include cycle between modules -- and the checker itself
# catches both on a small tree made to break them.
set -u
top=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
exec python3 "$top/tests/structure/layers.py" "$top"
