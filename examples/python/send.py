#!/usr/bin/env python3
"""Send one Baidu Smart Mini Program customer-service message (发送客服消息), standard library only.

Use it as a module (send_message) or as a command configured by environment variables:

    SMARTAPP_BASE_URL       default https://openapi.baidu.com
    SMARTAPP_CLIENT_ID      App Key
    SMARTAPP_CLIENT_SECRET  App Secret
    SMARTAPP_USER_TYPE      1 (guest) or 2 (Baidu account)
    SMARTAPP_OPEN_ID        the user
    SMARTAPP_MSG_TYPE       text or image
    SMARTAPP_CONTENT        the text of a text message
    SMARTAPP_PIC_URL        the image link of an image message
    SMARTAPP_TOKEN_CACHE    optional file to keep the access token in between runs

Exit status 0 when the message was delivered, 1 when not. The last line of stdout is JSON:
{"errno":0}, {"errno":90001,...} or {"error_code":110,...}, or {"error":"..."} for a transport failure.

The access token is cached (it lives 30 days); on error_code 110/111 a new one is fetched and the
send retried once. Nothing else is retried: a business error is final, and re-sending after a
transport failure may deliver the message twice and use up the user's five replies.
"""
import http.client
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

DEFAULT_BASE_URL = "https://openapi.baidu.com"
TIMEOUT = int(os.environ.get("SMARTAPP_TIMEOUT") or 3)  # seconds: 3 like Baidu's Go SDK, or what the contract kit allows


class SmartappError(Exception):
    """An answer of the service that is not success; code is the errno or error_code."""

    def __init__(self, code, message, gateway):
        super().__init__(f"{'error_code' if gateway else 'errno'} {code}: {message}")
        self.code, self.message, self.gateway = code, message, gateway


def _get_json(req):
    """Send req and decode the JSON answer; raise OSError/ValueError on transport failures."""
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:
            status, body = resp.status, resp.read(1 << 20)
    except urllib.error.HTTPError as e:
        status, body = e.code, e.read(1 << 20)
    return status, json.loads(body.decode("utf-8"))


class TokenCache:
    """Keeps the access token in memory and, if path is set, in a file."""

    def __init__(self, path=None):
        self.path, self.token, self.expires = path, None, 0.0
        if path and os.path.exists(path):
            try:
                with open(path, encoding="utf-8") as f:
                    saved = json.load(f)
                self.token, self.expires = saved["access_token"], float(saved["expires_at"])
            except (OSError, ValueError, KeyError):
                pass

    def get(self):
        return self.token if self.token and time.time() < self.expires else None

    def put(self, token, expires_in):
        # Renew a minute early so that a token never expires in flight.
        self.token, self.expires = token, time.time() + expires_in - 60
        if self.path:
            tmp = self.path + ".tmp"
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump({"access_token": self.token, "expires_at": self.expires}, f)
            os.replace(tmp, self.path)


def fetch_token(base_url, client_id, client_secret):
    """Return (access_token, expires_in) from /oauth/2.0/token."""
    query = urllib.parse.urlencode({
        "grant_type": "client_credentials",
        "client_id": client_id,
        "client_secret": client_secret,
        "scope": "smartapp_snsapi_base",
    })
    status, ans = _get_json(urllib.request.Request(f"{base_url}/oauth/2.0/token?{query}"))
    if status != 200 or "access_token" not in ans:
        raise OSError(f"token: HTTP {status}: {ans.get('error')}: {ans.get('error_description')}")
    return ans["access_token"], int(ans.get("expires_in", 2592000))


def _send_once(base_url, token, message):
    form = {k: message[k] for k in ("user_type", "open_id", "msg_type")}
    if message["msg_type"] == "image":
        form["pic_url"] = message.get("pic_url", "")
    else:
        form["content"] = message.get("content", "")
    url = f"{base_url}/rest/2.0/smartapp/message/custom/send?" + urllib.parse.urlencode({"access_token": token})
    req = urllib.request.Request(url, data=urllib.parse.urlencode(form).encode("utf-8"), method="POST",
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    status, ans = _get_json(req)
    if status != 200:
        raise OSError(f"HTTP {status}")
    if not isinstance(ans, dict):
        raise ValueError("answer is not a JSON object")
    if isinstance(ans.get("error_code"), int):
        raise SmartappError(ans["error_code"], ans.get("error_msg", ""), gateway=True)
    if not isinstance(ans.get("errno"), int):
        raise ValueError("answer has neither errno nor error_code")
    if ans["errno"] != 0:
        raise SmartappError(ans["errno"], ans.get("msg", ""), gateway=False)


def send_message(base_url, client_id, client_secret, message, cache=None):
    """Deliver message (a dict of user_type, open_id, msg_type, content, pic_url).

    Returns None on success; raises SmartappError for an error answer, and OSError, ValueError or
    http.client.HTTPException for a transport failure.
    """
    cache = cache or TokenCache()
    base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
    token = cache.get()
    if not token:
        cache.put(*fetch_token(base_url, client_id, client_secret))
        token = cache.token
    try:
        _send_once(base_url, token, message)
    except SmartappError as e:
        if not (e.gateway and e.code in (110, 111)):
            raise
        cache.put(*fetch_token(base_url, client_id, client_secret))
        _send_once(base_url, cache.token, message)


def main():
    env = os.environ
    message = {
        "user_type": env.get("SMARTAPP_USER_TYPE", "1"),
        "open_id": env.get("SMARTAPP_OPEN_ID", ""),
        "msg_type": env.get("SMARTAPP_MSG_TYPE", "text"),
        "content": env.get("SMARTAPP_CONTENT", ""),
        "pic_url": env.get("SMARTAPP_PIC_URL", ""),
    }
    try:
        send_message(env.get("SMARTAPP_BASE_URL"), env.get("SMARTAPP_CLIENT_ID", ""),
                     env.get("SMARTAPP_CLIENT_SECRET", ""), message,
                     TokenCache(env.get("SMARTAPP_TOKEN_CACHE") or None))
    except SmartappError as e:
        key = "error_code" if e.gateway else "errno"
        print(f"not delivered: {e}", file=sys.stderr)
        print(json.dumps({key: e.code, "msg": e.message}, ensure_ascii=False))
        return 1
    except (OSError, ValueError, http.client.HTTPException) as e:
        print(f"not delivered: transport failure: {e}", file=sys.stderr)
        print(json.dumps({"error": str(e)}))
        return 1
    print(json.dumps({"errno": 0}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
