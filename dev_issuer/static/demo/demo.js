// The access-token guide's browser application: /authorize -> token -> calendar API.
// Served by the dev issuer at /demo/; its settings come from /demo/config.json.
"use strict";

const $ = (id) => document.getElementById(id);
const store = window.sessionStorage;
let config = null;

function randomString(bytes = 32) {
  const data = crypto.getRandomValues(new Uint8Array(bytes));
  return base64url(data);
}

function base64url(bytes) {
  let text = "";
  bytes.forEach((b) => { text += String.fromCharCode(b); });
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

async function pkceChallenge(verifier) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

function setStatus(text, isError = false) {
  $("status").textContent = text;
  $("status").className = isError ? "error" : "";
}

function redirectUri() {
  return window.location.origin + window.location.pathname;
}

// "Sign in" and "Allow editing": send the user to the authorization server.
async function authorize(scope) {
  const flow = $("flow").value;
  const state = randomString();
  const params = new URLSearchParams({
    audience: config.audience,
    scope,
    response_type: flow,
    client_id: config.client_id,
    redirect_uri: redirectUri(),
    nonce: randomString(),
    state,
  });
  store.setItem("demo.state", state);
  store.setItem("demo.flow", flow);
  if (flow === "code") {
    const verifier = randomString(48);
    store.setItem("demo.verifier", verifier);
    params.set("code_challenge", await pkceChallenge(verifier));
    params.set("code_challenge_method", "S256");
  }
  window.location.assign(config.authorize_url + "?" + params.toString());
}

// Back from /authorize: the answer is in the fragment (implicit) or the query (code).
async function completeSignIn() {
  const fragment = new URLSearchParams(window.location.hash.slice(1));
  const query = new URLSearchParams(window.location.search);
  const answer = fragment.has("access_token") || fragment.has("error") ? fragment : query;
  if (!answer.has("access_token") && !answer.has("error") && !answer.has("code")) return;
  window.history.replaceState(null, "", redirectUri());
  const expected = store.getItem("demo.state");
  store.removeItem("demo.state");
  if (!expected || answer.get("state") !== expected) {
    setStatus("Refused the answer: its state does not match the request (possible CSRF).", true);
    return;
  }
  if (answer.has("error")) {
    setStatus(`Authorization failed: ${answer.get("error")}`, true);
    return;
  }
  if (answer.has("access_token")) {
    store.setItem("demo.token", answer.get("access_token"));
    return;
  }
  const verifier = store.getItem("demo.verifier");
  store.removeItem("demo.verifier");
  const response = await fetch(config.token_url, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code: answer.get("code"),
      code_verifier: verifier || "",
      client_id: config.client_id,
      redirect_uri: redirectUri(),
    }),
  });
  const body = await response.json();
  if (!response.ok) {
    setStatus(`Token request failed: ${body.error || response.status}`, true);
    return;
  }
  store.setItem("demo.token", body.access_token);
}

// Only for display: the API, not the browser, is what verifies the token.
function tokenClaims(token) {
  const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
  return JSON.parse(atob(payload));
}

async function callCalendar(method, path, body) {
  const token = store.getItem("demo.token");
  const response = await fetch(config.calendar_api + path, {
    method,
    headers: {
      Authorization: `Bearer ${token}`,
      ...(body ? { "Content-Type": "application/json" } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = response.status === 204 ? null : await response.json();
  if (!response.ok) {
    throw new Error(`${response.status} ${data && (data.error_description || data.message)}`);
  }
  return data;
}

async function listEvents() {
  const data = await callCalendar("GET", "/calendar/v1/events?limit=50");
  const list = $("events");
  list.replaceChildren();
  for (const event of data.items) {
    const item = document.createElement("li");
    item.textContent = `${event.start} - ${event.title}`;
    list.append(item);
  }
  if (!data.items.length) {
    const item = document.createElement("li");
    item.textContent = "No events yet.";
    list.append(item);
  }
  return data.items.length;
}

async function addEvent() {
  const start = new Date(Date.now() + 86400000);
  start.setUTCHours(9, 0, 0, 0);
  const end = new Date(start.getTime() + 3600000);
  await callCalendar("POST", "/calendar/v1/events", {
    title: "Planning meeting",
    start: start.toISOString().replace(".000Z", "Z"),
    end: end.toISOString().replace(".000Z", "Z"),
    time_zone: "UTC",
  });
  await listEvents();
  setStatus("Event created with the write scope.");
}

async function render() {
  const token = store.getItem("demo.token");
  $("sign-out").disabled = !token;
  $("allow-editing").disabled = !token;
  $("events-section").hidden = !token;
  $("token-info").hidden = !token;
  if (!token) return;
  const claims = tokenClaims(token);
  const scopes = (claims.scope || "").split(" ");
  $("token-sub").textContent = claims.sub;
  $("token-scope").textContent = claims.scope;
  $("token-exp").textContent = new Date(claims.exp * 1000).toISOString();
  $("add-event").disabled = !scopes.includes("write");
  try {
    const count = await listEvents();
    setStatus(`Signed in as ${claims.sub}; the calendar API returned ${count} event(s).`);
  } catch (error) {
    setStatus(`Calendar API refused: ${error.message}`, true);
  }
}

async function main() {
  config = await (await fetch("config.json")).json();
  $("flow").value = store.getItem("demo.flow") || "token";
  $("sign-in").addEventListener("click", () => authorize("read"));
  $("allow-editing").addEventListener("click", () => authorize("read write"));
  $("sign-out").addEventListener("click", () => { store.removeItem("demo.token"); render(); });
  $("add-event").addEventListener("click", () => addEvent().catch((e) => setStatus(e.message, true)));
  await completeSignIn();
  await render();
}

main().catch((error) => setStatus(`Demo failed to start: ${error.message}`, true));
