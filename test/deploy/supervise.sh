#!/bin/sh
# supervise.sh PIDFILE CMD [ARGS...]: the smallest supervisor, as systemd's
# Restart=on-failure with RestartPreventExitStatus=1 2 3 4 6 7 would be (the
# recipes in examples/deploy/). It runs CMD, writes its pid to PIDFILE (so a
# test can SIGKILL the rank, not the loop), and restarts it after a crash: a
# signal or any exit code other than 0 and the deterministic ones, which a
# restart would only repeat (docs/runtime.md, exit codes), and 130/143, a
# stop asked for (SIGINT/SIGTERM).
pidfile=$1
shift
restarts=0
while :; do
  "$@" &
  echo $! > "$pidfile"
  wait $!
  code=$?
  case $code in
    0)
      echo "supervise: exit 0 after $restarts restart(s)" >&2
      exit 0 ;;
    1|2|3|4|6|7)
      echo "supervise: exit $code, not restarted" >&2
      exit $code ;;
    130|143)
      echo "supervise: stopped (exit $code)" >&2
      exit $code ;;
  esac
  restarts=$((restarts + 1))
  echo "supervise: exit $code, restart $restarts" >&2
  sleep 0.1
done
