#!/usr/bin/env python3
"""DELIBERATELY FLAWED client: sends the message as a JSON body.

Everything else is right (token in the query, token cached, codes reported), but Baidu does not read
JSON bodies for this endpoint: every send arrives without its fields and answers errno 3001. The
contract kit must catch it (send_form_encoded, requests_match_openapi, and every case that needs a
delivery). Do not copy it; see examples/python/send.py.
"""
import json
import os
import sys
import urllib.parse
import urllib.request

env = os.environ
base = env["SMARTAPP_BASE_URL"].rstrip("/")
cache = env.get("SMARTAPP_TOKEN_CACHE", "")


def token():
    if cache and os.path.exists(cache):
        with open(cache, encoding="utf-8") as f:
            return f.read().strip()
    q = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": env["SMARTAPP_CLIENT_ID"],
                                "client_secret": env["SMARTAPP_CLIENT_SECRET"], "scope": "smartapp_snsapi_base"})
    with urllib.request.urlopen(f"{base}/oauth/2.0/token?{q}", timeout=3) as r:
        t = json.load(r)["access_token"]
    if cache:
        with open(cache, "w", encoding="utf-8") as f:
            f.write(t)
    return t


def main():
    msg = {"user_type": int(env["SMARTAPP_USER_TYPE"]), "open_id": env["SMARTAPP_OPEN_ID"],
           "msg_type": env["SMARTAPP_MSG_TYPE"], "content": env.get("SMARTAPP_CONTENT", ""),
           "pic_url": env.get("SMARTAPP_PIC_URL", "")}
    url = f"{base}/rest/2.0/smartapp/message/custom/send?" + urllib.parse.urlencode({"access_token": token()})
    req = urllib.request.Request(url, data=json.dumps(msg).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})  # the flaw
    try:
        with urllib.request.urlopen(req, timeout=3) as r:
            ans = json.load(r)
    except Exception as e:  # noqa: BLE001 - a flawed example, but not a crashing one
        print(json.dumps({"error": str(e)}))
        return 1
    if ans.get("errno") == 0:
        print(json.dumps({"errno": 0}))
        return 0
    key = "error_code" if "error_code" in ans else "errno"
    print(json.dumps({key: ans.get(key)}))
    return 1


sys.exit(main())
