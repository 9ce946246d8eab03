// Joule dashboard: polls /api/v1 every few seconds and draws SVG charts.
// Hand-written, no dependencies. The token comes from #token=… in the URL
// (then kept in localStorage) or the login form; a server with a public
// viewer role needs none.
"use strict";

const POLL_MS = 5000;
const SVGNS = "http://www.w3.org/2000/svg";
const COLORS = { mining: "var(--mining)", ai: "var(--ai)", grid: "var(--grid)", curtailed: "var(--curtailed)", cap: "var(--cap)", price: "var(--price)", hashprice: "var(--hashprice)" };

let token = "";
(function initToken() {
  const m = location.hash.match(/token=([^&]+)/);
  if (m) {
    token = decodeURIComponent(m[1]);
    try { localStorage.setItem("joule-token", token); } catch (e) { /* private mode */ }
    history.replaceState(null, "", location.pathname);
  } else {
    try { token = localStorage.getItem("joule-token") || ""; } catch (e) { token = ""; }
  }
})();

class AuthError extends Error {}

async function get(path) {
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = "Bearer " + token;
  const r = await fetch(path, { headers, cache: "no-store" });
  if (r.status === 401 || r.status === 403) throw new AuthError((await r.json().catch(() => ({}))).error || r.statusText);
  if (!r.ok) throw new Error(path + ": " + r.status + " " + ((await r.json().catch(() => ({}))).error || r.statusText));
  return r.json();
}

// ---- formatting ----
const fmt = (v, d = 1) => (v === null || v === undefined || Number.isNaN(v)) ? "—" : Number(v).toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d });
const usd = (v, d = 0) => (v < 0 ? "−$" : "$") + fmt(Math.abs(v), d);
const hhmm = (t) => new Date(t).toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit", timeZone: "UTC" });
function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v; else e.setAttribute(k, v);
  }
  for (const k of kids) e.append(k instanceof Node ? k : document.createTextNode(String(k)));
  return e;
}
function svg(tag, attrs) {
  const e = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  return e;
}
function setText(id, v) { document.getElementById(id).textContent = v; }
function rows(tbody, pairs) {
  tbody.replaceChildren(...pairs.map(([k, v, cls]) => el("tr", cls ? { class: cls } : {}, el("td", {}, k), el("td", {}, v))));
}
function legend(id, items) {
  document.getElementById(id).replaceChildren(...items.map(([name, color]) => {
    const i = el("i"); i.style.background = color; return el("span", {}, i, name);
  }));
}

// ---- charts ----
const W = 640, H = 240, PAD = { l: 44, r: 48, t: 22, b: 22 };

function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function frame(chart, t0, t1, yMax, yLabel, yMax2, yLabel2) {
  chart.replaceChildren();
  const iw = W - PAD.l - PAD.r, ih = H - PAD.t - PAD.b;
  const x = (t) => PAD.l + (t1 > t0 ? (t - t0) / (t1 - t0) : 0) * iw;
  const y = (v) => PAD.t + ih - (v / yMax) * ih;
  for (let i = 0; i <= 4; i++) {
    const v = yMax * i / 4, yy = y(v);
    chart.append(svg("line", { class: i ? "gridline" : "axis", x1: PAD.l, x2: W - PAD.r, y1: yy, y2: yy }));
    const tl = svg("text", { x: PAD.l - 6, y: yy + 3, "text-anchor": "end" }); tl.textContent = fmt(v, v < 10 && yMax < 10 ? 1 : 0); chart.append(tl);
    if (yMax2) {
      const tr = svg("text", { x: W - PAD.r + 6, y: yy + 3 }); tr.textContent = fmt(yMax2 * i / 4, 3); chart.append(tr);
    }
  }
  const ax = svg("text", { x: PAD.l - 6, y: 10, "text-anchor": "end" }); ax.textContent = yLabel; chart.append(ax);
  if (yLabel2) { const a2 = svg("text", { x: W - PAD.r + 6, y: 10 }); a2.textContent = yLabel2; chart.append(a2); }
  const ticks = 6;
  for (let i = 0; i <= ticks; i++) {
    const t = t0 + (t1 - t0) * i / ticks;
    const tt = svg("text", { x: x(t), y: H - 6, "text-anchor": i === 0 ? "start" : i === ticks ? "end" : "middle" });
    tt.textContent = hhmm(t); chart.append(tt);
  }
  return { x, y, ih };
}

// drawPower stacks mining, AI and curtailed areas and draws the cap line.
function drawPower(series) {
  const chart = document.getElementById("power-chart");
  const by = Object.fromEntries(series.map((s) => [s.metric, s.points]));
  const base = by.mining_mw || [];
  if (!base.length) { chart.replaceChildren(); return; }
  const times = base.map((p) => Date.parse(p.t));
  const idx = (name) => { const m = new Map((by[name] || []).map((p) => [Date.parse(p.t), p.v])); return times.map((t) => m.get(t) || 0); };
  const layers = [["mining", idx("mining_mw")], ["ai", idx("ai_mw")], ["curtailed", idx("curtailed_mw")]];
  const cap = idx("cap_mw");
  let top = Math.max(...cap, 0);
  const sums = times.map((_, i) => layers.reduce((a, [, v]) => a + v[i], 0));
  top = niceMax(Math.max(top, ...sums) * 1.05);
  const { x, y } = frame(chart, times[0], times[times.length - 1], top, "MW");
  const acc = times.map(() => 0);
  for (const [name, vals] of layers) {
    const lower = acc.slice();
    for (let i = 0; i < vals.length; i++) acc[i] += vals[i];
    let d = "M" + x(times[0]) + "," + y(acc[0]);
    for (let i = 1; i < times.length; i++) d += "L" + x(times[i]).toFixed(1) + "," + y(acc[i]).toFixed(1);
    for (let i = times.length - 1; i >= 0; i--) d += "L" + x(times[i]).toFixed(1) + "," + y(lower[i]).toFixed(1);
    d += "Z";
    chart.append(svg("path", { class: "series " + name, d, fill: COLORS[name], "fill-opacity": name === "curtailed" ? 0.45 : 0.85, stroke: "none" }));
  }
  if (cap.some((v) => v > 0)) {
    let d = "";
    cap.forEach((v, i) => { d += (i ? "L" : "M") + x(times[i]).toFixed(1) + "," + y(v).toFixed(1); });
    chart.append(svg("path", { class: "cap", d }));
  }
  legend("power-legend", [["Mining", COLORS.mining], ["AI", COLORS.ai], ["Curtailed", COLORS.curtailed], ["Cap", COLORS.cap]]);
}

// drawPrice draws the power price (left axis) and hashprice (right axis).
function drawPrice(series) {
  const chart = document.getElementById("price-chart");
  const by = Object.fromEntries(series.map((s) => [s.metric, s.points]));
  const price = by.price || [], hp = by.hashprice || [];
  if (!price.length) { chart.replaceChildren(); return; }
  const t0 = Date.parse(price[0].t), t1 = Date.parse(price[price.length - 1].t);
  const pMax = niceMax(Math.max(...price.map((p) => p.v), 1) * 1.05);
  const pMin = Math.min(0, ...price.map((p) => p.v));
  const hMax = niceMax(Math.max(...hp.map((p) => p.v), 0.001) * 1.2);
  const { x, ih } = frame(chart, t0, t1, pMax, "$/MWh", hMax, "$/TH/d");
  const yP = (v) => PAD.t + ih - ((v - Math.min(pMin, 0)) / (pMax - Math.min(pMin, 0))) * ih;
  const yH = (v) => PAD.t + ih - (v / hMax) * ih;
  const line = (pts, yf, cls, color) => {
    let d = "";
    pts.forEach((p, i) => { d += (i ? "L" : "M") + x(Date.parse(p.t)).toFixed(1) + "," + yf(p.v).toFixed(1); });
    chart.append(svg("path", { class: "series " + cls, d, fill: "none", stroke: color, "stroke-width": 1.8 }));
  };
  line(price, yP, "price", COLORS.price);
  if (hp.length) line(hp, yH, "hashprice", COLORS.hashprice);
  legend("price-legend", [["Power price", COLORS.price], ["Hashprice", COLORS.hashprice]]);
}

// ---- panels ----
function drawStatus(s) {
  setText("site-name", s.site || "");
  setText("mode", "mode " + s.mode);
  document.getElementById("mode").className = "pill " + (s.mode === "auto" ? "ok" : "warn");
  setText("policy", "policy " + s.policy);
  const load = s.power.mining_mw + s.power.ai_mw;
  setText("k-load", fmt(load, 1) + " MW");
  setText("k-cap", "of " + fmt(s.cap_mw, 0) + " MW cap · " + fmt(s.power.curtailed_mw, 1) + " MW curtailed");
  setText("k-price", fmt(s.price_usd_mwh, 2));
  setText("k-hashprice", fmt(s.hashprice_usd_th_day, 4));
  const eh = s.hashrate_ths >= 1e6;
  setText("k-hashrate", fmt(s.hashrate_ths / (eh ? 1e6 : 1e3), 2));
  setText("k-hashrate-unit", eh ? "EH/s" : "PH/s");
  const pr = document.getElementById("k-profit");
  pr.textContent = usd(s.profit_usd_per_hour, 0); pr.className = "value " + (s.profit_usd_per_hour < 0 ? "neg" : "pos");
  setText("k-today", usd(s.today.profit_usd, 0));
  setText("k-today-sub", "revenue " + usd(s.today.mining_usd + s.today.ai_usd + s.today.ancillary_usd + s.today.resale_usd, 0));
  const t = s.today;
  rows(document.querySelector("#revenue tbody"), [
    ["Mining", usd(t.mining_usd, 2)], ["AI compute", usd(t.ai_usd, 2)], ["Ancillary capacity", usd(t.ancillary_usd, 2)],
    ["Energy resale", usd(t.resale_usd, 2)], ["Energy cost", usd(-t.energy_cost_usd, 2)], ["Profit", usd(t.profit_usd, 2), "total"],
  ]);
  const f = s.feeds || { sources: [] };
  const age = (a) => a < 120 ? Math.round(a) + " s" : a < 7200 ? Math.round(a / 60) + " min" : fmt(a / 3600, 1) + " h";
  rows(document.querySelector("#sources tbody"), (f.sources || []).map((src) => [
    src.role + " · " + src.name,
    (src.has_value ? fmt(src.value, src.role === "hashprice" ? 4 : 2) + " · " + age(src.age_s) + " old" : "no value") +
      (src.max_age_s ? " (max " + age(src.max_age_s) + ")" : "") + (src.stale ? " · STALE" : ""),
    src.stale ? "stale" : "",
  ]).concat([["Fail-safe mode", f.mode || "—"]]));
  const fs = document.getElementById("failsafe");
  fs.textContent = f.active ? "fail-safe: " + f.mode : "inputs fresh";
  fs.className = "pill " + (f.active ? "bad" : "ok");
  const banner = document.getElementById("banner");
  banner.hidden = !f.active;
  banner.textContent = f.active ? "Fail-safe active (" + f.mode + "): " + f.reason : "";
  const states = Object.entries(s.miner_states || {}).sort().map(([k, v]) => k + " " + v).join(" · ");
  rows(document.querySelector("#controller tbody"), [
    ["Miners", states || "—"],
    ["GPUs", s.gpus.total + " (" + s.gpus.inference + " inference, " + s.gpus.batch + " batch, " + s.gpus.idle + " idle)"],
    ["Reconciler backlog", String(s.backlog)],
    ["Commands", s.commands.sent + " sent · " + s.commands.confirmed + " confirmed · " + s.commands.drifted + " drifted · " + s.commands.failed + " failed"],
  ]);
  document.getElementById("alerts").replaceChildren(...(s.alerts || []).map((a) => el("li", { class: a.severity }, a.severity + ": " + a.message)));
}

// healthCell shows the observed health and, when the failure predictor has
// an assessment, its risk and kind with the reason as a tooltip.
function healthCell(m) {
  const r = m.risk;
  const tip = [(m.errors || []).join("; "), r && r.reason ? r.reason : ""].filter(Boolean).join(" · ");
  const kids = [el("span", { class: "health " + m.health }, m.health)];
  if (r) {
    const label = r.kind && r.kind !== "none" ? r.kind.replace(/_/g, " ") + " " + Math.round(r.score * 100) + "%" : "risk " + Math.round(r.score * 100) + "%";
    kids.push(" ", el("span", { class: "risk" + (r.alarm ? " alarm" : ""), "data-kind": r.kind || "none" },
      label + (r.ttf_h ? " · ~" + fmt(r.ttf_h, 0) + " h" : "")));
  }
  return el("td", { class: "health-cell", title: tip }, ...kids);
}

function drawFleet(resp) {
  const tbody = document.querySelector("#fleet tbody");
  tbody.replaceChildren(...resp.miners.map((m) => el("tr", m.pending ? { class: "pending", title: "in flight: " + m.pending } : {},
    el("td", {}, m.id), el("td", {}, m.model), el("td", { class: "muted" }, m.firmware), el("td", {}, m.state), el("td", { class: "muted" }, m.desired + (m.profile && m.desired === "hashing" ? " · " + m.profile : "")),
    healthCell(m),
    el("td", { class: "num" }, fmt(m.hashrate_ths, 1)), el("td", { class: "num" }, fmt(m.power_w, 0)), el("td", { class: "num" }, fmt(m.chip_c, 0)))));
  setText("fleet-summary", resp.count + " miners · " + Object.entries(resp.health).sort().map(([k, v]) => v + " " + k).join(" · "));
}

function drawDecisions(resp) {
  const list = document.getElementById("decisions");
  list.replaceChildren(...resp.decisions.map((d) => {
    const mw = Object.entries(d.mw || {}).sort().map(([k, v]) => k + " " + fmt(v, 1)).join(" · ");
    return el("li", {},
      el("span", { class: "mw" }, mw + " MW"),
      el("div", { class: "when" }, hhmm(d.time) + " UTC · " + d.policy + " · $" + fmt(d.price_usd_mwh, 2) + "/MWh" + (d.failsafe ? " · fail-safe " + d.failsafe : "")),
      el("ul", {}, ...(d.reasons || []).map((r) => el("li", {}, r))));
  }));
}

// ---- loop ----
async function refresh() {
  try {
    const [status, miners, decisions, power, price] = await Promise.all([
      get("/api/v1/status"), get("/api/v1/miners"), get("/api/v1/decisions?limit=20"),
      get("/api/v1/telemetry?metrics=mining_mw,ai_mw,curtailed_mw,cap_mw&window=6h"),
      get("/api/v1/telemetry?metrics=price,hashprice&window=6h"),
    ]);
    document.getElementById("login").hidden = true;
    drawStatus(status);
    drawFleet(miners);
    drawDecisions(decisions);
    drawPower(power.series);
    drawPrice(price.series);
    // The controller's clock, not the browser's: the demo replays a market
    // scenario in simulated time, and the charts are drawn on that clock.
    setText("updated", "updated " + new Date(status.time).toLocaleTimeString("en-GB", { timeZone: "UTC" }) + " UTC");
  } catch (e) {
    if (e instanceof AuthError) {
      document.getElementById("login").hidden = false;
      setText("login-msg", e.message);
    }
    setText("updated", "error: " + e.message);
  }
}

document.getElementById("login").addEventListener("submit", (ev) => {
  ev.preventDefault();
  token = document.getElementById("token").value.trim();
  try { localStorage.setItem("joule-token", token); } catch (e) { /* ignore */ }
  refresh();
});

refresh();
setInterval(refresh, POLL_MS);
