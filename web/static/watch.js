// watch.js tells a signed-in person when a teacher of theirs is showing a
// run to one of their courses ("watch with me"): a banner on every page
// but that course's watch page, asked for every few seconds.
"use strict";

(function () {
  const main = document.querySelector("main");
  if (!main) return;
  let banner = null;

  async function check() {
    let list = [];
    try {
      const r = await fetch("/api/watching", { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (r.ok) list = await r.json();
    } catch (e) {
      return; // offline for a moment: ask again later
    }
    const others = (Array.isArray(list) ? list : []).filter((w) => w.url !== location.pathname);
    if (others.length === 0) {
      if (banner) banner.remove();
      banner = null;
      return;
    }
    if (!banner) {
      banner = document.createElement("p");
      banner.className = "watch-banner";
      banner.setAttribute("data-testid", "watch-banner");
      main.prepend(banner);
    }
    banner.replaceChildren();
    others.forEach((w, i) => {
      if (i > 0) banner.append(" · ");
      banner.append(`${w.by} is showing a run to ${w.name}. `);
      const a = document.createElement("a");
      a.href = w.url;
      a.textContent = "Watch it live";
      a.setAttribute("data-testid", "watch-join");
      banner.append(a);
    });
  }

  check();
  setInterval(check, 5000);
})();
