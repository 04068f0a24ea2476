// Label maps: decoding the server's run-length frames and painting them
// into an image-sized canvas, filled or as outlines.

/**
 * Decodes a binary frame: u32 seq, ms, image width and height, the region
 * the frame covers (x, y, width, height), then (u8 value, u32 length) runs
 * over the region's rows; every pixel outside the region is 0. `previous`
 * (the last frame decoded for this image, or null) lends its image-sized
 * buffer, so a frame costs its region, not the image.
 */
export function decodeFrame(buffer, previous) {
  const view = new DataView(buffer);
  const word = (i) => view.getUint32(4 * i, true);
  const [seq, millis, width, height] = [word(0), word(1), word(2), word(3)];
  const region = { x: word(4), y: word(5), width: word(6), height: word(7) };
  let data;
  if (previous && previous.width === width && previous.height === height) {
    data = previous.data;
    clearRegion(data, width, previous.region);
  } else {
    data = new Uint8Array(width * height);
  }
  let offset = 32;
  let pos = 0;
  while (offset + 5 <= buffer.byteLength) {
    const value = view.getUint8(offset);
    const length = view.getUint32(offset + 1, true);
    if (value !== 0) fillRun(data, width, region, pos, length, value);
    pos += length;
    offset += 5;
  }
  return { seq, millis, width, height, region, data };
}

function clearRegion(data, width, region) {
  for (let y = region.y; y < region.y + region.height; y++) {
    data.fill(0, y * width + region.x, y * width + region.x + region.width);
  }
}

/** Writes `length` pixels of `value` from position `pos` of the region's row-major order. */
function fillRun(data, width, region, pos, length, value) {
  const end = pos + length;
  while (pos < end) {
    const row = Math.floor(pos / region.width);
    const col = pos - row * region.width;
    const n = Math.min(end - pos, region.width - col);
    const start = (region.y + row) * width + region.x + col;
    data.fill(value, start, start + n);
    pos += n;
  }
}

function rgb(hex) {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/**
 * Paints `frame` into `canvas` (resized to the image): pixel value k+1 gets
 * the colour of `frame.labels[k]` looked up in `colors` (label id -> #rrggbb),
 * except the labels in `hidden` (a Set of ids), left off.
 * Only the frame's region is drawn; the rest of the canvas is cleared.
 * Returns the number of pixels drawn.
 */
export function paintOverlay(canvas, frame, colors, outline, hidden = new Set()) {
  const { width: w, height: h, data, region } = frame;
  if (canvas.width !== w || canvas.height !== h) {
    canvas.width = w;
    canvas.height = h;
  }
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, w, h);
  if (region.width === 0 || region.height === 0) return 0;
  const pixels = ctx.createImageData(region.width, region.height);
  const out = new Uint32Array(pixels.data.buffer);
  const lut = new Uint32Array(256);
  frame.labels.forEach((id, k) => {
    if (hidden.has(id)) return;
    const [r, g, b] = rgb(colors.get(id) ?? "#ffffff");
    lut[k + 1] = (255 << 24) | (b << 16) | (g << 8) | r; // little-endian RGBA
  });
  let count = 0;
  for (let ry = 0; ry < region.height; ry++) {
    const y = region.y + ry;
    for (let rx = 0; rx < region.width; rx++) {
      const x = region.x + rx;
      const i = y * w + x;
      const v = data[i];
      if (lut[v] === 0) continue;
      count++;
      if (outline) {
        const edge = x === 0 || x === w - 1 || y === 0 || y === h - 1
          || data[i - 1] !== v || data[i + 1] !== v || data[i - w] !== v || data[i + w] !== v;
        if (!edge) continue;
      }
      out[ry * region.width + rx] = lut[v];
    }
  }
  ctx.putImageData(pixels, region.x, region.y);
  return count;
}
