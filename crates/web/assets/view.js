// The canvas: the image, the mask overlay and the strokes under one
// zoom/pan transform. Image coordinates put pixel centres at integers.

export class View {
  constructor(canvas) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.image = null;          // HTMLImageElement
    this.overlay = document.createElement("canvas");
    this.hasOverlay = false;
    this.scale = 1;
    this.ox = 0;
    this.oy = 0;
    this.opacity = 0.55;
    this.hideOverlay = false;
    this.strokes = [];          // [{points, radius, kind, label_id}]
    this.draft = null;
    this.hidden = new Set();    // stroke ids the eraser is about to remove
    this.colors = new Map();    // label id -> colour
    this.cursor = null;         // {x, y, radius} in image coordinates
    this.insetTop = 0;          // CSS pixels at the top that fit() leaves free (the slice bar)
    this.queued = false;
    new ResizeObserver(() => this.resize()).observe(canvas);
  }

  resize() {
    const dpr = window.devicePixelRatio || 1;
    const { clientWidth: w, clientHeight: h } = this.canvas;
    this.canvas.width = Math.max(1, Math.round(w * dpr));
    this.canvas.height = Math.max(1, Math.round(h * dpr));
    if (this.image && this.fitted) this.fit();
    this.redraw();
  }

  /** Shows `image`; `keepView` keeps the zoom and pan (the next slice of a volume). */
  setImage(image, keepView = false) {
    this.image = image;
    this.hasOverlay = false;
    if (keepView) this.redraw(); else this.fit();
  }

  /** Swaps the picture for one of the same size (another display window), keeping view and overlay. */
  replacePicture(image) {
    this.image = image;
    this.redraw();
  }

  /** Scales the image to fill the stage with a margin. */
  fit() {
    if (!this.image) return;
    const { clientWidth: w, clientHeight: h } = this.canvas;
    if (w === 0 || h === 0) return;
    const top = this.insetTop;
    const s = Math.min((w - 40) / this.image.width, (h - top - 40) / this.image.height);
    this.scale = Math.max(s, 0.01);
    this.ox = (w - this.image.width * this.scale) / 2;
    this.oy = top + (h - top - this.image.height * this.scale) / 2;
    this.fitted = true;
    this.redraw();
  }

  /** Zooms by `factor` keeping the screen point (sx, sy) fixed. */
  zoomAt(sx, sy, factor) {
    const scale = Math.min(Math.max(this.scale * factor, 0.02), 64);
    const f = scale / this.scale;
    this.ox = sx - (sx - this.ox) * f;
    this.oy = sy - (sy - this.oy) * f;
    this.scale = scale;
    this.fitted = false;
    this.redraw();
  }

  panBy(dx, dy) {
    this.ox += dx;
    this.oy += dy;
    this.fitted = false;
    this.redraw();
  }

  /** Screen (CSS pixels relative to the canvas) to image coordinates. */
  toImage(sx, sy) {
    return { x: (sx - this.ox) / this.scale - 0.5, y: (sy - this.oy) / this.scale - 0.5 };
  }

  redraw() {
    if (this.queued) return;
    this.queued = true;
    requestAnimationFrame(() => {
      this.queued = false;
      this.draw();
    });
  }

  draw() {
    const { ctx, canvas } = this;
    const dpr = window.devicePixelRatio || 1;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    if (!this.image) return;
    ctx.setTransform(dpr * this.scale, 0, 0, dpr * this.scale, dpr * this.ox, dpr * this.oy);
    ctx.imageSmoothingEnabled = this.scale < 1;
    ctx.drawImage(this.image, 0, 0);
    if (this.hasOverlay && !this.hideOverlay) {
      ctx.imageSmoothingEnabled = false;
      ctx.globalAlpha = this.opacity;
      ctx.drawImage(this.overlay, 0, 0);
      ctx.globalAlpha = 1;
    }
    for (const stroke of this.strokes) {
      if (!this.hidden.has(stroke.id)) this.drawStroke(stroke);
    }
    if (this.draft) this.drawStroke(this.draft);
    if (this.cursor) {
      const { x, y, radius } = this.cursor;
      ctx.lineWidth = 1.5 / this.scale;
      ctx.strokeStyle = "#fff";
      ctx.setLineDash([4 / this.scale, 3 / this.scale]);
      ctx.beginPath();
      ctx.arc(x + 0.5, y + 0.5, radius, 0, 2 * Math.PI);
      ctx.stroke();
      ctx.setLineDash([]);
    }
  }

  drawStroke(stroke) {
    const { ctx } = this;
    const color = this.colors.get(stroke.label_id) ?? "#ffffff";
    ctx.save();
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.lineWidth = Math.max(stroke.radius * 2, 1 / this.scale);
    ctx.strokeStyle = color;
    const override = stroke.kind === "pin" || stroke.kind === "unpin";
    ctx.globalAlpha = override ? 0.5 : 0.95;
    // Dashed: "not this label" (a correction, or an unpin that clears the mask).
    if (stroke.kind === "negative" || stroke.kind === "unpin") ctx.setLineDash([stroke.radius * 2, stroke.radius * 2]);
    const pts = stroke.points;
    ctx.beginPath();
    ctx.moveTo(pts[0][0] + 0.5, pts[0][1] + 0.5);
    if (pts.length === 1) ctx.lineTo(pts[0][0] + 0.5001, pts[0][1] + 0.5);
    for (const [x, y] of pts.slice(1)) ctx.lineTo(x + 0.5, y + 0.5);
    ctx.stroke();
    if (stroke.kind !== "positive") {
      // A thin core tells corrections (white) and pins and unpins (black) from plain strokes.
      ctx.globalAlpha = 0.8;
      ctx.setLineDash([]);
      ctx.lineWidth = Math.max(stroke.radius * 0.4, 1 / this.scale);
      ctx.strokeStyle = override ? "#000" : "#fff";
      ctx.stroke();
    }
    ctx.restore();
  }
}

/** Distance from p to segment a–b. */
function segmentDistance(p, a, b) {
  const dx = b[0] - a[0], dy = b[1] - a[1];
  const len2 = dx * dx + dy * dy;
  const t = len2 > 0 ? Math.max(0, Math.min(1, ((p.x - a[0]) * dx + (p.y - a[1]) * dy) / len2)) : 0;
  return Math.hypot(p.x - (a[0] + t * dx), p.y - (a[1] + t * dy));
}

/** Whether the eraser at `p` with `radius` touches `stroke`. */
export function touches(stroke, p, radius) {
  const pts = stroke.points;
  const reach = radius + stroke.radius;
  if (pts.length === 1) return Math.hypot(p.x - pts[0][0], p.y - pts[0][1]) <= reach;
  for (let i = 1; i < pts.length; i++) {
    if (segmentDistance(p, pts[i - 1], pts[i]) <= reach) return true;
  }
  return false;
}
