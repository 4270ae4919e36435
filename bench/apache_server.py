"""Apache 2.4 from Debian (mod_ssl, event MPM) as a benchmark server beside
nginx, on loopback, with a private configuration in a temporary directory:
a TLS listener (self-signed EC certificate made with openssl) serving

  /tiny   a 2-byte static file ("ok": Apache has no answer from the
          configuration alone, so the smallest file stands for nginx's)
  /16k    a 16 KiB static file

One child process (ServerLimit 1) with a fixed pool of threads, keep-alive
without a request limit, no access log: the same shape as nginx_server's
one worker. Apache runs in the foreground in its own session, pinned with
taskset when cpus is given, and is stopped with SIGTERM when the `with`
block ends.
"""
import os
import shutil
import signal
import subprocess
import tempfile

import benchlib
from nginx_server import children, mapped_file, port_in_use

APACHE = "/usr/sbin/apache2"
MODULES = "/usr/lib/apache2/modules"
BODY_16K = 16 * 1024

CONFIG = """\
ServerRoot {modules}/..
ServerName localhost
LoadModule mpm_event_module {modules}/mod_mpm_event.so
LoadModule authz_core_module {modules}/mod_authz_core.so
LoadModule socache_shmcb_module {modules}/mod_socache_shmcb.so
LoadModule ssl_module {modules}/mod_ssl.so
LoadModule mime_module {modules}/mod_mime.so
TypesConfig /etc/mime.types
Listen 127.0.0.1:{tls_port}
PidFile {tmp}/httpd.pid
ErrorLog {tmp}/error.log
DocumentRoot {tmp}/www
User www-data
Group www-data
# one child, its threads fixed: as nginx_server's single worker
StartServers 1
ServerLimit 1
ThreadsPerChild {threads}
MaxRequestWorkers {threads}
MinSpareThreads 1
MaxSpareThreads {threads}
MaxConnectionsPerChild 0
# keep-alive for as long as the load (as nginx_server's keepalive_requests)
KeepAlive On
MaxKeepAliveRequests 0
KeepAliveTimeout 300
SSLSessionCache shmcb:{tmp}/scache(512000)
<VirtualHost 127.0.0.1:{tls_port}>
SSLEngine on
SSLCertificateFile {tmp}/cert.pem
SSLCertificateKeyFile {tmp}/key.pem
</VirtualHost>
"""


class Apache:
    """`with Apache() as a:` a.tls_port (HTTPS), a.master and a.workers
    (pids: the one child), a.libssl (the libssl file the child maps).
    cpus: if given, Apache (parent and child) runs on those CPUs only."""

    def __init__(self, tls_port=18643, cpus=None, threads=16):
        self.tls_port, self.cpus, self.threads = tls_port, cpus, threads
        self.proc = None

    def __enter__(self):
        self.tmp = tempfile.mkdtemp(prefix="usm-bench-apache-")
        os.chmod(self.tmp, 0o755)  # the child runs as www-data and reads www/
        os.mkdir(os.path.join(self.tmp, "www"))
        with open(os.path.join(self.tmp, "www", "tiny"), "w") as f:
            f.write("ok")
        with open(os.path.join(self.tmp, "www", "16k"), "wb") as f:
            f.write(b"x" * BODY_16K)
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes",
                        "-keyout", os.path.join(self.tmp, "key.pem"),
                        "-out", os.path.join(self.tmp, "cert.pem"),
                        "-days", "1", "-subj", "/CN=localhost"], check=True, capture_output=True)
        os.chmod(os.path.join(self.tmp, "key.pem"), 0o644)
        if port_in_use(self.tls_port):
            self.tls_port = benchlib.free_port()
        conf = os.path.join(self.tmp, "httpd.conf")
        with open(conf, "w") as f:
            f.write(CONFIG.format(modules=MODULES, tmp=self.tmp, tls_port=self.tls_port,
                                  threads=self.threads))
        argv = [APACHE, "-f", conf, "-DFOREGROUND"]
        if self.cpus:
            argv = ["taskset", "-c", ",".join(map(str, self.cpus))] + argv
        self.proc = subprocess.Popen(argv, start_new_session=True, stderr=subprocess.DEVNULL)
        try:
            benchlib.wait_for(self._ready, 15, "apache to listen on port %d" % self.tls_port)
        except BaseException:
            self.__exit__()
            raise
        self.master = self.proc.pid  # taskset execs apache2: the same pid
        self.workers = children(self.master)
        self.libssl = mapped_file(self.workers[0], "/libssl.so")
        return self

    def _ready(self):
        if self.proc.poll() is not None:
            raise RuntimeError("apache exited with %s: %s" % (self.proc.returncode,
                                                              self.error_log()))
        return port_in_use(self.tls_port) and len(children(self.proc.pid)) == 1

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
                os.killpg(self.proc.pid, signal.SIGKILL)  # its own session: parent and child
                self.proc.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)
