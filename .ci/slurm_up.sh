#!/usr/bin/env bash
# Bring up a single-node SLURM on this machine for the cluster tests
# (tests/workflow/test_slurm_cluster.py): Debian's slurm-wlm, munge, slurmdbd and MariaDB,
# started by hand, as root, without systemd.
#
# Two clusters share the node, each with a `cpu` and a `gpu` partition (the node has no GPU gres):
#   ci      /etc/slurm/slurm.conf          accounting through slurmdbd + MariaDB (sacct works);
#                                          account `ci` for root (and the sudo user),
#                                          associations enforced
#   noacct  /etc/slurm/noacct/slurm.conf   no accounting storage (`sacct` answers "Slurm
#                                          accounting storage is disabled"); use it with
#                                          SLURM_CONF=/etc/slurm/noacct/slurm.conf
# Every daemon's PID is recorded under $MMGRID_SLURM_STATE/pids; .ci/slurm_down.sh stops them.
# Idempotent: installed packages are not reinstalled, a running cluster is left as it is.
set -euo pipefail

source "$(dirname "$0")/slurm_pids.sh"  # STATE, PIDS, alive
LOGS=$STATE/logs
HOST=$(hostname -s)
CPUS=$(nproc)
# The node advertises at least 16 GB (a job asks up to 8 GB, a group the sum of two jobs); memory
# is not a consumable resource here, and slurmd takes the configured size as given.
MEMORY_MB=$(awk '/MemTotal/ {m = int($2 / 1024); print (m > 16384 ? m : 16384)}' /proc/meminfo)
PACKAGES=(slurmctld slurmd slurm-client slurmdbd munge mariadb-server)
ACCOUNT=ci

say() { echo "slurm_up: $*"; }

if [[ $EUID -ne 0 ]]; then
    echo "slurm_up: run as root (it installs packages and starts daemons)" >&2
    exit 1
fi

install_packages() {
    local missing=() p
    for p in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
    done
    ((${#missing[@]})) || return 0
    say "installing ${missing[*]}"
    # keep the packages' scripts from starting daemons: this script starts them itself
    local policy=/usr/sbin/policy-rc.d created=""
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created=1
    fi
    export DEBIAN_FRONTEND=noninteractive
    local apt=(apt-get install -y -qq --no-install-recommends -o Dpkg::Use-Pty=0 "${missing[@]}")
    "${apt[@]}" >"$LOGS/apt.log" 2>&1 || { apt-get update -qq >>"$LOGS/apt.log" 2>&1 && "${apt[@]}" >>"$LOGS/apt.log" 2>&1; } || {
        [[ -z $created ]] || rm -f "$policy"
        tail -20 "$LOGS/apt.log" >&2
        return 1
    }
    [[ -z $created ]] || rm -f "$policy"
}

# start NAME COMMAND...: run a daemon in the foreground of a new session, record its PID
start() {
    local name=$1
    shift
    setsid "$@" >"$LOGS/$name.out" 2>&1 </dev/null &
    echo $! >"$PIDS/$name"
}

# wait_for WHAT COMMAND...: retry COMMAND for up to 60 s
wait_for() {
    local what=$1 i
    shift
    for i in $(seq 600); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.1
    done
    echo "slurm_up: $what did not come up; logs in $LOGS" >&2
    tail -20 "$LOGS"/*.out "$LOGS"/*.log 2>/dev/null >&2 || true
    return 1
}

start_munge() {
    alive munged && return 0
    [[ -s /etc/munge/munge.key ]] || mungekey --create --keyfile=/etc/munge/munge.key
    chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
    install -d -o munge -g munge -m 755 /run/munge
    install -d -o munge -g munge -m 700 /var/lib/munge /var/log/munge
    start munged setpriv --reuid=munge --regid=munge --init-groups /usr/sbin/munged --foreground
    wait_for munge munge -n
}

start_mariadb() {
    alive mariadb && return 0
    [[ -d /var/lib/mysql/mysql ]] ||
        mariadb-install-db --user=mysql --datadir=/var/lib/mysql --skip-test-db >"$LOGS/mariadb-install.log" 2>&1
    install -d -o mysql -g mysql /run/mysqld
    start mariadb /usr/sbin/mariadbd --user=mysql --datadir=/var/lib/mysql --skip-networking \
        --socket=/run/mysqld/mysqld.sock --innodb-buffer-pool-size=64M --log-error="$LOGS/mariadb.log"
    wait_for MariaDB mariadb-admin --socket=/run/mysqld/mysqld.sock ping
    # slurmdbd runs as root and reaches MariaDB's root account through the socket (no password)
    mariadb --socket=/run/mysqld/mysqld.sock -e "CREATE DATABASE IF NOT EXISTS slurm_acct_db"
}

# cluster_conf NAME PORT SETTING...: a cluster's slurm.conf (slurmctld on PORT, slurmd on PORT + 1)
cluster_conf() {
    local name=$1 port=$2
    shift 2
    cat <<EOF
# single-node CI cluster $name (written by .ci/slurm_up.sh)
ClusterName=$name
SlurmctldHost=$HOST
SlurmctldPort=$port
SlurmdPort=$((port + 1))
StateSaveLocation=$STATE/$name/ctld
SlurmdSpoolDir=$STATE/$name/slurmd
SlurmctldPidFile=$STATE/$name/slurmctld.pid
SlurmdPidFile=$STATE/$name/slurmd.pid
SlurmctldLogFile=$LOGS/slurmctld-$name.log
SlurmdLogFile=$LOGS/slurmd-$name.log
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmdParameters=config_overrides
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
InactiveLimit=0
KillWait=5
MinJobAge=300
SlurmdTimeout=60
EOF
    printf '%s\n' "$@"
    cat <<EOF
NodeName=$HOST CPUs=$CPUS RealMemory=$MEMORY_MB State=UNKNOWN
PartitionName=cpu Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
PartitionName=gpu Nodes=$HOST MaxTime=INFINITE State=UP
EOF
}

write_configs() {
    mkdir -p /etc/slurm/noacct "$STATE"/{ci,noacct}/{ctld,slurmd}
    cluster_conf ci 6817 AccountingStorageType=accounting_storage/slurmdbd \
        AccountingStorageHost=localhost AccountingStorageEnforce=associations >/etc/slurm/slurm.conf
    cluster_conf noacct 6827 AccountingStorageType=accounting_storage/none \
        >/etc/slurm/noacct/slurm.conf
    cat >/etc/slurm/slurmdbd.conf <<EOF
# accounting daemon of the CI cluster (written by .ci/slurm_up.sh)
AuthType=auth/munge
DbdHost=localhost
SlurmUser=root
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=root
StorageLoc=slurm_acct_db
PidFile=$STATE/slurmdbd.pid
LogFile=$LOGS/slurmdbd.log
EOF
    chmod 600 /etc/slurm/slurmdbd.conf
}

start_slurmdbd() {
    alive slurmdbd && return 0
    start slurmdbd /usr/sbin/slurmdbd -D
    wait_for slurmdbd sacctmgr -n list cluster
    sacctmgr -i add cluster ci >/dev/null 2>&1 || true
    sacctmgr -i add account "$ACCOUNT" Cluster=ci Description=ci Organization=ci >/dev/null 2>&1 || true
    local user
    for user in root ${SUDO_USER:-}; do
        sacctmgr -i add user "$user" Account="$ACCOUNT" DefaultAccount="$ACCOUNT" Cluster=ci >/dev/null 2>&1 || true
    done
}

# start_cluster NAME CONF: slurmctld (fresh state: no jobs of an earlier run), then slurmd
start_cluster() {
    local name=$1 conf=$2
    if ! alive "slurmctld-$name"; then
        rm -rf "${STATE:?}/$name/ctld/"*
        start "slurmctld-$name" /usr/sbin/slurmctld -D -f "$conf"
        wait_for "slurmctld ($name)" env SLURM_CONF="$conf" scontrol ping
    fi
    if ! alive "slurmd-$name"; then
        # Inside a job, the plugin runs `srun` with SLURM_CONF removed from the environment, so
        # srun reads the default file: the node daemon and its jobs see this cluster's config there
        # (a private mount namespace; the first cluster's config is the default file anyway).
        start "slurmd-$name" unshare --mount sh -c \
            "mount --bind $conf /etc/slurm/slurm.conf && exec /usr/sbin/slurmd -D -f $conf"
    fi
    wait_for "the node of $name" bash -c \
        "SLURM_CONF=$conf sinfo -h -n $HOST -p cpu -o %T | grep -qx idle"
}

mkdir -p "$PIDS" "$LOGS"
started=$SECONDS
install_packages
write_configs
start_munge
start_mariadb
start_slurmdbd
start_cluster ci /etc/slurm/slurm.conf
start_cluster noacct /etc/slurm/noacct/slurm.conf
say "up in $((SECONDS - started)) s: clusters ci (accounting, account $ACCOUNT) and noacct; PIDs in $PIDS"
sinfo
