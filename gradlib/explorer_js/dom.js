// Small DOM helpers shared by the explorer's pieces.

export function element(tag, attrs = {}, text = "") {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (text) el.textContent = text;
  return el;
}

// The attributes that name a control or cell for good (a redraw makes a new element with the same ones).
const IDENTITY = ["data-view", "data-mode", "data-action", "data-step", "data-param", "data-dim", "data-control",
  "data-array", "data-index"];

function identity(el) {
  const parts = IDENTITY.filter((a) => el.hasAttribute(a)).map((a) => `[${a}="${el.getAttribute(a)}"]`);
  return parts.length ? `${el.tagName.toLowerCase()}${parts.join("")}` : "";
}

const usable = (el) => el && el.isConnected && !el.disabled && !el.hidden && el.getClientRects().length > 0;

// Run `change` (which may redraw, disable or hide controls) keeping keyboard focus inside `root`: on the
// same control (or the one that replaced it); if that is now disabled or hidden, on `fallback(selector)`'s
// answer or the first usable control of the same group.
export function keepFocus(root, change, fallback = () => null) {
  const before = document.activeElement;
  const inside = before && root.contains(before) && before !== root;
  const selector = inside ? identity(before) : "";
  const group = inside ? before.closest("[role=group], .ge-steps, .ge-controls") : null;
  const groupName = group && (group.getAttribute("aria-label") || group.className);
  change();
  if (!inside) return;
  const now = document.activeElement;
  if (now && root.contains(now) && now !== root && usable(now)) return;
  const same = selector ? root.querySelector(selector) : null;
  const candidates = [same, same && fallback(same), selector && fallback(root.querySelector(selector))];
  const again = groupName && [...root.querySelectorAll("[role=group], .ge-steps, .ge-controls")]
    .find((g) => (g.getAttribute("aria-label") || g.className) === groupName);
  if (again) candidates.push(...again.querySelectorAll("button, select, input"));
  candidates.push(...root.querySelectorAll("button, select, input"));
  const target = candidates.find(usable);
  if (target) target.focus();
}
