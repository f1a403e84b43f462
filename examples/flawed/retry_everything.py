#!/usr/bin/env python3
"""DELIBERATELY FLAWED client: retries every failure until it succeeds.

It parses answers correctly and sends a proper form, but it treats every error as temporary: a
business errno (3001, 30022, 90001, 90002), a rate limit (17, 18), a token error and a transport
fault are all retried after a short pause, forever. It also fetches a new token for every try.
Against the real service this burns the app's daily limit and hammers the gateway. The contract
kit must stop it and fail it on every case that answers an error. Do not copy it; see
examples/python/send.py.
"""
import json
import os
import sys
import time
import urllib.parse
import urllib.request

env = os.environ
base = env["SMARTAPP_BASE_URL"].rstrip("/")


def attempt():
    q = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": env["SMARTAPP_CLIENT_ID"],
                                "client_secret": env["SMARTAPP_CLIENT_SECRET"], "scope": "smartapp_snsapi_base"})
    with urllib.request.urlopen(f"{base}/oauth/2.0/token?{q}", timeout=3) as r:
        token = json.load(r)["access_token"]
    field = "pic_url" if env["SMARTAPP_MSG_TYPE"] == "image" else "content"
    form = urllib.parse.urlencode({"user_type": env["SMARTAPP_USER_TYPE"], "open_id": env["SMARTAPP_OPEN_ID"],
                                   "msg_type": env["SMARTAPP_MSG_TYPE"],
                                   field: env.get("SMARTAPP_PIC_URL" if field == "pic_url" else "SMARTAPP_CONTENT", "")})
    url = f"{base}/rest/2.0/smartapp/message/custom/send?" + urllib.parse.urlencode({"access_token": token})
    req = urllib.request.Request(url, data=form.encode(), method="POST",
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(req, timeout=3) as r:
        return json.load(r)


def main():
    while True:  # the flaw: no bound, no distinction between final and temporary errors
        try:
            ans = attempt()
            if ans.get("errno") == 0:
                print(json.dumps({"errno": 0}))
                return 0
        except Exception:  # noqa: BLE001
            pass
        time.sleep(0.05)


sys.exit(main())
