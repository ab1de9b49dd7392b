// Drawing only: the scatter plot, the inertia chart, the lab's small multiples and the
// elbow. Every number drawn comes from the server (kmeanskit.trace).
"use strict";

const KPlot = (() => {
  // Okabe-Ito (black left out) then Paul Tol's muted set: colour-blind safe up to 16;
  // beyond that colours repeat with another marker shape.
  const PALETTE = [
    "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7",
    "#332288", "#88CCEE", "#44AA99", "#117733", "#999933", "#DDCC77", "#CC6677",
    "#882255", "#AA4499",
  ];
  const GREY = "#9a9a9a";
  const color = (c) => (c == null || c < 0 ? GREY : PALETTE[c % PALETTE.length]);
  const shape = (c) => (c == null || c < 0 ? 0 : Math.floor(c / PALETTE.length) % 3);

  // Rows of `rows` (full dimension) in the 2-D view.
  function project(rows, proj) {
    const [c0, c1] = proj.comps;
    return rows.map((r) => {
      let a = 0, b = 0;
      for (let j = 0; j < r.length; j++) {
        const v = r[j] - proj.mean[j];
        a += v * c0[j];
        b += v * c1[j];
      }
      return [a, b];
    });
  }

  // Data-to-pixel mapping that fits every point given; equal aspect unless the two
  // ranges differ more than 5 times (then each axis fills the canvas).
  function makeView(canvas, pts, margin = 40) {
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (const [x, y] of pts) {
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
    if (!(x1 > x0)) { x0 -= 1; x1 += 1; }
    if (!(y1 > y0)) { y0 -= 1; y1 += 1; }
    const w = canvas.width - 2 * margin, h = canvas.height - 2 * margin;
    let sx = w / (x1 - x0), sy = h / (y1 - y0);
    if (Math.max(sx, sy) / Math.min(sx, sy) <= 5) sx = sy = Math.min(sx, sy);
    const ox = margin + (w - sx * (x1 - x0)) / 2, oy = margin + (h - sy * (y1 - y0)) / 2;
    return {
      x0, x1, y0, y1, margin,
      px: (x) => ox + (x - x0) * sx,
      py: (y) => canvas.height - (oy + (y - y0) * sy),
      dx: (px) => x0 + (px - ox) / sx,
      dy: (py) => y0 + (canvas.height - py - oy) / sy,
    };
  }

  function marker(ctx, x, y, r, s) {
    ctx.beginPath();
    if (s === 1) ctx.rect(x - r, y - r, 2 * r, 2 * r);
    else if (s === 2) { ctx.moveTo(x, y - r - 1); ctx.lineTo(x + r + 1, y + r); ctx.lineTo(x - r - 1, y + r); ctx.closePath(); }
    else ctx.arc(x, y, r, 0, 2 * Math.PI);
  }

  function nearest(x, y, cxy) {
    let best = 0, bd = Infinity;
    for (let j = 0; j < cxy.length; j++) {
      const dx = x - cxy[j][0], dy = y - cxy[j][1], d = dx * dx + dy * dy;
      if (d < bd) { bd = d; best = j; }
    }
    return best;
  }

  // Voronoi cells of the centres, drawn as a coarse grid of nearest-centre colours.
  function voronoi(ctx, view, cxy, cell = 5) {
    ctx.globalAlpha = 0.16;
    for (let py = 0; py < ctx.canvas.height; py += cell) {
      for (let px = 0; px < ctx.canvas.width; px += cell) {
        ctx.fillStyle = color(nearest(view.dx(px + cell / 2), view.dy(py + cell / 2), cxy));
        ctx.fillRect(px, py, cell, cell);
      }
    }
    ctx.globalAlpha = 1;
  }

  function axes(ctx, view, labels) {
    const { width: W, height: H } = ctx.canvas;
    ctx.strokeStyle = "#bbb";
    ctx.lineWidth = 1;
    ctx.strokeRect(view.margin - 8, view.margin - 8, W - 2 * view.margin + 16, H - 2 * view.margin + 16);
    ctx.fillStyle = "#333";
    ctx.font = "12px system-ui, sans-serif";
    const fmt = (v) => (Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-2) ? v.toExponential(1) : +v.toFixed(2));
    ctx.textAlign = "left";
    ctx.fillText(String(fmt(view.dx(view.margin))), view.margin - 8, H - view.margin + 22);
    ctx.textAlign = "right";
    ctx.fillText(String(fmt(view.dx(W - view.margin))), W - view.margin + 8, H - view.margin + 22);
    ctx.textAlign = "center";
    ctx.fillText(labels[0] || "", W / 2, H - 10);
    ctx.save();
    ctx.translate(14, H / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.fillText(labels[1] || "", 0, 0);
    ctx.restore();
    ctx.textAlign = "left";  // inside the left margin, never clipped by the canvas edge
    ctx.fillText(String(fmt(view.dy(H - view.margin))), 2, H - view.margin);
    ctx.fillText(String(fmt(view.dy(view.margin))), 2, view.margin + 10);
  }

  // The main plot. o: {view, xy, labels, cxy, trails (list of cxy per frame), changed,
  // relocated, voronoi, lines, axes, hint, placing}
  function drawPlot(canvas, o) {
    const ctx = canvas.getContext("2d");
    const { view, xy, labels, cxy } = o;
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    if (o.voronoi && cxy.length) voronoi(ctx, view, cxy);
    axes(ctx, view, o.axes);
    if (o.lines && labels && cxy.length) {
      ctx.lineWidth = 0.6;
      ctx.globalAlpha = 0.35;
      for (let i = 0; i < xy.length; i++) {
        ctx.strokeStyle = color(labels[i]);
        ctx.beginPath();
        ctx.moveTo(view.px(xy[i][0]), view.py(xy[i][1]));
        ctx.lineTo(view.px(cxy[labels[i]][0]), view.py(cxy[labels[i]][1]));
        ctx.stroke();
      }
      ctx.globalAlpha = 1;
    }
    const r = xy.length > 3000 ? 2 : 3.2;
    for (let i = 0; i < xy.length; i++) {
      const c = labels ? labels[i] : -1;
      ctx.fillStyle = color(c);
      marker(ctx, view.px(xy[i][0]), view.py(xy[i][1]), r, shape(c));
      ctx.fill();
    }
    if (o.changed && o.changed.length) {
      ctx.strokeStyle = "#000";
      ctx.lineWidth = 1.3;
      for (const i of o.changed) {
        ctx.beginPath();
        ctx.arc(view.px(xy[i][0]), view.py(xy[i][1]), r + 3.5, 0, 2 * Math.PI);
        ctx.stroke();
      }
    }
    if (o.trails && o.trails.length > 1) {
      ctx.lineWidth = 2;
      for (let j = 0; j < cxy.length; j++) {
        ctx.strokeStyle = "#222";
        ctx.setLineDash([4, 3]);
        ctx.beginPath();
        o.trails.forEach((f, t) => {
          const p = [view.px(f[j][0]), view.py(f[j][1])];
          if (t === 0) ctx.moveTo(...p); else ctx.lineTo(...p);
        });
        ctx.stroke();
        ctx.setLineDash([]);
      }
    }
    cxy.forEach(([x, y], j) => {
      const px = view.px(x), py = view.py(y);
      ctx.lineWidth = 2.5;
      ctx.strokeStyle = "#000";
      ctx.fillStyle = color(j);
      marker(ctx, px, py, 9, shape(j));
      ctx.fill();
      ctx.stroke();
      ctx.fillStyle = "#000";
      ctx.font = "bold 11px system-ui, sans-serif";
      ctx.textAlign = "center";
      ctx.fillText(String(j), px, py + 4);
    });
    for (const [j] of o.relocated || []) {
      ctx.strokeStyle = "#000";
      ctx.setLineDash([3, 3]);
      ctx.beginPath();
      ctx.arc(view.px(cxy[j][0]), view.py(cxy[j][1]), 16, 0, 2 * Math.PI);
      ctx.stroke();
      ctx.setLineDash([]);
    }
    if (o.hint) {
      ctx.fillStyle = "#333";
      ctx.font = "14px system-ui, sans-serif";
      ctx.textAlign = "center";
      ctx.fillText(o.hint, canvas.width / 2, 22);
    }
  }

  // A line chart of values (null skipped) over x = 0..n-1 with optional markers.
  function drawSeries(canvas, o) {
    const ctx = canvas.getContext("2d");
    const { width: W, height: H } = canvas;
    const L = 70, R = 12, T = 14, B = 30;
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, W, H);
    const vals = o.scaleTo.filter((v) => v != null);
    if (!vals.length) return;
    let lo = Math.min(...vals), hi = Math.max(...vals);
    if (hi === lo) { hi += Math.abs(hi) * 0.05 + 1e-9; lo -= Math.abs(lo) * 0.05 + 1e-9; }
    const n = Math.max(o.values.length - 1, 1);
    const px = (i) => L + ((i - (o.x0 || 0)) / Math.max(n - (o.x0 || 0), 1)) * (W - L - R);
    const py = (v) => T + (1 - (v - lo) / (hi - lo)) * (H - T - B);
    ctx.strokeStyle = "#bbb";
    ctx.strokeRect(L, T, W - L - R, H - T - B);
    ctx.fillStyle = "#333";
    ctx.font = "12px system-ui, sans-serif";
    ctx.textAlign = "right";
    ctx.fillText(hi.toPrecision(4), L - 4, T + 10);
    ctx.fillText(lo.toPrecision(4), L - 4, H - B);
    ctx.textAlign = "center";
    ctx.fillText(o.xlabel, (L + W - R) / 2, H - 6);
    ctx.strokeStyle = "#0072B2";
    ctx.lineWidth = 2;
    ctx.beginPath();
    let started = false;
    o.values.forEach((v, i) => {
      if (v == null) return;
      if (!started) { ctx.moveTo(px(i), py(v)); started = true; } else ctx.lineTo(px(i), py(v));
    });
    if (o.line !== false) ctx.stroke();
    o.values.forEach((v, i) => {
      if (v == null) return;
      ctx.fillStyle = o.fill ? o.fill(i) : "#0072B2";
      ctx.beginPath();
      ctx.arc(px(i), py(v), 3.5, 0, 2 * Math.PI);
      ctx.fill();
      ctx.strokeStyle = "#0072B2";
      ctx.lineWidth = 1.2;
      ctx.stroke();
    });
    if (o.mark != null && o.values[o.mark] != null) {
      ctx.strokeStyle = "#D55E00";
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.arc(px(o.mark), py(o.values[o.mark]), 8, 0, 2 * Math.PI);
      ctx.stroke();
      ctx.fillStyle = "#D55E00";
      const right = px(o.mark) > W - 60;
      ctx.textAlign = right ? "right" : "left";
      ctx.fillText(o.markLabel || "", px(o.mark) + (right ? -10 : 10), py(o.values[o.mark]) - 8);
    }
    if (o.ticks) {
      ctx.fillStyle = "#333";
      ctx.textAlign = "center";
      o.ticks.forEach((t, i) => ctx.fillText(String(t), px(i + (o.x0 || 0)), H - B + 13));
    }
  }

  // A small multiple: points coloured by label and the centres, no axes.
  function drawSmall(canvas, xy, labels, cxy, view) {
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    for (let i = 0; i < xy.length; i++) {
      ctx.fillStyle = color(labels[i]);
      ctx.fillRect(view.px(xy[i][0]) - 1, view.py(xy[i][1]) - 1, 2, 2);
    }
    cxy.forEach(([x, y], j) => {
      ctx.fillStyle = color(j);
      ctx.strokeStyle = "#000";
      ctx.lineWidth = 1.5;
      marker(ctx, view.px(x), view.py(y), 4, shape(j));
      ctx.fill();
      ctx.stroke();
    });
  }

  return { PALETTE, color, project, makeView, nearest, drawPlot, drawSeries, drawSmall };
})();
