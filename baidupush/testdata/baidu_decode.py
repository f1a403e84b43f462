#!/usr/bin/env python3
"""An independent decoder of Baidu's message push, for the cross-check in python_test.go.

Written from the steps of Baidu's sample crypto code (PHP AesEncryptUtil / PKCS7Encoder, Java
MsgSignatureUtil / AesDecryptUtil) as BAIDU-PUSH.md describes them, not from the Go package.
Standard library only: AES-256 decryption is implemented below from FIPS-197; when the
`cryptography` package happens to be installed, every block is also decrypted with it and the two
must agree.

Reads {"cases": [{name, token, encoding_aes_key, client_id, format, query, body, raw}]} on stdin
and writes {"aes": ..., "results": [{name, signature_ok, msg_signature_ok, encrypted, pad,
client_id, client_id_ok, message, error, raw}]} on stdout (raw, the decrypted text, only for a case
with raw true: a third-party platform's ticket or authorization event).
"""
import base64
import hashlib
import json
import struct
import sys
import xml.etree.ElementTree as ET

# ---- AES-256 decryption (FIPS-197), pure Python -------------------------------------------------


def _xtime(a):
    a <<= 1
    return (a ^ 0x11B) if a & 0x100 else a


def _mul(a, b):
    r = 0
    while b:
        if b & 1:
            r ^= a
        a = _xtime(a)
        b >>= 1
    return r


def _sbox():
    # S-box: multiplicative inverse in GF(2^8), then the affine transform (FIPS-197 5.1.1).
    inv = [0] * 256
    for a in range(1, 256):
        for b in range(1, 256):
            if _mul(a, b) == 1:
                inv[a] = b
                break
    box = []
    for a in range(256):
        b = inv[a]
        s = b
        for _ in range(4):
            b = ((b << 1) | (b >> 7)) & 0xFF
            s ^= b
        box.append(s ^ 0x63)
    return box


SBOX = _sbox()
INV_SBOX = [0] * 256
for _i, _v in enumerate(SBOX):
    INV_SBOX[_v] = _i


def expand_key(key):
    """Round keys of AES-256 (Nk = 8, Nr = 14): 15 keys of 16 bytes."""
    assert len(key) == 32
    words = [list(key[4 * i:4 * i + 4]) for i in range(8)]
    rcon = 1
    for i in range(8, 60):
        t = list(words[i - 1])
        if i % 8 == 0:
            t = t[1:] + t[:1]
            t = [SBOX[x] for x in t]
            t[0] ^= rcon
            rcon = _xtime(rcon)
        elif i % 8 == 4:
            t = [SBOX[x] for x in t]
        words.append([a ^ b for a, b in zip(words[i - 8], t)])
    return [sum(words[4 * r:4 * r + 4], []) for r in range(15)]


def decrypt_block(round_keys, block):
    # The state is column-major: byte r + 4c is row r, column c, as the input is laid out.
    s = [b ^ k for b, k in zip(block, round_keys[14])]
    for rnd in range(13, -1, -1):
        s = [s[r + 4 * ((c - r) % 4)] for c in range(4) for r in range(4)]  # InvShiftRows
        s = [INV_SBOX[x] for x in s]  # InvSubBytes
        s = [x ^ k for x, k in zip(s, round_keys[rnd])]  # AddRoundKey
        if rnd:
            out = []
            for c in range(4):  # InvMixColumns
                a = s[4 * c:4 * c + 4]
                out += [
                    _mul(a[0], 14) ^ _mul(a[1], 11) ^ _mul(a[2], 13) ^ _mul(a[3], 9),
                    _mul(a[0], 9) ^ _mul(a[1], 14) ^ _mul(a[2], 11) ^ _mul(a[3], 13),
                    _mul(a[0], 13) ^ _mul(a[1], 9) ^ _mul(a[2], 14) ^ _mul(a[3], 11),
                    _mul(a[0], 11) ^ _mul(a[1], 13) ^ _mul(a[2], 9) ^ _mul(a[3], 14),
                ]
            s = out
    return bytes(s)


def aes256_cbc_decrypt_nopad(key, iv, data):
    keys = expand_key(key)
    out, prev = bytearray(), iv
    for i in range(0, len(data), 16):
        block = data[i:i + 16]
        out += bytes(a ^ b for a, b in zip(decrypt_block(keys, block), prev))
        prev = block
    return bytes(out)


def _self_test():
    # FIPS-197 appendix C.3 (AES-256).
    key = bytes(range(32))
    ct = bytes.fromhex("8ea2b7ca516745bfeafc49904b496089")
    assert decrypt_block(expand_key(key), ct) == bytes.fromhex("00112233445566778899aabbccddeeff"), "AES self-test failed"


try:  # optional second opinion
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    def _other_decrypt(key, iv, data):
        d = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
        return d.update(data) + d.finalize()
except ImportError:  # pragma: no cover - depends on the machine
    _other_decrypt = None

# ---- Baidu's steps -------------------------------------------------------------------------------


def sha1_sorted(*parts):
    """MsgSignatureUtil: sort the strings, concatenate, sha1, lowercase hex."""
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def pkcs7_decode(text):
    """PKCS7Encoder::decode of Baidu's PHP sample: a block of 32, not 16."""
    pad = text[-1]
    if pad < 1 or pad > 32:
        pad = 0
    return text[:len(text) - pad], pad


def aes_decrypt(encoding_aes_key, encrypted):
    """AesEncryptUtil::decrypt: key = base64(EncodingAESKey + "="), iv = key[0:16]."""
    # Lenient decoding, as PHP's base64_decode: the spare bits of the last character are ignored.
    key = base64.b64decode(encoding_aes_key + "=")
    iv = key[:16]
    ciphertext = base64.b64decode(encrypted, validate=True)
    decrypted = aes256_cbc_decrypt_nopad(key, iv, ciphertext)
    if _other_decrypt is not None:
        assert _other_decrypt(key, iv, ciphertext) == decrypted, "pure-Python AES and cryptography disagree"
    result, pad = pkcs7_decode(decrypted)
    content = result[16:]  # drop the 16 random bytes
    (msg_len,) = struct.unpack(">I", content[:4])  # unpack("N", ...)
    msg = content[4:4 + msg_len]
    from_client_id = content[4 + msg_len:]
    return msg, from_client_id.decode("utf-8"), pad


FIELDS = ("ToUserName", "FromUserName", "CreateTime", "MsgType", "Content", "PicUrl", "MsgId",
          "Encrypt", "MsgSignature", "TimeStamp", "Nonce")


def parse(fmt, body):
    if fmt == "json":
        return json.loads(body)
    root = ET.fromstring(body)
    assert root.tag == "xml", root.tag
    out = {}
    for child in root:
        text = child.text or ""
        out[child.tag] = int(text) if child.tag in ("CreateTime", "MsgId") else text
    return out


def message_of(d):
    return {k: d[k] for k in ("ToUserName", "FromUserName", "CreateTime", "MsgType", "Content", "PicUrl", "MsgId") if k in d}


def decode(case):
    res = {"name": case["name"], "signature_ok": None, "msg_signature_ok": None, "encrypted": False,
           "pad": None, "client_id": None, "client_id_ok": None, "message": None, "error": None}
    q, token = case["query"], case["token"]
    outer = parse(case["format"], case["body"])
    if "signature" in q:
        res["signature_ok"] = sha1_sorted(token, q["timestamp"], q["nonce"]) == q["signature"]
    if "Encrypt" not in outer:
        res["message"] = message_of(outer)
        return res
    res["encrypted"] = True
    encrypt = outer["Encrypt"]
    if "MsgSignature" in outer:  # the documented body envelope
        ts, nonce, msg_sig = outer["TimeStamp"], outer["Nonce"], outer["MsgSignature"]
    else:  # the query envelope
        ts, nonce, msg_sig = q.get("timestamp"), q.get("nonce"), q.get("msg_signature")
    res["msg_signature_ok"] = sha1_sorted(token, ts, nonce, encrypt) == msg_sig
    msg, client_id, pad = aes_decrypt(case["encoding_aes_key"], encrypt)
    res["pad"], res["client_id"] = pad, client_id
    res["client_id_ok"] = client_id == case["client_id"]  # the PHP sample checks it
    if case.get("raw"):  # a third-party platform's push: its JSON as decrypted
        res["raw"] = msg.decode("utf-8")
    res["message"] = message_of(parse(case["format"], msg.decode("utf-8")))
    return res


def main():
    _self_test()
    cases = json.load(sys.stdin)["cases"]
    results = []
    for case in cases:
        try:
            results.append(decode(case))
        except Exception as e:  # report, do not hide: the Go test prints it
            results.append({"name": case["name"], "error": f"{type(e).__name__}: {e}"})
    aes = "pure-python" + ("+cryptography" if _other_decrypt else "")
    json.dump({"aes": aes, "results": results}, sys.stdout)


if __name__ == "__main__":
    main()
