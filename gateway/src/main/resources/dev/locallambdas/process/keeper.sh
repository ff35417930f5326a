# The keeper of one local-lambdas gateway (docs/decisions/0006-process-isolation.md), run as
#   LOCAL_LAMBDAS_KEEPER_SCRIPT="$(cat keeper.sh)" sh -c 'eval "$LOCAL_LAMBDAS_KEEPER_SCRIPT"' \
#     local-lambdas-keeper TOKEN GATEWAY_PID
# POSIX sh; it runs no program until the gateway is gone.
#
# Its stdin is a pipe from the gateway, which writes one line per change:
#   + PGID TICKS   a child leads process group PGID; TICKS is the leader's start time
#                  (field 22 of /proc/PGID/stat)
#   - PGID         that group has no living process any more
#   bye            the gateway is shutting down normally (it has stopped its children itself)
# End of file means the gateway has exited, however it exited (SIGKILL included: the kernel closes
# its end of the pipe). Then the keeper sends SIGKILL to every group still registered and to every
# process whose environment holds LOCAL_LAMBDAS_INSTANCE=TOKEN/..., and exits.

# Signals from the terminal are for the gateway, which drains before it stops. SIGTERM too: a
# service manager that signals every process of the service at once (systemd's default
# KillMode=control-group) must not end the keeper before the gateway; it exits with the gateway.
trap '' HUP INT QUIT TSTP TERM

unset LOCAL_LAMBDAS_KEEPER_SCRIPT
token=$1
gateway=$2
groups=
bye=

while read -r op pgid ticks; do
  case $op in
    +) groups="$groups $pgid:$ticks" ;;
    -)
      kept=
      for g in $groups; do
        [ "${g%%:*}" = "$pgid" ] || kept="$kept $g"
      done
      groups=$kept
      ;;
    bye) bye=1 ;;
  esac
done

# Sets $now to the start time of process $1, or to nothing when there is no such process.
start_of() {
  now=
  line=
  read -r line 2>/dev/null <"/proc/$1/stat" || return 0
  # Fields are counted after the command name, which is in parentheses and may hold spaces.
  set -- ${line##*) }
  [ $# -ge 20 ] && now=${20}
}

count=0
for g in $groups; do
  count=$((count + 1))
done
if [ -z "$bye" ] && [ "$count" -gt 0 ]; then
  echo "local-lambdas: the gateway (pid $gateway) is gone; stopping the $count process group(s) it had started" >&2
fi

round=0
while :; do
  for g in $groups; do
    pgid=${g%%:*}
    start_of "$pgid"
    # A process with the group's number but another start time means the group ended and the number
    # was reused (a number stays taken while any process of its group lives): not ours to kill.
    if [ -z "$now" ] || [ "$now" = "${g#*:}" ]; then
      kill -s KILL -- "-$pgid" 2>/dev/null
    fi
  done
  # Processes that left their group (setsid, a daemon) but kept the environment they inherited.
  found=
  for f in $(grep -l -s -z -e "^LOCAL_LAMBDAS_INSTANCE=$token/" /proc/[0-9]*/environ); do
    pid=${f#/proc/}
    pid=${pid%/environ}
    if kill -s KILL "$pid" 2>/dev/null; then
      found=1
      [ -n "$bye" ] && echo "local-lambdas: killed process $pid, left behind by a function of the gateway (pid $gateway)" >&2
    fi
  done
  round=$((round + 1))
  # Another round catches what forked while this one ran.
  [ -n "$found" ] && [ "$round" -lt 5 ] || break
done
