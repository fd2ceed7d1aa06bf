#!/bin/sh
# Pauses the background deep pretraining (issue 17) so benchmarks get the CPU: SIGSTOP to the PID in
# work-deep/pretrain.pid and its children. Undo with resume_training.sh.
pid=$(cat "$(dirname "$0")/work-deep/pretrain.pid") || exit 1
kill -STOP "$pid" && pkill -STOP -P "$pid"; ps -o pid,stat,etime,time,args -p "$pid"
