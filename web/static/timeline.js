// timeline.js draws a run's trace as an animated timeline on a canvas.
//
// It is plain ES2020 with no build step: the server embeds and serves it as
// /static/timeline.js (timeline.css styles the details and the list it
// writes, and sets its dark palette), and it defines one global,
// window.Timeline. The data it takes is exactly what the run's websocket
// sends (docs/live.md). The exercise, replay and compare pages build their
// own controls and call this API:
//
//   const tl = new Timeline(canvas, {details, list, onSelect, onChange, autoHeight, collapseIdle});
//
//   Data      setSchema({kinds, phases, lints}); addTrack(track, label);
//             addEvents(track, firstName, names, events); addFindings(track, findings);
//             clear(); setLive(bool); eventCount(); traceEnd();
//             unfinished() -> [{track, loop, seq, name, fd, time, dur, label}]
//   Playback  play(); pause(); playing(); setSpeed(nsPerWallSecond); setSkipIdle(bool); seek(ns);
//             stepForward(across); stepBack(across)  (false at either end; within the
//             selected event's track unless across)
//   View      setView(startNs, endNs); fit(); wholeRun(); zoom(factor); jumpTo(track, loop, seq)
//             (true if found); view() -> {start, end, cursor, selected, playing, speed, live,
//             traceEnd, collapseIdle, gaps}
//   Idle      setCollapseIdle(bool); gaps() -> [{start, end, label, x0, x1}];
//             expandGap(ns)  (the gap holding ns; without ns, the one nearest the cursor)
//   Text      setList(element)  (the event list's container; the list option does the same)
//   Measure   stats() -> {frames, started, lastFrameMs, avgFrameMs, p95FrameMs,
//             maxFrameMs, drawn}; resetStats()
//   Layout    lanes() -> [{track, type, label, y, height, loop, fd}];
//             timeToX(ns); xToTime(x); laneTop(track, type, key); palette(); destroy()
//
// onSelect(ev) gets the selected event as view().selected does; onChange(state)
// gets view(), at most once per frame, when the view, cursor, selection or
// playback changed. autoHeight makes the canvas as tall as its lanes; else
// the page sizes it and the lanes scroll. After each frame the canvas carries
// data-lanes, data-drawn and data-events.
//
// Each track (one sandboxed run) is a stack of lanes sharing one time axis,
// where 0 is the run's start: one lane per loop (handlers, the time a ready
// handler waited, syscalls, instants, findings), the kernel (ops in flight,
// one sub-row each while they overlap), one lane per file descriptor, and
// one per counter. A syscall that began and has not returned (its begin
// event has no record yet) is a bar to the end of the trace, live to the
// latest event, labelled "in connect(), 1.5 s"; a ready event (what an
// epoll_wait returned) is a tick on its fd's lane. Arrows follow an op from
// its submit to its completion to the handler it woke: the selected one's
// always, every visible one's when few enough to read.
//
// A run is mostly waiting in the kernel. With collapseIdle, every long
// stretch where no visible track does anything is drawn as a narrow gap,
// labelled "… 480 ms waiting in the kernel …", on a piecewise-linear time
// axis (Axis below); a click on a gap, or x, expands it. fit() frames the
// handler's own callbacks (not the harness's), and is the view data gets
// until the view is moved; wholeRun() shows everything from time 0. The
// view never shows time before the run started.
//
// Stepping visits every event but counter samples, in time order across
// the tracks that are not collapsed. While the cursor is before the end,
// what comes after it is dimmed, so playback unfolds the run. The list, if
// the page gives it a container, is the same events as text: one track's,
// in stepping order, in a listbox whose selection is the canvas's.
//
// Every key the canvas takes is listed in _onKey; the canvas's aria-label
// names them. Colours come from C, which a page's --tl-* custom properties
// override (timeline.css sets the dark theme's); meaning never rests on
// hue alone: errors are hatched or crossed, findings are flags.
//
// Drawing is driven by requestAnimationFrame and happens only when something
// changed. Each lane keeps its items in typed arrays sorted by start time,
// so a frame visits only the visible range, and items that fall on one
// pixel column are drawn as one density mark.
(function () {
  'use strict';

  // ---- Geometry, in CSS pixels ----
  const GUTTER = 188; // the label column
  const AXIS_H = 34;
  const HEADER_H = 26;
  const RIGHT_PAD = 12;
  const LOOP_H = 64;
  const FD_H = 22;
  const COUNTER_H = 32;
  const KROW_H = 16;
  const KPAD = 5;
  const MAX_KROWS = 8;
  // Rows inside a loop lane, from its top.
  const L_MARK = 2; // finding strip
  const L_HAND = 7; // handlers
  const L_HAND_H = 20;
  const L_WAIT = 29; // ready -> begin
  const L_WAIT_H = 5;
  const L_SYS = 37; // syscalls
  const L_SYS_H = 11;
  const L_INST = 51; // instants
  const L_INST_H = 10;

  const FONT = '11px system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif';
  const FONT_BOLD = '600 12px system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif';
  const FONT_SMALL = '10px system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif';

  // C is the palette the canvas draws with. These are the light theme's
  // colours; a page overrides any of them with a CSS custom property on
  // the canvas or above it, named after the key: --tl-bg, --tl-lane-alt,
  // --tl-error, ... (timeline.css sets the dark theme's under
  // prefers-color-scheme: dark). They are read again when the scheme
  // changes. Errors, calls that would block and findings never rely on
  // hue alone: errors are cross-hatched and end in a cross, findings are
  // flags with "!", would-block calls are plain.
  const LIGHT = {
    bg: '#ffffff',
    laneAlt: '#fbfcfe',
    gutter: '#f8fafc',
    header: '#eef2f7',
    line: '#e2e8f0',
    border: '#cbd5e1',
    grid: '#eef1f5',
    text: '#0f172a',
    axisText: '#334155',
    muted: '#64748b',
    faint: '#94a3b8',
    cursor: '#2563eb',
    onCursor: '#ffffff',
    syscall: '#64748b',
    blocked: '#d97706', // EAGAIN, EINPROGRESS, EINTR, EALREADY: control flow
    error: '#dc2626',
    errorInk: 'rgba(69, 10, 10, 0.5)', // the hatching on an error
    ok: '#16a34a',
    kwait: '#e2e8f0',
    kwaitInk: '#94a3b8',
    wakeup: '#0d9488',
    submit: '#1d4ed8',
    mark: '#9333ea',
    future: '#0891b2',
    timer: '#b45309',
    lint: '#dc2626',
    harness: '#64748b', // the lab's harness's own callbacks
    cancel: '#475569',
    cancelled: '#cbd5e1', // an op that was cancelled
    tick: '#334155', // extra completions in the kernel lane
    onBar: '#ffffff', // labels on handlers and calls
    onOp: '#0f172a', // labels on ops in flight
    boxBg: 'rgba(241, 245, 249, 0.95)', // behind labels on hatched bars
    boxText: '#334155',
    openText: '#7c2d12',
    openInk: 'rgba(15, 23, 42, 0.35)',
    waitBg: 'rgba(254, 243, 199, 0.9)',
    waitInk: 'rgba(217, 119, 6, 0.75)',
    counterFill: 'rgba(37, 99, 235, 0.14)',
    counterLine: '#2563eb',
    counterMin: 'rgba(37, 99, 235, 0.35)',
    dim: 'rgba(255, 255, 255, 0.8)',
    ended: '#f1f4f8',
    endShade: 'rgba(100, 116, 139, 0.12)',
    flow: '#0f172a',
    flowFaint: 'rgba(71, 85, 105, 0.45)',
    sel: '#0f172a',
    selHalo: '#ffffff',
    flash: '#f59e0b',
    quiet: 'rgba(100, 116, 139, 0.8)',
    quietSpan: 'rgba(100, 116, 139, 0.35)',
    findingSpan: 'rgba(220, 38, 38, 0.55)',
    findingLine: 'rgba(220, 38, 38, 0.5)',
    band: 'rgba(71, 85, 105, 0.45)', // an fd's activity where it is dense
    scrollbar: 'rgba(100, 116, 139, 0.35)',
    tipBg: 'rgba(15, 23, 42, 0.94)',
    tipTitle: '#ffffff',
    tipText: '#cbd5e1',
    gapBg: 'rgba(226, 232, 240, 0.9)', // a collapsed idle stretch
    gapInk: '#64748b',
    gapText: '#334155',
  };
  const C = Object.assign({}, LIGHT);
  // Handlers: saturated colours that carry white text. No red or amber:
  // those mean errors and waiting.
  const HANDLER_COLORS = ['#2563eb', '#059669', '#7c3aed', '#0891b2', '#db2777', '#4d7c0f',
    '#4f46e5', '#0f766e', '#9333ea', '#0369a1', '#be185d', '#15803d'];
  // Ops in the kernel: light colours that carry dark text.
  const OP_COLORS = ['#93c5fd', '#86efac', '#c4b5fd', '#67e8f9', '#f9a8d4', '#bef264',
    '#a5b4fc', '#5eead4', '#fcd34d', '#fdba74', '#d8b4fe', '#7dd3fc'];

  const DEFAULT_SCHEMA = {
    kinds: ['invalid', 'syscall', 'wakeup', 'submit', 'complete', 'handler', 'future', 'timer',
      'counter', 'lint', 'mark', 'cancel', 'ready'],
    phases: ['instant', 'begin', 'end', 'create', 'resolve', 'wait', 'fire', 'cancel'],
    lints: ['none', 'long-handler', 'head-of-line', 'deadlock', 'blocking-call', 'pending-connect', 'off-loop'],
  };
  // The palette key of each kind of instant.
  const INSTANT_COLORS = {wakeup: 'wakeup', submit: 'submit', mark: 'mark', future: 'future', timer: 'timer',
    handler: 'muted', ready: 'wakeup'};
  const COUNTER_ORDER = ['runq', 'inflight', 'sq_pending', 'cq_ready'];
  const WAIT_CALLS = new Set(['epoll_wait', 'epoll_pwait', 'epoll_pwait2', 'io_uring_enter']);
  const CQE_F_MORE = 2;

  // ---- Linux errno names, for negative results ----
  const ERRNO = {
    1: 'EPERM', 2: 'ENOENT', 4: 'EINTR', 5: 'EIO', 9: 'EBADF', 11: 'EAGAIN', 12: 'ENOMEM',
    13: 'EACCES', 14: 'EFAULT', 16: 'EBUSY', 17: 'EEXIST', 22: 'EINVAL', 23: 'ENFILE', 24: 'EMFILE',
    28: 'ENOSPC', 32: 'EPIPE', 62: 'ETIME', 71: 'EPROTO', 88: 'ENOTSOCK', 90: 'EMSGSIZE',
    95: 'EOPNOTSUPP', 97: 'EAFNOSUPPORT', 98: 'EADDRINUSE', 99: 'EADDRNOTAVAIL', 100: 'ENETDOWN',
    101: 'ENETUNREACH', 103: 'ECONNABORTED', 104: 'ECONNRESET', 105: 'ENOBUFS', 106: 'EISCONN',
    107: 'ENOTCONN', 110: 'ETIMEDOUT', 111: 'ECONNREFUSED', 113: 'EHOSTUNREACH', 114: 'EALREADY',
    115: 'EINPROGRESS', 125: 'ECANCELED',
  };
  const ERRNO_TEXT = {
    EAGAIN: 'would block: no data to read or no room to write yet; wait for readiness, then retry',
    EINPROGRESS: 'a non-blocking connect has started; wait until the socket is writable, then read SO_ERROR',
    ECONNREFUSED: 'nothing listens at that address: the peer answered with a reset',
    ECANCELED: 'the op was cancelled before it completed',
    ETIME: 'a timeout expired (an io_uring TIMEOUT or LINK_TIMEOUT)',
    EINTR: 'a signal interrupted the call; retry it',
    EALREADY: 'a connect is already in progress on this socket',
    EISCONN: 'the socket is already connected',
    ENOTCONN: 'the socket is not connected (yet)',
    ECONNRESET: 'the peer reset the connection',
    EPIPE: 'the peer has closed the connection; nothing more can be written',
    ETIMEDOUT: 'the connection timed out',
    EBADF: 'not an open file descriptor',
    EINVAL: 'an argument is invalid',
  };
  // The ones a student meets in these exercises, for the table in the details.
  const COMMON_ERRNOS = [11, 115, 111, 125, 62];
  // Negative results that are control flow, not failure.
  const FLOW_ERRNOS = new Set([11, 115, 4, 114]);

  function errnoName(res) {
    return res < 0 && res >= -4095 ? (ERRNO[-res] || 'errno ' + (-res)) : '';
  }

  // ---- epoll event masks ----
  const EPOLL_BITS = [[0x1, 'EPOLLIN'], [0x2, 'EPOLLPRI'], [0x4, 'EPOLLOUT'], [0x8, 'EPOLLERR'],
    [0x10, 'EPOLLHUP'], [0x20, 'EPOLLNVAL'], [0x40, 'EPOLLRDNORM'], [0x80, 'EPOLLRDBAND'],
    [0x100, 'EPOLLWRNORM'], [0x200, 'EPOLLWRBAND'], [0x400, 'EPOLLMSG'], [0x2000, 'EPOLLRDHUP']];
  const EPOLL_TROUBLE = 0x8 | 0x10; // EPOLLERR | EPOLLHUP

  // epollEvents names the bits of an event mask: "EPOLLIN|EPOLLOUT".
  function epollEvents(mask) {
    let m = mask >>> 0;
    const out = [];
    for (const [bit, name] of EPOLL_BITS) {
      if (m & bit) {
        out.push(name);
        m = (m & ~bit) >>> 0;
      }
    }
    if (m) out.push('0x' + m.toString(16));
    return out.length ? out.join('|') : '0';
  }

  // ---- Formatting ----
  function trimZeros(s) {
    return s.indexOf('.') < 0 ? s : s.replace(/\.?0+$/, '');
  }
  // fmtDur formats a duration in ns compactly: "870 ns", "12.34 µs", "1.235 ms", "2.5 s".
  function fmtDur(ns) {
    const a = Math.abs(ns);
    if (a < 1e3) return Math.round(ns) + ' ns';
    if (a < 1e6) return trimZeros((ns / 1e3).toFixed(a < 1e4 ? 3 : a < 1e5 ? 2 : 1)) + ' µs';
    if (a < 1e9) return trimZeros((ns / 1e6).toFixed(a < 1e7 ? 3 : a < 1e8 ? 2 : 1)) + ' ms';
    return trimZeros((ns / 1e9).toFixed(3)) + ' s';
  }
  // fmtTime formats a time since the run started, to the µs: "12.345 ms".
  function fmtTime(ns) {
    if (Math.abs(ns) < 1e6) return trimZeros((ns / 1e3).toFixed(3)) + ' µs';
    return (ns / 1e6).toFixed(3) + ' ms';
  }
  function fmtTimeLong(ns) {
    const us = (ns / 1e3).toLocaleString('en-US', {maximumFractionDigits: 3});
    return (ns / 1e6).toFixed(3) + ' ms (' + us + ' µs)';
  }
  function fmtInt(n) {
    return Number(n).toLocaleString('en-US');
  }
  function opHex(op) {
    try {
      return '0x' + BigInt(op).toString(16);
    } catch (e) {
      return String(op);
    }
  }
  function isZeroOp(op) {
    return op === 0 || op === '0' || op === undefined || op === null;
  }

  function hashString(s) {
    let h = 2166136261;
    for (let i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i);
      h = Math.imul(h, 16777619);
    }
    return h >>> 0;
  }

  // ---- Series: one lane row's items, sorted by start time ----
  //
  // Items are stored in parallel typed arrays. An item that arrives out of
  // order (another loop's batch came late) is inserted near the tail, which
  // is cheap because it is rarely far from it. Every chunk of CHUNK items
  // keeps its largest end, so a frame finds the long items that start
  // before the view without scanning them all.
  // growArray returns a typed array of type A and length cap holding the
  // first n items of old (which may be undefined).
  function growArray(A, old, n, cap) {
    const a = new A(cap);
    if (old) a.set(old.subarray(0, n));
    return a;
  }

  const CHUNK_BITS = 6;
  const CHUNK = 1 << CHUNK_BITS;

  class Series {
    constructor() {
      this.n = 0;
      this.cap = 0;
      this._grow(64);
    }

    _grow(cap) {
      const grow = (A, old) => growArray(A, old, this.n, cap);
      this.start = grow(Float64Array, this.start);
      this.end = grow(Float64Array, this.end);
      this.ref = grow(Int32Array, this.ref);
      this.aux = grow(Int32Array, this.aux);
      this.id = grow(Int32Array, this.id);
      this.posOf = grow(Int32Array, this.posOf);
      const cend = new Float64Array((cap >> CHUNK_BITS) + 1).fill(-Infinity);
      if (this.cend) cend.set(this.cend);
      this.cend = cend;
      this.cap = cap;
    }

    // add inserts an item and returns its id, which stays valid as later
    // items shift it. end is Infinity while the item is open.
    add(start, end, ref, aux) {
      if (this.n === this.cap) this._grow(this.cap * 2);
      const n = this.n;
      const id = n; // ids are never reused
      let p = n;
      if (n > 0 && this.start[n - 1] > start) {
        p = this.upperBound(start);
        this.start.copyWithin(p + 1, p, n);
        this.end.copyWithin(p + 1, p, n);
        this.ref.copyWithin(p + 1, p, n);
        this.aux.copyWithin(p + 1, p, n);
        this.id.copyWithin(p + 1, p, n);
        for (let k = p + 1; k <= n; k++) this.posOf[this.id[k]] = k;
      }
      this.start[p] = start;
      this.end[p] = end;
      this.ref[p] = ref;
      this.aux[p] = aux;
      this.id[p] = id;
      this.posOf[id] = p;
      this.n = n + 1;
      if (p === n) {
        const c = p >> CHUNK_BITS;
        if (end > this.cend[c]) this.cend[c] = end;
      } else {
        for (let c = p >> CHUNK_BITS, last = n >> CHUNK_BITS; c <= last; c++) this._chunk(c);
      }
      return id;
    }

    _chunk(c) {
      const a = c << CHUNK_BITS;
      const b = Math.min(this.n, a + CHUNK);
      let m = -Infinity;
      for (let p = a; p < b; p++) if (this.end[p] > m) m = this.end[p];
      this.cend[c] = m;
    }

    setEnd(id, end) {
      const p = this.posOf[id];
      const old = this.end[p];
      this.end[p] = end;
      const c = p >> CHUNK_BITS;
      if (end >= this.cend[c]) this.cend[c] = end;
      else if (old >= this.cend[c]) this._chunk(c);
    }

    setAux(id, v) {
      this.aux[this.posOf[id]] = v;
    }

    // lowerBound returns the first position whose start is >= t.
    lowerBound(t) {
      let lo = 0;
      let hi = this.n;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (this.start[mid] < t) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    }

    // upperBound returns the first position whose start is > t.
    upperBound(t) {
      let lo = 0;
      let hi = this.n;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (this.start[mid] <= t) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    }

    // visit calls fn(pos) for every item overlapping [t0, t1], in start order.
    visit(t0, t1, fn) {
      if (this.n === 0) return;
      const lo = this.lowerBound(t0);
      const hi = this.upperBound(t1);
      const lastChunk = (lo - 1) >> CHUNK_BITS;
      for (let c = 0; c <= lastChunk; c++) {
        if (this.cend[c] < t0) continue;
        const a = c << CHUNK_BITS;
        const b = Math.min(lo, a + CHUNK);
        for (let p = a; p < b; p++) if (this.end[p] >= t0) fn(p);
      }
      for (let p = lo; p < hi; p++) fn(p);
    }
  }

  // ---- Track: one sandboxed run ----
  let trackSerial = 0;

  class Track {
    constructor(id, label, order) {
      this.serial = ++trackSerial; // tells a track apart from the one a reset replaced
      this.id = id;
      this.label = label || id;
      this.order = order;
      this.collapsed = false;
      this.names = [''];
      this.nameInfo = [];
      this.n = 0;
      this.cap = 0;
      this.end = 0; // latest time + dur
      this.loops = new Map();
      this.kernel = null;
      this.fds = new Map();
      this.counters = new Map();
      this.recs = []; // op records: submit -> complete -> handler
      this.inflight = new Map(); // loop/op -> record index
      this.completed = new Map(); // loop/op -> record index, until a handler names it
      this.seqs = new Map(); // loop -> Map(seq -> event index)
      this.findings = [];
      this.steps = new Uint32Array(64); // non-counter events by (time, index)
      this.nsteps = 0;
      this._grow(256);
    }

    _grow(cap) {
      const grow = (A, old) => growArray(A, old, this.n, cap);
      this.seq = grow(Float64Array, this.seq);
      this.time = grow(Float64Array, this.time);
      this.dur = grow(Float64Array, this.dur);
      this.kind = grow(Uint8Array, this.kind);
      this.phase = grow(Uint8Array, this.phase);
      this.loop = grow(Int32Array, this.loop);
      this.fd = grow(Int32Array, this.fd);
      this.res = grow(Float64Array, this.res);
      this.arg0 = grow(Float64Array, this.arg0);
      this.arg1 = grow(Float64Array, this.arg1);
      this.name = grow(Uint32Array, this.name);
      this.pair = grow(Int32Array, this.pair); // handler begin <-> end
      this.rec = grow(Int32Array, this.rec); // op record of a submit, complete, cancel or handler begin
      if (!this.op) this.op = [];
      this.cap = cap;
    }

    ensure(n) {
      if (n <= this.cap) return;
      let cap = this.cap;
      while (cap < n) cap *= 2;
      this._grow(cap);
    }

    nameOf(id) {
      const s = this.names[id];
      return s === undefined ? '' : s;
    }

    info(id) {
      let inf = this.nameInfo[id];
      if (!inf) {
        const s = this.nameOf(id);
        const h = hashString(s);
        inf = {
          name: s,
          color: HANDLER_COLORS[h % HANDLER_COLORS.length],
          opColor: OP_COLORS[h % OP_COLORS.length],
          wait: WAIT_CALLS.has(s),
          width: -1,
        };
        this.nameInfo[id] = inf;
      }
      return inf;
    }

    loopData(loop) {
      let d = this.loops.get(loop);
      if (!d) {
        d = {
          loop,
          handlers: new Series(),
          waits: new Series(),
          syscalls: new Series(),
          instants: new Series(),
          marks: [], // {time, wait, code, message, idx, finding}
          stack: [],
          calls: new Map(), // syscalls begun and not returned: "name/fd/time" -> [{idx, sid, fid}]
        };
        this.loops.set(loop, d);
        this.layoutDirty = true;
      }
      return d;
    }

    kernelData() {
      if (!this.kernel) {
        this.kernel = {ops: new Series(), ticks: new Series(), rows: 1, busy: [-Infinity], owner: [-1]};
        this.layoutDirty = true;
      }
      return this.kernel;
    }

    fdData(fd) {
      let d = this.fds.get(fd);
      if (!d) {
        d = {fd, items: new Series(), ops: new Series(), names: []};
        this.fds.set(fd, d);
        this.layoutDirty = true;
      }
      return d;
    }

    counterData(name) {
      let d = this.counters.get(name);
      if (!d) {
        d = {name, s: new Series(), max: 0};
        this.counters.set(name, d);
        this.layoutDirty = true;
      }
      return d;
    }

    addStep(idx) {
      if (this.nsteps === this.steps.length) {
        const a = new Uint32Array(this.steps.length * 2);
        a.set(this.steps);
        this.steps = a;
      }
      const t = this.time[idx];
      let p = this.nsteps;
      if (p > 0 && this.time[this.steps[p - 1]] > t) {
        let lo = 0;
        let hi = p;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (this.time[this.steps[mid]] <= t) lo = mid + 1;
          else hi = mid;
        }
        this.steps.copyWithin(lo + 1, lo, p);
        p = lo;
      }
      this.steps[p] = idx;
      this.nsteps++;
    }
  }

  // ---- The time axis ----
  //
  // With idle collapsed, the axis is piecewise linear. Each collapsed gap
  // [a, b], a stretch where nothing happens, takes a fixed width in
  // pixels, gpx, whatever the zoom; the rest of the time shares the rest
  // of the width at one scale, k pixels per ns. A time's position is
  // d(t) = k * L(t) + gpx * G(t), where L(t) is the time before t outside
  // the gaps and G(t) the number of gaps before t (a fraction inside one).
  // An axis without gaps is linear: d(t) = k * t.
  class Axis {
    // a and b are the gaps' starts and ends, sorted and disjoint.
    constructor(a, b, gpx) {
      this.a = a;
      this.b = b;
      this.n = a.length;
      this.gpx = gpx;
      this.la = new Float64Array(this.n); // L(a[i])
      let cut = 0;
      for (let i = 0; i < this.n; i++) {
        this.la[i] = a[i] - cut;
        cut += b[i] - a[i];
      }
    }

    // at returns the index of the last gap that starts at or before t, or -1.
    at(t) {
      let lo = 0;
      let hi = this.n;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (this.a[mid] <= t) lo = mid + 1;
        else hi = mid;
      }
      return lo - 1;
    }

    // inGap returns the index of the gap that holds t (ends excluded), or -1.
    inGap(t) {
      const i = this.at(t);
      return i >= 0 && t > this.a[i] && t < this.b[i] ? i : -1;
    }

    L(t) {
      const i = this.at(t);
      if (i < 0) return t;
      return t < this.b[i] ? this.la[i] : this.la[i] + (t - this.b[i]);
    }

    G(t) {
      const i = this.at(t);
      if (i < 0) return 0;
      return t < this.b[i] ? i + (t - this.a[i]) / (this.b[i] - this.a[i]) : i + 1;
    }

    d(t, k) {
      const i = this.at(t);
      if (i < 0) return k * t;
      if (t < this.b[i]) return k * this.la[i] + this.gpx * (i + (t - this.a[i]) / (this.b[i] - this.a[i]));
      return k * (this.la[i] + t - this.b[i]) + this.gpx * (i + 1);
    }

    // inv is d's inverse: the time at position d.
    inv(d, k) {
      let lo = 0;
      let hi = this.n;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (k * this.la[mid] + this.gpx * mid <= d) lo = mid + 1;
        else hi = mid;
      }
      const i = lo - 1;
      if (i < 0) return d / k;
      const da = k * this.la[i] + this.gpx * i;
      if (d < da + this.gpx) return this.a[i] + ((d - da) / this.gpx) * (this.b[i] - this.a[i]);
      return this.b[i] + (d - da - this.gpx) / k;
    }

    // scale returns the k at which [t0, t1] is w pixels wide: NaN if no
    // scale can, when [t0, t1] lies inside one gap.
    scale(t0, t1, w) {
      const dl = this.L(t1) - this.L(t0);
      const k = (w - this.gpx * (this.G(t1) - this.G(t0))) / dl;
      return dl > 0 && k > 0 && isFinite(k) ? k : NaN;
    }
  }
  const LINEAR = new Axis([], [], 0);

  // Idle stretches: where no visible track does anything for at least
  // IDLE_MIN. Of those, the ones that would take more than GAP_WORTH gap
  // widths of a NOMINAL_W-pixel view of the whole run are collapsed, the
  // longest first, at most MAX_GAPS; their width is GAP_PX, less when
  // there are so many that they would take more than GAP_SHARE of the
  // plot. What counts as doing something: a callback running, a call
  // that is not a wait (epoll_wait, io_uring_enter) in progress, and any
  // instant. A call or callback that never returned counts for its first
  // IDLE_MIN only: what it waits for afterwards is idle too.
  const IDLE_MIN = 1e6;
  const NOMINAL_W = 1000;
  const GAP_PX = 40;
  const GAP_WORTH = 3;
  const GAP_SHARE = 0.4;
  const MAX_GAPS = 16;
  // A view frames what it fits with FIT_MARGIN of its width either side.
  const FIT_MARGIN = 0.03;
  // The event list's rows are LIST_ROW pixels high (timeline.css agrees).
  const LIST_ROW = 24;
  let listSerial = 0;

  function loopLabel(loop) {
    return loop === 0 ? 'loop thread' : 'thread ' + loop;
  }

  // ---- Timeline ----
  class Timeline {
    constructor(canvas, options) {
      const opts = options || {};
      this._frame = this._frame.bind(this);
      this._raf = 0;
      this.canvas = canvas;
      this.ctx = canvas.getContext('2d');
      this.details = opts.details || null;
      this.listEl = opts.list || null;
      this.onSelect = opts.onSelect || null;
      this.onChange = opts.onChange || null;
      this.autoHeight = !!opts.autoHeight;

      this.tracks = [];
      this.trackById = new Map();
      this.judged = null; // lint codes the exercise grades by; null: every finding counts
      this.setSchema(DEFAULT_SCHEMA);

      this.W = 0;
      this.H = 0;
      this.dpr = 1;
      this.v0 = 0;
      this.v1 = 1e6;
      this.scrollY = 0;
      this.autoFit = true; // fit the data as it arrives, until the user moves the view
      this._fitAll = false; // what a fit frames: the whole run, or the handler's activity
      this._fitPending = false; // data came since the last fit: fit again before the view is read
      this.collapseIdle = !!opts.collapseIdle;
      this._expanded = []; // [a, b] of each idle stretch the user expanded
      this._expVer = 0;
      this._idle = null; // the idle stretches, for the data they were found in
      this._axisCache = null;
      this.live = false;
      this.cursor = 0;
      this.cursorEnd = true; // the cursor sits at the end: nothing is dimmed
      this._playing = false;
      this.speed = 1e6;
      this.skipIdle = false;
      this._lastTick = 0;
      this.sel = null; // {tr, idx} or {tr, mark}
      this._stepFrom = 'cursor';
      this.hover = null;
      this.pointer = null;
      this.flash = null;
      this._drag = null;

      this.layout = [];
      this.contentH = 0;
      this._layoutDirty = true;
      this._dirty = false;
      this._stateChanged = false;
      this._widths = new Map();
      this._resetStatsFields();

      this._listen();
      this._resize();
      this._readTheme();
      this._renderDetails();
      this._buildList();
      this._invalidate();
    }

    // _readTheme takes the palette from the light theme and the page's
    // --tl-* custom properties, and remakes the patterns drawn with it.
    _readTheme() {
      const cs = getComputedStyle(this.canvas);
      for (const key of Object.keys(LIGHT)) {
        const v = cs.getPropertyValue('--tl-' + key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())).trim();
        C[key] = v || LIGHT[key];
      }
      this._patterns();
      this._invalidate();
    }

    // ---- Data ----

    setSchema(schema) {
      const s = schema || DEFAULT_SCHEMA;
      this.schema = {
        kinds: s.kinds || DEFAULT_SCHEMA.kinds,
        phases: s.phases || DEFAULT_SCHEMA.phases,
        lints: s.lints || DEFAULT_SCHEMA.lints,
      };
      const k = (n) => this.schema.kinds.indexOf(n);
      const p = (n) => this.schema.phases.indexOf(n);
      this.K = {
        syscall: k('syscall'), wakeup: k('wakeup'), submit: k('submit'), complete: k('complete'),
        handler: k('handler'), future: k('future'), timer: k('timer'), counter: k('counter'),
        lint: k('lint'), mark: k('mark'), cancel: k('cancel'), ready: k('ready'),
      };
      this.P = {
        instant: p('instant'), begin: p('begin'), end: p('end'), create: p('create'),
        resolve: p('resolve'), wait: p('wait'), fire: p('fire'), cancel: p('cancel'),
      };
      this._changed();
    }

    // setJudged names the lint codes the exercise's checks judge by
    // ("long-handler", ...). Findings of other codes are context, not
    // problems: drawn quietly, left out of the count, said to be
    // ungraded. null makes every finding a problem.
    setJudged(codes) {
      this.judged = Array.isArray(codes) ? new Set(codes) : null;
      this._changed();
    }

    // _quiet reports whether a finding of code is context only.
    _quiet(code) {
      return this.judged !== null && !this.judged.has(code);
    }

    // addTrack adds a track, or relabels it. sortKey, if given, orders the
    // tracks by string (those without one keep their arrival order, after
    // the keyed ones): the compare page puts the same scenario and backend
    // of both runs next to each other.
    addTrack(id, label, sortKey) {
      let tr = this.trackById.get(id);
      if (tr) {
        if (label) tr.label = label;
      } else {
        tr = new Track(id, label, this.tracks.length);
        tr.sortKey = sortKey === undefined ? null : String(sortKey);
        this.tracks.push(tr);
        if (tr.sortKey !== null) {
          this.tracks.sort((a, b) => {
            if (a.sortKey === null || b.sortKey === null) return (a.sortKey === null) - (b.sortKey === null) || a.order - b.order;
            return a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : a.order - b.order;
          });
        }
        this.trackById.set(id, tr);
        this._layoutDirty = true;
      }
      this._changed();
      return tr;
    }

    _track(id) {
      return this.trackById.get(id) || this.addTrack(id, id);
    }

    addEvents(trackId, firstName, names, events) {
      const tr = this._track(trackId);
      if (names && names.length) {
        const first = Number(firstName) || 0;
        for (let i = 0; i < names.length; i++) {
          tr.names[first + i] = String(names[i]);
          tr.nameInfo[first + i] = undefined;
        }
      }
      if (!events || !events.length) return;
      tr.ensure(tr.n + events.length);
      for (let i = 0; i < events.length; i++) this._ingest(tr, events[i]);
      if (tr.layoutDirty) {
        tr.layoutDirty = false;
        this._layoutDirty = true;
      }
      if (this.autoFit) this._fitPending = true;
      this._changed();
    }

    _ingest(tr, e) {
      const K = this.K;
      const P = this.P;
      const i = tr.n++;
      const time = +e[1] || 0;
      const dur = Math.max(0, +e[2] || 0);
      const kind = e[3] | 0;
      const phase = e[4] | 0;
      const loop = e[5] | 0;
      const op = e[6];
      const fd = e[7] | 0;
      const res = +e[8] || 0;
      const arg0 = +e[9] || 0;
      const arg1 = +e[10] || 0;
      const name = e[11] >>> 0;
      const seq = +e[0] || 0;
      tr.seq[i] = seq;
      tr.time[i] = time;
      tr.dur[i] = dur;
      tr.kind[i] = kind;
      tr.phase[i] = phase;
      tr.loop[i] = loop;
      tr.fd[i] = fd;
      tr.res[i] = res;
      tr.arg0[i] = arg0;
      tr.arg1[i] = arg1;
      tr.name[i] = name;
      tr.op[i] = op;
      tr.pair[i] = -1;
      tr.rec[i] = -1;
      if (time + dur > tr.end) tr.end = time + dur;

      let seqs = tr.seqs.get(loop);
      if (!seqs) {
        seqs = new Map();
        tr.seqs.set(loop, seqs);
      }
      seqs.set(seq, i);
      if (kind !== K.counter) tr.addStep(i);

      const key = loop + '/' + op;
      switch (kind) {
        case K.handler: {
          const d = tr.loopData(loop);
          if (phase === P.begin) {
            d.stack.push(d.handlers.add(time, Infinity, i, -1));
            if (arg0 > 0 && arg0 < time) d.waits.add(arg0, time, i, 0);
            const wake = isZeroOp(op) ? '' : key; // a begin's arg1 is a harness's key, not an op
            if (wake) {
              const r = tr.completed.get(wake);
              if (r !== undefined) {
                tr.completed.delete(wake);
                tr.recs[r].handler = i;
                tr.rec[i] = r;
              }
            }
          } else if (phase === P.end) {
            const id = d.stack.pop();
            if (id !== undefined) {
              d.handlers.setEnd(id, time);
              const b = d.handlers.ref[d.handlers.posOf[id]];
              d.handlers.setAux(id, i);
              tr.pair[b] = i;
              tr.pair[i] = b;
            }
          } else {
            d.instants.add(time, time, i, 0);
          }
          break;
        }
        case K.syscall: {
          // A call that can block is recorded as it begins too; its record
          // (same loop, name, fd and start) follows when it returns. Until
          // then the begin is drawn open, to the end of the trace.
          const d = tr.loopData(loop);
          const ck = name + '/' + fd + '/' + time;
          if (phase === P.begin) {
            const call = {idx: i, sid: d.syscalls.add(time, Infinity, i, 0), fid: -1};
            if (fd >= 0) call.fid = this._fdItem(tr, fd, time, Infinity, i, name);
            const q = d.calls.get(ck);
            if (q) q.push(call);
            else d.calls.set(ck, [call]);
            break;
          }
          const q = d.calls.get(ck);
          if (q) {
            const call = q.shift();
            if (!q.length) d.calls.delete(ck);
            // The record draws the call from now on.
            d.syscalls.setEnd(call.sid, time);
            if (call.fid >= 0) tr.fds.get(fd).items.setEnd(call.fid, time);
            tr.pair[call.idx] = i;
            tr.pair[i] = call.idx;
          }
          d.syscalls.add(time, time + dur, i, 0);
          if (fd >= 0) this._fdItem(tr, fd, time, time + dur, i, name);
          break;
        }
        case K.ready: {
          if (fd >= 0) this._fdItem(tr, fd, time, time, i, name);
          else tr.loopData(loop).instants.add(time, time, i, 0);
          break;
        }
        case K.submit: {
          tr.loopData(loop).instants.add(time, time, i, 0);
          if (!isZeroOp(op)) this._submit(tr, i, key, loop, time, fd, name);
          if (fd >= 0) this._fdItem(tr, fd, time, time, i, name);
          break;
        }
        case K.complete: {
          const r = isZeroOp(op) ? undefined : tr.inflight.get(key);
          if (r !== undefined) {
            const rec = tr.recs[r];
            tr.rec[i] = r;
            if (arg0 & CQE_F_MORE) {
              tr.kernelData().ticks.add(time, time, i, rec.row);
            } else {
              this._complete(tr, r, i, time, key);
            }
          } else if (fd < 0) {
            tr.kernelData().ticks.add(time, time, i, 0);
          }
          if (fd >= 0) this._fdItem(tr, fd, time, time, i, 0);
          break;
        }
        case K.cancel: {
          const r = isZeroOp(op) ? undefined : tr.inflight.get(key);
          tr.rec[i] = r === undefined ? -1 : r;
          if (r !== undefined) tr.recs[r].cancel = i;
          tr.kernelData().ticks.add(time, time, i, r === undefined ? 0 : tr.recs[r].row);
          break;
        }
        case K.counter: {
          const d = tr.counterData(tr.nameOf(name));
          d.s.add(time, time, i, 0);
          if (res > d.max) d.max = res;
          break;
        }
        case K.lint: {
          tr.loopData(loop).marks.push({time, wait: 0, code: this._lintName(arg0), message: '', idx: i, finding: null});
          break;
        }
        default:
          tr.loopData(loop).instants.add(time, time, i, 0);
      }
    }

    _lintName(code) {
      return this.schema.lints[code] || 'lint ' + code;
    }

    // _fdItem adds an item to fd's lane and returns its id there.
    _fdItem(tr, fd, start, end, i, name) {
      const d = tr.fdData(fd);
      const id = d.items.add(start, end, i, 0);
      if (name && d.names.length < 3) {
        const s = tr.nameOf(name);
        if (s && !WAIT_CALLS.has(s) && d.names.indexOf(s) < 0) d.names.push(s);
      }
      return id;
    }

    // _openCall reports whether event i is a syscall begin whose record has
    // not come: a call still in progress, or one that never returned.
    _openCall(tr, i) {
      return tr.kind[i] === this.K.syscall && tr.phase[i] === this.P.begin && tr.pair[i] < 0;
    }

    // _closedBegin reports whether event i is a syscall begin whose record
    // came: the record draws the call, so the begin is not drawn or hit.
    _closedBegin(tr, i) {
      return tr.kind[i] === this.K.syscall && tr.phase[i] === this.P.begin && tr.pair[i] >= 0;
    }

    // _itemEnd returns where event i ends as drawn: an open call runs to
    // the end of its track (live: its latest event).
    _itemEnd(tr, i) {
      return this._openCall(tr, i) ? Math.max(tr.end, tr.time[i]) : tr.time[i] + tr.dur[i];
    }

    // _inCall labels an open call: "in connect(), 1.5 s".
    _inCall(tr, i) {
      return 'in ' + tr.nameOf(tr.name[i]) + '(), ' + fmtDur(Math.max(0, tr.end - tr.time[i]));
    }

    _submit(tr, i, key, loop, time, fd, name) {
      const k = tr.kernelData();
      const r = tr.recs.length;
      let row = -1;
      for (let j = 0; j < k.rows; j++) {
        if (k.busy[j] <= time) {
          row = j;
          break;
        }
      }
      if (row < 0) {
        if (k.rows < MAX_KROWS) {
          row = k.rows++;
          k.busy.push(-Infinity);
          k.owner.push(-1);
          this._layoutDirty = true;
        } else {
          row = 0;
          for (let j = 1; j < k.rows; j++) if (k.busy[j] < k.busy[row]) row = j;
        }
      }
      k.busy[row] = Infinity;
      k.owner[row] = r;
      const rec = {loop, key, name, fd, submit: i, complete: -1, handler: -1, cancel: -1, row, sid: 0, fsid: -1};
      rec.sid = k.ops.add(time, Infinity, r, row);
      if (fd >= 0) rec.fsid = tr.fdData(fd).ops.add(time, Infinity, r, 0);
      tr.recs.push(rec);
      tr.rec[i] = r;
      tr.inflight.set(key, r);
    }

    _complete(tr, r, i, time, key) {
      const rec = tr.recs[r];
      const k = tr.kernel;
      rec.complete = i;
      k.ops.setEnd(rec.sid, time);
      if (rec.fsid >= 0) tr.fds.get(rec.fd).ops.setEnd(rec.fsid, time);
      if (k.owner[rec.row] === r) k.busy[rec.row] = time;
      tr.inflight.delete(key);
      tr.completed.set(key, r);
    }

    addFindings(trackId, findings) {
      const tr = this._track(trackId);
      for (const f of findings || []) {
        const loop = f.loop | 0;
        tr.findings.push(f);
        const seqs = tr.seqs.get(loop);
        const idx = seqs ? seqs.get(+f.seq) : undefined;
        const d = tr.loopData(loop);
        // A live lint event already has a marker: give it the sentence.
        if (idx !== undefined && tr.kind[idx] === this.K.lint) {
          const m = d.marks.find((x) => x.idx === idx);
          if (m) {
            m.message = f.message || m.message;
            m.wait = +f.wait || 0;
            m.finding = f;
            continue;
          }
        }
        d.marks.push({
          time: +f.time || 0, wait: +f.wait || 0, code: f.code || 'finding',
          message: f.message || '', idx: idx === undefined ? -1 : idx, finding: f,
        });
      }
      if (tr.layoutDirty) {
        tr.layoutDirty = false;
        this._layoutDirty = true;
      }
      this._changed();
    }

    clear() {
      this.tracks = [];
      this.trackById = new Map();
      this.sel = null;
      this.hover = null;
      this.flash = null;
      this._playing = false;
      this.cursor = 0;
      this.cursorEnd = true;
      this.autoFit = true;
      this._fitAll = false;
      this._expanded = [];
      this._expVer++;
      this.scrollY = 0;
      this.v0 = 0;
      this.v1 = 1e6;
      this._layoutDirty = true;
      this._renderDetails();
      this._changed();
    }

    // resetTrack empties a track, keeping its place and label: its run is
    // run again, and the new run's events follow.
    resetTrack(id) {
      const old = this.trackById.get(id);
      if (!old) return;
      const tr = new Track(id, old.label, old.order);
      tr.sortKey = old.sortKey;
      this.tracks[this.tracks.indexOf(old)] = tr;
      this.trackById.set(id, tr);
      for (const k of ["sel", "hover", "flash"]) {
        if (this[k] && this[k].tr === old) this[k] = null;
      }
      this._layoutDirty = true;
      this._renderDetails();
      this._changed();
    }

    setLive(live) {
      this.live = !!live;
      if (this.live) {
        this.autoFit = true;
        this.cursorEnd = true;
      }
      if (this.autoFit) this._fitPending = true;
      this._changed();
    }

    eventCount() {
      let n = 0;
      for (const tr of this.tracks) n += tr.n;
      return n;
    }

    // traceEnd returns the latest time of any track.
    traceEnd() {
      let e = 0;
      for (const tr of this.tracks) if (tr.end > e) e = tr.end;
      return e;
    }

    // unfinished lists the syscalls that began and have not returned: in a
    // finished trace the calls that never returned, live the ones the loop
    // is inside now. dur runs to the track's latest event; label is what
    // the bar says, "in connect(), 1.5 s".
    unfinished() {
      const out = [];
      for (const tr of this.tracks) {
        for (const d of tr.loops.values()) {
          for (const q of d.calls.values()) {
            for (const c of q) {
              const i = c.idx;
              out.push({
                track: tr.id, loop: d.loop, seq: tr.seq[i], name: tr.nameOf(tr.name[i]), fd: tr.fd[i],
                time: tr.time[i], dur: Math.max(0, tr.end - tr.time[i]), label: this._inCall(tr, i),
              });
            }
          }
        }
      }
      return out.sort((a, b) => a.time - b.time);
    }

    // ---- Playback and navigation ----

    play() {
      const end = this.traceEnd();
      if (this.cursorEnd || this.cursor >= end) {
        this.cursor = 0;
        this.cursorEnd = false;
      }
      if (!this.live) this.autoFit = false;
      this._playing = true;
      this._stepFrom = 'cursor';
      this._lastTick = 0;
      this._keepVisible(this.cursor, 0.05);
      this._changed();
    }

    pause() {
      this._playing = false;
      if (this.live) this.autoFit = false;
      this._changed();
    }

    playing() {
      return this._playing;
    }

    setSpeed(nsPerSecond) {
      const s = +nsPerSecond;
      if (s > 0 && isFinite(s)) this.speed = s;
      this._changed();
    }

    // setSkipIdle makes playback jump over a stretch where nothing
    // happens for more than a second of playing time, to a moment before
    // the next event: a run is mostly waiting in the kernel.
    setSkipIdle(on) {
      this.skipIdle = !!on;
    }

    // _nextEventAfter is the time of the first event of any shown track
    // after t, or Infinity.
    _nextEventAfter(t) {
      let best = Infinity;
      for (const tr of this.tracks) {
        if (tr.collapsed || tr.nsteps === 0) continue;
        let lo = 0;
        let hi = tr.nsteps;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (tr.time[tr.steps[mid]] <= t) lo = mid + 1;
          else hi = mid;
        }
        if (lo < tr.nsteps) best = Math.min(best, tr.time[tr.steps[lo]]);
      }
      return best;
    }

    seek(t) {
      const end = this.traceEnd();
      const c = Math.max(0, Math.min(+t || 0, end));
      this.cursor = c;
      this.cursorEnd = end > 0 && c >= end;
      this._stepFrom = 'cursor';
      this.autoFit = false;
      this._keepVisible(c, 0.05);
      this._changed();
    }

    // stepForward selects the next event: within the selected event's
    // track, so that stepping through one run never wanders into another
    // scenario's, or in time order across every track when across is true
    // or nothing is selected.
    stepForward(across) {
      return this._step(1, !!across);
    }

    // stepBack is stepForward backwards.
    stepBack(across) {
      return this._step(-1, !!across);
    }

    _step(dir, across) {
      let cur;
      const s = this.sel;
      if (this._stepFrom === 'sel' && s && s.idx >= 0 && !s.tr.collapsed) {
        cur = {t: s.tr.time[s.idx], k: s.tr.order, i: s.idx};
      } else if (this.cursorEnd) {
        cur = {t: dir > 0 ? -Infinity : Infinity, k: -1, i: -1};
      } else {
        cur = {t: this.cursor, k: -1, i: -1};
      }
      let best = null;
      const only = !across && s && !s.tr.collapsed ? s.tr : null;
      for (const tr of this.tracks) {
        if (tr.collapsed || tr.nsteps === 0 || (only && tr !== only)) continue;
        const k = tr.order;
        const cmp = (idx) => (tr.time[idx] - cur.t) || (k - cur.k) || (idx - cur.i);
        // The first position whose key is greater than cur (forward), or
        // the last whose key is less (back).
        let lo = 0;
        let hi = tr.nsteps;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          const c = cmp(tr.steps[mid]);
          if (dir > 0 ? c <= 0 : c < 0) lo = mid + 1;
          else hi = mid;
        }
        const pos = dir > 0 ? lo : lo - 1;
        if (pos < 0 || pos >= tr.nsteps) continue;
        const idx = tr.steps[pos];
        const cand = {t: tr.time[idx], k, i: idx, tr};
        if (!best) best = cand;
        else {
          const c = (cand.t - best.t) || (cand.k - best.k) || (cand.i - best.i);
          if (dir > 0 ? c < 0 : c > 0) best = cand;
        }
      }
      if (!best) return false;
      this._playing = false;
      this.autoFit = false;
      this.cursor = best.t;
      this.cursorEnd = false;
      this._select({tr: best.tr, idx: best.i});
      this._stepFrom = 'sel';
      this._keepVisible(best.t, 0.1);
      this._revealLane(best.tr, best.i);
      this._changed();
      return true;
    }

    jumpTo(trackId, loop, seq) {
      const tr = this.trackById.get(trackId);
      if (!tr) return false;
      const seqs = tr.seqs.get(+loop);
      const idx = seqs ? seqs.get(+seq) : undefined;
      if (idx === undefined) return false;
      tr.collapsed = false;
      this._layoutDirty = true;
      this._playing = false;
      this.autoFit = false;
      const t = tr.time[idx];
      this.cursor = t;
      this.cursorEnd = false;
      this._frameOn(...this._extent(tr, idx));
      this._select({tr, idx});
      this._stepFrom = 'sel';
      this.flash = {tr, idx, until: performance.now() + 1600};
      this._onScreen(this._revealLane(tr, idx));
      this._changed();
      return true;
    }

    // _extent is the time an event covers: a handler from its begin to its
    // end, a call or op over its duration, an instant at its time.
    _extent(tr, idx) {
      const t = tr.time[idx];
      if (tr.kind[idx] === this.K.handler) {
        const other = tr.pair[idx];
        if (tr.phase[idx] === this.P.begin) return [t, other >= 0 ? tr.time[other] : Math.max(t, tr.end)];
        if (tr.phase[idx] === this.P.end) return [t - tr.dur[idx], t];
      }
      return [t, t + Math.max(0, tr.dur[idx])];
    }

    // _frameOn frames [t0, t1] with context: a span takes a fifth of the
    // view, so even a 10 µs call is wide enough to see and click, and at
    // least 2 µs of time is in view; an instant keeps a view of at most
    // 200 µs around it. A span inside a collapsed gap keeps the zoom. (_changed
    // keeps the view from starting before the run.)
    _frameOn(t0, t1) {
      const m = this._map();
      const ax = this._axisNow();
      const W = m.W;
      let k;
      if (t1 > t0) {
        k = ax.scale(t0, t1, W / 5);
        if (!(k > 0)) k = m.k;
        k = Math.min(k, W / 2e3);
      } else {
        k = W / Math.min(Math.max(W / m.k, 2e3), 200e3);
      }
      this._viewAt(ax, k, (ax.d(t0, k) + ax.d(t1, k)) / 2 - W / 2);
    }

    // _onScreen scrolls the page, if it must, so that the lane at canvas
    // y [top, top+h) (the whole canvas if lane is null) is in the window.
    _onScreen(lane) {
      const r = this.canvas.getBoundingClientRect();
      const vh = window.innerHeight || document.documentElement.clientHeight;
      const top = r.top + (lane ? lane.top : 0);
      const bottom = lane ? top + lane.h : r.bottom;
      if (top >= 0 && bottom <= vh) return;
      // The lane's top a third of the way down the window, or higher if
      // the lane would not fit below that.
      window.scrollBy(0, top - Math.min(vh / 3, Math.max(0, vh - (bottom - top))));
    }

    setView(start, end) {
      let a = +start;
      let b = +end;
      if (!isFinite(a) || !isFinite(b)) return;
      if (b < a) [a, b] = [b, a];
      if (b - a < 20) {
        const m = (a + b) / 2;
        a = m - 10;
        b = m + 10;
      }
      this.v0 = a;
      this.v1 = b;
      this.autoFit = false;
      this._changed();
    }

    view() {
      this._applyFit();
      return {
        start: this.v0,
        end: this.v1,
        cursor: this.cursorEnd ? this.traceEnd() : this.cursor,
        selected: this._selInfo(),
        playing: this._playing,
        speed: this.speed,
        live: this.live,
        traceEnd: this.traceEnd(),
        collapseIdle: this.collapseIdle,
        gaps: this.gaps(),
      };
    }

    // fit frames the handler's activity: from the first of its callbacks
    // (not the harness's) to where the last one ended, on the tracks that
    // are not collapsed, and keeps it framed as data arrives until the
    // view is moved. A callback or call that never returned runs to the
    // end of its track; with idle collapsed, what it waited for is idle,
    // so the frame ends where it got stuck. Live, the frame reaches the
    // latest event. With no callback of the handler's, the frame is every
    // event; with no event, the whole run.
    fit() {
      this.autoFit = true;
      this._fitAll = false;
      this._fitNow();
      this._changed();
    }

    // wholeRun shows the run from its start to its end, and keeps it so as
    // data arrives until the view is moved.
    wholeRun() {
      this.autoFit = true;
      this._fitAll = true;
      this._fitNow();
      this._changed();
    }

    // zoom zooms around the middle of the view, or x if given: factor < 1
    // zooms in.
    zoom(factor, x) {
      this._zoom(+factor || 1, x);
    }

    _applyFit() {
      if (!this._fitPending) return;
      this._fitPending = false;
      if (this.autoFit) this._fitNow();
    }

    _fitNow() {
      this._fitPending = false;
      const end = this.traceEnd();
      if (end <= 0) {
        this.v0 = 0;
        this.v1 = 1e6;
        return;
      }
      if (this._fitAll) {
        this._frameSpan(0, end, 0, 0.02 / 1.02);
        return;
      }
      let span = this._ownSpan(this.collapseIdle);
      if (!span) {
        const runs = this._idleNow().runs;
        span = runs.length ? [runs[0][0], runs[runs.length - 1][1]] : [0, end];
      }
      if (this.live) span[1] = Math.max(span[1], end);
      this._frameSpan(span[0], span[1], FIT_MARGIN, FIT_MARGIN);
      // A margin that would cut a collapsed gap shows all of it: "… 2 ms
      // before the first event …" is whole or not there.
      const ax = this._axisNow();
      if (!ax.n) return;
      const i = ax.inGap(this.v0);
      const j = ax.inGap(this.v1);
      if (i < 0 && j < 0) return;
      this._frameSpan(i < 0 ? span[0] : ax.a[i], j < 0 ? span[1] : ax.b[j], i < 0 ? FIT_MARGIN : 0, j < 0 ? FIT_MARGIN : 0);
    }

    // _frameSpan sets the view so that [a, b] fills it but for the margins
    // left and right (fractions of its width), never before the run.
    _frameSpan(a, b, left, right) {
      const W = this._plotW();
      const ax = this._axisNow();
      const w = W * (1 - left - right);
      let k = b > a ? ax.scale(a, b, w) : NaN;
      if (!(k > 0)) k = w / Math.max(b - a, 2e3);
      k = Math.min(k, w / 2e3);
      this._viewAt(ax, k, Math.max(0, ax.d(a, k) - W * left));
    }

    // _ownSpan returns [first, last] of the handler's callbacks on the
    // tracks that are not collapsed, or null. One that never returned
    // counts to the end of its track or, when cut, a little past the call
    // it is stuck in: a fifth of the span of the others (at most IDLE_MIN,
    // all of it with no other), so that the stuck call shows.
    _ownSpan(cut) {
      let a = Infinity;
      let b = -Infinity;
      const stuck = []; // [where it got stuck, the end of its track]
      for (const tr of this.tracks) {
        if (tr.collapsed) continue;
        for (const d of tr.loops.values()) {
          const hs = d.handlers;
          for (let p = 0; p < hs.n; p++) {
            if (tr.arg1[hs.ref[p]] !== 0) continue; // the harness's
            const st = hs.start[p];
            if (st < a) a = st;
            let en = hs.end[p];
            if (en === Infinity) {
              const ss = d.syscalls;
              if (cut) {
                stuck.push([Math.max(st, ss.n ? ss.start[ss.n - 1] : st), Math.max(st, tr.end)]);
                continue;
              }
              en = Math.max(st, tr.end);
            }
            if (en > b) b = en;
          }
        }
      }
      if (a === Infinity) return null;
      const head = b > a ? Math.min(IDLE_MIN, (b - a) / 5) : IDLE_MIN;
      for (const [at, end] of stuck) b = Math.max(b, Math.min(at + head, end));
      return [a, b];
    }

    // _keepVisible scrolls the view, keeping its scale, so that t is
    // inside it with margin (a fraction of its width) on either side.
    _keepVisible(t, margin) {
      const m = this._map();
      const x = m.ax.d(t, m.k) - m.d0;
      if (x < m.W * margin) this._viewAt(m.ax, m.k, m.d0 + x - m.W * margin);
      else if (x > m.W * (1 - margin)) this._viewAt(m.ax, m.k, m.d0 + x - m.W * (1 - margin));
    }

    // _zoom scales the view by factor (< 1 zooms in), keeping the time
    // at canvas x (the middle if undefined) where it is.
    _zoom(factor, atX) {
      const m = this._map();
      const end = Math.max(this.traceEnd(), 1e6);
      const k = Math.min(Math.max(m.k / factor, m.W / (end * 8)), m.W / 20);
      const x = atX === undefined ? m.W / 2 : Math.min(m.W, Math.max(0, atX - GUTTER));
      const t = m.ax.inv(m.d0 + x, m.k);
      this._viewAt(m.ax, k, m.ax.d(t, k) - x);
      this.autoFit = false;
      this._changed();
    }

    // _pan moves the view by dx pixels.
    _pan(dx) {
      const m = this._map();
      this._viewAt(m.ax, m.k, m.d0 + dx);
      this.autoFit = false;
      this._changed();
    }

    // ---- Idle stretches and the time axis ----

    // setCollapseIdle collapses the long idle stretches (on) or shows time
    // linearly (off). Turning it on collapses again any the user expanded.
    // The view keeps its start and end.
    setCollapseIdle(on) {
      on = !!on;
      if (on === this.collapseIdle) return;
      this.collapseIdle = on;
      this._expanded = [];
      this._expVer++;
      if (this.autoFit) this._fitNow();
      this._changed();
    }

    // gaps lists the idle stretches collapsed now, in time order:
    // [{start, end, label, x0, x1}], x0 and x1 their edges on the canvas.
    gaps() {
      const ax = this._axisNow();
      if (!ax.n) return [];
      const X = this._xOf(this._map());
      return ax.gaps.map((g) => ({start: g.a, end: g.b, label: g.label, x0: X(g.a), x1: X(g.b)}));
    }

    // expandGap shows the idle stretch that holds time t (or, with no t,
    // the collapsed one nearest the cursor on the canvas) linearly, keeping
    // the view's start and end. It reports whether there was one.
    expandGap(t) {
      const ax = this._axisNow();
      if (!ax.n) return false;
      let i = t === undefined ? -1 : ax.at(+t);
      if (i >= 0 && +t > ax.b[i]) i = -1;
      if (t === undefined) {
        const m = this._map();
        const at = this.cursorEnd ? m.d0 + m.W / 2 : m.ax.d(this.cursor, m.k);
        let best = Infinity;
        for (let j = 0; j < ax.n; j++) {
          const a = ax.d(ax.a[j], m.k);
          const b = ax.d(ax.b[j], m.k);
          const dd = at < a ? a - at : at > b ? at - b : 0;
          if (dd < best) {
            best = dd;
            i = j;
          }
        }
      }
      if (i < 0) return false;
      this._expanded.push([ax.a[i], ax.b[i]]);
      this._expVer++;
      if (this.hover && this.hover.gap) this.hover = null;
      this.autoFit = false;
      this._changed();
      return true;
    }

    // _idleNow returns the idle stretches of the data as it is, found again
    // when it changed (live, at most every 250 ms): {runs, idle, gaps}, runs
    // the stretches of activity as [start, end], idle every stretch without
    // any, gaps the ones to collapse.
    _idleNow() {
      let key = '';
      for (const tr of this.tracks) key += tr.serial + ':' + tr.n + ':' + tr.findings.length + (tr.collapsed ? 'c|' : '|');
      const c = this._idle;
      if (c && c.key === key) return c;
      const now = performance.now();
      if (c && this.live && now - c.at < 250) return c;
      this._idle = this._findIdle();
      this._idle.key = key;
      this._idle.at = now;
      return this._idle;
    }

    _findIdle() {
      const S = [];
      const E = [];
      let end = 0;
      // sweep adds the items of s that count as activity, end(p) returning
      // where item p's activity ends (NaN: it does not count), merged when
      // less than IDLE_MIN apart.
      const sweep = (s, endOf) => {
        let a = NaN;
        let b = NaN;
        for (let p = 0; p < s.n; p++) {
          const e = endOf(p);
          if (e !== e) continue;
          const st = s.start[p];
          if (a === a && st <= b + IDLE_MIN) {
            if (e > b) b = e;
            continue;
          }
          if (a === a) {
            S.push(a);
            E.push(b);
          }
          a = st;
          b = Math.max(st, e);
        }
        if (a === a) {
          S.push(a);
          E.push(b);
        }
      };
      const K = this.K;
      for (const tr of this.tracks) {
        if (tr.collapsed || !tr.n) continue;
        if (tr.end > end) end = tr.end;
        for (const d of tr.loops.values()) {
          const hs = d.handlers;
          const head = (t) => Math.min(t + IDLE_MIN, Math.max(t, tr.end));
          sweep(hs, (p) => (hs.end[p] === Infinity ? head(hs.start[p]) : hs.end[p]));
          const ss = d.syscalls;
          sweep(ss, (p) => {
            const i = ss.ref[p];
            if (this._closedBegin(tr, i) || tr.info(tr.name[i]).wait) return NaN;
            return ss.end[p] === Infinity ? head(ss.start[p]) : ss.end[p];
          });
          sweep(d.instants, (p) => d.instants.start[p]);
          for (const m of d.marks) {
            S.push(m.time);
            E.push(m.time);
          }
        }
        if (tr.kernel) sweep(tr.kernel.ticks, (p) => tr.kernel.ticks.start[p]);
        for (const d of tr.fds.values()) {
          const it = d.items;
          sweep(it, (p) => (tr.kind[it.ref[p]] === K.syscall ? NaN : it.start[p]));
        }
      }
      const order = S.map((_, i) => i).sort((x, y) => S[x] - S[y]);
      const runs = [];
      for (const i of order) {
        const last = runs[runs.length - 1];
        if (last && S[i] <= last[1] + IDLE_MIN) {
          if (E[i] > last[1]) last[1] = E[i];
        } else {
          runs.push([S[i], E[i]]);
        }
      }
      const idle = [];
      let prev = 0;
      for (const [a, b] of runs) {
        if (a - prev >= IDLE_MIN) idle.push({a: prev, b: a});
        prev = Math.max(prev, b);
      }
      if (runs.length && end - prev >= IDLE_MIN) idle.push({a: prev, b: end});
      // Collapse the longest first, while each would take GAP_WORTH gap
      // widths of the view that collapsing the ones before it leaves.
      const gaps = [];
      let rest = end;
      for (const g of [...idle].sort((x, y) => (y.b - y.a) - (x.b - x.a))) {
        if (gaps.length >= MAX_GAPS) break;
        const k = (NOMINAL_W - gaps.length * GAP_PX) / rest;
        if ((g.b - g.a) * k < GAP_WORTH * GAP_PX) break;
        gaps.push(g);
        rest -= g.b - g.a;
      }
      gaps.sort((x, y) => x.a - y.a);
      for (const g of gaps) g.label = this._idleLabel(g.a, g.b);
      return {runs, idle, gaps};
    }

    // _idleLabel says what happens in the idle stretch [a, b]: "480 ms
    // waiting in the kernel", "1.5 s stuck in connect()", or, where some
    // runs wait and others are stuck, "480 ms waiting in the kernel,
    // connect() stuck".
    _idleLabel(a, b) {
      const mid = (a + b) / 2;
      let call = '';
      let handler = '';
      let waiting = false;
      for (const tr of this.tracks) {
        if (tr.collapsed) continue;
        for (const d of tr.loops.values()) {
          d.syscalls.visit(mid, mid, (p) => {
            const i = d.syscalls.ref[p];
            if (this._openCall(tr, i) && !tr.info(tr.name[i]).wait) call = call || tr.nameOf(tr.name[i]);
            else waiting = true;
          });
          d.handlers.visit(mid, mid, (p) => {
            if (d.handlers.end[p] === Infinity) handler = handler || tr.nameOf(tr.name[d.handlers.ref[p]]);
          });
        }
        if (tr.kernel) tr.kernel.ops.visit(mid, mid, () => (waiting = true));
      }
      const dur = fmtDur(b - a);
      if (waiting && call) return dur + ' waiting in the kernel, ' + call + '() stuck';
      if (waiting && handler) return dur + ' waiting in the kernel, ' + handler + ' still running';
      if (call) return dur + ' stuck in ' + call + '()';
      if (handler) return dur + ' in ' + handler + ', still running';
      if (waiting) return dur + ' waiting in the kernel';
      if (a === 0) return dur + ' before the first event';
      return dur + ' with no events';
    }

    // _axisNow returns the time axis in effect: the gaps collapsed, but for
    // the ones the user expanded, or the linear axis.
    _axisNow() {
      if (!this.collapseIdle) return LINEAR;
      const idle = this._idleNow();
      const W = this._plotW();
      const c = this._axisCache;
      if (c && c.idle === idle && c.W === W && c.exp === this._expVer) return c.axis;
      const gaps = idle.gaps.filter((g) => !this._expanded.some(([a, b]) => a < g.b && b > g.a));
      const gpx = gaps.length ? Math.min(GAP_PX, (GAP_SHARE * W) / gaps.length) : 0;
      const axis = gaps.length ? new Axis(Float64Array.from(gaps, (g) => g.a), Float64Array.from(gaps, (g) => g.b), gpx) : LINEAR;
      axis.gaps = gaps;
      this._axisCache = {idle, W, exp: this._expVer, axis};
      return axis;
    }

    // _map returns how the view maps time to canvas x: x = GUTTER +
    // ax.d(t, k) - d0, W the plot's width. A view that lies inside one gap
    // is drawn linear.
    _map() {
      this._applyFit();
      const W = this._plotW();
      let ax = this._axisNow();
      let k = ax.n ? ax.scale(this.v0, this.v1, W) : NaN;
      if (!(k > 0)) {
        ax = LINEAR;
        k = W / (this.v1 - this.v0);
      }
      return {ax, k, d0: ax.d(this.v0, k), W};
    }

    // _xOf returns the function from time to canvas x of map m.
    _xOf(m) {
      const k = m.k;
      if (!m.ax.n) {
        const v0 = this.v0;
        return (t) => GUTTER + (t - v0) * k;
      }
      const ax = m.ax;
      const d0 = m.d0 - GUTTER;
      return (t) => ax.d(t, k) - d0;
    }

    // _viewAt sets the view to start at position d0 of axis ax at scale k.
    _viewAt(ax, k, d0) {
      const W = this._plotW();
      if (!ax.n) {
        this.v0 = d0 / k;
        this.v1 = this.v0 + W / k;
        return;
      }
      this.v0 = ax.inv(d0, k);
      this.v1 = ax.inv(d0 + W, k);
    }

    _scroll(dy) {
      const max = Math.max(0, this.contentH - (this.H - AXIS_H));
      const y = Math.min(max, Math.max(0, this.scrollY + dy));
      if (y !== this.scrollY) {
        this.scrollY = y;
        this._changed();
      }
    }

    // stats reports how long the draws took, in ms.
    stats() {
      const d = this._durs.slice(0, Math.min(this._ndurs, this._durs.length)).sort((a, b) => a - b);
      const p95 = d.length ? d[Math.min(d.length - 1, Math.floor(d.length * 0.95))] : 0;
      return {
        frames: this._frames,
        started: this._started,
        lastFrameMs: this._lastMs,
        avgFrameMs: this._frames ? this._sumMs / this._frames : 0,
        p95FrameMs: p95,
        maxFrameMs: this._maxMs,
        drawn: this._drawn,
      };
    }

    resetStats() {
      this._resetStatsFields();
    }

    _resetStatsFields() {
      this._frames = 0;
      this._started = 0;
      this._lastMs = 0;
      this._sumMs = 0;
      this._maxMs = 0;
      this._durs = new Float64Array(4096);
      this._ndurs = 0;
      this._drawn = 0;
    }

    // lanes returns the lanes as laid out: {track, type, label, y, height},
    // with y in content pixels (before vertical scrolling).
    lanes() {
      this._layoutNow();
      return this.layout.map((l) => ({
        track: l.tr.id, type: l.type, label: this._laneLabel(l)[0], y: l.y, height: l.h,
        loop: l.type === 'loop' ? l.d.loop : undefined,
        fd: l.type === 'fd' ? l.d.fd : undefined,
      }));
    }

    // timeToX returns the canvas x (CSS pixels) of time t in the current view.
    timeToX(t) {
      return this._xOf(this._map())(t);
    }

    // xToTime is timeToX's inverse.
    xToTime(x) {
      const m = this._map();
      return m.ax.inv(m.d0 + x - GUTTER, m.k);
    }

    // laneTop returns the canvas y (CSS pixels) of a lane's top, or -1.
    laneTop(trackId, type, key) {
      this._layoutNow();
      for (const l of this.layout) {
        if (l.tr.id !== trackId || l.type !== type) continue;
        if (type === 'loop' && key !== undefined && l.d.loop !== key) continue;
        if (type === 'fd' && key !== undefined && l.d.fd !== key) continue;
        if (type === 'counter' && key !== undefined && l.d.name !== key) continue;
        return AXIS_H + l.y - this.scrollY;
      }
      return -1;
    }

    destroy() {
      if (this._ro) this._ro.disconnect();
      if (this._mq) this._mq.removeEventListener('change', this._mqFn);
      if (this._list) this._list.root.textContent = '';
      for (const [t, fn, o] of this._handlers) this.canvas.removeEventListener(t, fn, o);
      if (this._raf) cancelAnimationFrame(this._raf);
      this._raf = 0;
    }

    // ---- Selection ----

    _select(sel, fromList) {
      this.sel = sel;
      this._renderDetails();
      this._syncList(fromList);
      const info = this._selInfo();
      if (info && this.onSelect) {
        try {
          this.onSelect(info);
        } catch (err) {
          setTimeout(() => {
            throw err;
          });
        }
      }
      this._changed();
    }

    _revealLane(tr, idx) {
      this._layoutNow();
      const type = this._laneTypeOf(tr, idx);
      for (const l of this.layout) {
        if (l.tr !== tr || l.type !== type.type) continue;
        if (type.key !== undefined && l.key !== type.key) continue;
        const top = l.y;
        const viewH = this.H - AXIS_H;
        if (top < this.scrollY) this.scrollY = Math.max(0, top - HEADER_H);
        else if (top + l.h > this.scrollY + viewH) this.scrollY = top + l.h - viewH + 8;
        return {top: AXIS_H + top - this.scrollY, h: l.h};
      }
      return null;
    }

    _laneTypeOf(tr, idx) {
      const K = this.K;
      const kind = tr.kind[idx];
      const hasRec = tr.rec[idx] >= 0;
      if (kind === K.cancel || ((kind === K.submit || kind === K.complete) && hasRec)) return {type: 'kernel', key: 'k'};
      if (kind === K.complete) return tr.fd[idx] >= 0 ? {type: 'fd', key: 'f' + tr.fd[idx]} : {type: 'kernel', key: 'k'};
      if (kind === K.ready && tr.fd[idx] >= 0) return {type: 'fd', key: 'f' + tr.fd[idx]};
      if (kind === K.counter) return {type: 'counter', key: 'c' + tr.nameOf(tr.name[idx])};
      return {type: 'loop', key: 'l' + tr.loop[idx]};
    }

    _selInfo() {
      const s = this.sel;
      if (!s) return null;
      const tr = s.tr;
      if (s.mark) {
        const m = s.mark;
        return {
          track: tr.id, loop: s.loop, seq: m.idx >= 0 ? tr.seq[m.idx] : (m.finding ? m.finding.seq : 0),
          kind: 'finding', code: m.code, name: m.code, message: m.message, time: m.time, wait: m.wait,
        };
      }
      const i = s.idx;
      const kind = this.schema.kinds[tr.kind[i]] || 'kind ' + tr.kind[i];
      const info = {
        track: tr.id,
        loop: tr.loop[i],
        seq: tr.seq[i],
        kind,
        phase: this.schema.phases[tr.phase[i]] || '',
        name: tr.nameOf(tr.name[i]),
        time: tr.time[i],
        dur: tr.dur[i],
        fd: tr.fd[i],
        op: isZeroOp(tr.op[i]) ? '0' : String(tr.op[i]),
        res: tr.res[i],
        arg0: tr.arg0[i],
        arg1: tr.arg1[i],
      };
      const en = errnoName(tr.res[i]);
      if (en && (tr.kind[i] === this.K.syscall || tr.kind[i] === this.K.complete || tr.kind[i] === this.K.cancel)) {
        info.errno = en;
      }
      if (tr.kind[i] === this.K.handler && tr.pair[i] >= 0) {
        const b = tr.phase[i] === this.P.begin ? i : tr.pair[i];
        const e = tr.pair[b];
        info.begin = tr.time[b];
        info.end = tr.time[e];
      }
      if (this._openCall(tr, i)) {
        info.unfinished = true;
        info.label = this._inCall(tr, i);
      }
      if (tr.kind[i] === this.K.ready) info.events = epollEvents(tr.arg0[i]);
      return info;
    }

    // _renderDetails fills the details element with the selection's fields.
    // Names come from student code: everything goes in as text.
    _renderDetails() {
      const el = this.details;
      if (!el) return;
      el.textContent = '';
      const s = this.sel;
      const doc = el.ownerDocument;
      const add = (parent, tag, cls, text) => {
        const n = doc.createElement(tag);
        if (cls) n.className = cls;
        if (text !== undefined) n.textContent = text;
        parent.appendChild(n);
        return n;
      };
      if (!s) {
        add(el, 'p', 'tl-empty', 'Click an event, or step with , and . to see its details.');
        return;
      }
      const tr = s.tr;
      const title = add(el, 'div', 'tl-title');
      const rows = [];
      const row = (k, v, cls) => rows.push([k, v, cls]);
      let resValue = null;
      if (s.mark) {
        const m = s.mark;
        const quiet = this._quiet(m.code);
        add(title, 'span', quiet ? 'tl-kind tl-kind-quiet' : 'tl-kind tl-kind-lint', quiet ? 'note' : 'finding');
        add(title, 'span', 'tl-name', m.code);
        if (m.message) add(el, 'p', quiet ? 'tl-message tl-message-quiet' : 'tl-message', m.message);
        if (quiet) add(el, 'p', 'tl-note', 'Not graded: this exercise does not judge handlers by ' + m.code + '. It is shown as context.');
        row('track', tr.label);
        row('thread', loopLabel(s.loop));
        row('time', fmtTimeLong(m.time));
        if (m.wait > 0) row(m.code === 'head-of-line' ? 'waited' : 'lasted', fmtDur(m.wait));
        if (m.finding) {
          if (m.finding.subject) row('subject', m.finding.subject);
          if (m.finding.blocker) row('blocked by', m.finding.blocker);
        }
        if (m.idx >= 0) row('event', 'seq ' + tr.seq[m.idx]);
      } else {
        const i = s.idx;
        const K = this.K;
        const kind = tr.kind[i];
        const kindName = this.schema.kinds[kind] || 'kind ' + kind;
        const phase = this.schema.phases[tr.phase[i]] || '';
        const name = tr.nameOf(tr.name[i]);
        add(title, 'span', 'tl-kind tl-kind-' + kindName, kindName + (phase && phase !== 'instant' ? ' ' + phase : ''));
        add(title, 'span', 'tl-name', kind === K.lint ? this._lintName(tr.arg0[i]) : name || kindName);
        row('track', tr.label);
        row('thread', loopLabel(tr.loop[i]) + ' · seq ' + tr.seq[i]);
        row('time', fmtTimeLong(tr.time[i]));
        if (tr.dur[i] > 0) row('duration', fmtDur(tr.dur[i]));
        if (kind === K.handler) {
          const b = tr.phase[i] === this.P.begin ? i : tr.pair[i];
          if (b >= 0) {
            if (tr.arg1[b] !== 0) row('whose', "the lab's harness, not your code: never graded");
            const e = tr.pair[b];
            if (e >= 0) row('ran for', fmtDur(tr.time[e] - tr.time[b]));
            else row('ran for', 'still running at the end of the trace');
            if (tr.arg0[b] > 0 && tr.arg0[b] < tr.time[b]) {
              row('ready at', fmtTime(tr.arg0[b]));
              row('waited to run', fmtDur(tr.time[b] - tr.arg0[b]), 'tl-warn');
            }
          }
        }
        if (tr.fd[i] >= 0) row('fd', String(tr.fd[i]));
        if (!isZeroOp(tr.op[i])) row(kind === K.future ? 'future' : kind === K.timer ? 'timer' : 'op', opHex(tr.op[i]));
        const r = tr.rec[i];
        if (r >= 0) {
          const rec = tr.recs[r];
          row('opcode', tr.nameOf(rec.name));
          row('submitted', fmtTime(tr.time[rec.submit]));
          if (rec.complete >= 0) {
            const c = rec.complete;
            row('completed', fmtTime(tr.time[c]) + ' (in flight ' + fmtDur(tr.time[c] - tr.time[rec.submit]) + ')');
            if (kind !== K.complete) resValue = tr.res[c];
          } else {
            row('completed', 'never: still in flight at the end of the trace', 'tl-warn');
          }
          if (rec.handler >= 0) {
            const h = rec.handler;
            row('woke', tr.nameOf(tr.name[h]) + ' at ' + fmtTime(tr.time[h]));
          }
          if (rec.cancel >= 0) row('cancel', 'requested at ' + fmtTime(tr.time[rec.cancel]));
        }
        if (kind === K.syscall && tr.phase[i] === this.P.begin) {
          const e = tr.pair[i];
          if (e >= 0) {
            row('returned', fmtTime(tr.time[e] + tr.dur[e]) + ' (after ' + fmtDur(tr.dur[e]) + ')');
            resValue = tr.res[e];
          } else {
            const who = tr.loop[i] === 0 ? 'The loop thread' : 'Thread ' + tr.loop[i];
            add(el, 'p', 'tl-message', this._inCall(tr, i) + ': it never returned. ' + who + ' was still inside ' +
              name + '() at the ' + (this.live ? 'latest event' : 'end of the trace') + ', so nothing else could run on it.');
            row('returned', 'never: still in the call ' + fmtDur(Math.max(0, tr.end - tr.time[i])) + ' later, at the end of the trace', 'tl-err');
          }
        } else if (kind === K.syscall || kind === K.complete || kind === K.cancel) {
          resValue = tr.res[i];
        }
        if (kind === K.ready) {
          row('events', epollEvents(tr.arg0[i]));
          row('epoll fd', String(tr.arg1[i]));
        }
        if (kind === K.wakeup) row('events', String(tr.res[i]));
        if (kind === K.counter) row('value', String(tr.res[i]));
        if (kind === K.timer && tr.arg0[i]) row('deadline', fmtTime(tr.arg0[i]));
        if (kind === K.complete && tr.arg0[i]) row('flags', '0x' + tr.arg0[i].toString(16));
        if (kind === K.lint) {
          row('subject', name);
          const m = this._markOf(tr, i);
          if (m && m.message) add(el, 'p', 'tl-message', m.message);
        }
      }
      if (resValue !== null) {
        const en = errnoName(resValue);
        if (en) {
          const why = ERRNO_TEXT[en];
          row('result', resValue + ' ' + en + (why ? ': ' + why : ''), FLOW_ERRNOS.has(-resValue) ? 'tl-warn' : 'tl-err');
        } else {
          row('result', String(resValue));
        }
      }
      const table = add(el, 'table', 'tl-fields');
      for (const [k, v, cls] of rows) {
        const tr2 = add(table, 'tr', cls);
        add(tr2, 'th', '', k);
        add(tr2, 'td', '', v);
      }
      if (resValue !== null) {
        const box = add(el, 'details', 'tl-errnos');
        if (resValue < 0) box.open = true;
        add(box, 'summary', '', 'common results');
        const t = add(box, 'table', '');
        for (const n of COMMON_ERRNOS) {
          const r = add(t, 'tr', resValue === -n ? 'tl-current' : '');
          add(r, 'td', '', '-' + n);
          add(r, 'td', '', ERRNO[n]);
          add(r, 'td', '', ERRNO_TEXT[ERRNO[n]]);
        }
      }
    }

    _markOf(tr, idx) {
      const d = tr.loops.get(tr.loop[idx]);
      return d ? d.marks.find((m) => m.idx === idx) : null;
    }

    // ---- The event list ----
    //
    // The list is the timeline as text: the events of one track in the
    // order stepping visits them, one row each, in a listbox. Its
    // selection is the canvas's: selecting a row selects the event on the
    // canvas (and brings it into view there), and selecting on the canvas
    // selects its row. Only the rows in sight are in the document; each
    // says its place in the whole list (aria-posinset, aria-setsize).

    // palette returns the colours the canvas draws with now, by name.
    palette() {
      return Object.assign({}, C);
    }

    // setList makes el the event list's container (null: no list).
    setList(el) {
      if (this._list) this._list.root.textContent = '';
      this._list = null;
      this.listEl = el || null;
      this._buildList();
    }

    _buildList() {
      const root = this.listEl;
      if (!root) return;
      const doc = root.ownerDocument;
      const el = (tag, cls, parent) => {
        const n = doc.createElement(tag);
        if (cls) n.className = cls;
        if (parent) parent.appendChild(n);
        return n;
      };
      root.textContent = '';
      root.classList.add('tl-list');
      const id = 'tl' + (++listSerial);
      const head = el('div', 'tl-list-head', root);
      const label = el('label', 'tl-list-pick', head);
      label.appendChild(doc.createTextNode('Events of '));
      const track = el('select', 'tl-list-track', label);
      track.setAttribute('data-testid', 'event-list-track');
      const count = el('span', 'tl-list-count', head);
      const scroll = el('div', 'tl-list-scroll', root);
      const box = el('div', 'tl-list-box', scroll);
      box.id = id + '-box';
      box.setAttribute('role', 'listbox');
      box.setAttribute('tabindex', '0');
      box.setAttribute('data-testid', 'event-list');
      const status = el('p', 'tl-list-status', root);
      status.setAttribute('role', 'status');
      status.setAttribute('data-testid', 'event-list-status');
      this._list = {root, id, label, track, count, scroll, box, status, tr: null, active: -1, n: -1, tracks: '', raf: 0};
      track.addEventListener('change', () => {
        const tr = this.tracks.find((x) => String(x.serial) === track.value);
        if (!tr) return;
        this._list.tr = tr;
        this._list.picked = true;
        this._list.active = this.sel && this.sel.tr === tr ? this._listPos(tr, this._selIdx()) : -1;
        this._list.scroll.scrollTop = 0;
        this._renderList(true);
      });
      box.addEventListener('keydown', (ev) => this._onListKey(ev));
      box.addEventListener('click', (ev) => {
        const row = ev.target.closest('[role="option"]');
        if (!row) return;
        box.focus({preventScroll: true});
        this._listGo(Number(row.dataset.pos), false);
      });
      scroll.addEventListener('scroll', () => {
        const l = this._list;
        if (l.raf) return;
        l.raf = requestAnimationFrame(() => {
          l.raf = 0;
          this._renderList(false);
        });
      });
      this._renderList(true);
    }

    // _selIdx returns the event the selection stands for, or -1: a finding
    // stands for its lint event, if it has one.
    _selIdx() {
      const s = this.sel;
      if (!s) return -1;
      return s.mark ? s.mark.idx : s.idx;
    }

    // _listPos returns event idx's row in tr's list, or -1.
    _listPos(tr, idx) {
      if (idx < 0 || tr.kind[idx] === this.K.counter) return -1;
      const t = tr.time[idx];
      let lo = 0;
      let hi = tr.nsteps;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (tr.time[tr.steps[mid]] < t) lo = mid + 1;
        else hi = mid;
      }
      for (let p = lo; p < tr.nsteps && tr.time[tr.steps[p]] === t; p++) if (tr.steps[p] === idx) return p;
      return -1;
    }

    // _syncList shows the selection in the list: its track, its row, in
    // sight. A selection made on the canvas is also said aloud, politely.
    _syncList(fromList) {
      const l = this._list;
      if (!l) return;
      const s = this.sel;
      if (s && s.tr !== l.tr && this.tracks.includes(s.tr)) {
        l.tr = s.tr;
        l.picked = true;
        l.scroll.scrollTop = 0;
      }
      l.active = s && s.tr === l.tr ? this._listPos(l.tr, this._selIdx()) : -1;
      this._renderList(true);
      if (!fromList) l.status.textContent = s ? 'Selected: ' + this._rowText(s.tr, s.mark ? -1 : s.idx, s.mark).join(', ') : '';
    }

    // _rowText describes event idx of tr (or a finding) in a few short
    // parts: time, thread, what, and a note (error, would block, harness).
    _rowText(tr, idx, mark) {
      if (mark) return [fmtTime(mark.time), loopLabel(mark.idx >= 0 ? tr.loop[mark.idx] : (mark.finding ? mark.finding.loop | 0 : 0)), 'finding ' + mark.code, mark.message];
      const K = this.K;
      const kind = tr.kind[idx];
      const name = tr.nameOf(tr.name[idx]);
      const kindName = this.schema.kinds[kind] || 'event';
      const phase = this.schema.phases[tr.phase[idx]] || '';
      const fd = tr.fd[idx] >= 0 ? 'fd ' + tr.fd[idx] : '';
      const res = tr.res[idx];
      let what;
      let note = '';
      if (kind === K.handler) {
        const b = phase === 'end' ? tr.pair[idx] : idx;
        what = (phase === 'begin' ? 'callback ' + name + ' begins' : phase === 'end' ? 'callback ' + name + ' ends' : 'callback ' + name);
        if (b >= 0 && tr.arg1[b] !== 0) note = "the harness's";
        if (phase === 'begin' && tr.pair[idx] >= 0) what += ', runs ' + fmtDur(tr.time[tr.pair[idx]] - tr.time[idx]);
        if (phase === 'begin' && tr.pair[idx] < 0) note = note ? note + ', never returned' : 'never returned';
      } else if (kind === K.syscall) {
        const call = name + '(' + fd + ')';
        if (phase === 'begin') {
          what = call + ' begins';
          if (tr.pair[idx] < 0) note = 'never returned';
        } else {
          what = call + ' = ' + res + (res < 0 ? ' ' + errnoName(res) : '') + ', ' + fmtDur(tr.dur[idx]);
        }
      } else if (kind === K.ready) {
        what = 'ready: ' + fd + ' ' + epollEvents(tr.arg0[idx]);
        if (tr.arg0[idx] & EPOLL_TROUBLE) note = 'error';
      } else if (kind === K.lint) {
        what = 'finding ' + this._lintName(tr.arg0[idx]) + (name ? ': ' + name : '');
        note = this._quiet(this._lintName(tr.arg0[idx])) ? 'not graded' : 'finding';
      } else {
        what = kindName + (phase && phase !== 'instant' ? ' ' + phase : '') + (name ? ' ' + name : '') + (fd ? ' on ' + fd : '');
        if ((kind === K.complete || kind === K.cancel) && res !== 0) what += ': ' + res + (res < 0 ? ' ' + errnoName(res) : '');
        if (kind === K.wakeup) what += ': ' + res + ' event' + (res === 1 ? '' : 's');
      }
      if (!note && res < 0 && (kind === K.syscall || kind === K.complete)) note = FLOW_ERRNOS.has(-res) ? 'would block' : 'error';
      return [fmtTime(tr.time[idx]), loopLabel(tr.loop[idx]), what, note].filter((x) => x);
    }

    // _renderList draws the rows in sight, and the active one; reveal
    // scrolls the active row into sight first.
    _renderList(reveal) {
      const l = this._list;
      if (!l) return;
      const doc = l.root.ownerDocument;
      // The track picker follows the tracks.
      const key = this.tracks.map((t) => t.serial + ':' + t.label).join('|');
      if (key !== l.tracks) {
        l.tracks = key;
        l.track.textContent = '';
        for (const t of this.tracks) {
          const o = doc.createElement('option');
          o.value = String(t.serial);
          o.textContent = t.label;
          l.track.appendChild(o);
        }
      }
      // Until the student picks a track or selects an event, the list
      // shows the first track, as the tracks are sorted when they come.
      if (!l.picked && !this.sel && this.tracks.length) l.tr = this.tracks[0];
      if (!l.tr || !this.tracks.includes(l.tr)) {
        // A track reset keeps its place in the list; else the first.
        const same = l.tr && this.trackById.get(l.tr.id);
        l.tr = same || this.tracks[0] || null;
        if (!same) l.picked = false;
        l.active = -1;
      }
      const tr = l.tr;
      const n = tr ? tr.nsteps : 0;
      l.n = n;
      if (tr) l.track.value = String(tr.serial);
      l.label.hidden = !tr;
      l.count.textContent = tr ? fmtInt(n) + (n === 1 ? ' event' : ' events') : 'Events: none yet';
      l.box.setAttribute('aria-label', tr ? 'Events of ' + tr.label + ', in time order' : 'Events');
      l.box.style.height = Math.max(1, n) * LIST_ROW + 'px';
      if (reveal && l.active >= 0) {
        const top = l.active * LIST_ROW;
        const h = l.scroll.clientHeight || LIST_ROW * 10;
        if (top < l.scroll.scrollTop) l.scroll.scrollTop = top;
        else if (top + LIST_ROW > l.scroll.scrollTop + h) l.scroll.scrollTop = top + LIST_ROW - h;
      }
      const h = l.scroll.clientHeight || LIST_ROW * 10;
      const first = Math.max(0, Math.floor(l.scroll.scrollTop / LIST_ROW) - 4);
      const last = Math.min(n - 1, Math.ceil((l.scroll.scrollTop + h) / LIST_ROW) + 4);
      const rows = [];
      for (let p = first; p <= last; p++) rows.push(p);
      if (l.active >= 0 && l.active < n && (l.active < first || l.active > last)) rows.push(l.active);
      l.box.textContent = '';
      for (const p of rows) {
        const idx = tr.steps[p];
        const row = doc.createElement('div');
        row.setAttribute('role', 'option');
        row.id = l.id + '-ev-' + p;
        row.dataset.pos = String(p);
        row.dataset.seq = String(tr.seq[idx]);
        row.dataset.loop = String(tr.loop[idx]);
        row.setAttribute('aria-posinset', String(p + 1));
        row.setAttribute('aria-setsize', String(n));
        row.setAttribute('aria-selected', p === l.active ? 'true' : 'false');
        row.className = 'tl-row';
        row.style.top = p * LIST_ROW + 'px';
        const parts = this._rowText(tr, idx);
        const note = parts.length > 3 ? parts[3] : '';
        const cells = [['tl-row-time', parts[0]], ['tl-row-thread', parts[1]], ['tl-row-what', parts[2]]];
        if (note) cells.push(['tl-row-note tl-note-' + note.replace(/[^a-z]+/g, '-'), note]);
        for (const [cls, text] of cells) {
          const c = doc.createElement('span');
          c.className = cls;
          c.textContent = text;
          row.appendChild(c);
        }
        l.box.appendChild(row);
      }
      if (l.active >= 0) l.box.setAttribute('aria-activedescendant', l.id + '-ev-' + l.active);
      else l.box.removeAttribute('aria-activedescendant');
    }

    // _onListKey moves the selection through the list.
    _onListKey(ev) {
      const l = this._list;
      if (!l.tr || ev.altKey || ev.metaKey || ev.ctrlKey) return;
      const n = l.tr.nsteps;
      const page = Math.max(1, Math.floor((l.scroll.clientHeight || LIST_ROW * 10) / LIST_ROW) - 1);
      const at = l.active;
      let to;
      switch (ev.key) {
        case 'ArrowDown':
          to = at < 0 ? 0 : at + 1;
          break;
        case 'ArrowUp':
          to = at < 0 ? 0 : at - 1;
          break;
        case 'PageDown':
          to = at < 0 ? 0 : at + page;
          break;
        case 'PageUp':
          to = at < 0 ? 0 : at - page;
          break;
        case 'Home':
          to = 0;
          break;
        case 'End':
          to = n - 1;
          break;
        case 'Enter':
          if (at >= 0) this._listGo(at, true);
          ev.preventDefault();
          return;
        default:
          return;
      }
      ev.preventDefault();
      if (n) this._listGo(Math.max(0, Math.min(n - 1, to)), false);
    }

    // _listGo selects row p of the list on the canvas: brought into view,
    // or, when frame, framed with context and flashed.
    _listGo(p, frame) {
      const tr = this._list.tr;
      const idx = tr.steps[p];
      this._playing = false;
      this.autoFit = false;
      this.cursor = tr.time[idx];
      this.cursorEnd = false;
      if (tr.collapsed) {
        tr.collapsed = false;
        this._layoutDirty = true;
      }
      if (frame) {
        this._frameOn(...this._extent(tr, idx));
        this.flash = {tr, idx, until: performance.now() + 1600};
      } else {
        this._keepVisible(tr.time[idx], 0.1);
      }
      this._select({tr, idx}, true);
      this._stepFrom = 'sel';
      this._revealLane(tr, idx);
      this._changed();
    }

    // ---- Frames ----

    _changed() {
      this._clampStart();
      this._stateChanged = true;
      this._invalidate();
    }

    // _clampStart keeps the view from showing time before the run started,
    // keeping its span (on a linear axis) or its scale: whatever moved it
    // (a fit, a jump, a zoom, a pan).
    _clampStart() {
      if (this.v0 >= 0) return;
      const ax = this._axisNow();
      const k = ax.n ? ax.scale(this.v0, this.v1, this._plotW()) : NaN;
      if (k > 0) {
        this._viewAt(ax, k, 0);
        return;
      }
      this.v1 -= this.v0;
      this.v0 = 0;
    }

    _invalidate() {
      this._dirty = true;
      if (!this._raf) this._raf = requestAnimationFrame(this._frame);
    }

    _frame(now) {
      this._raf = 0;
      this._applyFit();
      if (this._playing) {
        if (this._lastTick) {
          const dt = Math.min(0.25, (now - this._lastTick) / 1000);
          const end = this.traceEnd();
          if (this.skipIdle) {
            // More than a second of playing until the next event (or the
            // end): go to a tenth of a second before it.
            const next = Math.min(this._nextEventAfter(this.cursor), end);
            if (next - this.cursor > this.speed) this.cursor = next - this.speed / 10;
          }
          this.cursor += dt * this.speed;
          // A collapsed gap is crossed in a tenth of a second of playing.
          const ax = this._axisNow();
          const g = ax.n ? ax.inGap(this.cursor) : -1;
          if (g >= 0) this.cursor = Math.max(this.cursor, ax.b[g] - this.speed / 10);
          if (this.cursor >= end) {
            this.cursor = end;
            this.cursorEnd = true;
            this._playing = false;
          }
          // The view follows: the cursor stays at most 85% of the way across.
          const m = this._map();
          const x = m.ax.d(this.cursor, m.k) - m.d0;
          if (x > m.W * 0.85) this._viewAt(m.ax, m.k, m.d0 + x - m.W * 0.85);
          else if (x < 0) this._viewAt(m.ax, m.k, m.d0 + x - m.W * 0.05);
          this._clampStart();
        }
        this._lastTick = now;
        this._dirty = true;
        this._stateChanged = true;
      }
      if (this.flash) {
        if (now > this.flash.until) this.flash = null;
        this._dirty = true;
      }
      if (this._dirty) {
        this._dirty = false;
        this._started++;
        const t0 = performance.now();
        this._draw();
        const ms = performance.now() - t0;
        this._frames++;
        this._lastMs = ms;
        this._sumMs += ms;
        if (ms > this._maxMs) this._maxMs = ms;
        this._durs[this._ndurs++ % this._durs.length] = ms;
      }
      // The list follows the data: new events, tracks added or reset.
      const l = this._list;
      if (l && ((l.tr !== (this.tracks[0] || null) && !l.picked && !this.sel) || (l.tr && l.n !== l.tr.nsteps) || l.tracks !== this.tracks.map((t) => t.serial + ':' + t.label).join('|'))) {
        this._renderList(false);
      }
      if (this._stateChanged) {
        this._stateChanged = false;
        if (this.onChange) {
          try {
            this.onChange(this.view());
          } catch (err) {
            setTimeout(() => {
              throw err;
            });
          }
        }
      }
      if (this._playing || this.flash) this._invalidate();
    }

    // ---- Layout ----

    _plotW() {
      return Math.max(10, this.W - GUTTER - RIGHT_PAD);
    }

    _resize() {
      const r = this.canvas.getBoundingClientRect();
      const dpr = window.devicePixelRatio || 1;
      const w = Math.max(1, r.width);
      const h = Math.max(1, r.height);
      if (w === this.W && h === this.H && dpr === this.dpr) return;
      this.W = w;
      this.H = h;
      this.dpr = dpr;
      this.canvas.width = Math.round(w * dpr);
      this.canvas.height = Math.round(h * dpr);
      this._scroll(0);
      this._invalidate();
    }

    _layoutNow() {
      let dirty = this._layoutDirty;
      for (const tr of this.tracks) {
        if (tr.layoutDirty) {
          tr.layoutDirty = false;
          dirty = true;
        }
      }
      if (!dirty) return;
      this._layoutDirty = false;
      const out = [];
      let y = 0;
      const push = (tr, type, h, d, key) => {
        out.push({tr, type, y, h, d, key});
        y += h;
      };
      for (const tr of this.tracks) {
        push(tr, 'header', HEADER_H, null, 'h');
        if (tr.collapsed) continue;
        for (const loop of [...tr.loops.keys()].sort((a, b) => a - b)) {
          push(tr, 'loop', LOOP_H, tr.loops.get(loop), 'l' + loop);
        }
        if (tr.kernel) push(tr, 'kernel', KPAD * 2 + tr.kernel.rows * KROW_H, tr.kernel, 'k');
        for (const fd of [...tr.fds.keys()].sort((a, b) => a - b)) push(tr, 'fd', FD_H, tr.fds.get(fd), 'f' + fd);
        const names = [...tr.counters.keys()].sort((a, b) => {
          const ia = COUNTER_ORDER.indexOf(a);
          const ib = COUNTER_ORDER.indexOf(b);
          return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || (a < b ? -1 : a > b ? 1 : 0);
        });
        for (const n of names) push(tr, 'counter', COUNTER_H, tr.counters.get(n), 'c' + n);
      }
      this.layout = out;
      this.contentH = y;
      if (this.autoHeight) {
        const want = Math.ceil(AXIS_H + y + 2) + 'px';
        if (this.canvas.style.height !== want) this.canvas.style.height = want;
      }
      this._scroll(0);
    }

    _laneLabel(l) {
      const tr = l.tr;
      switch (l.type) {
        case 'header':
          return [tr.label, ''];
        case 'loop':
          return [loopLabel(l.d.loop), l.d.loop === 0 ? 'handlers · syscalls' : 'loop ' + l.d.loop];
        case 'kernel':
          return ['kernel', 'ops in flight'];
        case 'fd':
          return ['fd ' + l.d.fd, l.d.names.join(' · ')];
        case 'counter':
          return [l.d.name, 'max ' + fmtInt(l.d.max)];
      }
      return ['', ''];
    }

    // ---- Drawing ----

    _patterns() {
      const mk = (bg, ink) => {
        const c = document.createElement('canvas');
        c.width = 8;
        c.height = 8;
        const g = c.getContext('2d');
        if (bg) {
          g.fillStyle = bg;
          g.fillRect(0, 0, 8, 8);
        }
        g.strokeStyle = ink;
        g.lineWidth = 1.5;
        g.beginPath();
        g.moveTo(-2, 10);
        g.lineTo(10, -2);
        g.moveTo(-2, 2);
        g.lineTo(2, -2);
        g.moveTo(6, 10);
        g.lineTo(10, 6);
        g.stroke();
        return this.ctx.createPattern(c, 'repeat');
      };
      this.hatchKernel = mk(C.kwait, C.kwaitInk);
      this.hatchOpen = mk(null, C.openInk);
      this.hatchWait = mk(C.waitBg, C.waitInk);
      this.hatchError = mk(null, C.errorInk);
    }

    // _textW returns the width of s in the current font, cached.
    _textW(s) {
      const font = this.ctx.font;
      let m = this._widths.get(font);
      if (!m) {
        m = new Map();
        this._widths.set(font, m);
      }
      let w = m.get(s);
      if (w === undefined) {
        w = this.ctx.measureText(s).width;
        if (m.size > 5000) m.clear();
        m.set(s, w);
      }
      return w;
    }

    // _label draws s inside [x0, x1], truncated with an ellipsis, if it fits.
    _label(s, x0, x1, y, color) {
      const lx0 = Math.max(x0, GUTTER) + 4;
      const lx1 = Math.min(x1, this.W - RIGHT_PAD) - 3;
      const room = lx1 - lx0;
      if (room < 14 || !s) return;
      const ctx = this.ctx;
      let text = s;
      const w = this._textW(s);
      if (w > room) {
        const n = Math.floor((room / w) * s.length) - 1;
        if (n < 2) return;
        text = s.slice(0, n) + '…';
      }
      ctx.fillStyle = color;
      ctx.fillText(text, lx0, y);
    }

    _draw() {
      const ctx = this.ctx;
      const dpr = this.dpr;
      this._layoutNow();
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.font = FONT;
      ctx.textBaseline = 'middle';
      const W = this.W;
      const H = this.H;
      ctx.fillStyle = C.bg;
      ctx.fillRect(0, 0, W, H);
      this._drawn = 0;
      const ds = this.canvas.dataset;
      if (W < GUTTER + 40 || H < AXIS_H + 10) {
        // Not laid out yet, or too small to show a lane.
        ds.lanes = '0';
        ds.drawn = '0';
        ds.events = String(this.eventCount());
        return;
      }

      // The map from time to x, for every draw of this frame.
      const m = this._map();
      const X = this._xOf(m);
      this._m = m;
      this._X = X;
      this._lo = m.ax.inv(m.d0 - 2, m.k);
      this._hi = m.ax.inv(m.d0 + m.W + 2, m.k);
      const ticks = this._ticks(m);

      // Pass 1: lane backgrounds and labels, then the grid.
      let lanes = 0;
      const visible = [];
      for (const l of this.layout) {
        const y = AXIS_H + l.y - this.scrollY;
        if (y > H || y + l.h < AXIS_H) continue;
        visible.push([l, y]);
        if (l.type !== 'header') lanes++;
      }
      ctx.save();
      ctx.beginPath();
      ctx.rect(0, AXIS_H, W, H - AXIS_H);
      ctx.clip();
      let alt = false;
      for (const [l, y] of visible) {
        if (l.type === 'header') {
          alt = false;
          continue;
        }
        ctx.fillStyle = alt ? C.laneAlt : C.bg;
        alt = !alt;
        ctx.fillRect(GUTTER, y, W - GUTTER, l.h);
        const ex = X(l.tr.end);
        if (l.tr.n && ex < W) {
          ctx.fillStyle = C.ended;
          ctx.fillRect(Math.max(GUTTER, ex), y, W - Math.max(GUTTER, ex), l.h);
        }
      }
      ctx.strokeStyle = C.grid;
      ctx.lineWidth = 1;
      ctx.beginPath();
      for (const t of ticks.values) {
        const x = Math.round(X(t)) + 0.5;
        ctx.moveTo(x, AXIS_H);
        ctx.lineTo(x, H);
      }
      ctx.stroke();

      // Pass 2: lane contents, clipped to the plot.
      ctx.save();
      ctx.beginPath();
      ctx.rect(GUTTER, AXIS_H, W - GUTTER - RIGHT_PAD + 4, H - AXIS_H);
      ctx.clip();
      for (const [l, y] of visible) {
        switch (l.type) {
          case 'loop':
            this._drawLoop(l.tr, l.d, y);
            break;
          case 'kernel':
            this._drawKernel(l.tr, l.d, y);
            break;
          case 'fd':
            this._drawFd(l.tr, l.d, y);
            break;
          case 'counter':
            this._drawCounter(l.tr, l.d, y);
            break;
        }
      }
      this._drawFlows(visible);
      const below = visible.find(([l, y]) => l.type !== 'header' && y >= AXIS_H);
      this._drawGaps(this._gapsInView(), AXIS_H, H, (below ? below[1] : AXIS_H) + 8);
      // The future, after the cursor, is dimmed, but for the selected
      // event: the cursor sits at its start.
      const cx = X(this.cursor);
      if (!this.cursorEnd && cx < W) {
        ctx.fillStyle = C.dim;
        const x = Math.max(GUTTER, cx);
        ctx.beginPath();
        ctx.rect(x, AXIS_H, W - x, H - AXIS_H);
        const fl = this.flash;
        const holes = [this.sel];
        if (fl && !(this.sel && this.sel.tr === fl.tr && this.sel.idx === fl.idx)) holes.push(fl);
        for (const f of holes) {
          const r = f && !f.mark ? this._itemRect(f.tr, f.idx, visible) : null;
          if (!r || r.x1 < x) continue;
          const a = Math.max(x, r.x0 - 3);
          const b = Math.min(W, Math.max(r.x1, r.x0) + 3);
          if (b > a) ctx.rect(a, r.y - 3, b - a, r.h + 6);
        }
        ctx.fill('evenodd');
      }
      this._drawSelection(visible);
      if (!this.cursorEnd && cx >= GUTTER && cx <= W - RIGHT_PAD) {
        ctx.strokeStyle = C.cursor;
        ctx.lineWidth = 1.5;
        ctx.beginPath();
        ctx.moveTo(Math.round(cx) + 0.5, AXIS_H);
        ctx.lineTo(Math.round(cx) + 0.5, H);
        ctx.stroke();
      }
      ctx.restore();

      // Headers and the gutter go over the plot.
      for (const [l, y] of visible) {
        if (l.type === 'header') this._drawHeader(l, y, visible[0][0] === l);
        else this._drawGutter(l, y);
      }
      ctx.strokeStyle = C.line;
      ctx.beginPath();
      ctx.moveTo(GUTTER + 0.5, AXIS_H);
      ctx.lineTo(GUTTER + 0.5, H);
      ctx.stroke();
      ctx.restore();

      this._drawAxis(ticks, cx);
      this._drawScrollbar();
      this._drawTooltip();

      ds.lanes = String(lanes);
      ds.drawn = String(this._drawn);
      ds.events = String(this.eventCount());
    }

    // _ticks returns the axis's ticks for map m: a step of about 110 px
    // of time outside the gaps, the times of the ticks outside the gaps
    // (values) and of the minor ones (five per step), and how to label one.
    _ticks(m) {
      const t0 = this.v0;
      const t1 = this.v1;
      const target = 110 / m.k;
      const p = Math.pow(10, Math.floor(Math.log10(target)));
      let step = p;
      for (const f of [1, 2, 5, 10]) {
        if (p * f >= target) {
          step = p * f;
          break;
        }
      }
      step = Math.max(step, 1);
      // The linear stretches of the view, between the gaps in it.
      const segs = [];
      let a = t0;
      const ax = m.ax;
      for (let i = Math.max(0, ax.at(t0)); i < ax.n && ax.a[i] < t1; i++) {
        if (ax.b[i] <= t0) continue;
        if (ax.a[i] > a) segs.push([a, ax.a[i]]);
        a = Math.max(a, ax.b[i]);
      }
      if (a < t1) segs.push([a, t1]);
      // The unit follows the size of the times shown ("90.6 ms", not
      // "90600 µs"), in each stretch; the decimals follow the step.
      const values = [];
      const labels = [];
      for (const [x, y] of segs) {
        const mag = Math.max(step, Math.abs(x), Math.abs(y));
        const unit = mag < 1e3 ? 1 : mag < 1e6 ? 1e3 : mag < 1e9 ? 1e6 : 1e9;
        const uname = unit === 1 ? 'ns' : unit === 1e3 ? 'µs' : unit === 1e6 ? 'ms' : 's';
        const dec = Math.min(6, Math.max(0, Math.ceil(-Math.log10(step / unit) - 1e-9)));
        for (let t = Math.ceil(x / step) * step; t <= y; t += step) {
          const v = t / unit;
          values.push(t);
          labels.push((Math.abs(v) < 1e-9 ? 0 : v).toFixed(dec) + ' ' + uname);
        }
      }
      const minor = [];
      for (const [x, y] of segs) for (let t = Math.ceil(x / (step / 5)) * (step / 5); t <= y; t += step / 5) minor.push(t);
      return {values, labels, minor, step};
    }

    // _gapsInView returns the collapsed gaps the view shows: [{g, x0, x1}].
    _gapsInView() {
      const m = this._m;
      const ax = m.ax;
      const out = [];
      if (!ax.n) return out;
      const X = this._X;
      for (let i = 0; i < ax.n; i++) {
        if (ax.b[i] <= this.v0 || ax.a[i] >= this.v1) continue;
        out.push({g: ax.gaps[i], i, x0: X(ax.a[i]), x1: X(ax.b[i])});
      }
      return out;
    }

    // _drawGaps draws each collapsed gap in view over the lanes: a band
    // with broken edges, labelled along its length "… 480 ms waiting in
    // the kernel …".
    _drawGaps(gaps, top, bottom, labelY) {
      const ctx = this.ctx;
      for (const {g, x0, x1} of gaps) {
        const w = x1 - x0;
        ctx.fillStyle = C.gapBg;
        ctx.fillRect(x0, top, w, bottom - top);
        // The edges zigzag: the axis is broken here.
        ctx.strokeStyle = C.gapInk;
        ctx.lineWidth = 1;
        ctx.beginPath();
        for (const ex of [x0 + 2.5, x1 - 2.5]) {
          ctx.moveTo(ex, top);
          for (let yy = top, n = 0; yy < bottom; yy += 6, n++) ctx.lineTo(ex + (n % 2 ? -2 : 2), yy + 6);
        }
        ctx.stroke();
        if (w < 14) continue;
        // The label, read bottom to top, from the top of the lanes.
        const text = '… ' + g.label + ' …';
        ctx.save();
        ctx.font = FONT;
        ctx.fillStyle = C.gapText;
        ctx.translate((x0 + x1) / 2, labelY);
        ctx.rotate(Math.PI / 2);
        ctx.textBaseline = 'middle';
        ctx.fillText(text, 0, 0);
        ctx.restore();
        this._drawn++;
      }
    }

    _drawAxis(ticks, cx) {
      const ctx = this.ctx;
      const W = this.W;
      const X = this._X;
      ctx.fillStyle = C.bg;
      ctx.fillRect(0, 0, W, AXIS_H);
      ctx.fillStyle = C.gutter;
      ctx.fillRect(0, 0, GUTTER, AXIS_H);
      ctx.strokeStyle = C.border;
      ctx.lineWidth = 1;
      ctx.beginPath();
      ctx.moveTo(0, AXIS_H - 0.5);
      ctx.lineTo(W, AXIS_H - 0.5);
      ctx.moveTo(GUTTER + 0.5, 0);
      ctx.lineTo(GUTTER + 0.5, AXIS_H);
      ctx.stroke();
      ctx.save();
      ctx.beginPath();
      ctx.rect(GUTTER, 0, W - GUTTER, AXIS_H);
      ctx.clip();
      ctx.strokeStyle = C.faint;
      ctx.beginPath();
      for (const t of ticks.minor) {
        const x = Math.round(X(t)) + 0.5;
        ctx.moveTo(x, AXIS_H - 4);
        ctx.lineTo(x, AXIS_H);
      }
      ctx.stroke();
      // The gaps: their length where the time would be, where it fits
      // between its neighbours' (taken holds the labels drawn so far).
      const gaps = this._gapsInView();
      const taken = [];
      const free = (a, b) => !taken.some(([c, d]) => c < b + 4 && d > a - 4);
      ctx.font = FONT_SMALL;
      for (let n = 0; n < gaps.length; n++) {
        const {g, x0, x1} = gaps[n];
        ctx.fillStyle = C.gapBg;
        ctx.fillRect(x0, 0, x1 - x0, AXIS_H);
        const text = fmtDur(g.b - g.a);
        const tw = this._textW(text);
        const tx = (x0 + x1) / 2 - tw / 2;
        const next = n + 1 < gaps.length ? gaps[n + 1].x0 : Infinity;
        if (tw < x1 - x0 + 24 && free(tx - 2, tx + tw + 2) && tx + tw + 2 < next) {
          ctx.fillRect(tx - 2, 5, tw + 4, 16);
          ctx.fillStyle = C.gapText;
          ctx.fillText(text, tx, 13);
          taken.push([tx - 2, tx + tw + 2]);
        }
        taken.push([x0, x1]);
        ctx.strokeStyle = C.gapInk;
        ctx.beginPath();
        ctx.moveTo(x0 + 2.5, AXIS_H);
        ctx.lineTo(x0 + 6.5, AXIS_H - 10);
        ctx.moveTo(x1 - 6.5, AXIS_H);
        ctx.lineTo(x1 - 2.5, AXIS_H - 10);
        ctx.stroke();
      }
      ctx.strokeStyle = C.muted;
      ctx.beginPath();
      ctx.font = FONT;
      ctx.fillStyle = C.axisText;
      ctx.textBaseline = 'middle';
      // The time each gap ends, which starts the stretch after it, where
      // it fits before the next gap.
      for (let n = 0; n < gaps.length; n++) {
        const {g, x1} = gaps[n];
        const text = fmtTime(g.b);
        const w = this._textW(text);
        const next = n + 1 < gaps.length ? gaps[n + 1].x0 : W - 2;
        if (x1 + 16 + w > next - 4 || !free(x1 + 14, x1 + 14 + w)) continue;
        const x = Math.round(x1) + 0.5;
        ctx.moveTo(x, AXIS_H - 10);
        ctx.lineTo(x, AXIS_H);
        ctx.fillText(text, x + 14, 13);
        taken.push([x, x + 16 + w]);
      }
      for (let n = 0; n < ticks.values.length; n++) {
        const x = Math.round(X(ticks.values[n])) + 0.5;
        ctx.moveTo(x, AXIS_H - 10);
        ctx.lineTo(x, AXIS_H);
        const text = ticks.labels[n];
        const x1 = x + 4 + this._textW(text);
        if (x1 < W - 2 && free(x, x1)) ctx.fillText(text, x + 4, 13);
      }
      ctx.stroke();
      // The end of the run.
      const end = this.traceEnd();
      if (end > 0) {
        const ex = X(end);
        if (ex > GUTTER && ex < W) {
          ctx.fillStyle = C.endShade;
          ctx.fillRect(ex, 0, W - ex, AXIS_H);
        }
      }
      // The cursor: a handle and its time.
      if (!this.cursorEnd && cx >= GUTTER - 1 && cx <= W - RIGHT_PAD + 1) {
        const label = fmtTime(this.cursor);
        ctx.font = FONT_SMALL;
        const tw = ctx.measureText(label).width + 10;
        let lx = cx - tw / 2;
        lx = Math.max(GUTTER + 1, Math.min(W - tw - 1, lx));
        ctx.fillStyle = C.cursor;
        this._roundRect(lx, AXIS_H - 16, tw, 14, 3);
        ctx.fill();
        ctx.fillStyle = C.onCursor;
        ctx.fillText(label, lx + 5, AXIS_H - 9);
      }
      ctx.restore();
      // The gutter: what the view spans, and the playback state.
      ctx.font = FONT_SMALL;
      ctx.fillStyle = C.muted;
      const ng = gaps.length;
      const shown = this.v1 - this.v0 - gaps.reduce((n, {g}) => n + Math.min(g.b, this.v1) - Math.max(g.a, this.v0), 0);
      ctx.fillText(ng ? 'view ' + fmtDur(shown) + ' + ' + ng + (ng > 1 ? ' idle gaps' : ' idle gap') : 'view ' + fmtDur(this.v1 - this.v0), 10, 12);
      let state = this._playing ? '▶ playing ×' + this._speedLabel() : this.live ? '● live' : '';
      if (!state && !this.cursorEnd) state = 'cursor ' + fmtTime(this.cursor);
      if (state) {
        ctx.fillStyle = this.live && !this._playing ? C.error : C.cursor;
        ctx.fillText(state, 10, 25);
      }
    }

    _speedLabel() {
      return fmtDur(this.speed) + '/s';
    }

    _roundRect(x, y, w, h, r) {
      const ctx = this.ctx;
      ctx.beginPath();
      ctx.moveTo(x + r, y);
      ctx.arcTo(x + w, y, x + w, y + h, r);
      ctx.arcTo(x + w, y + h, x, y + h, r);
      ctx.arcTo(x, y + h, x, y, r);
      ctx.arcTo(x, y, x + w, y, r);
      ctx.closePath();
    }

    _drawHeader(l, y, first) {
      const ctx = this.ctx;
      const tr = l.tr;
      ctx.fillStyle = C.header;
      ctx.fillRect(0, y, this.W, HEADER_H);
      ctx.strokeStyle = C.border;
      ctx.lineWidth = 1;
      ctx.beginPath();
      ctx.moveTo(0, y + 0.5);
      ctx.lineTo(this.W, y + 0.5);
      ctx.moveTo(0, y + HEADER_H - 0.5);
      ctx.lineTo(this.W, y + HEADER_H - 0.5);
      ctx.stroke();
      ctx.font = FONT_BOLD;
      ctx.fillStyle = C.text;
      const label = (tr.collapsed ? '▸ ' : '▾ ') + tr.label;
      ctx.fillText(label, 10, y + HEADER_H / 2 + 1);
      const lw = ctx.measureText(label).width;
      ctx.font = FONT_SMALL;
      ctx.fillStyle = C.muted;
      const nq = tr.findings.filter((f) => this._quiet(f.code)).length;
      const nf = tr.findings.length - nq;
      const meta = fmtInt(tr.n) + ' events · ' + fmtDur(tr.end) + (nf ? ' · ' + nf + (nf > 1 ? ' findings' : ' finding') : '') +
        (nq ? ' · ' + nq + ' not graded' : '');
      const mx = Math.max(GUTTER + 8, 10 + lw + 14);
      ctx.fillText(meta, mx, y + HEADER_H / 2 + 1);
      if (first) this._drawLegend(y, mx + ctx.measureText(meta).width + 24);
      ctx.font = FONT;
    }

    // _drawLegend explains the marks, at the right of the first header: as
    // many as fit right of minX, the most telling first.
    _drawLegend(y, minX) {
      const ctx = this.ctx;
      const items = [
        [0, 'handler', (x, cy) => { ctx.fillStyle = HANDLER_COLORS[0]; ctx.fillRect(x, cy - 5, 12, 10); }],
        [1, 'waiting to run', (x, cy) => { ctx.fillStyle = this.hatchWait; ctx.fillRect(x, cy - 3, 12, 6); }],
        [6, 'syscall', (x, cy) => { ctx.fillStyle = C.syscall; ctx.fillRect(x, cy - 3, 12, 6); }],
        [2, 'in the kernel', (x, cy) => { ctx.fillStyle = this.hatchKernel; ctx.fillRect(x, cy - 4, 12, 8); }],
        [3, 'would block', (x, cy) => { ctx.fillStyle = C.blocked; ctx.fillRect(x, cy - 3, 12, 6); }],
        [4, 'error', (x, cy) => {
          ctx.fillStyle = C.error;
          ctx.fillRect(x, cy - 4, 12, 8);
          ctx.fillStyle = this.hatchError;
          ctx.fillRect(x, cy - 4, 12, 8);
        }],
        [5, 'finding', (x, cy) => this._flag(x + 6, cy - 5)],
        [7, 'never returned', (x, cy) => {
          ctx.fillStyle = C.blocked;
          ctx.fillRect(x, cy - 3, 12, 6);
          ctx.fillStyle = this.hatchOpen;
          ctx.fillRect(x, cy - 3, 12, 6);
        }],
      ];
      ctx.font = FONT_SMALL;
      const room = this.W - RIGHT_PAD - minX;
      const width = (t) => 18 + this._textW(t) + 12;
      let used = 0;
      const keep = new Set();
      for (const it of [...items].sort((a, b) => a[0] - b[0])) {
        if (used + width(it[1]) > room) break;
        used += width(it[1]);
        keep.add(it);
      }
      let x = this.W - RIGHT_PAD - used;
      const cy = y + HEADER_H / 2 + 1;
      for (const it of items) {
        if (!keep.has(it)) continue;
        it[2](x, cy);
        ctx.fillStyle = C.muted;
        ctx.fillText(it[1], x + 17, cy);
        x += width(it[1]);
      }
    }

    _drawGutter(l, y) {
      const ctx = this.ctx;
      ctx.fillStyle = C.gutter;
      ctx.fillRect(0, y, GUTTER, l.h);
      ctx.strokeStyle = C.line;
      ctx.lineWidth = 1;
      ctx.beginPath();
      ctx.moveTo(0, y + l.h - 0.5);
      ctx.lineTo(this.W, y + l.h - 0.5);
      ctx.stroke();
      const [main, sub] = this._laneLabel(l);
      const compact = l.h < 28;
      ctx.font = l.type === 'loop' ? FONT_BOLD : FONT;
      ctx.fillStyle = C.text;
      const indent = 18;
      if (compact || !sub) {
        ctx.fillText(main, indent, y + l.h / 2);
        if (sub && compact) {
          const w = ctx.measureText(main).width;
          ctx.font = FONT_SMALL;
          ctx.fillStyle = C.muted;
          let s = sub;
          while (s.length > 3 && indent + w + 8 + ctx.measureText(s).width > GUTTER - 6) s = s.slice(0, -2);
          if (s !== sub) s = s.slice(0, -1) + '…';
          ctx.fillText(s, indent + w + 8, y + l.h / 2);
        }
      } else {
        const cy = l.type === 'loop' ? y + L_HAND + L_HAND_H / 2 : y + l.h / 2 - 6;
        ctx.fillText(main, indent, cy);
        ctx.font = FONT_SMALL;
        ctx.fillStyle = C.muted;
        ctx.fillText(sub, indent, cy + 14);
      }
      if (l.type === 'loop') {
        // Row names, small, next to the rows they name.
        ctx.font = FONT_SMALL;
        ctx.fillStyle = C.faint;
        ctx.textAlign = 'right';
        ctx.fillText('syscalls', GUTTER - 8, y + L_SYS + L_SYS_H / 2);
        ctx.fillText('events', GUTTER - 8, y + L_INST + L_INST_H / 2);
        ctx.textAlign = 'left';
      }
      // A thin bar at the left edge ties the lanes of one track together.
      ctx.fillStyle = HANDLER_COLORS[l.tr.order % HANDLER_COLORS.length];
      ctx.globalAlpha = 0.5;
      ctx.fillRect(0, y, 4, l.h);
      ctx.globalAlpha = 1;
      ctx.font = FONT;
    }

    _drawScrollbar() {
      const viewH = this.H - AXIS_H;
      if (this.contentH <= viewH) return;
      const ctx = this.ctx;
      const h = Math.max(24, viewH * viewH / this.contentH);
      const y = AXIS_H + (viewH - h) * this.scrollY / (this.contentH - viewH);
      ctx.fillStyle = C.scrollbar;
      this._roundRect(this.W - 7, y + 2, 5, h - 4, 2.5);
      ctx.fill();
    }

    // A density mark stands for every item that falls on one pixel column.
    // Its opacity says how much of the column's time the items cover, so
    // a loop that is busy a third of the time looks a third as dark.
    // Failed calls among them colour the top of the mark, as strongly as
    // their share.
    _aggStart(y, h) {
      this._ag = {col: -1e9, n: 0, busy: 0, color: '', nErr: 0, err: '', y, h, r0: 0, r1: -1e9, rColor: '', rAlpha: 0};
    }

    _aggAdd(x0, x1, color, err) {
      const a = this._ag;
      const col = Math.floor(x0);
      if (col !== a.col) {
        this._aggFlush(false);
        a.col = col;
        a.color = color;
      }
      a.n++;
      a.busy += x1 - x0;
      if (err) {
        a.nErr++;
        if (err === C.error || !a.err) a.err = err;
      }
    }

    // _aggFlush ends the current column. Columns of one colour and about
    // the same opacity, side by side, are drawn as one rectangle.
    _aggFlush(final) {
      const a = this._ag;
      const ctx = this.ctx;
      if (a.n) {
        const alpha = Math.round(Math.min(1, 0.35 + 0.65 * a.busy) * 8) / 8;
        if (a.col === a.r1 + 1 && a.color === a.rColor && alpha === a.rAlpha) {
          a.r1 = a.col;
        } else {
          this._aggRun();
          a.r0 = a.r1 = a.col;
          a.rColor = a.color;
          a.rAlpha = alpha;
        }
        if (a.nErr) {
          ctx.fillStyle = a.err;
          ctx.globalAlpha = 0.45 + 0.55 * a.nErr / a.n;
          ctx.fillRect(a.col, a.y, 1, Math.min(a.h, 4));
          ctx.globalAlpha = 1;
          this._drawn++;
        }
        a.n = 0;
        a.nErr = 0;
        a.busy = 0;
        a.err = '';
      }
      if (final !== false) this._aggRun();
    }

    _aggRun() {
      const a = this._ag;
      if (a.r1 < a.r0) return;
      const ctx = this.ctx;
      ctx.fillStyle = a.rColor;
      ctx.globalAlpha = a.rAlpha;
      ctx.fillRect(a.r0, a.y, a.r1 - a.r0 + 1, a.h);
      ctx.globalAlpha = 1;
      this._drawn++;
      a.r0 = 0;
      a.r1 = -1e9;
    }

    // Runs: consecutive narrow bars of one row (ops in flight, one after
    // another) merge into one bar, since the row was busy all along.
    _runsStart(rows) {
      this._runs = [];
      for (let r = 0; r < rows; r++) this._runs.push({x0: 0, x1: -1e9, n: 0, color: '', y: 0, h: 0, alpha: 1});
    }

    _runAdd(row, x0, x1, y, h, color, alpha) {
      const r = this._runs[row];
      if (r.n && x0 <= r.x1 + 2 && r.color === color) {
        if (x1 > r.x1) r.x1 = x1;
        r.n++;
        return;
      }
      this._runFlush(row);
      r.x0 = x0;
      r.x1 = Math.max(x1, x0 + 1);
      r.n = 1;
      r.color = color;
      r.y = y;
      r.h = h;
      r.alpha = alpha;
    }

    _runFlush(row) {
      const r = this._runs[row];
      if (!r.n) return;
      const ctx = this.ctx;
      ctx.globalAlpha = r.alpha;
      ctx.fillStyle = r.color;
      ctx.fillRect(r.x0, r.y, r.x1 - r.x0, r.h);
      ctx.globalAlpha = 1;
      this._drawn++;
      r.n = 0;
    }

    _runsFlush() {
      for (let r = 0; r < this._runs.length; r++) this._runFlush(r);
    }

    _drawLoop(tr, d, y) {
      const ctx = this.ctx;
      const W = this.W;
      const X = this._X;
      const lo = this._lo;
      const hi = this._hi;
      const clampX = (x) => (x < GUTTER - 10 ? GUTTER - 10 : x > W + 10 ? W + 10 : x);

      // Ready -> begin: how long a ready handler waited for the loop.
      this._aggStart(y + L_WAIT, L_WAIT_H);
      ctx.fillStyle = this.hatchWait;
      d.waits.visit(lo, hi, (p) => {
        const x0 = X(d.waits.start[p]);
        const x1 = X(d.waits.end[p]);
        if (x1 - x0 < 1) {
          this._aggAdd(x0, x1, C.blocked);
          return;
        }
        this._aggFlush();
        const a = clampX(x0);
        const b = clampX(x1);
        ctx.fillStyle = this.hatchWait;
        ctx.fillRect(a, y + L_WAIT, b - a, L_WAIT_H);
        ctx.fillStyle = C.blocked;
        ctx.fillRect(a, y + L_WAIT, 1, L_WAIT_H);
        this._drawn++;
      });
      this._aggFlush();

      // Handlers.
      const hs = d.handlers;
      const endT = tr.end;
      this._aggStart(y + L_HAND, L_HAND_H);
      const ty = y + L_HAND + L_HAND_H / 2 + 0.5;
      ctx.font = FONT;
      hs.visit(lo, hi, (p) => {
        const i = hs.ref[p];
        const inf = tr.info(tr.name[i]);
        // The lab's harness's own callbacks (a key in their begin's arg1)
        // are grey: the student's code is what stands out.
        const color = tr.arg1[i] !== 0 ? C.harness : inf.color;
        const open = hs.end[p] === Infinity;
        const x0 = X(hs.start[p]);
        const x1 = X(open ? Math.max(endT, hs.start[p]) : hs.end[p]);
        if (x1 - x0 < 1 && !open) {
          this._aggAdd(x0, x1, color);
          return;
        }
        this._aggFlush();
        const a = clampX(x0);
        const b = Math.max(clampX(x1), a + 1);
        ctx.fillStyle = color;
        ctx.fillRect(a, y + L_HAND, b - a, L_HAND_H);
        if (open) {
          ctx.fillStyle = this.hatchOpen;
          ctx.fillRect(a, y + L_HAND, b - a, L_HAND_H);
        }
        if (b - a > 18) this._label(inf.name, a, b, ty, C.onBar);
        this._drawn++;
      });
      this._aggFlush();

      // Syscalls, under the handlers that made them.
      const ss = d.syscalls;
      this._aggStart(y + L_SYS, L_SYS_H);
      ctx.font = FONT_SMALL;
      const sy = y + L_SYS + L_SYS_H / 2 + 0.5;
      ss.visit(lo, hi, (p) => {
        const i = ss.ref[p];
        if (tr.phase[i] === this.P.begin) {
          if (tr.pair[i] >= 0) return; // its record draws the call
          this._aggFlush();
          this._drawOpenCall(tr, i, X(ss.start[p]), X(Math.max(endT, ss.start[p])), y + L_SYS, L_SYS_H, sy, clampX);
          return;
        }
        const inf = tr.info(tr.name[i]);
        const res = tr.res[i];
        const color = res < 0 ? (FLOW_ERRNOS.has(-res) ? C.blocked : C.error) : C.syscall;
        const x0 = X(ss.start[p]);
        const x1 = X(ss.end[p]);
        if (x1 - x0 < 1) {
          this._aggAdd(x0, x1, inf.wait ? C.kwaitInk : C.syscall, res < 0 ? color : '');
          return;
        }
        this._aggFlush();
        const a = clampX(x0);
        const b = clampX(x1);
        if (inf.wait && res >= 0) {
          ctx.fillStyle = this.hatchKernel;
          ctx.fillRect(a, y + L_SYS, b - a, L_SYS_H);
          ctx.strokeStyle = C.kwaitInk;
          ctx.lineWidth = 1;
          ctx.strokeRect(a + 0.5, y + L_SYS + 0.5, b - a - 1, L_SYS_H - 1);
          if (b - a > 40) {
            const text = b - a > 190 ? inf.name + ' · waiting in the kernel' : inf.name;
            this._labelBox(text, a, b, sy, C.boxText);
          }
        } else {
          ctx.fillStyle = color;
          ctx.fillRect(a, y + L_SYS, b - a, L_SYS_H);
          if (color === C.error && b - a >= 4) {
            ctx.fillStyle = this.hatchError;
            ctx.fillRect(a, y + L_SYS, b - a, L_SYS_H);
          }
          if (b - a > 24) this._label(res < 0 ? inf.name + ' ' + errnoName(res) : inf.name, a, b, sy, C.onBar);
        }
        this._drawn++;
      });
      this._aggFlush();
      ctx.font = FONT;

      // Instants: wakeups, submits, marks, futures, timers.
      this._drawInstants(tr, d.instants, y + L_INST, L_INST_H, lo, hi);

      // Findings and live lints, pinned where they happened.
      // A finding the exercise does not grade by is drawn quietly: grey,
      // with a small tick instead of the red flag.
      for (const m of d.marks) {
        const x = X(m.time);
        const quiet = this._quiet(m.code);
        if (m.wait > 0) {
          const x1 = X(m.time + m.wait);
          if (x1 >= GUTTER && x <= W) {
            ctx.fillStyle = quiet ? C.quietSpan : C.findingSpan;
            ctx.fillRect(clampX(x), y + L_MARK, clampX(x1) - clampX(x), quiet ? 2 : 3);
          }
        }
        if (x < GUTTER - 8 || x > W + 8) continue;
        if (quiet) {
          ctx.fillStyle = C.quiet;
          ctx.fillRect(Math.round(x) - 1, y + L_MARK, 2, 8);
          this._drawn++;
          continue;
        }
        ctx.strokeStyle = C.findingLine;
        ctx.lineWidth = 1;
        ctx.setLineDash([3, 2]);
        ctx.beginPath();
        ctx.moveTo(Math.round(x) + 0.5, y + L_MARK);
        ctx.lineTo(Math.round(x) + 0.5, y + LOOP_H - 2);
        ctx.stroke();
        ctx.setLineDash([]);
        this._flag(x, y + L_MARK);
        this._drawn++;
      }
    }

    // _drawOpenCall draws a call that has not returned, from x0 to x1 (the
    // end of the trace), in the row at [top, top+h): the colour of a call
    // that would block, hatched as open, labelled "in connect(), 1.5 s".
    _drawOpenCall(tr, i, x0, x1, top, h, ty, clampX) {
      const ctx = this.ctx;
      const a = clampX(x0);
      const b = Math.max(clampX(x1), a + 2);
      ctx.fillStyle = C.blocked;
      ctx.fillRect(a, top, b - a, h);
      ctx.fillStyle = this.hatchOpen;
      ctx.fillRect(a, top, b - a, h);
      ctx.fillStyle = C.error;
      ctx.fillRect(b - 2, top, 2, h);
      const text = this._inCall(tr, i);
      if (b - a > this._textW(text) + 10) this._labelBox(text, a, b, ty, C.openText);
      else if (b - a > 24) this._label(text, a, b, ty, C.onBar);
      this._drawn++;
    }

    // _flag draws a finding's marker: a red tab with "!", pointing at x.
    _flag(x, y) {
      const ctx = this.ctx;
      ctx.fillStyle = C.lint;
      ctx.beginPath();
      ctx.moveTo(x - 6, y);
      ctx.lineTo(x + 6, y);
      ctx.lineTo(x + 6, y + 8);
      ctx.lineTo(x, y + 12);
      ctx.lineTo(x - 6, y + 8);
      ctx.closePath();
      ctx.fill();
      ctx.fillStyle = C.onBar;
      ctx.fillRect(x - 0.75, y + 1.5, 1.5, 4.5);
      ctx.fillRect(x - 0.75, y + 7, 1.5, 1.5);
    }

    // _cross draws an x of half-size r at (x, y): a failure, whatever the
    // colours look like.
    _cross(x, y, r, color) {
      const ctx = this.ctx;
      ctx.strokeStyle = color;
      ctx.lineWidth = 2.2;
      ctx.beginPath();
      ctx.moveTo(x - r, y - r);
      ctx.lineTo(x + r, y + r);
      ctx.moveTo(x + r, y - r);
      ctx.lineTo(x - r, y + r);
      ctx.stroke();
    }

    // _labelBox draws a label with a light backdrop, for hatched bars.
    _labelBox(s, x0, x1, y, color) {
      const ctx = this.ctx;
      const lx0 = Math.max(x0, GUTTER) + 4;
      const room = Math.min(x1, this.W - RIGHT_PAD) - lx0 - 3;
      const w = this._textW(s);
      if (room < w) return;
      ctx.fillStyle = C.boxBg;
      ctx.fillRect(lx0 - 2, y - 6, w + 4, 11);
      ctx.fillStyle = color;
      ctx.fillText(s, lx0, y);
    }

    _drawInstants(tr, s, y, h, lo, hi) {
      const ctx = this.ctx;
      const K = this.K;
      const P = this.P;
      const X = this._X;
      // One mark of a kind per 2 pixels: more would draw over each other.
      // Where they are that dense, each is a one-pixel tick.
      const lastCol = this._lastCol || (this._lastCol = new Float64Array(64));
      lastCol.fill(-1e9);
      const cy = y + h / 2;
      const dense = s.upperBound(hi) - s.lowerBound(lo) > this._plotW() / 4;
      const runA = this._runA || (this._runA = new Float64Array(64));
      const runB = this._runB || (this._runB = new Float64Array(64));
      runA.fill(0);
      runB.fill(-1e9);
      const tick = (kind) => {
        if (runB[kind] < runA[kind]) return;
        ctx.fillStyle = C[INSTANT_COLORS[this.schema.kinds[kind]]] || C.muted;
        const a = runA[kind];
        const w = runB[kind] - a + 1;
        if (kind === K.wakeup) ctx.fillRect(a, y, w, h);
        else if (kind === K.submit) ctx.fillRect(a, y, w, h / 2);
        else ctx.fillRect(a, y + h / 2, w, h / 2);
        this._drawn++;
      };
      s.visit(lo, hi, (p) => {
        const i = s.ref[p];
        const x = X(s.start[p]);
        const col = Math.round(x);
        const kind = tr.kind[i] & 63;
        if (dense) {
          // Ticks of one kind in adjacent columns make one bar.
          if (col <= runB[kind] + 1) {
            if (col > runB[kind]) runB[kind] = col;
            return;
          }
          tick(kind);
          runA[kind] = runB[kind] = col;
          return;
        }
        if (col - lastCol[kind] < 2) return;
        lastCol[kind] = col;
        this._drawn++;
        if (kind === K.wakeup) {
          ctx.fillStyle = C.wakeup;
          ctx.fillRect(col - 1, y, 2, h);
        } else if (kind === K.submit) {
          ctx.fillStyle = C.submit;
          ctx.beginPath();
          ctx.moveTo(x - 3.5, y + 1);
          ctx.lineTo(x + 3.5, y + 1);
          ctx.lineTo(x, y + h - 1);
          ctx.closePath();
          ctx.fill();
        } else if (kind === K.mark) {
          ctx.fillStyle = C.mark;
          ctx.beginPath();
          ctx.moveTo(x, y);
          ctx.lineTo(x + 4, cy);
          ctx.lineTo(x, y + h);
          ctx.lineTo(x - 4, cy);
          ctx.closePath();
          ctx.fill();
        } else if (kind === K.future) {
          const ph = tr.phase[i];
          ctx.beginPath();
          if (ph === P.wait) {
            ctx.fillStyle = C.future;
            ctx.fillRect(x - 3.5, cy - 3.5, 7, 7);
          } else {
            ctx.arc(x, cy, 3.5, 0, Math.PI * 2);
            if (ph === P.resolve) {
              ctx.fillStyle = C.future;
              ctx.fill();
            } else {
              ctx.strokeStyle = C.future;
              ctx.lineWidth = 1.5;
              ctx.stroke();
            }
          }
        } else if (kind === K.timer) {
          const ph = tr.phase[i];
          ctx.strokeStyle = C.timer;
          ctx.fillStyle = C.timer;
          ctx.lineWidth = 1.5;
          if (ph === P.cancel) {
            ctx.beginPath();
            ctx.moveTo(x - 3, cy - 3);
            ctx.lineTo(x + 3, cy + 3);
            ctx.moveTo(x + 3, cy - 3);
            ctx.lineTo(x - 3, cy + 3);
            ctx.stroke();
          } else {
            ctx.beginPath();
            ctx.moveTo(x, y + 0.5);
            ctx.lineTo(x + 4, y + h - 0.5);
            ctx.lineTo(x - 4, y + h - 0.5);
            ctx.closePath();
            if (ph === P.fire) ctx.fill();
            else ctx.stroke();
          }
        } else {
          ctx.fillStyle = C.muted;
          ctx.beginPath();
          ctx.arc(x, cy, 2.5, 0, Math.PI * 2);
          ctx.fill();
        }
      });
      if (dense) for (let kd = 0; kd < 64; kd++) tick(kd);
    }

    _drawKernel(tr, d, y) {
      const ctx = this.ctx;
      const W = this.W;
      const X = this._X;
      const clampX = (x) => (x < GUTTER - 10 ? GUTTER - 10 : x > W + 10 ? W + 10 : x);
      const lo = this._lo;
      const hi = this._hi;
      const ops = d.ops;
      const endT = tr.end;
      const rowH = KROW_H - 4;
      ctx.font = FONT_SMALL;
      this._runsStart(d.rows);
      ops.visit(lo, hi, (p) => {
        const r = ops.ref[p];
        const rec = tr.recs[r];
        const row = ops.aux[p];
        const ry = y + KPAD + row * KROW_H + 1;
        const open = ops.end[p] === Infinity;
        const x0 = X(ops.start[p]);
        const x1 = X(open ? Math.max(endT, ops.start[p]) : ops.end[p]);
        const inf = tr.info(rec.name);
        const res = rec.complete >= 0 ? tr.res[rec.complete] : 0;
        if (x1 - x0 < 3 && !open) {
          this._runAdd(row, x0, x1, ry, rowH, res < 0 ? (FLOW_ERRNOS.has(-res) ? C.blocked : C.error) : inf.opColor, 1);
          return;
        }
        this._runFlush(row);
        const a = clampX(x0);
        const b = Math.max(clampX(x1), a + 1);
        ctx.fillStyle = res === -125 ? C.cancelled : inf.opColor;
        ctx.fillRect(a, ry, b - a, rowH);
        if (open) {
          ctx.fillStyle = this.hatchOpen;
          ctx.fillRect(a, ry, b - a, rowH);
        }
        if (res < 0 && b - a > 3) {
          ctx.fillStyle = FLOW_ERRNOS.has(-res) ? C.blocked : C.error;
          ctx.fillRect(b - 3, ry, 3, rowH);
        }
        if (b - a > 26) {
          let text = inf.name;
          if (res < 0) text += ' → ' + errnoName(res);
          else if (open) text += ' (in flight)';
          this._label(text, a, b - (res < 0 ? 3 : 0), ry + rowH / 2 + 0.5, C.onOp);
        }
        this._drawn++;
      });
      this._runsFlush();
      // Extra completions (multishot), cancels and completions of unknown ops.
      const K = this.K;
      d.ticks.visit(lo, hi, (p) => {
        const i = d.ticks.ref[p];
        const x = X(d.ticks.start[p]);
        const ry = y + KPAD + d.ticks.aux[p] * KROW_H + 1;
        this._drawn++;
        if (tr.kind[i] === K.cancel) {
          ctx.strokeStyle = C.cancel;
          ctx.lineWidth = 2;
          ctx.beginPath();
          ctx.moveTo(x - 4, ry);
          ctx.lineTo(x + 4, ry + rowH);
          ctx.moveTo(x + 4, ry);
          ctx.lineTo(x - 4, ry + rowH);
          ctx.stroke();
        } else {
          ctx.fillStyle = C.tick;
          ctx.fillRect(Math.round(x) - 1, ry + 2, 2, rowH - 4);
        }
      });
      ctx.font = FONT;
    }

    _drawFd(tr, d, y) {
      const ctx = this.ctx;
      const W = this.W;
      const K = this.K;
      const X = this._X;
      const clampX = (x) => (x < GUTTER - 10 ? GUTTER - 10 : x > W + 10 ? W + 10 : x);
      const lo = this._lo;
      const hi = this._hi;
      const endT = tr.end;
      // Ops waiting on this fd, faint, behind.
      this._runsStart(1);
      d.ops.visit(lo, hi, (p) => {
        const rec = tr.recs[d.ops.ref[p]];
        const open = d.ops.end[p] === Infinity;
        const x0 = X(d.ops.start[p]);
        const x1 = X(open ? Math.max(endT, d.ops.start[p]) : d.ops.end[p]);
        this._runAdd(0, clampX(x0), Math.max(clampX(x1), clampX(x0) + 1), y + 4, FD_H - 8, tr.info(rec.name).opColor, 0.55);
      });
      this._runsFlush();
      const s = d.items;
      let lastX = -1e9;
      if (s.upperBound(hi) - s.lowerBound(lo) > this._plotW() / 5) {
        this._drawFdTicks(tr, d, y, lo, hi);
        return;
      }
      s.visit(lo, hi, (p) => {
        const i = s.ref[p];
        const kind = tr.kind[i];
        if (kind === K.syscall && tr.phase[i] === this.P.begin) {
          if (tr.pair[i] >= 0) return; // its record draws the call
          ctx.font = FONT_SMALL;
          this._drawOpenCall(tr, i, X(s.start[p]), X(Math.max(endT, s.start[p])), y + FD_H / 2 - 5, 10, y + FD_H / 2 + 0.5, clampX);
          ctx.font = FONT;
          lastX = X(s.start[p]);
          return;
        }
        const x0 = X(s.start[p]);
        const x1 = X(s.end[p]);
        const res = tr.res[i];
        const bad = res < 0 && kind !== K.submit;
        const color = bad ? (FLOW_ERRNOS.has(-res) ? C.blocked : C.error) : null;
        const cy = y + FD_H / 2;
        if (x1 - x0 < 2 && Math.abs(x0 - lastX) < 1.5 && !bad) return;
        lastX = x0;
        this._drawn++;
        if (kind === K.syscall) {
          const inf = tr.info(tr.name[i]);
          const a = clampX(x0);
          const b = Math.max(clampX(x1), a + 2);
          ctx.fillStyle = color || (inf.wait ? C.kwaitInk : C.syscall);
          ctx.fillRect(a, cy - 4, b - a, 8);
          if (color === C.error && b - a >= 4) {
            ctx.fillStyle = this.hatchError;
            ctx.fillRect(a, cy - 4, b - a, 8);
          }
        } else if (kind === K.submit) {
          ctx.fillStyle = C.submit;
          ctx.beginPath();
          ctx.moveTo(x0 - 3.5, cy - 6);
          ctx.lineTo(x0 + 3.5, cy - 6);
          ctx.lineTo(x0, cy);
          ctx.closePath();
          ctx.fill();
        } else if (kind === K.ready) {
          // What epoll_wait said of this fd: a tick; on EPOLLERR or
          // EPOLLHUP a red one under a cross.
          const trouble = tr.arg0[i] & EPOLL_TROUBLE;
          ctx.fillStyle = trouble ? C.error : C.wakeup;
          ctx.fillRect(Math.round(x0) - 1, y + (trouble ? 8 : 3), 2, FD_H - (trouble ? 11 : 6));
          if (trouble) this._cross(x0, y + 5, 3, C.error);
        } else if (bad && color === C.error) {
          // A completion that failed: a cross, not a dot.
          this._cross(x0, cy + 1, 3.5, C.error);
        } else if (bad) {
          // One that would block: a ring.
          ctx.strokeStyle = color;
          ctx.lineWidth = 2;
          ctx.beginPath();
          ctx.arc(x0, cy + 1, 3, 0, Math.PI * 2);
          ctx.stroke();
        } else {
          ctx.fillStyle = isZeroOp(tr.op[i]) ? C.wakeup : C.ok;
          ctx.beginPath();
          ctx.arc(x0, cy + 1, 3.5, 0, Math.PI * 2);
          ctx.fill();
        }
      });
    }

    // _drawFdTicks draws an fd lane with more events than pixels: single
    // events are no longer legible there, so it shows where the fd was
    // active (events less than 3 pixels apart make one band) and ticks only
    // the failures, which stay rare.
    _drawFdTicks(tr, d, y, lo, hi) {
      const ctx = this.ctx;
      const K = this.K;
      const X = this._X;
      const cy = y + FD_H / 2;
      let a = -1e9;
      let b = -1e9;
      const band = () => {
        if (b < a) return;
        ctx.fillRect(GUTTER + a, cy - 2, b - a + 1, 4);
        this._drawn++;
      };
      const fails = [];
      const open = []; // calls that have not returned: drawn over the bands
      ctx.fillStyle = C.band;
      d.items.visit(lo, hi, (p) => {
        const i = d.items.ref[p];
        if (tr.kind[i] === K.syscall && tr.phase[i] === this.P.begin) {
          if (tr.pair[i] < 0) open.push(p);
          return;
        }
        const c = Math.floor(X(d.items.start[p]) - GUTTER);
        if (c > b + 3) {
          band();
          a = c;
        }
        if (c > b) b = c;
        if (tr.res[i] < 0 && tr.kind[i] !== K.submit) fails.push(c, tr.res[i]);
      });
      band();
      // Failures of one class in adjacent columns make one mark; a call
      // that would block is a short tick, an error a full one.
      for (const hard of [false, true]) {
        ctx.fillStyle = hard ? C.error : C.blocked;
        const top = hard ? y + 3 : cy;
        const h = hard ? FD_H - 6 : FD_H / 2 - 3;
        let fa = 0;
        let fb = -1e9;
        for (let j = 0; j < fails.length; j += 2) {
          if (FLOW_ERRNOS.has(-fails[j + 1]) === hard) continue;
          const c = fails[j];
          if (c <= fb + 1) {
            if (c > fb) fb = c;
            continue;
          }
          if (fb >= fa) {
            ctx.fillRect(GUTTER + fa, top, fb - fa + 1, h);
            this._drawn++;
          }
          fa = fb = c;
        }
        if (fb >= fa) {
          ctx.fillRect(GUTTER + fa, top, fb - fa + 1, h);
          this._drawn++;
        }
      }
      if (open.length) {
        const W = this.W;
        const clampX = (x) => (x < GUTTER - 10 ? GUTTER - 10 : x > W + 10 ? W + 10 : x);
        ctx.font = FONT_SMALL;
        for (const p of open) {
          const st = d.items.start[p];
          this._drawOpenCall(tr, d.items.ref[p], X(st), X(Math.max(tr.end, st)), cy - 5, 10, cy + 0.5, clampX);
        }
        ctx.font = FONT;
      }
    }

    _drawCounter(tr, d, y) {
      const ctx = this.ctx;
      const s = d.s;
      if (s.n === 0) return;
      const X = this._X;
      const base = y + COUNTER_H - 4;
      const scale = (COUNTER_H - 9) / Math.max(1, d.max);
      let p = Math.max(0, s.lowerBound(this.v0) - 1);
      const hi = Math.min(s.n, s.upperBound(this.v1) + 1);
      const endX = Math.min(this.W + 2, X(tr.end));
      const xOf = (q) => Math.max(GUTTER - 2, X(s.start[q]));
      const yOf = (q) => base - tr.res[s.ref[q]] * scale;
      if (hi - p > this._plotW() / 2) {
        this._drawCounterEnvelope(tr, d, p, hi, base, scale, endX);
        return;
      }
      // A step graph; the samples that share a pixel column become one
      // vertical stroke over their range.
      const x00 = xOf(p);
      let col = Math.floor(x00);
      let cur = yOf(p);
      let lo = cur;
      let hiY = cur;
      ctx.beginPath();
      ctx.moveTo(x00, base);
      ctx.lineTo(x00, cur);
      let lastX = x00;
      for (p++; p < hi; p++) {
        const nx = xOf(p);
        const ny = yOf(p);
        const ncol = Math.floor(nx);
        if (ncol === col) {
          if (ny < hiY) hiY = ny;
          if (ny > lo) lo = ny;
          cur = ny;
          continue;
        }
        if (lo !== hiY) {
          ctx.lineTo(lastX, lo);
          ctx.lineTo(lastX, hiY);
          ctx.lineTo(lastX, cur);
        }
        ctx.lineTo(nx, cur);
        ctx.lineTo(nx, ny);
        col = ncol;
        cur = lo = hiY = ny;
        lastX = nx;
        this._drawn++;
      }
      if (lo !== hiY) {
        ctx.lineTo(lastX, lo);
        ctx.lineTo(lastX, hiY);
        ctx.lineTo(lastX, cur);
      }
      const xEnd = Math.max(lastX, endX);
      ctx.lineTo(xEnd, cur);
      ctx.strokeStyle = C.counterLine;
      ctx.lineWidth = 1.25;
      ctx.stroke();
      ctx.lineTo(xEnd, base);
      ctx.lineTo(x00, base);
      ctx.closePath();
      ctx.fillStyle = C.counterFill;
      ctx.fill();
      this._drawn++;
    }

    // _drawCounterEnvelope draws a counter with more samples than pixels:
    // per column, the range of values it took, light up to the maximum and
    // darker up to the minimum.
    _drawCounterEnvelope(tr, d, p, hi, base, scale, endX) {
      const ctx = this.ctx;
      const s = d.s;
      const X = this._X;
      const n = Math.ceil(this.W - GUTTER) + 2;
      if (!this._cmax || this._cmax.length < n) {
        this._cmax = new Float64Array(n);
        this._cmin = new Float64Array(n);
      }
      const mx = this._cmax;
      const mn = this._cmin;
      mx.fill(-1, 0, n);
      mn.fill(Infinity, 0, n);
      const colOf = (t) => Math.floor(X(t) - GUTTER);
      const lastCol = Math.min(n - 1, Math.floor(endX - GUTTER));
      for (let q = p; q < hi; q++) {
        const v = tr.res[s.ref[q]];
        const a = Math.max(0, colOf(s.start[q]));
        const b = Math.min(lastCol, q + 1 < s.n ? colOf(s.start[q + 1]) : lastCol);
        for (let c = a; c <= Math.max(a, b) && c < n; c++) {
          if (v > mx[c]) mx[c] = v;
          if (v < mn[c]) mn[c] = v;
        }
      }
      const shape = (arr, fill, stroke) => {
        ctx.beginPath();
        let open = false;
        let last = 0;
        for (let c = 0; c < n; c++) {
          if (mx[c] < 0) {
            if (open) {
              ctx.lineTo(GUTTER + last + 1, base);
              open = false;
            }
            continue;
          }
          const yv = base - arr[c] * scale;
          if (!open) {
            ctx.moveTo(GUTTER + c, base);
            open = true;
          }
          ctx.lineTo(GUTTER + c, yv);
          ctx.lineTo(GUTTER + c + 1, yv);
          last = c;
        }
        if (open) ctx.lineTo(GUTTER + last + 1, base);
        ctx.fillStyle = fill;
        ctx.fill();
        if (stroke) {
          ctx.strokeStyle = stroke;
          ctx.lineWidth = 1;
          ctx.stroke();
        }
      };
      shape(mx, C.counterFill, C.counterLine);
      shape(mn, C.counterMin, null);
      this._drawn += 2;
    }

    // _opPoints returns where an op's chain is drawn: the submit tick on its
    // loop lane, the op bar in the kernel lane, and the handler it woke.
    _opPoints(tr, r, laneY) {
      const rec = tr.recs[r];
      const ky = laneY.get(tr.id + ':k');
      const ly = laneY.get(tr.id + ':l' + rec.loop);
      if (ky === undefined && ly === undefined) return null;
      const X = this._X;
      const pts = [];
      const barY = ky === undefined ? undefined : ky + KPAD + rec.row * KROW_H + KROW_H / 2 - 1;
      if (ly !== undefined && barY !== undefined) {
        pts.push([X(tr.time[rec.submit]), ly + L_INST + L_INST_H / 2, X(tr.time[rec.submit]), barY]);
      }
      if (rec.complete >= 0 && rec.handler >= 0 && barY !== undefined && ly !== undefined) {
        pts.push([X(tr.time[rec.complete]), barY, X(tr.time[rec.handler]), ly + L_HAND + L_HAND_H / 2]);
      }
      return pts;
    }

    _drawFlows(visible) {
      const laneY = new Map();
      for (const [l, y] of visible) laneY.set(l.tr.id + ':' + l.key, y);
      const ctx = this.ctx;
      const arrow = (x0, y0, x1, y1, strong) => {
        ctx.strokeStyle = strong ? C.flow : C.flowFaint;
        ctx.fillStyle = ctx.strokeStyle;
        ctx.lineWidth = strong ? 1.5 : 1;
        const dy = y1 - y0;
        ctx.beginPath();
        ctx.moveTo(x0, y0);
        if (Math.abs(x1 - x0) < 2) {
          ctx.lineTo(x1, y1 - Math.sign(dy) * 5);
        } else {
          const bend = Math.min(40, (x1 - x0) / 2);
          ctx.bezierCurveTo(x0 + bend, y0, x1 - bend, y1, x1, y1 - Math.sign(dy) * 5);
        }
        ctx.stroke();
        ctx.beginPath();
        const s = Math.sign(dy) || 1;
        ctx.moveTo(x1, y1);
        ctx.lineTo(x1 - 3.5, y1 - s * 6);
        ctx.lineTo(x1 + 3.5, y1 - s * 6);
        ctx.closePath();
        ctx.fill();
        this._drawn++;
      };
      // Every visible chain, when few enough to read.
      for (const [l] of visible) {
        if (l.type !== 'kernel') continue;
        const tr = l.tr;
        const ops = l.d.ops;
        const a = ops.lowerBound(this.v0);
        const b = ops.upperBound(this.v1);
        if (b - a === 0 || b - a > 40) continue;
        const X = this._X;
        let last = -Infinity;
        let crowded = false;
        for (let p = a; p < b; p++) {
          const x = X(ops.start[p]);
          if (x - last < 6) crowded = true;
          last = x;
        }
        if (crowded) continue;
        for (let p = a; p < b; p++) {
          const pts = this._opPoints(tr, ops.ref[p], laneY);
          if (pts) for (const q of pts) arrow(q[0], q[1], q[2], q[3], false);
        }
      }
      // The selected event's chain, always.
      const s = this.sel;
      if (s && !s.mark && s.tr.rec[s.idx] >= 0) {
        const pts = this._opPoints(s.tr, s.tr.rec[s.idx], laneY);
        if (pts) for (const q of pts) arrow(q[0], q[1], q[2], q[3], true);
      }
    }

    // _itemRect returns the box of an event as drawn, in canvas pixels.
    _itemRect(tr, idx, visible) {
      const K = this.K;
      const P = this.P;
      const X = this._xOf(this._map());
      const kind = tr.kind[idx];
      const lane = this._laneTypeOf(tr, idx);
      let ly;
      for (const [l, y] of visible) {
        if (l.tr === tr && l.key === lane.key) ly = y;
      }
      if (ly === undefined) return null;
      const t = tr.time[idx];
      if (lane.type === 'kernel') {
        if (tr.rec[idx] < 0) return {x0: X(t), x1: X(t), y: ly + KPAD + 1, h: KROW_H - 4};
        const rec = tr.recs[tr.rec[idx]];
        const end = rec.complete >= 0 ? tr.time[rec.complete] : tr.end;
        return {x0: X(tr.time[rec.submit]), x1: X(end), y: ly + KPAD + rec.row * KROW_H + 1, h: KROW_H - 4};
      }
      if (lane.type === 'counter') return {x0: X(t), x1: X(t), y: ly + 2, h: COUNTER_H - 4};
      if (lane.type === 'fd') return {x0: X(t), x1: X(this._itemEnd(tr, idx)), y: ly + 3, h: FD_H - 6};
      if (kind === K.handler && (tr.phase[idx] === P.begin || tr.phase[idx] === P.end)) {
        const b = tr.phase[idx] === P.begin ? idx : tr.pair[idx];
        if (b < 0) return {x0: X(t), x1: X(t), y: ly + L_HAND, h: L_HAND_H};
        const e = tr.pair[b];
        return {x0: X(tr.time[b]), x1: X(e >= 0 ? tr.time[e] : tr.end), y: ly + L_HAND, h: L_HAND_H};
      }
      if (kind === K.syscall) return {x0: X(t), x1: X(this._itemEnd(tr, idx)), y: ly + L_SYS, h: L_SYS_H};
      if (kind === K.lint) return {x0: X(t), x1: X(t), y: ly + L_MARK, h: 12};
      return {x0: X(t), x1: X(t), y: ly + L_INST, h: L_INST_H};
    }

    _drawSelection(visible) {
      const ctx = this.ctx;
      const box = (r, color, width, pad) => {
        const w = Math.max(r.x1 - r.x0, 0);
        ctx.strokeStyle = color;
        ctx.lineWidth = width;
        ctx.strokeRect(r.x0 - pad, r.y - pad, w + pad * 2, r.h + pad * 2);
      };
      const s = this.sel;
      if (s) {
        if (s.mark) {
          let ly;
          for (const [l, y] of visible) if (l.tr === s.tr && l.key === 'l' + s.loop) ly = y;
          if (ly !== undefined) {
            const x = this._X(s.mark.time);
            box({x0: x - 7, x1: x + 7, y: ly + L_MARK - 1, h: 15}, C.sel, 2, 1);
          }
        } else {
          const r = this._itemRect(s.tr, s.idx, visible);
          if (r) {
            box(r, C.selHalo, 3, 2.5);
            box(r, C.sel, 1.5, 2.5);
          }
        }
      }
      const f = this.flash;
      if (f) {
        const r = this._itemRect(f.tr, f.idx, visible);
        if (r) {
          const left = Math.max(0, (f.until - performance.now()) / 1600);
          const pulse = 0.5 + 0.5 * Math.sin((1 - left) * Math.PI * 6);
          ctx.globalAlpha = left * (0.35 + 0.65 * pulse);
          box(r, C.flash, 4, 5);
          ctx.globalAlpha = 1;
        }
      }
    }

    _drawTooltip() {
      const h = this.hover;
      const pt = this.pointer;
      if (!h || !pt || this._drag) return;
      const lines = this._describe(h);
      if (!lines.length) return;
      const ctx = this.ctx;
      const maxW = 340;
      const out = [];
      ctx.font = FONT;
      for (let n = 0; n < lines.length; n++) {
        const words = String(lines[n]).split(' ');
        let cur = '';
        for (const w of words) {
          const next = cur ? cur + ' ' + w : w;
          if (ctx.measureText(next).width > maxW && cur) {
            out.push([cur, n === 0]);
            cur = w;
          } else {
            cur = next;
          }
        }
        out.push([cur, n === 0]);
      }
      let w = 0;
      for (const [t, bold] of out) {
        ctx.font = bold ? FONT_BOLD : FONT;
        w = Math.max(w, ctx.measureText(t).width);
      }
      w += 16;
      const hgt = out.length * 16 + 10;
      let x = pt.x + 14;
      let y = pt.y + 16;
      if (x + w > this.W - 4) x = pt.x - w - 10;
      if (y + hgt > this.H - 4) y = pt.y - hgt - 8;
      x = Math.max(4, x);
      y = Math.max(4, y);
      ctx.fillStyle = C.tipBg;
      this._roundRect(x, y, w, hgt, 5);
      ctx.fill();
      let ty = y + 13;
      for (const [t, bold] of out) {
        ctx.font = bold ? FONT_BOLD : FONT;
        ctx.fillStyle = bold ? C.tipTitle : C.tipText;
        ctx.fillText(t, x + 8, ty);
        ty += 16;
      }
      ctx.font = FONT;
    }

    // _describe returns the hover text of a hit: a title, then details.
    _describe(h) {
      const tr = h.tr;
      if (h.gap) {
        const g = h.gap;
        return [g.label, 'from ' + fmtTime(g.a) + ' to ' + fmtTime(g.b) + ': collapsed, as nothing ran',
          'click, or press x, to show it in full'];
      }
      if (h.mark) {
        const m = h.mark;
        const out = [(this._quiet(m.code) ? 'note (not graded): ' : 'finding: ') + m.code + ' at ' + fmtTime(m.time)];
        if (m.message) out.push(m.message);
        return out;
      }
      if (h.idx === undefined || h.idx < 0) return [];
      const i = h.idx;
      const K = this.K;
      const kind = tr.kind[i];
      const name = tr.nameOf(tr.name[i]);
      const kindName = this.schema.kinds[kind] || 'event';
      const out = [];
      if (h.wait) {
        out.push(name + ' waited ' + fmtDur(tr.time[i] - tr.arg0[i]));
        out.push('ready at ' + fmtTime(tr.arg0[i]) + ', began at ' + fmtTime(tr.time[i]) + ': the loop was busy');
        return out;
      }
      const r = tr.rec[i];
      if (kind === K.handler) {
        const b = tr.phase[i] === this.P.begin ? i : tr.pair[i];
        const e = b >= 0 ? tr.pair[b] : -1;
        out.push('handler ' + name);
        if (b >= 0) out.push(fmtTime(tr.time[b]) + (e >= 0 ? ', ran ' + fmtDur(tr.time[e] - tr.time[b]) : ', still running'));
        if (b >= 0 && tr.arg0[b] > 0 && tr.arg0[b] < tr.time[b]) {
          out.push('waited ' + fmtDur(tr.time[b] - tr.arg0[b]) + ' after it was ready');
        }
      } else if (r >= 0 && (kind === K.submit || kind === K.complete || kind === K.cancel)) {
        const rec = tr.recs[r];
        const opn = tr.nameOf(rec.name);
        out.push(opn + (rec.fd >= 0 ? ' on fd ' + rec.fd : ''));
        let line = 'submitted ' + fmtTime(tr.time[rec.submit]);
        if (rec.complete >= 0) {
          const res = tr.res[rec.complete];
          line += ', completed after ' + fmtDur(tr.time[rec.complete] - tr.time[rec.submit]) + ': ' + res;
          if (res < 0) line += ' ' + errnoName(res);
        } else {
          line += ', never completed';
        }
        out.push(line);
        if (rec.handler >= 0) out.push('woke ' + tr.nameOf(tr.name[rec.handler]));
        if (kind === K.cancel) {
          out.push('cancel requested at ' + fmtTime(tr.time[i]) + ': ' + tr.res[i] + ' ' + errnoName(tr.res[i]));
        }
      } else if (kind === K.syscall && tr.phase[i] === this.P.begin) {
        const e = tr.pair[i];
        const call = name + (tr.fd[i] >= 0 ? '(fd ' + tr.fd[i] + ')' : '()');
        if (e < 0) {
          out.push(this._inCall(tr, i));
          out.push(call + ' began at ' + fmtTime(tr.time[i]) + ' and never returned');
        } else {
          out.push(call + ' began');
          out.push(fmtTime(tr.time[i]) + ', returned after ' + fmtDur(tr.dur[e]) + ': ' + tr.res[e] + (tr.res[e] < 0 ? ' ' + errnoName(tr.res[e]) : ''));
        }
      } else if (kind === K.ready) {
        out.push('ready: fd ' + tr.fd[i] + ' ' + epollEvents(tr.arg0[i]));
        out.push(fmtTime(tr.time[i]) + ', reported by ' + (name || 'epoll_wait') + ' on epoll fd ' + tr.arg1[i]);
      } else if (kind === K.syscall) {
        const res = tr.res[i];
        out.push(name + (tr.fd[i] >= 0 ? '(fd ' + tr.fd[i] + ')' : '()') + ' = ' + res + (res < 0 ? ' ' + errnoName(res) : ''));
        out.push(fmtTime(tr.time[i]) + ', took ' + fmtDur(tr.dur[i]) + (WAIT_CALLS.has(name) ? ' waiting in the kernel' : ''));
      } else if (kind === K.counter) {
        out.push(name + ' = ' + tr.res[i]);
        out.push('from ' + fmtTime(tr.time[i]));
      } else if (kind === K.lint) {
        const m = this._markOf(tr, i);
        out.push('lint: ' + this._lintName(tr.arg0[i]) + ' (' + name + ')');
        if (m && m.message) out.push(m.message);
      } else if (kind === K.wakeup) {
        out.push('wakeup: ' + (name || 'wait') + ' returned ' + tr.res[i] + ' event' + (tr.res[i] === 1 ? '' : 's'));
        out.push(fmtTime(tr.time[i]));
      } else if (kind === K.complete) {
        const res = tr.res[i];
        out.push((name || 'complete') + (tr.fd[i] >= 0 ? ' on fd ' + tr.fd[i] : ''));
        out.push(fmtTime(tr.time[i]) + (res < 0 ? ': ' + res + ' ' + errnoName(res) : ''));
      } else {
        const ph = this.schema.phases[tr.phase[i]];
        out.push(kindName + (ph && ph !== 'instant' ? ' ' + ph : '') + (name ? ' ' + name : ''));
        out.push(fmtTime(tr.time[i]));
      }
      if (h.count > 1) out.push('+ ' + (h.count - 1) + ' more here: zoom in');
      return out;
    }

    // ---- Hit testing ----

    // _hit returns what is under (x, y): {tr, idx} for an event (wait: true
    // for a handler's waiting span), {tr, mark, loop} for a finding,
    // {tr, header: true} for a track header, or null.
    _hit(x, y) {
      if (y < AXIS_H) return null;
      this._layoutNow();
      const cy = y - AXIS_H + this.scrollY;
      let lane = null;
      for (const l of this.layout) {
        if (cy >= l.y && cy < l.y + l.h) {
          lane = l;
          break;
        }
      }
      if (!lane) return null;
      const tr = lane.tr;
      if (lane.type === 'header') return {tr, header: true};
      if (x < GUTTER) return null;
      const m = this._map();
      const X = this._xOf(m);
      // A collapsed gap is one thing to click: it expands.
      for (let i = 0; i < m.ax.n; i++) {
        if (x >= X(m.ax.a[i]) && x <= X(m.ax.b[i])) return {gap: m.ax.gaps[i], tr};
      }
      const ly = cy - lane.y;
      const t = m.ax.inv(m.d0 + x - GUTTER, m.k);
      const tA = m.ax.inv(m.d0 + x - 5 - GUTTER, m.k);
      const tB = m.ax.inv(m.d0 + x + 5 - GUTTER, m.k);
      // nearest returns the item of s nearest to x within 5 px, preferring
      // the shortest one that contains it.
      const nearest = (s, filter) => {
        let best = -1;
        let bestD = Infinity;
        let bestLen = Infinity;
        let count = 0;
        s.visit(tA, tB, (p) => {
          if (filter && !filter(p)) return;
          const a = X(s.start[p]);
          const b = X(s.end[p] === Infinity ? tr.end : s.end[p]);
          const d = x < a ? a - x : x > b ? x - b : 0;
          if (d > 5) return;
          count++;
          const len = b - a;
          if (d < bestD || (d === bestD && len < bestLen)) {
            best = p;
            bestD = d;
            bestLen = len;
          }
        });
        return best < 0 ? null : {p: best, count};
      };
      switch (lane.type) {
        case 'loop': {
          const d = lane.d;
          if (ly < L_HAND + 8) {
            let bm = null;
            let bd = 8;
            for (const mk of d.marks) {
              const dd = Math.abs(X(mk.time) - x);
              if (dd <= bd) {
                bd = dd;
                bm = mk;
              }
            }
            if (bm) return {tr, mark: bm, loop: d.loop};
          }
          if (ly < L_WAIT - 1) {
            const h = nearest(d.handlers);
            return h ? {tr, idx: d.handlers.ref[h.p], count: h.count} : null;
          }
          if (ly < L_SYS - 1) {
            const h = nearest(d.waits);
            return h ? {tr, idx: d.waits.ref[h.p], wait: true} : null;
          }
          if (ly < L_INST - 1) {
            const h = nearest(d.syscalls, (p) => !this._closedBegin(tr, d.syscalls.ref[p]));
            return h ? {tr, idx: d.syscalls.ref[h.p], count: h.count} : null;
          }
          const h = nearest(d.instants);
          return h ? {tr, idx: d.instants.ref[h.p], count: h.count} : null;
        }
        case 'kernel': {
          const d = lane.d;
          const row = Math.floor((ly - KPAD) / KROW_H);
          if (row < 0 || row >= d.rows) return null;
          const tk = nearest(d.ticks, (p) => d.ticks.aux[p] === row);
          if (tk && tk.count) {
            const i = d.ticks.ref[tk.p];
            const x0 = this.timeToX(tr.time[i]);
            if (Math.abs(x0 - x) < 5) return {tr, idx: i};
          }
          const h = nearest(d.ops, (p) => d.ops.aux[p] === row);
          if (!h) return null;
          const rec = tr.recs[d.ops.ref[h.p]];
          // Near the end of the bar, the completion; else the submit.
          if (rec.complete >= 0 && Math.abs(this.timeToX(tr.time[rec.complete]) - x) < 4) return {tr, idx: rec.complete};
          return {tr, idx: rec.submit, count: h.count};
        }
        case 'fd': {
          const h = nearest(lane.d.items, (p) => !this._closedBegin(tr, lane.d.items.ref[p]));
          if (h) return {tr, idx: lane.d.items.ref[h.p], count: h.count};
          const o = nearest(lane.d.ops);
          return o ? {tr, idx: tr.recs[lane.d.ops.ref[o.p]].submit} : null;
        }
        case 'counter': {
          const s = lane.d.s;
          const p = s.upperBound(t) - 1;
          return p >= 0 ? {tr, idx: s.ref[p]} : null;
        }
      }
      return null;
    }

    // ---- Input ----

    _listen() {
      const c = this.canvas;
      if (!c.hasAttribute('tabindex')) c.tabIndex = 0;
      if (!c.hasAttribute('aria-label')) {
        c.setAttribute('aria-label', 'Trace timeline: arrows pan, + and - zoom, comma and period step, space plays, ' +
          'f fits your code, 0 shows the whole run, x expands an idle gap, g collapses idle time, c folds a track, Enter goes to the list of events');
      }
      c.style.touchAction = 'none';
      this._handlers = [];
      const on = (type, fn, o) => {
        const f = fn.bind(this);
        c.addEventListener(type, f, o);
        this._handlers.push([type, f, o]);
      };
      on('wheel', this._onWheel, {passive: false});
      on('pointerdown', this._onDown);
      on('pointermove', this._onMove);
      on('pointerup', this._onUp);
      on('pointercancel', this._onUp);
      on('pointerleave', this._onLeave);
      on('keydown', this._onKey);
      on('dblclick', this._onDblClick);
      // The palette follows the page's colour scheme.
      if (window.matchMedia) {
        this._mq = window.matchMedia('(prefers-color-scheme: dark)');
        this._mqFn = () => this._readTheme();
        this._mq.addEventListener('change', this._mqFn);
      }
      if (typeof ResizeObserver !== 'undefined') {
        this._ro = new ResizeObserver(() => this._resize());
        this._ro.observe(c);
      } else {
        window.addEventListener('resize', () => this._resize());
      }
    }

    _pos(ev) {
      const r = this.canvas.getBoundingClientRect();
      return {x: ev.clientX - r.left, y: ev.clientY - r.top};
    }

    _onWheel(ev) {
      ev.preventDefault();
      const p = this._pos(ev);
      const unit = ev.deltaMode === 1 ? 16 : ev.deltaMode === 2 ? this.H : 1;
      const dx = ev.deltaX * unit;
      const dy = ev.deltaY * unit;
      if (p.x < GUTTER && !ev.ctrlKey) {
        this._scroll(dy);
        return;
      }
      if (ev.shiftKey || Math.abs(dx) > Math.abs(dy)) {
        const d = ev.shiftKey && Math.abs(dx) < Math.abs(dy) ? dy : dx;
        this._pan(d);
        return;
      }
      this._zoom(Math.exp(dy * (ev.ctrlKey ? 0.01 : 0.0025)), p.x);
    }

    _onDown(ev) {
      if (ev.button !== 0) return;
      this.canvas.focus({preventScroll: true, focusVisible: false}); // a click needs no ring
      const p = this._pos(ev);
      try {
        this.canvas.setPointerCapture(ev.pointerId);
      } catch (e) {
        // A synthetic event has no active pointer to capture.
      }
      this._drag = {
        x: p.x, y: p.y, m: this._map(), sy: this.scrollY, moved: false,
        scrub: p.y < AXIS_H && p.x > GUTTER, // dragging on the axis scrubs the cursor
      };
      if (this._drag.scrub) this.seek(this.xToTime(p.x));
    }

    _onMove(ev) {
      const p = this._pos(ev);
      this.pointer = p;
      const d = this._drag;
      if (d) {
        if (d.scrub) {
          this.seek(this.xToTime(p.x));
          return;
        }
        const dx = p.x - d.x;
        const dy = p.y - d.y;
        if (!d.moved && Math.abs(dx) + Math.abs(dy) < 4) return;
        d.moved = true;
        this._viewAt(d.m.ax, d.m.k, d.m.d0 - dx);
        this.autoFit = false;
        const max = Math.max(0, this.contentH - (this.H - AXIS_H));
        this.scrollY = Math.min(max, Math.max(0, d.sy - dy));
        this._changed();
        return;
      }
      const h = this._hit(p.x, p.y);
      const same = (a, b) => a === b || (a && b && a.tr === b.tr && a.idx === b.idx && a.mark === b.mark &&
        !!a.wait === !!b.wait && a.header === b.header && a.gap === b.gap);
      if (!same(h, this.hover)) {
        this.hover = h && !h.header ? h : null;
        this.canvas.style.cursor = h ? 'pointer' : p.y < AXIS_H && p.x > GUTTER ? 'col-resize' : 'default';
        this._invalidate();
      } else if (this.hover) {
        this._invalidate(); // the tooltip follows the pointer
      }
    }

    _onUp(ev) {
      const d = this._drag;
      this._drag = null;
      if (!d) return;
      try {
        this.canvas.releasePointerCapture(ev.pointerId);
      } catch (e) {
        // Nothing was captured.
      }
      if (d.moved || d.scrub) return;
      const p = this._pos(ev);
      const h = this._hit(p.x, p.y);
      if (h && h.header) {
        h.tr.collapsed = !h.tr.collapsed;
        this._layoutDirty = true;
        this._changed();
        return;
      }
      if (h && h.gap) {
        this.expandGap((h.gap.a + h.gap.b) / 2);
        return;
      }
      if (!h) {
        if (this.sel) this._select(null);
        return;
      }
      this._select(h.mark ? {tr: h.tr, mark: h.mark, loop: h.loop} : {tr: h.tr, idx: h.idx});
      this._stepFrom = 'sel';
      // A cursor in use follows the selection; one parked at the end stays.
      if (!this.cursorEnd) {
        this._playing = false;
        this.cursor = h.mark ? h.mark.time : h.tr.time[h.idx];
        this._changed();
      }
    }

    _onLeave() {
      this.pointer = null;
      if (this.hover) {
        this.hover = null;
        this._invalidate();
      }
    }

    _onDblClick(ev) {
      const p = this._pos(ev);
      const h = this._hit(p.x, p.y);
      if (!h || h.header || h.mark || h.gap) return;
      const r = this._itemRect(h.tr, h.idx, this.layout.map((l) => [l, AXIS_H + l.y - this.scrollY]));
      if (!r) return;
      const a = this.xToTime(r.x0);
      const b = this.xToTime(r.x1);
      const w = Math.max(b - a, 2000);
      this.setView(a - w, b + w);
    }

    _onKey(ev) {
      // Shortcuts with a modifier belong to the browser (Ctrl + zooms the page).
      if (ev.altKey || ev.metaKey || ev.ctrlKey) return;
      const W = this._plotW();
      const big = ev.shiftKey ? 0.5 : 0.15;
      const zoomAt = () => {
        const cx = this.timeToX(this.cursor);
        return !this.cursorEnd && cx >= GUTTER && cx <= this.W ? cx : undefined;
      };
      switch (ev.key) {
        case '+':
        case '=':
        case 'w':
          this._zoom(1 / 1.5, zoomAt());
          break;
        case '-':
        case '_':
        case 's':
          this._zoom(1.5, zoomAt());
          break;
        case 'ArrowLeft':
        case 'a':
          this._pan(-W * big);
          break;
        case 'ArrowRight':
        case 'd':
          this._pan(W * big);
          break;
        case 'ArrowUp':
          this._scroll(-40);
          break;
        case 'ArrowDown':
          this._scroll(40);
          break;
        case 'PageUp':
          this._scroll(-(this.H - AXIS_H) * 0.8);
          break;
        case 'PageDown':
          this._scroll((this.H - AXIS_H) * 0.8);
          break;
        case ',':
        case '<':
          this.stepBack(ev.key === '<');
          break;
        case '.':
        case '>':
          this.stepForward(ev.key === '>');
          break;
        case ' ':
        case 'k':
          if (this._playing) this.pause();
          else this.play();
          break;
        case 'Home': {
          this.seek(0);
          const m = this._map();
          this._viewAt(m.ax, m.k, -W * 0.02);
          this._changed();
          break;
        }
        case 'End': {
          const end = this.traceEnd();
          this.cursorEnd = true;
          this.cursor = end;
          const m = this._map();
          this._viewAt(m.ax, m.k, m.ax.d(end, m.k) - W * 0.98);
          if (this.live) this.autoFit = true;
          this._changed();
          break;
        }
        case 'f':
          this.fit();
          break;
        case 'F':
        case '0':
          this.wholeRun();
          break;
        case 'x':
          this.expandGap();
          break;
        case 'g':
          this.setCollapseIdle(!this.collapseIdle);
          break;
        case 'c': {
          // As a click on its header: the selected event's track, or the first.
          const tr = this.sel ? this.sel.tr : this.tracks[0];
          if (!tr) return;
          tr.collapsed = !tr.collapsed;
          this._layoutDirty = true;
          this._changed();
          break;
        }
        case 'Escape':
          if (this.sel) this._select(null);
          break;
        case 'Enter':
          if (!this._list) return;
          this._list.box.focus();
          break;
        default:
          return;
      }
      ev.preventDefault();
    }
  }

  Timeline.fmtDur = fmtDur;
  Timeline.fmtTime = fmtTime;
  Timeline.errnoName = errnoName;
  Timeline.epollEvents = epollEvents;
  window.Timeline = Timeline;
})();
