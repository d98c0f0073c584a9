// Runs t.js in a fake browser and prints what it did, as JSON. Used by
// script_test.go: node harness.js SCRIPT SCENARIO_JSON
"use strict";
const vm = require("vm");
const fs = require("fs");
const nodeCrypto = require("crypto");

const [scriptPath, scenarioJSON] = process.argv.slice(2);
const sc = JSON.parse(scenarioJSON);

const log = { beacons: [], fetches: [], cookieWrites: [], storageWrites: [] };
const storage = new Map(Object.entries(sc.storage || {}));
const localStorage = {
  getItem: (k) => (storage.has(k) ? storage.get(k) : null),
  setItem: (k, v) => { storage.set(k, String(v)); log.storageWrites.push(k); },
  removeItem: (k) => { storage.delete(k); },
};
const jar = new Map();
for (const pair of (sc.cookie || "").split(";")) {
  const i = pair.indexOf("=");
  if (i > 0) jar.set(pair.slice(0, i).trim(), pair.slice(i + 1).trim());
}

function input(name, value, attrs) {
  return { type: "text", name, value, attrs: attrs || {}, getAttribute(n) { return n in this.attrs ? this.attrs[n] : null; } };
}
const looseInput = input("_lc_visitor", "stale");
const markedInput = input("other", "stale", { "data-leadcycle-visitor": "" });
const form = {
  children: [],
  querySelector(sel) { return this.children.find((c) => sel.includes("'" + c.name + "'")) || null; },
  querySelectorAll() { return this.children; },
  appendChild(el) { this.children.push(el); },
};
const formsOnPage = sc.forms ? [form] : [];

const document = {
  currentScript: {
    src: "https://lc.example/t.js",
    getAttribute: (n) => (n === "data-site" && sc.site !== undefined ? sc.site : null),
  },
  referrer: "https://ref.example/",
  title: "Page title",
  readyState: "complete",
  get cookie() { return [...jar].map(([k, v]) => k + "=" + v).join("; "); },
  set cookie(v) {
    log.cookieWrites.push(v);
    const parts = v.split(";").map((s) => s.trim());
    const i = parts[0].indexOf("=");
    const k = parts[0].slice(0, i), val = parts[0].slice(i + 1);
    if (parts.some((p) => /^max-age=0$/i.test(p))) jar.delete(k); else jar.set(k, val);
  },
  getElementsByTagName: () => [],
  querySelectorAll(sel) {
    if (sel.startsWith("form")) return formsOnPage;
    return [looseInput, markedInput, ...form.children];
  },
  createElement: () => input("", ""),
  addEventListener() {},
};

const window = {
  document,
  navigator: {
    sendBeacon: (url, blob) => { log.beacons.push({ url, blob }); return true; },
    globalPrivacyControl: sc.gpc === true,
  },
  localStorage,
  location: { href: "https://www.example.com/page?x=1#frag", protocol: "https:" },
  crypto: { getRandomValues(a) { const b = nodeCrypto.randomBytes(a.length); for (let i = 0; i < a.length; i++) a[i] = b[i]; return a; } },
  fetch(url) {
    log.fetches.push(url);
    if (url.includes("/t/config")) {
      return Promise.resolve({ ok: true, json: () => Promise.resolve({ consent_implied: sc.implied === true }) });
    }
    return Promise.resolve({ ok: true, json: () => Promise.resolve({}) });
  },
  Blob,
  JSON,
};
window.window = window;
if ("consent" in sc) window.leadcycleConsent = sc.consent;
if (sc.queue) {
  const stub = function () { (stub.q = stub.q || []).push(arguments); };
  for (const call of sc.queue) stub(...call);
  window.leadcycle = stub;
}

const tick = () => new Promise((r) => setTimeout(r, 20));

(async () => {
  const ctx = vm.createContext(window);
  vm.runInContext(fs.readFileSync(scriptPath, "utf8"), ctx, { filename: "t.js" });
  await tick();
  const before = { beacons: log.beacons.length, storageWrites: log.storageWrites.length, cookieWrites: log.cookieWrites.length };
  for (const call of sc.after || []) {
    if (call[0] === "=") ctx.leadcycleConsent = call[1];
    else ctx.leadcycle(...call);
    await tick();
  }
  const beacons = [];
  for (const b of log.beacons) beacons.push({ url: b.url, type: b.blob.type, body: JSON.parse(await b.blob.text()) });
  process.stdout.write(JSON.stringify({
    before,
    beacons,
    fetches: log.fetches,
    storage: Object.fromEntries(storage),
    storageWrites: log.storageWrites,
    cookie: document.cookie,
    cookieWrites: log.cookieWrites,
    visitor: ctx.leadcycle("visitor"),
    looseInput: looseInput.value,
    markedInput: markedInput.value,
    hidden: form.children.map((c) => ({ name: c.name, type: c.type, value: c.value })),
  }));
})().catch((e) => { console.error(e && e.stack || e); process.exit(1); });
