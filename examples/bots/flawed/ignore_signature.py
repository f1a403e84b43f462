#!/usr/bin/env python3
"""A FLAWED bot: ../python/bot.py with its signature checks switched off.

It acts on any push, forged or not. The test expects it to fail exactly the case
wrong_signature_ignored. Do not copy it.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import bot  # noqa: E402

# The flaw: every signature "verifies".
bot.verify_signature = lambda *args: True
bot.verify_msg_signature = lambda *args: True

if __name__ == "__main__":
    bot.main()
