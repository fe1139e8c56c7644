// lab.js drives the lab's pages: the exercise page (editor, Run, Submit),
// a recorded run's replay page, and the compare page. Every run arrives
// over one websocket as numbered messages (docs/live.md); this file turns
// them into phases, a timeline and a result.
"use strict";

(function () {
  const root = document.getElementById("lab");
  if (!root) return;

  const $ = (sel, el) => (el || document).querySelector(sel);
  const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  // ordinal writes 1 as "1st", 2 as "2nd", 11 as "11th", 23 as "23rd".
  const ordinal = (n) => {
    const teen = n % 100 >= 11 && n % 100 <= 13;
    return n + (teen ? "th" : ({ 1: "st", 2: "nd", 3: "rd" }[n % 10] || "th"));
  };
  const fmtNs = (ns) => {
    const a = Math.abs(ns);
    if (a >= 1e9) return (ns / 1e9).toFixed(3) + " s";
    if (a >= 1e6) return (ns / 1e6).toFixed(3) + " ms";
    if (a >= 1e3) return (ns / 1e3).toFixed(2) + " µs";
    return Math.round(ns) + " ns";
  };

  // RunSocket follows one run's message sequence, reconnecting with the
  // last seq it processed when the connection drops before the end.
  class RunSocket {
    constructor(id, onMessage) {
      this.id = id;
      this.onMessage = onMessage;
      this.seq = 0;
      this.ended = false;
      this.retry = 250;
      this.connect();
    }
    connect() {
      const proto = location.protocol === "https:" ? "wss:" : "ws:";
      const ws = new WebSocket(`${proto}//${location.host}/ws/runs/${this.id}?after=${this.seq}`);
      this.ws = ws;
      ws.onmessage = (e) => {
        let m;
        try { m = JSON.parse(e.data); } catch (err) { return; }
        if (m.type === "reset") { this.seq = 0; this.onMessage(m); return; }
        if (m.seq !== 0 && m.seq <= this.seq) return; // already have it
        if (m.seq > 0) this.seq = m.seq;
        this.retry = 250;
        if (m.type === "end") this.ended = true;
        this.onMessage(m);
      };
      ws.onclose = () => {
        if (this.ended || this.closed) return;
        setTimeout(() => this.connect(), this.retry);
        this.retry = Math.min(this.retry * 2, 5000);
      };
    }
    close() { this.closed = true; this.ws && this.ws.close(); }
  }

  // Controls binds a toolbar to a Timeline.
  function bindControls(box, tl) {
    const play = $('[data-act="play"]', box);
    const scrub = $('[data-act="scrub"]', box);
    const readout = $(".readout", box);
    let extent = 1;
    play.onclick = () => { tl.playing() ? tl.pause() : tl.play(); };
    $('[data-act="back"]', box).onclick = () => tl.stepBack();
    $('[data-act="fwd"]', box).onclick = () => tl.stepForward();
    // A speed is absolute (ns of trace a second) or relative to the run:
    // "run:10" plays the whole run in 10 s, "x:0.1" at a tenth of real
    // time. A run still arriving grows, so its relative speed follows.
    const speedSel = $('[data-act="speed"]', box);
    let runLength = 0;
    const applySpeed = () => {
      const v = speedSel.value;
      if (v.startsWith("run:")) tl.setSpeed(Math.max(1e3, runLength / Number(v.slice(4))));
      else if (v.startsWith("x:")) tl.setSpeed(1e9 * Number(v.slice(2)));
      else tl.setSpeed(Number(v));
    };
    speedSel.onchange = applySpeed;
    applySpeed();
    const skip = $('[data-act="skip-idle"]', box);
    if (skip) {
      skip.onchange = () => tl.setSkipIdle(skip.checked);
      tl.setSkipIdle(skip.checked);
    }
    // Idle stretches are collapsed unless the student turns it off.
    const collapse = $('[data-act="collapse-idle"]', box);
    if (collapse) {
      collapse.onchange = () => tl.setCollapseIdle(collapse.checked);
      tl.setCollapseIdle(collapse.checked);
    }
    $('[data-act="zoomin"]', box).onclick = () => tl.zoom(0.5);
    $('[data-act="zoomout"]', box).onclick = () => tl.zoom(2);
    $('[data-act="fit"]', box).onclick = () => tl.fit();
    const whole = $('[data-act="whole"]', box);
    if (whole) whole.onclick = () => tl.wholeRun();
    scrub.oninput = () => tl.seek((Number(scrub.value) / 1000) * extent);
    return (state) => {
      play.textContent = state.playing ? "❚❚ Pause" : "▶ Play";
      extent = Math.max(1, state.traceEnd || state.end);
      if (state.traceEnd && state.traceEnd !== runLength) {
        runLength = state.traceEnd;
        if (speedSel.value.startsWith("run:")) applySpeed();
      }
      if (document.activeElement !== scrub) scrub.value = String(Math.round((state.cursor / extent) * 1000));
      if (collapse) collapse.checked = state.collapseIdle;
      readout.textContent = `cursor ${fmtNs(state.cursor)} · view ${fmtNs(state.start)} – ${fmtNs(state.end)}`;
    };
  }

  // makeTimeline builds the timeline in panel and its controls; onState,
  // if given, also gets each change of the timeline's state.
  function makeTimeline(panel, onState) {
    const box = $(".timeline", panel);
    let update = () => {};
    const tl = new Timeline($("canvas", box), {
      details: $(".details", box),
      list: $(".tl-list", box),
      onChange: (s) => { update(s); if (onState) onState(s); },
    });
    update = bindControls(box, tl);
    return tl;
  }

  // RunView shows one run's messages: phases, events, result.
  class RunView {
    constructor(opts) {
      this.tl = opts.timeline;
      this.prefix = opts.prefix || "";
      this.label = opts.label || "";
      this.result = opts.result;
      this.phases = opts.phases;
      this.counter = opts.counter;
      this.onResult = opts.onResult || (() => {});
      this.onProblem = opts.onProblem || null; // (problem) => void: show it in the editor
      this.trackOrder = opts.trackOrder || null; // (scenario, backend) => a key that sorts the tracks
      this.tracks = new Set();
      this.events = 0;
    }
    reset() {
      this.events = 0;
      this.tracks.clear();
      if (this.phases) this.phases.querySelectorAll("li").forEach((li) => (li.className = ""));
      if (this.result) this.result.innerHTML = "";
    }
    key(track) { return this.prefix + track; }
    handle(m) {
      switch (m.type) {
        case "hello":
          this.tl.setSchema(m.schema);
          this.tl.setJudged(m.judged);
          this.tl.setLive(!!m.live);
          break;
        case "reset":
          this.tl.clear();
          this.reset();
          break;
        case "phase":
          this.phase(m.name);
          break;
        case "queue":
          this.queuePlace(m);
          break;
        case "track":
          if (!this.tracks.has(m.track)) {
            this.tracks.add(m.track);
            // Compared runs interleave: the same scenario and backend of
            // both runs sit next to each other.
            // A live run's tracks arrive in the order their boxes start, which
            // changes from run to run: they sit in the exercise's order.
            const sortKey = this.label ? m.track + "\u0000" + this.label : this.trackOrder ? this.trackOrder(m.scenario, m.backend) : undefined;
            this.tl.addTrack(this.key(m.track), (this.label ? this.label + ": " : "") + m.scenario + " on " + (m.backend === "uring" ? "io_uring" : m.backend), sortKey);
          }
          break;
        case "events":
          this.tl.addEvents(this.key(m.track), m.first_name, m.names, m.events);
          this.events += m.events.length;
          if (this.counter) this.counter();
          break;
        case "findings":
          this.tl.addFindings(this.key(m.track), m.findings || []);
          break;
        case "track_end":
          break;
        case "track_reset":
          this.tl.resetTrack(this.key(m.track));
          notice(m.reason);
          break;
        case "result":
          window.labLastResult = m.result;
          this.showResult(m.result);
          this.onResult(m.result);
          break;
        case "notice":
          notice(m.message);
          break;
        case "error":
          if (this.result) this.result.insertAdjacentHTML("beforeend", `<p class="fail" data-testid="stream-error">${esc(m.message)}</p>`);
          break;
        case "end":
          this.tl.setLive(false);
          break;
      }
    }
    // queuePlace shows where a queued run stands: "queued: 3rd in line,
    // about 4 s", or that it waits for the student's previous submission.
    queuePlace(m) {
      const li = this.phases && this.phases.querySelector('li[data-phase="queued"]');
      if (!li) return;
      let text = "queued: ";
      if (m.waiting) text += "after your previous submission";
      else text += ordinal(m.ahead + 1) + " in line" + (m.eta_ms ? ", about " + Math.max(1, Math.round(m.eta_ms / 1000)) + " s" : "");
      li.textContent = text;
    }
    phase(name) {
      if (!this.phases) return;
      if (name !== "queued") {
        const li = this.phases.querySelector('li[data-phase="queued"]');
        if (li) li.textContent = "queued";
      }
      const order = ["queued", "building", "waiting", "running", "checking", "done"];
      const at = order.indexOf(name);
      this.phases.querySelectorAll("li").forEach((li) => {
        const i = order.indexOf(li.dataset.phase);
        li.className = i < at || name === "done" ? "done" : i === at ? "active" : "";
      });
    }
    showResult(r) {
      if (!this.result) return;
      const score = r.checks && r.checks.length ? ` · ${r.score}/${r.max}` : "";
      let h = `<h2><span class="${r.verdict === "passed" ? "pass" : r.verdict === "ran" ? "muted" : "fail"}" data-testid="verdict">${esc(r.verdict)}</span>${esc(score)}</h2>`;
      h += `<p data-testid="message">${esc(r.message)}</p>`;
      h += predictionOf(r.prediction);
      if (r.problems && r.problems.length) {
        h += `<h3>Compile problems</h3><ul class="problems" data-testid="problems">`;
        r.problems.forEach((p, i) => {
          const where = `${esc(p.file)}${p.line ? ":" + p.line : ""}${p.col ? ":" + p.col : ""}`;
          // On a page with the editor, a problem with a line takes you there.
          h += this.onProblem && p.line > 0
            ? `<li><a href="#" class="problem" data-problem="${i}" data-testid="problem-${i}">${where}</a>: ${esc(p.msg)}</li>`
            : `<li>${where}: ${esc(p.msg)}</li>`;
        });
        h += `</ul>`;
      }
      if (r.checks && r.checks.length) {
        h += `<table class="checks" data-testid="checks"><tbody>`;
        r.checks.forEach((c, i) => {
          // A check is passed, failed, not reached (nothing it grades was
          // attempted) or not evaluated (a run ended too early to say).
          const st = c.status || (c.passed ? "passed" : "failed");
          const label = { passed: '<span class="pass">pass</span>', failed: '<span class="fail">fail</span>',
            "not-reached": '<span class="muted">not reached</span>', "not-evaluated": '<span class="muted">not evaluated</span>' }[st] || esc(st);
          h += `<tr data-testid="check-${esc(c.id)}" data-status="${esc(st)}" class="${c.passed ? "ok" : "bad"}"><td>${label}</td>`;
          h += `<td>${c.points}/${c.max}</td><td><strong>${esc(c.title)}</strong>`;
          if (!c.passed) {
            h += `<div>${esc(c.message)}</div>`;
            if (c.ref) {
              h += `<div><a href="#" class="jump" data-check="${i}" data-testid="jump-${esc(c.id)}">show in the timeline: ${esc(c.ref.scenario)} on ${c.ref.backend === "uring" ? "io_uring" : esc(c.ref.backend)}, ${fmtNs(c.ref.time_ns)} in, event ${c.ref.seq}</a></div>`;
            }
            if (c.hint) h += `<div class="hint"><em>Hint:</em> ${esc(c.hint)}</div>`;
          } else if (c.message) {
            h += `<div class="note" data-testid="note-${esc(c.id)}"><em>Note:</em> ${esc(c.message)}</div>`;
          }
          h += `</td></tr>`;
        });
        h += `</tbody></table>`;
      }
      if (r.runs && r.runs.length) {
        h += `<table class="runs" data-testid="runs"><thead><tr><th>Scenario</th><th>Backend</th><th>Sandbox</th><th>Answer</th><th>Events</th><th>Wall</th><th>Export</th></tr></thead><tbody>`;
        for (const x of r.runs) {
          h += `<tr><td>${esc(x.scenario)}</td><td>${x.backend === "uring" ? "io_uring" : esc(x.backend)}</td><td>${esc(x.box_verdict)}${x.reason ? " (" + esc(x.reason) + ")" : ""}${x.tries ? `<div class="tries" data-testid="tries-${esc(x.track)}" title="a check failed on a stretch the grading machine kept this run off the CPU, so it was run again and the last try judged">ran ${x.tries} times</div>` : ""}</td>`;
          h += `<td>${esc(x.answer)}${x.error ? `<div class="fail">${esc(x.error)}</div>` : ""}${outputOf(x)}</td><td>${x.events}</td><td>${fmtNs(x.wall_ns)}</td>`;
          h += `<td><a href="/runs/${esc(r.id)}/export/${esc(x.track)}.json" data-testid="export-${esc(x.track)}" title="Chrome Trace Event JSON: open it in ui.perfetto.dev">Perfetto JSON</a></td></tr>`;
        }
        h += `</tbody></table>`;
        h += `<p><a href="/runs/${esc(r.id)}/export/run.json" data-testid="export-run" title="every scenario and backend in one Chrome Trace Event JSON file: open it in ui.perfetto.dev">The whole run as one Perfetto JSON file</a></p>`;
      }
      this.result.innerHTML = h;
      this.result.querySelectorAll("a.problem").forEach((a) => {
        a.onclick = (e) => {
          e.preventDefault();
          this.onProblem(r.problems[Number(a.dataset.problem)]);
        };
      });
      this.result.querySelectorAll("a.jump").forEach((a) => {
        a.onclick = (e) => {
          e.preventDefault();
          const c = r.checks[Number(a.dataset.check)];
          const ok = this.tl.jumpTo(this.key(c.ref.scenario + "-" + c.ref.backend), c.ref.loop || 0, c.ref.seq);
          if (ok) $("canvas.tl").focus({ preventScroll: true });
          $("canvas.tl").scrollIntoView({ block: "center", behavior: "smooth" });
        };
      });
    }
  }

  // predictionOf shows the student's prediction next to the real answer
  // the run gave, or nothing when the exercise asks for none.
  function predictionOf(p) {
    if (!p) return "";
    let h = `<div class="prediction" data-testid="prediction"><p><strong>Predict first:</strong> ${esc(p.question)}</p><dl>`;
    h += `<dt>You predicted</dt><dd data-testid="prediction-predicted">${p.predicted_text ? esc(p.predicted_text) : "nothing: no prediction was committed before this run"}</dd>`;
    h += `<dt>The run</dt><dd data-testid="prediction-actual">${p.actual_text ? esc(p.actual_text) : "not shown: the runs ended before the moment the question is about"}</dd>`;
    h += `</dl>`;
    if (p.note) h += `<p class="note" data-testid="prediction-note">${esc(p.note)}</p>`;
    return h + `</div>`;
  }

  // predictStep drives the exercise page's predict step: the student
  // commits a typed prediction, each run carries it, and the result puts
  // the real answer next to it. It returns the committed answer's getter
  // and what to do with a result's prediction.
  function predictStep() {
    const form = document.getElementById("predict");
    if (!form) return { answer: () => null, show: () => {} };
    const kind = form.dataset.form;
    const status = form.querySelector(".predict-status");
    const commit = form.querySelector('[data-testid="predict-commit"]');
    const change = form.querySelector('[data-testid="predict-change"]');
    const inputs = [...form.querySelectorAll("input")];
    const shares = inputs.filter((i) => i.name.startsWith("share"));
    let committed = null;
    try { committed = form.dataset.committed ? JSON.parse(form.dataset.committed) : null; } catch (e) { committed = null; }
    // read returns the form's answer, or throws a message for the student.
    const read = () => {
      if (kind === "number") {
        const v = form.elements.number.value.trim();
        if (v === "" || !Number.isFinite(Number(v))) throw new Error("Your prediction must be a number.");
        return { number: Number(v) };
      }
      if (kind === "choice") {
        const c = form.querySelector('input[name="choice"]:checked');
        if (!c) throw new Error("Pick one of the choices.");
        return { choice: c.value };
      }
      const v = shares.map((i) => Number(i.value || 0));
      if (v.some((x) => !Number.isFinite(x) || x < 0 || x > 100)) throw new Error("Each share must be a percentage from 0 to 100.");
      const total = v.reduce((a, b) => a + b, 0);
      if (Math.abs(total - 100) > 0.5) throw new Error(`The shares add up to ${total}%; they must add up to 100%.`);
      return { shares: v };
    };
    const fill = (a) => {
      if (kind === "number" && a.number !== undefined) form.elements.number.value = String(a.number);
      if (kind === "choice") inputs.forEach((i) => { i.checked = i.value === a.choice; });
      if (kind === "histogram" && a.shares) shares.forEach((i, k) => { i.value = String(a.shares[k] || 0); });
    };
    const text = (a) => {
      if (kind === "number") return String(a.number);
      if (kind === "choice") return a.choice;
      return shares.map((i, k) => `${i.closest("label").textContent.trim().replace(/^%\s*/, "")} ${a.shares[k]}%`).join(" · ");
    };
    const lock = (on) => {
      inputs.forEach((i) => { i.disabled = on; });
      commit.hidden = on;
      change.hidden = !on;
      form.classList.toggle("committed", on);
    };
    form.onsubmit = (e) => {
      e.preventDefault();
      try {
        committed = read();
      } catch (err) {
        status.textContent = err.message;
        return;
      }
      lock(true);
      status.innerHTML = `You predicted <strong>${esc(text(committed))}</strong>. Run it: the real value will appear next to it.`;
      change.focus();
    };
    change.onclick = () => {
      committed = null;
      lock(false);
      status.textContent = "Change your prediction, then commit it again. Runs until then carry none.";
      inputs[0].focus();
    };
    if (committed) {
      fill(committed);
      lock(true);
    }
    return {
      answer: () => committed,
      show: (p) => {
        if (!p || !p.predicted_text) return;
        status.innerHTML = `You predicted <strong>${esc(p.predicted_text)}</strong>. This run: <strong data-testid="predict-actual">${p.actual_text ? esc(p.actual_text) : "not shown"}</strong>${p.note ? " (" + esc(p.note) + ")" : ""}`;
      },
    };
  }

  // outputOf shows what a run printed: its stdout, and the head and tail
  // of its stderr (a panic's message lands there).
  function outputOf(x) {
    let h = "";
    const block = (name, text) => `<details class="output" data-testid="output-${esc(name)}-${esc(x.track)}"><summary>${esc(name)}</summary><pre tabindex="0" role="region" aria-label="${esc(name)}">${esc(text)}</pre></details>`;
    if (x.stdout) h += block("stdout", x.stdout);
    if (x.stderr) h += block("stderr", x.stderr + (x.stderr_tail ? "\n…\n" + x.stderr_tail : ""));
    return h;
  }

  // Counts events across views, redrawn once per frame at most.
  function eventCounter(views) {
    const el = document.getElementById("event-count");
    let pending = false;
    return () => {
      if (pending) return;
      pending = true;
      requestAnimationFrame(() => {
        pending = false;
        el.textContent = String(views.reduce((n, v) => n + v.events, 0));
      });
    };
  }

  async function post(url, body) {
    const res = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": root.dataset.csrf },
      body: JSON.stringify(body),
    });
    let data = {};
    try { data = await res.json(); } catch (e) { /* an error page */ }
    if (!res.ok) throw new Error(data.error || `the server answered ${res.status}`);
    return data;
  }

  function notice(text, bad) {
    const n = document.getElementById("notice");
    if (!n) return;
    n.textContent = text;
    n.className = "notice" + (bad ? " fail" : "");
  }

  async function compareWithReference(mine) {
    try {
      notice("Starting the reference run…");
      const ref = await post(`/api/exercises/${root.dataset.slug}/reference`, {});
      location.href = `/compare?a=${encodeURIComponent(mine)}&b=${encodeURIComponent(ref.id)}`;
    } catch (e) {
      notice(e.message, true);
    }
  }

  function exercisePage() {
    const panel = document.getElementById("run-panel");
    // The exercise's scenarios, in its order, from the scenario picker.
    const scenarios = [...document.querySelectorAll("#scenario option")].map((o) => o.value).filter((v) => v);
    const tl = makeTimeline(panel);
    window.labTimeline = tl;
    const prediction = predictStep();
    let socket = null;
    let latest = null;
    const first = document.querySelector("#recent a");
    if (first) latest = first.getAttribute("href").split("/").pop();
    const view = new RunView({
      timeline: tl,
      result: document.getElementById("result"),
      phases: document.getElementById("phases"),
      onResult: (r) => {
        prediction.show(r.prediction);
        const lines = (r.problems || []).filter((p) => p.line > 0);
        editor.setProblems(lines.map((p) => ({ line: p.line, col: p.col, msg: p.msg })));
        if (lines.length) goToProblem(lines[0], false); // the first, in view, without taking the focus
      },
      onProblem: (p) => goToProblem(p, true),
      trackOrder: (scenario, backend) => {
        const i = scenarios.indexOf(scenario);
        return String(i < 0 ? 999 : i).padStart(3, "0") + (backend === "epoll" ? "0" : "1") + scenario;
      },
    });
    // goToProblem puts the editor's cursor on a compile problem and
    // scrolls the editor to it.
    const goToProblem = (p, focus) => {
      const v = editor.view;
      const doc = v.state.doc;
      const line = doc.line(Math.min(Math.max(1, p.line), doc.lines));
      const at = Math.min(line.from + Math.max(0, (p.col || 1) - 1), line.to);
      v.dispatch({ selection: { anchor: at }, scrollIntoView: true });
      if (focus) {
        document.getElementById("editor").scrollIntoView({ block: "nearest", behavior: "smooth" });
        v.focus();
      }
    };
    view.counter = eventCounter([view]);
    const buttons = [document.getElementById("run"), document.getElementById("submit")];
    const refused = buttons[0].disabled; // the host refuses grading
    let busy = false;
    const start = async (mode) => {
      // One run at a time per page, whether from a button or the keyboard;
      // a host that refuses grading disables the buttons for good.
      if (busy || refused) return;
      busy = true;
      try { localStorage.setItem(draftKey, editor.getValue()); } catch (e) { /* full or off */ }
      const backend = document.getElementById("backend").value;
      const body = { code: editor.getValue(), mode };
      if (prediction.answer()) body.prediction = prediction.answer();
      if (mode === "run") {
        body.backends = backend === "both" ? [] : [backend];
        body.scenario = document.getElementById("scenario").value;
      } else if (root.dataset.assignment) {
        body.assignment = root.dataset.assignment; // the submission counts for it
      }
      buttons.forEach((b) => { b.disabled = true; });
      notice(mode === "submit" ? "Submitting…" : "Starting…");
      window.labRunStarted = performance.now();
      try {
        const r = await post(`/api/exercises/${root.dataset.slug}/runs`, body);
        follow(r.id, r.url);
        latest = r.id;
        root.dataset.run = r.id;
        root.dataset.state = "live";
        history.replaceState(null, "", `#run=${r.id}`);
        const recent = document.getElementById("recent");
        if (recent) {
          const li = document.createElement("li");
          li.innerHTML = `<a href="${esc(r.url)}">just now</a> <span class="badge">${esc(mode)}</span>`;
          recent.prepend(li);
        }
        notice(mode === "submit" ? "Grading on every scenario and backend…" : "Running…");
        // The run is drawn below the editor: bring its timeline into view
        // unless it already is.
        const box = $("canvas.tl", panel).getBoundingClientRect();
        if (box.top > window.innerHeight * 0.6 || box.bottom < 0) {
          panel.scrollIntoView({ block: "start", behavior: "smooth" });
        }
      } catch (e) {
        notice(e.message, true);
        busy = false;
        buttons.forEach((b) => { b.disabled = false; });
      }
    };
    // follow shows run id on this page, live or recorded.
    const follow = (id, url) => {
      if (socket) socket.close();
      tl.clear();
      view.reset();
      view.counter();
      editor.setProblems([]);
      const link = document.getElementById("run-link");
      link.href = url;
      link.hidden = false;
      link.textContent = "replay link: " + location.origin + url;
      socket = new RunSocket(id, (m) => {
        if (m.type === "events" && window.labFirstEvent === undefined) window.labFirstEvent = performance.now() - window.labRunStarted;
        if (m.type === "hello" && m.live && !busy) {
          // A reload in the middle of a run: it still goes, so the page
          // waits for it as the page that started it did.
          busy = true;
          buttons.forEach((b) => { b.disabled = true; });
          root.dataset.state = "live";
          notice(m.mode === "submit" ? "Still grading on every scenario and backend…" : "Still running…");
        }
        view.handle(m);
        if (m.type === "end") {
          root.dataset.state = "done";
          notice("");
          busy = false;
          if (!refused) buttons.forEach((b) => { b.disabled = false; });
        }
      });
    };
    // The student's code is kept in this browser as they type, so a reload
    // or a visit to another page loses nothing.
    const draftKey = "asynclab:draft:" + root.dataset.slug;
    const starter = document.getElementById("starter").value;
    let draft = null;
    try { draft = localStorage.getItem(draftKey); } catch (e) { /* storage off */ }
    const editor = AsyncLabEditor.create(document.getElementById("editor"), {
      doc: draft || starter,
      onRun: () => start("run"),
      onSubmit: () => start("submit"),
    });
    window.labEditor = editor;
    let saving = 0;
    editor.view.dom.addEventListener("keyup", () => {
      clearTimeout(saving);
      saving = setTimeout(() => { try { localStorage.setItem(draftKey, editor.getValue()); } catch (e) { /* full or off */ } }, 400);
    });
    const reset = document.getElementById("reset-code");
    if (reset) reset.onclick = () => {
      if (!confirm("Replace your code with the starter?")) return;
      editor.setValue(starter);
      try { localStorage.removeItem(draftKey); } catch (e) { /* off */ }
    };
    // A reload shows the run the page was following.
    const m = /^#run=([0-9]{8}-[0-9]{6}-[0-9a-f]{8})$/.exec(location.hash);
    if (m) { latest = m[1]; follow(m[1], "/runs/" + m[1]); }
    buttons[0].onclick = () => start("run");
    buttons[1].onclick = () => start("submit");
    document.getElementById("compare-reference").onclick = () => {
      if (!latest) { notice("Run your handler first, then compare it with the reference.", true); return; }
      compareWithReference(latest);
    };
  }

  function replayPage() {
    const panel = document.getElementById("run-panel");
    const tl = makeTimeline(panel);
    window.labTimeline = tl;
    const view = new RunView({ timeline: tl, result: document.getElementById("result"), phases: document.getElementById("phases") });
    view.counter = eventCounter([view]);
    new RunSocket(root.dataset.run, (m) => view.handle(m));
    const ref = document.getElementById("compare-reference");
    if (ref) ref.onclick = () => compareWithReference(root.dataset.run);
  }

  function comparePage() {
    const tl = makeTimeline(root);
    window.labTimeline = tl;
    const a = new RunView({ timeline: tl, prefix: "a:", label: "A", result: document.getElementById("result-a") });
    const b = new RunView({ timeline: tl, prefix: "b:", label: "B", result: document.getElementById("result-b") });
    const count = eventCounter([a, b]);
    a.counter = b.counter = count;
    // Both sockets share one timeline: only a reset clears it, and then
    // both streams are asked again from the start.
    const handler = (v) => (m) => {
      if (m.type === "reset") { location.reload(); return; }
      v.handle(m);
    };
    new RunSocket(root.dataset.a, handler(a));
    new RunSocket(root.dataset.b, handler(b));
  }

  // watchPage is a course's "watch with me" page. Its run's timeline
  // follows the presenter's cursor and selection, which come over the
  // course's watch socket; the presenter's own page sends them.
  function watchPage() {
    const course = root.dataset.course;
    const run = root.dataset.run;
    const presenter = root.dataset.presenter === "true";
    const status = document.getElementById("watch-status");
    const follow = document.getElementById("watch-follow");
    const say = (text) => { if (status) { status.hidden = false; status.textContent = text; } };
    let ws = null;
    let latest = null; // the presenter's latest position
    let tl = null;

    // The presenter's moves, at most one each 100 ms, the last never lost.
    let sent = "";
    let timer = null;
    let move = null;
    const flush = () => {
      timer = null;
      const key = JSON.stringify(move);
      if (!move || key === sent || !ws || ws.readyState !== WebSocket.OPEN) return;
      ws.send(key);
      sent = key;
    };
    const moved = (s) => {
      const sel = s.selected;
      move = { type: "move", run, cursor: s.cursor, track: sel ? sel.track : "", loop: sel ? sel.loop | 0 : 0, seq: sel ? sel.seq : 0 };
      if (!timer) timer = setTimeout(flush, 100);
    };
    const apply = () => {
      if (!tl || presenter || !latest || (follow && !follow.checked)) return;
      if (latest.track && tl.jumpTo(latest.track, latest.loop || 0, latest.seq)) return;
      tl.pause();
      tl.seek(latest.cursor || 0);
    };

    if (run) {
      const panel = document.getElementById("run-panel");
      tl = makeTimeline(panel, presenter ? moved : null);
      window.labTimeline = tl;
      const view = new RunView({ timeline: tl, result: document.getElementById("result"), phases: document.getElementById("phases") });
      view.counter = eventCounter([view]);
      // A position may name an event that has not arrived yet: apply it
      // again once the whole run is here.
      new RunSocket(run, (m) => { view.handle(m); if (m.type === "end") apply(); });
      if (follow) follow.onchange = apply;
    }

    const connect = () => {
      const proto = location.protocol === "https:" ? "wss:" : "ws:";
      ws = new WebSocket(`${proto}//${location.host}/ws/courses/${course}/watch`);
      ws.onopen = () => { if (presenter && move) flush(); };
      ws.onmessage = (e) => {
        let m;
        try { m = JSON.parse(e.data); } catch (err) { return; }
        switch (m.type) {
          case "watch":
            if (m.run !== run) { location.reload(); return; } // a new run, or the first
            latest = m;
            root.dataset.moves = String(m.n || 0);
            apply();
            break;
          case "ended":
            if (run) say("The session has ended. The run stays on this page until you leave it.");
            root.dataset.ended = "true";
            break;
          case "error":
            say(m.message);
            break;
        }
      };
      ws.onclose = () => setTimeout(connect, 1000);
    };
    connect();
  }

  switch (root.dataset.page) {
    case "watch": watchPage(); break;
    case "exercise": exercisePage(); break;
    case "replay": replayPage(); break;
    case "compare": comparePage(); break;
  }
})();
