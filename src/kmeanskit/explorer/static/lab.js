// The failure-mode lab: many seeds at once as small multiples with their inertias
// (random vs k-means++ starts), the one-click traps, and the elbow over k.
"use strict";

const KLab = (() => {
  const $ = (id) => document.getElementById(id);
  // "search": the same k-means++ starts after kmeanskit's global search (its final
  // clusterings only: the search is many Lloyd runs, not one run to step through).
  const COLUMNS = [["random", "lab-random"], ["k-means++", "lab-kpp"], ["search", "lab-search"]];
  const fmt = (v) => Number(v.toPrecision(5)).toString();

  function traps(app, list) {
    const box = $("traps");
    box.textContent = "";
    for (const trap of list) {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = trap.title;
      b.dataset.trap = trap.key;
      b.title = trap.caption;
      b.addEventListener("click", () => app.applyTrap(trap));
      box.appendChild(b);
    }
  }

  function clear() {
    for (const [, id] of COLUMNS) {
      $(id).querySelector(".grid").textContent = "";
      const strip = $(id).querySelector(".strip");
      strip.getContext("2d").clearRect(0, 0, strip.width, strip.height);
    }
    $("elbow").hidden = true;
  }

  async function run(app) {
    const n = Number($("lab-seeds").value);
    const res = app.offline ? app.offline.lab : await app.api("lab", { ...app.runParams(), seeds: n });
    if (res) render(app, res);
  }

  function render(app, res) {
    const columns = COLUMNS.filter(([init]) => res[init]);
    const every = columns.flatMap(([init]) => res[init]);
    const all = every.map((r) => r.inertia);
    const pts = app.xy().concat(...every.map((r) => app.project(r.centers)));
    const summary = { k: res.k, seeds: res.seeds };
    for (const [init, id] of columns) {
      const runs = res[init];
      const inertias = runs.map((r) => r.inertia);
      let best = 0;
      inertias.forEach((v, i) => { if (v < inertias[best]) best = i; });
      KPlot.drawSeries($(id).querySelector(".strip"), {
        values: inertias, scaleTo: all, line: false, mark: best, markLabel: "best",
        xlabel: "seed", ticks: runs.map((r) => r.seed),
      });
      const grid = $(id).querySelector(".grid");
      grid.textContent = "";
      runs.forEach((r, i) => {
        const fig = document.createElement("figure");
        fig.className = "multiple" + (fmt(inertias[i]) === fmt(inertias[best]) ? " best" : "");
        fig.dataset.seed = r.seed;
        const steppable = init !== "search";
        fig.title = steppable
          ? `${init}, seed ${r.seed}: ${r.n_iter} iterations (${r.stop_reason}); click to step through it`
          : `seed ${r.seed}: Lloyd ended at ${fmt(r.lloyd_inertia)}; ${r.cycles} search cycles, ${r.kept} kept, ended at ${fmt(r.inertia)}`;
        const canvas = document.createElement("canvas");
        canvas.width = canvas.height = 128;
        const view = KPlot.makeView(canvas, pts, 6);
        KPlot.drawSmall(canvas, app.xy(), r.labels, app.project(r.centers), view);
        const cap = document.createElement("figcaption");
        cap.textContent = `seed ${r.seed} · ${fmt(r.inertia)}${i === best ? " · best" : ""}`;
        fig.append(canvas, cap);
        if (steppable) fig.addEventListener("click", () => app.loadRun(init, r.seed));
        grid.appendChild(fig);
      });
      summary[init] = { inertias, best, distinct: new Set(inertias.map(fmt)).size };
    }
    app.setLab(summary);
  }

  async function elbow(app) {
    const res = app.offline ? app.offline.elbow : await app.api("elbow", { ...app.dataParams(), kmax: 10 });
    const canvas = $("elbow");
    canvas.hidden = false;
    const k = Number(app.params().k);
    KPlot.drawSeries(canvas, {
      values: res.inertia, scaleTo: res.inertia, xlabel: "k (best of 5 k-means++ seeds)",
      ticks: res.k, mark: res.k.indexOf(k) >= 0 ? res.k.indexOf(k) : null, markLabel: `k = ${k}`,
    });
    app.setElbow(res);
  }

  return { traps, clear, run, elbow };
})();
