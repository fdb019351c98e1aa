// The console page: renders /api/state as it streams in (/api/events), sends commands to
// /api/command, polls the small preview while the page is visible. No build step, no
// library: the gallery may have no internet.
"use strict";

const PREVIEW_EVERY_MS = 250;
const $ = (id) => document.getElementById(id);
const SLIDER_EVERY_MS = 100; // a dragged slider sends at most this often (and its last value)
const RETRY_MS = 2000; // a refused or lost event stream is opened again after this
let token = new URLSearchParams(location.search).get("token")
  || sessionStorage.getItem("installation-token") || "";
if (token) sessionStorage.setItem("installation-token", token);
// The token leaves the address bar and the history: the tab keeps it.
if (location.search) history.replaceState(null, "", location.pathname);
let events = null;
let dragging = false; // the strength slider is in the operator's hand: do not move it

function headers(extra) {
  const h = Object.assign({}, extra || {});
  if (token) h.Authorization = "Bearer " + token;
  return h;
}

function say(text) { $("said").textContent = text; }

async function send(command, value) {
  const body = value === undefined ? { command } : { command, value };
  try {
    const r = await fetch("api/command", {
      method: "POST", headers: headers({ "Content-Type": "application/json" }),
      body: JSON.stringify(body),
    });
    const answer = await r.json();
    if (r.status === 401) askToken();
    say(r.ok ? `sent ${command}${value === undefined ? "" : " " + JSON.stringify(value)}`
             : `${command}: ${answer.error}`);
  } catch (e) {
    say(`${command}: the show did not answer (${e.message})`);
  }
}

function askToken() {
  $("token-section").hidden = false;
  $("status").textContent = "token needed";
  $("status").className = "badge offline";
}

function fixed(x, digits) { return x === null || x === undefined ? "–" : x.toFixed(digits); }

function render(s) {
  const badge = $("status");
  badge.textContent = s.status;
  badge.className = "badge " + s.status;
  $("fps").textContent = fixed(s.fps, 1);
  $("latency").textContent = s.latency_ms === null ? "–" : `${Math.round(s.latency_ms)} ms`;
  const p = s.perception;
  $("visitors").textContent = p ? String(p.count) : "–";
  $("presence").textContent = p ? fixed(p.presence, 2) : "–";
  const reasons = $("reasons");
  reasons.hidden = !s.reasons.length;
  reasons.textContent = s.reasons.join(" · ");
  const error = $("config-error");
  error.hidden = !s.config_error;
  error.textContent = s.config_error ? "config.toml not applied: " + s.config_error : "";

  $("scene").textContent = s.scene;
  const scenes = $("scenes");
  if (scenes.dataset.names !== s.scenes.join("\n")) {
    scenes.dataset.names = s.scenes.join("\n");
    scenes.replaceChildren(...s.scenes.map((name) => {
      const b = document.createElement("button");
      b.textContent = name;
      b.dataset.scene = name;
      b.addEventListener("click", () => send("scene", name));
      return b;
    }));
  }
  for (const b of scenes.children) b.setAttribute("aria-pressed", b.dataset.scene === s.scene);

  $("style").textContent = s.style;
  const strength = $("strength");
  strength.disabled = s.strength === null;
  if (!dragging && s.strength !== null) strength.value = s.strength;
  $("strength-value").textContent = fixed(s.strength, 2);

  for (const b of document.querySelectorAll("[data-toggle]")) {
    const on = s.switches[b.dataset.toggle];
    b.disabled = on === null || on === undefined;
    b.setAttribute("aria-pressed", on === true);
  }

  const presets = $("presets");
  if (s.presets && presets.dataset.names !== s.presets.join("\n")) {
    presets.dataset.names = s.presets.join("\n");
    presets.replaceChildren(...s.presets.map((name) => {
      const b = document.createElement("button");
      b.textContent = name;
      b.addEventListener("click", () => send("preset", name));
      return b;
    }));
  }
}

function listen() {
  if (events) events.close();
  const q = token ? "?token=" + encodeURIComponent(token) : "";
  events = new EventSource("api/events" + q);
  events.onmessage = (e) => render(JSON.parse(e.data));
  events.onerror = async () => {
    // An event stream does not say why it failed: ask once, plainly, and say so.
    const badge = $("status");
    try {
      const r = await fetch("api/state", { headers: headers() });
      if (r.status === 401) { events.close(); askToken(); return; }
      if (!r.ok) { badge.textContent = `refused (${r.status})`; badge.className = "badge offline"; }
    } catch (e) {
      badge.textContent = "offline";
      badge.className = "badge offline";
    }
    // A refused stream (busy, too many) is not retried by the browser: try again later.
    if (events.readyState === EventSource.CLOSED) setTimeout(listen, RETRY_MS);
  };
}

let shown = null; // the object URL of the preview on screen
async function preview() {
  if (!document.hidden && $("token-section").hidden) {
    try {
      const r = await fetch("api/preview.jpg", { headers: headers() });
      if (r.status === 200) {
        const url = URL.createObjectURL(await r.blob());
        $("preview").src = url;
        if (shown) URL.revokeObjectURL(shown);
        shown = url;
      }
    } catch (e) { /* the show is away: the stream says so */ }
  }
  setTimeout(preview, PREVIEW_EVERY_MS);
}

for (const b of document.querySelectorAll("[data-command]")) {
  b.addEventListener("click", () => {
    const v = b.dataset.value;
    send(b.dataset.command, v === undefined ? undefined : Number(v));
  });
}
for (const b of document.querySelectorAll("[data-toggle]")) {
  b.addEventListener("click", () => send(b.dataset.toggle, b.getAttribute("aria-pressed") !== "true"));
}
const strength = $("strength");
let sentAt = 0; // when the slider last sent, ms
let pending = null; // a later send of the slider's value, while dragging fast
function sendStrength() {
  pending = null;
  sentAt = Date.now();
  send("strength", Number(strength.value));
}
strength.addEventListener("pointerdown", () => { dragging = true; });
strength.addEventListener("pointerup", () => { dragging = false; });
strength.addEventListener("input", () => {
  const wait = SLIDER_EVERY_MS - (Date.now() - sentAt);
  if (wait <= 0) sendStrength();
  else if (pending === null) pending = setTimeout(sendStrength, wait);
});
strength.addEventListener("change", () => {
  dragging = false;
  if (pending !== null) clearTimeout(pending);
  sendStrength(); // the value the operator let go at always arrives
});
$("save-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const name = $("preset-name").value.trim();
  if (name) send("preset/save", name);
});
$("token-form").addEventListener("submit", (e) => {
  e.preventDefault();
  token = $("token").value.trim();
  sessionStorage.setItem("installation-token", token);
  $("token-section").hidden = true;
  listen();
});

listen();
preview();
