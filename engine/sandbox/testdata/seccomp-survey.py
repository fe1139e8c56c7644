#!/usr/bin/env python3
"""Lists the system calls boxes make once their seccomp filter is on.

The allow list in seccomp_linux.go comes from real runs. To survey again
(as root, with strace installed), trace whole gradings and read the traces:

    go build -o /tmp/lab ./cmd/lab
    for ex in connect headofline batching deadlock; do
        strace -f -qq -o /tmp/$ex.st /tmp/lab grade $ex exercises/$ex/handlers/reference/*.go
    done
    python3 engine/sandbox/testdata/seccomp-survey.py /tmp/*.st

strace slows the boxes down, so some checks time out; the calls are what
matter. A box's init is the process that calls seccomp(SET_MODE_FILTER);
from that line on, every call of it, of its threads and of their children
counts. The program's own seccomp call (the engine forbids io_uring_setup
once its ring exists) is counted too. Each box is put in "build" when it
execs the Go toolchain and in "program" otherwise. Any call printed here
that seccomp_linux.go does not allow is a call a real run would be
refused.
"""
import collections
import re
import sys

CALL = re.compile(r'^(\d+)\s+(?:<\.\.\. (\w+) resumed>|(\w+)\()')
CHILD = re.compile(r'^(\d+)\s+(?:<\.\.\. )?(?:clone3?|fork|vfork)\b.*=\s*(\d+)\s*$')
EXEC = re.compile(r'^(\d+)\s+execve\("([^"]+)"')


def survey(path, seen):
    box = {}   # pid -> the box's init pid, for every pid under a filter
    kind = {}  # init pid -> "build" or "program"
    calls = collections.defaultdict(set)  # init pid -> calls
    parent = {}
    for line in open(path, errors='replace'):
        m = CHILD.match(line)
        if m:
            p, c = int(m.group(1)), int(m.group(2))
            parent[c] = p
            if p in box:
                box[c] = box[p]
        m = CALL.match(line)
        if not m:
            continue
        pid, name = int(m.group(1)), m.group(2) or m.group(3)
        if pid not in box and 'seccomp(SECCOMP_SET_MODE_FILTER' in line:
            # The filter covers every thread of init (TSYNC): the threads
            # it made before are its children in strace's eyes.
            box[pid] = pid
            for c in parent:
                q = c
                while q in parent and q != pid:
                    q = parent[q]
                if q == pid:
                    box[c] = pid
            continue
        if pid not in box:
            continue
        root = box[pid]
        m = EXEC.match(line)
        if m and not line.rstrip().endswith('ENOENT (No such file or directory)'):
            prog = m.group(2)
            if '/go/bin/go' in prog or '/pkg/tool/' in prog:
                kind[root] = 'build'
            else:
                kind.setdefault(root, 'program')
        calls[root].add(name)
    for root, names in calls.items():
        seen[kind.get(root, 'probe')].update(names)


def main():
    seen = collections.defaultdict(set)
    for path in sys.argv[1:]:
        survey(path, seen)
    for k in sorted(seen):
        print(f'{k}: {len(seen[k])} calls')
        print('  ' + ' '.join(sorted(seen[k])))


if __name__ == '__main__':
    main()
