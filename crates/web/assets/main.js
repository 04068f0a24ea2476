// The annotator page: wiring of the view, the socket, the panels and the API.

import { api, apiUrl, ApiError } from "./api.js";
import { renderImages, renderLabels } from "./panels.js";
import { PredictionSocket } from "./socket.js";
import { paintOverlay } from "./overlay.js";
import { View, touches } from "./view.js";

const $ = (id) => document.getElementById(id);

const app = {
  project: null,
  images: [],
  labels: [],
  image: null,        // the open image's record (a volume's slice included)
  volumes: [],
  volume: null,       // the open volume: its record with `annotated` slices
  axis: 2,            // the axis the open volume is sliced across
  sliceAt: [0, 0, 0], // the slice shown along each axis
  sliceSeq: 0,        // the newest slice asked for (older answers are dropped)
  window: null,       // the open volume's display window {level, width}, null: the default
  filter: localStorage.getItem("scribseg.filter") ?? "all", // the image list shows this status, or all
  strokes: [],        // its visible strokes
  history: { can_undo: false, can_redo: false },
  activeLabel: null,  // label id
  tool: "brush",
  radius: 6,          // brush radius in screen pixels (see brushRadius)
  outline: false,
  socket: null,
  gesture: null,      // the pointer gesture in progress
  frame: null,        // the newest label map
  predictions: 0,
  // Strokes drawn but not yet saved, oldest first: `{image, stroke}`, the
  // stroke with a temporary negative id, sent again in order until the
  // server stores them (leaving the page meanwhile asks first).
  outbox: [],
};
const view = new View($("canvas"));
app.view = view;
window.scribseg = app; // for the console and the end-to-end tests

// ---------- feedback ----------

let toastTimer = 0;
function toast(message, kind = "error") {
  const node = $("toast");
  node.textContent = message;
  node.className = `toast ${kind === "info" ? "info" : ""}`;
  node.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { node.hidden = true; }, 4000);
}

async function attempt(action) {
  try {
    return await action();
  } catch (err) {
    toast(err instanceof ApiError ? err.message : String(err));
    return undefined;
  }
}

function setStatus(id, text) { $(id).textContent = text; }

function formatCount(n) {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k` : String(n);
}

// ---------- rendering ----------

function colors() {
  return new Map(app.labels.map((l) => [l.id, l.color]));
}

/** Ids of the labels the canvas leaves off (their mask and strokes). */
function hiddenLabels() {
  return new Set(app.labels.filter((l) => l.hidden).map((l) => l.id));
}

function renderAll() {
  const labelIds = new Set(app.labels.map((l) => l.id));
  if (!labelIds.has(app.activeLabel)) app.activeLabel = app.labels[0]?.id ?? null;
  const counts = new Map();
  for (const s of app.strokes) counts.set(s.label_id, (counts.get(s.label_id) ?? 0) + 1);
  renderLabels($("labels"), app.labels, app.activeLabel, counts, labelActions);
  renderImages($("images"), listedImages(), app.volume ? null : app.image?.id, app.labels.length, openPlainImage, cycleStatus);
  $("image-filter").value = app.filter;
  renderImages($("volumes"), app.volumes, app.volume?.id, app.labels.length, (v) => openVolume(v));
  $("image-count").textContent = app.images.length ? `(${app.images.length})` : "";
  $("volume-count").textContent = app.volumes.length ? `(${app.volumes.length})` : "";
  $("volume-section").hidden = app.volumes.length === 0;
  renderVolumeControls();
  $("empty").hidden = app.image !== null;
  $("undo").disabled = !canUndo();
  $("redo").disabled = !canRedo();
  view.colors = colors();
  view.strokes = shownStrokes();
  view.redraw();
  updateExportLinks();
  document.body.dataset.strokes = String(app.strokes.length);
  document.body.dataset.unsaved = String(app.outbox.length);
  setStatus("status-unsaved", app.outbox.length
    ? `${app.outbox.length} stroke${app.outbox.length === 1 ? "" : "s"} not saved yet: retrying`
    : "");
  document.body.dataset.labels = String(app.labels.length);
}

function updateExportLinks() {
  const id = app.image?.id;
  const set = (link, href) => {
    link.toggleAttribute("aria-disabled", !href);
    if (href) link.href = href; else link.removeAttribute("href");
  };
  set($("export-labelmap"), id && apiUrl(`/images/${id}/export/labelmap.png`));
  set($("export-label"), id && app.activeLabel && apiUrl(`/images/${id}/export/labels/${app.activeLabel}.png`));
  set($("export-coco"), id && apiUrl(`/images/${id}/export/coco.json`));
  set($("export-project"), app.project && apiUrl(`/projects/${app.project.id}/export/coco.json`));
  set($("export-nifti"), app.volume && apiUrl(`/volumes/${app.volume.id}/export/labels.nii.gz`));
}

function onFrame(frame) {
  app.frame = frame;
  repaintOverlay();
  app.predictions += 1;
  document.body.dataset.predictions = String(app.predictions);
  setStatus("status-ms", `last prediction: ${frame.millis} ms (round trip ${Math.round(frame.roundTrip)} ms)`);
}

function repaintOverlay() {
  if (!app.frame) return;
  const count = paintOverlay(view.overlay, app.frame, colors(), app.outline, hiddenLabels());
  document.body.dataset.overlayPixels = String(count);
  view.hasOverlay = true;
  view.redraw();
}

// ---------- predictions ----------

function strokeBody(s) {
  return { label_id: s.label_id, kind: s.kind, radius: s.radius, points: s.points };
}

/** Sends the current stroke state, the stroke in progress included. */
function predict() {
  if (!app.socket) return;
  const strokes = shownStrokes().filter((s) => !view.hidden.has(s.id)).map(strokeBody);
  if (view.draft) strokes.push(strokeBody(view.draft));
  app.socket.send({ labels: app.labels.map((l) => l.id), strokes });
}

// ---------- project, images, labels ----------

async function loadImages() {
  app.images = await api(`/projects/${app.project.id}/images`);
}

async function refreshImage() {
  if (!app.image) return;
  if (app.volume) {
    const detail = await api(`/volumes/${app.volume.id}`);
    if (app.volume?.id !== detail.id) return;
    app.volume = detail;
    app.volumes = app.volumes.map((v) => (v.id === detail.id ? detail : v));
    return;
  }
  const info = await api(`/images/${app.image.id}`);
  app.images = app.images.map((i) => (i.id === info.id ? info : i));
}

async function loadVolumes() {
  app.volumes = await api(`/projects/${app.project.id}/volumes`);
}

/** Opens an image of the list (leaving any open volume). */
function openPlainImage(info) {
  app.volume = null;
  localStorage.removeItem("scribseg.volume");
  return openImage(info);
}

// ---------- volumes ----------

/** Opens a volume at `axis` / `index`, or its axial (else last) axis at the middle slice. */
async function openVolume(info, axis = null, index = null) {
  const detail = await attempt(() => api(`/volumes/${info.id}`));
  if (!detail) return;
  app.volume = detail;
  app.window = detail.window;
  app.sliceAt = detail.dims.map((n) => Math.floor(n / 2));
  const axial = detail.axes.indexOf("axial");
  app.axis = axis ?? (axial >= 0 ? axial : 2);
  if (index !== null && index < detail.dims[app.axis]) app.sliceAt[app.axis] = index;
  renderAll();
  await showSlice(true);
}

/** Shows the current slice of the open volume; `refit` fits it to the window. */
async function showSlice(refit) {
  const volume = app.volume;
  if (!volume) return;
  const [axis, index] = [app.axis, app.sliceAt[app.axis]];
  const seq = ++app.sliceSeq;
  renderVolumeControls();
  const answer = await attempt(() => api(`/volumes/${volume.id}/slices/${axis}/${index}`, { method: "POST" }));
  if (!answer || seq !== app.sliceSeq || app.volume?.id !== volume.id) return;
  localStorage.setItem("scribseg.volume", JSON.stringify({ id: volume.id, axis, index }));
  await openImage(answer.image, !refit);
}

/** Moves `delta` slices along the current axis. */
function stepSlice(delta) {
  if (!app.volume || app.gesture) return;
  const n = app.volume.dims[app.axis];
  const next = Math.max(0, Math.min(n - 1, app.sliceAt[app.axis] + delta));
  if (next === app.sliceAt[app.axis]) return;
  app.sliceAt[app.axis] = next;
  showSlice(false);
}

function setAxis(axis) {
  if (!app.volume || app.axis === axis || app.gesture) return;
  app.axis = axis;
  showSlice(true);
}

function renderVolumeControls() {
  const volume = app.volume;
  $("volume-controls").hidden = !volume;
  view.insetTop = volume ? 44 : 0;
  if (!volume) return;
  const axes = $("axes");
  if (axes.dataset.volume !== String(volume.id)) {
    axes.dataset.volume = String(volume.id);
    axes.replaceChildren(...volume.axes.map((name, axis) => {
      const b = document.createElement("button");
      b.textContent = name;
      b.dataset.axis = String(axis);
      b.title = `Slices across voxel axis ${axis} (${volume.dims[axis]} slices, ${volume.spacing[axis]} mm apart)`;
      b.addEventListener("click", () => setAxis(axis));
      return b;
    }));
  }
  for (const b of axes.children) b.classList.toggle("active", Number(b.dataset.axis) === app.axis);
  const n = volume.dims[app.axis];
  const index = app.sliceAt[app.axis];
  const slider = $("slice");
  slider.max = String(n - 1);
  slider.value = String(index);
  $("slice-value").textContent = `${index + 1} / ${n}`;
  $("slice-marks").replaceChildren(...volume.annotated.filter((a) => a.axis === app.axis).map((a) => {
    const option = document.createElement("option");
    option.value = String(a.index);
    return option;
  }));
  renderWindowControls();
}

// ---------- display window (volumes) ----------

/** Windows the page offers for a volume: {name, level, width}; the first is the default. */
function windowPresets(volume) {
  const presets = [{ name: "default", ...volume.intensities.default }];
  if (volume.modality === "CT") {
    presets.push(
      { name: "lung", level: -600, width: 1500 },
      { name: "bone", level: 400, width: 1800 },
      { name: "brain", level: 40, width: 80 },
    );
  }
  const [lo, hi] = volume.intensities.range;
  presets.push({ name: "full range", level: (lo + hi) / 2, width: Math.max(hi - lo, 1e-6) });
  return presets;
}

/** The window the open volume is shown through. */
function shownWindow() {
  return app.window ?? app.volume.intensities.default;
}

function renderWindowControls() {
  const presets = windowPresets(app.volume);
  const select = $("window-preset");
  if (select.dataset.volume !== String(app.volume.id)) {
    select.dataset.volume = String(app.volume.id);
    select.replaceChildren(...presets.map((p, i) => new Option(p.name, String(i))),
      new Option("custom", "custom"));
  }
  const w = shownWindow();
  const i = presets.findIndex((p) => Math.abs(p.level - w.level) < 1e-3 && Math.abs(p.width - w.width) < 1e-3);
  select.value = i >= 0 ? String(i) : "custom";
  $("window-value").textContent = `W ${formatIntensity(w.width)} · L ${formatIntensity(w.level)}`;
}

function formatIntensity(v) {
  return Math.abs(v) >= 100 ? String(Math.round(v)) : String(Math.round(v * 10) / 10);
}

/** The URL of an image's picture: a volume slice through the chosen window. */
function pictureUrl(info) {
  const w = info.slice && app.window;
  const query = w ? `?level=${w.level}&width=${w.width}` : "";
  return apiUrl(`/images/${info.id}/display.png${query}`);
}

let windowLoading = false;
/** Shows the open slice through the current window: one request at a time, the newest window last. */
async function refreshWindow() {
  renderWindowControls();
  if (windowLoading || !app.image?.slice) return;
  windowLoading = true;
  try {
    let url;
    while (app.image?.slice && url !== pictureUrl(app.image)) {
      url = pictureUrl(app.image);
      const id = app.image.id;
      const pixels = await loadPicture(url);
      if (app.image?.id === id) view.replacePicture(pixels);
    }
  } catch (err) {
    toast(err.message);
  } finally {
    windowLoading = false;
  }
}

/** Keeps `chosen` (null: the default) as the open volume's display window. */
async function setWindow(chosen) {
  const volume = app.volume;
  app.window = chosen;
  refreshWindow();
  const info = await attempt(() => api(`/volumes/${volume.id}`, { method: "PATCH", body: { window: chosen } }));
  if (info && app.volume?.id === volume.id) app.volume.window = info.window;
}

$("window-preset").addEventListener("change", (e) => {
  const preset = windowPresets(app.volume)[Number(e.target.value)];
  if (!preset) return;
  setWindow(e.target.value === "0" ? null : { level: preset.level, width: preset.width });
  e.target.blur();
});

let wheelSum = 0;
/** Wheel over the canvas with a volume open: one slice a notch (trackpads add up). */
function wheelSlices(e) {
  wheelSum += e.deltaMode === 1 ? e.deltaY * 40 : e.deltaY;
  if (Math.abs(wheelSum) < 50) return;
  const steps = Math.sign(wheelSum) * Math.max(1, Math.round(Math.abs(wheelSum) / 100));
  wheelSum = 0;
  stepSlice(steps);
}

// ---------- images ----------

/** Shows an image (or a volume's slice); `keepView` keeps zoom and pan. */
async function openImage(info, keepView = false) {
  if (app.image?.id === info.id) return;
  app.socket?.close();
  app.socket = null;
  app.image = info;
  app.frame = null;
  app.strokes = [];
  view.hasOverlay = false;
  view.hidden.clear();
  document.body.dataset.ready = "0";
  document.body.dataset.slice = info.slice ? `${info.slice.axis}/${info.slice.index}` : "";
  if (!info.slice) localStorage.setItem("scribseg.image", String(info.id));
  renderAll();
  setStatus("status-image", describe(info));
  const [pixels, state] = await Promise.all([
    loadPicture(pictureUrl(info)),
    api(`/images/${info.id}/strokes`),
  ]);
  if (app.image?.id !== info.id) return; // another image was opened meanwhile
  app.strokes = state.strokes;
  app.history = state.history;
  view.setImage(pixels, keepView);
  document.body.dataset.shown = String(info.id);
  renderAll();
  app.socket = new PredictionSocket(info.id, {
    onReady: (msg) => {
      setStatus("status-model", `model: ${msg.model.name} (${formatCount(msg.model.parameters)} parameters)`);
      setStatus("status-device", msg.model.device);
      document.body.dataset.ready = "1";
      predict();
    },
    onFrame,
    onError: (message) => toast(`prediction: ${message}`),
    onState: (state) => { $("status-conn").className = `dot ${state === "open" ? "on" : "busy"}`; },
  });
}

function describe(info) {
  const v = app.volume;
  if (!info.slice || v?.id !== info.slice.volume_id) return `${info.name} · ${info.width}×${info.height}`;
  const { axis, index } = info.slice;
  return `${v.name} · ${v.axes[axis]} ${index + 1}/${v.dims[axis]} · ${info.width}×${info.height}`;
}

function loadPicture(url) {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = () => reject(new Error("the image could not be loaded"));
    img.src = url;
  });
}

const isVolume = (name) => /\.nii(\.gz)?$/i.test(name);

async function uploadFiles(files) {
  let first = null;
  for (const file of files) {
    const kind = isVolume(file.name) ? "volumes" : "images";
    const info = await attempt(() =>
      api(`/projects/${app.project.id}/${kind}?name=${encodeURIComponent(file.name)}`, { method: "POST", body: file }));
    if (info) first ??= info;
  }
  await Promise.all([loadImages(), loadVolumes()]);
  renderAll();
  if (first) {
    toast(`Added ${first.name}`, "info");
    if (Array.isArray(first.dims)) await openVolume(first); else await openPlainImage(first);
  }
}

async function addLabel(name) {
  const label = await attempt(() => api(`/projects/${app.project.id}/labels`, { method: "POST", body: { name } }));
  if (!label) return null;
  app.labels.push(label);
  app.activeLabel = label.id;
  renderAll();
  return label;
}

const labelActions = {
  // Marks the label in place: re-rendering the list would replace the
  // element a double-click (rename) is landing on.
  select(label) {
    app.activeLabel = label.id;
    for (const item of $("labels").children) {
      item.classList.toggle("active", Number(item.dataset.labelId) === label.id);
    }
    updateExportLinks();
  },
  async rename(label, name) {
    await this.patch(label, { name });
  },
  async recolour(label, color) {
    await this.patch(label, { color });
  },
  /** Shows or hides the label's mask and strokes on the canvas (V). */
  async toggleHidden(label) {
    await this.patch(label, { hidden: !label.hidden });
  },
  async patch(label, body) {
    const updated = await attempt(() => api(`/labels/${label.id}`, { method: "PATCH", body }));
    if (updated) Object.assign(label, updated);
    renderAll();
    repaintOverlay();
  },
  async clear(label) {
    if (!app.image) return;
    await applyStrokes(api(`/images/${app.image.id}/clear`, { method: "POST", body: { label_id: label.id } }));
  },
  async remove(label) {
    if (!confirm(`Delete the label “${label.name}” and its strokes on every image?`)) return;
    if ((await attempt(() => api(`/labels/${label.id}`, { method: "DELETE" }))) === undefined) return;
    app.labels = app.labels.filter((l) => l.id !== label.id);
    app.strokes = app.strokes.filter((s) => s.label_id !== label.id);
    await attempt(async () => { await Promise.all([loadImages(), loadVolumes()]); });
    renderAll();
    predict();
  },
};

/** Applies a `{strokes, history}` answer (undo, redo, erase, clear). */
async function applyStrokes(request) {
  const state = await attempt(() => request);
  view.hidden.clear();
  if (state) {
    app.strokes = state.strokes;
    app.history = state.history;
    await attempt(refreshImage);
  }
  renderAll();
  predict();
}

function undo() { if (app.image && canUndo()) applyStrokes(api(`/images/${app.image.id}/undo`, { method: "POST" })); }
function redo() { if (app.image && canRedo()) applyStrokes(api(`/images/${app.image.id}/redo`, { method: "POST" })); }

// ---------- tools and pointer ----------

function setTool(tool) {
  app.tool = tool;
  for (const b of document.querySelectorAll("[data-tool]")) b.classList.toggle("active", b.dataset.tool === tool);
}

function setRadius(r) {
  app.radius = Math.max(1, Math.min(200, Math.round(r)));
  $("size").value = String(Math.min(app.radius, 60));
  $("size-value").textContent = String(app.radius);
  if (view.cursor) view.cursor.radius = brushRadius();
  view.redraw();
}

/**
 * The brush radius in image pixels. The size is set in screen pixels, so
 * the brush looks the same at every zoom: on a 4000×3000 photo fitted to
 * the window a 6-pixel brush covers ~25 image pixels, zoomed in ~1.
 */
function brushRadius() {
  return Math.min(500, Math.max(0.5, round1(app.radius / view.scale)));
}

let spaceDown = false;
const canvas = $("canvas");

function canvasPoint(e) {
  const rect = canvas.getBoundingClientRect();
  return { sx: e.clientX - rect.left, sy: e.clientY - rect.top };
}

canvas.addEventListener("contextmenu", (e) => e.preventDefault());

canvas.addEventListener("pointerdown", async (e) => {
  if (!app.image || !view.image) return;
  canvas.setPointerCapture(e.pointerId);
  const { sx, sy } = canvasPoint(e);
  if (spaceDown || e.button === 1) {
    app.gesture = { kind: "pan", sx, sy };
    canvas.style.cursor = "grabbing";
    return;
  }
  if (e.shiftKey && e.button === 0 && app.image.slice && app.volume) {
    app.gesture = { kind: "window", sx, sy, start: { ...shownWindow() } };
    return;
  }
  if (e.button !== 0 && e.button !== 2) return;
  const p = view.toImage(sx, sy);
  if (app.tool === "eraser") {
    app.gesture = { kind: "erase" };
    eraseAt(p);
    return;
  }
  if (app.activeLabel === null) {
    const label = await addLabel(`Label ${app.labels.length + 1}`);
    if (!label) return;
  }
  const right = e.button === 2;
  const kind = app.tool === "pin" ? (right ? "unpin" : "pin") : right ? "negative" : "positive";
  view.draft = { label_id: app.activeLabel, kind, radius: brushRadius(), points: [[round1(p.x), round1(p.y)]] };
  app.gesture = { kind: "draw" };
  predict();
  view.redraw();
});

function round1(v) { return Math.round(v * 10) / 10; }

canvas.addEventListener("pointermove", (e) => {
  const { sx, sy } = canvasPoint(e);
  const p = view.toImage(sx, sy);
  view.cursor = app.image ? { x: p.x, y: p.y, radius: brushRadius() } : null;
  if (app.image) setStatus("status-cursor", `x ${Math.round(p.x)} · y ${Math.round(p.y)}`);
  const g = app.gesture;
  if (g?.kind === "pan") {
    view.panBy(sx - g.sx, sy - g.sy);
    g.sx = sx;
    g.sy = sy;
  } else if (g?.kind === "draw" && view.draft) {
    const pts = view.draft.points;
    const last = pts[pts.length - 1];
    if (Math.hypot(p.x - last[0], p.y - last[1]) >= Math.max(0.7, 1.5 / view.scale)) {
      pts.push([round1(p.x), round1(p.y)]);
      predict();
    }
  } else if (g?.kind === "erase") {
    eraseAt(p);
  } else if (g?.kind === "window") {
    // A screen pixel moves the window by a thousandth of the volume's range.
    const [lo, hi] = app.volume.intensities.range;
    const step = Math.max(hi - lo, 1e-6) / 1000;
    app.window = {
      level: g.start.level + (sy - g.sy) * step,
      width: Math.max(step, g.start.width + (sx - g.sx) * step),
    };
    refreshWindow();
  }
  view.redraw();
});

canvas.addEventListener("pointerleave", () => { view.cursor = null; view.redraw(); });

/**
 * Erases under the eraser. A gesture erases one kind of stroke: its first
 * contact picks the newest stroke under the cursor, and from then on it
 * removes only strokes of that label and kind (sweeping over several
 * background scribbles removes them all; where one crosses an object's
 * stroke, the object's stays).
 */
function eraseAt(p) {
  const g = app.gesture;
  let changed = false;
  const hiddenLabel = hiddenLabels();
  for (let i = app.strokes.length - 1; i >= 0; i--) {
    const s = app.strokes[i];
    if (view.hidden.has(s.id) || hiddenLabel.has(s.label_id) || !touches(s, p, brushRadius())) continue;
    g.target ??= { label_id: s.label_id, kind: s.kind };
    if (s.label_id === g.target.label_id && s.kind === g.target.kind) {
      view.hidden.add(s.id);
      changed = true;
    }
  }
  if (changed) predict();
}

// ---------- saving strokes ----------

/** The open image's strokes: the stored ones, then those still unsaved. */
function shownStrokes() {
  const pending = app.outbox.filter((o) => o.image === app.image?.id).map((o) => o.stroke);
  const hidden = hiddenLabels();
  return [...app.strokes, ...pending].filter((s) => !hidden.has(s.label_id));
}

// Undo and redo act on the server's history: wait until every stroke is in it.
function canUndo() { return app.history.can_undo && app.outbox.length === 0; }
function canRedo() { return app.history.can_redo && app.outbox.length === 0; }

let localIds = 0;
let flushing = false;
let retryDelay = 1000;

/** Queues a finished stroke for saving and starts sending the queue. */
function save(image, draft) {
  app.outbox.push({ image, stroke: { ...draft, id: -(++localIds) } });
  return flushOutbox();
}

/**
 * Sends unsaved strokes oldest first. A stroke the server refuses (a 4xx:
 * it is invalid, or its image or label is gone) is dropped with a message;
 * when the server cannot be reached or fails, the queue waits and tries
 * again, up to every 15 s, so no stroke is lost and their order is kept.
 */
async function flushOutbox() {
  if (flushing) return;
  flushing = true;
  try {
    while (app.outbox.length > 0) {
      const { image, stroke } = app.outbox[0];
      let answer;
      try {
        answer = await api(`/images/${image}/strokes`, { method: "POST", body: strokeBody(stroke) });
      } catch (err) {
        const refused = err instanceof ApiError && err.status >= 400 && err.status < 500
          && err.status !== 408 && err.status !== 429;
        if (!refused) {
          setTimeout(flushOutbox, retryDelay);
          retryDelay = Math.min(retryDelay * 2, 15000);
          renderAll();
          return;
        }
        toast(`a stroke could not be saved: ${err.message}`);
      }
      retryDelay = 1000;
      app.outbox.shift();
      if (answer && app.image?.id === image) {
        app.strokes.push(answer.stroke);
        app.history = answer.history;
      }
      renderAll();
    }
    await attempt(refreshImage);
  } finally {
    flushing = false;
  }
  renderAll();
  predict();
}

window.addEventListener("beforeunload", (e) => {
  if (app.outbox.length > 0) e.preventDefault();
});

async function endGesture() {
  const g = app.gesture;
  app.gesture = null;
  canvas.style.cursor = "";
  if (g?.kind === "draw" && view.draft) {
    const draft = view.draft;
    view.draft = null;
    await save(app.image.id, draft);
  } else if (g?.kind === "erase" && view.hidden.size > 0) {
    await applyStrokes(api(`/images/${app.image.id}/strokes/erase`, { method: "POST", body: { ids: [...view.hidden] } }));
  } else if (g?.kind === "window" && app.window) {
    await setWindow(app.window);
  }
}
canvas.addEventListener("pointerup", endGesture);
canvas.addEventListener("pointercancel", endGesture);

canvas.addEventListener("wheel", (e) => {
  e.preventDefault();
  if (app.volume && !e.ctrlKey && !e.metaKey) {
    wheelSlices(e);
    return;
  }
  const { sx, sy } = canvasPoint(e);
  view.zoomAt(sx, sy, Math.exp(-e.deltaY * 0.0015));
  if (view.cursor) view.cursor.radius = brushRadius();
  setStatus("status-zoom", `${Math.round(view.scale * 100)}%`);
}, { passive: false });

// ---------- keyboard ----------

function toggleOutline() {
  app.outline = !app.outline;
  $("outline").classList.toggle("active", app.outline);
  repaintOverlay();
}

function toggleHide() {
  view.hideOverlay = !view.hideOverlay;
  $("hide").classList.toggle("active", view.hideOverlay);
  view.redraw();
}

function activeLabel() {
  return app.labels.find((l) => l.id === app.activeLabel);
}

/** Moves `delta` images along the list as it is shown (filtered). */
function step(delta) {
  const images = listedImages();
  const i = images.findIndex((im) => im.id === app.image?.id);
  const next = images[i + delta];
  if (next) openPlainImage(next);
}

// ---------- image status ----------

/** The images the list shows: those of the chosen status, or all. */
function listedImages() {
  return app.filter === "all" ? app.images : app.images.filter((im) => im.status === app.filter);
}

/** Sets an image's status and shows it in the list. */
async function markImage(image, status) {
  const info = await attempt(() => api(`/images/${image.id}`, { method: "PATCH", body: { status } }));
  if (!info) return null;
  app.images = app.images.map((im) => (im.id === info.id ? info : im));
  if (app.image?.id === info.id) app.image = info;
  renderAll();
  return info;
}

function cycleStatus(image) {
  const order = ["todo", "done", "review"];
  markImage(image, order[(order.indexOf(image.status) + 1) % order.length]);
}

/** D: the open image is done; the next image after it that is not done opens (the list wraps). */
async function doneAndNext() {
  const image = app.image;
  if (!image || image.slice) return;
  const order = listedImages();
  const at = order.findIndex((im) => im.id === image.id);
  if (!(await markImage(image, "done"))) return;
  const rest = [...order.slice(at + 1), ...order.slice(0, Math.max(at, 0))];
  const next = rest.find((im) => im.status !== "done");
  if (next) openPlainImage(app.images.find((im) => im.id === next.id) ?? next);
  else toast("every image in the list is done");
}

$("image-filter").addEventListener("change", (e) => {
  app.filter = e.target.value;
  localStorage.setItem("scribseg.filter", app.filter);
  renderAll();
  e.target.blur();
});

/** Whether keys typed into `target` are its own (not shortcuts): a slider
 * or a button that has the focus after a click leaves the shortcuts on; a
 * list box keeps its arrow keys until it is chosen from (then it lets go
 * of the focus). */
function typingInto(target) {
  if (target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement
    || target?.isContentEditable) return true;
  return target instanceof HTMLInputElement
    && !["range", "checkbox", "radio", "button", "submit", "color", "file"].includes(target.type);
}

document.addEventListener("keydown", (e) => {
  if (typingInto(e.target)) return;
  const key = e.key;
  if ((e.ctrlKey || e.metaKey) && key.toLowerCase() === "z") {
    e.preventDefault();
    if (e.shiftKey) redo(); else undo();
    return;
  }
  if ((e.ctrlKey || e.metaKey) && key.toLowerCase() === "y") { e.preventDefault(); redo(); return; }
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  if (key === " ") { spaceDown = true; canvas.style.cursor = "grab"; e.preventDefault(); return; }
  if (/^[1-9]$/.test(key)) {
    const label = app.labels[Number(key) - 1];
    if (label) labelActions.select(label);
    return;
  }
  const actions = {
    b: () => setTool("brush"), e: () => setTool("eraser"), p: () => setTool("pin"),
    "[": () => setRadius(app.radius / 1.25), "]": () => setRadius(app.radius * 1.25 + 0.5),
    o: toggleOutline, h: toggleHide, f: fit,
    x: () => { const l = activeLabel(); if (l) labelActions.clear(l); },
    v: () => { const l = activeLabel(); if (l) labelActions.toggleHidden(l); },
    ",": () => step(-1), ".": () => step(1),
    d: doneAndNext, r: () => { if (app.image && !app.image.slice) markImage(app.image, "review"); },
    ArrowUp: () => stepSlice(-1), ArrowDown: () => stepSlice(1),
    PageUp: () => stepSlice(-10), PageDown: () => stepSlice(10),
    "?": () => { $("help").hidden = !$("help").hidden; },
    Escape: () => { $("help").hidden = true; $("export-menu").hidden = true; },
  };
  const action = actions[key.length === 1 ? key.toLowerCase() : key] ?? actions[key];
  if (action) { e.preventDefault(); action(); }
});
document.addEventListener("keyup", (e) => {
  if (e.key === " ") { spaceDown = false; canvas.style.cursor = ""; }
});

// ---------- toolbar ----------

/** Fits the image to the window and says the new zoom. */
function fit() {
  view.fit();
  setStatus("status-zoom", `${Math.round(view.scale * 100)}%`);
}

for (const b of document.querySelectorAll("[data-tool]")) b.addEventListener("click", () => setTool(b.dataset.tool));
$("size").addEventListener("input", (e) => setRadius(Number(e.target.value)));
$("opacity").addEventListener("input", (e) => { view.opacity = Number(e.target.value) / 100; view.redraw(); });
$("outline").addEventListener("click", toggleOutline);
$("hide").addEventListener("click", toggleHide);
$("fit").addEventListener("click", fit);
$("undo").addEventListener("click", undo);
$("volume-controls").addEventListener("wheel", (e) => { e.preventDefault(); wheelSlices(e); }, { passive: false });
$("slice").addEventListener("input", (e) => {
  if (!app.volume) return;
  app.sliceAt[app.axis] = Number(e.target.value);
  showSlice(false);
});
$("redo").addEventListener("click", redo);
$("help-button").addEventListener("click", () => { $("help").hidden = false; });
$("help").addEventListener("click", () => { $("help").hidden = true; });
$("export-button").addEventListener("click", (e) => { e.stopPropagation(); $("export-menu").hidden = !$("export-menu").hidden; });
document.addEventListener("click", () => { $("export-menu").hidden = true; });
$("add-label").addEventListener("submit", (e) => {
  e.preventDefault();
  const input = $("new-label");
  const name = input.value.trim() || `Label ${app.labels.length + 1}`;
  input.value = "";
  // Back to the canvas's shortcuts: 1–9 picks the new label at once.
  input.blur();
  addLabel(name);
});

// ---------- drag and drop ----------

$("file-input").addEventListener("change", (e) => uploadFiles([...e.target.files]));
let dragDepth = 0;
document.addEventListener("dragenter", (e) => { e.preventDefault(); dragDepth++; document.body.classList.add("dragging"); });
document.addEventListener("dragleave", () => { if (--dragDepth <= 0) { dragDepth = 0; document.body.classList.remove("dragging"); } });
document.addEventListener("dragover", (e) => e.preventDefault());
document.addEventListener("drop", (e) => {
  e.preventDefault();
  dragDepth = 0;
  document.body.classList.remove("dragging");
  const files = [...(e.dataTransfer?.files ?? [])];
  if (files.length) uploadFiles(files);
});

// ---------- start ----------

async function start() {
  const health = await api("/health");
  setStatus("status-model", `model: ${health.model.name} (${formatCount(health.model.parameters)} parameters)`);
  setStatus("status-device", health.model.device);
  const projects = await api("/projects");
  app.project = projects[0] ?? (await api("/projects", { method: "POST", body: { name: "default" } }));
  [app.labels] = await Promise.all([api(`/projects/${app.project.id}/labels`), loadImages(), loadVolumes()]);
  renderAll();
  const files = await api("/dir");
  if (files.length) {
    $("server-folder").hidden = false;
    const known = new Set(app.images.map((i) => i.name));
    $("dir-files").replaceChildren(...files.filter((f) => !known.has(f)).map((f) => {
      const li = document.createElement("li");
      li.textContent = f;
      li.addEventListener("click", async () => {
        const info = await attempt(() => api(`/projects/${app.project.id}/images/from-dir`, { method: "POST", body: { path: f } }));
        if (info) { li.remove(); await loadImages(); await openPlainImage(info); }
      });
      return li;
    }));
  }
  let slice = null;
  try { slice = JSON.parse(localStorage.getItem("scribseg.volume") ?? "null"); } catch { /* ignore */ }
  const volume = app.volumes.find((v) => v.id === slice?.id);
  const remembered = Number(localStorage.getItem("scribseg.image"));
  const first = app.images.find((i) => i.id === remembered) ?? app.images[0];
  if (volume) await openVolume(volume, slice.axis, slice.index);
  else if (first) await openImage(first);
  else if (app.volumes[0]) await openVolume(app.volumes[0]);
  document.body.dataset.started = "1";
}

start().catch((err) => toast(`could not start: ${err.message}`));
