#!/usr/bin/env bash
# The main job: installs everything, builds OmenDB and runs the demo (build a collection from
# generated embedding-like data, search it, print recall and throughput).
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
install_omendb
python -m omendb.demo "$@"
