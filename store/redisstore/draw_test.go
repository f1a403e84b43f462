package redisstore

import (
	"context"
	"strconv"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/smartappmock/smartappmock/store"
	"github.com/smartappmock/smartappmock/store/redisstore/internal/script"
)

// scriptDraw answers draw(ARGV[i], ARGV[i+1]) for each pair, exactly (%.17g).
var scriptDraw = redis.NewScript(script.DrawSource + `
local out = {}
for i = 1, #ARGV, 2 do
  out[#out + 1] = string.format('%.17g', draw(tonumber(ARGV[i]), tonumber(ARGV[i + 1])))
end
return out
`)

// scriptHasBit answers whether the draw uses Redis's bit library (1) or the arithmetic xor (0).
var scriptHasBit = redis.NewScript(script.DrawSource + `return hasbit and 1 or 0`)

// drawCases are seeds and draw numbers: the edges of the modulus and of uint64, and a spread.
func drawCases() [][2]uint64 {
	seeds := []uint64{0, 1, 2, 42, 48271, drawModulus - 1, drawModulus, drawModulus + 1, 1 << 31, 1 << 32, 1<<63 + 12345, 1<<64 - 1}
	for i := range uint64(40) {
		seeds = append(seeds, i*2654435761+i*i*97)
	}
	ns := []uint64{0, 1, 2, 3, 10, 100, 1000, 65535, 1 << 20, drawModulus - 1, drawModulus, drawModulus + 7}
	for i := range uint64(20) {
		ns = append(ns, 5+i*37)
	}
	var out [][2]uint64
	for _, s := range seeds {
		for _, n := range ns {
			out = append(out, [2]uint64{s, n})
		}
	}
	return out
}

// checkDraw runs every case through the Lua draw of s and compares with store.Draw.
func checkDraw(t *testing.T, s *Store, wantBit bool) {
	hasBit, err := scriptHasBit.Run(context.Background(), s.rdb, nil).Bool()
	if err != nil || hasBit != wantBit {
		t.Fatalf("bit library = %v (%v), want %v", hasBit, err, wantBit)
	}
	cases := drawCases()
	// In batches: miniredis interprets Lua slowly (under -race on a loaded machine, one call for
	// every case outlived the read timeout).
	var got []string
	for from := 0; from < len(cases); from += 128 {
		args := make([]any, 0, 256)
		for _, c := range cases[from:min(from+128, len(cases))] {
			args = append(args, c[0]%drawModulus, c[1])
		}
		part, err := scriptDraw.Run(context.Background(), s.rdb, nil, args...).StringSlice()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, part...)
	}
	if len(got) != len(cases) {
		t.Fatalf("%d draws for %d cases", len(got), len(cases))
	}
	bad := 0
	for i, c := range cases {
		v, err := strconv.ParseFloat(got[i], 64)
		if want := store.Draw(c[0], c[1]); err != nil || v != want {
			if bad++; bad <= 5 {
				t.Errorf("Draw(%d, %d): Lua %s, Go %v", c[0], c[1], got[i], want)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d draws differ", bad, len(cases))
	}
}

func TestDraw_LuaEqualsGo(t *testing.T) {
	for _, tc := range []struct {
		name    string
		open    func(t *testing.T) *Store
		wantBit bool
	}{
		{"Miniredis_ArithmeticXor", func(t *testing.T) *Store { s, _ := miniT(t, Options{}); return s }, false},
		{"RedisServer_BitXor", func(t *testing.T) *Store { return openT(t, realRedisURL(t), Options{Prefix: testPrefix()}) }, true},
	} {
		t.Run(tc.name, func(t *testing.T) { checkDraw(t, tc.open(t), tc.wantBit) })
	}
}
