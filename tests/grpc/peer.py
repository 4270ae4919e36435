"""gRPC peers for tests/e2e/test_http2.py, with Debian's python3-grpcio
(run them with /usr/bin/python3) and no generated code: messages are raw
bytes, methods are registered by name.

  peer.py server PORT     serves usm.test.Echo on 127.0.0.1:PORT in clear
                          text: Say (unary, echoes), Fail (unary, aborts
                          with NOT_FOUND), Count (server streaming: as many
                          messages as the request's decimal number); prints
                          "ready" once listening
  peer.py client PORT N   N Say calls, then one Fail call, on one channel
  peer.py stream PORT N   one Count call streaming N messages

With USM_GRPC_TLS=CERT:KEY in the environment, both ends use TLS (the
server that certificate and key, the client trusting that certificate
for "localhost"): grpcio's TLS is the system OpenSSL.

A client exits non-zero if an answer is not the expected one."""
import os
import sys
from concurrent import futures
import grpc


def tls_files():
    """(certificate PEM, key PEM) from USM_GRPC_TLS, or None."""
    spec = os.environ.get("USM_GRPC_TLS")
    if not spec:
        return None
    cert, key = spec.split(":")
    with open(cert, "rb") as c, open(key, "rb") as k:
        return c.read(), k.read()

def say(request, context):
    return request

def fail(request, context):
    context.abort(grpc.StatusCode.NOT_FOUND, "no such thing")

def count(request, context):
    for i in range(int(request.decode() or "0")):
        yield b"%d" % i

def main():
    mode, port = sys.argv[1], int(sys.argv[2])
    ident = lambda b: b
    if mode == "server":
        handlers = {
            "Say": grpc.unary_unary_rpc_method_handler(say, ident, ident),
            "Fail": grpc.unary_unary_rpc_method_handler(fail, ident, ident),
            "Count": grpc.unary_stream_rpc_method_handler(count, ident, ident),
        }
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("usm.test.Echo", handlers),))
        tls = tls_files()
        if tls:
            creds = grpc.ssl_server_credentials([(tls[1], tls[0])])
            server.add_secure_port("127.0.0.1:%d" % port, creds)
        else:
            server.add_insecure_port("127.0.0.1:%d" % port)
        server.start()
        print("ready", flush=True)
        server.wait_for_termination()
    tls = tls_files()
    target = "127.0.0.1:%d" % port
    channel = (grpc.secure_channel(target, grpc.ssl_channel_credentials(tls[0]),
                                   (("grpc.ssl_target_name_override", "localhost"),))
               if tls else grpc.insecure_channel(target))
    with channel as ch:
        if mode == "client":
            say_call = ch.unary_unary("/usm.test.Echo/Say", ident, ident)
            for i in range(int(sys.argv[3])):
                assert say_call(b"hello %d" % i) == b"hello %d" % i
            try:
                ch.unary_unary("/usm.test.Echo/Fail", ident, ident)(b"x")
                sys.exit("Fail did not fail")
            except grpc.RpcError as e:
                assert e.code() == grpc.StatusCode.NOT_FOUND, e.code()
        else:
            got = list(ch.unary_stream("/usm.test.Echo/Count", ident, ident)(sys.argv[3].encode()))
            assert len(got) == int(sys.argv[3]), got

if __name__ == "__main__":
    main()
