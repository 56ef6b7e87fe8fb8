# shellcheck shell=bash
# The daemons of .ci/slurm_up.sh by their recorded PIDs (sourced by slurm_up.sh and slurm_down.sh).
# $PIDS/NAME holds the PID of daemon NAME. A PID counts only while its process is still that
# daemon's program: after a reboot, or once the daemon has died, the number may belong to any
# other process, which must not be mistaken for the daemon or stopped.
STATE=${MMGRID_SLURM_STATE:-/var/lib/mmgrid-slurm}
PIDS=$STATE/pids

# daemon_pid NAME: print the PID of daemon NAME while it runs; fail otherwise
daemon_pid() {
    local pid program
    [[ -s $PIDS/$1 ]] || return 1
    pid=$(<"$PIDS/$1")
    case $1 in
    mariadb) program=mariadbd ;;
    slurmctld-*) program=slurmctld ;;
    slurmd-*) program=slurmd ;;
    *) program=$1 ;;
    esac
    [[ $pid =~ ^[0-9]+$ && $(cat "/proc/$pid/comm" 2>/dev/null) == "$program" ]] && echo "$pid"
}

alive() { daemon_pid "$1" >/dev/null; }
