#!/usr/bin/env bash
# Stop the single-node SLURM of .ci/slurm_up.sh: cancel every job left on its two clusters, then
# stop each daemon by the PID the bring-up recorded (slurmd, slurmctld, slurmdbd, MariaDB, munge).
set -uo pipefail

source "$(dirname "$0")/slurm_pids.sh"  # STATE, PIDS, daemon_pid, alive
[[ -d $PIDS ]] || exit 0

for name in ci noacct; do
    conf=/etc/slurm/slurm.conf
    [[ $name == ci ]] || conf=/etc/slurm/$name/slurm.conf
    if alive "slurmctld-$name"; then
        jobs=$(SLURM_CONF=$conf timeout 20 squeue --noheader --format=%i 2>/dev/null || true)
        if [[ -n $jobs ]]; then
            echo "slurm_down: cancelling jobs of cluster $name:" $jobs
            # shellcheck disable=SC2086
            SLURM_CONF=$conf timeout 20 scancel --full $jobs || true
        fi
    fi
done

# stop NAME: SIGTERM, up to 30 s for a clean exit, then SIGKILL
stop() {
    local name=$1 pid i
    if pid=$(daemon_pid "$name"); then
        kill -TERM "$pid"
        for i in $(seq 300); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
        echo "slurm_down: stopped $name ($pid)"
    fi
    rm -f "$PIDS/$name"
}

for name in slurmd-noacct slurmd-ci slurmctld-noacct slurmctld-ci slurmdbd mariadb munged; do
    stop "$name"
done
