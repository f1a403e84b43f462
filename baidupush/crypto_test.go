package baidupush

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// testKey is a valid EncodingAESKey whose last character ('B') has spare bits set, so that a
// strict base64 decoder refuses it.
const testKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFB"

func TestSignature_PublicVector(t *testing.T) {
	t.Parallel()
	// The public check of docs/baidu-push.md (WeChat uses the identical procedure).
	const want = "f464b24fc39322e44b38aa78f5edd27bd1441696"
	if got := Signature("AAAAA", "1714036504", "1514711492"); got != want {
		t.Errorf("Signature(AAAAA, 1714036504, 1514711492) = %s; want %s", got, want)
	}
	if !VerifySignature("AAAAA", "1714036504", "1514711492", want) {
		t.Error("VerifySignature(public vector) = false; want true")
	}
}

func TestVerify_Outcomes(t *testing.T) {
	t.Parallel()
	good := MsgSignature("tok", "1", "2", "ENC")
	for _, tc := range []struct {
		name string
		got  bool
		want bool
	}{
		{"Signature_Matches", VerifySignature("tok", "1", "2", Signature("tok", "2", "1")), true}, // sorted: order does not matter
		{"Signature_WrongToken", VerifySignature("tok", "1", "2", Signature("other", "1", "2")), false},
		{"Signature_Uppercase", VerifySignature("tok", "1", "2", strings.ToUpper(Signature("tok", "1", "2"))), false},
		{"Signature_Empty", VerifySignature("tok", "1", "2", ""), false},
		{"MsgSignature_Matches", VerifyMsgSignature("tok", "1", "2", "ENC", good), true},
		{"MsgSignature_OtherEncrypt", VerifyMsgSignature("tok", "1", "2", "ENX", good), false},
		{"MsgSignature_IsNotSignature", VerifyMsgSignature("tok", "1", "2", "ENC", Signature("tok", "1", "2")), false},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: got %v; want %v", tc.name, tc.got, tc.want)
		}
	}
}

func TestMsgSignature_SortsFourParts(t *testing.T) {
	t.Parallel()
	// sha1("1535551395" + "4464221" + "ENCRYPT" + "token"), the four sorted by byte value.
	want := sign("1535551395", "4464221", "ENCRYPT", "token")
	if got := MsgSignature("token", "1535551395", "4464221", "ENCRYPT"); got != want {
		t.Errorf("MsgSignature = %s; want %s", got, want)
	}
	if got, want := sign("b", "a"), "da23614e02469a0d7c7bd1bdab5c9c474b1904dc"; got != want { // sha1("ab")
		t.Errorf(`sign("b", "a") = %s; want sha1("ab") = %s`, got, want)
	}
}

func TestCheckKey_Outcomes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, key, wantErr string
	}{
		{"Valid", testKey, ""},
		{"TooShort", testKey[:42], "42 characters; want exactly 43"},
		{"TooLong", testKey + "A", "44 characters"},
		{"Plus", testKey[:42] + "+", `character 43 is '+'`},
		{"Padded", testKey[:42] + "=", `character 43 is '='`},
		{"Empty", "", "0 characters"},
	} {
		err := CheckKey(tc.key)
		if tc.wantErr == "" {
			if err != nil {
				t.Errorf("%s: CheckKey = %v; want nil", tc.name, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s: CheckKey = %v; want an error containing %q", tc.name, err, tc.wantErr)
		}
	}
}

func TestAESKey_LenientAboutSpareBits(t *testing.T) {
	t.Parallel()
	if _, err := base64.StdEncoding.Strict().DecodeString(testKey + "="); err == nil {
		t.Fatal("the strict decoder accepted testKey; pick a key whose last character has spare bits")
	}
	key, err := AESKey(testKey)
	if err != nil {
		t.Fatalf("AESKey(%s) = %v; want a key", testKey, err)
	}
	if len(key) != 32 {
		t.Errorf("len(AESKey) = %d; want 32 (AES-256)", len(key))
	}
}

func TestPad_ThirtyTwoByteBlocks(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		n, wantPad int
	}{
		{0, 32}, {1, 31}, {15, 17}, {16, 16}, {17, 15}, {31, 1}, {32, 32}, {33, 31}, {47, 17}, {48, 16},
	} {
		b := bytes.Repeat([]byte{'x'}, tc.n)
		p := Pad(b)
		if got := len(p) - tc.n; got != tc.wantPad {
			t.Errorf("Pad(%d bytes) added %d; want %d", tc.n, got, tc.wantPad)
		}
		if want := bytes.Repeat([]byte{byte(tc.wantPad)}, tc.wantPad); !bytes.Equal(p[tc.n:], want) {
			t.Errorf("Pad(%d bytes) tail = %v; want %d bytes of %d", tc.n, p[tc.n:], tc.wantPad, tc.wantPad)
		}
		back, err := Unpad(p)
		if err != nil || !bytes.Equal(back, b) {
			t.Errorf("Unpad(Pad(%d bytes)) = %d bytes, %v; want the input", tc.n, len(back), err)
		}
	}
}

func TestUnpad_Refuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		in   []byte
	}{
		{"Empty", nil},
		{"Zero", append(bytes.Repeat([]byte{'x'}, 31), 0)},
		{"ThirtyThree", bytes.Repeat([]byte{33}, 64)},
		{"LongerThanInput", []byte{'x', 5}},
		{"MixedBytes", append(bytes.Repeat([]byte{'x'}, 28), 3, 4, 4, 4)},
	} {
		if _, err := Unpad(tc.in); !errors.Is(err, ErrPadding) {
			t.Errorf("%s: Unpad = %v; want ErrPadding", tc.name, err)
		}
	}
}

// padOf is the padding Encrypt must add to a message of n bytes with the trailing id id:
// 32 - len % 32 over random (16) ‖ length (4) ‖ message ‖ id, as docs/baidu-push.md says.
func padOf(n int, id string) int { return 32 - (16+4+n+len(id))%32 }

func TestEncryptDecrypt_RoundTripEveryPadding(t *testing.T) {
	t.Parallel()
	random := [RandomSize]byte([]byte("0123456789abcdef"))
	const id = "clientid"
	seen := map[int]bool{}
	for n := 0; n < 70; n++ {
		msg := []byte(strings.Repeat("m", n))
		enc, err := Encrypt(testKey, id, msg, random)
		if err != nil {
			t.Fatalf("Encrypt(%d bytes): %v", n, err)
		}
		d, err := Decrypt(testKey, enc)
		if err != nil {
			t.Fatalf("Decrypt(Encrypt(%d bytes)): %v", n, err)
		}
		want := Decrypted{Random: random, Msg: msg, ClientID: id, PadLen: padOf(n, id)}
		if diff := cmp.Diff(want, d, cmp.Comparer(func(a, b []byte) bool { return bytes.Equal(a, b) })); diff != "" {
			t.Errorf("Decrypt(Encrypt(%d bytes)) mismatch (-want +got):\n%s", n, diff)
		}
		seen[d.PadLen] = true
	}
	for pad := 1; pad <= 32; pad++ {
		if !seen[pad] {
			t.Errorf("no message had padding %d", pad)
		}
	}
}

func TestDecrypt_Refuses(t *testing.T) {
	t.Parallel()
	enc, err := Encrypt(testKey, "id", []byte("hello"), [RandomSize]byte{})
	if err != nil {
		t.Fatal(err)
	}
	otherKey := strings.Repeat("Z", 43)
	for _, tc := range []struct {
		name, key, enc, wantErr string
	}{
		{"WrongKey", otherKey, enc, "bad padding"},
		{"NotBase64", testKey, "***", "not standard base64"},
		{"URLBase64", testKey, strings.NewReplacer("+", "-", "/", "_").Replace(enc) + "-_", "not standard base64"},
		{"NotWholeBlocks", testKey, base64.StdEncoding.EncodeToString(make([]byte, 20)), "not a whole number of AES blocks"},
		{"Empty", testKey, "", "not a whole number"},
		{"BadKey", "short", enc, "encoding_aes_key"},
	} {
		_, err := Decrypt(tc.key, tc.enc)
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s: Decrypt = %v; want an error containing %q", tc.name, err, tc.wantErr)
		}
	}
}

func ExampleSignature() {
	fmt.Println(Signature("AAAAA", "1714036504", "1514711492"))
	// Output: f464b24fc39322e44b38aa78f5edd27bd1441696
}
