// A small HTTPS server for usm's Go TLS tests: crypto/tls under net/http.
//
//	https_server -addr 127.0.0.1:0 -cert C -key K [-ready FILE]
//
// Listens on addr (port 0: any), writes the port it got to -ready (or
// stdout), and answers every request with 200 and a body of
// `?size=N` bytes (default 2), after reading the request body whole.
// /status/NNN answers with that status. HTTP/2 is on unless
// GODEBUG=http2server=0.
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
)

func handler(w http.ResponseWriter, r *http.Request) {
	n, _ := io.Copy(io.Discard, r.Body)
	w.Header().Set("X-Body-Bytes", strconv.FormatInt(n, 10))
	status := http.StatusOK
	if strings.HasPrefix(r.URL.Path, "/status/") {
		if s, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/status/")); err == nil && s >= 200 && s < 600 {
			status = s
		}
	}
	size := 2
	if s, err := strconv.Atoi(r.URL.Query().Get("size")); err == nil && s >= 0 {
		size = s
	}
	w.Header().Set("Content-Length", strconv.Itoa(size))
	w.WriteHeader(status)
	w.Write([]byte(strings.Repeat("o", size)))
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	cert := flag.String("cert", "", "certificate (PEM)")
	key := flag.String("key", "", "private key (PEM)")
	ready := flag.String("ready", "", "file to write the port to")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	port := fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
	if *ready != "" {
		os.WriteFile(*ready+".tmp", []byte(port), 0o644)
		os.Rename(*ready+".tmp", *ready)
	} else {
		fmt.Println(port)
	}
	srv := &http.Server{Handler: http.HandlerFunc(handler)}
	if err := srv.ServeTLS(ln, *cert, *key); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
