// The ragtune page: plain JavaScript against the server's own API, no build step.
"use strict";

const $ = (id) => document.getElementById(id);
const KEY_STORE = "ragtune_key";
let apiKey = sessionStorage.getItem(KEY_STORE) || "";
let controller = null;

function headers(extra) {
  const h = Object.assign({}, extra || {});
  if (apiKey) h["Authorization"] = "Bearer " + apiKey;
  return h;
}

function setKey(key) {
  apiKey = key;
  sessionStorage.setItem(KEY_STORE, key);
  // The report frame cannot send a header; the server accepts this cookie for reading the report only.
  document.cookie = "ragtune_key=" + encodeURIComponent(key) + "; path=/; SameSite=Strict";
}

async function errorText(response) {
  try {
    const body = await response.json();
    if (body && body.error && body.error.message) return body.error.message;
  } catch (e) { /* not JSON */ }
  return response.status + " " + response.statusText;
}

async function api(path, options) {
  const opts = Object.assign({}, options || {});
  opts.headers = headers(opts.headers);
  const response = await fetch(path, opts);
  if (response.status === 401) {
    $("key-section").hidden = false;
    $("key").focus();
  }
  return response;
}

function say(el, text, isError) {
  el.textContent = text;
  el.classList.toggle("error", Boolean(isError));
}

// -- health, strategies, documents ------------------------------------------------------------------------------
async function loadHealth() {
  try {
    const response = await fetch("/healthz");
    const h = await response.json();
    $("key-section").hidden = !(h.auth_required && !apiKey);
    const q = h.queue;
    say($("health"), (h.status === "ok" ? "Ready" : "Loading models…") + " · queue " + q.waiting + "/" + q.capacity);
    const types = (h.upload_types || []).join(",");
    $("file").setAttribute("accept", types);
    $("file-help").textContent = "Accepted: " + (h.upload_types || []).join(" ") + " · at most " + h.max_upload_mb + " MB";
    fillStrategies(h.strategies || [], h.default_model);
    return h;
  } catch (e) {
    say($("health"), "The server cannot be reached.", true);
    return null;
  }
}

function fillStrategies(strategies, preferred) {
  const select = $("strategy");
  const current = select.value || preferred;
  select.textContent = "";
  for (const s of strategies) {
    const option = document.createElement("option");
    option.value = s.name;
    option.textContent = s.available ? s.name : s.name + " (not available)";
    option.disabled = !s.available;
    option.title = s.detail;
    option.selected = s.name === current;
    select.appendChild(option);
  }
}

async function loadDocuments() {
  const response = await api("/v1/documents");
  if (!response.ok) {
    say($("doc-count"), await errorText(response), true);
    return;
  }
  const body = await response.json();
  const list = $("doc-list");
  list.textContent = "";
  say($("doc-count"), body.documents.length + " documents, " + body.chunks + " passages");
  for (const doc of body.documents) {
    const li = document.createElement("li");
    const name = document.createElement("span");
    name.textContent = doc.id;
    const del = document.createElement("button");
    del.type = "button";
    del.className = "secondary";
    del.textContent = "Delete";
    del.setAttribute("aria-label", "Delete " + doc.id);
    del.addEventListener("click", () => deleteDocument(doc.id));
    li.append(name, del);
    list.appendChild(li);
  }
}

async function deleteDocument(id) {
  const path = "/v1/documents/" + id.split("/").map(encodeURIComponent).join("/");
  const response = await api(path, { method: "DELETE" });
  say($("upload-status"), response.ok ? "Deleted " + id + "." : await errorText(response), !response.ok);
  await loadDocuments();
}

// -- asking ----------------------------------------------------------------------------------------------------
function renderSources(sources) {
  const list = $("sources");
  list.textContent = "";
  $("sources-heading").hidden = sources.length === 0;
  for (const s of sources) {
    const li = document.createElement("li");
    const title = document.createElement("strong");
    title.textContent = s.title || s.doc_id;
    const meta = document.createElement("span");
    meta.className = "meta";
    const where = [];
    if (s.page !== null && s.page !== undefined) where.push("page " + s.page);
    if (s.heading) where.push(s.heading);
    where.push(s.doc_id);
    where.push("score " + Number(s.score).toFixed(3));
    if (s.supports_answer) where.unshift("supports the answer");
    meta.textContent = " · " + where.join(" · ");
    const passage = document.createElement("blockquote");
    passage.textContent = s.text;
    li.append(title, meta, passage);
    list.appendChild(li);
  }
}

function busy(on) {
  $("ask-button").disabled = on;
  $("stop-button").hidden = !on;
  $("answer-box").setAttribute("aria-busy", on ? "true" : "false");
}

async function ask(event) {
  event.preventDefault();
  const question = $("question").value.trim();
  if (!question) return;
  const answer = $("answer");
  const status = $("answer-status");
  answer.textContent = "";
  renderSources([]);
  say(status, "Waiting for the model…");
  busy(true);
  controller = new AbortController();
  const started = performance.now();
  try {
    const response = await api("/v1/chat/completions", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        model: $("strategy").value,
        messages: [{ role: "user", content: question }],
        stream: true,
        stream_options: { include_usage: true },
      }),
      signal: controller.signal,
    });
    if (!response.ok) {
      const retry = response.headers.get("Retry-After");
      say(status, (await errorText(response)) + (retry ? " (retry in " + retry + " s)" : ""), true);
      return;
    }
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    let usage = null;
    let refused = false;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buffer.indexOf("\n\n")) !== -1) {
        const event = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        for (const line of event.split("\n")) {
          if (!line.startsWith("data: ")) continue;
          const data = line.slice(6);
          if (data === "[DONE]") continue;
          const chunk = JSON.parse(data);
          if (chunk.error) {
            say(status, chunk.error.message, true);
            continue;
          }
          if (chunk.usage) usage = chunk.usage;
          for (const choice of chunk.choices || []) {
            if (choice.delta && choice.delta.content) {
              if (status.textContent.startsWith("Waiting")) say(status, "Answering…");
              answer.textContent += choice.delta.content;
            }
          }
          if (chunk.sources) renderSources(chunk.sources);
          if (chunk.answer) answer.textContent = chunk.answer;
          if (chunk.refused) refused = true;
        }
      }
    }
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    let done = "Answered in " + seconds + " s";
    if (usage) done += " · " + usage.completion_tokens + " tokens";
    if (refused) done += " · refused: the sources do not support an answer";
    if (!status.classList.contains("error")) say(status, done + ".");
  } catch (e) {
    if (e.name === "AbortError") say(status, "Stopped.");
    else say(status, "Request failed: " + e.message, true);
  } finally {
    busy(false);
    controller = null;
  }
}

// -- uploading -------------------------------------------------------------------------------------------------
async function upload(event) {
  event.preventDefault();
  const status = $("upload-status");
  const file = $("file").files[0];
  const id = $("doc-id").value.trim();
  const title = $("doc-title").value.trim();
  const text = $("doc-text").value;
  let response;
  $("upload-button").disabled = true;
  say(status, "Uploading…");
  try {
    if (file) {
      const form = new FormData();
      form.append("files", file, file.name);
      if (id) form.append("id", id);
      if (title) form.append("title", title);
      response = await api("/v1/documents", { method: "POST", body: form });
    } else if (text.trim()) {
      if (!id) {
        say(status, "Give the pasted text a document id.", true);
        $("doc-id").focus();
        return;
      }
      response = await api("/v1/documents", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ id: id, title: title || id, text: text }),
      });
    } else {
      say(status, "Choose a file or paste some text.", true);
      return;
    }
    if (!response.ok) {
      say(status, await errorText(response), true);
      return;
    }
    const body = await response.json();
    say(status, body.documents.map((d) => d.id + ": " + d.status).join(", ") + ". Ask away.");
    $("upload-form").reset();
    await loadDocuments();
  } catch (e) {
    say(status, "Upload failed: " + e.message, true);
  } finally {
    $("upload-button").disabled = false;
  }
}

// -- the report ------------------------------------------------------------------------------------------------
async function showReport() {
  const status = $("report-status");
  const frame = $("report-frame");
  const response = await api("/report/");
  if (!response.ok) {
    frame.hidden = true;
    say(status, await errorText(response), true);
    return;
  }
  say(status, "");
  frame.src = "/report/";
  frame.hidden = false;
  frame.focus();
}

// -- wiring ----------------------------------------------------------------------------------------------------
document.addEventListener("DOMContentLoaded", async () => {
  $("ask-form").addEventListener("submit", ask);
  $("stop-button").addEventListener("click", () => controller && controller.abort());
  $("upload-form").addEventListener("submit", upload);
  $("report-button").addEventListener("click", showReport);
  $("key-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    setKey($("key").value.trim());
    $("key-section").hidden = true;
    await loadDocuments();
  });
  $("question").addEventListener("keydown", (event) => {
    // Ctrl/Cmd+Enter asks, as in most chat boxes; Enter alone keeps adding lines.
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) $("ask-form").requestSubmit();
  });
  if (apiKey) setKey(apiKey);
  const health = await loadHealth();
  if (health && (!health.auth_required || apiKey)) await loadDocuments();
  setInterval(loadHealth, 15000);
});
