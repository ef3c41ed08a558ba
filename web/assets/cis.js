// Marks the page as able to run GOV.UK Frontend's JavaScript, then starts its components.
// A file rather than an inline script, so the Content-Security-Policy can stay at script-src 'self'.
import { initAll } from "./govuk-frontend.min.js";

document.body.classList.add("js-enabled", "govuk-frontend-supported");
initAll();

// A region marked data-cis-refresh="SECONDS" (a launch's progress) fetches its page again every few seconds and
// takes the new region's place, until the page no longer marks it (the work is done). Its aria-live region
// announces the change; without scripts, the page's own refresh link does the same.
for (const region of document.querySelectorAll("[data-cis-refresh]")) {
  const refresh = async () => {
    const response = await fetch(window.location.href, { headers: { Accept: "text/html" } });
    if (!response.ok) return;
    const fresh = new DOMParser().parseFromString(await response.text(), "text/html").getElementById(region.id);
    if (fresh === null) return;
    region.replaceChildren(...fresh.childNodes);
    if (fresh.hasAttribute("data-cis-refresh")) {
      window.setTimeout(refresh, Number(fresh.dataset.cisRefresh) * 1000);
    } else {
      region.removeAttribute("data-cis-refresh");
    }
  };
  window.setTimeout(refresh, Number(region.dataset.cisRefresh) * 1000);
}
