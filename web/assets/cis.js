// Marks the page as able to run GOV.UK Frontend's JavaScript, then starts its components.
// A file rather than an inline script, so the Content-Security-Policy can stay at script-src 'self'.
import { initAll } from "./govuk-frontend.min.js";

document.body.classList.add("js-enabled", "govuk-frontend-supported");
initAll();
