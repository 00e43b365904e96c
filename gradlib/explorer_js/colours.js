// The cells' colours: a diverging scale centred at 0 (ColorBrewer RdBu), blue below 0, red above; on a
// light page white at 0, on a dark page a dark grey at 0. Text is black or white, whichever contrasts more.

const LIGHT = {
  negative: ["#f7f7f7", "#d1e5f0", "#92c5de", "#4393c3", "#2166ac", "#053061"],
  positive: ["#f7f7f7", "#fddbc7", "#f4a582", "#d6604d", "#b2182b", "#67001f"],
};
const DARK = {
  negative: ["#262a30", "#1d3550", "#21507e", "#2f6fae", "#4b94d0", "#92c5de"],
  positive: ["#262a30", "#4f2322", "#7a2a26", "#ad3a30", "#d6604d", "#f4a582"],
};
export const PALETTES = { light: LIGHT, dark: DARK };
const rgb = (hex) => [1, 3, 5].map((k) => parseInt(hex.slice(k, k + 2), 16));

export function colour(t, theme = "light") {  // t in [-1, 1]
  const stops = PALETTES[theme][t < 0 ? "negative" : "positive"];
  const x = Math.min(Math.abs(t), 1) * (stops.length - 1);
  const k = Math.min(Math.floor(x), stops.length - 2);
  const [a, b] = [rgb(stops[k]), rgb(stops[k + 1])];
  return a.map((v, c) => Math.round(v + (b[c] - v) * (x - k)));
}

function luminance([r, g, b]) {
  const lin = (v) => { const s = v / 255; return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4; };
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

// Black or white, whichever contrasts more (always at least 4.58:1, above WCAG AA's 4.5).
export function textColour(background) {
  const L = luminance(background);
  return (L + 0.05) / 0.05 >= 1.05 / (L + 0.05) ? "#000000" : "#ffffff";
}

// The inline style of a cell of value t (in [-1, 1]): both themes' colours as custom properties,
// explorer.css picks the page's (so a theme switch needs no redraw).
export function cellStyle(t) {
  return ["light", "dark"].map((theme) => {
    const background = colour(t, theme);
    const suffix = theme === "dark" ? "-dark" : "";
    return `--ge-bg${suffix}: rgb(${background.join(",")}); --ge-fg${suffix}: ${textColour(background)}`;
  }).join("; ");
}
