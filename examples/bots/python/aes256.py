"""AES-256-CBC decryption in pure Python (FIPS-197), so that the example bot needs nothing but the
standard library. Slow (a few milliseconds per push) but enough for a bot; in production use a
maintained package such as `cryptography` (Cipher(algorithms.AES(key), modes.CBC(iv))).
"""


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
    # Walk the multiplicative group with the generator 3: log/antilog tables give inverses.
    exp, log = [0] * 255, [0] * 256
    x = 1
    for i in range(255):
        exp[i], log[x] = x, i
        x = _mul(x, 3)
    box = []
    for a in range(256):
        b = exp[(255 - log[a]) % 255] if a else 0
        s = b
        for _ in range(4):
            b = ((b << 1) | (b >> 7)) & 0xFF
            s ^= b
        box.append(s ^ 0x63)
    return box


_SBOX = _sbox()
_INV = [0] * 256
for _i, _v in enumerate(_SBOX):
    _INV[_v] = _i
_M9, _M11, _M13, _M14 = ([_mul(x, k) for x in range(256)] for k in (9, 11, 13, 14))


def _round_keys(key):
    words = [list(key[4 * i:4 * i + 4]) for i in range(8)]
    rcon = 1
    for i in range(8, 60):
        t = list(words[i - 1])
        if i % 8 == 0:
            t = [_SBOX[x] for x in t[1:] + t[:1]]
            t[0] ^= rcon
            rcon = _xtime(rcon)
        elif i % 8 == 4:
            t = [_SBOX[x] for x in t]
        words.append([a ^ b for a, b in zip(words[i - 8], t)])
    return [sum(words[4 * r:4 * r + 4], []) for r in range(15)]


def _decrypt_block(keys, block):
    s = [b ^ k for b, k in zip(block, keys[14])]
    for rnd in range(13, -1, -1):
        s = [_INV[s[r + 4 * ((c - r) % 4)]] ^ keys[rnd][r + 4 * c] for c in range(4) for r in range(4)]
        if rnd:
            out = []
            for c in range(4):
                a0, a1, a2, a3 = s[4 * c:4 * c + 4]
                out += [_M14[a0] ^ _M11[a1] ^ _M13[a2] ^ _M9[a3], _M9[a0] ^ _M14[a1] ^ _M11[a2] ^ _M13[a3],
                        _M13[a0] ^ _M9[a1] ^ _M14[a2] ^ _M11[a3], _M11[a0] ^ _M13[a1] ^ _M9[a2] ^ _M14[a3]]
            s = out
    return s


def cbc_decrypt(key, iv, data):
    """Decrypt data (a multiple of 16 bytes) with AES-256-CBC; no padding is removed."""
    if len(key) != 32 or len(iv) != 16 or len(data) % 16:
        raise ValueError("AES-256-CBC needs a 32-byte key, a 16-byte iv and whole 16-byte blocks")
    keys, out, prev = _round_keys(key), bytearray(), iv
    for i in range(0, len(data), 16):
        block = data[i:i + 16]
        out += bytes(a ^ b for a, b in zip(_decrypt_block(keys, block), prev))
        prev = block
    return bytes(out)


# FIPS-197 appendix C.3: fail at import rather than decrypt garbage.
assert bytes(_decrypt_block(_round_keys(bytes(range(32))), bytes.fromhex("8ea2b7ca516745bfeafc49904b496089"))) \
    == bytes.fromhex("00112233445566778899aabbccddeeff"), "aes256: self-test failed"
