#!/usr/bin/env bash
# Installs what the build, the tests and the benches need, when it can (root with apt-get);
# otherwise names the missing packages and fails. Called by make and by CI.
set -euo pipefail

# command-or-file to look for, and the Debian package that provides it
need=(
    "gcc:gcc"
    "make:make"
    "/usr/include/criterion/criterion.h:libcriterion-dev"
    "jq:jq"
    "gnuplot:gnuplot-nox"
    "/usr/include/liburing.h:liburing-dev"
    "/usr/include/st.h:libst-dev"
    "/usr/include/zlib.h:zlib1g-dev"
    "/usr/include/json-c/json.h:libjson-c-dev"
    "man:man-db"
    "col:bsdextrautils"
    "pdsh:pdsh"
    "ip:iproute2"
    "strace:strace"
    "nc:netcat-openbsd"
)
# What the tests use beyond the build: the bench tests drive nginx through wrk and hosts over
# ssh, the report test opens the page in headless chromium. `make test` installs them too,
# so that a user's run leaves out no test that CI runs.
test_need=("wrk:wrk" "nginx:nginx-light" "/usr/sbin/sshd:openssh-server" "chromium:chromium")
case "${1:-}" in
--bench) need+=("wrk:wrk" "nginx:nginx-light" "/usr/bin/time:time" "ip:iproute2" "taskset:util-linux") ;;
--test) need+=("${test_need[@]}") ;;
--ci)
    need+=("${test_need[@]}" "clang-format:clang-format" "shellcheck:shellcheck" "clang:clang"
        "/usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a:libclang-rt-14-dev")
    ;;
"") ;;
*)
    echo "usage: ci/install-deps.sh [--bench|--test|--ci]" >&2
    exit 2
    ;;
esac

missing=()
for item in "${need[@]}"; do
    what=${item%%:*}
    pkg=${item#*:}
    if [[ "$what" == /* ]]; then
        [[ -e "$what" ]] || missing+=("$pkg")
    else
        command -v "$what" >/dev/null 2>&1 || [[ -x "/usr/sbin/$what" ]] || missing+=("$pkg")
    fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "installing: ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -q "${missing[@]}" >/dev/null; then
        apt-get update -q >/dev/null
        apt-get install -y -q "${missing[@]}" >/dev/null
    fi
    exit 0
fi
echo "missing packages: ${missing[*]}" >&2
echo "install them with: sudo apt-get install ${missing[*]}" >&2
exit 1
