#!/usr/bin/env bash
# Bring up a real single-node SLURM cluster (munged, slurmctld, slurmd from Debian's packages)
# on this machine, as root, without systemd, for tests/integration/test_slurm.py.
#
#   .ci/slurm/setup.sh          install packages if missing, write the config, start the daemons,
#                               wait until the node is idle; idempotent (running daemons are kept)
#   .ci/slurm/teardown.sh       stop the daemons by their recorded PIDs
#
# The cluster has one node with this machine's CPUs, 90% of its memory and one FAKE GPU
# (Gres=gpu:1, File=/dev/null) so that `sbatch --gpus=1` (what Snakemake's SLURM plugin submits
# for `resources: gpu=1`) is accepted and scheduled; TensorFlow in the job still runs on the CPU.
# No slurmdbd: `sacct` does not work, so Snakemake must poll with `--slurm-status-command squeue`
# (MinJobAge=300 keeps finished jobs visible to squeue and `scontrol show job`).
# The config goes to /etc/slurm (SLURM_CONF elsewhere does not work: the plugin's job step drops
# every SLURM_* variable before it calls srun inside the job); a config this script did not write
# is never overwritten.
#
# Exit status: 0 ready; 2 not root; 3 cannot run here (packages missing and apt-get could not
# install them, or /etc/slurm holds another cluster's config); 1 anything else (a daemon did not
# start: see the logs named in the message).
#
# Environment: SLURM_CI_BASE (default /tmp/slurm-ci), SLURM_CI_PARTITION (default debug),
# SLURM_CI_TIMEOUT seconds to wait for each daemon and the node (default 60).
set -euo pipefail

BASE=${SLURM_CI_BASE:-/tmp/slurm-ci}
PARTITION=${SLURM_CI_PARTITION:-debug}
TIMEOUT=${SLURM_CI_TIMEOUT:-60}
PIDS=$BASE/pids
LOGS=$BASE/log
CONF_DIR=/etc/slurm
MARKER="# Written by .ci/slurm/setup.sh"
START=$SECONDS

log() { echo "[slurm-setup $((SECONDS - START))s] $*"; }
die() { echo "[slurm-setup] ERROR: $1" >&2; exit "${2:-1}"; }

[ "$(id -u)" = 0 ] || die "must run as root (starts slurmctld/slurmd/munged)" 2

# running PIDFILE EXE: the recorded PID is alive, not a zombie, and is that program
# (Debian's /usr/sbin/slurmctld and slurmd are alternatives for slurmctld-wlm / slurmd-wlm).
running() {
    local pid exe
    pid=$(cat "$1" 2>/dev/null) || return 1
    [ -n "$pid" ] && [ -d "/proc/$pid" ] || return 1
    [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ] || return 1
    exe=$(basename "$(readlink -f "/proc/$pid/exe" 2>/dev/null)")
    [ "$exe" = "$2" ] || [ "$exe" = "$2-wlm" ]
}

# wait_until SECONDS WHAT COMMAND...: poll COMMAND until it succeeds
wait_until() {
    local deadline=$((SECONDS + $1)) what=$2
    shift 2
    until "$@" >/dev/null 2>&1; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.2
    done
    log "$what ready"
}

mkdir -p "$PIDS" "$LOGS" "$BASE/spool/slurmctld" "$BASE/spool/slurmd"

# --- packages ----------------------------------------------------------------------------
PACKAGES=(munge slurmctld slurmd slurm-client)
missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    command -v apt-get >/dev/null || die "packages ${missing[*]} missing and there is no apt-get" 3
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # The packages' postinst scripts may try to start services; without systemd that fails
    # harmlessly. The daemons are started by hand below.
    apt-get update -qq >"$LOGS/apt.log" 2>&1 || die "apt-get update failed, see $LOGS/apt.log" 3
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$LOGS/apt.log" 2>&1 \
        || die "apt-get install ${missing[*]} failed, see $LOGS/apt.log" 3
    log "packages installed"
fi

# --- configuration -----------------------------------------------------------------------
mkdir -p "$CONF_DIR"
if [ -s "$CONF_DIR/slurm.conf" ] && ! grep -qF "$MARKER" "$CONF_DIR/slurm.conf"; then
    die "$CONF_DIR/slurm.conf was not written by this script (a real cluster's config?): not touching it" 3
fi
NODE=$(hostname -s)
HARDWARE=$(slurmd -C | head -n 1)
CPUS=$(sed -n 's/.* CPUs=\([0-9]*\).*/\1/p' <<<"$HARDWARE")
MEMORY=$(sed -n 's/.* RealMemory=\([0-9]*\).*/\1/p' <<<"$HARDWARE")
# Configured memory must not exceed what slurmd reports, or the node is drained.
MEMORY=$((MEMORY * 90 / 100))
[ -n "$CPUS" ] && [ "$MEMORY" -gt 0 ] || die "could not read CPUs/memory from 'slurmd -C': $HARDWARE"

cat >"$CONF_DIR/slurm.conf.new" <<EOF
$MARKER: single-node test cluster, one fake GPU, no accounting.
ClusterName=ci
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
ReturnToService=2
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
# Finished jobs stay visible to squeue/scontrol for 5 minutes. Snakemake's plugin only polls
# with squeue when MinJobAge >= 3 x --slurm-init-seconds-before-status-checks.
MinJobAge=300
DefMemPerCPU=1000
GresTypes=gpu
SlurmctldPidFile=$PIDS/slurmctld.pid
SlurmdPidFile=$PIDS/slurmd.pid
StateSaveLocation=$BASE/spool/slurmctld
SlurmdSpoolDir=$BASE/spool/slurmd
SlurmctldLogFile=$LOGS/slurmctld.log
SlurmdLogFile=$LOGS/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEMORY Gres=gpu:1 State=UNKNOWN
PartitionName=$PARTITION Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
# File= is required: a GRES without a device file leaves the node INVAL ("count reported lower
# than configured"). /dev/null stands in for /dev/nvidia0.
printf '%s\nNodeName=%s Name=gpu File=/dev/null\n' "$MARKER" "$NODE" >"$CONF_DIR/gres.conf.new"
CHANGED=0
for f in slurm.conf gres.conf; do
    if ! cmp -s "$CONF_DIR/$f.new" "$CONF_DIR/$f"; then
        mv "$CONF_DIR/$f.new" "$CONF_DIR/$f"
        CHANGED=1
    else
        rm -f "$CONF_DIR/$f.new"
    fi
done
chmod 644 "$CONF_DIR/slurm.conf" "$CONF_DIR/gres.conf"
log "config $CONF_DIR/slurm.conf (node $NODE, $CPUS CPUs, ${MEMORY} MB, 1 fake GPU, changed=$CHANGED)"

# --- munge -------------------------------------------------------------------------------
if [ ! -s /etc/munge/munge.key ]; then
    mungekey --create --keyfile=/etc/munge/munge.key
    chown munge:munge /etc/munge/munge.key
    chmod 400 /etc/munge/munge.key
fi
install -d -o munge -g munge -m 0755 /run/munge
install -d -o munge -g munge -m 0700 "$BASE/munge"
if running "$PIDS/munged.pid" munged; then
    log "munged already running (pid $(cat "$PIDS/munged.pid"))"
else
    rm -f "$BASE/munge/munged.pid"
    setpriv --reuid=munge --regid=munge --init-groups \
        /usr/sbin/munged --pid-file="$BASE/munge/munged.pid" --log-file="$BASE/munge/munged.log"
    wait_until "$TIMEOUT" munged test -s "$BASE/munge/munged.pid" \
        || die "munged did not start, see $BASE/munge/munged.log"
    cp "$BASE/munge/munged.pid" "$PIDS/munged.pid"
    wait_until "$TIMEOUT" "munge round trip" sh -c 'munge -n | unmunge' || die "munge -n | unmunge fails"
fi

# --- slurmctld, slurmd -------------------------------------------------------------------
stop_pid() {
    local pid
    pid=$(cat "$1")
    kill -TERM "$pid"
    for _ in $(seq 1 100); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
}
for daemon in slurmctld slurmd; do
    if [ "$CHANGED" = 1 ] && running "$PIDS/$daemon.pid" "$daemon"; then
        log "config changed: restarting $daemon"
        stop_pid "$PIDS/$daemon.pid"
    fi
done
if running "$PIDS/slurmctld.pid" slurmctld; then
    log "slurmctld already running (pid $(cat "$PIDS/slurmctld.pid"))"
else
    rm -f "$PIDS/slurmctld.pid"
    /usr/sbin/slurmctld # daemonizes and writes its PID file
    wait_until "$TIMEOUT" slurmctld scontrol ping || die "slurmctld does not answer, see $LOGS/slurmctld.log"
fi
if running "$PIDS/slurmd.pid" slurmd; then
    log "slurmd already running (pid $(cat "$PIDS/slurmd.pid"))"
else
    rm -f "$PIDS/slurmd.pid"
    /usr/sbin/slurmd
    wait_until "$TIMEOUT" slurmd test -s "$PIDS/slurmd.pid" || die "slurmd did not start, see $LOGS/slurmd.log"
fi

# --- wait for the node -------------------------------------------------------------------
deadline=$((SECONDS + TIMEOUT))
while true; do
    state=$(sinfo -h -n "$NODE" -o %T 2>/dev/null || true)
    case "$state" in
        idle | mixed | allocated | completing) break ;;
        # left over from an earlier config (for example another GRES count): bring it back
        *drain* | *down* | *inval* | *fail*) scontrol update nodename="$NODE" state=resume >/dev/null 2>&1 || true ;;
    esac
    if [ "$SECONDS" -ge "$deadline" ]; then
        scontrol show node "$NODE" || true
        tail -n 20 "$LOGS/slurmctld.log" "$LOGS/slurmd.log" || true
        die "node $NODE not usable after ${TIMEOUT}s (state '$state')"
    fi
    sleep 0.5
done
log "cluster ready: $(sinfo -h -o '%P %a %D %T %N %G')"
for f in "$PIDS"/*.pid; do log "  $(basename "$f" .pid) pid $(cat "$f")"; done
