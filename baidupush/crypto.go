package baidupush

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// BlockSize is the block of Baidu's PKCS#7-style padding: 32 bytes, twice the AES block, as in
// Baidu's sample PKCS7Encoder. Padding is therefore 1 to 32 bytes long.
const BlockSize = 32

// RandomSize is the length of the random prefix of the encrypted block.
const RandomSize = 16

// KeyLength is the length of an EncodingAESKey: 43 characters of [A-Za-z0-9].
const KeyLength = 43

// sign is sha1_hex(concat(sort(parts))), lowercase hex: both of Baidu's signatures.
func sign(parts ...string) string {
	s := append([]string(nil), parts...)
	sort.Strings(s)
	sum := sha1.Sum([]byte(strings.Join(s, "")))
	return hex.EncodeToString(sum[:])
}

// Signature is the signature of a plain push and of the handshake:
// sha1_hex(concat(sort([token, timestamp, nonce]))).
func Signature(token, timestamp, nonce string) string {
	return sign(token, timestamp, nonce)
}

// MsgSignature is the signature of an encrypted push:
// sha1_hex(concat(sort([token, timestamp, nonce, encrypt]))).
func MsgSignature(token, timestamp, nonce, encrypt string) string {
	return sign(token, timestamp, nonce, encrypt)
}

// VerifySignature reports whether signature is Signature(token, timestamp, nonce), comparing in
// constant time.
func VerifySignature(token, timestamp, nonce, signature string) bool {
	return equal(Signature(token, timestamp, nonce), signature)
}

// VerifyMsgSignature reports whether msgSignature is MsgSignature(token, timestamp, nonce,
// encrypt), comparing in constant time.
func VerifyMsgSignature(token, timestamp, nonce, encrypt, msgSignature string) bool {
	return equal(MsgSignature(token, timestamp, nonce, encrypt), msgSignature)
}

func equal(want, got string) bool {
	return subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}

// CheckKey reports why encodingAESKey is not a valid EncodingAESKey (43 characters of
// [A-Za-z0-9]), or nil.
func CheckKey(encodingAESKey string) error {
	if len(encodingAESKey) != KeyLength {
		return fmt.Errorf("encoding_aes_key: %d characters; want exactly %d of [A-Za-z0-9]", len(encodingAESKey), KeyLength)
	}
	for i := 0; i < len(encodingAESKey); i++ {
		c := encodingAESKey[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return fmt.Errorf("encoding_aes_key: character %d is %q; only [A-Za-z0-9] are allowed", i+1, c)
		}
	}
	return nil
}

// AESKey decodes an EncodingAESKey into the 32-byte AES-256 key: base64(key + "="). It decodes
// leniently, as Baidu's samples do: the spare bits of the last character are ignored, which a
// strict decoder (base64.StdEncoding.Strict()) would refuse for some valid keys.
func AESKey(encodingAESKey string) ([]byte, error) {
	if err := CheckKey(encodingAESKey); err != nil {
		return nil, err
	}
	key, err := base64.StdEncoding.DecodeString(encodingAESKey + "=")
	if err != nil {
		return nil, fmt.Errorf("encoding_aes_key: %w", err)
	}
	return key, nil
}

// Pad appends Baidu's padding to b: n = 32 - len(b)%32 bytes (a whole 32 when b is aligned), each
// of value n.
func Pad(b []byte) []byte {
	n := BlockSize - len(b)%BlockSize
	out := make([]byte, len(b), len(b)+n)
	copy(out, b)
	for range n {
		out = append(out, byte(n))
	}
	return out
}

// ErrPadding is returned by Unpad and Decrypt when the last byte is not a padding length of 1 to
// 32 or the padding bytes differ from it.
var ErrPadding = errors.New("bad padding")

// Unpad removes Baidu's padding: the last byte n, 1 ≤ n ≤ 32, and the n bytes it counts, which
// must all equal n. It is stricter than Baidu's samples (they strip nothing when n is out of
// range and do not check the other bytes) so that an encoder bug shows.
func Unpad(b []byte) ([]byte, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: empty block", ErrPadding)
	}
	n := int(b[len(b)-1])
	if n < 1 || n > BlockSize || n > len(b) {
		return nil, fmt.Errorf("%w: last byte %d is not a length of 1 to %d", ErrPadding, n, BlockSize)
	}
	for _, c := range b[len(b)-n:] {
		if int(c) != n {
			return nil, fmt.Errorf("%w: %d padding bytes should all be %d", ErrPadding, n, n)
		}
	}
	return b[:len(b)-n], nil
}

// Encrypt builds the Encrypt field of a secure push: base64(AES-256-CBC(key, iv = key[:16],
// Pad(random ‖ uint32be(len(msg)) ‖ msg ‖ clientID))).
func Encrypt(encodingAESKey, clientID string, msg []byte, random [RandomSize]byte) (string, error) {
	key, err := AESKey(encodingAESKey)
	if err != nil {
		return "", err
	}
	plain := make([]byte, 0, RandomSize+4+len(msg)+len(clientID))
	plain = append(plain, random[:]...)
	plain = binary.BigEndian.AppendUint32(plain, uint32(len(msg)))
	plain = append(plain, msg...)
	plain = append(plain, clientID...)
	plain = Pad(plain)
	block, err := aes.NewCipher(key)
	if err != nil {
		return "", err
	}
	cipher.NewCBCEncrypter(block, key[:aes.BlockSize]).CryptBlocks(plain, plain)
	return base64.StdEncoding.EncodeToString(plain), nil
}

// Decrypted is the content of an Encrypt field.
type Decrypted struct {
	// Random is the 16-byte prefix.
	Random [RandomSize]byte
	// Msg is the message (JSON or XML).
	Msg []byte
	// ClientID is the trailing id.
	ClientID string
	// PadLen is the length of the padding that was removed (1 to 32).
	PadLen int
}

// Decrypt opens an Encrypt field with the EncodingAESKey. It does not check the trailing id:
// compare Decrypted.ClientID yourself, as Baidu's PHP sample does.
func Decrypt(encodingAESKey, encrypt string) (Decrypted, error) {
	key, err := AESKey(encodingAESKey)
	if err != nil {
		return Decrypted{}, err
	}
	raw, err := base64.StdEncoding.DecodeString(encrypt)
	if err != nil {
		return Decrypted{}, fmt.Errorf("decrypt: Encrypt is not standard base64: %w", err)
	}
	if len(raw) == 0 || len(raw)%aes.BlockSize != 0 {
		return Decrypted{}, fmt.Errorf("decrypt: %d bytes is not a whole number of AES blocks", len(raw))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return Decrypted{}, err
	}
	cipher.NewCBCDecrypter(block, key[:aes.BlockSize]).CryptBlocks(raw, raw)
	plain, err := Unpad(raw)
	if err != nil {
		return Decrypted{}, fmt.Errorf("decrypt: %w (wrong key?)", err)
	}
	if len(plain) < RandomSize+4 {
		return Decrypted{}, fmt.Errorf("decrypt: %d bytes is shorter than the random prefix and the length", len(plain))
	}
	var d Decrypted
	copy(d.Random[:], plain)
	n := binary.BigEndian.Uint32(plain[RandomSize:])
	rest := plain[RandomSize+4:]
	if uint64(n) > uint64(len(rest)) {
		return Decrypted{}, fmt.Errorf("decrypt: length %d is longer than the %d bytes that follow it", n, len(rest))
	}
	d.Msg, d.ClientID, d.PadLen = rest[:n], string(rest[n:]), len(raw)-len(plain)
	return d, nil
}
