/*! leadcycle website tracking. Include with
 *   <script src="https://LEADCYCLE/t.js" data-site="SITE_KEY" async></script>
 * It tracks a visitor only with consent: the page sets
 * window.leadcycleConsent = true or calls leadcycle('consent', true), or the
 * site's owner declared consent implied (consent_implied) and the browser does
 * not send Global Privacy Control. Without consent it sends nothing and stores
 * nothing. leadcycle('consent', false) stops tracking and forgets the visitor.
 *
 * API: leadcycle('consent', true|false); leadcycle('visitor') returns the
 * visitor id ("" without consent), leadcycle('visitor', fn) passes it to fn;
 * leadcycle('pageview') sends a page view (single-page applications);
 * leadcycle('fill') fills the visitor id into forms. Calls made before the
 * script loads are queued by the usual stub:
 *   window.leadcycle = window.leadcycle || function () { (leadcycle.q = leadcycle.q || []).push(arguments); };
 * Forms: inputs named _lc_visitor or marked data-leadcycle-visitor receive
 * the visitor id, and forms marked data-leadcycle-visitor get a hidden
 * _lc_visitor input, so that a submission links the visits to the contact.
 */
(function (w, d) {
  "use strict";
  if (w.__leadcycleTracking) return;

  var script = d.currentScript;
  if (!script) {
    var tags = d.getElementsByTagName("script");
    for (var t = tags.length - 1; t >= 0; t--) {
      if (/\/t\.js(\?|#|$)/.test(tags[t].src || "")) { script = tags[t]; break; }
    }
  }
  if (!script) return;
  w.__leadcycleTracking = true;

  var site = script.getAttribute("data-site") || "";
  var src = script.src || "";
  var base = src.slice(0, src.lastIndexOf("/t.js"));
  var KEY = "lc_vid";
  var FIELD = "_lc_visitor";
  var MAX_AGE = 34128000; // 395 days, about 13 months
  var ID_RE = /^[0-9a-f]{32}$/;

  var consent = null;  // true or false once the page says; null until then
  var implied = false; // the site owner's setting, asked from the server
  var vid = "";
  var started = false;
  var lastURL = "";

  // The consent gate: every send and every write goes through allowed().
  function gpc() { return !!(w.navigator && w.navigator.globalPrivacyControl === true); }
  function allowed() { return consent === true || (consent === null && implied && !gpc()); }

  function readID() {
    var v = "";
    try { v = w.localStorage.getItem(KEY) || ""; } catch (e) {}
    if (!ID_RE.test(v)) {
      var m = /(?:^|;\s*)lc_vid=([0-9a-f]{32})(?:;|$)/.exec(d.cookie || "");
      v = m ? m[1] : "";
    }
    return v;
  }

  function newID() {
    var c = w.crypto || w.msCrypto;
    if (!c || !c.getRandomValues) return "";
    var b = new Uint8Array(16), s = "";
    c.getRandomValues(b);
    for (var i = 0; i < b.length; i++) s += (b[i] < 16 ? "0" : "") + b[i].toString(16);
    return s;
  }

  function keep(v) {
    try { w.localStorage.setItem(KEY, v); } catch (e) {}
    var secure = w.location && w.location.protocol === "https:" ? "; Secure" : "";
    d.cookie = KEY + "=" + v + "; Max-Age=" + MAX_AGE + "; Path=/; SameSite=Lax" + secure;
  }

  function forget() {
    var had = vid || readID();
    vid = "";
    try { w.localStorage.removeItem(KEY); } catch (e) {}
    if (had) d.cookie = KEY + "=; Max-Age=0; Path=/; SameSite=Lax";
  }

  // visitor returns the visitor id, making and keeping one only with consent.
  function visitor() {
    if (!allowed()) return "";
    if (!vid) {
      vid = readID() || newID();
      if (vid) keep(vid);
    }
    return vid;
  }

  function fill(root) {
    var v = allowed() ? visitor() : "";
    var scope = root && root.querySelectorAll ? root : d;
    var forms = scope.querySelectorAll("form[data-leadcycle-visitor]");
    for (var i = 0; i < forms.length; i++) {
      if (v && !forms[i].querySelector("input[name='" + FIELD + "']")) {
        var input = d.createElement("input");
        input.type = "hidden";
        input.name = FIELD;
        forms[i].appendChild(input);
      }
    }
    var inputs = scope.querySelectorAll("input[name='" + FIELD + "'], input[data-leadcycle-visitor]");
    for (var j = 0; j < inputs.length; j++) inputs[j].value = v;
  }

  function send() {
    if (!allowed() || !site || !base) return;
    var id = visitor();
    if (!id) return;
    var url = String(w.location.href);
    var body = JSON.stringify({
      site: site, visitor_id: id, url: url, referrer: lastURL || d.referrer || "",
      title: String(d.title || "").slice(0, 300), consent: consent === true
    });
    lastURL = url;
    var endpoint = base + "/t/collect";
    try {
      if (w.navigator.sendBeacon && w.navigator.sendBeacon(endpoint, new Blob([body], { type: "text/plain" }))) return;
    } catch (e) {}
    if (w.fetch) {
      w.fetch(endpoint, { method: "POST", body: body, keepalive: true, credentials: "omit", headers: { "Content-Type": "text/plain" } })
        .catch(function () {});
    }
  }

  function start() {
    if (started || !allowed()) return;
    started = true;
    fill();
    send();
  }

  function setConsent(v) {
    if (v === true || v === "granted") {
      consent = true;
      start();
      fill();
    } else if (v === false || v === "denied") {
      consent = false;
      started = false;
      forget();
      fill();
    }
  }

  // Ask whether the site's owner declared consent implied; only when the
  // page has not decided, and without any visitor data.
  function askSite() {
    if (consent !== null || !site || !base || !w.fetch) return;
    w.fetch(base + "/t/config?site=" + encodeURIComponent(site), { credentials: "omit" })
      .then(function (r) { return r.ok ? r.json() : {}; })
      .then(function (cfg) {
        implied = !!(cfg && cfg.consent_implied === true);
        start();
      })
      .catch(function () {});
  }

  function api(cmd, arg) {
    switch (cmd) {
      case "consent": setConsent(arg); return;
      case "visitor":
        var v = visitor();
        if (typeof arg === "function") arg(v);
        return v;
      case "pageview": if (allowed()) { started = true; send(); } return;
      case "fill": fill(arg); return;
    }
  }

  var queue = (w.leadcycle && w.leadcycle.q) || [];
  var initial = w.leadcycleConsent;
  w.leadcycle = api;
  try {
    Object.defineProperty(w, "leadcycleConsent", {
      configurable: true,
      get: function () { return consent; },
      set: function (v) { setConsent(v); }
    });
  } catch (e) {}

  if (initial === true || initial === false) setConsent(initial);
  for (var q = 0; q < queue.length; q++) api.apply(null, queue[q]);
  askSite();

  // Fill forms added later, right before they are submitted.
  d.addEventListener("submit", function (e) {
    if (allowed() && e && e.target) fill(e.target.parentNode || d);
  }, true);
  if (d.readyState === "loading") {
    d.addEventListener("DOMContentLoaded", function () { fill(); });
  } else {
    fill();
  }
})(window, document);
