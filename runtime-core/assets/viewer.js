// egida-view's space-time diagram, inlined into the HTML it writes (no
// network, no server). One lane per rank; arrows from a send to its delivery;
// marks for kills, restarts, checkpoints, recoveries, rollbacks and outputs.
// Drawn on a canvas (thousands of messages stay fluid); wheel zooms around
// the pointer, drag pans, hover shows an event, click pins its details.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("trace-data").textContent);
  const H = data.header;
  const R = data.records;
  const size = H.size;

  // ------------------------------------------------------------ styles
  const KINDS = {
    kill: { color: "#d62828", label: "kill", shape: "x", size: 7, on: true },
    restart: { color: "#2a9d8f", label: "restart", shape: "tri", size: 6, on: true },
    "checkpoint-begin": { color: "#1d4ed8", label: "checkpoint begin", shape: "sqo", size: 4, on: true },
    "checkpoint-commit": { color: "#1d4ed8", label: "checkpoint commit", shape: "sq", size: 4, on: true },
    recovery: { color: "#15803d", label: "recovery phase", shape: "dia", size: 5, on: true },
    live: { color: "#15803d", label: "live", shape: "dot", size: 3, on: false },
    rollback: { color: "#7c3aed", label: "rollback", shape: "bar", size: 9, on: true },
    "output-release": { color: "#d97706", label: "output released", shape: "star", size: 6, on: true },
    "output-write": { color: "#d97706", label: "output written", shape: "dot", size: 2.5, on: false },
    "peer-restart": { color: "#64748b", label: "peer restart seen", shape: "tick", size: 5, on: false },
    note: { color: "#64748b", label: "protocol note", shape: "tick", size: 5, on: true },
    read: { color: "#0e7490", label: "read", shape: "dot", size: 2, on: false },
    "log-flush": { color: "#94a3b8", label: "log flush", shape: "tick", size: 3, on: false },
    done: { color: "#0f172a", label: "done", shape: "dot", size: 3, on: true },
    unrecoverable: { color: "#b91c1c", label: "unrecoverable", shape: "x", size: 10, on: true },
    failure: { color: "#b91c1c", label: "failure", shape: "x", size: 10, on: true },
  };
  const ARROW = { color: "rgba(37,99,235,.55)", replay: "rgba(234,88,12,.85)" };
  const INC_COLORS = ["#334155", "#0f766e", "#9333ea", "#b45309", "#be123c"];
  const show = { messages: true };
  for (const k in KINDS) show[k] = KINDS[k].on;

  // ------------------------------------------------------------ clock
  const hasVirtual = H.mode === "sim" && R.length > 0 && R.every((r) => typeof r.vt === "number");
  let clock = "wall";
  const timeOf = (i) => {
    if (i < 0) return null;
    const r = R[i];
    return clock === "virtual" ? r.vt : r.ts - H.startedAt;
  };
  let tMin = 0;
  let tMax = 1;
  function computeExtent() {
    tMin = 0;
    tMax = 0;
    for (let i = 0; i < R.length; i++) tMax = Math.max(tMax, timeOf(i));
    if (tMax <= tMin) tMax = tMin + 1;
  }
  computeExtent();

  // ------------------------------------------------------------ DOM
  const stage = document.getElementById("stage");
  const canvas = document.getElementById("canvas");
  const ctx = canvas.getContext("2d");
  const tip = document.getElementById("tip");
  const details = document.getElementById("details");
  const GUTTER = 86;
  const TOP = 26;
  const BOTTOM = 14;
  let W = 0;
  let Hgt = 0;
  let dpr = 1;
  let view = { from: tMin, to: tMax };
  const labels = [];
  for (let k = 0; k < size; k++) {
    const el = document.createElement("div");
    el.className = "lane-label";
    el.dataset.rank = String(k);
    el.textContent = "rank " + k;
    stage.appendChild(el);
    labels.push(el);
  }

  const laneH = () => Math.max(28, (Hgt - TOP - BOTTOM) / size);
  const laneY = (k) => TOP + laneH() * (k + 0.5);
  const xOf = (t) => GUTTER + ((t - view.from) / (view.to - view.from)) * (W - GUTTER - 12);
  const tOf = (x) => view.from + ((x - GUTTER) / (W - GUTTER - 12)) * (view.to - view.from);

  function resize() {
    const rect = stage.getBoundingClientRect();
    dpr = window.devicePixelRatio || 1;
    W = Math.max(200, rect.width);
    Hgt = Math.max(120, rect.height);
    canvas.width = Math.round(W * dpr);
    canvas.height = Math.round(Hgt * dpr);
    for (let k = 0; k < size; k++) labels[k].style.top = laneY(k) + "px";
    draw();
  }

  // ------------------------------------------------------------ drawing
  /** What was drawn last, for hit testing: points (marks) and segments (messages). */
  let hitPoints = [];
  let hitSegs = [];
  let selected = null;
  const stats = { lanes: size, arrows: 0, replayArrows: 0, drawnArrows: 0, marks: {}, spans: {} };

  function spanTimes(s) {
    const a = s[2] < 0 ? tMin : timeOf(s[2]);
    const b = s[3] < 0 ? tMax : timeOf(s[3]);
    return [a, b];
  }

  function drawShape(shape, x, y, sz, color) {
    ctx.fillStyle = color;
    ctx.strokeStyle = color;
    ctx.lineWidth = 2;
    ctx.beginPath();
    switch (shape) {
      case "x":
        ctx.moveTo(x - sz, y - sz);
        ctx.lineTo(x + sz, y + sz);
        ctx.moveTo(x + sz, y - sz);
        ctx.lineTo(x - sz, y + sz);
        ctx.stroke();
        return;
      case "tri":
        ctx.moveTo(x - sz, y - sz);
        ctx.lineTo(x + sz, y);
        ctx.lineTo(x - sz, y + sz);
        ctx.closePath();
        ctx.fill();
        return;
      case "sq":
        ctx.fillRect(x - sz, y - sz, 2 * sz, 2 * sz);
        return;
      case "sqo":
        ctx.lineWidth = 1.5;
        ctx.strokeRect(x - sz, y - sz, 2 * sz, 2 * sz);
        return;
      case "dia":
        ctx.moveTo(x, y - sz);
        ctx.lineTo(x + sz, y);
        ctx.lineTo(x, y + sz);
        ctx.lineTo(x - sz, y);
        ctx.closePath();
        ctx.fill();
        return;
      case "bar":
        ctx.fillRect(x - 1.5, y - sz, 3, 2 * sz);
        return;
      case "tick":
        ctx.lineWidth = 1;
        ctx.moveTo(x, y - sz);
        ctx.lineTo(x, y + sz);
        ctx.stroke();
        return;
      case "star": {
        for (let i = 0; i < 10; i++) {
          const a = (Math.PI / 5) * i - Math.PI / 2;
          const rr = i % 2 === 0 ? sz : sz * 0.45;
          const px = x + Math.cos(a) * rr;
          const py = y + Math.sin(a) * rr;
          if (i === 0) ctx.moveTo(px, py);
          else ctx.lineTo(px, py);
        }
        ctx.closePath();
        ctx.fill();
        return;
      }
      default:
        ctx.arc(x, y, sz, 0, Math.PI * 2);
        ctx.fill();
    }
  }

  function markY(r) {
    // Marks sit on the lane; outputs above it, notes and flushes below, so they do not hide each other.
    const y = laneY(r.rank);
    if (r.ev === "output-release" || r.ev === "output-write") return y - 11;
    if (r.ev === "note" || r.ev === "log-flush" || r.ev === "peer-restart" || r.ev === "read") return y + 11;
    return y;
  }

  function draw() {
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, W, Hgt);
    hitPoints = [];
    hitSegs = [];
    stats.arrows = 0;
    stats.replayArrows = 0;
    stats.marks = {};
    stats.spans = {};
    const lh = laneH();

    // time axis
    ctx.fillStyle = "#5b6472";
    ctx.strokeStyle = "#e5e9f0";
    ctx.lineWidth = 1;
    ctx.font = "11px system-ui, sans-serif";
    const span = view.to - view.from;
    const step = niceStep(span / Math.max(2, (W - GUTTER) / 110));
    for (let t = Math.ceil(view.from / step) * step; t <= view.to; t += step) {
      const x = xOf(t);
      ctx.beginPath();
      ctx.moveTo(x, TOP - 6);
      ctx.lineTo(x, Hgt - BOTTOM);
      ctx.stroke();
      ctx.fillText(fmtMs(t), x + 3, 12);
    }
    ctx.fillText(clock === "virtual" ? "virtual ms" : "ms since start", 4, 12);

    // spans under everything else
    for (const s of data.spans) {
      const [kind, k] = s;
      const [a, b] = spanTimes(s);
      if (b < view.from || a > view.to) continue;
      stats.spans[kind] = (stats.spans[kind] || 0) + 1;
      const x0 = Math.max(GUTTER, xOf(a));
      const x1 = Math.min(W, xOf(b));
      const y = laneY(k);
      if (kind === "incarnation") {
        ctx.strokeStyle = INC_COLORS[s[4] % INC_COLORS.length];
        ctx.lineWidth = 3;
        ctx.beginPath();
        ctx.moveTo(x0, y);
        ctx.lineTo(x1, y);
        ctx.stroke();
        if (xOf(a) >= GUTTER - 1) {
          ctx.fillStyle = INC_COLORS[s[4] % INC_COLORS.length];
          ctx.fillText("inc " + s[4], xOf(a) + 3, y - lh * 0.28);
        }
      } else if (kind === "down") {
        ctx.strokeStyle = "#d62828";
        ctx.setLineDash([3, 4]);
        ctx.lineWidth = 1.5;
        ctx.beginPath();
        ctx.moveTo(x0, y);
        ctx.lineTo(x1, y);
        ctx.stroke();
        ctx.setLineDash([]);
        hitSegs.push({ x0, y0: y, x1, y1: y, what: { span: s } });
      } else {
        const fill = kind === "recovery" ? "rgba(21,128,61,.14)" : "rgba(124,58,237,.16)";
        ctx.fillStyle = fill;
        const hh = kind === "recovery" ? lh * 0.42 : lh * 0.3;
        ctx.fillRect(x0, y - hh, Math.max(2, x1 - x0), 2 * hh);
        if (kind === "rolled-back") {
          ctx.strokeStyle = "rgba(124,58,237,.5)";
          ctx.lineWidth = 1;
          ctx.beginPath();
          for (let x = x0 - (x0 % 8); x < x1; x += 8) {
            ctx.moveTo(Math.max(x0, x), y + hh);
            ctx.lineTo(Math.min(x1, x + 2 * hh), y - hh);
          }
          ctx.stroke();
        }
        hitSegs.push({ x0, y0: y - hh, x1, y1: y - hh, what: { span: s } });
      }
    }

    // messages, batched by style
    if (show.messages) {
      const normal = [];
      const replay = [];
      // Zoomed out, thousands of arrows land on the same pixels: stroke each pixel path once
      // (rasterizing is the cost, in software most of all); hit testing still sees every message.
      const seen = new Set();
      // Dense views merge arrows whose ends fall within a few pixels of each other.
      let visible = 0;
      for (const m of data.messages) {
        if (m[0] < 0 || m[1] < 0) continue;
        const a = timeOf(m[0]);
        const b = timeOf(m[1]);
        if (Math.max(a, b) >= view.from && Math.min(a, b) <= view.to) visible++;
      }
      const q = visible > 8000 ? 6 : visible > 2000 ? 3 : 1;
      for (const m of data.messages) {
        const [si, di] = m;
        if (si < 0 || di < 0) continue;
        const ts = timeOf(si);
        const td = timeOf(di);
        if (Math.max(ts, td) < view.from || Math.min(ts, td) > view.to) continue;
        const rs = R[si];
        const rd = R[di];
        const seg = clip({ x0: xOf(ts), y0: laneY(rs.rank), x1: xOf(td), y1: laneY(rd.rank), what: { message: m }, head: true });
        if (seg === null) continue;
        hitSegs.push(seg);
        stats.arrows++;
        if (rd.replay) stats.replayArrows++;
        const key = (rd.replay ? "r" : "n") + Math.round(seg.x0 / q) + "," + Math.round(seg.y0) + "," + Math.round(seg.x1 / q) + "," + Math.round(seg.y1);
        if (seen.has(key)) continue;
        seen.add(key);
        (rd.replay ? replay : normal).push(seg);
      }
      stats.drawnArrows = normal.length + replay.length;
      const heads = normal.length + replay.length < 4000;
      strokeArrows(normal, ARROW.color, [], heads);
      // Dashes cost one rasterized piece each: solid when there are many.
      strokeArrows(replay, ARROW.replay, replay.length < 1500 ? [5, 3] : [], heads);
    }

    // marks
    for (let i = 0; i < R.length; i++) {
      const r = R[i];
      const st = KINDS[r.ev];
      if (!st || !show[r.ev] || r.rank < 0) continue;
      const t = timeOf(i);
      if (t < view.from || t > view.to) continue;
      const x = xOf(t);
      const y = markY(r);
      drawShape(st.shape, x, y, st.size, st.color);
      stats.marks[r.ev] = (stats.marks[r.ev] || 0) + 1;
      hitPoints.push({ x, y, what: { record: i } });
    }
    // replayed deliveries get a ring where they land
    if (show.messages) {
      ctx.strokeStyle = ARROW.replay;
      ctx.lineWidth = 1.2;
      ctx.beginPath();
      const ringAt = new Set();
      for (const m of data.messages) {
        const di = m[1];
        if (di < 0 || !R[di].replay) continue;
        const t = timeOf(di);
        if (t < view.from || t > view.to) continue;
        const x = xOf(t);
        const y = laneY(R[di].rank);
        const key = Math.round(x) * 64 + R[di].rank;
        if (ringAt.has(key)) continue;
        ringAt.add(key);
        ctx.moveTo(x + 3.5, y);
        ctx.arc(x, y, 3.5, 0, Math.PI * 2);
      }
      ctx.stroke();
    }
    // job-level failures and the end, across all lanes
    for (let i = 0; i < R.length; i++) {
      const r = R[i];
      if (r.rank >= 0) continue;
      const t = timeOf(i);
      if (t < view.from || t > view.to) continue;
      const x = xOf(t);
      ctx.strokeStyle = r.ev === "end" && r.ok ? "#0f172a" : "#b91c1c";
      ctx.setLineDash([2, 3]);
      ctx.lineWidth = 1;
      ctx.beginPath();
      ctx.moveTo(x, TOP - 4);
      ctx.lineTo(x, Hgt - BOTTOM);
      ctx.stroke();
      ctx.setLineDash([]);
      hitPoints.push({ x, y: TOP, what: { record: i } });
    }
    if (selected) highlight(selected);
  }

  /**
   * The part of a segment inside the drawing area (Liang-Barsky), or null.
   * Zoomed in, an arrow can be millions of pixels long; stroking it dashed
   * costs the rasterizer every dash, visible or not.
   */
  function clip(s) {
    const xmin = GUTTER - 2;
    const xmax = W + 2;
    let t0 = 0;
    let t1 = 1;
    const dx = s.x1 - s.x0;
    for (const [p, q] of [[-dx, s.x0 - xmin], [dx, xmax - s.x0]]) {
      if (p === 0) {
        if (q < 0) return null;
        continue;
      }
      const r = q / p;
      if (p < 0) {
        if (r > t1) return null;
        if (r > t0) t0 = r;
      } else {
        if (r < t0) return null;
        if (r < t1) t1 = r;
      }
    }
    const dy = s.y1 - s.y0;
    return { x0: s.x0 + t0 * dx, y0: s.y0 + t0 * dy, x1: s.x0 + t1 * dx, y1: s.y0 + t1 * dy, what: s.what, head: t1 === 1 };
  }

  function strokeArrows(segs, color, dash, heads) {
    if (segs.length === 0) return;
    ctx.strokeStyle = color;
    ctx.fillStyle = color;
    ctx.lineWidth = 1.1;
    ctx.setLineDash(dash);
    ctx.beginPath();
    for (const s of segs) {
      ctx.moveTo(s.x0, s.y0);
      ctx.lineTo(s.x1, s.y1);
    }
    ctx.stroke();
    ctx.setLineDash([]);
    if (!heads) return;
    ctx.beginPath();
    for (const s of segs) {
      const dx = s.x1 - s.x0;
      const dy = s.y1 - s.y0;
      const len = Math.hypot(dx, dy);
      if (len < 10 || !s.head) continue;
      const ux = dx / len;
      const uy = dy / len;
      ctx.moveTo(s.x1, s.y1);
      ctx.lineTo(s.x1 - ux * 7 - uy * 3, s.y1 - uy * 7 + ux * 3);
      ctx.lineTo(s.x1 - ux * 7 + uy * 3, s.y1 - uy * 7 - ux * 3);
      ctx.closePath();
    }
    ctx.fill();
  }

  function highlight(sel) {
    ctx.strokeStyle = "#facc15";
    ctx.lineWidth = 4;
    ctx.globalAlpha = 0.9;
    ctx.beginPath();
    if (sel.x1 !== undefined) {
      ctx.moveTo(sel.x0, sel.y0);
      ctx.lineTo(sel.x1, sel.y1);
    } else {
      ctx.arc(sel.x, sel.y, 9, 0, Math.PI * 2);
    }
    ctx.stroke();
    ctx.globalAlpha = 1;
  }

  function niceStep(raw) {
    const p = Math.pow(10, Math.floor(Math.log10(Math.max(raw, 1e-6))));
    for (const m of [1, 2, 5, 10]) if (raw <= m * p) return m * p;
    return 10 * p;
  }
  function fmtMs(t) {
    const a = Math.abs(t);
    return a >= 100 || a === 0 ? t.toFixed(0) : a >= 1 ? t.toFixed(1) : t.toFixed(3);
  }

  // ------------------------------------------------------------ hit testing and details
  function segDist(px, py, s) {
    const dx = s.x1 - s.x0;
    const dy = s.y1 - s.y0;
    const l2 = dx * dx + dy * dy;
    const u = l2 === 0 ? 0 : Math.max(0, Math.min(1, ((px - s.x0) * dx + (py - s.y0) * dy) / l2));
    return Math.hypot(px - (s.x0 + u * dx), py - (s.y0 + u * dy));
  }
  function hitAt(px, py) {
    let best = null;
    let bd = 8;
    for (const p of hitPoints) {
      const d = Math.hypot(px - p.x, py - p.y);
      if (d < bd) {
        bd = d;
        best = p;
      }
    }
    if (best) return best;
    bd = 4;
    for (const s of hitSegs) {
      const d = segDist(px, py, s);
      if (d < bd) {
        bd = d;
        best = s;
      }
    }
    return best;
  }
  function recText(i) {
    const r = R[i];
    const o = Object.assign({ index: i, t: fmtMs(timeOf(i)) + (clock === "virtual" ? " virtual ms" : " ms") }, r);
    return JSON.stringify(o, null, 2);
  }
  function summary(hit) {
    const w = hit.what;
    if (w.record !== undefined) {
      const r = R[w.record];
      const st = KINDS[r.ev];
      const head = (st ? st.label : r.ev) + (r.rank >= 0 ? " — rank " + r.rank + " inc " + r.inc : "");
      const extra = r.why || r.reason || r.text || (r.seq !== undefined ? "output " + r.seq : "") || (r.index !== undefined ? "checkpoint " + r.index : "") || (r.phase ? r.phase : "");
      return head + (extra ? "\n" + extra : "");
    }
    if (w.message) {
      const s = R[w.message[0]];
      const d = R[w.message[1]];
      return (d.replay ? "replayed delivery " : "message ") + s.id + "\nrank " + s.rank + " → rank " + d.rank;
    }
    const s = w.span;
    return s[0] + " — rank " + s[1] + " inc " + s[4];
  }
  function detailsOf(hit) {
    const w = hit.what;
    if (w.record !== undefined) return recText(w.record);
    if (w.message) return "send\n" + recText(w.message[0]) + "\n\n" + (R[w.message[1]].replay ? "replayed delivery" : "delivery") + "\n" + recText(w.message[1]);
    const s = w.span;
    const [a, b] = spanTimes(s);
    return JSON.stringify({ span: s[0], rank: s[1], inc: s[4], from: fmtMs(a), to: fmtMs(b), fromRecord: s[2], toRecord: s[3] }, null, 2) + (s[3] >= 0 ? "\n\nends at\n" + recText(s[3]) : "");
  }
  function select(hit) {
    selected = hit;
    details.innerHTML = "";
    const h = document.createElement("h2");
    h.textContent = summary(hit).split("\n")[0];
    const pre = document.createElement("pre");
    pre.textContent = detailsOf(hit);
    details.appendChild(h);
    details.appendChild(pre);
    draw();
  }

  // ------------------------------------------------------------ interaction
  // Input redraws once per frame, however many wheel or drag events arrive in it.
  let drawQueued = false;
  function requestDraw() {
    if (drawQueued) return;
    drawQueued = true;
    requestAnimationFrame(() => {
      drawQueued = false;
      draw();
    });
  }
  let drag = null;
  let pending = null;
  canvas.addEventListener("wheel", (e) => {
    e.preventDefault();
    const rect = canvas.getBoundingClientRect();
    const at = tOf(e.clientX - rect.left);
    const f = Math.exp(e.deltaY * 0.0015);
    const width = Math.min((tMax - tMin) * 4, Math.max(1e-4, (view.to - view.from) * f));
    const u = (at - view.from) / (view.to - view.from);
    view = { from: at - u * width, to: at - u * width + width };
    requestDraw();
  }, { passive: false });
  canvas.addEventListener("mousedown", (e) => {
    drag = { x: e.clientX, from: view.from, to: view.to, moved: false };
    canvas.classList.add("dragging");
  });
  window.addEventListener("mouseup", () => {
    canvas.classList.remove("dragging");
    setTimeout(() => (drag = null), 0);
  });
  window.addEventListener("mousemove", (e) => {
    if (drag) {
      const dx = e.clientX - drag.x;
      if (Math.abs(dx) > 2) drag.moved = true;
      const dt = (dx / (W - GUTTER - 12)) * (drag.to - drag.from);
      view = { from: drag.from - dt, to: drag.to - dt };
      requestDraw();
      return;
    }
    if (e.target !== canvas) {
      tip.style.display = "none";
      return;
    }
    pending = e;
    requestAnimationFrame(() => {
      if (!pending) return;
      const ev = pending;
      pending = null;
      const rect = canvas.getBoundingClientRect();
      const hit = hitAt(ev.clientX - rect.left, ev.clientY - rect.top);
      if (!hit) {
        tip.style.display = "none";
        return;
      }
      tip.textContent = summary(hit);
      tip.style.display = "block";
      tip.style.left = Math.min(W - 200, ev.clientX - rect.left + 12) + "px";
      tip.style.top = ev.clientY - rect.top + 12 + "px";
    });
  });
  canvas.addEventListener("click", (e) => {
    if (drag && drag.moved) return;
    const rect = canvas.getBoundingClientRect();
    const hit = hitAt(e.clientX - rect.left, e.clientY - rect.top);
    if (hit) select(hit);
  });
  canvas.addEventListener("dblclick", fit);
  window.addEventListener("keydown", (e) => {
    if (e.key === "0") fit();
    if (e.key === "+" || e.key === "-") {
      const mid = (view.from + view.to) / 2;
      const w = (view.to - view.from) * (e.key === "+" ? 0.7 : 1 / 0.7);
      view = { from: mid - w / 2, to: mid + w / 2 };
      draw();
    }
  });
  function fit() {
    const pad = (tMax - tMin) * 0.02;
    view = { from: tMin - pad, to: tMax + pad };
    draw();
  }
  document.getElementById("fit").addEventListener("click", fit);
  const clockBtn = document.getElementById("clock");
  if (hasVirtual) {
    clockBtn.hidden = false;
    clockBtn.addEventListener("click", () => {
      clock = clock === "wall" ? "virtual" : "wall";
      clockBtn.textContent = clock === "wall" ? "time: wall clock" : "time: virtual";
      computeExtent();
      fit();
    });
  }

  // legend with toggles
  const legend = document.getElementById("legend");
  function legendItem(key, label, color) {
    const l = document.createElement("label");
    const cb = document.createElement("input");
    cb.type = "checkbox";
    cb.checked = show[key];
    cb.dataset.kind = key;
    cb.addEventListener("change", () => {
      show[key] = cb.checked;
      draw();
    });
    const sw = document.createElement("span");
    sw.className = "sw";
    sw.style.background = color;
    l.append(cb, sw, document.createTextNode(label));
    legend.appendChild(l);
  }
  legendItem("messages", "messages (orange dashed: replayed)", ARROW.color);
  const present = new Set(R.map((r) => r.ev));
  for (const k in KINDS) if (present.has(k)) legendItem(k, KINDS[k].label, KINDS[k].color);

  // ------------------------------------------------------------ for tests and the curious
  window.egidaView = {
    stats: () => JSON.parse(JSON.stringify(stats)),
    /** Page coordinates of the first drawn mark of an event kind, or of the first (replayed) arrow's middle. */
    locate(kind) {
      const rect = canvas.getBoundingClientRect();
      if (kind === "message" || kind === "replay") {
        const s = hitSegs.find((x) => x.what.message && R[x.what.message[1]].replay === (kind === "replay"));
        return s ? { x: rect.left + (s.x0 + s.x1) / 2, y: rect.top + (s.y0 + s.y1) / 2 } : null;
      }
      const p = hitPoints.find((x) => R[x.what.record].ev === kind);
      return p ? { x: rect.left + p.x, y: rect.top + p.y } : null;
    },
    view: () => ({ from: view.from, to: view.to }),
  };

  window.addEventListener("resize", resize);
  resize();
  fit();
})();
