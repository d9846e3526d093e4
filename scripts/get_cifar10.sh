#!/usr/bin/env bash
# Downloads the official CIFAR-10 binary archive, checks its MD5 and extracts cifar-10-batches-bin/.
# For a login node with internet; ftbench itself never touches the network (and can also read the .tar.gz
# directly, so extracting is a convenience).
set -euo pipefail

URL="https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
MD5="c32a1d4ab5d03f1284b67883e8d87530"
ARCHIVE_NAME="cifar-10-binary.tar.gz"
FILES=(data_batch_1.bin data_batch_2.bin data_batch_3.bin data_batch_4.bin data_batch_5.bin test_batch.bin)
RECORD_FILE_BYTES=30730000  # 10,000 records of 3,073 bytes

usage() {
  cat <<EOF
Usage: scripts/get_cifar10.sh [TARGET_DIR]

Downloads ${ARCHIVE_NAME} (~162 MB) from
  ${URL}
into TARGET_DIR (default: data/), checks its MD5 (${MD5}) and extracts
TARGET_DIR/cifar-10-batches-bin/. Safe to re-run: a present archive with the right MD5 is not downloaded
again, and a complete extracted directory is left alone.

Then point an experiment at it:
  [data]
  path = "TARGET_DIR/cifar-10-batches-bin"   # or TARGET_DIR/${ARCHIVE_NAME}

Without internet, use the synthetic stand-in instead: ftbench data synth --out DIR
EOF
}

die() { echo "get_cifar10.sh: error: $*" >&2; exit 1; }
say() { echo "get_cifar10.sh: $*"; }

case "${1:-}" in
  -h|--help) usage; exit 0 ;;
  -*) usage >&2; die "unknown option '$1'" ;;
esac
[[ $# -le 1 ]] || { usage >&2; die "expected at most one TARGET_DIR, got $# arguments"; }

target="${1:-data}"
archive="${target}/${ARCHIVE_NAME}"
batches="${target}/cifar-10-batches-bin"

md5_of() {
  if command -v md5sum >/dev/null 2>&1; then
    md5sum "$1" | cut -d' ' -f1
  elif command -v md5 >/dev/null 2>&1; then
    md5 -q "$1"
  else
    die "neither md5sum nor md5 is installed; install coreutils"
  fi
}

size_of() { wc -c <"$1" | tr -d ' '; }

extracted_ok() {
  local f
  for f in "${FILES[@]}"; do
    [[ -f "${batches}/${f}" && "$(size_of "${batches}/${f}")" == "${RECORD_FILE_BYTES}" ]] || return 1
  done
}

download() {
  local partial="${archive}.part"
  say "downloading ${URL}"
  if command -v curl >/dev/null 2>&1; then
    curl --fail --location --retry 3 --output "${partial}" "${URL}" ||
      { rm -f "${partial}"; die "download failed (curl); check the network or proxy, or fetch ${URL} by hand into ${target}/"; }
  elif command -v wget >/dev/null 2>&1; then
    wget --tries=3 --output-document="${partial}" "${URL}" ||
      { rm -f "${partial}"; die "download failed (wget); check the network or proxy, or fetch ${URL} by hand into ${target}/"; }
  else
    die "neither curl nor wget is installed; install one, or fetch ${URL} by hand into ${target}/"
  fi
  # Renamed only when complete, so an interrupted download is never mistaken for the archive.
  mv -f "${partial}" "${archive}"
}

mkdir -p "${target}" || die "cannot create ${target}/"

if extracted_ok; then
  say "${batches}/ is already complete; nothing to do"
  exit 0
fi

if [[ -f "${archive}" && "$(md5_of "${archive}")" == "${MD5}" ]]; then
  say "${archive} is present with the right MD5; not downloading again"
else
  [[ -f "${archive}" ]] && say "${archive} has the wrong MD5 (incomplete or corrupt); downloading it again"
  download
  actual="$(md5_of "${archive}")"
  [[ "${actual}" == "${MD5}" ]] ||
    die "${archive} has MD5 ${actual}, expected ${MD5}; the download is corrupt or the file changed upstream (delete it and re-run)"
  say "MD5 ok"
fi

say "extracting into ${batches}/"
# Extract into a scratch directory and move it into place, so an interrupted run leaves no half directory.
scratch="$(mktemp -d "${target}/.extract.XXXXXX")"
trap 'rm -rf "${scratch}"' EXIT
tar -xzf "${archive}" -C "${scratch}" || die "cannot extract ${archive}; delete it and re-run"
[[ -d "${scratch}/cifar-10-batches-bin" ]] || die "${archive} holds no cifar-10-batches-bin/; delete it and re-run"
rm -rf "${batches}"
mv "${scratch}/cifar-10-batches-bin" "${batches}"
extracted_ok || die "${batches}/ is incomplete after extraction; delete ${archive} and re-run"
say "done: ${batches}/ holds ${FILES[*]}"
