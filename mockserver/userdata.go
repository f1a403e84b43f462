package mockserver

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"fmt"
)

// EncryptedData is user data as the client hands it to the back end: base64 ciphertext and iv.
type EncryptedData struct {
	Data string `json:"data"`
	IV   string `json:"iv"`
}

// userDataBlock is the padding block of user data: Baidu pads to 32 bytes, not AES's 16.
const userDataBlock = 32

// EncryptUserData encrypts plaintext (JSON) as Baidu's client hands user data to the back end
// (docs/users-and-login.md): AES-192-CBC with the key base64-decoded from sessionKey (24 bytes) and
// a random 16-byte iv, over 16 random bytes, the plaintext's length (4 bytes, big-endian), the
// plaintext and appKey, padded PKCS#7-style to a multiple of 32 bytes.
func EncryptUserData(sessionKey, appKey string, plaintext []byte) (*EncryptedData, error) {
	key, err := base64.StdEncoding.DecodeString(sessionKey)
	if err != nil || len(key) != 24 {
		return nil, fmt.Errorf("session_key: want 24 bytes in base64 (an AES-192 key), got %q", sessionKey)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	msg := make([]byte, 20, 20+len(plaintext)+len(appKey)+userDataBlock)
	_, _ = rand.Read(msg[:16])
	binary.BigEndian.PutUint32(msg[16:20], uint32(len(plaintext)))
	msg = append(msg, plaintext...)
	msg = append(msg, appKey...)
	pad := userDataBlock - len(msg)%userDataBlock
	for range pad {
		msg = append(msg, byte(pad))
	}
	iv := make([]byte, aes.BlockSize)
	_, _ = rand.Read(iv)
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(msg, msg)
	return &EncryptedData{Data: base64.StdEncoding.EncodeToString(msg), IV: base64.StdEncoding.EncodeToString(iv)}, nil
}
