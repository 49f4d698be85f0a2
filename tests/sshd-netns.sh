#!/usr/bin/env bash
# For the test of bench/run --rcmd ssh: an sshd in each of bench/netns-hosts' namespaces,
# listening on that host's address only, with a host key and a client key made here. Nothing
# outside DIR changes: the client's configuration is DIR/ssh_config, passed to pdsh's ssh module
# by PDSH_SSH_ARGS (printed by "up").
#
#   tests/sshd-netns.sh up DIR PREFIX CLIENTS    prints PDSH_SSH_ARGS's value
#   tests/sshd-netns.sh down DIR                 stops every sshd started in DIR
set -euo pipefail

die() {
    echo "sshd-netns: $*" >&2
    exit 1
}

case ${1:-} in
up)
    (($# == 4)) || die "usage: $0 up DIR PREFIX CLIENTS"
    dir=$2 prefix=$3 clients=$4
    [[ -x /usr/sbin/sshd ]] || die "no /usr/sbin/sshd (apt-get install openssh-server)"
    mkdir -p "$dir" /run/sshd
    rm -f "$dir/host" "$dir/host.pub" "$dir/id" "$dir/id.pub"
    ssh-keygen -q -t ed25519 -N '' -C cb-host -f "$dir/host" || die "ssh-keygen failed"
    ssh-keygen -q -t ed25519 -N '' -C cb-client -f "$dir/id" || die "ssh-keygen failed"
    cp "$dir/id.pub" "$dir/authorized_keys"
    cat >"$dir/ssh_config" <<EOF
Host *
    IdentityFile $dir/id
    IdentitiesOnly yes
    BatchMode yes
    StrictHostKeyChecking no
    UserKnownHostsFile /dev/null
    ConnectTimeout 10
    LogLevel ERROR
EOF
    hosts=("$prefix-srv:10.77.0.1")
    for ((i = 1; i <= clients; i++)); do hosts+=("$prefix-c$i:10.77.$i.2"); done
    for h in "${hosts[@]}"; do
        ns=${h%%:*} addr=${h#*:}
        ip netns exec "$ns" /usr/sbin/sshd -f /dev/null -h "$dir/host" \
            -o ListenAddress="$addr" -o PidFile="$dir/$ns.pid" \
            -o AuthorizedKeysFile="$dir/authorized_keys" -o StrictModes=no \
            -o PermitRootLogin=prohibit-password -o PasswordAuthentication=no ||
            die "sshd did not start in $ns"
    done
    echo "-F $dir/ssh_config -l%u %h"
    ;;
down)
    (($# == 2)) || die "usage: $0 down DIR"
    shopt -s nullglob
    for f in "$2"/*.pid; do
        kill -TERM "$(cat "$f")" 2>/dev/null || true
        rm -f "$f"
    done
    ;;
*)
    die "usage: $0 up DIR PREFIX CLIENTS | down DIR"
    ;;
esac
