#!/usr/bin/env bash
# Stop the test cluster started by .ci/slurm/setup.sh: cancel its jobs, then stop slurmd,
# slurmctld and munged by the PIDs recorded in $SLURM_CI_BASE/pids (never by process name).
#   --purge   also delete $SLURM_CI_BASE (state, logs) and the /etc/slurm files setup.sh wrote;
#             installed packages stay.
set -uo pipefail

BASE=${SLURM_CI_BASE:-/tmp/slurm-ci}
PIDS=$BASE/pids

log() { echo "[slurm-teardown] $*"; }

# alive PIDFILE EXE: the recorded PID runs that program (not a zombie, not a reused PID)
alive() {
    local pid exe
    pid=$(cat "$1" 2>/dev/null) || return 1
    [ -n "$pid" ] && [ -d "/proc/$pid" ] || return 1
    [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ] || return 1
    exe=$(basename "$(readlink -f "/proc/$pid/exe" 2>/dev/null)")
    [ "$exe" = "$2" ] || [ "$exe" = "$2-wlm" ]
}

if alive "$PIDS/slurmctld.pid" slurmctld; then
    jobs=$(squeue -h -t pending,running,completing -o %i 2>/dev/null | tr '\n' ' ')
    if [ -n "${jobs// /}" ]; then
        log "cancelling jobs $jobs"
        # shellcheck disable=SC2086  # one argument per job id
        scancel $jobs 2>/dev/null
        for _ in $(seq 1 50); do
            [ -z "$(squeue -h -t running,completing -o %i 2>/dev/null)" ] && break
            sleep 0.2
        done
    fi
fi

stop() {
    local name=$1 pidfile=$PIDS/$1.pid pid
    if ! alive "$pidfile" "$name"; then
        rm -f "$pidfile"
        return 0
    fi
    pid=$(cat "$pidfile")
    kill -TERM "$pid"
    for _ in $(seq 1 150); do alive "$pidfile" "$name" || break; sleep 0.1; done
    if alive "$pidfile" "$name"; then
        log "$name (pid $pid) ignored TERM for 15 s: KILL"
        kill -KILL "$pid" 2>/dev/null
    fi
    log "stopped $name (pid $pid)"
    rm -f "$pidfile"
}

stop slurmd
stop slurmctld
stop munged

if [ "${1:-}" = "--purge" ]; then
    rm -rf "$BASE"
    for f in /etc/slurm/slurm.conf /etc/slurm/gres.conf; do
        grep -qF "# Written by .ci/slurm/setup.sh" "$f" 2>/dev/null && rm -f "$f"
    done
    log "removed $BASE and the config setup.sh wrote"
fi
exit 0
