"""Harness for usm's end-to-end tests: starts the real usm-privd (which
starts the real collector and apid) on a temporary runtime directory and a
free loopback port, and offers small helpers to query the API and inspect
processes. Standard library only.

Root and BPF: these tests need root (privd drops privileges to the usm
users). Without root they skip, unless USM_REQUIRE_BPF=1, where they fail:
CI sets it so that a machine that cannot run them is a red build, not a
quietly green one.
"""
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("USM_BUILD_DIR", os.path.join(REPO, "build-test"))
PRIVD = os.path.join(BUILD, "privd", "usm-privd")
IPC_PROBE = os.path.join(BUILD, "tests", "e2e", "ipc_probe")

# Message types (common/ipc_proto.h) the probes send.
MSG_PRIVD_HEALTH_REQ = 16
MSG_COLL_STATS_REQ = 32


def require_privileges(test):
    """Skip (or fail under USM_REQUIRE_BPF=1) when the machine cannot run
    the daemons for real."""
    missing = []
    if os.geteuid() != 0:
        missing.append("root")
    if not os.path.exists("/sys/kernel/btf/vmlinux"):
        missing.append("kernel BTF")
    for user in ("usm-collector", "usm-api", "usm-bpf", "usm-inspect"):
        try:
            pwd.getpwnam(user)
        except KeyError:
            missing.append("user " + user + " (scripts/setup.sh creates it)")
    if not missing:
        return
    why = "needs " + ", ".join(missing)
    if os.environ.get("USM_REQUIRE_BPF") == "1":
        test.fail(why + " (USM_REQUIRE_BPF=1: failing instead of skipping)")
    raise unittest.SkipTest(why)


def test_failed(test):
    """Whether test (running its cleanups) has failed or errored so far.
    Not test._outcome.success: since Python 3.11 a failure goes straight
    to the result and leaves it True, so logs meant for failures were
    never printed."""
    result = test._outcome.result
    return any(t is test for t, _ in result.failures + result.errors)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_cert(directory):
    """A self-signed EC certificate for test TLS servers: (key, cert) paths."""
    key, cert = os.path.join(directory, "key.pem"), os.path.join(directory, "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "1", "-subj", "/CN=localhost"],
                   check=True, capture_output=True)
    return key, cert


NODE_TLS_SERVER = r"""
const https = require('https'), fs = require('fs');
const [port, cert, key, log] = process.argv.slice(2);
https.createServer({cert: fs.readFileSync(cert), key: fs.readFileSync(key)}, (req, res) => {
  const status = req.url === '/missing' ? 404 : 200;
  req.resume();
  req.on('end', () => {
    if (log) fs.appendFileSync(log, req.url + ' ' + status + '\n');
    res.writeHead(status, {'Content-Type': 'text/plain'});
    res.end('node\n');
  });
}).listen(Number(port), '127.0.0.1', () => console.log('ready'));
"""


def node_tls_server_args(directory, port, cert, key, access_log=None):
    """argv of a node HTTPS server on 127.0.0.1:port that prints 'ready'
    once listening; /missing answers 404, anything else 200; with
    access_log, it appends "PATH STATUS" there for each request it answers.
    node carries its own OpenSSL, which usm does not probe unless
    enable_nodejs_monitoring is set: only its clients' side is seen."""
    js = os.path.join(directory, "node_tls_server.js")
    with open(js, "w") as f:
        f.write(NODE_TLS_SERVER)
    return ["node", js, str(port), cert, key] + ([access_log] if access_log else [])


NGINX = "/usr/sbin/nginx"

# Debian's nginx run by a test: in the foreground, one master and one
# worker, every file in the test's own directory; the test gives the
# server block.
_NGINX_CONF = """daemon off;
master_process on;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    default_type text/plain;
{server}
}}
"""


def nginx_conf(d, server):
    """nginx.conf's text for a directory d (0755: the worker runs as
    nobody) and one server block."""
    return _NGINX_CONF.format(dir=d, server=server)


def stop_nginx(nginx):
    """SIGTERM to nginx's master (started with start_new_session), SIGKILL
    to its whole group after 10 s."""
    if nginx.poll() is None:
        nginx.send_signal(signal.SIGTERM)
        try:
            nginx.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(nginx.pid, signal.SIGKILL)
            nginx.wait()


HTTP_SERVERS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "http_servers.py")

# http_servers.py under another command name, written to /proc/self/comm
# before it serves (usm names a service by the command at capture time).
_RENAMED = ("import runpy, sys; open('/proc/self/comm', 'w').write(sys.argv[2]); "
            "sys.argv = [sys.argv[1]] + sys.argv[3:]; "
            "runpy.run_path(sys.argv[0], run_name='__main__')")


def renamed_http_server_args(comm, kind, port):
    """argv of `http_servers.py KIND PORT` whose command (usm's service
    unless it chose a name) is comm, at most 15 characters: a name no
    other process on the host has makes a service's totals this test's
    own."""
    return [sys.executable, "-c", _RENAMED, HTTP_SERVERS, comm, kind, str(port)]


def spawn_ready(args, procs, env=None):
    """Starts args (in env, else this process's environment), appends it
    to procs (the caller stops them: stop_processes) and waits for its
    first line, which must be "ready"."""
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=env)
    procs.append(p)
    line = p.stdout.readline()
    if line.strip() != "ready":
        raise AssertionError("%s did not start: %s%s" % (args, line, p.stderr.read()))
    return p


def stop_processes(procs, timeout=10):
    """SIGTERM to each of procs still running, SIGKILL after timeout."""
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def proc_status(pid):
    """/proc/PID/status as a dict of field -> value string."""
    return proc_status_path("/proc/%d/status" % pid)


def proc_status_path(path):
    """A status file (/proc/PID/status, /proc/PID/task/TID/status) as a dict."""
    fields = {}
    with open(path) as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields


def pid_alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ")[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def processes_named(comm):
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/comm" % entry) as f:
                if f.read().strip() == comm:
                    found.append(int(entry))
        except OSError:
            pass
    return found


def wait_for(predicate, timeout=10.0, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.1f s waiting for %s" % (timeout, what))
        time.sleep(interval)


def http_request(port, method, path, body=None, timeout=10):
    """A minimal HTTP/1.1 client on a plain socket. Not urllib: importing
    it loads libssl into this process, which would make the test runner a
    traced process of the usm it is testing."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        head = "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n" % (method, path, port)
        if body is not None:
            head += "Content-Type: application/json\r\nContent-Length: %d\r\n" % len(body)
        s.sendall(head.encode() + b"\r\n" + (body or b""))
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
            if b"\r\n\r\n" in data:
                header, _, rest = data.partition(b"\r\n\r\n")
                length = [l for l in header.split(b"\r\n") if l.lower().startswith(b"content-length:")]
                if length and len(rest) >= int(length[0].split(b":")[1]):
                    break
    header, _, rest = data.partition(b"\r\n\r\n")
    lines = header.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip()] = v.strip()
    return Response(status, headers, rest.decode())


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)


class Usm:
    """One running usm-privd with its children."""

    def __init__(self, *options):
        self.tmp = tempfile.mkdtemp(prefix="usm-e2e-")
        os.chmod(self.tmp, 0o755)
        self.runtime_dir = os.path.join(self.tmp, "run")
        self.port = free_port()
        self.log_path = os.path.join(self.tmp, "privd.log")
        self.options = ["runtime_dir=" + self.runtime_dir,
                        "api_listen=127.0.0.1:%d" % self.port,
                        "log_level=debug"] + list(options)
        # Policy maintenance: USM_E2E_OPTIONS="seccomp=log" runs the whole
        # suite with the policies reporting instead of killing (see README).
        self.options += os.environ.get("USM_E2E_OPTIONS", "").split()
        self.proc = None
        # A command that execs usm-privd (its arguments appended) in the
        # environment a test makes: a mount namespace, a smaller bounding
        # set (tests/e2e/test_bad_environments.py).
        self.wrapper = []

    def start(self, wait=True):
        args = self.wrapper + [PRIVD]
        for o in self.options:
            args += ["-o", o]
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        if wait:
            try:
                wait_for(self.ready, timeout=15, what="the API on port %d" % self.port)
            except BaseException:
                # a usm that never answered must not outlive its test: left
                # running, it probes what later tests count
                self.stop()
                raise
        return self

    def ready(self):
        if self.proc.poll() is not None:
            raise AssertionError("usm-privd exited with %s:\n%s" % (self.proc.returncode, self.log_text()))
        try:
            return self.get("/health").status == 200
        except OSError:
            return False

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def request(self, method, path, body=None, timeout=10):
        return http_request(self.port, method, path, body, timeout)

    def get(self, path):
        return self.request("GET", path)

    def health(self):
        return self.get("/health").json()

    def pid_of(self, name):
        for p in self.health()["processes"]:
            if p["name"] == name:
                return p["pid"]
        raise AssertionError("no %s in /health" % name)

    def bpf_owner_pid(self):
        """privd's BPF owner: the child of usm-privd named usm-privd-bpf."""
        for pid in processes_named("usm-privd-bpf"):
            try:
                if int(proc_status(pid)["PPid"]) == self.proc.pid:
                    return pid
            except FileNotFoundError:
                continue
        raise AssertionError("no usm-privd-bpf under usm-privd %d" % self.proc.pid)

    def log_text(self):
        with open(self.log_path) as f:
            return f.read()

    def stop(self, sig=signal.SIGTERM, timeout=15):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "log", None):
            self.log.close()
        return self.proc.returncode if self.proc else None


def run_as(user, args, timeout=20):
    """Runs args under user's uid and gid with no supplementary groups."""
    pw = pwd.getpwnam(user)
    cmd = ["setpriv", "--reuid=%d" % pw.pw_uid, "--regid=%d" % pw.pw_gid, "--clear-groups"] + args
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def ipc_probe(path, msg_type, corruption=None, user=None, extra=()):
    args = [IPC_PROBE, path, str(msg_type)] + ([corruption] if corruption else []) + list(extra)
    if user:
        r = run_as(user, args)
    else:
        r = subprocess.run(args, capture_output=True, text=True, timeout=20)
    if r.returncode != 0:
        raise AssertionError("ipc_probe failed (%d): %s" % (r.returncode, r.stderr))
    return r.stdout.splitlines()


class SharedUsm:
    """A test class's fixture: one usm for the class (a test's setUp starts
    it into cls.usm when first needed), a directory (0755: servers' workers
    read it) and a certificate in it. TMP_PREFIX names the directory;
    KEY_READABLE: the key readable by all (servers that read it as
    www-data)."""
    TMP_PREFIX = "usm-e2e-"
    KEY_READABLE = False

    @classmethod
    def setUpClass(cls):
        cls.usm = None
        cls.tmp = tempfile.mkdtemp(prefix=cls.TMP_PREFIX)
        os.chmod(cls.tmp, 0o755)
        cls.key, cls.cert = make_cert(cls.tmp)
        if cls.KEY_READABLE:
            os.chmod(cls.key, 0o644)

    @classmethod
    def tearDownClass(cls):
        if cls.usm:
            cls.usm.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)
