#!/bin/bash -eu
# OSS-Fuzz build script (projects/imgprobe/build.sh in google/oss-fuzz): the
# real one lives in the repository, so that it changes with the harnesses.
exec "$SRC/imgprobe/fuzz/build.sh"
