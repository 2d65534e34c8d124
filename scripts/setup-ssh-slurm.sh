#!/usr/bin/env bash
# A real SSH host and a real one-node SLURM cluster on loopback for the launch
# tests (test/launch/), following ../shared/notes/infra.md. Idempotent: daemons
# already running from an earlier call are kept. Everything listens on
# 127.0.0.1 only (sshd) or on unix sockets (munge); slurmctld and slurmd are
# bound to the address of this host's name (loopback here) by
# `CommunicationParameters=NoCtldInAddrAny,NoInAddrAny`; checked below.
#
# Writes $TUNELAB_INFRA_DIR/env (default /tmp/tunelab-infra/env): shell
# assignments the tests read (host, port, user, key, ssh config, SLURM_CONF).
# Run as root in CI; as another user it sets up what it can without root
# (its own sshd for the current user) and skips SLURM unless already running.
set -euo pipefail

INFRA_DIR="${TUNELAB_INFRA_DIR:-/tmp/tunelab-infra}"
SSH_PORT="${TUNELAB_SSH_PORT:-22922}"
SLURMCTLD_PORT="${TUNELAB_SLURMCTLD_PORT:-16817}"
SLURMD_PORT="${TUNELAB_SLURMD_PORT:-16818}"
ENV_FILE="$INFRA_DIR/env"
IS_ROOT=0
[ "$(id -u)" = 0 ] && IS_ROOT=1

log() { echo "setup-ssh-slurm: $*"; }

# ---------------------------------------------------------------- packages
need_packages=()
command -v sshd >/dev/null 2>&1 || [ -x /usr/sbin/sshd ] || need_packages+=(openssh-server)
command -v ssh >/dev/null 2>&1 || need_packages+=(openssh-client)
[ -x /usr/sbin/slurmctld ] || need_packages+=(slurmctld)
[ -x /usr/sbin/slurmd ] || need_packages+=(slurmd)
command -v sbatch >/dev/null 2>&1 || need_packages+=(slurm-client)
[ -x /usr/sbin/munged ] || need_packages+=(munge)
# The remote side runs the runner with Debian's python3, which needs PyYAML.
/usr/bin/python3 -c 'import yaml' >/dev/null 2>&1 || need_packages+=(python3-yaml)
if [ ${#need_packages[@]} -gt 0 ]; then
  if [ $IS_ROOT = 1 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing ${need_packages[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends "${need_packages[@]}" >/dev/null
    # Where systemd runs, the package starts sshd on every address: that one is ours, stop it.
    if [[ " ${need_packages[*]} " == *" openssh-server "* ]] && command -v systemctl >/dev/null 2>&1 &&
      systemctl is-active --quiet ssh 2>/dev/null; then
      systemctl disable --now ssh >/dev/null 2>&1 || true
    fi
  else
    log "missing ${need_packages[*]} and cannot install them (not root or no apt-get)"
  fi
fi

install -d -m 0755 "$INFRA_DIR"

# ---------------------------------------------------------------- ssh
if [ $IS_ROOT = 1 ]; then
  SSH_USER=tunelabtest
  if ! id "$SSH_USER" >/dev/null 2>&1; then
    useradd -m -s /bin/bash "$SSH_USER"
  fi
  # useradd leaves the account locked ('!'); sshd refuses locked accounts even for keys.
  usermod -p '*' "$SSH_USER"
else
  SSH_USER="$(id -un)"
fi
SSH_HOME="$(getent passwd "$SSH_USER" | cut -d: -f6)"

[ -f "$INFRA_DIR/client_key" ] || ssh-keygen -q -t ed25519 -N '' -C tunelab-test -f "$INFRA_DIR/client_key"
[ -f "$INFRA_DIR/host_key" ] || ssh-keygen -q -t ed25519 -N '' -C tunelab-host -f "$INFRA_DIR/host_key"
chmod 600 "$INFRA_DIR/client_key" "$INFRA_DIR/host_key"

install -d -m 0700 "$SSH_HOME/.ssh"
touch "$SSH_HOME/.ssh/authorized_keys"
grep -qF "$(cut -d' ' -f2 "$INFRA_DIR/client_key.pub")" "$SSH_HOME/.ssh/authorized_keys" ||
  cat "$INFRA_DIR/client_key.pub" >>"$SSH_HOME/.ssh/authorized_keys"
chmod 600 "$SSH_HOME/.ssh/authorized_keys"
[ $IS_ROOT = 1 ] && chown -R "$SSH_USER:" "$SSH_HOME/.ssh"

cat >"$INFRA_DIR/sshd_config" <<EOF
# Test sshd for Tunelab's launch tests: loopback only, keys only.
Port $SSH_PORT
ListenAddress 127.0.0.1
HostKey $INFRA_DIR/host_key
PidFile $INFRA_DIR/sshd.pid
AuthorizedKeysFile .ssh/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
AllowUsers $SSH_USER
UsePAM no
StrictModes no
MaxStartups 200
MaxSessions 100
SetEnv SLURM_CONF=$INFRA_DIR/slurm/slurm.conf
EOF

running() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

if running "$INFRA_DIR/sshd.pid"; then
  log "sshd already running on 127.0.0.1:$SSH_PORT"
else
  [ $IS_ROOT = 1 ] && install -d -m 0755 /run/sshd
  # -E needs an absolute path: a relative one breaks every connection (infra.md).
  /usr/sbin/sshd -f "$INFRA_DIR/sshd_config" -E "$INFRA_DIR/sshd.log"
  log "sshd started on 127.0.0.1:$SSH_PORT for $SSH_USER"
fi

echo "[127.0.0.1]:$SSH_PORT $(cut -d' ' -f1,2 "$INFRA_DIR/host_key.pub")" >"$INFRA_DIR/known_hosts"
cat >"$INFRA_DIR/ssh_config" <<EOF
# Passed to ssh with -F by the tests (TUNELAB_SSH_CONFIG): the alias below,
# this test host's key and nothing from the machine's own ssh configuration.
Host tunelab-test
  HostName 127.0.0.1
  Port $SSH_PORT
  User $SSH_USER
Host *
  IdentityFile $INFRA_DIR/client_key
  IdentitiesOnly yes
  UserKnownHostsFile $INFRA_DIR/known_hosts
  StrictHostKeyChecking yes
  ConnectTimeout 10
EOF

for _ in $(seq 50); do
  ssh -F "$INFRA_DIR/ssh_config" -o BatchMode=yes tunelab-test true 2>/dev/null && break
  sleep 0.1
done
ssh -F "$INFRA_DIR/ssh_config" -o BatchMode=yes tunelab-test true

# ---------------------------------------------------------------- slurm
SLURM_OK=0
SLURM_DIR="$INFRA_DIR/slurm"
if [ $IS_ROOT = 1 ] && [ -x /usr/sbin/slurmctld ] && [ -x /usr/sbin/munged ]; then
  install -d -o munge -g munge -m 0755 /run/munge
  install -d -o munge -g munge -m 0700 /var/lib/munge /var/log/munge /etc/munge
  [ -f /etc/munge/munge.key ] || {
    dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null
    chown munge: /etc/munge/munge.key
    chmod 400 /etc/munge/munge.key
  }
  if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    runuser -u munge -- /usr/sbin/munged
    for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
    log "munged started"
  fi

  install -d -m 0755 "$SLURM_DIR" "$SLURM_DIR/state" "$SLURM_DIR/spool"
  cat >"$SLURM_DIR/slurm.conf.new" <<EOF
# One-node test cluster for Tunelab's launch tests (notes/infra.md).
ClusterName=tunelab
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$SLURMCTLD_PORT
SlurmdPort=$SLURMD_PORT
CommunicationParameters=NoCtldInAddrAny,NoInAddrAny
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$SLURM_DIR/jobcomp.log
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
KillWait=10
MinJobAge=600
StateSaveLocation=$SLURM_DIR/state
SlurmdSpoolDir=$SLURM_DIR/spool
SlurmctldPidFile=$SLURM_DIR/slurmctld.pid
SlurmdPidFile=$SLURM_DIR/slurmd.pid
SlurmctldLogFile=$SLURM_DIR/slurmctld.log
SlurmdLogFile=$SLURM_DIR/slurmd.log
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=1000 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
  if ! cmp -s "$SLURM_DIR/slurm.conf.new" "$SLURM_DIR/slurm.conf" 2>/dev/null; then
    mv "$SLURM_DIR/slurm.conf.new" "$SLURM_DIR/slurm.conf"
    # A changed config needs fresh daemons.
    for pidfile in "$SLURM_DIR/slurmd.pid" "$SLURM_DIR/slurmctld.pid"; do
      if running "$pidfile"; then kill "$(cat "$pidfile")"; sleep 1; fi
    done
  else
    rm -f "$SLURM_DIR/slurm.conf.new"
  fi
  export SLURM_CONF="$SLURM_DIR/slurm.conf"
  if ! running "$SLURM_DIR/slurmctld.pid"; then
    /usr/sbin/slurmctld -f "$SLURM_CONF"
    log "slurmctld started"
  fi
  if ! running "$SLURM_DIR/slurmd.pid"; then
    /usr/sbin/slurmd -f "$SLURM_CONF" -N localhost
    log "slurmd started"
  fi
  for _ in $(seq 100); do
    state="$(sinfo -h -N -o %T 2>/dev/null || true)"
    case "$state" in idle* | mixed* | allocated*) SLURM_OK=1 && break ;; esac
    sleep 0.2
  done
  [ $SLURM_OK = 1 ] || { log "slurm node did not become idle: $(sinfo -N 2>&1 || true)"; exit 1; }
  log "slurm node idle"
elif [ -f "$SLURM_DIR/slurm.conf" ] && SLURM_CONF="$SLURM_DIR/slurm.conf" sinfo >/dev/null 2>&1; then
  SLURM_OK=1
else
  log "SLURM skipped (needs root)"
fi

# Nothing of ours may listen on a non-loopback address.
if command -v ss >/dev/null 2>&1; then
  bad="$(ss -ltnH | awk -v a=":$SSH_PORT" -v b=":$SLURMCTLD_PORT" -v c=":$SLURMD_PORT" \
    '($4 ~ a"$" || $4 ~ b"$" || $4 ~ c"$") && $4 !~ /^127\.0\.0\.1:/' || true)"
  if [ -n "$bad" ]; then
    log "refusing: a test daemon listens beyond loopback: $bad"
    exit 1
  fi
fi

{
  echo "# Written by scripts/setup-ssh-slurm.sh; read by test/launch/infra.ts."
  echo "TUNELAB_SSH_HOST=127.0.0.1"
  echo "TUNELAB_SSH_PORT=$SSH_PORT"
  echo "TUNELAB_SSH_USER=$SSH_USER"
  echo "TUNELAB_SSH_KEY=$INFRA_DIR/client_key"
  echo "TUNELAB_SSH_KNOWN_HOSTS=$INFRA_DIR/known_hosts"
  echo "TUNELAB_SSH_CONFIG=$INFRA_DIR/ssh_config"
  echo "TUNELAB_SSH_ALIAS=tunelab-test"
  echo "TUNELAB_SSH_PYTHON=/usr/bin/python3"
  if [ $SLURM_OK = 1 ]; then
    echo "SLURM_CONF=$SLURM_DIR/slurm.conf"
    echo "TUNELAB_SLURM_PARTITION=debug"
  fi
} >"$ENV_FILE.tmp"
mv "$ENV_FILE.tmp" "$ENV_FILE"
log "wrote $ENV_FILE"
