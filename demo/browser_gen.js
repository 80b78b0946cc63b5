// The Generator in the visitor's browser: a gr.HTML piece's js_on_load (element, trigger, props, server, upload,
// watch are Gradio's). props.value = {pictures: [...], pos: {...}, off: bool, asks: bool, moved?: bool} comes
// from the server (the latents, the weights' addresses; asks: this piece asks the server for the tab's pictures as
// a slider moves; moved: pos was set in the page, by a reset), and every change redraws the canvases at once.
// While a slider moves, its event's js (browser_gen.moved) hands the new positions straight to this piece (a
// "gan-move" event on its .live-layer), not through props.value: Gradio clones and watches a value it is given,
// a few milliseconds an input.
// A canvas lies over the server's picture it stands for (same pixels: the same rounding, padding and upscaling as
// gan/images.py); until its weights are in, or when they cannot be fetched, it stays hidden and the server's
// picture shows.
const PAD = 2, MIN_SIDE = 512;
const SETTLE_MS = 150; // a slider at rest this long: the server draws its picture too
const layer = element.querySelector(".live-layer");
const canvases = [];
const weights = new Map(); // address -> Promise of {raw: Float32Array | Uint16Array, half: bool}
const decoded = new Map(); // address -> Float32Array, the last few half-precision sets decoded
const wanted = new Set(); // addresses a picture waits for: their arrival redraws
let halfTable = null;
let failed = "";
let clientPos = null; // the sliders' positions as the page last set them: newer than any the server echoes
let off = false; // the server draws what the browser cannot (a steer); a slider moved here draws again
// Latents and directions decoded from their base64, by that text: kept here, not on the pictures of props.value,
// which Gradio clones and watches on every slider input (typed arrays in it made each input cost milliseconds).
const unpacked = new Map();

function halfToFloat() {
  if (halfTable) return halfTable;
  halfTable = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1, exponent = (h >> 10) & 31, fraction = h & 1023;
    halfTable[h] = exponent === 0 ? sign * fraction * 2 ** -24
      : exponent === 31 ? (fraction ? NaN : sign * Infinity)
      : sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
  }
  return halfTable;
}

function fetchWeights(address) {
  if (!weights.has(address)) {
    const half = address.endsWith(".f16");
    const loading = fetch(new URL(address, document.baseURI), { cache: "force-cache" })
      .then((response) => {
        if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
        return response.arrayBuffer();
      })
      .then((buffer) => {
        loading.done = { raw: half ? new Uint16Array(buffer) : new Float32Array(buffer), half };
        // What the page holds, for anyone measuring it: weight sets and their bytes.
        element.dataset.fetched = Number(element.dataset.fetched || 0) + 1;
        element.dataset.bytes = Number(element.dataset.bytes || 0) + buffer.byteLength;
        if (wanted.delete(address)) draw();
      });
    loading.catch((err) => {
      weights.delete(address);
      failed = `weights not fetched (${err.message || err}): the server draws`;
      element.dataset.live = "off";
      element.dataset.why = failed;
      for (const canvas of canvases) hide(canvas);
    });
    weights.set(address, loading);
  }
  return weights.get(address);
}

function ready(address) {
  // The weights as float32 if they are in, else null (and their fetch is under way).
  const entry = weights.get(address);
  if (!entry || !entry.done) {
    wanted.add(address);
    if (!entry) fetchWeights(address);
    return null;
  }
  const set = entry.done;
  if (!set.half) return set.raw;
  if (!decoded.has(address)) {
    const table = halfToFloat(), out = new Float32Array(set.raw.length);
    for (let k = 0; k < out.length; k++) out[k] = table[set.raw[k]];
    decoded.set(address, out);
    if (decoded.size > 4) decoded.delete(decoded.keys().next().value);
  }
  return decoded.get(address);
}

function floats(base64) {
  let out = unpacked.get(base64);
  if (!out) {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    out = new Float32Array(bytes.buffer);
    unpacked.set(base64, out);
    if (unpacked.size > 8) unpacked.delete(unpacked.keys().next().value);
  }
  return out;
}

function slerp(a, b, t, method) {
  const n = a.length, out = new Float64Array(n);
  let na = 0, nb = 0, dot = 0;
  for (let i = 0; i < n; i++) { na += a[i] * a[i]; nb += b[i] * b[i]; }
  na = Math.sqrt(na); nb = Math.sqrt(nb);
  for (let i = 0; i < n; i++) dot += (a[i] / na) * (b[i] / nb);
  const omega = Math.acos(Math.min(1, Math.max(-1, dot))), sin = Math.sin(omega);
  if (method !== "slerp" || Math.abs(sin) < 1e-6) {
    for (let i = 0; i < n; i++) out[i] = (1 - t) * a[i] + t * b[i];
  } else {
    const wa = Math.sin((1 - t) * omega) / sin, wb = Math.sin(t * omega) / sin;
    for (let i = 0; i < n; i++) out[i] = wa * a[i] + wb * b[i];
  }
  return out;
}

// Linear, ReLU, Linear, ReLU, Linear, Tanh for every latent of a picture; pixels as gan.images.to_uint8 rounds
// them. Each weight row is read once for all the latents (it stays in the cache), and each sum runs in the same
// order as for one latent alone, so every pixel is the same.
function generate(w, dims, zs, tiles) {
  const [latent, hidden, size] = dims, count = zs.length;
  const h1 = zs.map(() => new Float64Array(hidden)), h2 = zs.map(() => new Float64Array(hidden));
  let at = 0;
  const layer = (inputs, n, m, outs, last) => {
    const bias = at + n * m;
    for (let o = 0; o < n; o++) {
      const row = at + o * m, b = w[bias + o];
      for (let k = 0; k < count; k++) {
        const input = inputs[k];
        let sum = 0;
        for (let i = 0; i < m; i++) sum += w[row + i] * input[i];
        sum += b;
        if (!last) outs[k][o] = sum > 0 ? sum : 0;
        else {
          const v = (Math.tanh(sum) + 1) * 127.5;
          let r = Math.round(v);
          if (r - v === 0.5 && r % 2 !== 0) r -= 1; // torch.round: halves to even
          outs[k][o] = r < 0 ? 0 : r > 255 ? 255 : r;
        }
      }
    }
    at = bias + n;
  };
  layer(zs, hidden, latent, h1, false);
  layer(h1, hidden, hidden, h2, false);
  layer(h2, size, hidden, tiles, true);
}

function latentsFor(picture, pos) {
  const dim = picture.dims[0], base = floats(picture.latents);
  const count = picture.count, out = [];
  if (picture.kind === "mix") {
    out.push(slerp(base.subarray(0, dim), base.subarray(dim, 2 * dim), Number(pos.t), picture.method));
  } else if (picture.kind === "edit") {
    const directions = floats(picture.directions);
    const shift = new Float64Array(dim), s = pos.s || [];
    for (let k = 0; k * dim < directions.length; k++) {
      const strength = Math.fround(Number(s[k]) || 0);
      for (let i = 0; i < dim; i++) shift[i] += strength * directions[k * dim + i];
    }
    for (let n = 0; n < count; n++) {
      const z = new Float64Array(dim);
      for (let i = 0; i < dim; i++) z[i] = base[n * dim + i] + Math.fround(shift[i]);
      out.push(z);
    }
  } else {
    for (let n = 0; n < count; n++) out.push(base.subarray(n * dim, (n + 1) * dim));
  }
  return out;
}

function nearestEpoch(epochs, asked) {
  // Engine.nearest_epoch: the saved epoch closest to the asked one, the later one on a tie.
  let best = epochs[0];
  for (const e of epochs) {
    const d = Math.abs(e - asked), bd = Math.abs(best - asked);
    if (d < bd || (d === bd && e > best)) best = e;
  }
  return best;
}

function place(canvas, target) {
  const img = target && element.querySelector(target);
  if (!img || !img.getBoundingClientRect().width) return false;
  const r = img.getBoundingClientRect(), o = element.getBoundingClientRect();
  Object.assign(canvas.style, {
    left: `${r.left - o.left}px`, top: `${r.top - o.top}px`, width: `${r.width}px`, height: `${r.height}px`,
  });
  return true;
}

function hide(canvas) {
  canvas.dataset.drawn = "";
  canvas.key = "";
  canvas.classList.remove("on");
}

function drawPicture(k, picture, pos, off) {
  const canvas = canvases[k] || (canvases[k] = layer.appendChild(document.createElement("canvas")));
  if (!picture || off || failed) { hide(canvas); return; }
  const epochs = Object.keys(picture.weights).map(Number);
  const epoch = picture.kind === "epochs" ? nearestEpoch(epochs, Number(pos.epoch)) : epochs[0];
  const w = ready(picture.weights[epoch]);
  if (!w) { hide(canvas); return; }
  // The same picture asked again (the page re-sends a value as the server's picture underneath changes): the
  // canvas already shows it.
  const key = [picture.weights[epoch], picture.target, picture.kind, picture.method, picture.rows, picture.cols,
    picture.latents, picture.directions, JSON.stringify(pos)].join("|");
  if (canvas.dataset.drawn && canvas.key === key) {
    if (!canvas.classList.contains("on")) canvas.classList.toggle("on", place(canvas, picture.target));
    return;
  }
  canvas.key = key;
  const [rows, cols] = [picture.rows, picture.cols], side = picture.side;
  const width = cols * (side + PAD) + PAD, height = rows * (side + PAD) + PAD;
  const scale = Math.max(1, Math.ceil(MIN_SIDE / width));
  const grid = new Uint8Array(width * height), zs = latentsFor(picture, pos);
  const tiles = zs.map(() => new Uint8Array(side * side));
  generate(w, picture.dims, zs, tiles);
  tiles.forEach((tile, index) => {
    const top = PAD + Math.floor(index / cols) * (side + PAD), left = PAD + (index % cols) * (side + PAD);
    for (let y = 0; y < side; y++) grid.set(tile.subarray(y * side, (y + 1) * side), (top + y) * width + left);
  });
  if (canvas.width !== width * scale || canvas.height !== height * scale) {
    canvas.width = width * scale;
    canvas.height = height * scale;
  }
  // The grid at its own size, then upscaled nearest-neighbour by the browser (gan.images.upscale's pixels): a
  // few thousand pixels written here instead of a quarter million.
  const small = canvas.small || (canvas.small = document.createElement("canvas"));
  if (small.width !== width || small.height !== height) {
    small.width = width;
    small.height = height;
  }
  const smallContext = small.getContext("2d"), image = smallContext.createImageData(width, height);
  const data = image.data;
  for (let k = 0; k < grid.length; k++) {
    data[4 * k] = data[4 * k + 1] = data[4 * k + 2] = grid[k];
    data[4 * k + 3] = 255;
  }
  smallContext.putImageData(image, 0, 0);
  const context = canvas.getContext("2d");
  context.imageSmoothingEnabled = false;
  context.drawImage(small, 0, 0, width * scale, height * scale);
  canvas.dataset.drawn = "1";
  // Placed over its picture when it first shows; after that the observers below move it when the page does
  // (measuring the picture's box on every frame made the browser lay the page out again each time).
  if (!canvas.classList.contains("on") || canvas.dataset.target !== picture.target) {
    canvas.classList.toggle("on", place(canvas, picture.target));
    canvas.dataset.target = picture.target;
  }
  canvas.dataset.epoch = epoch;
  canvas.dataset.source = picture.weights[epoch];
  canvas.dataset.method = picture.method || "";
  canvas.dataset.pos = JSON.stringify(pos);
  canvas.dataset.frame = Number(canvas.dataset.frame || 0) + 1;
}

function markLive() {
  if (!failed) element.dataset.live = canvases.some((c) => c.classList.contains("on")) ? "on" : "waiting";
}

function draw() {
  const value = props.value || {};
  const pictures = value.pictures || [];
  const pos = clientPos || value.pos || {};
  pictures.forEach((picture, k) => drawPicture(k, picture, pos, off));
  for (let k = pictures.length; k < canvases.length; k++) hide(canvases[k]);
  markLive();
}

function prefetch() {
  // Every epoch's weights, one after the other, once the page has nothing else to do.
  const addresses = [];
  for (const picture of (props.value || {}).pictures || []) {
    if (picture) addresses.push(...Object.values(picture.weights));
  }
  const next = () => {
    const address = addresses.shift();
    if (address === undefined || failed) return;
    if (weights.has(address)) { next(); return; }
    fetchWeights(address).then(next, () => {});
  };
  (window.requestIdleCallback || ((f) => setTimeout(f, 200)))(next);
}

watch("value", () => {
  const value = props.value || {};
  off = Boolean(value.off);
  if (value.moved) clientPos = value.pos; // positions set by a js event through the value (a reset, say)
  draw();
  prefetch();
});
// A slider moved (browser_gen.moved): its positions, drawn at once. The server's picture underneath (what a
// download saves, and the caption) is asked for once the hand rests; where the browser could not draw (no weights
// yet, or none to be had, or a picture it does not draw), at once, as before the browser drew.
let settling = null;
const shown = (pictures) => pictures.length > 0
  && pictures.every((p, k) => p && canvases[k] && canvases[k].classList.contains("on"));
layer.addEventListener("gan-move", (event) => {
  clientPos = { ...(clientPos || (props.value || {}).pos || {}), ...event.detail };
  off = false;
  draw();
  clearTimeout(settling);
  const value = props.value || {};
  if (value.asks === false) return; // another piece asks the server for both (Edit's grid and digit)
  if (!shown(value.pictures || [])) trigger("input");
  else settling = setTimeout(() => trigger("input"), SETTLE_MS);
});
// The picture under a canvas moves or appears (a tab shown again, the window resized, its image loaded or put
// back by Gradio): every canvas drawn goes back over its picture, with no input needed.
const placed = new ResizeObserver(() => placeAll());
function placeAll() {
  ((props.value || {}).pictures || []).forEach((p, k) => {
    const canvas = canvases[k];
    const img = p && element.querySelector(p.target);
    if (img) placed.observe(img);  // observing an element twice is a no-op; a new <img> is observed here
    if (p && canvas && canvas.dataset.drawn) canvas.classList.toggle("on", place(canvas, p.target));
  });
  markLive();
}
placed.observe(element);
element.addEventListener("load", placeAll, true);  // an <img> loaded (load does not bubble; it is caught going down)
new MutationObserver(placeAll).observe(element, {childList: true, subtree: true});
draw();
prefetch();
