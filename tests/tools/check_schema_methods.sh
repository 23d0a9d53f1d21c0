#!/bin/bash
# The daemon's method table (mfcd --list-methods) and the OpenRPC document
# must name exactly the same methods with the same access (x-access), and
# the document must be well-formed.
set -euo pipefail
mfcd=$1
schema=$2
here=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3
"$py" "$here/rpc_schema.py" check "$schema"
diff -u <("$py" "$here/rpc_schema.py" methods "$schema") <("$mfcd" --list-methods | sort) \
  && echo "schema and method table agree: $("$mfcd" --list-methods | wc -l) methods and their access"
