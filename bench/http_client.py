"""A clear-text HTTP/1.1 client on plain sockets, for the memory benchmark:
many distinct paths over one keep-alive connection, and many connections
held open at once. It expects nginx_server's answers: 200 with the body
"ok" for any path."""
import resource
import socket

END = b"\r\n\r\nok"  # end of each answer: headers, then the 2-byte body


def send_paths(port, first, count, prefix="/p/", batch=1):
    """GET prefix+N for N in [first, first+count) on one connection; returns
    the number of answers read. batch > 1 pipelines that many requests per
    write; the default waits for each answer, because usm captures only the
    first bytes of each read and write, so requests pipelined behind the
    first in one read would not all be seen (and not all be counted)."""
    answered = 0
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        while answered < count:
            n = min(batch, count - answered)
            start = first + answered
            s.sendall(b"".join(b"GET %s%d HTTP/1.1\r\nHost: bench\r\n\r\n" % (prefix.encode(), i)
                               for i in range(start, start + n)))
            buf = b""
            while buf.count(END) < n:
                chunk = s.recv(1 << 16)
                if not chunk:
                    raise ConnectionError("the server closed after %d answers" % answered)
                buf += chunk
            answered += n
    return answered


def raise_fd_limit(need):
    """Raises this process's open-file limit to at least need (up to the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(need, hard), hard))


class Connections:
    """`with Connections(port, n):` n connections open at once, each having
    made one request (so each is a connection usm tracks); closed at the end."""

    def __init__(self, port, count, path="/conn"):
        self.port, self.count, self.path = port, count, path
        self.socks = []

    def __enter__(self):
        raise_fd_limit(self.count + 256)
        try:
            for i in range(self.count):
                s = socket.create_connection(("127.0.0.1", self.port), timeout=30)
                self.socks.append(s)
                s.sendall(b"GET %s/%d HTTP/1.1\r\nHost: bench\r\n\r\n" % (self.path.encode(), i))
                buf = b""
                while END not in buf:
                    chunk = s.recv(4096)
                    if not chunk:
                        raise ConnectionError("connection %d closed by the server" % i)
                    buf += chunk
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        for s in self.socks:
            s.close()
        self.socks = []
