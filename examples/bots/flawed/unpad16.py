#!/usr/bin/env python3
"""A FLAWED bot: ../python/bot.py with the standard 16-byte PKCS#7 unpadder of most libraries.

Baidu pads to 32-byte blocks, so padding runs from 1 to 32 bytes; this unpadder refuses 17 to 32.
The test expects it to fail exactly the case secure_padding_over_16_replied. Do not copy it.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import bot  # noqa: E402


def unpad16(data):
    """PKCS#7 for 16-byte blocks, as in cryptography's padding.PKCS7(128).unpadder()."""
    n = data[-1]
    if n < 1 or n > 16 or data[-n:] != bytes([n]) * n:
        raise ValueError(f"invalid PKCS#7 padding (last byte {n})")
    return data[:-n]


bot.unpad = unpad16  # the flaw

if __name__ == "__main__":
    bot.main()
