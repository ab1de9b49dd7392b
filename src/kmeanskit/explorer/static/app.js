// The explorer's state, controls and URL. Every frame comes from /api/trace
// (kmeanskit.trace) or, in an exported page, from the runs inlined in it.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const OFF = window.KMEANS_OFFLINE || null;
  const DISPLAY = ["voronoi", "lines", "trails"];
  const S = {
    cfg: null, p: {}, data: null, xy: [], trace: null, cxy: [], f: 0, view: null,
    timer: null, busy: 0, version: 0, error: null, lab: null, elbow: null, token: 0,
    drag: null, hash: "", locked: false, warm: null,
  };
  const fmt = (v) => (v == null ? "-" : Number(v.toPrecision(6)).toString());

  // -- server ---------------------------------------------------------------------

  async function api(name, params) {
    for (;;) {
      const r = await fetch(`/api/${name}?${new URLSearchParams(params)}`);
      const body = await r.json();
      if (r.status === 503 && body.warming) {
        // The server was restarted and compiles again: wait with it, then ask again.
        await warmUp();
        lock(false);
        continue;
      }
      if (!r.ok) throw new Error(body.error || r.statusText);
      return body;
    }
  }

  // -- warm-up: the first start in an environment compiles the kernels -------------

  // Every control really disabled (and the page greyed) while the kernels are not ready.
  // What a control should be once unlocked is kept in data-enabled (see able()).
  function lock(on) {
    S.locked = on;
    document.body.classList.toggle("locked", on);
    $("warming").hidden = !on;
    $("status").classList.toggle("busy", on);
    for (const el of document.querySelectorAll("button, input, select, textarea")) {
      if (on && el.dataset.enabled == null) {
        el.dataset.enabled = el.disabled ? "0" : "1";
        el.disabled = true;
      } else if (!on && el.dataset.enabled != null) {
        el.disabled = el.dataset.enabled !== "1";
        delete el.dataset.enabled;
      }
    }
    publish();
  }
  function able(id, on) {
    if (S.locked) $(id).dataset.enabled = on ? "1" : "0";
    else $(id).disabled = !on;
  }
  function showWarm(st) {
    S.warm = st;
    const failed = st.state === "failed" || st.state === "lost";
    $("warming").classList.toggle("failed", failed);
    $("warming-text").textContent = st.message;
    $("warming-time").textContent = failed ? "" : `${Math.round(st.seconds || 0)} s so far`;
    if ($("status").textContent !== st.message) setStatus(st.message, failed);
    $("status").classList.toggle("busy", !failed);
    publish();
  }
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  // Ask /api/status every half second until the kernels are ready (controls locked).
  async function warmUp() {
    lock(true);
    for (;;) {
      let st;
      try {
        const r = await fetch("/api/status");
        st = await r.json();
      } catch (e) {
        st = { ready: false, state: "lost", message: "Cannot reach the explorer server: is kmeanskit explore still running?" };
      }
      if (st.ready) return;
      showWarm(st);
      if (st.state === "failed") throw new Error(st.message);
      await sleep(500);
    }
  }
  const isPreset = () => S.cfg.presets.some((p) => p.name === S.p.data);
  function dataParams() {
    const o = { data: S.p.data, std: S.p.std ? "1" : "0" };
    if (isPreset()) Object.assign(o, { n: S.p.n, noise: S.p.noise, dseed: S.p.dseed });
    return o;
  }
  function runParams() {
    const o = { ...dataParams(), k: S.p.k, init: S.p.init, seed: S.p.seed };
    if (S.p.init === "manual") o.centers = S.p.centers.map((c) => c.join(",")).join(";");
    return o;
  }
  async function guarded(fn) {
    S.busy++;
    publish();
    try {
      S.error = null;
      return await fn();
    } catch (e) {
      S.error = e.message;
      setStatus(`error: ${e.message}`, true);
    } finally {
      S.busy--;
      publish();
    }
  }

  // -- URL ------------------------------------------------------------------------

  function readURL() {
    const u = new URLSearchParams(location.search);
    for (const [key, value] of new URLSearchParams(location.hash.slice(1))) u.set(key, value);
    return Object.fromEntries(u);
  }
  function writeURL() {
    const o = { ...dataParams(), k: S.p.k, init: S.p.init, seed: S.p.seed, f: S.f };
    if (S.p.init === "manual") o.centers = runParams().centers;
    for (const key of DISPLAY) o[key] = $(key).checked ? "1" : "0";
    const hash = new URLSearchParams(o).toString();
    if (hash !== S.hash) {
      S.hash = hash;
      location.replace(`#${hash}`);
    }
  }

  // -- loading --------------------------------------------------------------------

  function preset(name) {
    return S.cfg.presets.find((p) => p.name === name);
  }
  function fillForm() {
    for (const key of ["n", "noise", "dseed", "k", "seed", "init"]) $(key).value = S.p[key];
    $("preset").value = S.p.data;
    $("std").checked = !!S.p.std;
    // n, noise and the data seed shape generated data only, not a file.
    if (!OFF) for (const id of ["n", "noise", "dseed", "regenerate"]) able(id, isPreset());
  }

  async function loadData() {
    await guarded(async () => {
      S.data = OFF ? OFF.dataset : await api("dataset", dataParams());
      S.xy = KPlot.project(S.data.X, S.data.projection);
      $("caption").textContent = S.data.caption;
      S.lab = S.elbow = null;
      KLab.clear();
    });
  }

  async function loadTrace(f = 0) {
    stop();
    const token = ++S.token;
    S.trace = null;
    fillForm();
    if (S.p.init === "manual" && S.p.centers.length < S.p.k) {
      S.p.centers = S.p.centers.slice(0, S.p.k);
      S.f = 0;
      S.view = KPlot.makeView($("plot"), S.xy);
      render();
      return;
    }
    S.p.centers = S.p.centers.slice(0, S.p.k);
    await guarded(async () => {
      let trace;
      if (OFF) {
        trace = OFF.traces[`${S.p.init}|${S.p.seed}`];
        if (!trace) throw new Error("this offline copy holds seeds 0 to 11 of its three inits only");
      } else trace = await api("trace", runParams());
      if (token !== S.token) return;
      S.trace = trace;
      S.cxy = trace.frames.map((fr) => KPlot.project(fr.centers, S.data.projection));
      S.view = KPlot.makeView($("plot"), S.xy.concat(...S.cxy));
      setFrame(Math.min(Math.max(0, f | 0), trace.frames.length - 1));
    });
  }

  // -- drawing --------------------------------------------------------------------

  function frame() {
    return S.trace ? S.trace.frames[S.f] : null;
  }
  function setStatus(text, error = false) {
    $("status").textContent = text;
    $("status").classList.toggle("error", error);
  }
  function statusText(fr) {
    if (!fr) {
      const i = S.p.centers.length;
      if (S.data.d !== 2) return "manual starts need 2-D data: pick another init";
      return `manual start: click on the plot to place centre ${i + 1} of ${S.p.k}`;
    }
    if (fr.kind === "init") {
      const how = S.trace.init === "manual" ? "manual" : `${S.trace.init}, seed ${S.p.seed}`;
      return `initial centres (${how}) - next: assign every point to its nearest centroid`;
    }
    let text = `iteration ${fr.iteration} - ${fr.kind} - `;
    if (fr.kind === "assign") text += `${fr.changed.length} points changed`;
    else text += fr.relocated.length
      ? fr.relocated.map(([c, r]) => `empty cluster ${c} moved onto point ${r}`).join(", ")
      : "centroids moved to the means of their clusters";
    return `${text} - inertia ${fmt(fr.inertia)}`;
  }
  function badgeText() {
    if (!S.trace || S.f !== S.trace.frames.length - 1) return "";
    return {
      no_change: "converged: no point changed cluster",
      tol: "converged: the centres moved less than tol",
      max_iter: "stopped at max_iter",
    }[S.trace.stop_reason];
  }

  function render() {
    const fr = frame();
    const pca = S.data.projection.pca;
    const cxy = fr ? S.cxy[S.f] : KPlot.project(S.p.centers, S.data.projection);
    const firstAssign = fr && fr.kind === "assign" && fr.iteration === 1;
    KPlot.drawPlot($("plot"), {
      view: S.view, xy: S.xy, labels: fr ? fr.labels : null, cxy,
      trails: fr && $("trails").checked ? S.cxy.slice(0, S.f + 1) : null,
      changed: fr && !firstAssign ? fr.changed : [],
      relocated: fr && fr.kind === "update" ? fr.relocated : [],
      voronoi: $("voronoi").checked && !pca, lines: $("lines").checked,
      axes: S.data.projection.axes, hint: fr ? "" : statusText(fr),
    });
    const frames = S.trace ? S.trace.frames : [];
    KPlot.drawSeries($("chart"), {
      values: frames.map((x, i) => (i <= S.f ? x.inertia : null)),
      scaleTo: frames.map((x) => x.inertia), mark: fr && fr.inertia != null ? S.f : null,
      markLabel: "now", fill: (i) => (frames[i].kind === "assign" ? "#0072B2" : "#fff"),
      xlabel: "inertia after each half-step (filled: assign, hollow: update)",
    });
    setStatus(S.error ? `error: ${S.error}` : statusText(fr), !!S.error);
    const badge = badgeText();
    $("badge").hidden = !badge;
    $("badge").textContent = badge;
    $("badge").className = `badge ${S.trace && S.trace.stop_reason === "max_iter" ? "warn" : "ok"}`;
    const next = S.trace ? S.trace.frames[S.f + 1] : null;
    able("assign", !!next && next.kind === "assign");
    able("update", !!next && next.kind === "update");
    for (const id of ["step", "end"]) able(id, !!next);
    for (const id of ["back", "reset"]) able(id, !!fr && S.f !== 0);
    able("play", !!next || !!S.timer);
    $("play").textContent = S.timer ? "pause" : "play";
    showCommand();
    writeURL();
    publish();
  }

  // For the command line's file, the `kmeanskit fit` call that gives this very run.
  function showCommand() {
    const on = S.p.data === "file" && ["k-means++", "random"].includes(S.p.init) && !S.p.std && !OFF;
    $("cli").hidden = !on;
    if (on) {
      $("cli").querySelector("code").textContent = `kmeanskit fit ${S.cfg.file} -k ${S.p.k} ` +
        `--init ${S.p.init} --n-init 1 --search none --seed ${S.p.seed} --tol 0 --max-iter 100`;
    }
  }

  // What tests and curious users read: the page's whole state.
  function publish() {
    const fr = frame();
    S.version++;
    window.kmeansState = {
      ready: !!S.data && S.busy === 0 && !S.locked, busy: S.busy, version: S.version, offline: !!OFF,
      locked: S.locked, warm: S.warm,
      params: { ...S.p }, error: S.error, points: S.data ? S.data.X : [], xy: S.xy,
      axes: S.data ? S.data.projection.axes : [],
      labels: fr ? fr.labels : null, centers: fr ? fr.centers : S.p.centers,
      frame: S.f, nFrames: S.trace ? S.trace.frames.length : 0,
      kind: fr ? fr.kind : null, iteration: fr ? fr.iteration : 0,
      inertia: fr ? fr.inertia : null,
      inertiaHistory: S.trace ? S.trace.frames.slice(0, S.f + 1).map((x) => x.inertia) : [],
      changed: fr ? fr.changed : [], empty: fr ? fr.empty : [], relocated: fr ? fr.relocated : [],
      stopReason: S.trace ? S.trace.stop_reason : null,
      status: $("status").textContent, badge: $("badge").hidden ? "" : $("badge").textContent,
      playing: !!S.timer, lab: S.lab, elbow: S.elbow,
    };
  }

  // -- stepping -------------------------------------------------------------------

  function setFrame(f) {
    if (!S.trace) return;
    S.f = Math.min(Math.max(0, f), S.trace.frames.length - 1);
    render();
  }
  const nextKind = (d = 1) => (S.trace && S.trace.frames[S.f + d] ? S.trace.frames[S.f + d].kind : null);
  const actions = {
    assign: () => nextKind() === "assign" && setFrame(S.f + 1),
    update: () => nextKind() === "update" && setFrame(S.f + 1),
    step: () => setFrame(nextKind() === "assign" && nextKind(2) === "update" ? S.f + 2 : S.f + 1),
    back: () => setFrame(S.f - 1),
    reset: () => setFrame(0),
    end: () => { stop(); setFrame(Infinity); },
    play: () => (S.timer ? stop() : play()),
  };
  function play() {
    if (!nextKind()) return;
    S.timer = setInterval(() => (nextKind() ? setFrame(S.f + 1) : stop()), 1000 / Number($("speed").value));
    render();
  }
  function stop() {
    if (!S.timer) return;
    clearInterval(S.timer);
    S.timer = null;
    if (S.trace) render();
  }

  // -- manual centres -------------------------------------------------------------

  function canvasPoint(ev) {
    const r = $("plot").getBoundingClientRect();
    const px = ((ev.clientX - r.left) * $("plot").width) / r.width;
    const py = ((ev.clientY - r.top) * $("plot").height) / r.height;
    return { px, py, x: S.view.dx(px), y: S.view.dy(py) };
  }
  function onDown(ev) {
    if (S.locked || S.p.init !== "manual" || OFF || S.data.d !== 2 || (S.trace && S.f !== 0)) return;
    const p = canvasPoint(ev);
    const hit = S.p.centers.findIndex(([x, y]) => Math.hypot(S.view.px(x) - p.px, S.view.py(y) - p.py) < 12);
    if (hit >= 0) S.drag = hit;
    else if (S.p.centers.length < S.p.k) {
      S.p.centers.push([p.x, p.y]);
      if (S.p.centers.length === Number(S.p.k)) loadTrace(0);
      else render();
    }
  }
  function onMove(ev) {
    if (S.drag == null) return;
    const p = canvasPoint(ev);
    S.p.centers[S.drag] = [p.x, p.y];
    S.trace = null;
    render();
  }
  function onUp() {
    if (S.drag == null) return;
    S.drag = null;
    loadTrace(0);
  }

  // -- controls -------------------------------------------------------------------

  async function changeData(reset) {
    if (reset) S.p.centers = [];
    await loadData();
    await loadTrace(0);
  }
  async function upload(file) {
    $("upload-error").textContent = "";
    await guarded(async () => {
      const r = await fetch("/api/upload", {
        method: "POST", body: file, headers: { "X-Filename": file.name.replace(/[^\w. -]/g, "_") },
      });
      const body = await r.json();
      if (!r.ok) {
        $("upload-error").textContent = body.error;
        return;
      }
      const opt = document.createElement("option");
      opt.value = `upload:${body.id}`;
      opt.textContent = `uploaded: ${body.name} (${body.n} x ${body.d})`;
      $("preset").appendChild(opt);
      S.p.data = opt.value;
      S.p.k = Math.min(S.p.k, body.n);
    });
    if (!$("upload-error").textContent) await changeData(true);
  }
  function applyTrap(trap) {
    const s = trap.settings;
    const p = preset(s.data);
    Object.assign(S.p, { data: s.data, n: p.n, noise: 0, dseed: 0, std: !!s.std, k: s.k, init: s.init, seed: s.seed });
    S.p.centers = s.centers ? s.centers.map((c) => c.slice()) : [];
    $("trap-caption").textContent = `${trap.title}: ${trap.caption}`;
    changeData(false).then(() => KLab.run(app));
  }

  function bind() {
    const num = (id, key, after) => $(id).addEventListener("change", () => {
      S.p[key] = Number($(id).value);
      after();
    });
    $("preset").addEventListener("change", () => {
      S.p.data = $("preset").value;
      const p = preset(S.p.data);
      if (p) Object.assign(S.p, { n: p.n, k: p.k });
      changeData(true);
    });
    num("n", "n", () => changeData(false));
    num("noise", "noise", () => changeData(false));
    num("dseed", "dseed", () => changeData(false));
    num("k", "k", () => loadTrace(0));
    num("seed", "seed", () => loadTrace(0));
    $("std").addEventListener("change", () => { S.p.std = $("std").checked; changeData(true); });
    $("regenerate").addEventListener("click", () => { S.p.dseed = Number(S.p.dseed) + 1; changeData(false); });
    $("init").addEventListener("change", () => {
      S.p.init = $("init").value;
      S.p.centers = [];
      loadTrace(0);
    });
    $("upload").addEventListener("change", () => $("upload").files[0] && upload($("upload").files[0]));
    for (const name of Object.keys(actions)) $(name).addEventListener("click", () => actions[name]());
    $("speed").addEventListener("change", () => { if (S.timer) { stop(); play(); } });
    for (const key of DISPLAY) $(key).addEventListener("change", () => S.data && render());
    $("lab-run").addEventListener("click", () => guarded(() => KLab.run(app)));
    $("elbow-run").addEventListener("click", () => guarded(() => KLab.elbow(app)));
    $("plot").addEventListener("mousedown", onDown);
    window.addEventListener("mousemove", onMove);
    window.addEventListener("mouseup", onUp);
    document.addEventListener("keydown", onKey);
    window.addEventListener("hashchange", () => { if (location.hash.slice(1) !== S.hash) location.reload(); });
  }
  const KEYS = { a: "assign", u: "update", s: "step", ArrowRight: "step", b: "back", ArrowLeft: "back", " ": "play", e: "end", r: "reset" };
  function onKey(ev) {
    const tag = ev.target.tagName;
    if ((tag === "INPUT" && !["checkbox", "range"].includes(ev.target.type)) || tag === "SELECT" || tag === "TEXTAREA") return;
    if (ev.ctrlKey || ev.metaKey || ev.altKey || S.locked) return;
    if (ev.key === " " && tag === "BUTTON") return; // the focused button takes the space
    if (KEYS[ev.key]) {
      ev.preventDefault();
      actions[KEYS[ev.key]]();
    } else if (ev.key === "g" && !OFF) $("regenerate").click();
    else if (ev.key === "l") $("lab-run").click();
  }

  // The interface lab.js uses.
  const app = {
    api, runParams, dataParams, offline: OFF,
    xy: () => S.xy, project: (rows) => KPlot.project(rows, S.data.projection),
    params: () => S.p, applyTrap,
    setLab: (lab) => { S.lab = lab; publish(); },
    setElbow: (e) => { S.elbow = e; publish(); },
    loadRun: (init, seed) => {
      Object.assign(S.p, { init, seed });
      loadTrace(0).then(() => $("plot").scrollIntoView({ behavior: "smooth" }));
    },
  };

  async function start() {
    S.cfg = OFF || (await api("config", {}));
    for (const p of S.cfg.presets) {
      const opt = document.createElement("option");
      opt.value = p.name;
      opt.textContent = p.name.replace("-", " ");
      $("preset").appendChild(opt);
    }
    if (S.cfg.file || (OFF && !preset(OFF.params.data))) {
      const opt = document.createElement("option");
      opt.value = OFF ? OFF.params.data : "file";
      opt.textContent = `your file: ${S.cfg.file || OFF.dataset.name}`;
      $("preset").prepend(opt);
    }
    KLab.traps(app, S.cfg.traps);
    const u = readURL();
    const base = OFF ? OFF.params : {};
    const data = u.data || base.data || (S.cfg.file ? "file" : "blobs");
    const p = preset(data) || { n: 300, k: S.cfg.k || 3 };
    const get = (key, dflt) => Number(u[key] ?? base[key] ?? dflt);
    S.p = {
      data, n: get("n", p.n), noise: get("noise", 0), dseed: get("dseed", 0),
      std: (u.std ?? base.std) === "1", k: get("k", S.cfg.k || p.k), seed: get("seed", 0),
      init: u.init || "k-means++", centers: [],
    };
    if (OFF) Object.assign(S.p, { data: base.data, k: OFF.k });
    if (u.centers) S.p.centers = u.centers.split(";").filter(Boolean).map((c) => c.split(",").map(Number));
    for (const key of DISPLAY) if (u[key] != null) $(key).checked = u[key] === "1";
    if (OFF) {
      $("offline-note").hidden = false;
      for (const el of document.querySelectorAll("[data-server]")) {
        el.disabled = true;
        el.title = "needs the Python server: run kmeanskit explore";
      }
    }
    fillForm();
    if (!OFF) {
      lock(true); // again: the trap buttons are new
      await warmUp();
      $("warming-text").textContent = "Loading the first run…";
      $("warming-time").textContent = "";
    }
    bind();
    await loadData();
    if (S.data) await loadTrace(Number(u.f || 0));
    if (!OFF) lock(false); // only now: never a blank plot with live buttons
  }

  // A page served by kmeanskit explore starts locked, showing the busy state; the offline
  // copy has its runs inlined and never waits.
  if (OFF) lock(false);
  else lock(true);
  start().catch((e) => {
    setStatus(`error: ${e.message}`, true);
    if (S.locked) showWarm({ state: "failed", message: e.message });
  });
})();
