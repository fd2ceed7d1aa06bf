#!/bin/sh
# Starts (or, after a reboot / a killed run, resumes from work-deep/pretrain.pt) the deep pretraining
# of issue 17 in the background at nice 19 with 2 torch threads; the python PID goes to
# work-deep/pretrain.pid (what pause_training.sh / resume_training.sh signal). setsid: the run outlives the
# shell (and the session) that started it.
cd "$(dirname "$0")/../.." || exit 1
W=models/translation/work-deep
mkdir -p "$W"
if [ -f "$W/pretrain.pid" ] && kill -0 "$(cat "$W/pretrain.pid")" 2>/dev/null; then
  echo "already running: PID $(cat "$W/pretrain.pid")"; exit 0
fi
TRAIN_THREADS=2 setsid nohup sh -c "echo \$\$ > $W/pretrain.pid; exec nice -n 19 /usr/bin/python3 models/translation/train.py ${1:-pretrain} --config deep" >> "$W/pretrain.log" 2>&1 &
sleep 1; echo "started: PID $(cat "$W/pretrain.pid")"
