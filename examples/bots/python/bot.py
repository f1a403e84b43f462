#!/usr/bin/env python3
"""A small customer-service bot for a Baidu Smart Mini Program, standard library only.

It receives Baidu's message push (消息推送), verifies the signature, decrypts secure pushes
(AES-256-CBC, padding to 32-byte blocks: 1 to 32 bytes, not the 16-byte PKCS#7 of most libraries),
answers "success" at once, ignores a MsgId it has already seen, and replies through custom/send.
It also refuses a push whose timestamp is more than 5 minutes from now, or whose timestamp and
nonce it saw before with other bytes (a replay: the signature of a plain push does not cover the
body). Baidu documents neither rule; they are the usual care of a signed webhook.

Environment (see ../README.md):
    SMARTAPPMOCK_BOT_PORT or PORT   port on 127.0.0.1 (default 8080; 0 picks a free one)
    SMARTAPPMOCK_PUSH_TOKEN         the Token of the push configuration (required)
    SMARTAPPMOCK_PUSH_AES_KEY       the EncodingAESKey (required for secure pushes)
    SMARTAPPMOCK_PUSH_CLIENT_ID     optional: refuse encrypted pushes whose trailing id differs
    SMARTAPPMOCK_BASE_URL           where custom/send is (default https://openapi.baidu.com)
    SMARTAPPMOCK_ACCESS_TOKEN       the access token for custom/send (required)

Prints "bot listening on http://127.0.0.1:PORT" once it accepts connections.
"""
import base64
import collections
import hashlib
import hmac
import json
import os
import struct
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import aes256  # noqa: E402  (pure-Python AES, next to this file)

SEND_PATH = "/rest/2.0/smartapp/message/custom/send"
# The push does not say whether the user is a guest (1) or has a Baidu account (2), and Baidu does
# not say how a bot learns it: we assume 2.
USER_TYPE = "2"
MAX_SEEN = 10000
STALE_AFTER = 300  # seconds: a timestamp further from now is refused


def log(*args):
    print("bot:", *args, file=sys.stderr, flush=True)


def sha1_sorted(*parts):
    """Baidu's signature: sha1 of the sorted strings, concatenated, lowercase hex."""
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def verify_signature(token, timestamp, nonce, signature):
    return hmac.compare_digest(sha1_sorted(token, timestamp or "", nonce or ""), signature or "")


def verify_msg_signature(token, timestamp, nonce, encrypt, msg_signature):
    return hmac.compare_digest(sha1_sorted(token, timestamp or "", nonce or "", encrypt), msg_signature or "")


def unpad(data):
    """Baidu's padding: the last byte n, 1 <= n <= 32, counts the bytes to drop."""
    n = data[-1]
    if n < 1 or n > 32:
        raise ValueError(f"padding {n} is not 1 to 32 (wrong key?)")
    return data[:-n]


def decrypt(key, encrypt):
    """Open Encrypt: random(16) | length(4, big-endian) | message | trailing id."""
    raw = base64.b64decode(encrypt, validate=True)
    plain = unpad(aes256.cbc_decrypt(key, key[:16], raw))
    (n,) = struct.unpack(">I", plain[16:20])
    if 20 + n > len(plain):
        raise ValueError(f"message length {n} exceeds the block")
    return plain[20:20 + n], plain[20 + n:].decode("utf-8")


def parse(body):
    """A push body in JSON or XML, as a dict."""
    text = body.strip()
    if text.startswith(b"<"):
        out = {}
        for child in ET.fromstring(text):
            out[child.tag] = int(child.text) if child.tag in ("CreateTime", "MsgId") else (child.text or "")
        return out
    return json.loads(text)


class Refused(Exception):
    def __init__(self, status, why):
        super().__init__(why)
        self.status = status


class Bot:
    def __init__(self, env):
        self.port = int(env.get("SMARTAPPMOCK_BOT_PORT") or env.get("PORT") or "8080")
        self.token = env.get("SMARTAPPMOCK_PUSH_TOKEN", "")
        self.client_id = env.get("SMARTAPPMOCK_PUSH_CLIENT_ID", "")
        self.base_url = (env.get("SMARTAPPMOCK_BASE_URL") or "https://openapi.baidu.com").rstrip("/")
        self.access_token = env.get("SMARTAPPMOCK_ACCESS_TOKEN", "")
        missing = [k for k, v in (("SMARTAPPMOCK_PUSH_TOKEN", self.token), ("SMARTAPPMOCK_ACCESS_TOKEN", self.access_token)) if not v]
        if missing:
            raise SystemExit(f"bot: {', '.join(missing)} not set")
        key = env.get("SMARTAPPMOCK_PUSH_AES_KEY", "")
        if key and len(key) != 43:
            raise SystemExit(f"bot: SMARTAPPMOCK_PUSH_AES_KEY has {len(key)} characters; an EncodingAESKey has 43")
        # Base64 of 32 bytes without its "=": Python ignores the spare bits, as Baidu's samples do.
        self.key = base64.b64decode(key + "=") if key else None
        self.lock = threading.Lock()
        self.seen, self.order = set(), collections.deque()
        self.nonces, self.nonce_order = {}, collections.deque()

    def check_replay(self, ts, nonce, body):
        """Refuse a stale timestamp, or a timestamp and nonce seen with other bytes (the same
        bytes are Baidu's retry)."""
        try:
            age = abs(time.time() - int(ts))
        except (TypeError, ValueError):
            raise Refused(403, f"timestamp {ts!r} is not unix seconds")
        if age > STALE_AFTER:
            raise Refused(403, f"stale timestamp {ts} ({int(age)} s from now)")
        key, digest = f"{ts}/{nonce}", hashlib.sha256(body).digest()
        with self.lock:
            prev = self.nonces.get(key)
            if prev is not None and prev != digest:
                raise Refused(403, f"timestamp and nonce {key} replayed with other bytes")
            if prev is None:
                self.nonces[key] = digest
                self.nonce_order.append(key)
                if len(self.nonce_order) > MAX_SEEN:
                    self.nonces.pop(self.nonce_order.popleft(), None)

    def first_time(self, key):
        with self.lock:
            if key in self.seen:
                return False
            self.seen.add(key)
            self.order.append(key)
            if len(self.order) > MAX_SEEN:
                self.seen.discard(self.order.popleft())
            return True

    def open(self, query, body):
        """Verify the push and return the user's message as a dict, or raise Refused."""
        try:
            p = parse(body)
        except (ValueError, ET.ParseError) as e:
            raise Refused(400, f"body is neither JSON nor XML: {e}")
        q = lambda k: query.get(k, [""])[0]  # noqa: E731
        if "Encrypt" not in p:
            if not verify_signature(self.token, q("timestamp"), q("nonce"), q("signature")):
                raise Refused(403, "bad signature")
            self.check_replay(q("timestamp"), q("nonce"), body)
            return p
        encrypt = p["Encrypt"]
        if "MsgSignature" in p:  # the documented third-party envelope
            ts, nonce, sig = p.get("TimeStamp"), p.get("Nonce"), p["MsgSignature"]
        else:
            ts, nonce, sig = q("timestamp"), q("nonce"), q("msg_signature")
        if not verify_msg_signature(self.token, ts, nonce, encrypt, sig):
            raise Refused(403, "bad msg_signature")
        self.check_replay(ts, nonce, body)
        if self.key is None:
            raise Refused(500, "an encrypted push, but SMARTAPPMOCK_PUSH_AES_KEY is not set")
        try:
            msg, trailing_id = decrypt(self.key, encrypt)
        except ValueError as e:
            raise Refused(400, f"cannot decrypt: {e}")
        if self.client_id and trailing_id != self.client_id:
            raise Refused(403, f"trailing id {trailing_id!r} is not ours")
        try:
            return parse(msg)
        except (ValueError, ET.ParseError) as e:
            raise Refused(400, f"decrypted message: {e}")

    def reply(self, m):
        """Answer the user once: a business error (90001) is final, and retrying a transport
        failure could reply twice."""
        if m.get("MsgType") == "text":
            content = "You wrote: " + m.get("Content", "")
        elif m.get("MsgType") == "image":
            content = "Thanks for the picture!"
        else:
            return
        form = {"user_type": USER_TYPE, "open_id": m.get("FromUserName", ""), "msg_type": "text", "content": content}
        url = self.base_url + SEND_PATH + "?" + urllib.parse.urlencode({"access_token": self.access_token})
        req = urllib.request.Request(url, data=urllib.parse.urlencode(form).encode(), method="POST",
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
        try:
            with urllib.request.urlopen(req, timeout=5) as resp:
                answer = json.loads(resp.read(65536))
        except (OSError, ValueError) as e:
            log(f"reply to {form['open_id']}: {e}")
            return
        if answer.get("errno", 0) != 0 or "error_code" in answer:
            log(f"reply to {form['open_id']}: {answer} (not retried)")
        else:
            log(f"replied to {form['open_id']}")

    def handler(self):
        bot = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, fmt, *args):
                pass

            def answer(self, status, text):
                data = text.encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                self.do_POST()

            def do_POST(self):
                url = urllib.parse.urlsplit(self.path)
                query = urllib.parse.parse_qs(url.query)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                form = dict(query)
                if self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
                    form.update(urllib.parse.parse_qs(body.decode("utf-8", "replace")))
                echo = form.get("echoStr", [""])[0]
                if echo:  # the verification handshake
                    g = lambda k: form.get(k, [""])[0]  # noqa: E731
                    if not verify_signature(bot.token, g("timestamp"), g("nonce"), g("signature")):
                        return self.answer(403, "bad signature")
                    return self.answer(200, echo)
                try:
                    m = bot.open(query, body)
                except Refused as e:
                    log(f"push refused ({e.status}): {e}")
                    return self.answer(e.status, str(e))
                key = str(m.get("MsgId") or f"{m.get('FromUserName')}/{m.get('CreateTime')}")
                # Answer first: Baidu gives up after 2 s, and the reply may take longer.
                self.answer(200, "success")
                if not bot.first_time(key):
                    log(f"MsgId {key} again: already handled")
                    return
                threading.Thread(target=bot.reply, args=(m,), daemon=True).start()

        return Handler


def main():
    bot = Bot(os.environ)
    server = ThreadingHTTPServer(("127.0.0.1", bot.port), bot.handler())
    print(f"bot listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
