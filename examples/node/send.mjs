#!/usr/bin/env node
// Send one Baidu Smart Mini Program customer-service message (发送客服消息) with Node.js 20's fetch,
// no dependencies.
//
// Use it as a module (import { sendMessage } from "./send.mjs") or as a command configured by
// environment variables: SMARTAPP_BASE_URL (default https://openapi.baidu.com), SMARTAPP_CLIENT_ID,
// SMARTAPP_CLIENT_SECRET, SMARTAPP_USER_TYPE, SMARTAPP_OPEN_ID, SMARTAPP_MSG_TYPE, SMARTAPP_CONTENT,
// SMARTAPP_PIC_URL, and optionally SMARTAPP_TOKEN_CACHE (a file to keep the access token in).
//
// Exit status 0 when delivered, 1 when not; the last line of stdout is JSON: {"errno":0},
// {"errno":90001,...}, {"error_code":110,...} or {"error":"..."}.
//
// The token is cached (it lives 30 days); on error_code 110/111 a new one is fetched and the send
// retried once. Nothing else is retried: a business error is final, and re-sending after a transport
// failure may deliver the message twice and use up the user's five replies.
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const DEFAULT_BASE_URL = "https://openapi.baidu.com";
// 3 s like Baidu's Go SDK, or what the contract kit allows (SMARTAPP_TIMEOUT, seconds).
const TIMEOUT_MS = 1000 * (Number(process.env.SMARTAPP_TIMEOUT) || 3);

/** An answer of the service that is not success; code is the errno or error_code. */
export class SmartappError extends Error {
  constructor(code, message, gateway) {
    super(`${gateway ? "error_code" : "errno"} ${code}: ${message}`);
    this.code = code;
    this.gateway = gateway;
  }
}

/** Keeps the access token in memory and, if path is set, in a file. */
export class TokenCache {
  constructor(path) {
    this.path = path;
    this.token = null;
    this.expires = 0;
    if (path) {
      try {
        const saved = JSON.parse(readFileSync(path, "utf8"));
        this.token = saved.access_token;
        this.expires = saved.expires_at;
      } catch {
        // No cache yet.
      }
    }
  }
  get() {
    return this.token && Date.now() < this.expires ? this.token : null;
  }
  put(token, expiresIn) {
    // Renew a minute early so that a token never expires in flight.
    this.token = token;
    this.expires = Date.now() + (expiresIn - 60) * 1000;
    if (this.path) {
      writeFileSync(this.path + ".tmp", JSON.stringify({ access_token: token, expires_at: this.expires }));
      renameSync(this.path + ".tmp", this.path);
    }
  }
}

async function getJSON(url, init = {}) {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS) });
  const text = await res.text();
  if (!res.ok && res.status !== 400) throw new Error(`HTTP ${res.status}`);
  return { status: res.status, body: JSON.parse(text) };
}

async function fetchToken(baseURL, clientId, clientSecret, cache) {
  const q = new URLSearchParams({
    grant_type: "client_credentials",
    client_id: clientId,
    client_secret: clientSecret,
    scope: "smartapp_snsapi_base",
  });
  const { status, body } = await getJSON(`${baseURL}/oauth/2.0/token?${q}`);
  if (status !== 200 || !body.access_token) {
    throw new Error(`token: HTTP ${status}: ${body.error}: ${body.error_description}`);
  }
  cache.put(body.access_token, body.expires_in ?? 2592000);
  return body.access_token;
}

async function sendOnce(baseURL, token, message) {
  const form = new URLSearchParams({
    user_type: String(message.userType),
    open_id: message.openId,
    msg_type: message.msgType,
  });
  if (message.msgType === "image") form.set("pic_url", message.picURL ?? "");
  else form.set("content", message.content ?? "");
  const url = `${baseURL}/rest/2.0/smartapp/message/custom/send?${new URLSearchParams({ access_token: token })}`;
  const { status, body } = await getJSON(url, { method: "POST", body: form }); // fetch sets the form Content-Type
  if (status !== 200) throw new Error(`HTTP ${status}`);
  if (Number.isInteger(body.error_code)) throw new SmartappError(body.error_code, body.error_msg ?? "", true);
  if (!Number.isInteger(body.errno)) throw new Error("answer has neither errno nor error_code");
  if (body.errno !== 0) throw new SmartappError(body.errno, body.msg ?? "", false);
}

/**
 * Delivers message ({userType, openId, msgType, content, picURL}). Resolves on success; rejects with
 * a SmartappError for an error answer, another Error for a transport failure.
 */
export async function sendMessage({ baseURL, clientId, clientSecret, cache = new TokenCache() }, message) {
  baseURL = (baseURL || DEFAULT_BASE_URL).replace(/\/+$/, "");
  const token = cache.get() ?? (await fetchToken(baseURL, clientId, clientSecret, cache));
  try {
    await sendOnce(baseURL, token, message);
  } catch (e) {
    if (!(e instanceof SmartappError && e.gateway && (e.code === 110 || e.code === 111))) throw e;
    await sendOnce(baseURL, await fetchToken(baseURL, clientId, clientSecret, cache), message);
  }
}

async function main() {
  const env = process.env;
  try {
    await sendMessage(
      {
        baseURL: env.SMARTAPP_BASE_URL,
        clientId: env.SMARTAPP_CLIENT_ID ?? "",
        clientSecret: env.SMARTAPP_CLIENT_SECRET ?? "",
        cache: new TokenCache(env.SMARTAPP_TOKEN_CACHE || null),
      },
      {
        userType: env.SMARTAPP_USER_TYPE ?? "1",
        openId: env.SMARTAPP_OPEN_ID ?? "",
        msgType: env.SMARTAPP_MSG_TYPE ?? "text",
        content: env.SMARTAPP_CONTENT ?? "",
        picURL: env.SMARTAPP_PIC_URL ?? "",
      },
    );
  } catch (e) {
    console.error(`not delivered: ${e.message}`);
    if (e instanceof SmartappError) {
      console.log(JSON.stringify({ [e.gateway ? "error_code" : "errno"]: e.code, msg: e.message }));
    } else {
      console.log(JSON.stringify({ error: String(e.message) }));
    }
    return 1;
  }
  console.log(JSON.stringify({ errno: 0 }));
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main();
}
