// One WebSocket per open image: stroke state out, label maps in.
// Sends at most one request per animation frame; the server coalesces the
// rest, so a busy model only ever predicts the newest state.

import { socketUrl } from "./api.js";
import { decodeFrame } from "./overlay.js";

export class PredictionSocket {
  /**
   * @param {number} imageId
   * @param {{onReady, onFrame, onError, onState}} handlers
   */
  constructor(imageId, handlers) {
    this.imageId = imageId;
    this.handlers = handlers;
    this.seq = 0;
    this.sentAt = new Map();   // seq -> {time, labels}
    this.pending = null;       // the newest state not yet sent
    this.scheduled = false;
    this.closed = false;
    this.retry = 500;
    this.connect();
  }

  connect() {
    const ws = new WebSocket(socketUrl(`/images/${this.imageId}/ws`));
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    this.handlers.onState("connecting");
    ws.onmessage = (event) => {
      if (typeof event.data === "string") {
        const msg = JSON.parse(event.data);
        if (msg.type === "ready") {
          this.retry = 500;
          this.handlers.onState("open");
          this.handlers.onReady(msg);
          if (this.lastState) this.send(this.lastState);
        } else if (msg.type === "error") {
          this.handlers.onError(msg.message);
        }
        return;
      }
      // The last frame lends its buffer to the next one, dropped or not.
      const frame = decodeFrame(event.data, this.lastFrame);
      this.lastFrame = frame;
      const sent = this.sentAt.get(frame.seq);
      for (const seq of this.sentAt.keys()) if (seq <= frame.seq) this.sentAt.delete(seq);
      if (!sent) return;
      frame.labels = sent.labels;
      frame.roundTrip = performance.now() - sent.time;
      this.handlers.onFrame(frame);
    };
    ws.onclose = () => {
      this.handlers.onState("closed");
      if (!this.closed) {
        setTimeout(() => { if (!this.closed) this.connect(); }, this.retry);
        this.retry = Math.min(this.retry * 2, 8000);
      }
    };
  }

  /** Asks for a prediction of `state` ({labels, strokes}) soon. */
  send(state) {
    this.lastState = state;
    this.pending = state;
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => {
      this.scheduled = false;
      const state = this.pending;
      this.pending = null;
      if (!state || this.ws.readyState !== WebSocket.OPEN) return;
      const seq = ++this.seq;
      this.sentAt.set(seq, { time: performance.now(), labels: state.labels });
      this.ws.send(JSON.stringify({ seq, labels: state.labels, strokes: state.strokes }));
    });
  }

  close() {
    this.closed = true;
    this.ws.close();
  }
}
