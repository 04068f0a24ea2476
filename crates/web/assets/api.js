// The JSON API (see crates/web/API.md). When the server has a token the page
// was opened with ?token=…; the server then sets a cookie, and the token is
// also kept here for the WebSocket URL. Every request carries `X-Scribseg`,
// which the server asks of writes without a JSON body: another site's page
// cannot send it. `X-Scribseg-Client` names the tab for undo (below).

const token = new URLSearchParams(location.search).get("token");

// This tab's name in the undo history: each tab undoes its own strokes, not
// those another tab or person draws on the same image. Kept for the tab's
// life, reloads included.
// (getRandomValues, unlike randomUUID, works on plain http off loopback too.)
const client = sessionStorage.getItem("scribseg.client")
  ?? Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
sessionStorage.setItem("scribseg.client", client);

/** An API failure carrying the server's message. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** Calls `/api${path}`; `body` is sent as JSON unless it is a Blob. */
export async function api(path, { method = "GET", body } = {}) {
  const headers = { "X-Scribseg": "1", "X-Scribseg-Client": client };
  if (token) headers.Authorization = `Bearer ${token}`;
  let payload;
  if (body instanceof Blob) {
    payload = body;
  } else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(`/api${path}`, { method, headers, body: payload });
  } catch (err) {
    throw new ApiError(0, `the server cannot be reached (${err.message})`);
  }
  if (response.status === 204) return null;
  const text = await response.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  if (!response.ok) {
    throw new ApiError(response.status, json?.error ?? `${response.status} ${response.statusText}`);
  }
  return json;
}

/** The URL of an API resource to use in links and <img>. */
export function apiUrl(path) {
  return `/api${path}`;
}

/** The WebSocket URL of an API path. */
export function socketUrl(path) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const query = token ? `?token=${encodeURIComponent(token)}` : "";
  return `${scheme}://${location.host}/api${path}${query}`;
}
