"""nginx from Debian as the benchmarks' server, on loopback, with a private
configuration in a temporary directory: a TLS listener (self-signed EC
certificate made with openssl) and a clear-text one, both serving

  /tiny          200 "ok" from the configuration (no file, no handler work)
  /16k           a 16 KiB static file
  anything else  200 "ok", so that clients can ask for any number of
                 distinct paths

nginx runs in the foreground (`daemon off`) in its own session and is
stopped with SIGTERM (fast shutdown) when the `with` block ends.
"""
import os
import shutil
import signal
import socket
import subprocess
import tempfile

import benchlib

NGINX = "/usr/sbin/nginx"
BODY_16K = 16 * 1024

CONFIG = """\
daemon off;
master_process on;
worker_processes {workers};
{affinity}
worker_rlimit_nofile {nofile};
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections {connections}; }}
http {{
    access_log off;
    # Keep-alive connections live as long as the load: by default nginx
    # closes one after 1,000 requests, and wrk's reconnections (with TLS
    # handshakes) would then be part of what is measured.
    keepalive_requests 100000000;
    keepalive_timeout 300s;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    default_type text/plain;
    ssl_certificate {tmp}/cert.pem;
    ssl_certificate_key {tmp}/key.pem;
    server {{
        listen 127.0.0.1:{tls_port} ssl{http2};
        listen 127.0.0.1:{plain_port};
        root {tmp}/www;
        location = /tiny {{ return 200 "ok"; }}
        location = /16k {{ }}
        location / {{ return 200 "ok"; }}
    }}
}}
"""


class Nginx:
    """`with Nginx() as n:` n.tls_port (HTTPS), n.plain_port (HTTP),
    n.master and n.workers (pids), n.libssl (the libssl file the workers map).
    http2: the TLS listener offers h2 too (ALPN; clients that ask for
    http/1.1 only, as wrk, still get HTTP/1.1).

    workers: worker processes; cpus: if given, worker i is pinned to
    cpus[i % len(cpus)] (worker_cpu_affinity), so that the load generator
    can be kept off its CPU."""

    def __init__(self, tls_port=18443, plain_port=18480, workers=1, cpus=None, connections=4096,
                 http2=False):
        self.tls_port, self.plain_port, self.http2 = tls_port, plain_port, http2
        self.nworkers, self.cpus, self.connections = workers, cpus, connections
        self.proc = None

    def __enter__(self):
        self.tmp = tempfile.mkdtemp(prefix="usm-bench-nginx-")
        os.chmod(self.tmp, 0o755)  # workers run as nobody and read www/
        os.mkdir(os.path.join(self.tmp, "www"))
        with open(os.path.join(self.tmp, "www", "16k"), "wb") as f:
            f.write(b"x" * BODY_16K)
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes",
                        "-keyout", os.path.join(self.tmp, "key.pem"),
                        "-out", os.path.join(self.tmp, "cert.pem"),
                        "-days", "1", "-subj", "/CN=localhost"], check=True, capture_output=True)
        # Fixed ports by default, apart from the tests'; a free one if taken.
        if port_in_use(self.tls_port):
            self.tls_port = benchlib.free_port()
        if port_in_use(self.plain_port):
            self.plain_port = benchlib.free_port()
        affinity = ""
        if self.cpus:
            masks = [format(1 << self.cpus[i % len(self.cpus)], "b") for i in range(self.nworkers)]
            affinity = "worker_cpu_affinity %s;" % " ".join(masks)
        conf = os.path.join(self.tmp, "nginx.conf")
        with open(conf, "w") as f:
            f.write(CONFIG.format(tmp=self.tmp, workers=self.nworkers, affinity=affinity,
                                  connections=self.connections, nofile=2 * self.connections + 64,
                                  tls_port=self.tls_port, plain_port=self.plain_port,
                                  http2=" http2" if self.http2 else ""))
        self.proc = subprocess.Popen([NGINX, "-p", self.tmp, "-c", conf,
                                      "-e", os.path.join(self.tmp, "error.log")],
                                     start_new_session=True)
        try:
            benchlib.wait_for(self._ready, 15, "nginx to listen on ports %d and %d"
                              % (self.tls_port, self.plain_port))
        except BaseException:
            self.__exit__()
            raise
        self.master = self.proc.pid
        self.workers = children(self.master)
        self.libssl = mapped_file(self.workers[0], "/libssl.so")
        return self

    def _ready(self):
        if self.proc.poll() is not None:
            raise RuntimeError("nginx exited with %s: %s" % (self.proc.returncode, self.error_log()))
        return (port_in_use(self.tls_port) and port_in_use(self.plain_port)
                and len(children(self.proc.pid)) == self.nworkers)

    def error_log(self):
        try:
            with open(os.path.join(self.tmp, "error.log")) as f:
                return f.read()[-2000:]
        except OSError:
            return ""

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)  # its own session: master and workers
                self.proc.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)


def port_in_use(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def children(pid):
    """PIDs whose parent is pid."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    return sorted(out)


def mapped_file(pid, name):
    """The path of the first file mapped by pid whose path contains name."""
    with open("/proc/%d/maps" % pid) as f:
        for line in f:
            fields = line.split(None, 5)
            if len(fields) == 6 and name in fields[5]:
                return fields[5].strip()
    raise RuntimeError("process %d maps no %s" % (pid, name))
