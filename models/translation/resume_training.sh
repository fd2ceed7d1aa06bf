#!/bin/sh
# Continues the deep pretraining stopped by pause_training.sh (SIGCONT to the PID and its children).
pid=$(cat "$(dirname "$0")/work-deep/pretrain.pid") || exit 1
pkill -CONT -P "$pid"; kill -CONT "$pid"; ps -o pid,stat,etime,time,args -p "$pid"
