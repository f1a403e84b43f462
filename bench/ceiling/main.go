// Command ceiling is the benchmark's yardstick: a hand-written net/http handler for the send
// endpoint with no spec, no state and no journal. It checks the token against a fixed list and the
// form fields by hand, and answers the same envelopes as the fake. Whatever the fake does on top
// of this (spec validation, tenants, windows, journal, metrics) is measured as a ratio to it.
//
//	ceiling --addr 127.0.0.1:18632 --token bench-token
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

const sendPath = "/rest/2.0/smartapp/message/custom/send"

var (
	okBody      = []byte(`{"errno":0,"msg":"success"}`)
	invalidBody = []byte(`{"errno":3001,"msg":"请求参数有误","data":{}}`)
	tokenBody   = []byte(`{"error_code":110,"error_msg":"Access token invalid or no longer valid"}`)
	missingBody = []byte(`{"error_code":100,"error_msg":"Invalid parameter"}`)
	unknownBody = []byte(`{"error_code":3,"error_msg":"Unsupported openapi method"}`)
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18632", "listen address")
	token := flag.String("token", "bench-token", "the one access token accepted")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ceiling:", err)
		os.Exit(1)
	}
	fmt.Printf("ceiling listening on http://%s\n", ln.Addr())
	hs := &http.Server{Handler: handler{token: *token}, ReadHeaderTimeout: 10 * time.Second}
	if err := hs.Serve(ln); err != nil {
		fmt.Fprintln(os.Stderr, "ceiling:", err)
		os.Exit(1)
	}
}

type handler struct{ token string }

func (h handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != sendPath || r.Method != http.MethodPost {
		write(w, unknownBody)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		write(w, invalidBody)
		return
	}
	switch tok := r.Form.Get("access_token"); {
	case tok == "":
		write(w, missingBody)
		return
	case tok != h.token:
		write(w, tokenBody)
		return
	}
	ut, err := strconv.Atoi(r.Form.Get("user_type"))
	valid := err == nil && (ut == 1 || ut == 2) && r.Form.Get("open_id") != ""
	switch r.Form.Get("msg_type") {
	case "text":
		valid = valid && strings.TrimSpace(r.Form.Get("content")) != ""
	case "image":
		valid = valid && strings.TrimSpace(r.Form.Get("pic_url")) != ""
	default:
		valid = false
	}
	if !valid {
		write(w, invalidBody)
		return
	}
	write(w, okBody)
}

func write(w http.ResponseWriter, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body)
}
