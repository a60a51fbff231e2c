// prodlike's mail catcher: an SMTP server that keeps every message it is given and
// delivers none (there is no relay code at all), with a web page and a JSON API shaped
// like Mailpit's (/api/v1/messages, /api/v1/message/ID), so a QA script written against
// Mailpit reads it unchanged. Node's standard library only: nothing to install in the
// image but the Node binary prodlike already ships.
//
// Bounded: a message is written to disk as it arrives (never held whole while it comes
// in), kept there (STORE_DIR, a volume), and only its summary stays in memory; the store
// holds at most MAX_STORE_MB, the oldest messages dropped first. A message is read back
// from disk when it is asked for.
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";

const SMTP_PORT = Number(process.env.SMTP_PORT ?? 1025);
const HTTP_PORT = Number(process.env.HTTP_PORT ?? 8025);
// Every interface of the container's own network namespace; its tests pick 127.0.0.1.
const LISTEN_HOST = process.env.LISTEN_HOST ?? "0.0.0.0";
const MAX_MESSAGES = Number(process.env.MAX_MESSAGES ?? 500);
const MAX_SIZE = 25 * 1024 * 1024;
const MAX_STORE_BYTES = Number(process.env.MAX_STORE_MB ?? 512) * 1024 * 1024;
const STORE_DIR = process.env.STORE_DIR ?? "/var/lib/prodlike-mail";
// What of a message is read to show it (summary, text and HTML in the API): its source
// as a whole is only ever streamed (/raw), so a 25 MB message costs no 25 MB of memory.
const VIEW_BYTES = 1024 * 1024;
// RFC 5321 allows 512 octets per command line and 100 recipients at least; a client past
// these bounds (or one that never sends CRLF) is answered and cut off, never buffered.
const MAX_COMMAND_LINE = 4096;
const MAX_RECIPIENTS = 1000;

/** Summaries, newest last; the oldest are dropped past MAX_MESSAGES or MAX_STORE_BYTES. */
const messages = [];
let nextId = 1;
let incoming = 1;
let storedBytes = 0;
const store = openStore();

// ---- SMTP (RFC 5321, the part a sendmail client or nodemailer speaks) ----

function smtpSession(socket) {
  const reply = (line) => socket.write(`${line}\r\n`);
  let envelope = { from: "", to: [] };
  let data = null;
  let dataSize = 0;
  let pending = "";
  reply("220 prodlike-mail ESMTP (captures mail, delivers none)");

  const command = (line) => {
    const verb = line.slice(0, 4).toUpperCase();
    const argument = line.slice(4).trim();
    if (verb === "EHLO") {
      reply("250-prodlike-mail");
      reply(`250-SIZE ${MAX_SIZE}`);
      reply("250-8BITMIME");
      reply("250 SMTPUTF8");
    } else if (verb === "HELO") reply("250 prodlike-mail");
    else if (verb === "MAIL") {
      envelope = { from: pathOf(argument), to: [] };
      reply("250 OK");
    } else if (verb === "RCPT") {
      if (envelope.to.length >= MAX_RECIPIENTS) return reply("452 Too many recipients");
      envelope.to.push(pathOf(argument));
      reply("250 OK");
    } else if (verb === "DATA") {
      if (envelope.to.length === 0) return reply("503 RCPT first");
      data = { file: path.join(store, `incoming-${incoming++}`), fd: -1, parts: [], bytes: 0 };
      data.fd = fs.openSync(data.file, "w", 0o600);
      dataSize = 0;
      reply("354 End data with <CR><LF>.<CR><LF>");
    } else if (verb === "RSET") {
      envelope = { from: "", to: [] };
      reply("250 OK");
    } else if (verb === "NOOP") reply("250 OK");
    else if (verb === "QUIT") {
      reply("221 Bye");
      socket.end();
    } else reply("502 Command not implemented");
  };

  const dataLine = (line) => {
    if (line === ".") {
      flush(data);
      const { file, fd } = data;
      data = null;
      fs.closeSync(fd);
      if (dataSize > MAX_SIZE) {
        fs.rmSync(file, { force: true });
        return reply("552 Message too large");
      }
      keep(envelope, file);
      envelope = { from: "", to: [] };
      return reply("250 OK: captured");
    }
    const first = dataSize === 0;
    dataSize += line.length + 2;
    // Past the limit the lines are dropped, not kept: the answer is 552 at the end.
    if (dataSize <= MAX_SIZE) {
      const text = `${first ? "" : "\r\n"}${line.startsWith("..") ? line.slice(1) : line}`;
      data.parts.push(text);
      data.bytes += text.length;
      if (data.bytes >= 64 * 1024) flush(data);
    }
  };

  socket.setEncoding("latin1");
  socket.on("data", (chunk) => {
    pending += chunk;
    let end = pending.indexOf("\r\n");
    while (end !== -1) {
      const line = pending.slice(0, end);
      pending = pending.slice(end + 2);
      if (data) dataLine(line);
      else command(line);
      end = pending.indexOf("\r\n");
    }
    // What is left is one unfinished line: a command is short; a message line at most
    // the whole message.
    if (pending.length > (data ? MAX_SIZE : MAX_COMMAND_LINE)) {
      reply("500 Line too long");
      socket.destroy();
    }
  });
  socket.on("error", () => socket.destroy());
  // A client gone mid-message leaves no file behind.
  socket.on("close", () => {
    if (!data) return;
    fs.closeSync(data.fd);
    fs.rmSync(data.file, { force: true });
    data = null;
  });
}

/** Writes what a message's lines collected to its file. */
function flush(data) {
  if (data.parts.length === 0) return;
  fs.writeSync(data.fd, Buffer.from(data.parts.join(""), "latin1"));
  data.parts = [];
  data.bytes = 0;
}

function pathOf(argument) {
  const match = /<([^>]*)>/.exec(argument);
  return match ? match[1] : argument.replace(/^(FROM|TO):/i, "").trim();
}

// ---- Parsing, enough to show a message: headers, encoded words, text and HTML parts ----

function splitHeaders(raw) {
  const end = raw.search(/\r?\n\r?\n/);
  const head = end === -1 ? raw : raw.slice(0, end);
  const body = end === -1 ? "" : raw.slice(end).replace(/^\r?\n\r?\n/, "");
  const headers = {};
  for (const line of head.replace(/\r?\n[ \t]+/g, " ").split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!headers[name]) headers[name] = [];
    headers[name].push(line.slice(colon + 1).trim());
  }
  return { headers, body };
}

function bytesOf(latin1) {
  return Buffer.from(latin1, "latin1");
}

function decodeCharset(buffer, charset) {
  try {
    return new TextDecoder(charset || "utf-8").decode(buffer);
  } catch {
    return buffer.toString("utf8");
  }
}

function decodeQuotedPrintable(text) {
  return bytesOf(
    text
      .replace(/=\r?\n/g, "")
      .replace(/=([0-9A-Fa-f]{2})/g, (_m, hex) => String.fromCharCode(Number.parseInt(hex, 16))),
  );
}

function decodeWords(value) {
  return value.replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_m, charset, encoding, text) => {
    const bytes =
      encoding.toUpperCase() === "B"
        ? Buffer.from(text, "base64")
        : decodeQuotedPrintable(text.replace(/_/g, " "));
    return decodeCharset(bytes, charset);
  });
}

function parameter(header, name) {
  const match = new RegExp(`${name}="?([^";]+)"?`, "i").exec(header ?? "");
  return match ? match[1] : "";
}

function decodeBody(body, headers) {
  const encoding = (headers["content-transfer-encoding"]?.[0] ?? "").toLowerCase();
  const charset = parameter(headers["content-type"]?.[0], "charset");
  const bytes =
    encoding === "base64"
      ? Buffer.from(body.replace(/\s+/g, ""), "base64")
      : encoding === "quoted-printable"
        ? decodeQuotedPrintable(body)
        : bytesOf(body);
  return decodeCharset(bytes, charset);
}

/** The text and HTML of a message, walking multipart bodies. */
function contentOf(headers, body, found = { text: "", html: "" }) {
  const type = (headers["content-type"]?.[0] ?? "text/plain").toLowerCase();
  if (type.startsWith("multipart/")) {
    const boundary = parameter(headers["content-type"][0], "boundary");
    for (const part of body.split(`--${boundary}`).slice(1)) {
      if (part.startsWith("--")) break;
      const parsed = splitHeaders(part.replace(/^\r?\n/, ""));
      contentOf(parsed.headers, parsed.body, found);
    }
  } else if (type.startsWith("text/html") && !found.html) found.html = decodeBody(body, headers);
  else if (type.startsWith("text/plain") && !found.text) found.text = decodeBody(body, headers);
  return found;
}

function addresses(value) {
  return (value ?? "")
    .split(/,(?=(?:[^"]*"[^"]*")*[^"]*$)/)
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const match = /^(.*)<([^>]+)>$/.exec(entry);
      return match
        ? { Name: decodeWords(match[1].trim().replace(/^"|"$/g, "")), Address: match[2] }
        : { Name: "", Address: entry };
    });
}

// ---- The store: one file per message, summaries in memory ----

// The volume when it is writable (its folder is the image's, owned by nobody), else a
// folder of the container's own: on disk either way.
function openStore() {
  for (const dir of [STORE_DIR, path.join(process.env.TMPDIR ?? "/tmp", "prodlike-mail")]) {
    try {
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      fs.accessSync(dir, fs.constants.W_OK);
      return dir;
    } catch {
      // Not writable: the next one.
    }
  }
  throw new Error(`no writable folder for the mail store (${STORE_DIR})`);
}

function messageFile(id) {
  return path.join(store, `${id}.eml`);
}

/** The start of a stored message (VIEW_BYTES at most), as latin1 text; its full size. */
function readView(file) {
  const fd = fs.openSync(file, "r");
  try {
    const size = fs.fstatSync(fd).size;
    const buffer = Buffer.alloc(Math.min(size, VIEW_BYTES));
    fs.readSync(fd, buffer, 0, buffer.length, 0);
    return { raw: buffer.toString("latin1"), size };
  } finally {
    fs.closeSync(fd);
  }
}

/** What a message shows, parsed from its raw text (at most its first VIEW_BYTES). */
function parse(id, envelope, { raw, size }, created) {
  const { headers, body } = splitHeaders(raw);
  const { text, html } = contentOf(headers, body);
  const header = (name) => decodeWords(headers[name]?.[0] ?? "");
  const shown = new Set(
    [...addresses(header("to")), ...addresses(header("cc"))].map((to) => to.Address.toLowerCase()),
  );
  return {
    ID: String(id),
    From: addresses(header("from"))[0] ?? { Name: "", Address: envelope.from },
    To: addresses(header("to")),
    Cc: addresses(header("cc")),
    Bcc: envelope.to
      .filter((to) => !shown.has(to.toLowerCase()))
      .map((Address) => ({ Name: "", Address })),
    Subject: header("subject"),
    Created: created,
    Size: size,
    Envelope: envelope,
    Text: text,
    HTML: html,
    // The text and HTML stop at VIEW_BYTES of source; /raw has all of it.
    ...(size > raw.length ? { Truncated: true } : {}),
  };
}

function keep(envelope, incoming) {
  const id = nextId++;
  const file = messageFile(id);
  fs.renameSync(incoming, file);
  // The envelope is not in the message: kept beside it, for a restart.
  fs.writeFileSync(`${file}.json`, JSON.stringify(envelope), { mode: 0o600 });
  remember(summary(parse(id, envelope, readView(file), new Date().toISOString())));
}

function remember(message) {
  messages.push(message);
  storedBytes += message.Size;
  while (messages.length > MAX_MESSAGES || (storedBytes > MAX_STORE_BYTES && messages.length > 1)) {
    drop(messages.shift());
  }
}

function drop(message) {
  storedBytes -= message.Size;
  fs.rmSync(messageFile(message.ID), { force: true });
  fs.rmSync(`${messageFile(message.ID)}.json`, { force: true });
}

/** A stored message as the API shows it, read back from disk; undefined when it is gone. */
function load(message) {
  try {
    return parse(message.ID, message.Envelope, readView(messageFile(message.ID)), message.Created);
  } catch {
    return undefined;
  }
}

// Messages kept before a restart come back, oldest first; half-received ones are dropped.
function reload() {
  const ids = [];
  for (const name of fs.readdirSync(store)) {
    const match = /^(\d+)\.eml$/.exec(name);
    if (match) ids.push(Number(match[1]));
    else if (name.startsWith("incoming-")) fs.rmSync(path.join(store, name), { force: true });
  }
  for (const id of ids.sort((a, b) => a - b)) {
    try {
      const file = messageFile(id);
      const envelope = JSON.parse(fs.readFileSync(`${file}.json`, "utf8"));
      remember(summary(parse(id, envelope, readView(file), fs.statSync(file).mtime.toISOString())));
    } catch {
      fs.rmSync(messageFile(id), { force: true });
    }
    nextId = Math.max(nextId, id + 1);
  }
}

// ---- HTTP: the API and one page that reads it ----

/** What stays in memory of a message (its text and HTML are read back when asked for). */
function summary({ ID, From, To, Cc, Bcc, Subject, Created, Size, Envelope, Text }) {
  return { ID, From, To, Cc, Bcc, Subject, Created, Size, Envelope, Snippet: Text.slice(0, 200) };
}

function listed({ ID, From, To, Subject, Created, Size, Snippet }) {
  return { ID, From, To, Subject, Created, Size, Snippet };
}

function send(response, status, body, type = "application/json") {
  response.writeHead(status, {
    "content-type": `${type}; charset=utf-8`,
    "cache-control": "no-store",
  });
  response.end(type === "application/json" ? JSON.stringify(body) : body);
}

const PAGE = `<!doctype html><meta charset="utf-8"><title>prodlike mail</title>
<style>body{font:14px system-ui;margin:0;display:flex;height:100vh}#list{width:40%;overflow:auto;border-right:1px solid #ccc}
#list div{padding:8px;border-bottom:1px solid #eee;cursor:pointer}#list div:hover{background:#f4f4f4}
#view{flex:1;overflow:auto;padding:12px}iframe{width:100%;height:70vh;border:1px solid #ddd}small{color:#666}</style>
<div id="list"></div><div id="view"><p>Mail sent by this environment is kept here and delivered to nobody.</p></div>
<script>
const esc=(s)=>String(s).replace(/[&<>"]/g,(c)=>({"&":"&amp;","<":"&lt;",">":"&gt;",'"':"&quot;"}[c]));
async function list(){const r=await (await fetch("api/v1/messages")).json();
document.getElementById("list").innerHTML=r.messages.map((m)=>'<div data-id="'+m.ID+'"><b>'+esc(m.Subject||"(no subject)")+
'</b><br><small>'+esc(m.From.Address)+' → '+esc(m.To.map((t)=>t.Address).join(", "))+' · '+esc(m.Created)+'</small></div>').join("")||"<div>No mail yet.</div>";
for(const d of document.querySelectorAll("#list div[data-id]"))d.onclick=()=>show(d.dataset.id);}
async function show(id){const m=await (await fetch("api/v1/message/"+id)).json();const v=document.getElementById("view");
v.innerHTML="<h3>"+esc(m.Subject)+"</h3><p><small>From "+esc(m.From.Address)+" to "+esc(m.To.map((t)=>t.Address).join(", "))+"</small></p>";
if(m.HTML){const f=document.createElement("iframe");f.sandbox="";f.srcdoc=m.HTML;v.append(f);}else{const p=document.createElement("pre");p.textContent=m.Text;v.append(p);}}
list();setInterval(list,3000);
</script>`;

function api(request, response) {
  const url = new URL(request.url ?? "/", "http://mail");
  const one = /^\/api\/v1\/message\/([0-9]+)(\/raw)?$/.exec(url.pathname);
  if (request.method === "GET" && url.pathname === "/")
    return send(response, 200, PAGE, "text/html");
  if (request.method === "GET" && url.pathname === "/livez")
    return send(response, 200, "ok\n", "text/plain");
  if (request.method === "GET" && url.pathname === "/api/v1/messages") {
    const newestFirst = [...messages].reverse();
    return send(response, 200, { total: messages.length, messages: newestFirst.map(listed) });
  }
  if (request.method === "DELETE" && url.pathname === "/api/v1/messages") {
    for (const message of messages.splice(0)) drop(message);
    storedBytes = 0;
    return send(response, 200, { deleted: true });
  }
  if (request.method === "GET" && one) {
    const found = messages.find((candidate) => candidate.ID === one[1]);
    const message = found ? load(found) : undefined;
    if (!message) return send(response, 404, { error: "no such message" });
    if (one[2]) {
      response.writeHead(200, {
        "content-type": "message/rfc822; charset=utf-8",
        "cache-control": "no-store",
      });
      fs.createReadStream(messageFile(message.ID)).pipe(response);
      return;
    }
    return send(response, 200, message);
  }
  return send(response, 404, { error: "not found" });
}

reload();
net.createServer(smtpSession).listen(SMTP_PORT, LISTEN_HOST);
http.createServer(api).listen(HTTP_PORT, LISTEN_HOST);
const stop = () => process.exit(0);
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
process.stdout.write(
  `prodlike-mail: SMTP on ${SMTP_PORT}, web and API on ${HTTP_PORT}; nothing is delivered\n`,
);
