#!/usr/bin/env python3
"""spawn-group.py CMD [ARG...]: runs CMD as the leader of a new session and
process group, with SIGINT, SIGQUIT, SIGTERM and SIGHUP at their defaults,
the way a terminal starts a foreground command. A shell's background job
(bats runs tests in one) ignores SIGINT, and a signal ignored when a shell
starts cannot be trapped: without this, a test could not send Ctrl-C."""
import os
import signal
import sys

for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGTERM, signal.SIGHUP):
    signal.signal(sig, signal.SIG_DFL)
os.setsid()
os.execvp(sys.argv[1], sys.argv[1:])
