// datalab dashboard: reads the API of the server that serves it; no library, no network
// resource from elsewhere. Views are forms of native controls (keyboard-accessible); each
// chart is an SVG drawn by the server, with its numbers in a table next to it.
"use strict";

const LANG = document.documentElement.lang === "en" ? "en" : "it";
const WORDS = {
  it: {
    home: "Inizio", explore: "Esplora", territories: "Territori", benchmark: "Confronti",
    needs: "Bisogni e offerta", services: "Servizi", reports: "Rapporti", lab: "Laboratorio",
    login: "Accedi", logout: "Esci", user: "Utente", password: "Password",
    indicator: "Indicatore", level: "Livello", period: "Periodo", breakdown: "Disaggregazione",
    total: "Totale", territory: "Territorio", value: "Valore", interval: "Intervallo",
    show: "Mostra", download: "Scarica la vista (CSV)", chart: "Andamento", map: "Mappa",
    table: "Tabella", hidden: "oscurato", rule: "regola", loading: "Caricamento…",
    intro: "Indicatori rilasciati dal laboratorio, verificati dal controllo di riservatezza: scegli un indicatore per vederne andamento, tabella e mappa.",
    topics: "Indicatori per tema", latest: "Ultimo valore", noValue: "–",
    search: "Cerca", text: "Testo", risk: "Bisogno", target: "Destinatari", zone: "Zona",
    openNow: "Aperti ora", any: "Tutti", results: "Risultati", noResults: "Nessun servizio trovato.",
    organization: "Ente", where: "Dove", year: "Anno", language: "Lingua", format: "Formato",
    open: "Apri", rank: "Posizione", reference: "Riferimento", difference: "Differenza",
    limits95: "Limiti 95%", position: "Posizione rispetto ai limiti", funnelNote: "I limiti di controllo (95% e 99,8%) dipendono dalla dimensione di ogni territorio: solo i punti fuori dai limiti differiscono dal riferimento più di quanto il caso spieghi.",
    inNeed: "Persone con bisogno", places: "Posti", operators: "Operatori", per1000: "Posti ogni 1.000",
    coverage: "Copertura", gap: "Posti mancanti", unserved: "Senza servizio vicino", yes: "sì", no: "no",
    reach: "Raggio (km)", sqlTitle: "SQL sui microdati pseudonimizzati (sola lettura)", run: "Esegui",
    gate: "Il controllo di riservatezza", released: "rilasciato", notReleased: "non rilasciato",
    waiting: "In attesa di approvazione", approve: "Approva", note: "Nota", review: "Contenuto da rivedere",
    runGate: "Esegui il controllo", users: "Account", addUser: "Nuovo account", role: "Ruolo",
    create: "Crea", audit: "Registro delle attività", verify: "Verifica la catena",
    sources: "Le fonti del tuo ente", rows: "Righe", quarantined: "In quarantena",
    loggedAs: "Accesso come", org: "Ente di appartenenza", when: "Quando", action: "Azione", target2: "Oggetto", wrong: "Errore", children: "Suddivisioni", parent: "Fa parte di",
    profile: "Profilo", truncated: "risultato troncato al limite", noNeeds: "Nessun indicatore di bisogno rilasciato.",
    above_high: "molto sopra", above: "sopra", within: "entro i limiti", below: "sotto", below_low: "molto sotto",
    footer: "datalab · dati rilasciati dopo il controllo di riservatezza · ", api: "API (OpenAPI)",
    other: "English", notFound: "Pagina non trovata.", noBoundaries: "Mappa disponibile per le zone.",
  },
  en: {
    home: "Home", explore: "Explore", territories: "Territories", benchmark: "Benchmarks",
    needs: "Needs and supply", services: "Services", reports: "Reports", lab: "Lab",
    login: "Log in", logout: "Log out", user: "User", password: "Password",
    indicator: "Indicator", level: "Level", period: "Period", breakdown: "Breakdown",
    total: "Total", territory: "Territory", value: "Value", interval: "Interval",
    show: "Show", download: "Download this view (CSV)", chart: "Trend", map: "Map",
    table: "Table", hidden: "hidden", rule: "rule", loading: "Loading…",
    intro: "Indicators released by the lab, checked for disclosure: pick an indicator to see its trend, table and map.",
    topics: "Indicators by topic", latest: "Latest value", noValue: "–",
    search: "Search", text: "Text", risk: "Need", target: "Target group", zone: "Zone",
    openNow: "Open now", any: "All", results: "Results", noResults: "No service found.",
    organization: "Provider", where: "Where", year: "Year", language: "Language", format: "Format",
    open: "Open", rank: "Rank", reference: "Reference", difference: "Difference",
    limits95: "95% limits", position: "Position against the limits", funnelNote: "Control limits (95% and 99.8%) depend on each territory's size: only points outside them differ from the reference by more than chance explains.",
    inNeed: "People in need", places: "Places", operators: "Operators", per1000: "Places per 1,000",
    coverage: "Coverage", gap: "Places missing", unserved: "No service within reach", yes: "yes", no: "no",
    reach: "Reach (km)", sqlTitle: "SQL over pseudonymized microdata (read-only)", run: "Run",
    gate: "The disclosure gate", released: "released", notReleased: "not released",
    waiting: "Waiting for approval", approve: "Approve", note: "Note", review: "Content to review",
    runGate: "Run the gate", users: "Accounts", addUser: "New account", role: "Role",
    create: "Create", audit: "Audit trail", verify: "Verify the chain",
    sources: "Your organization's sources", rows: "Rows", quarantined: "Quarantined",
    loggedAs: "Logged in as", org: "Organization", when: "When", action: "Action", target2: "Object", wrong: "Error", children: "Subdivisions", parent: "Part of",
    profile: "Profile", truncated: "result cut at the limit", noNeeds: "No need indicator released.",
    above_high: "well above", above: "above", within: "within limits", below: "below", below_low: "well below",
    footer: "datalab · data released after disclosure control · ", api: "API (OpenAPI)",
    other: "Italiano", notFound: "Page not found.", noBoundaries: "Maps are drawn for zones.",
  },
}[LANG];

const NUM = new Intl.NumberFormat(LANG === "it" ? "it-IT" : "en-GB", { maximumFractionDigits: 2 });
const state = { session: null, indicators: null, territories: null, codes: null };

// ------------------------------------------------------------------------------------------
// DOM and API helpers

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "on") for (const [ev, f] of Object.entries(v)) e.addEventListener(ev, f);
    else if (k === "class") e.className = v;
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function api(path, options = {}) {
  const headers = { Accept: "application/json" };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  if (options.method && options.method !== "GET" && state.session && state.session.csrf) {
    headers["X-CSRF-Token"] = state.session.csrf;
  }
  const r = await fetch(path, {
    method: options.method || "GET",
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    credentials: "same-origin",
  });
  if (r.status === 204) return null;
  const ct = r.headers.get("content-type") || "";
  const body = ct.includes("json") ? await r.json() : await r.text();
  if (!r.ok) throw new ApiError(r.status, body && body.error ? body.error.message : String(body));
  return body;
}

async function svgInto(figure, url) {
  figure.replaceChildren(el("p", { class: "note" }, WORDS.loading));
  try {
    const r = await fetch(url, { credentials: "same-origin" });
    const text = await r.text();
    if (!r.ok) {
      let msg = text;
      try { msg = JSON.parse(text).error.message; } catch (_) { /* not JSON */ }
      figure.replaceChildren(el("p", { class: "note" }, msg));
      return;
    }
    // The SVG is drawn by this server from released values, with every text escaped.
    const doc = new DOMParser().parseFromString(text, "image/svg+xml");
    figure.replaceChildren(document.importNode(doc.documentElement, true));
  } catch (e) {
    figure.replaceChildren(el("p", { class: "error" }, String(e.message || e)));
  }
}

function num(v, decimals) {
  if (v === null || v === undefined) return WORDS.noValue;
  if (decimals === undefined) return NUM.format(v);
  return v.toLocaleString(LANG === "it" ? "it-IT" : "en-GB", { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}
// The decimals a column of released values is published with (at most 2), so that 27 and
// 24.95 print as 27.00 and 24.95.
function decimalsOf(values) {
  let d = 0;
  for (const v of values) {
    if (v === null || v === undefined) continue;
    const s = String(v);
    const i = s.indexOf(".");
    if (i >= 0) d = Math.max(d, Math.min(2, s.length - i - 1));
  }
  return d;
}
function name(ind) { return LANG === "it" ? ind.name_it : (ind.name_en || ind.name_it); }
function unit(ind) { return LANG === "it" ? ind.unit_it : (ind.unit_en || ind.unit_it); }
function qs(params) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== "") p.set(k, v);
  return p.toString();
}
function go(route, params) { location.hash = "#/" + route + (params && qs(params) ? "?" + qs(params) : ""); }

function valueCell(row, decimals) {
  if (row.value === null || row.value === undefined) {
    return el("td", { class: "num hidden-cell" },
      el("abbr", { title: `${WORDS.hidden}${row.rule ? " (" + WORDS.rule + ": " + row.rule + ")" : ""}` }, WORDS.noValue));
  }
  return el("td", { class: "num" }, el("data", { value: String(row.value) }, num(row.value, decimals)));
}

function table(caption, head, rows) {
  return el("div", { class: "scroll" }, el("table", {},
    el("caption", {}, caption),
    el("thead", {}, el("tr", {}, head.map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, rows)));
}

function select(label, nameAttr, options, value) {
  return el("label", {}, label,
    el("select", { name: nameAttr },
      options.map(([v, text]) => el("option", { value: v, selected: v === value }, text))));
}

function formOf(fields, onSubmit, submitText) {
  const f = el("form", { class: "controls" }, fields, el("button", { type: "submit" }, submitText || WORDS.show));
  f.addEventListener("submit", (ev) => { ev.preventDefault(); onSubmit(Object.fromEntries(new FormData(f))); });
  // Choosing in a list shows at once; the button stays for keyboard users who tab through.
  f.addEventListener("change", (ev) => { if (ev.target.tagName === "SELECT") f.requestSubmit(); });
  return f;
}

function fail(view, e) {
  view.append(el("p", { class: "error", role: "alert" }, `${WORDS.wrong}: ${e.message || e}`));
}

// ------------------------------------------------------------------------------------------
// data shared by views

async function indicators() {
  if (!state.indicators) state.indicators = await api("/api/indicators");
  return state.indicators;
}
async function territories() {
  if (!state.territories) state.territories = await api("/api/territories");
  return state.territories;
}

// ------------------------------------------------------------------------------------------
// views

async function home(view) {
  const inds = await indicators();
  view.append(el("h1", {}, WORDS.home), el("p", {}, WORDS.intro), el("h2", {}, WORDS.topics));
  const byTopic = new Map();
  for (const i of inds) {
    const t = i.topics[0] || "altro";
    if (!byTopic.has(t)) byTopic.set(t, []);
    byTopic.get(t).push(i);
  }
  const list = el("ul", { class: "cards" });
  for (const [topic, items] of [...byTopic.entries()].sort()) {
    for (const i of items) {
      list.append(el("li", {},
        el("span", { class: "topic" }, topic), el("br"),
        el("a", { href: "#/explore?" + qs({ indicator: i.id }) }, name(i)),
        el("br"), el("span", { class: "note" }, `${unit(i)} · ${i.periods[0]}–${i.periods[i.periods.length - 1]}`)));
    }
  }
  view.append(list);
}

async function explore(view, params) {
  const inds = await indicators();
  if (!inds.length) { view.append(el("p", {}, WORDS.noResults)); return; }
  const ind = inds.find((i) => i.id === params.get("indicator")) || inds[0];
  const level = ind.levels.includes(params.get("level")) ? params.get("level") : ind.levels[ind.levels.length - 1];
  const period = ind.periods.includes(params.get("period")) ? params.get("period") : ind.periods[ind.periods.length - 1];
  const bys = ind.breakdowns.map((b) => b.join(","));
  const by = bys.includes(params.get("by") || "") ? (params.get("by") || "") : "";
  view.append(el("h1", {}, name(ind)));
  if (LANG === "it" ? ind.description_it : ind.description_en) {
    view.append(el("p", { class: "note" }, LANG === "it" ? ind.description_it : ind.description_en));
  }
  view.append(formOf([
    select(WORDS.indicator, "indicator", inds.map((i) => [i.id, name(i)]), ind.id),
    select(WORDS.level, "level", ind.levels.map((l) => [l, l]), level),
    select(WORDS.period, "period", ind.periods.map((p) => [p, p]), period),
    select(WORDS.breakdown, "by", bys.map((b) => [b, b === "" ? WORDS.total : b]), by),
  ], (v) => go("explore", v)));
  const query = { indicator: ind.id, level, period, by, limit: 1000 };
  const page = await api("/api/cube?" + qs(query));
  const grid = el("div", { class: "grid" });
  view.append(grid);

  // chart: the trend of the territories shown (at most 6), or of the largest territory
  const codes = [...new Set(page.rows.map((r) => r.territory))];
  const trendCodes = codes.length <= 6 ? codes : [];
  const chart = el("figure", { "aria-label": WORDS.chart });
  grid.append(el("section", { class: "panel" }, el("h2", {}, WORDS.chart), chart));
  svgInto(chart, "/charts/trend.svg?" + qs({ indicator: ind.id, territory: trendCodes.join(","), lang: LANG }));

  // table: every row of the view
  const head = [WORDS.territory];
  if (by) head.push(WORDS.breakdown);
  head.push(`${WORDS.value} (${unit(ind)})`, WORDS.interval);
  const dec = decimalsOf(page.rows.map((r) => r.value));
  const rows = page.rows.map((r) => el("tr", {},
    el("th", { scope: "row" }, el("a", { href: "#/territory?" + qs({ code: r.territory }) }, r.territory_name || r.territory)),
    by ? el("td", {}, r.breakdown) : null,
    valueCell(r, dec),
    el("td", { class: "num" }, r.lower !== null && r.upper !== null && r.value !== null ? `${num(r.lower, dec)} – ${num(r.upper, dec)}` : "")));
  grid.append(el("section", { class: "panel" }, el("h2", {}, WORDS.table),
    table(`${name(ind)}, ${period}`, head, rows),
    el("p", {}, el("a", { href: "/api/cube?" + qs({ ...query, format: "csv", limit: null }), download: `${ind.id}.csv` }, WORDS.download))));

  // map or bars
  const finest = (await territories()).levels.slice(-1)[0];
  const map = el("figure", { "aria-label": WORDS.map });
  grid.append(el("section", { class: "panel" }, el("h2", {}, WORDS.map), map));
  if (level === finest && !by) svgInto(map, "/charts/map.svg?" + qs({ indicator: ind.id, period, lang: LANG }));
  else if (!by) svgInto(map, "/charts/bars.svg?" + qs({ indicator: ind.id, level, period, lang: LANG }));
  else map.append(el("p", { class: "note" }, WORDS.noBoundaries));
}

async function territoryList(view) {
  const t = await territories();
  view.append(el("h1", {}, WORDS.territories));
  for (const level of t.levels) {
    const items = t.territories.filter((x) => x.level === level);
    view.append(el("h2", {}, `${level} (${items.length})`),
      el("ul", {}, items.map((x) => el("li", {}, el("a", { href: "#/territory?" + qs({ code: x.code }) }, x.name)))));
  }
}

async function territory(view, params) {
  const t = await territories();
  const me = t.territories.find((x) => x.code === params.get("code"));
  if (!me) { view.append(el("p", {}, WORDS.notFound)); return; }
  const parent = t.territories.find((x) => x.code === me.parent && t.levels.indexOf(x.level) === t.levels.indexOf(me.level) - 1);
  view.append(el("h1", {}, `${WORDS.profile}: ${me.name}`),
    el("p", { class: "note" }, `${me.level} · ${me.code}`,
      parent ? [" · ", WORDS.parent, " ", el("a", { href: "#/territory?" + qs({ code: parent.code }) }, parent.name)] : ""));
  const inds = await indicators();
  const rows = [];
  for (const ind of inds.filter((i) => i.levels.includes(me.level))) {
    const last = ind.periods[ind.periods.length - 1];
    const page = await api("/api/cube?" + qs({ indicator: ind.id, level: me.level, territory: me.code, period: last }));
    const r = page.rows[0];
    if (!r) continue;
    rows.push(el("tr", {},
      el("th", { scope: "row" }, el("a", { href: "#/explore?" + qs({ indicator: ind.id, level: me.level, period: last }) }, name(ind))),
      el("td", {}, unit(ind)), el("td", {}, last), valueCell(r)));
  }
  view.append(table(`${WORDS.latest}: ${me.name}`, [WORDS.indicator, "", WORDS.period, WORDS.value], rows));
  const children = t.territories.filter((x) => x.parent === me.code && t.levels.indexOf(x.level) === t.levels.indexOf(me.level) + 1);
  if (children.length) {
    view.append(el("h2", {}, WORDS.children),
      el("ul", {}, children.map((c) => el("li", {}, el("a", { href: "#/territory?" + qs({ code: c.code }) }, c.name)))));
  }
}

async function benchmark(view, params) {
  const inds = (await indicators()).filter((i) => i.has_denominator && i.levels.length > 1);
  view.append(el("h1", {}, WORDS.benchmark));
  if (!inds.length) { view.append(el("p", {}, WORDS.noResults)); return; }
  const ind = inds.find((i) => i.id === params.get("indicator")) || inds[0];
  const levels = ind.levels.slice(1);
  const level = levels.includes(params.get("level")) ? params.get("level") : levels[0];
  const period = ind.periods.includes(params.get("period")) ? params.get("period") : ind.periods[ind.periods.length - 1];
  view.append(formOf([
    select(WORDS.indicator, "indicator", inds.map((i) => [i.id, name(i)]), ind.id),
    select(WORDS.level, "level", levels.map((l) => [l, l]), level),
    select(WORDS.period, "period", ind.periods.map((p) => [p, p]), period),
  ], (v) => go("benchmark", v)));
  view.append(el("p", { class: "note" }, WORDS.funnelNote));
  const grid = el("div", { class: "grid" });
  view.append(grid);
  const fig = el("figure", { "aria-label": WORDS.benchmark });
  grid.append(el("section", { class: "panel" }, fig));
  svgInto(fig, "/charts/funnel.svg?" + qs({ indicator: ind.id, level, period, lang: LANG }));
  const b = await api("/api/benchmark?" + qs({ indicator: ind.id, level, period }));
  const rows = b.rows.map((r) => el("tr", {},
    el("th", { scope: "row" }, r.name),
    el("td", { class: "num" }, num(r.value)), el("td", { class: "num" }, num(r.reference_value)),
    el("td", { class: "num" }, num(r.difference)),
    el("td", { class: "num" }, `${num(r.lower95)} – ${num(r.upper95)}`),
    el("td", { class: "flag-" + r.flag }, WORDS[r.flag] || r.flag),
    el("td", { class: "num" }, r.rank)));
  grid.append(el("section", { class: "panel" }, table(`${name(ind)}, ${b.period}`,
    [WORDS.territory, WORDS.value, WORDS.reference, WORDS.difference, WORDS.limits95, WORDS.position, WORDS.rank], rows)));
}

async function needs(view, params) {
  const inds = (await indicators()).filter((i) => i.need);
  view.append(el("h1", {}, WORDS.needs));
  if (!inds.length) { view.append(el("p", {}, WORDS.noNeeds)); return; }
  const ind = inds.find((i) => i.id === params.get("indicator")) || inds[0];
  const reach = params.get("reach_km") || "0";
  view.append(formOf([
    select(WORDS.indicator, "indicator", inds.map((i) => [i.id, name(i)]), ind.id),
    el("label", {}, WORDS.reach, el("input", { type: "number", name: "reach_km", min: "0", max: "100", step: "0.5", value: reach })),
  ], (v) => go("needs", v)));
  const grid = el("div", { class: "grid" });
  view.append(grid);
  const fig = el("figure", { "aria-label": WORDS.map });
  grid.append(el("section", { class: "panel" }, fig));
  svgInto(fig, "/charts/needs.svg?" + qs({ indicator: ind.id, reach_km: reach, lang: LANG }));
  const n = await api("/api/needs?" + qs({ indicator: ind.id, reach_km: reach }));
  const rows = n.rows.map((r) => el("tr", {},
    el("th", { scope: "row" }, r.name || r.zone),
    el("td", { class: "num" }, num(r.in_need)), el("td", { class: "num" }, num(r.places)),
    el("td", { class: "num" }, num(r.operators)), el("td", { class: "num" }, num(r.places_per_1000)),
    el("td", { class: "num" }, num(r.gap)), el("td", {}, r.unserved ? WORDS.yes : WORDS.no)));
  grid.append(el("section", { class: "panel" }, table(`${name(ind)}, ${n.period}`,
    [WORDS.zone, WORDS.inNeed, WORDS.places, WORDS.operators, WORDS.per1000, WORDS.gap, WORDS.unserved], rows)));
}

async function services(view, params) {
  const t = await territories();
  const zones = t.territories.filter((x) => x.level === t.levels[t.levels.length - 1]);
  const q = { q: params.get("q") || "", risk: params.get("risk") || "", target: params.get("target") || "",
    zone: params.get("zone") || "", open_now: params.get("open_now") === "true" ? "true" : "" };
  view.append(el("h1", {}, WORDS.services));
  if (!state.codes) state.codes = await api("/api/codes");
  const label = (c) => [c.code, LANG === "it" ? c.label_it : c.label_en];
  const f = formOf([
    el("label", {}, WORDS.text, el("input", { type: "search", name: "q", value: q.q })),
    select(WORDS.risk, "risk", [["", WORDS.any], ...state.codes.risks.map(label)], q.risk),
    select(WORDS.target, "target", [["", WORDS.any], ...state.codes.target_groups.map(label)], q.target),
    select(WORDS.zone, "zone", [["", WORDS.any], ...zones.map((z) => [z.code, z.name])], q.zone),
    el("label", {}, WORDS.openNow, el("input", { type: "checkbox", name: "open_now", value: "true", checked: q.open_now === "true" })),
  ], (v) => go("services", v), WORDS.search);
  view.append(f);
  const grid = el("div", { class: "grid" });
  view.append(grid);
  const res = await api("/api/services?" + qs({ ...q, limit: 50 }));
  const fig = el("figure", { "aria-label": WORDS.map });
  grid.append(el("section", { class: "panel" }, fig));
  svgInto(fig, "/charts/services.svg?" + qs({ ...q, limit: 50, lang: LANG }));
  const list = res.hits.length
    ? el("ol", { class: "hits" }, res.hits.map((h) => el("li", {},
        el("a", { href: "#/service?" + qs({ id: h.service_id }) }, h.name), el("br"),
        el("span", { class: "note" }, `${h.organization}${h.zone ? " · " + h.zone : ""}`))))
    : el("p", {}, WORDS.noResults);
  grid.append(el("section", { class: "panel", "aria-live": "polite" }, el("h2", {}, `${WORDS.results} (${res.hits.length})`), list));
}

async function service(view, params) {
  const s = await api("/api/services/" + encodeURIComponent(params.get("id") || ""));
  if (!state.codes) state.codes = await api("/api/codes");
  const labels = (list, codes) => codes.map((c) => {
    const found = list.find((x) => x.code === c);
    return found ? (LANG === "it" ? found.label_it : found.label_en) : c;
  }).join(", ");
  view.append(el("h1", {}, s.name), el("p", {}, el("strong", {}, s.organization)));
  if (s.description) view.append(el("p", {}, s.description));
  const facts = [
    [WORDS.risk, labels(state.codes.risks, s.risks)], [WORDS.target, labels(state.codes.target_groups, s.target_groups)],
    [WORDS.where, s.locations.map((l) => [l.name, l.address, l.zone].filter(Boolean).join(", ")).join("; ")],
  ];
  view.append(el("dl", {}, facts.map(([k, v]) => [el("dt", {}, k), el("dd", {}, v || WORDS.noValue)])));
  if (s.url) view.append(el("p", {}, el("a", { href: s.url, rel: "noopener" }, s.url)));
}

async function reports(view) {
  const list = await api("/api/reports");
  const years = new Set();
  for (const i of await indicators()) for (const p of i.periods) years.add(p.slice(0, 4));
  const year = [...years].sort().pop() || String(new Date().getFullYear() - 1);
  view.append(el("h1", {}, WORDS.reports));
  const t = await territories();
  const districts = t.territories.filter((x) => x.level === t.levels[Math.max(0, t.levels.length - 2)]);
  const items = list.map((r) => {
    const base = { year, lang: LANG };
    const links = (extra) => [
      el("a", { href: `/api/reports/${r.name}?` + qs({ ...base, ...extra, format: "html" }) }, "HTML"), " · ",
      el("a", { href: `/api/reports/${r.name}?` + qs({ ...base, ...extra, format: "pdf" }) }, "PDF")];
    const title = LANG === "it" ? r.title_it : r.title_en;
    if (r.needs_territory) {
      return el("li", {}, title, el("ul", {}, districts.map((d) => el("li", {}, `${d.name}: `, links({ territory: d.code })))));
    }
    return el("li", {}, `${title} (${year}): `, links({}));
  });
  view.append(el("ul", {}, items));
}

async function login(view) {
  view.append(el("h1", {}, WORDS.login));
  const msg = el("p", { role: "alert" });
  const f = el("form", { class: "controls" },
    el("label", {}, WORDS.user, el("input", { type: "text", name: "name", autocomplete: "username", required: true })),
    el("label", {}, WORDS.password, el("input", { type: "password", name: "password", autocomplete: "current-password", required: true })),
    el("button", { type: "submit" }, WORDS.login));
  f.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const v = Object.fromEntries(new FormData(f));
    try {
      state.session = await api("/api/login", { method: "POST", body: v });
      state.indicators = null;
      renderAccount();
      go("lab");
    } catch (e) {
      msg.className = "error";
      msg.textContent = e.message;
    }
  });
  view.append(f, msg);
}

async function lab(view) {
  const s = state.session;
  if (!s || s.role === "public") { go("login"); return; }
  view.append(el("h1", {}, WORDS.lab), el("p", { class: "note" }, `${WORDS.loggedAs} ${s.name} (${s.role})`));
  if (s.role === "analyst") view.append(sqlConsole());
  if (s.role === "analyst" || s.role === "checker") view.append(await gatePanel(s.role));
  if (s.role === "admin") view.append(await usersPanel(), await auditPanel());
  if (s.role === "partner") view.append(await sourcesPanel());
}

function sqlConsole() {
  const out = el("div", { "aria-live": "polite" });
  const area = el("textarea", { name: "sql", "aria-label": "SQL", spellcheck: "false" }, "SELECT zone, count(*) AS people\nFROM residents\nGROUP BY zone\nORDER BY zone");
  const f = el("form", {}, area, el("p", {}, el("button", { type: "submit" }, WORDS.run)));
  f.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    out.replaceChildren();
    try {
      const r = await api("/api/sql", { method: "POST", body: { sql: area.value, limit: 500 } });
      out.append(table(`${r.rows.length} ${WORDS.rows}${r.truncated ? " (" + WORDS.truncated + ")" : ""}`, r.columns,
        r.rows.map((row) => el("tr", {}, r.columns.map((c) => el("td", {}, row[c] === null || row[c] === undefined ? "" : String(row[c])))))));
    } catch (e) { fail(out, e); }
  });
  return el("section", { class: "panel" }, el("h2", {}, WORDS.sqlTitle), f, out);
}

async function gatePanel(role) {
  const panel = el("section", { class: "panel" }, el("h2", {}, WORDS.gate));
  const list = await api("/api/gate");
  for (const r of list) {
    const run = el("button", { type: "button", class: "secondary" }, WORDS.runGate);
    const status = el("span", { "aria-live": "polite" });
    run.addEventListener("click", async () => {
      try {
        const o = await api(`/api/releases/${r.name}/run`, { method: "POST" });
        status.className = o.status === "released" ? "ok" : "note";
        status.textContent = o.status === "released" ? WORDS.released : `${WORDS.waiting}: ${o.pending.join(", ")}`;
      } catch (e) { status.className = "error"; status.textContent = e.message; }
    });
    const block = el("div", {}, el("h3", {}, r.name, " ",
      el("span", { class: "badge" }, r.released ? `${WORDS.released} ${r.released_at || ""}` : WORDS.notReleased)), run, " ", status);
    if (r.pending.length && role === "checker") {
      const pending = await api(`/api/releases/${r.name}/pending`);
      for (const p of pending) {
        const note = el("input", { type: "text", name: "note", "aria-label": WORDS.note });
        const result = el("span", { "aria-live": "polite" });
        const approve = el("button", { type: "button" }, `${WORDS.approve} ${p.output}`);
        approve.addEventListener("click", async () => {
          try {
            await api(`/api/releases/${r.name}/approvals`, { method: "POST", body: { output: p.output, note: note.value || null } });
            result.className = "ok"; result.textContent = "✓";
          } catch (e) { result.className = "error"; result.textContent = e.message; }
        });
        block.append(el("h4", {}, `${WORDS.waiting}: ${p.output}`), el("p", { class: "note" }, p.reason),
          el("details", {}, el("summary", {}, WORDS.review), el("pre", { class: "sql" }, p.content)),
          el("p", {}, el("label", {}, `${WORDS.note} `, note), " ", approve, " ", result));
      }
    } else if (r.pending.length) {
      block.append(el("p", { class: "note" }, `${WORDS.waiting}: ${r.pending.map((p) => p.output).join(", ")}`));
    }
    panel.append(block);
  }
  return panel;
}

async function usersPanel() {
  const panel = el("section", { class: "panel" }, el("h2", {}, WORDS.users));
  const users = await api("/api/users");
  panel.append(table(WORDS.users, [WORDS.user, WORDS.role, WORDS.org, ""],
    users.map((u) => el("tr", {}, el("th", { scope: "row" }, u.name), el("td", {}, u.role), el("td", {}, u.organization || ""), el("td", {}, u.disabled ? "disabled" : "")))));
  const msg = el("p", { "aria-live": "polite" });
  const f = el("form", { class: "controls" },
    el("label", {}, WORDS.user, el("input", { type: "text", name: "name", required: true })),
    select(WORDS.role, "role", ["analyst", "checker", "partner", "admin"].map((r) => [r, r]), "analyst"),
    el("label", {}, WORDS.org, el("input", { type: "text", name: "organization" })),
    el("label", {}, WORDS.password, el("input", { type: "password", name: "password", autocomplete: "new-password", minlength: "12", required: true })),
    el("button", { type: "submit" }, WORDS.create));
  f.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const v = Object.fromEntries(new FormData(f));
    if (!v.organization) delete v.organization;
    try { await api("/api/users", { method: "POST", body: v }); render(); }
    catch (e) { msg.className = "error"; msg.textContent = e.message; }
  });
  panel.append(el("h3", {}, WORDS.addUser), f, msg);
  return panel;
}

async function auditPanel() {
  const panel = el("section", { class: "panel" }, el("h2", {}, WORDS.audit));
  const entries = await api("/api/audit?limit=1000");
  const last = entries.slice(-50).reverse();
  const status = el("span", { "aria-live": "polite" });
  const verify = el("button", { type: "button", class: "secondary" }, WORDS.verify);
  verify.addEventListener("click", async () => {
    try { const v = await api("/api/audit/verify"); status.className = "ok"; status.textContent = `✓ ${v.entries}`; }
    catch (e) { status.className = "error"; status.textContent = e.message; }
  });
  panel.append(el("p", {}, verify, " ", status),
    table(WORDS.audit, ["#", WORDS.when, WORDS.user, WORDS.role, WORDS.action, WORDS.target2],
      last.map((e) => el("tr", {}, el("td", { class: "num" }, e.seq), el("td", {}, e.at), el("td", {}, e.actor),
        el("td", {}, e.role), el("td", {}, e.action), el("td", {}, e.target)))));
  return panel;
}

async function sourcesPanel() {
  const list = await api("/api/sources");
  return el("section", { class: "panel" }, el("h2", {}, WORDS.sources),
    table(WORDS.sources, [WORDS.indicator, WORDS.rows, WORDS.quarantined, ""],
      list.map((s) => el("tr", {}, el("th", { scope: "row" }, s.title || s.name),
        el("td", { class: "num" }, num(s.rows)), el("td", { class: "num" }, num(s.quarantined)), el("td", {}, s.built_at || "")))));
}

// ------------------------------------------------------------------------------------------
// routing, navigation, account

const ROUTES = {
  "": [home, "home"], explore: [explore, "explore"], territories: [territoryList, "territories"],
  territory: [territory, "territories"], benchmark: [benchmark, "benchmark"], needs: [needs, "needs"],
  services: [services, "services"], service: [service, "services"], reports: [reports, "reports"],
  login: [login, "login"], lab: [lab, "lab"],
};

function renderNav(current) {
  const items = ["", "explore", "territories", "benchmark", "needs", "services", "reports"];
  if (state.session && state.session.role !== "public") items.push("lab");
  const nav = document.getElementById("nav");
  nav.replaceChildren(el("ul", {}, items.map((r) => el("li", {},
    el("a", { href: "#/" + r, "aria-current": ROUTES[r][1] === current ? "page" : null }, WORDS[ROUTES[r][1]])))));
}

function renderAccount() {
  const box = document.getElementById("account");
  const other = LANG === "it" ? "en" : "it";
  const parts = [el("a", { href: `/${other}/${location.hash}`, lang: other, hreflang: other }, WORDS.other)];
  if (state.session && state.session.role !== "public") {
    const out = el("button", { type: "button", class: "secondary" }, WORDS.logout);
    out.addEventListener("click", async () => {
      await api("/api/logout", { method: "POST" });
      state.session = { name: "public", role: "public" };
      state.indicators = null;
      renderAccount();
      go("");
    });
    parts.push(el("span", {}, `${state.session.name} (${state.session.role})`), out);
  } else {
    parts.push(el("a", { href: "#/login" }, WORDS.login));
  }
  box.replaceChildren(...parts);
}

let rendering = 0;
async function render() {
  const mine = ++rendering;
  document.body.dataset.ready = "false";
  const hash = location.hash.replace(/^#\/?/, "");
  const [path, query] = hash.split("?");
  const [view, key] = ROUTES[path] || [null, null];
  const main = document.getElementById("view");
  const fresh = el("div");
  renderNav(key);
  try {
    if (!view) fresh.append(el("p", {}, WORDS.notFound));
    else await view(fresh, new URLSearchParams(query || ""));
  } catch (e) {
    if (e.status === 401) { state.session = { name: "public", role: "public" }; renderAccount(); }
    fail(fresh, e);
  }
  if (mine !== rendering) return;
  main.replaceChildren(fresh);
  document.title = `${(fresh.querySelector("h1") || {}).textContent || "datalab"} · ${document.getElementById("site-title").textContent}`;
  if (location.hash) main.focus({ preventScroll: false });
  document.body.dataset.ready = "true";
}

async function start() {
  try { state.session = await api("/api/session"); } catch (_) { state.session = { name: "public", role: "public" }; }
  renderAccount();
  document.getElementById("footer").append(WORDS.footer, el("a", { href: "/api/openapi.json" }, WORDS.api));
  window.addEventListener("hashchange", render);
  await render();
}

start();
