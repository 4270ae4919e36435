// A small HTTPS client for usm's Go TLS tests: crypto/tls under net/http.
//
//	https_client -url URL -n N [-fresh] [-post BYTES] [-ca FILE]
//
// Makes N requests to URL (GET, or POST with a body of BYTES bytes),
// reading each response whole; -fresh opens a new connection for each
// (keep-alive otherwise). -ca trusts that certificate (else none is
// checked: tests use a self-signed one). Prints "ok N" on success, and
// exits 1 at the first error. HTTP/2 is tried unless
// GODEBUG=http2client=0.
package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
)

func main() {
	url := flag.String("url", "", "URL")
	n := flag.Int("n", 1, "requests")
	fresh := flag.Bool("fresh", false, "a new connection per request")
	post := flag.Int("post", -1, "POST a body of this many bytes")
	ca := flag.String("ca", "", "trusted certificate (PEM)")
	flag.Parse()
	cfg := &tls.Config{InsecureSkipVerify: *ca == ""}
	if *ca != "" {
		pem, err := os.ReadFile(*ca)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		cfg.RootCAs = x509.NewCertPool()
		cfg.RootCAs.AppendCertsFromPEM(pem)
	}
	tr := &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: *fresh, ForceAttemptHTTP2: true}
	client := &http.Client{Transport: tr}
	for i := 0; i < *n; i++ {
		var resp *http.Response
		var err error
		if *post >= 0 {
			resp, err = client.Post(*url, "application/octet-stream", bytes.NewReader(make([]byte, *post)))
		} else {
			resp, err = client.Get(*url)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	fmt.Println("ok", *n)
}
