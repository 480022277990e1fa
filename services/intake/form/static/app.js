// Seinpost phone form: enrolment, an outbox in IndexedDB, and sending that survives a lost
// connection. Delivery rule: a signal is written to the outbox (committed) before it is sent,
// and every retry sends the very same body with the same signal_id, so intake answers a retry
// with the original acceptance instead of creating a second signal.

const API = new URL("../v1/", location.href); // works behind a path prefix too
const TOKEN_KEY = "seinpost.token";
const CONFIG_KEY = "seinpost.form-config";
const CHOICES_KEY = "seinpost.laatste-keuzes";
const KEEP_SENT = 50; // sent entries are receipts only; keep the list short
const MAX_BACKOFF_MS = 5 * 60 * 1000;

const $ = (id) => document.getElementById(id);
const form = $("signaal");

// --- enrolment ---------------------------------------------------------------------------

function takeTokenFromUrl() {
  const params = new URLSearchParams(location.hash.slice(1));
  const token = params.get("token");
  if (token === null) return null;
  // The secret must not stay in the address bar, the history or a bookmark.
  history.replaceState(null, "", location.pathname + location.search);
  if (!/^spt_[A-Za-z0-9_-]{20,}$/.test(token)) {
    return "De inschrijvingslink is onvolledig of beschadigd. Vraag een nieuwe link.";
  }
  if (token !== localStorage.getItem(TOKEN_KEY)) {
    localStorage.setItem(TOKEN_KEY, token);
    localStorage.removeItem(CONFIG_KEY); // another organisation may have another area
  }
  return null;
}

const token = () => localStorage.getItem(TOKEN_KEY);

function showEnrolment(reason) {
  $("inschrijven").hidden = false;
  $("inschrijven-reden").textContent = reason || "";
  form.hidden = true;
  $("afmelden").hidden = !token();
}

// --- HTTP --------------------------------------------------------------------------------

function api(path, { method = "GET", body, timeoutMs = 30000 } = {}) {
  const headers = { Accept: "application/json", Authorization: `Bearer ${token()}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  return fetch(new URL(path, API), {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: "no-store",
    credentials: "omit",
    signal: AbortSignal.timeout(timeoutMs),
  });
}

async function errorBody(response) {
  try {
    const body = await response.json();
    return {
      code: body.code ?? body.error ?? `http_${response.status}`,
      message: body.message ?? `Fout ${response.status}.`,
      problems: Array.isArray(body.problems) ? body.problems : [],
    };
  } catch {
    return { code: `http_${response.status}`, message: `Fout ${response.status}.`, problems: [] };
  }
}

function retryAfterMs(response) {
  const value = response.headers.get("Retry-After");
  if (value === null) return 5000;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(1000, seconds * 1000);
  const when = Date.parse(value);
  return Number.isNaN(when) ? 5000 : Math.max(1000, when - Date.now());
}

// --- the outbox (IndexedDB) --------------------------------------------------------------

let dbPromise = null;

function db() {
  dbPromise ??= new Promise((resolve, reject) => {
    const request = indexedDB.open("seinpost", 1);
    request.onupgradeneeded = () =>
      request.result.createObjectStore("outbox", { keyPath: "signal_id" });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  return dbPromise;
}

// Resolves only when the transaction has committed: "stored on the device" means durable.
async function transact(mode, work) {
  const database = await db();
  return new Promise((resolve, reject) => {
    const transaction = database.transaction("outbox", mode);
    const request = work(transaction.objectStore("outbox"));
    transaction.oncomplete = () => resolve(request.result);
    transaction.onerror = () => reject(transaction.error);
    transaction.onabort = () => reject(transaction.error);
  });
}

const outbox = {
  put: (item) => transact("readwrite", (store) => store.put(item)),
  get: (id) => transact("readonly", (store) => store.get(id)),
  all: () => transact("readonly", (store) => store.getAll()),
  delete: (id) => transact("readwrite", (store) => store.delete(id)),
  clear: () => transact("readwrite", (store) => store.clear()),
};

// --- sending -----------------------------------------------------------------------------

let failures = 0; // consecutive transient failures, for the back-off
let retryAt = 0; // no automatic attempt before this moment (back-off or Retry-After)
let tokenRefused = false;

function backOff(ms) {
  failures += 1;
  const exponential = Math.min(MAX_BACKOFF_MS, 2000 * 2 ** (failures - 1));
  const jittered = exponential * (0.5 + Math.random() / 2);
  retryAt = Date.now() + Math.max(ms ?? 0, jittered);
}

function clock(ms) {
  return new Date(ms).toLocaleTimeString("nl-BE", { hour: "2-digit", minute: "2-digit" });
}

// One attempt for one item. Returns true when sending should pause (offline, busy, no token).
async function sendOne(item) {
  let response;
  try {
    response = await api("signals", { method: "POST", body: item.body });
  } catch {
    backOff();
    item.note = navigator.onLine
      ? `Geen antwoord van Seinpost; nieuwe poging rond ${clock(retryAt)}.`
      : "";
    await outbox.put(item);
    return true;
  }
  if (response.status === 202 || response.status === 200) {
    // 200 is intake recognising a retry of a signal it already has: that is a success too.
    const accepted = await response.json();
    failures = 0;
    retryAt = 0;
    await outbox.put({
      // The text leaves the device: no copy of what may hold personal data stays behind.
      signal_id: item.signal_id,
      state: "sent",
      created_at: item.created_at,
      summary: item.summary,
      accepted: {
        received_at: accepted.received_at,
        redactions: accepted.redactions ?? [],
        message: accepted.message ?? "",
      },
    });
    return false;
  }
  if (response.status === 503 || response.status === 429 || response.status >= 500) {
    backOff(retryAfterMs(response));
    item.note =
      response.status === 429
        ? `Even te veel meldingen na elkaar; nieuwe poging rond ${clock(retryAt)}.`
        : `Seinpost kan het signaal nu niet doorgeven; nieuwe poging rond ${clock(retryAt)}.`;
    await outbox.put(item);
    return true;
  }
  if (response.status === 401) {
    // Keep everything queued: after a new enrolment link it goes out unchanged.
    tokenRefused = true;
    const error = await errorBody(response);
    showEnrolment(`${error.message} Je meldingen blijven bewaard tot het toestel opnieuw is ingeschreven.`);
    return true;
  }
  const error = await errorBody(response);
  await outbox.put({ ...item, state: "attention", status: response.status, error, note: "" });
  return false;
}

async function flushOnce() {
  if (!token() || tokenRefused || !navigator.onLine || Date.now() < retryAt) return;
  const due = (await outbox.all())
    .filter((item) => item.state === "waiting")
    .sort((a, b) => a.created_at - b.created_at);
  for (const item of due) {
    if (await sendOne(item)) break; // the rest would meet the same closed door
  }
}

async function withLock(work) {
  // Several open tabs share one outbox; one sender at a time keeps the list tidy (a double
  // send would still be harmless: same signal_id).
  if (navigator.locks) return navigator.locks.request("seinpost-outbox", work);
  return work();
}

let running = null;
let again = false;

function flush() {
  if (running) {
    again = true;
    return running;
  }
  running = (async () => {
    do {
      again = false;
      try {
        await withLock(flushOnce);
      } catch (error) {
        console.error("outbox", error);
      }
    } while (again);
    await render();
  })().finally(() => {
    running = null;
  });
  return running;
}

// --- form configuration ------------------------------------------------------------------

let config = null;

async function loadConfig() {
  try {
    const response = await api("form-config", { timeoutMs: 15000 });
    if (response.status === 401) {
      tokenRefused = true;
      const error = await errorBody(response);
      showEnrolment(`${error.message} Vraag je coördinator een nieuwe inschrijvingslink.`);
      return false;
    }
    if (response.ok) {
      config = await response.json();
      localStorage.setItem(CONFIG_KEY, JSON.stringify(config));
      return true;
    }
  } catch {
    // offline: fall back to the copy from the last time we were online
  }
  const cached = localStorage.getItem(CONFIG_KEY);
  config = cached ? JSON.parse(cached) : null;
  return config !== null;
}

function option(select, value, label) {
  const element = document.createElement("option");
  element.value = value;
  element.textContent = label;
  select.append(element);
}

function fillSelect(id, items, placeholder) {
  const select = $(id);
  select.replaceChildren();
  option(select, "", placeholder);
  for (const item of items) option(select, item.id, item.label);
}

function fillChoices(id, name, type, items) {
  const box = $(id);
  box.replaceChildren();
  for (const item of items) {
    const label = document.createElement("label");
    const input = document.createElement("input");
    input.type = type;
    input.name = name;
    input.value = item.id;
    input.id = `${name}-${item.id}`;
    label.htmlFor = input.id;
    label.append(input, document.createTextNode(item.label));
    box.append(label);
  }
}

function fillNeighbourhoods() {
  const chosen = config.municipalities.find((m) => m.name === $("municipality").value);
  const names = chosen?.neighbourhoods ?? [];
  fillSelect(
    "neighbourhood",
    names.map((name) => ({ id: name, label: name })),
    "Niet gekend / geen bepaalde wijk",
  );
  // A closed list where the network keeps one; elsewhere any neighbourhood name is accepted.
  $("wijk-lijst").hidden = names.length === 0;
  $("wijk-vrij").hidden = names.length > 0;
}

function neighbourhood() {
  const value = $("wijk-lijst").hidden ? $("neighbourhood_vrij").value : $("neighbourhood").value;
  return value.trim();
}

function today(offsetDays = 0) {
  const day = new Date();
  day.setDate(day.getDate() + offsetDays);
  const pad = (n) => String(n).padStart(2, "0");
  return `${day.getFullYear()}-${pad(day.getMonth() + 1)}-${pad(day.getDate())}`;
}

function buildForm() {
  const municipalities = config.municipalities.map((m) => ({ id: m.name, label: m.name }));
  fillSelect("municipality", municipalities, "Kies een gemeente");
  fillSelect("vindplaats", config.vindplaatsen, "Kies een vindplaats");
  fillSelect("reporter_role", config.reporter_roles, "Kies je rol");
  fillChoices("knowledge_type", "knowledge_type", "radio", config.knowledge_types);
  fillChoices("age_bands", "age_bands", "checkbox", config.age_bands);
  fillChoices("family_situations", "family_situations", "checkbox", config.family_situations);
  $("text").maxLength = config.text_max_length;
  $("families_count").max = String(config.families_count_max);
  $("observed_on").max = today();
  if (municipalities.length === 1) $("municipality").value = municipalities[0].id;
  restoreChoices();
  fillNeighbourhoods();
  resetForm();
  $("inschrijven").hidden = true;
  form.hidden = false;
  $("afmelden").hidden = false;
}

// Role, place and municipality rarely change between two signals of one reporter.
function rememberChoices(body) {
  const { municipality, vindplaats, reporter_role, knowledge_type } = body;
  localStorage.setItem(
    CHOICES_KEY,
    JSON.stringify({ municipality, vindplaats, reporter_role, knowledge_type }),
  );
}

function restoreChoices() {
  const saved = JSON.parse(localStorage.getItem(CHOICES_KEY) || "{}");
  for (const id of ["municipality", "vindplaats", "reporter_role"]) {
    const select = $(id);
    if (saved[id] && [...select.options].some((o) => o.value === saved[id])) {
      select.value = saved[id];
    }
  }
  const radio = form.querySelector(`input[name=knowledge_type][value="${saved.knowledge_type}"]`);
  if (radio) radio.checked = true;
}

// --- reading, checking and showing the form ----------------------------------------------

let currentId = null; // kept while a rejected signal is being corrected: same signal, same id

function checked(name) {
  return [...form.querySelectorAll(`input[name=${name}]:checked`)].map((i) => i.value);
}

function readForm() {
  const count = $("families_count").value.trim();
  const body = {
    signal_id: currentId ?? crypto.randomUUID(),
    observed_on: $("observed_on").value,
    text: $("text").value,
    municipality: $("municipality").value,
    vindplaats: $("vindplaats").value,
    reporter_role: $("reporter_role").value,
    knowledge_type: checked("knowledge_type")[0] ?? "",
    target_group: { age_bands: checked("age_bands"), family_situations: checked("family_situations") },
    submitted_at: new Date().toISOString(),
  };
  if (neighbourhood()) body.neighbourhood = neighbourhood();
  if (count !== "") body.families_count = Number(count);
  return body;
}

function localProblems(body) {
  const problems = [];
  const need = (field, message) => problems.push({ field, message });
  if (body.text.trim().length < 10) need("text", "Schrijf minstens 10 tekens.");
  if (body.text.length > config.text_max_length) {
    need("text", `Hoogstens ${config.text_max_length} tekens.`);
  }
  if (!body.observed_on) need("observed_on", "Kies een datum.");
  else if (body.observed_on > today(1)) need("observed_on", "De datum ligt in de toekomst.");
  if (!body.municipality) need("municipality", "Kies een gemeente.");
  if (!body.vindplaats) need("vindplaats", "Kies een vindplaats.");
  if (!body.reporter_role) need("reporter_role", "Kies je rol.");
  if (!body.knowledge_type) need("knowledge_type", "Kies een soort kennis.");
  if (body.families_count !== undefined) {
    const n = body.families_count;
    if (!Number.isInteger(n) || n < 1 || n > config.families_count_max) {
      need("families_count", `Een geheel getal van 1 tot ${config.families_count_max}.`);
    }
  }
  return problems;
}

function fieldBox(path) {
  // "target_group.age_bands.0" -> the box of "target_group.age_bands"
  const parts = String(path).split(".");
  while (parts.length) {
    const box = form.querySelector(`.veld[data-field="${parts.join(".")}"]`);
    if (box) return box;
    parts.pop();
  }
  return null;
}

function clearProblems() {
  for (const element of form.querySelectorAll(".fout")) {
    element.hidden = true;
    element.textContent = "";
  }
  for (const element of form.querySelectorAll("[aria-invalid]")) {
    element.removeAttribute("aria-invalid");
  }
}

function showProblems(problems, fallback) {
  clearProblems();
  let first = null;
  const general = [];
  for (const problem of problems) {
    const box = fieldBox(problem.field);
    if (!box || box.hidden) {
      general.push(problem.message);
      continue;
    }
    const message = box.querySelector(".fout");
    message.textContent = message.textContent
      ? `${message.textContent} ${problem.message}`
      : problem.message;
    message.hidden = false;
    const control = box.querySelector(
      ":is(input, select, textarea):not([hidden] *, [type=radio], [type=checkbox])",
    ) ?? box.querySelector("input");
    if (box.tagName !== "FIELDSET") control.setAttribute("aria-invalid", "true");
    first ??= control;
  }
  if (general.length || (fallback && !first)) {
    $("formulier-fout").textContent = [fallback, ...general].filter(Boolean).join(" ");
    $("formulier-fout").hidden = false;
  }
  (first ?? $("formulier-fout")).focus?.();
}

function resetForm() {
  $("text").value = "";
  $("families_count").value = "";
  $("neighbourhood_vrij").value = "";
  $("observed_on").value = today();
  for (const box of ["age_bands", "family_situations"]) {
    for (const input of $(box).querySelectorAll("input")) input.checked = false;
  }
  $("privacy").hidden = true;
  updateCounter();
  clearProblems();
  currentId = null;
}

function loadIntoForm(body) {
  $("text").value = body.text;
  $("observed_on").value = body.observed_on;
  $("municipality").value = body.municipality;
  fillNeighbourhoods();
  $("neighbourhood").value = body.neighbourhood ?? "";
  $("neighbourhood_vrij").value = body.neighbourhood ?? "";
  $("vindplaats").value = body.vindplaats;
  $("reporter_role").value = body.reporter_role;
  for (const input of form.querySelectorAll("input[type=radio], input[type=checkbox]")) {
    const chosen =
      input.name === "knowledge_type"
        ? [body.knowledge_type]
        : body.target_group?.[input.name] ?? [];
    input.checked = chosen.includes(input.value);
  }
  $("families_count").value = body.families_count ?? "";
  updateCounter();
  schedulePrivacyCheck();
}

function summarise(body) {
  const label = (items, id) => items.find((item) => item.id === id)?.label ?? id;
  return {
    observed_on: body.observed_on,
    municipality: body.municipality,
    neighbourhood: body.neighbourhood ?? null,
    vindplaats: label(config.vindplaatsen, body.vindplaats),
  };
}

async function onSubmit(event) {
  event.preventDefault();
  clearProblems();
  $("resultaat").textContent = "";
  const body = readForm();
  const problems = localProblems(body);
  if (problems.length) {
    showProblems(problems);
    return;
  }
  rememberChoices(body);
  const button = $("versturen");
  button.disabled = true;
  try {
    const item = {
      signal_id: body.signal_id,
      body,
      state: "waiting",
      created_at: Date.now(),
      summary: summarise(body),
      note: "",
    };
    await outbox.put(item); // on the device first, then on the way
    await render();
    if (navigator.onLine) {
      // The reporter pressed send: do not make them wait for an old back-off.
      retryAt = 0;
    }
    await flush();
    const after = await outbox.get(item.signal_id);
    if (after.state === "sent") {
      resetForm();
      $("resultaat").textContent = `Verstuurd. ${redactionSentence(after.accepted.redactions)}`;
    } else if (after.state === "waiting") {
      resetForm();
      $("resultaat").textContent =
        "Opgeslagen op dit toestel – wacht op verbinding. Het wordt vanzelf verstuurd.";
    } else if (after.status === 422 || after.status === 403 || after.status === 413) {
      // Fixable in the form: the form is the one place to fix it, under the same id.
      await outbox.delete(item.signal_id);
      currentId = item.signal_id;
      showProblems(after.error.problems, after.error.message);
      $("resultaat").textContent = "Niet verstuurd: pas het formulier aan.";
    } else {
      resetForm();
      $("resultaat").textContent = `Niet verstuurd: ${after.error.message}`;
    }
  } finally {
    button.disabled = false;
    await render();
  }
}

// --- personal data warnings --------------------------------------------------------------

const KIND_WORDS = {
  naam: ["naam", "namen"],
  rijksregisternummer: ["rijksregisternummer", "rijksregisternummers"],
  telefoonnummer: ["telefoonnummer", "telefoonnummers"],
  "e-mail": ["e-mailadres", "e-mailadressen"],
  rekeningnummer: ["rekeningnummer", "rekeningnummers"],
  adres: ["adres", "adressen"],
  geboortedatum: ["geboortedatum", "geboortedata"],
};

function describe(redactions) {
  const parts = redactions.map(({ kind, count }) => {
    const [one, many] = KIND_WORDS[kind] ?? [kind, kind];
    return `${count} ${count === 1 ? one : many}`;
  });
  return parts.length > 1 ? `${parts.slice(0, -1).join(", ")} en ${parts.at(-1)}` : parts[0];
}

function redactionSentence(redactions) {
  return redactions?.length
    ? `Uit de tekst verwijderd: ${describe(redactions)}.`
    : "Er zijn geen persoonsgegevens uit de tekst verwijderd.";
}

// Offline stand-in for the server's scrubber: only the obvious shapes, only to warn.
const LOCAL_PATTERNS = [
  ["telefoonnummer", /(?:(?:\+|00)\s?32[\s./-]*\(?0?\)?|\b0)[1-9](?:[\s./-]?\d){7,8}\b/g],
  ["e-mail", /[\w.+-]+@[\w-]+(?:\.[\w-]+)+/g],
  ["rekeningnummer", /\bBE\s?\d{2}(?:\s?\d{4}){3}\b/gi],
];

function localScan(text) {
  return LOCAL_PATTERNS.map(([kind, pattern]) => ({
    kind,
    count: (text.match(pattern) ?? []).length,
  })).filter((r) => r.count > 0);
}

let privacyTimer = null;
let privacySequence = 0;

function schedulePrivacyCheck() {
  clearTimeout(privacyTimer);
  privacyTimer = setTimeout(checkPrivacy, 600);
}

async function checkPrivacy() {
  const sequence = ++privacySequence;
  const text = $("text").value;
  let redactions = null;
  if (text.trim().length >= 10 && navigator.onLine && token() && !tokenRefused) {
    try {
      const response = await api("privacy-check", {
        method: "POST",
        body: { text },
        timeoutMs: 5000,
      });
      if (response.ok) redactions = (await response.json()).redactions ?? [];
    } catch {
      // no answer: the local check below
    }
  }
  const local = redactions === null;
  if (local) redactions = localScan(text);
  if (sequence !== privacySequence) return; // a later keystroke already asked again
  const warning = $("privacy");
  if (!redactions.length) {
    warning.hidden = true;
    warning.textContent = "";
    return;
  }
  warning.textContent =
    `De tekst lijkt persoonsgegevens te bevatten: ${describe(redactions)}` +
    `${local ? " (snelle controle op dit toestel)" : ""}. ` +
    "Die worden verwijderd voor het signaal verdergaat.";
  warning.hidden = false;
}

function updateCounter() {
  const max = config?.text_max_length;
  const length = $("text").value.length;
  $("text-teller").textContent = max ? `${length} / ${max} tekens` : "";
}

// --- the list of what was sent and what waits ---------------------------------------------

const STATE_LABELS = {
  sent: "Verstuurd",
  waiting: "Wacht op verbinding",
  attention: "Aandacht nodig",
};

function explain(item) {
  if (item.state === "sent") {
    const when = new Date(item.accepted.received_at).toLocaleString("nl-BE");
    return `Ontvangen ${when}. ${redactionSentence(item.accepted.redactions)}`;
  }
  if (item.state === "waiting") {
    return item.note || "Wordt vanzelf verstuurd zodra er verbinding is.";
  }
  const details = item.error.problems.map((p) => p.message).join(" ");
  const advice =
    item.status === 409
      ? " Kies Aanpassen om het als nieuw signaal te versturen."
      : " Kies Aanpassen om het te verbeteren.";
  return `${item.error.message} ${details}${advice}`.replace(/\s+/g, " ").trim();
}

async function render() {
  const items = (await outbox.all()).sort((a, b) => b.created_at - a.created_at);
  const sent = items.filter((item) => item.state === "sent");
  for (const old of sent.slice(KEEP_SENT)) await outbox.delete(old.signal_id);
  const shown = items.filter((item) => item.state !== "sent").concat(sent.slice(0, KEEP_SENT));
  shown.sort((a, b) => b.created_at - a.created_at);
  const list = $("lijst");
  const template = $("melding-sjabloon");
  list.replaceChildren(
    ...shown.map((item) => {
      const entry = template.content.firstElementChild.cloneNode(true);
      entry.dataset.state = item.state;
      entry.dataset.signalId = item.signal_id;
      entry.querySelector(".melding-status").textContent = STATE_LABELS[item.state];
      const place = [item.summary.municipality, item.summary.neighbourhood, item.summary.vindplaats];
      entry.querySelector(".melding-wat").textContent =
        ` – ${item.summary.observed_on}, ${place.filter(Boolean).join(", ")}`;
      entry.querySelector(".melding-uitleg").textContent = explain(item);
      if (item.state === "attention") {
        entry.querySelector(".melding-acties").hidden = false;
        entry.querySelector(".aanpassen").addEventListener("click", () => edit(item));
        entry.querySelector(".verwijderen").addEventListener("click", () => discard(item));
      }
      return entry;
    }),
  );
  $("meldingen-leeg").hidden = shown.length > 0;
  showConnection(items.filter((item) => item.state === "waiting").length);
}

async function edit(item) {
  await outbox.delete(item.signal_id);
  loadIntoForm(item.body);
  // A conflict means this id already belongs to another signal: this one needs a new id.
  currentId = item.status === 409 ? null : item.signal_id;
  showProblems(item.error.problems, item.error.message);
  await render();
  form.scrollIntoView();
}

async function discard(item) {
  // A plain confirm: the most accessible dialog there is, on every phone.
  if (!confirm("Dit signaal verwijderen van dit toestel? Het is niet verstuurd.")) return;
  await outbox.delete(item.signal_id);
  await render();
}

function showConnection(waiting) {
  const status = $("verbinding");
  const online = navigator.onLine;
  status.classList.toggle("offline", !online);
  let text = online ? "Online." : "Geen verbinding: je kan verder melden.";
  if (waiting) {
    text += ` ${waiting} ${waiting === 1 ? "melding wacht" : "meldingen wachten"} op verbinding.`;
  }
  status.textContent = text;
}

// --- start -------------------------------------------------------------------------------

async function start() {
  const enrolmentProblem = takeTokenFromUrl();
  form.addEventListener("submit", onSubmit);
  $("text").addEventListener("input", () => {
    updateCounter();
    schedulePrivacyCheck();
  });
  $("municipality").addEventListener("change", fillNeighbourhoods);
  $("afmelden").addEventListener("click", signOut);
  window.addEventListener("online", () => {
    failures = 0;
    retryAt = 0;
    flush();
    if (!config) setUp();
  });
  window.addEventListener("offline", () => render());
  window.addEventListener("hashchange", () => {
    // An enrolment link opened while the form is already open in this tab.
    const problem = takeTokenFromUrl();
    if (problem) showEnrolment(problem);
    else {
      tokenRefused = false;
      setUp();
    }
  });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") flush();
  });
  // The periodic retry; flushOnce itself honours the back-off and Retry-After.
  setInterval(() => flush(), 5000);
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("sw.js", { scope: "./" }).catch((error) => {
      console.warn("service worker", error);
    });
  }
  await render();
  if (enrolmentProblem) {
    showEnrolment(enrolmentProblem);
    return;
  }
  await setUp();
}

async function setUp() {
  if (!token()) {
    showEnrolment("");
    return;
  }
  if (await loadConfig()) {
    buildForm();
    flush();
  } else if (!tokenRefused) {
    $("verbinding").textContent =
      "Het formulier heeft één keer verbinding nodig om de keuzelijsten te laden. " +
      "Probeer opnieuw zodra je online bent.";
  }
}

async function signOut() {
  const waiting = (await outbox.all()).filter((item) => item.state !== "sent").length;
  const warning = waiting
    ? `${waiting} ${waiting === 1 ? "melding is" : "meldingen zijn"} nog niet verstuurd en ` +
      "gaan verloren. Toch afmelden?"
    : "Dit toestel afmelden? Je hebt daarna een nieuwe inschrijvingslink nodig.";
  if (!confirm(warning)) return;
  localStorage.removeItem(TOKEN_KEY);
  localStorage.removeItem(CONFIG_KEY);
  await outbox.clear();
  location.reload();
}

start();
