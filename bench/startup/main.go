// Command startup starts a server, polls a URL every half millisecond until the server answers, and
// prints the server's PID and the start-up time (exec to first HTTP answer) in milliseconds. The
// server keeps running; the caller stops it by that PID. It gives up (and stops the server) after
// -timeout.
//
//	startup -url http://127.0.0.1:18631/ -log server.log -- ./smartappmock --addr 127.0.0.1:18631
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"time"
)

func main() {
	url := flag.String("url", "", "URL to poll until it answers")
	logFile := flag.String("log", os.DevNull, "file for the server's stdout and stderr")
	timeout := flag.Duration("timeout", 10*time.Second, "give up after this long")
	flag.Parse()
	if *url == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: startup -url URL [-log FILE] -- command [args]")
		os.Exit(2)
	}
	if err := run(*url, *logFile, *timeout, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "startup:", err)
		os.Exit(1)
	}
}

func run(url, logFile string, timeout time.Duration, argv []string) error {
	out, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	defer out.Close()
	client := &http.Client{Timeout: 200 * time.Millisecond, Transport: &http.Transport{DisableKeepAlives: true}}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = out, out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			_ = cmd.Process.Kill()
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			fmt.Printf("%d %.1f\n", cmd.Process.Pid, float64(time.Since(start).Microseconds())/1000)
			return cmd.Process.Release()
		}
		if ctx.Err() != nil {
			_ = cmd.Process.Kill()
			_, _ = cmd.Process.Wait()
			return fmt.Errorf("%s did not answer within %s", url, timeout)
		}
		time.Sleep(500 * time.Microsecond)
	}
}
