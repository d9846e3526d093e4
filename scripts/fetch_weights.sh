#!/usr/bin/env bash
# Downloads torchvision's ImageNet weights into torchvision's own cache, where ftbench (weights =
# "torchvision") and torchvision both find them. For a login node with internet: ftbench itself never
# downloads, and compute nodes usually cannot. Each file's sha256 must start with the hash prefix in its
# name (resnet18-f37072fd.pth -> f37072fd), as torch.hub checks.
set -euo pipefail

BASE_URL="https://download.pytorch.org/models"

# model  file: torchvision's IMAGENET1K_V1 weights. tests/weights checks this table against ftbench's
# model registry and against torchvision itself.
TABLE="
alexnet            alexnet-owt-7be5be79.pth
vgg11              vgg11-8a719046.pth
vgg11_bn           vgg11_bn-6002323d.pth
vgg13              vgg13-19584684.pth
vgg13_bn           vgg13_bn-abd245e5.pth
vgg16              vgg16-397923af.pth
vgg16_bn           vgg16_bn-6c64b313.pth
vgg19              vgg19-dcbb9e9d.pth
vgg19_bn           vgg19_bn-c79401a0.pth
resnet18           resnet18-f37072fd.pth
resnet34           resnet34-b627a593.pth
resnet50           resnet50-0676ba61.pth
resnet101          resnet101-63fe2227.pth
resnet152          resnet152-394f9c45.pth
wide_resnet50_2    wide_resnet50_2-95faca4d.pth
resnext50_32x4d    resnext50_32x4d-7cdf4587.pth
inception_v3       inception_v3_google-0cc3c7bd.pth
googlenet          googlenet-1378be20.pth
densenet121        densenet121-a639ec97.pth
densenet161        densenet161-8d451a50.pth
densenet169        densenet169-b2777c0a.pth
densenet201        densenet201-c1103571.pth
mobilenet_v2       mobilenet_v2-b0353104.pth
mobilenet_v3_small mobilenet_v3_small-047dcff4.pth
mobilenet_v3_large mobilenet_v3_large-8738ca79.pth
squeezenet1_0      squeezenet1_0-b66bff10.pth
squeezenet1_1      squeezenet1_1-b8a52dc0.pth
shufflenet_v2_x1_0 shufflenetv2_x1-5666bf0f80.pth
mnasnet1_0         mnasnet1.0_top1_73.512-f206786ef8.pth
efficientnet_b0    efficientnet_b0_rwightman-7f5810bc.pth
efficientnet_b1    efficientnet_b1_rwightman-bac287d4.pth
efficientnet_b2    efficientnet_b2_rwightman-c35c1473.pth
efficientnet_b3    efficientnet_b3_rwightman-b3899882.pth
regnet_y_400mf     regnet_y_400mf-c65dace8.pth
regnet_y_800mf     regnet_y_800mf-1b27b58c.pth
convnext_tiny      convnext_tiny-983f1562.pth
swin_t             swin_t-704ceda3.pth
vit_b_16           vit_b_16-c867db91.pth
"

die() { echo "fetch_weights.sh: error: $*" >&2; exit 1; }
say() { echo "fetch_weights.sh: $*"; }

# torchvision's cache: $TORCH_HOME/hub/checkpoints, TORCH_HOME defaulting to $XDG_CACHE_HOME/torch or
# ~/.cache/torch (what torch.hub.get_dir() returns).
cache_dir() { echo "${TORCH_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/torch}/hub/checkpoints"; }

usage() {
  cat <<USAGE
Usage: scripts/fetch_weights.sh MODEL...
       scripts/fetch_weights.sh --list

Downloads torchvision's ImageNet weights for each MODEL (e.g. resnet18 vgg16) from
  ${BASE_URL}/
into torchvision's cache, $(cache_dir)
(set TORCH_HOME to choose another place), and checks that each file's sha256 starts with the hash in its
name. Files already there with the right hash are not downloaded again.

Then use them with  weights = "torchvision"  in an experiment. To take them to a cluster without
internet, copy the files into the same directory there, or into a directory named by [weights] dir.

--list prints the table: model, file, URL.
USAGE
}

file_for() { awk -v m="$1" '$1 == m { print $2 }' <<<"$TABLE"; }

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d' ' -f1
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 "$1" | cut -d' ' -f1
  else
    die "neither sha256sum nor shasum is installed; install coreutils"
  fi
}

# The hex digits between the last '-' and the following '.', as torch.hub reads them.
hash_prefix() {
  local base="${1##*-}"
  echo "${base%%.*}"
}

hash_ok() { [[ "$(sha256_of "$1")" == "$(hash_prefix "$(basename "$2")")"* ]]; }

download() {
  local url="$1" out="$2"
  if command -v curl >/dev/null 2>&1; then
    curl --fail --location --retry 3 --output "$out" "$url"
  elif command -v wget >/dev/null 2>&1; then
    wget --tries=3 --output-document="$out" "$url"
  else
    die "neither curl nor wget is installed; install one, or download $url by hand into $(cache_dir)/"
  fi
}

[[ $# -gt 0 ]] || { usage >&2; exit 2; }
case "$1" in
  -h|--help) usage; exit 0 ;;
  --list)
    awk -v base="$BASE_URL" 'NF == 2 { print $1, $2, base "/" $2 }' <<<"$TABLE"
    exit 0 ;;
  -*) usage >&2; die "unknown option '$1'" ;;
esac

# Check every name first, so that a typo fails before any download.
for model in "$@"; do
  [[ -n "$(file_for "$model")" ]] ||
    die "unknown model '$model'; known: $(awk 'NF == 2 { printf "%s ", $1 }' <<<"$TABLE")"
done

dir="$(cache_dir)"
mkdir -p "$dir" || die "cannot create $dir"
for model in "$@"; do
  file="$(file_for "$model")"
  dest="$dir/$file"
  if [[ -f "$dest" ]] && hash_ok "$dest" "$file"; then
    say "$model: $dest is present with the right hash; not downloading again"
    continue
  fi
  say "$model: downloading $BASE_URL/$file"
  partial="$dest.part"
  download "$BASE_URL/$file" "$partial" ||
    { rm -f "$partial"; die "download of $BASE_URL/$file failed; check the network or proxy"; }
  hash_ok "$partial" "$file" ||
    { rm -f "$partial"; die "$file: sha256 does not start with $(hash_prefix "$file"); the download is corrupt, try again"; }
  # Renamed only once complete and verified, so a broken download is never mistaken for the file.
  mv -f "$partial" "$dest"
  say "$model: $dest (sha256 ok)"
done
