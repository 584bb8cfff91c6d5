#!/usr/bin/env python3
"""The guard-cost benchmark's two halves (see run.sh).

  trace.py script N BATCH TRACE   a psql script: N batches of BATCH, the backend's CPU (schedstat, ns) after each
                                  statement appended to TRACE
  trace.py sum TRACE ROWS         CPU per dossier per statement and in total (ROWS dossiers per batch)
"""
import collections
import re
import sys


def script(n, batch_file, trace):
    statements, current = [], ''
    for line in open(batch_file).read().splitlines():
        if line.startswith("SELECT nextval('blk')"):
            continue
        current += line + '\n'
        if line.rstrip().endswith(';'):
            statements.append(current.strip())
            current = ''
    out = ['\\set QUIET on', '\\pset format unaligned', '\\o /dev/null', 'SELECT pg_backend_pid() AS pid \\gset',
           '\\setenv PID :pid', '\\setenv TRACE ' + trace]
    for _ in range(n):
        out.append("SELECT nextval('blk') AS b \\gset")
        out.append("\\! echo start $(cut -d' ' -f1 /proc/$PID/schedstat) >> $TRACE")
        for k, statement in enumerate(statements):
            label = re.sub(r'[^A-Za-z_ ]', '', ' '.join(statement.split()[:4]))[:36].replace(' ', '_') + str(k)
            out.append(statement)
            out.append("\\! echo %s $(cut -d' ' -f1 /proc/$PID/schedstat) >> $TRACE" % label)
    print('\n'.join(out))


def summary(trace, rows):
    total, previous, batches = collections.OrderedDict(), None, 0
    for line in open(trace):
        label, ns = line.split()
        ns = int(ns)
        if label == 'start':
            batches += 1
        elif previous is not None:
            total[label] = total.get(label, 0) + ns - previous
        previous = ns
    dossiers = batches * rows
    for label, ns in total.items():
        print('%-42s %8.2f µs/dossier' % (label, ns / 1000 / dossiers))
    print('%-42s %8.2f µs/dossier  (%d batches)' % ('TOTAL', sum(total.values()) / 1000 / dossiers, batches))


if sys.argv[1] == 'script':
    script(int(sys.argv[2]), sys.argv[3], sys.argv[4])
else:
    summary(sys.argv[2], int(sys.argv[3]))
