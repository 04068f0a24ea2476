// Label maps: decoding the server's run-length frames and painting them
// into an image-sized canvas, filled or as outlines.

/** Decodes a binary frame: u32 seq, ms, width, height, then (u8 value, u32 length) runs. */
export function decodeFrame(buffer) {
  const view = new DataView(buffer);
  const seq = view.getUint32(0, true);
  const millis = view.getUint32(4, true);
  const width = view.getUint32(8, true);
  const height = view.getUint32(12, true);
  const data = new Uint8Array(width * height);
  let offset = 16;
  let pos = 0;
  while (offset + 5 <= buffer.byteLength) {
    const value = view.getUint8(offset);
    const length = view.getUint32(offset + 1, true);
    if (value !== 0) data.fill(value, pos, pos + length);
    pos += length;
    offset += 5;
  }
  return { seq, millis, width, height, data };
}

function rgb(hex) {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/**
 * Paints `frame` into `canvas` (resized to the image): pixel value k+1 gets
 * the colour of `frame.labels[k]` looked up in `colors` (label id -> #rrggbb).
 * Returns the number of labelled pixels.
 */
export function paintOverlay(canvas, frame, colors, outline) {
  const { width: w, height: h, data } = frame;
  if (canvas.width !== w || canvas.height !== h) {
    canvas.width = w;
    canvas.height = h;
  }
  const ctx = canvas.getContext("2d");
  const pixels = ctx.createImageData(w, h);
  const out = new Uint32Array(pixels.data.buffer);
  const lut = new Uint32Array(256);
  frame.labels.forEach((id, k) => {
    const [r, g, b] = rgb(colors.get(id) ?? "#ffffff");
    lut[k + 1] = (255 << 24) | (b << 16) | (g << 8) | r; // little-endian RGBA
  });
  let count = 0;
  for (let y = 0; y < h; y++) {
    const row = y * w;
    for (let x = 0; x < w; x++) {
      const i = row + x;
      const v = data[i];
      if (v === 0) continue;
      count++;
      if (outline) {
        const edge = x === 0 || x === w - 1 || y === 0 || y === h - 1
          || data[i - 1] !== v || data[i + 1] !== v || data[i - w] !== v || data[i + w] !== v;
        if (!edge) continue;
      }
      out[i] = lut[v];
    }
  }
  ctx.putImageData(pixels, 0, 0);
  return count;
}
