// The simulator console: choose who you are, chat with the bot, tap card buttons, watch the group
// chats and move the clock. Polls /sim/ui/poll every 500 ms; everything else is a POST.
"use strict";

const state = { me: null, setup: null, names: {}, seen: {}, lastInbox: "", lastGroups: "", options: "" };
const $ = (id) => document.getElementById(id);

function esc(text) {
  return String(text).replace(/[&<>"']/g, (c) =>
    ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

function time(ms) {
  return new Date(ms).toLocaleString("zh-CN", { timeZone: "Asia/Shanghai", hour12: false });
}

async function post(path, body) {
  const r = await fetch(path, {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body),
  });
  return r.json().catch(() => ({}));
}

// An http(s) address in a text becomes a link, as WeCom shows it.
function links(html) {
  return html.replace(/https?:\/\/[^\s<]+/g, (url) => `<a href="${url}" target="_blank">${url}</a>`);
}

// `<@userid>` becomes a highlighted @name.
function mentions(html) {
  return html.replace(/&lt;@([^&\s]+)&gt;/g, (_, u) =>
    `<span class="mention">@${esc(state.names[u] || u)}</span>`);
}

// The markdown subset WeCom renders: headings, bold, links, inline code, quotes, <font color>.
function markdown(text) {
  return esc(text).split("\n").map((line) => {
    let l = line
      .replace(/\*\*(.+?)\*\*/g, "<b>$1</b>")
      .replace(/`([^`]+)`/g, "<code>$1</code>")
      .replace(/\[([^\]]+)\]\((https?:[^)\s]+)\)/g, '<a href="$2" target="_blank">$1</a>')
      .replace(/&lt;font color=&quot;(info|comment|warning)&quot;&gt;(.*?)&lt;\/font&gt;/g,
        '<span class="font-$1">$2</span>');
    l = mentions(l);
    const h = l.match(/^(#{1,6})\s+(.*)$/);
    if (h) return `<div class="line"><b>${h[2]}</b></div>`;
    if (l.startsWith("&gt; ")) return `<blockquote>${l.slice(5)}</blockquote>`;
    return `<div class="line">${l}</div>`;
  }).join("");
}

function card(msg) {
  const c = msg.card || {};
  let html = "";
  if (c.source && c.source.desc) html += `<div class="source">${esc(c.source.desc)}</div>`;
  const title = c.main_title || {};
  if (title.title) html += `<div class="title">${esc(title.title)}</div>`;
  if (title.desc) html += `<div class="desc">${esc(title.desc)}</div>`;
  if (c.quote_area && c.quote_area.quote_text) html += `<div class="quote">${esc(c.quote_area.quote_text)}</div>`;
  if (c.sub_title_text) html += `<div class="sub">${esc(c.sub_title_text)}</div>`;
  for (const kv of c.horizontal_content_list || []) {
    const value = kv.type === 1 && /^https?:/.test(kv.url || "")
      ? `<a href="${esc(kv.url)}" target="_blank">${esc(kv.value || "")}</a>`
      : esc(kv.value || "");
    html += `<div class="kv"><span class="k">${esc(kv.keyname || "")}</span><span>${value}</span></div>`;
  }
  const done = msg.replaced != null;
  html += '<div class="buttons">';
  for (const b of c.button_list || []) {
    html += `<button type="button" class="style-${esc(b.style || 1)}" data-msg="${msg.id}" data-key="${esc(b.key || "")}"${done ? " disabled" : ""}>${esc(b.text || "")}</button>`;
  }
  html += "</div>";
  if (done) html += `<div class="done">${esc(msg.replaced || "已处理")}</div>`;
  return html;
}

function line(msg) {
  const cls = { bot: "bot", me: "me", note: "note" }[msg.from] || "bot";
  let body;
  if (msg.msgtype === "template_card") body = card(msg);
  else if (msg.msgtype === "markdown") body = markdown(msg.content);
  else if (msg.msgtype === "image" || msg.msgtype === "file") body = `📎 ${esc(msg.content)}`;
  else body = links(mentions(esc(msg.content)));
  // A robot's mentioned_list is not in the text: shown after it, as WeCom does.
  const extra = (msg.mentions || []).filter((u) => !(msg.content || "").includes(`<@${u}>`));
  if (extra.length) body += " " + mentions(extra.map((u) => esc(`<@${u}>`)).join(" "));
  const kind = msg.msgtype === "template_card" ? " card" : msg.msgtype === "markdown" ? " markdown" : "";
  const stamp = msg.from === "note" ? "" : `<span class="time">${esc(time(msg.at_ms))}</span>`;
  return `<div class="msg ${cls}${kind}" data-id="${msg.id}">${stamp}${body}</div>`;
}

// The people list, and the same people as a menu (`<select>`) that takes its place on a phone.
function renderPeople(counts) {
  const list = $("people-list");
  const setup = state.setup;
  if (!setup) return;
  let html = "";
  let options = state.me ? "" : '<option value="" disabled selected>请选择身份</option>';
  for (const g of setup.groups) {
    const members = setup.people.filter((p) => p.group === g.id);
    if (!members.length) continue;
    html += `<div class="group-title">${esc(g.label)}</div>`;
    options += `<optgroup label="${esc(g.label)}">`;
    for (const p of members) {
      const n = (counts[p.userid.toLowerCase()] || 0) - (state.seen[p.userid] || 0);
      const unread = n > 0 && p.userid !== state.me;
      const badge = unread ? `<span class="badge">${n}</span>` : "";
      const units = p.units ? `<span class="units">${esc(p.units)}</span>` : '<span class="units">（无单位）</span>';
      const me = p.userid === state.me;
      html += `<button type="button" class="person${me ? " active" : ""}" data-userid="${esc(p.userid)}"><span>${esc(p.name)} ${units}</span>${badge}</button>`;
      options += `<option value="${esc(p.userid)}"${me ? " selected" : ""}>${esc(p.name)}（${esc(p.units || "无单位")}）${unread ? ` ●${n}` : ""}</option>`;
    }
    options += "</optgroup>";
  }
  if (list.innerHTML !== html) list.innerHTML = html;
  if (state.options !== options) {
    state.options = options;
    $("people-select").innerHTML = options;
  }
}

function render(data) {
  $("clock-now").textContent = time(data.now_ms);
  const hours = Math.round(data.offset_ms / 3600000);
  $("clock-offset").textContent = data.offset_ms > 0 ? `（已快进 ${hours} 小时）` : "";
  if (state.me) state.seen[state.me] = data.counts[state.me.toLowerCase()] || 0;
  renderPeople(data.counts);
  const inbox = JSON.stringify(data.inbox);
  if (inbox !== state.lastInbox) {
    state.lastInbox = inbox;
    const box = $("messages");
    box.innerHTML = data.inbox.map(line).join("");
    box.scrollTop = box.scrollHeight;
  }
  const groups = JSON.stringify(data.chats);
  if (groups !== state.lastGroups && data.chats.length) {
    state.lastGroups = groups;
    $("groups").innerHTML = data.chats.map((c) =>
      `<div class="chatbox" data-chat="${esc(c.id)}"><h3>${esc(c.name)}</h3>${c.messages.map(line).join("")}</div>`).join("");
  }
}

async function poll() {
  try {
    const q = state.me ? `?user=${encodeURIComponent(state.me)}` : "";
    render(await (await fetch(`/sim/ui/poll${q}`)).json());
  } catch (e) {
    $("clock-now").textContent = "连接中断，正在重试…";
  }
}

function choose(userid) {
  state.me = userid;
  state.lastInbox = "";
  const p = state.setup.people.find((x) => x.userid === userid);
  $("chat-title").textContent = `${p.name}（${p.units || "无单位"}）与“新媒体管理助手”的对话`;
  $("composer-input").disabled = false;
  $("composer-send").disabled = false;
  $("composer-file").disabled = false;
  $("composer-input").placeholder = "输入消息，回车发送";
  document.querySelectorAll("#menu button").forEach((b) => { b.disabled = false; });
  $("leave").disabled = false;
  document.body.classList.add("chosen");
  // On a phone the people menu sits above the chat: bring the chat into view.
  if ($("people-select").offsetParent) $("chat").scrollIntoView({ block: "start" });
  else $("composer-input").focus();
  history.replaceState(null, "", `?user=${encodeURIComponent(userid)}`);
  poll();
}

async function start() {
  state.setup = await (await fetch("/sim/ui/setup")).json();
  for (const p of state.setup.people) state.names[p.userid] = p.name;
  $("menu").innerHTML = state.setup.menu.map((m) =>
    `<button type="button" data-menu="${esc(m.key)}" title="菜单 key: ${esc(m.key)}" disabled>${esc(m.label)}</button>`).join("");
  $("people-list").addEventListener("click", (e) => {
    const b = e.target.closest("[data-userid]");
    if (b) choose(b.dataset.userid);
  });
  $("people-select").addEventListener("change", (e) => {
    e.target.blur();
    choose(e.target.value);
  });
  $("leave").addEventListener("click", () => {
    if (state.me) post("/sim/ui/leave", { user: state.me }).then(poll);
  });
  $("menu").addEventListener("click", (e) => {
    const b = e.target.closest("[data-menu]");
    if (b && state.me) post("/sim/ui/menu", { user: state.me, key: b.dataset.menu }).then(poll);
  });
  $("messages").addEventListener("click", (e) => {
    const b = e.target.closest("button[data-key]");
    if (b && !b.disabled && state.me) {
      b.disabled = true;
      post("/sim/ui/tap", { user: state.me, msg: Number(b.dataset.msg), key: b.dataset.key }).then(poll);
    }
  });
  $("composer").addEventListener("submit", (e) => {
    e.preventDefault();
    const input = $("composer-input");
    const text = input.value.trim();
    if (!text || !state.me) return;
    input.value = "";
    post("/sim/ui/send", { user: state.me, text }).then(poll);
  });
  $("composer-file").addEventListener("change", (e) => {
    const file = e.target.files[0];
    e.target.value = "";
    if (!file || !state.me) return;
    const reader = new FileReader();
    reader.onload = () => {
      const base64 = String(reader.result).split(",")[1] || "";
      post("/sim/ui/image", { user: state.me, name: file.name, base64 }).then(poll);
    };
    reader.readAsDataURL(file);
  });
  document.querySelectorAll("#clock button[data-ms]").forEach((b) => b.addEventListener("click", () =>
    post("/sim/ui/clock", { advance_ms: Number(b.dataset.ms) }).then(poll)));
  $("clock-reset").addEventListener("click", () => post("/sim/ui/clock", { reset: true }).then(poll));
  renderPeople({});
  // `/console?user=liuyang` opens as that member (kept in the address when switching).
  const wanted = new URLSearchParams(location.search).get("user");
  if (wanted && state.setup.people.some((p) => p.userid === wanted)) choose(wanted);
  else poll();
  setInterval(poll, 500);
}

start();
